"""OneRoster scope URIs. Scopes are compared as exact tokens of a space-separated set, never as substrings."""

from __future__ import annotations

PREFIX_V1P2 = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
PREFIX_V1P1 = "https://purl.imsglobal.org/spec/or/v1p1/scope/"

NAMES_V1P2 = ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly", "gradebook-core.readonly",
              "gradebook.readonly", "gradebook.createput", "gradebook.createpost", "gradebook.delete",
              "assessment.readonly", "assessment.createput", "assessment.delete", "resource-core.readonly",
              "resource.readonly")
NAMES_V1P1 = ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly", "resource.readonly",
              "gradebook.readonly", "gradebook.createput", "gradebook.delete")

KNOWN = frozenset([PREFIX_V1P2 + name for name in NAMES_V1P2] + [PREFIX_V1P1 + name for name in NAMES_V1P1])


def expand(names: list[str], version: str) -> frozenset[str]:
    """Full scope URIs for short names under one version (names already absolute are kept)."""
    prefix = PREFIX_V1P1 if version == "1.1" else PREFIX_V1P2
    return frozenset(name if name.startswith("https://") else prefix + name for name in names)


def parse(scope: str | None) -> frozenset[str]:
    return frozenset((scope or "").split())


def normalise(requested: list[str]) -> list[str]:
    """Validate scopes given at app registration; short names mean the 1.2 scope."""
    result = []
    for item in requested:
        for token in item.split():
            full = token if token.startswith("https://") else PREFIX_V1P2 + token
            if full not in KNOWN:
                raise ValueError(f"unknown scope {token!r}; known: " + ", ".join(sorted(NAMES_V1P2)))
            result.append(full)
    return sorted(set(result))
