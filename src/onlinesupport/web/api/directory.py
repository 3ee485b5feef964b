"""API handlers for who is calling, the agents and the queues (read only)."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.store import agents as agents_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.web.api.conversations import caller
from onlinesupport.web.api.spec import Call
from onlinesupport.web.keys import SERVICES


async def me(call: Call) -> web.Response:
    who = caller(call)
    agent = None if who.agent_id is None else {"id": who.agent_id, "name": who.agent_name}
    return web.json_response(
        {"name": who.name, "scope": who.scope, "agent": agent, "token_id": who.token_id}
    )


async def list_agents(call: Call) -> web.Response:
    agents = await agents_repo.list_all(call.request.app[SERVICES].db)
    return web.json_response(
        {
            "agents": [
                {
                    "id": a.id,
                    "name": a.name,
                    "email": a.email,
                    "role": a.role,
                    "active": bool(a.active),
                    "capacity": a.capacity,
                    "open_chats": a.load,
                }
                for a in agents
            ]
        }
    )


async def list_queues(call: Call) -> web.Response:
    queues = await queues_repo.list_all(call.request.app[SERVICES].db)
    return web.json_response(
        {
            "queues": [
                {
                    "id": q.id,
                    "name": q.name,
                    "first_response_minutes": q.first_response_minutes,
                    "next_response_minutes": q.next_response_minutes,
                }
                for q in queues
            ]
        }
    )
