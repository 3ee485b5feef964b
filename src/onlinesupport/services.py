"""The parts one running instance is made of, opened and closed together."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from onlinesupport.accounts import Accounts
from onlinesupport.accounts.invitations import Invitations
from onlinesupport.accounts.notifications import Notifications
from onlinesupport.channels.chat.identity import WebsiteIdentity
from onlinesupport.channels.chat.notices import ChatNotices
from onlinesupport.channels.chat.presence import Presence
from onlinesupport.channels.chat.proactive import Proactive
from onlinesupport.channels.email.replies import ReplyMailer
from onlinesupport.channels.email.service import EmailChannel
from onlinesupport.channels.forms.contact import ContactForm
from onlinesupport.channels.phone.callbacks import Callbacks
from onlinesupport.channels.phone.calls import PhoneCalls
from onlinesupport.config import Config
from onlinesupport.core.attachments import FileStore
from onlinesupport.core.branding import Branding
from onlinesupport.core.canned import CannedReplies
from onlinesupport.core.conversations import Conversations
from onlinesupport.core.conversations.hooks import Hooks
from onlinesupport.core.conversations.mentions import record_mentions
from onlinesupport.core.conversations.snooze import SnoozeWatch
from onlinesupport.core.customers import Customers
from onlinesupport.core.hub import Hub
from onlinesupport.core.inbox_views import SavedViews
from onlinesupport.core.scripts import Scripts
from onlinesupport.core.viewers import Viewers
from onlinesupport.integrations.guard import TargetGuard
from onlinesupport.integrations.public_events import PublicEvents
from onlinesupport.integrations.sender import WebhookSender
from onlinesupport.integrations.tokens import ApiTokens
from onlinesupport.integrations.webhooks import Webhooks, mail_admins
from onlinesupport.knowledge.service import KnowledgeBase
from onlinesupport.lib.clock import Clock
from onlinesupport.lib.secretbox import SecretBox
from onlinesupport.lib.supervisor import Supervisor
from onlinesupport.lib.tally import Tally
from onlinesupport.ops import datadir
from onlinesupport.ops.daily_backups import DailyBackups
from onlinesupport.ops.setup_link import SetupToken
from onlinesupport.ops.setup_progress import FirstRun
from onlinesupport.reports.mail import ReportMail
from onlinesupport.reports.recording import Recorder
from onlinesupport.reports.rollup import Calendars, Rollup
from onlinesupport.reports.service import Reports
from onlinesupport.routing.due import (
    answered,
    move_owed_answer,
    set_first_response_due,
    set_next_response_due,
)
from onlinesupport.routing.engine import RoutingRules
from onlinesupport.routing.escalation import Escalations
from onlinesupport.routing.offers import ChatOffers
from onlinesupport.routing.queue_admin import Queues
from onlinesupport.routing.sla import SlaWatch
from onlinesupport.selfservice.access import CustomerAccess
from onlinesupport.selfservice.erasure import Erasure
from onlinesupport.store import Database


@dataclass
class Services:
    config: Config
    clock: Clock
    db: Database
    hub: Hub
    conversations: Conversations
    accounts: Accounts
    customers: Customers
    canned: CannedReplies
    scripts: Scripts
    files: FileStore
    email: EmailChannel
    contact: ContactForm
    sla: SlaWatch
    backups: DailyBackups
    customer_access: CustomerAccess
    secret_key: bytes
    setup: SetupToken
    branding: Branding
    invitations: Invitations
    knowledge: KnowledgeBase
    erasure: Erasure
    proactive: Proactive
    rules: RoutingRules
    escalations: Escalations
    offers: ChatOffers
    recorder: Recorder
    reports: Reports
    report_mail: ReportMail
    snoozes: SnoozeWatch
    saved_views: SavedViews
    notifications: Notifications
    viewers: Viewers
    api_tokens: ApiTokens
    webhooks: Webhooks
    identity: WebsiteIdentity
    callbacks: Callbacks
    phone_calls: PhoneCalls
    queues: Queues
    first_run: FirstRun
    supervisor: Supervisor
    """Owns every background loop (see app.supervise)."""
    presence: Presence = field(default_factory=Presence)
    restart: asyncio.Event = field(default_factory=asyncio.Event)
    """Set to have `serve` stop everything and start again (used to swap in a backup)."""
    public_port: int = 0
    """The port the public listener is bound to (the configured one may be 0: any free port)."""
    listener_ports: set[int] = field(default_factory=set)
    """Every port this server listens on (webhooks may not be sent to them)."""
    started_at: float = field(default_factory=time.monotonic)
    tally: Tally = field(default_factory=Tally)
    """Connections refused and sockets closed under load, for the log and the health page."""


def wire_hooks(
    conversations: Conversations,
    presence: Presence,
    *,
    rules: RoutingRules,
    scripts: Scripts,
    public_events: PublicEvents,
    recorder: Recorder,
    key: bytes,
) -> None:
    """Every hook of the instance, in one place (see `onlinesupport.core.conversations.hooks` for
    when each kind runs). Within a kind the order does not matter unless a comment says why."""
    conversations.hooks = Hooks(
        opened=(set_first_response_due,),
        outbound=(answered, ReplyMailer(key)),
        noted=(record_mentions,),
        # In this order. A script's question goes out first, so the `answered` hook it sets off
        # finds no next answer owed yet: the customer is still owed an agent's (and routing sees
        # the conversation with the question, as it always has). A rule may move it to another
        # queue or set its own next-response target, which the next answer's due time uses.
        received=(scripts.answered, rules.received, set_next_response_due),
        merged=(move_owed_answer,),
        # Public events last: they record every event, those the hooks before them added too.
        committing=(ChatNotices(conversations), public_events),
    )
    presence.changed = (recorder.presence_changed,)


@asynccontextmanager
async def open_services(
    config: Config, clock: Clock | None = None, loops: Collection[str] | None = None
) -> AsyncIterator[Services]:
    """Prepare the data folder, open and migrate the store, and wire the services together.

    `loops`: the background loops that may run (names or patterns); None for all.
    """
    clock = clock or Clock()
    supervisor = Supervisor(clock, loops)
    datadir.prepare(config.data_dir)
    key = datadir.secret_key(config.data_dir)
    db = Database(
        config.database_path,
        clock,
        synchronous=config.storage_synchronous,
        upgrade_backups=config.data_dir / "backups",
    )
    try:
        await db.open()
        hub = Hub()
        conversations = Conversations(db, hub, clock)
        presence = Presence()
        rules = RoutingRules(db, clock, conversations, presence.online)
        await rules.load()
        public_events = PublicEvents()
        proactive = Proactive(db, clock)
        calendars = Calendars(db)
        recorder = Recorder(db, clock, conversations, proactive, calendars)
        scripts = Scripts(db, clock, conversations)
        wire_hooks(
            conversations,
            presence,
            rules=rules,
            scripts=scripts,
            public_events=public_events,
            recorder=recorder,
            key=key,
        )
        reports = Reports(db, clock, Rollup(db, calendars))
        files = FileStore(config.data_dir / "attachments", key)
        email = EmailChannel(config, db, hub, conversations, files, key, clock, supervisor)
        accounts = Accounts(db, clock, key)
        branding = Branding(db, config.data_dir / "branding", clock)
        await branding.load()
        ports: set[int] = set()
        guard = TargetGuard(
            allow_loopback=config.webhooks_allow_loopback,
            allowed_networks=config.webhooks_allowed_networks,
            own_ports=lambda: {*ports, email.smtp_port},
        )
        sender = WebhookSender(
            db,
            hub,
            clock,
            email.secrets,
            guard,
            schedule=config.webhooks_retry_seconds,
            notify=mail_admins(db, email.sender.send_now),
            endpoints_changed=public_events.forget_endpoints,
        )
        identity = WebsiteIdentity(db, clock, conversations, SecretBox(key))
        await identity.load()
        queues = Queues(db, clock)
        invitations = Invitations(accounts, db, clock, key)
        customers = Customers(conversations)
        callbacks = Callbacks(db, conversations, clock, key)
        yield Services(
            config=config,
            clock=clock,
            db=db,
            hub=hub,
            conversations=conversations,
            accounts=accounts,
            customers=customers,
            canned=CannedReplies(db, clock),
            scripts=scripts,
            files=files,
            email=email,
            contact=ContactForm(db, conversations, clock, key),
            sla=SlaWatch(
                db, conversations, clock, alert=email.sender.send_now, desk_url=config.desk_url()
            ),
            backups=DailyBackups(
                config.database_path,
                config.data_dir / "backups",
                config.storage_backups_keep,
                clock,
            ),
            customer_access=CustomerAccess(db, clock, key, email.sender.wake, supervisor.spawn),
            secret_key=key,
            setup=SetupToken(config.data_dir),
            branding=branding,
            invitations=invitations,
            knowledge=KnowledgeBase(db, clock, key, recorder),
            erasure=Erasure(db, clock, files),
            proactive=proactive,
            rules=rules,
            presence=presence,
            escalations=Escalations(conversations),
            offers=ChatOffers(db, conversations, clock, presence),
            snoozes=SnoozeWatch(db, conversations, clock),
            saved_views=SavedViews(db, clock),
            notifications=Notifications(db),
            viewers=Viewers(hub),
            api_tokens=ApiTokens(db, clock),
            webhooks=Webhooks(
                db, clock, email.secrets, guard, sender, public_events.forget_endpoints
            ),
            identity=identity,
            callbacks=callbacks,
            phone_calls=PhoneCalls(conversations, customers, callbacks),
            recorder=recorder,
            reports=reports,
            queues=queues,
            first_run=FirstRun(db, clock, branding, queues, accounts, invitations, email),
            report_mail=ReportMail(db, clock, reports, email.sender, config.desk_url()),
            supervisor=supervisor,
            listener_ports=ports,
        )
    finally:
        await db.close()
