"""What an app may write: every field of a written document must be in its profile's WriteContentType.

Why here, before any write endpoint exists: the gradebook and Ed-Fi write endpoints will all call
:meth:`gateway.policy.AccessPolicy.check_write`, so the rule (default deny; a field outside the profile refuses the
whole write, nothing is half-applied) is decided once. Collection filters apply to writes as to reads: an item whose
filtered property is outside the allowed values is refused.
"""

from __future__ import annotations

from typing import Any
from typing import Iterator

from gateway.privacy.profiles import BASE_FIELDS
from gateway.privacy.profiles import FILTER_KEY

SERVER_SET = frozenset(BASE_FIELDS) - {"sourcedId"}  # status and dateLastModified are the gateway's to set


def unwritable(doc: Any, tree: dict, prefix: str = "") -> Iterator[str]:
    """Dotted paths in ``doc`` that ``tree`` does not let the app write (``roles[].userProfile``)."""
    if not isinstance(doc, dict):
        return
    for name, value in doc.items():
        path = prefix + name
        if name not in tree or (not prefix and name in SERVER_SET):
            yield path
            continue
        sub = tree[name]
        if sub is None:
            continue
        items = value if isinstance(value, list) else [value]
        suffix = "[]." if isinstance(value, list) else "."
        flt = sub.get(FILTER_KEY)
        for item in items:
            if flt is not None and isinstance(item, dict):
                allowed = (item.get(flt["property"]) in flt["values"]) == (flt["mode"] == "IncludeOnly")
                if not allowed:
                    yield f"{path}{suffix}{flt['property']}={item.get(flt['property'])!r}"
                    continue
            yield from unwritable(item, sub, path + suffix)
