"""`onlinesupport serve` as a real process, for tests that need what a process has of its own:
an open-file limit (connection floods) or a disk of its own that can fill up (a full disk).

The disk is a small tmpfs mounted in a mount namespace of the server's own (`unshare`), so a
test that dies leaves no mount behind; the test reaches it through /proc/PID/root.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from conftest import PASSWORD, free_port

ADMIN = "ada@example.com"


@dataclass
class Running:
    process: subprocess.Popen
    public_url: str
    desk_url: str
    data_dir: Path
    """The data folder as this process sees it."""
    stderr: Path

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / "onlinesupport.log"

    def log_bytes(self) -> int:
        """Everything the server logged so far: its log files and its stderr."""
        files = sum(p.stat().st_size for p in (self.data_dir / "logs").glob("onlinesupport.log*"))
        return files + self.stderr.stat().st_size

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start(
    tmp_path: Path,
    *,
    open_files: int | None = None,
    disk_mb: int | None = None,
    settings: dict[str, str] | None = None,
) -> Running:
    """Start a server with an admin (ADMIN, PASSWORD) on free ports of 127.0.0.1.

    `open_files` sets its soft and hard limit of open files (it cannot raise them);
    `disk_mb` puts its data folder on a tmpfs of that size; `settings` are ONLINESUPPORT_*
    variables without the prefix (e.g. {"LIMITS_HEADER_TIMEOUT": "2"}).
    """
    data_dir = tmp_path / "data"
    data_dir.mkdir(parents=True)
    empty = tmp_path / "empty.toml"
    empty.touch()
    public, desk = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONLINESUPPORT_")}
    env.update(
        ONLINESUPPORT_STORAGE_DATA_DIR=str(data_dir),
        ONLINESUPPORT_CONFIG=str(empty),
        ONLINESUPPORT_PUBLIC_HOST="127.0.0.1",
        ONLINESUPPORT_PUBLIC_PORT=str(public),
        ONLINESUPPORT_DESK_HOST="127.0.0.1",
        ONLINESUPPORT_DESK_PORT=str(desk),
    )
    env.update({f"ONLINESUPPORT_{k}": v for k, v in (settings or {}).items()})
    add_admin = [
        sys.executable,
        "-m",
        "onlinesupport",
        "user",
        "add",
        ADMIN,
        "--name",
        "Ada",
        "--role",
        "admin",
        "--password-stdin",
    ]
    if disk_mb is None:
        subprocess.run(
            add_admin,
            input=PASSWORD + "\n",
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        command = [sys.executable, "-m", "onlinesupport", "serve"]
    else:
        assert shutil.which("unshare"), "util-linux's unshare is needed for a disk of its own"
        unshare = ["unshare", "--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            unshare[1:1] = ["--user", "--map-root-user"]
        script = (
            'set -e; mount -t tmpfs -o size="$OS_TEST_DISK_MB"m tmpfs '
            '"$ONLINESUPPORT_STORAGE_DATA_DIR"; printf "%s\\n" "$OS_TEST_PASSWORD" | '
            '"$0" -m onlinesupport user add "$OS_TEST_ADMIN" --name Ada --role admin '
            '--password-stdin >/dev/null; exec "$0" -m onlinesupport serve'
        )
        env.update(OS_TEST_DISK_MB=str(disk_mb), OS_TEST_PASSWORD=PASSWORD, OS_TEST_ADMIN=ADMIN)
        command = [*unshare, "sh", "-c", script, sys.executable]

    def limits() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    stderr_path = tmp_path / "server.stderr"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=limits
        )
    seen_dir = data_dir if disk_mb is None else Path(f"/proc/{process.pid}/root{data_dir}")
    running = Running(
        process, f"http://127.0.0.1:{public}", f"http://127.0.0.1:{desk}", seen_dir, stderr_path
    )
    try:
        _wait_for(running.public_url + "/healthz")
        _wait_for(running.desk_url + "/healthz")
    except BaseException as error:
        running.stop()
        raise AssertionError(
            f"the server did not start: {stderr_path.read_text()[-3000:]}"
        ) from error
    return running
