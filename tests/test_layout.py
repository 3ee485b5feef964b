"""Every page at three window sizes, as a person would meet it: nothing wider than the window,
every control reachable inside its own panel and clickable, no console errors or CSP
violations, and (at 1366x768) no serious or critical accessibility problem found by axe-core.

Desk pages are visited as agent, manager and admin; the public pages signed out and as a
customer; the widget on a website of another origin (hostile CSS, strict CSP) in each state.
Screenshots go to test-artifacts/layout/ (git-ignored) for a person to look at. One server and
one browser serve the whole module, and each role reuses one page.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import subprocess
import tarfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.async_api import expect

from conftest import PASSWORD, ROOT, Server, make_config, start_server
from email_helpers import add_mailbox, mailbox_form
from onlinesupport.app import create_desk_app, create_public_app
from onlinesupport.channels.email.intake import Incoming
from onlinesupport.core.conversations import Actor
from onlinesupport.integrations.webhooks import EndpointFields
from onlinesupport.lib.clock import to_db
from onlinesupport.lib.signing import sign
from onlinesupport.store import customer_access as access_repo
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store import queues as queues_repo
from test_widget_panel import WATCH, allow, start_hostile_site

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "layout"
AXE_VERSION = "4.14.1"
AXE_CACHE = ROOT / ".cache" / f"axe-core-{AXE_VERSION}"
VIEWPORTS = {"1366x768": (1366, 768), "1280x720": (1280, 720), "390x844": (390, 844)}
ROLES = {"agent": "amy@example.com", "manager": "max@example.com", "admin": "ada@example.com"}
ROLE_LEVEL = {"agent": 1, "manager": 2, "admin": 3}

# What is reachable by GET but is no page: data, files, sockets, redirects' targets only.
NOT_PAGES = {
    "/healthz",
    "/logo",
    "/favicon.ico",
    "/favicon.svg",
    "/attachments/{id}",
    "/kb/export",
    "/mail/{id}/original",
    "/api/kb/search",
    "/api/canned",
    "/api/conversations",
    "/api/conversations/{id}",
    "/api/ws",
    "/admin/backups/{name}",
    "/widget.js",
    "/widget.css",
    "/widget-call.js",
    "/widget-words/{lang}.js",
    "/widget/ws",
    "/widget/files/{id}/{expires}/{signature}",
    "/contact.js",
    "/contact.css",
    "/times.js",
    "/my/data",
    "/help/suggest",
    "/help/files/{id}-{signature}/{name}",
    "/reports/conversations.csv",
    "/reports/days.csv",
}
# Pages met signed out, or on the way in (their own tests cover their flows).
SIGNED_OUT_DESK = {"/signin", "/setup", "/invitation"}

# Run inside the page: every visible control of `within` is scrolled into view by its own
# scrolling containers (one that cannot scroll for a person does not count), must then be in the
# window, and must be what a click at its centre hits.
REACHABLE = r"""({ host, within }) => {
  const root = host ? document.querySelector(host).shadowRoot : document;
  const region = root.querySelector(within);
  const say = (el) => !el ? "nothing" : `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}` +
    `${el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : ""} ` +
    `"${(el.getAttribute("aria-label") || el.innerText || el.value || el.placeholder || el.name || "").trim().slice(0, 40)}"`;
  const parent = (node) => node.parentElement || (node.getRootNode() instanceof ShadowRoot ? node.getRootNode().host : null);
  const problems = [];
  for (const el of region ? region.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary") : []) {
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
    if (el.closest(".visually-hidden, .sr, .trap, .skip")) continue;  // .skip shows on focus
    const before = [];
    for (let node = parent(el); node; node = parent(node)) before.push([node, node.scrollTop, node.scrollLeft]);
    el.scrollIntoView({ block: "center", inline: "center" });
    for (const [node, top, left] of before) {
      if (node === document.documentElement || node === document.body) continue;
      const style = getComputedStyle(node);
      if ((node.scrollTop !== top && !["auto", "scroll"].includes(style.overflowY)) ||
          (node.scrollLeft !== left && !["auto", "scroll"].includes(style.overflowX))) {
        problems.push(`${say(el)} is reachable only by script: ${say(node)} cannot be scrolled`);
      }
    }
    const r = el.tagName === "A" && el.getClientRects().length ? el.getClientRects()[0] : el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) continue;
    if (r.right <= 0 || r.left >= innerWidth || r.bottom <= 0 || r.top >= innerHeight) {
      problems.push(`${say(el)} cannot be scrolled into the window`);
      continue;
    }
    const x = Math.min(Math.max(r.left + r.width / 2, 1), innerWidth - 2);
    const y = Math.min(Math.max(r.top + r.height / 2, 1), innerHeight - 2);
    const hit = el.getRootNode().elementFromPoint(x, y);
    const label = hit && hit.closest ? hit.closest("label") : null;
    if (!(hit === el || el.contains(hit) || (label && label.control === el))) {
      problems.push(`${say(el)} is covered by ${say(hit)}`);
    }
  }
  window.scrollTo(0, 0);
  return problems;
}"""
AXE_RUN = """async (selector) => {
  const result = await axe.run(selector ? document.querySelector(selector) : document,
                               { resultTypes: ["violations"] });
  return result.violations.filter((v) => ["serious", "critical"].includes(v.impact))
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core from the npm registry, fetched once into .cache/ (test-only, never shipped)."""
    script = AXE_CACHE / "axe.min.js"
    if not script.exists():
        assert shutil.which("npm"), "npm is needed to fetch axe-core for the layout tests"
        AXE_CACHE.mkdir(parents=True, exist_ok=True)
        packed = subprocess.run(
            [
                "npm",
                "pack",
                f"axe-core@{AXE_VERSION}",
                "--silent",
                "--pack-destination",
                str(AXE_CACHE),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )
        with tarfile.open(AXE_CACHE / packed.stdout.strip().splitlines()[-1]) as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None
            script.write_bytes(member.read())
    return script.read_text()


@dataclass
class Site:
    """The module's server, seeded so every page has something on it."""

    server: Server
    desk_pages: dict[str, str] = field(default_factory=dict)
    """desk path as routed -> the address visited"""
    public_pages: dict[str, str] = field(default_factory=dict)
    access: dict[str, str] = field(default_factory=dict)
    """desk path as routed -> the role it needs ("public" for signed-out pages)"""
    customer_session: str = ""
    agent_id: int = 0


async def _seed(server: Server) -> Site:
    services = server.services
    site = Site(server)
    accounts, conversations = services.accounts, services.conversations
    admin = await accounts.create_agent(ROLES["admin"], "Ada Admin", "admin", PASSWORD)
    await accounts.create_agent(ROLES["manager"], "Max Manager", "manager", PASSWORD)
    site.agent_id = await accounts.create_agent(ROLES["agent"], "Amy Agent", "agent", PASSWORD)
    ada = Actor.agent(admin, "Ada Admin")
    await services.branding.save("Brakes & Bikes", None)
    # Callback requests on, so their pages (contact form, customer's page, widget) are laid out.
    await services.callbacks.save_settings({"enabled": "on", "queue_id": "1", "country": "DE"})
    now = to_db(services.clock.now())
    workshop = await services.db.write(lambda conn: queues_repo.insert(conn, "Workshop", now))
    await services.db.write(
        lambda conn: conn.execute("UPDATE queues SET internal = 1 WHERE id = ?", (workshop,))
    )
    await services.db.write(lambda conn: queues_repo.insert(conn, "Billing", now))
    await services.canned.add(
        admin,
        True,
        shared=True,
        shortcut="thanks",
        title="Thanks",
        body="Thank you, {customer.first_name}!",
    )
    await services.scripts.add("Warranty", "What is the serial number?\nWhen did you buy it?")
    await services.proactive.save(None, {"text": "Need help with your bike?", "active": "on"})
    category = await services.knowledge.add_category("Brakes")
    article = await services.knowledge.save(
        None,
        {
            "title": "Squealing brakes",
            "status": "published",
            "visibility": "public",
            "category_id": str(category),
            "body": "Disc brakes often squeal in the rain.\n\n## What to do\n\nClean the rotors.",
        },
        admin,
    )

    chat = await conversations.open(
        channel="chat",
        customer_name="Carla Customer",
        identity=("email", "carla@example.com"),
        body="Hello, my disc brakes squeal when it rains. Is that normal?",
        page_url="https://brakes.example.com/service/a-rather-long-address-" + "x" * 60,
        page_title="Spring service",
    )
    await conversations.assign(chat.conversation_id, site.agent_id, ada)
    await conversations.post(
        chat.conversation_id,
        Actor.agent(site.agent_id, "Amy Agent"),
        "Hi Carla! Do they squeal when dry too?",
    )
    await conversations.note(chat.conversation_id, ada, "Regular customer, check her warranty")
    await services.escalations.escalate(
        chat.conversation_id,
        workshop,
        {"type": "problem", "product": "Disc brake", "summary": "Squeal in the wet"},
        ada,
    )
    await conversations.open(
        channel="form",
        customer_name="Lee Park",
        identity=("email", "lee@example.com"),
        subject="Opening hours",
        body="Are you open on Easter Monday?",
    )

    mailbox_id = await add_mailbox(services, mailbox_form(None, None, smtp_receive="on"))
    mailbox = await mailboxes_repo.get(services.db, mailbox_id)
    mail = EmailMessage()
    mail["From"] = "Dan Doe <dan@customer.test>"
    mail["To"] = mailbox["address"]
    mail["Subject"] = "Refund for order 981"
    mail["Message-ID"] = "<order-981@customer.test>"
    mail.set_content("The saddle was the wrong size.\n\n> quoted earlier text")
    mail.add_alternative("<p>The saddle was the <b>wrong size</b>.</p>", subtype="html")
    imported = await services.email.intake.receive(mailbox, Incoming(mail.as_bytes()))
    email_conversation = imported.conversation_id
    message = await services.db.fetch_one(
        "SELECT id FROM messages WHERE conversation_id = ? ORDER BY seq LIMIT 1",
        (email_conversation,),
    )
    backup = await services.backups.run_once() or services.backups.existing()[-1]
    _, invitation = await services.invitations.invite("cleo@example.com", "Cleo", "agent")
    await services.api_tokens.create(
        name="Web shop", scope="write", agent_id=site.agent_id, created_by=admin, expires_at=None
    )
    endpoint = await services.webhooks.add(
        EndpointFields(
            url="http://127.0.0.1:9/crm/hooks/onlinesupport-" + "x" * 60,
            description="CRM: new conversations and customers",
        )
    )
    await services.webhooks.send_test(endpoint)

    ids = {
        "/conversations/{id}": f"/conversations/{chat.conversation_id}",
        "/kb/{id}": f"/kb/{article}",
        "/admin/mailboxes/{id}": f"/admin/mailboxes/{mailbox_id}",
        "/admin/backups/{name}/restore": f"/admin/backups/{backup.name}/restore",
        "/admin/webhooks/{id}": f"/admin/webhooks/{endpoint}",
        "/mail/{id}/formatted": f"/mail/{message[0]}/formatted",
        "/invitation": f"/invitation?token={invitation}",
        "/search": "/search?q=brakes",
        "/reports/conversations": "/reports/conversations?metric=created",
        "/setup": "/setup?token=spent",
    }
    steps = ("company", "website", "mailbox", "team", "done")
    desk = create_desk_app(services)
    for route in desk.router.routes():
        if route.method != "GET" or isinstance(route.resource, _static()):
            continue
        path = route.resource.canonical
        if path in NOT_PAGES or (path.startswith("/api/") and path != "/api/reference"):
            continue  # JSON for scripts and integrations, not pages
        role = route.handler._onlinesupport_access
        if path == "/welcome/{step}":
            for step in steps:
                site.desk_pages[f"/welcome/{step}"] = f"/welcome/{step}"
                site.access[f"/welcome/{step}"] = role
            continue
        assert "{" not in path or path in ids, f"the layout test does not know how to open {path}"
        site.desk_pages[path] = ids.get(path, path)
        site.access[path] = role
    site.desk_pages[f"/conversations/{email_conversation}"] = f"/conversations/{email_conversation}"
    site.access[f"/conversations/{email_conversation}"] = "agent"

    # The customer's own page, signed in as Carla.
    session, link = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    later = to_db(services.clock.now() + timedelta(days=1))
    digest = lambda token: hashlib.sha256(token.encode()).hexdigest()  # noqa: E731
    await services.db.write(
        lambda conn: access_repo.add_session(conn, digest(session), chat.customer_id, now, later)
    )
    await services.db.write(
        lambda conn: access_repo.add_link(conn, digest(link), chat.customer_id, now, later)
    )
    site.customer_session = session
    sent = sign(services.secret_key, "contact-sent", "2:within 2 hours", 24)
    called = sign(services.secret_key, "callback-sent", "3:+49301234567:Tuesday 14:00", 24)
    public_ids = {
        "/my/link/{token}": f"/my/link/{link}",
        "/my/conversations/{id}": f"/my/conversations/{chat.conversation_id}",
        "/help/categories/{slug}": "/help/categories/brakes",
        "/help/articles/{id}-{slug}": f"/help/articles/{article}-squealing-brakes",
        "/help/search": "/help/search?q=brake+noise",
        "/contact/sent": f"/contact/sent?n=2&when=within+2+hours&s={sent}",
        "/contact/callback/sent": f"/contact/callback/sent?n=3&phone=%2B49301234567"
        f"&when=Tuesday+14%3A00&s={called}",
    }
    for route in create_public_app(services).router.routes():
        path = route.resource.canonical
        if route.method != "GET" or path in NOT_PAGES:
            continue
        assert "{" not in path or path in public_ids, f"the layout test cannot open {path}"
        site.public_pages[path] = public_ids.get(path, path)
    return site


def _static() -> type:
    from aiohttp import web

    return web.StaticResource


@pytest.fixture(scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    # Webhooks may go to 127.0.0.1, where the endpoint's test ping is refused: a log entry.
    config = make_config(tmp_path_factory.mktemp("layout") / "data", webhooks_allow_loopback=True)
    async with AsyncExitStack() as stack:
        server = await start_server(stack, config)
        yield await _seed(server)


@dataclass
class Visit:
    """One browser page, watched for console errors and CSP violations."""

    page: Any
    errors: list[str] = field(default_factory=list)

    async def problems(self) -> list[str]:
        found = [f"console: {e}" for e in self.errors]
        found += [f"CSP: {v}" for v in await self.page.evaluate("window.__violations || []")]
        self.errors.clear()
        return found


async def open_visit(browser: Any, **context: Any) -> Visit:
    made = await browser.new_context(viewport={"width": 1366, "height": 768}, **context)
    page = await made.new_page()
    page.set_default_timeout(15_000)
    await page.add_init_script(WATCH)
    visit = Visit(page)
    page.on("console", lambda m: visit.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.errors.append(str(e)))
    return visit


async def check_page(
    visit: Visit,
    name: str,
    folder: str,
    axe: str | None,
    *,
    host: str | None = None,
    within: str = "body",
) -> list[str]:
    """Every viewport: width, reachable controls, screenshot; then console and CSP; axe once."""
    page, found = visit.page, []
    for size, (width, height) in VIEWPORTS.items():
        await page.set_viewport_size({"width": width, "height": height})
        await page.wait_for_timeout(60)
        wide = await page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        )
        if wide > width:
            found.append(f"{size}: {wide} px wide")
        found += [
            f"{size}: {p}" for p in await page.evaluate(REACHABLE, {"host": host, "within": within})
        ]
        shot = ARTIFACTS / folder / size / f"{name}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(shot))
    await page.set_viewport_size({"width": 1366, "height": 768})
    found += await visit.problems()
    if axe is not None:
        if not await page.evaluate("typeof axe !== 'undefined'"):
            await page.evaluate(axe)  # through the DevTools protocol: the page's CSP stays on
        found += [f"axe: {v}" for v in await page.evaluate(AXE_RUN, host)]
        # axe adds a <style> of its own to shadow roots, which a strict CSP rightly refuses.
        await page.evaluate("window.__violations = []")
        visit.errors.clear()
    return [f"{name}: {p}" for p in found]


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


async def _sign_in(visit: Visit, server: Server, email: str) -> None:
    page = visit.page
    await page.goto(server.desk_url + "/signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#live")).to_have_text("● Live")


@pytest.mark.parametrize("role", list(ROLES))
async def test_every_desk_page_fits_and_every_control_is_reachable(
    site: Site, browser: Any, axe_source: str, role: str
) -> None:
    server = site.server
    visit = await open_visit(browser)
    problems: list[str] = []
    try:
        await _sign_in(visit, server, ROLES[role])
        visit.errors.clear()
        pages = {
            path: url
            for path, url in site.desk_pages.items()
            if site.access[path] != "public" and ROLE_LEVEL[site.access[path]] <= ROLE_LEVEL[role]
        }
        assert len(pages) >= {"agent": 10, "manager": 14, "admin": 30}[role]
        for path, url in pages.items():
            response = await visit.page.goto(server.desk_url + url)
            assert response is not None and response.status == 200, f"{url}: {response.status}"
            # A mail's own HTML is the sender's, shown in a sandbox: its accessibility is theirs.
            axe = None if path == "/mail/{id}/formatted" else axe_source
            problems += await check_page(visit, _slug(url.split("?")[0]), role, axe)
    finally:
        await visit.page.context.close()
    assert problems == [], "\n".join(problems)


async def test_public_and_signed_out_pages_fit_and_every_control_is_reachable(
    site: Site, browser: Any, axe_source: str
) -> None:
    server = site.server
    visit = await open_visit(browser)
    problems: list[str] = []
    try:
        for path in sorted(SIGNED_OUT_DESK):
            response = await visit.page.goto(server.desk_url + site.desk_pages[path])
            assert response is not None and response.status < 500
            problems += await check_page(visit, "desk-" + _slug(path), "signed-out", axe_source)
        for path, url in sorted(site.public_pages.items()):
            if path == "/my/conversations/{id}":
                continue  # signed in below
            response = await visit.page.goto(server.public_url + url)
            assert response is not None and response.status == 200, f"{url}: {response.status}"
            problems += await check_page(visit, _slug(url.split("?")[0]), "public", axe_source)
        host = server.public_url.split("//")[1].split(":")[0]
        await visit.page.context.add_cookies(
            [{"name": "os_customer", "value": site.customer_session, "domain": host, "path": "/"}]
        )
        for path in ("/my", "/my/conversations/{id}"):
            await visit.page.goto(server.public_url + site.public_pages[path])
            await expect(visit.page.get_by_role("heading", level=1)).not_to_contain_text("Enter")
            problems += await check_page(visit, "customer-" + _slug(path), "public", axe_source)
    finally:
        await visit.page.context.close()
    assert problems == [], "\n".join(problems)


async def test_the_first_run_setup_page(server: Server, browser: Any, axe_source: str) -> None:
    visit = await open_visit(browser)
    try:
        await visit.page.goto(f"{server.desk_url}/setup?token={server.services.setup.value}")
        await expect(visit.page.get_by_role("button", name="Create admin account")).to_be_visible()
        problems = await check_page(visit, "desk-setup-first-run", "signed-out", axe_source)
    finally:
        await visit.page.context.close()
    assert problems == [], "\n".join(problems)


async def test_the_widget_in_every_state_fits_and_every_control_is_reachable(
    site: Site, browser: Any, axe_source: str
) -> None:
    server = site.server
    problems: list[str] = []
    async with AsyncExitStack() as stack:
        website = await start_hostile_site(stack, server.public_url, strict=True)
        await allow(server, website)
        agent = await open_visit(browser)
        stack.push_async_callback(agent.page.context.close)
        await _sign_in(agent, server, ROLES["agent"])
        visitor = await open_visit(browser)
        stack.push_async_callback(visitor.page.context.close)
        page = visitor.page
        widget = page.locator("[data-onlinesupport]")
        args = {"host": "[data-onlinesupport]"}

        async def state(name: str, within: str = ".panel") -> None:
            nonlocal problems
            problems += await check_page(visitor, name, "widget", axe_source, within=within, **args)

        await page.goto(website + "/")
        await expect(page.get_by_role("button", name="Open chat")).to_be_visible()
        await state("closed", within=".launch")
        await page.get_by_role("button", name="Open chat").click()
        await expect(widget.locator("form.pre")).to_be_visible()
        await state("pre-chat")
        await (
            widget.locator("form.pre")
            .get_by_label("Your question")
            .fill("Do you fit tubeless tyres?")
        )
        await widget.get_by_role("button", name="Start chat").click()
        await expect(widget.locator(".m.me:not(.pending)")).to_have_count(1)
        await agent.page.locator("#conversation-list a", has_text="tubeless").click()
        await agent.page.get_by_label("Reply").fill(
            "Yes, while you wait: about 20 minutes a wheel."
        )
        await agent.page.get_by_role("button", name="Send reply").click()
        await expect(widget.locator(".m:not(.me)")).to_have_count(1)
        await state("chat")
        await widget.get_by_role("button", name="End chat").click()
        await expect(widget.locator("form.rate")).to_be_visible()
        await state("rating")
        await widget.get_by_role("button", name="5 of 5").click()
        await widget.get_by_role("button", name="Send rating").click()
        await expect(widget.locator(".log")).to_contain_text("Thank you for your feedback!")
        await state("ended")

        # Nobody online: a new visitor gets the leave-a-message form.
        server.services.presence.set_status(site.agent_id, "away")
        try:
            away = await open_visit(browser)
            stack.push_async_callback(away.page.context.close)
            await away.page.goto(website + "/")
            await away.page.get_by_role("button", name="Open chat").click()
            await expect(away.page.locator("[data-onlinesupport] form.off")).to_be_visible()
            problems += await check_page(
                away, "offline-form", "widget", axe_source, within=".panel", **args
            )
        finally:
            server.services.presence.set_status(site.agent_id, "online")
        problems += await agent.problems()
    assert problems == [], "\n".join(problems)
