"""Saved artefacts: every pickled object powerprofile writes or reads goes through here.

An artefact is a folder holding one pickle file and ``metadata.json``. The metadata
names the library and its version, the kind and class of the object, when it was
written, the size and SHA-256 of the pickle bytes and, when an artefact key is
configured, an HMAC-SHA256 signature over the whole metadata. Loading checks, in this
order and before a single byte is unpickled:

1. ``metadata.json`` exists, is JSON, and says ``powerprofile`` wrote it;
2. the kind and class are the ones the caller asked for;
3. with a key configured (``POWERPROFILE_ARTEFACT_KEY``), the signature is present and
   made with that key;
4. the pickle file has the recorded size and SHA-256, starts with a pickle protocol
   header and ends with the STOP opcode.

The verified bytes (read once, so the file cannot change between check and load) are
then unpickled by an unpickler that resolves only the globals a powerprofile artefact
needs: the fitted parts of powerprofile models and segmenters, scikit-learn's
classes, LightGBM estimators and boosters, numpy, pandas and scipy data classes (not
``numpy.memmap``), a few safe built-in types, and a fixed list of the
reconstruction functions numpy, pandas and pyarrow pickle with. Any other global
(``os.system``, ``builtins.eval``, ``subprocess.Popen``, ``pathlib.Path``,
``pandas.read_pickle`` ...) stops the load with :class:`ArtefactError`.

What this protects, and what it does not, is spelled out in ``docs/persistence.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import os
import pickle
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from .exceptions import ArtefactError, ConfigError

__all__ = [
    "ARTEFACT_KEY_ENV",
    "METADATA_FILE",
    "artefact_key",
    "load_artefact",
    "save_artefact",
    "verify_artefact",
]

log = logging.getLogger("powerprofile")

ARTEFACT_KEY_ENV = "POWERPROFILE_ARTEFACT_KEY"
"""Environment variable holding the secret that signs and verifies artefacts."""

METADATA_FILE = "metadata.json"
"""Name of the metadata file inside every artefact folder."""

_FORMAT = "powerprofile-artefact"
_FORMAT_VERSION = 1
_PROTOCOL = 5
_MIN_KEY_BYTES = 32
_SIGN_CONTEXT = b"powerprofile/artefact-signature/v1"
_KEY_ID_CONTEXT = b"powerprofile/artefact-key-id/v1"


# --------------------------------------------------------------------------- keys
def artefact_key(key: str | bytes | None = None) -> bytes | None:
    """The artefact signing key, or None when none is configured.

    Parameters
    ----------
    key : str or bytes or None, default=None
        Explicit key; when None the environment variable ``POWERPROFILE_ARTEFACT_KEY``
        is read. There is no built-in default.

    Returns
    -------
    bytes or None

    Raises
    ------
    ConfigError
        The key is shorter than 32 bytes.
    """
    if key is None:
        key = os.environ.get(ARTEFACT_KEY_ENV) or None
    if key is None:
        return None
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(raw) < _MIN_KEY_BYTES:
        raise ConfigError(
            f"the artefact key ({ARTEFACT_KEY_ENV}) is {len(raw)} bytes long; it needs at "
            f"least {_MIN_KEY_BYTES}. Generate one with "
            '`python -c "import secrets; print(secrets.token_urlsafe(32))"`.'
        )
    return raw


def _key_id(key: bytes) -> str:
    return hashlib.sha256(_KEY_ID_CONTEXT + key).hexdigest()[:16]


def _canonical(meta: dict) -> bytes:
    """The bytes a signature covers: the metadata without the signature, canonical JSON."""
    art = {k: v for k, v in meta["artefact"].items() if k != "signature"}
    body = {**meta, "artefact": art}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _sign(meta: dict, key: bytes) -> str:
    mac_key = hmac.new(key, _SIGN_CONTEXT, hashlib.sha256).digest()
    return hmac.new(mac_key, _canonical(meta), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- save
def _library_versions() -> dict:
    from . import __version__

    out = {"powerprofile": __version__, "python": platform.python_version()}
    for name in ("numpy", "pandas", "sklearn", "lightgbm", "scipy"):
        module = sys.modules.get(name)
        if module is not None:
            out["scikit-learn" if name == "sklearn" else name] = module.__version__
    return out


def _class_name(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _write_atomic(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_artefact(
    obj,
    folder,
    *,
    kind: str,
    file: str = "model.pkl",
    metadata: dict | None = None,
    key: str | bytes | None = None,
) -> Path:
    """Pickle ``obj`` into ``folder`` with its ``metadata.json``.

    Both files are written to temporary names and renamed (the pickle first), so an
    interrupted save leaves either the previous artefact or one that is refused on
    load, never a half-written file that loads.

    Parameters
    ----------
    obj : object
        The object to save (a fitted model or segmenter).
    folder : str or path-like
        Target folder, created if missing.
    kind : str
        What the object is (``"propensity_model"``, ``"segmenter"``, ``"estimator"``);
        loading asks for a kind and refuses any other.
    file : str, default="model.pkl"
        Name of the pickle file inside ``folder``.
    metadata : dict or None, default=None
        Readable facts to store beside the artefact block (JSON-serialisable; other
        values are written as text).
    key : str or bytes or None, default=None
        Signing key; default ``POWERPROFILE_ARTEFACT_KEY``. Without one the artefact
        is checksummed but not signed.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    _check_file_name(file, folder)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    secret = artefact_key(key)
    data = pickle.dumps(obj, protocol=_PROTOCOL)
    block = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "library": "powerprofile",
        "library_version": _library_versions()["powerprofile"],
        "versions": _library_versions(),
        "kind": kind,
        "class": _class_name(type(obj)),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "file": file,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "pickle_protocol": _PROTOCOL,
        "signature": None,
    }
    meta = {k: v for k, v in (metadata or {}).items() if k != "artefact"}
    meta["artefact"] = block
    # what is signed is what a reader parses back: normalise through JSON first
    meta = json.loads(json.dumps(meta, ensure_ascii=False, default=str))
    if secret is not None:
        meta["artefact"]["signature"] = {
            "algorithm": "hmac-sha256",
            "key_id": _key_id(secret),
            "value": _sign(meta, secret),
        }
    _write_atomic(folder / file, data)
    text = json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
    _write_atomic(folder / METADATA_FILE, text.encode("utf-8"))
    log.debug("saved %s artefact %s (%s)", kind, folder, "signed" if secret else "unsigned")
    return folder


# --------------------------------------------------------------------------- verify
def _check_file_name(name, where) -> None:
    if (
        not isinstance(name, str)
        or not name
        or "\x00" in name
        or Path(name).name != name
        or name.startswith(".")
    ):
        raise ArtefactError(
            f"artefact {str(where)!r}: pickle file name {name!r} is not a plain file name; "
            "the metadata was not written by powerprofile."
        )


def _locate(path) -> tuple[Path, str | None]:
    """(folder, file name asked for or None) of an artefact folder or its pickle file."""
    p = Path(path)
    if p.is_dir():
        return p, None
    if p.is_file():
        return p.parent, p.name
    raise FileNotFoundError(
        f"artefact {str(path)!r} does not exist; give the folder written by save() "
        "(or the pickle file inside it)."
    )


def _refuse(path, why: str, fix: str = "") -> ArtefactError:
    tail = f" {fix}" if fix else ""
    return ArtefactError(f"refusing to load {str(path)!r}: {why}; nothing was unpickled.{tail}")


_RESAVE = (
    "Load only folders written by powerprofile's save() (PropensityModel.save, "
    "CustomerSegmenter.save, `powerprofile run`), or retrain."
)


def _verified(path, kind: str, cls, key) -> tuple[bytes, dict, Path]:
    folder, asked = _locate(path)
    meta_file = folder / METADATA_FILE
    if not meta_file.is_file():
        raise _refuse(path, f"there is no {METADATA_FILE!r} beside it", _RESAVE)
    try:
        meta = json.loads(meta_file.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _refuse(path, f"{str(meta_file)!r} is not valid JSON ({exc})", _RESAVE) from None
    art = meta.get("artefact") if isinstance(meta, dict) else None
    if not isinstance(art, dict) or (art.get("format"), art.get("library")) != (
        _FORMAT,
        "powerprofile",
    ):
        raise _refuse(
            path,
            f"{str(meta_file)!r} has no powerprofile artefact block (written by an older "
            "version or by something else)",
            _RESAVE,
        )
    if art.get("format_version") != _FORMAT_VERSION:
        raise _refuse(
            path,
            f"artefact format version {art.get('format_version')!r} is not "
            f"{_FORMAT_VERSION!r}, the one this version of powerprofile reads",
            "Re-save it with this version.",
        )
    if art.get("kind") != kind:
        raise _refuse(
            path,
            f"it is a {art.get('kind')!r} artefact, not a {kind!r}",
            f"Give the folder of a saved {kind}.",
        )
    if cls is not None and art.get("class") != _class_name(cls):
        raise _refuse(
            path,
            f"it holds a {art.get('class')!r}, not a {_class_name(cls)!r}",
            f"Give the folder of a saved {cls.__name__}.",
        )
    file = art.get("file")
    _check_file_name(file, path)
    if asked is not None and asked not in (file, METADATA_FILE):
        raise _refuse(path, f"its metadata describes {file!r}, not {asked!r}", _RESAVE)
    secret = artefact_key(key)
    sig = art.get("signature")
    if secret is not None:
        if not isinstance(sig, dict) or not isinstance(sig.get("value"), str):
            raise _refuse(
                path,
                f"it is not signed, and {ARTEFACT_KEY_ENV} is set",
                "Re-save it with the key set, or unset the key to accept unsigned artefacts.",
            )
        if sig.get("algorithm") != "hmac-sha256" or not hmac.compare_digest(
            sig["value"].encode("utf-8"), _sign(meta, secret).encode("ascii")
        ):
            raise _refuse(
                path,
                f"its signature does not match {ARTEFACT_KEY_ENV} (signed with key id "
                f"{sig.get('key_id')!r}, configured key id {_key_id(secret)!r}), so the "
                "file or its metadata was changed or signed with another key",
                "Re-save it with the configured key.",
            )
    elif sig:
        log.debug("%s is signed but no %s is set: signature not checked", path, ARTEFACT_KEY_ENV)
    target = folder / file
    if not target.is_file():
        raise _refuse(path, f"its pickle file {str(target)!r} is missing", _RESAVE)
    data = target.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    recorded = str(art.get("sha256")).encode("utf-8")
    if len(data) != art.get("size") or not hmac.compare_digest(digest.encode("ascii"), recorded):
        raise _refuse(
            path,
            f"{str(target)!r} does not match its metadata (size {len(data)} vs "
            f"{art.get('size')!r}, SHA-256 {digest[:16]}... vs {str(art.get('sha256'))[:16]}...): "
            "it is corrupted or was modified",
            _RESAVE,
        )
    if len(data) < 3 or data[0] != 0x80 or not 2 <= data[1] <= pickle.HIGHEST_PROTOCOL:
        raise _refuse(path, f"{str(target)!r} does not start with a pickle protocol header")
    if data[-1:] != pickle.STOP:
        raise _refuse(path, f"{str(target)!r} does not end with the pickle STOP opcode")
    return data, meta, target


def verify_artefact(path, *, kind: str, cls=None, key: str | bytes | None = None) -> dict:
    """Check an artefact without unpickling it, and return its metadata.

    Parameters
    ----------
    path : str or path-like
        The artefact folder (or the pickle file inside it).
    kind : str
        Expected kind.
    cls : type or None, default=None
        Expected class (None accepts any class).
    key : str or bytes or None, default=None
        Verification key; default ``POWERPROFILE_ARTEFACT_KEY``. When a key is given
        or configured, an unsigned artefact or one signed with another key is refused.

    Returns
    -------
    dict
        The parsed ``metadata.json``.

    Raises
    ------
    ArtefactError
        Missing or foreign metadata, another kind or class, a missing or wrong
        signature, a checksum mismatch, or a file that is not a pickle.
    FileNotFoundError
        Nothing exists at ``path``.
    """
    return _verified(path, kind, cls, key)[1]


def load_artefact(path, *, kind: str, cls=None, key: str | bytes | None = None):
    """Verify an artefact (see :func:`verify_artefact`), then unpickle it restrictedly.

    Parameters
    ----------
    path : str or path-like
        The artefact folder (or the pickle file inside it).
    kind : str
        Expected kind.
    cls : type or None, default=None
        Expected class; the loaded object must be an instance of it.
    key : str or bytes or None, default=None
        Verification key; default ``POWERPROFILE_ARTEFACT_KEY``.

    Returns
    -------
    object

    Raises
    ------
    ArtefactError
        The checks of :func:`verify_artefact` fail, or the pickle refers to a global
        an artefact never needs, or cannot be rebuilt.
    FileNotFoundError
        Nothing exists at ``path``.
    """
    data, _meta, target = _verified(path, kind, cls, key)
    try:
        obj = _RestrictedUnpickler(io.BytesIO(data), str(target)).load()
    except ArtefactError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to rebuild is a bad artefact
        raise ArtefactError(
            f"cannot rebuild {str(target)!r}: {type(exc).__name__}: {str(exc)[:300]}. "
            "It may need other library versions than installed; "
            f"saved with {_meta['artefact'].get('versions')!r}."
        ) from exc
    if cls is not None and not isinstance(obj, cls):
        raise ArtefactError(
            f"{str(target)!r} holds a {type(obj).__name__!r}, not a {cls.__name__!r}."
        )
    return obj


# --------------------------------------------------------------------------- unpickler
_ROOTS = frozenset(
    {
        "powerprofile",
        "sklearn",
        "lightgbm",
        "numpy",
        "pandas",
        "scipy",
        "pyarrow",
        "builtins",
        "collections",
        "datetime",
        "zoneinfo",
    }
)

# Exact globals allowed whatever their type: safe built-in types and the functions
# numpy, pandas and pyarrow pickle their objects with (they rebuild data, nothing else).
_EXACT = (
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "slice"),
    ("builtins", "complex"),
    ("builtins", "range"),
    ("builtins", "bytearray"),
    ("builtins", "bytes"),
    ("builtins", "dict"),
    ("builtins", "list"),
    ("builtins", "tuple"),
    ("builtins", "int"),
    ("builtins", "float"),
    ("builtins", "str"),
    ("builtins", "bool"),
    ("builtins", "object"),
    ("collections", "OrderedDict"),
    ("collections", "defaultdict"),
    ("collections", "deque"),
    ("collections", "Counter"),
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("datetime", "time"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("zoneinfo", "ZoneInfo"),
    ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.random._pickle", "__randomstate_ctor"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pickle", "__generator_ctor"),
    ("numpy.random.bit_generator", "SeedSequence"),
    ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
    ("pandas._libs.internals", "_unpickle_block"),
    ("pandas.core.indexes.base", "_new_Index"),
    ("pandas.core.indexes.datetimes", "_new_DatetimeIndex"),
    ("pandas.core.indexes.period", "_new_PeriodIndex"),
    ("pandas.core.indexes.interval", "_new_IntervalIndex"),
    ("pandas.core.indexes.timedeltas", "_new_TimedeltaIndex"),
    ("pandas._libs.tslibs.timestamps", "_unpickle_timestamp"),
    ("pandas._libs.tslibs.timedeltas", "_timedelta_unpickle"),
    ("pandas._libs.tslibs.nattype", "_nat_unpickle"),
    ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"),
    ("pandas.core.internals.managers", "BlockManager"),
    ("pandas.core.internals.managers", "SingleBlockManager"),
    ("pyarrow.lib", "_restore_array"),
    ("pyarrow.lib", "_reconstruct_table"),
    ("pyarrow.lib", "_reconstruct_record_batch"),
    ("pyarrow.lib", "py_buffer"),
    ("pyarrow.lib", "type_for_alias"),
    ("pyarrow.lib", "schema"),
    ("pyarrow.lib", "field"),
    ("lightgbm.basic", "Booster"),
)


def _resolve_exact() -> set[int]:
    import importlib

    out = set()
    for module, name in _EXACT:
        try:
            mod = sys.modules.get(module) or importlib.import_module(module)
            out.add(id(getattr(mod, name)))
        except (ImportError, AttributeError):  # another library version: not needed
            continue
    return out


def _safe_bases() -> tuple:
    """Classes whose subclasses only hold data or parameters when constructed."""
    import numpy as np
    import pandas as pd
    from pandas.api.extensions import ExtensionArray, ExtensionDtype
    from pandas.tseries.offsets import BaseOffset
    from sklearn.base import BaseEstimator

    return (
        BaseEstimator,
        np.ndarray,
        np.dtype,
        np.generic,
        np.random.RandomState,
        np.random.Generator,
        np.random.BitGenerator,
        pd.Index,
        pd.Series,
        pd.DataFrame,
        ExtensionArray,
        ExtensionDtype,
        pd.Timestamp,
        pd.Timedelta,
        pd.Period,
        pd.Interval,
        BaseOffset,
    )


def _unsafe_bases() -> tuple:
    """Subclasses of safe bases that touch files when constructed."""
    import numpy as np

    return (np.memmap,)


_ALLOWED: dict[str, object] = {}


def _allowed(obj) -> bool:
    if "exact" not in _ALLOWED:
        _ALLOWED["exact"] = _resolve_exact()
        _ALLOWED["safe"] = _safe_bases()
        _ALLOWED["unsafe"] = _unsafe_bases()
    if id(obj) in _ALLOWED["exact"]:
        return True
    if not isinstance(obj, type):
        return False
    root = (obj.__module__ or "").partition(".")[0]
    if root not in _ROOTS - {"builtins", "collections", "datetime", "zoneinfo"}:
        return False
    if issubclass(obj, _ALLOWED["unsafe"]):
        return False
    if obj.__module__.startswith(("powerprofile.models.", "powerprofile.segmentation.")):
        return True  # the fitted parts of models and segmenters
    parts = obj.__module__.split(".")
    if root == "sklearn" and not {"externals", "tests", "_testing", "_mocking"} & set(parts):
        return True  # scikit-learn's own classes hold fitted state (trees, losses, ...)
    if issubclass(obj, _ALLOWED["safe"]):
        return True
    # scipy containers that scikit-learn estimators keep (sparse matrices, interpolants)
    return obj.__module__.startswith(("scipy.sparse", "scipy.interpolate"))


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals a powerprofile artefact needs."""

    def __init__(self, file, where: str):
        super().__init__(file)
        self._where = where

    def _deny(self, module: str, name: str) -> ArtefactError:
        return ArtefactError(
            f"refusing to load {self._where!r}: it refers to {module}.{name}, which a "
            "powerprofile artefact never needs (a crafted or foreign pickle); the load "
            "stopped before it was called."
        )

    def find_class(self, module: str, name: str):
        parts = module.split(".")
        # importing an arbitrary module can run code: only the libraries artefacts use,
        # and never a script entry point
        if parts[0] not in _ROOTS or "__main__" in parts:
            raise self._deny(module, name)
        try:
            obj = super().find_class(module, name)
        except (ImportError, AttributeError) as exc:
            raise ArtefactError(
                f"cannot load {self._where!r}: {module}.{name} does not exist in the "
                f"installed libraries ({type(exc).__name__}: {exc})."
            ) from None
        if not _allowed(obj):
            raise self._deny(module, name)
        return obj
