"""`python -m cluster.fakes --port N`: the Together fake for the cluster, with faults.

The first `--fail` image requests answer 500 (retried by the worker), and `--nsfw` requests
are flagged by the "safety checker" (refunded), spread over the run, so the exactly-once and
credit checks see retries and refunds, not only the happy path."""

import argparse
import signal
import threading

from fakes.together import FakeTogether


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m cluster.fakes")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--generation-seconds", type=float, default=1.0)
    parser.add_argument("--fail", type=int, default=0, help="500 answers, spread over the run")
    parser.add_argument("--nsfw", type=int, default=0, help="flagged images, spread too")
    args = parser.parse_args()
    fake = FakeTogether(args.token, port=args.port, generation_seconds=args.generation_seconds)
    fake.start()
    print(f"together: {fake.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # One fault of each kind every few seconds while the load runs.
    faults = [("fail", n) for n in range(args.fail)] + [("nsfw", n) for n in range(args.nsfw)]
    faults.sort(key=lambda item: item[1])
    for kind, _ in faults:
        if stop.wait(1.5):
            break
        if kind == "fail":
            fake.fail(500, times=1, path=r"/v1/images/generations")
        else:
            fake.flag_nsfw_next(1)
    stop.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
