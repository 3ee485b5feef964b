"""Issue 19 item 4: on Windows, C:\\ProgramData\\OnlineSupport (settings, database, the secret key
that signs desk sessions, backups, TLS keys; a restore-pending.db there is swapped in at the next
start) kept what ProgramData passes down: every local user could read it and create files in it.

`onlinesupport service install` now runs these icacls commands; the Windows workflow checks the
resulting ACL with icacls on a real Windows Server.
"""

from __future__ import annotations

from pathlib import PureWindowsPath

from onlinesupport.ops.platform_support import SERVICE_ACCOUNT, folder_acl_commands


def test_the_folder_is_left_to_system_administrators_and_the_service() -> None:
    folder = PureWindowsPath(r"C:\ProgramData\OnlineSupport")
    protect, reset = folder_acl_commands(folder)
    assert protect[:4] == ["icacls", str(folder), "/inheritance:r", "/grant:r"]
    # SYSTEM and Administrators by SID (names differ on a localized Windows), and the service.
    assert protect[4:] == [
        "*S-1-5-18:(OI)(CI)F",
        "*S-1-5-32-544:(OI)(CI)F",
        rf"{SERVICE_ACCOUNT}:(OI)(CI)M",
    ]
    assert SERVICE_ACCOUNT == r"NT SERVICE\OnlineSupport"
    # What an older version left in it inherits only these from now on.
    assert reset == ["icacls", str(folder / "*"), "/reset", "/T", "/C", "/Q"]
