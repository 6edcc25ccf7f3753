"""The output-folder contract of `advisor train` and `advisor compare`.

An output folder is ours when it holds our marker file: `run.json` for a training run, `compare.json` for a
comparison. Before any work, `claim_out` tidies what an interrupted swap left beside the folder and refuses an
existing folder that is not ours, or is ours of the other kind, or is the current folder; the run then builds
its folder aside and swaps it in whole (zoo.io.publish_folder), so the folder always holds one complete run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from zoo.io import recover_folder

MARKERS = {"train": "run.json", "compare": "compare.json"}
_WORDS = {"train": "training run", "compare": "comparison"}


class OutFolderError(ValueError):
    """`--out` names a place the run may not write to (one line)."""


def claim_out(out: Path, kind: str, echo: Callable[[str], None] = lambda line: None) -> Path:
    """Check `out` for a `kind` run ("train" or "compare") before any work; say what was recovered or tidied."""
    out = Path(out)
    target, here = out.resolve(), Path.cwd().resolve()
    if target == here or target in here.parents or target == Path(target.anchor):
        raise OutFolderError(f"--out {out}: is the current folder or holds it; choose a new folder such as "
                             f"runs/NAME")
    for line in recover_folder(out):
        echo(line)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise OutFolderError(f"--out {out}: exists and is not a folder; choose another or remove it")
    if out.is_dir() and any(out.iterdir()):
        for other, marker in MARKERS.items():
            if other != kind and (out / marker).is_file():
                raise OutFolderError(f"--out {out}: is an ml-advisor {_WORDS[other]} folder; a {_WORDS[kind]} "
                                     "never replaces it — choose another folder")
        if not (out / MARKERS[kind]).is_file():
            raise OutFolderError(f"--out {out}: exists and is not an ml-advisor run folder; choose another or "
                                 "remove it")
    return out

