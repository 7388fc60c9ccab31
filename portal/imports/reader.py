"""Reading a batch's files ahead of the rows that name them: each is copied into the store's
temporary folder (hashed, written to disk), checked, and its text layer read.

That is CPU work (PDFium) while the importing process is busy with the database, so it runs in
other processes, a few rows ahead; this package is kept light to import, for them to start in a
fraction of a second. A process is also where a hostile file belongs: one that crashes PDFium,
eats memory or keeps it busy for minutes takes down (or is stopped with) a reading process, not
the import. The file is then read again alone, and reported if it fails that way again; the
batch goes on.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, TimeoutError
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

from ..processes import helper_process
from ..scans import PreparedScan, ScanError, Spooled, prepare
from ..storage import Spool, TooLarge, out_of_space

AHEAD = 16  # files read ahead of the row being imported
PROCESSES = 2  # reading processes: with the importing process, enough to keep two cores busy
MEMORY_LIMIT = 2 * 1024**3  # address space of a reading process
# A scan of 50 MB reads in a few seconds; a file still being read after this is hostile. A file
# may be tried twice: both tries must end well within the lease (JOB_LEASE_SECONDS, two minutes)
# after which a web import job whose worker renewed nothing is taken over by another.
READ_SECONDS = 40


def read_scan(spool_dir: str, path: Path, name: str, max_bytes: int) -> PreparedScan | ScanError:
    """The file spooled and checked, or the ScanError that says why not (an exception crosses
    back from the reading process as a value). The store keeps it later, in the importing process."""
    store = Spool(spool_dir)
    try:
        try:
            with open(path, "rb") as fh:
                temp, sha, size = store.spool(fh, limit=max_bytes, sync=True)
        except TooLarge:
            return ScanError(f"Tệp «{name}» lớn hơn {max_bytes // (1024 * 1024)} MB.")
        try:
            return prepare(store, Spooled(temp, sha, size, "", synced=True), path.name)
        except ScanError as err:
            store.discard(temp)
            return err
    except OSError as err:
        if out_of_space(err):
            return ScanError(f"Máy chủ hết chỗ lưu trữ khi chép tệp «{name}»; tệp chưa được lưu, "
                             "hãy chạy lại lô khi đã có chỗ.")
        return ScanError(f"Không đọc được tệp «{name}».")


class _Readers:
    """The reading processes. A ProcessPoolExecutor breaks as a whole when one of its processes
    dies; it is then replaced, and the files it was reading are read again."""

    def __init__(self, processes: int):
        self.processes = processes
        self.pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # Spawned, not forked: a web process has threads (and database connections) a fork would copy.
        return ProcessPoolExecutor(max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=helper_process, initargs=(os.getpid(), MEMORY_LIMIT))

    def submit(self, args: tuple) -> Future:
        return self.pool.submit(read_scan, *args)

    def replace(self, kill: bool = False) -> None:
        if kill:  # a process still busy with a hostile file would never finish it
            for process in list(getattr(self.pool, "_processes", {}).values()):
                process.kill()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._start()

    def alone(self, args: tuple) -> PreparedScan | ScanError:
        """Read one file with no other in flight: if the process dies now, this file killed it."""
        try:
            return self.submit(args).result(timeout=READ_SECONDS)
        except BrokenProcessPool:
            self.replace()
            return ScanError(f"Tệp «{args[2]}» làm trình đọc PDF dừng đột ngột (tệp hỏng hoặc quá nặng); "
                             "hãy quét hoặc xuất lại tệp này.")
        except TimeoutError:
            self.replace(kill=True)
            return ScanError(f"Đọc tệp «{args[2]}» mất quá {READ_SECONDS} giây (tệp hỏng hoặc quá nặng); "
                             "hãy quét hoặc xuất lại tệp này.")

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def spool_folder(spool_root: str | Path) -> Iterator[Path]:
    """A folder in the store's spool folder for one import's spooled files, removed with whatever
    is left in it (files a reading process that was killed had spooled) once the import is done.
    A killed import's folder is removed at the next import."""
    tmp = Path(spool_root)
    for folder in tmp.glob("import-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    folder = tmp / f"import-{os.getpid()}-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_ahead(items: list, locate: Callable[[object], tuple[Path, str] | Exception],
               spool_dir: Path, max_bytes: int) -> Iterator[tuple[object, PreparedScan | Exception]]:
    """(item, scan or error) for each item, in order, the files of the next ones being read
    meanwhile. `locate(item)` gives the file's path and its name as written, or the error that
    says why there is none. Files read for items never handed out (the consumer stopped) are
    discarded. Files are spooled in `spool_dir` (see spool_folder)."""
    readers = _Readers(max(1, min(PROCESSES, len(items))))
    # (item, the arguments of read_scan or the error of locate, its future or None)
    pending: deque[tuple[object, tuple | Exception, Future | None]] = deque()

    def take() -> tuple[object, PreparedScan | Exception]:
        item, args, future = pending.popleft()
        if future is None:
            return item, args
        try:
            return item, future.result(timeout=READ_SECONDS)
        except (BrokenProcessPool, TimeoutError) as err:
            readers.replace(kill=isinstance(err, TimeoutError))
            scan = readers.alone(args)
            for n, (other, other_args, other_future) in enumerate(pending):
                if other_future is not None and not (other_future.done() and not other_future.cancelled()
                                                     and other_future.exception() is None):
                    pending[n] = (other, other_args, readers.submit(other_args))
            return item, scan

    try:
        for item in items:
            where = locate(item)
            if isinstance(where, Exception):
                pending.append((item, where, None))
            else:
                args = (str(spool_dir), where[0], where[1], max_bytes)
                pending.append((item, args, readers.submit(args)))
            if len(pending) >= AHEAD:
                yield take()
        while pending:
            yield take()
    finally:
        for _item, _args, future in pending:
            if future is not None and not future.cancel():
                try:
                    scan = future.result()
                except BrokenProcessPool:
                    continue
                if isinstance(scan, PreparedScan):
                    scan.discard()
        readers.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
