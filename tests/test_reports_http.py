"""The report pages over HTTP: who may see what, every page and export, filters refused with a
reason, the JSON, and the report mail through the outbox (only with a mailbox)."""

from __future__ import annotations

import csv
import io
from contextlib import AsyncExitStack

import aiohttp

from api_helpers import Api, make_token
from conftest import PASSWORD, Desk, Personas, Server, start_server
from email_helpers import add_mailbox, mailbox_form
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.clock import ManualClock
from onlinesupport.store import queues as queues_repo


async def _some_history(server: Server, personas: Personas) -> list[int]:
    conversations = server.services.conversations
    amy = Actor.agent(personas.agent, "Amy Agent")
    ids = []
    for n, channel in enumerate(("chat", "email", "chat")):
        opened = await conversations.open(
            channel=channel,
            customer_name=f"C{n}",
            body="Hello =1+2",
            page_url="https://shop.test/a?b=1",
        )
        ids.append(opened.conversation_id)
    await conversations.post(ids[0], amy, "Hi!")
    await conversations.resolve(ids[0], amy)
    await conversations.rate(ids[0], Actor.customer(None), 4, '=HYPERLINK("x")')
    return ids


async def test_every_report_page_renders_for_an_admin(
    server: Server, personas: Personas, client_factory
) -> None:
    ids = await _some_history(server, personas)
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    for path in (
        "/reports",
        "/reports/agents",
        "/reports/website",
        "/reports/conversations?metric=first_response",
        "/reports?period=custom&first=2022-01-01&last=2030-12-31&hours=business",
        "/reports?period=today&channel=chat",
        "/reports/mail",
    ):
        response = await admin.get(path)
        assert response.status == 200, path
        page = await response.text()
        assert "<svg" in page or path.startswith(("/reports/conversations", "/reports/mail")), path
    overview = await (await admin.get("/reports?period=7d")).text()
    assert "First response time" in overview and "the first reply a person on the team" in overview
    assert 'href="/reports/conversations?period=7d&amp;metric=first_response"' in overview
    drill = await (await admin.get("/reports/conversations?period=7d&metric=created")).text()
    assert all(f'href="/conversations/{i}"' in drill for i in ids)

    async with await admin.get("/reports/conversations.csv?period=7d") as response:
        assert response.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert rows[0][:3] == ["conversation_id", "channel", "queue"]
    assert [int(r[0]) for r in rows[1:]] == ids
    first = dict(zip(rows[0], rows[1], strict=True))
    assert (first["rating"], first["first_contact_resolution"], first["page"]) == (
        "4",
        "1",
        "https://shop.test/a",
    )
    async with await admin.get("/reports/days.csv?period=7d") as response:
        days = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert len(days) == 8 and sum(int(d[1]) for d in days[1:]) == 3

    data = await (await admin.get("/api/reports?period=7d")).json()
    assert data["created"] == 3 and data["period"] == {
        "first": data["period"]["first"],
        "last": data["period"]["last"],
    }
    sla = next(r for r in data["rates"] if r["key"] == "fcr")
    assert (sla["part"], sla["whole"], sla["value"]) == (1, 1, 1.0)
    agents = await (await admin.get("/api/reports?part=agents&period=7d")).json()
    assert [line["name"] for line in agents["lines"]][0] == "Amy Agent"


async def test_bad_filters_get_a_reason(server: Server, personas: Personas, client_factory) -> None:
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    for path, reason in (
        ("/reports?period=forever", "period must be one of"),
        ("/reports?period=custom&first=2026-02-30&last=2026-03-01", "dates like"),
        ("/reports?period=custom&first=2026-03-02&last=2026-03-01", "before"),
        ("/reports?channel=fax", "channel must be"),
        ("/reports?queue=abc", "whole number"),
        ("/reports/conversations?metric=nonsense", "no figure"),
        ("/api/reports?part=secrets", "part must be"),
    ):
        response = await admin.get(path)
        assert response.status == 400, path
        assert reason in await response.text(), path


async def test_agents_see_their_own_line_and_managers_only_their_queues(
    server: Server, personas: Personas, client_factory
) -> None:
    await _some_history(server, personas)
    db = server.services.db
    billing = await db.write(
        lambda conn: queues_repo.insert(conn, "Billing", "2026-01-01T00:00:00.000Z")
    )
    await db.write(lambda conn: queues_repo.set_members(conn, billing, [], [personas.manager]))
    agent: Desk = client_factory(server.desk_url)
    await agent.signin("bob@example.com")
    mine = await (await agent.get("/api/reports?part=agents&period=7d")).json()
    assert [line["name"] for line in mine["lines"]] == ["Bob Agent"]
    assert (await agent.get("/reports/mail")).status == 403
    manager: Desk = client_factory(server.desk_url)
    await manager.signin("max@example.com")
    assert (await (await manager.get("/api/reports?period=7d")).json())["created"] == 0, (
        "nothing came into Billing"
    )
    refused = await manager.get("/reports?queue=1")
    assert refused.status == 403 and "not one of yours" in await refused.text()


async def _staff(services, *people: tuple[str, str]) -> None:
    """Create (name, role) people, each signing in as firstname@example.com."""
    for name, role in people:
        await services.accounts.create_agent(
            f"{name.split()[0].lower()}@example.com", name, role, PASSWORD
        )


async def test_the_report_mail_goes_through_the_outbox_only_with_a_mailbox(
    config, client_factory
) -> None:
    clock = ManualClock()  # Monday 5 January 2026, 09:00 UTC
    async with AsyncExitStack() as stack:
        server = await start_server(stack, config, clock)
        services = server.services
        await _staff(
            services, ("Max Manager", "manager"), ("Ada Admin", "admin"), ("Amy Agent", "agent")
        )
        await services.conversations.open(channel="chat", customer_name="Dan", body="Hi")
        clock.advance(days=1)
        manager: Desk = client_factory(server.desk_url)
        await manager.signin("max@example.com")
        assert (await manager.post("/reports/mail", {"frequency": "daily"})).status == 303
        assert (await manager.post("/reports/mail", {"frequency": "hourly"})).status == 400
        admin: Desk = client_factory(server.desk_url)
        await admin.signin("ada@example.com")
        assert (await admin.post("/reports/mail", {"frequency": "weekly"})).status == 303
        clock.advance(days=6)  # Monday 12 January, 09:00
        assert await services.report_mail.send_due() == 0, "no mailbox: no mail"
        await add_mailbox(
            services, mailbox_form(None, None, smtp_receive="on", smtp_host="127.0.0.1")
        )
        assert await services.report_mail.send_due() == 2, "Max's daily, Ada's weekly"
        rows = await services.db.fetch_all(
            "SELECT to_address, subject, body FROM outbox"
            " WHERE purpose = 'report' ORDER BY to_address"
        )
        assert [(r[0], r[1]) for r in rows] == [
            ("ada@example.com", "Support report 2026-01-05 – 2026-01-11"),
            ("max@example.com", "Support report 2026-01-11"),
        ]
        assert "Conversations created: 1 (before: 0)" in rows[0][2]
        assert "/reports?period=custom&first=2026-01-05&last=2026-01-11" in rows[0][2]
        assert await services.report_mail.send_due() == 0, "once per period"
        clock.advance(days=1)
        assert await services.report_mail.send_due() == 1, "Tuesday: Max's daily only"


BAD_PERIODS = (
    ("", ""),
    ("2026-13-40", "2026-13-41"),
    ("2026-03-02", "2026-03-01"),
    ("2000-01-01", "2026-03-01"),
)
"""Dates missing, invalid, the last before the first, longer than 3,700 days."""


async def test_a_refused_period_is_a_clean_400_on_every_report_address(
    server: Server, personas: Personas, client_factory
) -> None:
    await _some_history(server, personas)
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    for first, last in BAD_PERIODS:
        for path in (
            "/reports/conversations.csv",
            "/reports/days.csv",
            "/api/reports",
            "/reports",
            "/reports/agents",
            "/reports/conversations",
        ):
            async with await admin.get(
                f"{path}?period=custom&first={first}&last={last}&metric=created"
            ) as response:
                body = await response.read()  # a cut-off stream would raise here
                assert response.status == 400, (path, first, last)
                assert b"conversation_id" not in body, (path, first, last)


async def test_a_date_typo_shows_the_filter_form_with_the_reason_beside_the_dates(
    server: Server, personas: Personas, client_factory
) -> None:
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    for path in (
        "/reports",
        "/reports/agents",
        "/reports/website",
        "/reports/conversations?metric=created",
    ):
        joiner = "&" if "?" in path else "?"
        response = await admin.get(
            f"{path}{joiner}period=custom&first=2026-03-02"
            "&last=2026-03-01&channel=chat&hours=business"
        )
        assert response.status == 400, path
        page = await response.text()
        assert 'class="report-filters"' in page and 'href="/inbox"' in page, path
        assert 'value="2026-03-02"' in page and 'value="2026-03-01"' in page, path
        assert '<option value="chat" selected>' in page and 'value="business" checked' in page
        assert 'aria-describedby="f-period-error"' in page, path
        assert (
            'id="f-period-error" role="alert">The period: the last day is before the first' in page
        ), path


async def test_the_business_hours_switch_takes_only_its_documented_values(
    server: Server, personas: Personas, client_factory
) -> None:
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    for value in ("business", "wall", ""):
        for path in ("/reports", "/api/reports", "/reports/days.csv"):
            assert (await admin.get(f"{path}?hours={value}")).status == 200, (path, value)
    for value in ("1", "on", "true", "Business", "yes"):
        for path in ("/reports", "/api/reports", "/reports/days.csv", "/reports/conversations.csv"):
            response = await admin.get(f"{path}?hours={value}")
            assert response.status == 400, (path, value)
            assert "hours must be business or wall" in await response.text()


async def test_the_agent_filter_counts_the_same_conversations_on_the_overview_and_the_csv(
    server: Server, personas: Personas, client_factory
) -> None:
    """Bob has two conversations created today (one he answered, one only assigned to him);
    Amy answered one of them first. The overview for Bob counts exactly the CSV's rows."""
    conversations = server.services.conversations
    amy = Actor.agent(personas.agent, "Amy Agent")
    bob = Actor.agent(personas.other_agent, "Bob Agent")
    answered = await conversations.open(channel="chat", customer_name="Dan", body="Hi")
    await conversations.post(answered.conversation_id, amy, "Hello, one moment")
    await conversations.assign(answered.conversation_id, personas.other_agent, amy)
    await conversations.post(answered.conversation_id, bob, "Here it is")
    assigned = await conversations.open(channel="email", customer_name="Eve", body="Invoice")
    await conversations.assign(assigned.conversation_id, personas.other_agent, bob)
    for n in range(3):  # nobody's: unattended chats
        await conversations.open(
            channel="chat" if n else "email", customer_name=f"U{n}", body="Anyone?"
        )
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    only_bob = f"period=today&agent={personas.other_agent}"
    async with await admin.get(f"/reports/conversations.csv?{only_bob}") as response:
        rows = list(csv.DictReader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert sorted(int(r["conversation_id"]) for r in rows) == [
        answered.conversation_id,
        assigned.conversation_id,
    ]
    data = await (await admin.get(f"/api/reports?{only_bob}")).json()
    assert data["created"] == len(rows) == 2
    assert sorted(map(tuple, data["channels"])) == sorted((r["channel"], 1) for r in rows)
    assert sum(map(sum, data["heatmap"])) == 2
    drill = await (await admin.get(f"/reports/conversations?{only_bob}&metric=created")).text()
    assert all(f'href="/conversations/{r["conversation_id"]}"' in drill for r in rows)
    everyone = await (await admin.get("/api/reports?period=today")).json()
    assert everyone["created"] == 5

    # The "Now" box follows the queue and channel filters, and says which apply.
    chats = await (await admin.get("/api/reports?period=today&channel=chat")).json()
    assert [q["unattended"] for q in chats["live"]] == [2]
    assert [q["unattended"] for q in everyone["live"]] == [3]
    page = await (await admin.get(f"/reports?{only_bob}&channel=chat")).text()
    assert "Now <small>(chat only; not by agent or tag)</small>" in page
    # What a printout shows names whose figures they are (the filter form is not printed).
    assert '<span class="report-scope">Agent: Bob Agent · Channel: chat · wall clock</span>' in page
    team = await (await admin.get("/reports?period=today")).text()
    assert "All queues, agents and channels · wall clock" in team


async def test_a_reply_through_the_api_by_a_token_of_nobody_is_a_reply(
    config, client_factory
) -> None:
    """An email answered through the API 4.7 s after it came in, by a token that acts as
    nobody, then resolved: a first response of 4.7 s and a first-contact resolution, credited
    to no agent; a rule's automatic reply (also by nobody) still is no answer."""
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        server = await start_server(stack, config, clock)
        services = server.services
        await services.accounts.create_agent("ada@example.com", "Ada Admin", "admin", PASSWORD)
        opened = await services.conversations.open(
            channel="email",
            customer_name="Dan",
            identity=("email", "dan@example.com"),
            subject="Order 7",
            body="Where is it?",
        )
        cid = opened.conversation_id
        http = await stack.enter_async_context(aiohttp.ClientSession())
        shop = Api(http, server.desk_url, await make_token(services, "write", None))
        clock.advance(seconds=4.7)
        status, posted = await shop.post(
            f"/conversations/{cid}/messages", {"body": "It left our warehouse today."}
        )
        assert status == 201 and posted["message"]["author"]["id"] is None
        clock.advance(seconds=60)
        assert (await shop.post(f"/conversations/{cid}/resolve"))[0] == 200
        admin: Desk = client_factory(server.desk_url)
        await admin.signin("ada@example.com")
        async with await admin.get("/reports/conversations.csv?period=today") as response:
            rows = list(csv.DictReader(io.StringIO((await response.read()).decode("utf-8-sig"))))
        assert [
            (
                r["agent_replies"],
                r["first_response_seconds"],
                r["resolution_seconds"],
                r["first_contact_resolution"],
                r["agent"],
            )
            for r in rows
        ] == [("1", "4.7", "64.7", "1", "")]
        overview = await (await admin.get("/api/reports?period=today")).json()
        first = next(f for f in overview["durations"] if f["key"] == "first_response")
        assert (first["now"]["count"], first["now"]["median"]) == (1, 4.7)
        fcr = next(r for r in overview["rates"] if r["key"] == "fcr")
        assert (fcr["part"], fcr["whole"]) == (1, 1)
        agents = await (await admin.get("/api/reports?part=agents&period=today")).json()
        assert sum(line["replies"] for line in agents["lines"]) == 0, "credited to nobody"


async def test_the_report_mail_is_chosen_and_a_missed_one_goes_the_next_morning(
    config, client_factory
) -> None:
    clock = ManualClock()  # Monday 5 January 2026, 09:00 UTC (the business's time: UTC)
    async with AsyncExitStack() as stack:
        server = await start_server(stack, config, clock)
        services = server.services
        await _staff(
            services, ("Max Manager", "manager"), ("Ada Admin", "admin"), ("Mia Manager", "manager")
        )
        await add_mailbox(
            services, mailbox_form(None, None, smtp_receive="on", smtp_host="127.0.0.1")
        )
        admin: Desk = client_factory(server.desk_url)
        await admin.signin("ada@example.com")
        page = await (await admin.get("/reports/mail")).text()
        assert 'value="off" checked' in page and "until they choose it" in page
        assert await services.report_mail.send_due() == 0, "nobody chose a mail"
        ids = {r[1]: r[0] for r in await services.db.fetch_all("SELECT id, email FROM agents")}
        await services.report_mail.set_frequency(ids["max@example.com"], "daily")
        await services.report_mail.set_frequency(ids["mia@example.com"], "weekly")
        clock.advance(days=7, hours=5, minutes=24)  # back after downtime: Monday 12, 14:24
        assert await services.report_mail.send_due() == 0, "not in the middle of the day"
        clock.advance(hours=16, minutes=36)  # Tuesday 13 January, 07:00
        assert await services.report_mail.send_due() == 2, "the next morning"
        rows = await services.db.fetch_all(
            "SELECT to_address, subject FROM outbox WHERE purpose = 'report' ORDER BY to_address"
        )
        assert [(r[0], r[1]) for r in rows] == [
            ("max@example.com", "Support report 2026-01-12"),
            ("mia@example.com", "Support report 2026-01-05 – 2026-01-11"),
        ]
        clock.advance(hours=4, minutes=59)  # 11:59: nothing more
        assert await services.report_mail.send_due() == 0
        clock.advance(days=1)  # Wednesday 11:59: Max's daily, Mia's weekly already went
        assert await services.report_mail.send_due() == 1
