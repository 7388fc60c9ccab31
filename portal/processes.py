"""Helpers for the processes the portal starts beside itself (the rendering processes, a batch
import's readers and indexer). Kept free of heavy imports: a spawned process imports this first."""

from __future__ import annotations

import os
import resource
import threading
import time


def helper_process(parent: int, memory_limit: int | None = None) -> None:
    """Set up a helper process (an initializer): it ends when `parent` does, even if that was
    killed with SIGKILL (a helper left behind would hold files and a database connection and
    wait for work that never comes), and a hostile or broken file fails it at `memory_limit`
    bytes of address space rather than exhausting the machine."""
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)
    threading.Thread(target=watch, daemon=True, name="watch-parent").start()
