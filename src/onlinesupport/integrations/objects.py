"""The JSON objects the API returns and webhooks carry: one shape for each, built here only."""

from __future__ import annotations

from typing import Any

from onlinesupport.store.integration_reads import ConversationRecord, CustomerRecord
from onlinesupport.store.messages import Message

API = "/api/v1"


def conversation(c: ConversationRecord) -> dict[str, Any]:
    return {
        "id": c.id, "status": c.status, "channel": c.channel, "subject": c.subject,
        "priority": c.priority, "tags": list(c.tags),
        "queue": {"id": c.queue_id, "name": c.queue_name},
        "assignee": None if c.assignee_id is None else {"id": c.assignee_id,
                                                        "name": c.assignee_name or ""},
        "customer": {"id": c.customer_id, "name": c.customer_name},
        "created_at": c.created_at, "updated_at": c.updated_at,
        "last_message_at": c.last_message_at, "last_seq": c.last_seq,
        "first_response_at": c.first_response_at, "answer_due_at": c.answer_due_at,
        "snoozed": c.snoozed, "snoozed_until": c.snoozed_until, "merged_into": c.merged_into,
        "language": c.language, "page_url": c.page_url,
    }


def message(m: Message, body_limit: int | None = None) -> dict[str, Any]:
    """A message; with `body_limit` (bytes of UTF-8), a longer body is cut and marked, and
    the whole message is at its `url`."""
    body, truncated = m.body, False
    if body_limit is not None and len(body.encode()) > body_limit:
        body, truncated = body.encode()[:body_limit].decode(errors="ignore"), True
    return {
        "id": m.id, "conversation_id": m.conversation_id, "seq": m.seq,
        "author": {"type": m.author_type, "id": m.author_id, "name": m.author_name},
        "kind": m.kind, "body": body, "body_truncated": truncated, "client_id": m.client_id,
        "created_at": m.created_at,
        "attachments": [{"id": a["id"], "filename": a["filename"],
                         "content_type": a["content_type"], "size": a["size"],
                         "url": f"{API}/attachments/{a['id']}"} for a in m.attachments],
        "url": f"{API}/conversations/{m.conversation_id}/messages/{m.seq}",
    }


def customer(c: CustomerRecord) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "email": c.email, "phone": c.phone,
            "external_id": c.external_id, "tier": c.tier, "tags": list(c.tags),
            "created_at": c.created_at, "erased": c.erased}
