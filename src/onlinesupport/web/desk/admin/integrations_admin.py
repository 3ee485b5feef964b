"""Admin pages for the integration surface: API tokens, webhook endpoints and their delivery
log, and the API's reference (rendered from the same OpenAPI document the API serves)."""

from __future__ import annotations

from aiohttp import web

from onlinesupport.core.conversations import InvalidCommand
from onlinesupport.integrations.public_events import DESCRIPTIONS, WEBHOOK_TYPES
from onlinesupport.integrations.tokens import SCOPES, expiry_label, expiry_of
from onlinesupport.integrations.webhooks import EndpointFields
from onlinesupport.web.api.openapi import document
from onlinesupport.web.api.routes import OPERATIONS, PREFIX
from onlinesupport.web.api.schemas import COMPONENTS
from onlinesupport.web.auth import AGENT, form_data, posted_form, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import BUSINESS_ZONE, render


async def _tokens_page(
    request: web.Request, *, error: str = "", created: str = "", status: int = 200
) -> web.Response:
    services = request.app[SERVICES]
    tokens = await services.api_tokens.list_all()
    zone = request.get(BUSINESS_ZONE, "") or "UTC"
    return render(
        request,
        "admin/api_tokens.html",
        {
            "agent": request[AGENT],
            "tokens": tokens,
            "zone": zone,
            "expiry": {t.id: expiry_label(t.expires_at, zone) for t in tokens if t.expires_at},
            "agents": [a for a in await services.accounts.agents() if a.active],
            "scopes": SCOPES,
            "error": error,
            "created": created,
        },
        status=status,
    )


@requires("admin")
async def tokens_page(request: web.Request) -> web.Response:
    return await _tokens_page(request)


@requires("admin")
async def create_token(request: web.Request) -> web.Response:
    form = await form_data(request)
    try:
        expires = expiry_of(
            form.get("expires", ""),
            request.get(BUSINESS_ZONE, ""),
            request.app[SERVICES].clock.now(),
        )
        agent_id = int(form["agent_id"]) if form.get("agent_id", "").isdigit() else None
        _, secret = await request.app[SERVICES].api_tokens.create(
            name=form.get("name", ""),
            scope=form.get("scope", ""),
            agent_id=agent_id,
            expires_at=expires,
            created_by=request[AGENT]["id"],
        )
    except InvalidCommand as exc:
        return await _tokens_page(request, error=str(exc), status=400)
    return await _tokens_page(request, created=secret)


@requires("admin")
async def revoke_token(request: web.Request) -> web.Response:
    await request.app[SERVICES].api_tokens.revoke(
        int_param(request.match_info["id"], "token id", minimum=1)
    )
    return redirect("/admin/api-tokens")


def _fields(form: dict[str, str], types: list[str]) -> EndpointFields:
    return EndpointFields(
        url=form.get("url", ""),
        description=form.get("description", ""),
        event_types=types,
        enabled="enabled" in form,
    )


async def _webhooks_page(
    request: web.Request, *, error: str = "", status: int = 200
) -> web.Response:
    services = request.app[SERVICES]
    return render(
        request,
        "admin/webhooks.html",
        {
            "agent": request[AGENT],
            "endpoints": await services.webhooks.list_all(),
            "types": WEBHOOK_TYPES,
            "descriptions": DESCRIPTIONS,
            "error": error,
        },
        status=status,
    )


@requires("admin")
async def webhooks_page(request: web.Request) -> web.Response:
    return await _webhooks_page(request)


@requires("admin")
async def add_endpoint(request: web.Request) -> web.Response:
    form = await posted_form(request)
    types = [t for t in form.getall("event_types", []) if isinstance(t, str)]
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        endpoint_id = await request.app[SERVICES].webhooks.add(_fields(fields, types))
    except InvalidCommand as exc:
        return await _webhooks_page(request, error=str(exc), status=400)
    return redirect(f"/admin/webhooks/{endpoint_id}")


def _endpoint_id(request: web.Request) -> int:
    return int_param(request.match_info["id"], "endpoint id", minimum=1)


async def _endpoint_page(
    request: web.Request, *, error: str = "", notice: str = "", status: int = 200
) -> web.Response:
    webhooks = request.app[SERVICES].webhooks
    endpoint = await webhooks.get(_endpoint_id(request))
    if endpoint is None:
        raise web.HTTPNotFound(text="that webhook endpoint does not exist")
    selected = request.query.get("delivery")
    detail = None
    if selected and selected.isdigit():
        detail = await webhooks.delivery(endpoint.id, int(selected))
    return render(
        request,
        "admin/webhook.html",
        {
            "agent": request[AGENT],
            "endpoint": endpoint,
            "secrets": webhooks.secrets_in_use(endpoint),
            "deliveries": await webhooks.deliveries(endpoint.id, 100),
            "detail": detail,
            "types": WEBHOOK_TYPES,
            "descriptions": DESCRIPTIONS,
            "error": error,
            "notice": notice,
        },
        status=status,
    )


@requires("admin")
async def endpoint_page(request: web.Request) -> web.Response:
    notice = {
        "saved": "Changes saved.",
        "rotated": "New secret made; the old one signs too for 24 hours.",
        "test": "A ping was queued; it shows in the log below.",
        "redeliver": "The delivery was queued again.",
    }
    return await _endpoint_page(request, notice=notice.get(request.query.get("done", ""), ""))


@requires("admin")
async def update_endpoint(request: web.Request) -> web.Response:
    form = await posted_form(request)
    types = [t for t in form.getall("event_types", []) if isinstance(t, str)]
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    endpoint_id = _endpoint_id(request)
    try:
        await request.app[SERVICES].webhooks.change(endpoint_id, _fields(fields, types))
    except InvalidCommand as exc:
        return await _endpoint_page(request, error=str(exc), status=400)
    return redirect(f"/admin/webhooks/{endpoint_id}?done=saved")


@requires("admin")
async def endpoint_action(request: web.Request) -> web.Response:
    """Rotate the secret, send a test event, redeliver, or delete."""
    endpoint_id = _endpoint_id(request)
    webhooks = request.app[SERVICES].webhooks
    action = request.match_info["action"]
    try:
        if action == "rotate":
            await webhooks.rotate_secret(endpoint_id)
        elif action == "test":
            await webhooks.send_test(endpoint_id)
        elif action == "delete":
            await webhooks.delete(endpoint_id)
            return redirect("/admin/webhooks")
        else:
            form = await form_data(request)
            await webhooks.redeliver(
                endpoint_id, int_param(form.get("delivery_id"), "delivery_id", minimum=1)
            )
            action = "redeliver"
    except InvalidCommand as exc:
        return await _endpoint_page(request, error=str(exc), status=400)
    done = {"rotate": "rotated"}.get(action, action)
    return redirect(f"/admin/webhooks/{endpoint_id}?done={done}")


@requires("agent")
async def reference_page(request: web.Request) -> web.Response:
    return render(
        request,
        "desk/api_reference.html",
        {
            "agent": request[AGENT],
            "doc": document(OPERATIONS, COMPONENTS),
            "prefix": PREFIX,
            "types": WEBHOOK_TYPES,
            "descriptions": DESCRIPTIONS,
        },
    )
