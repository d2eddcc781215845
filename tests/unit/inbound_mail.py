"""Real MIME for the inbound tests: our outbound mail, and the reports servers send about it.

Everything is built with the standard library's MIME classes and serialised to bytes,
so the classifier reads what a mail server would hand it.
"""

from __future__ import annotations

from email.message import EmailMessage, Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP

OUR_ID = "<20250312094500.abc123@mail.example.com>"
OUR_KEY = "12:intro:0"
PROSPECT = "dana@prospect.example"
SENDER = "rep@mail.example.com"
DAEMON = "Mail Delivery System <MAILER-DAEMON@mx.example.net>"


def outbound(*, to: str = PROSPECT, message_id: str = OUR_ID, key: str = OUR_KEY,
             subject: str = "Quick question") -> EmailMessage:
    """The mail we sent: it carries our Message-ID and X-Sequencer-Key."""
    mail = EmailMessage()
    mail["From"] = f"Rep <{SENDER}>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail["X-Sequencer-Key"] = key
    mail.set_content("Hi Dana,\n\nWould a call next week help?\n\nRep\n")
    return mail


def dsn(*, recipient: str = PROSPECT, action: str = "failed", status: str,
        diagnostic: str | None, notice: str, original: EmailMessage | None = None,
        headers_only: bool = False, from_: str = DAEMON,
        subject: str = "Undelivered Mail Returned to Sender",
        extra: dict[str, str] | None = None) -> bytes:
    """An RFC 3464 report: notice, per-recipient fields, the original (or its headers)."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = from_
    report["To"] = SENDER
    report["Subject"] = subject
    report["Message-ID"] = "<report.1@mx.example.net>"
    report["Date"] = "Wed, 12 Mar 2025 09:46:00 +0000"
    for name, value in (extra or {}).items():
        report[name] = value
    report.attach(MIMEText(notice))
    report.attach(_delivery_status(recipient, action, status, diagnostic))
    original = original if original is not None else outbound(to=recipient)
    if headers_only:
        head = "".join(f"{name}: {value}\n" for name, value in original.items())
        report.attach(MIMEText(head, "rfc822-headers"))
    else:
        report.attach(MIMEMessage(original))
    return report.as_bytes(policy=SMTP)


def _delivery_status(recipient: str, action: str, status: str,
                     diagnostic: str | None) -> Message:
    per_message = Message()
    per_message["Reporting-MTA"] = "dns; mx.example.net"
    per_recipient = Message()
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    if diagnostic is not None:
        per_recipient["Diagnostic-Code"] = f"smtp; {diagnostic}"
    part = Message()
    part.set_type("message/delivery-status")
    part.set_payload([per_message, per_recipient])
    return part


def plain_notice(*, body: str, subject: str, from_: str = DAEMON,
                 to: str = SENDER, extra: dict[str, str] | None = None) -> bytes:
    """A bounce written for people only (qmail, Exim, old Sendmail): one text part."""
    mail = EmailMessage()
    mail["From"] = from_
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = "Wed, 12 Mar 2025 09:46:00 +0000"
    for name, value in (extra or {}).items():
        mail[name] = value
    mail.set_content(body)
    return mail.as_bytes(policy=SMTP)


def person(*, body: str, subject: str = "Re: Quick question",
           from_: str = f"Dana Whitfield <{PROSPECT}>", in_reply_to: str | None = OUR_ID,
           references: str | None = OUR_ID, extra: dict[str, str] | None = None,
           html: str | None = None) -> bytes:
    """A message a person (or their mail client) wrote."""
    mail = EmailMessage()
    mail["From"] = from_
    mail["To"] = f"Rep <{SENDER}>"
    mail["Subject"] = subject
    mail["Date"] = "Wed, 12 Mar 2025 10:02:00 +0100"
    mail["Message-ID"] = "<CAF=reply.1@mail.prospect.example>"
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = references
    for name, value in (extra or {}).items():
        mail[name] = value
    mail.set_content(body)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    return mail.as_bytes(policy=SMTP)
