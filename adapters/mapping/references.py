"""Dropping an optional reference from a record: the one edit the engine makes to a document after building it.

Why: a rule may declare some references optional (``optional_references: [agents]``): a target that is neither
produced in the run nor stored is then left out of the record, with a warning, instead of rejecting the row. The
reference may sit at the top (``school``), in a list (``agents``) or in nested objects (``roles.org``).
"""
from __future__ import annotations


def drop_reference(doc: dict, path: str, ref: str) -> bool:
    """Remove every reference to ``ref`` at the dotted ``path``; a list left empty (or a lone reference) is removed
    with its field. Returns True (the caller re-validates the record: the field may have been required)."""
    _drop(doc, path.split("."), ref)
    return True


def _drop(container: dict, parts: list, ref: str) -> None:
    key = parts[0]
    value = container.get(key)
    if len(parts) == 1:
        if type(value) is dict and value.get("sourcedId") == ref:
            del container[key]
        elif type(value) is list:
            kept = [v for v in value if not (type(v) is dict and v.get("sourcedId") == ref)]
            if kept:
                container[key] = kept
            else:
                del container[key]
        return
    for child in value if type(value) is list else [value]:
        if type(child) is dict:
            _drop(child, parts[1:], ref)
