"""Running the trainer in its own process, as a worker does: start it, read its progress, ask it
to stop, kill it. A training outlives the small task that starts it; the task after records
progress from progress.json, and when the process is gone without finishing (a worker machine
restarted, the process was killed) the next spawn with the same arguments resumes from the last
checkpoint. The GPU memory is freed when the process exits, whatever happened inside it.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from providers.local.trainer import STOP_FILE

ROOT = Path(__file__).resolve().parents[2]  # the repository, so `providers` imports
PID_FILE = "trainer.pid"
OPTIONS = ("steps", "learning_rate", "rank", "resolution", "seed", "checkpoint_every",
           "guidance", "profile")


def command(photos_dir, output_dir, *, base_model_dir, **options) -> list[str]:
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise TypeError(f"Unknown training options: {', '.join(sorted(unknown))}")
    args = [sys.executable, "-m", "providers.local.trainer", str(photos_dir), str(output_dir),
            "--base-model-dir", str(base_model_dir)]
    for name, value in options.items():
        if value is not None:
            args += [f"--{name.replace('_', '-')}", str(value)]
    return args


def spawn(photos_dir, output_dir, *, base_model_dir, env=None, **options) -> subprocess.Popen:
    """Start (or resume) a training in a new process group; its output goes to process.log
    beside train.log. Returns the Popen; its pid is also written to trainer.pid."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / STOP_FILE).unlink(missing_ok=True)
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), environment.get("PYTHONPATH", "")) if p)
    with (output_dir / "process.log").open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 (our own module, arguments are not a shell)
            command(photos_dir, output_dir, base_model_dir=base_model_dir, **options),
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
    (output_dir / PID_FILE).write_text(str(process.pid))
    return process


def read_progress(output_dir) -> dict | None:
    """{"state", "step", "total", "loss", "updated", …} as the trainer last wrote it."""
    try:
        return json.loads((Path(output_dir) / "progress.json").read_text())
    except (OSError, ValueError):
        return None


def read_log(output_dir, *, tail: int = 50) -> str:
    try:
        lines = (Path(output_dir) / "train.log").read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-tail:])


def is_running(output_dir) -> bool:
    """Whether the process recorded in trainer.pid is still alive."""
    try:
        pid = int((Path(output_dir) / PID_FILE).read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    try:  # a child of this process that has exited but not been reaped is not running
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def request_stop(output_dir) -> None:
    """Ask the trainer to checkpoint and exit before its next step."""
    (Path(output_dir) / STOP_FILE).touch()


def kill(output_dir, *, grace: float = 0.0) -> None:
    """Kill the training's process group (after `grace` seconds of a polite SIGTERM)."""
    try:
        pid = int((Path(output_dir) / PID_FILE).read_text())
    except (OSError, ValueError):
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 0)):
        if sig == signal.SIGTERM and not grace:
            continue
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        time.sleep(wait)
