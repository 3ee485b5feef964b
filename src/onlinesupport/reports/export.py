"""CSV exports: one row per conversation, and one row per day; UTF-8 with a header row, made a
page at a time so a year of conversations never sits in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from onlinesupport.reports.service import DayLine
from onlinesupport.store.reports import ExportRow, tags_of

CONVERSATION_COLUMNS = (
    "conversation_id",
    "channel",
    "queue",
    "agent",
    "tags",
    "created_at",
    "status",
    "resolved_at",
    "cycles",
    "agent_replies",
    "first_response_seconds",
    "first_response_business_seconds",
    "resolution_seconds",
    "resolution_business_seconds",
    "sla_met",
    "rating",
    "abandoned",
    "first_contact_resolution",
    "page",
)
DAY_COLUMNS = (
    "day",
    "created",
    "resolved",
    "merged",
    "first_responses",
    "first_response_median_seconds",
    "first_response_p90_seconds",
    "resolutions",
    "resolution_median_seconds",
    "resolution_p90_seconds",
    "sla_met",
    "sla_missed",
    "ratings",
    "ratings_4_or_5",
)


def _safe(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (text starting = + - @ gets a ')."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}" if value != int(value) else str(int(value))


def _lines(rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([[_safe(v) for v in row] for row in rows])
    return buffer.getvalue().encode("utf-8")


def conversation_row(row: ExportRow) -> list[Any]:
    return [
        row.conversation_id,
        row.channel,
        row.queue,
        row.agent,
        " ".join(tags_of(row.tags)),
        row.created_at,
        row.status,
        row.resolved_at or "",
        row.cycles,
        row.agent_replies,
        _number(row.first_response_s),
        _number(row.first_response_b),
        _number(row.resolution_s),
        _number(row.resolution_b),
        "" if row.sla_met is None else row.sla_met,
        "" if row.rating is None else row.rating,
        row.abandoned,
        row.fcr,
        row.page,
    ]


async def conversations_csv(pages: AsyncIterator[list[ExportRow]]) -> AsyncIterator[bytes]:
    yield "\ufeff".encode() + _lines([CONVERSATION_COLUMNS])
    async for page in pages:
        yield _lines(conversation_row(r) for r in page)


def days_csv(lines: Sequence[DayLine]) -> bytes:
    return "\ufeff".encode() + _lines(
        [
            DAY_COLUMNS,
            *[
                [
                    d.day,
                    d.created,
                    d.resolved,
                    d.merged,
                    d.first_response.count,
                    _number(d.first_response.median),
                    _number(d.first_response.p90),
                    d.resolution.count,
                    _number(d.resolution.median),
                    _number(d.resolution.p90),
                    d.sla_met,
                    d.sla_missed,
                    d.ratings,
                    d.good_ratings,
                ]
                for d in lines
            ],
        ]
    )
