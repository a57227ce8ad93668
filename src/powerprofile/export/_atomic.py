"""Atomic replacement of an output folder.

Files are written into a hidden sibling folder (same parent, so the same file
system), flushed to disk, then swapped in with two renames. A crash before the
swap leaves the previous folder untouched; the brief moment between the two renames
is repaired on the next run (the previous folder is restored if the new one is
missing).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

__all__ = ["atomic_directory", "fsync_tree", "recover_directory"]


def _fsync_path(path: Path, *, directory: bool) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def fsync_tree(root) -> None:
    """Flush every file and folder under ``root`` to disk.

    Parameters
    ----------
    root : str or path-like
        Folder to flush.
    """
    root = Path(root)
    for dirpath, _dirnames, filenames in os.walk(root):
        for f in filenames:
            _fsync_path(Path(dirpath) / f, directory=False)
        _fsync_path(Path(dirpath), directory=True)


def recover_directory(target) -> None:
    """Restore ``target`` from a left-over previous copy after an interrupted swap.

    Parameters
    ----------
    target : str or path-like
        The published folder.
    """
    target = Path(target)
    olds = sorted(target.parent.glob(f".{target.name}.old-*")) if target.parent.exists() else []
    if not target.exists() and olds:
        os.replace(olds[-1], target)
        olds = olds[:-1]
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)
    if target.parent.exists():
        for tmp in target.parent.glob(f".{target.name}.tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_directory(target):
    """Context manager yielding a temporary folder that replaces ``target`` on success.

    Parameters
    ----------
    target : str or path-like
        The folder to publish. Its parent is created if needed.

    Yields
    ------
    pathlib.Path
        The temporary folder to write into.

    Notes
    -----
    On any exception inside the block the temporary folder is removed and ``target``
    is left exactly as it was; the exception propagates.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_directory(target)
    token = uuid.uuid4().hex[:12]
    tmp = target.parent / f".{target.name}.tmp-{token}"
    tmp.mkdir()
    try:
        yield tmp
        fsync_tree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = target.parent / f".{target.name}.old-{token}"
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    _fsync_path(target.parent, directory=True)
    shutil.rmtree(old, ignore_errors=True)
