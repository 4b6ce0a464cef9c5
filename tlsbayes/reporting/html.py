"""report.md as one self-contained HTML page: the figures (SVG or PNG) embedded as data URIs.

What goes into a lab notebook or an email: one file, no external resources (no scripts, no
fonts, no style sheets fetched).  :func:`markdown_to_html` renders the Markdown that
:mod:`.markdown` and :mod:`tlsbayes.verdicts.report` write, and only that subset: ``#``
headings, paragraphs, ``- `` lists, pipe tables (``\\|`` for a literal bar), images alone on
a line, ``**bold**``, ``*italic*`` and ```code```.  Every piece of text is HTML-escaped, so a
card title or a file name cannot inject markup; an SVG figure is embedded as an ``<img>`` data
URI, not as inline markup, for the same reason (a browser runs no script of an image).
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from ..atomic import atomic_write_text

__all__ = ["markdown_to_html", "write_html_report"]

_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)([^*]+?)\*(?![*\w])")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em;
       line-height: 1.45; color: #222; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.55em; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { background: #f3f3f3; padding: 0 0.2em; word-break: break-all; }
figure { margin: 1em 0; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; }
"""


def _image_src(src: str, base: Path | None) -> str:
    """A data URI of the PNG or SVG ``src`` under ``base`` (the run directory), else ``src``."""
    if base is None or "/" in src or "\\" in src or src.startswith("."):
        return src
    path = base / src
    try:
        data = path.read_bytes()
    except OSError:
        return src
    kind = ("png" if data[:8] == b"\x89PNG\r\n\x1a\n" else
            "svg+xml" if data.lstrip()[:5] in (b"<?xml", b"<svg ") else "octet-stream")
    return f"data:image/{kind};base64," + base64.b64encode(data).decode("ascii")


def _inline(text: str, base: Path | None) -> str:
    """Inline Markdown of one line to HTML: code spans first (nothing inside is rendered)."""
    parts = text.split("`")
    out = []
    for i, part in enumerate(parts):
        if i % 2 and i < len(parts) - 1:
            out.append(f"<code>{html.escape(part)}</code>")
            continue
        s = html.escape(part.replace("\\|", "|"), quote=True)
        s = _IMAGE.sub(lambda m: f'<img alt="{m.group(1)}" src="'
                       f'{html.escape(_image_src(html.unescape(m.group(2)), base))}">', s)
        s = _BOLD.sub(r"<strong>\1</strong>", s)
        s = _ITALIC.sub(r"<em>\1</em>", s)
        out.append(s if i % 2 == 0 else "`" + s)
    return "".join(out)


def _cells(line: str) -> list:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [c.strip() for c in _CELL_SPLIT.split(inner)]


def _table(lines: list, base: Path | None) -> str:
    head = _cells(lines[0])
    align = _cells(lines[1]) if len(lines) > 1 else []
    num = [a.endswith(":") and not a.startswith(":") for a in align]
    out = ["<table>", "<tr>" + "".join(f"<th>{_inline(h, base)}</th>" for h in head) + "</tr>"]
    numeric = ' class="num"'
    for row in lines[2:]:
        cells = _cells(row)
        out.append("<tr>" + "".join(
            f"<td{numeric if j < len(num) and num[j] else ''}>{_inline(c, base)}</td>"
            for j, c in enumerate(cells)) + "</tr>")
    return "\n".join(out + ["</table>"])


def _blocks(md: str):
    """Split Markdown into (kind, lines) blocks: heading, table, list, image, paragraph."""
    block, kind = [], None
    for line in md.splitlines():
        s = line.strip()
        if not s:
            if block:
                yield kind, block
            block, kind = [], None
            continue
        new = ("heading" if s.startswith("#") else "table" if s.startswith("|")
               else "list" if s.startswith("- ") else "image" if _IMAGE.fullmatch(s)
               else None)
        if kind == "list" and new is None and line.startswith((" ", "\t")):
            block[-1] += " " + s  # a wrapped list item
            continue
        if new != kind or new in ("heading", "image") or (new is None and kind is not None):
            if block:
                yield kind, block
            block, kind = [], new
        block.append(s)
    if block:
        yield kind, block


def markdown_to_html(md: str, *, base=None) -> str:
    """The body HTML of ``md`` (see the module docstring for the subset).

    Parameters
    ----------
    md : str
        Markdown text.
    base : path-like, optional
        Directory of the images: each ``![alt](name.svg)`` or ``![alt](name.png)`` found
        there is embedded as a base64 data URI (otherwise the link is kept).
    """
    base = Path(base) if base is not None else None
    out = []
    for kind, lines in _blocks(md):
        if kind == "heading":
            level = min(len(lines[0]) - len(lines[0].lstrip("#")), 6)
            out.append(f"<h{level}>{_inline(lines[0][level:].strip(), base)}</h{level}>")
        elif kind == "table":
            out.append(_table(lines, base))
        elif kind == "list":
            out.append("<ul>\n" + "\n".join(f"<li>{_inline(s[2:], base)}</li>" for s in lines)
                       + "\n</ul>")
        elif kind == "image":
            out.append(f"<figure>{_inline(lines[0], base)}</figure>")
        else:
            out.append(f"<p>{_inline(' '.join(lines), base)}</p>")
    return "\n".join(out)


def write_html_report(md: str, path, *, base=None, title: str = "tlsbayes report") -> Path:
    """Write ``md`` as a self-contained HTML page to ``path`` (atomically); return the path.

    ``base`` is the directory of the figures (default: the page's directory); ``title``
    is the page's ``<title>`` (default: the first heading of ``md`` if any).
    """
    path = Path(path)
    base = Path(base) if base is not None else path.parent
    m = re.search(r"^# (.+)$", md, flags=re.M)
    if m:
        title = m.group(1).strip()
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"{markdown_to_html(md, base=base)}\n</body>\n</html>\n")
    return atomic_write_text(path, page)
