"""Atomic writes: a temp file (or folder) in the same folder, then rename, so nothing is ever half-written.

This is the project's one atomic writer: :func:`write_atomic` streams into the temp file through a callback
(``torch.save``, a serialiser), :func:`write_bytes_atomic` and :func:`write_text_atomic` are its shorthands;
:func:`publish_folder` does the same for a whole folder and :func:`recover_folder` finishes what a killed swap left.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterator


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
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        raise
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        cause = _os_error_in(exc)
        if cause is not None:                  # e.g. torch.save's RuntimeError over a full disk's OSError
            raise OSError(cause.errno, cause.strerror or str(cause), str(path)) from None
        raise


def _os_error_in(exc: BaseException) -> "OSError | None":
    """The OSError an exception was raised while handling (or from), if any: a writer library may wrap a failed
    write (ENOSPC) in its own error type."""
    seen: set[int] = set()
    link: "BaseException | None" = exc
    while link is not None and id(link) not in seen and not isinstance(link, (KeyboardInterrupt, SystemExit)):
        if isinstance(link, OSError):
            return link
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return None


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (same-folder temp file + os.replace)."""
    write_atomic(path, lambda handle: handle.write(data))


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 `text` to `path` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


# ----------------------------------------------------------------------------- whole folders

def publish_folder(out: Path, build: Callable[[Path], object]) -> None:
    """Write the folder `out` atomically: `build(staging)` fills a hidden sibling `.NAME.PID.XXXX.tmp`, which
    then replaces `out` whole (the old one is renamed `.NAME.old` for the instant of the swap, then removed).
    On any error (or Ctrl-C) before the swap the staging folder is removed and `out` is untouched; a process
    killed mid-swap leaves what :func:`recover_folder` puts right on the next call."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".tmp", dir=out.parent))
    try:
        build(staging)
        with _folder_lock(out.parent):
            _swap(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def recover_folder(out: Path) -> list[str]:
    """Put right what an interrupted :func:`publish_folder` left beside `out`: the previous folder renamed aside
    but not replaced goes back in place; a leftover `.NAME.old` beside a complete `out` and the staging folders of
    processes that no longer run are removed. Returns one line per thing done."""
    out = Path(out)
    if not out.parent.is_dir():
        return []
    lines: list[str] = []
    backup = _backup_of(out)
    with _folder_lock(out.parent):
        if backup.is_dir() and not backup.is_symlink():
            if not out.exists() and not out.is_symlink():
                backup.rename(out)
                lines.append(f"recovered {out} from {backup.name}: an earlier run was stopped while swapping it in")
            else:
                shutil.rmtree(backup, ignore_errors=True)
                lines.append(f"removed {backup.name}, left beside {out} by an interrupted swap")
        for stale in _stale_staging(out):
            shutil.rmtree(stale, ignore_errors=True)
            lines.append(f"removed {stale.name}, the unfinished folder of a run that was stopped")
    return lines


def _backup_of(out: Path) -> Path:
    return out.parent / f".{out.name}.old"


def _swap(staging: Path, out: Path) -> None:
    """`out` → `.NAME.old`, staging → `out`, `.NAME.old` removed; the old folder goes back if the second rename fails."""
    backup = _backup_of(out)
    moved = out.exists() or out.is_symlink()
    if moved:
        shutil.rmtree(backup, ignore_errors=True)
        out.rename(backup)
    try:
        staging.rename(out)
    except BaseException:
        if moved and backup.exists() and not out.exists():
            backup.rename(out)
        raise
    if moved:
        shutil.rmtree(backup, ignore_errors=True)


_STAGING = re.compile(r"(\d+)\.[^.]+\.tmp")


def _stale_staging(out: Path) -> list[Path]:
    """Staging folders of `out` whose process (the PID in the name) is no longer running."""
    prefix = f".{out.name}."
    found = []
    for entry in out.parent.glob(glob.escape(prefix) + "*.tmp"):
        match = _STAGING.fullmatch(entry.name[len(prefix):])
        if match and entry.is_dir() and not entry.is_symlink() and not _running(int(match.group(1))):
            found.append(entry)
    return found


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid > 0
    return True


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on `folder` (flock on the directory itself), so swaps and recoveries of
    concurrent runs in the same parent folder never interleave. No-op where flock is unavailable."""
    try:
        import fcntl
        fd = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
