"""The OpenAPI 3.1 document, made from the operations' declarations (never written by hand)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onlinesupport import __version__
from onlinesupport.web.api.spec import Operation, Schema, identifier

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
INTRODUCTION = (
    "OnlineSupport's JSON API. Send an API token (created by an admin in the desk under "
    "Admin → API tokens) as `Authorization: Bearer <token>`. Scopes nest: `read` reads, "
    "`write` also changes conversations, customers and articles, `admin` also manages webhook "
    'endpoints. Every error is `{"error": {"code", "message", "field"?}}`. Input that '
    "cannot be accepted is 422 `invalid` (where the desk's forms answer 400); 400 is only a "
    "body that cannot be read (not JSON, not multipart/form-data). Webhooks are "
    "signed as Standard Webhooks 1.0 describes; their payloads are the events of `GET /events`."
)

INVALID = (
    "The input is not acceptable (what the desk's forms answer with 400); `field` names "
    "the part when there is one"
)


def _errors(operation: Operation) -> dict[int, str]:
    found = {
        401: "No token, or a token that is not valid, revoked or expired",
        403: "The token's scope does not allow this",
        429: "Too many requests with this token: wait for `Retry-After` seconds",
    }
    if operation.path_params:
        found[404] = "There is no such object"
    if (
        operation.path_params
        or operation.query
        or operation.body is not None
        or operation.upload is not None
    ):
        found[422] = INVALID
    if operation.body is not None or operation.upload is not None:
        found[400] = "The body is not valid JSON (or not a valid upload)"
        found[413] = "The body is too large"
    if operation.method in ("POST", "PATCH", "DELETE"):
        found.setdefault(404, "Something named in the request does not exist")
        found.setdefault(422, INVALID)
        found[409] = "The change conflicts with what is stored"
    found[503] = "The server is shutting down, or its disk is full: try again shortly"
    return found


def _operation(operation: Operation) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": f"{operation.method.lower()}{operation.path.replace('/', '_')}".replace(
            "{", ""
        )
        .replace("}", "")
        .replace("-", "_"),
        "summary": operation.summary,
        "tags": [operation.tag],
        "security": [{"token": [operation.scope]}],
        "x-scope": operation.scope,
    }
    if operation.description:
        spec["description"] = operation.description
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": identifier()}
        for name in operation.path_params
    ]
    parameters += [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "schema": p.schema,
            "description": p.description,
        }
        for p in operation.query
    ]
    if parameters:
        spec["parameters"] = parameters
    if operation.body is not None:
        spec["requestBody"] = {
            "required": bool(operation.body.get("required")),
            "content": {"application/json": {"schema": operation.body}},
        }
    if operation.upload is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": operation.upload}},
        }
    responses: dict[str, Any] = {}
    for status, (description, schema) in operation.responses.items():
        answer: dict[str, Any] = {"description": description}
        if schema is not None:
            answer["content"] = {"application/json": {"schema": schema}}
        elif operation.download and status == 200:
            answer["content"] = {operation.download: {"schema": {"type": "string"}}}
        elif 400 <= status:
            answer["content"] = ERROR
        responses[str(status)] = answer
    for status, description in _errors(operation).items():
        responses.setdefault(str(status), {"description": description, "content": ERROR})
    responses["429"]["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
    spec["responses"] = responses
    return spec


def document(operations: Sequence[Operation], components: dict[str, Schema]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation)
    return {
        "openapi": "3.1.0",
        "info": {"title": "OnlineSupport API", "version": __version__, "description": INTRODUCTION},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token from Admin → API tokens.",
                }
            },
        },
    }
