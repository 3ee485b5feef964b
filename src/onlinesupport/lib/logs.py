"""Logging to stderr and a rotating file in the data folder."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Sequence
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _LogFile(logging.handlers.RotatingFileHandler):
    """The log file; when it cannot be written (a full disk), that is said once on stderr and
    its lines are dropped until it works again, instead of a traceback for every line."""

    _failing = False
    _failed = False

    def emit(self, record: logging.LogRecord) -> None:
        self._failed = False
        super().emit(record)
        if self._failing and not self._failed:
            self._failing = False
            sys.stderr.write(f"the log file {self.baseFilename} can be written again\n")

    def handleError(self, record: logging.LogRecord) -> None:
        self._failed = True
        if not self._failing:
            self._failing = True
            error = sys.exc_info()[1]
            sys.stderr.write(
                f"cannot write the log file {self.baseFilename} ({error}); its "
                "lines are dropped until it can be written again\n"
            )


def configure(
    level: str,
    log_dir: Path | None,
    *,
    console: bool = True,
    handlers: Sequence[logging.Handler] = (),
) -> None:
    """Log at `level` to the console and, with `log_dir`, to a rotating file there.

    A service has no console (`console=False`; a process without stderr gets none either);
    `handlers` are added as they are, each keeping its own level (the Windows service sends
    errors to the Event Log that way).
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        if handler not in handlers:
            handler.close()
    root.setLevel(level.upper())
    formatter = logging.Formatter(FORMAT)
    if console and sys.stderr is not None:
        stream = logging.StreamHandler()
        stream.setFormatter(formatter)
        root.addHandler(stream)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        file = _LogFile(
            log_dir / "onlinesupport.log", maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
        file.setFormatter(formatter)
        root.addHandler(file)
    for handler in handlers:
        if handler.formatter is None:
            handler.setFormatter(formatter)
        root.addHandler(handler)
    # aiohttp logs every request at INFO; we log them ourselves at DEBUG (see web.access).
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Their DEBUG output is one line per SQL statement or loop detail: noise for an admin.
    for name in ("aiosqlite", "asyncio"):
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
