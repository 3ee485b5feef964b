"""The `onlinesupport` command: serve, init, backup, restore, user, config, setup-link, service,
version, selftest.

The frozen build has no Python shell, so every operation an admin needs lives here. Start-up
problems end in one readable line: exit code 78 when the settings or the database must be fixed
first (bad setting, foreign or newer database), 1 otherwise (port in use, server running).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import socket
import ssl
import sys
import time
import urllib.request
import webbrowser
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from onlinesupport import __version__
from onlinesupport.accounts import AccountError
from onlinesupport.config import (
    CONFIG_ENV,
    Config,
    ConfigError,
    load_config,
    render_toml,
    settings,
)
from onlinesupport.lib import logs
from onlinesupport.lib.clock import Clock
from onlinesupport.ops import datadir
from onlinesupport.ops.platform_support import (
    SERVICE_ACTIONS,
    admin_config_default,
    service_config_text,
    service_layout,
)
from onlinesupport.ops.setup_link import SetupToken
from onlinesupport.store import StoreError
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import backup as backup_store
from onlinesupport.store.agents import ROLES

if TYPE_CHECKING:
    from onlinesupport.services import Services

log = logging.getLogger("onlinesupport")


class CommandError(Exception):
    """A command cannot do what was asked; the message says why."""


def open_services(config: Config) -> AbstractAsyncContextManager[Services]:
    """Every service, for the commands that need them. Imported here, not at the top: the
    services pull in the web client and the mail channels, most of a second of start-up that
    `version`, `config`, `backup`, `restore` and `setup-link` have no use for."""
    from onlinesupport import services

    return services.open_services(config)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("settings (override the config file and environment)")
    group.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="config file (default: $ONLINESUPPORT_CONFIG; the installed "
        "service's file for the installed Windows program; else the "
        "platform's config folder)",
    )
    for s in settings():
        group.add_argument(
            s.flag,
            dest=s.name,
            default=None,
            metavar=s.key.upper(),
            # argparse formats help with %: a literal one (a "10%") must be doubled.
            help=f"{s.help} [{s.env}]".replace("%", "%%"),
        )

    parser = argparse.ArgumentParser(
        prog="onlinesupport", description="Self-hosted online customer service."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", parents=[common], help="run the server (both listeners)")
    commands.add_parser(
        "init", parents=[common], help="create the data folder, secret key and database, then exit"
    )
    p = commands.add_parser(
        "backup", parents=[common], help="copy the database to FILE (safe while the server runs)"
    )
    p.add_argument("file", type=Path)
    p = commands.add_parser(
        "restore",
        parents=[common],
        help="replace the database with a backup (stop the server first)",
    )
    p.add_argument("file", type=Path)
    p = commands.add_parser("config", parents=[common], help="print the effective settings")
    p.add_argument(
        "--sample",
        action="store_true",
        help="print a commented sample config file with every setting",
    )
    p.add_argument(
        "--for-service",
        action="store_true",
        help="with --sample: the installed service's file (its data folder filled in)",
    )
    p = commands.add_parser(
        "setup-link",
        parents=[common],
        help="print the one-time link that creates the first admin account",
    )
    p.add_argument(
        "--open", action="store_true", help="also open it in this computer's web browser"
    )
    p.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="first wait up to SECONDS for the desk to answer (a service that was just started)",
    )
    p.add_argument(
        "--url-only",
        action="store_true",
        help="print the link alone, for scripts (the Windows installer uses it)",
    )
    p = commands.add_parser(
        "service",
        help="manage the Windows service (installers use it; on "
        "Linux the .deb's systemd unit runs the server)",
    )
    p.add_argument("action", choices=SERVICE_ACTIONS)
    commands.add_parser("version", help="print the version")
    commands.add_parser(
        "selftest",
        help="start a throwaway instance on free local ports, use "
        "it, and exit 0 if everything works",
    )

    reports = commands.add_parser("reports", help="report figures")
    steps = reports.add_subparsers(dest="action", required=True, metavar="ACTION")
    steps.add_parser(
        "rebuild", parents=[common], help="count every report figure again from the events"
    )
    user = commands.add_parser("user", help="manage desk accounts")
    actions = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("add", parents=[common], help="add an agent, manager or admin")
    p.add_argument("email")
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=ROLES, default="agent")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of prompting",
    )
    p = actions.add_parser(
        "passwd", parents=[common], help="set an account's password (signs it out everywhere)"
    )
    p.add_argument("email")
    p.add_argument("--password-stdin", action="store_true")
    actions.add_parser("list", parents=[common], help="list desk accounts")
    return parser


def _config(args: argparse.Namespace) -> Config:
    overrides = {s.name: getattr(args, s.name, None) for s in settings()}
    path = args.config
    if path is None and not os.environ.get(CONFIG_ENV):
        path = admin_config_default(
            service_layout(), system=sys.platform, frozen=getattr(sys, "frozen", False)
        )
        if path is not None and not _readable(path):
            raise CommandError(
                f"the service's settings {path} are for administrators only: "
                'run this in a terminal opened with "Run as administrator"'
            )
    return load_config(path, overrides=overrides)


def _readable(path: Path) -> bool:
    try:
        path.open("rb").close()
    except PermissionError:
        return False
    return True


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise CommandError("the two passwords are not the same")
    return first


async def _user(config: Config, args: argparse.Namespace) -> None:
    async with open_services(config) as services:
        if args.action == "list":
            for agent in await agents_repo.list_all(services.db):
                state = "" if agent.active else "  (disabled)"
                print(f"{agent.email:<40} {agent.role:<8} {agent.name}{state}")
            return
        if args.action == "add":
            await services.accounts.create_agent(
                args.email, args.name, args.role, _read_password(args.password_stdin)
            )
            print(f"added {args.role} {args.email}")
            return
        found = await agents_repo.credentials(services.db, args.email.strip().lower())
        if found is None:
            raise CommandError(f"no account with the address {args.email}")
        await services.accounts.set_password(found.agent.id, _read_password(args.password_stdin))
        print(f"password changed for {args.email}")


async def _reports_rebuild(config: Config) -> None:
    async with open_services(config) as services:
        await services.reports.rebuild()
        print("report figures counted again from the events")


def _restore(config: Config, file: Path) -> None:
    datadir.prepare(config.data_dir)
    with datadir.lock(config.data_dir):
        stamp = Clock().now().strftime("%Y%m%d-%H%M%S")
        safety = config.data_dir / "backups" / f"before-restore-{stamp}.db"
        version = backup_store.restore(file, config.database_path, safety)
    print(f"restored {file} (schema version {version}) into {config.database_path}")
    if safety.exists():
        print(f"the database it replaced was saved as {safety}")


def _setup_link(config: Config, open_browser: bool, url_only: bool) -> None:
    # Read-only: the server may be starting (and migrating) at the same moment.
    if agents_repo.admin_exists_in(config.database_path):
        link = f"{config.desk_url()}/signin"
        message = f"An admin account exists already: sign in at {link}"
    else:
        datadir.prepare(config.data_dir)
        link = f"{config.desk_url()}/setup?token={SetupToken(config.data_dir).issue()}"
        message = f"Create the first admin account at {link}"
    print(link if url_only else message)
    if open_browser:
        webbrowser.open(link.replace(f"//{socket.gethostname()}:", "//localhost:", 1))


def _wait_for_desk(config: Config, seconds: float) -> None:
    """Return once the desk listener answers its health check; CommandError after `seconds`."""
    host = config.desk_host if config.desk_host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    tls = bool(config.desk_tls_cert or config.desk_tls_self_signed)
    url = f"{'https' if tls else 'http'}://{host}:{config.desk_port}/healthz"
    context = None
    if tls:  # our own listener on this computer: its certificate may be self-signed
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() >= deadline:
            raise CommandError(
                f"the desk did not answer at {url} within {seconds:g} s; is the "
                f"server running? Its log: "
                f"{config.data_dir / 'logs' / 'onlinesupport.log'}"
            )
        time.sleep(0.5)


def _service(action: str) -> None:
    if sys.platform != "win32":
        raise CommandError(
            "`service` manages the Windows service. On Linux the .deb package "
            "installs a systemd unit: systemctl start|stop|status onlinesupport"
        )
    from onlinesupport.ops import windows_service

    if action != "run":  # the service configures its own logging: file and Event Log
        logs.configure("warning", None)
    try:
        message = windows_service.command(action)
    except windows_service.ServiceError as exc:
        raise CommandError(str(exc)) from None
    if message:
        print(message)


async def _init(config: Config) -> None:
    async with open_services(config):
        pass
    print(f"data folder ready: {config.data_dir}")


def run(args: argparse.Namespace) -> None:
    if args.command == "version":
        print(f"onlinesupport {__version__}")
        return
    if args.command == "service":
        _service(args.action)
        return
    if args.command == "selftest":
        from onlinesupport import app

        logs.configure("warning", None)
        problems = asyncio.run(app.selftest())
        if problems:
            raise CommandError("selftest failed: " + "; ".join(problems))
        print(f"onlinesupport {__version__}: selftest passed")
        return
    config = _config(args)
    if args.command == "config":
        if args.sample and args.for_service:
            print(service_config_text(service_layout()), end="")
        else:
            print(render_toml(None if args.sample else config, commented=args.sample), end="")
        return
    serving = args.command == "serve"
    logs.configure(
        config.log_level if serving else "warning", config.data_dir / "logs" if serving else None
    )
    if config.config_file:
        log.info("settings read from %s", config.config_file)
    if serving:
        from onlinesupport import app

        asyncio.run(app.serve(config))
    elif args.command == "setup-link":
        if args.wait:
            _wait_for_desk(config, args.wait)
        _setup_link(config, args.open, args.url_only)
    elif args.command == "init":
        asyncio.run(_init(config))
    elif args.command == "backup":
        backup_store.backup(config.database_path, args.file)
        print(f"backup written to {args.file.resolve()}")
    elif args.command == "restore":
        _restore(config, args.file)
    elif args.command == "user":
        asyncio.run(_user(config, args))
    elif args.command == "reports":
        asyncio.run(_reports_rebuild(config))


EXIT_CONFIG = 78
"""sysexits' EX_CONFIG: the settings or the data must be fixed first; the systemd unit does not
restart on it (RestartPreventExitStatus), so a refused database is not retried every few seconds."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        run(args)
    except (ConfigError, StoreError) as exc:
        print(f"onlinesupport: error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (AccountError, CommandError, datadir.DataDirLocked) as exc:
        print(f"onlinesupport: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(
            f"onlinesupport: error: {exc.strerror or exc}"
            f"{f' ({exc.filename})' if exc.filename else ''}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
