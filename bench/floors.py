"""The floors the table's ratios divide by, measured in the same run on the same machine."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

DECLARE_FLOOR = Path(__file__).resolve().parent / "declare_floor.py"


def import_seconds(rounds: int) -> float:
    """A bare `python -c "import pulumi, pulumi_aws"`: the tax every engine child pays."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import pulumi, pulumi_aws"], check=True)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def declaration_seconds(rounds: int) -> dict[int, dict[str, float]]:
    """Per tier: declaring the programs under Pulumi's mocks in an already warm process
    (median seconds, and how many resources that declares)."""
    output = subprocess.run(
        [sys.executable, str(DECLARE_FLOOR), str(rounds)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {int(tier): figures for tier, figures in json.loads(output).items()}
