"""File I/O with guarantees: atomic writes (nothing is ever half-written) and bounded reads (nothing hangs).

This is the project's one atomic writer: :func:`write_atomic` streams into the temp file through a callback
(``torch.save``, a serialiser), :func:`write_bytes_atomic` and :func:`write_text_atomic` are its shorthands;
:func:`publish_folder` does the same for a whole folder and :func:`recover_folder` finishes what a killed swap left.
And its one reading gate: :func:`check_readable` admits only a regular file (or a folder, where one is meant)
of bounded size, so a FIFO, ``/dev/zero`` or ``/dev/urandom`` is refused at once instead of blocking or filling
memory; :func:`read_bounded`, :func:`read_text` and :func:`read_json` read through it.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Optional

MiB = 1 << 20


class UnreadableFile(ValueError):
    """A path that is not read: missing, not a regular file, too large, or not what it should hold (one line)."""


def memory_bytes() -> Optional[int]:
    """This machine's physical memory in bytes (None where the platform does not say): the limit for data
    files, since a table larger than memory cannot be loaded anyway."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def _size(n: int) -> str:
    return f"{n / (1 << 30):,.1f} GiB" if n >= 1 << 30 else f"{n / MiB:,.1f} MiB" if n >= MiB else f"{n:,} bytes"


def check_readable(path: "str | Path", *, max_bytes: Optional[int], what: str = "file",
                   folder_ok: bool = False) -> os.stat_result:
    """The stat of `path` if it may be read: a regular file of at most `max_bytes` (None: any size), or a folder
    when `folder_ok`; else :class:`UnreadableFile` with one line naming the path, `what` it should be and why."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UnreadableFile(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:           # a link loop, a NUL byte, a name too long, no permission
        raise UnreadableFile(f"{path}: cannot read ({type(exc).__name__}: "
                             f"{getattr(exc, 'strerror', None) or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        if folder_ok:
            return st
        raise UnreadableFile(f"{path}: is a directory; expected {what}")
    if not stat.S_ISREG(st.st_mode):
        raise UnreadableFile(f"{path}: not read: {_kind(st.st_mode)}, not a regular file"
                             f"{' or folder' * folder_ok}; expected {what}")
    if max_bytes is not None and st.st_size > max_bytes:
        raise UnreadableFile(f"{path}: not read: {_size(st.st_size)}, over the {_size(max_bytes)} limit "
                             f"for {what}")
    return st


def read_bounded(path: "str | Path", *, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `max_bytes` (checked by :func:`check_readable`; a file that grows
    while being read is cut off and refused too)."""
    check_readable(path, max_bytes=max_bytes, what=what)
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise UnreadableFile(f"{path}: not read: over the {_size(max_bytes)} limit for {what}")
    return data


def read_text(path: "str | Path", *, max_bytes: int, what: str = "a text file") -> str:
    """The UTF-8 text (a BOM dropped) of a bounded regular file, line ends read as ``Path.read_text`` reads
    them (\\r\\n and \\r become \\n); a byte that is not UTF-8 raises UnicodeDecodeError for the caller to word."""
    text = read_bounded(path, max_bytes=max_bytes, what=what).decode("utf-8-sig")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_json(path: "str | Path", *, max_bytes: int, what: str = "a JSON file") -> Any:
    """The parsed JSON of a bounded regular file; not UTF-8, not JSON or nested too deeply is one line."""
    data = read_bounded(path, max_bytes=max_bytes, what=what)
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})") \
            from None
    except RecursionError:
        raise UnreadableFile(f"{path}: nested too deeply for {what}") from None
    except ValueError as exc:
        raise UnreadableFile(f"{path}: not JSON ({str(exc)[:120]})") from None


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
