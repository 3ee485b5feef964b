"""Admin page for routing rules: write, reorder, switch off, and test them on a sample."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from onlinesupport.channels.email.parse import parse
from onlinesupport.core.conversations import CHANNELS
from onlinesupport.core.customers import TIERS
from onlinesupport.routing.rules import ACTIONS, CONDITIONS, Facts, InvalidRule, evaluate, explain
from onlinesupport.store import routing_rules as rules_repo
from onlinesupport.web.auth import AGENT, form_data, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import int_param, redirect
from onlinesupport.web.templates import render

SAMPLE_FIELDS = (
    "channel",
    "mailbox",
    "sender",
    "tier",
    "tags",
    "subject",
    "body",
    "page",
    "question_type",
    "urgency",
    "language",
    "trigger",
    "hours",
    "raw",
)
BLANK = {"id": None, "name": "", "active": 1, "trigger": "new", "conditions": "", "actions": ""}


async def _page(
    request: web.Request,
    *,
    error: str = "",
    edited: dict[str, Any] | None = None,
    sample: dict[str, str] | None = None,
    results: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> web.Response:
    rules: list[Mapping[str, Any]] = list(await rules_repo.list_all(request.app[SERVICES].db))
    if edited is not None and edited["id"] is not None:
        rules = [edited if r["id"] == edited["id"] else r for r in rules]
    return render(
        request,
        "admin/rules.html",
        {
            "agent": request[AGENT],
            "rules": rules,
            "error": error,
            "new": edited if edited is not None and edited["id"] is None else BLANK,
            "conditions": CONDITIONS,
            "actions": ACTIONS,
            "channels": CHANNELS,
            "tiers": TIERS,
            "sample": sample
            or {
                **dict.fromkeys(SAMPLE_FIELDS, ""),
                "channel": "email",
                "trigger": "new",
                "hours": "inside",
                "tier": "standard",
            },
            "results": results,
            "notice": "Saved." if request.query.get("done") == "saved" else "",
        },
        status=status,
    )


@requires("admin")
async def rules_page(request: web.Request) -> web.Response:
    return await _page(request)


@requires("admin")
async def save(request: web.Request) -> web.Response:
    raw = request.match_info.get("id")
    rule_id = int_param(raw, "rule", minimum=1) if raw else None
    form = await form_data(request)
    try:
        await request.app[SERVICES].rules.save(rule_id, form)
    except InvalidRule as exc:
        edited = {
            **BLANK,
            **{k: form.get(k, "") for k in ("name", "trigger", "conditions", "actions")},
            "id": rule_id,
            "active": form.get("active") == "on",
        }
        return await _page(request, error=str(exc), edited=edited, status=400)
    return redirect("/admin/rules?done=saved")


@requires("admin")
async def delete(request: web.Request) -> web.Response:
    await request.app[SERVICES].rules.delete(int_param(request.match_info["id"], "rule", minimum=1))
    return redirect("/admin/rules?done=saved")


@requires("admin")
async def move(request: web.Request) -> web.Response:
    form = await form_data(request)
    step = -1 if form.get("direction") == "up" else 1
    await request.app[SERVICES].rules.move(
        int_param(request.match_info["id"], "rule", minimum=1), step
    )
    return redirect("/admin/rules")


def _sample_facts(sample: dict[str, str]) -> Facts:
    """A made-up chat or a pasted email as the facts rules see."""
    facts = Facts(
        channel=sample["channel"],
        mailbox=sample["mailbox"].strip().lower(),
        sender=sample["sender"].strip().lower(),
        tier=sample["tier"],
        tags=tuple(t.strip() for t in sample["tags"].split(",") if t.strip()),
        subject=sample["subject"],
        body=sample["body"],
        page=sample["page"],
        question_type=sample["question_type"],
        urgency=sample["urgency"],
        language=sample["language"].strip().lower(),
        open_now=lambda: sample["hours"] == "inside",
    )
    if sample["raw"].strip():
        mail = parse(sample["raw"].replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"))
        facts.channel, facts.sender = "email", mail.from_address
        facts.subject, facts.body = mail.subject, mail.text
        facts.mailbox = mail.to[0].lower() if mail.to else facts.mailbox
    return facts


@requires("admin")
async def test_sample(request: web.Request) -> web.Response:
    """Which rules a sample would match, and what they would do; nothing is changed."""
    form = await form_data(request)
    sample = {k: form.get(k, "")[:20000] for k in SAMPLE_FIELDS}
    facts = _sample_facts(sample)
    trigger = "message" if sample["trigger"] == "message" else "new"
    rules = request.app[SERVICES].rules.rules
    fired = {r.id for r in evaluate(rules, facts, trigger)}
    results = [
        {
            "name": r.name,
            "fires": r.id in fired,
            "checks": explain(r, facts, trigger),
            "actions": [a.describe() for a in r.actions],
        }
        for r in rules
    ]
    sample.update(
        channel=facts.channel,
        sender=facts.sender,
        subject=facts.subject,
        body=facts.body,
        mailbox=facts.mailbox,
    )
    return await _page(request, sample=sample, results=results)
