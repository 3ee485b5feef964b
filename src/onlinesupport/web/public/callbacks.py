"""Callback requests on the public pages: beside the contact form (and, in my_page, on the
customer's page).

The contact page's request has the contact form's protection (a signed form token, a trap
field, a minimum time to fill in); the customer's page has their session and its CSRF token.
Both are limited per internet address (channels/phone/callbacks.py).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from onlinesupport.channels.forms.contact import LooksLikeSpam, TooSoon
from onlinesupport.channels.phone.callbacks import CallbackRejected, TooManyCallbacks
from onlinesupport.lib.signing import sign, verify
from onlinesupport.web.auth import form_data
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import redirect
from onlinesupport.web.templates import render

log = logging.getLogger(__name__)
NOT_OFFERED = "We do not take callback requests at the moment; please write to us instead."
TOO_MANY = "We have had many requests from your network; please try again later."
KEPT = ("name", "email", "phone", "country", "about", "window")


async def options(request: web.Request) -> dict[str, Any]:
    """What the callback form offers; 404 while callbacks are off."""
    options = await request.app[SERVICES].callbacks.options()
    if options is None:
        raise web.HTTPNotFound(text=NOT_OFFERED)
    return options


def typed(fields: dict[str, str]) -> dict[str, str]:
    """What the person typed, to show again."""
    return {k: fields.get(k, "")[:2000] for k in KEPT}


async def _contact_form(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    return render(
        request,
        "public/callback.html",
        {
            "options": await options(request),
            "values": values,
            "errors": errors,
            "token": request.app[SERVICES].contact.token(),
        },
        status=status,
    )


def with_retry_after(response: web.Response, exc: TooManyCallbacks) -> web.Response:
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def callback_page(request: web.Request) -> web.Response:
    return await _contact_form(request, {}, {})


async def request_callback(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    fields = await form_data(request)
    await options(request)
    try:
        services.contact.screen(fields)
        done = await services.callbacks.request(fields, source="form", address=request.remote or "")
    except LooksLikeSpam as exc:
        log.info("callback request from %s refused: %s", request.remote, exc)
        raise web.HTTPTooManyRequests(
            text="Your request could not be accepted. Please wait a moment and send it again."
        ) from None
    except TooSoon:
        return await _contact_form(
            request,
            typed(fields),
            {
                "form": "Your request was not sent yet: please check it and press the button "
                "again in a moment."
            },
            status=429,
        )
    except TooManyCallbacks as exc:
        return with_retry_after(
            await _contact_form(request, typed(fields), {"form": TOO_MANY}, status=429), exc
        )
    except CallbackRejected as exc:
        return await _contact_form(request, typed(fields), exc.errors, status=400)
    said = f"{done.conversation_id}:{done.phone}:{done.window}"
    query = {
        "n": str(done.conversation_id),
        "phone": done.phone,
        "when": done.window,
        "s": sign(services.secret_key, "callback-sent", said, 24),
    }
    return redirect(str(request.app.router["callback_sent"].url_for().with_query(query)))


async def sent_page(request: web.Request) -> web.Response:
    """The confirmation (after a redirect, so a reload does not ask twice)."""
    number, phone, when = (request.query.get(k, "") for k in ("n", "phone", "when"))
    if not number.isdigit() or not verify(
        request.app[SERVICES].secret_key,
        "callback-sent",
        f"{number}:{phone}:{when}",
        request.query.get("s", ""),
        24,
    ):
        raise web.HTTPNotFound(text="There is no such confirmation.")
    return render(
        request, "public/callback_sent.html", {"number": number, "phone": phone, "when": when}
    )
