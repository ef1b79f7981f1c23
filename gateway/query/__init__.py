"""Parsing of the OneRoster collection query parameters (``filter``, ``sort``/``orderBy``, ``fields``) into plain values."""

from gateway.query.filtering import And
from gateway.query.filtering import FieldsSyntaxError
from gateway.query.filtering import FilterSyntaxError
from gateway.query.filtering import MAX_DEPTH
from gateway.query.filtering import MAX_LENGTH
from gateway.query.filtering import Node
from gateway.query.filtering import OPERATORS
from gateway.query.filtering import Or
from gateway.query.filtering import Predicate
from gateway.query.filtering import SortSyntaxError
from gateway.query.filtering import parse_fields
from gateway.query.filtering import parse_filter
from gateway.query.filtering import parse_sort
from gateway.query.filtering import to_text

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "OPERATORS",
    "And",
    "FieldsSyntaxError",
    "FilterSyntaxError",
    "Node",
    "Or",
    "Predicate",
    "SortSyntaxError",
    "parse_fields",
    "parse_filter",
    "parse_sort",
    "to_text",
]
