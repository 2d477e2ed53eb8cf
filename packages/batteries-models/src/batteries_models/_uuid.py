"""Time-ordered UUIDs (RFC 9562 version 7), generated in Python so every database gets them."""

from __future__ import annotations

import secrets
import threading
import time
import uuid

__all__ = ["uuid7"]

_lock = threading.Lock()
_last_ms = 0
_counter = 0
_COUNTER_MAX = 0xFFF


def uuid7() -> uuid.UUID:
    """Return a new UUIDv7: a millisecond timestamp, a sub-millisecond counter, then randomness.

    UUIDs from one process sort in creation order (the 12-bit ``rand_a`` field is a counter,
    RFC 9562 §6.2 method 1), which keeps B-tree indexes on UUID primary keys compact.
    """
    global _last_ms, _counter
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms = now_ms
            _counter = secrets.randbits(10)  # leaves room to count up within the millisecond
        else:
            _counter += 1
            if _counter > _COUNTER_MAX:  # counter exhausted: borrow the next millisecond
                _last_ms += 1
                _counter = 0
        ms, counter = _last_ms, _counter
    value = (
        (ms & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76
        | counter << 64
        | 0b10 << 62
        | secrets.randbits(62)
    )
    return uuid.UUID(int=value)
