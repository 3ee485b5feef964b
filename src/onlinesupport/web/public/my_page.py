"""The customer's own conversation page on the public listener: sign in by mail, read, reply."""

from __future__ import annotations

import json
import secrets

from aiohttp import web

from onlinesupport.channels.phone.callbacks import CallbackRejected, TooManyCallbacks
from onlinesupport.core.conversations import Actor
from onlinesupport.lib.inputs import InvalidAddress
from onlinesupport.web.auth import (
    double_submit_ok,
    form_csrf,
    form_data,
    send_csrf_cookie,
    set_cookie,
)
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.public import callbacks
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import render

COOKIE = "os_customer"


def _link_base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def _signed_in(request: web.Request) -> tuple[int, str] | None:
    session = request.cookies.get(COOKIE, "")
    customer_id = await request.app[SERVICES].customer_access.customer(session)
    return (customer_id, session) if customer_id is not None else None


async def _require(request: web.Request, form: dict[str, str] | None = None) -> tuple[int, str]:
    signed_in = await _signed_in(request)
    if signed_in is None:
        raise web.HTTPSeeOther("/my")
    if form is not None and not request.app[SERVICES].customer_access.csrf_ok(
        signed_in[1], form.get("csrf_token", "")
    ):
        raise web.HTTPForbidden(text="This form is out of date; reload the page and try again.")
    return signed_in


async def my_page(request: web.Request) -> web.Response:
    signed_in = await _signed_in(request)
    if signed_in is None:
        return render(request, "public/my_signin.html", {})
    customer_id, session = signed_in
    services = request.app[SERVICES]
    return render(
        request,
        "public/my_list.html",
        {
            "customer": await services.customer_access.profile(customer_id),
            "conversations": await services.customer_access.conversations(customer_id),
            "erasure": await services.erasure.pending_for(customer_id),
            "callbacks": (await services.callbacks.settings()).enabled,
            "csrf": services.customer_access.csrf(session),
        },
    )


async def download(request: web.Request) -> web.Response:
    """Everything the customer gave us and was told, as JSON."""
    customer_id, _ = await _require(request)
    data = await request.app[SERVICES].erasure.export(customer_id)
    return web.Response(
        text=json.dumps(data, indent=2, ensure_ascii=False),
        content_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="my-data.json"',
            "Cache-Control": "no-store",
        },
    )


async def ask_for_erasure(request: web.Request) -> web.Response:
    form = await form_data(request)
    customer_id, _ = await _require(request, form)
    await request.app[SERVICES].erasure.request(customer_id)
    return redirect("/my")


async def ask_for_link(request: web.Request) -> web.Response:
    form = await form_data(request)
    access = request.app[SERVICES].customer_access
    try:
        await access.request_link(form.get("email", ""), request.remote or "", _link_base(request))
    except InvalidAddress as exc:
        return render(
            request,
            "public/my_signin.html",
            {"error": f"Please check the address: {exc}.", "email": form.get("email", "")[:320]},
            status=400,
        )
    # Whether mail can go out at all says nothing about the address; a promise it cannot keep
    # would.
    return render(request, "public/my_sent.html", {"mail_ready": await access.can_mail()})


async def open_link(request: web.Request) -> web.Response:
    """Ask for a click before spending the link (mail scanners follow links too)."""
    response = render(
        request,
        "public/my_link.html",
        {"token": request.match_info["token"], "csrf": form_csrf(request)},
    )
    send_csrf_cookie(request, response)
    return response


async def use_link(request: web.Request) -> web.Response:
    form = await form_data(request)
    # Only our link page hands out the token: a foreign page cannot sign anyone in (as itself).
    if not double_submit_ok(request, form.get("csrf_token")):
        raise web.HTTPForbidden(
            text="This form has expired or did not come from this site. "
            "Open the link from your mail again."
        )
    session = await request.app[SERVICES].customer_access.redeem(form.get("token", "")[:100])
    if session is None:
        return render(
            request,
            "public/my_signin.html",
            {"error": "This link has been used or is too old. Ask for a new one below."},
            status=400,
        )
    response = redirect("/my")
    set_cookie(request, response, COOKIE, session, max_age=7 * 24 * 3600)
    return response


def _conversation_id(request: web.Request) -> int:
    return int_param(request.match_info["id"], "conversation id", minimum=1)


async def conversation_page(request: web.Request) -> web.Response:
    customer_id, session = await _require(request)
    services = request.app[SERVICES]
    conversation, messages, problems = await services.customer_access.transcript(
        customer_id, _conversation_id(request)
    )
    return render(
        request,
        "public/my_conversation.html",
        {
            "conversation": conversation,
            "messages": messages,
            "problems": problems,
            "csrf": services.customer_access.csrf(session),
            # A fresh id per rendered form: sending the same form twice adds one message.
            "client_id": secrets.token_urlsafe(12),
        },
    )


async def reply(request: web.Request) -> web.Response:
    form = await form_data(request)
    customer_id, _ = await _require(request, form)
    conversation = await request.app[SERVICES].customer_access.conversation(
        customer_id, _conversation_id(request)
    )
    await request.app[SERVICES].conversations.post(
        conversation["id"],
        Actor.customer(customer_id),
        form.get("body", ""),
        client_id=form.get("client_id") or None,
    )
    return redirect(f"/my/conversations/{conversation['id']}")


async def sign_out(request: web.Request) -> web.Response:
    form = await form_data(request)
    _, session = await _require(request, form)
    await request.app[SERVICES].customer_access.sign_out(session)
    response = redirect("/my")
    response.del_cookie(COOKIE, path="/")
    return response


async def _callback_form(
    request: web.Request,
    customer_id: int,
    session: str,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> web.Response:
    services = request.app[SERVICES]
    return render(
        request,
        "public/my_callback.html",
        {
            "options": await callbacks.options(request),
            "values": values,
            "errors": errors,
            "customer": await services.customer_access.profile(customer_id),
            "csrf": services.customer_access.csrf(session),
        },
        status=status,
    )


async def callback_page(request: web.Request) -> web.Response:
    customer_id, session = await _require(request)
    return await _callback_form(request, customer_id, session, {}, {})


async def ask_for_callback(request: web.Request) -> web.Response:
    """A signed-in customer asks for a call: the conversation joins their page."""
    form = await form_data(request)
    customer_id, session = await _require(request, form)
    typed = callbacks.typed(form)
    try:
        done = await request.app[SERVICES].callbacks.request(
            form, source="my-page", address=request.remote or "", customer_id=customer_id
        )
    except TooManyCallbacks as exc:
        return callbacks.with_retry_after(
            await _callback_form(
                request, customer_id, session, typed, {"form": callbacks.TOO_MANY}, 429
            ),
            exc,
        )
    except CallbackRejected as exc:
        return await _callback_form(request, customer_id, session, typed, exc.errors, 400)
    return redirect(f"/my/conversations/{done.conversation_id}")
