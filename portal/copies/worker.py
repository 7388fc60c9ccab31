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
_lock = threading.Lock()


def _get_pool(processes: int) -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=max(1, processes), mp_context=multiprocessing.get_context("spawn"),
                                        max_tasks_per_child=TASKS_PER_PROCESS, initializer=helper_process,
                                        initargs=(os.getpid(), MEMORY_LIMIT))
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
        return _in_a_sound_process(function, args, processes, timeout)
    except (BrokenProcessPool, MemoryError):
        raise CopyFailed("Không xử lý được yêu cầu này lúc này; xin thử lại sau ít phút.") from None
    except TimeoutError:
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


def _in_a_sound_process(function, args: tuple, processes: int, timeout: float):
    """A process that died, or ran out of its address space, may have been worn out by the tasks
    before (a long-lived process's heap only grows): the task is tried once more in fresh
    processes before it is given up. A task that breaks a fresh process too is refused."""
    for attempt in (1, 2):
        try:
            return _get_pool(processes).submit(function, *args).result(timeout=timeout)
        except (BrokenProcessPool, MemoryError) as err:
            _reset()  # the next call starts fresh processes
            log.warning("rendering process failed (%s) on try %d", type(err).__name__, attempt)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def warm(processes: int = 1) -> None:
    """Start the processes and load the libraries before the first request needs them."""
    run(_warm, processes=processes)


def _warm() -> bool:
    import pyhanko.sign  # noqa: F401
    import weasyprint  # noqa: F401
    return True


atexit.register(_reset)
