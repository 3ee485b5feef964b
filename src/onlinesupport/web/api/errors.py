"""The API's one error mapping: every failure becomes {"error": {code, message, field?}} with
its 4xx (or a 5xx that is logged), never a traceback or an HTML page.

Any `UserError` (the project's one kind of error that input causes, raised by any layer) is
answered with its status, message and field, so a new domain error needs nothing here. Its
plain 400 is the API's 422 `invalid`: in the API, 400 means a body that cannot be read at all.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from onlinesupport.lib.errors import UserError
from onlinesupport.store import NotFound, StorageFull, StoreClosed
from onlinesupport.web.security import Handler

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}

# What the store raises that is not a UserError; the disk full is said once by the store.
_STORE: tuple[tuple[type[Exception], int, dict[str, str]], ...] = (
    (NotFound, 404, {}),
    (StoreClosed, 503, {}),
    (StorageFull, 503, {"Retry-After": "60"}),
)


class ApiError(UserError):
    """Answer with this status, code and message (and the field it is about)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = "",
        field: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, field)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.headers = headers or {}


def error_body(code: str, message: str, field: str = "") -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"error": error}


def respond(error: ApiError) -> web.Response:
    return web.json_response(
        error_body(error.code, error.message, error.field or ""),
        status=error.status,
        headers=error.headers,
    )


def _from_http(exc: web.HTTPException) -> ApiError:
    text = exc.text or ""
    if not text or text.startswith(f"{exc.status}: "):
        text = exc.reason
    headers = {k: exc.headers[k] for k in ("Retry-After", "Allow") if k in exc.headers}
    return ApiError(exc.status, text, headers=headers)


def to_api_error(exc: Exception) -> ApiError | None:
    """The API error an exception means; None for one that is a bug."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, web.HTTPException):
        return _from_http(exc)
    if isinstance(exc, UserError):
        status = 422 if exc.status == UserError.status else exc.status
        return ApiError(
            status,
            exc.message or CODES.get(status, "error").replace("_", " "),
            field=exc.field or "",
        )
    for kind, status, headers in _STORE:
        if isinstance(exc, kind):
            message = str(exc).strip("'\"") or CODES[status].replace("_", " ")
            return ApiError(status, message, headers=headers)
    return None


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except Exception as exc:  # noqa: BLE001 - every failure gets the API's error shape
        error = to_api_error(exc)
        if error is None:
            log.exception("unexpected error on %s %s", request.method, request.path)
            error = ApiError(500, "Something went wrong on the server; it was logged.")
        if isinstance(exc, web.HTTPException) and exc.status < 400:
            raise
        return respond(error)
    return response
