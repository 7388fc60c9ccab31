"""The Whoosh index on disk: one per data directory, opened once per process.

Layout: <data>/index/current is a symlink to the directory in use. `rebuild` writes a fresh
directory from the database and swaps the link atomically, so searches go on while it runs;
every process notices the new target at its next search and reopens.
"""

from __future__ import annotations

import copy
import fcntl
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import LockError
from whoosh.query import Term
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher

from .schema import make_schema

log = logging.getLogger(__name__)

OK, MISSING, CORRUPT, REBUILDING = "ok", "missing", "corrupt", "rebuilding"


TINY_SEGMENT = 1000  # documents
MAX_TINY_SEGMENTS = 8


def no_merge(writer, segments):
    """The queue's commits merge nothing: a web request pays only for writing its own changes."""
    return segments


def merge_tiny(writer, segments):
    """Fold the small segments that the queue's commits leave into one, when there are several.

    Run by the background indexer when the queue is empty, never in a request; big segments are
    left alone (Whoosh's default policy may rewrite any segment at any commit), `reindex` writes
    them afresh.
    """
    tiny = [segment for segment in segments if segment.doc_count_all() < TINY_SEGMENT]
    if len(tiny) < MAX_TINY_SEGMENTS:
        return segments
    for segment in tiny:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return [segment for segment in segments if segment not in tiny]


def _with_deletions_of(reader, segment):
    """The same open segment reader, seeing `segment`'s (newer) deletions; None if Whoosh's
    internals are not what this relies on (then the caller opens the segment afresh)."""
    perdoc = getattr(reader, "_perdoc", None)
    if perdoc is None or not hasattr(perdoc, "_segment") or not hasattr(reader, "_segment"):
        return None
    fresh = copy.copy(reader)
    fresh.__dict__.pop("deleted_docs_set", None)  # a cached_property: the old reader's deletions
    fresh._perdoc = copy.copy(perdoc)
    fresh._segment = fresh._perdoc._segment = segment
    return fresh


class IndexUnavailable(Exception):
    """The index cannot be read right now (missing, corrupt, or being rebuilt)."""


class SearchIndex:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.current = self.root / "current"
        self._lock = threading.RLock()
        self._ix = None
        self._target: str | None = None
        self._searcher = None
        self._generation = -1
        self.state = OK

    # -- reading -------------------------------------------------------------------------------
    def _open(self):
        target = os.readlink(self.current) if self.current.is_symlink() else None
        if target is None or not (self.root / target).is_dir():
            self._ix = self._searcher = self._target = None
            self.state = MISSING
            raise IndexUnavailable("missing")
        if target != self._target or self._ix is None:
            try:
                self._ix = whoosh_index.open_dir(str(self.root / target))
                self._searcher = self._refreshed(self._ix, None)
                self._warm(self._searcher)
            except Exception as err:
                self._ix = self._searcher = None
                self.state = CORRUPT
                log.error("search index %s cannot be opened: %s", self.root / target, err)
                raise IndexUnavailable("corrupt") from err
            self._target = target
            self.state = OK
        return self._ix

    @staticmethod
    def _warm(searcher) -> None:
        # The first query of a fresh searcher loads the term dictionaries; pay that now.
        searcher.search(Term("holder_visible", "0"), limit=1)

    def searcher(self):
        """The process's searcher, refreshed if another writer committed since."""
        with self._lock:
            ix = self._open()
            if ix.latest_generation() != self._generation:
                self._searcher = self._refreshed(ix, self._searcher)
            return self._searcher

    def _refreshed(self, ix, old):
        """A searcher of the latest commit that reuses what it can of `old`.

        Whoosh's own refresh() reuses a segment's reader even when documents in it were deleted
        since (an update deletes the old version), so a replaced version stays findable. Here a
        reader is reused as it is when its segment is unchanged, and with the new deletions when
        only those changed (the files are the same: reopening a big segment costs ~100 ms).
        """
        toc = ix._read_toc()
        previous = {}
        if old is not None:
            for reader, _offset in old.reader().leaf_readers():
                if reader.segment() is not None:
                    previous[reader.segment().segment_id()] = reader
        readers = []
        for segment in toc.segments:
            reader = previous.get(segment.segment_id())
            if reader is None:
                reader = SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation)
            elif reader.segment().deleted_count() != segment.deleted_count():
                reader = _with_deletions_of(reader, segment) or SegmentReader(
                    ix.storage, toc.schema, segment, generation=toc.generation)
            readers.append(reader)
        if not readers:
            reader = EmptyReader(toc.schema)
        elif len(readers) == 1:
            reader = readers[0]
        else:
            reader = MultiReader(readers, generation=toc.generation)
        self._generation = toc.generation
        # Readers not reused are left to the garbage collector: another thread may still search them.
        return Searcher(reader, fromindex=ix, closereader=False)

    @property
    def generation(self) -> int:
        """The commit the process's searcher reads."""
        return self._generation

    def doc_count(self) -> int:
        return self.searcher().doc_count()

    # -- writing -------------------------------------------------------------------------------
    def writer(self, timeout: float = 2.0):
        """A writer, waiting up to `timeout` seconds for another process's lock (raises LockError)."""
        with self._lock:
            ix = self._open()
        return ix.writer(timeout=timeout, delay=0.05)

    def tiny_segments(self) -> int:
        with self._lock:
            ix = self._open()
        return sum(1 for segment in ix._segments() if segment.doc_count_all() < TINY_SEGMENT)

    def compact(self, timeout: float = 0.0) -> bool:
        """Merge the small segments if there are enough of them; False if the writer was busy."""
        if self.tiny_segments() < MAX_TINY_SEGMENTS:
            return True
        try:
            writer = self.writer(timeout=timeout)
        except LockError:
            return False
        writer.commit(mergetype=merge_tiny)
        return True

    def create_empty(self) -> None:
        """An empty index, for a new installation with no results yet."""
        self.swap_in(self.build([]))

    @contextmanager
    def rebuild_lock(self, wait: bool = True):
        """Only one rebuild at a time on this data directory, across processes."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "rebuild.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def build(self, batches: Iterable[list[dict]], progress=None, *, procs: int = 1,
              commit_every: int = 100_000) -> Path:
        """Write every document into a fresh directory, committing every `commit_every` documents.

        With procs > 1 Whoosh indexes in that many processes, each writing its own segment (only
        from a command, never from a threaded web process, since it forks).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        directory = Path(tempfile.mkdtemp(prefix=f"index-{time.strftime('%Y%m%d-%H%M%S')}-", dir=self.root))
        ix = whoosh_index.create_in(str(directory), make_schema())

        def new_writer():
            if procs > 1:
                return ix.writer(procs=procs, multisegment=True, limitmb=128)
            return ix.writer(limitmb=256)

        writer, pending = new_writer(), 0
        for batch in batches:
            for document in batch:
                writer.add_document(**document)
            pending += len(batch)
            if pending >= commit_every:
                writer.commit()
                writer, pending = new_writer(), 0
            if progress:
                progress(len(batch))
        writer.commit()
        ix.close()
        return directory

    def swap_in(self, directory: Path) -> None:
        """Point `current` at a built directory, atomically; keep the previous one for open readers."""
        link = self.root / f"current.{os.getpid()}.tmp"
        link.unlink(missing_ok=True)
        os.symlink(directory.name, link)
        previous = os.readlink(self.current) if self.current.is_symlink() else None
        os.replace(link, self.current)
        for old in self.root.glob("index-*"):
            if old.name not in (directory.name, previous):
                shutil.rmtree(old, ignore_errors=True)
        with self._lock:
            self._target = None  # reopen at the next search
        self.state = OK
