"""A complete Likeness API client: create a model, upload photos, give consent with a selfie of
the person, train, generate, download.

    LIKENESS_URL=http://127.0.0.1:8000 LIKENESS_KEY=lk_... \\
        python examples/client.py PHOTO_DIR OUT_DIR SELFIE.jpg

Needs only httpx (pip install httpx). Every step is one call of the public API (/api/v1)."""

import os
import sys
import time
import uuid
from pathlib import Path

import httpx

BASE = os.environ.get("LIKENESS_URL", "http://127.0.0.1:8000").rstrip("/") + "/api/v1"
KEY = os.environ["LIKENESS_KEY"]


def check(response: httpx.Response) -> dict:
    if response.status_code >= 400:
        error = response.json().get("error", {})
        sys.exit(f"{response.request.method} {response.request.url}: {response.status_code} "
                 f"{error.get('code')}: {error.get('message')}")
    return response.json() if response.content else {}


def wait(api: httpx.Client, path: str, done: set[str], every: float = 2.0) -> dict:
    while True:
        state = check(api.get(path))
        print(f"  {path}: {state['status']}", flush=True)
        if state["status"] in done:
            return state
        time.sleep(every)


def main(photo_dir: str, out_dir: str, selfie: str) -> None:
    api = httpx.Client(base_url=BASE, headers={"Authorization": f"Bearer {KEY}"}, timeout=120)
    print("me:", check(api.get("/me")))

    model = check(api.post("/models", json={"name": "Me", "subject_class": "person"}))
    print("model:", model["id"], "trigger word:", model["trigger_word"])

    photos = sorted(p for p in Path(photo_dir).iterdir() if p.is_file())
    files = [("files", (p.name, p.read_bytes())) for p in photos]
    uploaded = check(api.post(f"/models/{model['id']}/photos", files=files))
    print(f"photos: {len(uploaded['accepted'])} accepted, {len(uploaded['rejected'])} refused")
    for refused in uploaded["rejected"]:
        print(f"  {refused['filename']}: {refused['code']} – {refused['reason']}")

    # A model of a person trains only with their consent: a selfie of the person, taken now,
    # whose face must match the photos' (a child's model takes guardian_confirmed instead).
    given = api.post(f"/models/{model['id']}/consent", data={"rights_confirmed": "true"},
                     files=[("selfie", ("selfie.jpg", Path(selfie).read_bytes()))])
    print("consent:", check(given)["status"])

    # An Idempotency-Key makes a retried request safe: it is answered, and charged, once.
    training = check(api.post(f"/models/{model['id']}/train", json={},
                              headers={"Idempotency-Key": str(uuid.uuid4())}))
    training = wait(api, f"/trainings/{training['id']}", {"succeeded", "failed", "canceled"})
    if training["status"] != "succeeded":
        sys.exit(f"training {training['status']}: {training['error']}")

    generation = check(api.post("/generations", headers={"Idempotency-Key": str(uuid.uuid4())},
                                json={"model_id": model["id"], "num_images": 2,
                                      "aspect_ratio": "4:5",
                                      "prompt": f"a portrait of {model['trigger_word']} "
                                                "in a sunlit studio"}))
    generation = wait(api, f"/generations/{generation['id']}",
                      {"succeeded", "partial", "failed"}, every=1)

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for image in generation["images"]:
        response = api.get(f"/images/{image['id']}/file", follow_redirects=True)
        response.raise_for_status()
        extension = response.headers["Content-Type"].split("/")[-1].replace("jpeg", "jpg")
        target = Path(out_dir) / f"{image['id']}.{extension}"
        target.write_bytes(response.content)
        print("saved", target)


if __name__ == "__main__":
    main(*sys.argv[1:4])
