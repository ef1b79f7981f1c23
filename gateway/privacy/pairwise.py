"""Pairwise user ids: each app with the pairwise option sees every user under an id of its own.

Why: two vendors holding the same students must not be able to join their copies on the district's ids. An app's
pairwise id of a user is a keyed hash (HMAC-SHA256 with the app's random key, kept in ``apps.pairwise_key``) of the
tenant and the user's sourcedId: stable across calls and processes, different for every app, and not reversible
without the key. Cross-system identifiers of users (username, email, ...) are withheld from such apps unless their
profile names them, for the same reason.

Going out, :class:`PairwiseIds` maps ids as the :class:`~gateway.api.render.Shaper` serialises each record and
stores every (pairwise id → sourcedId) pair it sent in ``pairwise_ids`` before the bytes leave, so the ids the app
sends back (path parameters, filter values) resolve. An id the app was never sent (a real sourcedId included)
resolves to nothing: the record is unknown, the filter matches nothing. The disclosure log keeps real ids: it is
fed the stored document, never the mapped one.

Which ids are users' comes from the standards definitions: record types whose sourcedId is a user's (users, and
demographics, whose indexed ``user_ref`` is their own sourcedId), and GUIDRef fields whose target is such a type.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import replace
from functools import lru_cache
from typing import Any
from typing import Iterable
from typing import Iterator

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from gateway.errors import InvalidFilterField
from gateway.query.filtering import And
from gateway.query.filtering import Or
from gateway.query.filtering import Predicate
from gateway.storage import indexing
from gateway.storage.tables import pairwise_ids
from standards.endpoints import load_endpoints

ID_BYTES = 16  # 128 bits of the HMAC, written as 32 lower-case hex digits (fits where a GUID fits)
USER = "user"
# Record types whose sourcedId is a user's sourcedId.
USER_ID_TYPES = frozenset({USER} | {rtype for rtype, columns in indexing.COLUMNS.items()
                                    if columns.get("user_ref") == "sourcedId"})
# Identifiers a user has in other systems: any of them would let two vendors join their copies again. Withheld from
# pairwise apps unless their profile names the field explicitly.
JOIN_KEYS = {"User": frozenset({"username", "email", "identifier", "userIds", "userMasterIdentifier", "sms", "phone",
                                "userProfiles"})}
# What an id the app was never sent becomes: a fresh random value per process, which no stored record has and no app
# can guess, so every query treats it exactly like the id of a record that does not exist.
UNRESOLVED = "unresolved-" + secrets.token_hex(16)
FLUSH_ROWS = 500  # a streamed response stores its ids (and only then sends the rows) every this many records
_SAVED_MAX = 100_000  # about 10 MB
# Pairwise ids this process knows are stored, to skip re-inserting them. An id alone suffices: it is a keyed hash
# under one app's random key, so ids of different apps or districts do not meet.
_saved: set[str] = set()
_saved_lock = threading.Lock()


def pairwise_id(key_hex: str, tenant: str, sourced_id: str) -> str:
    """The app's id for a user: HMAC-SHA256(key, tenant NUL sourcedId), its first 128 bits in lower-case hex."""
    return hmac.digest(bytes.fromhex(key_hex), tenant.encode() + b"\0" + sourced_id.encode(), "sha256")[:ID_BYTES].hex()


@lru_cache(maxsize=None)
def user_id_classes() -> frozenset[str]:
    """Classes whose records' own sourcedId is a user's (User, Demographics)."""
    return frozenset(c.cls for c in load_endpoints().collections.values() if c.type in USER_ID_TYPES)


def is_user_ref(field: Any) -> bool:
    return field.type == "ref" and field.ref in USER_ID_TYPES


@lru_cache(maxsize=None)
def user_paths(model: Any, class_name: str) -> tuple[frozenset, frozenset]:
    """(paths holding a user's sourcedId, paths of whole GUIDRefs to users) in records of a class."""
    ids, refs = set(), set()
    if class_name in user_id_classes():
        ids.add(("sourcedId",))

    def walk(cls: Any, prefix: tuple[str, ...], depth: int) -> None:
        for name, field in cls.fields.items():
            if is_user_ref(field):
                ids.add(prefix + (name, "sourcedId"))
                refs.add(prefix + (name,))
            elif field.type == "object" and field.cls in model.classes and depth < 4:
                walk(model.classes[field.cls], prefix + (name,), depth + 1)

    walk(model.classes[class_name], (), 0)
    return frozenset(ids), frozenset(refs)


def withhold(tree: dict, class_name: str, profile: Any | None) -> dict:
    """The readable tree without the class's join keys, except those the app's profile names explicitly."""
    keys = JOIN_KEYS.get(class_name)
    if not keys or not keys & tree.keys():
        return tree
    granted = _named(profile, class_name) if profile is not None else frozenset()
    return {name: sub for name, sub in tree.items() if name not in keys or name in granted}


def _named(profile: Any, class_name: str) -> frozenset[str]:
    """Fields a profile's ReadContentType names to grant them (IncludeOnly, or refined under IncludeAll)."""
    rule = profile.resources.get(class_name)
    read = rule.read if rule is not None else None
    if read is None or read.mode not in ("IncludeOnly", "IncludeAll"):
        return frozenset()
    return frozenset(member.name for member in read.members)


def for_policy(policy: Any) -> PairwiseIds | None:
    """The pairwise ids of one response, or None for an app without the option (then nothing here costs anything)."""
    key = getattr(policy, "pairwise_key", None)
    return PairwiseIds(key, policy.tenant, policy.client_id) if key else None


class PairwiseIds:
    """One response's ids: maps sourcedIds going out (remembering them), resolves the app's ids coming in."""

    def __init__(self, key_hex: str, tenant: str, client_id: str):
        self.key_hex, self.tenant, self.client_id = key_hex, tenant, client_id
        self._mac = hmac.new(bytes.fromhex(key_hex), tenant.encode() + b"\0", "sha256")  # copied per id: cheaper
        self._memo: dict[str, str] = {}  # sourcedId -> pairwise id
        self._pending: dict[str, str] = {}  # pairwise id -> sourcedId, sent (or about to be) but not yet stored

    # --- going out ------------------------------------------------------------------------------------------------
    def __call__(self, sourced_id: Any) -> str:
        """The pairwise id to send for a sourcedId; it will be stored before the response leaves."""
        sid = str(sourced_id)
        pid = self._memo.get(sid)
        if pid is None:
            pid = self._memo[sid] = self._id(sid)
            if pid not in _saved:
                self._pending[pid] = sid
        return pid

    def _id(self, sid: str) -> str:
        mac = self._mac.copy()
        mac.update(sid.encode())
        return mac.digest()[:ID_BYTES].hex()

    def save(self, engine: Engine) -> None:
        """Store the pairs not stored yet: one batched INSERT ... ON CONFLICT DO NOTHING, safe with several processes.

        Pairs this process already stored are skipped (the common case: a sync fetching the same roster again).
        """
        if not self._pending:
            return
        rows = [{"tenant": self.tenant, "client_id": self.client_id, "pairwise_id": pid, "sourced_id": sid}
                for pid, sid in sorted(self._pending.items())]  # one key order: concurrent inserts cannot deadlock
        with engine.begin() as conn:
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            conn.execute(insert(pairwise_ids).on_conflict_do_nothing(), rows)
        with _saved_lock:
            if len(_saved) + len(rows) > _SAVED_MAX:
                _saved.clear()
            _saved.update(self._pending)
        self._pending.clear()

    def hold(self, chunks: Iterable[bytes], engine: Engine) -> Iterator[bytes]:
        """Pass serialised records on in batches, each only once the ids in it are stored."""
        batch: list[bytes] = []
        for chunk in chunks:
            batch.append(chunk)
            if len(batch) >= FLUSH_ROWS:
                self.save(engine)
                yield b"".join(batch)
                batch = []
        self.save(engine)
        if batch:
            yield b"".join(batch)

    # --- coming in ------------------------------------------------------------------------------------------------
    def resolve(self, conn: Connection, pids: Iterable[str]) -> dict[str, str]:
        """sourcedIds of the given ids that this app has been sent under its current key."""
        wanted = sorted({pid for pid in pids if isinstance(pid, str)})
        if not wanted:
            return {}
        rows = conn.execute(select(pairwise_ids.c.pairwise_id, pairwise_ids.c.sourced_id).where(
            pairwise_ids.c.tenant == self.tenant, pairwise_ids.c.client_id == self.client_id,
            pairwise_ids.c.pairwise_id.in_(wanted))).all()
        # A row written under an earlier key (the option was turned off and on) no longer resolves.
        return {pid: sid for pid, sid in rows if self._id(sid) == pid}

    def translate(self, conn: Connection, model: Any, endpoint: Any, params: dict[str, str],
                  node: Any = None) -> tuple[dict[str, str], Any]:
        """Path parameters and a filter AST with the app's user ids replaced by sourcedIds (one look-up)."""
        types = {"sourcedId": endpoint.collection.type} if endpoint.single else endpoint.parents
        names = [name for name, rtype in types.items() if rtype in USER_ID_TYPES and name in params]
        predicates = _user_predicates(model, endpoint.collection.cls, node) if node is not None else []
        if not names and not predicates:
            return params, node
        known = self.resolve(conn, [params[name] for name in names] + [p.value for p in predicates])
        params = {**params, **{name: known.get(params[name], UNRESOLVED) for name in names}}
        if predicates:
            node = _rewrite(node, frozenset(predicates), known)
        return params, node


def _user_predicates(model: Any, class_name: str, node: Any) -> list[Predicate]:
    """The filter's predicates on users' ids; refuses comparisons that would reveal real ids."""
    ids, refs = user_paths(model, class_name)
    found = []
    for predicate in node.predicates():
        dotted = ".".join(predicate.path)
        if predicate.path in refs:
            raise InvalidFilterField(f"filter: {dotted!r} is a reference; filter on {dotted}.sourcedId")
        if predicate.path in ids:
            if predicate.op not in ("=", "!="):
                raise InvalidFilterField(f"filter: {dotted} holds ids that can only be compared with = or !=")
            found.append(predicate)
    return found


def _rewrite(node: Any, targets: frozenset, known: dict[str, str]) -> Any:
    if isinstance(node, (And, Or)):
        return replace(node, items=tuple(_rewrite(item, targets, known) for item in node.items))
    if node in targets:
        return replace(node, value=known.get(node.value, UNRESOLVED))
    return node
