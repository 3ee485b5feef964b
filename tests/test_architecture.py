"""The folder tree is the architecture: imports point one way (docs/architecture.md, Layout).

Every `onlinesupport` import of every module (inside functions too) is checked against the
rules below. A known exception is listed in ALLOWED_EXCEPTIONS with the reason it exists; an
entry that no longer occurs fails the test too, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import onlinesupport

PACKAGE = Path(onlinesupport.__file__).parent

# The layers, bottom first: each imports only the layers below it (and itself). The features
# share one layer and may use each other, within the extra rules of _broken_rule.
FEATURES = {
    "accounts",
    "channels",
    "routing",
    "knowledge",
    "selfservice",
    "reports",
    "integrations",
}
LAYERS: list[set[str]] = [
    {"lib"},
    {"store"},
    {"core"},
    FEATURES,
    {"ops"},
    {"services"},
    {"web"},
    {"app"},
    {"cli"},
    {"__main__"},
]
# Bootstrap settings: imports nothing of ours, read by the features and everything above them.
CONFIG_READERS = FEATURES | {"ops", "services", "web", "app", "cli"}

MAY_IMPORT: dict[str, set[str]] = {"config": set()}
for _rank, _layer in enumerate(LAYERS):
    for _area_name in _layer:
        MAY_IMPORT[_area_name] = (
            set().union(*LAYERS[:_rank])
            | (_layer if _layer is FEATURES else set())
            | ({"config"} if _area_name in CONFIG_READERS else set())
        )

# Real edges that break a rule, each with why it is there. Remove an entry once its edge is gone.
ALLOWED_EXCEPTIONS: dict[tuple[str, str], str] = {
    # ops -> services: the health report looks at every part of the instance through the
    # Services container; it could be handed the parts it reads instead.
    ("ops.health", "services"): "the health report reads the Services container",
    # ops -> app: the service runner (Windows service, tests) runs `serve` itself; imported
    # inside the function that runs it.
    ("ops.platform_support", "app"): "ServiceRunner runs app.serve",
    # routing -> channels: chat offers go only to agents present on the desk; presence is the
    # agents' state, not the chat channel's, and would belong in accounts/.
    ("routing.offers", "channels.chat.presence"): "offers ask who is present",
    # channel -> channel: the widget offers the contact form (its fields) when nobody is in and
    # takes callback requests; a callback request confirms itself by mail and shares the form's
    # rate limit. Each is one channel reaching into another's module instead of a shared one.
    ("channels.chat.protocol", "channels.forms.contact"): "the widget's offline form",
    ("channels.chat.protocol", "channels.phone.callbacks"): "callback requests in the widget",
    ("channels.phone.callbacks", "channels.email.threads"): "the confirmation mail's thread",
    ("channels.phone.callbacks", "channels.email.outgoing"): "the confirmation mail queued",
    ("channels.phone.callbacks", "channels.email.replies"): "the confirmation mail's address",
    ("channels.phone.callbacks", "channels.forms.contact"): "the form's rate limit",
}


def _modules() -> dict[str, Path]:
    """Dotted name (without `onlinesupport.`) of every module in the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """The package modules a file imports, by dotted name ("" for the package root)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names]
            names = [
                n if n.removeprefix("onlinesupport.") in MODULES else node.module for n in names
            ]
        else:
            continue
        for name in names:
            if name == "onlinesupport" or name.startswith("onlinesupport."):
                found.add(name.removeprefix("onlinesupport").removeprefix("."))
    return found


def _area(module: str) -> str:
    return module.split(".")[0]


def _side(module: str) -> str:
    """The second part of a name: which channel, which listener."""
    return (module.split(".") + [""])[1]


def _broken_rule(importer: str, imported: str) -> str | None:
    """Which rule an import edge breaks, or None."""
    source, target = _area(importer), _area(imported)
    if imported == "" or source == target and source not in {"channels", "web"}:
        return None
    if source != target and target not in MAY_IMPORT.get(source, set()):
        return f"{source}/ may not import {target or 'the package root'}"
    if source == "routing" and target == "channels":
        return "routing never imports a channel"
    if source == "channels" == target and "" != _side(importer) != _side(imported) != "":
        return "a channel never imports another channel"
    if (
        source in {"routing", "channels"}
        and target == "reports"
        and not imported.startswith("reports.recording")
    ):
        return "reports are read, never imported below web (but reports.recording)"
    if source == "web" == target:
        if {_side(importer), _side(imported)} == {"public", "desk"}:
            return "the public listener and the desk share no handlers"
    return None


def _edges() -> list[tuple[str, str]]:
    return sorted(
        (module, imported)
        for module, path in MODULES.items()
        for imported in _imports(path)
        if imported != module
    )


def test_imports_point_one_way() -> None:
    broken = []
    for importer, imported in _edges():
        rule = _broken_rule(importer, imported)
        if rule and (importer, imported) not in ALLOWED_EXCEPTIONS:
            broken.append(f"{importer} -> {imported}: {rule}")
    assert broken == [], "imports against docs/architecture.md:\n" + "\n".join(broken)


def test_every_exception_still_occurs_and_still_breaks_a_rule() -> None:
    """An exception whose module exists must still be needed. (One whose module does not exist
    is for a module arriving from parallel work, or one removed: delete it then.)"""
    edges = set(_edges())
    stale = [
        f"{a} -> {b}"
        for a, b in ALLOWED_EXCEPTIONS
        if a in MODULES and ((a, b) not in edges or _broken_rule(a, b) is None)
    ]
    assert stale == [], "remove from ALLOWED_EXCEPTIONS:\n" + "\n".join(stale)


def test_every_area_has_rules() -> None:
    """A new top-level module or package must be placed in the layout (and in the rules)."""
    areas = {_area(m) for m in MODULES if m}
    assert areas <= set(MAY_IMPORT), f"no rules for {sorted(areas - set(MAY_IMPORT))}"


def test_the_rules_catch_what_they_say() -> None:
    assert _broken_rule("store.messages", "core.hub")
    assert _broken_rule("lib.clock", "store")
    assert _broken_rule("channels.email.intake", "web.desk.inbox")
    assert _broken_rule("routing.engine", "channels.email.parse")
    assert _broken_rule("channels.forms.contact", "channels.chat.protocol")
    assert _broken_rule("web.public.widget", "web.desk.inbox")
    assert _broken_rule("core.hub", "app")
    assert _broken_rule("channels.chat.protocol", "reports.service")
    assert _broken_rule("channels.chat.protocol", "reports.recording") is None
    assert _broken_rule("web.desk.inbox", "web.desk.admin.first_run") is None
    assert _broken_rule("channels.email.intake", "channels.email.threads") is None
    assert _imports(PACKAGE / "__main__.py") == {"cli"}
