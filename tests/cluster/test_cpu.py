"""The production-like run's CPU split (cluster/cpu.py): each group's processes, their
children, and a process that exits before the end are counted, and nothing twice."""

import subprocess
import sys
import time

import pytest

from cluster.cpu import CpuSampler, descendants

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

# Once told to go, burns `seconds` of its own CPU (not wall time, so a busy machine only makes
# it slower), says so, then exits when its stdin closes.
BURN = """
import sys, time
sys.stdin.readline()
target = time.process_time() + float(sys.argv[1])
while time.process_time() < target:
    sum(range(1000))
print("burned", flush=True)
sys.stdin.read()
"""


def burner(seconds: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", BURN, str(seconds)], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def seen(sampler: CpuSampler, proc: subprocess.Popen, seconds: float):
    """Wait until the sampler has seen `proc` burn `seconds` of CPU in the window."""
    assert proc.stdout.readline().strip() == "burned"
    deadline = time.monotonic() + 120
    while sampler.last.get(proc.pid, 0.0) - sampler.first.get(proc.pid, 0.0) < seconds:
        assert time.monotonic() < deadline, "the sampler never saw the CPU burned"
        time.sleep(0.05)


def test_each_group_counts_its_processes_even_one_that_exits():
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    busy, quick = burner(0.6), burner(0.5)
    try:
        with CpuSampler({"busy": lambda: {busy.pid}, "quick": lambda: {quick.pid},
                         "idle": lambda: {idle.pid}}, interval=0.05) as sampler:
            for proc in (busy, quick):
                proc.stdin.write("go\n")
                proc.stdin.flush()
            seen(sampler, busy, 0.58)
            seen(sampler, quick, 0.48)
            quick.stdin.close()
            quick.wait(timeout=120)  # gone before the window closes: its last sample counts
        split = sampler.split()["groups_s"]
    finally:
        for proc in (idle, busy, quick):
            proc.kill()
            proc.wait()
    # What each burned after the window opened, and at most its interpreter's start-up more.
    assert 0.55 <= split["busy"] <= 0.9
    assert 0.45 <= split["quick"] <= 0.8
    assert split["idle"] < 0.2
    assert set(split) == {"busy", "quick", "idle", "other"}


def test_children_belong_to_their_parents_group():
    table = {1: ("init", 0, 0.0), 10: ("web", 1, 1.0), 11: ("web", 10, 2.0),
             12: ("py", 11, 3.0), 20: ("worker", 1, 4.0)}
    assert descendants({10}, table) == {10, 11, 12}
    assert descendants({20, 99}, table) == {20}


def test_each_cluster_process_has_its_group():
    from cluster.run import process_kind

    assert [process_kind(n) for n in ("web1", "web12", "worker3", "s3", "together", "redis")] \
        == ["web", "web", "worker", "s3", "together", "redis"]
