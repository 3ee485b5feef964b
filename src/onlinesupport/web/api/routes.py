"""Every operation of the JSON API on one screen, and the application that serves them.

Each line declares an operation once: method, path, scope, summary, inputs and answers. The
routes below and the OpenAPI document (`openapi.py`) are both made from this table.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from onlinesupport.reports.periods import PRESETS
from onlinesupport.reports.service import CHANNELS as REPORT_CHANNELS
from onlinesupport.services import Services
from onlinesupport.web.api import (
    articles,
    conversations,
    customers,
    directory,
    events,
    reports,
    webhooks,
)
from onlinesupport.web.api import schemas as s
from onlinesupport.web.api.auth import CALLER, authenticate
from onlinesupport.web.api.errors import ApiError, json_errors
from onlinesupport.web.api.openapi import document
from onlinesupport.web.api.spec import (
    MAX_ID,
    Call,
    Operation,
    Param,
    Schema,
    identifier,
    integer,
    query_value,
    string,
    timestamp,
    validate,
)
from onlinesupport.web.auth import authenticates_itself
from onlinesupport.web.keys import SERVICES

PREFIX = "/api/v1"
OPENAPI = web.AppKey("openapi", dict)

CURSOR = Param("cursor", string(200, min_length=1), "The `next_cursor` of the page before.")


def limit(default: int, most: int) -> Param:
    return Param("limit", integer(1, most), f"How many to return (default {default}).")


def ok(description: str, schema: Schema | None) -> dict[int, tuple[str, Schema | None]]:
    return {200: (description, schema)}


_DAY = string(10, pattern=r"^\d{4}-\d\d-\d\d$")
REPORT_FILTERS = (
    Param(
        "period",
        {"enum": list(PRESETS)},
        "`today`, `yesterday`, the last `7d`/`30d`/`90d` (default `30d`), `this_month`, "
        "`last_month`, or `custom` from `first` to `last`; whole days in the business's "
        "time zone.",
    ),
    Param("first", _DAY, "The first day of a custom period (alone: `period=custom`)."),
    Param("last", _DAY, "The last day of a custom period, at most 3700 days after `first`."),
    Param("queue", identifier(), "Only this queue (a manager: one of theirs)."),
    Param("agent", identifier(), "Only this agent's figures (ignored for an agent: their own)."),
    Param("channel", {"enum": list(REPORT_CHANNELS)}, "Only this channel."),
    Param("tag", string(100, min_length=1), "Only conversations with this tag."),
    Param(
        "hours",
        {"enum": ["wall", "business"]},
        "`business`: durations count only the queue calendar's open hours (default "
        "`wall`: the clock).",
    ),
)


def report(description: str, schema: Schema) -> dict[int, tuple[str, Schema | None]]:
    return {
        **ok(description, schema),
        403: (
            "The token's scope does not allow this, or the queue asked for is not one of the "
            "manager's the token acts as",
            None,
        ),
    }


REPORT_RULE = (
    "What the token sees follows the desk's rule for the agent it acts as (an "
    "agent their own line, a manager their queues, an admin everything); a token "
    "that acts as nobody sees everything."
)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/me",
        directory.me,
        "read",
        "Who the token is",
        "Tokens",
        ok("The token's name, scope and the agent it acts as", s.ME),
    ),
    # Conversations
    Operation(
        "GET",
        "/conversations",
        conversations.list_conversations,
        "read",
        "List conversations",
        "Conversations",
        ok("A page of conversations", s.CONVERSATION_PAGE),
        query=(
            Param("status", {"enum": list(s.STATUSES_OF_CONVERSATIONS)}, "Only this status."),
            Param("queue_id", identifier(), "Only this queue."),
            Param("assignee_id", integer(0), "Only this agent's; 0: only unassigned."),
            Param("channel", {"enum": ["chat", "email", "form", "phone"]}, "Only this channel."),
            Param("tag", s.TAG, "Only conversations with this tag."),
            Param("customer_id", identifier(), "Only this customer's."),
            Param("updated_since", timestamp(), "Only those changed at or after this time."),
            Param(
                "sort",
                {"enum": ["newest", "updated"]},
                "`newest` first (default; stable while new ones arrive), or least "
                "recently `updated` first (for syncing: a conversation that changes "
                "while you page comes again, later).",
            ),
            CURSOR,
            limit(25, 100),
        ),
    ),
    Operation(
        "POST",
        "/conversations",
        conversations.create_conversation,
        "write",
        "Start a conversation (a shop, a phone system)",
        "Conversations",
        {201: ("Started", s.OPENED), 200: ("Started before with this client_id", s.OPENED)},
        body=s.NEW_CONVERSATION,
        description="`body` is the customer's first message. `channel` says how the "
        "customer came: `email` and `form` (replies are mailed), `phone` "
        "(a call; replies are not sent). The customer is named by "
        "`external_id`, `email`, `phone` or `id`; when several are given, "
        "the first found in that order is the customer, and each given "
        "identity nobody has is added to them (409 when two belong to two "
        "customers, or the customer has another external id). None found: "
        "a new customer with all of them. A retry with the same "
        "`client_id` returns the first conversation.",
    ),
    Operation(
        "GET",
        "/conversations/{id}",
        conversations.get_conversation,
        "read",
        "A conversation with its first 100 messages",
        "Conversations",
        ok("The conversation", s.CONVERSATION_WITH_MESSAGES),
    ),
    Operation(
        "GET",
        "/conversations/{id}/messages",
        conversations.list_messages,
        "read",
        "Messages after a seq",
        "Conversations",
        ok("Messages in order", s.MESSAGE_PAGE),
        query=(Param("after", integer(0), "The last seq you have (default 0)."), limit(100, 100)),
    ),
    Operation(
        "GET",
        "/conversations/{id}/messages/{seq}",
        conversations.get_message,
        "read",
        "One message, whole",
        "Conversations",
        ok("The message", s.MESSAGE),
    ),
    Operation(
        "POST",
        "/conversations/{id}/messages",
        conversations.post_message,
        "write",
        "Add a customer message, an agent's reply or an internal note",
        "Conversations",
        {201: ("Added", s.POSTED), 200: ("Added before with this client_id", s.POSTED)},
        body=s.NEW_MESSAGE,
        description="A retry with the same `client_id` adds nothing and returns the "
        "first message. Agent replies are sent to the customer like the "
        "desk's (mailed in mail conversations).",
    ),
    Operation(
        "POST",
        "/conversations/{id}/attachments",
        conversations.upload,
        "write",
        "Send a file as a message",
        "Conversations",
        {201: ("Added", s.POSTED), 200: ("Added before with this client_id", s.POSTED)},
        upload=s.UPLOAD,
    ),
    Operation(
        "POST",
        "/conversations/{id}/assign",
        conversations.assign,
        "write",
        "Assign to an agent (null: unassign)",
        "Conversations",
        ok("The conversation", s.CHANGED),
        body=s.ASSIGNMENT,
    ),
    Operation(
        "POST",
        "/conversations/{id}/move",
        conversations.move,
        "write",
        "Move to another queue",
        "Conversations",
        ok("The conversation", s.CHANGED),
        body=s.QUEUE_MOVE,
    ),
    Operation(
        "POST",
        "/conversations/{id}/tags",
        conversations.add_tags,
        "write",
        "Add tags",
        "Conversations",
        ok("The conversation", s.CHANGED),
        body=s.TAGS,
    ),
    Operation(
        "POST",
        "/conversations/{id}/priority",
        conversations.set_priority,
        "write",
        "Set the priority (0-9)",
        "Conversations",
        ok("The conversation", s.CHANGED),
        body=s.PRIORITY,
    ),
    Operation(
        "POST",
        "/conversations/{id}/resolve",
        conversations.resolve,
        "write",
        "Resolve",
        "Conversations",
        ok("The conversation", s.CHANGED),
    ),
    Operation(
        "POST",
        "/conversations/{id}/reopen",
        conversations.reopen,
        "write",
        "Reopen",
        "Conversations",
        ok("The conversation", s.CHANGED),
    ),
    Operation(
        "GET",
        "/attachments/{id}",
        conversations.download,
        "read",
        "Download a file",
        "Conversations",
        ok("The file", None),
        download="*/*",
    ),
    # Customers
    Operation(
        "GET",
        "/customers",
        customers.list_customers,
        "read",
        "Find customers by email, phone or external id, or list them",
        "Customers",
        ok("A page of customers", s.CUSTOMER_PAGE),
        query=(
            Param("email", string(320, min_length=1), "Only the customer with this email."),
            Param("phone", string(40, min_length=1), "Only the customer with this phone."),
            Param(
                "external_id",
                string(200, min_length=1),
                "Only the customer with this external id (the user id your website "
                "signs for the chat is the same id).",
            ),
            CURSOR,
            limit(25, 100),
        ),
    ),
    Operation(
        "POST",
        "/customers",
        customers.create_customer,
        "write",
        "Add a customer",
        "Customers",
        {
            201: ("Added", s.CUSTOMER),
            409: ("The email, phone or external id belongs to another customer", None),
        },
        body=s.CUSTOMER_BODY,
    ),
    Operation(
        "GET",
        "/customers/{id}",
        customers.get_customer,
        "read",
        "A customer",
        "Customers",
        ok("The customer", s.CUSTOMER),
    ),
    Operation(
        "PATCH",
        "/customers/{id}",
        customers.update_customer,
        "write",
        "Change a customer (only the fields sent)",
        "Customers",
        {
            200: ("Changed", s.CUSTOMER),
            409: ("The email, phone or external id belongs to another customer", None),
        },
        body=s.CUSTOMER_BODY,
    ),
    Operation(
        "GET",
        "/customers/{id}/conversations",
        customers.customer_conversations,
        "read",
        "A customer's conversations, newest first",
        "Customers",
        ok("Up to 200 conversations", s.CUSTOMER_CONVERSATIONS),
    ),
    # Agents and queues
    Operation(
        "GET",
        "/agents",
        directory.list_agents,
        "read",
        "The agents",
        "Agents and queues",
        ok("Every agent", s.AGENTS),
    ),
    Operation(
        "GET",
        "/queues",
        directory.list_queues,
        "read",
        "The queues",
        "Agents and queues",
        ok("Every queue", s.QUEUES),
    ),
    # Knowledge base
    Operation(
        "GET",
        "/articles",
        articles.list_articles,
        "read",
        "Knowledge-base articles",
        "Knowledge base",
        ok("Every article", s.ARTICLES),
        query=(
            Param("status", {"enum": ["draft", "published"]}, "Only this status."),
            Param("language", string(5, min_length=2), "Only this language."),
        ),
    ),
    Operation(
        "POST",
        "/articles",
        articles.create_article,
        "write",
        "Write an article",
        "Knowledge base",
        {201: ("Written", s.ARTICLE)},
        body=s.NEW_ARTICLE,
    ),
    Operation(
        "GET",
        "/articles/{id}",
        articles.get_article,
        "read",
        "An article",
        "Knowledge base",
        ok("The article", s.ARTICLE),
    ),
    Operation(
        "PATCH",
        "/articles/{id}",
        articles.update_article,
        "write",
        "Change an article (only the fields sent)",
        "Knowledge base",
        ok("Changed", s.ARTICLE),
        body=s.ARTICLE_CHANGES,
    ),
    Operation(
        "POST",
        "/articles/{id}/publish",
        articles.publish_article,
        "write",
        "Publish an article",
        "Knowledge base",
        ok("Published", s.ARTICLE),
    ),
    Operation(
        "DELETE",
        "/articles/{id}",
        articles.delete_article,
        "write",
        "Delete an article",
        "Knowledge base",
        {204: ("Deleted", None)},
    ),
    # Reports
    Operation(
        "GET",
        "/reports/overview",
        reports.overview,
        "read",
        "Response times, SLA, satisfaction, volume and the queues now",
        "Reports",
        report("The overview report, each figure with the previous period's", s.REPORT_OVERVIEW),
        query=REPORT_FILTERS,
        description="The figures of the desk's Reports page. Durations are seconds, "
        "shares fractions (0.25 is 25%), null where there is nothing to "
        "count. " + REPORT_RULE,
    ),
    Operation(
        "GET",
        "/reports/agents",
        reports.agents,
        "read",
        "The figures of each agent",
        "Reports",
        report("One line per agent", s.REPORT_AGENTS),
        query=REPORT_FILTERS,
        description=REPORT_RULE,
    ),
    Operation(
        "GET",
        "/reports/website",
        reports.website,
        "read",
        "Pages causing inquiries, self-service and proactive messages",
        "Reports",
        report("The website report", s.REPORT_WEBSITE),
        query=REPORT_FILTERS,
        description=REPORT_RULE,
    ),
    Operation(
        "GET",
        "/reports/days",
        reports.days,
        "read",
        "The figures of each day",
        "Reports",
        report("One line per day of the period", s.REPORT_DAYS),
        query=REPORT_FILTERS,
        description="The desk's per-day CSV as JSON. " + REPORT_RULE,
    ),
    # Event feed
    Operation(
        "GET",
        "/events",
        events.feed,
        "read",
        "Events after a cursor",
        "Events",
        {
            200: ("Events in order, and the cursor to ask with next", s.EVENTS),
            410: ("Events after the cursor were pruned (kept 30 days)", None),
        },
        query=(
            Param(
                "after",
                integer(0),
                "The id of the last event you handled "
                "(default 0: the oldest kept); one past the "
                "latest event is 422.",
            ),
            limit(100, 500),
            Param(
                "wait",
                integer(0, 30),
                "Seconds to wait for an event when there is none yet (long poll; default 0).",
            ),
            Param("types", string(500), "Only these types, comma-separated."),
        ),
        description="The same events webhooks send, each once, in order. Keep "
        "`next_after` and ask again with it: after an outage you catch up "
        "exactly, with no gap and no duplicate.",
    ),
    # Webhooks
    Operation(
        "GET",
        "/webhooks",
        webhooks.list_endpoints,
        "admin",
        "Webhook endpoints",
        "Webhooks",
        ok("Every endpoint", s.ENDPOINTS),
    ),
    Operation(
        "POST",
        "/webhooks",
        webhooks.create_endpoint,
        "admin",
        "Add an endpoint",
        "Webhooks",
        {201: ("Added, with its signing secret", s.ENDPOINT_WITH_SECRET)},
        body=s.NEW_ENDPOINT,
        description="`event_types` empty or left out: every type. The URL must not be "
        "link-local, a metadata address, this machine or this server.",
    ),
    Operation(
        "GET",
        "/webhooks/{id}",
        webhooks.get_endpoint,
        "admin",
        "An endpoint and its signing secret",
        "Webhooks",
        ok("The endpoint", s.ENDPOINT_WITH_SECRET),
    ),
    Operation(
        "PATCH",
        "/webhooks/{id}",
        webhooks.update_endpoint,
        "admin",
        "Change an endpoint (enable it again after it was disabled)",
        "Webhooks",
        ok("Changed", s.ENDPOINT),
        body=s.ENDPOINT_CHANGES,
    ),
    Operation(
        "DELETE",
        "/webhooks/{id}",
        webhooks.delete_endpoint,
        "admin",
        "Delete an endpoint and its log",
        "Webhooks",
        {204: ("Deleted", None)},
    ),
    Operation(
        "POST",
        "/webhooks/{id}/rotate-secret",
        webhooks.rotate_secret,
        "admin",
        "A new signing secret (the old one signs too for 24 hours)",
        "Webhooks",
        ok("The endpoint and its new secret", s.ENDPOINT_WITH_SECRET),
    ),
    Operation(
        "POST",
        "/webhooks/{id}/test",
        webhooks.send_test,
        "admin",
        "Send a `ping` event",
        "Webhooks",
        {202: ("Queued", s.TEST_SENT)},
    ),
    Operation(
        "GET",
        "/webhooks/{id}/deliveries",
        webhooks.list_deliveries,
        "admin",
        "The delivery log (14 days), newest first",
        "Webhooks",
        ok("A page of deliveries", s.DELIVERIES),
        query=(
            Param("before", identifier(), "The `next_before` of the page before."),
            limit(50, 100),
        ),
    ),
    Operation(
        "GET",
        "/webhooks/{id}/deliveries/{delivery_id}",
        webhooks.get_delivery,
        "admin",
        "A delivery and each attempt",
        "Webhooks",
        ok("The delivery", s.DELIVERY_WITH_ATTEMPTS),
    ),
    Operation(
        "POST",
        "/webhooks/{id}/deliveries/{delivery_id}/redeliver",
        webhooks.redeliver,
        "admin",
        "Send a delivery again (same webhook-id)",
        "Webhooks",
        {202: ("Queued", s.DELIVERY)},
    ),
)


def _path_int(text: str, name: str) -> int:
    if not re.fullmatch(r"\d{1,19}", text) or not 1 <= int(text) <= MAX_ID:
        raise ApiError(404, f"there is no such {name.replace('_', ' ')}")
    return int(text)


async def _json_body(request: web.Request, schema: Schema, components: dict) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise ApiError(400, "the body is not valid JSON", code="invalid_json") from None
    return validate(data, schema, components)


def _handler(operation: Operation) -> Any:
    components = s.COMPONENTS

    async def handle(request: web.Request) -> web.StreamResponse:
        caller = request[CALLER]
        if not caller.allows(operation.scope):
            raise ApiError(
                403,
                f"this needs a token with the {operation.scope} scope",
                code="insufficient_scope",
            )
        path = {name: _path_int(request.match_info[name], name) for name in operation.path_params}
        query = {
            p.name: query_value(request.query[p.name], p.schema, components, p.name)
            for p in operation.query
            if p.name in request.query
        }
        body = (
            await _json_body(request, operation.body, components)
            if operation.body is not None
            else {}
        )
        return await operation.handler(Call(request, path, query, body))

    return authenticates_itself(handle)


@authenticates_itself
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])


def _not_allowed(methods: list[str]) -> Any:
    """Any other method on a known path: the API's 405, not the desk's form refusal."""
    allow = ", ".join(methods)

    async def handle(request: web.Request) -> web.StreamResponse:
        raise ApiError(
            405, f"{request.method} is not allowed here; use {allow}", headers={"Allow": allow}
        )

    return authenticates_itself(handle)


@authenticates_itself
async def _unknown(request: web.Request) -> web.StreamResponse:
    raise ApiError(404, f"there is no {request.path} in the API; see {PREFIX}/openapi.json")


def create_api_app(services: Services, *, tokens_only: bool) -> web.Application:
    """The API as a sub-application; `tokens_only` on the public listener."""
    app = web.Application(
        middlewares=[
            authenticate(
                services.clock,
                services.config.api_requests_per_minute,
                tokens_only=tokens_only,
                open_paths=(f"{PREFIX}/openapi.json",),
            ),
            json_errors,
        ]
    )
    app[SERVICES] = services
    app[OPENAPI] = document(OPERATIONS, s.COMPONENTS)
    app.router.add_get("/openapi.json", openapi, name="openapi")
    methods: dict[str, list[str]] = {"/openapi.json": ["GET", "HEAD"]}
    for operation in OPERATIONS:
        app.router.add_route(operation.method, operation.path, _handler(operation))
        methods.setdefault(operation.path, []).append(operation.method)
    # Every request under the prefix is the API's, so each gets its JSON error: without these
    # a wrong method or an unknown path fell through to the desk's HTML/form refusals.
    for path, allowed in methods.items():
        app.router.add_route("*", path, _not_allowed(allowed))
    app.router.add_route("*", "/{path:.*}", _unknown)
    return app


def mount(app: web.Application, services: Services, *, tokens_only: bool = False) -> None:
    app.add_subapp(PREFIX, create_api_app(services, tokens_only=tokens_only))
