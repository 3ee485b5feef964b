"""The API's objects and request bodies as JSON Schema (the document's components)."""

from __future__ import annotations

from onlinesupport.core.conversations.service import CHANNELS, MAX_BODY, MAX_CLIENT_ID, MAX_SUBJECT
from onlinesupport.core.customers import TIERS
from onlinesupport.integrations.public_events import WEBHOOK_TYPES
from onlinesupport.integrations.tokens import SCOPES
from onlinesupport.knowledge.service import STATUSES, VISIBILITIES
from onlinesupport.web.api.spec import (
    MAX_ID,
    Schema,
    array,
    identifier,
    integer,
    nullable,
    obj,
    ref,
    string,
    timestamp,
)

STATUSES_OF_CONVERSATIONS = ("open", "pending", "resolved", "closed")
NAMED = obj({"id": identifier(), "name": {"type": "string"}})
TAG = string(40, min_length=1)
CLIENT_ID = string(MAX_CLIENT_ID, min_length=1)
_TEXT = {"type": "string"}

COMPONENTS: dict[str, Schema] = {
    "Error": obj(
        {
            "error": obj(
                {"code": _TEXT, "message": _TEXT, "field": _TEXT}, required=("code", "message")
            )
        }
    ),
    "Conversation": obj(
        {
            "id": identifier(),
            "status": {"enum": list(STATUSES_OF_CONVERSATIONS)},
            "channel": {"enum": list(CHANNELS)},
            "subject": _TEXT,
            "priority": integer(),
            "tags": array(_TEXT),
            "queue": NAMED,
            "assignee": nullable(NAMED),
            "customer": NAMED,
            "created_at": timestamp(),
            "updated_at": timestamp(),
            "last_message_at": timestamp(),
            "last_seq": integer(),
            "first_response_at": nullable(timestamp()),
            "answer_due_at": nullable(timestamp()),
            "snoozed": {"type": "boolean"},
            "snoozed_until": nullable(timestamp()),
            "merged_into": nullable(identifier()),
            "language": _TEXT,
            "page_url": _TEXT,
        }
    ),
    "Message": obj(
        {
            "id": identifier(),
            "conversation_id": identifier(),
            "seq": identifier(),
            "author": obj(
                {
                    "type": {"enum": ["customer", "agent", "system"]},
                    "id": nullable(identifier()),
                    "name": _TEXT,
                }
            ),
            "kind": {"enum": ["message", "note", "event"]},
            "body": _TEXT,
            "body_truncated": {"type": "boolean"},
            "client_id": nullable(_TEXT),
            "created_at": timestamp(),
            "attachments": array(
                obj(
                    {
                        "id": identifier(),
                        "filename": _TEXT,
                        "content_type": _TEXT,
                        "size": integer(),
                        "url": _TEXT,
                    }
                )
            ),
            "url": _TEXT,
        }
    ),
    "Customer": obj(
        {
            "id": identifier(),
            "name": _TEXT,
            "email": _TEXT,
            "phone": _TEXT,
            "external_id": nullable(_TEXT),
            "tier": {"enum": list(TIERS)},
            "tags": array(_TEXT),
            "created_at": timestamp(),
            "erased": {"type": "boolean"},
        }
    ),
    "Agent": obj(
        {
            "id": identifier(),
            "name": _TEXT,
            "email": _TEXT,
            "role": {"enum": ["agent", "manager", "admin"]},
            "active": {"type": "boolean"},
            "capacity": integer(),
            "open_chats": integer(),
        }
    ),
    "Queue": obj(
        {
            "id": identifier(),
            "name": _TEXT,
            "first_response_minutes": integer(),
            "next_response_minutes": integer(),
        }
    ),
    "ArticleSummary": obj(
        {
            "id": identifier(),
            "title": _TEXT,
            "slug": _TEXT,
            "language": _TEXT,
            "status": {"enum": list(STATUSES)},
            "visibility": {"enum": list(VISIBILITIES)},
            "category_id": nullable(identifier()),
            "updated_at": timestamp(),
        }
    ),
    "Article": obj(
        {
            "id": identifier(),
            "title": _TEXT,
            "slug": _TEXT,
            "language": _TEXT,
            "status": {"enum": list(STATUSES)},
            "visibility": {"enum": list(VISIBILITIES)},
            "category_id": nullable(identifier()),
            "updated_at": timestamp(),
            "body": _TEXT,
            "created_at": timestamp(),
        }
    ),
    "Event": obj(
        {
            "id": identifier(),
            "webhook_id": _TEXT,
            "type": {"enum": [t for t in WEBHOOK_TYPES if t != "ping"]},
            "timestamp": timestamp(),
            "data": {"type": "object"},
        }
    ),
    "Endpoint": obj(
        {
            "id": identifier(),
            "url": _TEXT,
            "description": _TEXT,
            "event_types": array({"enum": list(WEBHOOK_TYPES)}),
            "enabled": {"type": "boolean"},
            "disabled_reason": _TEXT,
            "failing_since": nullable(timestamp()),
            "created_at": timestamp(),
            "updated_at": timestamp(),
        }
    ),
    "Delivery": obj(
        {
            "id": identifier(),
            "webhook_id": _TEXT,
            "type": {"enum": list(WEBHOOK_TYPES)},
            "status": {"enum": ["queued", "sending", "sent", "failed"]},
            "attempts": integer(),
            "next_attempt_at": nullable(timestamp()),
            "last_error": _TEXT,
            "last_status_code": nullable(integer(100, 599)),
            "sent_at": nullable(timestamp()),
            "created_at": timestamp(),
        }
    ),
    "Attempt": obj(
        {
            "attempt": integer(),
            "status_code": nullable(integer(100, 599)),
            "response": _TEXT,
            "error": _TEXT,
            "duration_ms": integer(),
            "at": timestamp(),
        }
    ),
}

# Answers

CONVERSATION = obj({"conversation": ref("Conversation")})
CHANGED = obj({"conversation": ref("Conversation"), "changed": {"type": "boolean"}})
CONVERSATION_PAGE = obj(
    {"conversations": array(ref("Conversation")), "next_cursor": nullable(_TEXT)}
)
CONVERSATION_WITH_MESSAGES = obj(
    {
        "conversation": ref("Conversation"),
        "messages": array(ref("Message")),
        "has_more": {"type": "boolean"},
    }
)
OPENED = obj(
    {
        "conversation": ref("Conversation"),
        "message": nullable(ref("Message")),
        "duplicate": {"type": "boolean"},
    }
)
MESSAGE = obj({"message": ref("Message")})
POSTED = obj({"message": ref("Message"), "duplicate": {"type": "boolean"}})
MESSAGE_PAGE = obj({"messages": array(ref("Message")), "has_more": {"type": "boolean"}})
CUSTOMER = obj({"customer": ref("Customer")})
CUSTOMER_PAGE = obj({"customers": array(ref("Customer")), "next_cursor": nullable(_TEXT)})
CUSTOMER_CONVERSATIONS = obj(
    {"conversations": array(ref("Conversation")), "has_more": {"type": "boolean"}}
)
ME = obj(
    {
        "name": _TEXT,
        "scope": {"enum": list(SCOPES)},
        "agent": nullable(NAMED),
        "token_id": nullable(identifier()),
    }
)
AGENTS = obj({"agents": array(ref("Agent"))})
QUEUES = obj({"queues": array(ref("Queue"))})
ARTICLES = obj({"articles": array(ref("ArticleSummary"))})
ARTICLE = obj({"article": ref("Article")})
EVENTS = obj({"events": array(ref("Event")), "next_after": integer()})
ENDPOINTS = obj({"endpoints": array(ref("Endpoint"))})
ENDPOINT = obj({"endpoint": ref("Endpoint")})
ENDPOINT_WITH_SECRET = obj({"endpoint": ref("Endpoint"), "secret": _TEXT})
TEST_SENT = obj({"delivery_id": identifier()})
DELIVERIES = obj({"deliveries": array(ref("Delivery")), "next_before": nullable(identifier())})
DELIVERY = obj({"delivery": ref("Delivery")})
DELIVERY_WITH_ATTEMPTS = obj({"delivery": ref("Delivery"), "attempts": array(ref("Attempt"))})

# The reports' figures (integrations/objects.py makes them)

_COUNT = integer()
_SHARE = nullable({"type": "number"})
_DAY = string(10, pattern=r"^\d{4}-\d\d-\d\d$")
_PERIOD = obj({"first": _DAY, "last": _DAY})
_SUMMARY = ref("Summary")
COMPONENTS.update(
    {
        "Summary": obj({"count": _COUNT, "median": _SHARE, "p90": _SHARE}),
        "ReportOverview": obj(
            {
                "period": _PERIOD,
                "previous": _PERIOD,
                "business_hours": {"type": "boolean"},
                "up_to_date": {"type": "boolean"},
                "durations": array(
                    obj(
                        {
                            "key": _TEXT,
                            "name": _TEXT,
                            "definition": _TEXT,
                            "now": _SUMMARY,
                            "before": _SUMMARY,
                            "change": _SHARE,
                        }
                    )
                ),
                "rates": array(
                    obj(
                        {
                            "key": _TEXT,
                            "name": _TEXT,
                            "definition": _TEXT,
                            "part": _COUNT,
                            "whole": _COUNT,
                            "value": _SHARE,
                            "before_part": _COUNT,
                            "before_whole": _COUNT,
                            "before": _SHARE,
                        }
                    )
                ),
                "created": _COUNT,
                "created_before": _COUNT,
                "resolved": _COUNT,
                "resolved_before": _COUNT,
                "merged": _COUNT,
                "merged_before": _COUNT,
                "bucket": {"enum": ["day", "week", "month"]},
                "volume": array(
                    obj(
                        {
                            "label": _TEXT,
                            "created": _COUNT,
                            "resolved": _COUNT,
                            "merged": _COUNT,
                            "backlog": integer(-MAX_ID),
                        }
                    ),
                    4000,
                ),
                "channels": array(obj({"channel": {"enum": list(CHANNELS)}, "count": _COUNT})),
                "heatmap": {
                    **array({**array(_COUNT), "minItems": 24, "maxItems": 24}),
                    "minItems": 7,
                    "maxItems": 7,
                },
                "ratings": array(obj({"score": integer(1, 5), "count": _COUNT})),
                "comments": array(
                    obj(
                        {
                            "conversation_id": identifier(),
                            "score": integer(1, 5),
                            "comment": _TEXT,
                            "at": timestamp(),
                        }
                    )
                ),
                "live": array(
                    obj(
                        {
                            "queue": NAMED,
                            "unattended": _COUNT,
                            "longest_wait_minutes": nullable(integer()),
                        }
                    )
                ),
            }
        ),
        "ReportAgents": obj(
            {
                "period": _PERIOD,
                "business_hours": {"type": "boolean"},
                "up_to_date": {"type": "boolean"},
                "agents": array(
                    obj(
                        {
                            "agent_id": nullable(identifier()),
                            "name": _TEXT,
                            "handled": _COUNT,
                            "replies": _COUNT,
                            "first_response": _SUMMARY,
                            "resolution": _SUMMARY,
                            "ratings": _COUNT,
                            "good_ratings": _COUNT,
                            "satisfaction": _SHARE,
                            "online_seconds": {"type": "number", "minimum": 0},
                        }
                    )
                ),
            }
        ),
        "ReportWebsite": obj(
            {
                "period": _PERIOD,
                "up_to_date": {"type": "boolean"},
                "pages": array(
                    obj(
                        {
                            "page": _TEXT,
                            "inquiries": _COUNT,
                            "views": _COUNT,
                            "per_thousand": _SHARE,
                        }
                    ),
                    100_000,
                ),
                "searches": _COUNT,
                "article_views": _COUNT,
                "deflected": _COUNT,
                "reached_agent": _COUNT,
                "deflection": _SHARE,
                "unanswered_searches": array(obj({"query": _TEXT, "count": _COUNT})),
                "deflecting_articles": array(obj({"title": _TEXT, "count": _COUNT})),
                "campaigns": array(
                    obj(
                        {
                            "message_id": identifier(),
                            "text": _TEXT,
                            "shown": _COUNT,
                            "clicked": _COUNT,
                            "closed": _COUNT,
                            "chats": _COUNT,
                            "resolved": _COUNT,
                            "pages": _COUNT,
                            "page_views": _COUNT,
                            "chats_without": _COUNT,
                            "with_share": _SHARE,
                            "without_share": _SHARE,
                        }
                    )
                ),
            }
        ),
        "ReportDays": obj(
            {
                "period": _PERIOD,
                "business_hours": {"type": "boolean"},
                "days": array(
                    obj(
                        {
                            "day": _DAY,
                            "created": _COUNT,
                            "resolved": _COUNT,
                            "merged": _COUNT,
                            "first_response": _SUMMARY,
                            "resolution": _SUMMARY,
                            "sla_met": _COUNT,
                            "sla_missed": _COUNT,
                            "ratings": _COUNT,
                            "good_ratings": _COUNT,
                        }
                    ),
                    4000,
                ),
            }
        ),
    }
)
REPORT_OVERVIEW = ref("ReportOverview")
REPORT_AGENTS = ref("ReportAgents")
REPORT_WEBSITE = ref("ReportWebsite")
REPORT_DAYS = ref("ReportDays")

# Requests

CUSTOMER_FIELDS = {
    "name": string(200),
    "email": string(320),
    "phone": string(40),
    "external_id": string(200),
    "tier": {"enum": list(TIERS)},
    "tags": array(string(30), 20),
}
OPENED_BY_API = ("email", "form", "phone")
"""The channels a conversation started through the API may have: it says how the customer
came (and so how replies reach them and how reports count it). Not `chat`: a chat is a
visitor in the website's chat window, whom an API conversation's replies would never reach."""
NEW_CONVERSATION = obj(
    {
        "channel": {"enum": list(OPENED_BY_API)},
        "subject": string(MAX_SUBJECT),
        "body": string(MAX_BODY, min_length=1),
        "customer": obj(
            {
                "id": identifier(),
                "name": string(200),
                "email": string(320),
                "phone": string(40),
                "external_id": string(200, min_length=1),
            },
            (),
        ),
        "client_id": CLIENT_ID,
        "queue_id": identifier(),
        "assignee_id": identifier(),
    },
    ("channel", "body", "customer"),
)
NEW_MESSAGE = obj(
    {
        "body": string(MAX_BODY, min_length=1),
        "kind": {"enum": ["message", "note"]},
        "author": {"enum": ["agent", "customer"]},
        "client_id": CLIENT_ID,
    },
    ("body",),
)
ASSIGNMENT = obj({"agent_id": nullable(identifier())}, ("agent_id",))
QUEUE_MOVE = obj({"queue_id": identifier()}, ("queue_id",))
TAGS = obj({"tags": {**array(TAG, 20), "minItems": 1}}, ("tags",))
PRIORITY = obj({"priority": integer(0, 9)}, ("priority",))
CUSTOMER_BODY = obj(CUSTOMER_FIELDS, ())
ARTICLE_FIELDS = {
    "title": string(200, min_length=1),
    "body": string(200_000),
    "status": {"enum": list(STATUSES)},
    "visibility": {"enum": list(VISIBILITIES)},
    "language": string(5, min_length=2),
    "slug": string(80),
    "category_id": nullable(identifier()),
}
NEW_ARTICLE = obj(ARTICLE_FIELDS, ("title",))
ARTICLE_CHANGES = obj(ARTICLE_FIELDS, ())
ENDPOINT_FIELDS = {
    "url": string(2000, min_length=1),
    "description": string(500),
    "event_types": array({"enum": list(WEBHOOK_TYPES)}, 20),
    "enabled": {"type": "boolean"},
}
NEW_ENDPOINT = obj(ENDPOINT_FIELDS, ("url",))
ENDPOINT_CHANGES = obj(ENDPOINT_FIELDS, ())
UPLOAD = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "kind": {"enum": ["message", "note"]},
        "author": {"enum": ["agent", "customer"]},
        "client_id": CLIENT_ID,
        "file": {"type": "string", "contentMediaType": "application/octet-stream"},
    },
}
