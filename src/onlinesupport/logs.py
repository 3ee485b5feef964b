"""Logging to stderr and a rotating file in the data folder."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str, log_dir: Path | None) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level.upper())
    formatter = logging.Formatter(FORMAT)
    console = logging.StreamHandler()
    console.setFormatter(formatter)
    root.addHandler(console)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        file = logging.handlers.RotatingFileHandler(
            log_dir / "onlinesupport.log", maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8")
        file.setFormatter(formatter)
        root.addHandler(file)
    # aiohttp logs every request at INFO; we log them ourselves at DEBUG (see web.access).
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Their DEBUG output is one line per SQL statement or loop detail: noise for an admin.
    for name in ("aiosqlite", "asyncio"):
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
