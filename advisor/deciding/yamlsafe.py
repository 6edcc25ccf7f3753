"""YAML read as `yaml.safe_load` reads it, except that a key written twice in one mapping is an error.

PyYAML keeps the last of two equal keys without a word; a descriptor with `target: a` and, further down,
`target: b` would silently train on b. Every YAML file the project reads goes through `load_yaml`.
"""

from __future__ import annotations

import reprlib
from typing import Any

import yaml

_MERGE = "tag:yaml.org,2002:merge"     # `<<: *base` merges keys that the mapping may then override: allowed
_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader whose mappings refuse a key given twice (naming it, and the lines of both)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:               # an unhashable key: the base constructor says so
                    continue
                seen[key] = key_node.start_mark.line if first is None else first
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {_short.repr(key)} (first on line {first + 1})",
                        key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """`yaml.safe_load(text)`, refusing duplicate keys (yaml.constructor.ConstructorError, with the line)."""
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
