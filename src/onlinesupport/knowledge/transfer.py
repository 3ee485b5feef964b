"""Articles as a folder of Markdown files, for export, import and editing outside the desk.

Each article is `<language>/<slug>.md`: a small header between `---` lines (title, category,
status, visibility, and `translation_of: <language>/<slug>` for a translation), then the
Markdown text. The desk offers the folder as a .zip; import takes the same .zip back and adds
or updates articles by language and address, so an export can be edited and imported again.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from onlinesupport.knowledge.service import ArticleRejected, KnowledgeBase, language_of, slugify
from onlinesupport.store import kb as kb_repo

HEADER_KEYS = ("title", "category", "status", "visibility", "translation_of")
MAX_FILES = 5000
MAX_UNPACKED = 100 * 1024 * 1024
_PATH = re.compile(r"^(?:[^/]+/)?([a-z]{2}(?:-[a-z]{2})?)/([a-z0-9-]{1,80})\.md$")


def to_markdown_file(article: kb_repo.ExportedArticle) -> str:
    header = {
        "title": article["title"],
        "category": article.get("category_name") or "",
        "status": article["status"],
        "visibility": article["visibility"],
    }
    if article.get("original_slug"):
        header["translation_of"] = f"{article['original_language']}/{article['original_slug']}"
    lines = ["---"] + [f"{k}: {v}" for k, v in header.items() if v] + ["---", ""]
    return "\n".join(lines) + article["body"].rstrip("\n") + "\n"


def parse_markdown_file(text: str) -> tuple[dict[str, str], str]:
    """The header fields and the body of one article file."""
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---\n", 4)
    if end < 0:
        raise ArticleRejected("the header that starts with --- has no closing --- line")
    header = {}
    for line in text[4:end].splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or key.strip() not in HEADER_KEYS:
            raise ArticleRejected(f"unknown header line {line.strip()[:60]!r}")
        header[key.strip()] = value.strip()
    return header, text[end + 5 :].lstrip("\n")


async def export_zip(db: Any) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for article in await kb_repo.all_for_export(db):
            archive.writestr(
                f"knowledge-base/{article['language']}/{article['slug']}.md",
                to_markdown_file(article),
            )
    return buffer.getvalue()


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    problems: list[str] = field(default_factory=list)


def read_zip(data: bytes) -> list[tuple[str, str]]:
    """(path, text) of every article file in an exported (or hand-made) .zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ArticleRejected("the file is not a .zip") from None
    entries = [i for i in archive.infolist() if not i.is_dir() and i.filename.endswith(".md")]
    if len(entries) > MAX_FILES or sum(i.file_size for i in entries) > MAX_UNPACKED:
        raise ArticleRejected(f"at most {MAX_FILES} files and {MAX_UNPACKED // 2**20} MB unpacked")
    return [(i.filename, archive.read(i).decode("utf-8", "replace")) for i in entries]


async def import_files(
    knowledge: KnowledgeBase, db: Any, files: Iterable[tuple[str, str]], agent_id: int | None
) -> ImportReport:
    """Add or update articles from (path, text) pairs; a bad file is reported, not fatal."""
    report = ImportReport()
    categories = {c["name"].lower(): c["id"] for c in await kb_repo.categories(db)}
    pending_translations = []
    for path, text in sorted(files):
        match = _PATH.match(path)
        if not match:
            report.problems.append(f"{path}: expected <language>/<address>.md")
            continue
        language, slug = match.groups()
        try:
            header, body = parse_markdown_file(text)
            name = " ".join(header.get("category", "").split())
            if name and name.lower() not in categories:
                categories[name.lower()] = await knowledge.add_category(name)
            form = {
                "title": header.get("title") or slug.replace("-", " ").capitalize(),
                "body": body,
                "language": language_of(language),
                "slug": slug,
                "status": header.get("status", "draft"),
                "visibility": header.get("visibility", "public"),
                "category_id": categories.get(name.lower()) if name else None,
            }
            existing = await kb_repo.find_by_slug(db, slug, language)
            article_id = await knowledge.save(existing, form, agent_id)
        except ArticleRejected as exc:
            report.problems.append(f"{path}: {exc}")
            continue
        if existing is None:
            report.added += 1
        else:
            report.updated += 1
        if header.get("translation_of"):
            pending_translations.append((path, article_id, header["translation_of"]))
    for path, article_id, original in pending_translations:
        original_language, _, original_slug = original.partition("/")
        original_id = await kb_repo.find_by_slug(db, slugify(original_slug), original_language)
        if original_id is None or original_id == article_id:
            report.problems.append(f"{path}: translation_of {original!r} is not an article")
            continue
        await knowledge.set_original(article_id, original_id)
    return report
