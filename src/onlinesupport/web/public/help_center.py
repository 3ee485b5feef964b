"""The public help center: categories, articles, search, "was this helpful?", article files,
and the suggestions the widget and the contact form show while a question is typed.

Server-rendered, no JavaScript needed; every page has a real title and a canonical address.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from aiohttp import web

from onlinesupport.channels.chat import widget_settings
from onlinesupport.lib.throttle import Throttle
from onlinesupport.web import uploads
from onlinesupport.web.auth import form_data
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.public.widget import allowed_origin, with_cors
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import highlight, render

SUGGEST_LIMIT = web.AppKey("help_suggest_limit", Throttle)
SUGGESTIONS_PER_MINUTE = 60
VOTER_COOKIE = "os_voter"
"""A random id set when someone votes, so that their second vote on an article is not counted."""


def _language(request: web.Request) -> str:
    language = request.query.get("lang", "en").strip().lower()[:5]
    return language if language.replace("-", "").isalpha() else "en"


def _canonical(request: web.Request, path: str) -> str:
    return f"{request.scheme}://{request.host}{path}"


def _article_path(article: Mapping[str, Any]) -> str:
    return f"/help/articles/{article['id']}-{article['slug']}"


async def home(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    language = _language(request)
    articles = await services.knowledge.articles(published_public=True, language=language)
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for article in articles:
        grouped.setdefault(article["category_name"] or "More answers", []).append(article)
    return render(
        request,
        "public/help_home.html",
        {
            "groups": grouped,
            "language": language,
            "path": _article_path,
            "canonical": _canonical(request, "/help"),
        },
    )


async def category(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    found = await services.knowledge.category_by_slug(request.match_info["slug"])
    if found is None:
        raise web.HTTPNotFound(text="There is no such category.")
    articles = await services.knowledge.articles(
        published_public=True, category_id=found["id"], language=_language(request)
    )
    return render(
        request,
        "public/help_category.html",
        {
            "category": found,
            "articles": articles,
            "path": _article_path,
            "canonical": _canonical(request, f"/help/categories/{found['slug']}"),
        },
    )


async def article(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    article_id = int_param(request.match_info["id"], "article", minimum=1)
    found = await services.knowledge.view(article_id, request.remote or "")
    if found is None:
        raise web.HTTPNotFound(text="There is no such article.")
    if request.match_info["slug"] != found["slug"]:
        raise web.HTTPMovedPermanently(_article_path(found))
    others = [
        t
        for t in await services.knowledge.translations(found)
        if t["status"] == "published" and t["visibility"] == "public"
    ]
    return render(
        request,
        "public/help_article.html",
        {
            "article": found,
            "translations": others,
            "path": _article_path,
            "voted": request.query.get("voted") == "1",
            "canonical": _canonical(request, _article_path(found)),
        },
    )


async def feedback(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    article_id = int_param(request.match_info["id"], "article", minimum=1)
    found = await services.knowledge.published(article_id)
    if found is None:
        raise web.HTTPNotFound(text="There is no such article.")
    form = await form_data(request)
    if form.get("helpful") not in ("yes", "no"):
        raise web.HTTPBadRequest(text="answer yes or no")
    voter = request.cookies.get(VOTER_COOKIE, "")
    if not re.fullmatch(r"[\w-]{16,64}", voter):
        voter = secrets.token_urlsafe(16)
    await services.knowledge.vote(
        article_id, form["helpful"] == "yes", voter=voter, address=request.remote or ""
    )
    response = redirect(_article_path(found) + "?voted=1#feedback")
    response.set_cookie(
        VOTER_COOKIE,
        voter,
        max_age=365 * 24 * 3600,
        path="/help",
        httponly=True,
        samesite="Lax",
        secure=request.secure,
    )
    return response


async def search(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    query = request.query.get("q", "")[:200]
    language = _language(request)
    results = (
        await services.knowledge.search(
            query, language, source="help", searcher=request.remote or ""
        )
        if query.strip()
        else []
    )
    return render(
        request,
        "public/help_search.html",
        {
            "query": query,
            "results": results,
            "language": language,
            "path": _article_path,
            "canonical": _canonical(request, "/help/search"),
        },
    )


async def article_file(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    file_id = int(request.match_info["id"])
    if not services.knowledge.file_signature_ok(file_id, request.match_info["signature"]):
        raise web.HTTPNotFound(text="There is no such file.")
    found = await services.knowledge.file(file_id)
    if found is None:
        raise web.HTTPNotFound(text="There is no such file.")
    return uploads.serve(services.files, found, "public, max-age=86400")


async def suggest(request: web.Request) -> web.Response:
    """Articles for a question being typed in the widget or the contact form (JSON)."""
    services = request.app[SERVICES]
    origin = request.headers.get("Origin")
    if origin is not None:
        settings = await widget_settings.load(services.db)
        if not allowed_origin(request, settings, origin):
            raise web.HTTPForbidden(text="This website is not allowed to use the help center.")
    limit = request.app[SUGGEST_LIMIT]
    address = request.remote or ""
    wait = limit.retry_after(address)
    if wait:
        raise web.HTTPTooManyRequests(
            text="Too many searches; wait a moment.", headers={"Retry-After": str(wait)}
        )
    limit.hit(address)
    found = await services.knowledge.suggest(request.query.get("q", "")[:500], _language(request))
    articles = [
        {
            "id": a["id"],
            "title": a["title"],
            "url": _article_path(a),
            "snippet": str(highlight(a["snippet"])),
        }
        for a in found
    ]
    response = web.json_response({"articles": articles})
    return with_cors(origin, response) if origin else response


def setup_help_center(app: web.Application) -> None:
    app[SUGGEST_LIMIT] = Throttle(app[SERVICES].clock, SUGGESTIONS_PER_MINUTE, timedelta(minutes=1))
    app.router.add_routes(
        [
            web.get("/help", home, name="help"),
            web.get("/help/search", search, name="help_search"),
            web.get("/help/suggest", suggest),
            web.get(r"/help/categories/{slug:[a-z0-9-]{1,80}}", category),
            web.get(r"/help/articles/{id:\d+}-{slug:[a-z0-9-]{0,80}}", article),
            web.post(r"/help/articles/{id:\d+}/feedback", feedback),
            web.get(r"/help/files/{id:\d+}-{signature:[0-9a-f]{16}}/{name}", article_file),
        ]
    )
