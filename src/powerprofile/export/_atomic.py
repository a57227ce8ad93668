"""Staged, crash-safe publication of an output folder (see ``_folders.py`` for the rules).

Files are written into a hidden staging folder *inside* the target (same file
system), flushed to disk, committed, then moved into place. A failure before the
commit leaves the target exactly as it was; a crash after it is completed on the next
use of the folder. Only the job's own files are replaced or deleted: anything else in
the target survives.
"""

from __future__ import annotations

import contextlib
import os
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
    """Complete or remove what an interrupted job left in the owned folder ``target``.

    A committed staging folder is moved into place; an uncommitted one is removed.
    Only folders the job recognisably wrote (``.powerprofile-tmp-*`` holding its
    staging marker) are touched. Nothing happens to a missing folder.

    Parameters
    ----------
    target : str or path-like
        The published folder.

    Raises
    ------
    OutputDirError
        ``target`` exists, is not empty and was not created by powerprofile.
    OutputDirBusyError
        Another job holds the folder.
    """
    from ._folders import output_folder

    if Path(target).expanduser().exists():
        with output_folder(target):  # recovery runs when the folder is opened
            pass


@contextlib.contextmanager
def atomic_directory(target, *, producer: str = "export", what: str = "output folder"):
    """Context manager yielding a staging folder published into ``target`` on success.

    Parameters
    ----------
    target : str or path-like
        The folder to publish into: missing, empty, or created by powerprofile.
    producer : str, default="export"
        Who writes: this producer's previous files that are not written again are
        deleted; nobody else's are.
    what : str, default="output folder"
        How error messages name the folder.

    Yields
    ------
    pathlib.Path
        The staging folder to write into.

    Notes
    -----
    On any exception inside the block the staging folder is removed and ``target``
    is left exactly as it was; the exception propagates. While the block runs the
    folder's lock is held, so a concurrent job fails fast with
    :class:`~powerprofile.exceptions.OutputDirBusyError`.
    """
    from ._folders import output_folder

    with output_folder(target, what=what) as folder, folder.staging(producer) as tmp:
        yield tmp
