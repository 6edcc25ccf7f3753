"""Pick the compute device: CUDA, then Apple MPS, then CPU; an explicit override wins. Says why."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

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
