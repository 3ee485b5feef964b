"""The public contact form page: show, check, confirm with the promised answer time."""

from __future__ import annotations

import logging

from aiohttp import web

from onlinesupport.channels.forms.contact import (
    LIMITS,
    URGENCY,
    FormRejected,
    LooksLikeSpam,
    TooSoon,
)
from onlinesupport.core.conversations import InvalidCommand
from onlinesupport.lib.inputs import row_id
from onlinesupport.lib.signing import sign, verify
from onlinesupport.store.attachments import StoredFile
from onlinesupport.web import uploads
from onlinesupport.web.auth import form_data
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import redirect
from onlinesupport.web.templates import render

log = logging.getLogger(__name__)
MAX_FIELD = 25_000


async def _form(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    contact = request.app[SERVICES].contact
    return render(
        request,
        "public/contact.html",
        {
            "values": values,
            "errors": errors,
            "types": await contact.question_types(),
            "urgency": URGENCY,
            "limits": LIMITS,
            "token": contact.token(),
            "callbacks": (await request.app[SERVICES].callbacks.settings()).enabled,
        },
        status=status,
    )


def _typed(fields: dict[str, str]) -> dict[str, str]:
    """What the person typed, to show again (never the form's token or the trap field)."""
    return {k: v for k, v in fields.items() if k not in ("token", "website")}


async def contact_page(request: web.Request) -> web.Response:
    page = request.query.get("page", "") or request.headers.get("Referer", "")
    return await _form(request, {"page": page[: LIMITS["page"]], "urgency": "no-rush"}, {})


async def _fields_and_file(request: web.Request) -> tuple[dict[str, str], StoredFile | None]:
    """The form's fields, and its attachment stored once the fields have been checked (a
    robot's or a mistaken form's file is never written). The file input comes last."""
    if request.content_type != "multipart/form-data":
        return await form_data(request), None
    services = request.app[SERVICES]
    try:
        return await uploads.receive_form(
            request, services.files, services.contact.check, max_field=MAX_FIELD
        )
    except InvalidCommand as exc:
        raise FormRejected({"file": str(exc)}) from None


async def submit(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    fields: dict[str, str] = {}
    stored = None
    try:
        fields, stored = await _fields_and_file(request)
        if fields.get("suggested") != "1" and stored is None:
            # Before the question joins the queue: articles that may answer it already.
            values = await services.contact.check(fields)
            articles = await services.knowledge.suggest(f"{values['subject']} {values['message']}")
            if articles:
                return render(
                    request,
                    "public/contact_suggestions.html",
                    {
                        "articles": articles,
                        "fields": _typed(fields) | {"token": fields["token"]},
                        "question": f"{values['subject']}\n{values['message']}".strip(),
                    },
                )
        sent = await services.contact.submit(
            fields, request.remote or "", [stored] if stored else []
        )
        stored = None  # it belongs to the message now
    except FormRejected as exc:
        return await _form(request, _typed(fields), exc.errors, status=400)
    except TooSoon as exc:
        log.info("contact form from %s held back: %s", request.remote, exc)
        return await _form(
            request,
            _typed(fields),
            {
                "form": "Your message was not sent yet: "
                "please check it and press Send again in a moment."
            },
            status=429,
        )
    except LooksLikeSpam as exc:
        log.info("contact form from %s refused: %s", request.remote, exc)
        raise web.HTTPTooManyRequests(
            text="Your message could not be accepted. Please wait a moment and send the form again."
        ) from None
    finally:
        if stored is not None:
            services.files.discard(stored)
    query = {
        "n": str(sent.conversation_id),
        "when": sent.promise,
        "s": sign(
            request.app[SERVICES].secret_key,
            "contact-sent",
            f"{sent.conversation_id}:{sent.promise}",
            24,
        ),
    }
    return redirect(str(request.app.router["contact_sent"].url_for().with_query(query)))


async def answered(request: web.Request) -> web.Response:
    """ "This answered my question": nothing joins the queue; the article gets the credit."""
    fields = await form_data(request)
    services = request.app[SERVICES]
    article_id = row_id(fields.get("article_id", ""))
    found = await services.knowledge.published(article_id) if article_id else None
    if found is None:
        raise web.HTTPBadRequest(text="Choose one of the articles shown.")
    token = fields.get("token", "")
    if not services.contact.token_ok(token):
        raise web.HTTPBadRequest(text="This form has expired; please start again.")
    if services.contact.spend(token):
        await services.knowledge.deflected(
            found["id"],
            "form",
            fields.get("question", "")[:2000],
            asker=f"address:{request.remote}",
        )
    return render(request, "public/contact_answered.html", {"article": found})


async def sent_page(request: web.Request) -> web.Response:
    """The confirmation (after a redirect, so a reload does not send the form twice)."""
    number, when = request.query.get("n", ""), request.query.get("when", "")
    if not number.isdigit() or not verify(
        request.app[SERVICES].secret_key,
        "contact-sent",
        f"{number}:{when}",
        request.query.get("s", ""),
        24,
    ):
        raise web.HTTPNotFound(text="There is no such confirmation.")
    return render(request, "public/contact_sent.html", {"number": number, "when": when})
