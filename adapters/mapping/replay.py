"""Reading a source once per run and replaying it: the rows of an HTTP source spooled to a temporary file.

Why: a source used by several record rules and lookups is read once per use; for a file that is cheap, for an HTTP
API it means fetching every page again (slow, rate-limited, and the pages may change between two walks, so two rules
could see different data). The first complete read of a source is written to an anonymous temporary file, one JSON
line per row, and later reads in the same run replay it: memory stays bounded by one row, the API is walked once.
The spools belong to the run's inputs (:class:`Inputs` or ``UrlInputs``), which delete them when closed.

    rows = cached_rows(inputs, source, lambda: source.walk(inputs))   # walks the first time, replays afterwards
"""
from __future__ import annotations

import tempfile
from typing import Callable, Iterator

import orjson


class Spool:
    """The rows ``(where, row, problem)`` of one complete read, on disk."""

    def __init__(self):
        self.file = tempfile.TemporaryFile("w+b")  # no name on disk; removed when closed
        self.complete = False
        self.rows = 0

    def write(self, item: tuple) -> None:
        self.file.write(orjson.dumps(item, option=orjson.OPT_NON_STR_KEYS))
        self.file.write(b"\n")
        self.rows += 1

    def replay(self) -> Iterator[tuple]:
        self.file.flush()
        self.file.seek(0)
        for line in self.file:
            where, row, problem = orjson.loads(line)
            yield where, row, problem

    def close(self) -> None:
        self.file.close()


def spools(inputs) -> dict | None:
    """The run's spools (None for inputs that keep none)."""
    return getattr(inputs, "spools", None)


def close_spools(inputs) -> None:
    for spool in (spools(inputs) or {}).values():
        spool.close()
    (spools(inputs) or {}).clear()


def cached_rows(inputs, key, read: Callable[[], Iterator[tuple]]) -> Iterator[tuple]:
    """``read()`` the first time (spooling what it yields), a replay of the spool afterwards. A read that stops early
    (an error, or a reader that stops iterating) leaves no spool: the next read walks the source again."""
    cache = spools(inputs)
    if cache is None:
        yield from read()
        return
    spool = cache.get(key)
    if spool is not None and spool.complete:
        yield from spool.replay()
        return
    if spool is not None:  # another read of the same source is under way: read on its own, without spooling
        yield from read()
        return
    spool = cache[key] = Spool()
    try:
        for item in read():
            spool.write(item)
            yield item
        spool.complete = True
    finally:
        if not spool.complete:
            cache.pop(key, None)
            spool.close()
