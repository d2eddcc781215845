"""The classifier's order of decisions, what each verdict carries, and hostile input."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from sequencer.inbound.classify import classify
from sequencer.inbound.model import Kind
from sequencer.inbound.parse import MAX_IDS, parse_message, references
from sequencer.inbound.verp import verp_address
from tests.unit.inbound_mail import OUR_ID, OUR_KEY, PROSPECT, dsn, person

ARRIVED = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)


def test_a_human_reply_is_a_reply_with_its_new_text_and_what_it_answers() -> None:
    older = "<20250305080000.first@mail.example.com>"
    raw = person(body="Thanks, Thursday at 3pm works.\n\nOn Wed, 12 Mar 2025 at 09:45, Rep "
                      "<rep@mail.example.com> wrote:\n> Hi Dana,\n> Would a call help?\n",
                 references=f"{older} {OUR_ID}")
    verdict = classify(raw, received=ARRIVED)
    assert verdict.kind is Kind.REPLY
    assert verdict.reply_text == "Thanks, Thursday at 3pm works."
    assert verdict.message_ids == (OUR_ID, older)  # In-Reply-To, then References newest first
    assert verdict.in_reply_to == OUR_ID
    assert (verdict.sender, verdict.message_id) == (PROSPECT, "<CAF=reply.1@mail.prospect.example>")


def test_an_html_only_reply_is_read_as_text() -> None:
    raw = person(body="", html="<html><body><p>Sounds <b>good</b>, call me.</p>"
                               "<blockquote>Would a call help?</blockquote></body></html>")
    verdict = classify(raw)
    assert verdict.kind is Kind.REPLY
    assert "Sounds good, call me." in (verdict.reply_text or "")


def test_an_out_of_office_is_an_auto_reply_with_its_return_date() -> None:
    raw = person(body="I will be back in the office on Monday 17 March 2025.",
                 subject="Automatic reply: Quick question",
                 extra={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"})
    verdict = classify(raw, received=ARRIVED)
    assert (verdict.kind, verdict.return_date) == (Kind.AUTO_REPLY, date(2025, 3, 17))
    assert verdict.in_reply_to == OUR_ID


def test_an_out_of_office_that_dates_only_its_subject_takes_the_date_from_it() -> None:
    raw = person(body="Thank you for your message. I have limited access to e-mail.",
                 subject="Out of office until Friday 14 March 2025",
                 extra={"Auto-Submitted": "auto-replied"})
    verdict = classify(raw, received=ARRIVED)
    assert (verdict.kind, verdict.return_date) == (Kind.AUTO_REPLY, date(2025, 3, 15))


def test_a_dsn_marked_auto_replied_is_a_bounce_not_an_auto_reply() -> None:
    raw = dsn(status="5.1.1", diagnostic="550 5.1.1 <dana@prospect.example>: User unknown",
              notice="Delivery to the following recipient failed permanently.",
              extra={"Auto-Submitted": "auto-replied"})
    assert classify(raw).kind is Kind.HARD_BOUNCE


def test_apple_mails_one_tap_unsubscribe_is_an_unsubscribe_not_an_auto_reply() -> None:
    raw = person(body="Apple Mail sent this email to unsubscribe from the message.",
                 subject="unsubscribe", in_reply_to=None, references=None,
                 extra={"Auto-Submitted": "auto-replied", "X-Apple-Unsubscribe": "true"})
    assert classify(raw).kind is Kind.UNSUBSCRIBE


def test_a_person_asking_to_be_removed_is_an_unsubscribe_with_their_words() -> None:
    raw = person(body="Please remove me from your mailing list.\n\n> Would a call help?\n")
    verdict = classify(raw)
    assert verdict.kind is Kind.UNSUBSCRIBE
    assert verdict.reply_text == "Please remove me from your mailing list."


def test_an_arf_opt_out_is_an_unsubscribe_and_an_abuse_report_is_not() -> None:
    def arf(feedback_type: str) -> bytes:
        return (b"From: fbl@isp.example\r\nTo: abuse@mail.example.com\r\n"
                b"Subject: FW: Quick question\r\nMIME-Version: 1.0\r\n"
                b'Content-Type: multipart/report; report-type=feedback-report; boundary="b"\r\n'
                b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nA report.\r\n"
                b"--b\r\nContent-Type: message/feedback-report\r\n\r\n"
                b"Feedback-Type: " + feedback_type.encode() + b"\r\nVersion: 1\r\n"
                b"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
                b"Message-ID: " + OUR_ID.encode() + b"\r\n--b--\r\n")

    opt_out, abuse = classify(arf("opt-out")), classify(arf("abuse"))
    assert (opt_out.kind, abuse.kind) == (Kind.UNSUBSCRIBE, Kind.UNKNOWN)
    assert abuse.in_reply_to == OUR_ID
    assert abuse.diagnostic == "Feedback-Type: abuse"  # a complaint, for the operator


def test_a_mail_system_notice_that_is_not_a_bounce_is_unknown() -> None:
    raw = person(body="Your mailbox settings were updated.", subject="Settings changed",
                 from_="MAILER-DAEMON@mx.example.net", in_reply_to=None, references=None)
    assert classify(raw).kind is Kind.UNKNOWN


def test_a_bounce_to_a_verp_return_path_carries_the_key() -> None:
    to = verp_address("bounces@mail.example.com", "77:follow-up:1")
    raw = dsn(status="5.2.2", diagnostic="552 5.2.2 Mailbox full", notice="Mailbox full.",
              extra={"Delivered-To": to.upper()})
    verdict = classify(raw)
    assert verdict.kind is Kind.SOFT_BOUNCE
    # The attached original's X-Sequencer-Key wins over the VERP token.
    assert verdict.sequencer_key == OUR_KEY


def test_a_message_with_no_headers_at_all_is_unknown() -> None:
    verdict = classify(b"just some bytes\nwithout any header\n")
    assert verdict.kind is Kind.UNKNOWN
    assert (verdict.message_ids, verdict.message_id, verdict.sender) == ((), None, None)


def test_empty_input_is_unknown() -> None:
    assert classify(b"").kind is Kind.UNKNOWN


def test_an_unknown_charset_is_read_anyway() -> None:
    raw = (b"From: Dana <dana@prospect.example>\r\nSubject: Re: Quick question\r\n"
           b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n"
           b"Caf\xc3\xa9 on Thursday works.\r\n")
    verdict = classify(raw)
    assert verdict.kind is Kind.REPLY
    assert verdict.reply_text == "Café on Thursday works."


def test_a_thousand_nested_multiparts_are_read_in_bounded_time() -> None:
    head = b"From: x@example.org\r\nSubject: nested\r\n"
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                       for i in range(1000))
    closing = b"".join(b"--b%d--\r\n" % i for i in reversed(range(1000)))
    raw = head + opening + b"Content-Type: text/plain\r\n\r\nhello\r\n" + closing
    started = time.perf_counter()
    verdict = classify(raw)
    assert time.perf_counter() - started < 2.0
    assert verdict.kind in (Kind.REPLY, Kind.UNKNOWN)


def test_a_fifty_megabyte_attachment_does_not_slow_the_classifier_down() -> None:
    raw = (b"From: Dana <dana@prospect.example>\r\nSubject: Re: Quick question\r\n"
           b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n'
           b"--x\r\nContent-Type: text/plain\r\n\r\nSee the deck attached.\r\n"
           b"--x\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + b"QUJD" * (50 * 1024 * 1024 // 4) + b"\r\n--x--\r\n")
    started = time.perf_counter()
    verdict = classify(raw)
    assert time.perf_counter() - started < 2.0
    assert (verdict.kind, verdict.reply_text) == (Kind.REPLY, "See the deck attached.")


def test_ten_thousand_references_keep_the_newest() -> None:
    ids = " ".join(f"<{n}@mail.example.com>" for n in range(10_000))
    message = parse_message(b"From: a@example.org\r\nReferences: " + ids.encode() + b"\r\n\r\nx")
    kept = references(message)
    assert len(kept) == MAX_IDS
    assert kept[0] == "<9999@mail.example.com>"


_SAMPLE = dsn(status="5.1.1", diagnostic="550 5.1.1 <dana@prospect.example>: User unknown",
              notice="Delivery to the following recipient failed permanently.")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_SAMPLE) - 1), st.binary(max_size=8)),
                max_size=12))
def test_damaged_mail_always_gets_a_verdict(edits: list[tuple[int, bytes]]) -> None:
    raw = bytearray(_SAMPLE)
    for position, replacement in edits:
        raw[position:position + len(replacement)] = replacement
    assert classify(bytes(raw)).kind in Kind
