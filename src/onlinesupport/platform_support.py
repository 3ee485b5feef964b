"""What differs between operating systems when OnlineSupport runs as a system service.

Linux: the .deb's systemd unit runs `onlinesupport serve` (installer/linux). Windows: the
installer calls `onlinesupport service install`, which registers a Windows service that the
service manager starts through pywin32 (windows_service.py, imported only on Windows). The
folders, the service's settings file and the runner that a service manager stops from another
thread live here, so they are tested on Linux too.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath, PureWindowsPath

from onlinesupport.config import Config, render_toml

SERVICE_NAME = "OnlineSupport"
SERVICE_ACTIONS = ("install", "start", "stop", "remove", "run")
OPEN_FILES_WANTED = 65536
"""Open files the server asks for at start-up (every connection holds one)."""


@dataclass(frozen=True)
class ServiceLayout:
    """Where an installed service keeps its data and reads its settings."""

    data_dir: PurePath
    config_file: PurePath


def service_layout(system: str = sys.platform,
                   environ: Mapping[str, str] = os.environ) -> ServiceLayout:
    if system == "win32":
        # The all-users application data folder (platformdirs' site folder), not a profile.
        base = PureWindowsPath(environ.get("ProgramData") or environ.get("PROGRAMDATA")
                               or r"C:\ProgramData") / SERVICE_NAME
        return ServiceLayout(base / "data", base / "onlinesupport.toml")
    return ServiceLayout(PurePosixPath("/var/lib/onlinesupport"),
                         PurePosixPath("/etc/onlinesupport/onlinesupport.toml"))


def service_config_text(layout: ServiceLayout) -> str:
    """The settings file an installer writes: every setting commented, the data folder set."""
    sample = render_toml(None, commented=True)
    data_dir = str(layout.data_dir).replace("\\", "\\\\")
    return ("# OnlineSupport settings. Uncomment a line to change it, then restart the service.\n"
            "# Everything else is set in the admin pages of the desk.\n\n"
            + sample.replace('# data_dir = ""', f'data_dir = "{data_dir}"', 1))


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
    (how a service manager stops a service)."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        from onlinesupport import app

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        await app.serve(self._config, self._stop, handle_signals=False)

    def stop(self, timeout: float = 30) -> None:
        if not self._ready.wait(timeout):
            return
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
