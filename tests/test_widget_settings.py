"""Widget settings: origin rules and the admin page that edits them."""

from __future__ import annotations

import pytest

from conftest import Desk, Personas, Server
from onlinesupport.channels.chat import widget_settings
from onlinesupport.channels.chat.widget_settings import InvalidSettings, normalise_origin


@pytest.mark.parametrize(
    "given, expected",
    [
        ("https://Shop.Example.com", "https://shop.example.com"),
        ("https://shop.example.com:443/", "https://shop.example.com"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_origins_are_normalised(given: str, expected: str) -> None:
    assert normalise_origin(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "shop.example.com",
        "ftp://x.example.com",
        "https://x.example.com/contact",
        "https://u@x.example.com",
        "https://x.example.com:port",
        "https://x.example.com:99999",
    ],
)
def test_anything_but_a_site_address_is_refused(bad: str) -> None:
    with pytest.raises(InvalidSettings):
        normalise_origin(bad)


def test_only_listed_origins_are_allowed() -> None:
    settings = widget_settings.WidgetSettings(allowed_origins=("https://shop.example.com",))
    assert settings.allows("https://SHOP.example.com:443")
    assert not settings.allows("https://shop.example.com.evil.com")
    assert not settings.allows(None) and not settings.allows("null")


async def test_an_admin_sets_up_the_widget_and_gets_the_script_tag(
    server: Server, personas: Personas, client_factory
) -> None:
    admin: Desk = client_factory(server.desk_url)
    await admin.signin("ada@example.com")
    page = await admin.get("/admin/widget")
    text = await page.text()
    port = server.public_url.rsplit(":", 1)[1]
    assert f"http://127.0.0.1:{port}/widget.js" in text
    fields = {
        "allowed_origins": "https://www.shop.example.com/\nhttps://shop.example.com",
        "title": "Ask us",
        "greeting": "Hello!",
        "color": "#AA3300",
        "ask_name": "required",
        "ask_email": "hidden",
        "offline_text": "Leave a note",
    }
    assert (await admin.post("/admin/widget", fields)).status == 303
    saved = await widget_settings.load(server.services.db)
    assert saved.allowed_origins == ("https://www.shop.example.com", "https://shop.example.com")
    assert (saved.title, saved.color, saved.ask_name) == ("Ask us", "#aa3300", "required")
    bad = await admin.post("/admin/widget", {**fields, "allowed_origins": "www.shop.example.com"})
    assert bad.status == 400 and "is not a website address" in await bad.text()
    agent: Desk = client_factory(server.desk_url)
    await agent.signin("amy@example.com")
    assert (await agent.get("/admin/widget")).status == 403
