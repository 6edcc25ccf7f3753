"""`advisor recommend` wall time next to `python -c pass` (interleaved, paired ratio), and in-process engine
evaluations per second.

Run: python -m benchmarks.recommend_speed [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._common import interleaved, machine, ratio_stats, save_results

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cats_dogs_2000.yaml"


def _walls(cmds: dict[str, list[str]], repeats: int) -> dict[str, list[float]]:
    """Wall seconds of each command, interleaved (order flipped every other repeat), one warm-up round."""
    return interleaved({k: (lambda c=c: subprocess.run(c, check=True, capture_output=True)) for k, c in cmds.items()},
                       repeats)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-save", action="store_true", help="do not write runs/benchmarks/results.json")
    args = parser.parse_args(argv)
    walls = _walls({"pass": [sys.executable, "-c", "pass"],
                    "advisor": [sys.executable, "-m", "advisor.cli", "recommend", str(EXAMPLE)]}, args.repeats)
    baseline, advisor = walls["pass"], walls["advisor"]
    ratio = ratio_stats(advisor, baseline)

    from advisor import load_descriptor, recommend
    from advisor.deciding.engine import _evaluate, descriptor_facts
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
    print(f"{'ratio recommend / python -c pass':40s} {ratio['median']:10.2f} {ratio['min']:10.2f} {ratio['max']:10.2f}")
    print(f"{'engine rule evaluations / s':40s} {evals:10.0f}")
    print(f"{'full recommend() incl. counterfactuals / s':40s} {recs:10.1f}")
    result = {"python_pass_s": med_b, "recommend_s": med_a, "ratio": ratio["median"], "ratio_stats": ratio, "evals_per_s": evals,
              "recommend_per_s": recs, "repeats": args.repeats, "machine": machine()}
    if not args.no_save:
        save_results("recommend_speed", result)
    return result


if __name__ == "__main__":
    main()
