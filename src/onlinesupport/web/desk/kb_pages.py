"""The knowledge base in the desk: managers write, preview, publish, import and export
articles; every agent searches it from a conversation and inserts a link or the text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import BodyPartReader, web

from onlinesupport.knowledge import transfer
from onlinesupport.knowledge.markdown import to_html
from onlinesupport.knowledge.service import STATUSES, VISIBILITIES, ArticleRejected
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import messages as messages_repo
from onlinesupport.web import uploads
from onlinesupport.web.auth import AGENT, form_data, requires
from onlinesupport.web.desk.admin.widget_admin import public_base
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import highlight, render

MAX_IMPORT = 20 * 1024 * 1024
BLANK = {
    "title": "",
    "body": "",
    "category_id": "",
    "language": "en",
    "slug": "",
    "status": "draft",
    "visibility": "public",
    "original_id": "",
}


async def _list_page(
    request: web.Request, *, error: str = "", notice: str = "", status: int = 200
) -> web.Response:
    knowledge = request.app[SERVICES].knowledge
    unanswered, deflections = await knowledge.gaps(20)
    return render(
        request,
        "desk/kb_list.html",
        {
            "agent": request[AGENT],
            "articles": await knowledge.articles(),
            "categories": await knowledge.categories(),
            "error": error,
            "notice": notice,
            "unanswered": unanswered,
            "deflections": deflections,
        },
        status=status,
    )


@requires("manager")
async def list_page(request: web.Request) -> web.Response:
    notice = {"deleted": "Article deleted.", "category": "Category added."}.get(
        request.query.get("done", ""), ""
    )
    return await _list_page(request, notice=notice)


async def _editor(
    request: web.Request,
    article_id: int | None,
    values: dict[str, Any],
    *,
    error: str = "",
    preview: str | None = None,
    status: int = 200,
) -> web.Response:
    knowledge = request.app[SERVICES].knowledge
    current = await knowledge.article(article_id) if article_id else None
    return render(
        request,
        "desk/kb_edit.html",
        {
            "agent": request[AGENT],
            "article_id": article_id,
            "values": values,
            "error": error,
            "preview": preview if preview is not None else current["html"] if current else None,
            "current": current,
            "categories": await knowledge.categories(),
            "originals": [
                a
                for a in await knowledge.articles()
                if a["id"] != article_id and not a["original_id"]
            ],
            "translations": await knowledge.translations(current) if current else [],
            "statuses": STATUSES,
            "visibilities": VISIBILITIES,
            "public_url": public_base(request) + f"/help/articles/{article_id}-{current['slug']}"
            if current
            else "",
            "saved": request.query.get("done") == "saved",
        },
        status=status,
    )


async def _from_conversation(request: web.Request, conversation_id: int) -> dict[str, Any]:
    """A draft from a conversation: its subject as the title, the question and the answers."""
    db = request.app[SERVICES].db
    conversation = await conversations_repo.get(db, conversation_id)
    if conversation is None:
        raise web.HTTPNotFound(text=f"conversation {conversation_id} does not exist")
    messages = [m for m in await messages_repo.after(db, conversation_id) if m.kind == "message"]
    question = next((m.body for m in messages if m.author_type == "customer"), "")
    answers = [m.body for m in messages if m.author_type == "agent"]
    body = "\n\n".join(["## The question", question, "## The answer", *answers])
    return {
        **BLANK,
        "title": conversation["subject"] or question.split("\n")[0][:120],
        "body": body,
        "visibility": "internal",
    }


@requires("manager")
async def new_page(request: web.Request) -> web.Response:
    values: dict[str, Any] = dict(BLANK)
    source = request.query.get("conversation")
    if source:
        values = await _from_conversation(request, int_param(source, "conversation", minimum=1))
    translate = request.query.get("translate")
    if translate:
        original = await request.app[SERVICES].knowledge.article(
            int_param(translate, "article", minimum=1)
        )
        if original is not None:
            values.update(
                original_id=str(original["id"]),
                category_id=original["category_id"],
                title=original["title"],
                body=original["body"],
                language="",
            )
    return await _editor(request, None, values)


@requires("manager")
async def edit_page(request: web.Request) -> web.Response:
    article_id = int_param(request.match_info["id"], "article", minimum=1)
    found = await request.app[SERVICES].knowledge.article(article_id)
    if found is None:
        raise web.HTTPNotFound(text=f"article {article_id} does not exist")
    stored: Mapping[str, Any] = found  # read by the editor's field names
    values = {k: stored[k] if stored[k] is not None else "" for k in BLANK}
    return await _editor(request, article_id, values)


@requires("manager")
async def save(request: web.Request) -> web.Response:
    raw = request.match_info.get("id")
    article_id = int_param(raw, "article", minimum=1) if raw else None
    form = await form_data(request)
    values = {k: form.get(k, "") for k in BLANK}
    services = request.app[SERVICES]
    if form.get("action") == "preview":
        return await _editor(request, article_id, values, preview=to_html(values["body"]))
    try:
        saved = await services.knowledge.save(article_id, values, request[AGENT]["id"])
    except ArticleRejected as exc:
        return await _editor(request, article_id, values, error=str(exc), status=400)
    return redirect(f"/kb/{saved}?done=saved")


@requires("manager")
async def delete(request: web.Request) -> web.Response:
    article_id = int_param(request.match_info["id"], "article", minimum=1)
    await request.app[SERVICES].knowledge.delete(article_id)
    return redirect("/kb?done=deleted")


@requires("manager")
async def add_category(request: web.Request) -> web.Response:
    form = await form_data(request)
    try:
        await request.app[SERVICES].knowledge.add_category(form.get("name", "")[:200])
    except ArticleRejected as exc:
        return await _list_page(request, error=str(exc), status=400)
    return redirect("/kb?done=category")


@requires("manager")
async def upload_file(request: web.Request) -> web.Response:
    """An image or document for an article; answers the Markdown that shows it."""
    services = request.app[SERVICES]
    _, stored = await uploads.receive(request, services.files)
    with services.files.kept_only_if_stored(stored):
        markdown = await services.knowledge.add_file(stored)
    return web.json_response({"markdown": markdown})


@requires("manager")
async def export(request: web.Request) -> web.Response:
    data = await transfer.export_zip(request.app[SERVICES].db)
    stamp = request.app[SERVICES].clock.now().strftime("%Y-%m-%d")
    return web.Response(
        body=data,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="knowledge-base-{stamp}.zip"'},
    )


@requires("manager")
async def import_zip(request: web.Request) -> web.Response:
    if request.content_type != "multipart/form-data":
        raise web.HTTPBadRequest(text="send the file as multipart/form-data")
    part = await (await request.multipart()).next()
    if not isinstance(part, BodyPartReader) or not part.filename:
        raise web.HTTPBadRequest(text="choose a file")
    data = bytearray()
    async for chunk in uploads.chunks(part):  # read no further than the limit
        data += chunk
        if len(data) > MAX_IMPORT:
            raise web.HTTPRequestEntityTooLarge(
                max_size=MAX_IMPORT, actual_size=len(data), text="the .zip is larger than 20 MB"
            )
    services = request.app[SERVICES]
    try:
        files = transfer.read_zip(bytes(data))
    except ArticleRejected as exc:
        return await _list_page(request, error=str(exc), status=400)
    report = await transfer.import_files(
        services.knowledge, services.db, files, request[AGENT]["id"]
    )
    notice = f"Imported: {report.added} added, {report.updated} updated."
    return await _list_page(
        request,
        notice=notice,
        error="; ".join(report.problems[:20]),
        status=200 if not report.problems else 400,
    )


@requires("agent")
async def api_search(request: web.Request) -> web.Response:
    """Articles for an agent (internal ones too), with what to insert into a reply."""
    services = request.app[SERVICES]
    found = await services.knowledge.search(
        request.query.get("q", ""),
        request.query.get("lang", "en"),
        public_only=False,
        source="desk",
    )
    base = public_base(request)
    results: list[dict[str, Any]] = []
    for hit in found:
        article = await services.knowledge.article(hit["id"])
        assert article is not None
        public = article["visibility"] == "public"
        results.append(
            {
                "id": hit["id"],
                "title": hit["title"],
                "snippet": str(highlight(hit["snippet"])),
                "internal": not public,
                "text": article["body"],
                "url": f"{base}/help/articles/{hit['id']}-{hit['slug']}" if public else "",
            }
        )
    return web.json_response({"articles": results})
