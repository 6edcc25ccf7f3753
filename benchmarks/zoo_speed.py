"""Zoo overhead: each zoo model family timed side by side with the bare library code it wraps.

Every figure is a ratio of two timings taken in the same process, interleaved (A, B, B, A, ...), median of
``--repeats`` (>= 5) paired repeats with min and max, so a shared / busy machine slows both sides alike.

1. classical: ``tabular_gradient_boosting`` fit vs a bare scikit-learn ``HistGradientBoostingClassifier`` with
   the zoo's default parameters, on make_classification 20,000 x 30 and on the shipped breast-cancer table.
2. hybrid: ``CnnFeatures`` (EfficientNet-Lite0, 128 px, batch 64, channels_last) images/s vs a bare timm
   forward of the same backbone (``create_timm_backbone(num_classes=0)``, channels_last, inference_mode) on a
   pre-made normalised tensor batch. The zoo's figure for the forward part is ``transform`` on a uint8 batch
   already at 128 px with ``resize_mode="squash"`` (no resampling: to-RGB, stack, normalise, forward, copy out);
   end to end (timm's centre-crop preprocessing from raw images) is reported separately.
3. deep: fine-tune steps (forward + backward + AdamW, batch 32, 128 px) through the zoo's ``fit_torch`` on a
   model built as ``ImageEffnetLite0Finetune`` builds it (timm backbone + new 10-class head, two AdamW
   parameter groups, label smoothing, cosine schedule, channels_last) vs a hand-written PyTorch loop with the
   same model, batches, optimizer groups and channels_last.
Also channels_last on vs off for the bare forward, for ``CnnFeatures`` and for the fine-tune step.
4. threads: HGB fit with 1 OpenMP thread vs the default by data size (why the zoo keeps the default threads
   for fits), and a ``tabular_mlp`` fit with 1 torch thread vs the default.

Run: python -m benchmarks.zoo_speed [--repeats 7] [--only classical,hybrid,deep]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from benchmarks._common import (ROOT, fmt_ratio, interleaved, loadavg, machine, ratio_stats, save_results, stats,
                                table, torch_threads)

BATCH_HYBRID = 64
BATCH_DEEP = 32
SIZE = 128
CATS_DOGS = ROOT.parent / "shared" / "data" / "cats-dogs" / "train"


# ----------------------------------------------------------------------------- 1. classical

def bench_classical(repeats: int) -> dict[str, Any]:
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier

    import zoo

    X1, y1 = make_classification(n_samples=20_000, n_features=30, n_informative=15, random_state=0)
    df = pd.read_csv(ROOT / "examples" / "data" / "breast_cancer.csv")
    y2 = df.pop("target").to_numpy()
    datasets = {"make_classification 20,000x30 (ndarray)": (X1, y1),
                "breast_cancer.csv 569x30 (DataFrame)": (df, y2)}

    defaults = zoo.create_model("tabular_gradient_boosting", task="classification").get_params()
    hgb_keys = set(HistGradientBoostingClassifier().get_params())
    params = {k: v for k, v in defaults.items() if k in hgb_keys}

    out: dict[str, Any] = {"params": params, "datasets": {}}
    rows = []
    for name, (X, y) in datasets.items():
        fitted: dict[str, Any] = {}

        def zoo_fit() -> None:
            fitted["zoo"] = zoo.create_model("tabular_gradient_boosting", task="classification").fit(X, y)

        def bare_fit() -> None:
            fitted["bare"] = HistGradientBoostingClassifier(**params).fit(X, y)

        t = interleaved({"zoo": zoo_fit, "bare": bare_fit}, repeats)
        same = bool(np.array_equal(fitted["zoo"].predict(X), fitted["bare"].predict(X)))
        n_iter = (int(fitted["zoo"].pipeline_[-1].n_iter_), int(fitted["bare"].n_iter_))
        r_def = ratio_stats(t["zoo"], t["bare"])
        out["datasets"][name] = {"zoo_s": stats(t["zoo"]), "bare_s": stats(t["bare"]),
                                 "ratio_zoo_over_bare": r_def, "same_predictions": same,
                                 "n_iter_zoo_bare": n_iter, "goal": "<= 1.05"}
        rows.append([name, stats(t["zoo"])["median"], stats(t["bare"])["median"], r_def["median"], r_def["min"],
                     r_def["max"], "yes" if same else "NO"])
    print("\n== classical: tabular_gradient_boosting fit vs bare HistGradientBoostingClassifier "
          f"(same params; median of {repeats}, interleaved) ==")
    print(table(rows, ["data", "zoo s", "bare s", "zoo/bare", "min", "max", "same preds"]))
    print("goal: zoo/bare <= 1.05 (the wrapper adds column typing, imputation and label handling)")
    return out


# ----------------------------------------------------------------------------- images for 2. and 3.

def _demo_images(n: int) -> np.ndarray:
    """n Fashion-MNIST demo images (28x28 gray uint8)."""
    with np.load(ROOT / "examples" / "data" / "fashion_mnist_demo.npz") as z:
        return np.asarray(z["X"][:n])


def _upsized_rgb(images: np.ndarray, size: int) -> np.ndarray:
    """(N, size, size, 3) uint8 from gray images (bilinear via PIL)."""
    from PIL import Image

    out = np.empty((len(images), size, size, 3), dtype=np.uint8)
    for i, img in enumerate(images):
        out[i] = np.asarray(Image.fromarray(img).convert("RGB").resize((size, size), Image.Resampling.BILINEAR))
    return out


def _normalised(batch_uint8: np.ndarray, mean: Any, std: Any) -> Any:
    import torch

    x = torch.from_numpy(batch_uint8).permute(0, 3, 1, 2).float() / 255.0
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return ((x - m) / s).contiguous()


# ----------------------------------------------------------------------------- 2. hybrid

def bench_hybrid(repeats: int) -> dict[str, Any]:
    from zoo._compat import ensure_torchvision_ops

    ensure_torchvision_ops()
    import torch

    from zoo.hybrid import CnnFeatures
    from zoo.weights import create_timm_backbone

    kw = dict(image_size=SIZE, batch_size=BATCH_HYBRID, device="cpu", verbose=False)
    cf = CnnFeatures(channels_last=True, resize_mode="squash", **kw).fit()
    cf_off = CnnFeatures(channels_last=False, resize_mode="squash", **kw).fit()
    cf_e2e = CnnFeatures(channels_last=True, **kw).fit()          # default resize_mode: timm centre crop
    cfg = cf.data_config_

    bare_cl = create_timm_backbone(num_classes=0).eval().to(memory_format=torch.channels_last)
    bare_off = create_timm_backbone(num_classes=0).eval()
    gray = _demo_images(BATCH_HYBRID)
    batch = _upsized_rgb(gray, SIZE)                                # (64, 128, 128, 3) uint8, pre-made
    x = _normalised(batch, cfg["mean"], cfg["std"])
    x_cl = x.contiguous(memory_format=torch.channels_last)
    jpegs = sorted(str(p) for p in CATS_DOGS.rglob("*.jpg")) if CATS_DOGS.is_dir() else []
    paths = jpegs[:: max(1, len(jpegs) // BATCH_HYBRID)][:BATCH_HYBRID]   # spread over both classes

    with torch.inference_mode():
        same = float((cf.transform(batch) - bare_cl(x_cl).numpy()).__abs__().max())

    def bare_fwd() -> None:
        with torch.inference_mode():
            bare_cl(x_cl)

    def bare_fwd_off() -> None:
        with torch.inference_mode():
            bare_off(x)

    def zoo_net() -> None:
        with torch.inference_mode():
            cf._net(x_cl)

    fns = {"bare": bare_fwd, "zoo_transform": lambda: cf.transform(batch), "zoo_net": zoo_net,
           "bare_off": bare_fwd_off, "zoo_transform_off": lambda: cf_off.transform(batch),
           "zoo_e2e_28px_gray": lambda: cf_e2e.transform(gray)}
    if paths:
        fns["zoo_e2e_cats_dogs_jpeg"] = lambda: cf_e2e.transform(paths)
    t = interleaved(fns, repeats, warmup=2)
    ips = {k: BATCH_HYBRID / stats(v)["median"] for k, v in t.items()}
    out: dict[str, Any] = {"batch": BATCH_HYBRID, "image_size": SIZE, "torch_threads": torch_threads(),
                           "max_abs_diff_zoo_vs_bare_features": same,
                           "seconds_per_batch": {k: stats(v) for k, v in t.items()},
                           "images_per_s_median": ips, "ratios": {}}

    def add(key: str, what: str, num: str, den: str, goal: str = "") -> list[Any]:
        # throughput ratio = time(den) / time(num)
        r = ratio_stats(t[den], t[num])
        out["ratios"][key] = {**r, "what": what, "goal": goal}
        return [what, ips[num], ips[den], r["median"], r["min"], r["max"], goal]

    rows = [
        add("forward_zoo_over_bare", "CnnFeatures.transform (pre-sized uint8) / bare timm forward",
            "zoo_transform", "bare", ">= 0.9"),
        add("net_zoo_over_bare", "zoo's loaded network on the same tensor / bare timm forward", "zoo_net", "bare"),
        add("e2e_gray28_over_bare", "CnnFeatures end to end, 28px gray arrays (centre crop) / bare forward",
            "zoo_e2e_28px_gray", "bare"),
    ]
    if paths:
        rows.append(add("e2e_jpeg_over_bare", "CnnFeatures end to end, cats-dogs JPEG paths / bare forward",
                        "zoo_e2e_cats_dogs_jpeg", "bare"))
    rows += [
        add("channels_last_bare", "bare forward: channels_last on / off", "bare", "bare_off"),
        add("channels_last_zoo", "CnnFeatures.transform: channels_last on / off", "zoo_transform",
            "zoo_transform_off"),
    ]
    print(f"\n== hybrid: EfficientNet-Lite0 features, {SIZE} px, batch {BATCH_HYBRID}, "
          f"{torch_threads()} torch threads (median of {repeats}, interleaved) ==")
    print(table(rows, ["throughput ratio (A / B)", "A img/s", "B img/s", "ratio", "min", "max", "goal"]))
    print(f"zoo features == bare features: max |diff| {same:.2e}")
    return out


# ----------------------------------------------------------------------------- 3. deep

def _finetune_model(channels_last: bool) -> Any:
    """EfficientNet-Lite0 + new 10-class head, built as ImageEffnetLite0Finetune.fit builds it (unfrozen)."""
    import torch
    from torch import nn

    from zoo.deep import _FinetuneNet
    from zoo.weights import create_timm_backbone

    torch.manual_seed(0)
    net = create_timm_backbone(num_classes=10, drop_rate=0.2)
    head = net.get_classifier()
    nn.init.normal_(head.weight, std=0.01)
    nn.init.zeros_(head.bias)
    model = _FinetuneNet(net)
    model.set_frozen(False)                  # the full fine-tune step (epochs after freeze_epochs)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model.train()


def _groups(model: Any, lr: float = 1e-3, backbone_lr_scale: float = 0.1) -> list[dict[str, Any]]:
    head = {id(p) for p in model.head_params()}
    return [{"params": model.head_params(), "lr": lr},
            {"params": [p for p in model.net.parameters() if id(p) not in head], "lr": lr * backbone_lr_scale}]


def bench_deep(repeats: int, steps: int) -> dict[str, Any]:
    from zoo._compat import ensure_torchvision_ops

    ensure_torchvision_ops()
    import torch
    from torch import nn

    from zoo.training import fit_torch

    gray = _demo_images(BATCH_DEEP * steps)
    rgb = _upsized_rgb(gray, SIZE)
    x_all = _normalised(rgb, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    with np.load(ROOT / "examples" / "data" / "fashion_mnist_demo.npz") as z:
        labels = torch.as_tensor(np.asarray(z["y"][: BATCH_DEEP * steps]), dtype=torch.long)
    batches = [(x_all[i:i + BATCH_DEEP], labels[i:i + BATCH_DEEP]) for i in range(0, len(x_all), BATCH_DEEP)]
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    model = _finetune_model(channels_last=True)
    model_off = _finetune_model(channels_last=False)
    hist_ips: list[float] = []

    def zoo_loop() -> None:
        hist = fit_torch(model, batches, None, loss_fn=loss_fn, epochs=1, lr=1e-3, device="cpu", patience=None,
                         channels_last=True, progress=False, optimizer=_groups(model), weight_decay=0.01, seed=0)
        hist_ips.append(hist.items_per_second)

    def hand(m: Any, channels_last: bool) -> None:
        m.train()
        opt = torch.optim.AdamW(_groups(m), lr=1e-3, weight_decay=0.01)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        for xb, yb in batches:
            xb = xb.contiguous(memory_format=fmt)
            loss = loss_fn(m(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    t = interleaved({"zoo": zoo_loop, "hand": lambda: hand(model, True),
                     "hand_off": lambda: hand(model_off, False)}, repeats, warmup=1)
    n_img = BATCH_DEEP * steps
    ips = {k: n_img / stats(v)["median"] for k, v in t.items()}
    r_zoo = ratio_stats(t["zoo"], t["hand"])                  # time ratio: zoo / hand (goal <= 1.05)
    r_cl = ratio_stats(t["hand_off"], t["hand"])             # speed-up of channels_last = time(off) / time(on)
    hist_ips = hist_ips[-repeats:]
    out = {"batch": BATCH_DEEP, "image_size": SIZE, "steps_per_repeat": steps, "torch_threads": torch_threads(),
           "seconds_per_repeat": {k: stats(v) for k, v in t.items()}, "images_per_s_median": ips,
           "ratio_time_zoo_over_hand": {**r_zoo, "goal": "<= 1.05"},
           "ratio_speed_channels_last_on_over_off": r_cl,
           "fit_torch_history_items_per_second": stats(hist_ips)}
    rows = [["fit_torch (zoo loop), channels_last", t["zoo"], ips["zoo"]],
            ["hand-written loop, channels_last", t["hand"], ips["hand"]],
            ["hand-written loop, contiguous (NCHW)", t["hand_off"], ips["hand_off"]]]
    print(f"\n== deep: EfficientNet-Lite0 fine-tune, {steps} steps x batch {BATCH_DEEP} at {SIZE} px per repeat, "
          f"AdamW, {torch_threads()} torch threads (median of {repeats}, interleaved) ==")
    print(table([[r[0], stats(r[1])["median"], stats(r[1])["min"], stats(r[1])["max"], r[2],
                  1000 * stats(r[1])["median"] / steps] for r in rows],
                ["loop", "s / repeat", "min", "max", "img/s", "ms / step"]))
    print(f"time zoo / hand (goal <= 1.05): {fmt_ratio(r_zoo)}")
    print(f"speed channels_last on / off:  {fmt_ratio(r_cl)}")
    print(f"fit_torch's own history.items_per_second: median {stats(hist_ips)['median']:.1f} img/s")
    return out


# ----------------------------------------------------------------------------- 4. threads

def bench_threads(repeats: int) -> dict[str, Any]:
    """Thread counts behind two zoo choices: HGB's OpenMP threads by data size (the zoo caps fits under 1M cells
    to 1 thread) and the torch threads of a small MLP fit (the zoo leaves torch at its default)."""
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    from zoo._compat import ensure_torchvision_ops

    ensure_torchvision_ops()
    import torch

    import zoo

    out: dict[str, Any] = {"hgb_1_over_default_threads": {}, "torch_threads_default": torch.get_num_threads()}
    rows = []
    for n in (2_000, 5_000, 20_000, 60_000):
        X, y = make_classification(n_samples=n, n_features=30, n_informative=15, random_state=0)

        def one() -> None:
            with threadpool_limits(1, user_api="openmp"):
                HistGradientBoostingClassifier(random_state=0).fit(X, y)

        t = interleaved({"one": one, "default": lambda: HistGradientBoostingClassifier(random_state=0).fit(X, y)},
                        repeats)
        r = ratio_stats(t["one"], t["default"])
        out["hgb_1_over_default_threads"][f"{n}x30"] = {**r, "cells": n * 30, "one_s": stats(t["one"]),
                                                        "default_s": stats(t["default"])}
        rows.append([f"HGB fit {n:,}x30 ({n * 30 / 1e6:.2f}M cells)", stats(t["one"])["median"],
                     stats(t["default"])["median"], r["median"], r["min"], r["max"]])

    df = pd.read_csv(ROOT / "examples" / "data" / "breast_cancer.csv")
    y2 = df.pop("target").to_numpy()
    default_threads = torch.get_num_threads()

    def mlp(threads: int) -> None:
        torch.set_num_threads(threads)
        try:
            zoo.create_model("tabular_mlp", task="classification", verbose=False, device="cpu").fit(df, y2)
        finally:
            torch.set_num_threads(default_threads)

    def one_vs_default(fn: Any, key: str, label: str) -> None:
        t = interleaved({"one": lambda: fn(1), "default": lambda: fn(default_threads)}, repeats)
        r = ratio_stats(t["one"], t["default"])
        out[key] = {**r, "one_s": stats(t["one"]), "default_s": stats(t["default"])}
        rows.append([label, stats(t["one"])["median"], stats(t["default"])["median"], r["median"], r["min"], r["max"]])

    one_vs_default(mlp, "tabular_mlp_fit_1_over_default_torch_threads",
                   f"tabular_mlp fit, breast cancer (torch 1 vs {default_threads} threads)")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from zoo.weights import minilm_dir

    hf_logging.set_verbosity_error()
    src = minilm_dir()
    tok = AutoTokenizer.from_pretrained(str(src))
    lm = AutoModelForSequenceClassification.from_pretrained(str(src), num_labels=6).train()
    texts = pd.read_csv(ROOT / "examples" / "data" / "austen_paragraphs.csv")["text"].tolist()[:32]
    encs = [tok(texts[i:i + 16], padding=True, truncation=True, max_length=128, return_tensors="pt")
            for i in (0, 16)]
    yb = torch.zeros(16, dtype=torch.long)

    def lm_steps(threads: int) -> None:      # TextMiniLMFinetune's step: batch 16, <= 128 tokens, AdamW, clip 1.0
        torch.set_num_threads(threads)
        try:
            opt = torch.optim.AdamW(lm.parameters(), lr=5e-5)
            for enc in encs:
                loss = torch.nn.functional.cross_entropy(lm(**enc).logits, yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
                opt.step()
        finally:
            torch.set_num_threads(default_threads)

    one_vs_default(lm_steps, "minilm_finetune_2_steps_1_over_default_torch_threads",
                   f"MiniLM fine-tune, 2 steps x 16 texts (torch 1 vs {default_threads} threads)")
    print(f"\n== threads: 1 thread vs the default (median of {repeats}, interleaved; < 1 means 1 thread is faster) ==")
    print(table(rows, ["fit", "1 thread s", "default s", "1/default", "min", "max"]))
    return out


# ----------------------------------------------------------------------------- main

SECTIONS = ("classical", "hybrid", "deep", "threads")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="paired repeats per figure (>= 5)")
    parser.add_argument("--steps", type=int, default=4, help="fine-tune steps per repeat (deep)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated subset of " + ",".join(SECTIONS))
    parser.add_argument("--no-save", action="store_true", help="do not write runs/benchmarks/results.json")
    args = parser.parse_args(argv)
    if args.repeats < 5:
        parser.error("--repeats must be >= 5")
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        parser.error(f"unknown section(s) {bad}; choose from {SECTIONS}")
    load_before = loadavg()
    start = time.perf_counter()
    result: dict[str, Any] = {"repeats": args.repeats}
    benches = {"classical": lambda: bench_classical(args.repeats), "hybrid": lambda: bench_hybrid(args.repeats),
               "deep": lambda: bench_deep(args.repeats, args.steps), "threads": lambda: bench_threads(args.repeats)}
    for name in SECTIONS:
        if name in only:
            before = loadavg()
            result[name] = benches[name]()
            result[name].update({"loadavg_before": before, "loadavg_after": loadavg(),
                                 "date": machine()["date"]})
    result["machine"] = machine()
    result["machine"]["loadavg_before"] = load_before
    result["wall_s"] = time.perf_counter() - start
    print(f"\nload average before {load_before}, after {loadavg()}; {result['wall_s']:.0f} s")
    if not args.no_save:
        save_results("zoo_speed", result, merge=True)
    return result


if __name__ == "__main__":
    main()
