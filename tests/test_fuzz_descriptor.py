"""Fuzzing the descriptor loader: arbitrary YAML (and non-YAML) in; a descriptor or ONE clear line out, no traceback.

The documents are not only valid ones: random scalars, lists and nested mappings under real field names mixed with
random keys, garbage text and bytes, huge numbers, anchors and aliases (cycles, billion laughs), deep nesting, tags
that `yaml.safe_load` must refuse (`!!python/object`...), bad encodings. Every document goes through
`advisor.load_descriptor` (what `advisor recommend` uses); a sample also goes through the CLI in-process.
"""

from __future__ import annotations

import math

import re
import unicodedata
from enum import Enum
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from advisor import DescriptorError, ProjectDescriptor, load_descriptor, recommend
from advisor.cli import cli
from advisor.deciding.evidence import pick_confidence
from advisor.deciding.schema import MAX_MESSAGE, DataSpec, Needs, Resources

SECTIONS = {"data": DataSpec, "resources": Resources, "needs": Needs}
TOP = list(ProjectDescriptor.model_fields)
FIELD_NAMES = sorted({*TOP, *(f for m in SECTIONS.values() for f in m.model_fields)})


def _enum_values(model: type) -> dict[str, list[str]]:
    """Field -> allowed enum values, for the fields of `model` that are enums."""
    out = {}
    for name, info in model.model_fields.items():
        for kind in (info.annotation, *get_args(info.annotation)):
            if isinstance(kind, type) and issubclass(kind, Enum):
                out[name] = [e.value for e in kind]
    return out


ENUMS = {name: values for model in (ProjectDescriptor, *SECTIONS.values())
         for name, values in _enum_values(model).items()}
ALL_ENUM_VALUES = sorted({v for values in ENUMS.values() for v in values})


def _harmless(text: str) -> bool:
    """No absolute or parent paths: a random data.path must not make the CLI walk the whole disk."""
    return not text.lstrip().startswith(("/", "~")) and ".." not in text


# ---------------------------------------------------------------------------------------------- strategies
texts = st.text(max_size=24).filter(_harmless)
keys = st.one_of(st.sampled_from(FIELD_NAMES), texts, st.integers(), st.booleans(), st.none(),
                 st.floats(allow_nan=False))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(), texts, st.sampled_from(ALL_ENUM_VALUES), st.binary(max_size=12), st.dates(),
    st.sampled_from(["2020-13-45", "0x1F", "0o17", "1_000", ".nan", "-.inf", "~", "yes", "No", "1e400", "-0"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                      max_leaves=10)


def _field(name: str) -> st.SearchStrategy[Any]:
    """Mostly plausible values for one field, sometimes anything at all."""
    if name in ENUMS:
        plausible: st.SearchStrategy[Any] = st.sampled_from(ENUMS[name])
    elif name in ("n_samples", "n_classes", "n_features"):
        plausible = st.integers(min_value=-5, max_value=10**7)
    elif name in ("gpu_memory_gb", "time_budget_minutes", "dev_time_days"):
        plausible = st.floats(min_value=-1, max_value=1e6)
    elif name in ("unlabeled_available", "features_well_defined", "pretrained_available", "regulated",
                  "security_critical"):
        plausible = st.booleans()
    else:
        plausible = texts
    return st.one_of(plausible, plausible, values)


def _plausible(name: str) -> st.SearchStrategy[Any]:
    """Values a user could mean for one field (most are valid)."""
    if name in ENUMS:
        return st.sampled_from(ENUMS[name])
    if name in ("n_samples", "n_classes", "n_features"):
        return st.integers(min_value=1, max_value=10**9)
    if name in ("gpu_memory_gb", "time_budget_minutes", "dev_time_days"):
        return st.floats(min_value=0.1, max_value=1e6)
    if name in ("unlabeled_available", "features_well_defined", "pretrained_available", "regulated",
                "security_critical"):
        return st.booleans()
    return texts.filter(str.strip)


def _optional(model: type, required: tuple[str, ...] = ()) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({n: _plausible(n) for n in required},
                                 optional={n: _plausible(n) for n in model.model_fields if n not in required})


valid = st.fixed_dictionaries(
    {"name": _plausible("name"), "task": _plausible("task"), "data": _optional(DataSpec, ("modality", "n_samples"))},
    optional={"resources": _optional(Resources), "needs": _optional(Needs)})


@st.composite
def mutated(draw: Any) -> dict[Any, Any]:
    """A valid descriptor with a few fields or sections replaced, dropped, or added (random keys and values)."""
    doc = draw(valid)
    for _ in range(draw(st.integers(1, 3))):
        section = draw(st.sampled_from([None, *SECTIONS]))
        target = doc if section is None or not isinstance(doc.get(section), dict) else doc[section]
        key = draw(st.one_of(st.sampled_from(FIELD_NAMES), keys))
        if draw(st.integers(0, 4)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(st.one_of(_field(key) if isinstance(key, str) else values, values))
    return doc


near_valid = st.one_of(valid, mutated())


@st.composite
def dumped(draw: Any) -> bytes:
    """A Python value (near-valid descriptor, or anything) written out by yaml.safe_dump."""
    doc = draw(st.one_of(valid, mutated(), mutated(), values))
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=draw(st.booleans()),
                          default_flow_style=draw(st.sampled_from([False, None, True]))).encode("utf-8")


TOKENS = ["name", "task", "data", "modality", "n_samples", "needs", "resources", "interpretability", "path",
          "classification", "image", "tabular", ": ", ":", "- ", "-", "? ", "\n", "\n  ", "\n    ", "\t", " ", "[",
          "]", "{", "}", ",", "'", '"', "#", "&a ", "*a", "&b ", "*b", "<<: ", "|", ">", "---", "...", "%YAML 1.1",
          "%TAG ! tag:x,2000:", "!!python/object:os.system", "!!python/object/apply:os.system ['id']",
          "!!python/name:os.system", "!!python/tuple [1, 2]", "!!binary ", "!!timestamp ", "!!int ", "!!float ",
          "!!bool ", "!!set ", "!!omap ", "!!pairs ", "!!str ", "!custom ", "!<tag:yaml.org,2002:python/none> ",
          "2000", "-5", "0", "1e999", "99999999999999999999999999", ".inf", ".nan", "null", "~", "true", "2020-13-45",
          "\\x00", "\x00", "\x1b[31m", "\u2028", "\x85", "\ufeff", "é", "猫", "🐍"]
token_soup = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=4)), max_size=40).map(
    lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))

TEMPLATES = [
    "name: &a [*a]\n",
    "&a [*a]\n",
    "&a {x: *a}\n",
    "name: x\ntask: classification\ndata: &d {modality: tabular, n_samples: 5, path: *d}\n",
    "name: x\ntask: classification\ndata: &d {modality: tabular, n_samples: 5}\nneeds: *d\n",
    "name: *undefined\n",
    "base: &b {modality: tabular}\nname: x\ntask: classification\ndata: {<<: *b, n_samples: 3}\n",
    "name: x\ntask: classification\ndata: {<<: 5, n_samples: 3}\n",
    "name: x\n---\nname: y\n",
    "? [a, b]\n: c\n",
    "? {a: b}\n: c\n",
    "!!python/object/apply:os.system ['echo hacked']\n",
    "!!python/object/new:subprocess.Popen [['id']]\n",
    "name: !!python/name:os.system\n",
    "name: !!binary 'not base64!'\n",
    "name: !!timestamp yesterday\n",
    "data: !!int many\n",
    "name: x\ntask: !!bool maybe\n",
    "name: !!omap [a]\n",
]


@st.composite
def aliased(draw: Any) -> bytes:
    """Cycles, shared nodes and the billion-laughs expansion (references in memory, exponential when walked)."""
    if draw(st.booleans()):
        return draw(st.sampled_from(TEMPLATES)).encode()
    width, depth = draw(st.integers(2, 10)), draw(st.integers(1, 9))
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, depth + 1)]
    where = draw(st.sampled_from(["name", "task", "data", "needs", "extra"]))
    return ("\n".join(lines) + f"\nname: x\ntask: classification\n{where}: *l{depth}\n").encode()


@st.composite
def nested(draw: Any) -> bytes:
    """Very deep nesting, in flow and block style."""
    n, style = draw(st.integers(1, 6000)), draw(st.sampled_from(["list", "map", "block"]))
    if style == "list":
        body = "[" * n + "]" * n
    elif style == "map":
        body = "{a: " * n + "1" + "}" * n
    else:
        n = min(n, 1500)
        body = "".join("  " * i + "- \n" for i in range(n)) + "  " * n + "x"
    return f"name: {body}\n".encode() if draw(st.booleans()) else body.encode()


VALID = "name: x\ntask: classification\ndata:\n  modality: image\n  n_samples: 2000\n  n_classes: 2\n  path: photos\n"


@st.composite
def encoded(draw: Any) -> bytes:
    """A valid descriptor in a wrong encoding, with a BOM, or with random bytes spliced in."""
    how = draw(st.sampled_from(["utf-16", "utf-32", "latin-1", "bom", "splice"]))
    text = VALID.replace("name: x", "name: café")
    if how == "bom":
        return b"\xef\xbb\xbf" + text.encode()
    if how == "splice":
        raw = text.encode()
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    return text.encode(how)


documents = st.one_of(dumped(), dumped(), dumped(), st.binary(max_size=200),
                      st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
                      token_soup, token_soup, aliased(), nested(), encoded())


# ---------------------------------------------------------------------------------------------- checks
GENERIC = ("empty; ", "expected a mapping at the top level, got ", "not valid YAML", "cannot read",
           "is a directory", "no such file", "not read: ")      # not read: a FIFO, a device, over the size limit
QUOTED = r"'(?:[^'\\]|\\.)*'" + "|" + r'"(?:[^"\\]|\\.)*"'      # a key shown by repr()
FIELD_ERROR = re.compile(rf"^(?P<where>(?:[^:'\"]+|{QUOTED})+): (?P<what>.+)$")


def assert_one_clear_line(message: str, source: Path) -> str:
    """The message is one short printable line: '<file>: <field or problem>: <what is wrong>'."""
    assert message and message.splitlines() == [message], repr(message)
    assert not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in message), repr(message)
    assert len(message) <= MAX_MESSAGE, len(message)
    assert message.startswith(f"{source}: "), message
    rest = message[len(f"{source}: "):]
    if rest.startswith(GENERIC):
        return rest.split(";")[0].split(":")[0].split(" at line")[0]
    match = FIELD_ERROR.match(rest)
    assert match, message
    where, what = match["where"], match["what"]
    assert what.strip(), message
    top = where.split(".")[0]
    assert top in TOP or "unknown key" in what, message       # names a real field, or the unknown key given
    return "field error" if top in TOP else "unknown key"


ORDER = ("classical", "hybrid", "deep")      # the engine's tie-break order: the simpler approach wins


def _with_changes(desc: ProjectDescriptor, changes: dict[str, Any]) -> ProjectDescriptor:
    """The descriptor with dotted fields (``data.n_samples``) replaced, validated again."""
    raw = desc.model_dump()
    for dotted, value in changes.items():
        node = raw
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return ProjectDescriptor.model_validate(raw)


def _gaps(rec: Any) -> list[float]:
    """The pick's lead over each other applicable approach, smallest first."""
    return sorted(rec.scores[rec.approach] - rec.scores[a] for a in ORDER if a not in rec.excluded and a != rec.approach)


def assert_engine_consistent(desc: ProjectDescriptor, rec: Any, rerun_counterfactuals: bool = True) -> None:
    """What the engine's logic implies about any recommendation, whatever the descriptor."""
    live = [a for a in ORDER if a not in rec.excluded]
    assert set(rec.scores) == set(ORDER) and set(rec.excluded) <= set(ORDER)
    assert live, "every approach excluded"
    assert rec.approach in live and rec.approach not in rec.excluded
    assert all(reason.strip() for reason in rec.excluded.values())
    best = max(rec.scores[a] for a in live)
    assert rec.scores[rec.approach] == best
    assert rec.approach == min((a for a in live if rec.scores[a] == best), key=ORDER.index)   # ties: simpler
    # alternatives: the other applicable approaches, best first, with the scores the engine computed
    assert [a.approach for a in rec.alternatives] == sorted(
        (a for a in live if a != rec.approach), key=lambda a: (-rec.scores[a], ORDER.index(a)))
    assert all(a.score == rec.scores[a.approach] for a in rec.alternatives)
    scores = [a.score for a in rec.alternatives]
    assert scores == sorted(scores, reverse=True)
    # rule margin: grows with the lead; 1 when nothing competes, at most a coin flip on a tie
    gaps = _gaps(rec)
    assert 0 <= rec.rule_margin <= 1
    if not gaps:
        assert rec.rule_margin == 1
    else:
        assert rec.rule_margin >= round(1 / len(live), 2) - 0.01
        if gaps[0] == 0:
            assert rec.rule_margin <= 0.5
        if gaps[0] >= 4:        # a lead of 4 points over every rival: at least 1 / (1 + rivals * e^-2)
            assert rec.rule_margin >= round(1 / (1 + len(gaps) * math.exp(-2.0)), 2) - 0.01
    # confidence: measured on the evidence suite for this modality and size, not voted by the rules
    assert rec.confidence == pick_confidence(rec.modality, desc.data.n_samples).value
    # counterfactuals: each change, applied and re-run, gives the approach it promises
    for cf in rec.counterfactuals:
        assert cf.changes and cf.approach != rec.approach and cf.approach in cf.text
        if rerun_counterfactuals:
            assert recommend(_with_changes(desc, cf.changes)).approach == cf.approach, cf.text


def check_library(path: Path) -> str:
    """load_descriptor: a usable descriptor (that the engine can answer) or a DescriptorError of one line."""
    try:
        desc = load_descriptor(path)
    except DescriptorError as exc:
        return "rejected: " + assert_one_clear_line(str(exc), path)
    assert isinstance(desc, ProjectDescriptor)
    assert_engine_consistent(desc, recommend(desc))
    return "accepted"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc=documents)
def test_fuzz_load_descriptor_never_raises_anything_else(doc: bytes, scratch: Path) -> None:
    path = scratch / "d.yaml"
    path.write_bytes(doc)
    event(check_library(path))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc=documents)
def test_fuzz_cli_recommend_exit_0_or_one_line_exit_2(doc: bytes, scratch: Path) -> None:
    path = scratch / "cli.yaml"
    path.write_bytes(doc)
    result = CliRunner().invoke(cli, ["recommend", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        assert " — " in result.stdout and "\nWhy:\n" in result.stdout    # (the name may hold line breaks)
        event("accepted")
        return
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("advisor: error: "), result.stderr
    event("rejected: " + assert_one_clear_line(lines[0][len("advisor: error: "):], path))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc=near_valid)
def test_fuzz_is_not_trivial_valid_documents_load(doc: dict[str, Any], scratch: Path) -> None:
    """A well-formed descriptor, however generated, loads from YAML to the same thing as its YAML text says.

    Compared with what YAML itself reads back, not with the dict: YAML folds some characters (U+0085, a line
    break to YAML, becomes a space in a plain scalar), which is the format's rule, not the loader's doing.
    """
    path = scratch / "same.yaml"
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    try:
        expected = ProjectDescriptor.model_validate(yaml.safe_load(text))
    except ValueError:
        with pytest.raises(DescriptorError):
            load_descriptor(path)
        return
    assert load_descriptor(path) == expected


# ------------------------------------------------------------------ the crashes the fuzzing found, pinned down
CASES = [
    ("top-level list", b"- a\n- b\n", "expected a mapping at the top level, got list"),
    ("top-level scalar", b"42\n", "expected a mapping at the top level, got int"),
    ("top-level string", b"just words\n", "expected a mapping at the top level, got str"),
    ("non-string keys", b"1: 2\n? null\n: x\n", "name: missing"),
    ("unknown int key", VALID.encode() + b"7: x\n", "7: unknown key"),
    ("cycle via alias", b"name: &a [*a]\ntask: classification\ndata: {modality: text, n_samples: 3}\n",
     "name: got [[[...]]]; input should be a valid string"),
    ("billion laughs", b"a: &a [x,x,x,x,x,x,x,x,x,x]\n" + b"".join(
        b"%c: &%c [%s]\n" % (c, c, b",".join([b"*" + bytes([c - 1])] * 10)) for c in b"bcdefghi")
     + b"name: *i\ntask: classification\n", "name: got [[[...], [...], [...], [...], ...]"),
    ("deep flow nesting", b"name: " + b"[" * 5000 + b"]" * 5000 + b"\n", "not valid YAML: nested too deeply"),
    ("invalid date", b"name: 2020-13-45\n", "not valid YAML: a value cannot be read (ValueError: month must be"),
    ("bad !!timestamp", b"name: !!timestamp yesterday\n", "not valid YAML: a value cannot be read"),
    ("bad !!int", b"data: !!int many\n", "not valid YAML: a value cannot be read (ValueError: invalid literal"),
    ("bad !!bool", b"task: !!bool maybe\n", "not valid YAML: a value cannot be read (KeyError"),
    ("python tag", b"!!python/object/apply:os.system ['echo hacked']\n",
     "not valid YAML at line 1, column 1: could not determine a constructor for the tag"),
    ("python name tag", b"name: !!python/name:os.system\n", "could not determine a constructor"),
    ("int beyond str limit", VALID.replace("2000", "9" * 5000).encode(),
     "not valid YAML: a value cannot be read (ValueError: Exceeds the limit"),
    ("huge count", VALID.replace("2000", "9" * 400).encode(), "data.n_samples: got 9999"),
    ("infinite budget", VALID.encode() + b"resources: {time_budget_minutes: .inf}\n",
     "resources.time_budget_minutes: got inf; input should be a finite number"),
    ("nan memory", VALID.encode() + b"resources: {gpu_memory_gb: .nan}\n", "resources.gpu_memory_gb: got nan"),
    ("newline in key", VALID.encode() + b'"evil\\nkey": 1\n', "'evil\\nkey': unknown key"),
    ("colon in key", VALID.encode() + b'"a: b": 1\n', "'a: b': unknown key"),
    ("quote and dot in nested key", VALID.replace("n_classes", "\"it's.n\"").encode(),
     "data.\"it's.n\": unknown key"),
    ("terminal escape in key", VALID.encode() + b'"\\e[2Jboo": 1\n', "'\\x1b[2Jboo': unknown key"),
    ("line separator in value", b'name: x\ntask: "a\\Lb"\ndata: {modality: text, n_samples: 3}\n',
     "task: got 'a\\u2028b'"),
    ("not UTF-8", b"name: caf\xe9\n", "cannot read: not UTF-8 text (byte 0xe9 at offset 9)"),
    ("UTF-16", VALID.encode("utf-16"), "cannot read: not UTF-8 text (byte 0xff at offset 0)"),
    ("NUL byte", b"name: x\x00\n", "not valid YAML: unacceptable character #x0000"),
    ("two documents", b"name: x\n---\nname: y\n", "not valid YAML at line 2, column 1: "),
    ("unhashable key", b"? [a, b]\n: c\n", "not valid YAML at line 1, column 3: found unhashable key"),
    ("merge of a scalar", b"name: x\ndata: {<<: 5}\n",
     "not valid YAML at line 2, column 12: expected a mapping or list of mappings for merging"),
    ("undefined alias", b"name: *nope\n", "found undefined alias 'nope'"),
    ("huge value", b"name: x\ntask: " + b"t" * 200_000 + b"\n", "task: got 'tttt"),
]


@pytest.mark.parametrize("label,raw,needle", CASES, ids=[c[0] for c in CASES])
def test_found_crashes_are_one_clear_line(label: str, raw: bytes, needle: str, scratch: Path) -> None:
    path = scratch / "case.yaml"
    path.write_bytes(raw)
    with pytest.raises(DescriptorError) as info:
        load_descriptor(path)
    message = str(info.value)
    assert_one_clear_line(message, path)
    assert needle in message, message
    result = CliRunner().invoke(cli, ["recommend", str(path)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"advisor: error: {message}\n"


def test_bom_is_accepted_and_huge_but_sane_counts_recommend(scratch: Path) -> None:
    path = scratch / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.replace("2000", str(10**15)).encode())
    desc = load_descriptor(path)
    assert desc.name == "x" and desc.data.n_samples == 10**15
    rec = recommend(desc)
    assert_engine_consistent(desc, rec)
    assert "size.huge" in {t.id for t in rec.trace} and rec.approach != "classical"   # a quadrillion images


def test_unreadable_paths_are_one_line(scratch: Path) -> None:
    for source, needle in ((scratch, "is a directory"), (scratch / "nope.yaml", "no such file"),
                           (scratch / ("n" * 5000 + ".yaml"), "cannot read (OSError: File name too long)"),
                           ("bad\x00name.yaml", "cannot read (ValueError: embedded null byte)")):
        with pytest.raises(DescriptorError) as info:
            load_descriptor(source)
        message = str(info.value)
        assert message.splitlines() == [message] and len(message) <= MAX_MESSAGE and needle in message, message


def test_rule_margin_grows_with_the_lead() -> None:
    """Across many recommendations: a lead at least as large over every rival never gives a lower rule margin,
    and a lead over the runner-up larger by a point gives a strictly higher one (short of saturation)."""
    recs = []
    for modality in ("tabular", "image", "text", "time_series"):
        for n in (100, 2000, 20000, 10**6):
            for accel in ("none", "gpu"):
                for interp in ("required", "preferred", "none"):
                    desc = ProjectDescriptor.model_validate(
                        {"name": "c", "task": "classification", "data": {"modality": modality, "n_samples": n},
                         "resources": {"accelerator": accel}, "needs": {"interpretability": interp}})
                    recs.append(recommend(desc))
    by_gaps = {}
    for rec in recs:
        by_gaps.setdefault(tuple(_gaps(rec)), set()).add(rec.rule_margin)
    assert all(len(c) == 1 for c in by_gaps.values()), by_gaps          # the lead alone decides the margin
    points = [(g, c.pop()) for g, c in by_gaps.items()]
    assert len(points) > 5
    for ga, ca in points:
        for gb, cb in points:
            if len(ga) == len(gb) and all(x >= y for x, y in zip(ga, gb)):
                assert ca >= cb, (ga, ca, gb, cb)
                if ga[0] >= gb[0] + 1 and cb < 0.95:      # a lead over the runner-up larger by a point
                    assert ca > cb, (ga, ca, gb, cb)
