"""Benchmarks: scripts that print tables, run from the repository's root as
``python -m benchmarks.NAME``; their results are in docs/benchmarks.md.

Importing this package, which ``python -m benchmarks.NAME`` does first, puts the
repository on ``sys.path`` and keeps Ultralytics offline before a benchmark imports the
app's packages.
"""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
"""The repository's root."""
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("YOLO_OFFLINE", "1")


def load_average() -> str:
    """The machine's 1-, 5- and 15-minute load averages, as the kernel writes them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used so far (Linux): what
    it spent, whatever else the machine was doing."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
