"""Read the Markdown comment as a reviewer's browser would: parsed by a CommonMark parser.

markdown-it-py with GFM tables, strikethrough and linkify (which finds
URLs, ``www.`` hosts and e-mail addresses in plain text, as GitHub does) is
the oracle: the tests ask it what became text, code, links and raw HTML,
rather than grepping the Markdown source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

ZWSP = "\u200b"


def parser() -> MarkdownIt:
    """CommonMark plus GFM tables and strikethrough, with every URL/e-mail autolink on."""
    md = MarkdownIt("commonmark", {"linkify": True}).enable(["table", "strikethrough", "linkify"])
    md.linkify.set({"fuzzy_email": True, "fuzzy_link": True})  # type: ignore[union-attr]
    return md


@dataclass
class Parsed:
    """What a Markdown document became."""

    blocks: list[str] = field(default_factory=list)  # visible text of each paragraph, heading, cell, code block
    types: list[str] = field(default_factory=list)  # every token type, inline children included
    html: list[str] = field(default_factory=list)  # raw HTML that reaches the page
    headings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All visible text, one block per line."""
        return "\n".join(self.blocks)


def _inline_text(token: Token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts).replace(ZWSP, "")


def parse(markdown: str) -> Parsed:
    """Parse ``markdown`` and collect its visible text, token types and raw HTML."""
    out = Parsed()
    tokens = parser().parse(markdown)
    for i, token in enumerate(tokens):
        out.types.append(token.type)
        out.types.extend(child.type for child in token.children or [])
        if token.type == "inline":
            out.blocks.append(_inline_text(token))
            if i and tokens[i - 1].type == "heading_open":
                out.headings.append(out.blocks[-1])
            out.html.extend(c.content for c in token.children or [] if c.type == "html_inline")
        elif token.type in ("fence", "code_block"):
            out.blocks.append(token.content)
        elif token.type == "html_block":
            out.html.append(token.content)
    return out
