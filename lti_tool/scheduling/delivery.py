"""Sending claimed batches of mail over a few SMTP connections at once, recording each outcome.

One SMTP connection spends most of its time waiting for the server's reply to each command; a
mail relay takes several connections in parallel. A few sender threads, each with its own
connection, keep the server busy while the sweep claims and writes the next batches. Every
batch is claimed before it is posted here; the thread that sends a batch records its outcome:
sent, refused, or released when the message certainly never left.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from queue import Queue
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from lti_tool.scheduling.mailer import BatchOutcome, Mail, Mailer
from lti_tool.scheduling.sends import mark_sending, settle_batch

if TYPE_CHECKING:
    from lti_tool.scheduling.reminders import SweepReport

log = logging.getLogger(__name__)
Batch = list[tuple[str, Mail]]


class Delivery:
    """Sender threads, one SMTP connection each, fed claimed batches (use as a context manager).

    The first connection is the caller's `mailer` (left open for its later use); the others are
    opened to the same server and closed on exit. Leaving the block waits until every posted
    batch is sent and recorded, then raises what a sender failed with, if anything.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        mailer: Mailer,
        connections: int,
        now: datetime,
        report: SweepReport,
    ):
        self.session_factory, self.now, self.report = session_factory, now, report
        # One batch waits for the first free connection; writing one takes far less time than
        # sending it, so none sits idle, and few claimed emails are at stake in a crash.
        self._queue: Queue[Batch | None] = Queue(maxsize=1)
        self._lock = threading.Lock()  # guards the report and the failure
        self._stop = threading.Event()
        self.failure: BaseException | None = None
        mailers = [mailer] + [Mailer(mailer.config) for _ in range(connections - 1)]
        self._spares = mailers[1:]
        self._threads = [
            threading.Thread(target=self._run, args=(m,), name=f"reminder-smtp-{i}", daemon=True)
            for i, m in enumerate(mailers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def stopped(self) -> bool:
        """True once the mail server is unreachable or a sender failed: post nothing more."""
        return self._stop.is_set()

    def post(self, batch: Batch) -> None:
        """Hand a claimed batch to the senders (waits while another batch is waiting)."""
        if batch:
            self._queue.put(batch)

    def __enter__(self) -> Delivery:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        for spare in self._spares:
            spare.close()
        if exc is None and self.failure is not None:
            raise self.failure

    def _run(self, mailer: Mailer) -> None:
        while (batch := self._queue.get()) is not None:
            try:
                self._deliver(mailer, batch)
            except BaseException as exc:
                # The sweep re-raises it; claims not yet settled stay claimed: none is resent.
                log.exception("reminder sender failed")
                with self._lock:
                    self.failure = self.failure or exc
                self._stop.set()

    def _deliver(self, mailer: Mailer, batch: Batch) -> None:
        if self.stopped:
            outcome = BatchOutcome(unsent=[key for key, _ in batch])
        else:
            with self.session_factory() as session, session.begin():
                mark_sending(session, [key for key, _ in batch])
            outcome = mailer.send_all(batch)
        with self.session_factory() as session, session.begin():
            settle_batch(session, outcome, self.now)
        for key, error in outcome.refused.items():
            log.warning("reminder %s not sent: %s", key, error)
        with self._lock:
            self.report.sent += len(outcome.sent)
            self.report.failed += len(outcome.refused)
            self.report.errors.extend(outcome.refused.values())
            if outcome.crashed is None:
                self.report.failed += len(outcome.unsent)
            if outcome.unreachable is not None:
                self.report.errors.append(str(outcome.unreachable))
        if outcome.crashed is not None:
            raise outcome.crashed
        if outcome.unreachable is not None:
            log.warning("reminders paused: %s", outcome.unreachable)
            self._stop.set()
