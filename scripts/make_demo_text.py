#!/usr/bin/env python3
"""Build the text-classification demo CSV shipped in examples/data/.

Task: given a paragraph, say which of Jane Austen's six finished novels it
comes from (6 classes).

Source: Debian package ``r-cran-janeaustenr`` (the CRAN package janeaustenr by
Julia Silge, MIT licence; the novels themselves are public domain, taken from
Project Gutenberg with the Gutenberg headers removed). The package stores the
texts as an R lazy-load database (data/Rdata.rdx + data/Rdata.rdb); this script
reads that format directly with a minimal R-unserialiser, so R never has to run
(the Debian package does pull in r-base-core as a dependency, though).

    apt-get install r-cran-janeaustenr
    python scripts/make_demo_text.py          # writes examples/data/austen_paragraphs.csv

How rows are made: each novel's lines are split into paragraphs at blank lines,
the lines of a paragraph are joined with single spaces, Gutenberg italics marks
(_word_) are removed, and headings (CHAPTER / VOLUME / title block) are dropped, as is everything from the end
marker (THE END / FINIS / the editor's "A NOTE ON THE TEXT") on.
Paragraphs of --min-words..--max-words words are kept, and --per-class of them
(default 400) are drawn per novel without replacement with
numpy.random.default_rng(--seed) (default 0); the rows are then shuffled with
the same generator. Output columns: text,label.
"""

from __future__ import annotations

import argparse
import bz2
import csv
import gzip
import hashlib
import lzma
import re
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PKG = Path("/usr/lib/R/site-library/janeaustenr")
DEFAULT_OUT = REPO / "examples" / "data" / "austen_paragraphs.csv"

# object name in the R package -> label (the labels janeaustenr::austen_books() uses)
BOOKS = {
    "sensesensibility": "Sense & Sensibility",
    "prideprejudice": "Pride & Prejudice",
    "mansfieldpark": "Mansfield Park",
    "emma": "Emma",
    "northangerabbey": "Northanger Abbey",
    "persuasion": "Persuasion",
}


# --------------------------------------------------------------------------
# Minimal reader for R's serialisation format (XDR, versions 2 and 3), enough
# for the plain vectors/lists a data package holds. Not a general R reader.
# --------------------------------------------------------------------------
class RObject:
    """An R value with its attributes (names, class, ...)."""

    def __init__(self, rtype: int, value, attributes: dict | None = None):
        self.rtype, self.value, self.attributes = rtype, value, attributes or {}

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"RObject(type={self.rtype}, len={len(self.value) if hasattr(self.value, '__len__') else '-'})"


class _Unserializer:
    NILSXP, SYMSXP, LISTSXP, CLOSXP, ENVSXP, PROMSXP, LANGSXP = 0, 1, 2, 3, 4, 5, 6
    CHARSXP, LGLSXP, INTSXP, REALSXP, CPLXSXP, STRSXP = 9, 10, 13, 14, 15, 16
    VECSXP, EXPRSXP, RAWSXP = 19, 20, 24
    REFSXP, NILVALUE_SXP, GLOBALENV_SXP, EMPTYENV_SXP, BASEENV_SXP = 255, 254, 253, 242, 241
    ATTRLANGSXP, ATTRLISTSXP, ALTREP_SXP = 240, 239, 238
    NA_INT = -(2**31)

    def __init__(self, data: bytes):
        if data[:2] != b"X\n":
            raise ValueError("only XDR-format R serialisation is supported")
        self.buf, self.pos, self.refs = data, 2, []
        version = self.int()
        self.int()  # writer R version
        self.int()  # minimal reader R version
        if version == 3:
            n = self.int()  # native encoding name
            self.pos += n
        elif version != 2:
            raise ValueError(f"unsupported serialisation version {version}")

    def int(self) -> int:
        (v,) = struct.unpack_from(">i", self.buf, self.pos)
        self.pos += 4
        return v

    def ints(self, n: int) -> list[int]:
        v = struct.unpack_from(f">{n}i", self.buf, self.pos)
        self.pos += 4 * n
        return list(v)

    def doubles(self, n: int) -> list[float]:
        v = struct.unpack_from(f">{n}d", self.buf, self.pos)
        self.pos += 8 * n
        return list(v)

    def length(self) -> int:
        n = self.int()
        if n == -1:  # long vector
            hi, lo = self.int(), self.int()
            n = (hi << 32) + lo
        return n

    def item(self):
        flags = self.int()
        t = flags & 0xFF
        has_attr, has_tag = bool(flags & (1 << 9)), bool(flags & (1 << 10))
        if t == self.NILVALUE_SXP:
            return None
        if t in (self.GLOBALENV_SXP, self.EMPTYENV_SXP, self.BASEENV_SXP):
            return RObject(t, None)
        if t == self.REFSXP:
            idx = flags >> 8
            return self.refs[(idx if idx else self.int()) - 1]
        if t == self.SYMSXP:
            sym = self.item()  # a CHARSXP
            self.refs.append(sym)
            return sym
        if t == self.CHARSXP:
            n = self.int()
            if n == -1:
                return None  # NA_character_
            raw = self.buf[self.pos : self.pos + n]
            self.pos += n
            return raw.decode("utf-8" if not flags & (1 << 2) else "latin-1")  # bit 2: LATIN1
        if t in (self.LISTSXP, self.LANGSXP, self.ATTRLISTSXP, self.ATTRLANGSXP):
            attrs = self.item() if has_attr else None
            tag = self.item() if has_tag else None
            car = self.item()
            cdr = self.item()
            out = [(tag, car)]
            if isinstance(cdr, RObject) and cdr.rtype == self.LISTSXP:
                out += cdr.value
            return RObject(self.LISTSXP, out, self._attrs(attrs))
        if t == self.ALTREP_SXP:
            info, state, attrs = self.item(), self.item(), self.item()
            cls = info.value[0][1] if isinstance(info, RObject) else None
            if cls == "compact_intseq":  # state = c(n, start, step)
                n, start, step = (int(x) for x in state.value)
                return RObject(self.INTSXP, list(range(start, start + n * step, step)), self._attrs(attrs))
            if cls in ("wrap_integer", "wrap_real", "wrap_string", "wrap_logical", "wrap_list"):
                first = state.value[0]  # state = list(x, metadata)
                inner = first[1] if isinstance(first, tuple) else first
                return RObject(inner.rtype, inner.value, self._attrs(attrs))
            if cls == "deferred_string":  # state = (int or real vector, ...)
                arg = state.value[0][1]
                vals = [None if v is None else str(v) for v in arg.value]
                return RObject(self.STRSXP, vals, self._attrs(attrs))
            raise ValueError(f"unsupported ALTREP class {cls!r}")
        if t in (self.LGLSXP, self.INTSXP):
            n = self.length()
            vals = [None if v == self.NA_INT else v for v in self.ints(n)]
            if t == self.LGLSXP:
                vals = [None if v is None else bool(v) for v in vals]
        elif t == self.REALSXP:
            vals = self.doubles(self.length())
        elif t == self.STRSXP:
            vals = [self.item() for _ in range(self.length())]
        elif t in (self.VECSXP, self.EXPRSXP):
            vals = [self.item() for _ in range(self.length())]
        elif t == self.RAWSXP:
            n = self.length()
            vals = self.buf[self.pos : self.pos + n]
            self.pos += n
        else:
            raise ValueError(f"unsupported R type {t} at byte {self.pos}")
        attrs = self.item() if has_attr else None
        return RObject(t, vals, self._attrs(attrs))

    @staticmethod
    def _attrs(pairlist) -> dict:
        if not isinstance(pairlist, RObject):
            return {}
        return {tag: val for tag, val in pairlist.value}


def unserialize(data: bytes):
    return _Unserializer(data).item()


def _decompress_rds(raw: bytes) -> bytes:
    if raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw)
    if raw[:3] == b"BZh":
        return bz2.decompress(raw)
    if raw[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(raw)
    return raw


def read_lazyload_db(base: Path) -> dict[str, object]:
    """Read every object of an R lazy-load database (base.rdx + base.rdb)."""
    index = unserialize(_decompress_rds(base.with_suffix(".rdx").read_bytes()))
    fields = dict(zip(index.attributes["names"].value, index.value))
    compressed = fields.get("compressed")
    ctype = compressed.value[0] if isinstance(compressed, RObject) else True
    variables = fields["variables"]
    names = variables.attributes["names"].value
    rdb = base.with_suffix(".rdb").read_bytes()
    out = {}
    for name, loc in zip(names, variables.value):
        off, n = (int(x) for x in loc.value)
        chunk = rdb[off : off + n]
        if ctype is True or ctype == 1:
            data = zlib.decompress(chunk[4:])
        else:  # R >= 2.10: 4-byte length, 1 type byte, payload
            kind, payload = chunk[4:5], chunk[5:]
            data = {b"Z": zlib.decompress, b"2": bz2.decompress, b"X": lzma.decompress,
                    b"0": lambda b: b}[kind](payload)
        out[name] = unserialize(data)
    return out


# --------------------------------------------------------------------------
# Paragraphs
# --------------------------------------------------------------------------
END_MARKERS = {"THE END", "FINIS", "A NOTE ON THE TEXT"}
HEADING = re.compile(r"^(CHAPTER|VOLUME|Chapter|Volume)\b|^[^a-z]*$")


def paragraphs(lines: list[str | None]) -> list[str]:
    """Split a novel (one string per line) into cleaned paragraphs, dropping headings."""
    # the title block (title, "by Jane Austen", ...) comes before the first CHAPTER heading
    start = next((i for i, s in enumerate(lines) if s and s.strip().upper().startswith("CHAPTER")), 0)
    # stop at the end marker; Northanger Abbey is followed by an editor's "A NOTE ON THE TEXT"
    end = next((i for i, s in enumerate(lines) if i > start and (s or "").strip().upper() in END_MARKERS),
               len(lines))
    paras, cur = [], []
    for s in list(lines[start:end]) + [""]:
        s = (s or "").strip()
        if s:
            cur.append(s)
            continue
        if cur:
            text = re.sub(r"\s+", " ", " ".join(cur))
            text = re.sub(r"_([^_]+)_", r"\1", text).replace("_", "")
            if not HEADING.match(text):
                paras.append(text)
            cur = []
    return paras


def build(pkg_dir: Path, per_class: int, seed: int, min_words: int, max_words: int) -> list[tuple[str, str]]:
    objs = read_lazyload_db(pkg_dir / "data" / "Rdata")
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, str]] = []
    for obj_name, label in BOOKS.items():
        if obj_name not in objs:
            raise KeyError(f"{obj_name!r} not in {pkg_dir}/data/Rdata.rdb (found {sorted(objs)})")
        paras = [p for p in paragraphs(objs[obj_name].value) if min_words <= len(p.split()) <= max_words]
        if len(paras) < per_class:
            raise ValueError(f"{label}: only {len(paras)} paragraphs of {min_words}-{max_words} words")
        pick = np.sort(rng.choice(len(paras), size=per_class, replace=False))
        rows += [(paras[i], label) for i in pick]
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pkg-dir", type=Path, default=DEFAULT_PKG,
                    help=f"installed janeaustenr R package (default {DEFAULT_PKG})")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--per-class", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--min-words", type=int, default=20)
    ap.add_argument("--max-words", type=int, default=150)
    args = ap.parse_args(argv)

    if not (args.pkg_dir / "data" / "Rdata.rdx").exists():
        ap.error(f"{args.pkg_dir}/data/Rdata.rdx not found; `apt-get install r-cran-janeaustenr` or pass --pkg-dir")
    rows = build(args.pkg_dir, args.per_class, args.seed, args.min_words, args.max_words)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["text", "label"])
        w.writerows(rows)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    counts: dict[str, int] = {}
    for _, lab in rows:
        counts[lab] = counts.get(lab, 0) + 1
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes, {len(rows)} rows) sha256={digest}")
    print("per label:", counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
