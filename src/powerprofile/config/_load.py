"""Reading, merging and overriding YAML configs."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import re
import typing
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


def _is_relative_path(value) -> bool:
    """A relative local path (not absolute, not ``~/...``, not a URL such as ``s3://``)."""
    return (
        isinstance(value, str)
        and value != ""
        and "://" not in value
        and not value.startswith("~")
        and not Path(value).is_absolute()
    )


def _map_paths(data: dict, change, cls=Config) -> None:
    """Replace each relative path value of a config mapping by ``change(value)``, in place.

    The path fields are those marked ``PATH`` in the dataclasses.
    """
    if not isinstance(data, dict) or not dataclasses.is_dataclass(cls):
        return
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.metadata.get("path") and _is_relative_path(value):
            data[f.name] = change(value)
        elif dataclasses.is_dataclass(hints.get(f.name)):
            _map_paths(value, change, hints[f.name])


def _rebase_paths(data: dict, folder: Path) -> None:
    """Make the relative paths of a config file's mapping relative to ``folder`` (in place).

    ``folder`` is the config file's folder as given (relative stays relative), so
    ``../data/sample`` in ``configs/demo.yaml`` becomes ``data/sample``.
    """
    _map_paths(data, lambda value: os.path.normpath(os.path.join(folder, value)))


def _read_with_extends(path: Path, seen: tuple = ()) -> dict:
    if path.resolve() in seen:
        chain = " -> ".join(str(p) for p in (*seen, path.resolve()))
        raise ConfigError(f"config file {str(path)!r} extends itself (cycle: {chain}).")
    data = read_yaml(path)
    parent = data.pop("extends", None)
    _rebase_paths(data, path.parent)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ConfigError(
            f"config key 'extends' in {str(path)!r} must be a file path, got {parent!r}."
        )
    parent_path = Path(parent).expanduser()
    if not parent_path.is_absolute():
        parent_path = path.parent / parent_path  # relative to the extending file
    if not parent_path.is_file():
        hint = ""
        if not Path(parent).is_absolute() and Path(parent).is_file():
            hint = (
                f" ({parent!r} exists relative to the working folder, but an 'extends' path "
                f"is relative to the folder of the file that names it: write "
                f"{os.path.relpath(Path(parent).resolve(), path.parent.resolve())!r})"
            )
        raise ConfigError(
            f"config file {str(path)!r} extends {parent!r}, which does not exist: looked for "
            f"it at {str(parent_path.resolve())!r} only (an 'extends' path is relative to the "
            f"folder of the file that names it){hint}; fix the 'extends' path."
        )
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


class _Origins:
    """Where each key of a loaded config came from, for error messages.

    ``str()`` is the config file (or ``None``); :meth:`where` names the override that
    set a key (``--set seed=x`` from the command line) or else the file.
    """

    def __init__(self, file: str | None, overrides: dict[str, str]):
        self.file = file
        self.overrides = overrides

    def __str__(self) -> str:
        return str(self.file)

    def __bool__(self) -> bool:
        return bool(self.file or self.overrides)

    def where(self, key: str | None) -> str:
        """`` (set by --set seed=x)`` for an overridden key, else `` in 'file'``."""
        if key is not None:
            plain = re.sub(r"\[[0-9]+\]", "", key)
            for over, label in self.overrides.items():
                if plain == over or plain.startswith(over + ".") or over.startswith(plain + "."):
                    return f" (set by {label})"
        return f" in {self.file!r}" if self.file else ""


def load_config(path=None, overrides=None) -> Config:
    """Load, merge and validate a job config.

    Relative paths in a config file (``data.path``, ``output_dir``, rule, campaign and
    list files) are relative to that file's folder; paths in ``overrides`` and the
    built-in defaults are relative to the working folder.

    Parameters
    ----------
    path : str or path-like or None, default=None
        YAML file; None gives the built-in defaults. A file may name another with
        ``extends: other.yaml`` (relative to the extending file's folder, whose own
        paths are relative to its folder); its keys are merged on top.
    overrides : mapping or iterable of tuples or None, default=None
        Dotted keys (``export.format``) set after reading the file; checked like keys
        in the file. Items are ``(key, value)`` or ``(key, value, label)``, where
        ``label`` is how the override was given (``"--set seed=x"``, ``"--seed"``)
        and names it in error messages.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        Missing file, unknown key or wrong type, naming the key and the file or the
        override that set it.
    """
    data: dict = {}
    source = None
    if path is not None:
        source = str(path)
        data = _read_with_extends(Path(path))
    items = overrides.items() if isinstance(overrides, dict) else (overrides or [])
    labels = {}
    for item in items:
        key, value, *label = item
        _apply_override(data, key, value)
        labels[key] = label[0] if label else f"the override {key}={value!r}"
    cfg = from_mapping(Config, data, source=_Origins(source, labels) if labels else source)
    cfg.source = source
    return cfg


def dump_config(cfg: Config, path=None) -> str:
    """The resolved config as YAML text (written to ``path`` when given).

    Its paths are absolute (resolved from the working folder), so the file loads back
    to the same config from any folder.

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

    data = to_mapping(cfg)
    _map_paths(data, os.path.abspath)  # loads back the same from any folder
    text = yaml.safe_dump(data, sort_keys=True, allow_unicode=True)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def config_hash(obj) -> str:
    """SHA-256 of the canonical JSON of a config (dataclass or mapping)."""
    data = to_mapping(obj)
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()
