"""Reading raw mail: damaged structure, odd encodings, and the ids a message carries."""

from __future__ import annotations

from sequencer.inbound.parse import (
    best_text,
    html_to_text,
    in_reply_to,
    own_message_id,
    parse_message,
    references,
)


def test_message_ids_are_read_as_clean_lists_newest_reference_first() -> None:
    message = parse_message(
        b"From: a@example.org\r\nMessage-ID: <own@example.org>\r\n"
        b"In-Reply-To: Dana's note <b@example.org> (sent Monday)\r\n"
        b"References: <a@example.org>\r\n <b@example.org>\t<a@example.org>\r\n\r\nx")
    assert own_message_id(message) == "<own@example.org>"
    assert in_reply_to(message) == "<b@example.org>"
    assert references(message) == ["<b@example.org>", "<a@example.org>"]


def test_a_multipart_whose_boundary_is_lost_is_read_as_text() -> None:
    raw = (b"From: a@example.org\r\nContent-Type: multipart/mixed; boundary=\"declared\"\r\n\r\n"
           b"--another\r\nContent-Type: text/plain\r\n\r\nThe words are still here.\r\n")
    assert "The words are still here." in best_text(parse_message(raw))


def test_an_undeclared_eight_bit_header_is_read_as_utf8() -> None:
    from sequencer.inbound.parse import header

    message = parse_message("Subject: メールエラー通知\r\n\r\nx".encode())
    assert header(message, "Subject") == "メールエラー通知"


def test_broken_base64_gives_what_can_be_read_not_an_error() -> None:
    raw = (b"From: a@example.org\r\nContent-Type: text/plain\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\nSGVsbG8gd29ybGQ===!!\r\n")
    assert best_text(parse_message(raw)).startswith("Hello world")


def test_html_becomes_lines_and_quotes() -> None:
    html = ("<div>Yes, <b>Thursday</b> works.<br>Dana</div><style>p{}</style>"
            "<blockquote><p>Would a call help?</p></blockquote>")
    assert html_to_text(html) == "Yes, Thursday works.\nDana\n\n> Would a call help?"
