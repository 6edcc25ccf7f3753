"""Data-parallel training with PyTorch's own DistributedDataParallel, launched by ``torchrun``.

No cluster code of our own: ``torchrun`` starts one process per device (on one machine or many) and sets
``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK``; :func:`zoo.training.fit_torch` notices them, joins the process
group (NCCL on CUDA, gloo on CPU), shards the training batches with a ``DistributedSampler`` (each process
takes ``batch_size / world_size`` items, so the global batch, and with it the learning dynamics, stay those
of one process), averages gradients through DDP, and lets rank 0 alone write checkpoints and run folders.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["world", "active", "is_main", "init", "wrap", "shard_loader", "mean", "any_true", "backend", "barrier",
           "finish", "launch_command"]


def world() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) outside it."""
    def env(name: str, default: int) -> int:
        try:
            return int(os.environ.get(name, default))
        except ValueError:
            return default

    return env("RANK", 0), env("WORLD_SIZE", 1), env("LOCAL_RANK", 0)


def active() -> bool:
    """True inside a torchrun launch of more than one process."""
    return world()[1] > 1


def is_main() -> bool:
    """True for the process that writes files and prints results (rank 0, or the only process)."""
    return world()[0] == 0


def init(device: str) -> str:
    """Join the process group (once); returns the device this process trains on (``cuda:LOCAL_RANK`` on CUDA)."""
    import torch
    import torch.distributed as dist

    cuda = device.startswith("cuda")
    if cuda:
        device = f"cuda:{world()[2]}"
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return device


def wrap(model: Any, device: str) -> Any:
    """The model inside DistributedDataParallel (gradients all-reduced on every backward)."""
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device] if device.startswith("cuda") else None)


def shard_loader(loader: Any, seed: int | None) -> Any:
    """A copy of a shuffling DataLoader that gives this process its share of every epoch's items."""
    from torch.utils.data import DataLoader
    from torch.utils.data.distributed import DistributedSampler

    rank, size, _ = world()
    sampler = DistributedSampler(loader.dataset, num_replicas=size, rank=rank, shuffle=True, seed=seed or 0,
                                 drop_last=loader.drop_last)
    return DataLoader(loader.dataset, batch_size=max(1, (loader.batch_size or 1) // size), sampler=sampler,
                      num_workers=loader.num_workers, pin_memory=loader.pin_memory, collate_fn=loader.collate_fn,
                      drop_last=loader.drop_last, persistent_workers=loader.num_workers > 0)


def mean(value: float, device: str) -> float:
    """The mean of ``value`` over all processes (the same number everywhere, so decisions agree)."""
    import torch
    import torch.distributed as dist

    t = torch.tensor([float(value)], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t.item()) / world()[1]


def any_true(flag: bool, device: str) -> bool:
    """True everywhere when any process says True (e.g. one ran out of time: all stop at the same batch)."""
    import torch
    import torch.distributed as dist

    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def backend() -> str:
    """The process group's backend: "gloo" or "nccl"."""
    import torch.distributed as dist

    return str(dist.get_backend())


def barrier() -> None:
    """Wait here until every process arrives."""
    import torch.distributed as dist

    dist.barrier()


def finish() -> None:
    """Leave the process group together (a process exiting while gloo's threads still run aborts)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def launch_command(nproc: int, argv: list[str]) -> list[str]:
    """``torchrun --standalone --nproc-per-node N -m advisor.cli ARGV``: N processes on this machine."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
            "-m", "advisor.cli", *argv]
