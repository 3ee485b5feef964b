"""Each API operation declared once: its route, scope, inputs and answers as JSON Schema.

The route table (`routes.py`) is built from these declarations and so is the OpenAPI document
(`openapi.py`); the same schemas check every request's query and body (`validate`), so what
the document says is what the server does. The schemas use the subset of JSON Schema that
`validate` understands: type (one or a list), enum, const, minLength, maxLength, pattern,
format date-time, minimum, maximum, properties, required, additionalProperties false, items,
minItems, maxItems, $ref to `#/components/schemas/...`, and oneOf of such schemas.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from onlinesupport.lib.errors import UserError

MAX_ID = 2**63 - 1
Schema = dict[str, Any]


# Schema builders: short, so the declarations read like the document.


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def string(max_length: int = 1000, *, min_length: int = 0, **extra: Any) -> Schema:
    return {"type": "string", "minLength": min_length, "maxLength": max_length, **extra}


def integer(minimum: int = 0, maximum: int = MAX_ID, **extra: Any) -> Schema:
    return {"type": "integer", "minimum": minimum, "maximum": maximum, **extra}


def identifier() -> Schema:
    return integer(1)


def nullable(schema: Schema) -> Schema:
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def timestamp() -> Schema:
    return {"type": "string", "format": "date-time"}


def array(items: Schema, max_items: int = 1000) -> Schema:
    return {"type": "array", "items": items, "maxItems": max_items}


def obj(
    properties: Mapping[str, Schema], required: tuple[str, ...] | None = None, closed: bool = True
) -> Schema:
    """An object; `required` None: every property is there (what answers are)."""
    schema: Schema = {
        "type": "object",
        "properties": dict(properties),
        "required": list(properties if required is None else required),
    }
    if closed:
        schema["additionalProperties"] = False
    return schema


@dataclass(frozen=True)
class Param:
    """A query parameter (always optional)."""

    name: str
    schema: Schema
    description: str


@dataclass(frozen=True)
class Call:
    """One validated API request, as a handler receives it."""

    request: web.Request
    path: dict[str, int]
    query: dict[str, Any]
    body: dict[str, Any]


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    """Relative to /api/v1, with {id}-style parameters (all positive whole numbers)."""
    handler: Handler
    scope: str
    summary: str
    tag: str
    responses: Mapping[int, tuple[str, Schema | None]]
    """Status -> (description, JSON schema of the body; None: none, or not JSON)."""
    query: tuple[Param, ...] = ()
    body: Schema | None = None
    upload: Schema | None = None
    """A multipart/form-data body (a file), checked by the handler, not by `validate`."""
    download: str = ""
    """The media type of a 200 answer that is a file rather than JSON."""
    description: str = ""
    operation_id: str = field(default="")

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


class Invalid(UserError):
    """A request's input does not match its schema."""

    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


def _resolve(schema: Schema, components: Mapping[str, Schema]) -> Schema:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            or (isinstance(value, float) and value.is_integer())
        )
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    raise ValueError(f"schema type {kind} is not supported")


def validate(value: Any, schema: Schema, components: Mapping[str, Schema], at: str = "") -> Any:
    """`value` if it matches `schema` (whole floats become ints), else Invalid naming where."""
    schema = _resolve(schema, components)
    where = at or "body"
    if "oneOf" in schema:
        for option in schema["oneOf"]:
            try:
                return validate(value, option, components, at)
            except Invalid:
                continue
        raise Invalid(where, f"{where} has the wrong type")
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_type_ok(value, k) for k in kinds):
            raise Invalid(where, f"{where} must be {' or '.join(kinds)}")
    if "const" in schema and value != schema["const"]:
        raise Invalid(where, f"{where} must be {schema['const']!r}")
    if "enum" in schema and (value not in schema["enum"] or isinstance(value, bool)):
        raise Invalid(where, f"{where} must be one of {', '.join(map(str, schema['enum']))}")
    if value is None:
        return None
    if isinstance(value, str):
        return _string(value, schema, where)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float):
            value = int(value)
        if value < schema.get("minimum", -MAX_ID - 1) or value > schema.get("maximum", MAX_ID):
            raise Invalid(where, f"{where} is out of range")
        return value
    if isinstance(value, list):
        if len(value) > schema.get("maxItems", 10_000):
            raise Invalid(where, f"{where} has more than {schema['maxItems']} items")
        if len(value) < schema.get("minItems", 0):
            raise Invalid(where, f"{where} needs at least {schema['minItems']} items")
        items = schema.get("items", {})
        return [
            validate(v, items, components, f"{at}[{i}]" if at else f"[{i}]")
            for i, v in enumerate(value)
        ]
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                path = f"{at}.{name}" if at else name
                raise Invalid(path, f"{path} is required")
        checked = {}
        for name, item in value.items():
            path = f"{at}.{name}" if at else str(name)
            if name not in properties:
                if schema.get("additionalProperties", True) is False:
                    raise Invalid(path, f"{path} is not a known field")
                continue
            checked[name] = validate(item, properties[name], components, path)
        return checked
    return value


def _string(value: str, schema: Schema, where: str) -> str:
    if len(value) < schema.get("minLength", 0):
        raise Invalid(where, f"{where} is too short")
    if len(value) > schema.get("maxLength", 1_000_000):
        raise Invalid(where, f"{where} is longer than {schema['maxLength']} characters")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise Invalid(where, f"{where} is not in the expected form")
    if schema.get("format") == "date-time":
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise Invalid(
                where, f"{where} must be a date and time such as 2026-01-05T09:00:00Z"
            ) from None
        if moment.tzinfo is None or not re.match(r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d", value):
            raise Invalid(
                where,
                f"{where} must be a date and time with its time zone, such as 2026-01-05T09:00:00Z",
            )
    if "\x00" in value:
        raise Invalid(where, f"{where} must not contain NUL characters")
    return value


def query_value(raw: str, schema: Schema, components: Mapping[str, Schema], name: str) -> Any:
    """A query parameter's text as its schema's type, validated."""
    schema = _resolve(schema, components)
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else (kinds or ["string"])
    value: Any = raw
    if "integer" in kinds:
        if not re.fullmatch(r"-?\d{1,20}", raw):
            raise Invalid(name, f"{name} must be a whole number")
        value = int(raw)
    elif "boolean" in kinds:
        if raw not in ("true", "false"):
            raise Invalid(name, f"{name} must be true or false")
        value = raw == "true"
    return validate(value, schema, components, name)
