"""The output-folder contract: train and compare never delete what is not theirs, replace their own folder only
whole, recover from a kill at any point of the swap, and a report never overwrites an input or a run file."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, run_advisor

pytest.importorskip("sklearn")

KILLER = """
import os, signal, sys, pathlib
real = pathlib.Path.rename
def rename(self, target):
    target = pathlib.Path(target)
    if (os.environ['KILL_AT'] == 'aside' and target.name.endswith('.old')) or \\
       (os.environ['KILL_AT'] == 'swap' and self.name.endswith('.tmp')):
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, target)
pathlib.Path.rename = rename
from advisor.cli import main
sys.argv = ['advisor', *sys.argv[1:]]
main()
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A 60-row, two-class table and its descriptor."""
    rows = ["a,b,c,label"] + [f"{i % 7},{(i * 3) % 11},{i % 5},{'yes' if i % 7 > 3 else 'no'}" for i in range(60)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    path = tmp_path / "p.yaml"
    path.write_text("name: tiny\ntask: classification\ndata:\n  modality: tabular\n  path: t.csv\n"
                    "  target: label\n")
    return path


def _train(project: Path, out: Path, *extra: str, script: str | None = None, **env: str):
    args = ["train", str(project), "--out", str(out), "--model", "tabular_linear", "--quiet", *extra]
    if script is None:
        return run_advisor(*args, cwd=project.parent)
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          cwd=project.parent, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, timeout=120)


def _error_line(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("advisor: error:"), result.stderr
    return last


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".old", ".tmp")))


def test_a_folder_that_is_not_a_run_is_refused_and_kept(project, tmp_path):
    mine = tmp_path / "v"
    (mine / "sub").mkdir(parents=True)
    (mine / "thesis.txt").write_text("draft")
    line = _error_line(_train(project, mine))
    assert "exists and is not an ml-advisor run folder" in line
    assert (mine / "thesis.txt").read_text() == "draft" and (mine / "sub").is_dir()
    line = _error_line(_train(project, Path(".")))
    assert "current folder" in line and (tmp_path / "t.csv").is_file()
    (tmp_path / "afile").write_text("x")
    assert "is a file" in _error_line(_train(project, tmp_path / "afile")) and (tmp_path / "afile").read_text() == "x"


def test_an_own_run_is_replaced_whole_and_kinds_never_cross(project, tmp_path):
    out = tmp_path / "r"
    assert _train(project, out).returncode == 0
    (out / "stray.txt").write_text("left by hand")
    assert _train(project, out).returncode == 0
    assert (out / "run.json").is_file() and not (out / "stray.txt").exists()
    assert _leftovers(tmp_path) == []
    line = _error_line(run_advisor("compare", str(project), "--out", str(out), "--families", "classical",
                                   "--sizes", "1.0", "--seeds", "1", "--quiet", cwd=tmp_path))
    assert "training run folder" in line and (out / "model.joblib").is_file()
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "compare.json").write_text("{}")
    assert "comparison folder" in _error_line(_train(project, tmp_path / "c"))


@pytest.mark.parametrize("kill_at", ["aside", "swap"])
def test_a_kill_during_the_swap_never_loses_the_last_run(project, tmp_path, kill_at):
    out = tmp_path / "r"
    assert _train(project, out).returncode == 0
    (out / "sentinel").write_text("the last complete run")
    killed = _train(project, out, script=KILLER, KILL_AT=kill_at)
    assert killed.returncode == -9, killed.stderr
    assert _leftovers(tmp_path), "the kill should have left the swap half done"
    from zoo.io import recover_folder

    said = recover_folder(out)
    assert (out / "sentinel").read_text() == "the last complete run" and (out / "run.json").is_file()
    assert _leftovers(tmp_path) == [] and said
    assert any("recovered" in line for line in said) == (kill_at == "swap")


def test_the_next_run_says_what_it_tidied(project, tmp_path):
    out = tmp_path / "r"
    assert _train(project, out).returncode == 0
    assert _train(project, out, script=KILLER, KILL_AT="swap").returncode == -9
    again = _train(project, out)
    assert again.returncode == 0, again.stderr
    assert "recovered" in again.stderr and "removed" in again.stderr
    assert _leftovers(tmp_path) == [] and (out / "run.json").is_file()


def test_a_live_runs_staging_folder_is_left_alone(tmp_path):
    from zoo.io import recover_folder

    live = tmp_path / f".r.{os.getpid()}.abcd1234.tmp"
    live.mkdir()
    dead = tmp_path / ".r.999999999.abcd1234.tmp"
    dead.mkdir()
    other = tmp_path / ".r.x.999999999.abcd1234.tmp"       # the staging folder of `r.x`, not of `r`
    other.mkdir()
    said = recover_folder(tmp_path / "r")
    assert live.is_dir() and other.is_dir() and not dead.exists() and len(said) == 1


def test_a_write_error_wrapped_by_the_writer_comes_out_as_oserror(tmp_path):
    from zoo.io import write_atomic

    def torch_like(handle):
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise RuntimeError("[enforce fail at inline_container.cc] unexpected pos") from None

    with pytest.raises(OSError) as caught:
        write_atomic(tmp_path / "state.pt", torch_like)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(tmp_path / "state.pt")
    assert list(tmp_path.iterdir()) == []


FULL_DISK = """
import errno, io, os, sys
import zoo.io
real = os.fdopen
class Full(io.RawIOBase):
    def __init__(self, fd): self.inner, self.count = real(fd, 'wb'), 0
    def writable(self): return True
    def write(self, b):
        self.count += len(b)
        if self.count > 2000: raise OSError(errno.ENOSPC, 'No space left on device')
        return self.inner.write(b)
    def fileno(self): return self.inner.fileno()
    def close(self): self.inner.close(); super().close()
zoo.io.os = type(sys)('os_patched'); zoo.io.os.__dict__.update(os.__dict__)
zoo.io.os.fdopen = lambda fd, mode='r': Full(fd)
from advisor.cli import main
sys.argv = ['advisor', *sys.argv[1:]]
main()
"""


def test_a_full_disk_during_a_deep_checkpoint_is_one_line(project, tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "r"
    result = subprocess.run([sys.executable, "-c", FULL_DISK, "train", str(project), "--out", str(out), "--model",
                             "tabular_mlp", "--quiet"], capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    line = _error_line(result)
    assert "No space left on device" in line and not out.exists()


def test_a_report_never_replaces_an_input_or_a_run_file(project, tmp_path):
    out = tmp_path / "r"
    assert _train(project, out).returncode == 0
    model = (out / "model.joblib").read_bytes()
    assert ".html" in _error_line(run_advisor("report", str(out), "-o", str(out / "model.joblib")))
    assert (out / "model.joblib").read_bytes() == model
    descriptor = tmp_path / "credit.yaml"
    descriptor.write_text((EXAMPLES / "credit_scoring.yaml").read_text())
    before = descriptor.read_text()
    assert ".html" in _error_line(run_advisor("recommend", str(descriptor), "--report", str(descriptor)))
    assert descriptor.read_text() == before
