"""Reading a written report back: strict HTML check, charts, tables, text by id."""

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
SVG = "{http://www.w3.org/2000/svg}"


class StrictChecker(HTMLParser):
    """Fails on unbalanced or mis-nested tags; collects imgs, ids, tables and text by id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.imgs, self.ids, self.text = [], [], [], [], []
        self.seen_doctype = False
        self.tables = []  # each: list of rows, each: list of (tag, text, attrs)
        self._cell = None
        self._by_id = {}  # id -> list of text pieces while open
        self._open_ids = []  # (depth, id)
        self.id_text = {}

    def handle_decl(self, decl):
        self.seen_doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "img":
            self.imgs.append(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = [tag, [], attrs]
        if tag not in VOID:
            self.stack.append(tag)
            if "id" in attrs:
                self._open_ids.append((len(self.stack), attrs["id"]))
                self._by_id[attrs["id"]] = []

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][-1].append((self._cell[0], "".join(self._cell[1]), self._cell[2]))
            self._cell = None
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]} at {self.getpos()}")
            return
        if self._open_ids and self._open_ids[-1][0] == len(self.stack):
            _, ident = self._open_ids.pop()
            self.id_text[ident] = "".join(self._by_id.pop(ident))
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell[1].append(data)
        for _, ident in self._open_ids:
            self._by_id[ident].append(data)


def check_html(text):
    """Parse ``text`` strictly; returns the parser (imgs, ids, tables, id_text)."""
    p = StrictChecker()
    p.feed(text)
    p.close()
    assert p.seen_doctype
    assert not p.errors, p.errors[:5]
    assert not p.stack, p.stack
    assert len(p.ids) == len(set(p.ids)), "duplicate ids"
    return p


def check_self_contained(text, parser):
    """Nothing is loaded from elsewhere: no external src/href, url(), script or raster image."""
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    assert "url(http" not in text and "@import" not in text
    # the only font is the embedded Chinese subset, as a data: URI
    assert re.findall(r"url\((?!#|data:font/woff;base64,)[^)]{0,40}", text) == []
    assert text.count("@font-face") <= 1
    assert "<script" not in text.lower()
    assert parser.imgs == [], "charts must be inline SVG, not images"


def charts(text):
    """Every inline chart (``<svg class="chart" ...>...</svg>``) as parsed XML."""
    out = []
    for block in re.findall(r'<svg class="chart".*?</svg>', text, flags=re.S):
        out.append(ET.fromstring(block))
    return out


def chart_texts(svg):
    """(text, style) of every ``<text>`` element of a chart."""
    return [("".join(el.itertext()), el.get("style", "")) for el in svg.iter(f"{SVG}text")]


def section(text, sid):
    """The HTML of one ``<section id=...>``."""
    m = re.search(rf'<section id="{sid}">(.*?)</section>', text, flags=re.S)
    assert m, f"no section {sid!r}"
    return m.group(1)


def cells(parser):
    """Text of every table cell (``td``) of the page."""
    return [c[1] for t in parser.tables for row in t for c in row if c[0] == "td"]


def header_row(table):
    """Header texts of a parsed table."""
    return [c[1] for c in table[0]]
