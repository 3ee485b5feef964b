"""docs/api.md's walkthrough, followed as written: its curl commands against a real server, its
receiver (with the reference standardwebhooks library) in its own process."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path

from api_helpers import make_token
from conftest import ROOT, free_port, make_config, start_server, wait_until

DOC = ROOT / "docs" / "api.md"


KEPT = ("CID", "EID", "DID")
"""The shell variables the walkthrough keeps from one step for the next."""


def shell(command: str, env: dict[str, str]) -> str:
    """Run a step as a reader would in one terminal: variables it sets stay for later steps."""
    keep = "".join(f'\n[ -n "${{{name}:-}}" ] && echo "{name}=${name}" >&3' for name in KEPT)
    with tempfile.NamedTemporaryFile("r") as kept:
        done = subprocess.run(
            ["bash", "-euc", f"exec 3>{kept.name}\n{command}{keep}\ntrue"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        for line in kept.read().splitlines():
            name, _, value = line.partition("=")
            env[name] = value
    return done.stdout


async def test_the_walkthrough_gets_from_a_token_to_a_verified_webhook(tmp_path: Path) -> None:
    text = DOC.read_text()
    steps = re.findall(r"```sh\n(.*?)```", text, re.S)
    receiver_code = re.findall(r"```python\n(.*?)```", text, re.S)[0]
    port = free_port()
    async with AsyncExitStack() as stack:
        server = await start_server(
            stack, make_config(tmp_path / "data", webhooks_allow_loopback=True)
        )
        env = {
            **os.environ,
            "BASE": f"{server.desk_url}/api/v1",
            "TOKEN": await make_token(server.services, "admin"),
        }
        # A desk in use: conversation 1 is a real customer's, which the walkthrough must not
        # touch.
        earlier = await server.services.conversations.open(
            channel="email",
            body="An earlier customer's question",
            identity=("email", "earlier@example.com"),
        )
        loop = asyncio.get_running_loop()

        async def run(command: str) -> str:
            return await loop.run_in_executor(None, shell, command, env)

        token_step = steps[0].split("\n")
        assert token_step[0].startswith("export BASE=")
        assert token_step[1].startswith("export TOKEN=")
        assert json.loads(await run("\n".join(token_step[2:])))["scope"] == "admin"
        opened = json.loads((await run(steps[1])).splitlines()[0])
        assert opened["conversation"]["subject"] == "Order 1042 failed"
        assert env["CID"] == str(opened["conversation"]["id"]) != str(earlier.conversation_id)
        replies = (await run(steps[2])).replace("}{", "}\n{").splitlines()
        assert [
            (json.loads(r)["message"]["kind"], json.loads(r)["message"]["conversation_id"])
            for r in replies
        ] == [("message", int(env["CID"])), ("note", int(env["CID"]))]
        added = json.loads(
            (
                await run(
                    steps[3].replace("http://crm.lan:8500/hooks", f"http://127.0.0.1:{port}/hooks")
                )
            ).splitlines()[0]
        )
        assert env["EID"] == str(added["endpoint"]["id"])
        env["WEBHOOK_SECRET"] = added["secret"]
        receiver = subprocess.Popen(
            [sys.executable, "-c", receiver_code.replace("8500", str(port))],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

        async def listening() -> bool:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return False
            writer.close()
            return True

        try:
            await wait_until(listening, message="the receiver did not start")
            test_step = steps[4].split("\n")
            assert test_step[0].startswith("WEBHOOK_SECRET=") and "receiver.py" in test_step[0]
            assert json.loads(await run("\n".join(test_step[1:])))["delivery_id"]
            assert json.loads(await run(steps[5]))["conversation"]["status"] == "resolved"
            for _ in range(100):
                log = json.loads(await run(steps[6].split("\n")[0]))
                if [d["status"] for d in log["deliveries"]] == ["sent", "sent"]:
                    break
                await asyncio.sleep(0.1)
            assert [d["type"] for d in log["deliveries"]] == ["conversation.resolved", "ping"]
            redelivered = json.loads((await run(steps[6])).replace("}{", "}\n{").splitlines()[-1])
            assert redelivered["delivery"]["id"] == log["deliveries"][0]["id"]
        finally:
            receiver.terminate()
            printed = receiver.communicate(timeout=10)[0]
    assert "verified ping" in printed and "verified conversation.resolved" in printed
    assert "refused" not in printed
