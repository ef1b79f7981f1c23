"""The access policy of the calling app: the one place where what an app may see is decided.

An :class:`AccessPolicy` is built once per request from the verified token. Queries ask it for a row condition and
serialisation asks it which fields are readable, so every endpoint, nested object and collection goes through the
same decision. Today it grants every field below tier 3 (credentials and government ids never leave the gateway);
field profiles, org scoping and opt-outs plug in here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

PROHIBITED_TIER = 3


@dataclass(frozen=True)
class AccessPolicy:
    tenant: str
    client_id: str
    scopes: frozenset[str]

    def readable(self, model: Any, class_name: str) -> "FieldTree":
        """The readable fields of a class, as a tree (nested classes included)."""
        return readable_tree(model, class_name)

    def row_condition(self, compiler: Any, collection: dict) -> Any:
        """An extra SQL condition limiting the rows this app may see (``None``: no restriction yet)."""
        return None


FieldTree = dict  # field name -> FieldTree for nested objects, or None for a leaf kept as is


@lru_cache(maxsize=None)
def _tree(model: Any, class_name: str, depth: int = 0) -> tuple:
    cls = model.classes[class_name]
    items = []
    for name, field in cls.fields.items():
        if field.tier >= PROHIBITED_TIER:
            continue
        if field.type == "object" and field.cls in model.classes and depth < 6:
            items.append((name, _tree(model, field.cls, depth + 1)))
        else:
            items.append((name, None))
    return tuple(items)


@lru_cache(maxsize=None)
def readable_tree(model: Any, class_name: str) -> FieldTree:
    return _as_dict(_tree(model, class_name))


def _as_dict(items: tuple) -> FieldTree:
    return {name: (None if sub is None else _as_dict(sub)) for name, sub in items}
