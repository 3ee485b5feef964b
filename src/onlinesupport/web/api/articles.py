"""API handlers for knowledge-base articles: list, read, write, publish, delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from onlinesupport.store import kb as kb_repo
from onlinesupport.web.api.conversations import caller
from onlinesupport.web.api.errors import ApiError
from onlinesupport.web.api.spec import Call
from onlinesupport.web.keys import SERVICES

FIELDS = ("title", "body", "status", "visibility", "language", "slug", "category_id")


def _line(a: kb_repo.ArticleLine) -> dict[str, Any]:
    return {
        "id": a["id"],
        "title": a["title"],
        "slug": a["slug"],
        "language": a["language"],
        "status": a["status"],
        "visibility": a["visibility"],
        "category_id": a["category_id"],
        "updated_at": a["updated_at"],
    }


def _article(a: kb_repo.Article) -> dict[str, Any]:
    return {**_line(a), "body": a["body"], "created_at": a["created_at"]}


def _fields(article: Mapping[str, Any]) -> dict[str, Any]:
    """The article's values of the fields the API writes."""
    return {k: article[k] for k in FIELDS}


async def _get(call: Call, article_id: int) -> kb_repo.Article:
    found = await kb_repo.article(call.request.app[SERVICES].db, article_id)
    if found is None:
        raise ApiError(404, f"article {article_id} does not exist")
    return found


async def list_articles(call: Call) -> web.Response:
    found = await kb_repo.articles(
        call.request.app[SERVICES].db, language=call.query.get("language")
    )
    status = call.query.get("status")
    return web.json_response(
        {"articles": [_line(a) for a in found if status is None or a["status"] == status]}
    )


async def get_article(call: Call) -> web.Response:
    return web.json_response({"article": _article(await _get(call, call.path["id"]))})


async def _save(call: Call, article_id: int | None, fields: dict[str, Any]) -> web.Response:
    services = call.request.app[SERVICES]
    saved = await services.knowledge.save(article_id, fields, caller(call).agent_id)
    return web.json_response(
        {"article": _article(await _get(call, saved))},
        status=201 if article_id is None else 200,
    )


async def create_article(call: Call) -> web.Response:
    return await _save(call, None, call.body)


async def update_article(call: Call) -> web.Response:
    current = await _get(call, call.path["id"])
    return await _save(call, current["id"], {**_fields(current), **call.body})


async def publish_article(call: Call) -> web.Response:
    current = await _get(call, call.path["id"])
    return await _save(call, current["id"], {**_fields(current), "status": "published"})


async def delete_article(call: Call) -> web.Response:
    await call.request.app[SERVICES].knowledge.delete(call.path["id"])
    return web.Response(status=204)
