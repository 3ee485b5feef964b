"""Admin page for backups: the list in the data folder, back up now, download, restore.

A restore is checked at once (a foreign, damaged or newer file is refused with the reason) and
then swapped in while the server is stopped: the page says so and reloads when it is back.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import BodyPartReader, web

from onlinesupport.ops import restores
from onlinesupport.web.auth import AGENT, requires
from onlinesupport.web.keys import SERVICES
from onlinesupport.web.responses import redirect
from onlinesupport.web.templates import render

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.db$")
MAX_UPLOAD = 8 * 1024**3
RESTART_DELAY = 0.5
UPLOAD_NAME = "restore-upload.partial"


def _folder(request: web.Request) -> Path:
    return request.app[SERVICES].config.data_dir / "backups"


def _listing(folder: Path) -> list[dict[str, object]]:
    found = []
    for path in folder.glob("*.db"):
        if NAME.match(path.name):
            stat = path.stat()
            found.append(
                {
                    "name": path.name,
                    "mb": stat.st_size / 1e6,
                    "at": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(timespec="minutes"),
                }
            )
    return sorted(found, key=lambda b: str(b["at"]), reverse=True)


async def _page(
    request: web.Request, *, error: str = "", notice: str = "", status: int = 200
) -> web.Response:
    services = request.app[SERVICES]
    return render(
        request,
        "admin/backups.html",
        {
            "agent": request[AGENT],
            "backups": _listing(_folder(request)),
            "error": error,
            "notice": notice,
            "last_restore": restores.last_result(services.config.data_dir),
            "keep": services.config.storage_backups_keep,
        },
        status=status,
    )


def _chosen(request: web.Request) -> Path:
    name = request.match_info["name"]
    path = _folder(request) / name
    if not NAME.match(name) or not path.is_file():
        raise web.HTTPNotFound(text=f"there is no backup named {name!r}")
    return path


@requires("admin")
async def backups_page(request: web.Request) -> web.Response:
    notice = {"made": "Backup written."}.get(request.query.get("done", ""), "")
    return await _page(request, notice=notice)


@requires("admin")
async def back_up_now(request: web.Request) -> web.Response:
    await request.app[SERVICES].backups.back_up_now()
    return redirect("/admin/backups?done=made")


@requires("admin")
async def download(request: web.Request) -> web.FileResponse:
    path = _chosen(request)
    return web.FileResponse(
        path,
        headers={
            "Content-Type": "application/vnd.sqlite3",
            "Content-Disposition": f'attachment; filename="onlinesupport-{path.name}"',
            "Cache-Control": "no-store",
        },
    )


async def _stage_and_restart(request: web.Request, source: Path, name: str) -> web.Response:
    services = request.app[SERVICES]
    try:
        version = await asyncio.to_thread(restores.stage, services.config.data_dir, source, name)
    except restores.NotRestorable as exc:
        return await _page(request, error=f"Not restored: {exc.message}", status=400)
    # The answer goes out first; then everything stops, the file is swapped in, and it starts.
    asyncio.get_running_loop().call_later(RESTART_DELAY, services.restart.set)
    return render(
        request,
        "admin/restoring.html",
        {"agent": request[AGENT], "name": name[:200], "version": version},
        status=202,
    )


@requires("admin")
async def confirm_restore(request: web.Request) -> web.Response:
    path = _chosen(request)
    made = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="minutes")
    return render(
        request,
        "admin/restore_confirm.html",
        {"agent": request[AGENT], "name": path.name, "at": made},
    )


@requires("admin")
async def restore_listed(request: web.Request) -> web.Response:
    return await _stage_and_restart(request, _chosen(request), request.match_info["name"])


@requires("admin")
async def restore_upload(request: web.Request) -> web.Response:
    """A backup file sent from the admin's computer, streamed to the data folder."""
    if request.content_type != "multipart/form-data":
        raise web.HTTPBadRequest(text="send the backup file as multipart/form-data")
    reader = await request.multipart()
    part = await reader.next()
    if not isinstance(part, BodyPartReader) or not part.filename:
        raise web.HTTPBadRequest(text="choose a backup file to restore")
    upload = request.app[SERVICES].config.data_dir / UPLOAD_NAME
    size = 0
    try:
        with upload.open("wb") as file:
            while chunk := await part.read_chunk(256 * 1024):
                size += len(chunk)
                if size > MAX_UPLOAD:
                    raise web.HTTPRequestEntityTooLarge(
                        max_size=MAX_UPLOAD,
                        actual_size=size,
                        text=f"the file is larger than {MAX_UPLOAD // 1024**3} GB",
                    )
                await asyncio.to_thread(file.write, chunk)
        return await _stage_and_restart(request, upload, part.filename)
    finally:
        upload.unlink(missing_ok=True)
