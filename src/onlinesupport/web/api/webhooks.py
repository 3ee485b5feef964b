"""API handlers for webhook endpoints (admin scope): manage, test, read the log, redeliver."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from onlinesupport.integrations.webhooks import EndpointFields
from onlinesupport.store.webhooks import Attempt, Delivery, Endpoint
from onlinesupport.web.api.errors import ApiError
from onlinesupport.web.api.spec import Call
from onlinesupport.web.keys import SERVICES


def endpoint_json(e: Endpoint) -> dict[str, Any]:
    return {
        "id": e.id,
        "url": e.url,
        "description": e.description,
        "event_types": list(e.event_types),
        "enabled": e.enabled,
        "disabled_reason": e.disabled_reason,
        "failing_since": e.failing_since,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    }


def delivery_json(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "webhook_id": d.msg_id,
        "type": d.type,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at if d.status == "queued" else None,
        "last_error": d.last_error,
        "last_status_code": d.last_status_code,
        "sent_at": d.sent_at,
        "created_at": d.created_at,
    }


def attempt_json(a: Attempt) -> dict[str, Any]:
    return {
        "attempt": a.attempt,
        "status_code": a.status_code,
        "response": a.response,
        "error": a.error,
        "duration_ms": a.duration_ms,
        "at": a.created_at,
    }


async def _endpoint(call: Call, with_secret: bool = False) -> web.Response:
    webhooks = call.request.app[SERVICES].webhooks
    found = await webhooks.get(call.path["id"])
    if found is None:
        raise ApiError(404, f"webhook endpoint {call.path['id']} does not exist")
    body: dict[str, Any] = {"endpoint": endpoint_json(found)}
    if with_secret:
        body["secret"] = webhooks.secrets_in_use(found)[0]
    return web.json_response(body)


def _fields(body: dict[str, Any]) -> EndpointFields:
    return EndpointFields(
        url=body.get("url"),
        description=body.get("description"),
        event_types=body.get("event_types"),
        enabled=body.get("enabled"),
    )


async def list_endpoints(call: Call) -> web.Response:
    found = await call.request.app[SERVICES].webhooks.list_all()
    return web.json_response({"endpoints": [endpoint_json(e) for e in found]})


async def create_endpoint(call: Call) -> web.Response:
    webhooks = call.request.app[SERVICES].webhooks
    endpoint_id = await webhooks.add(_fields(call.body))
    found = await webhooks.get(endpoint_id)
    assert found is not None
    return web.json_response(
        {"endpoint": endpoint_json(found), "secret": webhooks.secrets_in_use(found)[0]}, status=201
    )


async def get_endpoint(call: Call) -> web.Response:
    return await _endpoint(call, with_secret=True)


async def update_endpoint(call: Call) -> web.Response:
    await call.request.app[SERVICES].webhooks.change(call.path["id"], _fields(call.body))
    return await _endpoint(call)


async def delete_endpoint(call: Call) -> web.Response:
    await call.request.app[SERVICES].webhooks.delete(call.path["id"])
    return web.Response(status=204)


async def rotate_secret(call: Call) -> web.Response:
    await call.request.app[SERVICES].webhooks.rotate_secret(call.path["id"])
    return await _endpoint(call, with_secret=True)


async def send_test(call: Call) -> web.Response:
    delivery_id = await call.request.app[SERVICES].webhooks.send_test(call.path["id"])
    return web.json_response({"delivery_id": delivery_id}, status=202)


async def list_deliveries(call: Call) -> web.Response:
    webhooks = call.request.app[SERVICES].webhooks
    if await webhooks.get(call.path["id"]) is None:
        raise ApiError(404, f"webhook endpoint {call.path['id']} does not exist")
    limit = call.query.get("limit", 50)
    found = await webhooks.deliveries(call.path["id"], limit + 1, call.query.get("before"))
    return web.json_response(
        {
            "deliveries": [delivery_json(d) for d in found[:limit]],
            "next_before": found[limit - 1].id if len(found) > limit else None,
        }
    )


async def get_delivery(call: Call) -> web.Response:
    found = await call.request.app[SERVICES].webhooks.delivery(
        call.path["id"], call.path["delivery_id"]
    )
    if found is None:
        raise ApiError(
            404, f"delivery {call.path['delivery_id']} of endpoint {call.path['id']} does not exist"
        )
    delivery, attempts = found
    return web.json_response(
        {"delivery": delivery_json(delivery), "attempts": [attempt_json(a) for a in attempts]}
    )


async def redeliver(call: Call) -> web.Response:
    await call.request.app[SERVICES].webhooks.redeliver(call.path["id"], call.path["delivery_id"])
    found = await call.request.app[SERVICES].webhooks.delivery(
        call.path["id"], call.path["delivery_id"]
    )
    assert found is not None
    return web.json_response({"delivery": delivery_json(found[0])}, status=202)
