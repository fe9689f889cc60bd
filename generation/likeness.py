"""How much a generated image looks like the personal model's subject.

Every face in the image (likeness.faces; faces narrower than MIN_FACE_SIDE are skipped, their
embeddings are not to be trusted) is compared with each of the subject's reference embeddings
(the training photos' faces, studio.PersonalModel.face_references); a face's distance is the
median over the references, so that one odd training photo cannot make a stranger match. The
image's score is its best face's, mapped to 0–100 by likeness.faces.likeness_score (100 at a
distance of 0.35 or less, 50 on the match line 0.6, 0 at 0.75 and more). An image with no usable
face scores 0: for a portrait of a person, no recognisable face is no likeness.

A group shot in which every face (two or more) is the subject is flagged: the known failure of
LoRAs that turn every face in the picture into the customer's.

Pure functions of pixels and embeddings: the generation task calls `score` in its pool threads
(no database access)."""

from dataclasses import dataclass

import numpy as np
from PIL import Image

from likeness import faces


@dataclass(frozen=True)
class Score:
    likeness: int  # 0–100
    distance: float | None  # the best face's median distance; None without a usable face
    face_count: int  # usable faces found
    all_faces_subject: bool  # two or more faces, every one of them the subject

    def as_metadata(self) -> dict:
        return {"likeness": self.likeness, "likeness_distance": self.distance,
                "face_count": self.face_count, "all_faces_subject": self.all_faces_subject}


NO_FACE = Score(0, None, 0, False)


def face_distance(embedding, references: np.ndarray) -> float:
    """The median distance from one face to the subject's reference faces."""
    return float(np.median(np.linalg.norm(references - np.asarray(embedding, np.float32),
                                          axis=1)))


def score(image: Image.Image, references: list) -> Score:
    """The image's likeness to the subject whose reference embeddings are `references`."""
    if not len(references):
        raise ValueError("no reference faces to compare with")
    found = [embedding for box, embedding in faces.faces(image)
             if box[2] >= faces.MIN_FACE_SIDE]
    if not found:
        return NO_FACE
    refs = np.asarray(references, dtype=np.float32)
    distances = sorted(face_distance(embedding, refs) for embedding in found)
    best = round(distances[0], 4)
    return Score(faces.likeness_score(best), best, len(found),
                 len(found) >= 2 and distances[-1] <= faces.MATCH_THRESHOLD)
