"""The PyInstaller one-folder build: it builds, starts on free ports and serves both listeners."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import free_port
from onlinesupport import __version__
from onlinesupport.store.migrate import latest_version
from test_cli import _wait_for

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.frozen


@pytest.fixture(scope="module")
def frozen_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("pyinstaller")
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
                    "--distpath", str(work / "dist"), "--workpath", str(work / "build"),
                    str(ROOT / "onlinesupport.spec")],
                   check=True, capture_output=True, timeout=600, cwd=ROOT)
    [folder] = (work / "dist").glob(f"onlinesupport-{__version__}-*")
    binary = folder / ("onlinesupport.exe" if os.name == "nt" else "onlinesupport")
    assert binary.is_file()
    return binary


def test_the_frozen_app_reports_its_version(frozen_app: Path) -> None:
    result = subprocess.run([str(frozen_app), "version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("onlinesupport 0.")


def test_the_frozen_app_serves_health_checks_and_the_sign_in_page(frozen_app: Path,
                                                                  tmp_path: Path) -> None:
    public, desk = free_port(), free_port()
    empty = tmp_path / "empty.toml"
    empty.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONLINESUPPORT_")}
    env.update(ONLINESUPPORT_CONFIG=str(empty), ONLINESUPPORT_STORAGE_DATA_DIR=str(tmp_path / "d"))
    process = subprocess.Popen(
        [str(frozen_app), "serve", "--public-host", "127.0.0.1", "--public-port", str(public),
         "--desk-host", "127.0.0.1", "--desk-port", str(desk)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
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
    result = subprocess.run([str(frozen_app), "selftest"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "selftest passed" in result.stdout
