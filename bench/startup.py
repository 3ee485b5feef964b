"""Cold start of the frozen app: from exec to the first 200 on the desk, on a fresh data folder
and again on an existing one. Prints the figures for docs/performance.md.

    make dist && .venv/bin/python bench/startup.py [dist/onlinesupport-VERSION-PLATFORM]
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

RUNS = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_200(binary: Path, data_dir: Path) -> float:
    public, desk = free_port(), free_port()
    empty = data_dir.parent / "empty.toml"
    empty.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONLINESUPPORT_")}
    env.update(ONLINESUPPORT_CONFIG=str(empty), ONLINESUPPORT_STORAGE_DATA_DIR=str(data_dir))
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            str(binary),
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
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{desk}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except OSError:
                if time.perf_counter() - started > 60:
                    raise SystemExit("no answer within 60 s") from None
                time.sleep(0.01)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    if len(sys.argv) > 1:
        folder = Path(sys.argv[1])
    else:
        folder = next(p for p in sorted(Path("dist").glob("onlinesupport-*-*")) if p.is_dir())
    binary = folder / ("onlinesupport.exe" if os.name == "nt" else "onlinesupport")
    print(f"app folder: {folder} ({folder_mb(folder):.0f} MB unpacked)")
    for package in sorted(folder.parent.glob("onlinesupport*")):
        if package.is_file():
            print(f"package: {package.name} {package.stat().st_size / 1e6:.1f} MB")
    fresh, existing = [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            fresh.append(first_200(binary, data))  # creates and migrates the database
            existing.append(first_200(binary, data))  # opens the existing one
    print(
        f"cold start to first 200, new data folder: median {statistics.median(fresh):.2f} s, "
        f"max {max(fresh):.2f} s ({RUNS} runs)"
    )
    print(
        f"cold start to first 200, existing data:   median {statistics.median(existing):.2f} s, "
        f"max {max(existing):.2f} s"
    )


if __name__ == "__main__":
    main()
