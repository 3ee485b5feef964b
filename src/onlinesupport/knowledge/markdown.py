"""Markdown to safe HTML, and the plain text that is searched.

markdown-it renders CommonMark (plus tables and strikethrough) with raw HTML switched off; nh3
then keeps only known-harmless tags and attributes, so neither a pasted <script> nor a
javascript: link nor an onerror= attribute can reach a reader's browser.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

_RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)
_TAGS = {
    "a",
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
_TAG = re.compile(r"<[^>]+>")
_INLINE_TAG = re.compile(r"</?(?:a|strong|em|code|del|s)\b[^>]*>")
_SPACE = re.compile(r"\s+")


def to_html(markdown: str) -> str:
    rendered = _RENDERER.render(markdown)
    return nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align"},
    )


def to_plain(safe_html: str) -> str:
    """The words of rendered HTML, for the search index and snippets."""
    # Inline tags vanish ("<strong>30 days</strong>." is "30 days."); others separate words.
    text = _INLINE_TAG.sub("", safe_html)
    text = _TAG.sub(" ", text.replace("</p>", "\n").replace("<br>", "\n"))
    return _SPACE.sub(" ", html.unescape(text)).strip()
