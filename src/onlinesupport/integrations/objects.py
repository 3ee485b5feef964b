"""The JSON objects the API returns and webhooks carry: one shape for each, built here only."""

from __future__ import annotations

from typing import Any

from onlinesupport.reports.metrics import Summary
from onlinesupport.reports.periods import Period
from onlinesupport.reports.service import AgentsReport, DayLine, Overview, WebsiteReport
from onlinesupport.store.integration_reads import ConversationRecord, CustomerRecord
from onlinesupport.store.messages import Message

API = "/api/v1"


def conversation(c: ConversationRecord) -> dict[str, Any]:
    return {
        "id": c.id,
        "status": c.status,
        "channel": c.channel,
        "subject": c.subject,
        "priority": c.priority,
        "tags": list(c.tags),
        "queue": {"id": c.queue_id, "name": c.queue_name},
        "assignee": None
        if c.assignee_id is None
        else {"id": c.assignee_id, "name": c.assignee_name or ""},
        "customer": {"id": c.customer_id, "name": c.customer_name},
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "last_message_at": c.last_message_at,
        "last_seq": c.last_seq,
        "first_response_at": c.first_response_at,
        "answer_due_at": c.answer_due_at,
        "snoozed": c.snoozed,
        "snoozed_until": c.snoozed_until,
        "merged_into": c.merged_into,
        "language": c.language,
        "page_url": c.page_url,
    }


def message(m: Message, body_limit: int | None = None) -> dict[str, Any]:
    """A message; with `body_limit` (bytes of UTF-8), a longer body is cut and marked, and
    the whole message is at its `url`."""
    body, truncated = m.body, False
    if body_limit is not None and len(body.encode()) > body_limit:
        body, truncated = body.encode()[:body_limit].decode(errors="ignore"), True
    return {
        "id": m.id,
        "conversation_id": m.conversation_id,
        "seq": m.seq,
        "author": {"type": m.author_type, "id": m.author_id, "name": m.author_name},
        "kind": m.kind,
        "body": body,
        "body_truncated": truncated,
        "client_id": m.client_id,
        "created_at": m.created_at,
        "attachments": [
            {
                "id": a["id"],
                "filename": a["filename"],
                "content_type": a["content_type"],
                "size": a["size"],
                "url": f"{API}/attachments/{a['id']}",
            }
            for a in m.attachments
        ],
        "url": f"{API}/conversations/{m.conversation_id}/messages/{m.seq}",
    }


def customer(c: CustomerRecord) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "external_id": c.external_id,
        "tier": c.tier,
        "tags": list(c.tags),
        "created_at": c.created_at,
        "erased": c.erased,
    }


# The reports' figures: durations in seconds, shares as fractions (0.25 = 25%), null where
# there is nothing to count; the same numbers the desk's report pages show.


def _summary(s: Summary) -> dict[str, Any]:
    return {"count": s.count, "median": s.median, "p90": s.p90}


def _period(p: Period) -> dict[str, Any]:
    return {"first": p.first.isoformat(), "last": p.last.isoformat()}


def report_overview(r: Overview) -> dict[str, Any]:
    return {
        "period": _period(r.period),
        "previous": _period(r.previous),
        "business_hours": r.business,
        "up_to_date": r.current,
        "durations": [
            {
                "key": f.key,
                "name": f.name,
                "definition": f.definition,
                "now": _summary(f.now),
                "before": _summary(f.before),
                "change": f.change,
            }
            for f in r.durations
        ],
        "rates": [
            {
                "key": x.key,
                "name": x.name,
                "definition": x.definition,
                "part": x.part,
                "whole": x.whole,
                "value": x.value,
                "before_part": x.before_part,
                "before_whole": x.before_whole,
                "before": x.before,
            }
            for x in r.rates
        ],
        "created": r.created,
        "created_before": r.created_before,
        "resolved": r.resolved,
        "resolved_before": r.resolved_before,
        "merged": r.merged,
        "merged_before": r.merged_before,
        "bucket": r.bucket,
        "volume": [
            {
                "label": b.label,
                "created": b.created,
                "resolved": b.resolved,
                "merged": b.merged,
                "backlog": b.backlog,
            }
            for b in r.volume
        ],
        "channels": [{"channel": channel, "count": count} for channel, count in r.channels],
        "heatmap": [list(hours) for hours in r.heatmap],
        "ratings": [{"score": score, "count": count} for score, count in r.ratings],
        "comments": [
            {
                "conversation_id": c.conversation_id,
                "score": int(c.seconds or 0),
                "comment": c.detail,
                "at": c.at,
            }
            for c in r.comments
        ],
        "live": [
            {
                "queue": {"id": q.queue_id, "name": q.queue},
                "unattended": q.unattended,
                "longest_wait_minutes": q.longest_wait_minutes,
            }
            for q in r.live
        ],
    }


def report_agents(r: AgentsReport) -> dict[str, Any]:
    return {
        "period": _period(r.period),
        "business_hours": r.business,
        "up_to_date": r.current,
        "agents": [
            {
                "agent_id": a.agent_id,
                "name": a.name,
                "handled": a.handled,
                "replies": a.replies,
                "first_response": _summary(a.first_response),
                "resolution": _summary(a.resolution),
                "ratings": a.ratings,
                "good_ratings": a.good_ratings,
                "satisfaction": a.satisfaction,
                "online_seconds": a.online_seconds,
            }
            for a in r.lines
        ],
    }


def report_website(r: WebsiteReport) -> dict[str, Any]:
    return {
        "period": _period(r.period),
        "up_to_date": r.current,
        "pages": [
            {
                "page": p.page,
                "inquiries": p.inquiries,
                "views": p.views,
                "per_thousand": p.per_thousand,
            }
            for p in r.pages
        ],
        "searches": r.searches,
        "article_views": r.article_views,
        "deflected": r.deflected,
        "reached_agent": r.reached_agent,
        "deflection": r.deflection,
        "unanswered_searches": [{"query": u.page, "count": u.count} for u in r.unanswered],
        "deflecting_articles": [{"title": d.page, "count": d.count} for d in r.deflecting],
        "campaigns": [
            {
                "message_id": c.message_id,
                "text": c.text,
                "shown": c.shown,
                "clicked": c.clicked,
                "closed": c.closed,
                "chats": c.chats,
                "resolved": c.resolved,
                "pages": c.pages,
                "page_views": c.page_views,
                "chats_without": c.chats_without,
                "with_share": c.with_share,
                "without_share": c.without_share,
            }
            for c in r.campaigns
        ],
    }


def report_days(lines: list[DayLine], business: bool) -> dict[str, Any]:
    """Each day of the period (there is at least one), in order."""
    return {
        "period": {"first": lines[0].day, "last": lines[-1].day},
        "business_hours": business,
        "days": [
            {
                "day": d.day,
                "created": d.created,
                "resolved": d.resolved,
                "merged": d.merged,
                "first_response": _summary(d.first_response),
                "resolution": _summary(d.resolution),
                "sla_met": d.sla_met,
                "sla_missed": d.sla_missed,
                "ratings": d.ratings,
                "good_ratings": d.good_ratings,
            }
            for d in lines
        ],
    }
