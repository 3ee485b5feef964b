"""Knowledge-base storage: categories, articles and their search, images, and the records
self-service keeps (votes, searches that found nothing, deflections)."""

from __future__ import annotations

import sqlite3
from typing import Any, TypedDict

from onlinesupport.store.attachments import ServedFile
from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound, conflicts
from onlinesupport.store.rows import as_dict, as_dicts, new_id
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


class Category(TypedDict):
    id: int
    name: str
    slug: str
    position: int
    created_at: str


class CategoryCount(Category):
    """A category with how many public articles are published in it."""

    published: int


async def categories(db: Database) -> list[CategoryCount]:
    rows = await db.fetch_all(
        "SELECT c.*, (SELECT count(*) FROM kb_articles a WHERE a.category_id = c.id"
        " AND a.status = 'published' AND a.visibility = 'public') AS published"
        " FROM kb_categories c ORDER BY c.position, c.name"
    )
    return as_dicts(CategoryCount, rows)


async def category_by_slug(db: Database, slug: str) -> Category | None:
    row = await db.fetch_one("SELECT * FROM kb_categories WHERE slug = ?", (slug,))
    return as_dict(Category, row) if row else None


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


class ArticleLine(TypedDict):
    """An article as lists show it (no text)."""

    id: int
    category_id: int | None
    original_id: int | None
    language: str
    slug: str
    title: str
    status: str
    visibility: str
    updated_at: str
    category_name: str | None
    category_slug: str | None


class ArticleText(TypedDict):
    """What lists leave out of an article: its text, and who made and changed it."""

    body: str
    html: str
    plain: str
    created_at: str
    updated_by: int | None


class Article(ArticleLine, ArticleText):
    """An article with its category's name and slug and who last changed it."""

    updated_by_name: str | None


async def article(db: Database, article_id: int) -> Article | None:
    row = await db.fetch_one(
        "SELECT a.*, c.name AS category_name, c.slug AS category_slug, g.name AS updated_by_name"
        " FROM kb_articles a LEFT JOIN kb_categories c ON c.id = a.category_id"
        " LEFT JOIN agents g ON g.id = a.updated_by WHERE a.id = ?",
        (article_id,),
    )
    return as_dict(Article, row) if row else None


async def published(db: Database, article_id: int) -> Article | None:
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
) -> list[ArticleLine]:
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
    return as_dicts(ArticleLine, rows)


class ExportedArticle(ArticleLine, ArticleText):
    """An article as exported: its category by name and its original by slug and language."""

    original_slug: str | None
    original_language: str | None


async def all_for_export(db: Database) -> list[ExportedArticle]:
    rows = await db.fetch_all(
        "SELECT a.*, c.name AS category_name, c.slug AS category_slug, o.slug AS original_slug,"
        " o.language AS original_language FROM kb_articles a"
        " LEFT JOIN kb_categories c ON c.id = a.category_id"
        " LEFT JOIN kb_articles o ON o.id = a.original_id ORDER BY a.id"
    )
    return as_dicts(ExportedArticle, rows)


class Translation(TypedDict):
    id: int
    language: str
    slug: str
    title: str
    status: str
    visibility: str


async def translations(db: Database, article: Article) -> list[Translation]:
    """The other language versions of an article (its original and the original's others)."""
    root = article["original_id"] or article["id"]
    rows = await db.fetch_all(
        "SELECT id, language, slug, title, status, visibility FROM kb_articles"
        " WHERE (id = ? OR original_id = ?) AND id <> ? ORDER BY language",
        (root, root, article["id"]),
    )
    return as_dicts(Translation, rows)


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


Found = tuple[str, str, sqlite3.Row]
"""An article a search found: (index, FTS5 expression, ranked row)."""


class Hit(TypedDict):
    """An article a search found, best first, with a highlighted snippet of its text."""

    id: int
    slug: str
    title: str
    language: str
    visibility: str
    category_name: str | None
    score: float
    snippet: str


def _best(found: list[Found], limit: int) -> list[Found]:
    """One hit per article, keeping its better score (and which index found it), best first."""
    best: dict[int, Found] = {}
    for table, expression, row in found:
        if row["id"] not in best or row["score"] < best[row["id"]][2]["score"]:
            best[row["id"]] = (table, expression, row)
    return sorted(best.values(), key=lambda hit: float(hit[2]["score"]))[:limit]


def _with_snippets(hits: list[Found], snippets: dict[int, str]) -> list[Hit]:
    return [
        {
            "id": row["id"],
            "slug": row["slug"],
            "title": row["title"],
            "language": row["language"],
            "visibility": row["visibility"],
            "category_name": row["category_name"],
            "score": row["score"],
            "snippet": snippets.get(row["id"], ""),
        }
        for _, _, row in hits
    ]


def _snippet_queries(hits: list[Found]) -> list[tuple[str, list[Any]]]:
    """Snippets only for the articles shown, from the index that found each."""
    groups: dict[tuple[str, str], list[int]] = {}
    for table, expression, row in hits:
        groups.setdefault((table, expression), []).append(row["id"])
    return [
        (_snippet_sql(table, len(ids)), [expression, *ids])
        for (table, expression), ids in groups.items()
    ]


async def search(
    db: Database, searches: Searches, language: str, *, public_only: bool, limit: int = 10
) -> list[Hit]:
    """Published articles matching FTS5 expressions, best first (title weighs 10x the text),
    with a highlighted snippet."""
    found: list[Found] = []
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


class KbFile(ServedFile):
    """An image uploaded for articles."""

    id: int
    size: int
    created_at: str


async def file(db: Database, file_id: int) -> KbFile | None:
    row = await db.fetch_one("SELECT * FROM kb_files WHERE id = ?", (file_id,))
    return as_dict(KbFile, row) if row else None


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


class UnansweredSearch(TypedDict):
    """A search (lower-cased) that found nothing: how often, and when last."""

    query: str
    times: int
    last: str


async def unanswered_searches(db: Database, limit: int = 50) -> list[UnansweredSearch]:
    rows = await db.fetch_all(
        "SELECT lower(query) AS query, count(*) AS times, max(created_at) AS last"
        " FROM kb_unanswered_searches GROUP BY lower(query) ORDER BY times DESC, last DESC"
        " LIMIT ?",
        (limit,),
    )
    return as_dicts(UnansweredSearch, rows)


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


class Deflection(TypedDict):
    """A question an article answered (or that then went on to an agent), with its title."""

    id: int
    article_id: int | None
    source: str
    conversation_id: int | None
    question: str
    created_at: str
    title: str | None


async def deflections(db: Database) -> list[Deflection]:
    rows = await db.fetch_all(
        "SELECT d.*, a.title FROM kb_deflections d LEFT JOIN kb_articles a ON a.id = d.article_id"
        " ORDER BY d.id DESC LIMIT 200"
    )
    return as_dicts(Deflection, rows)
