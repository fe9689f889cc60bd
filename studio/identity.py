"""One person per model: each training photo's face against the set's own reference face.

The reference is the medoid of the set's embeddings (likeness.faces.medoid: the real photo
closest to all the others), so one stranger among ten photos cannot drag it. A face within
SAME_PERSON of it is the person; beyond DIFFERENT_PERSON it is someone else (a new upload is
refused, a stored photo blocks training until removed); in between it is borderline and shown on
the review step. Fewer than MIN_TO_COMPARE faces cannot say who the person is: nothing is judged
then. Pets are not face-checked."""

from dataclasses import dataclass

import numpy as np

from likeness import faces

MIN_TO_COMPARE = 3
SAME, BORDERLINE, DIFFERENT = "same", "borderline", "different"
DIFFERENT_REASON = ("This looks like a different person from your other photos. Use photos of "
                    "one person only.")
BORDERLINE_NOTE = ("This face is not clearly the same person as in your other photos: keep it "
                   "only if it is.")


@dataclass(frozen=True)
class Judgement:
    identity: str  # SAME | BORDERLINE | DIFFERENT | "" (too few faces to say)
    distance: float | None


def as_list(embedding) -> list[float]:
    """An embedding as stored (JSON): 128 floats, rounded far below what the distance uses."""
    return [round(float(v), 6) for v in np.asarray(embedding, dtype=np.float32)]


def judge(embeddings: list) -> list[Judgement]:
    """One judgement per embedding, in order, against the medoid of all of them."""
    if len(embeddings) < MIN_TO_COMPARE:
        return [Judgement("", None)] * len(embeddings)
    reference = faces.medoid(embeddings)
    judged = []
    for embedding in embeddings:
        d = round(faces.distance(embedding, reference), 4)
        identity = (SAME if d <= faces.SAME_PERSON else
                    BORDERLINE if d <= faces.DIFFERENT_PERSON else DIFFERENT)
        judged.append(Judgement(identity, d))
    return judged
