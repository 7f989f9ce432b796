"""A per-process cache of values derived from one database row, valid for one version of that row.

A value is stored only once the transaction that produced it has committed, under the row's version as that
transaction wrote it; a reader holding the row (locked, or as read) with the same version gets the value. A
rolled-back transaction stores nothing, and a row changed by another process has another version, so a stale
value is never returned, only missed. Every change to what the value derives from must bump the version.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from ...extensions.database import on_commit

V = TypeVar("V")


class VersionedCache(Generic[V]):
    def __init__(self, max_entries: int) -> None:
        self._entries: OrderedDict[tuple, tuple[int, V]] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def get(self, session: Session, key: Hashable, version: int) -> V | None:
        full_key = (str(session.get_bind().engine.url), key)
        with self._lock:
            entry = self._entries.get(full_key)
            if entry is None or entry[0] != version:
                return None
            self._entries.move_to_end(full_key)
            return entry[1]

    def put_after_commit(self, session: Session, key: Hashable, version: int, value: Callable[[], V]) -> None:
        """Store `value()` once the session's transaction has committed."""
        full_key = (str(session.get_bind().engine.url), key)

        def put() -> None:
            made = value()
            with self._lock:
                self._entries[full_key] = (version, made)
                self._entries.move_to_end(full_key)
                while len(self._entries) > self._max_entries:
                    self._entries.popitem(last=False)

        on_commit(session, put)
