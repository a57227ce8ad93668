"""The one YAML reader of powerprofile: bounded, strict, safe.

Every YAML the library reads (job configs, ``--set`` values, campaigns, tag and risk
rules) goes through :func:`parse_yaml`. It is PyYAML's ``SafeLoader`` (no Python
objects are ever built) with limits that make a hostile or mistyped file fail at once
instead of exhausting memory later:

- at most :data:`MAX_BYTES` of text;
- at most :data:`MAX_DEPTH` levels of nesting;
- aliases (``*name``) may add at most :data:`MAX_ALIAS_VALUES` values in all, so a
  "billion laughs" file of a few hundred bytes is refused before it is built, and an
  alias may not point into the collection that contains it;
- a key may appear only once in a mapping (PyYAML would keep the last silently).

Numbers written with an exponent and no dot (``1e-3``, ``1e29``) are floats, as in
YAML 1.2; plain PyYAML reads them as text.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from yaml.nodes import CollectionNode, MappingNode, ScalarNode, SequenceNode

from ..exceptions import ConfigError

__all__ = ["parse_yaml", "read_yaml"]

MAX_BYTES = 1 << 20
"""Largest YAML text read (1 MiB); the shipped configs are a few kilobytes."""

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists; the shipped configs nest three levels."""

MAX_ALIAS_VALUES = 10_000
"""Most values that aliases (``*name``) may add to a document once expanded."""


class YAMLLimitError(yaml.YAMLError):
    """The YAML text breaks one of the reader's limits (size, depth, alias expansion)."""


class _BoundedLoader(yaml.SafeLoader):
    """``SafeLoader`` that counts alias expansion and depth while composing."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._alias_values = 0
        self._sizes: dict[int, int] = {}

    def _expanded_size(self, node) -> int:
        """Values in ``node`` once every alias inside it is expanded (memoised)."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        if isinstance(node, SequenceNode):
            size = 1 + sum(self._expanded_size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            size = 1 + sum(self._expanded_size(k) + self._expanded_size(v) for k, v in node.value)
        else:
            size = 1
        self._sizes[id(node)] = size
        return size

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            target = self.anchors.get(event.anchor)
            if isinstance(target, CollectionNode) and target.end_mark is None:
                raise YAMLLimitError(
                    f"the alias *{event.anchor} at line {event.start_mark.line + 1} points into "
                    "the collection that holds it, so a value would contain itself; write the "
                    "value out instead"
                )
            if target is not None:
                self._alias_values += self._expanded_size(target)
                if self._alias_values > MAX_ALIAS_VALUES:
                    raise YAMLLimitError(
                        f"its aliases (*{event.anchor} at line {event.start_mark.line + 1} "
                        f"and before) expand to more than {MAX_ALIAS_VALUES:,} values, which "
                        "looks like an alias bomb; write the values out or use fewer aliases"
                    )
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YAMLLimitError(
                    f"it nests deeper than {MAX_DEPTH} levels (line {mark.line + 1}); "
                    "flatten the structure"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if (
                    not isinstance(key_node, ScalarNode)
                    or key_node.tag == "tag:yaml.org,2002:merge"
                ):
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"found the key {key_node.value!r} a second time (first on line "
                        f"{seen[key] + 1}); keep one",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


# YAML 1.2 floats without a dot (1e-3, 1E29, -2e+5), which YAML 1.1 reads as text.
_BoundedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse_yaml(text: str, *, source: str | None = None):
    """Parse one YAML document with the reader's limits.

    Parameters
    ----------
    text : str
        The YAML text.
    source : str or None, default=None
        Where the text came from, named in error marks and messages.

    Returns
    -------
    object
        The parsed value (``None`` for an empty document).

    Raises
    ------
    YAMLLimitError (a yaml.YAMLError)
        The text is too large, too deep, or its aliases expand too much.
    yaml.YAMLError
        The text is not YAML, or a mapping repeats a key.
    """
    if len(text) > MAX_BYTES:
        where = f" {source!r}" if source else ""
        raise YAMLLimitError(
            f"the YAML text{where} has {len(text):,} characters, more than the "
            f"{MAX_BYTES:,} allowed; split it or remove what is not configuration"
        )
    loader = _BoundedLoader(text)
    if source:
        loader.name = source  # error marks say where: in "configs/x.yaml", line 3
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def read_yaml(path, *, what: str = "config") -> dict:
    """Read a YAML mapping from ``path`` with the reader's limits.

    Parameters
    ----------
    path : str or path-like
        The file.
    what : str, default="config"
        What the file is, for messages ("config", "campaigns", "rule").

    Returns
    -------
    dict

    Raises
    ------
    ConfigError
        When the file is missing, too large, not YAML, breaks a limit or is not a
        mapping; the message names the file.
    OSError
        When the file exists but cannot be read (permissions, a folder).
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            f"{what} file {str(p)!r} does not exist (working folder {str(Path.cwd())!r}); "
            "give an existing path."
        )
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise ConfigError(
            f"{what} file {str(p)!r} has {size:,} bytes, more than the {MAX_BYTES:,} a "
            "configuration may have; point at the right file or split it."
        )
    try:
        data = parse_yaml(p.read_text(encoding="utf-8"), source=str(p))
    except YAMLLimitError as exc:
        raise ConfigError(f"{what} file {str(p)!r} is refused: {exc}.") from None
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{what} file {str(p)!r} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{what} file {str(p)!r} must hold a mapping of keys, got {type(data).__name__}."
        )
    return data
