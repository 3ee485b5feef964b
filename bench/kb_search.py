"""Knowledge-base search: 10,000 generated articles, 1,000 queries as people type them.

The articles are made of a 5,000-word vocabulary with Zipf frequencies, like real text; the
queries use the content words (not the hundred most frequent), typed partly or whole. Prints
p50/p99 for the help center's search (every word, prefixes) and for the widget's suggestions
(any word of a question), and the size of the search indexes. Target: p99 < 10 ms.

    .venv/bin/python bench/kb_search.py
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from onlinesupport.config import Config
from onlinesupport.knowledge.markdown import to_html, to_plain
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.services import open_services
from onlinesupport.store import kb as kb_repo

ARTICLES = 10_000
QUERIES = 1_000
VOCABULARY = 5_000
FUNCTION_WORDS = 100
random.seed(7)


def _word(n: int) -> str:
    """A made-up but pronounceable word for each rank (deterministic)."""
    syllables = [
        "ka",
        "lo",
        "mi",
        "ne",
        "ru",
        "ta",
        "pe",
        "so",
        "vi",
        "da",
        "gu",
        "ri",
        "fo",
        "be",
        "zu",
        "ha",
        "ji",
        "wo",
    ]
    parts, n = [], n + 18
    while n:
        n, r = divmod(n, len(syllables))
        parts.append(syllables[r])
    return "".join(parts)


# Words of real text follow Zipf's law: the n-th most frequent occurs about 1/n as often. The
# first hundred stand for function words ("the", "and"); people search for the others.
WORDS = [_word(n) for n in range(VOCABULARY)]
WEIGHTS = [1 / (rank + 1) for rank in range(VOCABULARY)]
CONTENT = WORDS[FUNCTION_WORDS:]
CONTENT_WEIGHTS = WEIGHTS[FUNCTION_WORDS:]


def article_text(n: int) -> tuple[str, str]:
    title = " ".join(random.choices(CONTENT, CONTENT_WEIGHTS, k=random.randint(3, 7)))
    paragraphs = [
        " ".join(random.choices(WORDS, WEIGHTS, k=60)).capitalize() + "." for _ in range(4)
    ]
    return f"{title.capitalize()} ({n})", "\n\n".join(paragraphs)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = Config(storage_data_dir=folder, storage_backups_keep=0)
        async with open_services(config) as services:
            started = time.perf_counter()
            now = to_db(Clock().now())
            rows = []
            for n in range(ARTICLES):
                title, body = article_text(n)
                html = to_html(body)
                rows.append(
                    {
                        "title": title,
                        "body": body,
                        "html": html,
                        "plain": to_plain(html),
                        "status": "published",
                        "visibility": "public",
                        "language": "en",
                        "slug": f"article-{n}",
                        "category_id": None,
                        "original_id": None,
                    }
                )

            def write(batch):  # type: ignore[no-untyped-def]
                return lambda conn: [kb_repo.insert_article(conn, r, None, now) for r in batch]

            for i in range(0, ARTICLES, 500):
                await services.db.write(write(rows[i : i + 500]))
            took = time.perf_counter() - started
            print(f"{ARTICLES:,} articles written and indexed in {took:.1f} s")

            knowledge = services.knowledge
            searches, suggestions, typed_queries = [], [], []
            for _ in range(QUERIES):
                words = random.choices(CONTENT, CONTENT_WEIGHTS, k=random.choice((1, 2, 2, 3)))
                typed = " ".join(words)[: random.randint(4, 30)]  # as far as they have typed
                t = time.perf_counter()
                await knowledge.search(typed, source="bench")
                searches.append((time.perf_counter() - t) * 1000)
                typed_queries.append(typed)
                question = f"Hello, how do I {' '.join(words)} please?"
                t = time.perf_counter()
                await knowledge.suggest(question)
                suggestions.append((time.perf_counter() - t) * 1000)
            for name, values in (
                ("search (help center, every word)", searches),
                ("suggest (widget, any word)", suggestions),
            ):
                print(
                    f"{name}: p50 {statistics.median(values):.2f} ms, "
                    f"p99 {percentile(values, 0.99):.2f} ms, max {max(values):.2f} ms "
                    f"({QUERIES} queries; target p99 < 10 ms)"
                )
            slowest = sorted(zip(searches, typed_queries, strict=True), reverse=True)[:5]
            print("slowest searches: " + ", ".join(f"{q!r} {ms:.0f} ms" for ms, q in slowest))
        database = Path(folder) / "onlinesupport.db"
        conn = sqlite3.connect(database)
        try:
            size = conn.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'kb_fts%'"
            ).fetchone()[0]
            print(
                f"search indexes: {size / 1e6:.1f} MB of a {database.stat().st_size / 1e6:.1f} MB "
                "database"
            )
        except sqlite3.OperationalError:
            print(f"database with the articles and indexes: {database.stat().st_size / 1e6:.1f} MB")
        finally:
            conn.close()


if __name__ == "__main__":
    asyncio.run(main())
