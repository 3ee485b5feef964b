"""Reports, checked to the second: a scripted history on the test clock, and every figure
worked out by hand (wall clock and business hours).

The queue answers Monday to Friday 09:00-17:00 in Europe/Berlin, and Monday 30 March 2026 is a
holiday. The clocks go forward on Sunday 29 March (CET, UTC+1, becomes CEST, UTC+2), so the
email that arrives on Friday 27 March at 16:30 waits through a weekend, the change of time and
a holiday before the queue opens again on Tuesday 31 March at 09:00 CEST (07:00 UTC).

    C1 email   Fri 27 15:30Z, acknowledged by mail; Amy answers Tue 31 08:00Z (first response
               318,600 s wall, 5,400 s open: 30 min on Friday, 60 on Tuesday; the first-answer
               target, Tue 07:30Z, is missed); the customer writes 08:30Z, Amy notes 09:00Z and
               transfers to Bob 09:30Z, Bob answers 10:00Z (next response 5,400 s, on time),
               resolves 11:00Z (329,400 s wall, 16,200 s open); the customer writes Wed 1 April
               09:00Z (reopened: a new cycle and a next-answer target), Bob answers 09:20Z
               (first response of the cycle 1,200 s), resolves 09:40Z (2,400 s)
    C2 chat    Mon 23 09:00Z, the rule's automatic reply, assigned to Amy by Max 09:02Z (hold
               120 s), Amy answers 09:05Z (first 300 s, reaction 180 s), the visitor writes
               09:06Z, Amy resolves 09:10Z (600 s, one reply: first-contact resolution),
               rated 5 "Great help"
    C3 chat    Mon 23 12:00Z, the visitor ends it after 30 s (abandoned, waited 30 s)
    C4 chat    Mon 23 13:00Z, the widget closes after 30 s, Amy answers 13:05Z (abandoned
               anyway: the visitor had left; first response and hold 300 s)
    C5 chat    Tue 24 09:00Z from a proactive message on /pricing, Bob answers 09:01Z, resolves
               09:03Z (180 s, first-contact), rated 2 "slow"
    C6 form    Tue 24 11:00Z from /docs, never answered: the watch records its breach
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import PASSWORD, make_config
from email_helpers import add_mailbox, mail, mailbox_form
from onlinesupport.channels.email.intake import Incoming
from onlinesupport.core.conversations import Actor, merging, snooze
from onlinesupport.lib.clock import ManualClock, to_db
from onlinesupport.reports.service import Query, Viewer
from onlinesupport.services import open_services
from onlinesupport.store import proactive as proactive_repo
from onlinesupport.store import queues as queues_repo

PERIOD = Query(preset="custom", first="2026-03-23", last="2026-04-01")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
async def history(tmp_path_factory: pytest.TempPathFactory):
    """The services after the scripted history (built once for every test here)."""
    clock = ManualClock(at("2026-03-20T08:00:00"))
    config = make_config(Path(tmp_path_factory.mktemp("reports")) / "data")
    async with open_services(config, clock) as services:
        people = await _script(services, clock)
        yield services, people


async def _script(services, clock: ManualClock) -> dict[str, int]:
    accounts, conversations, db = services.accounts, services.conversations, services.db

    def to(moment: str) -> None:
        clock._now = at(moment)  # noqa: SLF001 - the test clock is set, not only moved

    people = {
        "amy": await accounts.create_agent("amy@example.com", "Amy Agent", "agent", PASSWORD),
        "bob": await accounts.create_agent("bob@example.com", "Bob Agent", "agent", PASSWORD),
        "max": await accounts.create_agent("max@example.com", "Max Manager", "manager", PASSWORD),
        "ada": await accounts.create_agent("ada@example.com", "Ada Admin", "admin", PASSWORD),
    }
    amy, bob = Actor.agent(people["amy"], "Amy Agent"), Actor.agent(people["bob"], "Bob Agent")
    await db.write(
        lambda conn: queues_repo.update(
            conn,
            1,
            first_response_minutes=60,
            next_response_minutes=240,
            timezone="Europe/Berlin",
            hours="mon-fri 09:00-17:00",
            holidays="2026-03-30",
        )
    )
    await services.rules.save(
        None,
        {
            "name": "Chats",
            "active": "on",
            "trigger": "new",
            "conditions": "channel is chat",
            "actions": "reply Thanks! Someone will be with you soon.\ntag web",
        },
    )
    pricing = await db.write(
        lambda conn: proactive_repo.insert(
            conn,
            {
                "active": 1,
                "url_pattern": "*/pricing*",
                "seconds_on_page": 0,
                "audience": "all",
                "tier": "",
                "business_hours_only": 0,
                "text": "Questions about our prices?",
                "button": "Chat",
            },
            to_db(clock.now()),
        )
    )
    recorder = services.recorder

    # Monday 23 March (CET): C2, C3, C4, and Amy's presence.
    to("2026-03-23T09:00:00")
    services.presence.connected(people["amy"])
    c2 = (
        await conversations.open(
            channel="chat", customer_name="Dan", body="Hi there", identity=("visitor", "v-dan")
        )
    ).conversation_id
    to("2026-03-23T09:02:00")
    await conversations.assign(c2, people["amy"], Actor.agent(people["max"], "Max Manager"))
    to("2026-03-23T09:05:00")
    await conversations.post(c2, amy, "Hello Dan, how can I help?")
    to("2026-03-23T09:06:00")
    await conversations.post(c2, Actor.customer(None), "My parcel is late.")
    to("2026-03-23T09:10:00")
    await conversations.resolve(c2, amy)
    to("2026-03-23T09:11:00")
    await conversations.rate(c2, Actor.customer(None), 5, "Great help")
    to("2026-03-23T10:00:00")
    services.presence.set_status(people["amy"], "away")
    to("2026-03-23T11:00:00")
    services.presence.set_status(people["amy"], "online")
    to("2026-03-23T12:00:00")
    c3 = (
        await conversations.open(
            channel="chat", customer_name="Eve", body="Anyone?", identity=("visitor", "v-eve")
        )
    ).conversation_id
    to("2026-03-23T12:00:30")
    await conversations.resolve(c3, Actor.customer(None))
    to("2026-03-23T13:00:00")
    opened = await conversations.open(
        channel="chat", customer_name="Fay", body="Question", identity=("visitor", "v-fay")
    )
    c4 = opened.conversation_id
    to("2026-03-23T13:00:30")
    await recorder.chat_left(c4, opened.customer_id)
    to("2026-03-23T13:05:00")
    await conversations.post(c4, amy, "Sorry for the wait!")
    to("2026-03-23T14:00:00")
    services.presence.disconnected(people["amy"])

    # Tuesday 24 March: C5 from the proactive message, a deflection, C6, the website.
    for _ in range(10):
        recorder.page_viewed("https://shop.example/pricing?ref=ad")
    for _ in range(5):
        recorder.page_viewed("https://shop.example/docs/")
    to("2026-03-24T08:55:00")
    await recorder.proactive(
        pricing, "shown", "visitor:v-ann", "https://shop.example/pricing", None, None
    )
    await recorder.proactive(
        pricing, "dismissed", "visitor:v-ann", "https://shop.example/pricing", None, None
    )
    await recorder.proactive(
        pricing, "shown", "visitor:v-gus", "https://shop.example/pricing?x=1", None, None
    )
    await recorder.proactive(
        pricing, "clicked", "visitor:v-gus", "https://shop.example/pricing", None, None
    )
    to("2026-03-24T09:00:00")
    opened = await conversations.open(
        channel="chat",
        customer_name="Gus",
        body="Prices?",
        identity=("visitor", "v-gus"),
        page_url="https://shop.example/pricing?ref=ad",
    )
    c5 = opened.conversation_id
    await recorder.proactive(
        pricing,
        "chat_started",
        "visitor:v-gus",
        "https://shop.example/pricing",
        c5,
        opened.customer_id,
    )
    to("2026-03-24T09:01:00")
    await conversations.post(c5, bob, "Happy to help with prices.")
    to("2026-03-24T09:03:00")
    await conversations.resolve(c5, bob)
    to("2026-03-24T09:04:00")
    await conversations.rate(c5, Actor.customer(None), 2, "slow")
    to("2026-03-24T10:00:00")
    article = await services.knowledge.save(
        None,
        {
            "title": "Delivery times",
            "body": "We deliver in 2 days.",
            "status": "published",
            "visibility": "public",
            "language": "en",
        },
        people["ada"],
    )
    for words in ("delivery", "delivery time", "warranty"):
        await services.knowledge.search(words, source="help", searcher="203.0.113.1")
    await services.knowledge.search("Warranty", source="help", searcher="203.0.113.1")  # again
    for reader in ("203.0.113.1", "203.0.113.2", "203.0.113.1"):  # two readers
        assert await services.knowledge.view(article, reader) is not None
    await services.knowledge.deflected(article, "widget", "How long is delivery?")
    to("2026-03-24T11:00:00")
    c6 = (
        await conversations.open(
            channel="form",
            customer_name="Hal",
            body="Docs broken",
            identity=("email", "hal@example.com"),
            page_url="https://shop.example/docs",
        )
    ).conversation_id
    to("2026-03-24T12:30:00")
    await services.sla.check()

    # Friday 27 March to Wednesday 1 April: C1 across the weekend, the DST change and a holiday.
    to("2026-03-27T15:30:00")
    mailbox = dict(
        await db.fetch_one(
            "SELECT * FROM mailboxes WHERE id = ?",
            (
                await add_mailbox(
                    services, mailbox_form(None, None, ack_enabled="on", smtp_receive="on")
                ),
            ),
        )
    )
    c1 = (
        await services.email.intake.receive(mailbox, Incoming(mail(subject="Broken lamp")))
    ).conversation_id
    to("2026-03-31T08:00:00")
    await conversations.post(c1, amy, "We will send a new lamp.")
    to("2026-03-31T08:30:00")
    await conversations.post(c1, Actor.customer(None), "Which model?")
    to("2026-03-31T09:00:00")
    await conversations.note(c1, amy, "Check the stock first")
    to("2026-03-31T09:30:00")
    await conversations.transfer(c1, people["bob"], amy, "Bob knows the models")
    to("2026-03-31T10:00:00")
    await conversations.post(c1, bob, "The same model, in white.")
    to("2026-03-31T11:00:00")
    await conversations.resolve(c1, bob)
    to("2026-04-01T09:00:00")
    await conversations.post(c1, Actor.customer(None), "It has not arrived.")
    to("2026-04-01T09:20:00")
    await conversations.post(c1, bob, "It is on its way.")
    to("2026-04-01T09:40:00")
    await conversations.resolve(c1, bob)
    to("2026-04-01T10:00:00")
    await recorder.flush()
    return {**people, "c1": c1, "c2": c2, "c3": c3, "c4": c4, "c5": c5, "c6": c6}


def figure(overview, key: str):
    return next(f for f in overview.durations if f.key == key)


def rate(overview, key: str):
    return next(r for r in overview.rates if r.key == key)


async def test_the_acknowledgement_and_the_auto_reply_are_no_answers(history) -> None:
    services, people = history
    acks = await services.db.fetch_all(
        "SELECT purpose FROM outbox WHERE conversation_id = ?", (people["c1"],)
    )
    assert "ack" in [r[0] for r in acks], "the scripted mail was acknowledged"
    autos = await services.db.fetch_all(
        "SELECT count(*) FROM messages WHERE author_type = 'agent' AND author_id IS NULL"
    )
    assert autos[0][0] == 4, "every chat got the rule's automatic reply"


@pytest.mark.parametrize("business", [False, True])
async def test_response_times_to_the_second(history, business: bool) -> None:
    services, people = history
    overview = await services.reports.overview(
        Viewer(people["ada"], "admin"), Query(**{**PERIOD.__dict__, "business": business})
    )
    expected = {  # key: (count, median, p90) wall clock | business hours
        "first_response": (5, 300, 318_600) if not business else (5, 300, 5_400),
        "next_response": (1, 5_400, 5_400),
        "hold": (4, 210, 318_600) if not business else (4, 210, 5_400),
        "reaction": (1, 180, 180),
        "resolution": (5, 600, 329_400) if not business else (5, 600, 16_200),
        "abandoned": (2, 30, 30),
    }
    for key, (count, median, p90) in expected.items():
        found = figure(overview, key).now
        assert (found.count, found.median, found.p90) == (count, median, p90), key
        assert figure(overview, key).before.count == 0, "nothing happened the 10 days before"


async def test_rates_volume_and_satisfaction(history) -> None:
    services, people = history
    overview = await services.reports.overview(Viewer(people["ada"], "admin"), PERIOD)
    shares = {r.key: (r.part, r.whole) for r in overview.rates}
    assert shares == {
        "sla_first": (4, 6),
        "sla_next": (3, 3),
        "reopen_rate": (1, 4),
        "fcr": (2, 4),
        "satisfaction": (1, 2),
        "response_rate": (2, 3),
        "abandoned_share": (2, 4),
    }
    assert (overview.created, overview.resolved) == (6, 5)
    assert overview.bucket == "day"
    volume = {b.label: (b.created, b.resolved) for b in overview.volume if b.created or b.resolved}
    assert volume == {
        "2026-03-23": (3, 2),
        "2026-03-24": (2, 1),
        "2026-03-27": (1, 0),
        "2026-03-31": (0, 1),
        "2026-04-01": (0, 1),
    }
    assert len(overview.volume) == 10
    assert dict(overview.channels) == {"chat": 4, "email": 1, "form": 1}
    busy = {
        (day, hour): n
        for day, row in enumerate(overview.heatmap)
        for hour, n in enumerate(row)
        if n
    }
    assert busy == {(0, 10): 1, (0, 13): 1, (0, 14): 1, (1, 10): 1, (1, 12): 1, (4, 16): 1}
    assert overview.ratings == [(1, 0), (2, 1), (3, 0), (4, 0), (5, 1)]
    assert sorted(c.detail for c in overview.comments) == ["Great help", "slow"]
    [general] = overview.live
    assert (general.unattended, general.longest_wait_minutes) == (1, 11_460)


async def test_per_agent_lines(history) -> None:
    services, people = history
    report = await services.reports.agents(Viewer(people["ada"], "admin"), PERIOD)
    lines = {line.name: line for line in report.lines}
    amy, bob = lines["Amy Agent"], lines["Bob Agent"]
    assert (
        amy.handled,
        amy.replies,
        amy.first_response.median,
        amy.resolution.median,
        amy.ratings,
        amy.good_ratings,
        amy.online_seconds,
    ) == (3, 3, 300, 600, 1, 1, 14_400)
    # Bob took C5 only: Amy had answered C1 first.
    assert (
        bob.handled,
        bob.replies,
        bob.first_response.median,
        bob.resolution.median,
        bob.ratings,
        bob.good_ratings,
        bob.online_seconds,
    ) == (1, 3, 630, 2_400, 1, 0, 0)


async def test_agents_see_their_own_line_and_managers_their_queues(history) -> None:
    services, people = history
    mine = await services.reports.agents(Viewer(people["bob"], "agent"), PERIOD)
    assert [line.name for line in mine.lines] == ["Bob Agent"]
    overview = await services.reports.overview(Viewer(people["bob"], "agent"), PERIOD)
    assert figure(overview, "first_response").now.count == 2, "Bob's two first responses only"
    managed = await services.reports.overview(Viewer(people["max"], "manager"), PERIOD)
    assert managed.created == 6, "a manager of no queue sees all of them"


async def test_the_website_self_service_and_the_campaign(history) -> None:
    services, people = history
    report = await services.reports.website(Viewer(people["ada"], "admin"), PERIOD)
    assert [(p.page, p.inquiries, p.views, p.per_thousand) for p in report.pages] == [
        ("https://shop.example/docs", 1, 5, 200.0),
        ("https://shop.example/pricing", 1, 10, 100.0),
    ]
    assert (report.searches, report.article_views, report.deflected, report.reached_agent) == (
        3,
        2,
        1,
        4,
    )
    assert report.deflection == 0.2
    assert [(u.page, u.count) for u in report.unanswered] == [("warranty", 1)]
    assert [(d.page, d.count) for d in report.deflecting] == [("Delivery times", 1)]
    [campaign] = report.campaigns
    assert (
        campaign.shown,
        campaign.clicked,
        campaign.closed,
        campaign.chats,
        campaign.resolved,
        campaign.page_views,
        campaign.chats_without,
    ) == (2, 1, 1, 1, 1, 10, 0)
    assert (campaign.with_share, campaign.without_share) == (0.5, 0.0)


async def test_filters_narrow_every_figure(history) -> None:
    services, people = history
    admin = Viewer(people["ada"], "admin")
    chats = await services.reports.overview(admin, Query(**{**PERIOD.__dict__, "channel": "chat"}))
    assert chats.created == 4 and figure(chats, "resolution").now.count == 3
    tagged = await services.reports.overview(admin, Query(**{**PERIOD.__dict__, "tag": "web"}))
    assert tagged.created == 4
    amy = await services.reports.overview(
        admin, Query(**{**PERIOD.__dict__, "agent_id": people["amy"]})
    )
    assert figure(amy, "first_response").now.count == 3
    monday = await services.reports.overview(
        admin, Query(preset="custom", first="2026-03-23", last="2026-03-23")
    )
    assert (monday.created, monday.previous.first.isoformat()) == (3, "2026-03-22")
    drill = await services.reports.drill(admin, PERIOD, "sla_first", "missed")
    assert sorted(r.conversation_id for r in drill.rows) == sorted([people["c1"], people["c6"]])


async def test_the_rollup_rebuilt_from_the_events_gives_the_same_numbers(history) -> None:
    services, people = history
    admin = Viewer(people["ada"], "admin")
    before = await services.reports.overview(admin, PERIOD)
    rows_before = await services.db.fetch_all(
        "SELECT * FROM report_values ORDER BY conversation_id, metric, at, detail"
    )
    await services.reports.rebuild()
    after = await services.reports.overview(admin, PERIOD)
    rows_after = await services.db.fetch_all(
        "SELECT * FROM report_values ORDER BY conversation_id, metric, at, detail"
    )
    assert [tuple(r)[1:] for r in rows_before] == [tuple(r)[1:] for r in rows_after]
    assert before == after


async def test_whole_months_read_from_the_monthly_sums_give_the_same_figures(history) -> None:
    services, people = history
    admin = Viewer(people["ada"], "admin")
    for viewer in (admin, Viewer(people["amy"], "agent")):
        days = await services.reports.overview(viewer, PERIOD)
        months = await services.reports.overview(
            viewer, Query(preset="custom", first="2026-03-01", last="2026-04-30")
        )
        edges = await services.reports.overview(
            viewer, Query(preset="custom", first="2026-02-27", last="2026-05-02")
        )
        for other in (months, edges):
            assert [f.now for f in other.durations] == [f.now for f in days.durations]
            assert [(r.part, r.whole) for r in other.rates] == [
                (r.part, r.whole) for r in days.rates
            ]
            assert (other.created, other.resolved, other.heatmap) == (
                days.created,
                days.resolved,
                days.heatmap,
            )
    lines = await services.reports.agents(
        admin, Query(preset="custom", first="2026-03-01", last="2026-04-30")
    )
    assert {(line.name, line.handled, line.first_response.median) for line in lines.lines} >= {
        ("Amy Agent", 3, 300),
        ("Bob Agent", 1, 630),
    }


# ---- merges, callbacks and snoozes (a second history, June 2026) -----------------------------

JUNE = Query(preset="custom", first="2026-06-01", last="2026-06-05")


@pytest.fixture(scope="module")
async def june(tmp_path_factory: pytest.TempPathFactory):
    """Monday 1 June 2026 (CEST: the queue is open 07:00-15:00 UTC), every time inside it, so
    business hours give the same numbers as the wall clock:

    A email  08:00Z, merged into B at 08:20Z before any answer (its target is left out)
    B chat   08:10Z, Amy answers 08:30Z (1,200 s), resolves 08:40Z (1,800 s; one reply)
    C email  09:00Z, Bob answers 09:05Z (300 s), resolves 09:10Z (600 s)
    D email  09:30Z, same customer, merged into C at 09:40Z: C reopens (a new cycle); Bob
             answers 09:50Z (600 s), resolves 10:00Z (1,200 s)
    P phone  11:00Z, a callback request for 12:00-12:30Z (its target); Amy calls 12:15Z, no
             answer (first response 4,500 s), try again by 13:00Z; calls 12:50Z, reached and
             resolved (6,600 s; two calls: no first-contact resolution)
    E email  Tue 2 June 08:00Z, snoozed 08:05Z; the watch finds its target (09:00Z) missed at
             09:30Z; the customer writes 10:00Z, Amy answers 10:10Z (7,800 s)
    """
    clock = ManualClock(at("2026-06-01T06:00:00"))
    config = make_config(Path(tmp_path_factory.mktemp("june")) / "data")
    async with open_services(config, clock) as services:
        yield services, await _june(services, clock)


async def _june(services, clock: ManualClock) -> dict[str, Any]:
    conversations = services.conversations

    def to(moment: str) -> None:
        clock._now = at(moment)  # noqa: SLF001

    people = {
        name: await services.accounts.create_agent(
            f"{name}@example.com", name.title(), role, PASSWORD
        )
        for name, role in (("amy", "agent"), ("bob", "agent"), ("ada", "admin"))
    }
    amy, bob = Actor.agent(people["amy"], "Amy"), Actor.agent(people["bob"], "Bob")
    await services.db.write(
        lambda conn: queues_repo.update(
            conn,
            1,
            first_response_minutes=60,
            next_response_minutes=240,
            timezone="Europe/Berlin",
            hours="mon-fri 09:00-17:00",
            holidays="",
        )
    )
    await services.callbacks.save_settings({"enabled": "on", "queue_id": "1", "country": "DE"})

    async def opened(channel: str, name: str, body: str, identity: tuple[str, str]) -> int:
        return (
            await conversations.open(
                channel=channel, customer_name=name, body=body, identity=identity
            )
        ).conversation_id

    to("2026-06-01T08:00:00")
    a = await opened("email", "Ina", "My lamp is broken", ("email", "ina@example.com"))
    to("2026-06-01T08:10:00")
    b = await opened("chat", "Ina", "About my lamp", ("visitor", "v-ina"))
    to("2026-06-01T08:20:00")
    await merging.merge(conversations, a, b, amy)
    to("2026-06-01T08:30:00")
    await conversations.post(b, amy, "A new lamp is on its way.")
    to("2026-06-01T08:40:00")
    await conversations.resolve(b, amy)
    to("2026-06-01T09:00:00")
    c = await opened("email", "Jo", "The invoice is wrong", ("email", "jo@example.com"))
    to("2026-06-01T09:05:00")
    await conversations.post(c, bob, "Corrected.")
    to("2026-06-01T09:10:00")
    await conversations.resolve(c, bob)
    to("2026-06-01T09:30:00")
    d = await opened("email", "Jo", "Still about the invoice", ("email", "jo@example.com"))
    to("2026-06-01T09:40:00")
    await merging.merge(conversations, d, c, bob)
    to("2026-06-01T09:50:00")
    await conversations.post(c, bob, "Here is the corrected invoice.")
    to("2026-06-01T10:00:00")
    await conversations.resolve(c, bob)
    to("2026-06-01T11:00:00")
    window = (await services.callbacks.options())["windows"][2]
    assert window["time"] == "14:00–14:30"
    p = (
        await services.callbacks.request(
            {
                "name": "Lou",
                "phone": "030 1234567",
                "country": "DE",
                "about": "Call me",
                "window": window["key"],
            },
            source="form",
            address="203.0.113.9",
        )
    ).conversation_id
    to("2026-06-01T12:15:00")
    await services.callbacks.log_call(p, amy, "no_answer", retry_at="2026-06-01T15:00")
    to("2026-06-01T12:50:00")
    await services.callbacks.log_call(p, amy, "reached", resolve=True)

    to("2026-06-02T08:00:00")
    e = await opened("email", "Kai", "Where is my order?", ("email", "kai@example.com"))
    to("2026-06-02T08:05:00")
    assert await snooze.snooze(conversations, e, None, amy)
    to("2026-06-02T09:30:00")
    await services.sla.check()
    to("2026-06-02T09:45:00")
    live_snoozed = await services.reports.live(Viewer(people["ada"], "admin"))
    to("2026-06-02T10:00:00")
    await conversations.post(e, Actor.customer(None), "Any news?")
    to("2026-06-02T10:10:00")
    await conversations.post(e, amy, "It left the warehouse today.")
    return {**people, "a": a, "b": b, "c": c, "d": d, "p": p, "e": e, "live_snoozed": live_snoozed}


@pytest.mark.parametrize("business", [False, True])
async def test_merges_callbacks_and_snoozes_to_the_second(june, business: bool) -> None:
    services, people = june
    overview = await services.reports.overview(
        Viewer(people["ada"], "admin"), Query(**{**JUNE.__dict__, "business": business})
    )
    expected = {  # the same in business hours: everything happened while the queue was open
        "first_response": (5, 1_200, 7_800),  # B, C twice, the first call, E after its snooze
        "next_response": (0, None, None),
        "hold": (4, 2_850, 7_800),  # B, C, P (the call), E; never A or D: merged unanswered
        "reaction": (0, None, None),
        "resolution": (4, 1_500, 6_600),  # B, C twice, P; never A or D
        "abandoned": (0, None, None),
    }
    for key, want in expected.items():
        found = figure(overview, key).now
        assert (found.count, found.median, found.p90) == want, key
    shares = {r.key: (r.part, r.whole) for r in overview.rates}
    assert shares == {
        "sla_first": (3, 4),  # B, C and the callback's window met; E missed while snoozed
        # The callback's second try, by 13:00Z; C owing D's unanswered mail from the merge on
        # (as if D had been written in C), answered at 09:50.
        "sla_next": (2, 2),
        "reopen_rate": (1, 3),  # C, reopened by the merge of D
        "fcr": (1, 3),  # B; C was reopened, the callback took two calls
        "satisfaction": (0, 0),
        "response_rate": (0, 1),
        "abandoned_share": (0, 1),
    }
    assert (overview.created, overview.resolved, overview.merged) == (6, 4, 2)
    volume = {
        b.label: (b.created, b.resolved, b.merged, b.backlog) for b in overview.volume if b.created
    }
    assert volume == {"2026-06-01": (5, 4, 2, -1), "2026-06-02": (1, 0, 0, 1)}
    assert dict(overview.channels) == {"email": 4, "chat": 1, "phone": 1}
    drill = await services.reports.drill(Viewer(people["ada"], "admin"), JUNE, "merged", None)
    assert sorted(r.conversation_id for r in drill.rows) == [people["a"], people["d"]]


async def test_a_snoozed_conversation_still_waits(june) -> None:
    _, people = june
    [general] = people["live_snoozed"]
    assert (general.unattended, general.longest_wait_minutes) == (1, 105)


async def test_merged_conversations_rebuilt_give_the_same_numbers(june) -> None:
    services, people = june
    admin = Viewer(people["ada"], "admin")
    before = await services.reports.overview(admin, JUNE)
    await services.reports.rebuild()
    assert await services.reports.overview(admin, JUNE) == before
