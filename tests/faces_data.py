"""Real photos of real people for the face tests and bench/faces.py, and transformed copies of
them made deterministically. Every photo comes from an installed package; nothing is fetched.

Named people (12), each photo a different shot unless said otherwise:
- Eileen Collins: scikit-image, `skimage.data.astronaut()` (1 photo).
- Grace Hopper: matplotlib, `mpl-data/sample_data/grace_hopper.jpg` (1 photo).
- Tom Cruise: Debian's libdlib19.1, `examples/faces/Tom_Cruise_avp_2014_4.jpg` (1 photo).
- John Salley, John Savage, John Schneider, John Shimkus, John Simm: libdlib19.1,
  `examples/johns/<name>/*.jpg`, 11 files each (John Shimkus's 10 photos, one stored twice),
  already cropped to the face (150×150); a few are one shot cropped twice.
- Vin Diesel (6), Jason Statham (4), Bruce Willis (6), Dwayne Johnson (4): libdlib19.1,
  `examples/faces/bald_guys.jpg`, a collage of separate photos; each is cut out by the face
  positions in BALD_GUYS (labelled by eye).
Group photos of unnamed people (Pascal VOC images in libdlib19.1's `examples/faces/`): every
two faces in one of them are two different people. No human face: `examples/faces/dogs.jpg`,
`skimage.data.chelsea()` (a cat) and `skimage.data.coffee()`.

Debian's files are found through dpkg's list of the package's files (`dpkg-query -L`), so the
package can move them without breaking us; scripts/test installs it.
"""

import hashlib
import io
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from matplotlib import cbook
from PIL import Image, ImageEnhance, ImageFilter, ImageOps
from skimage import data

DLIB_PACKAGE_PREFIX = "libdlib"  # libdlib19.1 on Debian 12; the examples are its documentation

# bald_guys.jpg: (x, y, width, height) of each face in the collage's own pixels, and who it is.
BALD_GUYS = (
    ((62, 85, 171, 171), "Vin Diesel"), ((524, 101, 206, 206), "Vin Diesel"),
    ((31, 368, 206, 206), "Vin Diesel"), ((299, 209, 144, 144), "Vin Diesel"),
    ((547, 415, 206, 206), "Vin Diesel"), ((31, 1284, 206, 206), "Vin Diesel"),
    ((314, 458, 144, 144), "Jason Statham"), ((865, 400, 171, 171), "Jason Statham"),
    ((47, 698, 171, 171), "Jason Statham"), ((361, 818, 248, 248), "Jason Statham"),
    ((1040, 749, 202, 206), "Bruce Willis"), ((47, 977, 171, 171), "Bruce Willis"),
    ((772, 830, 171, 171), "Bruce Willis"), ((1121, 1078, 144, 144), "Bruce Willis"),
    ((345, 1265, 206, 206), "Bruce Willis"), ((772, 1237, 171, 171), "Bruce Willis"),
    ((1466, 116, 295, 295), "Dwayne Johnson"), ((1067, 1311, 175, 175), "Dwayne Johnson"),
    ((1447, 1342, 144, 144), "Dwayne Johnson"), ((1796, 1296, 171, 171), "Dwayne Johnson"),
)
# Group photos and at least how many faces each shows (counted by eye; HOG may miss some).
GROUPS = {"2008_001322.jpg": 3, "2008_002506.jpg": 3, "2008_002470.jpg": 6,
          "2007_007763.jpg": 6, "2008_004176.jpg": 6, "2008_007676.jpg": 5}


@dataclass(frozen=True)
class Photo:
    person: str
    source: str  # package and file, for the report
    image: Image.Image
    variant: str = "original"


@cache
def dlib_examples() -> dict[str, Path]:
    """dlib's example files by their path under examples/ ("faces/dogs.jpg"); empty when no
    libdlib package is installed (or this is not a Debian system)."""
    if shutil.which("dpkg-query") is None:
        return {}
    listed = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n",
                             f"{DLIB_PACKAGE_PREFIX}*"], capture_output=True, text=True)
    packages = [line.split()[0] for line in listed.stdout.splitlines()
                if line.endswith(" installed")]
    files = {}
    for package in packages:
        paths = subprocess.run(["dpkg-query", "-L", package], capture_output=True, text=True)
        for line in paths.stdout.splitlines():
            path = Path(line)
            if "examples" in path.parts and path.suffix == ".jpg" and path.is_file():
                files[path.relative_to(*path.parts[:path.parts.index("examples") + 1])
                      .as_posix()] = path
    return files


def dlib_photo(name: str) -> Image.Image:
    with Image.open(dlib_examples()[name]) as image:
        return image.convert("RGB")


def have_dlib_examples() -> bool:
    return "faces/bald_guys.jpg" in dlib_examples() and any(
        name.startswith("johns/") for name in dlib_examples())


@cache
def astronaut() -> Image.Image:
    return Image.fromarray(data.astronaut())


@cache
def grace_hopper() -> Image.Image:
    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as image:
        return image.convert("RGB")


def no_faces() -> list[tuple[str, Image.Image]]:
    found = [("scikit-image data.chelsea() (a cat)", Image.fromarray(data.chelsea())),
             ("scikit-image data.coffee()", Image.fromarray(data.coffee()))]
    if "faces/dogs.jpg" in dlib_examples():
        found.append(("libdlib19.1 examples/faces/dogs.jpg", dlib_photo("faces/dogs.jpg")))
    return found


def groups() -> list[tuple[str, Image.Image, int]]:
    return [(f"libdlib19.1 examples/faces/{name}", dlib_photo(f"faces/{name}"), count)
            for name, count in GROUPS.items() if f"faces/{name}" in dlib_examples()]


def _cut_out(image: Image.Image, box, margin=0.8) -> Image.Image:
    x, y, w, h = box
    pad_x, pad_y = int(w * margin), int(h * margin)
    return image.crop((max(0, x - pad_x), max(0, y - pad_y),
                       min(image.width, x + w + pad_x), min(image.height, y + h + pad_y)))


@cache
def originals() -> tuple[Photo, ...]:
    """One Photo per real photo of a named person (see the module's docstring)."""
    photos = [Photo("Eileen Collins", "scikit-image data.astronaut()", astronaut()),
              Photo("Grace Hopper", "matplotlib sample_data/grace_hopper.jpg", grace_hopper())]
    files = dlib_examples()
    if "faces/Tom_Cruise_avp_2014_4.jpg" in files:
        photos.append(Photo("Tom Cruise", "libdlib19.1 examples/faces/Tom_Cruise_avp_2014_4.jpg",
                            dlib_photo("faces/Tom_Cruise_avp_2014_4.jpg")))
    seen = set()
    for name in sorted(n for n in files if n.startswith("johns/")):
        digest = hashlib.sha256(files[name].read_bytes()).digest()
        if digest in seen:
            continue  # John Shimkus's folder holds one photo twice under two names
        seen.add(digest)
        person = name.split("/")[1].replace("_", " ")
        photos.append(Photo(person, f"libdlib19.1 examples/{name}", dlib_photo(name)))
    if "faces/bald_guys.jpg" in files:
        collage = dlib_photo("faces/bald_guys.jpg")
        for box, person in BALD_GUYS:
            photos.append(Photo(person, f"libdlib19.1 examples/faces/bald_guys.jpg at {box[:2]}",
                                _cut_out(collage, box)))
    return tuple(photos)


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def _noise(image: Image.Image, sigma: float) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float32)
    noisy = pixels + np.random.default_rng(7).normal(0, sigma, pixels.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def _grade(image: Image.Image, gains) -> Image.Image:
    channels = [band.point(lambda v, g=g: min(255, int(v * g))) for band, g in
                zip(image.split(), gains, strict=True)]
    return Image.merge("RGB", channels)


def _scale(image: Image.Image, factor: float) -> Image.Image:
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.Resampling.LANCZOS)


def _crop(image: Image.Image, keep: float) -> Image.Image:
    w, h = image.size
    dx, dy = int(w * (1 - keep) / 2), int(h * (1 - keep) / 2)
    return image.crop((dx, dy, w - dx, h - dy))


TRANSFORMS = {
    "mirrored": ImageOps.mirror,
    "cropped to 80 %": lambda im: _crop(im, 0.8),
    "rotated 8°": lambda im: im.rotate(8, Image.Resampling.BICUBIC, expand=True,
                                        fillcolor=(128, 128, 128)),
    "rotated -12°": lambda im: im.rotate(-12, Image.Resampling.BICUBIC, expand=True,
                                         fillcolor=(30, 30, 30)),
    "warm grade": lambda im: _grade(im, (1.15, 1.0, 0.8)),
    "cool grade": lambda im: _grade(im, (0.85, 1.0, 1.2)),
    "greyscale": lambda im: ImageOps.grayscale(im).convert("RGB"),
    "darker": lambda im: ImageEnhance.Brightness(im).enhance(0.6),
    "more contrast": lambda im: ImageEnhance.Contrast(im).enhance(1.5),
    "blurred": lambda im: im.filter(ImageFilter.GaussianBlur(max(im.size) / 400)),
    "noisy": lambda im: _noise(im, 12),
    "JPEG quality 20": lambda im: _jpeg(im, 20),
    "scaled ×2": lambda im: _scale(im, 2),
    "scaled ×0.6": lambda im: _scale(im, 0.6),
}


def transformed(photo: Photo) -> list[Photo]:
    """The same photo, changed the ways a photo gets changed (one Photo per TRANSFORMS)."""
    return [Photo(photo.person, photo.source, change(photo.image), name)
            for name, change in TRANSFORMS.items()]


@cache
def labelled_photos() -> tuple[Photo, ...]:
    """The originals, plus transformed copies of the first photo of each named person."""
    photos, seen = list(originals()), set()
    for photo in originals():
        if photo.person not in seen:
            seen.add(photo.person)
            photos.extend(transformed(photo))
    return tuple(photos)


def pairs(photos) -> list[tuple[int, int, bool, str]]:
    """Every labelled pair among `photos` as (i, j, same person, kind). Kinds: "different
    photos" and "transformed copy" (same person), "different people" (originals only)."""
    found = []
    for i, a in enumerate(photos):
        for j in range(i + 1, len(photos)):
            b = photos[j]
            if a.person == b.person:
                copy = a.variant != "original" or b.variant != "original"
                if copy and (a.source != b.source or "original" not in (a.variant, b.variant)):
                    continue  # copies are paired with their own original only
                found.append((i, j, True, "transformed copy" if copy else "different photos"))
            elif a.variant == b.variant == "original":
                found.append((i, j, False, "different people"))
    return found
