"""The installed powerprofile as a wheel, and the pinned requirements of a logged model.

A registered model must rebuild its environment anywhere, from the registry's files
alone: no package index serves powerprofile, so the library travels with the model as
a wheel (``code/powerprofile-<version>-py3-none-any.whl``) that the model's
``requirements.txt`` names by that relative path, next to exact pins of its
dependencies as installed when the model was trained.

The wheel is packed from the installed package itself (an editable checkout or an
installed wheel alike): the package's files and the distribution's metadata, with
fixed timestamps, so the same code always gives the same bytes. Nothing is built,
downloaded or run.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from importlib import metadata
from pathlib import Path

__all__ = ["build_wheel", "model_requirements"]

DIST = "powerprofile"
WHEEL_FOLDER = "code"
"""Folder of a logged model that holds the wheel (MLflow's ``code_paths`` folder)."""

_EPOCH = (1980, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


def wheel_name() -> str:
    """File name of the wheel of the installed powerprofile."""
    version = metadata.version(DIST)
    return f"{DIST}-{version}-py3-none-any.whl"


def _package_files(root: Path):
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or _SKIP_DIRS & set(rel.parts) or path.suffix in _SKIP_SUFFIXES:
            continue
        yield path, rel


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(directory) -> Path:
    """Pack the installed powerprofile into a pure-Python wheel in ``directory``.

    Parameters
    ----------
    directory : str or path-like
        Folder (created if needed) that receives the wheel.

    Returns
    -------
    pathlib.Path
        The wheel, named as :func:`wheel_name`; the same installed code gives the same
        bytes.
    """
    import powerprofile

    dist = metadata.distribution(DIST)
    version = dist.version
    info = f"{DIST}-{version}.dist-info"
    package = Path(powerprofile.__file__).resolve().parent
    entries: list[tuple[str, bytes]] = [
        (f"{DIST}/{rel.as_posix()}", path.read_bytes()) for path, rel in _package_files(package)
    ]
    meta = (
        dist.read_text("METADATA") or f"Metadata-Version: 2.1\nName: {DIST}\nVersion: {version}\n"
    )
    entries.append((f"{info}/METADATA", meta.encode("utf-8")))
    entries.append(
        (
            f"{info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: powerprofile.tracking\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n",
        )
    )
    entry_points = dist.read_text("entry_points.txt")
    if entry_points:
        entries.append((f"{info}/entry_points.txt", entry_points.encode("utf-8")))
    record = "".join(_record_line(n, d) + "\n" for n, d in entries) + f"{info}/RECORD,,\n"
    entries.append((f"{info}/RECORD", record.encode("utf-8")))

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / wheel_name()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            item = zipfile.ZipInfo(name, date_time=_EPOCH)
            item.external_attr = 0o644 << 16
            item.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(item, data)
    return target


def model_requirements() -> list[str]:
    """Requirements of a logged model: the bundled wheel and exact pins of its dependencies.

    Returns
    -------
    list of str
        ``code/<wheel>`` (relative to the model folder, where MLflow and ``pip install
        -r requirements.txt`` run), then ``name==version`` for every runtime dependency
        of powerprofile as installed now (optional extras left out).
    """
    from packaging.requirements import Requirement

    reqs = [f"{WHEEL_FOLDER}/{wheel_name()}"]
    for spec in metadata.requires(DIST) or []:
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue  # an optional extra (dev, bench)
        try:
            reqs.append(f"{req.name}=={metadata.version(req.name)}")
        except metadata.PackageNotFoundError:
            reqs.append(str(req))
    return reqs
