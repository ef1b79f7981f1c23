"""The access policy of the calling app: the one place where what an app may see is decided.

An :class:`AccessPolicy` is built once per request from the verified token and its app. Queries ask it for a row
condition and serialisation asks it which fields are readable, so every endpoint, nested object and collection goes
through the same decision. Fields follow the app's field profile (Ed-Fi API Profile XML); an app without one gets
tier-0 fields only (default deny). Tier-3 fields can never be granted (profiles naming them are refused at upload).
Rows are limited by the app's allowed orgs and by students' opt-outs (:mod:`gateway.privacy.scoping`).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from functools import lru_cache
from typing import Any

from gateway.errors import BadRequest
from gateway.errors import Forbidden
from gateway.privacy import pairwise
from gateway.privacy import scoping
from gateway.privacy import writes
from gateway.privacy.profiles import Profile
from gateway.privacy.profiles import default_view
from gateway.privacy.profiles import parse_profile
from standards import load_model


@dataclass(frozen=True)
class AccessPolicy:
    tenant: str
    client_id: str
    scopes: frozenset[str]
    profile_xml: str | None = None
    profile_name: str | None = None
    allowed_orgs: tuple[str, ...] | None = None  # None: the whole district
    has_optouts: bool = True  # False when no opt-out concerns this app (the condition can be left out)
    epoch: int | None = field(default=None, compare=False)  # the district's newest change version, read with the token
    purpose: str = ""  # the legitimate educational interest the district recorded (cited by the disclosure log)
    # set: user ids are replaced by per-app keyed hashes (gateway.privacy.pairwise); a secret, so kept out of reprs
    pairwise_key: str | None = field(default=None, repr=False)

    def readable(self, model: Any, class_name: str) -> dict:
        """The readable field tree of a class; refuses a resource the app's profile leaves out.

        An app with pairwise ids also loses users' identifiers in other systems unless its profile names them.
        """
        profile = app_profile(self.profile_xml, self.profile_name) if self.profile_xml else None
        tree = profile.readable(class_name) if profile is not None else default_view(model, class_name)
        if tree is None:
            raise Forbidden(f"This app's data profile does not include {class_name} records")
        return pairwise.withhold(tree, class_name, profile) if self.pairwise_key else tree

    def check_write(self, class_name: str, doc: dict) -> None:
        """Refuse a write carrying any field the app's profile does not let it write (no profile: no writes)."""
        profile = app_profile(self.profile_xml, self.profile_name) if self.profile_xml else None
        tree = profile.writable(class_name) if profile is not None else None
        if tree is None:
            raise Forbidden(f"This app's data profile does not allow writing {class_name} records")
        refused = sorted(set(writes.unwritable(doc, tree)))
        if refused:
            raise BadRequest("This app's data profile does not allow writing: " + ", ".join(refused))

    def row_condition(self, compiler: Any, collection: Any) -> Any:
        """The SQL condition limiting the rows this app may see: its orgs, and students' opt-outs."""
        return scoping.row_condition(compiler.table, compiler.rtype, self.tenant, self.client_id, self.allowed_orgs,
                                     self.has_optouts)


@lru_cache(maxsize=128)
def app_profile(xml: str, name: str | None) -> Profile:
    """Parse an app's stored profile once per process (it was validated when the district uploaded it)."""
    profiles = parse_profile(xml, load_model("oneroster", "1.2"), source="app profile")
    return profiles[name] if name else next(iter(profiles.profiles.values()))
