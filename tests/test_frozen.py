"""The PyInstaller one-folder build: it builds, starts on free ports and serves both listeners."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import free_port
from onlinesupport.store.migrate import latest_version
from test_cli import _wait_for

pytestmark = pytest.mark.frozen


def test_the_frozen_app_reports_its_version(frozen_app: Path) -> None:
    result = subprocess.run(
        [str(frozen_app), "version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout.startswith("onlinesupport 0.")


def test_the_frozen_app_serves_health_checks_and_the_sign_in_page(
    frozen_app: Path, tmp_path: Path
) -> None:
    public, desk = free_port(), free_port()
    empty = tmp_path / "empty.toml"
    empty.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONLINESUPPORT_")}
    env.update(ONLINESUPPORT_CONFIG=str(empty), ONLINESUPPORT_STORAGE_DATA_DIR=str(tmp_path / "d"))
    process = subprocess.Popen(
        [
            str(frozen_app),
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
        env=env,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{public}/healthz", timeout=30) == 200
        assert _wait_for(f"http://127.0.0.1:{desk}/healthz") == 200
        assert _wait_for(f"http://127.0.0.1:{desk}/signin") == 200
        assert _wait_for(f"http://127.0.0.1:{desk}/static/desk.css") == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "/setup?token=" in out
    assert f"migrated to schema version {latest_version()}" in err


def test_the_frozen_app_passes_its_selftest(frozen_app: Path) -> None:
    """Templates, static files, migrations and mail libraries all made it into the build."""
    result = subprocess.run(
        [str(frozen_app), "selftest"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "selftest passed" in result.stdout
