"""Atomic file writes: a temp file in the same folder, then rename, so nothing is ever half-written.

This is the project's one atomic writer: :func:`write_atomic` streams into the temp file through a callback
(``torch.save``, a serialiser), :func:`write_bytes_atomic` and :func:`write_text_atomic` are its shorthands;
:func:`copy_folder_atomic` does the same for a whole folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def write_atomic(path: Path, writer: Callable[[BinaryIO], object]) -> None:
    """Write `path` atomically: `writer(handle)` fills a same-folder temp file, which is fsynced, then renamed
    over `path` with os.replace. On any error (or Ctrl-C) the temp file is removed and `path` is untouched."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            writer(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (same-folder temp file + os.replace)."""
    write_atomic(path, lambda handle: handle.write(data))


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 `text` to `path` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def copy_folder_atomic(source: Path, dest: Path) -> Path:
    """Copy the folder `source` to `dest` atomically: into a same-parent staging folder, then renamed into place;
    a `dest` already there is replaced only once the copy is complete (and put back if the swap fails)."""
    source, dest = Path(source), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        backup = dest.with_name(f".{dest.name}.old") if dest.exists() else None
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
            dest.rename(backup)
        try:
            staging.rename(dest)
        except BaseException:
            if backup is not None and not dest.exists():
                backup.rename(dest)
            raise
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest
