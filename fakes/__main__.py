"""Run chosen fakes in the foreground until Ctrl-C:

    python -m fakes --replicate 8501 --fal 8502 --huggingface 8503 --together 8504 --nebius 8505

Each fake takes its token from the variable Likeness itself reads (REPLICATE_API_TOKEN, FAL_KEY,
HF_TOKEN, TOGETHER_API_KEY, NEBIUS_API_KEY) when it is set, so the app and the fakes agree; the
Replicate webhook secret from REPLICATE_WEBHOOK_SECRET, and fal's Ed25519 key from
FAKE_FAL_SIGNING_SEED (64 hex characters) when set. Durations: --training-seconds,
--generation-seconds. Prints one line per fake with its URL and secrets.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from fakes.fal import FakeFal
from fakes.huggingface import FakeHuggingFace
from fakes.nebius import FakeNebius
from fakes.replicate import FakeReplicate
from fakes.together import FakeTogether

FAKES = {
    "replicate": (FakeReplicate, "REPLICATE_API_TOKEN"),
    "fal": (FakeFal, "FAL_KEY"),
    "huggingface": (FakeHuggingFace, "HF_TOKEN"),
    "together": (FakeTogether, "TOGETHER_API_KEY"),
    "nebius": (FakeNebius, "NEBIUS_API_KEY"),
}


def build(name: str, port: int, args: argparse.Namespace):
    cls, token_var = FAKES[name]
    kwargs: dict = {"token": os.environ.get(token_var) or None, "host": args.host, "port": port}
    if name == "replicate":
        kwargs.update(webhook_secret=os.environ.get("REPLICATE_WEBHOOK_SECRET") or None,
                      training_seconds=args.training_seconds,
                      prediction_seconds=args.generation_seconds)
    elif name == "fal":
        seed = os.environ.get("FAKE_FAL_SIGNING_SEED")
        kwargs.update(signing_seed=bytes.fromhex(seed) if seed else None,
                      training_seconds=args.training_seconds,
                      generation_seconds=args.generation_seconds)
    return cls(**kwargs)


def describe(name: str, fake) -> str:
    extra = ""
    if name == "replicate":
        extra = f" webhook_secret={fake.webhook_secret}"
    elif name == "fal":
        extra = f" public_key_hex={fake.public_key_hex} jwks={fake.url}/.well-known/jwks.json"
    return f"{name}: {fake.url} token={fake.token}{extra}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in FAKES:
        parser.add_argument(f"--{name}", type=int, metavar="PORT", help=f"run the {name} fake")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--training-seconds", type=float, default=5.0)
    parser.add_argument("--generation-seconds", type=float, default=1.0)
    args = parser.parse_args(argv)
    chosen = [(name, getattr(args, name)) for name in FAKES if getattr(args, name) is not None]
    if not chosen:
        parser.error("choose at least one fake, e.g. --replicate 8501")
    fakes = []
    for name, port in chosen:
        fake = build(name, port, args).start()
        fakes.append(fake)
        print(describe(name, fake), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    for fake in fakes:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
