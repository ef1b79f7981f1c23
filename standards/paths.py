"""Reading a document at a dotted path whose segments may hold lists: one definition for validation, reference
checks and key unification, so they agree on what "the values at a path" are."""
from __future__ import annotations

from typing import Any


def values_at(doc: Any, parts: tuple[str, ...] | list[str]) -> list:
    """Every non-null value at ``parts``, descending into lists at any segment (the last one included)."""
    values = [doc]
    for part in parts:
        found = []
        for value in values:
            value = value.get(part) if type(value) is dict else None
            if type(value) is list:
                found.extend(value)
            elif value is not None:
                found.append(value)
        values = found
        if not values:
            return []
    return values
