"""Link rewriting, the HTML version of a text e-mail, and the compliance footer."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sequencer.delivery.compliance import (
    Footer,
    is_unsubscribe_address,
    list_unsubscribe_headers,
    unsubscribe_mailto,
)
from sequencer.delivery.links import (
    insert_before_body_end,
    rewrite_html_links,
    rewrite_text_links,
    text_links,
    text_to_html,
)

URL = "https://links.example/u/tok"


def tracked(url: str) -> str:
    return f"T[{url}]"


@pytest.mark.parametrize(("text", "found"), [
    ("See https://a.example/x.", ["https://a.example/x"]),
    ("(https://a.example/x), then", ["https://a.example/x"]),
    ("https://en.wikipedia.org/wiki/Foo_(bar) ok", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
    ("<https://a.example/?q=1&r=2>", ["https://a.example/?q=1&r=2"]),
    ('"http://a.example/p"!', ["http://a.example/p"]),
    ("HTTPS://A.EXAMPLE/ and https:// alone", ["HTTPS://A.EXAMPLE/"]),
    ("mailto:bob@example.org tel:+1555 ftp://x.example", []),
])
def test_urls_in_text_end_where_a_reader_would_end_them(text: str, found: list[str]) -> None:
    assert [text[a:b] for a, b in text_links(text)] == found


def test_text_links_are_rewritten_in_place_and_none_leaves_a_link_alone() -> None:
    text = "One https://a.example/1, two https://b.example/2.\n"

    assert rewrite_text_links(text, tracked) == \
        "One T[https://a.example/1], two T[https://b.example/2].\n"
    assert rewrite_text_links(text, lambda url: None) == text


def test_html_hrefs_are_read_as_a_browser_reads_them_and_written_back_escaped() -> None:
    html = ('<a href="https://a.example/?x=1&amp;y=2">a</a> '
            "<A class='b' HREF='https://b.example/'>b</A> "
            "<a href=https://c.example/c>c</a> "
            '<a title="x>y" href=" https://d.example/ ">d</a> '
            '<a data-href="https://no.example/">no</a> <link href="https://no.example/css"> '
            '<area shape="rect" href="https://e.example/">')

    seen: list[str] = []
    out = rewrite_html_links(html, lambda url: seen.append(url) or f"https://t.example/?u={url}")

    assert seen == ["https://a.example/?x=1&y=2", "https://b.example/", "https://c.example/c",
                    "https://d.example/", "https://e.example/"]
    assert 'href="https://t.example/?u=https://a.example/?x=1&amp;y=2"' in out
    assert 'data-href="https://no.example/"' in out and '"https://no.example/css"' in out


def test_text_becomes_escaped_paragraphs_with_clickable_links() -> None:
    html = text_to_html("Hi <Bob> & co,\nsee https://a.example/?a=1&b=2.\n\n\nAna\n")

    assert "<p>Hi &lt;Bob&gt; &amp; co,<br>\nsee <a href=\"https://a.example/?a=1&amp;b=2\">" \
           "https://a.example/?a=1&amp;b=2</a>.</p>\n<p>Ana</p>" in html
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</body></html>")


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.add(tag)


@given(st.text(max_size=300))
def test_no_text_can_add_a_tag_to_its_html_version(text: str) -> None:
    parser = Tags()
    parser.feed(text_to_html(text))

    assert parser.seen <= {"html", "head", "meta", "body", "p", "br", "a"}


def test_fragments_go_before_the_last_body_end_tag_or_at_the_end() -> None:
    assert insert_before_body_end("<html><BODY>x</BODY></html>", "<img>") == \
        "<html><BODY>x<img>\n</BODY></html>"
    assert insert_before_body_end("<p>x</p>", "<img>") == "<p>x</p>\n<img>\n"


def test_the_list_headers_name_the_https_link_first_then_the_sub_addressed_mailto() -> None:
    assert list_unsubscribe_headers(URL, "ana.ruiz@acme.example") == {
        "List-Unsubscribe": f"<{URL}>, "
                            "<mailto:ana.ruiz+unsubscribe@acme.example?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert unsubscribe_mailto("ana+sales@acme.example") == \
        "mailto:ana+sales+unsubscribe@acme.example?subject=unsubscribe"


@pytest.mark.parametrize(("address", "expected"), [
    ("ana+unsubscribe@acme.example", True), ("<Ana+Unsubscribe@acme.example>", True),
    ("ana+sales+unsubscribe@acme.example", True), ("ana@acme.example", False),
    ("unsubscribe@acme.example", False), ("ana+unsubscribe", False),
])
def test_the_inbound_side_recognises_our_unsubscribe_mailto(address: str, expected: bool
                                                            ) -> None:
    assert is_unsubscribe_address(address) is expected


def test_the_footer_adds_the_opt_out_line_once_and_the_address_lines() -> None:
    footer = Footer(opt_out=True, postal_address=" Acme Inc. \n\n1 Main St <HQ>\n")

    assert footer.add_to_text("Hi\n\n", URL) == \
        f"Hi\n\nNot interested? Unsubscribe with one click: {URL}\nAcme Inc.\n1 Main St <HQ>\n"
    assert footer.add_to_text(f"Bye: {URL}\n", URL) == \
        f"Bye: {URL}\n\nAcme Inc.\n1 Main St <HQ>\n"
    html = footer.add_to_html("<html><body><p>Hi</p></body></html>", URL)
    assert html.endswith(f'Not interested? <a href="{URL}">Unsubscribe with one click</a>.'
                         "<br>Acme Inc.<br>1 Main St &lt;HQ&gt;</p>\n</body></html>")
    assert Footer(opt_out=False, postal_address=None).empty
    assert Footer(opt_out=False, postal_address=None).add_to_text("Hi\n", URL) == "Hi\n"
