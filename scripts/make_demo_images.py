#!/usr/bin/env python3
"""Build the Fashion-MNIST demo subset shipped in examples/data/.

Source: Debian package ``dataset-fashion-mnist`` (MIT licence, Zalando SE),
which installs the original IDX files under /usr/share/datasets/fashion-mnist/.

    apt-get install dataset-fashion-mnist
    python scripts/make_demo_images.py            # writes examples/data/fashion_mnist_demo.npz

The subset is stratified and seeded: ``--per-class`` images (default 300) of each
of the 10 classes, drawn without replacement from the original 60,000-image
training set with ``numpy.random.default_rng(--seed)`` (default 0).

The .npz holds:
    X             uint8  (N, 28, 28)   grey-scale images, 0 = background
    y             int64  (N,)          label 0..9
    classes       str    (10,)         class names, index = label
    source_index  int64  (N,)          row of each image in train-images-idx3-ubyte

Export the subset as an ImageFolder tree (one sub-folder of PNGs per class),
which is what the trainer reads; this needs only the .npz and Pillow:

    python scripts/make_demo_images.py --export-folder /tmp/fmnist \\
        --from-npz examples/data/fashion_mnist_demo.npz
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
import struct
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = Path("/usr/share/datasets/fashion-mnist")
DEFAULT_OUT = REPO / "examples" / "data" / "fashion_mnist_demo.npz"

CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped) as used by (Fashion-)MNIST."""
    with _open(path) as fh:
        data = fh.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (header {data[:4]!r})")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {np.prod(dims)} values, found {arr.size}")
    return arr.reshape(dims)


def _find(source_dir: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        p = source_dir / name
        if p.exists():
            return p
    raise FileNotFoundError(
        f"{source_dir / stem}[.gz] not found; install it with "
        "`apt-get install dataset-fashion-mnist` or pass --source-dir"
    )


def load_train(source_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(_find(source_dir, "train-images-idx3-ubyte"))
    labels = read_idx(_find(source_dir, "train-labels-idx1-ubyte"))
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise ValueError(f"unexpected shapes {images.shape} / {labels.shape}")
    return images, labels.astype(np.int64)


def stratified_subset(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Indices of ``per_class`` items of every class, seeded, in ascending order."""
    rng = np.random.default_rng(seed)
    picked = []
    for c in range(len(CLASSES)):
        pool = np.flatnonzero(labels == c)
        if pool.size < per_class:
            raise ValueError(f"class {c} has only {pool.size} items, need {per_class}")
        picked.append(rng.choice(pool, size=per_class, replace=False))
    return np.sort(np.concatenate(picked)).astype(np.int64)


def content_digest(X: np.ndarray, y: np.ndarray) -> str:
    """sha256 of the array contents (the .npz bytes differ run to run: zip timestamps)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(X, dtype=np.uint8).tobytes())
    h.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    return h.hexdigest()


def build(source_dir: Path, per_class: int, seed: int) -> dict[str, np.ndarray]:
    images, labels = load_train(source_dir)
    idx = stratified_subset(labels, per_class, seed)
    return {
        "X": np.ascontiguousarray(images[idx], dtype=np.uint8),
        "y": labels[idx].astype(np.int64),
        "classes": np.array(CLASSES),
        "source_index": idx,
    }


def load_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def safe_name(name: str) -> str:
    """Filesystem-safe folder name: 'T-shirt/top' -> 'T-shirt_top', 'Ankle boot' -> 'Ankle_boot'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "class"


def export_folder(data: dict[str, np.ndarray], out_dir: Path) -> int:
    """Write an ImageFolder tree: out_dir/<class>/<name>.png (8-bit grey-scale)."""
    from PIL import Image

    X, y, classes = data["X"], data["y"], [str(c) for c in data["classes"]]
    src = data.get("source_index", np.arange(len(y)))
    names = [safe_name(c) for c in classes]
    if len(set(names)) != len(names):
        raise ValueError(f"class names collide after sanitising: {names}")
    for n in names:
        (out_dir / n).mkdir(parents=True, exist_ok=True)
    for img, label, s in zip(X, y, src):
        Image.fromarray(np.ascontiguousarray(img, dtype=np.uint8)).save(
            out_dir / names[int(label)] / f"train_{int(s):05d}.png", optimize=True
        )
    return len(y)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source-dir", type=Path, default=DEFAULT_SOURCE,
                    help=f"folder with the Fashion-MNIST IDX files (default {DEFAULT_SOURCE})")
    ap.add_argument("--out", type=Path, default=None,
                    help=f"where to write the .npz (default {DEFAULT_OUT.relative_to(REPO)} "
                         "when building; nothing is written with --from-npz unless given)")
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--from-npz", type=Path, default=None,
                    help="use an existing subset .npz instead of the Debian files")
    ap.add_argument("--export-folder", type=Path, default=None,
                    help="also write the subset as <DIR>/<class>/*.png (ImageFolder layout)")
    args = ap.parse_args(argv)

    if args.from_npz is not None:
        data = load_npz(args.from_npz)
        print(f"loaded {args.from_npz}: X{data['X'].shape} {data['X'].dtype}")
    else:
        data = build(args.source_dir, args.per_class, args.seed)
        if args.out is None:
            args.out = DEFAULT_OUT

    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.out, **data)
        print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")

    counts = np.bincount(data["y"], minlength=len(data["classes"]))
    print(f"N={len(data['y'])} per class={counts.tolist()}")
    print(f"content sha256 (X,y) = {content_digest(data['X'], data['y'])}")

    if args.export_folder is not None:
        n = export_folder(data, args.export_folder)
        print(f"exported {n} PNGs to {args.export_folder}/<class>/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
