"""Links in rendered bodies: click-tracking rewrites, the open pixel, and the HTML
version of a plain-text e-mail.

Pure string work. What a link becomes is the caller's decision (a ``Rewrite``
returns the new URL, or None to leave the link alone), so this module knows nothing
of tokens or settings. Only absolute ``http(s)`` links are ever offered to it:
``mailto:``, ``tel:`` and relative links are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import escape, unescape

#: Given a link's exact destination, the URL to put in its place (None: leave it).
Rewrite = Callable[[str], str | None]

# A URL in running text ends at white space, quotes or angle brackets; trailing
# punctuation is then trimmed (``see https://x.example/a.`` links without the dot).
_TEXT_URL_RE = re.compile(r"""https?://[^\s<>"'`]+""", re.IGNORECASE)
_TRAILING = ".,;:!?'\")]}*_"
# An <a> or <area> start tag (quoted attribute values may hold '>'), and its href.
_LINK_TAG_RE = re.compile(r"""<(?:a|area)\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_HREF_RE = re.compile(r"""(?<=\s)(href\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""",
                      re.IGNORECASE)
_PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t]*\n\s*")


def text_links(text: str) -> Iterator[tuple[int, int]]:
    """The spans of the http(s) URLs in plain text, trailing punctuation left out.

    A closing bracket is kept when the URL opened one (``…/Foo_(bar)``).
    """
    for found in _TEXT_URL_RE.finditer(text):
        start, end = found.span()
        while end > start and text[end - 1] in _TRAILING:
            closer = text[end - 1]
            opener = {")": "(", "]": "[", "}": "{"}.get(closer)
            url = text[start:end]
            if opener is not None and url.count(opener) >= url.count(closer):
                break
            end -= 1
        if end - start > len("https://"):
            yield start, end


def rewrite_text_links(text: str, rewrite: Rewrite) -> str:
    """``text`` with each http(s) URL replaced by ``rewrite(url)`` (when not None)."""
    pieces: list[str] = []
    last = 0
    for start, end in text_links(text):
        new = rewrite(text[start:end])
        if new is not None:
            pieces += (text[last:start], new)
            last = end
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def rewrite_html_links(html: str, rewrite: Rewrite) -> str:
    """``html`` with the ``href`` of each ``<a>``/``<area>`` tag rewritten.

    The destination offered to ``rewrite`` is the attribute's value as a browser
    reads it (entities decoded, surrounding white space dropped); the new URL is
    written back escaped and double-quoted.
    """

    def tag(found: re.Match[str]) -> str:
        return _HREF_RE.sub(href, found.group(), count=1)

    def href(found: re.Match[str]) -> str:
        value = next(v for v in found.groups()[1:] if v is not None)
        new = rewrite(unescape(value).strip())
        if new is None:
            return found.group()
        return f'{found.group(1)}"{escape(new, quote=True)}"'

    return _LINK_TAG_RE.sub(tag, html)


def text_to_html(text: str) -> str:
    """A simple HTML version of a plain-text e-mail.

    Escaped; blank lines separate paragraphs, single line breaks become ``<br>``;
    http(s) URLs become links (to themselves).
    """
    paragraphs = _PARAGRAPH_BREAK_RE.split(text.replace("\r\n", "\n").strip())
    body = "\n".join(f"<p>{_linkified(p).replace(chr(10), '<br>' + chr(10))}</p>"
                     for p in paragraphs if p)
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
            f"<body>\n{body}\n</body></html>\n")


def _linkified(text: str) -> str:
    pieces: list[str] = []
    last = 0
    for start, end in text_links(text):
        url = escape(text[start:end], quote=True)
        pieces += (escape(text[last:start], quote=False), f'<a href="{url}">{url}</a>')
        last = end
    pieces.append(escape(text[last:], quote=False))
    return "".join(pieces)


def insert_before_body_end(html: str, fragment: str) -> str:
    """``fragment`` placed just before ``</body>``, or at the end when there is none."""
    at = html.lower().rfind("</body>")
    if at < 0:
        return html + ("" if html.endswith("\n") or not html else "\n") + fragment + "\n"
    return f"{html[:at]}{fragment}\n{html[at:]}"


def pixel(url: str) -> str:
    """The 1×1 image whose loading reports an open."""
    return (f'<img src="{escape(url, quote=True)}" width="1" height="1" alt="" '
            'style="display:block;width:1px;height:1px;border:0">')
