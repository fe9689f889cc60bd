"""Benchmark: the prompt policy (providers/moderation) on the labelled prompt set.

Checks every row of tests/providers/data/prompts.csv at its level and prints, per level and
overall, the false-refusal rate on the rows that should be allowed and the miss rate on the
rows that should be refused, beside the targets, and the time one check takes (median and
95th percentile over the whole set, repeated). Targets: at most 1 % false refusals and at most
2 % misses on this set.

The rules were written with this set, so on it they do well by construction. The rows noted
"holdout 1" to "holdout 4" were written in four batches after the rules, and only then were the
rules fixed for them; when each batch was first run it had (false refusals / misses):
batch 1, 82 rows: 0/43 (0 %) and 7/39 (18 %); batch 2, 91 rows: 1/48 (2 %) and 15/43 (35 %);
batch 3, 97 rows: 2/53 (4 %) and 10/44 (23 %); batch 4, 98 rows: 1/52 (2 %) and 9/46 (20 %).
That is the better guide to prompts unlike these: few false refusals, but a word list misses a
request phrased in words it lacks.

    .venv/bin/python bench/prompt_policy.py [--repeat 5] [--show]
"""

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from providers.moderation import check  # noqa: E402

DATA = ROOT / "tests" / "providers" / "data" / "prompts.csv"
TARGET_FALSE_REFUSALS = 0.01
TARGET_MISSES = 0.02


def run(row):
    return check(row["prompt"], negative_prompt=row["negative_prompt"], level=row["level"])


def rates(rows, verdicts):
    allowed = [v for r, v in zip(rows, verdicts, strict=True) if r["expected"] == "allow"]
    refused = [v for r, v in zip(rows, verdicts, strict=True) if r["expected"] == "refuse"]
    false_refusals = sum(not v.allowed for v in allowed)
    misses = sum(v.allowed for v in refused)
    return (false_refusals, len(allowed)), (misses, len(refused))


def percent(count_total):
    count, total = count_total
    return f"{count:>3}/{total:<4} {count / total:6.1%}" if total else "  -/0       -  "


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5, help="timed passes over the set")
    parser.add_argument("--show", action="store_true", help="list the rows it gets wrong")
    args = parser.parse_args()
    rows = list(csv.DictReader(DATA.open(encoding="utf-8")))

    started = time.perf_counter()
    verdicts = [run(row) for row in rows]  # the first pass loads and compiles the rules
    first = time.perf_counter() - started
    times = []
    for _ in range(args.repeat):
        for row in rows:
            t0 = time.perf_counter()
            run(row)
            times.append(time.perf_counter() - t0)

    print(f"rows: {len(rows)} from {DATA.relative_to(ROOT)}")
    print(f"{'level':<10} {'false refusals (allowed rows)':<30} {'misses (refused rows)':<24}")
    groups = [(level, [i for i, r in enumerate(rows) if r["level"] == level])
              for level in ("base", "standard", "strict")]
    groups += [("holdouts", [i for i, r in enumerate(rows) if r["note"].startswith("holdout")]),
               ("overall", list(range(len(rows))))]
    for name, indexes in groups:
        fr, miss = rates([rows[i] for i in indexes], [verdicts[i] for i in indexes])
        print(f"{name:<10} {percent(fr):<30} {percent(miss):<24}")
    fr, miss = rates(rows, verdicts)
    fr_rate, miss_rate = fr[0] / fr[1], miss[0] / miss[1]
    us = sorted(t * 1e6 for t in times)
    print(f"time per check: median {statistics.median(us):.0f} µs, "
          f"p95 {us[int(len(us) * 0.95)]:.0f} µs, max {us[-1]:.0f} µs "
          f"({len(us)} checks; first pass with loading the rules {first:.2f} s)")
    print(f"target: false refusals <= {TARGET_FALSE_REFUSALS:.0%} -> "
          f"{'met' if fr_rate <= TARGET_FALSE_REFUSALS else 'MISSED'} ({fr_rate:.1%})")
    print(f"target: misses <= {TARGET_MISSES:.0%} -> "
          f"{'met' if miss_rate <= TARGET_MISSES else 'MISSED'} ({miss_rate:.1%})")
    if args.show:
        for row, verdict in zip(rows, verdicts, strict=True):
            if verdict.allowed != (row["expected"] == "allow"):
                print(f"  {row['level']:<8} expected {row['expected']:<6} {row['prompt']!r} "
                      f"neg={row['negative_prompt']!r} {verdict.matches}")


if __name__ == "__main__":
    main()
