"""What differs between operating systems when OnlineSupport runs as a system service.

Linux: the .deb's systemd unit runs `onlinesupport serve` (installer/linux). Windows: the
installer calls `onlinesupport service install`, which registers a Windows service that the
service manager starts through pywin32 (windows_service.py, imported only on Windows). Everything
that service does and sets up but the pywin32 calls themselves lives here, so it is tested on
Linux too: folders and settings, the runner a service manager stops from another thread, the
logging, the firewall rules, the folder's permissions and the recovery settings.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from onlinesupport import __version__
from onlinesupport.config import Config, ConfigError, load_config, render_toml
from onlinesupport.lib import logs
from onlinesupport.ops.datadir import DataDirLocked
from onlinesupport.store import StoreError

SERVICE_NAME = "OnlineSupport"
SERVICE_ACCOUNT = rf"NT SERVICE\{SERVICE_NAME}"
"""The service's virtual account: no password, no rights beyond what is granted to it."""
SERVICE_ACTIONS = ("install", "start", "stop", "remove", "run")
OPEN_FILES_WANTED = 65536
"""Open files the server asks for at start-up (every connection holds one)."""

STOP_WAIT_HINT_MS = 30_000
"""How long a stop may take, told to the service manager with every checkpoint: each listener
gives open requests app.SHUTDOWN_TIMEOUT (10 s), then the services close (about 20 s in all)."""
CHECKPOINT_EVERY = 2.0
"""Seconds between the stop checkpoints reported while the server shuts down."""

log = logging.getLogger("onlinesupport")


@dataclass(frozen=True)
class ServiceLayout:
    """Where an installed service keeps its data and reads its settings."""

    data_dir: PurePath
    config_file: PurePath


def service_layout(
    system: str = sys.platform, environ: Mapping[str, str] = os.environ
) -> ServiceLayout:
    if system == "win32":
        # The all-users application data folder (platformdirs' site folder), not a profile.
        base = (
            PureWindowsPath(
                environ.get("ProgramData") or environ.get("PROGRAMDATA") or r"C:\ProgramData"
            )
            / SERVICE_NAME
        )
        return ServiceLayout(base / "data", base / "onlinesupport.toml")
    return ServiceLayout(
        PurePosixPath("/var/lib/onlinesupport"),
        PurePosixPath("/etc/onlinesupport/onlinesupport.toml"),
    )


def service_config_text(layout: ServiceLayout) -> str:
    """The settings file an installer writes: every setting commented, the data folder set."""
    sample = render_toml(None, commented=True)
    data_dir = str(layout.data_dir).replace("\\", "\\\\")
    return (
        "# OnlineSupport settings. Uncomment a line to change it, then restart the service.\n"
        "# Everything else is set in the admin pages of the desk.\n\n"
        + sample.replace('# data_dir = ""', f'data_dir = "{data_dir}"', 1)
    )


def admin_config_default(layout: ServiceLayout, *, system: str, frozen: bool) -> Path | None:
    """The settings file an admin command uses when none is named, or None for the usual one.

    The installed Windows program works on the installed service's settings and data, the
    way the Linux package's /usr/bin/onlinesupport sets ONLINESUPPORT_CONFIG: an admin who
    types `onlinesupport user add` must not get a new, empty instance in their own profile.
    """
    if system != "win32" or not frozen:
        return None
    path = Path(layout.config_file)
    return path if path.is_file() else None


def raise_open_file_limit(wanted: int = OPEN_FILES_WANTED) -> tuple[int | None, int | None]:
    """Raise this process's soft limit of open files toward its hard limit, up to `wanted`.

    Returns the limit before and after; None where the system sets no such limit per process
    (Windows). Linux services often start with 1,024 (the .deb's unit asks for 65,536).
    """
    try:
        import resource
    except ImportError:
        return None, None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None, None
    target = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
    # macOS refuses more than its own per-process maximum (often 10,240), whatever `hard` says.
    for candidate in (target, min(target, 10_240)):
        if candidate <= soft:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (candidate, hard))
        except (ValueError, OSError):
            continue
        return soft, candidate
    return soft, soft


def open_file_limit() -> int | None:
    """This process's soft limit of open files; None where there is none (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def open_files() -> int | None:
    """How many files (sockets too) this process has open, where the system says (Linux:
    /proc/self/fd, macOS: /dev/fd)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(folder))
        except OSError:
            continue
    return None


class ServiceRunner:
    """Runs the server on its own event loop until `stop()` is called from another thread
    (how a service manager stops a service).

    `stop()` returns at once, since the service manager's control handler that calls it must;
    until the server is down, it calls `progress` every few seconds so the manager sees the
    stop advance and keeps waiting.
    """

    def __init__(
        self, serve: Callable[[Config, asyncio.Event], Awaitable[None]] | None = None
    ) -> None:
        self._serve = serve
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._stopping = False
        self._finished = False
        self._done = threading.Event()

    def run(self, config: Config) -> None:
        """Serve until stopped; raises what stopped the server if it was not `stop()`."""
        try:
            asyncio.run(self._main(config))
        finally:
            with self._lock:
                self._finished = True
            self._done.set()

    async def _main(self, config: Config) -> None:
        stop = asyncio.Event()
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._stop_event = stop
            if self._stopping:
                stop.set()
        try:
            if self._serve is not None:
                await self._serve(config, stop)
            else:
                from onlinesupport import app

                await app.serve(config, stop, handle_signals=False)
        finally:
            with self._lock:  # before the loop closes: a later stop() must not call into it
                self._loop = None

    @property
    def stop_requested(self) -> bool:
        return self._stopping

    def stop(
        self, progress: Callable[[], None] | None = None, every: float = CHECKPOINT_EVERY
    ) -> None:
        """Ask the server to stop; returns at once (also before `run` has started)."""
        with self._lock:
            if self._finished or self._stopping:
                return
            self._stopping = True
            if self._loop is not None and self._stop_event is not None:
                self._loop.call_soon_threadsafe(self._stop_event.set)
        if progress is not None:
            threading.Thread(
                target=self._report,
                args=(progress, every),
                daemon=True,
                name="service-stop-progress",
            ).start()

    def _report(self, progress: Callable[[], None], every: float) -> None:
        while not self._done.wait(every):
            # Under the lock: once `run` has returned no report may follow, since the service
            # manager is then told the service has stopped.
            with self._lock:
                if self._finished:
                    return
                progress()


class EventLogHandler(logging.Handler):
    """Sends errors to the Windows Event Log, so an admin sees why the service stopped even
    without its log file. The writers are pywin32's servicemanager.LogErrorMsg and
    LogWarningMsg (the Application log, source OnlineSupport)."""

    MAX_CHARS = 30_000
    """ReportEvent takes at most 31,839 characters in one string."""

    def __init__(
        self,
        write_error: Callable[[str], None],
        write_warning: Callable[[str], None],
        level: int = logging.ERROR,
    ) -> None:
        super().__init__(level)
        self._write_error = write_error
        self._write_warning = write_warning

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)[: self.MAX_CHARS]
            if record.levelno >= logging.ERROR:
                self._write_error(text)
            else:
                self._write_warning(text)
        except Exception:
            self.handleError(record)


def serve_as_service(
    layout: ServiceLayout, runner: ServiceRunner, event_log: logging.Handler
) -> None:
    """What the Windows service runs, from its start until it is stopped.

    It reads the service's settings file, logs to the data folder's log file at the configured
    level with errors also to the Event Log, and has no console. A server that cannot start or
    stops on an error raises, so the service manager counts a failure and restarts it.
    """
    logs.configure("info", None, console=False, handlers=[event_log])
    try:
        config = load_config(Path(layout.config_file))
    except ConfigError as exc:
        log.error("OnlineSupport cannot start: %s", exc)
        raise
    log_dir = config.data_dir / "logs"
    logs.configure(config.log_level, log_dir, console=False, handlers=[event_log])
    log.info(
        "OnlineSupport %s starting as the %s service; settings: %s",
        __version__,
        SERVICE_NAME,
        layout.config_file,
    )
    try:
        runner.run(config)
    except (ConfigError, StoreError, DataDirLocked, OSError) as exc:
        log.error("OnlineSupport cannot run: %s (log: %s)", exc, log_dir / "onlinesupport.log")
        if not runner.stop_requested:
            raise
    except Exception:
        log.exception("OnlineSupport stopped on an unexpected error")
        # An error while stopping as asked is logged, but is no failure to restart after.
        if not runner.stop_requested:
            raise
    log.info("OnlineSupport has stopped")


@dataclass(frozen=True)
class FirewallRule:
    """An inbound Windows firewall rule for one listener, on every network profile: a server
    is on the Domain or Public profile; Windows never puts a network in Private by itself."""

    name: str
    port: int
    remote: str
    description: str

    def add_arguments(self, program: str) -> str:
        """netsh's arguments, quoted the way its documentation writes them."""
        return (
            f'advfirewall firewall add rule name="{self.name}" dir=in action=allow '
            f"protocol=TCP localport={self.port} remoteip={self.remote} profile=any "
            f'program="{program}" enable=yes description="{self.description}"'
        )


FIREWALL_RULE_NAMES = ("OnlineSupport desk", "OnlineSupport public")


def firewall_delete_arguments(name: str) -> str:
    """netsh's arguments that delete every rule of that name (older versions' included)."""
    return f'advfirewall firewall delete rule name="{name}"'


def firewall_rules(config: Config) -> list[FirewallRule]:
    """The rules the settings call for.

    The desk opens to this computer's own subnets only (its [desk] allowed_networks still
    applies on top); the public listener opens to any address, since the website's visitors
    or the reverse proxy in front of it reach it from elsewhere. A listener bound to a loopback
    address or to a port picked at start-up (0) gets no rule.
    """
    rules = []
    for name, host, port, remote, description in (
        (
            FIREWALL_RULE_NAMES[0],
            config.desk_host,
            config.desk_port,
            "localsubnet",
            "OnlineSupport desk: agents' browsers on this network",
        ),
        (
            FIREWALL_RULE_NAMES[1],
            config.public_host,
            config.public_port,
            "any",
            "OnlineSupport public listener: website chat, help centre, contact form",
        ),
    ):
        if port == 0 or _is_loopback(host):
            continue
        rules.append(FirewallRule(name, port, remote, description))
    return rules


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def folder_acl_commands(folder: PurePath, account: str = SERVICE_ACCOUNT) -> list[list[str]]:
    """icacls runs that leave the service's folder to SYSTEM, Administrators and the service.

    The folder holds the settings, the database, the secret key that signs desk sessions,
    backups and TLS keys, and a restore-pending.db in it is swapped in at the next start.
    ProgramData lets every local user read and create files in its subfolders, so inheritance
    from it is removed, and the files already there (an upgrade) are made to inherit the
    folder's entries only. Well-known SIDs, not names, so a localized Windows matches too.
    """
    return [
        [
            "icacls",
            str(folder),
            "/inheritance:r",
            "/grant:r",
            "*S-1-5-18:(OI)(CI)F",
            "*S-1-5-32-544:(OI)(CI)F",
            f"{account}:(OI)(CI)M",
        ],
        ["icacls", str(folder / "*"), "/reset", "/T", "/C", "/Q"],
    ]


def recovery_commands(name: str = SERVICE_NAME) -> list[list[str]]:
    """sc runs: restart after 5 s, 5 s, then 60 s (the count resets after a day), also when the
    service stops with an error of its own, which is how a failed start (port in use, refused
    database) ends; without the flag Windows counts only crashes."""
    return [
        [
            "sc.exe",
            "failure",
            name,
            "reset=",
            "86400",
            "actions=",
            "restart/5000/restart/5000/restart/60000",
        ],
        ["sc.exe", "failureflag", name, "1"],
    ]
