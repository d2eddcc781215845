"""Benchmark: simulated touches per second on the cold cadence (issue: the core, point 8).

Runs the real engine and timing on a virtual clock over synthetic prospects in 26
zones, 90 days, no answers model (every prospect walks the whole cadence), on one
core. Prints touches/s for 10,000 and 100,000 prospects, the JSON writing rate,
peak memory, and where the time goes (a cProfile of the 10,000 run, grouped by module).

    .venv/bin/python bench/simulate.py [--sizes 10000,100000] [--no-profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sequencer.calendars import PUBLIC_HOLIDAYS  # noqa: E402
from sequencer.simulate import Mailbox, simulate  # noqa: E402
from sequencer.simulate.output import write_touches  # noqa: E402
from sequencer.simulate.prospects import synthetic_prospects  # noqa: E402
from sequencer.validation import load_definition  # noqa: E402

START = datetime(2026, 11, 23, tzinfo=UTC)
DAYS = 90


def run(size: int) -> tuple[int, float, float]:
    definition = load_definition(ROOT / "sequences" / "cold-outbound.yaml")
    prospects = synthetic_prospects(size, seed=1)
    began = time.perf_counter()
    result = simulate(definition, prospects, start_at=START, days=DAYS, seed=1,
                      mailboxes=[Mailbox("sdr@example.com")], calendar=PUBLIC_HOLIDAYS)
    elapsed = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        write_touches(result, Path(folder) / "touches.json")
        written = time.perf_counter() - began
    return len(result.touches), elapsed, written


def where_time_goes(size: int) -> None:
    definition = load_definition(ROOT / "sequences" / "cold-outbound.yaml")
    prospects = synthetic_prospects(size, seed=1)
    profile = cProfile.Profile()
    profile.enable()
    simulate(definition, prospects, start_at=START, days=DAYS, seed=1, calendar=PUBLIC_HOLIDAYS)
    profile.disable()
    stats = pstats.Stats(profile)
    by_area: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        area = "other (stdlib, builtins)"
        for part in ("engine", "timing", "simulate", "definition"):
            if f"sequencer/{part}/" in filename:
                area = f"sequencer.{part}"
        if filename == "<string>":
            area = "sequencer.engine"  # the generated evolve()
        by_area[area] += tottime
        total += tottime
    print(f"\nWhere the time goes ({size:,} prospects, cProfile self time, profiler overhead "
          "included):")
    for area, seconds in sorted(by_area.items(), key=lambda kv: -kv[1]):
        print(f"  {area:28s} {seconds / total:6.1%}")
    print("  top functions by self time:")
    stats.sort_stats("tottime")
    for func in stats.fcn_list[:10]:  # type: ignore[attr-defined]
        _, _, tottime, _, _ = stats.stats[func]  # type: ignore[attr-defined]
        print(f"    {tottime / total:6.1%}  {Path(func[0]).name}:{func[1]} {func[2]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    print(f"cold-outbound, {DAYS} days from {START:%Y-%m-%d}, one process, Python "
          f"{sys.version.split()[0]}")
    print(f"{'prospects':>10} {'touches':>10} {'seconds':>8} {'touches/s':>10} "
          f"{'json rows/s':>12} {'peak RSS MB':>12}")
    for size in (int(s) for s in args.sizes.split(",")):
        touches, elapsed, written = run(size)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{size:>10,} {touches:>10,} {elapsed:>8.2f} {touches / elapsed:>10,.0f} "
              f"{touches / written:>12,.0f} {rss:>12,.0f}")
    if not args.no_profile:
        where_time_goes(min(int(s) for s in args.sizes.split(",")))


if __name__ == "__main__":
    main()
