"""OpenAPI 3.0 schema objects generated from the OneRoster model definitions (``standards.load_model``).

:class:`SchemaBuilder` turns model classes into ``components.schemas`` entries, adding each class a served
collection can reach (through ``object`` fields) and one GUIDRef schema per reference target. Fields of tier 3 never
leave the gateway, so they are left out of every schema. The envelopes (``{"<plural>": [...]}``,
``{"<singular>": {...}}``) and the error payloads (1.2 ``imsx_StatusInfo``, 1.1 ``statusInfoSet``) are built here too.
"""

from __future__ import annotations

from typing import Any

EXT_PATTERN = r"(ext:)[a-zA-Z0-9\.\-_]+"
NEVER_SERVED_TIER = 3  # tier 3 fields "never leave the gateway" (tiers.json)

_SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "uri": {"type": "string", "format": "uri"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "boolstring": {"type": "string", "enum": ["true", "false"]},
    "metadata": {"type": "object", "additionalProperties": True},
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def served_fields(cls: Any) -> list[Any]:
    return [field for field in cls.fields.values() if field.tier < NEVER_SERVED_TIER]


class SchemaBuilder:
    """Collects the component schemas of one document for one model version.

    ``prefix`` namespaces every schema name (the combined document holds 1.2 and 1.1 classes of the same name).
    """

    def __init__(self, model: Any, prefix: str = ""):
        self.model = model
        self.prefix = prefix
        self.schemas: dict[str, dict] = {}

    def name(self, base: str) -> str:
        return self.prefix + base

    # --- model classes ------------------------------------------------------------------------------------------

    def class_schema(self, class_name: str) -> dict[str, str]:
        """Add the schema of a model class (and everything it reaches); return a ``$ref`` to it."""
        name = self.name(class_name)
        if name not in self.schemas:
            cls = self.model.classes[class_name]
            self.schemas[name] = {}  # reserve first: classes may refer to each other
            fields = served_fields(cls)
            schema: dict[str, Any] = {"type": "object"}
            if cls.description:
                schema["description"] = cls.description
            schema["properties"] = {field.name: self.field_schema(field) for field in fields}
            required = [field.name for field in fields if field.required]
            if required:
                schema["required"] = required
            schema["additionalProperties"] = bool(cls.open)
            self.schemas[name] = schema
        return ref(name)

    def guidref_schema(self, target: str) -> dict[str, str]:
        name = self.name(target[:1].upper() + target[1:] + "GUIDRef")
        if name not in self.schemas:
            self.schemas[name] = {
                "type": "object",
                "description": f"A reference to a OneRoster '{target}' object by its sourcedId (GUIDRef).",
                "properties": {
                    "href": {"type": "string", "format": "uri", "description": "URI of the referenced object."},
                    "sourcedId": {"type": "string", "description": "sourcedId of the referenced object."},
                    "type": {"type": "string", "enum": [target], "description": "Type of the referenced object."},
                },
                "required": ["href", "sourcedId", "type"],
                "additionalProperties": False,
            }
        return ref(name)

    def field_schema(self, field: Any) -> dict[str, Any]:
        """The schema of one field; arrays for ``many`` fields, descriptions kept next to ``$ref`` via ``allOf``."""
        item = self._value_schema(field)
        if field.many:
            schema: dict[str, Any] = {"type": "array", "items": item}
            if field.min_items:
                schema["minItems"] = field.min_items
        elif "$ref" in item:
            schema = {"allOf": [item]}  # siblings of $ref are ignored in OpenAPI 3.0
        else:
            schema = dict(item)
        if field.description:
            schema["description"] = field.description
        return schema

    def _value_schema(self, field: Any) -> dict[str, Any]:
        if field.type == "ref":
            return self.guidref_schema(field.ref)
        if field.type == "object":
            return self.class_schema(field.cls)
        if field.type not in _SCALARS:
            raise ValueError(f"{field.name}: no OpenAPI mapping for field type {field.type!r}")
        schema = dict(_SCALARS[field.type])
        if field.enum and field.type != "boolstring":
            schema["enum"] = list(field.enum)
            alternatives = [{"type": "string", "pattern": EXT_PATTERN}] if field.ext else []
            if getattr(field, "pattern", None):
                alternatives.append({"type": "string", "pattern": field.pattern})
            if alternatives:
                return {"anyOf": [schema, *alternatives]}
        elif getattr(field, "pattern", None):
            schema["pattern"] = field.pattern
        return schema

    # --- envelopes ----------------------------------------------------------------------------------------------

    def collection_envelope(self, class_name: str, plural: str) -> dict[str, str]:
        return self._envelope(f"{class_name}Set", plural, {
            "type": "array", "items": self.class_schema(class_name),
            "description": f"The {plural}; may be empty, the order is not significant."},
            f"A collection of {plural} (OneRoster '{plural}' envelope).")

    def single_envelope(self, class_name: str, singular: str) -> dict[str, str]:
        return self._envelope(f"Single{class_name}", singular, self.class_schema(class_name),
                              f"A single {singular} (OneRoster '{singular}' envelope).")

    def _envelope(self, base: str, key: str, member: dict, description: str) -> dict[str, str]:
        name = self.name(base)
        schema = {"type": "object", "description": description, "properties": {key: member}, "required": [key],
                  "additionalProperties": False}
        if self.schemas.setdefault(name, schema) != schema:
            raise ValueError(f"envelope {name} defined twice with different keys")
        return ref(name)

    # --- errors -------------------------------------------------------------------------------------------------

    def status_info(self) -> dict[str, str]:
        """The error payload: 1.2 ``imsx_StatusInfo`` itself, 1.1 ``{"statusInfoSet": [imsx_StatusInfo]}``."""
        info = self.class_schema("imsx_StatusInfo")
        if self.model.version != "1.1":
            return info
        name = self.name("StatusInfoSet")
        self.schemas[name] = {
            "type": "object",
            "description": "The OneRoster 1.1 error payload: the status information in an array.",
            "properties": {"statusInfoSet": {"type": "array", "minItems": 1, "items": info}},
            "required": ["statusInfoSet"],
            "additionalProperties": False,
        }
        return ref(name)
