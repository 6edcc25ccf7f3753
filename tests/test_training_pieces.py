"""The named pieces of zoo.training.fit_torch (early stopping, time budget, resume path) and the one atomic
writer in zoo.io, each on its own, without a training run."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from zoo.io import write_atomic, write_bytes_atomic  # noqa: E402
from zoo.training import EarlyStopping, TimeBudget, _resume_path, checkpointing  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- early stopping

def _feed(stopper: EarlyStopping, scores: list[float | None], epochs: int = 100) -> int | None:
    """The epoch after which `stopper` says stop, or None if it never does."""
    net = torch.nn.Linear(2, 1)
    for epoch, score in enumerate(scores, 1):
        stopper.update(epoch, score, net)
        if stopper.should_stop(epoch, epochs):
            return epoch
    return None


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    stopper = EarlyStopping("val_loss", patience=2)
    assert _feed(stopper, [1.0, 0.8, 0.9, 0.85, 0.1]) == 4           # epochs 3 and 4 did not beat 0.8
    assert (stopper.best_epoch, stopper.best_score, stopper.bad_epochs) == (2, 0.8, 2)


def test_early_stopping_resets_on_improvement_and_never_stops_at_the_last_epoch():
    assert _feed(EarlyStopping("val_loss", patience=2), [1.0, 1.1, 0.5, 0.6, 0.4, 0.7]) is None
    assert _feed(EarlyStopping("val_loss", patience=1), [1.0, 2.0], epochs=2) is None   # epoch 2 is the last
    assert _feed(EarlyStopping("val_loss", patience=None), [1.0] + [2.0] * 20) is None


def test_early_stopping_direction_min_delta_and_bad_scores():
    metric = EarlyStopping("val_metric", patience=3, min_delta=0.05)
    assert metric.update(1, 0.5, torch.nn.Linear(1, 1))
    assert not metric.update(2, 0.54, torch.nn.Linear(1, 1))          # higher, but not by more than min_delta
    assert metric.update(3, 0.6, torch.nn.Linear(1, 1)) and metric.best_epoch == 3
    loss = EarlyStopping("train_loss")
    assert not loss.update(1, math.nan, torch.nn.Linear(1, 1)) and not loss.update(2, None, torch.nn.Linear(1, 1))
    assert loss.best_score is None and loss.best_state is None and loss.bad_epochs == 2


def test_early_stopping_keeps_a_copy_of_the_best_weights():
    net = torch.nn.Linear(2, 1)
    stopper = EarlyStopping("val_loss")
    stopper.update(1, 0.3, net)
    kept = net.weight.detach().clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    stopper.update(2, 0.9, net)                                       # worse: the best copy stays
    assert torch.equal(stopper.best_state["weight"], kept)
    assert stopper.best_state["weight"].device.type == "cpu"


# ----------------------------------------------------------------------------- time budget

def test_time_budget_forecasts_from_batches_after_the_warm_up_one():
    budget = TimeBudget(has_val=True, n_val=4, batch_times=[5.0, 1.0, 3.0])
    assert budget.est_batch() == 2.0                                  # the 5 s warm-up batch left out
    assert budget.est_val() == 0.5 * 2.0 * 4                          # no validation pass measured yet
    budget.val_seconds = 0.25
    assert budget.est_val() == 0.25
    assert TimeBudget(batch_times=[5.0]).est_batch() == 5.0 and TimeBudget().est_batch() == 0.0
    assert TimeBudget(has_val=False, batch_times=[1.0, 1.0]).est_val() == 0.0
    assert TimeBudget(batch_times=[1.0] * 30 + [4.0] * 20).est_batch() == 4.0   # the last 20 batches


def test_time_budget_deadline_counts_time_spent_before_a_resume():
    budget = TimeBudget(has_val=True, batch_times=[1.0, 1.0], val_seconds=1.0)
    assert budget.deadline == math.inf and not budget.late(1e12)
    budget.begin(100.0, 10.0, spent_before=4.0)
    assert budget.deadline == 106.0
    assert not budget.late(104.0) and budget.late(104.5)              # one batch + validation = 2 s
    for none in (None, 0):
        budget.begin(100.0, none, spent_before=4.0)
        assert budget.deadline == math.inf


def test_time_budget_for_validation_counts_the_validation_batches():
    assert TimeBudget.for_validation(None) == TimeBudget(has_val=False, n_val=0)
    assert TimeBudget.for_validation([1, 2, 3]) == TimeBudget(has_val=True, n_val=3)


# ----------------------------------------------------------------------------- resume state

def test_resume_path_numbers_the_calls_of_a_checkpointing_block(tmp_path):
    assert _resume_path(None) == (None, None)
    assert _resume_path(tmp_path / "x.pt")[0] == tmp_path / "x.pt"
    with checkpointing(tmp_path) as session:
        assert _resume_path(None)[0] == tmp_path / "state-1.pt"
        assert _resume_path(tmp_path / "own.pt")[0] == tmp_path / "own.pt"   # its own file: not counted
        path, got = _resume_path(None)
        assert path == tmp_path / "state-2.pt" and got is session and session.calls == 2


# ----------------------------------------------------------------------------- the one atomic writer

def test_write_atomic_streams_torch_save_and_leaves_nothing_on_error(tmp_path):
    path = tmp_path / "best.pt"
    write_atomic(path, lambda handle: torch.save({"w": torch.ones(3)}, handle))
    assert torch.equal(torch.load(path, weights_only=True)["w"], torch.ones(3))

    def half_then_fail(handle):
        handle.write(b"half a file")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, half_then_fail)
    assert torch.equal(torch.load(path, weights_only=True)["w"], torch.ones(3))   # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["best.pt"]                  # no temp file left
    write_bytes_atomic(path, b"abc")
    assert path.read_bytes() == b"abc"


def test_there_is_one_atomic_writer_in_the_project():
    """Only zoo/io.py makes temp files to rename over a target (run folders are renamed, not written)."""
    pattern = re.compile(r"\bmkstemp\(|\bos\.replace\(|\bsave_file\(")
    offenders = [str(p.relative_to(ROOT)) for folder in ("zoo", "advisor", "benchmarks")
                 for p in sorted((ROOT / folder).rglob("*.py"))
                 if p != ROOT / "zoo" / "io.py" and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_progress_bar_helper_says_what_it_returns():
    """tqdm's `disable`: hidden (True) without progress, left to tqdm (None, hides off a terminal) with it."""
    from zoo import training

    assert not hasattr(training, "_show_bars")           # the old name returned the opposite of what it said
    assert training._bars_disabled(False) is True and training._bars_disabled(True) is None
