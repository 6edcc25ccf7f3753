#!/usr/bin/env python3
"""Build the motion demo set shipped in examples/data/motion_clips/.

Task: given a short clip, say how the object in it moves: ``left``, ``right``, ``still`` or ``rotating``
(4 classes). No single frame tells: every class draws the object's shape, size, texture, colours, the background
and the object's position from the same distributions, so only how frames change from one to the next carries
the label (a test shows the temporal features matter).

Source: drawn by this script with numpy and encoded with PyAV (FFmpeg's native MPEG-4 Part 2 encoder, present in
every FFmpeg build, in an .mp4 container). Nothing is downloaded.

    python scripts/make_motion_clips.py     # writes examples/data/motion_clips/<class>/<class>_<k>.mp4

How clips are made: with numpy.random.default_rng(--seed) (default 0), per clip: a background (a random linear
colour gradient plus smooth low-contrast blotches), an object (rectangle, ellipse or triangle, 12-22 px across,
two-colour stripes or checks at a random angle), a start position and a slow vertical drift (all classes).
``left`` / ``right`` move the object 1.0-2.5 px per frame horizontally (the start chosen so it stays in view);
``rotating`` turns it in place by 6-15 degrees per frame, either way; ``still`` keeps it where it is. Each frame
gets mild sensor noise. --frames frames (default 16) of --size x --size pixels (default 64) at 8 frames per
second, --per-class clips per class (default 40). Rerunning with the same numpy and PyAV versions gives the
same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

CLASSES = ("left", "right", "still", "rotating")
SHAPES = ("rectangle", "ellipse", "triangle")
FPS = 8


def background(size: int, rng: np.random.Generator) -> np.ndarray:
    """(size, size, 3) float background: a linear colour gradient plus smooth blotches."""
    y, x = np.mgrid[0:size, 0:size] / size
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * x + np.sin(angle) * y
    c0, c1 = rng.uniform(40, 215, size=(2, 3))
    img = c0 + (c1 - c0) * ramp[..., None]
    for _ in range(4):
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.1, 0.3)
        img += rng.uniform(-25, 25, size=3) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / r ** 2)[..., None]
    return img


def draw_object(frame: np.ndarray, obj: dict, cx: float, cy: float, theta: float) -> np.ndarray:
    """`frame` with the object `obj` drawn centred at (cx, cy), turned by `theta` radians."""
    size = frame.shape[0]
    y, x = np.mgrid[0:size, 0:size].astype(float)
    c, s = np.cos(theta), np.sin(theta)
    u = c * (x - cx) + s * (y - cy)                  # object coordinates
    v = -s * (x - cx) + c * (y - cy)
    a, b = obj["half_width"], obj["half_height"]
    if obj["shape"] == "rectangle":
        mask = (np.abs(u) <= a) & (np.abs(v) <= b)
    elif obj["shape"] == "ellipse":
        mask = (u / a) ** 2 + (v / b) ** 2 <= 1.0
    else:                                            # a triangle pointing along +v
        mask = (v >= -b) & (v <= b) & (np.abs(u) <= a * (b - v) / (2 * b))
    phase = u * np.cos(obj["texture_angle"]) + v * np.sin(obj["texture_angle"])
    if obj["texture"] == "stripes":
        pick = np.floor(phase / obj["period"]) % 2 == 0
    else:
        pick = (np.floor(u / obj["period"]) + np.floor(v / obj["period"])) % 2 == 0
    colour = np.where(pick[..., None], obj["colours"][0], obj["colours"][1])
    return np.where(mask[..., None], colour, frame)


def random_object(rng: np.random.Generator, scale: float = 1.0) -> dict:
    """An object's shape, size, texture and colours (sizes for 64 px frames, times `scale`)."""
    return {"shape": SHAPES[rng.integers(len(SHAPES))], "half_width": rng.uniform(6, 11) * scale,
            "half_height": rng.uniform(4, 8) * scale, "texture": ("stripes", "checks")[rng.integers(2)],
            "texture_angle": rng.uniform(0, np.pi), "period": rng.uniform(2.5, 5.0) * scale,
            "colours": rng.uniform(0, 255, size=(2, 3))}


def make_clip(label: str, rng: np.random.Generator, *, frames: int = 16, size: int = 64) -> np.ndarray:
    """One clip of class `label` as (frames, size, size, 3) uint8 (distances and speeds are set for 64 px and 16
    frames and scaled to `size` and `frames`)."""
    scale = size / 64
    bg, obj = background(size, rng), random_object(rng, scale)
    margin, travel = 12.0 * scale, (frames - 1)
    speed = rng.uniform(1.0, 2.5) * scale * 15 / travel if label in ("left", "right") else 0.0
    span = speed * travel
    x0 = rng.uniform(margin, size - margin - span) if span else rng.uniform(margin, size - margin)
    if label == "left":
        x0, speed = x0 + span, -speed
    y0, drift = rng.uniform(margin + 4 * scale, size - margin - 4 * scale), rng.uniform(-0.25, 0.25) * scale
    theta0 = rng.uniform(0, 2 * np.pi)
    spin = np.deg2rad(rng.uniform(6, 15)) * rng.choice((-1, 1)) * 15 / travel if label == "rotating" else 0.0
    out = np.empty((frames, size, size, 3), dtype=np.uint8)
    for t in range(frames):
        frame = draw_object(bg, obj, x0 + speed * t, y0 + drift * t, theta0 + spin * t)
        out[t] = np.clip(frame + rng.normal(0, 3, size=frame.shape), 0, 255).astype(np.uint8)
    return out


def write_clip(path: Path, frames: np.ndarray, fps: int = FPS) -> None:
    """`frames` ((T, H, W, 3) uint8) as an MPEG-4 Part 2 .mp4 (FFmpeg's native encoder; bit-exact mode)."""
    import av

    with av.open(str(path), "w", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("mpeg4", rate=fps, options={"qmin": "2", "qmax": "6", "g": "8"})
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def make_dataset(out: Path, *, per_class: int = 40, frames: int = 16, size: int = 64, seed: int = 0) -> list[Path]:
    """Write `per_class` clips of every class under `out/<class>/`; returns the paths written."""
    rng = np.random.default_rng(seed)
    written = []
    for k in range(per_class):
        for label in CLASSES:                        # classes interleaved in the one random stream
            (out / label).mkdir(parents=True, exist_ok=True)
            path = out / label / f"{label}_{k:03d}.mp4"
            write_clip(path, make_clip(label, rng, frames=frames, size=size))
            written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "examples" / "data"
                        / "motion_clips")
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    paths = make_dataset(args.out, per_class=args.per_class, frames=args.frames, size=args.size, seed=args.seed)
    total = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} clips ({total / 1e6:.2f} MB) under {args.out}")


if __name__ == "__main__":
    main()
