"""Shared fixtures: a real server on free ports with a fresh SQLite file, HTTP clients, personas."""

from __future__ import annotations

import asyncio
import atexit
import functools
import inspect
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from onlinesupport import __version__, app
from onlinesupport.accounts import passwords
from onlinesupport.config import Config
from onlinesupport.lib.clock import Clock, ManualClock
from onlinesupport.services import Services, open_services
from onlinesupport.store import migrate

PASSWORD = "correct horse battery"

PRODUCTION_SCRYPT = (passwords._N, passwords._R, passwords._P)
TEST_SCRYPT_N = 2**10
# Hashing at the production cost (scrypt n=2**15, ~0.2 s of CPU each) was half of all the CPU the
# suite spent: every persona made and every sign-in checked costs one. A stored hash carries its
# own parameters, so the tests hash 32 times cheaper and verify exactly as production does;
# tests/test_suite_shortcuts.py holds the production parameters and hashes with them.
passwords._N = TEST_SCRYPT_N


@pytest.fixture
def production_password_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords hashed from here on cost what they cost in production: for a test of a race
    that the time a hash takes opens. Ask for it before `personas`."""
    monkeypatch.setattr(passwords, "_N", PRODUCTION_SCRYPT[0])


T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_until(
    condition: Callable[[], T | Awaitable[T]], timeout: float = 10.0, message: str = ""
) -> T:
    """What `condition()` (a plain or an async function) returns as soon as that is truthy;
    fails after `timeout` seconds. Tests wait with this for work done in the background, never
    with a fixed sleep."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        assert loop.time() < deadline, message or f"not within {timeout} s"
        await asyncio.sleep(0.02)


def make_config(data_dir: Path, **overrides: Any) -> Config:
    # Webhooks may only reach this machine: no test sends anything off it.
    values: dict[str, Any] = dict(
        storage_data_dir=str(data_dir),
        public_host="127.0.0.1",
        public_port=0,
        desk_host="127.0.0.1",
        desk_port=0,
        webhooks_allowed_networks=("127.0.0.0/8", "::1/128"),
    )
    values.update(overrides)
    return Config(**values)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path / "data")


@functools.cache
def _migrated_template() -> Path:
    """A database with every migration applied, made once per test process."""
    folder = Path(tempfile.mkdtemp(prefix="onlinesupport-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "template.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # As the store opens a new file (store/database.py); WAL is kept in the file.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate.migrate(conn, Clock())
    finally:
        conn.close()
    return path


def fresh_database(config: Config) -> None:
    """A copy of the migrated template as the database of a data folder that has none yet.

    Running the ~35 migrations took a fifth of the CPU of `make check`: every test server
    starts on a new file. Each test still gets its own real SQLite file; the migrations
    themselves are tested from an empty file in tests/test_store.py.
    """
    if config.database_path.exists():
        return
    config.database_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_migrated_template(), config.database_path)


@pytest.fixture
async def services(config: Config) -> AsyncIterator[Services]:
    """The services on a fresh database, without listeners."""
    fresh_database(config)
    async with open_services(config, ManualClock()) as s:
        yield s


@dataclass
class Server:
    services: Services
    public_url: str
    desk_url: str


QUIET = ("outbox-sender", "webhook-sender", "imap-*")
"""The background loops a test server runs unless the test asks for more: the ones that act
when something happens. The timers (the offers' 1-second tick, the reports' flushes, the daily
backup at start …) stay off; a test that needs one says so with @pytest.mark.loops("name", …),
or with no names for all of them; tests calling start_server pass `loops` (None: all)."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "loops(*names): background loops the server fixture runs "
        "besides QUIET (no names: every loop)",
    )


async def start_server(
    stack: AsyncExitStack,
    config: Config,
    clock: Clock | None = None,
    loops: Collection[str] | None = QUIET,
) -> Server:
    fresh_database(config)
    services, listening = await app.start(stack, config, clock, loops)
    return Server(
        services,
        listening.public_url.replace("localhost", "127.0.0.1"),
        listening.desk_url.replace("localhost", "127.0.0.1"),
    )


@pytest.fixture
async def server(config: Config, request: pytest.FixtureRequest) -> AsyncIterator[Server]:
    marker = request.node.get_closest_marker("loops")
    loops = QUIET if marker is None else (QUIET + marker.args if marker.args else None)
    async with AsyncExitStack() as stack:
        yield await start_server(stack, config, loops=loops)


class Desk:
    """An HTTP client that uses the desk as a browser would: cookies, forms, CSRF tokens."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base
        self.csrf = ""

    async def form_token(self, path: str) -> str:
        async with self.session.get(self.base + path) as response:
            html = await response.text()
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    async def signin(self, email: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
        token = await self.form_token("/signin")
        response = await self.session.post(
            self.base + "/signin",
            allow_redirects=False,
            data={"csrf_token": token, "email": email, "password": password},
        )
        if response.status == 303:
            self.csrf = await self.form_token("/inbox")
        return response

    async def post(
        self, path: str, data: dict[str, str] | None = None, **kwargs: Any
    ) -> aiohttp.ClientResponse:
        fields = {"csrf_token": self.csrf, **(data or {})}
        return await self.session.post(
            self.base + path, data=fields, allow_redirects=False, **kwargs
        )

    async def post_json(self, path: str, body: dict[str, Any]) -> aiohttp.ClientResponse:
        return await self.session.post(
            self.base + path,
            json=body,
            headers={"X-CSRF-Token": self.csrf, "Accept": "application/json"},
        )

    async def get(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.session.get(self.base + path, allow_redirects=False, **kwargs)


@pytest.fixture
async def client_factory() -> AsyncIterator[Any]:
    sessions: list[aiohttp.ClientSession] = []

    def make(base: str) -> Desk:
        # unsafe=True: keep cookies for an IP address host such as 127.0.0.1.
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        return Desk(session, base)

    yield make
    for session in sessions:
        await session.close()


@dataclass
class Personas:
    """Named people for permission tests."""

    admin: int
    manager: int
    agent: int
    other_agent: int


@pytest.fixture
async def personas(server: Server) -> Personas:
    accounts = server.services.accounts
    return Personas(
        admin=await accounts.create_agent("ada@example.com", "Ada Admin", "admin", PASSWORD),
        manager=await accounts.create_agent("max@example.com", "Max Manager", "manager", PASSWORD),
        agent=await accounts.create_agent("amy@example.com", "Amy Agent", "agent", PASSWORD),
        other_agent=await accounts.create_agent("bob@example.com", "Bob Agent", "agent", PASSWORD),
    )


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def new_page(browser: Any) -> AsyncIterator[Any]:
    """Pages in separate browser contexts (separate cookies), closed before the server stops."""
    contexts = []

    async def make() -> Any:
        context = await browser.new_context(viewport={"width": 1366, "height": 768})
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        await context.close()


@pytest.fixture
def tls_cert(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (certificate file, key file)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _dovecot(tls: tuple[Path, Path] | None) -> Any:
    from mail_servers import Dovecot

    # Not under tmp_path: Dovecot's auth and mail processes run as other users, and pytest's
    # temp folders are private to root.
    folder = Path(tempfile.mkdtemp(prefix="onlinesupport-dovecot-"))
    folder.chmod(0o755)
    server = Dovecot(folder, free_port(), tls)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def dovecot() -> Any:
    """A private Dovecot on a free port (Debian's dovecot-imapd), stopped after the test."""
    yield from _dovecot(None)


@pytest.fixture
def dovecot_tls(tls_cert: tuple[Path, Path]) -> Any:
    """The same, offering STARTTLS with `tls_cert`."""
    yield from _dovecot(tls_cert)


@pytest.fixture
def relay() -> Any:
    """A capturing SMTP relay on a free port, for outgoing mail."""
    from mail_servers import Relay

    server = Relay(free_port())
    server.up()
    yield server
    server.down()


@pytest.fixture(scope="session")
def frozen_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The PyInstaller one-folder build of this checkout, built once per test run."""
    work = tmp_path_factory.mktemp("pyinstaller")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "build"),
            str(ROOT / "onlinesupport.spec"),
        ],
        check=True,
        capture_output=True,
        timeout=600,
        cwd=ROOT,
    )
    [folder] = (work / "dist").glob(f"onlinesupport-{__version__}-*")
    binary = folder / ("onlinesupport.exe" if os.name == "nt" else "onlinesupport")
    assert binary.is_file()
    return binary


async def sign_in_page(page: Any, server: Server, email: str) -> None:
    """Sign in through the desk's sign-in page in a browser; returns once the desk is live."""
    from playwright.async_api import expect

    await page.goto(server.desk_url + "/signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#live")).to_have_text("● Live")
