"""The event feed: public events after a cursor, in order, waiting a while for new ones.

An integration keeps the id of the last event it handled and asks for what came after it;
after being down for a while it catches up exactly, with no gap and no duplicate, as the desk
does after a reconnect. Subscribing to the hub before reading means an event committed
between the read and the wait still wakes the request.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from onlinesupport.core.hub import SubscriberLagged
from onlinesupport.integrations.public_events import PUBLIC_TYPES, event_json
from onlinesupport.store import webhooks as webhooks_repo
from onlinesupport.store.events import Event
from onlinesupport.web.api.errors import ApiError
from onlinesupport.web.api.spec import Call
from onlinesupport.web.keys import SERVICES


async def feed(call: Call) -> web.Response:
    services = call.request.app[SERVICES]
    after = call.query.get("after", 0)
    limit = call.query.get("limit", 100)
    types = [t for t in call.query.get("types", "").split(",") if t]
    if after < await webhooks_repo.feed_floor(services.db):
        raise ApiError(
            410,
            "events after this cursor were pruned (the feed keeps 30 days); "
            "start again from the latest events",
            code="cursor_expired",
            field="after",
        )
    latest = await webhooks_repo.feed_ceiling(services.db)
    if after > latest:
        # A cursor past the end (corrupted, or from before a restore) would wait forever.
        raise ApiError(
            422,
            f"there is no event {after} yet: the latest is {latest}; ask "
            f"with a cursor this feed gave out",
            field="after",
        )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + call.query.get("wait", 0)
    with services.hub.subscribe() as subscription:
        found = await webhooks_repo.feed(services.db, after, limit, types)
        while not found and (remaining := deadline - loop.time()) > 0:
            try:
                item = await asyncio.wait_for(subscription.get(), remaining)
            except TimeoutError:
                break
            except SubscriberLagged:
                item = None
            if item is None or isinstance(item, Event) and item.type in PUBLIC_TYPES:
                found = await webhooks_repo.feed(services.db, after, limit, types)
                if item is None:
                    break
    return web.json_response(
        {"events": [event_json(e) for e in found], "next_after": found[-1].id if found else after}
    )
