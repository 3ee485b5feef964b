"""The managers' live board: queues side by side with their figures and open conversations,
which a manager moves between queues by dragging (or with the Move form on each card)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from onlinesupport.lib.clock import from_db, to_db
from onlinesupport.store import board as board_repo
from onlinesupport.web.auth import AGENT, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.templates import render


async def board_data(request: web.Request) -> dict[str, Any]:
    services = request.app[SERVICES]
    now = services.clock.now()
    today = to_db(datetime(now.year, now.month, now.day, tzinfo=UTC))
    queues = await board_repo.queues(services.db, today)
    conversations = await board_repo.open_conversations(services.db)
    online = services.presence.online()
    agents = [
        {**a, "queues": json.loads(a["queues"]), "online": a["id"] in online}
        for a in await board_repo.agent_loads(services.db)
    ]
    lanes = []
    for figures in queues:
        queue: dict[str, Any] = {**figures}
        oldest = queue.pop("oldest_waiting")
        queue["longest_wait_minutes"] = (
            int((now - from_db(oldest)).total_seconds() // 60) if oldest else None
        )
        queue["conversations"] = [c for c in conversations if c["queue_id"] == queue["id"]]
        members = [a for a in agents if queue["id"] in a["queues"]] or agents
        queue["agents"] = [
            {"id": a["id"], "name": a["name"], "load": a["load"], "capacity": a["capacity"]}
            for a in members
            if a["online"]
        ]
        lanes.append(queue)
    return {"queues": lanes, "now": to_db(now), "everyone": [a for a in agents if a["online"]]}


@requires("manager")
async def board_page(request: web.Request) -> web.Response:
    """The board; `?part=lanes` is just the lanes, which the page fetches again on each change."""
    name = "desk/_board_lanes.html" if request.query.get("part") == "lanes" else "desk/board.html"
    return render(request, name, {"agent": request[AGENT], **await board_data(request)})
