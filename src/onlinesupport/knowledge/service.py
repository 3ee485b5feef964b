"""Knowledge-base commands: write and publish articles, search them, record what self-service
did (votes, searches that found nothing, questions an article answered)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Protocol

from onlinesupport.core.attachments import INLINE_TYPES
from onlinesupport.knowledge.markdown import to_html, to_plain
from onlinesupport.lib import signing
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.lib.errors import UserError
from onlinesupport.lib.inputs import row_id
from onlinesupport.lib.throttle import Throttle
from onlinesupport.store import Conflict, Database, Transaction
from onlinesupport.store import kb as kb_repo
from onlinesupport.store.attachments import StoredFile
from onlinesupport.store.kb import (
    Article,
    ArticleLine,
    Category,
    CategoryCount,
    Deflection,
    Hit,
    KbFile,
    Translation,
    UnansweredSearch,
)

LANGUAGE = re.compile(r"^[a-z]{2}(-[a-z]{2})?$")
MAX_TITLE = 200
MAX_BODY = 200_000
MAX_QUERY = 200
STATUSES = ("draft", "published")
VISIBILITIES = ("public", "internal")
SOURCES = ("help", "widget", "form", "desk", "email")
UNANSWERED_PER_ADDRESS = 20
"""Searches that found nothing recorded an hour from one address (each query once a day)."""
VOTES_PER_ADDRESS = 10
"""Votes on one article a day from one address, whatever the voters' cookies say (an office)."""


class ArticleRejected(UserError):
    """An article, category or file cannot be saved; the message says why."""


def slugify(text: str) -> str:
    """ "Where is my order?" -> "where-is-my-order" (ASCII, at most 80 characters)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].strip("-")
    return slug or "article"


def language_of(text: str) -> str:
    language = (text or "en").strip().lower()
    if not LANGUAGE.match(language):
        raise ArticleRejected(f"{text!r} is not a language code such as en, de or pt-br")
    return language


class Activity(Protocol):
    """Where the reports count what people do in the help center."""

    def searched(self) -> None: ...

    def article_viewed(self, article_id: int) -> None: ...


class KnowledgeBase:
    def __init__(
        self, db: Database, clock: Clock, key: bytes, activity: Activity | None = None
    ) -> None:
        self._db = db
        self._clock = clock
        self._key = key
        self._activity = activity
        # What anonymous people record is counted once: a flood writes nothing more.
        self._once = Throttle(clock, 1, timedelta(days=1))
        self._unanswered = Throttle(clock, UNANSWERED_PER_ADDRESS, timedelta(hours=1))
        self._votes = Throttle(clock, VOTES_PER_ADDRESS, timedelta(days=1))

    def _now(self) -> str:
        return to_db(self._clock.now())

    # ---- writing ---------------------------------------------------------------------------

    def fields(self, form: dict[str, Any]) -> dict[str, Any]:
        """Checked article fields from an editor form or an imported file."""
        title = " ".join(str(form.get("title", "")).split())
        if not title or len(title) > MAX_TITLE:
            raise ArticleRejected(f"give the article a title of at most {MAX_TITLE} characters")
        body = str(form.get("body", "")).replace("\r\n", "\n")
        if len(body) > MAX_BODY:
            raise ArticleRejected(f"the text is longer than {MAX_BODY:,} characters")
        status = form.get("status") or "draft"
        visibility = form.get("visibility") or "public"
        if status not in STATUSES or visibility not in VISIBILITIES:
            raise ArticleRejected(
                "status must be draft or published, visibility public or internal"
            )
        category = str(form.get("category_id") or "")
        original = str(form.get("original_id") or "")
        rendered = to_html(body)
        return {
            "title": title,
            "body": body,
            "html": rendered,
            "plain": to_plain(rendered),
            "status": status,
            "visibility": visibility,
            "language": language_of(str(form.get("language") or "en")),
            "slug": slugify(str(form.get("slug") or title)),
            "category_id": row_id(category),
            "original_id": row_id(original),
        }

    async def article(self, article_id: int) -> Article | None:
        """Any article (drafts and internal ones too), for the desk."""
        return await kb_repo.article(self._db, article_id)

    async def published(self, article_id: int) -> Article | None:
        """The article if everyone may read it (published, public), else None."""
        return await kb_repo.published(self._db, article_id)

    async def articles(
        self,
        *,
        published_public: bool = False,
        category_id: int | None = None,
        language: str | None = None,
    ) -> list[ArticleLine]:
        return await kb_repo.articles(
            self._db, published_public=published_public, category_id=category_id, language=language
        )

    async def translations(self, article: Article) -> list[Translation]:
        """The other language versions of an article."""
        return await kb_repo.translations(self._db, article)

    async def categories(self) -> list[CategoryCount]:
        return await kb_repo.categories(self._db)

    async def category_by_slug(self, slug: str) -> Category | None:
        return await kb_repo.category_by_slug(self._db, slug)

    async def file(self, file_id: int) -> KbFile | None:
        """A file of an article, as stored (check its signed address first)."""
        return await kb_repo.file(self._db, file_id)

    async def gaps(self, limit: int = 20) -> tuple[list[UnansweredSearch], list[Deflection]]:
        """What the knowledge base lacks: the searches that found nothing (most asked first,
        at most `limit`) and the latest questions an article answered (deflections)."""
        return (
            await kb_repo.unanswered_searches(self._db, limit),
            await kb_repo.deflections(self._db),
        )

    async def save(self, article_id: int | None, form: dict[str, Any], agent_id: int | None) -> int:
        """Create (article_id None) or change an article; returns its id."""
        fields = self.fields(form)
        now = self._now()

        def write(conn: Transaction) -> int:
            taken = kb_repo.article_id_by_slug(conn, fields["slug"], fields["language"])
            if taken is not None and taken != article_id:
                raise ArticleRejected(
                    f"another {fields['language']} article has the address "
                    f"{fields['slug']!r}; change the title or the address"
                )
            try:
                if article_id is None:
                    return kb_repo.insert_article(conn, fields, agent_id, now)
                kb_repo.update_article(conn, article_id, fields, agent_id, now)
                return article_id
            except Conflict:
                raise ArticleRejected("the category or original article does not exist") from None

        return await self._db.write(write)

    async def set_original(self, article_id: int, original_id: int) -> None:
        """Mark an article as a translation of another."""
        await self._db.write(lambda conn: kb_repo.set_original(conn, article_id, original_id))

    async def delete(self, article_id: int) -> None:
        await self._db.write(lambda conn: kb_repo.delete_article(conn, article_id))

    async def add_category(self, name: str) -> int:
        name = " ".join(name.split())
        if not name or len(name) > 100:
            raise ArticleRejected("give the category a name of at most 100 characters")
        now = self._now()

        def write(conn: Transaction) -> int:
            try:
                return kb_repo.insert_category(conn, name, slugify(name), 0, now)
            except Conflict:
                raise ArticleRejected(f"a category named {name!r} exists already") from None

        return await self._db.write(write)

    async def add_file(self, stored: StoredFile) -> str:
        """Keep an uploaded file for articles; returns the Markdown that shows it."""
        now = self._now()
        file_id = await self._db.write(
            lambda conn: kb_repo.insert_file(
                conn, stored.filename, stored.content_type, stored.size, stored.storage_name, now
            )
        )
        url = self.file_url(file_id, stored.filename)
        image = "!" if stored.content_type in INLINE_TYPES else ""
        label = re.sub(r"[\[\]()]", "", stored.filename)  # would end the Markdown link early
        return f"{image}[{label}]({url})"

    def file_url(self, file_id: int, filename: str) -> str:
        signature = signing.sign(self._key, "kb file", file_id, 16)
        return f"/help/files/{file_id}-{signature}/{re.sub(r'[^A-Za-z0-9._-]', '_', filename)}"

    def file_signature_ok(self, file_id: int, signature: str) -> bool:
        return signing.verify(self._key, "kb file", file_id, signature, 16)

    # ---- reading ---------------------------------------------------------------------------

    async def search(
        self,
        query: str,
        language: str = "en",
        *,
        public_only: bool = True,
        source: str = "help",
        limit: int = 10,
        searcher: str | None = None,
    ) -> list[Hit]:
        """Published articles for what someone typed, best first. For the reports a
        help-center search is counted, and a search that finds nothing recorded (suggestion
        sources record only finished questions): for an anonymous `searcher` (their address)
        once a day per query, and a few of those that found nothing an hour."""
        query = query.strip()[:MAX_QUERY]
        try:
            language = language_of(language)
        except ArticleRejected:
            language = "en"
        words = re.findall(r"\w+", query.lower())[:12]
        if len(words) > 1 and len(words[-1]) < 2:
            words.pop()  # one letter typed of the next word: says nothing yet, costs much
        if not words:
            return []
        # Every word must occur; the last may be half typed. English also matches word forms.
        # Only when that finds nothing, any of the words that say what it is about.
        searches = [(kb_repo.WORDS_INDEX, " ".join(_quoted(words, last_prefix=True)))]
        if language == "en":
            searches.append((kb_repo.STEMMED_INDEX, " ".join(_quoted(words))))
        found = await kb_repo.search(
            self._db, searches, language, public_only=public_only, limit=limit
        )
        if not found and (any_word := _question(query, language)):
            # No article has every word ("brake noise"): rank those with any of them.
            found = await kb_repo.search(
                self._db, any_word, language, public_only=public_only, limit=limit
            )
        # An anonymous searcher's query counts once a day, for the reports' searches and for
        # the searches that found nothing alike: a flood of one query adds nothing.
        counted = searcher is None or self._once.allow(f"search:{searcher}:{query.lower()}")
        if counted and self._activity is not None and source == "help":
            self._activity.searched()
        if (
            not found
            and source in SOURCES
            and counted
            and (searcher is None or self._unanswered.allow(searcher))
        ):
            now = self._now()
            await self._db.write(
                lambda conn: kb_repo.add_unanswered_search(conn, query, language, source, now)
            )
        return found

    async def suggest(self, question: str, language: str = "en", limit: int = 3) -> list[Hit]:
        """Articles for a question being typed (widget, contact form): nothing is recorded,
        since every pause in typing asks again."""
        return await suggest_articles(self._db, question, language, limit)

    async def view(self, article_id: int, reader: str) -> Article | None:
        """A published public article for a reader, counted as viewed for the reports once a
        day per reader (their address) and article."""
        found = await kb_repo.published(self._db, article_id)
        if (
            found is not None
            and self._activity is not None
            and self._once.allow(f"view:{reader}:{article_id}")
        ):
            self._activity.article_viewed(article_id)
        return found

    async def vote(self, article_id: int, helpful: bool, *, voter: str, address: str) -> None:
        """ "Was this helpful?": one vote per voter and article; a voter who sends no cookie
        back is new each time, so one address's votes on an article are capped too."""
        if not (
            self._once.allow(f"vote:{voter}:{article_id}")
            and self._votes.allow(f"{address}:{article_id}")
        ):
            return
        now = self._now()
        await self._db.write(lambda conn: kb_repo.add_feedback(conn, article_id, helpful, now))

    async def deflected(
        self,
        article_id: int | None,
        source: str,
        question: str,
        conversation_id: int | None = None,
        *,
        asker: str | None = None,
    ) -> None:
        """Record that an article answered a question that then never reached (or left) the
        queue; an anonymous `asker` (visitor or address) counts once a day per article (and
        conversation it resolved)."""
        if asker is not None and not self._once.allow(
            f"deflected:{asker}:{article_id}:{conversation_id}"
        ):
            return
        now = self._now()
        await self._db.write(
            lambda conn: kb_repo.add_deflection(
                conn, article_id, source, conversation_id, question[:2000], now
            )
        )


_STOP_WORDS = frozenset(
    "a an and are as at be but by can could do does for from have how i if in is it me my of "
    "on or our please should so that the there this to was we what when where which who why "
    "will with would you your hello hi thanks thank".split()
)


def keywords(question: str) -> list[str]:
    """The words of a question that say what it is about."""
    return [w for w in re.findall(r"\w+", question.lower()) if w not in _STOP_WORDS and len(w) > 1][
        :10
    ]


def _question(question: str, language: str) -> kb_repo.Searches:
    """A question as searches: any of the words that say what it is about; bm25 puts articles
    with more of them first (requiring every word would miss most questions). A question is
    asked after a pause in typing, so its words are whole: English searches the stemmed index
    only, which also halves the work."""
    words = keywords(question)
    if not words:
        return []
    if language == "en":
        return [(kb_repo.STEMMED_INDEX, " OR ".join(_quoted(words)))]
    return [(kb_repo.WORDS_INDEX, " OR ".join(_quoted(words, last_prefix=True)))]


async def suggest_articles(
    db: Database, question: str, language: str = "en", limit: int = 3
) -> list[Hit]:
    """Public articles for a question (an acknowledgement's, read before its transaction)."""
    searches = _question(question, language)
    if not searches:
        return []
    return await kb_repo.search(db, searches, language, public_only=True, limit=limit)


def article_url(base: str, article: Mapping[str, Any]) -> str:
    return f"{base.rstrip('/')}/help/articles/{article['id']}-{article['slug']}"


def _quoted(words: list[str], last_prefix: bool = False) -> list[str]:
    """Words as FTS5 terms: quoting makes every word a plain term, so no input is read as
    query syntax; the last may be a prefix (still being typed)."""
    terms = [f'"{w}"' for w in words]
    if last_prefix and terms:
        terms[-1] += "*"
    return terms
