"""Pick the compute device: CUDA, then Apple MPS, then CPU; an explicit override wins. Says why."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

DEVICE_ENV = "ML_ADVISOR_DEVICE"


@dataclass(frozen=True)
class DeviceChoice:
    """The chosen torch device and a one-line reason a person can read."""

    device: str
    reason: str

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")


def pick_device(override: Optional[str] = None) -> DeviceChoice:
    """Choose a device: `override` (or $ML_ADVISOR_DEVICE) if given, else CUDA > MPS > CPU."""
    import torch

    wanted = (override or os.environ.get(DEVICE_ENV) or "auto").strip().lower()
    if wanted != "auto":
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device {wanted!r} requested but CUDA is not available (torch {torch.__version__})")
        if wanted == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise ValueError("device 'mps' requested but Apple MPS is not available")
        if wanted not in ("cpu", "mps") and not wanted.startswith("cuda"):
            raise ValueError(f"device {wanted!r} is not one of: auto, cpu, cuda, cuda:N, mps")
        source = "an explicit device argument" if override else f"${DEVICE_ENV}"
        return DeviceChoice(wanted, f"{wanted} (requested with {source})")
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        return DeviceChoice("cuda", f"cuda ({name}; a CUDA GPU is available, bf16 autocast on)")
    if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        return DeviceChoice("mps", "mps (Apple GPU available, no CUDA)")
    return DeviceChoice("cpu", f"cpu (no CUDA or MPS device found; {torch.get_num_threads()} threads)")


_ANNOUNCED: set[str] = set()


def announce_device(choice: DeviceChoice, write: Callable[[str], None]) -> None:
    """Write "device: <reason>" once per process and reason: the run says it, the fits after stay quiet."""
    if choice.reason not in _ANNOUNCED:
        _ANNOUNCED.add(choice.reason)
        write(f"device: {choice.reason}")


SMALL_FIT_ROWS = 20_000     # up to this many rows, classical fits run on one CPU thread (see cpu_threads)


@contextmanager
def cpu_threads(limit: Optional[int]) -> Iterator[None]:
    """Cap CPU threads (OpenMP and BLAS, and torch's pool when torch is loaded) at `limit` inside the block;
    None leaves them alone. Why: on a busy 2-core machine with torch's and scikit-learn's OpenMP runtimes both
    loaded, one gradient-boosting fit on 128 rows took 32-59 s with the default 2 threads and 0.14 s with one
    (2026-12-02); on an idle machine one thread costs 1.3-1.7x from 2,000 rows up, so big fits keep the default."""
    if limit is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(limit)
    try:
        with threadpool_limits(limits=limit):
            yield
    finally:
        if torch is not None and before:
            torch.set_num_threads(before)


def small_fit_threads(n_rows: int) -> "contextmanager[None]":
    """One thread for a fit of at most SMALL_FIT_ROWS rows (many small fits, or a busy machine), else default."""
    return cpu_threads(1 if n_rows <= SMALL_FIT_ROWS else None)
