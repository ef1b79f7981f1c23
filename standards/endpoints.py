"""Loader for the OneRoster endpoint definitions (``standards/oneroster/endpoints.yaml``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from dataclasses import field
from functools import cache

import yaml

_HERE = os.path.dirname(__file__)


@dataclass(frozen=True)
class Collection:
    name: str
    type: str
    cls: str
    plural: str
    singular: str
    where: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Endpoint:
    service: str
    path: str
    op: str
    op11: str | None
    collection: Collection
    single: bool
    scopes: tuple[str, ...]
    parents: dict
    where: dict
    via: dict | None


@dataclass(frozen=True)
class EndpointSet:
    services: dict
    v1p1_base: str
    collections: dict[str, Collection]
    endpoints: tuple[Endpoint, ...]


@cache
def load_endpoints() -> EndpointSet:
    with open(os.path.join(_HERE, "oneroster", "endpoints.yaml"), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    collections = {name: Collection(name=name, type=spec["type"], cls=spec["class"], plural=spec["plural"],
                                    singular=spec["singular"], where=spec.get("where", {}))
                   for name, spec in data["collections"].items()}
    endpoints = tuple(
        Endpoint(service=item["service"], path=item["path"], op=item["op"], op11=item.get("op11"),
                 collection=collections[item["collection"]], single=bool(item.get("single")),
                 scopes=tuple(data["scopes"][item["scopes"]]), parents=item.get("parents", {}),
                 where=item.get("where", {}), via=item.get("via"))
        for item in data["endpoints"])
    return EndpointSet(services=data["services"], v1p1_base=data["v1p1_base"], collections=collections,
                       endpoints=endpoints)
