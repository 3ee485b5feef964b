"""What the inbox and conversation pages show of the desk's organising tools: filters, saved
views and bulk actions on the inbox; merges, splits, snoozes and who else is viewing on a
conversation."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from onlinesupport.core.conversations import CHANNELS, bulk, snooze
from onlinesupport.core.inbox_views import DUE, InboxQuery
from onlinesupport.store import messages as messages_repo
from onlinesupport.store.events import Event
from onlinesupport.web.auth import AGENT
from onlinesupport.web.keys import SERVICES


async def inbox_context(request: web.Request, query: InboxQuery) -> dict[str, Any]:
    """The inbox's filters, saved views and what the bulk actions offer."""
    services, agent = request.app[SERVICES], request[AGENT]
    return {
        "query": query,
        "filter_qs": query.filter_string(),
        "channels": CHANNELS,
        "due_options": DUE,
        "snooze_presets": snooze.PRESETS,
        "saved_views": await services.saved_views.for_agent(agent["id"]),
        "active_agents": [a for a in await services.accounts.agents() if a.active],
        "skipped": skipped_of(request.query.get("skipped", "")),
    }


def skipped_of(text: str) -> list[tuple[int, int]]:
    """The merged conversations a bulk action skipped, from `organise.with_skipped`'s list (anything
    else in it is ignored: it only words a notice)."""
    pairs = []
    for item in text.split(",")[: bulk.MAX_SELECTED]:
        cid, _, into = item.partition(":")
        if cid.isdecimal() and into.isdecimal() and len(cid) < 12 and len(into) < 12:
            pairs.append((int(cid), int(into)))
    return pairs


async def conversation_context(
    request: web.Request, context: dict[str, Any], events: list[Event]
) -> dict[str, Any]:
    """What the conversation page shows of merges, splits, snoozes and who else is viewing:
    the messages of conversations merged into it join its own, in time order."""
    services, conversation = request.app[SERVICES], context["conversation"]
    # Data an erasure removed is skipped (an erased customer's messages are blank anyway).
    merged_in = [
        e.data for e in events if e.type == "conversation.merged_in" and "up_to_seq" in e.data
    ]
    messages = list(context["messages"])
    for merged in merged_in:
        earlier = await messages_repo.after(services.db, merged["from"])
        messages.extend(m for m in earlier if m.seq <= merged["up_to_seq"])
    messages.sort(key=lambda m: (m.created_at, m.id))
    split_from = [
        e.data for e in events if e.type == "conversation.split_from" and "from" in e.data
    ]
    me = request[AGENT]["id"]
    return {
        "messages": messages,
        "merged_channels": {m["from"]: m.get("channel", "") for m in merged_in},
        "splits": {
            e.data["message_id"]: e.data["into"]
            for e in events
            if e.type == "conversation.split" and "into" in e.data
        },
        "split_from": split_from[-1] if split_from else None,
        "splittable": [
            m for m in context["messages"] if m.author_type == "customer" and m.kind == "message"
        ],
        "merge_candidates": [c for c in context["history"] if c["id"] != conversation["id"]],
        "snooze_presets": snooze.PRESETS,
        "viewers": [v for v in services.viewers.of(conversation["id"]) if v["id"] != me],
    }
