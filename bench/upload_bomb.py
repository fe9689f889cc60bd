"""Benchmark: the decompression bomb of issue 16 against the photos API of a running server.

Twenty copies of one all-black 7700×7700 PNG (about 173 KB each, 59 megapixels once decoded)
in one POST /api/v1/models/{id}/photos, to the web server as scripts/serve runs it
(`manage.py runserver`, the demo profile, SQLite in a temporary DATA_DIR); then three such
requests at once. Prints the server's time for the request (wall, as the client waits, and the
server process's CPU seconds) and its peak memory (VmHWM from /proc), before and after, beside
the issue's floors: under 2 s and under 300 MB. Also the bare cost of decoding one copy with
Pillow (the work a check that decodes it at all cannot avoid), and, for the worst that is not a
bomb, twenty different PNGs of noise as large (they compress no better than photos, so each is
decoded in full until the request's PHOTO_MAX_PIXELS_PER_REQUEST is spent).

    .venv/bin/python bench/upload_bomb.py [--copies 20] [--side 7700] [--at-once 3] [--no-heavy]
"""

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_SECONDS, TARGET_MB = 2.0, 300


def black_png(side: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (side, side)).save(out, format="PNG", compress_level=9)
    return out.getvalue()


def noise_png(side: int) -> bytes:
    from PIL import Image

    small = Image.merge("RGB", [Image.effect_noise((side // 10, side // 10), 70)
                                for _ in range(3)])
    out = io.BytesIO()
    small.resize((side, side), Image.Resampling.NEAREST).save(out, format="PNG",
                                                              compress_level=1)
    return out.getvalue()


def proc_status(pid: int, field: str) -> int:
    """A VmRSS/VmHWM figure of the process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    """The processes under `pid` (the photo-check processes and their fork server)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo += children.get(child, [])
    return found


def tree_hwm(pid: int) -> int:
    """The peak memory (VmHWM, KiB) of the server's photo-check processes, added up: an upper
    bound of what they held at once."""
    total = 0
    for child in descendants(pid):
        try:
            total += proc_status(child, "VmHWM")
        except OSError:
            pass
    return total


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(env: dict) -> tuple[str, str]:
    """A customer with a draft model and an API key, made through the domain functions."""
    code = (
        "import django; django.setup()\n"
        "from accounts.models import User\n"
        "from api.keys import create_api_key\n"
        "from studio.actions import create_model\n"
        "user = User.objects.create_user('bench@example.com', 'bench-password-123')\n"
        "model = create_model(user, name='Bench', subject_class='woman')\n"
        "print(model.pk, create_api_key(user, 'bench')[1])\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return out[-2], out[-1]


def post(url: str, key: str, files: list[tuple[str, bytes]]) -> httpx.Response:
    return httpx.post(url, headers={"Authorization": f"Bearer {key}"}, timeout=600,
                      files=[("files", (name, data, "image/png")) for name, data in files])


def measure(pid: int, run) -> tuple[float, float, int]:
    """(wall seconds, server CPU seconds, server VmHWM KiB after) of `run()`."""
    cpu, started = cpu_seconds(pid), time.perf_counter()
    run()
    return time.perf_counter() - started, cpu_seconds(pid) - cpu, proc_status(pid, "VmHWM")


def pillow_floor(data: bytes) -> tuple[float, int]:
    from PIL import Image

    started = time.perf_counter()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        size = image.width * image.height * len(image.getbands())
    return time.perf_counter() - started, size


def wait_until_up(server: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("the server did not start")
        time.sleep(0.2)


def measure_uploads(server: subprocess.Popen, url: str, key: str, bomb: bytes, args) -> dict:
    """One request of the bombs, `at_once` of them together, and (unless --no-heavy) one of
    as many different noise PNGs: server time, CPU and peak memory of each."""
    # Warm up: the first upload imports and builds what every later one reuses.
    post(url, key, [("warm-up.png", black_png(800))])
    found = {"rss": proc_status(server.pid, "VmRSS"), "hwm": proc_status(server.pid, "VmHWM")}
    answers = []
    found["tree_before"] = tree_hwm(server.pid)
    found["one"] = measure(server.pid, lambda: answers.append(
        post(url, key, [(f"{i}.png", bomb) for i in range(args.copies)])))
    found["answer"] = answers[0]

    def together():
        threads = [threading.Thread(target=lambda: answers.append(
            post(url, key, [(f"{i}.png", bomb) for i in range(args.copies)])))
            for _ in range(args.at_once)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    found["together"] = measure(server.pid, together)
    found["heavy"] = None
    if not args.no_heavy:
        noise = [(f"noise-{i}.png", noise_png(args.side)) for i in range(args.copies)]
        heavy_answers = []
        found["heavy"] = measure(server.pid, lambda: heavy_answers.append(post(url, key, noise)))
        found["tree_heavy"] = tree_hwm(server.pid)
        found["heavy_codes"] = [r["code"] for r in heavy_answers[0].json().get("rejected", [])]
        found["heavy_mb"] = sum(len(d) for _, d in noise) / 1e6
    return found


def report(args, bomb: bytes, found: dict) -> None:
    mib = 1024
    answer = found["answer"]
    body = answer.json()
    codes = sorted({r["code"] for r in body.get("rejected", [])})
    wall, cpu, peak = found["one"]
    wall3, cpu3, peak3 = found["together"]
    rss, hwm = found["rss"], found["hwm"]
    floor_s, floor_bytes = pillow_floor(bomb)
    print(f"bomb: {args.copies} copies of a {args.side}×{args.side} black PNG "
          f"({len(bomb) / 1000:.0f} KB each, {args.side * args.side / 1e6:.1f} MP decoded)")
    print(f"answer: {answer.status_code}, accepted {len(body.get('accepted', []))}, "
          f"rejected {len(body.get('rejected', []))} ({', '.join(codes)})")
    print(f"server before: VmRSS {rss // mib} MiB, VmHWM {hwm // mib} MiB (after a warm-up "
          f"upload; its photo-check processes, added up: VmHWM {found['tree_before'] // mib} "
          "MiB)")
    print(f"one request: server time {wall:.2f} s (CPU {cpu:.2f} s), peak memory (VmHWM) "
          f"{peak // mib} MiB, +{(peak - hwm) // mib} MiB over the server before")
    print(f"{args.at_once} requests at once: server time {wall3:.2f} s (CPU {cpu3:.2f} s), "
          f"peak memory (VmHWM) {peak3 // mib} MiB")
    print(f"floor: Pillow decoding one copy: {floor_s:.2f} s, {floor_bytes / 2**20:.0f} MiB "
          "of pixels")
    heavy = found["heavy"]
    if heavy is not None:
        heavy_codes = found["heavy_codes"]
        decoded = len(heavy_codes) - heavy_codes.count("request_pixel_limit")
        print(f"no bomb, {args.copies} different noise PNGs of the same size "
              f"({found['heavy_mb']:.0f} MB): server time {heavy[0]:.2f} s (CPU {heavy[1]:.2f} "
              f"s), peak memory (VmHWM) {heavy[2] // mib} MiB; {decoded} decoded, "
              f"{heavy_codes.count('request_pixel_limit')} left for another request; its "
              f"photo-check processes, added up: VmHWM {found['tree_heavy'] // mib} MiB")
    met = wall < TARGET_SECONDS and peak // mib < TARGET_MB
    print(f"target: < {TARGET_SECONDS:.0f} s and < {TARGET_MB} MB for one request -> "
          f"{'met' if met else 'MISSED'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--side", type=int, default=7700)
    parser.add_argument("--at-once", type=int, default=3)
    parser.add_argument("--no-heavy", action="store_true", help="skip the noise PNGs")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="likeness-bench-bomb-")
    port = free_port()
    env = {**os.environ, "DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "likeness.settings",
           "DEBUG": "1", "LOG_LEVEL": "WARNING", "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                   env=env, check=True)
    model_id, key = prepare(env)
    bomb = black_png(args.side)
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}",
                               "--noreload"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(server, base)
        found = measure_uploads(server, f"{base}/api/v1/models/{model_id}/photos", key, bomb,
                                args)
    finally:
        server.terminate()
        server.wait(timeout=10)
    report(args, bomb, found)


if __name__ == "__main__":
    main()
