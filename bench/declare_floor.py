"""Prints, per tier, the median seconds `build(spec)` takes under Pulumi's mocks in a warm
process (imports done), and the resources it declares: the floor for plans and steps."""

from __future__ import annotations

import json
import statistics
import sys
import time

from programs import TIERS, EnvironmentSpec
from service.engines.simulator import run_program

SPEC = EnvironmentSpec(
    name="floor",
    tier=0,
    region="eu-west-1",
    secondary_region="us-east-1",
    db_instance_class="db.r6g.large",  # tier 7 refuses burstable classes
)


def main(rounds: int) -> None:
    run_program(SPEC.at_tier(7), [])  # the top tier touches every lazily imported AWS module
    figures = {}
    for tier in TIERS:
        spec = SPEC.at_tier(tier.level)
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            resources, _, _ = run_program(spec, [])
            timings.append(time.perf_counter() - started)
        figures[tier.level] = {"seconds": statistics.median(timings), "resources": len(resources)}
    print(json.dumps(figures))


if __name__ == "__main__":
    main(int(sys.argv[1]))
