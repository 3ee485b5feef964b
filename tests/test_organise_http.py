"""The desk's organising routes over real HTTP: sign-in, CSRF and roles on every one, bad input
answered with 4xx, and collision notices on the desk socket."""

from __future__ import annotations

import json

import aiohttp
import pytest

from api_helpers import Api, make_token
from conftest import Desk, Personas, Server
from onlinesupport.core.conversations import Actor, ConversationMerged, bulk, merging
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import queues as queues_repo

NEW_POSTS = [
    "/conversations/1/merge",
    "/conversations/1/split",
    "/conversations/1/snooze",
    "/conversations/1/wake",
    "/conversations/bulk",
    "/views",
    "/views/1/delete",
    "/preferences",
]
NEW_GETS = [
    "/preferences",
    "/api/preferences",
    "/api/agents",
    "/inbox?view=snoozed",
    "/inbox?view=mentions",
    "/inbox?channel=email&tag=vip&assignee=me&due=1h",
]


async def test_every_new_route_needs_a_signed_in_agent_and_every_post_a_csrf_token(
    server: Server, personas: Personas, client_factory
) -> None:
    await server.services.conversations.open(channel="email", customer_name="C", body="hi")
    anonymous: Desk = client_factory(server.desk_url)
    for path in NEW_GETS:
        assert (await anonymous.get(path)).status in (303, 401), path
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    for path in NEW_POSTS:
        response = await desk.session.post(
            server.desk_url + path, data={"target": "2"}, allow_redirects=False
        )
        assert response.status == 403, f"{path} without a CSRF token"
        assert "expired" in await response.text()
        anonymous_post = await anonymous.post(path)
        assert anonymous_post.status in (401, 403), path
    for path in NEW_GETS:
        assert (await desk.get(path)).status == 200, path


async def test_bulk_actions_keep_the_roles_of_the_single_ones(
    server: Server, personas: Personas, client_factory
) -> None:
    ids = [
        (
            await server.services.conversations.open(
                channel="email", customer_name=f"C{n}", body="hi"
            )
        ).conversation_id
        for n in range(2)
    ]
    amy: Desk = client_factory(server.desk_url)
    await amy.signin("amy@example.com")
    for body in (
        {"action": "move", "queue_id": 1},
        {"action": "assign", "agent_id": str(personas.other_agent)},
        {"action": "assign", "agent_id": ""},
    ):
        response = await amy.post_json("/conversations/bulk", {"ids": ids, **body})
        assert response.status == 403, body
    response = await amy.post_json("/conversations/bulk", {"ids": ids, "action": "assign"})
    assert (response.status, await response.json()) == (
        200,
        {"changed": 2, "selected": 2, "skipped": []},
    )

    max_: Desk = client_factory(server.desk_url)
    await max_.signin("max@example.com")
    response = await max_.post(
        "/conversations/bulk",
        {
            "ids": str(ids[0]),
            "action": "assign",
            "agent_id": str(personas.other_agent),
            "back": "/inbox?view=mine",
        },
    )
    assert (response.status, response.headers["Location"]) == (303, "/inbox?view=mine")
    assert (await conversations_repo.get(server.services.db, ids[0]))[
        "assignee_id"
    ] == personas.other_agent
    response = await max_.post(
        "/conversations/bulk",
        {"ids": str(ids[0]), "action": "resolve", "back": "https://evil.example.com/"},
    )
    assert response.headers["Location"] == "/inbox", "only a local page to go back to"


BAD_INPUT = [
    ("/conversations/bulk", {"ids": "1", "action": "explode"}, 400),
    ("/conversations/bulk", {"ids": [1], "action": "tag", "tag": "<script>"}, 400),
    ("/conversations/bulk", {"ids": "one", "action": "resolve"}, 400),
    ("/conversations/bulk", {"ids": [99], "action": "resolve"}, 404),
    ("/conversations/bulk", {"ids": "x" * 20, "action": "resolve"}, 400),
    ("/conversations/1/merge", {"target": "1"}, 400),
    ("/conversations/1/merge", {"target": "#abc"}, 400),
    ("/conversations/1/merge", {"target": "99"}, 404),
    ("/conversations/1/split", {"message_id": "99"}, 404),
    ("/conversations/1/split", {"message_id": "1", "subject": "s" * 201}, 400),
    ("/conversations/1/snooze", {"preset": "forever"}, 400),
    ("/conversations/1/snooze", {"until": "yesterday"}, 400),
    ("/conversations/1/snooze", {"until": "2020-01-01T10:00"}, 400),
    ("/conversations/99/snooze", {"preset": "1h"}, 404),
    ("/views", {"name": "", "view": "open"}, 400),
    ("/views", {"name": "x", "view": "everything"}, 400),
    ("/views", {"name": "shared", "shared": "on"}, 403),
    ("/views/99/delete", {}, 404),
]


async def test_bad_input_to_the_new_commands_is_a_clear_4xx_and_changes_nothing(
    server: Server, personas: Personas, client_factory
) -> None:
    await server.services.conversations.open(channel="email", customer_name="C", body="hi")
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    before = await server.services.db.fetch_one("SELECT count(*), max(id) FROM events")
    for path, body, status in BAD_INPUT:
        if isinstance(body.get("ids"), list):
            response = await desk.post_json(path, body)
        else:
            response = await desk.post(path, body, headers={"Accept": "application/json"})
        assert response.status == status, (path, body, await response.text())
        assert "error" in await response.json()
    after = await server.services.db.fetch_one("SELECT count(*), max(id) FROM events")
    assert tuple(after) == tuple(before)


async def test_inbox_filters_and_saved_views_that_do_not_fit_are_refused(
    server: Server, personas: Personas, client_factory
) -> None:
    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    for query in ("view=all", "channel=fax", "priority=99", "saved=abc", "due=never"):
        response = await desk.get(f"/api/conversations?{query}")
        assert response.status == 400, query
    assert (await desk.get("/api/conversations?saved=5")).status == 404


async def test_the_desk_socket_says_who_views_a_conversation_and_forgets_them_when_they_go(
    server: Server, personas: Personas, client_factory
) -> None:
    opened = await server.services.conversations.open(channel="chat", customer_name="C", body="hi")
    cid = opened.conversation_id
    amy: Desk = client_factory(server.desk_url)
    bob: Desk = client_factory(server.desk_url)
    await amy.signin("amy@example.com")
    await bob.signin("bob@example.com")

    async def notices(ws: aiohttp.ClientWebSocketResponse, want: str) -> dict:
        while True:
            frame = await ws.receive_json(timeout=5)
            if frame["type"] == "notice" and frame["notice"] == want:
                return frame

    async with bob.session.ws_connect(server.desk_url + "/api/ws") as bob_ws:
        assert (await bob_ws.receive_json())["type"] == "hello"
        async with amy.session.ws_connect(server.desk_url + f"/api/ws?viewing={cid}") as amy_ws:
            seen = await notices(bob_ws, "viewers")
            assert (seen["conversation_id"], seen["data"]["agents"]) == (
                cid,
                [{"id": personas.agent, "name": "Amy Agent"}],
            )
            await amy_ws.send_str(json.dumps({"type": "typing", "conversation_id": cid}))
            typing = await notices(bob_ws, "typing")
            assert typing["data"] == {
                "author_type": "agent",
                "agent_id": personas.agent,
                "name": "Amy Agent",
            }
            # A desk that connects later is told who is there before anything else.
            async with bob.session.ws_connect(server.desk_url + "/api/ws") as late:
                assert (await late.receive_json())["type"] == "hello"
                snapshot = await late.receive_json(timeout=5)
                assert snapshot["notice"] == "viewers" and snapshot["conversation_id"] == cid
        gone = await notices(bob_ws, "viewers")
        assert gone["data"]["agents"] == []
        # Notices are not events: nothing was stored beyond what opening the chat stores (its
        # answer target is an event since reports count promises from it).
        rows = await server.services.db.fetch_all(
            "SELECT type FROM events WHERE conversation_id = ?", (cid,)
        )
        assert {r["type"] for r in rows} == {"conversation.created", "message.posted", "sla.target"}
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await amy.session.ws_connect(server.desk_url + "/api/ws?viewing=-3")
    assert refused.value.status == 400


async def test_alert_choices_are_each_agents_own(
    server: Server, personas: Personas, client_factory
) -> None:
    amy: Desk = client_factory(server.desk_url)
    await amy.signin("amy@example.com")
    defaults = await (await amy.get("/api/preferences")).json()
    assert defaults["notifications"]["chat"] == {"desktop": True, "sound": True}
    response = await amy.post(
        "/preferences",
        {"chat.desktop": "on", "mention.sound": "on", "mention.desktop": "on", "bogus.sound": "on"},
    )
    assert (response.status, response.headers["Location"]) == (303, "/preferences?saved=1")
    choices = (await (await amy.get("/api/preferences")).json())["notifications"]
    assert choices == {
        "chat": {"desktop": True, "sound": False},
        "offer": {"desktop": False, "sound": False},
        "mention": {"desktop": True, "sound": True},
        "breach": {"desktop": False, "sound": False},
    }
    bob: Desk = client_factory(server.desk_url)
    await bob.signin("bob@example.com")
    assert (await (await bob.get("/api/preferences")).json())["notifications"]["offer"] == {
        "desktop": True,
        "sound": True,
    }
    colleagues = (await (await bob.get("/api/agents")).json())["agents"]
    assert {"id": personas.agent, "name": "Amy Agent"} in colleagues


async def _merged_pair(server: Server, actor: Actor, channel: str) -> tuple[int, int, str]:
    """Two conversations of one customer, the first merged into the second; and what the
    desk says when the merged one is acted on."""
    conversations, identity = server.services.conversations, ("email", "c@example.com")
    cid, target = [
        (await conversations.open(channel=channel, identity=identity, body=b)).conversation_id
        for b in ("One", "Two")
    ]
    await merging.merge(conversations, cid, target, actor)
    return cid, target, f"#{cid} was merged into #{target} and stays closed: answer in #{target}"


async def test_a_merged_conversation_is_neither_resolved_nor_reopened_by_any_door(
    server: Server, personas: Personas, client_factory
) -> None:
    services = server.services
    amy = Actor.agent(personas.agent, "Amy Agent")
    cid, target, said = await _merged_pair(server, amy, "chat")
    before = await services.db.fetch_one("SELECT count(*) FROM events")

    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    page = await (await desk.get(f"/conversations/{cid}")).text()
    for action in ("resolve", "reopen"):
        assert f'/{action}?view=open" id="{action}" hidden>' in page, "the button is hidden"
        response = await desk.post(f"/conversations/{cid}/{action}")
        assert response.status == 409 and said in await response.text(), action
        answered = await desk.post(
            f"/conversations/{cid}/{action}", headers={"Accept": "application/json"}
        )
        assert answered.status == 409 and (await answered.json())["error"] == said
    async with aiohttp.ClientSession() as http:
        api = Api(http, server.desk_url, await make_token(services, "write"))
        status, refused = await api.post(f"/conversations/{cid}/reopen")
        assert status == 409 and said in json.dumps(refused)
    after = await services.db.fetch_one("SELECT count(*) FROM events")
    assert tuple(after) == tuple(before), "nothing changed"
    found = await conversations_repo.get(services.db, cid)
    assert found is not None and (found["status"], found["merged_into"]) == ("closed", target)


async def test_nobody_answers_assigns_or_writes_notes_in_a_merged_conversation(
    server: Server, personas: Personas, client_factory
) -> None:
    services = server.services
    amy = Actor.agent(personas.agent, "Amy Agent")
    cid, target, said = await _merged_pair(server, amy, "email")
    before = await services.db.fetch_one("SELECT count(*) FROM events")

    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    page = await (await desk.get(f"/conversations/{cid}")).text()
    assert (
        'id="composer"' not in page
        and f'href="/conversations/{target}?view=open">#{target}</a>, which' in page
    )
    assert 'id="assign-me" hidden>' in page and "/transfer?" not in page and "/invite?" not in page
    for kind in ("message", "note"):
        response = await desk.post(
            f"/conversations/{cid}/messages", data={"body": "Hi", "kind": kind}
        )
        assert response.status == 409 and said in await response.text(), kind
        answered = await desk.post_json(
            f"/conversations/{cid}/messages", {"body": "Hi", "kind": kind}
        )
        assert answered.status == 409 and (await answered.json())["error"] == said
    for action, data in (
        ("assign", {"agent_id": "me"}),
        ("transfer", {"agent_id": str(personas.manager)}),
        ("invite", {"agent_id": str(personas.manager)}),
    ):
        response = await desk.post(f"/conversations/{cid}/{action}", data=data)
        assert response.status == 409 and said in await response.text(), action
    async with aiohttp.ClientSession() as http:
        api = Api(http, server.desk_url, await make_token(services, "write"))
        status, refused = await api.post(f"/conversations/{cid}/messages", {"body": "Hi"})
        assert status == 409 and said in json.dumps(refused)
        status, refused = await api.post(
            f"/conversations/{cid}/assign", {"agent_id": personas.agent}
        )
        assert status == 409 and said in json.dumps(refused)
    script_id = await services.scripts.add("Returns", "Order number?")
    before = await services.db.fetch_one("SELECT count(*) FROM events")
    with pytest.raises(ConversationMerged, match="stays closed"):
        await services.scripts.start(cid, script_id, amy)
    after = await services.db.fetch_one("SELECT count(*) FROM events")
    assert tuple(after) == tuple(before), "nothing changed"
    found = await conversations_repo.get(services.db, cid)
    assert found is not None and (found["assignee_id"], found["first_response_at"]) == (None, None)
    outbox = await services.db.fetch_one("SELECT count(*) FROM outbox")
    assert tuple(outbox) == (0,), "nothing was mailed"


async def test_a_merge_moves_the_answer_still_owed_into_the_kept_conversation(
    server: Server, personas: Personas, client_factory
) -> None:
    services, db = server.services, server.services.db
    amy = Actor.agent(personas.agent, "Amy Agent")
    mail = ("email", "carla@example.com")
    first = await services.conversations.open(channel="email", identity=mail, body="Invoice?")
    kept = first.conversation_id
    await services.conversations.post(kept, amy, "Here it is.")
    second = await services.conversations.open(channel="email", identity=mail, body="Wrong sum!")
    merged = second.conversation_id
    assert second.message is not None
    await merging.merge(services.conversations, merged, kept, amy)

    async with aiohttp.ClientSession() as http:
        api = Api(http, server.desk_url, await make_token(services, "read"))
        owed = {}
        for cid in (kept, merged):
            status, answer = await api.get(f"/conversations/{cid}")
            assert status == 200
            owed[cid] = answer["conversation"]["answer_due_at"]
    assert owed[merged] is None, "the merged one owes nothing"
    row = await db.fetch_one(
        "SELECT next_response_due_at, next_waiting_since FROM conversations WHERE id = ?", (kept,)
    )
    assert owed[kept] is not None and owed[kept] == row["next_response_due_at"]
    assert row["next_waiting_since"] == second.message.created_at, "owed since the unanswered mail"
    targets = await db.fetch_all(
        "SELECT conversation_id, data FROM events WHERE type = 'sla.target'"
        " ORDER BY id DESC LIMIT 1"
    )
    assert targets[0]["conversation_id"] == kept
    assert json.loads(targets[0]["data"]) == {"target": "next_response", "due_at": owed[kept]}

    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    page = await (await desk.get(f"/conversations/{merged}")).text()
    assert '<span id="first-due" hidden>' in page and '<span id="next-due" hidden>' in page
    await services.conversations.post(kept, amy, "Corrected.")
    row = await db.fetch_one("SELECT next_response_due_at FROM conversations WHERE id = ?", (kept,))
    assert row["next_response_due_at"] is None, "answered"


async def test_a_merge_keeps_the_answer_time_the_merged_conversation_promised(
    server: Server, personas: Personas
) -> None:
    """The customer was told "within 1 hour" on the new mail; merged into a conversation
    whose next answers may take 4 hours, that hour still holds."""
    services, db = server.services, server.services.db
    await db.write(
        lambda conn: queues_repo.update(
            conn,
            1,
            first_response_minutes=60,
            next_response_minutes=240,
            timezone="UTC",
            hours="",
            holidays="",
        )
    )
    amy = Actor.agent(personas.agent, "Amy Agent")
    mail = ("email", "carla@example.com")
    kept = (
        await services.conversations.open(channel="email", identity=mail, body="Hi")
    ).conversation_id
    await services.conversations.post(kept, amy, "Hello.")
    merged = (
        await services.conversations.open(channel="email", identity=mail, body="Wrong sum!")
    ).conversation_id
    promised = await db.fetch_one(
        "SELECT first_response_due_at FROM conversations WHERE id = ?", (merged,)
    )
    await merging.merge(services.conversations, merged, kept, amy)
    owed = await db.fetch_one(
        "SELECT next_response_due_at FROM conversations WHERE id = ?", (kept,)
    )
    assert promised[0] is not None and owed[0] == promised[0]


async def test_a_bulk_action_skips_the_merged_conversations_and_says_so(
    server: Server, personas: Personas, client_factory
) -> None:
    services = server.services
    amy = Actor.agent(personas.agent, "Amy Agent")
    ids = [
        (
            await services.conversations.open(channel="chat", customer_name=n, body="Hi")
        ).conversation_id
        for n in ("Ann", "Ben", "Cy", "Di")
    ]
    first, merged, kept, last = ids
    await merging.merge(services.conversations, merged, kept, amy)
    applied = await bulk.apply(
        services.conversations, ids, bulk.BulkAction("assign", agent_id=personas.agent), amy
    )
    assert (applied.changed, applied.skipped) == (3, {merged: kept})

    desk: Desk = client_factory(server.desk_url)
    await desk.signin("amy@example.com")
    fields = [("csrf_token", desk.csrf), *(("ids", str(i)) for i in (first, merged, kept))]
    fields += [("action", "resolve"), ("back", "/inbox?view=open&skipped=9:9")]
    response = await desk.session.post(
        server.desk_url + "/conversations/bulk", data=fields, allow_redirects=False
    )
    location = response.headers["Location"]
    assert (response.status, location) == (303, f"/inbox?view=open&skipped={merged}:{kept}")
    for cid, status in ((first, "resolved"), (kept, "resolved"), (merged, "closed")):
        found = await conversations_repo.get(services.db, cid)
        assert found is not None and found["status"] == status, cid
    page = await (await desk.get(location)).text()
    assert f'Skipped <a href="/conversations/{merged}?view=open">#{merged}</a> (merged into' in page
    assert "answered in the one it went into" in page
    assert "Skipped" not in await (await desk.get("/inbox?skipped=x:1,<b>")).text()

    response = await desk.post_json(
        "/conversations/bulk", {"ids": [merged, last], "action": "snooze"}
    )
    assert await response.json() == {
        "changed": 1,
        "selected": 2,
        "skipped": [{"id": merged, "merged_into": kept}],
    }
