"""Reading, merging and overriding YAML configs."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

from ..exceptions import ConfigError
from ._model import Config
from ._typed import from_mapping, to_mapping
from ._yaml import YAMLLimitError, parse_yaml, read_yaml

__all__ = ["config_hash", "dump_config", "load_config", "parse_override"]


def _deep_merge(base: dict, top: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and not k.endswith("params"):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _read_with_extends(path: Path, seen: tuple = ()) -> dict:
    if path.resolve() in seen:
        raise ConfigError(f"config file {str(path)!r} extends itself (cycle: {seen!r}).")
    data = read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ConfigError(
            f"config key 'extends' in {str(path)!r} must be a file path, got {parent!r}."
        )
    parent_path = Path(parent)
    if not parent_path.is_absolute() and not parent_path.is_file():
        parent_path = path.parent / parent  # relative to the extending file
    base = _read_with_extends(parent_path, (*seen, path.resolve()))
    return _deep_merge(base, data)


def parse_override(text: str) -> tuple[str, object]:
    """Parse ``key.path=value`` (the value as YAML: ``3``, ``true``, ``[a, b]``, ``null``).

    Parameters
    ----------
    text : str
        The override.

    Returns
    -------
    (str, object)
    """
    import yaml

    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like key.path=value, e.g. seed=1.")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"override {text!r} has no key.")
    try:
        value = parse_yaml(raw, source=f"override {key!r}") if raw.strip() else ""
    except YAMLLimitError as exc:
        raise ConfigError(f"override {key!r} is refused: {exc}.") from None
    except (yaml.YAMLError, ValueError):
        value = raw
    return key, value


def _apply_override(data: dict, key: str, value) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        if not isinstance(nxt, dict):
            raise ConfigError(f"override {key!r}: {part!r} is not a section.")
        node = nxt
    node[parts[-1]] = value


def load_config(path=None, overrides=None) -> Config:
    """Load, merge and validate a job config.

    Parameters
    ----------
    path : str or path-like or None, default=None
        YAML file; None gives the built-in defaults. A file may name another with
        ``extends: other.yaml`` (looked up from the working folder, then beside it);
        its keys are merged on top.
    overrides : mapping or iterable of (key, value) or None, default=None
        Dotted keys (``export.format``) set after reading the file; checked like keys
        in the file.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        Missing file, unknown key or wrong type, naming the key and the file.
    """
    data: dict = {}
    source = None
    if path is not None:
        source = str(path)
        data = _read_with_extends(Path(path))
    items = overrides.items() if isinstance(overrides, dict) else (overrides or [])
    override_keys = []
    for key, value in items:
        _apply_override(data, key, value)
        override_keys.append(key)
    try:
        cfg = from_mapping(Config, data, source=source)
    except ConfigError as exc:
        if override_keys and any(k.split(".")[0] in str(exc) for k in override_keys):
            raise ConfigError(f"{exc} (overrides given: {', '.join(override_keys)})") from None
        raise
    cfg.source = source
    return cfg


def dump_config(cfg: Config, path=None) -> str:
    """The resolved config as YAML text (written to ``path`` when given).

    Parameters
    ----------
    cfg : Config
        The config.
    path : str or path-like or None, default=None
        File to write.

    Returns
    -------
    str
    """
    import yaml

    text = yaml.safe_dump(to_mapping(cfg), sort_keys=True, allow_unicode=True)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def config_hash(obj) -> str:
    """SHA-256 of the canonical JSON of a config (dataclass or mapping)."""
    data = to_mapping(obj)
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()
