"""Restoring a backup from the admin page: checked first, swapped in with the server stopped."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import aiohttp
import pytest

from conftest import PASSWORD, Desk, free_port, make_config
from onlinesupport import app
from onlinesupport.config import Config
from onlinesupport.services import open_services
from onlinesupport.store import migrate


async def _up(url: str, timeout: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            assert asyncio.get_running_loop().time() < deadline, f"{url} did not come up"
            await asyncio.sleep(0.1)


@pytest.fixture
async def serving(tmp_path: Path) -> AsyncIterator[Config]:
    """The whole server as `onlinesupport serve` runs it, in this process."""
    config = make_config(tmp_path / "data", public_port=free_port(), desk_port=free_port())
    async with open_services(config) as services:
        await services.accounts.create_agent("ada@example.com", "Ada", "admin", PASSWORD)
    stop = asyncio.Event()
    task = asyncio.create_task(app.serve(config, stop))
    await _up(f"http://127.0.0.1:{config.desk_port}")
    yield config
    stop.set()
    await asyncio.wait_for(task, 30)


async def _call(desk: Desk, body: str) -> int:
    response = await desk.post_json("/conversations", {"name": "Carla", "body": body})
    assert response.status == 200, await response.text()
    return (await response.json())["conversation_id"]


async def test_an_admin_restores_a_backup_and_the_server_comes_back_with_it(
    serving: Config, client_factory, tmp_path: Path
) -> None:
    desk_url = f"http://127.0.0.1:{serving.desk_port}"
    admin: Desk = client_factory(desk_url)
    await admin.signin("ada@example.com")
    kept = await _call(admin, "Before the backup")
    made = await admin.post("/admin/backups")
    assert made.status == 303
    page = await (await admin.get("/admin/backups")).text()
    [name] = [n for n in (serving.data_dir / "backups").glob("manual-*.db")]
    assert name.name in page
    download = await admin.get(f"/admin/backups/{name.name}")
    assert download.status == 200 and (await download.read())[:15] == b"SQLite format 3"
    lost = await _call(admin, "After the backup")

    confirm = await (await admin.get(f"/admin/backups/{name.name}/restore")).text()
    assert "All current data is replaced" in confirm
    restoring = await admin.post(f"/admin/backups/{name.name}/restore")
    assert restoring.status == 202 and "stopping, swapping in the backup" in await restoring.text()
    await asyncio.sleep(1)
    await _up(desk_url)

    again: Desk = client_factory(desk_url)
    await again.signin("ada@example.com")
    assert (await again.get(f"/conversations/{kept}")).status == 200
    assert (await again.get(f"/conversations/{lost}")).status == 404
    page = await (await again.get("/admin/backups")).text()
    assert f"Restored {name.name}" in page and "before-restore-" in page
    [safety] = (serving.data_dir / "backups").glob("before-restore-*.db")
    with closing(sqlite3.connect(safety)) as conn:
        assert conn.execute("SELECT count(*) FROM conversations").fetchone()[0] == 2


async def test_a_foreign_or_newer_upload_is_refused_and_nothing_changes(
    serving: Config, client_factory, tmp_path: Path
) -> None:
    desk_url = f"http://127.0.0.1:{serving.desk_port}"
    admin: Desk = client_factory(desk_url)
    await admin.signin("ada@example.com")
    kept = await _call(admin, "Still here")

    foreign = tmp_path / "invoices.db"
    with closing(sqlite3.connect(foreign)) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    newer = tmp_path / "newer.db"
    await admin.post("/admin/backups")
    [made] = (serving.data_dir / "backups").glob("manual-*.db")
    newer.write_bytes(made.read_bytes())
    with closing(sqlite3.connect(newer)) as conn:  # closing folds the WAL into the file
        conn.execute(f"PRAGMA user_version = {migrate.latest_version() + 1}")
    garbage = tmp_path / "photo.jpg"
    garbage.write_bytes(b"\xff\xd8\xff" + b"x" * 5000)

    for path, reason in (
        (foreign, "not an OnlineSupport database"),
        (newer, "newer than this program"),
        (garbage, "not a readable SQLite database"),
    ):
        form = aiohttp.FormData()
        form.add_field("backup", path.read_bytes(), filename=path.name)
        response = await admin.session.post(
            f"{desk_url}/admin/backups/upload?csrf_token={admin.csrf}", data=form
        )
        text = await response.text()
        assert response.status == 400 and reason in text, (path.name, text)
    assert not (serving.data_dir / "restore-pending.db").exists()
    assert not (serving.data_dir / "restore-upload.partial").exists()
    assert (await admin.get(f"/conversations/{kept}")).status == 200


async def test_only_admins_see_backups(serving: Config, client_factory) -> None:
    desk_url = f"http://127.0.0.1:{serving.desk_port}"
    admin: Desk = client_factory(desk_url)
    await admin.signin("ada@example.com")
    await admin.post(
        "/welcome/team",
        {"name": "Amy", "email": "amy@example.com", "role": "agent", "password": PASSWORD},
    )
    amy: Desk = client_factory(desk_url)
    await amy.signin("amy@example.com")
    assert (await amy.get("/admin/backups")).status == 403
    assert (await amy.post("/admin/backups")).status == 403
    assert (await admin.get("/admin/backups/../secret_key")).status == 404
