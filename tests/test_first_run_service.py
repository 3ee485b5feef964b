"""The first-run service behind the wizard: each step keeps all of what it was given, or nothing."""

from __future__ import annotations

import pytest

from onlinesupport.lib.errors import UserError
from onlinesupport.services import Services

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


async def test_the_company_step_keeps_nothing_when_the_hours_do_not_parse(
    services: Services,
) -> None:
    first_run = services.first_run
    with pytest.raises(UserError) as refused:
        await first_run.save_company("Acme", "Europe/Berlin", "mon-fri 9-5 please", PNG, False)
    assert refused.value.field == "hours" and refused.value.status == 400
    assert services.branding.current.name == "" and services.branding.logo() is None
    assert await first_run.company() == {
        "name": "",
        "timezone": "UTC",
        "hours": "mon-fri 09:00-17:00",
    }

    await first_run.save_company("Acme", "Europe/Berlin", "mon-fri 08:00-16:00", PNG, False)
    assert await first_run.company() == {
        "name": "Acme",
        "timezone": "Europe/Berlin",
        "hours": "mon-fri 08:00-16:00",
    }
    assert services.branding.logo() == PNG
    general = (await services.queues.list_all())[0]
    assert (general.first_response_minutes, general.next_response_minutes) == (60, 240)
    await first_run.save_company("Acme", "Europe/Berlin", "", None, remove_logo=True)
    assert services.branding.logo() is None and services.branding.current.logo_url == ""


async def test_the_website_step_allows_the_site_once_and_names_the_chat(services: Services) -> None:
    first_run = services.first_run
    with pytest.raises(UserError, match="1 to 60 characters"):
        await first_run.save_website("shop.example.com", "   ")
    assert await first_run.allowed_origins() == ()
    await first_run.save_website("shop.example.com/contact", "  Talk   to us ")
    await first_run.save_website("https://shop.example.com", "Talk to us")
    assert await first_run.allowed_origins() == ("https://shop.example.com",)


async def test_a_colleague_without_a_password_and_no_mailbox_gets_a_link_to_pass_on(
    services: Services,
) -> None:
    unmailed = await services.first_run.add_colleague(
        "amy@example.com",
        "Amy",
        "agent",
        "",
        inviter="Ada",
        link="http://desk/invitation?token=",
    )
    assert unmailed.invited and unmailed.not_mailed == "no mailbox is set up yet"
    assert unmailed.link.startswith("http://desk/invitation?token=")
    [amy] = await services.first_run.without_password()
    assert amy.email == "amy@example.com"
    assert await services.first_run.not_mailed_reason(amy.id) == "no mailbox is set up yet"
    invited = await services.first_run.add_colleague(
        "bob@example.com",
        "Bob",
        "agent",
        "correct horse battery staple",
        inviter="Ada",
        link="http://desk/invitation?token=",
    )
    assert invited.invited is False
    assert [a.email for a in await services.accounts.agents()] == [
        "amy@example.com",
        "bob@example.com",
    ]
    await services.first_run.set_colleague_password(amy.id, "correct horse battery staple")
    assert await services.first_run.without_password() == []
