"""The Windows service (imported only on Windows, where pywin32 is installed).

`onlinesupport service install` registers it (delayed automatic start, the virtual account
NT SERVICE\\OnlineSupport, restarts after a failure), locks its folder down to SYSTEM,
Administrators and the service, and opens the firewall for it; the service manager then runs
`onlinesupport service run`, which hands control to the service dispatcher. What the service
does and sets up is in platform_support (tested on Linux); this module only makes the calls.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PureWindowsPath

import pywintypes
import servicemanager
import win32api
import win32con
import win32event
import win32service
import win32serviceutil
import winerror

from onlinesupport.config import Config, load_config
from onlinesupport.ops.platform_support import (
    FIREWALL_RULE_NAMES,
    SERVICE_ACCOUNT,
    SERVICE_NAME,
    STOP_WAIT_HINT_MS,
    EventLogHandler,
    ServiceLayout,
    ServiceRunner,
    firewall_delete_arguments,
    firewall_rules,
    folder_acl_commands,
    recovery_commands,
    serve_as_service,
    service_config_text,
    service_layout,
)

STOP_TIMEOUT = 60
"""Seconds `service stop` and `service remove` wait for the service to stop."""
EXIT_TIMEOUT = 30
"""Seconds they then wait for its process to end (it holds the program's files until then)."""


class ServiceError(Exception):
    """A service command failed; the message says what and why."""


class OnlineSupportService(win32serviceutil.ServiceFramework):
    _svc_name_ = SERVICE_NAME
    _svc_display_name_ = "OnlineSupport"
    _svc_description_ = "Self-hosted online customer service: website chat, email and the desk."

    def __init__(self, args: list[str]) -> None:
        super().__init__(args)
        self._runner = ServiceRunner()

    def GetAcceptedControls(self) -> int:  # noqa: N802 (pywin32's name)
        # Before a shutdown (updates restart servers at night) Windows waits for a service that
        # takes preshutdown, up to its preshutdown timeout; a plain shutdown allows seconds.
        return super().GetAcceptedControls() | win32service.SERVICE_ACCEPT_PRESHUTDOWN

    def SvcStop(self) -> None:  # noqa: N802
        self._stop()

    def SvcShutdown(self) -> None:  # noqa: N802
        self._stop()

    def SvcOtherEx(self, control: int, event_type: int, data: object) -> None:  # noqa: N802
        if control == win32service.SERVICE_CONTROL_PRESHUTDOWN:
            self._stop()

    def _stop(self) -> None:
        # Returns at once: the runner reports a checkpoint every few seconds until it is down.
        self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING, waitHint=STOP_WAIT_HINT_MS)
        self._runner.stop(
            lambda: self.ReportServiceStatus(
                win32service.SERVICE_STOP_PENDING, waitHint=STOP_WAIT_HINT_MS
            )
        )

    def SvcDoRun(self) -> None:  # noqa: N802
        serve_as_service(
            service_layout(),
            self._runner,
            EventLogHandler(servicemanager.LogErrorMsg, servicemanager.LogWarningMsg),
        )


def _prepare(layout: ServiceLayout) -> None:
    Path(layout.data_dir).mkdir(parents=True, exist_ok=True)
    config = Path(layout.config_file)
    if not config.exists():
        config.write_text(service_config_text(layout), encoding="utf-8")


def _program() -> tuple[str, str]:
    """The executable and arguments the service manager starts."""
    if getattr(sys, "frozen", False):
        return sys.executable, "service run"
    return sys.executable, "-m onlinesupport service run"


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, errors="replace")
    if done.returncode != 0:
        raise ServiceError(
            f"{what} failed (exit code {done.returncode}): {(done.stdout + done.stderr).strip()}"
        )


def _netsh(arguments: str) -> subprocess.CompletedProcess[str]:
    netsh = os.path.join(os.environ.get("SystemRoot", r"C:\Windows"), "System32", "netsh.exe")
    return subprocess.run(
        f'"{netsh}" {arguments}', capture_output=True, text=True, errors="replace"
    )


def _register(display: str, description: str) -> str:
    exe, args = _program()
    options = dict(
        startType=win32service.SERVICE_AUTO_START,
        exeName=exe,
        exeArgs=args,
        description=description,
        userName=SERVICE_ACCOUNT,
        delayedstart=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            win32serviceutil.InstallService(None, SERVICE_NAME, display, **options)
            return "installed"
        except pywintypes.error as exc:
            if exc.winerror == winerror.ERROR_SERVICE_EXISTS:
                # An upgrade: the same service, brought up to this version's settings.
                win32serviceutil.ChangeServiceConfig(
                    None, SERVICE_NAME, displayName=display, **options
                )
                return "updated"
            # A removed service stays "marked for deletion" until every handle to it closes.
            if exc.winerror != winerror.ERROR_SERVICE_MARKED_FOR_DELETE or (
                time.monotonic() > deadline
            ):
                raise
            time.sleep(1)


@contextmanager
def _service_handle(access: int) -> Iterator[object]:
    manager = win32service.OpenSCManager(None, None, win32service.SC_MANAGER_CONNECT)
    try:
        service = win32service.OpenService(manager, SERVICE_NAME, access)
        try:
            yield service
        finally:
            win32service.CloseServiceHandle(service)
    finally:
        win32service.CloseServiceHandle(manager)


def _set_preshutdown_timeout() -> None:
    with _service_handle(win32service.SERVICE_CHANGE_CONFIG) as service:
        win32service.ChangeServiceConfig2(
            service, win32service.SERVICE_CONFIG_PRESHUTDOWN_INFO, STOP_WAIT_HINT_MS
        )


def _install(layout: ServiceLayout) -> str:
    _prepare(layout)
    config = load_config(Path(layout.config_file))  # a bad settings file stops the install here
    display = OnlineSupportService._svc_display_name_
    action = _register(display, OnlineSupportService._svc_description_)
    _set_preshutdown_timeout()
    for command in recovery_commands():
        _run(command, "setting the restart after a failure")
    for command in folder_acl_commands(PureWindowsPath(layout.config_file).parent):
        _run(command, "restricting the folder to SYSTEM, Administrators and the service")
    # The event source names servicemanager's messages; the service's own account may not
    # write that registry key, so it is registered here, by the administrator.
    servicemanager.SetEventSourceName(SERVICE_NAME, True)
    opened = _open_firewall(config)
    return (
        f"service {SERVICE_NAME} {action} (runs as {SERVICE_ACCOUNT}); settings in "
        f"{layout.config_file}; firewall: {opened or 'no port opened'}"
    )


def _open_firewall(config: Config) -> str:
    exe, _ = _program()
    for name in FIREWALL_RULE_NAMES:
        _netsh(firewall_delete_arguments(name))  # fails harmlessly when there is none
    opened = []
    for rule in firewall_rules(config):
        done = _netsh(rule.add_arguments(exe))
        if done.returncode != 0:
            raise ServiceError(
                f"adding the firewall rule {rule.name!r} failed: "
                f"{(done.stdout + done.stderr).strip()}"
            )
        opened.append(f"TCP {rule.port} from {rule.remote}")
    return ", ".join(opened)


def _process_id() -> int:
    with _service_handle(win32service.SERVICE_QUERY_STATUS) as service:
        return int(win32service.QueryServiceStatusEx(service)["ProcessId"])


def _stop(terminate_if_stuck: bool = False) -> None:
    """Stop the service and wait until its process has ended (uninstall deletes its files)."""
    pid = _process_id()
    try:
        win32serviceutil.StopServiceWithDeps(SERVICE_NAME, waitSecs=STOP_TIMEOUT)
    except pywintypes.error as exc:
        if exc.winerror != winerror.ERROR_SERVICE_REQUEST_TIMEOUT or not terminate_if_stuck:
            raise
    if not pid:
        return
    try:
        process = win32api.OpenProcess(
            win32con.SYNCHRONIZE | win32con.PROCESS_TERMINATE, False, pid
        )
    except pywintypes.error:
        return  # already gone
    try:
        ended = win32event.WaitForSingleObject(process, EXIT_TIMEOUT * 1000)
        if ended != win32event.WAIT_OBJECT_0:
            if not terminate_if_stuck:
                raise ServiceError(
                    f"the service's process {pid} did not end within {EXIT_TIMEOUT} s of stopping"
                )
            # SQLite keeps the database consistent even so; the files must go.
            win32api.TerminateProcess(process, 1)
    finally:
        win32api.CloseHandle(process)


def _remove(layout: ServiceLayout) -> str:
    try:
        _stop(terminate_if_stuck=True)
        win32serviceutil.RemoveService(SERVICE_NAME)  # also its event source
        removed = f"service {SERVICE_NAME} removed"
    except pywintypes.error as exc:
        if exc.winerror != winerror.ERROR_SERVICE_DOES_NOT_EXIST:
            raise
        removed = f"service {SERVICE_NAME} was not installed"
    for name in FIREWALL_RULE_NAMES:
        _netsh(firewall_delete_arguments(name))
    return f"{removed}; firewall rules removed; data kept in {layout.data_dir}"


def command(action: str) -> str:
    """Carry out `onlinesupport service ACTION`; returns what to tell the admin."""
    layout = service_layout()
    if action == "run":
        servicemanager.Initialize(SERVICE_NAME)
        servicemanager.PrepareToHostSingle(OnlineSupportService)
        servicemanager.StartServiceCtrlDispatcher()
        return ""
    try:
        if action == "install":
            return _install(layout)
        if action == "start":
            try:
                win32serviceutil.StartService(SERVICE_NAME)
            except pywintypes.error as exc:
                if exc.winerror != winerror.ERROR_SERVICE_ALREADY_RUNNING:
                    raise
            return f"service {SERVICE_NAME} started"
        if action == "stop":
            _stop()
            return f"service {SERVICE_NAME} stopped"
        if action == "remove":
            return _remove(layout)
    except pywintypes.error as exc:
        raise ServiceError(
            f"{exc.funcname}: {exc.strerror} (Windows error {exc.winerror})"
        ) from None
    raise ValueError(action)
