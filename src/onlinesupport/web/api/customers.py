"""API handlers for customers: find, create, change, and their conversations."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.core.customers import CustomerChanges
from onlinesupport.integrations import objects
from onlinesupport.lib.inputs import phone_number
from onlinesupport.store import integration_reads
from onlinesupport.store.integration_reads import ConversationFilter
from onlinesupport.web.api.conversations import caller, decode_cursor, encode_cursor
from onlinesupport.web.api.errors import ApiError
from onlinesupport.web.api.spec import Call
from onlinesupport.web.keys import SERVICES


def _changes(body: dict) -> CustomerChanges:
    return CustomerChanges(
        name=body.get("name"),
        email=body.get("email"),
        phone=body.get("phone"),
        external_id=body.get("external_id"),
        tier=body.get("tier"),
        tags=body.get("tags"),
    )


async def _customer(call: Call, customer_id: int) -> web.Response:
    found = await integration_reads.customer(call.request.app[SERVICES].db, customer_id)
    if found is None:
        raise ApiError(404, f"customer {customer_id} does not exist")
    return web.json_response({"customer": objects.customer(found)})


async def list_customers(call: Call) -> web.Response:
    q = call.query
    after = 0
    if q.get("cursor"):
        [value] = decode_cursor(q["cursor"], "c")[:1]
        if not value.isdigit() or len(value) > 19:
            raise ApiError(422, "the cursor is not one this listing gave out", field="cursor")
        after = int(value)
    limit = q.get("limit", 25)
    found = await integration_reads.customers_by(
        call.request.app[SERVICES].db,
        email=q["email"].lower() if "email" in q else None,
        phone=phone_number(q["phone"]) if "phone" in q else None,
        external_id=q.get("external_id"),
        after_id=after,
        limit=limit + 1,
    )
    more = len(found) > limit
    found = found[:limit]
    return web.json_response(
        {
            "customers": [objects.customer(c) for c in found],
            "next_cursor": encode_cursor("c", found[-1].id) if more else None,
        }
    )


async def create_customer(call: Call) -> web.Response:
    customer_id = await call.request.app[SERVICES].customers.create(
        _changes(call.body), caller(call).actor()
    )
    response = await _customer(call, customer_id)
    response.set_status(201)
    return response


async def get_customer(call: Call) -> web.Response:
    return await _customer(call, call.path["id"])


async def update_customer(call: Call) -> web.Response:
    customer_id = call.path["id"]
    await call.request.app[SERVICES].customers.update(
        customer_id, _changes(call.body), caller(call).actor()
    )
    return await _customer(call, customer_id)


async def customer_conversations(call: Call) -> web.Response:
    customer_id = call.path["id"]
    db = call.request.app[SERVICES].db
    if await integration_reads.customer(db, customer_id) is None:
        raise ApiError(404, f"customer {customer_id} does not exist")
    found = await integration_reads.conversations_newest(
        db, ConversationFilter(customer_id=customer_id), None, 201
    )
    return web.json_response(
        {
            "conversations": [objects.conversation(c) for c in found[:200]],
            "has_more": len(found) > 200,
        }
    )
