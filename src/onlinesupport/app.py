"""Builds the two aiohttp applications and runs them in one process.

The public application (internet-facing) and the desk application (LAN) share one set of
services but no routes. Both start and stop together with the services; SIGTERM or SIGINT stops
accepting connections, closes websockets, lets in-flight requests and queued writes finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import signal
import ssl
import sys
import tempfile
import weakref
from collections.abc import Collection
from contextlib import AsyncExitStack
from dataclasses import dataclass

from aiohttp import WSCloseCode, web
from aiohttp.abc import AbstractAccessLogger

from onlinesupport.config import Config
from onlinesupport.integrations import webhooks
from onlinesupport.lib.clock import Clock
from onlinesupport.lib.stop_signals import stop_on_signals
from onlinesupport.lib.tally import Tally
from onlinesupport.ops import daily_backups, datadir, platform_support, restores, tls_certs
from onlinesupport.reports import mail as report_mail
from onlinesupport.reports import recording, rollup
from onlinesupport.services import Services, open_services
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import messages as messages_repo
from onlinesupport.web import auth, connections, sockets
from onlinesupport.web.api import routes as api_routes
from onlinesupport.web.desk import routes as desk_routes
from onlinesupport.web.desk.signin import add_throttles
from onlinesupport.web.keys import SERVICES, WEBSOCKETS
from onlinesupport.web.public import routes as public_routes
from onlinesupport.web.security import (
    ServerLog,
    add_security_headers,
    errors,
    forwarded_by,
    name_no_versions,
    network_guard,
)
from onlinesupport.web.templates import TEMPLATES, environment

log = logging.getLogger("onlinesupport")

PUBLIC_MAX_BODY = 256 * 1024
DESK_MAX_BODY = 1024 * 1024
SHUTDOWN_TIMEOUT = 10.0
CLOSE_TIMEOUT = 2.0


class AccessLogger(AbstractAccessLogger):
    """One line per request at DEBUG level."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.debug(
            "%s %s %s %d %.1fms",
            request.remote,
            request.method,
            request.path,
            response.status,
            time * 1000,
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.DEBUG)


async def _close_websockets(app: web.Application) -> None:
    open_sockets = app[WEBSOCKETS]
    for ws in list(open_sockets):
        # A peer that does not read would hold the close frame, and the shutdown, forever.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(
                ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown"), CLOSE_TIMEOUT
            )


def _base_app(services: Services, max_body: int, middlewares: list) -> web.Application:
    name_no_versions()
    app = web.Application(client_max_size=max_body, middlewares=middlewares)
    app[SERVICES] = services
    app[TEMPLATES] = environment()
    app[WEBSOCKETS] = weakref.WeakSet()
    app.on_response_prepare.append(add_security_headers)
    app.on_shutdown.append(_close_websockets)
    return app


def create_public_app(services: Services) -> web.Application:
    app = _base_app(
        services, PUBLIC_MAX_BODY, [errors, forwarded_by(services.config.public_trusted_proxies)]
    )
    sockets.setup(
        app,
        unread_seconds=services.config.limits_unread_seconds,
        per_address=services.config.limits_public_websockets_per_address,
        tally=services.tally,
    )
    public_routes.setup_routes(app)
    if services.config.api_public:
        api_routes.mount(app, services, tokens_only=True)
    return app


def create_desk_app(services: Services) -> web.Application:
    app = _base_app(
        services,
        DESK_MAX_BODY,
        [
            errors,
            network_guard(services.config.desk_allowed_networks),
            auth.issue_csrf_cookie,
            auth.authenticate,
            auth.csrf,
        ],
    )
    add_throttles(app)
    sockets.setup(
        app,
        unread_seconds=services.config.limits_unread_seconds,
        per_address=services.config.limits_desk_websockets_per_address,
        tally=services.tally,
    )
    desk_routes.setup_routes(app)
    api_routes.mount(app, services)
    auth.check_declared(app)
    return app


def _tls(config: Config, side: str) -> ssl.SSLContext | None:
    cert, key = getattr(config, f"{side}_tls_cert"), getattr(config, f"{side}_tls_key")
    if cert:
        return tls_certs.server_context(cert, key)
    if side == "desk" and config.desk_tls_self_signed:
        return tls_certs.server_context(*tls_certs.self_signed(config.data_dir / "tls"))
    return None


@dataclass
class Listening:
    """Where a running server can be reached."""

    public_url: str
    desk_url: str


def supervise(services: Services) -> None:
    """Every background loop of the server, in one list; the supervisor owns, restarts and
    stops them (the IMAP pollers, one a mailbox, are added by the email channel)."""
    loops, s = services.supervisor, services
    # Started first, stopped last: mail queued while the rest stops still goes out.
    loops.start("outbox-sender", s.email.sender.run, stop=s.email.sender.stop)
    loops.start(
        "webhook-sender",
        s.webhooks.sender.run,
        stop=s.webhooks.sender.stop,
        stop_timeout=webhooks.STOP_TIMEOUT,
    )
    loops.every("chat-offers", s.offers.interval, s.offers.tick)
    loops.every("sla-watch", s.sla.interval, s.sla.check)
    loops.every("snooze-watch", s.snoozes.interval, s.snoozes.wake_due)
    loops.every("report-recording", recording.FLUSH_SECONDS, s.recorder.flush)
    loops.every("report-rollup", rollup.INTERVAL, s.reports.catch_up)
    loops.every("report-mail", report_mail.INTERVAL, s.report_mail.send_due)
    loops.every("daily-backups", daily_backups.CHECK_SECONDS, s.backups.run_once)
    loops.every("webhook-log-pruning", 3600, s.webhooks.prune)
    loops.every("session-cleanup", 3600, lambda: _purge_sessions(s))


async def _purge_sessions(services: Services) -> None:
    """Delete expired desk sessions."""
    removed = await services.accounts.purge_expired_sessions()
    if removed:
        log.debug("removed %d expired sessions", removed)


async def start(
    stack: AsyncExitStack,
    config: Config,
    clock: Clock | None = None,
    loops: Collection[str] | None = None,
) -> tuple[Services, Listening]:
    """Open the services and both listeners; everything is closed when `stack` closes.

    `loops`: the background loops that run (names or shell patterns, see `supervise`); None
    for all of them. Tests leave off the ones they do not need.
    """
    services = await stack.enter_async_context(open_services(config, clock, loops))
    # The recorder's last flush comes after every loop has stopped.
    await stack.enter_async_context(services.recorder.running())
    await stack.enter_async_context(services.supervisor.running())
    supervise(services)
    await stack.enter_async_context(services.email.running())
    if await agents_repo.admin_exists(services.db):
        services.setup.spend()
    else:
        services.setup.issue()
    guards = _guards(config, services.tally)
    stack.callback(connections.count_accept_errors(asyncio.get_running_loop(), services.tally))
    urls = []
    for side, app in (("public", create_public_app(services)), ("desk", create_desk_app(services))):
        runner = web.AppRunner(
            app,
            access_log_class=AccessLogger,
            access_log=logging.getLogger(f"onlinesupport.access.{side}"),
            logger=ServerLog(logging.getLogger("aiohttp.server")),
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            handle_signals=False,
            keepalive_timeout=config.limits_header_timeout,
        )
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        tls = _tls(config, side)
        host = getattr(config, f"{side}_host")
        server = await connections.listen(
            runner, guards[side], host, getattr(config, f"{side}_port"), tls
        )
        stack.push_async_callback(_stop_listening, server)
        port = server.sockets[0].getsockname()[1]
        services.listener_ports.add(port)
        if side == "public":
            services.public_port = port
        shown = "localhost" if host in ("0.0.0.0", "::", "") else host
        urls.append(f"{'https' if tls else 'http'}://{shown}:{port}")
    return services, Listening(*urls)


def _guards(config: Config, tally: Tally) -> dict[str, connections.ListenerGuard]:
    """Each listener's budget of connections within the open-file limit (raised first)."""
    before, open_files = platform_support.raise_open_file_limit()
    if open_files != before:
        log.info("open-file limit raised from %s to %s", before, open_files)
    public, desk = connections.budgets(open_files, config.limits_desk_connections)
    log.debug(
        "connections held at most: %d public, %d desk (open-file limit %s)",
        public,
        desk,
        open_files,
    )
    timeout = config.limits_header_timeout
    return {
        "public": connections.ListenerGuard(
            "public",
            budget=public,
            header_timeout=timeout,
            tally=tally,
            per_address=connections.per_address(
                config.limits_public_connections_per_address, public
            ),
            exempt=config.public_trusted_proxies,
        ),
        "desk": connections.ListenerGuard(
            "desk",
            budget=desk,
            header_timeout=timeout,
            tally=tally,
            per_address=connections.per_address(config.limits_desk_connections_per_address, desk),
            allowed=config.desk_allowed_networks,
        ),
    }


async def _stop_listening(server: asyncio.AbstractServer) -> None:
    server.close()


def tune_garbage_collector() -> None:
    """Fewer, later full collections for a long-running server holding thousands of sockets.

    With Python's defaults, 2,000 chat connections made full collections pause the process up
    to 154 ms, which was the chat's p99 latency; with these settings there were none during the
    benchmark and p99 fell to ~27 ms at the same memory (see docs/performance.md). Freezing moves
    everything allocated at start-up out of the collector's way for good.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


async def serve(
    config: Config, stop: asyncio.Event | None = None, *, handle_signals: bool = True
) -> None:
    """Run until SIGTERM or SIGINT (or `stop`), then shut down gracefully.

    When an admin restores a backup, everything stops, the database is swapped while nothing
    holds it, and the server starts again on the same ports.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    # Windows has no such signals; a Windows service is stopped through `stop` instead.
    signals = (signal.SIGTERM, signal.SIGINT) if handle_signals and sys.platform != "win32" else ()
    with stop_on_signals(loop, stop.set, signals):
        await _serve_until_stopped(config, stop)


async def _serve_until_stopped(config: Config, stop: asyncio.Event) -> None:
    datadir.prepare(config.data_dir)
    with datadir.lock(config.data_dir):
        while True:
            restores.apply_pending(config.data_dir, config.database_path, Clock())
            async with AsyncExitStack() as stack:
                services, listening = await start(stack, config)
                tune_garbage_collector()
                _announce(config, services, listening)
                stopping = asyncio.ensure_future(stop.wait())
                restarting = asyncio.ensure_future(services.restart.wait())
                try:
                    await asyncio.wait([stopping, restarting], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stopping.cancel()
                    restarting.cancel()
                    log.info("shutting down" if stop.is_set() else "restarting")
            if stop.is_set():
                return
            # The same ports again, even where the settings said "any free port".
            config = dataclasses.replace(
                config, public_port=_port(listening.public_url), desk_port=_port(listening.desk_url)
            )


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _announce(config: Config, services: Services, listening: Listening) -> None:
    log.info("data folder: %s", config.data_dir)
    log.info("public listener: %s  (website widget, help centre)", listening.public_url)
    log.info("desk listener:   %s  (agents sign in here)", listening.desk_url)
    if services.setup.value:
        link = f"{listening.desk_url}/setup?token={services.setup.value}"
        # The link once, on stdout; the log (also the journal's) only says where to find it.
        log.warning(
            "no admin yet: the one-time link to create one is printed on the console; "
            "`onlinesupport setup-link` shows it again"
        )
        print(f"\n  First run: create the admin account at\n  {link}\n", flush=True)


async def selftest() -> list[str]:
    """Start a throwaway instance on free local ports, use it, and say what did not work.

    For a freshly installed (or frozen) program: proves the package is complete (templates,
    static files, migrations) and that both listeners, the store and the core work here.
    """
    import aiohttp

    problems = []
    with tempfile.TemporaryDirectory(prefix="onlinesupport-selftest-") as folder:
        config = Config(
            storage_data_dir=folder,
            public_host="127.0.0.1",
            public_port=0,
            desk_host="127.0.0.1",
            desk_port=0,
            storage_backups_keep=0,
        )
        async with AsyncExitStack() as stack:
            services, listening = await start(stack, config)
            public = listening.public_url.replace("localhost", "127.0.0.1")
            desk = listening.desk_url.replace("localhost", "127.0.0.1")
            checks = [
                (public, "/healthz", "public"),
                (public, "/widget.js", "function"),
                (public, "/contact", "Contact us"),
                (desk, "/healthz", "desk"),
                (desk, "/signin", "OnlineSupport"),
            ]
            async with aiohttp.ClientSession() as http:
                for base, path, expected in checks:
                    try:
                        async with http.get(base + path) as response:
                            text = await response.text()
                            if response.status != 200 or expected not in text:
                                problems.append(f"GET {base}{path}: {response.status}")
                    except aiohttp.ClientError as exc:
                        problems.append(f"GET {base}{path}: {exc}")
            opened = await services.conversations.open(
                channel="phone", customer_name="Selftest", body="Hello from the selftest"
            )
            stored = await messages_repo.after(services.db, opened.conversation_id)
            if [m.body for m in stored] != ["Hello from the selftest"]:
                problems.append("a message written to the database could not be read back")
    return problems
