"""The report's figures equal a brute-force recount from the raw events, for 200 random
histories: random conversations (chat and email) with customer messages, agents' replies and
notes, automatic replies, assignments, transfers, resolutions by either side, reopenings,
ratings, visitors leaving, merges, splits and snoozes, at random moments of the week.
Business hours are Monday-Friday 09:00-17:00 UTC, counted here five minutes at a time (every
moment of the history falls on a five-minute mark), not with the calendar code the reports
use.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import PASSWORD, make_config
from onlinesupport.core.conversations import Actor, InvalidCommand, merging, snooze
from onlinesupport.lib.clock import ManualClock, from_db
from onlinesupport.reports.service import Query, Viewer
from onlinesupport.services import open_services
from onlinesupport.store import events as events_repo
from onlinesupport.store import queues as queues_repo

BASE = datetime(2027, 1, 4, tzinfo=UTC)
SPACING = timedelta(days=30)
WINDOW_DAYS = 20
OPS = (
    "customer",
    "reply_a",
    "reply_b",
    "note",
    "auto",
    "assign_a",
    "assign_b",
    "transfer",
    "resolve_agent",
    "resolve_customer",
    "reopen",
    "rate",
    "left",
    "merge",
    "split",
    "snooze",
)
ENDS = ("conversation.resolved", "conversation.closed", "conversation.merged")
"""What ends a cycle (a merge ends the merged conversation: it goes on in the other one)."""
examples = itertools.count()


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory):
    clock = ManualClock(BASE)
    config = make_config(
        Path(tmp_path_factory.mktemp("property")) / "data", storage_synchronous="off"
    )
    async with open_services(config, clock) as services:
        agents = [
            await services.accounts.create_agent(f"{n}@example.com", n, role, PASSWORD)
            for n, role in (("ann", "agent"), ("ben", "agent"), ("ada", "admin"))
        ]
        await services.db.write(
            lambda conn: queues_repo.update(
                conn,
                1,
                first_response_minutes=60,
                next_response_minutes=120,
                timezone="UTC",
                hours="mon-fri 09:00-17:00",
                holidays="",
            )
        )
        yield services, clock, agents


# ---- the brute force: straight from the events, one figure at a time -----------------------


def open_seconds(start: str, end: str) -> float:
    """Business seconds between two five-minute marks, counted a slot at a time."""
    begin, finish = from_db(start), from_db(end)
    slots = 0
    while begin < finish:
        if begin.weekday() < 5 and 9 <= begin.hour < 17:
            slots += 1
        begin += timedelta(minutes=5)
    return slots * 300.0


def span(start: str, end: str) -> tuple[float, float]:
    return (from_db(end) - from_db(start)).total_seconds(), open_seconds(start, end)


def is_human(e) -> bool:
    return (
        e.type == "message.posted"
        and e.actor_type == "agent"
        and e.actor_id is not None
        and e.data["kind"] == "message"
    )


def is_customer(e) -> bool:
    return e.type == "message.posted" and e.actor_type == "customer"


def brute(histories: dict[int, tuple[str, list]]) -> dict:
    values: dict[str, list[tuple[float, float]]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for channel, events in histories.values():
        created = events[0].created_at
        counts["created"] += 1
        counts["chats"] += channel == "chat"
        ends = [i for i, e in enumerate(events) if e.type in ENDS]
        starts = [0] + [i for i, e in enumerate(events) if e.type == "conversation.reopened"]
        cycles = list(zip(starts, starts[1:] + [len(events)], strict=True))
        resolved = []  # what ended a cycle: a resolution later in the same cycle is none
        for number, (first, last) in enumerate(cycles):
            start = events[first].created_at
            human = [i for i in range(first, last) if is_human(events[i])]
            end = next((i for i in ends if first <= i < last), None)
            if end is not None and events[end].type == "conversation.resolved":
                resolved.append(events[end])
            if human:
                values["first_response"].append(span(start, events[human[0]].created_at))
            if end is not None and events[end].type == "conversation.resolved":
                values["resolution"].append(span(start, events[end].created_at))
            if human:  # next responses: customer waits inside the open part of the cycle
                stop = end if end is not None else last
                waiting = None
                for i in range(human[0] + 1, stop):
                    if is_customer(events[i]) and waiting is None:
                        waiting = events[i].created_at
                    elif is_human(events[i]) and waiting is not None:
                        values["next_response"].append(span(waiting, events[i].created_at))
                        waiting = None
            if number == 0:
                zero = range(first, last)
                taken = next(
                    (
                        i
                        for i in zero
                        if is_human(events[i])
                        or (
                            events[i].type in ("conversation.assigned", "conversation.transferred")
                            and events[i].data.get("agent_id") is not None
                        )
                    ),
                    None,
                )
                if taken is not None:
                    values["hold"].append(span(created, events[taken].created_at))
                    if not is_human(events[taken]) and human:
                        values["reaction"].append(
                            span(events[taken].created_at, events[human[0]].created_at)
                        )
                if channel == "chat":
                    reply = human[0] if human else None
                    left = None
                    for i in range(first, len(events)):
                        e = events[i]
                        if i == reply:
                            break
                        if end is not None and i == end:
                            if e.type == "conversation.merged":
                                left = None  # it goes on in the other conversation
                            elif e.type == "conversation.resolved" and (
                                e.actor_type == "customer" or left is not None
                            ):
                                left = left or e.created_at
                            break
                        if is_customer(e) or e.type in ("page.viewed", "chat.returned"):
                            left = None
                        elif e.type == "chat.left":
                            left = e.created_at
                    if left is not None:
                        values["abandoned"].append(span(created, left))
        counts["resolved"] += len(resolved)
        counts["merged"] += sum(
            1
            for e in events
            if e.type == "conversation.merged" and e.data.get("from") in ("open", "pending")
        )
        if resolved:
            counts["resolved_once"] += 1
            counts["asked"] += channel == "chat"
            replies = sum(1 for e in events if is_human(e))
            reopened = len(starts) > 1
            counts["fcr"] += replies == 1 and not reopened
            counts["reopened"] += reopened
        ratings = [e for e in events if e.type == "conversation.rated"]
        if ratings:
            counts["ratings"] += 1
            counts["good"] += ratings[0].data["score"] >= 4
        for kind in ("first_response", "next_response"):
            for met in sla_targets(events, kind):
                counts[f"sla_{kind}_due"] += 1
                counts[f"sla_{kind}_met"] += met
    return {"values": values, "counts": counts}


def sla_targets(events: list, kind: str) -> list[bool]:
    """Each answer target of `kind`: met (answered or resolved by its due time) or not."""
    found = []
    for index, e in enumerate(events):
        if e.type != "sla.target" or e.data["target"] != kind:
            continue
        due = e.data["due_at"]
        if kind == "first_response" and any(is_human(x) for x in events[:index]):
            continue
        settling = (
            is_human
            if kind == "first_response"
            else lambda x: (
                x.type == "message.posted"
                and x.actor_type == "agent"
                and x.data["kind"] == "message"
            )
        )
        settled = next((x for x in events[index + 1 :] if settling(x) or x.type in ENDS), None)
        if settled is not None and settled.type != "conversation.merged":
            found.append(settled.created_at <= due)  # a merge passes the promise on
    return found


def summary(values: list[float]) -> tuple[int, float | None, float | None]:
    if not values:
        return 0, None, None
    ordered = sorted(values)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return n, median, ordered[max(1, math.ceil(0.9 * n)) - 1]


# ---- the random histories -----------------------------------------------------------------

step = st.tuples(st.integers(0, 2), st.sampled_from(OPS), st.integers(0, 36), st.integers(1, 5))
history = st.tuples(
    st.lists(st.sampled_from(("chat", "email")), min_size=1, max_size=3),
    st.integers(0, 7 * 24 * 12 - 1),
    st.lists(step, max_size=14),
)


async def play(
    services, clock: ManualClock, agents: list[int], channels: list[str], offset: int, steps: list
) -> tuple[dict[int, str], datetime]:
    """Play one history in its own stretch of time; returns its conversations and its start."""
    conversations = services.conversations
    start = BASE + next(examples) * SPACING
    clock._now = start + timedelta(minutes=5 * offset)  # noqa: SLF001
    ann, ben = Actor.agent(agents[0], "ann"), Actor.agent(agents[1], "ben")
    ids: list[tuple[int, int | None]] = []
    channels = list(channels)
    for channel in channels:
        opened = await conversations.open(
            channel=channel,
            customer_name="C",
            body="Hello",
            identity=("visitor", f"v{len(ids)}-{clock.now()}"),
        )
        ids.append((opened.conversation_id, opened.customer_id))
        clock.advance(minutes=5)
    for which, op, wait, score in steps:
        clock.advance(minutes=5 * wait)
        cid, customer = ids[which % len(ids)]
        try:
            if op == "customer":
                await conversations.post(cid, Actor.customer(customer), "More")
            elif op in ("reply_a", "reply_b"):
                await conversations.post(cid, ann if op == "reply_a" else ben, "Answer")
            elif op == "note":
                await conversations.note(cid, ann, "Note")
            elif op == "auto":  # as the routing engine sends it: with the rule's firing

                def auto(work, c=cid):
                    conversations.auto_reply_in(work, c, "Auto", "Auto")
                    work.emit(
                        c,
                        "rule.fired",
                        "system",
                        None,
                        {"rule_id": 1, "name": "Auto", "actions": ["automatic reply"]},
                    )

                await conversations.run(auto)
            elif op in ("assign_a", "assign_b"):
                await conversations.assign(cid, agents[op == "assign_b"], ann)
            elif op == "transfer":
                await conversations.transfer(cid, agents[score % 2], ann, "over to you")
            elif op == "resolve_agent":
                await conversations.resolve(cid, ann)
            elif op == "resolve_customer":
                await conversations.resolve(cid, Actor.customer(customer))
            elif op == "reopen":
                await conversations.reopen(cid, ann)
            elif op == "rate":
                await conversations.rate(cid, Actor.customer(customer), score, "")
            elif op == "left":
                await services.recorder.chat_left(cid, customer)
            elif op == "merge":
                await merging.merge(conversations, cid, ids[(which + 1) % len(ids)][0], ann)
            elif op == "split":
                message = await services.db.fetch_one(
                    "SELECT id FROM messages WHERE conversation_id = ? AND author_type ="
                    " 'customer' AND kind = 'message' ORDER BY seq DESC",
                    (cid,),
                )
                new = await merging.split(conversations, cid, message[0], "", ann)
                ids.append((new, customer))
                channels.append(channels[which % len(channels)])
            elif op == "snooze":
                await snooze.snooze(conversations, cid, None, ann)
        except InvalidCommand:
            pass  # e.g. a transfer to whoever has it already: refused, nothing recorded
    return {cid: channel for (cid, _), channel in zip(ids, channels, strict=True)}, start


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=history)
# Chat 1, answered, is merged into chat 2 (not answered yet); its customer writes to it again:
# the copy goes to chat 2, and no next-answer target is set on chat 1, which has ended.
@example(
    case=(
        ["chat", "chat"],
        0,
        [
            (0, "reply_a", 0, 1),
            (0, "merge", 0, 1),
            (0, "customer", 0, 1),
            (0, "resolve_agent", 0, 1),
        ],
    )
)
# Chat 3 is merged into chat 1 and reopened; chat 1 is merged into chat 2, which re-points
# chat 3 to chat 2: chat 3 was merged once and counts once.
@example(
    case=(
        ["chat", "chat", "chat"],
        0,
        [(2, "merge", 0, 1), (2, "reopen", 0, 1), (0, "merge", 0, 1)],
    )
)
async def test_figures_equal_a_recount_from_the_raw_events(world, case) -> None:
    services, clock, agents = world
    channels, offset, steps = case
    played, start = await play(services, clock, agents, channels, offset, steps)
    first_day = start.date()
    histories = {
        cid: (channel, await events_repo.for_conversation(services.db, cid))
        for cid, channel in played.items()
    }
    expected = brute(histories)
    query = Query(
        preset="custom",
        first=first_day.isoformat(),
        last=(first_day + timedelta(days=WINDOW_DAYS)).isoformat(),
    )
    admin = Viewer(agents[2], "admin")
    for business in (False, True):
        overview = await services.reports.overview(
            admin, Query(**{**query.__dict__, "business": business})
        )
        for figure in overview.durations:
            found = expected["values"].get(figure.key, [])
            want = summary([b if business else w for w, b in found])
            assert (figure.now.count, figure.now.median, figure.now.p90) == want, (
                figure.key,
                business,
                histories,
            )
    c = expected["counts"]
    rates = {r.key: (r.part, r.whole) for r in overview.rates}
    assert rates == {
        "sla_first": (c["sla_first_response_met"], c["sla_first_response_due"]),
        "sla_next": (c["sla_next_response_met"], c["sla_next_response_due"]),
        "reopen_rate": (c["reopened"], c["resolved_once"]),
        "fcr": (c["fcr"], c["resolved_once"]),
        "satisfaction": (c["good"], c["ratings"]),
        "response_rate": (c["ratings"], c["asked"]),
        "abandoned_share": (len(expected["values"]["abandoned"]), c["chats"]),
    }, histories
    assert (overview.created, overview.resolved, overview.merged) == (
        c["created"],
        c["resolved"],
        c["merged"],
    )
