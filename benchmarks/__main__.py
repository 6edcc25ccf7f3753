"""Run the benchmarks and write runs/benchmarks/results.json.

    python -m benchmarks                      # everything: recommend, zoo_speed, quality, forecasting (~30 min)
    python -m benchmarks quick                # recommend + zoo_speed classical + quality tabular (< 2 min; hybrid: zoo_speed)
    python -m benchmarks zoo_speed quality    # any of: recommend, zoo_speed, quality, forecasting
    python -m benchmarks forecasting --sets co2_weekly,sunspots_yearly
    python -m benchmarks zoo_speed --only deep --repeats 9
    python -m benchmarks quality --sets demo,cats_dogs
    python -m benchmarks evidence             # the evidence suite -> advisor/deciding/evidence.json (~30 min)
    python -m benchmarks evidence --sets iris,wine --seeds 2 --deep-budget 90
    python -m benchmarks flaml                # FLAML beside `advisor train` on the suite's tables
    python -m benchmarks export               # ONNX export size and onnxruntime latency vs the native model

Options after the part names go to the parts that take them (--repeats: recommend and zoo_speed; --only and
--steps: zoo_speed; --sets, --cats-dogs and --skip-text-finetune: quality; --sets: forecasting (series names);
--sets, --seeds, --deep-budget, --train-minutes, --reuse-sweep, --threads and --out: evidence; --sets, --budget
and --threads: flaml; --no-save: all). `all` runs recommend, zoo_speed, quality and forecasting (`quick` leaves forecasting out);
evidence, flaml and export run only when named (they take long).
Each part merges its figures into runs/benchmarks/results.json, so running a subset keeps the others' last figures.
"""

from __future__ import annotations

import argparse
import sys
import time

PARTS = ("recommend", "zoo_speed", "quality", "forecasting", "evidence", "flaml", "export")
NAMED_ONLY = ("evidence", "flaml", "export")          # long: not part of `all`


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", metavar="PART",
                        help="all (default), quick, or any of: " + ", ".join(PARTS))
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--only", default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--sets", default=None)
    parser.add_argument("--cats-dogs", default=None)
    parser.add_argument("--skip-text-finetune", action="store_true")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--deep-budget", type=float, default=None)
    parser.add_argument("--train-minutes", type=float, default=None)
    parser.add_argument("--reuse-sweep", action="store_true")
    parser.add_argument("--budget", type=float, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    parts = args.parts or ["all"]
    unknown = [p for p in parts if p not in (*PARTS, "all", "quick")]
    if unknown:
        parser.error(f"unknown part(s) {unknown}; choose all, quick, or any of: {', '.join(PARTS)}")
    quick = "quick" in parts
    every = [p for p in PARTS if p not in NAMED_ONLY]
    run = every if "all" in parts else [p for p in PARTS if p in parts or (quick and p in every and p != "forecasting")]

    def opt(name: str, value: object, default: object = None) -> list[str]:
        value = default if value is None else value
        return [] if value is None else [name, str(value)]

    common = ["--no-save"] if args.no_save else []
    start = time.perf_counter()
    if "recommend" in run:
        from benchmarks import recommend_speed

        print("== recommend_speed ==")
        recommend_speed.main(opt("--repeats", args.repeats) + common)
    if "zoo_speed" in run:
        from benchmarks import zoo_speed

        zoo_speed.main(opt("--repeats", args.repeats, 5 if quick else None)
                       + opt("--only", args.only, "classical" if quick else None)
                       + opt("--steps", args.steps) + common)
    if "quality" in run:
        from benchmarks import quality

        quality.main(opt("--sets", args.sets, "tabular" if quick else None) + opt("--cats-dogs", args.cats_dogs)
                     + (["--skip-text-finetune"] if args.skip_text_finetune else []) + common)
    if "forecasting" in run:
        from benchmarks import forecasting

        print("== forecasting ==")
        forecasting.main(opt("--series", args.sets) + common)
    if "evidence" in run:
        from benchmarks import evidence

        print("== evidence ==")
        evidence.main(opt("--sets", args.sets) + opt("--seeds", args.seeds) + opt("--deep-budget", args.deep_budget)
                      + opt("--train-minutes", args.train_minutes) + opt("--out", args.out)
                      + (["--reuse-sweep"] if args.reuse_sweep else [])
                      + opt("--threads", args.threads) + common)
    if "flaml" in run:
        from benchmarks import flaml_side

        print("== flaml ==")
        flaml_side.main(opt("--sets", args.sets) + opt("--budget", args.budget) + opt("--threads", args.threads)
                        + common)
    if "export" in run:
        from benchmarks import export

        print("== export ==")
        export.main(opt("--repeats", args.repeats) + common)
    print(f"\nbenchmarks done in {time.perf_counter() - start:.0f} s"
          + ("" if args.no_save or run == ["evidence"] else "; figures in runs/benchmarks/results.json"), file=sys.stderr)


if __name__ == "__main__":
    main()
