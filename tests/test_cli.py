"""The `onlinesupport` command as a real process: serve, graceful stop, start-up errors, ops."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from conftest import PASSWORD, Desk, free_port
from onlinesupport.cli import EXIT_CONFIG, _parser

COMMAND = [sys.executable, "-m", "onlinesupport"]


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    # An empty config file of the test's own: a config in the developer's home must not leak in.
    empty = data_dir.parent / "empty.toml"
    empty.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONLINESUPPORT_")}
    env.update(
        ONLINESUPPORT_STORAGE_DATA_DIR=str(data_dir), ONLINESUPPORT_CONFIG=str(empty), **extra
    )
    return env


def _run(
    args: list[str], data_dir: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        COMMAND + args,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(data_dir, **env),
    )


def _wait_for(url: str, timeout: float = 60.0) -> int:
    # Generous: a server process starts in a second or two, but far slower on a machine that
    # runs other test processes beside this one.
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture
def no_config(tmp_path: Path) -> Path:
    return tmp_path / "data"


async def test_serve_answers_on_both_ports_and_stops_cleanly_on_sigterm(no_config: Path) -> None:
    added = _run(
        ["user", "add", "ada@example.com", "--name", "Ada", "--role", "admin", "--password-stdin"],
        no_config,
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    public, desk = free_port(), free_port()
    process = subprocess.Popen(
        COMMAND
        + [
            "serve",
            "--public-host",
            "127.0.0.1",
            "--public-port",
            str(public),
            "--desk-host",
            "127.0.0.1",
            "--desk-port",
            str(desk),
            "--log-level",
            "debug",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(no_config),
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{public}/healthz") == 200
        assert _wait_for(f"http://127.0.0.1:{desk}/healthz") == 200
        second = _run(["serve", "--public-port", "0", "--desk-port", "0"], no_config)
        assert second.returncode == 1
        assert "another OnlineSupport server is running" in second.stderr
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            desk_client = Desk(http, f"http://127.0.0.1:{desk}")
            assert (await desk_client.signin("ada@example.com")).status == 303
            async with http.ws_connect(f"http://127.0.0.1:{desk}/api/ws") as ws:
                assert (await ws.receive_json())["type"] == "hello"
                started = time.monotonic()
                process.send_signal(signal.SIGTERM)
                closing = await ws.receive(timeout=10)
                assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        out, err = await asyncio.to_thread(process.communicate, timeout=20)
        assert process.returncode == 0, err
        assert time.monotonic() - started < 5, "an open agent websocket does not delay shutdown"
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "shutting down" in err
    log = (no_config / "logs" / "onlinesupport.log").read_text()
    assert log.count("desk listener") == 1
    assert re.search(r"127\.0\.0\.1 GET /healthz 200 [\d.]+ms", log), (
        "one line per request at debug"
    )
    key = no_config / "secret_key"
    assert key.stat().st_mode & 0o777 == 0o600


def test_the_first_run_prints_the_setup_link(no_config: Path) -> None:
    public, desk = free_port(), free_port()
    process = subprocess.Popen(
        COMMAND
        + [
            "serve",
            "--public-host",
            "127.0.0.1",
            "--public-port",
            str(public),
            "--desk-host",
            "127.0.0.1",
            "--desk-port",
            str(desk),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(no_config),
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{desk}/signin") == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    link = re.search(rf"http://127\.0\.0\.1:{desk}/setup\?token=[\w-]+", out)
    assert link, out
    assert (out + err).count("/setup?token=") == 1, "printed once, not also in the log"
    assert "setup-link" in err, "the log says how to see it again"
    # The same link is printed on demand (the package installer does this), restarts keep it,
    # and once an admin exists it is spent.
    again = _run(["setup-link", "--desk-host", "127.0.0.1", "--desk-port", str(desk)], no_config)
    assert again.returncode == 0 and link.group(0) in again.stdout, again.stdout
    _run(
        ["user", "add", "ada@example.com", "--name", "Ada", "--role", "admin", "--password-stdin"],
        no_config,
        stdin=PASSWORD + "\n",
    )
    spent = _run(["setup-link", "--desk-host", "127.0.0.1", "--desk-port", str(desk)], no_config)
    assert "An admin account exists already" in spent.stdout
    assert "token=" not in spent.stdout


def test_a_bad_setting_is_one_clear_line_and_exit_code_78(no_config: Path, tmp_path: Path) -> None:
    result = _run(["serve"], no_config, ONLINESUPPORT_DESK_PORT="99999")
    assert result.returncode == EXIT_CONFIG, "the service manager does not retry it"
    assert result.stderr.strip() == (
        "onlinesupport: error: environment variable "
        "ONLINESUPPORT_DESK_PORT: must be between 0 and 65535, got '99999'"
    )
    config = tmp_path / "os.toml"
    config.write_text("[desk]\nprot = 8081\n")
    result = _run(["serve", "--config", str(config)], no_config)
    assert result.returncode == EXIT_CONFIG
    assert (
        result.stderr.strip()
        == f"onlinesupport: error: config file {config}: unknown setting [desk] prot"
    )


def test_a_foreign_database_stops_the_server_with_a_clear_message(no_config: Path) -> None:
    no_config.mkdir(parents=True)
    conn = sqlite3.connect(no_config / "onlinesupport.db")
    conn.execute("CREATE TABLE other (x)")
    conn.close()
    result = _run(["serve", "--public-port", "0", "--desk-port", "0"], no_config)
    assert result.returncode == EXIT_CONFIG
    assert "not an OnlineSupport database" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_reported_plainly(no_config: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run(
            ["serve", "--public-host", "127.0.0.1", "--public-port", str(port), "--desk-port", "0"],
            no_config,
        )
    assert result.returncode == 1
    assert "address already in use" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_user_commands_backup_and_restore(no_config: Path, tmp_path: Path) -> None:
    assert _run(["init"], no_config).returncode == 0
    added = _run(
        ["user", "add", "Ada@Example.com", "--name", "Ada", "--role", "admin", "--password-stdin"],
        no_config,
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    weak = _run(
        ["user", "add", "bo@example.com", "--name", "Bo", "--password-stdin"],
        no_config,
        stdin="short\n",
    )
    assert weak.returncode == 1 and "at least 10 characters" in weak.stderr
    listed = _run(["user", "list"], no_config)
    assert "ada@example.com" in listed.stdout and "admin" in listed.stdout
    backup_file = tmp_path / "backup.db"
    assert _run(["backup", str(backup_file)], no_config).returncode == 0
    assert (
        _run(
            ["user", "add", "cy@example.com", "--name", "Cy", "--password-stdin"],
            no_config,
            stdin=PASSWORD + "\n",
        ).returncode
        == 0
    )
    restored = _run(["restore", str(backup_file)], no_config)
    assert restored.returncode == 0, restored.stderr
    assert "cy@example.com" not in _run(["user", "list"], no_config).stdout
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE x (a)").connection.close()
    refused = _run(["restore", str(foreign)], no_config)
    assert refused.returncode == EXIT_CONFIG and "not an OnlineSupport database" in refused.stderr
    changed = _run(
        ["user", "passwd", "ada@example.com", "--password-stdin"],
        no_config,
        stdin="another long password\n",
    )
    assert changed.returncode == 0, changed.stderr


def test_config_prints_effective_settings_and_a_sample(no_config: Path) -> None:
    effective = _run(["config", "--desk-port", "9000"], no_config)
    assert '[desk]\nhost = "0.0.0.0"\nport = 9000' in effective.stdout
    sample = _run(["config", "--sample"], no_config)
    assert "# port = 8081" in sample.stdout
    version = _run(["version"], no_config)
    assert version.stdout.startswith("onlinesupport ")


def test_selftest_starts_a_throwaway_instance_and_passes(no_config: Path, tmp_path: Path) -> None:
    result = _run(["selftest"], tmp_path / "unused")
    assert result.returncode == 0, result.stderr
    assert "selftest passed" in result.stdout
    assert not (tmp_path / "unused").exists(), "the real data folder is not touched"


def test_reports_rebuild_counts_again_from_the_events(no_config: Path) -> None:
    assert _run(["init"], no_config).returncode == 0
    rebuilt = _run(["reports", "rebuild"], no_config)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "counted again from the events" in rebuilt.stdout
    assert _run(["reports"], no_config).returncode == 2, "an action is needed"


def test_every_command_prints_its_help() -> None:
    """Each command's --help answers (a literal '%' in a setting's help once crashed them all)."""
    parser = _parser()
    names = [[]]
    for action in parser._subparsers._group_actions:  # argparse keeps its commands only here
        for name, sub in action.choices.items():
            names.append([name])
            names += [
                [name, child]
                for group in (sub._subparsers._group_actions if sub._subparsers else [])
                for child in group.choices
            ]
    for args in names:
        with pytest.raises(SystemExit) as stopped:
            parser.parse_args([*args, "--help"])
        assert stopped.value.code == 0, args
    assert ["serve"] in names and ["reports", "rebuild"] in names
