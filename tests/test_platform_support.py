"""The platform-specific parts that can run here: service folders and settings file for Linux
and Windows, the runner a service manager stops from another thread, the `service` command."""

from __future__ import annotations

import threading
import tomllib
import urllib.request
from pathlib import Path, PurePosixPath, PureWindowsPath

from conftest import free_port, make_config
from onlinesupport.config import load_config
from onlinesupport.platform_support import (
    ServiceRunner,
    service_config_text,
    service_layout,
)
from test_cli import _run, _wait_for


def test_windows_keeps_data_and_settings_in_programdata() -> None:
    layout = service_layout("win32", {"ProgramData": r"D:\ProgramData"})
    assert layout.data_dir == PureWindowsPath(r"D:\ProgramData\OnlineSupport\data")
    assert layout.config_file == PureWindowsPath(r"D:\ProgramData\OnlineSupport\onlinesupport.toml")
    assert service_layout("win32", {}).data_dir == PureWindowsPath(r"C:\ProgramData\OnlineSupport\data")


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


def test_a_service_manager_stops_the_runner_from_another_thread(tmp_path: Path) -> None:
    desk = free_port()
    runner = ServiceRunner(make_config(tmp_path / "data", desk_port=desk))
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        assert _wait_for(f"http://127.0.0.1:{desk}/healthz") == 200
    finally:
        runner.stop()
        thread.join(30)
    assert not thread.is_alive()
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{desk}/healthz", timeout=2)
        raise AssertionError("still answering after stop")
    except OSError:
        pass


def test_the_service_command_on_linux_points_at_systemd(tmp_path: Path) -> None:
    result = _run(["service", "install"], tmp_path / "data")
    assert result.returncode == 1 and "systemctl" in result.stderr
    wrong = _run(["service", "explode"], tmp_path / "data")
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
