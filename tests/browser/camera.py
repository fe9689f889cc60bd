"""Chromium's fake camera for the consent selfie: a Y4M video made from a real photo, and a
Chromium launched to film it (--use-fake-device-for-media-stream with
--use-file-for-fake-video-capture). Nothing is fetched: the frames come from tests/studio."""

import contextlib
from pathlib import Path

from PIL import Image

from tests.browser_fixtures import CHROMIUM

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def write_y4m(path: Path, frame: Image.Image, frames: int = 10) -> Path:
    """A short YUV4MPEG2 video (4:2:0, 10 fps) showing `frame` still: what Chromium's fake
    capture device plays in a loop."""
    frame = frame.convert("RGB")
    width, height = frame.width // 2 * 2, frame.height // 2 * 2
    y, cb, cr = frame.crop((0, 0, width, height)).convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half, Image.Resampling.BILINEAR).tobytes() + \
        cr.resize(half, Image.Resampling.BILINEAR).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)
    return path


@contextlib.contextmanager
def filming(playwright, video: Path):
    """A Chromium whose camera films `video`, with the camera permission granted."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[*ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
              f"--use-file-for-fake-video-capture={video}"])
    try:
        yield browser
    finally:
        browser.close()


def take_selfie(page) -> None:
    """On the consent page: turn the camera on, wait for its picture, take the selfie."""
    page.get_by_role("button", name="Turn on the camera").click()
    page.wait_for_function("() => { const v = document.querySelector('[data-camera-video]');"
                           " return v && v.videoWidth > 0 && v.readyState >= 2; }")
    page.get_by_role("button", name="Take the selfie").click()
    page.wait_for_selector("form[data-selfie-taken]")
