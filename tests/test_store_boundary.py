"""All SQL lives in the store: no module outside `onlinesupport.store` imports `sqlite3` or
holds an SQL statement. Read from the source (ast), so a module that is never imported in the
tests is checked too."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import onlinesupport

PACKAGE = Path(onlinesupport.__file__).parent

# Our SQL is written in capitals; so a sentence that starts "Select a queue from" is no SQL.
STATEMENT = re.compile(
    r"\s*(SELECT\s.*\bFROM\b|SELECT\s+\S+\s*$|INSERT\s+(OR\s+[A-Z]+\s+)?INTO\s|REPLACE\s+INTO\s"
    r"|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|CREATE\s+(TABLE|INDEX|UNIQUE|TRIGGER|VIEW|VIRTUAL)\b"
    r"|DROP\s+(TABLE|INDEX|TRIGGER|VIEW)\b|ALTER\s+TABLE\s|PRAGMA\s+\w+|WITH\s+\w+\s+AS\s*\()",
    re.DOTALL,
)


def is_statement(text: str) -> bool:
    return STATEMENT.match(text) is not None


def _text(node: ast.AST) -> str | None:
    """The text of a string literal; an f-string's literal parts with {} for each value."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
    return None


def offences(source: str) -> list[str]:
    """What in a module's source breaks the boundary, one line each."""
    tree = ast.parse(source)
    # An f-string is judged whole, not by its literal parts.
    parts = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        if any(name.split(".")[0] == "sqlite3" for name in names):
            found.append(f"line {node.lineno}: imports sqlite3")
        text = _text(node)
        if text is not None and id(node) not in parts and is_statement(text):
            found.append(f"line {node.lineno}: SQL {text.strip()[:60]!r}")
    return found


def outside_store() -> list[Path]:
    return sorted(
        path for path in PACKAGE.rglob("*.py") if path.relative_to(PACKAGE).parts[0] != "store"
    )


def test_nothing_outside_the_store_imports_sqlite3_or_writes_sql() -> None:
    assert len(outside_store()) > 50  # the walk found the package
    offenders = {}
    for path in outside_store():
        name = path.relative_to(PACKAGE).as_posix()
        found = offences(path.read_text(encoding="utf-8"))
        if found:
            offenders[name] = found
    listed = "\n".join(f"{name}: {what}" for name, found in offenders.items() for what in found)
    assert not offenders, f"SQL and sqlite3 belong in store/ (a repository function):\n{listed}"


def test_the_check_sees_what_it_looks_for() -> None:
    assert offences("import sqlite3\n") == ["line 1: imports sqlite3"]
    assert offences("from sqlite3 import IntegrityError\n")
    for sql in (
        "SELECT * FROM queues WHERE id = ?",
        "SELECT 1",
        " INSERT INTO t (a) VALUES (?)",
        "INSERT OR IGNORE INTO t VALUES (1)",
        "UPDATE conversations SET x = 1",
        "DELETE FROM t",
        "CREATE TABLE t (a)",
        "PRAGMA user_version",
        "WITH w AS (SELECT 1) SELECT * FROM w",
    ):
        assert is_statement(sql), sql
    assert offences('q = ("SELECT c.id FROM conversations c"\n     " WHERE c.id = ?")\n')
    assert offences('q = f"UPDATE mailboxes SET {columns} WHERE id = ?"\n')
    for text in (
        "Select a queue from the list",
        "SELECTED",
        "Update the settings",
        "select * from t",
        "we DELETE nothing",
    ):
        assert not is_statement(text), text


# What a repository hands out is a named type: a dataclass or a TypedDict, never the sqlite3.Row
# its query produced or an anonymous dict (issue 16). The primitives that turn rows into those
# types are the exception.
UNTYPED = re.compile(r"(?<![\w.])(sqlite3\.Row|Row|dict\[str, Any\])(?![\w])")
NOT_ROWS = {
    # The primitives that rows become records through.
    "database.py": {"fetch_all", "fetch_one"},  # the store's own read API, used in store/ only
    "rows.py": {"one", "only"},  # typed cursor reads, turned into records by their callers
    # Dicts that are no row: JSON as it goes on the wire, or free-form JSON stored as such.
    "events.py": {"to_json", "first_data"},  # an event's payload is its type's own JSON
    "messages.py": {"to_json"},
    "settings.py": {"get"},  # a settings section, as JSON
    "erasure.py": {"export"},  # everything held on a customer, as the JSON file they receive
    "conversations.py": {"fields"},  # an inbox filter's chosen fields, as query parameters
}


def untyped_returns(source: str, allowed: set[str] = frozenset()) -> list[str]:
    """Public functions and methods of a module whose return type is a bare row or dict."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and not node.name.startswith("_")
            and node.name not in allowed
            and node.returns is not None
            and UNTYPED.search(ast.unparse(node.returns))
        ):
            found.append(f"line {node.lineno}: {node.name} -> {ast.unparse(node.returns)}")
    return found


def test_repositories_return_named_types_not_rows() -> None:
    modules = sorted((PACKAGE / "store").glob("*.py"))
    assert len(modules) > 25
    offenders = {
        path.name: found
        for path in modules
        if (
            found := untyped_returns(
                path.read_text(encoding="utf-8"), NOT_ROWS.get(path.name, set())
            )
        )
    }
    listed = "\n".join(f"{name}: {what}" for name, found in offenders.items() for what in found)
    assert not offenders, f"return a dataclass or TypedDict named for what it is:\n{listed}"


def test_the_row_check_sees_what_it_looks_for() -> None:
    assert untyped_returns("def f(c) -> sqlite3.Row | None: ...\n")
    assert untyped_returns("async def f(db) -> list[sqlite3.Row]: ...\n")
    assert untyped_returns("def f(c) -> list[dict[str, Any]]: ...\n")
    assert untyped_returns("class A:\n    def f(self) -> Row: ...\n")
    assert not untyped_returns("def f(c) -> Conversation | None: ...\n")
    assert not untyped_returns("def f(c) -> list[QueueRow]: ...\n")
    assert not untyped_returns("def _f(c) -> sqlite3.Row: ...\n")
    assert not untyped_returns("def f(c) -> dict[str, int]: ...\n")
