"""Output folders the job owns: a marker, a lock, staged writes, no foreign file touched.

Rules (stated once here; the CLI, :func:`~powerprofile.pipeline.run_pipeline` and
:func:`~powerprofile.export.export_campaigns` all go through :func:`output_folder`):

1. **Safe places only.** The working folder, any folder containing it, the home
   folder (and its ancestors) and the file-system root are refused up front.
2. **Ownership.** A folder belongs to the job when it holds the marker file
   ``.powerprofile-output`` (JSON: what created it, when, and which files the job
   wrote there). A missing or empty folder is claimed (marker written); an existing
   non-empty folder without the marker is refused with :class:`OutputDirError`.
3. **Nothing outside the folder, nothing through a link.** The marker is only a claim
   (anyone who can write the folder can write one), so it can never reach further than
   the folder: an entry that is absolute or climbs out (``..``) makes the marker
   unreadable, and a folder holding a symbolic link anywhere inside (a planted
   ``export -> /elsewhere`` or ``.powerprofile-lock -> /etc/passwd``) is refused, so no
   write, move or deletion of the job ever follows a link out of the folder.
4. **Nothing foreign is deleted or overwritten.** Files are written into a hidden
   staging folder inside the owned folder and then moved into place one by one; the
   job deletes only files its marker says it wrote (those of the same producer it no
   longer writes, and stale files of a nested owned folder it rewrites). A new file
   whose name is taken by a file the job did not write is refused before anything
   moves. Everything else (your ``notes.md``, your sub-folders) is left alone.
5. **One job at a time.** A lock file ``.powerprofile-lock`` (holder pid, host, start
   time, command) makes a second job on the same folder fail fast with
   :class:`OutputDirBusyError`; a lock left by a killed job is taken over with a
   warning.
6. **Crash consistency.** Staged files are flushed to disk, then a commit record is
   written into the staging folder; only then do files move. A staging folder left
   by a crash is rolled forward on the next use of the folder if it was committed,
   and removed otherwise (only folders named ``.powerprofile-tmp-*`` that hold the
   staging marker are ever removed).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import logging
import os
import shutil
import socket
import sys
import threading
import uuid
from pathlib import Path

from ..exceptions import OutputDirBusyError, OutputDirError
from ._atomic import _fsync_path, fsync_tree

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: O_EXCL lock files and pid checks
    fcntl = None

__all__ = ["MARKER", "OutputFolder", "check_output_path", "output_folder"]

log = logging.getLogger("powerprofile")

MARKER = ".powerprofile-output"
LOCK = ".powerprofile-lock"
STAGING_PREFIX = ".powerprofile-tmp-"
_STAGING_MARKER = ".powerprofile-staging"
_COMMIT = ".powerprofile-commit"
_FORMAT = 1

# folders held by this process: (resolved path, thread) -> [OutputFolder, depth]
_HELD: dict[str, list] = {}
_HELD_LOCK = threading.RLock()


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _version() -> str:
    from .. import __version__

    return f"powerprofile {__version__}"


def _control(name: str) -> bool:
    """Names of the job's own bookkeeping files, never outputs (the marker excepted)."""
    return (
        name in (LOCK, _STAGING_MARKER, _COMMIT)
        or name.startswith(STAGING_PREFIX)
        or (name.startswith(".powerprofile-") and name.endswith(".part"))
    )


# ----------------------------------------------------------------------------- paths


def check_output_path(path, *, what: str = "output folder", require_owned: bool = True) -> Path:
    """Refuse output folders that must never be written into wholesale.

    Parameters
    ----------
    path : str or path-like
        The folder.
    what : str, default="output folder"
        How the folder is named in the message (e.g. ``"export folder"``).
    require_owned : bool, default=True
        Also refuse an existing non-empty folder without the powerprofile marker.

    Returns
    -------
    pathlib.Path
        The absolute, resolved folder.

    Raises
    ------
    OutputDirError
        For the file-system root, the working folder or a folder containing it, the
        home folder or a folder containing it, an existing file, and an existing
        non-empty folder that powerprofile did not create (no marker).

    Notes
    -----
    Reads only: call it before any work to fail early; :func:`output_folder` calls
    it again when it takes the folder.
    """
    given = Path(path).expanduser()
    target = given.resolve()
    fix = "choose a new or empty folder, e.g. --out out/run1"
    cwd = Path.cwd().resolve()
    if target.parent == target:
        raise OutputDirError(f"{what} {str(given)!r} is the file-system root; {fix}.")
    if target == cwd or cwd.is_relative_to(target):
        which = (
            "is the working folder"
            if target == cwd
            else f"contains the working folder {str(cwd)!r}"
        )
        raise OutputDirError(f"{what} {str(given)!r} {which}; {fix}.")
    with contextlib.suppress(RuntimeError, KeyError):
        home = Path.home().resolve()
        if home.is_relative_to(target):
            which = (
                "is the home folder"
                if target == home
                else f"contains the home folder {str(home)!r}"
            )
            raise OutputDirError(f"{what} {str(given)!r} {which}; {fix}.")
    if target.exists() and not target.is_dir():
        raise OutputDirError(f"{what} {str(given)!r} is a file, not a folder; {fix}.")
    if require_owned:
        _owned_state(target, what=what)
    return target


def _inside(name) -> bool:
    """Whether a marker entry names a path inside its folder: relative, no ``..``."""
    if not isinstance(name, str) or not name or "\x00" in name or "\\" in name:
        return False
    return not name.startswith("/") and all(p not in ("", ".", "..") for p in name.split("/"))


def _read_marker(folder: Path) -> dict | None:
    """The marker of ``folder`` (None when absent); OutputDirError when unreadable."""
    m = folder / MARKER
    if not m.exists() and not m.is_symlink():
        return None
    try:
        if m.is_symlink():
            raise ValueError("it is a symbolic link, not a file the job wrote")
        data = json.loads(m.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "powerprofile_output" not in data:
            raise ValueError("not a powerprofile marker")
        files = data.get("files", {})
        if not isinstance(files, dict):
            raise ValueError("'files' is not a mapping")
        outside = sorted(str(f) for f in files if not _inside(f))
        if outside:
            raise ValueError(
                f"it lists {len(outside)} path(s) outside the folder ({outside[0]!r}); "
                "powerprofile never writes those, so the marker was altered"
            )
    except (OSError, ValueError) as exc:
        raise OutputDirError(
            f"{str(m)!r} is not a readable powerprofile marker ({exc}); if the folder is "
            "yours, move your files elsewhere and delete the folder, or choose another folder."
        ) from exc
    return data


def _links(folder: Path) -> list[str]:
    """Relative paths of the symbolic links anywhere under ``folder`` (none followed)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        for name in [*dirnames, *filenames]:
            if (here / name).is_symlink():
                out.append((here / name).relative_to(folder).as_posix())
    return sorted(out)


def _refuse_links(folder: Path, *, what: str) -> None:
    """OutputDirError when ``folder`` holds a symbolic link: no write may follow one."""
    links = _links(folder)
    if links:
        shown = ", ".join(f"{n!r} -> {os.readlink(folder / n)!r}" for n in links[:3]) + (
            ", ..." if len(links) > 3 else ""
        )
        raise OutputDirError(
            f"{what} {str(folder)!r} holds {len(links)} symbolic link(s) ({shown}); "
            "powerprofile never writes, moves or deletes through a link (it could reach "
            "outside the folder), so nothing was written. Remove the link(s) or choose "
            "another folder."
        )


def _owned_state(folder: Path, *, what: str) -> str:
    """``"owned"``, ``"empty"`` or ``"missing"``; OutputDirError for a foreign folder."""
    if not folder.exists():
        return "missing"
    if _read_marker(folder) is not None:
        _refuse_links(folder, what=what)
        return "owned"
    entries = sorted(p.name for p in folder.iterdir())
    if entries:
        shown = ", ".join(repr(n) for n in entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise OutputDirError(
            f"{what} {str(folder)!r} is not empty ({len(entries)} entries: {shown}) and was not "
            f"created by powerprofile (no {MARKER!r} marker); nothing was written. Choose a new "
            "or empty folder; powerprofile only writes into folders it created."
        )
    return "empty"


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + f".{uuid.uuid4().hex[:8]}.part")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, ensure_ascii=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_path(path.parent, directory=True)


# ----------------------------------------------------------------------------- lock


class _Lock:
    """The folder's lock file, held with ``fcntl.flock`` for the life of the job.

    Why ``flock`` rather than ``O_CREAT | O_EXCL`` alone: the kernel drops a flock when
    its holder dies, however it dies (SIGKILL, power loss of the process), so
    "is the lock stale?" is answered exactly, without guessing from a pid that may
    have been reused, and two jobs finding the same stale lock cannot both take it over
    (only one gets the flock). The file still records the holder (pid, host, start
    time, command) so the error can name it, and a file left with content by a killed
    holder is reported as a stale lock taken over. Where ``fcntl`` does not exist, the
    lock file is created with ``O_CREAT | O_EXCL`` and a holder whose pid no longer
    runs on this host is treated as gone.
    """

    def __init__(self, folder: Path, what: str):
        self.path = folder / LOCK
        self.folder = folder
        self.what = what
        self.fd: int | None = None

    def _holder(self, text: str) -> str:
        if not text.strip():
            return "a job that is just starting"
        try:
            info = json.loads(text)
            return (
                f"pid {info.get('pid')} on host {info.get('host')!r}, started "
                f"{info.get('started_at')}: {info.get('command', '?')}"
            )
        except ValueError:
            return "an unknown holder (unreadable lock file)"

    def _busy(self, text: str) -> OutputDirBusyError:
        return OutputDirBusyError(
            f"{self.what} {str(self.folder)!r} is in use by another powerprofile job "
            f"({self._holder(text)}); wait for it to finish or choose another folder. "
            f"If no such job runs, delete {str(self.path)!r}."
        )

    def _info(self) -> str:
        return json.dumps(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started_at": _now(),
                "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:500],
            },
            sort_keys=True,
        )

    def _stale(self, text: str) -> None:
        if not text.strip():
            return
        try:
            info = json.loads(text)
            pid, host = int(info.get("pid")), info.get("host")
        except (ValueError, TypeError):
            pid, host = None, None
        gone = ""
        if pid is not None and host == socket.gethostname() and not _alive(pid):
            gone = f"; pid {pid} no longer runs"
        log.warning(
            "%s %r: taking over a stale lock left by a job that did not finish (%s%s)",
            self.what,
            str(self.folder),
            self._holder(text),
            gone,
        )

    def _open_fd(self, flags: int) -> int:
        """Open the lock file, never through a symbolic link (it could name any file)."""
        try:
            return os.open(self.path, flags | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as exc:
            if exc.errno != errno.ELOOP and not self.path.is_symlink():
                raise
            raise OutputDirError(
                f"{self.what} {str(self.folder)!r}: its lock file {str(self.path)!r} is a "
                f"symbolic link (to {os.readlink(self.path)!r}); powerprofile never writes "
                "through a link, so nothing was written. Delete the link."
            ) from None

    def acquire(self) -> None:
        if fcntl is None:  # pragma: no cover
            return self._acquire_excl()
        while True:
            fd = self._open_fd(os.O_RDWR | os.O_CREAT)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                text = _read_fd(fd)
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise self._busy(text) from None
                raise
            try:  # the holder may have removed the file between our open and flock
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            self._stale(_read_fd(fd))
            os.ftruncate(fd, 0)
            os.pwrite(fd, self._info().encode(), 0)
            os.fsync(fd)
            self.fd = fd
            return None

    def _acquire_excl(self) -> None:  # pragma: no cover - platforms without fcntl
        for _ in range(2):
            try:
                fd = self._open_fd(os.O_RDWR | os.O_CREAT | os.O_EXCL)
            except FileExistsError:
                text = self.path.read_text(encoding="utf-8", errors="replace")
                try:
                    info = json.loads(text)
                    alive = info.get("host") != socket.gethostname() or _alive(int(info["pid"]))
                except (ValueError, KeyError, TypeError):
                    alive = False
                if alive:
                    raise self._busy(text) from None
                self._stale(text)
                self.path.unlink(missing_ok=True)
                continue
            os.write(fd, self._info().encode())
            self.fd = fd
            return
        raise self._busy("")

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self.fd)  # closing drops the flock
        self.fd = None


def _read_fd(fd: int) -> str:
    try:
        return os.pread(fd, 65536, 0).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # pragma: no cover
        return False
    return True


# ----------------------------------------------------------------------------- folder


def _walk_files(root: Path, *, top_control: bool) -> list[str]:
    """Relative paths (POSIX) of the files under ``root``, bookkeeping files excluded."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        rel_dir = here.relative_to(root)
        top = rel_dir == Path(".")
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(STAGING_PREFIX))
        for f in sorted(filenames):
            if _control(f) or (top and top_control and f == MARKER):
                continue
            out.append((rel_dir / f).as_posix())
    return out


def _walk_dirs(root: Path) -> list[str]:
    out = []
    for dirpath, dirnames, _ in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(STAGING_PREFIX))
        for d in dirnames:
            out.append((Path(dirpath) / d).relative_to(root).as_posix())
    return out


def _owned_files(folder: Path, marker: dict | None, extra_nested=()) -> set[str]:
    """Files the job wrote in ``folder``, following nested owned folders it wrote."""
    if marker is None:
        return set()
    files = set(marker.get("files", {}))
    out = set(files)
    nested = {f for f in files if f.endswith("/" + MARKER)} | set(extra_nested)
    for m in sorted(nested):
        sub = m[: -len(MARKER) - 1]
        sub_path = folder / sub
        try:
            sub_marker = _read_marker(sub_path) if sub_path.is_dir() else None
        except OutputDirError:
            sub_marker = None
        out |= {f"{sub}/{f}" for f in _owned_files(sub_path, sub_marker)}
    return out


class OutputFolder:
    """An owned, locked output folder (made by :func:`output_folder`).

    Attributes
    ----------
    path : pathlib.Path
        The folder (absolute).
    what : str
        How messages name it.
    """

    def __init__(self, path: Path, what: str):
        self.path = path
        self.what = what
        self._lock = _Lock(path, what)
        self._created: list[Path] = []
        self._claimed = False

    # -- bookkeeping -------------------------------------------------------------
    def marker(self) -> dict:
        """The marker's content."""
        return _read_marker(self.path) or {}

    def _save_marker(self, files: dict) -> None:
        data = self.marker() or self._new_marker()
        data["files"] = dict(sorted(files.items()))
        data["updated_at"] = _now()
        _write_json_atomic(self.path / MARKER, data)

    @staticmethod
    def _new_marker() -> dict:
        return {
            "powerprofile_output": _FORMAT,
            "created_by": _version(),
            "created_at": _now(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "note": "powerprofile writes only here; it deletes only files listed under 'files'",
            "files": {},
        }

    def _open(self) -> None:
        state = _owned_state(self.path, what=self.what)
        if state == "missing":
            missing = [p for p in (self.path, *self.path.parents) if not p.exists()]
            self.path.mkdir(parents=True, exist_ok=True)
            self._created = missing  # deepest first
        if state != "owned":
            try:
                fd = os.open(self.path / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:  # claimed at the same moment by another job
                pass
            else:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(self._new_marker(), fh, indent=1, sort_keys=True)
                    fh.write("\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                self._claimed = True
        try:
            self._lock.acquire()
            _refuse_links(self.path, what=self.what)  # again, now that no job of ours moves
        except BaseException:
            self._close()
            raise
        self.recover()

    def _close(self) -> None:
        """Release the lock; undo the claim of a folder this job claimed and left empty."""
        unclaim = False
        with contextlib.suppress(OSError):
            unclaim = self._claimed and not any(
                p.name not in (MARKER, LOCK) for p in self.path.iterdir()
            )
            if unclaim:  # still under the lock: nobody else sees a half-removed folder
                (self.path / MARKER).unlink(missing_ok=True)
        self._lock.release()
        if unclaim:
            with contextlib.suppress(OSError):
                for p in self._created:  # deepest first; stops at the first non-empty
                    p.rmdir()

    # -- recovery ------------------------------------------------------------------
    def recover(self) -> None:
        """Finish or remove staging folders left by an interrupted job (lock held)."""
        for tmp in sorted(self.path.glob(STAGING_PREFIX + "*")):
            if not tmp.is_dir() or not (tmp / _STAGING_MARKER).is_file():
                continue  # not recognisably ours: never touched
            commit = tmp / _COMMIT
            if commit.is_file():
                try:
                    plan = json.loads(commit.read_text(encoding="utf-8"))
                except ValueError:
                    plan = None
                if plan is not None:
                    log.warning(
                        "%s %r: completing an interrupted publish from %s",
                        self.what,
                        str(self.path),
                        tmp.name,
                    )
                    self._apply(tmp, plan)
                    continue
            log.info(
                "%s %r: removing left-over staging folder %s", self.what, str(self.path), tmp.name
            )
            shutil.rmtree(tmp, ignore_errors=True)

    # -- staged writes ---------------------------------------------------------------
    @contextlib.contextmanager
    def staging(self, producer: str):
        """Yield a hidden staging folder inside this folder; publish it on success.

        Parameters
        ----------
        producer : str
            Who writes (``"run"``, ``"export"``): files this producer wrote before and
            does not write now are deleted at publish time; other files are kept.

        Yields
        ------
        pathlib.Path
            The staging folder to write into.

        Notes
        -----
        On any exception in the block the staging folder is removed and the folder
        is left exactly as it was.
        """
        tmp = self.path / f"{STAGING_PREFIX}{producer}-{uuid.uuid4().hex[:12]}"
        tmp.mkdir()
        (tmp / _STAGING_MARKER).write_text(
            json.dumps({"producer": producer, "pid": os.getpid(), "created_at": _now()}) + "\n",
            encoding="utf-8",
        )
        try:
            yield tmp
            plan = self._plan(tmp, producer)
            fsync_tree(tmp)
            _write_json_atomic(tmp / _COMMIT, plan)  # the commit point
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        try:
            self._apply(tmp, plan)
        except Exception as exc:
            raise OutputDirError(
                f"{self.what} {str(self.path)!r}: moving the new files into place stopped half "
                f"way ({type(exc).__name__}: {exc}); the next powerprofile job on this folder "
                "completes it (or run `powerprofile export` again)."
            ) from exc

    def _plan(self, tmp: Path, producer: str) -> dict:
        new = _walk_files(tmp, top_control=False)
        marker = self.marker()
        new_nested = [f for f in new if f.endswith("/" + MARKER)]
        owned = _owned_files(self.path, marker, extra_nested=new_nested)
        clashes = []
        for f in new:
            target = self.path / f
            if f in owned:
                if target.is_dir() and not target.is_symlink():
                    clashes.append(f)
                continue
            parts = Path(f).parts
            for i in range(1, len(parts)):  # a file of yours where the job needs a folder
                p = self.path.joinpath(*parts[:i])
                if (p.exists() or p.is_symlink()) and not p.is_dir():
                    clashes.append(Path(*parts[:i]).as_posix())
                    break
            else:
                if target.exists() or target.is_symlink():
                    clashes.append(f)
        if clashes:
            shown = ", ".join(repr(c) for c in sorted(set(clashes))[:3])
            raise OutputDirError(
                f"{self.what} {str(self.path)!r}: {len(set(clashes))} path(s) the job writes are "
                f"taken by files it did not write ({shown}); nothing was changed. Move them "
                "away or choose another folder."
            )
        files = marker.get("files", {})
        new_set = set(new)
        deletes = {f for f, p in files.items() if p == producer} - new_set
        for m in new_nested:  # a nested owned folder rewritten: its stale files go
            sub = m[: -len(MARKER) - 1]
            sub_marker = None
            with contextlib.suppress(OutputDirError):
                sub_marker = _read_marker(self.path / sub) if (self.path / sub).is_dir() else None
            deletes |= {f"{sub}/{f}" for f in _owned_files(self.path / sub, sub_marker)} - new_set
        return {
            "producer": producer,
            "new": new,
            "dirs": _walk_dirs(tmp),
            "deletes": sorted(deletes),
        }

    def _within(self, rel: str) -> Path:
        """``self.path / rel``, refused unless it stays inside without crossing a link."""
        if not _inside(rel):
            raise OutputDirError(
                f"{self.what} {str(self.path)!r}: refusing to touch {rel!r}, which is not a "
                "path inside the folder."
            )
        here = self.path
        for part in rel.split("/")[:-1]:
            here = here / part
            if here.is_symlink():
                raise OutputDirError(
                    f"{self.what} {str(self.path)!r}: {str(here)!r} became a symbolic link "
                    "while the job ran; powerprofile never writes through a link. Remove it "
                    "and run again."
                )
        return self.path / rel

    def _apply(self, tmp: Path, plan: dict) -> None:
        """Move staged files into place, delete the producer's stale files (idempotent)."""
        touched = {self.path}
        for d in plan.get("dirs", []):
            self._within(d + "/x").parent.mkdir(parents=True, exist_ok=True)
        for f in plan["new"]:
            src = tmp / f
            if src.exists() or src.is_symlink():
                dst = self._within(f)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
                touched.add(dst.parent)
        for f in plan["deletes"]:
            p = self._within(f)
            if p.is_file() or p.is_symlink():
                p.unlink()
            parent = p.parent
            while parent != self.path and parent.is_relative_to(self.path) and parent.is_dir():
                try:
                    parent.rmdir()  # only when empty
                except OSError:
                    break
                parent = parent.parent
        files = {
            f: p for f, p in self.marker().get("files", {}).items() if f not in plan["deletes"]
        }
        files.update({f: plan["producer"] for f in plan["new"]})
        files = {f: p for f, p in files.items() if (self.path / f).exists()}
        for d in sorted(touched):
            if d.is_dir():
                _fsync_path(d, directory=True)
        self._save_marker(files)
        shutil.rmtree(tmp, ignore_errors=True)

    # -- in-place writes ---------------------------------------------------------------
    @contextlib.contextmanager
    def recording(self, producer: str):
        """Record the files written in place during the block as the job's.

        For steps that write a few fixed files directly (``validate``, ``features``,
        ``train`` ...): they write nothing but their own file names, and this adds
        whatever they created or changed to the marker, so a later ``run`` may replace
        them.

        Parameters
        ----------
        producer : str
            The step's name, recorded with each file.
        """
        before = self._stat_all()
        try:
            yield self.path
        finally:
            after = self._stat_all()
            changed = {f for f, st in after.items() if before.get(f) != st}
            if changed or any(f not in after for f in before):
                files = {f: p for f, p in self.marker().get("files", {}).items() if f in after}
                files.update({f: producer for f in changed})
                self._save_marker(files)

    def _stat_all(self) -> dict:
        out = {}
        for f in _walk_files(self.path, top_control=True):
            with contextlib.suppress(OSError):
                st = (self.path / f).stat()
                out[f] = (st.st_ino, st.st_size, st.st_mtime_ns)
        return out


@contextlib.contextmanager
def output_folder(path, *, what: str = "output folder"):
    """Own and lock an output folder for the duration of a job.

    Parameters
    ----------
    path : str or path-like
        The folder; created (with its marker) when missing.
    what : str, default="output folder"
        How messages name it.

    Yields
    ------
    OutputFolder

    Raises
    ------
    OutputDirError
        The folder is unsafe (see :func:`check_output_path`) or not empty and not
        created by powerprofile.
    OutputDirBusyError
        Another job holds its lock; the message names the holder.

    Notes
    -----
    Re-entrant within a process: a nested ``output_folder`` on a folder this process
    already holds returns the same object. A folder the job created and left with
    nothing but its marker (a failed command) is removed again on exit.
    """
    target = check_output_path(path, what=what)
    key = (str(target), threading.get_ident())  # another thread must take the lock itself
    with _HELD_LOCK:
        held = _HELD.get(key)
        if held is not None and held[0]._lock.fd is not None:
            held[1] += 1
            folder = held[0]
        else:
            folder = OutputFolder(target, what)
            folder._open()
            _HELD[key] = held = [folder, 1]
    try:
        yield folder
    finally:
        with _HELD_LOCK:
            held[1] -= 1
            if held[1] == 0:
                _HELD.pop(key, None)
                folder._close()
