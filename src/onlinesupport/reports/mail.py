"""The report mail: each manager (and admin) gets yesterday's or last week's headline figures
for what they may see, with a link to the reports, through the outbox like every mail.

Nobody gets one until they choose it (Report mail). Daily mails cover yesterday, weekly ones
the seven days up to Sunday, sent in the morning (07:00 to noon on the business's clock) of
the day after. A mail missed while the server was down goes out the next morning, never in the
middle of the day a restart happens: a weekly one on any morning of that week, a daily one
with the newest day (a day-old daily report is stale; the next one covers the next day).
Each is queued once (the subscription remembers which period it last queued, in the same
transaction as the outbox row). Without a mailbox to send from, nothing is queued at all.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from urllib.parse import urlencode

from onlinesupport.channels.email.sender import OutboxSender
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.reports.metrics import duration_text, percent_text
from onlinesupport.reports.service import Overview, Query, Reports, Viewer
from onlinesupport.store import Database, Transaction
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store import outbox as outbox_repo
from onlinesupport.store import reports as reports_repo
from onlinesupport.store.reports import Subscription

FREQUENCIES = {
    "off": "No mail",
    "daily": "Every morning (yesterday)",
    "weekly": "Every Monday (last week)",
}
SEND_FROM_HOUR = 7
SEND_UNTIL_HOUR = 12
INTERVAL = 900.0


class InvalidFrequency(UserError):
    """Not one of the offered frequencies."""


def due_period(frequency: str, today: date, hour: int) -> tuple[str, date, date] | None:
    """The period a mail of this frequency covers if one is due at this hour of today, with
    its key (only in the morning: see the module's docstring)."""
    if not SEND_FROM_HOUR <= hour < SEND_UNTIL_HOUR:
        return None
    if frequency == "daily":
        day = today - timedelta(days=1)
        return f"daily:{day.isoformat()}", day, day
    if frequency == "weekly":
        last = today - timedelta(days=today.weekday() + 1)  # the Sunday that ended last week
        return f"weekly:{last.isoformat()}", last - timedelta(days=6), last
    return None


def body_text(name: str, overview: Overview, link: str) -> str:
    """The mail: the headline figures, each with the previous period's, and the link."""
    lines = [
        f"Hello {name},",
        "",
        f"your support report for {overview.period.label()} "
        f"(the period before: {overview.previous.label()}):",
        "",
        f"Conversations created: {overview.created} (before: {overview.created_before})",
        f"Resolved: {overview.resolved} (before: {overview.resolved_before})",
    ]
    for figure in overview.durations:
        if figure.key in ("first_response", "resolution"):
            lines.append(
                f"{figure.name}, median: {duration_text(figure.now.median)} over "
                f"{figure.now.count} (before: {duration_text(figure.before.median)})"
            )
    for rate in overview.rates:
        if rate.key in ("sla_first", "satisfaction", "abandoned_share"):
            lines.append(
                f"{rate.name}: {percent_text(rate.value)} of {rate.whole} "
                f"(before: {percent_text(rate.before)})"
            )
    waiting = [q for q in overview.live if q.unattended]
    if waiting:
        lines += ["", "Waiting now: " + ", ".join(f"{q.queue} {q.unattended}" for q in waiting)]
    lines += [
        "",
        f"Everything, with the conversations behind each number: {link}",
        "",
        "You can change or stop this mail on the reports page (Report mail).",
    ]
    return "\n".join(lines) + "\n"


class ReportMail:
    def __init__(
        self, db: Database, clock: Clock, reports: Reports, sender: OutboxSender, desk_url: str
    ) -> None:
        self._db = db
        self._clock = clock
        self._reports = reports
        self._sender = sender
        self._desk_url = desk_url.rstrip("/")

    async def set_frequency(self, agent_id: int, frequency: str) -> None:
        if frequency not in FREQUENCIES:
            raise InvalidFrequency(f"choose one of {', '.join(FREQUENCIES)}", "frequency")
        await self._db.write(lambda conn: reports_repo.set_subscription(conn, agent_id, frequency))

    async def frequency(self, agent_id: int) -> str:
        return await reports_repo.subscription(self._db, agent_id)

    async def send_due(self) -> int:
        """Queue every report mail due now; returns how many were queued."""
        mailbox = await mailboxes_repo.sender(self._db, None)
        if mailbox is None or not mailbox["smtp_host"]:
            return 0
        local = self._clock.now().astimezone(await self._reports.zone())
        queued = 0
        for subscriber in await reports_repo.subscriptions(self._db):
            due = due_period(subscriber.frequency, local.date(), local.hour)
            if due is None or subscriber.last_sent == due[0]:
                continue
            key, first, last = due
            query = Query(preset="custom", first=first.isoformat(), last=last.isoformat())
            overview = await self._reports.overview(
                Viewer(subscriber.agent_id, subscriber.role), query
            )
            link = f"{self._desk_url}/reports?{urlencode(query.params())}"
            subject = f"Support report {overview.period.label()}"
            body = body_text(subscriber.name, overview, link)
            domain = mailbox["address"].rsplit("@", 1)[-1]

            def write(
                conn: Transaction,
                subscriber: Subscription = subscriber,
                key: str = key,
                subject: str = subject,
                body: str = body,
                domain: str = domain,
            ) -> bool:
                if not reports_repo.mark_sent(conn, subscriber.agent_id, subscriber.frequency, key):
                    return False
                outbox_repo.enqueue(
                    conn,
                    conversation_id=None,
                    message_id=None,
                    mailbox_id=mailbox["id"],
                    purpose="report",
                    to_address=subscriber.email,
                    subject=subject,
                    body=body,
                    rfc_message_id=f"report.{secrets.token_hex(8)}@{domain}",
                    in_reply_to="",
                    refs="",
                    now=to_db(self._clock.now()),
                )
                return True

            queued += await self._db.write(write)
        if queued:
            self._sender.wake()
        return queued
