"""Bounces as the big providers and common servers write them: what failed, why, and
whether the address must be suppressed (only when it is certainly dead)."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

import pytest

from sequencer.inbound.classify import classify
from sequencer.inbound.model import Kind
from sequencer.inbound.reasons import enhanced_codes, kind_of, reason_in_text
from tests.unit.inbound_mail import OUR_ID, OUR_KEY, PROSPECT, dsn, outbound, plain_notice

POSTFIX_NOTICE = """This is the mail system at host mx.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<{rcpt}>: host {host}[192.0.2.10] said: {reply} (in reply to {command} command)
"""


def postfix(reply: str, *, command: str = "RCPT TO", status: str | None = None,
            host: str = "mx.prospect.example", **kwargs: object) -> bytes:
    code = status or (enhanced_codes(reply) or ["5.0.0"])[0]
    notice = POSTFIX_NOTICE.format(rcpt=PROSPECT, host=host, reply=reply, command=command)
    return dsn(status=code, diagnostic=reply, notice=notice, **kwargs)  # type: ignore[arg-type]


def test_the_test_reports_are_real_mime_that_the_standard_parser_reads_back() -> None:
    parsed = message_from_bytes(postfix("550 5.1.1 <x>: User unknown"), policy=default)
    assert parsed.get_content_type() == "multipart/report"
    assert [p.get_content_type() for p in parsed.iter_parts()] == [
        "text/plain", "message/delivery-status", "message/rfc822"]


def test_user_unknown_at_rcpt_is_a_hard_bounce_matched_to_our_message_and_key() -> None:
    verdict = classify(postfix(f"550 5.1.1 <{PROSPECT}>: Recipient address rejected: "
                               "User unknown in virtual mailbox table"))
    assert verdict.kind is Kind.HARD_BOUNCE
    assert (verdict.status, verdict.reason, verdict.recipient) == (
        "5.1.1", "userunknown", PROSPECT)
    assert verdict.in_reply_to == OUR_ID
    assert verdict.sequencer_key == OUR_KEY
    assert "User unknown" in (verdict.diagnostic or "")


def test_gmail_no_such_user_is_a_hard_bounce() -> None:
    reply = ("550-5.1.1 The email account that you tried to reach does not exist. Please try "
             "550-5.1.1 double-checking the recipient's email address for typos or "
             "550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1 "
             "https://support.google.com/mail/?p=NoSuchUser a1-20020a17 - gsmtp")
    verdict = classify(postfix(reply, host="gmail-smtp-in.l.google.com"))
    assert (verdict.kind, verdict.status) == (Kind.HARD_BOUNCE, "5.1.1")


def test_gmail_disabled_account_is_soft_it_may_come_back() -> None:
    reply = ("550-5.2.1 The email account that you tried to reach is disabled. Learn more "
             "at 550 5.2.1 https://support.google.com/mail/?p=DisabledUser - gsmtp")
    verdict = classify(postfix(reply))
    assert (verdict.kind, verdict.reason) == (Kind.SOFT_BOUNCE, "suspend")


def test_office365_directory_edge_blocking_means_the_address_does_not_exist() -> None:
    reply = ("550 5.4.1 Recipient address rejected: Access denied. AS(201806281) "
             "[DM6NAM12FT034.eop-nam12.prod.protection.outlook.com]")
    verdict = classify(postfix(reply, host="prospect-example.mail.protection.outlook.com"))
    assert (verdict.kind, verdict.reason) == (Kind.HARD_BOUNCE, "userunknown")


def test_office365_blocklisted_sending_ip_is_blocked_not_the_prospects_fault() -> None:
    reply = ("550 5.7.606 Access denied, banned sending IP [192.0.2.25]. To request removal "
             "from this list please visit https://sender.office.com/")
    verdict = classify(postfix(reply))
    assert (verdict.kind, verdict.status) == (Kind.BLOCKED, "5.7.606")


@pytest.mark.parametrize(("reply", "reason"), [
    ("550 5.7.1 Email rejected per SPF policy: sender not permitted", "authfailure"),
    ("550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's "
     "DMARC policy", "authfailure"),
    ("550 5.7.25 The IP address sending this message does not have a PTR record setup",
     "requireptr"),
    ("554 5.7.1 Service unavailable; Client host [192.0.2.25] blocked using "
     "zen.spamhaus.org", "blocked"),
    ("554 5.7.1 <x@example.org>: Relay access denied", "norelaying"),
    ("550 5.7.1 Message rejected as spam by Content Filtering", "spamdetected"),
    ("421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected "
     "volume or user complaints", "badreputation"),
    ("550 5.7.1 Message contains a virus", "virusdetected"),
])
def test_refusals_of_the_sender_or_content_are_blocked(reply: str, reason: str) -> None:
    verdict = classify(postfix(reply, command="end of DATA"))
    assert (verdict.kind, verdict.reason) == (Kind.BLOCKED, reason)


def test_a_policy_block_worded_under_a_user_unknown_code_is_still_blocked() -> None:
    reply = "550 5.1.1 <x@prospect.example> - 192.0.2.25 has sent to too many recipients this hour"
    verdict = classify(postfix(reply))
    assert (verdict.kind, verdict.reason) == (Kind.BLOCKED, "speeding")


@pytest.mark.parametrize(("reply", "reason"), [
    ("552 5.2.2 <dana@prospect.example>: Mailbox full", "mailboxfull"),
    ("452 4.2.2 The email account that you tried to reach is over quota", "mailboxfull"),
    ("552 5.3.4 Message size exceeds fixed limit", "mesgtoobig"),
    ("421 4.3.2 Too many concurrent SMTP connections; please try again later", "toomanyconn"),
])
def test_recoverable_failures_are_soft_bounces(reply: str, reason: str) -> None:
    verdict = classify(postfix(reply))
    assert (verdict.kind, verdict.reason) == (Kind.SOFT_BOUNCE, reason)


def test_user_unknown_answered_to_the_content_is_a_filter_not_a_dead_address() -> None:
    verdict = classify(postfix("550 <dana@prospect.example>: User unknown",
                               command="end of DATA"))
    assert (verdict.kind, verdict.reason) == (Kind.SOFT_BOUNCE, "filtered")


def test_a_temporary_user_unknown_is_never_a_hard_bounce() -> None:
    verdict = classify(postfix("450 4.1.1 <dana@prospect.example>: Recipient address "
                               "rejected: User unknown in local recipient table"))
    assert verdict.kind is Kind.SOFT_BOUNCE
    assert verdict.status == "4.1.1"


def test_a_refusal_of_our_sender_address_is_blocked_whatever_its_words() -> None:
    verdict = classify(postfix("553 5.1.8 <rep@mail.example.com>... Domain of sender "
                               "address rep@mail.example.com does not exist",
                               command="MAIL FROM"))
    assert (verdict.kind, verdict.reason) == (Kind.BLOCKED, "rejected")


def test_the_remote_servers_code_wins_over_the_reporters_generic_one() -> None:
    verdict = classify(postfix("550 5.1.1 <dana@prospect.example>... User Unknown",
                               status="5.0.0"))
    assert (verdict.kind, verdict.status) == (Kind.HARD_BOUNCE, "5.1.1")


def test_a_delayed_dsn_is_a_soft_bounce_flagged_as_still_being_tried() -> None:
    raw = dsn(action="delayed", status="4.4.1",
              diagnostic="smtp; connect to mx.prospect.example[192.0.2.7]:25: Connection timed out",
              notice="Delivery to the following recipient has been delayed: dana@prospect.example\n"
                     "Message will be retried for 4 more day(s)",
              subject="Delayed Mail (still being retried)")
    verdict = classify(raw)
    assert verdict.kind is Kind.SOFT_BOUNCE
    assert verdict.delayed is True


def test_a_delayed_dsn_naming_a_dead_address_still_suppresses_nothing() -> None:
    raw = dsn(action="delayed", status="4.0.0", diagnostic="No MX found for domain",
              notice="A message is delayed for more than 4 hours.")
    verdict = classify(raw)
    assert verdict.kind is Kind.SOFT_BOUNCE and verdict.delayed


def test_a_bounce_that_says_auto_submitted_auto_replied_is_still_a_bounce() -> None:
    raw = postfix("550 5.1.1 <dana@prospect.example>: User unknown",
                  extra={"Auto-Submitted": "auto-replied", "Precedence": "auto_reply"})
    assert classify(raw).kind is Kind.HARD_BOUNCE


def test_a_delivery_receipt_is_not_a_bounce() -> None:
    raw = dsn(action="delivered", status="2.0.0", diagnostic="250 2.0.0 OK queued",
              notice="Your message was delivered to the following recipients.",
              subject="Successful Mail Delivery Report")
    verdict = classify(raw)
    assert (verdict.kind, verdict.reason) == (Kind.UNKNOWN, "delivered")


def test_the_original_is_found_when_only_its_headers_are_returned() -> None:
    raw = postfix("550 5.1.1 <dana@prospect.example>: User unknown", headers_only=True)
    verdict = classify(raw)
    assert (verdict.in_reply_to, verdict.sequencer_key) == (OUR_ID, OUR_KEY)


def test_exim_plain_notice_with_failed_recipients_header() -> None:
    body = ("This message was created automatically by mail delivery software.\n\n"
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            f"  {PROSPECT}\n"
            "    host mx.prospect.example [192.0.2.7]\n"
            f"    SMTP error from remote mail server after RCPT TO:<{PROSPECT}>:\n"
            "    550 5.1.1 No such user here\n\n"
            "------ This is a copy of the message, including all the headers. ------\n\n"
            + outbound().as_string())
    raw = plain_notice(body=body, subject="Mail delivery failed: returning message to sender",
                       extra={"X-Failed-Recipients": PROSPECT})
    verdict = classify(raw)
    assert (verdict.kind, verdict.recipient, verdict.status) == (
        Kind.HARD_BOUNCE, PROSPECT, "5.1.1")
    assert (verdict.in_reply_to, verdict.sequencer_key) == (OUR_ID, OUR_KEY)


def test_qmail_notice_for_a_domain_that_does_not_exist() -> None:
    body = ("Hi. This is the qmail-send program at mx.example.net.\n"
            "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
            "<dana@nowhere.example>:\n"
            "Sorry, I couldn't find any host named nowhere.example. (#5.1.2)\n\n"
            "--- Below this line is a copy of the message.\n\n" + outbound().as_string())
    verdict = classify(plain_notice(body=body, subject="failure notice",
                                    from_="MAILER-DAEMON@mx.example.net"))
    assert (verdict.kind, verdict.reason, verdict.recipient) == (
        Kind.HARD_BOUNCE, "hostunknown", "dana@nowhere.example")


def test_yahoo_plain_notice_without_any_account() -> None:
    body = ("Sorry, we were unable to deliver your message to the following address.\n\n"
            "<dana@yahoo.example>:\n"
            "554: delivery error: dd This user doesn't have a yahoo.example account "
            "(dana@yahoo.example) [0] - mta1234.mail.example.yahoo.com\n\n"
            "--- Below this line is a copy of the message.\n\n" + outbound().as_string())
    verdict = classify(plain_notice(body=body, subject="Failure Notice",
                                    from_="MAILER-DAEMON@yahoo.example"))
    assert (verdict.kind, verdict.reason) == (Kind.HARD_BOUNCE, "userunknown")


def test_amazon_ses_bounce_notification_is_read_from_its_json() -> None:
    body = ('{"notificationType":"Bounce","bounce":{"bounceType":"Permanent",'
            '"bouncedRecipients":[{"emailAddress":"dana@prospect.example","action":"failed",'
            '"status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}]},'
            '"mail":{"messageId":"0100018e"}}')
    raw = plain_notice(body=body, subject="AWS Notification Message",
                       from_="SES <no-reply@sns.amazonaws.com>")
    verdict = classify(raw)
    assert (verdict.kind, verdict.recipient, verdict.status) == (
        Kind.HARD_BOUNCE, PROSPECT, "5.1.1")


def test_a_bounce_to_our_verp_address_finds_the_step_without_any_original() -> None:
    body = ("Delivery to the following recipient failed permanently:\n\n"
            f"     {PROSPECT}\n\n550 5.1.1 User unknown\n")
    raw = plain_notice(body=body, subject="Delivery Status Notification (Failure)",
                       to="rep+s-gezdu2loorzg6orq-2e7a@mail.example.com")
    verdict = classify(raw)
    assert verdict.kind is Kind.HARD_BOUNCE
    assert verdict.sequencer_key == OUR_KEY


def test_reason_rules_prefer_the_specific_over_the_general() -> None:
    assert reason_in_text(["550 5.1.1 user unknown; client host blocked using bl.example"]) == (
        "blocked")
    assert reason_in_text(["552 mailbox full, recipient address rejected"]) == "mailboxfull"
    assert reason_in_text(["Name service error for name=x.example type=MX: Host not found, "
                           "try again"]) == "networkerror"
    assert reason_in_text(["nothing useful here"]) is None
    assert kind_of("nonsense") is Kind.SOFT_BOUNCE


# Services with their own message tables (sequencer/inbound/providers.py) -------------------

GMAIL_NOTICE = """** Address not found **

Your message wasn't delivered to {rcpt} because the address couldn't be found, or is
unable to receive mail.

The response was:

{reply}
"""


def relayed(reply: str, *, rcpt: str, status: str = "5.0.0", action: str = "failed",
            from_: str = "Mail Delivery Subsystem <mailer-daemon@googlemail.com>") -> bytes:
    """A report that quotes the remote reply without naming the SMTP command."""
    return dsn(recipient=rcpt, status=status, action=action, diagnostic=reply,
               notice=GMAIL_NOTICE.format(rcpt=rcpt, reply=reply), from_=from_)


def test_kddi_names_the_address_only_when_the_mailbox_does_not_exist() -> None:
    rcpt = "someone@ezweb.ne.jp"
    gone = classify(relayed(f"550 <{rcpt}>: User unknown", rcpt=rcpt))
    assert (gone.kind, gone.reason) == (Kind.HARD_BOUNCE, "userunknown")
    refused = classify(relayed("550 : User unknown", rcpt=rcpt))
    assert (refused.kind, refused.reason) == (Kind.SOFT_BOUNCE, "filtered")
    # Elsewhere, the same words with no SMTP command named stay unproven.
    other = classify(relayed(f"550 <{PROSPECT}>: User unknown", rcpt=PROSPECT))
    assert other.kind is Kind.SOFT_BOUNCE


def test_outlook_com_mailbox_unavailable_means_no_such_mailbox() -> None:
    reply = "550 Requested action not taken: mailbox unavailable (-2147467259:1234:-1)"
    raw = relayed(reply, rcpt="someone@hotmail.com", status="5.5.0",
                  from_="postmaster@hotmail.com")
    assert classify(raw).kind is Kind.HARD_BOUNCE
    # RFC 5321's generic 550 text from another server proves nothing about the address.
    other = relayed(reply, rcpt=PROSPECT, status="5.5.0")
    assert classify(other).kind is Kind.SOFT_BOUNCE


def test_verizons_sms_gateway_no_such_user_is_a_dead_number() -> None:
    body = ("Error: Invalid user address\n\nError message below:\n"
            "550 - Requested action not taken: no such user here\n\nMessage details:\n"
            "  Subject: Quick question\n  MAIL FROM: rep@mail.example.com\n"
            "  RCPT TO: 2125550100@vtext.com\n")
    raw = plain_notice(body=body, subject="Re: Quick question",
                       from_="post_master@vtext.com")
    verdict = classify(raw)
    assert (verdict.kind, verdict.reason) == (Kind.HARD_BOUNCE, "userunknown")


def test_messagelabs_no_such_user_is_an_unknown_recipient() -> None:
    reply = f"550 {PROSPECT}... No such user"
    raw = relayed(reply, rcpt=PROSPECT,
                  from_="Mail Delivery System <MAILER-DAEMON@messagelabs.com>")
    assert classify(raw).kind is Kind.HARD_BOUNCE
    # The same reply said to the content (after DATA) is not believed.
    after_data = postfix(reply, command="end of DATA", host="cluster.messagelabs.com")
    assert classify(after_data).kind is Kind.SOFT_BOUNCE


@pytest.mark.parametrize(("reply", "kind", "reason"), [
    ("550 5.5.0 Adresse destinataire invalide. Invalid recipient. LPN007_416",
     Kind.HARD_BOUNCE, "userunknown"),
    ("421 4.2.0 Service refuse. Veuillez essayer plus tard. Service refused, please try "
     "later. OFR005_505 [505]", Kind.SOFT_BOUNCE, "systemerror"),
    ("550 5.5.0 Le compte du destinataire est bloque. The recipient account is blocked. "
     "LPN007_426", Kind.SOFT_BOUNCE, "suspend"),
    ("550 mwinf5c04 ME Adresse IP source bloquee pour incident de spam. OFR006_102",
     Kind.BLOCKED, "blocked"),
])
def test_orange_and_la_poste_codes_name_the_reason(reply: str, kind: Kind, reason: str) -> None:
    verdict = classify(postfix(reply, command="DATA", host="smtpz4.laposte.net"))
    assert (verdict.kind, verdict.reason) == (kind, reason)


def test_a_null_mx_is_permanent_even_under_a_temporary_code() -> None:
    reply = ("DNS Error: 1234 DNS type 'mx' lookup of prospect.example responded with code "
             "NOERROR The domain prospect.example doesn't receive email according to the "
             "administrator: returned Null MX https://www.rfc-editor.org/info/rfc7505")
    failed = classify(relayed(reply, rcpt=PROSPECT, status="4.0.0"))
    assert (failed.kind, failed.reason) == (Kind.HARD_BOUNCE, "notaccept")
    # A delay warning is still being tried: nothing is suppressed yet.
    delayed = classify(relayed(reply, rcpt=PROSPECT, status="4.0.0", action="delayed"))
    assert delayed.kind is Kind.SOFT_BOUNCE
