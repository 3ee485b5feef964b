"""The queues service behind the admin page: what it refuses (naming the field) and keeps."""

from __future__ import annotations

import pytest

from conftest import PASSWORD
from onlinesupport.routing.queue_admin import InvalidQueue, UnknownQueue
from onlinesupport.services import Services

SETTINGS = {
    "first_response_minutes": "120",
    "next_response_minutes": "240",
    "timezone": "Europe/Berlin",
    "hours": "mon-fri 09:00-17:00",
    "holidays": "",
    "chat_hours": "",
    "offer_seconds": "30",
}


async def test_a_new_queue_needs_a_name_of_its_own(services: Services) -> None:
    queue_id = await services.queues.add("  Billing \n and  refunds ")
    assert [q["name"] for q in await services.queues.overview()] == [
        "Billing and refunds",
        "General",
    ]
    with pytest.raises(InvalidQueue, match="exists already") as taken:
        await services.queues.add("Billing and refunds")
    assert taken.value.field == "name"
    with pytest.raises(InvalidQueue, match="give the new queue a name"):
        await services.queues.add("   ")
    assert queue_id == 2


@pytest.mark.parametrize(
    ("changed", "field", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "hours", ""),
        ({"hours": "someday 25:00-26:00"}, "hours", ""),
        ({"first_response_minutes": "0"}, "first_response_minutes", "from 1 to"),
        ({"next_response_minutes": "²"}, "next_response_minutes", "from 1 to"),
        ({"chat_hours": "mon 18:00-09:00x"}, "chat_hours", "Chat hours: "),
        ({"offer_seconds": "4"}, "offer_seconds", "5 to 600 seconds"),
        ({"breach_queue_id": "99"}, "breach_queue_id", "does not exist"),
    ],
)
async def test_settings_that_cannot_be_kept_are_refused_and_nothing_changes(
    services: Services, changed: dict[str, str], field: str, message: str
) -> None:
    before = await services.queues.overview()
    with pytest.raises(InvalidQueue, match=message or None) as refused:
        await services.queues.save(1, {**SETTINGS, **changed}, [], [])
    assert refused.value.field == field and refused.value.status == 400
    assert await services.queues.overview() == before


async def test_a_member_who_is_no_agent_is_refused_within_the_write(services: Services) -> None:
    agent = await services.accounts.create_agent("amy@example.com", "Amy", "agent", PASSWORD)
    with pytest.raises(InvalidQueue, match="not an agent") as refused:
        await services.queues.save(1, SETTINGS, [str(agent)], ["12345"])
    assert refused.value.field == "member"
    assert (await services.queues.overview())[0]["members"] == set()


async def test_saved_settings_are_kept_together(services: Services) -> None:
    amy = await services.accounts.create_agent("amy@example.com", "Amy", "agent", PASSWORD)
    max_ = await services.accounts.create_agent("max@example.com", "Max", "manager", PASSWORD)
    other = await services.queues.add("Billing")
    await services.queues.save(
        1,
        {
            **SETTINGS,
            "internal": "on",
            "chat_offers": "on",
            "offer_seconds": "45",
            "assignment": "round-robin",
            "breach_queue_id": str(other),
        },
        [str(amy), "nonsense"],
        [str(max_)],
    )
    general = next(q for q in await services.queues.overview() if q["id"] == 1)
    assert general["members"] == {amy, max_} and general["managers"] == {max_}
    assert (
        general["first_response_minutes"],
        general["timezone"],
        general["internal"],
        general["chat_offers"],
        general["offer_seconds"],
        general["assignment"],
        general["breach_queue_id"],
    ) == (120, "Europe/Berlin", 1, 1, 45, "round-robin", other)


async def test_an_unknown_queue_is_not_found(services: Services) -> None:
    with pytest.raises(UnknownQueue) as missing:
        await services.queues.save(77, SETTINGS, [], [])
    assert missing.value.status == 404
