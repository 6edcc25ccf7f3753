"""Image generators of the zoo, trained from scratch: a convolutional VAE and a DCGAN-style GAN.

Both are scikit-learn-style estimators: ``fit(X, y=None)`` on images (an (N, H, W[, C]) array or a list of
paths / arrays), ``sample(n, seed)`` returns ``n`` new images as uint8, (n, S, S) for grayscale data and
(n, S, S, 3) for colour, S = ``image_size``. Grayscale is detected from the data (every image has equal
R, G and B). After ``fit``: ``loss_curves_`` (name -> one value per epoch), ``epoch_seconds_``,
``stop_reason_`` (completed | patience | time_budget), ``device_``, ``channels_``; the networks are kept on the CPU between calls.

* :class:`ImageVAE` trains through :func:`zoo.training.fit_torch` (AdamW, cosine schedule, early stopping on a
  validation split, time budget, bf16 on CUDA): loss = the negative ELBO, Bernoulli likelihood of the pixels
  plus the KL term, in nats per image. Samples decode z ~ N(0, I).
* :class:`ImageGAN` follows DCGAN (Radford et al. 2016): strided (transposed) convolutions, batch norm,
  LeakyReLU in the discriminator, Adam(2e-4, beta1 0.5), the non-saturating generator loss. Its alternating
  two-player loop is its own (``fit_torch`` drives one optimizer); it honours ``device``, ``time_budget_s``
  and bf16 autocast on CUDA the same way, but keeps no resumable state.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.utils.data import TensorDataset

from zoo.images import as_image_list, to_rgb_array
from zoo.training import fit_torch, make_loader, resolve_device, seed_everything

__all__ = ["ImageGAN", "ImageVAE", "generation_images", "to_output_images"]


# ----------------------------------------------------------------------------- images in and out

def generation_images(X: Any, size: int, channels: int | None = None) -> tuple[np.ndarray, int]:
    """Images as one (N, C, size, size) uint8 array, and C: 1 when every image is gray (R = G = B), else 3
    (``channels`` forces it). Resized with bilinear filtering when not already ``size`` x ``size``."""
    from PIL import Image

    rgb = []
    for item in as_image_list(X):
        arr = to_rgb_array(item)
        if arr.shape[:2] != (size, size):
            arr = np.asarray(Image.fromarray(arr).resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)
        rgb.append(arr)
    if not rgb:
        raise ValueError("no images to train on")
    stack = np.stack(rgb).transpose(0, 3, 1, 2)
    gray = bool((stack[:, :1] == stack[:, 1:]).all())
    c = channels or (1 if gray else 3)
    return (np.ascontiguousarray(stack[:, :1]) if c == 1 else stack), c


def to_output_images(x: torch.Tensor) -> np.ndarray:
    """Network output in [0, 1], (n, C, S, S) -> uint8 images (n, S, S) for C = 1, (n, S, S, 3) for C = 3."""
    arr = (x.detach().float().clamp(0, 1).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)
    return arr[:, 0] if arr.shape[1] == 1 else arr.transpose(0, 2, 3, 1)


def _check_size(size: int) -> int:
    if int(size) % 4 or int(size) < 8:
        raise ValueError(f"image_size must be a multiple of 4, at least 8; got {size}")
    return int(size)


def _autocast(device: str) -> Any:
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.startswith("cuda") else nullcontext()


# ----------------------------------------------------------------------------- networks

class _Decoder(nn.Module):
    """z -> (C, S, S) logits: dense to (2w, S/4, S/4), two stride-2 transposed convolutions."""

    def __init__(self, latent: int, width: int, channels: int, size: int) -> None:
        super().__init__()
        s, w = size // 4, width
        self.shape = (2 * w, s, s)
        self.expand = nn.Sequential(nn.Linear(latent, 2 * w * s * s), nn.BatchNorm1d(2 * w * s * s), nn.ReLU())
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.BatchNorm2d(w), nn.ReLU(),
            nn.ConvTranspose2d(w, channels, 4, stride=2, padding=1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.up(self.expand(z).view(-1, *self.shape))


def _encoder(channels: int, width: int, size: int, out: int, leaky: bool) -> nn.Sequential:
    """(C, S, S) -> ``out`` values: two stride-2 convolutions and a dense layer (the VAE's encoder, the GAN's
    discriminator with LeakyReLU)."""
    act = (lambda: nn.LeakyReLU(0.2)) if leaky else nn.ReLU
    s, w = size // 4, width
    return nn.Sequential(nn.Conv2d(channels, w, 4, stride=2, padding=1), act(),
                         nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.BatchNorm2d(2 * w), act(),
                         nn.Flatten(), nn.Linear(2 * w * s * s, out))


class _VAENet(nn.Module):
    def __init__(self, channels: int, size: int, width: int, latent: int) -> None:
        super().__init__()
        self.latent = latent
        self.encoder = _encoder(channels, width, size, 2 * latent, leaky=False)
        self.decoder = _Decoder(latent, width, channels, size)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = x.float() / 255.0
        mu, logvar = self.encoder(x).float().chunk(2, dim=1)
        logvar = logvar.clamp(-10, 10)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decoder(z), mu, logvar


def _elbo_loss(out: tuple[torch.Tensor, torch.Tensor, torch.Tensor], target: torch.Tensor) -> torch.Tensor:
    """Negative ELBO in nats per image: Bernoulli reconstruction of the pixels in [0, 1] plus KL(q(z|x) || N(0, I))."""
    logits, mu, logvar = out
    x = target.float() / 255.0
    recon = F.binary_cross_entropy_with_logits(logits.float(), x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (recon + kl) / x.shape[0]


# ----------------------------------------------------------------------------- estimators

class _Generator(BaseEstimator):
    """Shared parameters' meaning and ``sample``."""

    image_size: int
    latent_dim: int
    batch_size: int
    random_state: int | None
    verbose: bool

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def sample(self, n: int, seed: int | None = 0) -> np.ndarray:
        """``n`` new images as uint8: (n, S, S) for grayscale training data, (n, S, S, 3) for colour; the same
        seed gives the same images."""
        check_is_fitted(self, "loss_curves_")
        n = int(n)
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        gen = torch.Generator().manual_seed(int(seed or 0))
        out = []
        with torch.no_grad():
            for start in range(0, n, 256):
                z = torch.randn(min(256, n - start), int(self.latent_dim), generator=gen)
                out.append(to_output_images(self._decode(z)))
        return np.concatenate(out)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.target_tags.required = False
        return tags


class ImageVAE(_Generator):
    """Convolutional variational autoencoder (Kingma & Welling 2014), trained from scratch."""

    def __init__(self, *, image_size: int = 28, width: int = 32, latent_dim: int = 32, epochs: int = 30,
                 batch_size: int = 64, lr: float = 2e-3, weight_decay: float = 0.0, patience: int | None = 5,
                 val_fraction: float = 0.1, device: str | None = None, time_budget_s: float | None = None,
                 random_state: int | None = 0, verbose: bool = True) -> None:
        self.image_size = image_size
        self.width = width
        self.latent_dim = latent_dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.val_fraction = val_fraction
        self.device = device
        self.time_budget_s = time_budget_s
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X: Any, y: Any = None) -> ImageVAE:
        """Train on images; ``y`` is ignored."""
        size = _check_size(self.image_size)
        imgs, self.channels_ = generation_images(X, size)
        seed_everything(self.random_state)
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(imgs))
        n_val = int(round(self.val_fraction * len(imgs))) if len(imgs) >= 20 else 0
        val_idx, tr_idx = order[:n_val], order[n_val:]
        net = _VAENet(self.channels_, size, int(self.width), int(self.latent_dim))
        choice = resolve_device(self.device)
        t = torch.from_numpy(imgs)
        bs = int(self.batch_size)
        train = make_loader(TensorDataset(t[tr_idx], t[tr_idx]), bs, True, choice, drop_last=len(tr_idx) > bs)
        val = make_loader(TensorDataset(t[val_idx], t[val_idx]), 2 * bs, False, choice) if n_val else None
        hist = fit_torch(net, train, val, loss_fn=_elbo_loss, epochs=int(self.epochs), lr=float(self.lr),
                         device=choice, time_budget_s=self.time_budget_s, patience=self.patience,
                         weight_decay=float(self.weight_decay), progress=bool(self.verbose),
                         seed=self.random_state, grad_clip=10.0)
        self.model_ = net.to("cpu").eval()
        self.history_ = hist
        self.device_ = hist.device
        self.loss_curves_ = {"train loss (negative ELBO, nats/image)": list(hist.train_loss)}
        if val is not None:
            self.loss_curves_["validation loss (negative ELBO, nats/image)"] = list(hist.val_loss)
        self.epoch_seconds_ = list(hist.epoch_seconds)
        self.stop_reason_ = hist.stop_reason
        return self

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        self.model_.eval()
        return torch.sigmoid(self.model_.decoder(z))


class _GANNets(nn.Module):
    def __init__(self, channels: int, size: int, width: int, latent: int) -> None:
        super().__init__()
        self.generator = _Decoder(latent, 2 * width, channels, size)
        self.discriminator = _encoder(channels, width, size, 1, leaky=True)


class ImageGAN(_Generator):
    """DCGAN-style generative adversarial network (Goodfellow et al. 2014; Radford et al. 2016), from scratch."""

    def __init__(self, *, image_size: int = 28, width: int = 32, latent_dim: int = 64, epochs: int = 40,
                 batch_size: int = 64, lr: float = 2e-4, beta1: float = 0.5, label_smoothing: float = 0.1,
                 device: str | None = None, time_budget_s: float | None = None, random_state: int | None = 0,
                 verbose: bool = True) -> None:
        self.image_size = image_size
        self.width = width
        self.latent_dim = latent_dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.beta1 = beta1
        self.label_smoothing = label_smoothing
        self.device = device
        self.time_budget_s = time_budget_s
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X: Any, y: Any = None) -> ImageGAN:
        """Train on images; ``y`` is ignored."""
        t0 = time.perf_counter()
        size = _check_size(self.image_size)
        imgs, self.channels_ = generation_images(X, size)
        seed_everything(self.random_state)
        choice = resolve_device(self.device)
        self.device_ = choice.device
        nets = _GANNets(self.channels_, size, int(self.width), int(self.latent_dim)).to(self.device_)
        bs = min(int(self.batch_size), len(imgs))
        loader = make_loader(TensorDataset(torch.from_numpy(imgs)), bs, True, choice, drop_last=len(imgs) > bs)
        betas = (float(self.beta1), 0.999)
        opt_g = torch.optim.Adam(nets.generator.parameters(), lr=float(self.lr), betas=betas)
        opt_d = torch.optim.Adam(nets.discriminator.parameters(), lr=float(self.lr), betas=betas)
        self.loss_curves_ = {"discriminator loss": [], "generator loss": [], "D(real)": [], "D(generated)": []}
        self.epoch_seconds_ = []
        deadline = t0 + float(self.time_budget_s) if self.time_budget_s else float("inf")
        self.stop_reason_ = "completed"
        for epoch in range(1, int(self.epochs) + 1):
            start = time.perf_counter()
            means = self._epoch(nets, loader, opt_g, opt_d, deadline)
            for key, value in means.items():
                self.loss_curves_[key].append(value)
            self.epoch_seconds_.append(time.perf_counter() - start)
            if self.verbose:
                print(f"epoch {epoch}/{self.epochs}: " + ", ".join(f"{k} {v:.3f}" for k, v in means.items())
                      + f" ({self.epoch_seconds_[-1]:.1f} s)", flush=True)
            if epoch < int(self.epochs) and time.perf_counter() + self.epoch_seconds_[-1] > deadline:
                self.stop_reason_ = "time_budget"
                break
        self.model_ = nets.to("cpu").eval()
        return self

    def _epoch(self, nets: _GANNets, loader: Any, opt_g: Any, opt_d: Any, deadline: float) -> dict[str, float]:
        """One pass: a discriminator step on real and generated images, then a generator step, per batch."""
        dev, real_label = self.device_, 1.0 - float(self.label_smoothing)
        nets.train()
        sums = np.zeros(4)
        count = 0
        for (batch,) in loader:
            x = batch.to(dev, non_blocking=True).float() / 127.5 - 1.0
            z = torch.randn(len(x), int(self.latent_dim), device=dev)
            with _autocast(dev):
                fake = torch.tanh(nets.generator(z))
                d_real, d_fake = nets.discriminator(x).float(), nets.discriminator(fake.detach()).float()
                loss_d = (F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, real_label))
                          + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            with _autocast(dev):
                d_gen = nets.discriminator(fake).float()
                loss_g = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            with torch.no_grad():
                sums += [loss_d.item(), loss_g.item(), torch.sigmoid(d_real).mean().item(),
                         torch.sigmoid(d_fake).mean().item()]
            count += 1
            if time.perf_counter() > deadline:
                break
        means = sums / max(count, 1)
        return dict(zip(("discriminator loss", "generator loss", "D(real)", "D(generated)"), map(float, means)))

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        self.model_.eval()
        return (torch.tanh(self.model_.generator(z)) + 1.0) / 2.0
