"""Who may unpickle a saved model: folders this user's key signed load freely, anything else needs trust.

Loading a pickle (``model.joblib``) runs whatever code the file asks for, so :func:`zoo.load_model` (and
``advisor predict``) refuse a folder unless all of these hold:

* ``signature.json`` is there and lists every file that would be unpickled with its SHA-256;
* the files' SHA-256 still match (nothing changed since ``save_model`` wrote them);
* the list is authenticated with an HMAC-SHA256 under this user's signing key (a random 32-byte key made on
  first save, ``0600``, in ``$ML_ADVISOR_HOME`` or ``~/.config/ml-advisor``) — a folder made by another
  account or machine, or a forged signature, does not verify;
* on POSIX, the folder and the files are owned by the current user.

Anything else raises :class:`UntrustedModelError` naming the files and the reason; ``trust=True``
(``--trust`` on the command line) loads anyway. Stdlib only: importing this costs nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Optional

from zoo.io import UnreadableFile, read_json

__all__ = ["SIGNATURE_FILE", "UntrustedModelError", "check_trusted", "describe_files", "is_trusted", "key_path",
           "sign_folder"]

SIGNATURE_FILE = "signature.json"
MAX_SIGNATURE_BYTES = 16 << 20     # signature.json and model.json are small; a bigger one is not ours
KEY_FILE = "signing.key"
_FORMAT = 1


class UntrustedModelError(PermissionError):
    """A folder's pickles are not known to come from this user; ``files`` describes what would be unpickled."""

    def __init__(self, message: str, files: list[str]) -> None:
        super().__init__(message)
        self.files = files

    def __str__(self) -> str:
        return str(self.args[0])


def key_path() -> Path:
    """Where this user's signing key lives: ``$ML_ADVISOR_HOME/signing.key`` or ``~/.config/ml-advisor/``."""
    home = os.environ.get("ML_ADVISOR_HOME")
    if home:
        return Path(home) / KEY_FILE
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "ml-advisor" / KEY_FILE


def _read_key(path: Path) -> bytes:
    """The key, refused (OSError) when other users could read or replace it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        st = os.fstat(fd)
        if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o077):
            raise PermissionError(f"{path}: signing key must be yours and private (chmod 600)")
        key = os.read(fd, 256).strip()
    finally:
        os.close(fd)
    if len(key) < 32:
        raise PermissionError(f"{path}: signing key is too short")
    return key


def _key(create: bool) -> Optional[bytes]:
    """This user's signing key; made (atomically, ``0600``) when ``create`` and absent."""
    path = key_path()
    try:
        return _read_key(path)
    except FileNotFoundError:
        if not create:
            return None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)          # never replaces a key another process made meanwhile
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
    return _read_key(path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _mac(key: bytes, files: dict[str, str]) -> str:
    message = json.dumps({"format": _FORMAT, "files": files}, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_folder(folder: "str | Path", names: list[str]) -> Path:
    """Write ``signature.json``: the SHA-256 of each of ``names`` and their HMAC under this user's key."""
    from zoo.io import write_text_atomic

    folder = Path(folder)
    key = _key(create=True)
    if key is None:  # pragma: no cover - _key(create=True) always returns a key or raises
        raise OSError(f"{key_path()}: cannot make a signing key")
    files = {name: _sha256(folder / name) for name in sorted(names)}
    path = folder / SIGNATURE_FILE
    write_text_atomic(path, json.dumps({"format": _FORMAT, "algorithm": "hmac-sha256", "files": files,
                                        "mac": _mac(key, files)}, indent=2))
    return path


def describe_files(folder: "str | Path", names: list[str]) -> list[str]:
    """One line per file that would be unpickled: path, format, size and what ``model.json`` says is inside."""
    folder = Path(folder)
    try:
        meta = read_json(folder / "model.json", max_bytes=MAX_SIGNATURE_BYTES, what="a model.json")
        inside = f"{meta.get('estimator', '?')} for zoo model '{meta.get('model', '?')}'" \
            if isinstance(meta, dict) else "unknown contents"
    except UnreadableFile:
        inside = "unknown contents (no readable model.json)"
    lines = []
    for name in names:
        path = folder / name
        size = path.stat().st_size if path.is_file() else 0
        kind = "torch pickle" if path.suffix in (".pt", ".pth") else "joblib pickle"
        lines.append(f"{path} ({kind}, {size:,} bytes; {inside}, per model.json)")
    return lines


def _owner_problem(paths: list[Path]) -> Optional[str]:
    if not hasattr(os, "getuid"):
        return None
    me = os.getuid()
    for path in paths:
        try:
            uid = path.stat().st_uid
        except OSError:
            continue
        if uid != me:
            return f"{path.name or path} is owned by uid {uid}, not you (uid {me})"
    return None


def _problem(folder: Path, names: list[str], contents: Optional[dict[str, bytes]] = None) -> Optional[str]:
    """Why ``names`` in ``folder`` (or their given ``contents``) are not trusted, or None when they are."""
    owner = _owner_problem([folder, *(folder / n for n in names)])
    if owner:
        return owner
    sig_path = folder / SIGNATURE_FILE
    if not sig_path.exists() and not sig_path.is_symlink():
        return f"no {SIGNATURE_FILE} (not saved by `advisor train` or zoo.save_model on this account)"
    try:
        sig = read_json(sig_path, max_bytes=MAX_SIGNATURE_BYTES, what=f"a {SIGNATURE_FILE}")
    except UnreadableFile as exc:
        return f"{SIGNATURE_FILE} is unreadable ({str(exc).split(': ', 1)[-1]})"
    files = sig.get("files") if isinstance(sig, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        return f"{SIGNATURE_FILE} is malformed"
    for name in names:
        if name not in files:
            return f"{name} is not listed in {SIGNATURE_FILE}"
        digest = hashlib.sha256(contents[name]).hexdigest() if contents and name in contents else \
            _sha256(folder / name)
        if not hmac.compare_digest(digest, files[name]):
            return f"{name} changed since it was saved (SHA-256 differs from {SIGNATURE_FILE})"
    try:
        key = _key(create=False)
    except OSError as exc:
        return f"signing key unusable ({exc})"
    if key is None:
        return f"no signing key at {key_path()} (this account never saved a model)"
    if not hmac.compare_digest(_mac(key, files), str(sig.get("mac", ""))):
        return f"{SIGNATURE_FILE} was not made with your signing key (another user, machine or a forgery)"
    return None


def check_trusted(folder: "str | Path", names: list[str], contents: Optional[dict[str, bytes]] = None) -> None:
    """Raise :class:`UntrustedModelError` unless this user's key signed ``names`` in ``folder`` unchanged.

    ``contents``: the bytes already read for some of the files, so that the bytes checked are the bytes then
    unpickled (no window for swapping the file in between).
    """
    folder = Path(folder)
    reason = _problem(folder, names, contents)
    if reason is None:
        return
    raise UntrustedModelError(
        f"{folder}: refusing to unpickle {', '.join(names)}: {reason}; unpickling runs any code the file holds "
        "— pass --trust (zoo.load_model(..., trust=True)) only if you trust where it came from",
        describe_files(folder, names))


def is_trusted(folder: "str | Path", names: list[str]) -> bool:
    """True when :func:`check_trusted` would pass."""
    return _problem(Path(folder), names) is None
