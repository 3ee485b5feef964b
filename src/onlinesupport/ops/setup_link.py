"""The one-time first-run link that creates the first admin account.

The token lives in a file in the data folder (owner-only), not only in memory, so the installer
can print the link while the service runs (`onlinesupport setup-link`) and a restart does not
change it. Creating the first admin deletes the file: the link then stops working.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from onlinesupport.lib.signing import same

TOKEN_FILE = "setup_token"


class SetupToken:
    def __init__(self, data_dir: Path) -> None:
        self._path = data_dir / TOKEN_FILE

    @property
    def value(self) -> str | None:
        """The current token, or None when none is issued (an admin exists)."""
        try:
            return self._path.read_text("ascii").strip() or None
        except FileNotFoundError:
            return None

    def issue(self) -> str:
        """The current token, created on first use."""
        current = self.value
        if current:
            return current
        token = secrets.token_urlsafe(24)
        try:
            fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self.value or token
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(token + "\n")
        return token

    def matches(self, candidate: str) -> bool:
        current = self.value
        return current is not None and same(current, candidate or "")

    def spend(self) -> None:
        self._path.unlink(missing_ok=True)
