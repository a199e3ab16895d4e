"""HTML mail bodies as plain text, with quoted blocks marked the way plain text marks them.

Clients that send HTML only put the original in a <blockquote>. Rendering that as
"> " lines lets one set of plain-text rules find the sender's own words, including
answers typed between quoted questions.

inscriptis takes time by the element, by the character and by the line times the depth of
the line's indentation: a table of 3 000 rows took 0.3 s, 250 nested blockquotes around
2 000 paragraphs 0.6 s. The tree is bounded before it is rendered (`bound`): nesting past
MAX_NESTING is flattened (the text stays, deeper tags go), and the document ends after
MAX_ELEMENTS elements (a table row or cell counts TABLE_COST), MAX_TEXT_CHARS characters of
text, or where a table grows past MAX_TABLE_AREA. No reply mail comes near these (the largest of
399 HTML fixtures: 157 elements so counted, 26 deep, 3 500 characters; every one renders as it
did), and what a long thread loses is the end of its oldest quoted message.
"""

from __future__ import annotations

import re

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.html_engine import Inscriptis
from inscriptis.model.config import ParserConfig
from lxml import etree, html

# "strict" keeps block elements on their own lines without the relaxed profile's
# extra padding; either way we strip indentation afterwards.
_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=False)

MAX_NESTING = 64
MAX_ELEMENTS = 1_000  # about 20 ms of inscriptis at a load of 4 (a paragraph, a div, a br: 15-25 µs each)
TABLE_COST = 3  # a row or a cell is laid out as a block of its own, then the table as a whole: 3 times as dear
MAX_TEXT_CHARS = 60_000
# inscriptis pads every line of a table to its columns' widths: one 20 000-character line in a
# cell beside 230 lines made 4.9 MB of text (0.4 s). A table ends where its widest text times
# its lines (elements and line breaks) would pass this.
MAX_TABLE_AREA = 200_000
_XML_DECLARATION = re.compile(r"^<\?xml [^>]+?\?>")  # as inscriptis strips it
_TABLE_PARTS = frozenset(("tr", "td", "th"))
_UNSHOWN = frozenset(("style", "script", "head", "title"))  # text never rendered: not counted

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
        return _render(markup, bounded=False)  # rendered as inscriptis parses it (an XML declaration…)
    try:
        if bound(root):
            markup = etree.tostring(root, encoding="unicode", method="html")
    except Exception:  # lxml on hostile input: nothing bounded is nothing to render
        return ""
    try:
        for node in root.xpath(_QUOTE_XPATH):
            _replace_with_quoted_text(node)
        markup = etree.tostring(root, encoding="unicode", method="html")
    except Exception:  # lxml on hostile input: fall back to rendering as is
        pass
    return _render(markup)


def bound(root: html.HtmlElement) -> bool:
    """Flatten `root` past MAX_NESTING and end it at MAX_ELEMENTS or MAX_TEXT_CHARS; True if cut."""
    cut = False
    deep: list[html.HtmlElement] = []
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth >= MAX_NESTING and len(node):
            deep.append(node)
        else:
            stack.extend((child, depth + 1) for child in node)
    for node in deep:
        etree.strip_tags(node, "*")  # its descendants' text and tails stay, in order, in `node`
        cut = True
    elements = chars = 0
    tables: list[list[int]] = []  # per open table: [its widest text, its lines]
    for event, node in etree.iterwalk(root, events=("start", "end", "comment", "pi")):
        if event in ("comment", "pi"):
            elements += 1
            if elements > MAX_ELEMENTS:
                _end_at(node, keep_text=0)
                return True
        elif event == "start":
            elements += TABLE_COST if node.tag in _TABLE_PARTS else 1
            text = "" if node.tag in _UNSHOWN else node.text or ""
            if elements > MAX_ELEMENTS or chars + len(text) > MAX_TEXT_CHARS:
                _end_at(node, keep_text=MAX_TEXT_CHARS - chars if elements <= MAX_ELEMENTS else 0)
                return True
            if node.tag == "table":
                tables.append([0, 0])
            if _too_wide(tables, text, 1):
                _end_at(node, keep_text=0)
                return True
            chars += len(text)
            continue
        elif node.tag == "table" and tables:
            tables.pop()
        tail = node.tail or ""
        if chars + len(tail) > MAX_TEXT_CHARS or _too_wide(tables, tail, 0):
            node.tail = tail[: MAX_TEXT_CHARS - chars] if chars + len(tail) > MAX_TEXT_CHARS else None
            _end_after(node)
            return True
        chars += len(tail)
    return cut


def _too_wide(tables: list[list[int]], text: str, lines: int) -> bool:
    """Count `text` (and `lines` more lines) into every open table; True if one is past MAX_TABLE_AREA."""
    if not tables:
        return False
    lines += text.count("\n")
    for table in tables:
        table[0] = max(table[0], len(text))
        table[1] += lines
        if table[0] * table[1] > MAX_TABLE_AREA:
            return True
    return False


def _end_at(node: html.HtmlElement, keep_text: int) -> None:
    """Drop what follows the first `keep_text` characters of node's text, in document order."""
    if keep_text > 0 and isinstance(node.tag, str):
        node.text = (node.text or "")[:keep_text]
        for child in list(node):
            node.remove(child)
        node.tail = None
        _end_after(node)
        return
    parent = node.getparent()
    _end_after(node)
    if parent is not None:
        parent.remove(node)  # and its tail with it


def _end_after(node: html.HtmlElement) -> None:
    """Drop everything after node's tail in document order: later siblings, and so up the tree."""
    while True:
        parent = node.getparent()
        if parent is None:
            return
        for later in list(node.itersiblings()):
            parent.remove(later)
        if parent.tail:
            parent.tail = None
        node = parent


def _inscriptis_tree(markup: str) -> html.HtmlElement | None:
    """The tree `inscriptis.get_text` renders for `markup` (its `_get_html_tree`)."""
    markup = markup.strip()
    if not markup:
        return None
    if markup.startswith("<?xml "):
        markup = _XML_DECLARATION.sub("", markup, count=1)
    try:
        return html.document_fromstring(markup)
    except etree.ParserError:
        return html.document_fromstring("<pre>" + markup + "</pre>")


def _replace_with_quoted_text(node: html.HtmlElement) -> None:
    inner = etree.tostring(node, encoding="unicode", method="html")
    lines = _render(inner).splitlines()
    pre = html.Element("pre")
    pre.text = "\n" + "\n".join(f"> {line}".rstrip() for line in lines) + "\n"
    pre.tail = node.tail
    parent = node.getparent()
    if parent is not None:
        parent.replace(node, pre)


def _render(markup: str, bounded: bool = True) -> str:
    """inscriptis's text of `markup` (which is `bound` already, or is bounded here), lines stripped."""
    try:
        if bounded:
            text = get_text(markup, _CONFIG)
        else:
            tree = _inscriptis_tree(markup)
            if tree is None:
                return ""
            bound(tree)
            text = Inscriptis(tree, _CONFIG).get_text()
    except Exception:
        return ""
    return "\n".join(
        line.strip() if not line.lstrip().startswith(">") else line.lstrip() for line in text.splitlines()
    )
