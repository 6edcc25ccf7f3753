"""The one training loop of the zoo: every deep model trains through :func:`fit_torch`.

Device choice (CUDA > MPS > CPU, with the reason printed once), bf16 autocast and cuDNN autotuning on CUDA,
optional ``channels_last``, AdamW + cosine schedule, gradient clipping, early stopping that keeps and restores
the best weights, a wall-clock time budget, atomic best-checkpoint files, resumable training state and seeding.

Resuming: with ``resume_file`` (or inside ``with checkpointing(folder):``) the whole training state (weights,
optimizer, schedule, early-stopping bookkeeping, history, RNG states) is written atomically after every
completed epoch; a later call finding that file continues after the last complete epoch, on CPU with the very
numbers an uninterrupted run gives. It is read with ``torch.load(weights_only=True)``: tensors and plain
values only, never arbitrary pickled objects.

A batch is ``(inputs, target)``; ``inputs`` is a tensor (``model(x)``), a tuple (``model(*x)``) or a dict of
tensors (``model(**x)``); ``target`` goes to ``loss_fn(output, target)`` and may be None.

The loop's pieces, each usable and tested on its own: :func:`setup_placement` (device, seeding, torchrun/DDP),
:class:`TimeBudget` (deadline and the forecast of the next batch and validation pass), :class:`EarlyStopping`
(best score, epoch and weights; patience) and ``_Training`` (the resume state: ``resume``/``save_state``;
one epoch: ``train_steps``, ``validate``, ``run_epoch``).
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Union

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset
from tqdm.auto import tqdm

from zoo import distributed
from zoo.devices import DeviceChoice, announce_device, pick_device
from zoo.io import write_atomic
from zoo.terminal import terminal_safe

__all__ = ["TrainHistory", "fit_torch", "predict_torch", "make_loader", "seed_everything", "resolve_device",
           "checkpointing"]

DeviceLike = Union[DeviceChoice, str, None]
CHECKPOINT_FILE = "best.pt"
STATE_FORMAT = 1


@dataclass
class TrainHistory:
    """What happened during :func:`fit_torch`. Lists hold one value per epoch run; ``best_epoch`` is 1-based."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    val_metric: list[float | None] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int = 0
    best_score: float | None = None
    monitor: str = "val_loss"
    stop_reason: str = "completed"          # "completed" | "patience" | "time_budget"
    device: str = "cpu"
    device_reason: str = ""
    items_per_second: float = 0.0
    total_seconds: float = 0.0
    checkpoint: str | None = None
    resumed_epoch: int = 0                  # epochs restored from a resume file (0: trained from scratch)

    @property
    def epochs_run(self) -> int:
        return len(self.train_loss)

    @property
    def stopped_early(self) -> bool:
        return self.stop_reason != "completed"


def seed_everything(seed: int | None) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so runs repeat."""
    if seed is None:
        return
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(device: DeviceLike) -> DeviceChoice:
    """A :class:`DeviceChoice` from a choice, a device string or None (auto)."""
    return device if isinstance(device, DeviceChoice) else pick_device(device)


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool, device: DeviceLike = "cpu", *,
                num_workers: int | None = None, collate_fn: Callable[..., Any] | None = None,
                drop_last: bool = False) -> DataLoader:
    """DataLoader with pinned memory on CUDA; worker processes only on CUDA for datasets that do work per item."""
    cuda = resolve_device(device).is_cuda
    if num_workers is None:
        num_workers = 0 if not cuda or isinstance(dataset, TensorDataset) else min(8, max(0, (os.cpu_count() or 1) - 1))
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers, pin_memory=cuda,
                      collate_fn=collate_fn, drop_last=drop_last, persistent_workers=num_workers > 0)


def _to_device(obj: Any, device: str, channels_last: bool) -> Any:
    if isinstance(obj, torch.Tensor):
        fmt = torch.channels_last if channels_last and obj.ndim == 4 else torch.preserve_format
        return obj.to(device, non_blocking=True, memory_format=fmt)
    if isinstance(obj, dict):
        return {k: _to_device(v, device, channels_last) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(v, device, channels_last) for v in obj)
    return obj


def _split_batch(batch: Any) -> tuple[Any, Any]:
    if isinstance(batch, (list, tuple)) and len(batch) == 2:
        return batch[0], batch[1]
    return batch, None


def _call(model: nn.Module, x: Any) -> Any:
    if isinstance(x, dict):
        return model(**x)
    if isinstance(x, (list, tuple)):
        return model(*x)
    return model(x)


def _n_items(x: Any, y: Any) -> int:
    for obj in (y, x):
        if isinstance(obj, torch.Tensor):
            return int(obj.shape[0])
        if isinstance(obj, dict):
            return _n_items(next(iter(obj.values())), None)
        if isinstance(obj, (list, tuple)) and obj:
            return _n_items(obj[0], None)
    return 1


def _autocast(device: str) -> Any:
    if device.startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def _len(loader: Any) -> int | None:
    try:
        return len(loader) if isinstance(loader, Sized) else None
    except TypeError:
        return None


def _bars_disabled(progress: bool) -> bool | None:
    """tqdm ``disable``: True hides the bars; None lets tqdm hide them when stderr is not a terminal."""
    return True if not progress else None


def _make_optimizer(model: nn.Module, optimizer: Any, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    params = model.parameters() if optimizer is None else list(optimizer)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


def _save_atomic(obj: Any, path: Path) -> None:
    """``torch.save`` through :func:`zoo.io.write_atomic` (same-folder temp file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda handle: torch.save(obj, handle))


# ----------------------------------------------------------------------------- resumable state

@dataclass
class CheckpointSession:
    """State of a :func:`checkpointing` block: ``calls`` counts the ``fit_torch`` calls made in it."""

    folder: Path
    calls: int = 0
    resumed: list[int] = field(default_factory=list)      # resumed_epoch of each call that found a state file


_SESSION: ContextVar[CheckpointSession | None] = ContextVar("zoo_checkpointing", default=None)


@contextmanager
def checkpointing(folder: str | os.PathLike[str]) -> Iterator[CheckpointSession]:
    """Within the block, each :func:`fit_torch` call without its own ``resume_file`` keeps its resumable state
    in ``folder/state-K.pt`` (K = 1 for the block's first call, 2 for the second, ...) and resumes from it."""
    session = CheckpointSession(Path(folder))
    token = _SESSION.set(session)
    try:
        yield session
    finally:
        _SESSION.reset(token)


def _rng_state() -> dict[str, Any]:
    np_state = np.random.get_state()
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate(),
                             "numpy": (str(np_state[0]), [int(v) for v in np_state[1]], *map(float, np_state[2:]))}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), int(pos), int(has_gauss), float(cached)))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _note(message: str) -> None:
    """One line on stderr that does not break a progress bar; control characters in paths escaped."""
    tqdm.write(terminal_safe(message), file=sys.stderr)


def _load_state(path: Path) -> dict[str, Any] | None:
    """A resume file's contents (tensors and plain values only), or None when absent or unreadable."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged file means "start from scratch", said aloud
        _note(f"checkpoint: {path} unreadable ({type(exc).__name__}); training from scratch")
        return None
    return state if isinstance(state, dict) else None


def _state_mismatch(state: dict[str, Any], model: nn.Module, epochs: int, n_batches: int | None,
                    monitor: str) -> str | None:
    """Why a resume file does not belong to this training call, or None."""
    if state.get("format") != STATE_FORMAT:
        return "another format"
    if (state.get("epochs"), state.get("n_batches"), state.get("monitor")) != (epochs, n_batches, monitor):
        return "different epochs, batches or monitored value"
    saved = state.get("model") or {}
    mine = model.state_dict()
    if set(saved) != set(mine) or any(tuple(saved[k].shape) != tuple(v.shape) for k, v in mine.items()):
        return "a different network"
    return None


def _evaluate(model: nn.Module, loader: Any, loss_fn: Callable[..., torch.Tensor], device: str,
              channels_last: bool, metric_fn: Callable[[np.ndarray, np.ndarray], float] | None
              ) -> tuple[float, float | None]:
    model.eval()
    total, count, outs, targets = 0.0, 0, [], []
    with torch.no_grad(), _autocast(device):
        for batch in loader:
            x, y = _to_device(_split_batch(batch), device, channels_last)
            out = _call(model, x)
            n = _n_items(x, y)
            total += float(loss_fn(out, y)) * n
            count += n
            if metric_fn is not None:
                outs.append(out.float().cpu().numpy())
                targets.append(y.cpu().numpy())
    metric = float(metric_fn(np.concatenate(outs), np.concatenate(targets))) if metric_fn and outs else None
    return total / max(count, 1), metric


# ----------------------------------------------------------------------------- pieces of the loop

def _check_monitor(monitor: str, metric_fn: Any, val_loader: Any) -> None:
    """Refuse a ``monitor`` that is unknown or that this call cannot compute."""
    if monitor not in ("val_loss", "val_metric"):
        raise ValueError("monitor must be 'val_loss' or 'val_metric'")
    if monitor == "val_metric" and (metric_fn is None or val_loader is None):
        raise ValueError("monitor='val_metric' needs metric_fn and a val_loader")


def _resume_path(resume_file: str | os.PathLike[str] | None) -> tuple[Path | None, CheckpointSession | None]:
    """Where this call keeps its resumable state: ``resume_file``, else ``state-K.pt`` of the enclosing
    :func:`checkpointing` block (counting this call), else nowhere."""
    session = _SESSION.get()
    if resume_file is None and session is not None:
        session.calls += 1
        resume_file = session.folder / f"state-{session.calls}.pt"
    return (Path(resume_file) if resume_file is not None else None), session


@dataclass
class Placement:
    """Where training runs: the device, and whether this is one process of a torchrun (DDP) group."""

    choice: DeviceChoice
    device: str
    ddp: bool
    main: bool                  # only this process writes checkpoints and shows progress
    train_loader: Any           # sharded across the processes under DDP


def setup_placement(device: DeviceLike, train_loader: Any, *, seed: int | None, progress: bool) -> Placement:
    """Pick the device (saying why when ``progress``), seed, tune CUDA, and join a torchrun group if launched
    by one (then the training loader is sharded so every process sees its own part)."""
    choice = resolve_device(device)
    dev = choice.device
    if progress:
        announce_device(choice, lambda line: tqdm.write(line, file=sys.stderr))
    seed_everything(seed)
    if dev.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
    ddp = distributed.active()               # launched by torchrun with more than one process
    if ddp:
        dev = distributed.init(dev)
        if isinstance(train_loader, DataLoader):
            train_loader = distributed.shard_loader(train_loader, seed)
    return Placement(choice, dev, ddp, distributed.is_main(), train_loader)


def _place_model(model: nn.Module, where: Placement, channels_last: bool) -> nn.Module:
    """Move ``model`` to the device; the module to call for training (DDP-wrapped under torchrun)."""
    model.to(where.device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    return distributed.wrap(model, where.device) if where.ddp else model   # DDP all-reduces gradients


def _make_scheduler(opt: torch.optim.Optimizer, scheduler: str | None, epochs: int,
                    n_batches: int | None) -> torch.optim.lr_scheduler.LambdaLR | None:
    """Per-step cosine decay over all ``epochs`` (needs a sized loader), or None."""
    if scheduler == "cosine" and n_batches:
        total_steps = max(1, epochs * n_batches)
        return torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps)))
    if scheduler not in (None, "none", "cosine"):
        raise ValueError(f"scheduler must be 'cosine' or None, got {scheduler!r}")
    return None


@dataclass
class TimeBudget:
    """The wall-clock budget of one :func:`fit_torch` call.

    ``deadline`` is a ``time.perf_counter()`` instant (``math.inf``: no budget). Time is forecast from the
    measured batch times (the first, warm-up, batch left out once there are others) and the last validation
    pass (before one ran: half a batch per validation batch)."""

    deadline: float = math.inf
    has_val: bool = False
    n_val: int | None = 0
    batch_times: list[float] = field(default_factory=list)
    val_seconds: float | None = None

    @classmethod
    def for_validation(cls, val_loader: Any) -> TimeBudget:
        """A budget (no deadline yet) that forecasts passes over ``val_loader`` (None: no validation)."""
        return cls(has_val=val_loader is not None, n_val=_len(val_loader) if val_loader is not None else 0)

    def begin(self, start: float, budget_s: float | None, spent_before: float = 0.0) -> None:
        """Set the deadline of a call that began at ``start`` after ``spent_before`` seconds of earlier
        (resumed) training; no deadline when ``budget_s`` is None or 0."""
        self.deadline = start + budget_s - spent_before if budget_s else math.inf

    def est_batch(self) -> float:
        """Forecast seconds for one more training batch."""
        recent = self.batch_times[1:][-20:] or self.batch_times
        return float(np.mean(recent)) if recent else 0.0

    def est_val(self) -> float:
        """Forecast seconds for one validation pass (0 without a validation loader)."""
        if not self.has_val:
            return 0.0
        return self.val_seconds if self.val_seconds is not None else 0.5 * self.est_batch() * (self.n_val or 1)

    def late(self, now: float) -> bool:
        """Would another batch plus the validation pass, begun at ``now``, end past the deadline?"""
        return now + self.est_batch() + self.est_val() > self.deadline


@dataclass
class EarlyStopping:
    """Best-so-far bookkeeping: the best score, its epoch and weights, and epochs since the last improvement.

    ``monitor`` ``"val_metric"`` is higher-is-better, anything else (``val_loss``, ``train_loss``) lower; an
    improvement must beat the best by more than ``min_delta``; a non-finite or missing score never improves."""

    monitor: str
    patience: int | None = 3
    min_delta: float = 0.0
    best_score: float | None = None
    best_epoch: int = 0
    bad_epochs: int = 0
    best_state: dict[str, torch.Tensor] | None = None

    def improves(self, score: float | None) -> bool:
        """Is ``score`` better than the best so far?"""
        if score is None or not math.isfinite(score):
            return False
        if self.best_score is None:
            return True
        if self.monitor == "val_metric":
            return score > self.best_score + self.min_delta
        return score < self.best_score - self.min_delta

    def update(self, epoch: int, score: float | None, model: nn.Module) -> bool:
        """Record one epoch's score; on improvement keep a CPU copy of the weights. True when it improved."""
        if not self.improves(score):
            self.bad_epochs += 1
            return False
        self.best_score, self.best_epoch, self.bad_epochs = float(score), epoch, 0   # type: ignore[arg-type]
        self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        return True

    def should_stop(self, epoch: int, epochs: int) -> bool:
        """Out of patience before the last epoch?"""
        return self.patience is not None and self.bad_epochs >= self.patience and epoch < epochs


@dataclass
class _Training:
    """One :func:`fit_torch` call's live state; its methods are the steps of the loop."""

    model: nn.Module
    net: nn.Module
    train_loader: Any
    val_loader: Any
    loss_fn: Callable[..., torch.Tensor]
    opt: torch.optim.Optimizer
    sched: Any
    where: Placement
    hist: TrainHistory
    stopper: EarlyStopping
    epochs: int
    n_batches: int | None
    channels_last: bool = False
    grad_clip: float | None = None
    metric_fn: Callable[[np.ndarray, np.ndarray], float] | None = None
    on_epoch_end: Callable[[int, nn.Module, TrainHistory], Any] | None = None
    progress: bool = False
    state_path: Path | None = None
    ckpt: Path | None = None
    start: float = 0.0
    budget: TimeBudget = field(default_factory=TimeBudget)
    items: int = 0
    train_seconds: float = 0.0
    spent_before: float = 0.0

    def _agreed(self, flag: bool) -> bool:
        """``flag`` on any process (under DDP every process takes the same decision)."""
        return distributed.any_true(flag, self.where.device) if self.where.ddp else flag

    # --- resume state

    def resume(self, session: CheckpointSession | None) -> int:
        """Continue from the resume file when it exists and matches this call; the first epoch to run."""
        path = self.state_path
        state = _load_state(path) if path is not None and path.is_file() else None
        if state is not None:
            problem = _state_mismatch(state, self.model, self.epochs, self.n_batches, self.hist.monitor)
            if problem:
                _note(f"checkpoint: {path} is for {problem}; training from scratch")
                return 1
            return self._restore(state, session)
        return 1

    def _restore(self, state: dict[str, Any], session: CheckpointSession | None) -> int:
        """Load a matching resume file into the model, optimizer, schedule, bookkeeping, history and RNGs."""
        hist, stopper = self.hist, self.stopper
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        if self.sched is not None and state.get("scheduler") is not None:
            self.sched.load_state_dict(state["scheduler"])
        names = {f.name for f in fields(TrainHistory)}
        for key, value in (state.get("history") or {}).items():
            if key in names and key not in ("device", "device_reason"):
                setattr(hist, key, value)
        stopper.best_score, stopper.best_epoch = hist.best_score, hist.best_epoch
        stopper.best_state, stopper.bad_epochs = state.get("best_state"), int(state["bad_epochs"])
        self.items, self.train_seconds = int(state["items"]), float(state["train_seconds"])
        self.budget.batch_times, self.budget.val_seconds = list(state["batch_times"]), state.get("val_seconds")
        self.spent_before, start_epoch = float(state["elapsed"]), int(state["epoch"]) + 1
        hist.resumed_epoch = int(state["epoch"])
        if session is not None:
            session.resumed.append(hist.resumed_epoch)
        if self.on_epoch_end is not None:
            for done in range(1, start_epoch):
                self.on_epoch_end(done, self.model, hist)
        _set_rng_state(state["rng"])
        if self.progress:
            _note(f"checkpoint: resuming after epoch {hist.resumed_epoch}/{self.epochs} from {self.state_path}")
        if hist.stop_reason != "completed":
            start_epoch = self.epochs + 1                    # it had already stopped early: nothing left to run
        return start_epoch

    def save_state(self, epoch: int) -> None:
        """Write the whole training state after ``epoch`` to the resume file (main process only)."""
        if self.state_path is None or not self.where.main:
            return
        hist = self.hist
        _save_atomic({
            "format": STATE_FORMAT, "epoch": epoch, "epochs": self.epochs, "n_batches": self.n_batches,
            "monitor": hist.monitor,
            "model": {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()},
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict() if self.sched is not None else None,
            "best_state": self.stopper.best_state, "bad_epochs": self.stopper.bad_epochs, "items": self.items,
            "train_seconds": self.train_seconds, "batch_times": self.budget.batch_times[-21:],
            "val_seconds": self.budget.val_seconds, "elapsed": self.elapsed(),
            "history": {k: v for k, v in asdict(hist).items() if k not in ("device", "device_reason")},
            "rng": _rng_state()}, self.state_path)

    def elapsed(self) -> float:
        """Seconds of training so far, those of the interrupted runs resumed included."""
        return self.spent_before + time.perf_counter() - self.start

    # --- one epoch

    def train_steps(self, epoch: int, hide_bars: bool | None) -> tuple[float, bool]:
        """One pass over the training loader: the mean training loss, and whether time ran out in it."""
        sampler = getattr(self.train_loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)                          # a new shuffle per epoch, the same on every process
        self.net.train()
        dev, loss_sum, count = self.where.device, 0.0, 0
        out_of_time = False
        for batch in tqdm(self.train_loader, total=self.n_batches, desc=f"epoch {epoch}", disable=hide_bars,
                          leave=False, file=sys.stderr):
            t_batch = time.perf_counter()
            x, y = _to_device(_split_batch(batch), dev, self.channels_last)
            with _autocast(dev):
                loss = self.loss_fn(_call(self.net, x), y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            if self.grad_clip:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
            self.opt.step()
            if self.sched is not None:
                self.sched.step()
            n = _n_items(x, y)
            loss_sum += float(loss.detach()) * n
            count += n
            now = time.perf_counter()
            self.budget.batch_times.append(now - t_batch)
            self.train_seconds += now - t_batch
            if self._agreed(self.budget.late(now)):             # every process stops at the same batch
                out_of_time = True
                break
        self.items += count
        train_loss = loss_sum / max(count, 1)
        return (distributed.mean(train_loss, dev) if self.where.ddp else train_loss), out_of_time

    def validate(self) -> tuple[float | None, float | None]:
        """Validation loss and metric (None without a validation loader); times the pass for the budget."""
        if self.val_loader is None:
            return None, None
        dev = self.where.device
        t_val = time.perf_counter()
        val_loss, val_metric = _evaluate(self.model, self.val_loader, self.loss_fn, dev, self.channels_last,
                                         self.metric_fn)
        if self.where.ddp:                                   # identical already; averaged so decisions agree
            val_loss = distributed.mean(val_loss, dev)
            val_metric = None if val_metric is None else distributed.mean(val_metric, dev)
        self.budget.val_seconds = time.perf_counter() - t_val
        return val_loss, val_metric

    def run_epoch(self, epoch: int, hide_bars: bool | None) -> bool:
        """Train, validate, record and checkpoint one epoch; True when training must stop after it."""
        hist, t_epoch = self.hist, time.perf_counter()
        if epoch > 1 and self._agreed(self.budget.late(t_epoch)):
            hist.stop_reason = "time_budget"
            return True
        train_loss, out_of_time = self.train_steps(epoch, hide_bars)
        val_loss, val_metric = self.validate()
        hist.train_loss.append(train_loss)
        hist.val_loss.append(val_loss)
        hist.val_metric.append(val_metric)
        hist.lr.append(float(self.opt.param_groups[0]["lr"]))
        hist.epoch_seconds.append(time.perf_counter() - t_epoch)
        score = {"val_loss": val_loss, "val_metric": val_metric}.get(hist.monitor, train_loss)
        better = self.stopper.update(epoch, score, self.model)
        if better:
            hist.best_score, hist.best_epoch = self.stopper.best_score, epoch
            if self.ckpt is not None and self.where.main:
                _save_atomic({"state_dict": self.stopper.best_state, "epoch": epoch, hist.monitor: score}, self.ckpt)
                hist.checkpoint = str(self.ckpt)
        if self.progress:
            msg = f"epoch {epoch}/{self.epochs}: train_loss {train_loss:.4f}"
            msg += f", val_loss {val_loss:.4f}" if val_loss is not None else ""
            msg += f", val_metric {val_metric:.4f}" if val_metric is not None else ""
            tqdm.write(msg + f" ({hist.epoch_seconds[-1]:.1f} s){' *' if better else ''}", file=sys.stderr)
        if self.on_epoch_end is not None:
            self.on_epoch_end(epoch, self.model, hist)
        if out_of_time:
            hist.stop_reason = "time_budget"
        elif self.stopper.should_stop(epoch, self.epochs):
            hist.stop_reason = "patience"
        self.save_state(epoch)            # after the stop decision, so a resumed run stops where this one did
        return hist.stop_reason != "completed"

    def finish(self) -> TrainHistory:
        """Leave the model holding the best weights; fill in the throughput and total time."""
        if self.stopper.best_state is not None:
            self.model.load_state_dict(self.stopper.best_state)
        self.hist.items_per_second = self.items / self.train_seconds if self.train_seconds > 0 else 0.0
        self.hist.total_seconds = self.elapsed()
        return self.hist


# ----------------------------------------------------------------------------- the loop

def fit_torch(model: nn.Module, train_loader: Iterable[Any], val_loader: Iterable[Any] | None = None, *,
              loss_fn: Callable[..., torch.Tensor], epochs: int = 10, lr: float = 1e-3, device: DeviceLike = None,
              time_budget_s: float | None = None, patience: int | None = 3, min_delta: float = 0.0,
              monitor: str = "val_loss", channels_last: bool = False, progress: bool = True,
              metric_fn: Callable[[np.ndarray, np.ndarray], float] | None = None, optimizer: Any = None,
              weight_decay: float = 0.01, scheduler: str | None = "cosine", grad_clip: float | None = None,
              seed: int | None = 0,
              on_epoch_end: Callable[[int, nn.Module, TrainHistory], Any] | None = None,
              checkpoint_dir: str | os.PathLike[str] | None = None,
              resume_file: str | os.PathLike[str] | None = None) -> TrainHistory:
    """Train ``model`` in place and leave it holding the best weights seen; returns a :class:`TrainHistory`.

    ``monitor``: ``"val_loss"`` (lower is better) or ``"val_metric"`` (``metric_fn(outputs, targets)``, higher
    is better); without a validation loader the training loss is monitored. ``patience``: epochs without
    improvement before stopping (None: never). ``optimizer``: None (AdamW on all parameters), an iterable of
    parameter groups (AdamW over them) or a ready optimizer. ``scheduler``: ``"cosine"`` (per step) or None.
    ``time_budget_s``: wall-clock budget for the whole call; after every batch the loop stops if another
    batch plus the validation pass would not fit, validates, and keeps the best weights (a partial last epoch
    is fine). ``on_epoch_end(epoch, model, history)`` (epoch 1-based) runs after each epoch, e.g. to unfreeze
    layers. ``checkpoint_dir``: the best state is also written there as ``best.pt``, atomically.
    ``resume_file`` (default: ``state-K.pt`` in an enclosing :func:`checkpointing` folder): the full training
    state is saved there after every epoch; when it exists and matches this call (network, epochs, batches per
    epoch, monitor), training continues after its last complete epoch — ``on_epoch_end`` is replayed for the
    epochs already done so that callbacks which change the model (unfreezing) take effect again, and the time
    budget counts the time spent before. A file that does not match is ignored (training starts from scratch).
    """
    _check_monitor(monitor, metric_fn, val_loader)
    start = time.perf_counter()
    state_path, session = _resume_path(resume_file)
    where = setup_placement(device, train_loader, seed=seed, progress=progress)
    progress = progress and where.main
    net = _place_model(model, where, channels_last)
    opt = _make_optimizer(model, optimizer, lr, weight_decay)
    n_batches = _len(where.train_loader)
    sched = _make_scheduler(opt, scheduler, epochs, n_batches)
    hist = TrainHistory(device=where.device, device_reason=where.choice.reason,
                        monitor=monitor if val_loader is not None else "train_loss")
    run = _Training(model, net, where.train_loader, val_loader, loss_fn, opt, sched, where, hist,
                    EarlyStopping(hist.monitor, patience, min_delta), epochs, n_batches,
                    channels_last=channels_last, grad_clip=grad_clip, metric_fn=metric_fn,
                    on_epoch_end=on_epoch_end, progress=progress, state_path=state_path,
                    ckpt=Path(checkpoint_dir) / CHECKPOINT_FILE if checkpoint_dir is not None else None, start=start,
                    budget=TimeBudget.for_validation(val_loader))
    hide_bars = _bars_disabled(progress)
    first = run.resume(session)
    run.budget.begin(start, time_budget_s, run.spent_before)
    epoch_bar = tqdm(range(first, epochs + 1), desc="epochs", initial=first - 1, total=epochs,
                     disable=hide_bars, leave=False, file=sys.stderr)
    for epoch in epoch_bar:
        if run.run_epoch(epoch, hide_bars):
            break
    epoch_bar.close()
    return run.finish()


def predict_torch(model: nn.Module, loader: Iterable[Any], device: DeviceLike = None, *,
                  channels_last: bool = False, progress: bool = True) -> np.ndarray:
    """Model outputs (e.g. logits) for every batch of ``loader``, concatenated as float32 numpy.

    Eval mode, no gradients, bf16 autocast on CUDA; a progress bar appears when the loop takes over a second.
    """
    dev = resolve_device(device).device
    model.to(dev)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    model.eval()
    outs = []
    with torch.no_grad(), _autocast(dev):
        for batch in tqdm(loader, total=_len(loader), desc="predict", disable=_bars_disabled(progress), delay=1.0,
                          leave=False, file=sys.stderr):
            x, _ = _split_batch(batch)
            outs.append(_call(model, _to_device(x, dev, channels_last)).float().cpu().numpy())
    return np.concatenate(outs) if outs else np.zeros((0,), dtype=np.float32)
