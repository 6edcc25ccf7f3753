"""`advisor recommend` wall time next to `python -c pass`, and in-process engine evaluations per second.

Run: python -m benchmarks.recommend_speed [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cats_dogs_2000.yaml"


def _wall(cmd: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    baseline = _wall([sys.executable, "-c", "pass"], args.repeats)
    advisor = _wall([sys.executable, "-m", "advisor.cli", "recommend", str(EXAMPLE)], args.repeats)

    from advisor import load_descriptor, recommend
    from advisor.engine import _evaluate, descriptor_facts
    desc = load_descriptor(EXAMPLE)
    facts = descriptor_facts(desc)
    recommend(desc)  # warm the rulebook cache
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 1.0:
        _evaluate(facts)
        n += 1
    evals = n / (time.perf_counter() - start)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 1.0:
        recommend(desc)
        n += 1
    recs = n / (time.perf_counter() - start)

    med_b, med_a = statistics.median(baseline), statistics.median(advisor)
    print(f"{'measure':40s} {'median':>10s} {'min':>10s} {'max':>10s}")
    print(f"{'python -c pass (s)':40s} {med_b:10.3f} {min(baseline):10.3f} {max(baseline):10.3f}")
    print(f"{'advisor recommend cats_dogs_2000 (s)':40s} {med_a:10.3f} {min(advisor):10.3f} {max(advisor):10.3f}")
    print(f"{'ratio recommend / python -c pass':40s} {med_a / med_b:10.2f}")
    print(f"{'engine rule evaluations / s':40s} {evals:10.0f}")
    print(f"{'full recommend() incl. counterfactuals / s':40s} {recs:10.1f}")
    return {"python_pass_s": med_b, "recommend_s": med_a, "ratio": med_a / med_b, "evals_per_s": evals,
            "recommend_per_s": recs}


if __name__ == "__main__":
    main()
