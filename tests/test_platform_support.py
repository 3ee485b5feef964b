"""The platform-specific parts that can run here: service folders and settings file for Linux
and Windows, the runner a service manager stops from another thread, the service's logging,
its firewall rules and recovery settings, the admin commands' default settings, and the
`service` and `setup-link` commands (the folder's permissions: security/test_windows_data_folder).

The pywin32 calls themselves run only on Windows (.github/workflows/windows.yml).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import sys
import threading
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from conftest import free_port, make_config
from onlinesupport import cli
from onlinesupport.config import Config, ConfigError, load_config
from onlinesupport.ops.platform_support import (
    EventLogHandler,
    ServiceLayout,
    ServiceRunner,
    admin_config_default,
    firewall_delete_arguments,
    firewall_rules,
    recovery_commands,
    serve_as_service,
    service_config_text,
    service_layout,
)
from test_cli import _run, _wait_for

linux_only = pytest.mark.skipif(sys.platform == "win32", reason="would act on this Windows host")


def test_windows_keeps_data_and_settings_in_programdata() -> None:
    layout = service_layout("win32", {"ProgramData": r"D:\ProgramData"})
    assert layout.data_dir == PureWindowsPath(r"D:\ProgramData\OnlineSupport\data")
    assert layout.config_file == PureWindowsPath(r"D:\ProgramData\OnlineSupport\onlinesupport.toml")
    assert service_layout("win32", {}).data_dir == PureWindowsPath(
        r"C:\ProgramData\OnlineSupport\data"
    )


def test_linux_matches_the_debian_package() -> None:
    layout = service_layout("linux", {})
    assert layout.data_dir == PurePosixPath("/var/lib/onlinesupport")
    assert layout.config_file == PurePosixPath("/etc/onlinesupport/onlinesupport.toml")
    unit = (Path(__file__).parent.parent / "installer/linux/onlinesupport.service").read_text()
    assert f"ONLINESUPPORT_CONFIG={layout.config_file}" in unit
    assert f"ReadWritePaths={layout.data_dir}" in unit


def test_the_service_settings_file_parses_and_names_the_data_folder(tmp_path: Path) -> None:
    for system in ("win32", "linux"):
        layout = service_layout(system, {"ProgramData": r"C:\ProgramData"})
        text = service_config_text(layout)
        assert tomllib.loads(text)["storage"] == {"data_dir": str(layout.data_dir)}
        path = tmp_path / f"{system}.toml"
        path.write_text(text)
        assert load_config(path, env={}).storage_data_dir == str(layout.data_dir)


# The runner a service manager stops from another thread.


def test_a_service_manager_stops_the_runner_from_another_thread(tmp_path: Path) -> None:
    desk = free_port()
    runner = ServiceRunner()
    thread = threading.Thread(
        target=runner.run, args=(make_config(tmp_path / "data", desk_port=desk),)
    )
    thread.start()
    try:
        assert _wait_for(f"http://127.0.0.1:{desk}/healthz") == 200
    finally:
        started = time.monotonic()
        runner.stop()
        asked = time.monotonic() - started
        thread.join(30)
    assert asked < 0.5, "the control handler must not wait for the server"
    assert not thread.is_alive()
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{desk}/healthz", timeout=2)
        raise AssertionError("still answering after stop")
    except OSError:
        pass


class SlowToStop:
    """A server that takes `seconds` to shut down once told to stop."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.serving = threading.Event()

    async def __call__(self, config: Config, stop: asyncio.Event) -> None:
        self.serving.set()
        await stop.wait()
        await asyncio.sleep(self.seconds)


def test_stop_returns_at_once_and_reports_checkpoints_until_the_server_is_down(
    tmp_path: Path,
) -> None:
    server = SlowToStop(1.0)
    runner = ServiceRunner(server)
    thread = threading.Thread(target=runner.run, args=(make_config(tmp_path),))
    thread.start()
    assert server.serving.wait(10)
    reports: list[float] = []
    started = time.monotonic()
    runner.stop(lambda: reports.append(time.monotonic() - started), every=0.1)
    assert time.monotonic() - started < 0.1
    runner.stop(lambda: reports.append(-1), every=0.1)  # a shutdown after the stop: no-op
    thread.join(10)
    stopped = time.monotonic() - started
    assert not thread.is_alive() and stopped >= 1.0
    # A checkpoint every 0.1 s while it stopped, and none once `run` had returned (the service
    # manager is then told the service has stopped).
    assert len(reports) >= 6 and -1 not in reports
    assert all(b > a for a, b in itertools.pairwise(reports))
    assert reports[-1] <= stopped
    count = len(reports)
    time.sleep(0.3)
    assert len(reports) == count


def test_a_stop_that_comes_before_the_server_started_is_not_lost(tmp_path: Path) -> None:
    server = SlowToStop(0)
    runner = ServiceRunner(server)
    runner.stop()
    thread = threading.Thread(target=runner.run, args=(make_config(tmp_path),))
    thread.start()
    thread.join(10)
    assert not thread.is_alive() and server.serving.is_set()


# The service's logging: file and Event Log, no console.


class EventLog:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def handler(self) -> EventLogHandler:
        return EventLogHandler(self.errors.append, self.warnings.append)


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers[:]:
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def _service_layout(tmp_path: Path, settings: str) -> ServiceLayout:
    layout = ServiceLayout(tmp_path / "data", tmp_path / "onlinesupport.toml")
    Path(layout.config_file).write_text(
        f"[storage]\ndata_dir = '{tmp_path / 'data'}'\n" + settings
    )  # literal: Windows paths
    return layout


def test_the_service_logs_to_its_file_at_the_set_level_and_errors_to_the_event_log(
    tmp_path: Path, root_logging: None, capfd: pytest.CaptureFixture[str]
) -> None:
    layout = _service_layout(tmp_path, '[log]\nlevel = "warning"\n')

    async def serve(config: Config, stop: asyncio.Event) -> None:
        logging.getLogger("onlinesupport.mail").info("an everyday line")
        logging.getLogger("onlinesupport.mail").warning("the mailbox refused the password")
        logging.getLogger("onlinesupport.mail").error("the outbox cannot reach the relay")

    events = EventLog()
    serve_as_service(layout, ServiceRunner(serve), events.handler())
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert not any(type(h) is logging.StreamHandler for h in logging.getLogger().handlers)
    log = (tmp_path / "data" / "logs" / "onlinesupport.log").read_text()
    assert "the mailbox refused the password" in log and "cannot reach the relay" in log
    assert "an everyday line" not in log, "[log] level is obeyed"
    assert len(events.errors) == 1 and "the outbox cannot reach the relay" in events.errors[0]
    assert events.warnings == []
    captured = capfd.readouterr()
    assert "relay" not in captured.err and "relay" not in captured.out, "a service has no console"


def test_a_server_that_cannot_start_is_in_the_event_log_and_fails_the_service(
    tmp_path: Path, root_logging: None
) -> None:
    layout = _service_layout(tmp_path, "")

    async def port_in_use(config: Config, stop: asyncio.Event) -> None:
        raise OSError(
            98,
            "error while attempting to bind on address ('0.0.0.0', 8081): address already in use",
        )

    events = EventLog()
    with pytest.raises(OSError):
        serve_as_service(layout, ServiceRunner(port_in_use), events.handler())
    assert len(events.errors) == 1 and "8081" in events.errors[0]
    assert "8081" in (tmp_path / "data" / "logs" / "onlinesupport.log").read_text()


def test_an_error_while_stopping_as_asked_is_logged_but_not_a_failure(
    tmp_path: Path, root_logging: None
) -> None:
    layout = _service_layout(tmp_path, "")
    runner: ServiceRunner

    async def fails_on_the_way_out(config: Config, stop: asyncio.Event) -> None:
        runner.stop()
        await stop.wait()
        raise RuntimeError("a mailbox connection would not close")

    runner = ServiceRunner(fails_on_the_way_out)
    events = EventLog()
    serve_as_service(layout, runner, events.handler())  # no exception: no restart follows
    assert len(events.errors) == 1 and "would not close" in events.errors[0]


def test_a_bad_settings_file_is_in_the_event_log_though_there_is_no_log_folder_yet(
    tmp_path: Path, root_logging: None
) -> None:
    layout = _service_layout(tmp_path, "[desk]\nport = 99999\n")
    events = EventLog()
    with pytest.raises(ConfigError):
        serve_as_service(layout, ServiceRunner(), events.handler())
    assert len(events.errors) == 1
    assert "[desk] port" in events.errors[0] and str(layout.config_file) in events.errors[0]


def test_the_event_log_handler_sends_warnings_when_asked_and_never_raises() -> None:
    events = EventLog()
    handler = EventLogHandler(events.errors.append, events.warnings.append, logging.WARNING)
    logger = logging.getLogger("test.eventlog")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.info("not this")
        logger.warning("a warning")
        logger.error("x" * 40_000)
        assert events.warnings == ["a warning"]
        assert events.errors == ["x" * EventLogHandler.MAX_CHARS]

        def broken(text: str) -> None:
            raise RuntimeError("event log full")

        logger.removeHandler(handler)
        logger.addHandler(EventLogHandler(broken, broken))
        logging.raiseExceptions, saved = False, logging.raiseExceptions
        try:
            logger.error("lost, but the server goes on")
        finally:
            logging.raiseExceptions = saved
    finally:
        logger.handlers.clear()
        logger.propagate = True


# What `service install` sets up on Windows.


def test_the_firewall_opens_the_desk_to_this_network_and_the_public_port_to_all_profiles() -> None:
    program = r"C:\Program Files\OnlineSupport\onlinesupport.exe"
    desk, public = firewall_rules(load_config(None, env={}))
    assert (desk.name, desk.port, desk.remote) == ("OnlineSupport desk", 8081, "localsubnet")
    assert (public.name, public.port, public.remote) == ("OnlineSupport public", 8080, "any")
    for rule in (desk, public):
        arguments = rule.add_arguments(program)
        assert arguments.startswith(f'advfirewall firewall add rule name="{rule.name}" dir=in ')
        assert "profile=any" in arguments and "private" not in arguments
        assert f"localport={rule.port} remoteip={rule.remote}" in arguments
        assert f'program="{program}"' in arguments
        assert firewall_delete_arguments(rule.name) == (
            f'advfirewall firewall delete rule name="{rule.name}"'
        )


def test_the_firewall_follows_the_settings(tmp_path: Path) -> None:
    config = load_config(None, env={}, overrides={"desk_port": "9443", "public_port": "0"})
    assert [(r.name, r.port) for r in firewall_rules(config)] == [("OnlineSupport desk", 9443)]
    local = load_config(None, env={}, overrides={"desk_host": "127.0.0.1", "public_host": "::1"})
    assert firewall_rules(local) == []


def test_a_failed_start_counts_as_a_failure_for_the_restart() -> None:
    actions, flag = recovery_commands()
    assert actions[:3] == ["sc.exe", "failure", "OnlineSupport"]
    assert actions[-1] == "restart/5000/restart/5000/restart/60000"
    assert flag == ["sc.exe", "failureflag", "OnlineSupport", "1"]


# Admin commands on the installed Windows program use the service's settings.


def test_the_installed_windows_program_defaults_to_the_services_settings(tmp_path: Path) -> None:
    layout = ServiceLayout(tmp_path / "data", tmp_path / "onlinesupport.toml")
    assert admin_config_default(layout, system="win32", frozen=True) is None  # not installed
    Path(layout.config_file).write_text("")
    assert admin_config_default(layout, system="win32", frozen=True) == layout.config_file
    assert admin_config_default(layout, system="win32", frozen=False) is None  # from source
    assert admin_config_default(layout, system="linux", frozen=True) is None  # the .deb's wrapper


def test_an_admin_command_on_the_installed_windows_program_reads_the_services_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = _service_layout(tmp_path, "[desk]\nport = 9081\n")
    monkeypatch.setattr(cli, "service_layout", lambda: layout)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    for name in [n for n in os.environ if n.startswith("ONLINESUPPORT_")]:
        monkeypatch.delenv(name)
    assert cli.main(["config"]) == 0
    shown = tomllib.loads(capsys.readouterr().out)
    assert shown["desk"]["port"] == 9081
    assert shown["storage"]["data_dir"] == str(tmp_path / "data")
    # A file named on the command line or in ONLINESUPPORT_CONFIG still wins.
    other = tmp_path / "other.toml"
    other.write_text("[desk]\nport = 7081\n")
    assert cli.main(["config", "--config", str(other)]) == 0
    assert tomllib.loads(capsys.readouterr().out)["desk"]["port"] == 7081
    monkeypatch.setenv("ONLINESUPPORT_CONFIG", str(other))
    assert cli.main(["config"]) == 0
    assert tomllib.loads(capsys.readouterr().out)["desk"]["port"] == 7081


# The commands the installer runs.


@linux_only
def test_the_service_command_on_linux_points_at_systemd(tmp_path: Path) -> None:
    result = _run(["service", "install"], tmp_path / "data")
    assert result.returncode == 1 and "systemctl" in result.stderr
    wrong = _run(["service", "explode"], tmp_path / "data")
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr


def test_setup_link_waits_for_the_desk_and_prints_the_link_alone(tmp_path: Path) -> None:
    desk = free_port()
    flags = ["--desk-host", "127.0.0.1", "--desk-port", str(desk)]
    late = _run(["setup-link", "--wait", "1", "--url-only", *flags], tmp_path / "data")
    assert late.returncode == 1 and "did not answer" in late.stderr and late.stdout == ""

    runner = ServiceRunner()
    thread = threading.Thread(
        target=runner.run, args=(make_config(tmp_path / "data", desk_port=desk),)
    )
    # The installer starts the service and asks for the link at once: the wait covers start-up.
    asked = _run_in_background(
        ["setup-link", "--wait", "30", "--url-only", *flags], tmp_path / "data"
    )
    thread.start()
    try:
        result = asked.result(timeout=60)
        assert result.returncode == 0, result.stderr
        link = result.stdout.strip()
        assert link.startswith(f"http://127.0.0.1:{desk}/setup?token=") and "\n" not in link
        assert _wait_for(link) == 200  # the running desk takes this very token
    finally:
        runner.stop()
        thread.join(30)


def _run_in_background(args: list[str], data_dir: Path) -> Future:
    pool = ThreadPoolExecutor(1)
    future = pool.submit(_run, args, data_dir)
    pool.shutdown(wait=False)
    return future
