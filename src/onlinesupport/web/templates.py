"""Jinja2 rendering with autoescaping; templates are read with importlib.resources."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from onlinesupport.store.search import MARK_END, MARK_START
from onlinesupport.web.keys import SERVICES


def _load(name: str) -> tuple[str, None, Any]:
    path = resources.files("onlinesupport").joinpath("templates", *name.split("/"))
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise jinja2.TemplateNotFound(name) from None
    return source, None, lambda: True


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept for the life of the process, shared by every app it starts
    (the test suite and `selftest` start many): each template is compiled once, not once per
    app. Jinja checks each one against its source's checksum before use."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        bytecode_cache=_COMPILED,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["highlight"] = highlight
    env.filters["from_json"] = json.loads
    return env


def when(timestamp: str | None) -> Markup:
    """A stored UTC time as a <time> element, labelled UTC; the desk's times.js shows it in
    the viewer's own zone."""
    if not timestamp:
        return Markup("")
    return Markup('<time datetime="{}">{} UTC</time>').format(
        timestamp, timestamp[:16].replace("T", " ")
    )


def highlight(snippet: str) -> Markup:
    """A search snippet, escaped, with its match markers turned into <mark>."""
    escaped = str(escape(snippet or ""))
    return Markup(escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


TEMPLATES = web.AppKey("templates", jinja2.Environment)
BUSINESS_ZONE = web.RequestKey("business_zone", str)
"""The business's time zone, set on desk requests (see web.desk.zone)."""


def static_url(request: web.Request, filename: str) -> str:
    """The versioned URL of a static file, or "" on a listener that serves none."""
    resource = request.app.router.named_resources().get("static")
    if resource is None:
        return ""
    return str(resource.url_for(filename=filename))


def render_text(request: web.Request, name: str, context: dict[str, Any]) -> str:
    env = request.app[TEMPLATES]
    return env.get_template(name).render(
        {
            "request": request,
            "static": lambda f: static_url(request, f),
            "company": request.app[SERVICES].branding.current,
            "business_zone": request.get(BUSINESS_ZONE, ""),
            **context,
        }
    )


def render(
    request: web.Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    return web.Response(
        text=render_text(request, name, context or {}),
        status=status,
        content_type="text/html",
        charset="utf-8",
    )
