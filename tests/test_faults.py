"""Faults: Ctrl-C in the middle of an epoch, and a full disk while saving.

The run folder must hold a complete, loadable run or be left as it was; an interrupted deep run keeps its last
complete epoch in `.NAME.checkpoint/` and the next `advisor train` resumes from it (or starts clean when the
run differs); a full disk is one line, exit 2, the previous run intact and no temp files left anywhere.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, run_advisor

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

DESC = str(EXAMPLES / "medical_diagnosis_clinical.yaml")
CSV = str(EXAMPLES / "data" / "breast_cancer.csv")

# `advisor train` for real, with every item of the deep model's datasets delayed so that an epoch of the
# tabular MLP takes about a second: long enough to land a SIGINT in the middle of one.
SLOW_TRAIN = """
import signal, sys, time
# Ctrl-C as a terminal delivers it, even when this test runs as a background job (where SIGINT starts ignored).
signal.signal(signal.SIGINT, signal.default_int_handler)
from torch.utils.data import Dataset
import zoo.deep as deep

class Slow(Dataset):
    def __init__(self, ds): self.ds = ds
    def __len__(self): return len(self.ds)
    def __getitem__(self, i):
        time.sleep(0.002)
        return self.ds[i]

fast = deep._tensor_ds
deep._tensor_ds = lambda *arrays: Slow(fast(*arrays))
from advisor.cli import main
sys.argv = ["advisor", *sys.argv[1:]]
main()
"""


def _no_temp_files(root: Path) -> None:
    left = [p for p in root.rglob("*") if p.name.endswith((".tmp", ".old"))]
    assert not left, left


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _interrupt_mid_epoch(tmp_path: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """Start the slow `advisor train`, wait for the first epoch's checkpoint, SIGINT inside the next epoch."""
    script = tmp_path / "slow_train.py"
    script.write_text(SLOW_TRAIN)
    state = out.parent / f".{out.name}.checkpoint" / "state-1.pt"
    proc = subprocess.Popen([sys.executable, str(script), "train", DESC, "--model", "tabular_mlp", "--out", str(out),
                             "--quiet", *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not state.is_file():
            assert proc.poll() is None, f"training ended before its first epoch: {proc.communicate()}"
            assert time.monotonic() < deadline, "no checkpoint after 90 s"
            time.sleep(0.02)
        time.sleep(0.3)                                      # epochs take ~1 s: this lands inside epoch 2
        assert proc.poll() is None, "training finished before the interrupt"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _load(out: Path):
    import zoo

    return zoo.load_model(out)


@pytest.mark.slow
def test_sigint_mid_epoch_leaves_nothing_then_the_same_command_resumes(tmp_path):
    out = tmp_path / "runs" / "med"
    ckpt = out.parent / ".med.checkpoint"
    result = _interrupt_mid_epoch(tmp_path, out)
    assert result.returncode == 130, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("advisor: interrupted:") and "not written" in last and "resumes" in last, result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()                                  # nothing, never a half-written run
    state = torch.load(ckpt / "state-1.pt", map_location="cpu", weights_only=True)
    done = state["epoch"]
    assert done >= 1 and f"epoch {done})" in last and len(state["history"]["train_loss"]) == done
    _no_temp_files(tmp_path)

    again = run_advisor("train", DESC, "--model", "tabular_mlp", "--out", str(out), "--quiet")
    assert again.returncode == 0, again.stderr
    assert "checkpoint: resuming the interrupted run" in again.stderr
    assert f"resumed after epoch {done} " in again.stderr
    assert not ckpt.exists()                                 # a finished run leaves no checkpoint behind
    _no_temp_files(tmp_path)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["resumed_after_epoch"] == done and metrics["accuracy"] > 0.85
    assert metrics["history"]["train_loss"][:done] == pytest.approx(state["history"]["train_loss"])
    assert len(_load(out).predict(__import__("pandas").read_csv(CSV).drop(columns=["target"]))) == 569

    # resuming gives the numbers of a run that was never interrupted
    straight = run_advisor("train", DESC, "--model", "tabular_mlp", "--out", str(tmp_path / "straight"), "--quiet")
    assert straight.returncode == 0, straight.stderr
    plain = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    assert plain["resumed_after_epoch"] is None
    assert metrics["history"]["val_loss"] == pytest.approx(plain["history"]["val_loss"], rel=1e-5)
    assert metrics["accuracy"] == plain["accuracy"]


@pytest.mark.slow
def test_sigint_keeps_the_previous_run_and_a_different_run_starts_clean(tmp_path):
    out = tmp_path / "med"
    first = run_advisor("train", DESC, "--model", "tabular_linear", "--out", str(out), "--quiet")
    assert first.returncode == 0, first.stderr
    before = _digest(out / "model.joblib")

    result = _interrupt_mid_epoch(tmp_path, out)
    assert result.returncode == 130, result.stderr
    assert "left as it was" in result.stderr.strip().splitlines()[-1]
    assert _digest(out / "model.joblib") == before          # the previous run, untouched and loadable
    assert type(_load(out)).__name__ == "TabularLinear"
    _no_temp_files(tmp_path)

    other = run_advisor("train", DESC, "--model", "tabular_mlp", "--seed", "5", "--out", str(out), "--quiet")
    assert other.returncode == 0, other.stderr
    assert "starting clean" in other.stderr and "resuming" not in other.stderr
    assert json.loads((out / "metrics.json").read_text())["resumed_after_epoch"] is None
    assert type(_load(out)).__name__ == "TabularMLP"
    assert not (tmp_path / ".med.checkpoint").exists()


@pytest.mark.slow
def test_fresh_discards_a_matching_checkpoint(tmp_path):
    out = tmp_path / "med"
    assert _interrupt_mid_epoch(tmp_path, out).returncode == 130
    result = run_advisor("train", DESC, "--model", "tabular_mlp", "--out", str(out), "--quiet", "--fresh")
    assert result.returncode == 0, result.stderr
    assert "--fresh" in result.stderr and "starting clean" in result.stderr and "resuming" not in result.stderr
    assert json.loads((out / "metrics.json").read_text())["resumed_after_epoch"] is None


# ----------------------------------------------------------------------------- resume in the library

def _problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 5, generator=g)
    y = (x.sum(1) > 0).long()
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(16, 2))
    from torch.utils.data import TensorDataset

    from zoo.training import make_loader
    return net, make_loader(TensorDataset(x, y), 16, True, "cpu"), make_loader(TensorDataset(x[:50], y[:50]), 32,
                                                                              False, "cpu")


FIT = dict(loss_fn=torch.nn.CrossEntropyLoss(), epochs=6, device="cpu", progress=False, patience=None, seed=3)


def test_fit_torch_resumes_bit_for_bit(tmp_path):
    from zoo.training import fit_torch

    net, train, val = _problem()
    straight = fit_torch(net, train, val, **FIT)
    weights = [p.detach().clone() for p in net.parameters()]

    def interrupt(epoch, model, hist):
        if epoch == 3:
            raise KeyboardInterrupt

    state = tmp_path / "state.pt"
    net, train, val = _problem()
    with pytest.raises(KeyboardInterrupt):
        fit_torch(net, train, val, on_epoch_end=interrupt, resume_file=state, **FIT)
    assert torch.load(state, weights_only=True)["epoch"] == 2     # epoch 3 never completed
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]

    net, train, val = _problem()
    resumed = fit_torch(net, train, val, resume_file=state, **FIT)
    assert resumed.resumed_epoch == 2 and resumed.epochs_run == 6
    assert resumed.train_loss == straight.train_loss and resumed.val_loss == straight.val_loss
    assert all(torch.equal(a, b) for a, b in zip(weights, net.parameters()))


def test_a_resume_file_for_another_network_or_a_pickle_is_not_used(tmp_path, capsys):
    from zoo.training import fit_torch

    net, train, val = _problem()
    state = tmp_path / "state.pt"
    fit_torch(torch.nn.Sequential(torch.nn.Linear(5, 2)), train, val, resume_file=state, **FIT)
    hist = fit_torch(net, train, val, resume_file=state, **FIT)
    assert hist.resumed_epoch == 0 and "a different network" in capsys.readouterr().err

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    torch.save({"format": 1, "evil": Payload()}, state)            # read with weights_only=True: refused
    hist = fit_torch(net, train, val, resume_file=state, **FIT)
    assert hist.resumed_epoch == 0 and not marker.exists()
    assert "unreadable" in capsys.readouterr().err


# ----------------------------------------------------------------------------- full disk

@pytest.fixture
def cli_runner():
    from click.testing import CliRunner

    from advisor.cli import cli
    return lambda *args: CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _disk_full_when_syncing(monkeypatch, needle: str) -> list[str]:
    """os.fsync raises ENOSPC for any file whose name contains `needle` (as a full disk does on flush)."""
    real, hits = os.fsync, []

    def fsync(fd: int) -> None:
        name = os.readlink(f"/proc/self/fd/{fd}")
        if needle in Path(name).name:
            hits.append(name)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return hits


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name the file being synced")
@pytest.mark.parametrize("model, needle", [("tabular_linear", "model.joblib"), ("tabular_mlp", "state-1.pt")])
def test_disk_full_on_save_is_one_line_and_keeps_the_previous_model(tmp_path, monkeypatch, cli_runner, model,
                                                                    needle):
    out = tmp_path / "med"
    assert cli_runner("train", DESC, "--model", "tabular_decision_tree", "--out", str(out),
                      "--quiet").exit_code == 0
    before = _digest(out / "model.joblib")

    hits = _disk_full_when_syncing(monkeypatch, needle)
    result = cli_runner("train", DESC, "--model", model, "--out", str(out), "--quiet")
    assert hits, "the full disk was never hit"
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("advisor: error:") and "No space left on device" in lines[-1]
    assert "left as it was" in lines[-1] and "Traceback" not in result.stderr
    monkeypatch.undo()
    assert _digest(out / "model.joblib") == before
    assert type(_load(out)).__name__ == "TabularDecisionTree"
    _no_temp_files(tmp_path)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []   # no staging, backup, checkpoint


def test_resume_replays_epoch_callbacks_so_unfreezing_takes_effect(tmp_path):
    from zoo.training import fit_torch

    state = tmp_path / "state.pt"
    net, train, val = _problem()
    net[0].weight.requires_grad_(False)                       # frozen until the end of epoch 2, as effnet does
    calls: list[int] = []
    interrupt = [True]

    def unfreeze_then_stop(epoch, model, hist):
        calls.append(epoch)
        if epoch == 2:
            model[0].weight.requires_grad_(True)
        if epoch == 4 and interrupt[0]:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit_torch(net, train, val, on_epoch_end=unfreeze_then_stop, resume_file=state, **FIT)
    net, train, val = _problem()
    net[0].weight.requires_grad_(False)
    calls.clear()
    interrupt[0] = False
    before = net[0].weight.detach().clone()
    hist = fit_torch(net, train, val, on_epoch_end=unfreeze_then_stop, resume_file=state, **FIT)
    assert hist.resumed_epoch == 3 and calls == [1, 2, 3, 4, 5, 6]   # 1-3 replayed, 4-6 trained
    assert net[0].weight.requires_grad and not torch.equal(before, net[0].weight)
