"""Schemathesis (property-based testing from the OpenAPI document) against the live server, over
every operation: no 5xx on any input, and every answer valid against the document."""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from api_helpers import make_token
from conftest import PASSWORD, Server, make_config, start_server
from onlinesupport.core.conversations import Actor
from onlinesupport.integrations.webhooks import EndpointFields
from onlinesupport.web.api.routes import OPERATIONS

# Fewer examples in the edit-test loop (`make check` runs Hypothesis's "dev" profile).
EXAMPLES = "3" if os.environ.get("HYPOTHESIS_PROFILE") == "dev" else "10"

# The long poll is tested in test_event_feed.py; here it would only make the run wait.
# Operations on one endpoint are pinned to a seeded one, so they reach past "not found".
CONFIG = """
[[operations]]
include-path = "/events"
parameters = { "query.wait" = 0 }

[[operations]]
include-path-regex = "^/webhooks/[{]id[}]/"
parameters = { "path.id" = 1, "path.delivery_id" = 1 }
"""


async def seed(server: Server) -> str:
    """Some of everything, with small ids that generated requests will hit."""
    services = server.services
    admin = await services.accounts.create_agent("ada@example.com", "Ada", "admin", PASSWORD)
    for n in range(3):
        opened = await services.conversations.open(
            channel="chat",
            customer_name=f"Customer {n}",
            body=f"hello {n}",
            identity=("email", f"c{n}@example.com"),
        )
        await services.conversations.note(
            opened.conversation_id, Actor.agent(admin, "Ada"), "a note"
        )
    await services.knowledge.save(None, {"title": "Returns", "body": "Send it back."}, admin)
    # Deliveries go to a loopback port nobody listens on: tests send nothing off this machine.
    for n in range(2):
        endpoint_id = await services.webhooks.add(
            EndpointFields(url=f"http://127.0.0.1:9/hook{n + 1}")
        )
        await services.webhooks.send_test(endpoint_id)
    return await make_token(services, "admin", admin)


@pytest.mark.slow
async def test_schemathesis_finds_no_server_error_and_no_answer_off_the_document(
    tmp_path: Path,
) -> None:
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(CONFIG)
    async with AsyncExitStack() as stack:
        server = await start_server(
            stack,
            make_config(tmp_path / "data", api_requests_per_minute=0, webhooks_allow_loopback=True),
        )
        token = await seed(server)
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(config_file),
            "run",
            f"{server.desk_url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            # Inputs the schema allows can still be refused for what it cannot say (an
            # agent id that does not exist, a body of spaces) with a documented 4xx; every
            # other check runs.
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            EXAMPLES,
            "--seed",
            "18",
            "--no-color",
            "--workers",
            "2",
            "--report-dir",
            str(tmp_path / "report"),
            cwd=tmp_path,  # its example cache goes there, not into the checkout
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 600)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-6000:]
    count = len(OPERATIONS)
    assert f"Selected: {count}/{count}" in text and f"Tested: {count}" in text, text[-3000:]
