"""Pausing Python's cyclic garbage collector while a statement batch is read and stored.

A batch of 500 statements is some 30,000 dicts and lists that live until the request ends, so
the collector runs hundreds of times and promotes them into full collections of the whole heap:
a quarter of the request's CPU time, for trees that have no reference cycles at all. Requests
of a threaded server share the collector, so it is paused while any of them is in a batch; if
their overlap never ends, a full collection still runs every MAX_PAUSE seconds.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_PAUSE = 2.0
"""Seconds the collector may stay paused under back-to-back overlapping requests."""

_lock = threading.Lock()
_holders = 0
_resume = False
_since = 0.0


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block (nested and concurrent blocks allowed)."""
    global _holders, _resume, _since
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
            _since = time.monotonic()
        _holders += 1
    try:
        yield
    finally:
        collect = False
        with _lock:
            _holders -= 1
            if _holders == 0:
                if _resume:
                    gc.enable()
            elif _resume and time.monotonic() - _since > MAX_PAUSE:
                _since = time.monotonic()
                collect = True
        if collect:
            gc.collect()  # other requests still hold the pause: collect cycles now and then
