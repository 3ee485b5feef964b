"""Callback requests: numbers checked with their country, windows inside the queue's business
hours, the window as the answer target, routing by rules, each call's outcome (the first is
the answer), the confirmation mail and the limit per address."""

from __future__ import annotations

import json
import re

import pytest

from email_helpers import scalar
from onlinesupport.channels.phone import numbers
from onlinesupport.channels.phone.callbacks import CallbackRejected, TooManyCallbacks
from onlinesupport.core.conversations import Actor, InvalidCommand
from onlinesupport.lib.clock import ManualClock, to_db
from onlinesupport.services import Services
from onlinesupport.store import erasure as erasure_repo
from onlinesupport.store import queues as queues_repo

AMY = Actor.agent(1, "Amy Agent")
REQUEST = {
    "name": "Nora Kunde",
    "phone": "030 1234567",
    "country": "DE",
    "about": "Invoice 77 charges me twice",
}


async def set_hours(
    services: Services,
    queue_id: int = 1,
    weekly: str = "mon-fri 09:00-17:00",
    zone: str = "Europe/Berlin",
) -> None:
    await services.db.write(
        lambda conn: queues_repo.update(
            conn,
            queue_id,
            first_response_minutes=60,
            next_response_minutes=240,
            timezone=zone,
            hours=weekly,
            holidays="",
        )
    )


async def enable(services: Services, queue_id: int = 1) -> None:
    await services.callbacks.save_settings(
        {"enabled": "on", "queue_id": str(queue_id), "country": "DE"}
    )


async def ask(services: Services, window: int = 0, address: str = "203.0.113.5", **fields):
    options = await services.callbacks.options()
    chosen = options["windows"][window]
    done = await services.callbacks.request(
        {**REQUEST, "window": chosen["key"], **fields}, source="form", address=address
    )
    return done, chosen


async def events(services: Services, conversation_id: int) -> list[tuple[str, dict]]:
    rows = await services.db.fetch_all(
        "SELECT type, data FROM events WHERE conversation_id = ? ORDER BY id", (conversation_id,)
    )
    return [(r[0], json.loads(r[1])) for r in rows]


@pytest.mark.parametrize(
    ("typed", "country", "e164"),
    [
        ("030 1234567", "DE", "+49301234567"),
        ("+49 (0)30 123 45 67", "DE", "+49301234567"),
        ("0049 30/1234567", "FR", "+49301234567"),
        ("(212) 555-1234", "US", "+12125551234"),
        ("1-212-555-1234", "US", "+12125551234"),
        ("011 44 20 7946 0958", "US", "+442079460958"),
        ("+1 416 555 0199", "CA", "+14165550199"),
        ("07911 123456", "GB", "+447911123456"),
        ("06.12.34.56.78", "FR", "+33612345678"),
        ("02 1234 5678", "IT", "+390212345678"),
        ("612 345 678", "ES", "+34612345678"),
    ],
)
def test_numbers_are_written_in_e164_however_they_are_typed(typed, country, e164) -> None:
    assert numbers.normalise(typed, country)[0] == e164


@pytest.mark.parametrize(
    ("typed", "country", "says"),
    [
        ("", "DE", "give the number"),
        ("030 123", "DE", "not a phone number in Germany (+49)"),
        ("(111) 555-1234", "US", "not a phone number in the United States"),
        ("030 1234567 ext 12", "DE", "no letters or extensions"),
        ("+359 2 1234567", "DE", "we can only call numbers in"),
        ("030 1234567", "XX", "choose the country"),
        ("0" * 41, "DE", "at most 40 characters"),
        ("+49 30 12345678901234", "DE", "not a phone number in Germany"),
    ],
)
def test_numbers_that_cannot_be_called_are_refused_with_a_reason(typed, country, says) -> None:
    with pytest.raises(numbers.InvalidPhone, match=re.escape(says)):
        numbers.normalise(typed, country)


def test_every_supported_country_reads_its_own_national_numbers() -> None:
    """Each row of the table takes a typical national number and gives it back in E.164."""
    samples = {
        "AT": "0664 1234567",
        "AU": "0412 345 678",
        "BE": "0470 12 34 56",
        "CA": "416 555 0199",
        "CH": "044 668 18 00",
        "CZ": "601 123 456",
        "DE": "0151 23456789",
        "DK": "32 12 34 56",
        "ES": "912 345 678",
        "FI": "040 1234567",
        "FR": "01 23 45 67 89",
        "GB": "020 7946 0958",
        "IE": "085 123 4567",
        "IN": "098765 43210",
        "IT": "333 123 4567",
        "JP": "03-1234-5678",
        "LU": "621 123 456",
        "NL": "06 12345678",
        "NO": "412 34 567",
        "NZ": "021 123 4567",
        "PL": "512 345 678",
        "PT": "912 345 678",
        "SE": "070-123 45 67",
        "SG": "8123 4567",
        "US": "212 555 1234",
        "ZA": "082 123 4567",
    }
    assert set(samples) == set(numbers.COUNTRIES)
    for code, typed in samples.items():
        e164, country = numbers.normalise(typed, code)
        assert country.code == code and e164.startswith("+" + country.calling)
        assert 8 <= len(e164) - 1 <= 15, "E.164 numbers have at most 15 digits"
        assert numbers.normalise(e164, code)[0] == e164, "the E.164 form reads back the same"


async def test_the_times_offered_are_half_hours_inside_the_queues_business_hours(
    services: Services,
) -> None:
    assert await services.callbacks.options() is None, "off until an admin switches it on"
    await set_hours(services)
    await enable(services)
    clock: ManualClock = services.clock  # Monday 5 January 2026, 09:00 UTC = 10:00 in Berlin
    options = await services.callbacks.options()
    assert options["zone"] == "Europe/Berlin" and options["country"] == "DE"
    windows = options["windows"]
    assert len(windows) == 48
    assert [(w["day"], w["time"]) for w in windows[:2]] == [
        ("Today", "10:00–10:30"),
        ("Today", "10:30–11:00"),
    ]
    assert windows[14]["day"] == "Tomorrow" and windows[14]["time"] == "09:00–09:30"
    assert windows[-1]["day"] == "Thursday 8 January" and windows[-1]["time"] == "09:30–10:00"
    assert all("17:" not in w["time"].split("–")[0] for w in windows)

    clock.advance(hours=6, minutes=50)  # 16:50 in Berlin: too little of 16:30-17:00 is left
    assert (await services.callbacks.options())["windows"][0]["label"] == "Tue 6 Jan, 09:00–09:30"
    clock.advance(days=4)  # Saturday: the next open time is Monday
    assert (await services.callbacks.options())["windows"][0]["day"] == "Monday 12 January"


@pytest.mark.parametrize(
    ("zone", "chosen"),
    [
        ("Europe/Vienna", "AT"),
        ("America/Chicago", "US"),
        ("America/Toronto", "CA"),
        ("Australia/Sydney", "AU"),
        ("Asia/Calcutta", "IN"),
        ("UTC", ""),
        ("America/Sao_Paulo", ""),  # a country we do not call
    ],
)
async def test_without_a_country_chosen_the_forms_start_from_the_business_time_zone(
    services: Services, zone: str, chosen: str
) -> None:
    await set_hours(services, zone=zone)
    await services.callbacks.save_settings({"enabled": "on", "queue_id": "1", "country": ""})
    assert (await services.callbacks.options())["country"] == chosen
    await enable(services)  # an admin's choice comes first
    assert (await services.callbacks.options())["country"] == "DE"


def test_every_zone_named_for_a_country_is_a_real_zone() -> None:
    from zoneinfo import available_timezones

    every = available_timezones()
    for code in numbers.COUNTRIES:
        zones = numbers._ZONES[code].split()
        assert zones and set(zones) <= every, code


async def test_a_request_is_a_phone_conversation_due_by_the_end_of_its_window(
    services: Services,
) -> None:
    await set_hours(services)
    await enable(services)
    done, chosen = await ask(services, window=3)
    assert done.phone == "+49 301234567"
    assert done.window == "Mon 5 Jan, 11:30–12:00 (Europe/Berlin)"
    assert (chosen["day"], chosen["time"]) == ("Today", "11:30–12:00")
    row = await services.db.fetch_one(
        "SELECT channel, subject, queue_id, first_response_due_at, customer_id FROM conversations"
        " WHERE id = ?",
        (done.conversation_id,),
    )
    assert tuple(row)[:4] == ("phone", "Callback request", 1, "2026-01-05T11:00:00.000Z")
    identities = await services.db.fetch_all(
        "SELECT kind, value FROM customer_identities WHERE customer_id = ?", (row[4],)
    )
    assert [tuple(i) for i in identities] == [("phone", "+49301234567")]
    body = await scalar(
        services, "SELECT body FROM messages WHERE conversation_id = ?", (done.conversation_id,)
    )
    assert body == (
        "Invoice 77 charges me twice\n\n— Please call +49 301234567 (Germany), "
        "Mon 5 Jan, 11:30–12:00 (Europe/Berlin)."
    )
    recorded = await events(services, done.conversation_id)
    assert [t for t, _ in recorded] == [
        "conversation.created",
        "sla.target",
        "sla.target",
        "callback.requested",
        "message.posted",
    ]
    assert recorded[2][1] == {"target": "first_response", "due_at": "2026-01-05T11:00:00.000Z"}
    assert recorded[3][1] == {
        "phone": "+49301234567",
        "country": "DE",
        "window_start": "2026-01-05T10:30:00.000Z",
        "window_end": "2026-01-05T11:00:00.000Z",
        "source": "form",
        "customer_id": row[4],
        "due_at": "2026-01-05T11:00:00.000Z",
    }
    assert await services.callbacks.due_labels([done.conversation_id]) == {
        done.conversation_id: "call back by 12:00 (Europe/Berlin)"
    }
    desk = await services.callbacks.for_desk(done.conversation_id)
    assert (desk["tel"], desk["by"], desk["open"]) == (
        "+49301234567",
        "call back by 12:00 (Europe/Berlin)",
        True,
    )

    # The same number again is the same customer; the window is the answer target watched.
    again, _ = await ask(services, window=0)
    assert await scalar(services, "SELECT count(DISTINCT customer_id) FROM conversations") == 1
    services.clock.advance(hours=2)
    assert await services.sla.check() == 2
    assert [
        d["target"] for t, d in await events(services, again.conversation_id) if t == "sla.breached"
    ] == ["first_response"]


async def test_rules_route_a_request_and_the_customers_window_stays_the_promise(
    services: Services,
) -> None:
    now = to_db(services.clock.now())
    phone_team = await services.db.write(lambda conn: queues_repo.insert(conn, "Phone team", now))
    await set_hours(services)
    await set_hours(services, phone_team, weekly="mon-fri 08:00-20:00")
    await services.rules.save(
        None,
        {
            "name": "Calls",
            "active": "on",
            "trigger": "new",
            "conditions": "channel is phone",
            "actions": "queue Phone team\nfirst_response 5\ntag call",
        },
    )
    await enable(services)
    done, _ = await ask(services, window=5)
    row = await services.db.fetch_one(
        "SELECT queue_id, first_response_due_at, tags FROM conversations WHERE id = ?",
        (done.conversation_id,),
    )
    assert (row[0], row[1], json.loads(row[2])) == (
        phone_team,
        "2026-01-05T12:00:00.000Z",
        ["call"],
    )
    fired = [d for t, d in await events(services, done.conversation_id) if t == "rule.fired"]
    assert fired[0]["actions"] == ["queue Phone team", "tag call"], (
        "neither the queue's target nor a rule moves the time the customer chose"
    )


async def test_mistakes_are_named_field_by_field_and_nothing_is_stored(services: Services) -> None:
    await set_hours(services)
    await enable(services)
    with pytest.raises(CallbackRejected) as refused:
        await services.callbacks.request(
            {
                "phone": "12",
                "country": "DE",
                "about": "",
                "window": "2026-01-05T03:00:00.000Z",
                "email": "not an address",
            },
            source="widget",
            address="203.0.113.5",
        )
    assert set(refused.value.errors) == {"name", "phone", "about", "window", "email"}
    assert refused.value.errors["window"] == "choose one of the times offered"
    with pytest.raises(CallbackRejected) as long:
        await ask(services, about="x" * 2001)
    assert long.value.errors == {"about": "at most 2000 characters, please"}
    assert await scalar(services, "SELECT count(*) FROM conversations") == 0
    assert isinstance(refused.value, InvalidCommand), "the desk and API answer it with a 400"
    await services.callbacks.save_settings({"queue_id": "1"})
    with pytest.raises(CallbackRejected, match="do not take callback requests"):
        await services.callbacks.request({}, source="form", address="203.0.113.5")
    with pytest.raises(InvalidCommand, match="queues"):
        await services.callbacks.save_settings({"enabled": "on", "queue_id": "99"})


async def test_each_call_is_logged_and_the_first_one_answers_the_request(
    services: Services,
) -> None:
    await set_hours(services)
    await enable(services)
    clock: ManualClock = services.clock
    done, _ = await ask(services, window=1)
    cid = done.conversation_id
    with pytest.raises(InvalidCommand, match="when to call again"):
        await services.callbacks.log_call(cid, AMY, "no_answer")
    for retry in ("2026-01-05T09:00", "2026-01-30T10:00"):
        with pytest.raises(InvalidCommand, match="within 14 days"):
            await services.callbacks.log_call(cid, AMY, "no_answer", retry_at=retry)
    with pytest.raises(InvalidCommand, match="outcome"):
        await services.callbacks.log_call(cid, AMY, "maybe")

    clock.advance(minutes=20)
    assert (
        await services.callbacks.log_call(cid, AMY, "no_answer", retry_at="2026-01-05T13:00") == 1
    )
    row = await services.db.fetch_one(
        "SELECT first_response_at, next_response_due_at, status FROM conversations WHERE id = ?",
        (cid,),
    )
    assert tuple(row) == ("2026-01-05T09:20:00.000Z", "2026-01-05T12:00:00.000Z", "open")
    recorded = await events(services, cid)
    assert (
        "callback.outcome",
        {"outcome": "no_answer", "notes": "", "attempt": 1, "retry_at": "2026-01-05T12:00:00.000Z"},
    ) in recorded
    assert ("conversation.first_response", {"via": "callback"}) in recorded
    note = await scalar(services, "SELECT body FROM messages WHERE kind = 'note'")
    assert note == "Call 1 to +49 301234567: no answer; call again 13:00 (Europe/Berlin)."
    assert await services.callbacks.due_labels([cid]) == {cid: "call back by 13:00 (Europe/Berlin)"}

    clock.advance(hours=3)
    assert (
        await services.callbacks.log_call(
            cid, AMY, "reached", notes="Credit note sent.", resolve=True
        )
        == 2
    )
    row = await services.db.fetch_one(
        "SELECT first_response_at, next_response_due_at, status FROM conversations WHERE id = ?",
        (cid,),
    )
    assert tuple(row) == ("2026-01-05T09:20:00.000Z", None, "resolved")
    assert [t for t, _ in await events(services, cid)].count("conversation.first_response") == 1
    assert await services.callbacks.due_labels([cid]) == {}
    assert (await services.callbacks.for_desk(cid))["status"] == "reached"

    other = await services.conversations.open(channel="chat", body="Hi", identity=("visitor", "v1"))
    with pytest.raises(InvalidCommand, match="not a callback request"):
        await services.callbacks.log_call(other.conversation_id, AMY, "reached")


async def test_requests_are_limited_per_internet_address(services: Services) -> None:
    await enable(services)
    for n in range(10):
        await ask(services, phone=f"030 123456{n}")
    with pytest.raises(TooManyCallbacks) as refused:
        await ask(services)
    assert 0 < refused.value.retry_after <= 3601
    await ask(services, address="198.51.100.7")
    services.clock.advance(hours=1, seconds=1)
    await ask(services)
    assert await scalar(services, "SELECT count(*) FROM callbacks") == 12


async def test_erasing_the_customer_blanks_their_number(services: Services) -> None:
    await enable(services)
    done, _ = await ask(services)
    customer = await scalar(services, "SELECT customer_id FROM conversations")
    await services.db.write(lambda conn: erasure_repo.anonymise(conn, customer, "now"))
    assert await scalar(services, "SELECT phone FROM callbacks") == ""
    data = json.loads(
        await scalar(services, "SELECT data FROM events WHERE type = 'callback.requested'")
    )
    assert data == {"source": "form", "due_at": "2026-01-05T09:30:00.000Z", "erased": 1}
    assert (await services.callbacks.for_desk(done.conversation_id))["phone"] == ""
