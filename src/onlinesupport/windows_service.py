"""The Windows service (imported only on Windows, where pywin32 is installed).

`onlinesupport service install` registers it to start automatically and restart after a
failure; the service manager then runs `onlinesupport service run`, which hands control to
the service dispatcher. The server itself runs in platform_support.ServiceRunner.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import servicemanager
import win32service
import win32serviceutil

from onlinesupport.config import load_config
from onlinesupport.platform_support import (
    SERVICE_NAME,
    ServiceLayout,
    ServiceRunner,
    service_config_text,
    service_layout,
)


class OnlineSupportService(win32serviceutil.ServiceFramework):
    _svc_name_ = SERVICE_NAME
    _svc_display_name_ = "OnlineSupport"
    _svc_description_ = "Self-hosted online customer service: website chat, email and the desk."

    def __init__(self, args: list[str]) -> None:
        super().__init__(args)
        layout = service_layout()
        self._runner = ServiceRunner(load_config(Path(layout.config_file)))

    def SvcStop(self) -> None:  # noqa: N802 (pywin32's name)
        self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING)
        self._runner.stop()

    def SvcDoRun(self) -> None:  # noqa: N802 (pywin32's name)
        servicemanager.LogInfoMsg("OnlineSupport is starting")
        self._runner.run()
        servicemanager.LogInfoMsg("OnlineSupport has stopped")


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


def command(action: str) -> str:
    """Carry out `onlinesupport service ACTION`; returns what to tell the admin."""
    layout = service_layout()
    if action == "run":
        servicemanager.Initialize()
        servicemanager.PrepareToHostSingle(OnlineSupportService)
        servicemanager.StartServiceCtrlDispatcher()
        return ""
    if action == "install":
        _prepare(layout)
        exe, args = _program()
        win32serviceutil.InstallService(
            None, SERVICE_NAME, OnlineSupportService._svc_display_name_,
            startType=win32service.SERVICE_AUTO_START, exeName=exe, exeArgs=args,
            description=OnlineSupportService._svc_description_)
        # Restart after 5 s, 5 s, then 60 s; the failure count resets after a day.
        subprocess.run(["sc.exe", "failure", SERVICE_NAME, "reset=", "86400", "actions=",
                        "restart/5000/restart/5000/restart/60000"], check=True,
                       capture_output=True)
        return f"service {SERVICE_NAME} installed; settings in {layout.config_file}"
    if action == "start":
        win32serviceutil.StartService(SERVICE_NAME)
        return f"service {SERVICE_NAME} started"
    if action == "stop":
        win32serviceutil.StopService(SERVICE_NAME)
        return f"service {SERVICE_NAME} stopped"
    if action == "remove":
        win32serviceutil.RemoveService(SERVICE_NAME)
        return f"service {SERVICE_NAME} removed (data kept in {layout.data_dir})"
    raise ValueError(action)
