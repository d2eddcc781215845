"""The IMAP poller against a real Dovecot that the tests start themselves.

Mail is delivered by APPEND on a second connection, as a mail server would deliver it;
each test has a mailbox of its own (``imap_server.py``, registered in conftest.py).
Nothing here sleeps: the loop tests inject their wait.
"""

from __future__ import annotations

import socket
import threading
import traceback
from collections.abc import Iterator

import pytest

from sequencer.inbound.imap import (
    ImapPoller,
    MailboxConnectionError,
    MailboxFolderError,
    MailboxLoginError,
    Position,
    mailbox_from_url,
    poll_forever,
)
from tests.integration.imap_server import ImapServer

pytestmark = pytest.mark.integration

SEEN = b"\\Seen"
SECRET_PASSWORD = "not-to-be-shown"


def reply(number: int, body: str = "Thanks, let's talk next week.") -> bytes:
    return (f"From: Prospect {number} <p{number}@customer.example>\r\n"
            f"To: rep@sender.example\r\n"
            f"Subject: Re: intro #{number}\r\n"
            f"Message-ID: <reply-{number}@customer.example>\r\n"
            f"In-Reply-To: <intro-{number}@sender.example>\r\n"
            f"\r\n{body}\r\n").encode()


@pytest.fixture
def poller(imap_server: ImapServer) -> Iterator[ImapPoller]:
    with ImapPoller(mailbox_from_url(imap_server.url(starttls="no"))) as opened:
        yield opened


class Recorder:
    """An ``ingest`` that keeps what it was given and can be told to fail on a message."""

    def __init__(self, fail_on: bytes | None = None) -> None:
        self.received: list[bytes] = []
        self.fail_on = fail_on

    def __call__(self, raw: bytes) -> None:
        if raw == self.fail_on:
            raise RuntimeError("the database is down")
        self.received.append(raw)


def test_new_mail_is_ingested_once_in_uid_order(imap_server: ImapServer,
                                                 poller: ImapPoller) -> None:
    uids = [imap_server.append(reply(n)) for n in (1, 2, 3)]
    ingest = Recorder()

    first = poller.poll(ingest)
    second = poller.poll(ingest, first.position)

    assert ingest.received == [reply(1), reply(2), reply(3)]
    assert first.ingested == 3 and second.ingested == 0
    assert first.position == Position(imap_server.uidvalidity(), uids[-1])
    assert second.position == first.position


def test_only_mail_after_the_position_is_fetched(imap_server: ImapServer,
                                                 poller: ImapPoller) -> None:
    imap_server.append(reply(1))
    position = poller.poll(Recorder()).position
    imap_server.append(reply(2))
    ingest = Recorder()

    result = poller.poll(ingest, position)

    assert ingest.received == [reply(2)]
    assert result.position.last_uid == position.last_uid + 1


def test_raw_bytes_reach_ingest_byte_for_byte(imap_server: ImapServer,
                                              poller: ImapPoller) -> None:
    raw = ("From: =?utf-8?q?Zo=C3=AB?= <zoe@customer.example>\r\n"
           "Subject: Re: =?utf-8?b?w6ljaGFuZ2U=?=\r\n"
           "Message-ID: <odd@customer.example>\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n"
           "X-Folded: first line\r\n\tcontinued   \r\n"
           "\r\n"
           "Grüße aus Köln — ça marche.  \r\n"
           ".a line that starts with a dot\r\n"
           + "word " * 250 + "\r\n"
           "\r\n\r\n").encode()
    imap_server.append(raw)
    ingest = Recorder()

    poller.poll(ingest)

    assert ingest.received == [raw]


def test_an_ingest_failure_holds_the_position_and_the_next_poll_retries_it(
        imap_server: ImapServer, poller: ImapPoller) -> None:
    uids = [imap_server.append(reply(n)) for n in (1, 2, 3)]
    failing = Recorder(fail_on=reply(2))

    failed = poller.poll(failing)

    assert failing.received == [reply(1)]
    assert failed.position.last_uid == uids[0]
    assert failed.failed_uid == uids[1] and isinstance(failed.error, RuntimeError)
    assert failed.ingested == 1

    healed = Recorder()
    retried = poller.poll(healed, failed.position)

    assert healed.received == [reply(2), reply(3)]
    assert retried.position.last_uid == uids[2] and retried.failed_uid is None


def test_a_new_uidvalidity_reads_the_folder_again(imap_server: ImapServer) -> None:
    imap_server.recreate("Replies")
    for n in (1, 2, 3):
        imap_server.append(reply(n), "Replies")
    with ImapPoller(mailbox_from_url(imap_server.url("Replies", starttls="no"))) as poller:
        before = poller.poll(Recorder()).position
        imap_server.recreate("Replies")  # restored from a backup, say: UIDs start again at 1
        imap_server.append(reply(4), "Replies")
        assert imap_server.uidvalidity("Replies") != before.uidvalidity
        ingest = Recorder()

        after = poller.poll(ingest, before)

    assert ingest.received == [reply(4)]  # its UID, 1, is below the old last_uid of 3
    assert after.position == Position(imap_server.uidvalidity("Replies"), 1)


def test_messages_stay_unseen_until_ingested_then_are_flagged_seen(
        imap_server: ImapServer) -> None:
    uids = [imap_server.append(reply(n)) for n in (1, 2)]
    flags_while_ingesting: list[tuple[bytes, ...]] = []

    def ingest(raw: bytes) -> None:
        flags_while_ingesting.append(imap_server.flags(uids[len(flags_while_ingesting)]))

    url = imap_server.url(starttls="no", mark_seen="yes")
    with ImapPoller(mailbox_from_url(url)) as poller:
        poller.poll(ingest)

    assert flags_while_ingesting == [(), ()]
    assert all(SEEN in imap_server.flags(uid) for uid in uids)


def test_a_failed_message_is_not_flagged_seen(imap_server: ImapServer) -> None:
    uids = [imap_server.append(reply(n)) for n in (1, 2)]
    url = imap_server.url(starttls="no", mark_seen="yes")
    with ImapPoller(mailbox_from_url(url)) as poller:
        poller.poll(Recorder(fail_on=reply(2)))

    assert SEEN in imap_server.flags(uids[0])
    assert SEEN not in imap_server.flags(uids[1])


def test_without_mark_seen_polling_changes_nothing_on_the_server(
        imap_server: ImapServer, poller: ImapPoller) -> None:
    uid = imap_server.append(reply(1))

    poller.poll(Recorder())

    assert imap_server.flags(uid) == ()
    assert imap_server.count() == 1  # and nothing is ever deleted


def test_small_batches_still_deliver_everything_in_order(imap_server: ImapServer) -> None:
    for n in range(1, 8):
        imap_server.append(reply(n))
    ingest = Recorder()
    with ImapPoller(mailbox_from_url(imap_server.url(starttls="no", batch="3"))) as poller:
        result = poller.poll(ingest)

    assert ingest.received == [reply(n) for n in range(1, 8)]
    assert result.ingested == 7


@pytest.mark.parametrize("scheme", ["imaps", "imap"], ids=["implicit-tls", "starttls"])
def test_tls_with_the_servers_ca_trusted(imaps_server: ImapServer, scheme: str) -> None:
    imaps_server.append(reply(1))
    settings = mailbox_from_url(imaps_server.url(scheme=scheme))  # imap:// means STARTTLS
    ingest = Recorder()
    with ImapPoller(settings, ssl_context=imaps_server.client_context()) as poller:
        poller.poll(ingest)

    assert ingest.received == [reply(1)]


def test_a_certificate_from_an_unknown_ca_is_refused(imaps_server: ImapServer) -> None:
    settings = mailbox_from_url(imaps_server.url(scheme="imaps"))
    with ImapPoller(settings) as poller, pytest.raises(MailboxConnectionError) as error:
        poller.poll(Recorder())  # the system's CAs do not know trustme's

    assert settings.name in str(error.value)
    assert "certificate" in str(error.value).lower()


def test_a_server_without_starttls_is_refused_rather_than_sent_the_password(
        imap_server: ImapServer) -> None:
    with ImapPoller(mailbox_from_url(imap_server.url())) as poller, \
            pytest.raises(MailboxConnectionError, match="does not offer STARTTLS"):
        poller.poll(Recorder())


def test_a_wrong_password_names_the_mailbox_and_never_the_password(
        imap_server: ImapServer) -> None:
    wrong = "hunter2-not-it"
    settings = mailbox_from_url(imap_server.url(starttls="no", password=wrong))
    with ImapPoller(settings) as poller, pytest.raises(MailboxLoginError) as error:
        poller.poll(Recorder())

    text = str(error.value)
    assert imap_server.user in text and f":{imap_server.port}/INBOX" in text
    everything = "".join(traceback.format_exception(error.value)) + repr(poller)
    assert wrong not in everything and imap_server.password not in everything


def test_a_missing_folder_is_a_clear_error(imap_server: ImapServer) -> None:
    settings = mailbox_from_url(imap_server.url("Nowhere", starttls="no"))
    with ImapPoller(settings) as poller, pytest.raises(MailboxFolderError) as error:
        poller.poll(Recorder())

    assert "'Nowhere'" in str(error.value) and imap_server.user in str(error.value)


def test_a_connection_dropped_between_polls_is_reopened(imap_server: ImapServer,
                                                        poller: ImapPoller) -> None:
    position = poller.poll(Recorder()).position
    imap_server.kick()  # the server closes the connection the poller keeps open
    imap_server.append(reply(1))
    ingest = Recorder()

    poller.poll(ingest, position)

    assert ingest.received == [reply(1)]


def test_a_connection_dropped_in_the_middle_of_a_poll_is_reopened(
        imap_server: ImapServer) -> None:
    for n in (1, 2, 3):
        imap_server.append(reply(n))
    received: list[bytes] = []

    def ingest_then_drop(raw: bytes) -> None:
        received.append(raw)
        if len(received) == 1:
            imap_server.kick()  # before the FETCH of the next batch of one

    with ImapPoller(mailbox_from_url(imap_server.url(starttls="no", batch="1"))) as poller:
        result = poller.poll(ingest_then_drop)

    assert received == [reply(1), reply(2), reply(3)]  # nothing twice, nothing lost
    assert result.ingested == 3


def test_a_poll_that_cannot_reconnect_reports_how_far_it_got(imap_server: ImapServer) -> None:
    for n in (1, 2):
        imap_server.append(reply(n))
    settings = mailbox_from_url(imap_server.url(starttls="no", batch="1"))
    with ImapPoller(settings, reconnects=0) as poller, \
            pytest.raises(MailboxConnectionError) as error:
        poller.poll(lambda raw: imap_server.kick())

    assert error.value.position == Position(imap_server.uidvalidity(), 1)
    assert settings.name in str(error.value)


def test_an_unreachable_server_is_a_connection_error_naming_the_mailbox() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        settings = mailbox_from_url(f"imap://rep:{SECRET_PASSWORD}@127.0.0.1:{port}/INBOX")
        with ImapPoller(settings) as poller, pytest.raises(MailboxConnectionError) as error:
            poller.poll(Recorder())

    assert f"imap://rep@127.0.0.1:{port}/INBOX: cannot connect" in str(error.value)
    assert SECRET_PASSWORD not in str(error.value)


def test_poll_forever_carries_on_after_a_lost_server(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"imap://rep:x@127.0.0.1:{closed.getsockname()[1]}/INBOX?starttls=no"
        stop = threading.Event()
        rounds: list[float] = []

        def between_rounds(seconds: float) -> None:
            rounds.append(seconds)
            if len(rounds) == 2:
                stop.set()

        with ImapPoller(mailbox_from_url(url)) as poller:
            last = poll_forever(poller, Recorder(), position=Position(7, 3),
                                save=lambda _: pytest.fail("nothing to save"), stop=stop,
                                every=5.0, wait=between_rounds)

    assert last == Position(7, 3) and len(rounds) == 2
    assert "cannot connect" in caplog.text and "retrying next round" in caplog.text


def test_poll_forever_saves_each_new_position_and_retries_a_failure_next_round(
        imap_server: ImapServer, poller: ImapPoller) -> None:
    imap_server.append(reply(1))
    imap_server.append(reply(2))
    ingest = Recorder(fail_on=reply(2))
    saved: list[Position] = []
    waits: list[float] = []
    stop = threading.Event()

    def between_rounds(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:
            ingest.fail_on = None  # the database is back
            imap_server.append(reply(3))
        elif len(waits) == 3:
            stop.set()

    last = poll_forever(poller, ingest, position=None, save=saved.append, stop=stop,
                        every=30.0, wait=between_rounds)

    assert ingest.received == [reply(1), reply(2), reply(3)]
    assert [p.last_uid for p in saved] == [1, 3]  # the quiet third round saved nothing
    assert last == saved[-1] and waits == [30.0, 30.0, 30.0]


def test_poll_forever_stops_on_a_refused_login(imap_server: ImapServer) -> None:
    settings = mailbox_from_url(imap_server.url(starttls="no", password="wrong"))
    stop = threading.Event()
    with ImapPoller(settings) as poller, pytest.raises(MailboxLoginError):
        poll_forever(poller, Recorder(), position=None, save=lambda _: None, stop=stop,
                     every=1.0, wait=lambda _: pytest.fail("no second round"))


def test_poll_forever_returns_at_once_when_already_stopped(poller: ImapPoller) -> None:
    stop = threading.Event()
    stop.set()
    position = Position(1, 5)

    assert poll_forever(poller, Recorder(), position=position, save=lambda _: None,
                        stop=stop, every=60.0) == position
