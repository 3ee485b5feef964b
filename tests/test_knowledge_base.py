"""The knowledge base: writing and publishing in the desk, the public help center, search
ranking and snippets, Markdown sanitising, files, import and export."""

from __future__ import annotations

import io
import re
import zipfile

import aiohttp
import pytest

from conftest import Desk, Personas, Server

ARTICLES = [
    # (title, body, language, visibility)
    (
        "Shipping to Norway",
        "We ship parcels to Norway within 5 days. Customs fees are paid by the receiver.",
        "en",
        "public",
    ),
    (
        "Returns and refunds",
        "You can return any item within 30 days and get a full refund. "
        "Shipping costs for returns are on us.",
        "en",
        "public",
    ),
    (
        "Payment methods",
        "We accept cards and invoices. Refunds go back to the card used.",
        "en",
        "public",
    ),
    ("Lieferung nach Österreich", "Wir liefern nach Österreich in drei Tagen.", "de", "public"),
    ("Warehouse door code", "The code for the back door is 4711.", "en", "internal"),
]


async def _manager(server: Server, client_factory) -> Desk:  # type: ignore[no-untyped-def]
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("max@example.com")
    return desk


async def _publish(
    desk: Desk,
    title: str,
    body: str,
    language: str = "en",
    visibility: str = "public",
    status: str = "published",
    **extra: str,
) -> int:
    response = await desk.post(
        "/kb",
        {
            "title": title,
            "body": body,
            "language": language,
            "visibility": visibility,
            "status": status,
            **extra,
        },
    )
    assert response.status == 303, await response.text()
    return int(re.search(r"/kb/(\d+)", response.headers["Location"]).group(1))


@pytest.fixture
async def published(server: Server, personas: Personas, client_factory) -> dict[str, int]:
    desk = await _manager(server, client_factory)
    return {
        title: await _publish(desk, title, body, language, visibility)
        for title, body, language, visibility in ARTICLES
    }


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(url, allow_redirects=False) as response:
            return response.status, await response.text()


async def test_search_ranks_titles_first_stems_english_and_highlights(
    server: Server, published: dict[str, int]
) -> None:
    knowledge = server.services.knowledge
    hits = await knowledge.search("refund")
    assert [h["title"] for h in hits] == ["Returns and refunds", "Payment methods"], (
        "a title match outranks a text match"
    )
    assert "\x02refund\x03" in hits[0]["snippet"]
    assert [h["title"] for h in await knowledge.search("shipped")][0] == "Shipping to Norway", (
        "porter: shipped finds ship"
    )
    assert [h["title"] for h in await knowledge.search("pay")] == ["Payment methods"], "prefix"
    assert [h["title"] for h in await knowledge.search("osterreich", "de")] == [
        "Lieferung nach Österreich"
    ], "accents fold in other languages"
    assert await knowledge.search("door code") == [], "internal articles are not public"
    assert [h["title"] for h in await knowledge.search("door code", public_only=False)] == [
        "Warehouse door code"
    ]
    # Typed FTS5 syntax is only words: no error; "NEAR" is not found, "refund" still is.
    assert [h["title"] for h in await knowledge.search('NEAR(refund) "x* OR')] == [
        "Returns and refunds",
        "Payment methods",
    ]
    assert await knowledge.search("teleportation") == []
    unanswered = await server.services.db.fetch_all("SELECT query FROM kb_unanswered_searches")
    assert [r["query"] for r in unanswered] == ["door code", "teleportation"]


async def test_a_search_no_article_has_every_word_of_falls_back_to_any_word(
    server: Server, personas: Personas, client_factory
) -> None:
    desk = await _manager(server, client_factory)
    await _publish(
        desk,
        "Squealing brakes",
        "Disc brakes often squeal in the rain. Clean the rotors and check the pads.",
    )
    await _publish(desk, "Gear shifting", "How to adjust the rear derailleur.")
    hits = await server.services.knowledge.search("brake noise")
    assert [h["title"] for h in hits] == ["Squealing brakes"]
    status, page = await _get(server.public_url + "/help/search?q=brake+noise")
    assert status == 200 and "Squealing brakes" in page and "Gear shifting" not in page
    # Every word still wins when some article has them all.
    assert [h["title"] for h in await server.services.knowledge.search("rear brakes")] == [
        "Squealing brakes",
        "Gear shifting",
    ]
    assert [h["title"] for h in await server.services.knowledge.search("rear derailleur")] == [
        "Gear shifting"
    ]


async def test_suggestions_match_a_question_in_everyday_words(
    server: Server, published: dict[str, int]
) -> None:
    found = await server.services.knowledge.suggest("Hi, can I get my money back if I return it?")
    assert found and found[0]["title"] == "Returns and refunds"


async def test_the_help_center_works_without_javascript(
    server: Server, published: dict[str, int]
) -> None:
    status, home = await _get(server.public_url + "/help")
    assert status == 200 and "Shipping to Norway" in home and "Warehouse" not in home
    assert "<script" not in home
    article_id = published["Shipping to Norway"]
    status, page = await _get(f"{server.public_url}/help/articles/{article_id}-shipping-to-norway")
    assert status == 200 and "<title>Shipping to Norway · Help center</title>" in page
    assert (
        f'rel="canonical" href="{server.public_url}/help/articles/{article_id}-shipping-to-norway"'
        in page
    )
    status, _ = await _get(f"{server.public_url}/help/articles/{article_id}-old-name")
    assert status == 301
    status, _ = await _get(
        f"{server.public_url}/help/articles/{published['Warehouse door code']}-warehouse-door-code"
    )
    assert status == 404
    status, results = await _get(server.public_url + "/help/search?q=customs")
    assert "<mark>Customs</mark>" in results
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{server.public_url}/help/articles/{article_id}/feedback", data={"helpful": "yes"}
        ) as response:
            assert response.status == 200 and "Thank you for telling us" in await response.text()
    rows = await server.services.db.fetch_all("SELECT helpful FROM kb_feedback")
    assert [r["helpful"] for r in rows] == [1]


async def test_markdown_cannot_carry_scripts(
    server: Server, personas: Personas, client_factory
) -> None:
    desk = await _manager(server, client_factory)
    article_id = await _publish(
        desk,
        "Evil",
        "<script>alert(1)</script>\n\n"
        "[click](javascript:alert(2)) <img src=x onerror=alert(3)>\n\n"
        "![ok](https://example.com/a.png)",
    )
    _, page = await _get(f"{server.public_url}/help/articles/{article_id}-evil")
    body = page.split('class="article-body">', 1)[1].split("</div>", 1)[0]
    assert "<script" not in body and "onerror" not in body.replace("onerror=alert(3)&gt;", "")
    assert "javascript:" not in body.replace("(javascript:alert(2))", "")
    assert '<img src="https://example.com/a.png" alt="ok">' in body


async def test_drafts_and_permissions(server: Server, personas: Personas, client_factory) -> None:
    desk = await _manager(server, client_factory)
    draft = await _publish(desk, "Coming soon", "Not yet.", status="draft")
    status, _ = await _get(f"{server.public_url}/help/articles/{draft}-coming-soon")
    assert status == 404
    agent: Desk = client_factory(server.desk_url)
    await agent.signin("amy@example.com")
    assert (await agent.get("/kb")).status == 403
    assert (await agent.post("/kb", {"title": "x", "body": "y"})).status == 403
    refused = await desk.post("/kb", {"title": "", "body": "y"})
    assert refused.status == 400 and "title" in await refused.text()
    clash = await desk.post("/kb", {"title": "Coming soon", "body": "again"})
    assert clash.status == 400 and "address" in await clash.text()
    preview = await desk.post(
        f"/kb/{draft}",
        {"title": "Coming soon", "body": "**Soon**", "action": "preview", "language": "en"},
    )
    assert "<strong>Soon</strong>" in await preview.text()


async def test_agents_search_from_a_conversation(
    server: Server, published: dict[str, int], client_factory
) -> None:
    agent: Desk = client_factory(server.desk_url)
    await agent.signin("amy@example.com")
    response = await agent.get("/api/kb/search?q=door")
    [hit] = (await response.json())["articles"]
    assert hit["internal"] and hit["url"] == "" and "4711" in hit["text"]
    response = await agent.get("/api/kb/search?q=norway")
    [hit] = (await response.json())["articles"]
    assert hit["url"].endswith(
        f"/help/articles/{published['Shipping to Norway']}-shipping-to-norway"
    )


async def test_export_edit_and_import_again(
    server: Server, published: dict[str, int], client_factory
) -> None:
    desk = await _manager(server, client_factory)
    await desk.post(
        f"/kb/{published['Lieferung nach Österreich']}",
        {
            "title": "Lieferung nach Österreich",
            "body": "Wir liefern nach Österreich in drei Tagen.",
            "language": "de",
            "status": "published",
            "visibility": "public",
            "original_id": str(published["Shipping to Norway"]),
        },
    )
    exported = await (await desk.get("/kb/export")).read()
    archive = zipfile.ZipFile(io.BytesIO(exported))
    names = sorted(archive.namelist())
    assert "knowledge-base/en/shipping-to-norway.md" in names
    german = archive.read("knowledge-base/de/lieferung-nach-osterreich.md").decode()
    assert "translation_of: en/shipping-to-norway" in german

    edited = io.BytesIO()
    with zipfile.ZipFile(edited, "w") as out:
        for name in names:
            text = archive.read(name).decode()
            if name.endswith("payment-methods.md"):
                text = text.replace("cards and invoices", "cards, invoices and cash")
            out.writestr(name, text)
        out.writestr(
            "knowledge-base/en/opening-hours.md",
            "---\ntitle: Opening hours\ncategory: Shop\nstatus: published\n---\nMon-Fri 9-17.\n",
        )
        out.writestr("knowledge-base/en/bad.md", "---\nauthor: me\n---\nx")
        out.writestr("notes.md", "not an article")
    form = aiohttp.FormData()
    form.add_field("archive", edited.getvalue(), filename="kb.zip")
    response = await desk.session.post(f"{desk.base}/kb/import?csrf_token={desk.csrf}", data=form)
    page = await response.text()
    assert "1 added, 5 updated" in page
    assert "bad.md: unknown header line" in page and "notes.md" in page
    hits = await server.services.knowledge.search("cash")
    assert [h["title"] for h in hits] == ["Payment methods"]
    assert [h["title"] for h in await server.services.knowledge.search("opening hours")] == [
        "Opening hours"
    ]


async def test_an_image_for_an_article_is_served_by_its_signed_address(
    server: Server, personas: Personas, client_factory
) -> None:
    desk = await _manager(server, client_factory)
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082"
    )
    form = aiohttp.FormData()
    form.add_field("file", png, filename="box-photo.png", content_type="image/png")
    response = await desk.session.post(f"{desk.base}/kb/files?csrf_token={desk.csrf}", data=form)
    markdown = (await response.json())["markdown"]
    url = re.search(r"\((/help/files/[^)]+)\)", markdown).group(1)
    assert markdown.startswith("![box-photo.png](")
    async with aiohttp.ClientSession() as http:
        async with http.get(server.public_url + url) as got:
            assert got.status == 200 and got.content_type == "image/png"
            assert await got.read() == png
        forged = re.sub(r"-[0-9a-f]{16}/", "-0000000000000000/", url)
        async with http.get(server.public_url + forged) as got:
            assert got.status == 404
