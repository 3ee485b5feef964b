"""The Debian package: built with dpkg-deb, installed, run as its systemd unit runs it, upgraded
over with a second build (nothing lost), removed (data kept) and purged (data gone).

Installs into the machine's /opt, /etc and /var/lib, so it needs root (CI runs as root) and
refuses to touch a machine where the package is installed already.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import aiohttp
import pytest

from conftest import PASSWORD, ROOT, Desk, free_port
from onlinesupport.store.migrate import latest_version
from test_cli import _wait_for

pytestmark = pytest.mark.frozen

UNIT = Path("/lib/systemd/system/onlinesupport.service")
DATA = Path("/var/lib/onlinesupport")
CONFIG = Path("/etc/onlinesupport/onlinesupport.toml")
SITE = "https://shop.example.com"


def _build(app_dir: Path, out: Path, revision: str) -> Path:
    result = subprocess.run(
        [
            "sh",
            str(ROOT / "installer" / "linux" / "build-deb.sh"),
            str(app_dir),
            str(out),
            revision,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def packages(frozen_app: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("deb")
    return _build(frozen_app.parent, out, "1"), _build(frozen_app.parent, out, "2")


@pytest.fixture
def clean_machine() -> Iterator[None]:
    if os.geteuid() != 0:
        pytest.skip("installs a package into the system: run as root (CI does)")
    if subprocess.run(["dpkg", "-s", "onlinesupport"], capture_output=True).returncode == 0:
        pytest.fail("an onlinesupport package is installed on this machine; not touching it")
    yield
    subprocess.run(["dpkg", "--purge", "onlinesupport"], capture_output=True)


def _dpkg(*args: str) -> str:
    result = subprocess.run(
        ["dpkg", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _unit_service() -> dict[str, list[str]]:
    """The [Service] lines of the installed unit, each key with all its values."""
    values: dict[str, list[str]] = {}
    section = ""
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values.setdefault(key, []).append(value)
    return values


class Installed:
    """The installed program, started the way its unit starts it, on free local ports."""

    def __init__(self) -> None:
        self.public, self.desk = free_port(), free_port()
        self.process: subprocess.Popen[str] | None = None

    def _command(self) -> tuple[list[str], dict[str, str]]:
        unit = _unit_service()
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
        for assignment in unit.get("Environment", []):
            key, value = assignment.split("=", 1)
            env[key] = value
        env.update(
            ONLINESUPPORT_PUBLIC_HOST="127.0.0.1",
            ONLINESUPPORT_PUBLIC_PORT=str(self.public),
            ONLINESUPPORT_DESK_HOST="127.0.0.1",
            ONLINESUPPORT_DESK_PORT=str(self.desk),
        )
        user, group = unit["User"][0], unit["Group"][0]
        command = [
            "setpriv",
            f"--reuid={user}",
            f"--regid={group}",
            "--init-groups",
            *shlex.split(unit["ExecStart"][0]),
        ]
        return command, env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command, env = self._command()
        return subprocess.run(
            command[:-1] + list(args), capture_output=True, text=True, env=env, timeout=60
        )

    def start(self) -> None:
        command, env = self._command()
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert _wait_for(f"http://127.0.0.1:{self.desk}/healthz", timeout=30) == 200

    def stop(self) -> str:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=30)
        assert self.process.returncode == 0, err
        return err

    @property
    def desk_url(self) -> str:
        return f"http://127.0.0.1:{self.desk}"

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.public}"


async def _first_admin_and_a_chat(server: Installed, token: str) -> int:
    """Create the admin with the printed link, allow the website, chat both ways."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        desk = Desk(http, server.desk_url)
        csrf = await desk.form_token(f"/setup?token={token}")
        created = await http.post(
            server.desk_url + "/setup",
            allow_redirects=False,
            data={
                "csrf_token": csrf,
                "token": token,
                "name": "Ada",
                "email": "ada@example.com",
                "password": PASSWORD,
                "password_again": PASSWORD,
            },
        )
        assert created.status == 303 and created.headers["Location"] == "/welcome"
        desk.csrf = await desk.form_token("/inbox")
        saved = await desk.post("/welcome/website", {"website": SITE, "title": "Chat with us"})
        assert saved.status == 303

        ws = await http.ws_connect(server.public_url + "/widget/ws", origin=SITE)
        await ws.send_json({"type": "hello"})
        assert (await ws.receive_json(timeout=5))["type"] == "welcome"
        await ws.send_json({"type": "start", "client_id": "c1", "body": "Is my order shipped?"})
        frames = [await ws.receive_json(timeout=5) for _ in range(2)]
        [ack] = [f for f in frames if f["type"] == "ack"]
        conversation_id = ack["conversation_id"]
        reply = await desk.post_json(
            f"/conversations/{conversation_id}/messages",
            {"body": "Yes, it left today.", "client_id": "r1"},
        )
        assert reply.status == 200, await reply.text()
        while (frame := await ws.receive_json(timeout=5))["type"] != "message" or frame[
            "author_type"
        ] != "agent":
            pass
        assert frame["body"] == "Yes, it left today."
        await ws.close()
        return conversation_id


async def _still_there(server: Installed, conversation_id: int) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        desk = Desk(http, server.desk_url)
        assert (await desk.signin("ada@example.com")).status == 303
        page = await (await desk.get(f"/conversations/{conversation_id}")).text()
        assert "Is my order shipped?" in page and "Yes, it left today." in page


async def test_install_run_upgrade_remove_and_purge(
    packages: tuple[Path, Path], clean_machine: None
) -> None:
    first, second = packages
    installed_output = _dpkg("-i", str(first))
    link = re.search(
        r"Create the first admin account at (http://\S+/setup\?token=([\w-]+))", installed_output
    )
    assert link, installed_output
    assert Path("/opt/onlinesupport/onlinesupport").is_file()
    assert (CONFIG.stat().st_mode & 0o777, CONFIG.group()) == (0o640, "onlinesupport")
    assert 'data_dir = "/var/lib/onlinesupport"' in CONFIG.read_text()
    assert DATA.owner() == "onlinesupport"
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(UNIT)], capture_output=True, text=True, timeout=60
    )
    assert verified.returncode == 0, verified.stderr
    version = subprocess.run(["onlinesupport", "version"], capture_output=True, text=True)
    assert version.stdout.startswith("onlinesupport ")

    server = Installed()
    server.start()
    try:
        conversation_id = await _first_admin_and_a_chat(server, link.group(2))
    finally:
        server.stop()
    assert {p.owner() for p in DATA.iterdir()} == {"onlinesupport"}, (
        "the service user owns its data"
    )

    with CONFIG.open("a") as config:
        config.write("# changed by the admin\n")
    upgrade_output = _dpkg("-i", str(second))
    assert "An admin account exists already" in upgrade_output
    assert "# changed by the admin" in CONFIG.read_text(), "the admin's config is kept"
    server = Installed()
    server.start()
    try:
        await _still_there(server, conversation_id)
    finally:
        server.stop()

    # A database from a newer version (a downgrade) is refused with a clear message, with the
    # exit status the unit does not restart on.
    database = DATA / "onlinesupport.db"
    with closing(sqlite3.connect(database)) as conn:
        conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    refused = Installed().run("serve")
    assert "RestartPreventExitStatus=78" in UNIT.read_text()
    assert refused.returncode == 78 and "newer than this program" in refused.stderr
    with closing(sqlite3.connect(database)) as conn:
        conn.execute(f"PRAGMA user_version = {latest_version()}")

    _dpkg("-r", "onlinesupport")
    assert not Path("/opt/onlinesupport").exists() and not UNIT.exists()
    assert database.is_file() and CONFIG.is_file(), "remove keeps data and settings"
    _dpkg("-P", "onlinesupport")
    assert not DATA.exists() and not CONFIG.parent.exists()
    assert subprocess.run(["getent", "passwd", "onlinesupport"]).returncode != 0
