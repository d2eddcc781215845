"""Mailbox URLs for the IMAP poller: what they say, and errors that never show the password."""

from __future__ import annotations

import pytest

from sequencer.errors import InputError
from sequencer.inbound.imap_url import MailboxSettings, mailbox_from_url

SECRET = "s3cr%t"


def test_a_full_url_is_read_with_its_escapes() -> None:
    settings = mailbox_from_url("imap://rep%40sender.example:p%40ss%3Aw%2Fd@mail.example:1143/"
                                "Sent%20Items?starttls=no&mark_seen=yes&batch=5&timeout=2.5")

    assert settings == MailboxSettings(
        "mail.example", 1143, "rep@sender.example", "p@ss:w/d", folder="Sent Items",
        starttls=False, mark_seen=True, batch=5, timeout=2.5)


@pytest.mark.parametrize(("url", "port", "implicit_tls"), [
    ("imap://u:p@mail.example", 143, False),
    ("imaps://u:p@mail.example/", 993, True),
])
def test_defaults_are_inbox_standard_ports_starttls_and_no_flags(
        url: str, port: int, implicit_tls: bool) -> None:
    settings = mailbox_from_url(url)

    assert (settings.folder, settings.port, settings.implicit_tls) == ("INBOX", port,
                                                                       implicit_tls)
    assert settings.starttls and not settings.mark_seen
    assert (settings.batch, settings.timeout) == (20, 30.0)


def test_the_password_may_come_from_the_environment() -> None:
    settings = mailbox_from_url("imaps://rep@mail.example/INBOX?password_env=REP_IMAP",
                                environ={"REP_IMAP": SECRET})

    assert settings.password == SECRET


def test_a_missing_password_variable_is_named() -> None:
    with pytest.raises(InputError, match="REP_IMAP"):
        mailbox_from_url("imaps://rep@mail.example/INBOX?password_env=REP_IMAP", environ={})


@pytest.mark.parametrize(("url", "complaint"), [
    ("pop3://u:SECRET@mail.example/", "unsupported mailbox URL"),
    ("imap://u:SECRET@/INBOX", "no host"),
    ("imap://:SECRET@mail.example/INBOX", "no user name"),
    ("imap://u@mail.example/INBOX", "no password"),
    ("imap://u:SECRET@mail.example:99999/", "bad port"),
    ("imaps://u:SECRET@mail.example/?starttls=no", "unknown option"),
    ("imap://u:SECRET@mail.example/?seen=yes", "unknown option"),
    ("imap://u:SECRET@mail.example/?batch=1&batch=2", "given twice"),
    ("imap://u:SECRET@mail.example/?batch=0", "batch must be"),
    ("imap://u:SECRET@mail.example/?timeout=-1", "timeout must be"),
    ("imap://u:SECRET@mail.example/?mark_seen=maybe", "mark_seen must be yes or no"),
    ("imap://u:SECRET@mail.example/?password_env=X", "not both"),
])
def test_bad_urls_say_what_is_wrong_without_the_password(url: str, complaint: str) -> None:
    with pytest.raises(InputError) as error:
        mailbox_from_url(url.replace("SECRET", SECRET), environ={"X": "other"})

    assert complaint in str(error.value)
    assert SECRET not in str(error.value)


def test_the_mailbox_name_and_repr_never_show_the_password() -> None:
    settings = mailbox_from_url(f"imaps://rep%40sender.example:{SECRET}@mail.example/INBOX")

    assert settings.name == "imaps://rep@sender.example@mail.example:993/INBOX"
    assert SECRET not in repr(settings)
