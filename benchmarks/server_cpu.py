"""CPU time of a local PostgreSQL server and of the whole machine, from Linux's /proc.

A server's CPU time is that of its postmaster, of its live processes (sessions,
background workers) and of the processes it has ended and reaped (parallel
workers, autovacuum workers, closed sessions), which the kernel adds to the
postmaster's children's times. So two readings bracket everything the server
did in between, whichever of its processes did it. Elsewhere than on Linux the
readings are None and the benchmark prints no CPU figures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICK = 1 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01


@dataclass(frozen=True)
class CpuReading:
    """Core-seconds so far: the server's, and the whole machine's busy and in all."""

    server: float
    machine_busy: float
    machine_all: float


@dataclass
class CpuUse:
    """Core-seconds between two readings."""

    server: float
    machine_busy: float
    machine_all: float
    cores: int

    @property
    def floor_seconds(self) -> float:
        """The shortest wall time in which the machine's cores could do the server's work."""
        return self.server / self.cores


def process_cpu(pid: int, children: dict[int, list[int]] | None = None) -> float:
    """CPU seconds of a process, of the children it reaped and of its live descendants."""
    children = _children() if children is None else children
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # After the command's closing parenthesis: utime, stime, cutime, cstime are fields 11–14.
    own = sum(int(value) for value in fields[11:15]) * TICK
    return own + sum(process_cpu(child, children) for child in children.get(pid, []))


def read(postmaster_pid: int | None) -> CpuReading | None:
    """The server's and the machine's CPU time so far; None where /proc is not there."""
    if postmaster_pid is None or not (PROC / "stat").exists():
        return None
    busy, everything = _machine()
    return CpuReading(process_cpu(postmaster_pid), busy, everything)


def used(before: CpuReading | None, after: CpuReading | None) -> CpuUse | None:
    if before is None or after is None:
        return None
    return CpuUse(after.server - before.server, after.machine_busy - before.machine_busy,
                  after.machine_all - before.machine_all, os.cpu_count() or 1)


def postmaster_pid(datadir: Path) -> int | None:
    """The pid in the data directory's postmaster.pid, if it can be read."""
    try:
        return int((datadir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stat(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:  # ended meanwhile
        return None
    return text.rsplit(")", 1)[1].split()


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _machine() -> tuple[float, float]:
    # The first line of /proc/stat: user nice system idle iowait irq softirq steal …
    ticks = [int(value) for value in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:9]]
    everything = sum(ticks)
    return (everything - ticks[3] - ticks[4]) * TICK, everything * TICK
