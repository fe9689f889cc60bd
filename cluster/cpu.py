"""Where the cluster's CPU goes: a sampler that reads /proc (Linux) for each group of processes
(web, workers, database, Redis, the fakes, the API clients) while the load runs.

Each process's own user + system time is sampled every `interval` seconds and its last sample
kept, so a process that dies (the SIGKILLed worker, a closed database connection) still counts
up to its last sample. Children are found by their parent pid; the times of exited children
that a parent reaped (cutime) are not read, so nothing is counted twice. The machine's total
from /proc/stat is read at both ends too, so whatever ran beside the cluster shows as "other"."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

PROC = Path("/proc")
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, parent pid, own CPU seconds) of one process, or None when it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    # Fields after the name: state ppid ... utime (12th) stime (13th), counted from state = 0.
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def snapshot() -> dict[int, tuple[str, int, float]]:
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat:
                found[int(entry.name)] = stat
    return found


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (every state but idle and iowait)."""
    fields = [int(x) for x in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / TICK


def descendants(roots: set[int], table: dict[int, tuple[str, int, float]]) -> set[int]:
    members, grew = set(roots) & set(table), True
    while grew:
        grew = False
        for pid, (_, ppid, _) in table.items():
            if ppid in members and pid not in members:
                members.add(pid)
                grew = True
    return members


class CpuSampler:
    """`groups` maps a group's name to a function returning its root pids (read at each
    sample, so restarted processes are followed); `by_name` maps a group to a command name
    matched on every process (the database's postgres processes). A process belongs to the
    first group that claims it, in the order given: a group whose root is the parent of other
    groups' processes (the driver of the run) comes last and keeps only what is left."""

    def __init__(self, groups: dict[str, Callable[[], set[int]]],
                 by_name: dict[str, str] | None = None, interval: float = 0.25):
        self.groups, self.by_name, self.interval = groups, by_name or {}, interval
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.owner: dict[int, str] = {}
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="cpu-sampler")

    def sample(self, first: bool = False):
        table = snapshot()
        for group, roots in self.groups.items():
            for pid in descendants(roots(), table):
                self._note(pid, group, table[pid][2], first)
        for group, name in self.by_name.items():
            for pid, (comm, _, seconds) in table.items():
                if comm == name:
                    self._note(pid, group, seconds, first)

    def _note(self, pid: int, group: str, seconds: float, first: bool):
        self.owner.setdefault(pid, group)
        if first:
            self.first.setdefault(pid, seconds)
        self.last[pid] = seconds

    def _run(self):
        while not self.stop_event.wait(self.interval):
            self.sample()

    def __enter__(self) -> CpuSampler:
        self.machine_start, self.started = machine_busy_seconds(), time.monotonic()
        self.sample(first=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join()
        self.sample()
        self.machine_end, self.ended = machine_busy_seconds(), time.monotonic()

    def split(self) -> dict:
        """CPU seconds per group over the sampled window, with "other" (the rest of the
        machine) and the window's length and the machine's cores."""
        seconds: dict[str, float] = dict.fromkeys([*self.groups, *self.by_name], 0.0)
        for pid, group in self.owner.items():
            seconds[group] += self.last[pid] - self.first.get(pid, 0.0)
        total = self.machine_end - self.machine_start
        seconds["other"] = max(0.0, total - sum(seconds.values()))
        return {"window_s": round(self.ended - self.started, 2), "cores": os.cpu_count(),
                "machine_busy_s": round(total, 2),
                "groups_s": {k: round(v, 2) for k, v in seconds.items()}}
