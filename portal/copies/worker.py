"""The rendering process: where WeasyPrint runs and uploaded PDFs are parsed.

A pool of spawned processes, each replaced after a number of tasks, so that a leak in the
rendering or PDF libraries (or a hostile upload) can neither grow nor crash a web worker.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ..processes import helper_process
from ..storage import out_of_space
from .pdf import CopyFailed

log = logging.getLogger(__name__)
TASKS_PER_PROCESS = 200
TIMEOUT_SECONDS = 120
# Address space of a rendering process: a hostile or broken PDF fails there, not the machine.
MEMORY_LIMIT = 2 * 1024**3

_pool: ProcessPoolExecutor | None = None
_tasks = 0  # given to the current pool
_lock = threading.Lock()


def _get_pool(processes: int) -> ProcessPoolExecutor:
    """The pool for the next task. Every TASKS_PER_PROCESS tasks a process, the pool is retired
    (its tasks in hand finish) and a fresh one started. Not ProcessPoolExecutor's own
    max_tasks_per_child: on Python 3.11 a pool replacing a process that way could stop answering
    (seen in the suite: a report never rendered, the 120 s timeout every time at the same task)."""
    global _pool, _tasks
    with _lock:
        if _pool is not None and _tasks >= TASKS_PER_PROCESS * max(1, processes):
            _pool.shutdown(wait=False)
            _pool = None
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=max(1, processes), mp_context=multiprocessing.get_context("spawn"),
                                        initializer=helper_process, initargs=(os.getpid(), MEMORY_LIMIT))
            _tasks = 0
        _tasks += 1
        return _pool


def _reset() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def run(function, *args, processes: int = 1, timeout: float = TIMEOUT_SECONDS):
    """Run `function(*args)` in the rendering process and wait for its answer."""
    try:
        return _get_pool(processes).submit(function, *args).result(timeout=timeout)
    except (BrokenProcessPool, MemoryError):
        _reset()  # the next call starts fresh processes
        raise CopyFailed("Không xử lý được yêu cầu này lúc này; xin thử lại sau ít phút.") from None
    except TimeoutError:
        log.warning("rendering task %s gave no answer in time", getattr(function, "__name__", function),
                    exc_info=True)
        _reset()
        raise CopyFailed("Việc tạo hoặc kiểm tra tệp mất quá nhiều thời gian; xin thử lại sau.") from None
    except CopyFailed:
        raise
    except OSError as err:
        if out_of_space(err):  # a full disk is the operators' to mend: the caller answers 507
            raise
        log.exception("the rendering process failed")
        raise CopyFailed("Máy chủ chưa tạo được tệp lúc này; lỗi đã được ghi lại, xin thử lại sau.") from None
    except Exception:  # a library missing on this machine (Pango for WeasyPrint, say), or a bug
        log.exception("the rendering process failed")
        raise CopyFailed("Máy chủ chưa tạo được tệp PDF lúc này; lỗi đã được ghi lại, xin thử lại sau.") from None


def warm(processes: int = 1) -> None:
    """Start the processes and load the libraries before the first request needs them."""
    run(_warm, processes=processes)


def _warm() -> bool:
    import pyhanko.sign  # noqa: F401
    import weasyprint  # noqa: F401
    return True


atexit.register(_reset)
