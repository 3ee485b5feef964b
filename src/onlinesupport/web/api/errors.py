"""The API's one error mapping: every failure becomes {"error": {code, message, field?}} with
its 4xx (or a 5xx that is logged), never a traceback or an HTML page.

Domain errors are mapped here and nowhere else; when the project's common user-error base
class arrives, it joins `_DOMAIN` with its status.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from onlinesupport.accounts import AccountError
from onlinesupport.canned import PermissionDenied
from onlinesupport.conversations import InvalidCommand
from onlinesupport.customers import IdentityTaken
from onlinesupport.knowledge.service import ArticleRejected
from onlinesupport.store import NotFound, StoreClosed
from onlinesupport.web.api.spec import Invalid
from onlinesupport.web.security import Handler

log = logging.getLogger(__name__)

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "too_large",
         415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
         500: "server_error", 503: "unavailable"}

# Most specific first: IdentityTaken is an InvalidCommand.
_DOMAIN: tuple[tuple[type[Exception], int], ...] = (
    (IdentityTaken, 409),
    (InvalidCommand, 422),
    (ArticleRejected, 422),
    (AccountError, 422),
    (PermissionDenied, 403),
    (NotFound, 404),
    (StoreClosed, 503),
)


class ApiError(Exception):
    """Answer with this status, code and message (and the field it is about)."""

    def __init__(self, status: int, message: str, *, code: str = "", field: str = "",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.field = field
        self.headers = headers or {}


def error_body(code: str, message: str, field: str = "") -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"error": error}


def respond(error: ApiError) -> web.Response:
    return web.json_response(error_body(error.code, error.message, error.field),
                             status=error.status, headers=error.headers)


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
    if isinstance(exc, Invalid):
        return ApiError(422, exc.message, field=exc.field)
    if isinstance(exc, web.HTTPException):
        return _from_http(exc)
    for kind, status in _DOMAIN:
        if isinstance(exc, kind):
            message = str(exc).strip("'\"") or CODES[status].replace("_", " ")
            return ApiError(status, message)
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
