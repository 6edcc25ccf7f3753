"""A feature memo: while model selection cross-validates, label-free features are computed once per item.

Hand-made image features, frozen CNN features and frozen sentence embeddings depend only on the input item
and the extractor's settings, never on labels, so re-using them across folds, candidate heads and the final fit
is exact (not an approximation). Outside :func:`feature_memo` nothing is stored.

    with feature_memo():
        ...   # every fit / predict here shares features item by item
"""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np

__all__ = ["feature_memo", "memo_rows", "memo_active"]

_STORE: Optional[dict[tuple[Any, Any], np.ndarray]] = None


@contextmanager
def feature_memo() -> Iterator[None]:
    """Memoise label-free features inside the block (nested blocks share the outer memo)."""
    global _STORE
    if _STORE is not None:
        yield
        return
    _STORE = {}
    try:
        yield
    finally:
        _STORE = None


def memo_active() -> bool:
    return _STORE is not None


def _item_key(item: Any) -> Any:
    if isinstance(item, (str, os.PathLike)) and not isinstance(item, str):
        item = os.fspath(item)
    if isinstance(item, str):
        return item
    arr = np.ascontiguousarray(item)
    digest = hashlib.blake2b(arr.tobytes(), digest_size=16)
    digest.update(repr((arr.shape, arr.dtype.str)).encode())
    return digest.digest()


def memo_rows(config: Any, items: Sequence[Any], compute: Callable[[list[Any]], np.ndarray]) -> np.ndarray:
    """``compute(items)``, served row by row from the memo for items seen before under the same ``config``.

    ``config`` identifies the extractor (its settings); ``items`` are image arrays, image paths or texts.
    """
    if _STORE is None or len(items) == 0:
        return compute(list(items))
    keys = [(config, _item_key(x)) for x in items]
    missing = list(dict.fromkeys(k for k in keys if k not in _STORE))
    if missing:
        first = {k: i for i, k in reversed(list(enumerate(keys)))}
        rows = compute([items[first[k]] for k in missing])
        for k, row in zip(missing, rows):
            _STORE[k] = row
    return np.stack([_STORE[k] for k in keys])
