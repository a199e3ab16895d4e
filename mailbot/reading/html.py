"""HTML mail bodies as plain text, with quoted blocks marked the way plain text marks them.

Clients that send HTML only put the original in a <blockquote>. Rendering that as
"> " lines lets one set of plain-text rules find the sender's own words, including
answers typed between quoted questions.
"""

from __future__ import annotations

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from lxml import etree, html

# "strict" keeps block elements on their own lines without the relaxed profile's
# extra padding; either way we strip indentation afterwards.
_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=False)

# Elements some clients use to wrap the quoted original instead of <blockquote>.
_QUOTE_XPATH = (
    "//blockquote[not(ancestor::blockquote)]"
    " | //div[contains(concat(' ', normalize-space(@class), ' '), ' yahoo_quoted ')]"
)


def html_to_text(markup: str) -> str:
    """Render HTML as text; quoted blocks come out as "> " lines."""
    if not markup.strip():
        return ""
    try:
        root = html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        return _render(markup)
    try:
        for node in root.xpath(_QUOTE_XPATH):
            _replace_with_quoted_text(node)
        markup = etree.tostring(root, encoding="unicode", method="html")
    except Exception:  # lxml on hostile input: fall back to rendering as is
        pass
    return _render(markup)


def _replace_with_quoted_text(node: html.HtmlElement) -> None:
    inner = etree.tostring(node, encoding="unicode", method="html")
    lines = _render(inner).splitlines()
    pre = html.Element("pre")
    pre.text = "\n" + "\n".join(f"> {line}".rstrip() for line in lines) + "\n"
    pre.tail = node.tail
    parent = node.getparent()
    if parent is not None:
        parent.replace(node, pre)


def _render(markup: str) -> str:
    try:
        text = get_text(markup, _CONFIG)
    except Exception:
        return ""
    return "\n".join(
        line.strip() if not line.lstrip().startswith(">") else line.lstrip() for line in text.splitlines()
    )
