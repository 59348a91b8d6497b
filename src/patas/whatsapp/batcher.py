"""Group commit for webhook deliveries: one writer thread stores whatever has queued up.

Every request still gets its answer only after its delivery is committed (200 means stored),
but while the writer commits one batch the next requests queue up and go into the next
transaction together. On SQLite (one writer at a time) this turns ~10 statements and a commit
per request into ~10 statements and a commit per batch.

A batch that fails, for any reason, is retried one delivery at a time, so one bad delivery
cannot keep others from being stored; a database that is down fails them all (the server
answers 503 and Meta retries); a delivery that fails for another reason answers 500.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future

from django.db import DatabaseError, connection

from patas.whatsapp import ingest
from patas.whatsapp.parse import Parsed

log = logging.getLogger(__name__)

IDLE_SECONDS = 1.0
_Item = tuple[bytes, Parsed, "Future[ingest.IngestResult]"]


class IngestBatcher:
    def __init__(self, max_batch: int = 200) -> None:
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_batch_at = 0.0

    def submit(self, body: bytes, parsed: Parsed) -> Future[ingest.IngestResult]:
        self._ensure_started()
        future: Future[ingest.IngestResult] = Future()
        self._queue.put((body, parsed, future))
        return future

    def stop(self) -> None:
        thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)
            self._thread = None

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="patas-webhook-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                while len(batch) < self.max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        self._store(batch)
                        return
                    batch.append(item)
                self._store(batch)
        finally:
            connection.close()

    def _store(self, batch: list[_Item]) -> None:
        self._refresh_connection()
        try:
            results = ingest.store_many([(body, parsed) for body, parsed, _ in batch])
        except Exception as exc:  # answered below: the writer thread must not die
            if isinstance(exc, DatabaseError):
                connection.close()
            if len(batch) > 1:
                # Whatever failed (a dead database, or one delivery that cannot be stored),
                # one by one keeps a single bad delivery from failing its neighbours.
                log.warning(
                    "a batch of %d deliveries failed (%s); storing one by one", len(batch), exc
                )
                for item in batch:
                    self._store([item])
            elif isinstance(exc, DatabaseError):
                log.error("webhook delivery not stored: %s", exc)
                batch[0][2].set_exception(exc)
            else:  # a bug: this request answers 500
                log.exception("webhook delivery not stored")
                batch[0][2].set_exception(exc)
            return
        for (_, _, future), result in zip(batch, results, strict=True):
            future.set_result(result)
        self._last_batch_at = time.monotonic()

    def _refresh_connection(self) -> None:
        """Keep the writer's connection while deliveries keep coming; after a quiet spell, let
        Django drop it if it is broken or past CONN_MAX_AGE (as between two requests).

        Measured: closing a SQLite connection costs ~20 ms (the last connection to a WAL
        database checkpoints it), so closing after every batch would cap ingest at a few dozen
        batches a second. A connection that fails is closed at once (see `_store`)."""
        if time.monotonic() - self._last_batch_at > IDLE_SECONDS:
            connection.close_if_unusable_or_obsolete()
