"""`make bench` writes its run output outside the tracked tree; the recorded figures live in benchmarks/README.md."""

from __future__ import annotations

import subprocess

from conftest import ROOT


def test_bench_results_go_under_runs_not_the_tracked_tree() -> None:
    from benchmarks._common import RESULTS

    assert RESULTS.resolve().is_relative_to((ROOT / "runs").resolve()), RESULTS
    ignored = subprocess.run(["git", "check-ignore", "-q", str(RESULTS)], cwd=ROOT, capture_output=True)
    assert ignored.returncode in (0, 128), "the benchmarks' results.json must be ignored by git"
