"""Knowledge-base storage: categories, articles and their search, images, and the records
self-service keeps (votes, searches that found nothing, deflections)."""

from __future__ import annotations

import sqlite3
from typing import Any

from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound, conflicts
from onlinesupport.store.rows import new_id
from onlinesupport.store.search import MARK_END, MARK_START

ARTICLE_FIELDS = (
    "category_id",
    "original_id",
    "language",
    "slug",
    "title",
    "body",
    "html",
    "plain",
    "status",
    "visibility",
)
_LIST = (
    "a.id, a.category_id, a.original_id, a.language, a.slug, a.title, a.status,"
    " a.visibility, a.updated_at, c.name AS category_name, c.slug AS category_slug"
)


# ---- categories ----------------------------------------------------------------------------


async def categories(db: Database) -> list[dict[str, Any]]:
    rows = await db.fetch_all(
        "SELECT c.*, (SELECT count(*) FROM kb_articles a WHERE a.category_id = c.id"
        " AND a.status = 'published' AND a.visibility = 'public') AS published"
        " FROM kb_categories c ORDER BY c.position, c.name"
    )
    return [dict(r) for r in rows]


async def category_by_slug(db: Database, slug: str) -> dict[str, Any] | None:
    row = await db.fetch_one("SELECT * FROM kb_categories WHERE slug = ?", (slug,))
    return dict(row) if row else None


@conflicts()
def insert_category(conn: sqlite3.Connection, name: str, slug: str, position: int, now: str) -> int:
    return new_id(
        conn.execute(
            "INSERT INTO kb_categories (name, slug, position, created_at) VALUES (?, ?, ?, ?)",
            (name, slug, position, now),
        )
    )


def category_id_by_name(conn: sqlite3.Connection, name: str) -> int | None:
    row = conn.execute("SELECT id FROM kb_categories WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


# ---- articles ------------------------------------------------------------------------------


@conflicts()
def insert_article(
    conn: sqlite3.Connection, fields: dict[str, Any], agent_id: int | None, now: str
) -> int:
    values = [fields[k] for k in ARTICLE_FIELDS]
    return new_id(
        conn.execute(
            f"INSERT INTO kb_articles ({', '.join(ARTICLE_FIELDS)}, created_at, updated_at,"
            " updated_by)"
            f" VALUES ({', '.join('?' * len(ARTICLE_FIELDS))}, ?, ?, ?)",
            (*values, now, now, agent_id),
        )
    )


@conflicts()
def update_article(
    conn: sqlite3.Connection,
    article_id: int,
    fields: dict[str, Any],
    agent_id: int | None,
    now: str,
) -> None:
    assignments = ", ".join(f"{k} = ?" for k in ARTICLE_FIELDS)
    changed = conn.execute(
        f"UPDATE kb_articles SET {assignments}, updated_at = ?, updated_by = ? WHERE id = ?",
        (*[fields[k] for k in ARTICLE_FIELDS], now, agent_id, article_id),
    ).rowcount
    if not changed:
        raise NotFound(f"article {article_id} does not exist")


def delete_article(conn: sqlite3.Connection, article_id: int) -> None:
    if not conn.execute("DELETE FROM kb_articles WHERE id = ?", (article_id,)).rowcount:
        raise NotFound(f"article {article_id} does not exist")


def article_id_by_slug(conn: sqlite3.Connection, slug: str, language: str) -> int | None:
    row = conn.execute(
        "SELECT id FROM kb_articles WHERE slug = ? AND language = ?", (slug, language)
    ).fetchone()
    return row[0] if row else None


async def find_by_slug(db: Database, slug: str, language: str) -> int | None:
    row = await db.fetch_one(
        "SELECT id FROM kb_articles WHERE slug = ? AND language = ?", (slug, language)
    )
    return row["id"] if row else None


def set_original(conn: sqlite3.Connection, article_id: int, original_id: int) -> None:
    conn.execute("UPDATE kb_articles SET original_id = ? WHERE id = ?", (original_id, article_id))


async def article(db: Database, article_id: int) -> dict[str, Any] | None:
    row = await db.fetch_one(
        "SELECT a.*, c.name AS category_name, c.slug AS category_slug, g.name AS updated_by_name"
        " FROM kb_articles a LEFT JOIN kb_categories c ON c.id = a.category_id"
        " LEFT JOIN agents g ON g.id = a.updated_by WHERE a.id = ?",
        (article_id,),
    )
    return dict(row) if row else None


async def published(db: Database, article_id: int) -> dict[str, Any] | None:
    """The article if everyone may read it (published, public), else None."""
    found = await article(db, article_id)
    if found is None or found["status"] != "published" or found["visibility"] != "public":
        return None
    return found


async def articles(
    db: Database,
    *,
    published_public: bool = False,
    category_id: int | None = None,
    language: str | None = None,
) -> list[dict[str, Any]]:
    where: list[str] = ["1"]
    params: list[int | str] = []
    if published_public:
        where.append("a.status = 'published' AND a.visibility = 'public'")
    if category_id is not None:
        where.append("a.category_id = ?")
        params.append(category_id)
    if language is not None:
        where.append("a.language = ?")
        params.append(language)
    rows = await db.fetch_all(
        f"SELECT {_LIST} FROM kb_articles a LEFT JOIN kb_categories c ON c.id = a.category_id"
        f" WHERE {' AND '.join(where)} ORDER BY c.position, c.name, a.title",
        params,
    )
    return [dict(r) for r in rows]


async def all_for_export(db: Database) -> list[dict[str, Any]]:
    rows = await db.fetch_all(
        "SELECT a.*, c.name AS category_name, o.slug AS original_slug,"
        " o.language AS original_language FROM kb_articles a"
        " LEFT JOIN kb_categories c ON c.id = a.category_id"
        " LEFT JOIN kb_articles o ON o.id = a.original_id ORDER BY a.id"
    )
    return [dict(r) for r in rows]


async def translations(db: Database, article: dict[str, Any]) -> list[dict[str, Any]]:
    """The other language versions of an article (its original and the original's others)."""
    root = article["original_id"] or article["id"]
    rows = await db.fetch_all(
        "SELECT id, language, slug, title, status, visibility FROM kb_articles"
        " WHERE (id = ? OR original_id = ?) AND id <> ? ORDER BY language",
        (root, root, article["id"]),
    )
    return [dict(r) for r in rows]


CANDIDATES = 300
"""Best matches taken from the index before the published/language filter: ranking is done
inside FTS5 (ORDER BY rank LIMIT), which is what keeps a search fast with many articles."""


def _ranked_sql(table: str, public_only: bool) -> str:
    visibility = "AND a.visibility = 'public'" if public_only else ""
    return (
        f"SELECT a.id, a.slug, a.title, a.language, a.visibility, c.name AS category_name,"
        f" m.rank AS score FROM (SELECT rowid AS id, rank FROM {table}"
        f"  WHERE {table} MATCH ? AND rank MATCH 'bm25(10.0, 1.0)'"
        f"  ORDER BY rank LIMIT {CANDIDATES}) m"
        f" JOIN kb_articles a ON a.id = m.id LEFT JOIN kb_categories c ON c.id = a.category_id"
        f" WHERE a.status = 'published' AND a.language = ? {visibility}"
        f" ORDER BY m.rank LIMIT ?"
    )


def _snippet_sql(table: str, count: int) -> str:
    return (
        f"SELECT rowid AS id, snippet({table}, 1, '{MARK_START}', '{MARK_END}', '…', 16)"
        f" AS snippet FROM {table} WHERE {table} MATCH ?"
        f" AND rowid IN ({', '.join('?' * count)})"
    )


WORDS_INDEX = "kb_fts_words"
"""Every language, words as written (with prefix indexes for what is being typed)."""
STEMMED_INDEX = "kb_fts_en"
"""English only, stemmed with porter."""
Searches = list[tuple[str, str]]
"""(index, FTS5 expression) pairs, tried in order until enough articles are found; an article
found by several keeps its best score."""


def _in_titles(expression: str) -> str:
    """The expression limited to titles. Titles weigh ten times the text, so when enough
    titles match, those are the best answers; ranking only them is several times cheaper than
    ranking every article whose text mentions a common word."""
    return f"{{title}} : ({expression})"


def _best(found: list[tuple[str, str, Any]], limit: int) -> list[dict[str, Any]]:
    """One hit per article, keeping its better score (and which index found it), best first."""
    best: dict[int, dict[str, Any]] = {}
    for table, expression, row in found:
        if row["id"] not in best or row["score"] < best[row["id"]]["score"]:
            best[row["id"]] = {**dict(row), "_table": table, "_expression": expression}
    return sorted(best.values(), key=lambda hit: hit["score"])[:limit]


def _with_snippets(hits: list[dict[str, Any]], snippets: dict[int, str]) -> list[dict[str, Any]]:
    for hit in hits:
        hit["snippet"] = snippets.get(hit["id"], "")
        del hit["_table"], hit["_expression"]
    return hits


def _snippet_queries(hits: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """Snippets only for the articles shown, from the index that found each."""
    groups: dict[tuple[str, str], list[int]] = {}
    for hit in hits:
        groups.setdefault((hit["_table"], hit["_expression"]), []).append(hit["id"])
    return [
        (_snippet_sql(table, len(ids)), [expression, *ids])
        for (table, expression), ids in groups.items()
    ]


async def search(
    db: Database, searches: Searches, language: str, *, public_only: bool, limit: int = 10
) -> list[dict[str, Any]]:
    """Published articles matching FTS5 expressions, best first (title weighs 10x the text),
    with a highlighted snippet."""
    found: list[tuple[str, str, Any]] = []
    for table, expression in searches:
        if len({row["id"] for _, _, row in found}) >= limit:
            break  # later searches are fallbacks (word forms): enough found already
        sql = _ranked_sql(table, public_only)
        rows = await db.fetch_all(sql, (_in_titles(expression), language, limit))
        if len(rows) < limit:
            rows = await db.fetch_all(sql, (expression, language, limit))
        found += [(table, expression, row) for row in rows]
    hits = _best(found, limit)
    snippets = {}
    for sql, params in _snippet_queries(hits):
        snippets.update({r["id"]: r["snippet"] for r in await db.fetch_all(sql, params)})
    return _with_snippets(hits, snippets)


# ---- files, votes, searches, deflections ---------------------------------------------------


def insert_file(
    conn: sqlite3.Connection,
    filename: str,
    content_type: str,
    size: int,
    storage_name: str,
    now: str,
) -> int:
    return new_id(
        conn.execute(
            "INSERT INTO kb_files (filename, content_type, size, storage_name, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (filename, content_type, size, storage_name, now),
        )
    )


async def file(db: Database, file_id: int) -> dict[str, Any] | None:
    row = await db.fetch_one("SELECT * FROM kb_files WHERE id = ?", (file_id,))
    return dict(row) if row else None


def add_feedback(conn: sqlite3.Connection, article_id: int, helpful: bool, now: str) -> None:
    conn.execute(
        "INSERT INTO kb_feedback (article_id, helpful, created_at) VALUES (?, ?, ?)",
        (article_id, int(helpful), now),
    )


async def feedback_counts(db: Database, article_id: int) -> dict[str, int]:
    row = await db.fetch_one(
        "SELECT coalesce(sum(helpful), 0) AS helpful, coalesce(sum(1 - helpful), 0) AS not_helpful"
        " FROM kb_feedback WHERE article_id = ?",
        (article_id,),
    )
    assert row is not None  # an aggregate always yields one row
    return {"helpful": row["helpful"], "not_helpful": row["not_helpful"]}


def add_unanswered_search(
    conn: sqlite3.Connection, query: str, language: str, source: str, now: str
) -> None:
    conn.execute(
        "INSERT INTO kb_unanswered_searches (query, language, source, created_at)"
        " VALUES (?, ?, ?, ?)",
        (query, language, source, now),
    )


async def unanswered_searches(db: Database, limit: int = 50) -> list[dict[str, Any]]:
    rows = await db.fetch_all(
        "SELECT lower(query) AS query, count(*) AS times, max(created_at) AS last"
        " FROM kb_unanswered_searches GROUP BY lower(query) ORDER BY times DESC, last DESC"
        " LIMIT ?",
        (limit,),
    )
    return [dict(r) for r in rows]


def add_deflection(
    conn: sqlite3.Connection,
    article_id: int | None,
    source: str,
    conversation_id: int | None,
    question: str,
    now: str,
) -> int:
    return new_id(
        conn.execute(
            "INSERT INTO kb_deflections (article_id, source, conversation_id, question, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (article_id, source, conversation_id, question, now),
        )
    )


async def deflections(db: Database) -> list[dict[str, Any]]:
    rows = await db.fetch_all(
        "SELECT d.*, a.title FROM kb_deflections d LEFT JOIN kb_articles a ON a.id = d.article_id"
        " ORDER BY d.id DESC LIMIT 200"
    )
    return [dict(r) for r in rows]
