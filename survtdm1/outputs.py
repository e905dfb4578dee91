"""Writing a run's files safely: staged, locked, moved into place whole, with a manifest.

:func:`publish` is how ``survtdm1 analyze --out DIR`` (and
:meth:`survtdm1.analysis.AnalysisResult.write`) put files into ``DIR``:

1. ``DIR`` itself must not be a symlink, nor a file (:class:`OutputError`).
2. A lock file ``.DIR.survtdm1.lock`` beside ``DIR`` is created and held
   (``flock``) for the whole run; a second run on the same folder stops
   with :class:`OutputError` (exit status 2). The operating system releases
   the lock when its process ends, even by ``kill -9``, so a lock file left
   behind is never stale: the next run takes it over.
3. Every file is written into a fresh folder ``.DIR.survtdm1-tmp-XXXX``
   beside ``DIR``; ``manifest.json`` (name, size and SHA-256 of every file)
   is written there last.
4. The finished folder then replaces ``DIR``: a single rename when ``DIR``
   does not exist; an atomic exchange (``renameat2``, Linux) when ``DIR``
   holds only survtdm1's files; otherwise (``DIR`` also holds files of
   yours) file by file: the old manifest is removed first, stale survtdm1
   files next, then each new file is renamed into place and the new
   manifest last. A folder without ``manifest.json`` is not a finished run.

A run that fails or is killed before step 4 leaves ``DIR`` as it was.

Which files are survtdm1's (replaced or removed; nothing else is touched):
the fixed output names of :data:`KNOWN_OUTPUTS`, and any file that the
previous ``manifest.json`` lists with the same size and SHA-256 (an
unchanged file that survtdm1 wrote). A symlink in place of an output file
is removed as a link (its target is never opened or written) and replaced by
the real file.

:func:`write_csv` writes every CSV table with spreadsheet formulas
neutralised (see :func:`neutralise_cell`).
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import stat
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from . import _forked, _preload
from .csvread import read_written_csv as read_csv  # noqa: F401  (re-exported)
from .csvread import restore_cell  # noqa: F401  (re-exported)
from .exceptions import OutputError

MANIFEST = "manifest.json"
KNOWN_OUTPUTS = frozenset(
    {
        "subgroups.csv",
        "summary.json",
        "at_risk.csv",
        "exclusions.csv",
        "ard.csv",
        "subgroups.rtf",
        "subgroups.docx",
        "forest.png",
        "forest.svg",
        "km.png",
        "response.png",
        "report.html",
        MANIFEST,
    }
)
"""The names of every file that ``survtdm1 analyze`` writes (stale copies are removed)."""

_TRIGGERS = frozenset("=+-@\t\r\n'")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


# --- CSV cells a spreadsheet would execute ----------------------------------------------


def neutralise_cell(value):
    """A text cell made inert for spreadsheets (OWASP "CSV injection").

    A text value whose first character (after leading spaces) is ``=``,
    ``+``, ``-``, ``@``, a tab, a carriage return, a line feed or ``'`` gets
    one leading ``'``; a text that is a plain number (``-0.5``, ``+1e3``) and
    every non-text value are returned unchanged. The raw value is the cell
    without its first character wherever a cell begins with ``'``.

    >>> neutralise_cell("=HYPERLINK(1)"), neutralise_cell("-0.5"), neutralise_cell(-0.5)
    ("'=HYPERLINK(1)", '-0.5', -0.5)
    """
    if not isinstance(value, str):
        return value
    head = value.lstrip(" ")
    if head[:1] in _TRIGGERS and not _NUMBER.fullmatch(head):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise_cell` applied to its column names
    and to every text cell; numeric columns are left as they are."""
    out = frame.copy()
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        text = pd.api.types.is_object_dtype(column.dtype) or pd.api.types.is_string_dtype(
            column.dtype
        )
        if not (text or isinstance(column.dtype, pd.CategoricalDtype)):
            continue  # numbers, booleans and dates are written as they are
        out.isetitem(position, column.astype(object).map(neutralise_cell))
    out.columns = [neutralise_cell(str(name)) for name in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``frame`` as CSV (no index, numbers at full precision), text cells neutralised."""
    path = Path(path)
    safe = neutralise_frame(frame)
    # Python's csv quotes a field holding "\n" but not one holding a lone "\r", which
    # readers take for the end of a row: then every text field is quoted
    texts = [*map(str, safe.columns)] + [
        v for c in range(safe.shape[1]) for v in safe.iloc[:, c] if isinstance(v, str)
    ]
    quoting = csv.QUOTE_NONNUMERIC if any("\r" in t for t in texts) else csv.QUOTE_MINIMAL
    safe.to_csv(path, index=False, quoting=quoting)
    return path


# --- the lock ------------------------------------------------------------------------------


class _Lock:
    """An exclusive lock on ``path`` (``flock``), released when the process ends."""

    def __init__(self, path: Path, target: Path):
        self.path, self.target, self.fd = path, target, None

    def __enter__(self):
        for _ in range(5):
            try:
                fd = os.open(
                    self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644
                )
            except OSError as err:
                if err.errno != errno.ELOOP:
                    raise
                raise OutputError(
                    f"{self.path}: the lock file is a symlink; survtdm1 does not follow it "
                    "(remove it)"
                ) from None
            try:
                _flock(fd)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise OutputError(
                    f"{self.target}: another survtdm1 run{holder} is writing to this folder; "
                    f"wait for it to end (its lock is {self.path})"
                ) from None
            # the file may have been removed by the previous holder in between
            if _same_file(fd, self.path):
                os.ftruncate(fd, 0)
                info = {"pid": os.getpid(), "host": socket.gethostname(), "started": _now()}
                os.write(fd, (json.dumps(info) + "\n").encode())
                self.fd = fd
                return self
            os.close(fd)
        raise OutputError(f"{self.target}: could not take the lock {self.path}")

    def __exit__(self, *exc):
        with contextlib.suppress(OSError):
            if _same_file(self.fd, self.path):
                os.unlink(self.path)
        os.close(self.fd)
        return False


def _flock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no advisory locks, run unlocked
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        return f" (pid {int(info['pid'])} on {info['host']}, started {info['started']})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def _same_file(fd: int, path: Path) -> bool:
    try:
        here = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    there = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- the manifest --------------------------------------------------------------------------


def _digest(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of a regular file (flushed to disk on the way)."""
    sha = hashlib.sha256()
    size = 0
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        while chunk := os.read(fd, 1 << 20):
            sha.update(chunk)
            size += len(chunk)
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
    return size, sha.hexdigest()


def write_manifest(folder: Path, names: Iterable[str], about: dict | None = None) -> Path:
    """Write ``folder/manifest.json``: name, size and SHA-256 of each named file."""
    files = []
    for name in names:
        size, sha = _digest(folder / name)
        files.append({"name": name, "size": size, "sha256": sha})
    content = {**(about or {}), "created": _now(), "files": files}
    path = folder / MANIFEST
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(content, indent=2) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return path


def verify(out_dir: str | os.PathLike) -> list[str]:
    """Problems of a finished output folder: an empty list when ``manifest.json``
    exists and every file it lists is present with its size and SHA-256."""
    folder = Path(out_dir)
    listed = _read_manifest(folder)
    if listed is None:
        return [f"{folder}: no readable {MANIFEST} (not a finished survtdm1 run)"]
    problems = []
    for name, (size, sha) in listed.items():
        path = folder / name
        if path.is_symlink() or not path.is_file():
            problems.append(f"{name}: missing")
        elif _digest(path) != (size, sha):
            problems.append(f"{name}: changed since it was written")
    return problems


def _read_manifest(folder: Path, dir_fd: int | None = None) -> dict[str, tuple[int, str]] | None:
    """{name: (size, sha256)} of a folder's manifest, None when absent or unreadable."""
    try:
        fd = os.open(
            MANIFEST if dir_fd is not None else folder / MANIFEST,
            os.O_RDONLY | os.O_NOFOLLOW,
            dir_fd=dir_fd,
        )
        with os.fdopen(fd, "rb") as handle:
            content = json.loads(handle.read(1 << 22).decode("utf-8"))
        listed = {}
        for entry in content["files"]:
            name = entry["name"]
            if _plain_name(name):
                listed[name] = (int(entry["size"]), str(entry["sha256"]))
        return listed
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _plain_name(name) -> bool:
    if not isinstance(name, str):
        return False
    return name not in ("", ".", "..") and "/" not in name and "\0" not in name


# --- putting the finished folder in place --------------------------------------------------


def publish(
    out_dir: str | os.PathLike,
    produce: Callable[[Path], Iterable[Path]],
    *,
    about: dict | None = None,
) -> list[Path]:
    """Run ``produce(folder)`` on an empty staging folder, then put its files into ``out_dir``.

    ``produce`` writes its files directly into ``folder`` (no subfolders) and
    returns their paths. ``about`` goes into ``manifest.json`` beside the
    file list. Returns the files' final paths, in the order ``produce`` gave
    them. The rules are in this module's docstring.
    """
    out = Path(os.path.abspath(os.fspath(out_dir)))
    _check_target(out)
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{parent}: exists and is not a folder") from None
    with _Lock(parent / f".{out.name}.survtdm1.lock", out):
        _clean_leftovers(out)
        _check_target(out)  # again, now that no other run can change it
        staging = parent / f".{out.name}.survtdm1-tmp-{secrets.token_hex(6)}"
        os.mkdir(staging, 0o777)
        try:
            names = []
            for path in produce(staging):
                name = Path(path).name
                if Path(path).parent != staging or name in names or name == MANIFEST:
                    raise OutputError(f"{path}: not a new file of the staging folder")
                names.append(name)
            extra = sorted(set(os.listdir(staging)) - set(names))
            names += extra  # files written without being reported are listed too
            write_manifest(staging, names, about)
            _install(staging, out, names)
        finally:
            if os.path.lexists(staging):
                shutil.rmtree(staging, ignore_errors=True)
    return [out / name for name in names if name not in extra]


def check_output_folder(out_dir: str | os.PathLike) -> None:
    """Fail early (before an analysis) when :func:`publish` would refuse ``out_dir``:
    a symlink, a file, or a folder that another run is writing to."""
    out = Path(os.path.abspath(os.fspath(out_dir)))
    _check_target(out)
    lock = out.parent / f".{out.name}.survtdm1.lock"
    if os.path.lexists(lock):
        with _Lock(lock, out):
            pass


def _check_target(out: Path) -> None:
    if out.name in ("", ".", ".."):
        raise OutputError(f"{out}: give an output folder below the file system's root")
    if out.is_symlink():
        raise OutputError(
            f"{out}: is a symlink; survtdm1 does not write through symlinks "
            "(give the real folder's path)"
        )
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")


def _clean_leftovers(out: Path) -> None:
    """Remove the staging folders of runs that were killed (we hold the lock)."""
    olds = []
    for entry in out.parent.iterdir():
        if entry.is_symlink() or not entry.is_dir():
            continue
        if entry.name.startswith(f".{out.name}.survtdm1-tmp-"):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(f".{out.name}.survtdm1-old-"):
            olds.append(entry)
    for old in olds:
        if not os.path.lexists(out):  # killed between the two renames of a swap
            os.rename(old, out)
        else:
            shutil.rmtree(old, ignore_errors=True)


def _install(staging: Path, out: Path, names: list[str]) -> None:
    if not os.path.lexists(out):
        os.rename(staging, out)
        _fsync_dir(out.parent)
        return
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        ours, foreign = _sort_entries(fd)
        clash = [n for n in names if n in foreign and _is_dir(fd, n)]
        if clash:
            raise OutputError(f"{out / clash[0]}: is a folder; survtdm1 will not replace it")
        if not foreign and not _holds_cwd(out) and _swap(staging, out):
            return
        _merge(staging, fd, ours, names)
    finally:
        os.close(fd)


def _sort_entries(fd: int) -> tuple[set[str], set[str]]:
    """The folder's entries that survtdm1 wrote, and the others."""
    previous = _read_manifest(Path("."), dir_fd=fd) or {}
    ours, foreign = set(), set()
    for name in os.listdir(fd):
        info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode):
            foreign.add(name)
        elif name in KNOWN_OUTPUTS and (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
            ours.add(name)
        elif name in previous and stat.S_ISREG(info.st_mode) and info.st_size == previous[name][0]:
            same = _digest_at(fd, name) == previous[name][1]
            (ours if same else foreign).add(name)
        else:
            foreign.add(name)
    return ours, foreign


def _digest_at(dir_fd: int, name: str) -> str:
    sha = hashlib.sha256()
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd)
    try:
        while chunk := os.read(fd, 1 << 20):
            sha.update(chunk)
    finally:
        os.close(fd)
    return sha.hexdigest()


def _is_dir(dir_fd: int, name: str) -> bool:
    return stat.S_ISDIR(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)


def _holds_cwd(out: Path) -> bool:
    """True when ``out`` is the working folder or one of its parents (never rename those)."""
    try:
        cwd = Path(os.getcwd())
    except OSError:
        return False
    return out == cwd or out in cwd.parents


def _swap(staging: Path, out: Path) -> bool:
    """Replace the folder ``out`` (only survtdm1's files) by ``staging``; False if impossible."""
    with contextlib.suppress(OSError):
        os.chmod(staging, stat.S_IMODE(os.stat(out).st_mode))
    if _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous run's files
        return True
    old = out.parent / f".{out.name}.survtdm1-old-{secrets.token_hex(6)}"
    try:
        os.rename(out, old)
    except OSError:
        return False  # e.g. a mount point: fall back to file by file
    try:
        os.rename(staging, out)
    except OSError:
        os.rename(old, out)
        raise
    _fsync_dir(out.parent)
    shutil.rmtree(old, ignore_errors=True)
    return True


def _exchange(first: Path, second: Path) -> bool:
    """Exchange two paths atomically (Linux ``renameat2``); False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2  # libc's, where it has one
    except (OSError, AttributeError):
        return False
    text, number = ctypes.c_char_p, ctypes.c_int
    renameat2.argtypes = [number, text, number, text, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    status = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    if status != 0:
        code = ctypes.get_errno()
        if code in (errno.ENOSYS, errno.EINVAL, errno.EXDEV, errno.ENOTSUP, errno.EPERM):
            return False
        raise OSError(code, os.strerror(code), str(second))
    _fsync_dir(second.parent)
    return True


def _merge(staging: Path, fd: int, ours: set[str], names: list[str]) -> None:
    """File by file into a folder that also holds files survtdm1 did not write."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(MANIFEST, dir_fd=fd)  # from here on the folder reads as unfinished
    for name in sorted(ours - set(names) - {MANIFEST}):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=fd)  # a symlink is removed as a link
    source = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for name in [*names, MANIFEST]:
            os.replace(name, name, src_dir_fd=source, dst_dir_fd=fd)
    finally:
        os.close(source)
    with contextlib.suppress(OSError):
        os.fsync(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------------------
# Two writers at once on a large cohort
# --------------------------------------------------------------------------------------

#: From this many analysed rows, the figures are drawn in a forked process while the
#: tables are written (about a second and a half saved on a million rows; below it,
#: a second process would cost more than it saves).
PARALLEL_ROWS = 100_000


def alongside(first: Callable[[], list], second: Callable[[], list], rows: int) -> list:
    """``first() + second()``, with ``second`` run in a forked child process while
    ``first`` runs here, when ``rows >= PARALLEL_ROWS`` on Linux
    (:func:`survtdm1._forked.alongside`).

    Both write into the same staging folder. The child's return value (a list
    of paths) comes back through a pipe; an error in the child is raised here
    (after ``first`` has finished, so that the staging folder is left whole to
    :func:`publish`, which removes it), and so are its warnings.
    """
    here, there = _forked.alongside(
        first, second, parallel=rows >= PARALLEL_ROWS, what="drawing the figures"
    )
    return here + there


# --------------------------------------------------------------------------------------
# A writer prepared while a large cohort is read and analysed
# --------------------------------------------------------------------------------------

#: A cohort file of this many bytes or more (about 100,000 rows of CSV) is analysed
#: while an :class:`OutputWorker` imports the writing libraries on the other core.
WORKER_BYTES = 8_000_000


class OutputWorker:
    """A process forked before a long analysis that imports ``modules`` meanwhile
    (matplotlib, rtflite and python-docx take about two seconds), then runs one
    writing job given by :meth:`run`.

    Leaving the ``with`` block ends the process, whether it ran a job or not.
    No process is started, and :meth:`run` calls the job here, on another
    system than Linux (where forking is unsafe with some system libraries) and
    once polars is loaded (rtflite's table engine: its thread pool does not
    survive a fork, and a forked process using it waits forever).
    """

    def __init__(self, modules: Iterable[str]):
        self._child = self._send = self._receive = None
        if not _forked.can_fork() or "polars" in sys.modules:
            return
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._receive, their_send = context.Pipe(duplex=False)
        their_receive, self._send = context.Pipe(duplex=False)
        ours = (self._receive, self._send)  # closed in the child: its job pipe can then end
        self._child = context.Process(
            target=_serve, args=(tuple(modules), their_receive, their_send, ours)
        )
        self._child.start()
        their_send.close()
        their_receive.close()

    def run(self, job: Callable, *args):
        """``job(*args)``, in the worker process (``job`` and ``args`` are pickled; a
        module-level function). An error in the job is raised here."""
        if self._child is None:
            return job(*args)
        if self._send is None:
            raise OutputError("the output process has already run its job")
        try:
            self._send.send((job, args))
        except BrokenPipeError:
            pass  # the child has died: reported below
        finally:
            self._send.close()
            self._send = None
        answer = _forked.receive_answer(self._receive, self._child)
        return _forked.unpack_answer(answer, self._child.exitcode, "writing the outputs")

    def close(self) -> None:
        """End the process. Unused, it exits when it finds its job pipe closed. Given a
        job, it is stopped: a no-op once the job has answered, and the end of a job
        interrupted here (by Ctrl-C)."""
        if self._child is None:
            return
        if self._send is not None:
            self._send.close()
            self._send = None
        else:
            self._child.terminate()
        self._receive.close()
        self._child.join()
        self._child = None

    def __enter__(self) -> OutputWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serve(modules: tuple[str, ...], receive, send, parents: tuple) -> None:
    """The worker: import ``modules``, then run the one job that comes through ``receive``
    (``parents``: the parent's ends of the two pipes, inherited by the fork)."""
    import signal

    # Ctrl-C is the parent's to handle: it ends this process (see OutputWorker.close)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for end in parents:
        end.close()

    with _preload.gc_paused():
        _preload.import_each(modules)  # one that cannot be imported fails in the job
    try:
        job, args = receive.recv()
    except EOFError:  # closed unused
        return
    _forked.run_child(lambda: job(*args), send, what="writing the outputs")
