"""The data-folder lock that keeps a second server (or a restore) off a folder in use.

The real lock is exercised on whatever system runs the tests (fcntl here, msvcrt on the Windows
workflow); the Windows code path is also run here with a stand-in msvcrt module, to pin down
which byte it locks.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from onlinesupport.ops import datadir


class FakeMsvcrt(SimpleNamespace):
    """Records where msvcrt.locking was asked to lock; refuses when `held` is set."""

    LK_NBLCK = 2

    def __init__(self, held: bool = False) -> None:
        super().__init__(calls=[], held=held)

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        self.calls.append((os.lseek(fd, 0, os.SEEK_CUR), mode, nbytes))
        if self.held:
            raise PermissionError(13, "Permission denied")


def test_a_second_lock_on_the_same_folder_is_refused_until_the_first_is_released(
    tmp_path: Path,
) -> None:
    first = datadir.lock(tmp_path)
    try:
        if sys.platform != "win32":  # Windows refuses to read a locked byte, even to us
            # The holder has rewritten the file with its PID: the lock must not move with it.
            assert (tmp_path / datadir.LOCK_FILE).read_text() == f"{os.getpid()}\n"
        with pytest.raises(datadir.DataDirLocked, match="another OnlineSupport server"):
            datadir.lock(tmp_path)
    finally:
        first.close()
    second = datadir.lock(tmp_path)
    second.close()


def test_windows_locks_byte_zero_whatever_the_file_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A PID left by an earlier server: "a+" opens at the end of it, where msvcrt.locking would
    # lock a byte that the next server, finding a PID of another length, would not.
    (tmp_path / datadir.LOCK_FILE).write_text("4242\n")
    msvcrt = FakeMsvcrt()
    monkeypatch.setitem(sys.modules, "msvcrt", msvcrt)
    with datadir.lock(tmp_path, platform="win32"):
        assert msvcrt.calls == [(0, msvcrt.LK_NBLCK, 1)]
        assert (tmp_path / datadir.LOCK_FILE).read_text() == f"{os.getpid()}\n"


def test_windows_reports_a_held_lock_as_a_running_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / datadir.LOCK_FILE).write_text("4242\n")
    monkeypatch.setitem(sys.modules, "msvcrt", FakeMsvcrt(held=True))
    with pytest.raises(datadir.DataDirLocked):
        datadir.lock(tmp_path, platform="win32")
    # The refused attempt leaves the holder's PID alone.
    assert (tmp_path / datadir.LOCK_FILE).read_text() == "4242\n"
