"""The data folder: created on first run, holds the database, the secret key, logs and backups."""

from __future__ import annotations

import importlib
import os
import secrets
import sys
from pathlib import Path
from typing import IO, Any

SECRET_FILE = "secret_key"
LOCK_FILE = "server.lock"


class DataDirLocked(Exception):
    """Another OnlineSupport server is using this data folder."""


def prepare(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    for sub in ("logs", "backups"):
        (data_dir / sub).mkdir(exist_ok=True)


def secret_key(data_dir: Path) -> bytes:
    """The instance's secret key, generated on first use into a file only the owner can read."""
    path = data_dir / SECRET_FILE
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        key = secrets.token_hex(32).encode("ascii")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(key + b"\n")
        return key
    if len(key) < 32:
        raise ValueError(
            f"{path} holds no usable secret key; delete it to generate a new one "
            "(every desk session will be signed out)"
        )
    return key


def lock(data_dir: Path, platform: str = sys.platform) -> IO[str]:
    """Hold an exclusive lock on the data folder for as long as the returned file stays open."""
    file = open(data_dir / LOCK_FILE, "a+", encoding="ascii")
    try:
        if platform == "win32":
            # Imported by name: mypy on another system knows no msvcrt, and `platform` is a
            # parameter so that the tests can stand in for it.
            msvcrt: Any = importlib.import_module("msvcrt")
            # msvcrt locks bytes from the current position, which "a+" puts at the end of the
            # previous PID: another server would lock a different byte. Always lock byte 0.
            file.seek(0)
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        file.close()
        raise DataDirLocked(
            f"another OnlineSupport server is running with the data folder "
            f"{data_dir}; stop it first"
        ) from None
    file.seek(0)
    file.truncate()
    file.write(f"{os.getpid()}\n")
    file.flush()
    return file
