"""Taking in one inbound mail: classify, match, record once, and let the engine act.

Every path that brings mail in (the IMAP poller, the raw-MIME endpoint, a file on
the command line) ends here. The mail's event row is inserted first, keyed by its
Message-ID (or the hash of its bytes), so the same mail taken in twice, even by two
processes at once, changes nothing the second time (RELIABILITY rule 10). The
effects run in that same transaction under each enrollment's row lock, like the
executor's, so a send in flight and a reply cannot both win (rule 4).

What each kind does (issue 4, point 6):

- ``reply``: the engine is told on every open enrollment of the person (the matched
  one knows which step was answered), and colleagues' enrollments at the same
  account hear ``from_colleague`` (their sequence decides whether that exits).
- ``auto_reply``: a pause until the return date (the engine picks the day).
- ``hard_bounce``: the address is suppressed; its enrollments exit.
- ``soft_bounce`` / ``blocked``: the bounced step is sent again later when it is the
  latest email of its enrollment; blocks count against the sending mailbox, which
  is paused once they pass ``BLOCK_PAUSE_RATE`` of its recent sends.
- ``unsubscribe``: the address is suppressed and every enrollment of it exits; so does
  a spam complaint (an ARF abuse report, classified ``unknown``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sequencer.engine import events as ev
from sequencer.engine.advance import advance
from sequencer.inbound.classify import classify
from sequencer.inbound.model import Classification, Kind
from sequencer.runtime.effects import apply
from sequencer.runtime.executor import lock_enrollment
from sequencer.services.app import App
from sequencer.services.learned import definition_for
from sequencer.store.codec import read_state
from sequencer.store.models import Enrollment, Event, Mailbox, Message, Prospect, StepRun
from sequencer.store.upsert import insert_ignoring, suppress

RESEND_AFTER = timedelta(hours=20)  # a soft-bounced or blocked email goes out again after
BLOCK_WINDOW = timedelta(days=7)  # the block rate of a mailbox is over its recent sends
BLOCK_PAUSE_RATE = 0.05  # a mailbox whose blocks pass this share of its sends is paused...
BLOCK_PAUSE_MINIMUM = 5  # ...once it has at least this many blocks (one is not a trend)
UNSUBSCRIBE_TAG = "+unsubscribe@"  # the List-Unsubscribe mailto: local+unsubscribe@domain
OPEN = ("active", "paused")
# People at these domains are not colleagues: a reply from one never exits another.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me",
    "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "orange.fr", "free.fr",
    "laposte.net", "libero.it", "yandex.ru", "mail.ru", "qq.com", "163.com", "zoho.com",
})


@dataclass
class Ingested:
    """What taking one mail in did, for the caller to show."""

    kind: str
    duplicate: bool = False
    matched: str | None = None  # the Message-ID of our email it answers
    prospect: str | None = None
    enrollments: list[tuple[int, str]] = field(default_factory=list)  # (id, status after)
    suppressed: str | None = None
    mailbox_paused: bool = False
    classification: Classification | None = None


def ingest(app: App, raw: bytes, *, source: str, mailbox_id: int | None = None) -> Ingested:
    """Take one raw message in; see the module docstring for what each kind does."""
    found = classify(raw, received=app.clock.now())
    if found.kind is not Kind.UNSUBSCRIBE and _sent_to_unsubscribe_address(raw):
        found = _as_unsubscribe(found)
    key = f"mail:{found.message_id}" if found.message_id else (
        f"mail-sha256:{hashlib.sha256(raw).hexdigest()}")
    return take_in(app, found, key=key, source=source, mailbox_id=mailbox_id)


def take_in(app: App, found: Classification, *, key: str, source: str,
            mailbox_id: int | None = None, provider_id: str | None = None) -> Ingested:
    """Record ``found`` once under ``key`` and act on it: the one path for mail and for
    the email providers' webhook events (which match by ``provider_id`` too)."""
    now = app.clock.now()
    result = Ingested(kind=found.kind.value, classification=found)
    with app.sessions.begin() as session:
        message = _matched_message(session, found, provider_id)
        if message is not None:
            result.matched, mailbox_id = message.message_id, message.mailbox_id
        address = _address_concerned(found, message)
        prospect = _prospect(session, address, message)
        result.prospect = prospect.email if prospect else address
        event_row = {
            "kind": found.kind.value, "source_key": key[:500],
            "prospect_id": prospect.id if prospect else None,
            "enrollment_id": message.enrollment_id if message else None,
            "message_id": message.message_id if message else found.in_reply_to,
            "mailbox_id": mailbox_id, "occurred_at": now, "payload": _payload(found, source)}
        inserted = session.execute(insert_ignoring(session, Event, ("source_key",))
                                   .returning(Event.id), [event_row]).first()
        if inserted is None:
            result.duplicate = True  # taken in before: nothing changes
            return result
        _act(session, app, found, message, prospect, address, now, result)
    return result


def _act(session: Session, app: App, found: Classification, message: Message | None,
         prospect: Prospect | None, address: str | None, now: datetime,
         result: Ingested) -> None:
    step = _step_of(session, message)
    if found.delayed:
        return  # a delay warning: the remote server is still trying; recorded, nothing to do
    match found.kind:
        case Kind.REPLY:
            own = _open_enrollments(session, prospect)
            result.enrollments = _tell(session, app, own, now, lambda row: ev.ReplyReceived(
                step=step if message and row.id == message.enrollment_id else None, at=now))
            colleagues = _colleagues(session, prospect)
            result.enrollments += _tell(session, app, colleagues, now,
                                        lambda row: ev.ReplyReceived(from_colleague=True, at=now))
        case Kind.AUTO_REPLY:
            result.enrollments = _tell(
                session, app, _open_enrollments(session, prospect), now,
                lambda row: ev.AutoReplyReceived(return_date=found.return_date, at=now))
        case Kind.HARD_BOUNCE | Kind.UNSUBSCRIBE if address:
            hard = found.kind is Kind.HARD_BOUNCE
            why = (f"hard bounce {found.status or ''} {found.reason or ''}".strip() if hard
                   else f"unsubscribe ({found.reason or 'asked by reply'})")
            suppress(session, address, why[:200], now)
            result.suppressed = address.lower()
            if message is not None and hard:
                message.status = "bounced"
            result.enrollments = _tell(
                session, app, _open_enrollments(session, prospect), now,
                lambda row: ev.Bounced(hard=True, step=step) if hard else ev.Unsubscribed())
        case Kind.SOFT_BOUNCE | Kind.BLOCKED if message is not None:
            blocked = found.kind is Kind.BLOCKED
            resend = _latest_email(session, message) and message.status == "sent"
            message.status = "blocked" if blocked else "soft_bounced"
            if resend:
                _reopen_run(session, message)
            result.enrollments = _tell(session, app, [message.enrollment_id], now, lambda row:
                                       ev.Bounced(hard=False, step=step, blocked=blocked,
                                                  resend_after=now + RESEND_AFTER
                                                  if resend else None))
            if blocked:
                result.mailbox_paused = _pause_if_blocked(session, message.mailbox_id, now)
        case Kind.UNKNOWN if message is not None and _is_complaint(found):
            # A spam complaint (ARF abuse report): never write to that person again.
            suppress(session, message.to_address, "complaint (marked as spam)", now)
            result.suppressed = message.to_address.lower()
            result.enrollments = _tell(session, app, _open_enrollments(session, prospect), now,
                                       lambda row: ev.Unsubscribed())
        case _:
            pass  # unknown, or nothing we sent to match it to: recorded, nothing to do


def unsubscribe_address(app: App, address: str, *, source_key: str, reason: str) -> Ingested:
    """Suppress ``address`` everywhere and exit its enrollments (one-click, or by hand).

    Idempotent on ``source_key``: the same request twice changes nothing more.
    """
    now = app.clock.now()
    result = Ingested(kind=Kind.UNSUBSCRIBE.value, prospect=address.lower())
    with app.sessions.begin() as session:
        prospect = _prospect(session, address, None)
        inserted = session.execute(insert_ignoring(session, Event, ("source_key",)).returning(
            Event.id), [{"kind": "unsubscribe", "source_key": source_key[:500],
                         "prospect_id": prospect.id if prospect else None,
                         "occurred_at": now, "payload": {"reason": reason}}]).first()
        suppress(session, address, reason[:200], now)
        result.suppressed = address.lower()
        if inserted is None:
            result.duplicate = True
            return result
        result.enrollments = _tell(session, app, _open_enrollments(session, prospect), now,
                                   lambda row: ev.Unsubscribed())
    return result


# -- matching --------------------------------------------------------------------
def _matched_message(session: Session, found: Classification, provider_id: str | None
                     ) -> Message | None:
    """Our email this mail answers: by Message-ID (best first), the run key, or the id
    the provider gave it."""
    ids = [i for i in found.message_ids if i][:50]
    if ids:
        rows = {m.message_id: m for m in session.scalars(
            select(Message).where(Message.message_id.in_(ids)))}
        for wanted in ids:
            if wanted in rows:
                return rows[wanted]
    if found.sequencer_key:
        parts = found.sequencer_key.rsplit(":", 2)
        if len(parts) == 3 and parts[0].isdigit() and parts[2].isdigit():
            return session.scalars(select(Message).join(
                StepRun, StepRun.id == Message.step_run_id).where(
                StepRun.enrollment_id == int(parts[0]), StepRun.step_id == parts[1],
                StepRun.round == int(parts[2]))).first()
    if provider_id:
        return session.scalars(select(Message).where(Message.provider_id == provider_id)).first()
    return None


def _address_concerned(found: Classification, message: Message | None) -> str | None:
    """The prospect's address: who bounced, or who wrote."""
    if found.kind in (Kind.HARD_BOUNCE, Kind.SOFT_BOUNCE, Kind.BLOCKED):
        return message.to_address if message is not None else found.recipient
    return found.sender or (message.to_address if message is not None else None)


def _prospect(session: Session, address: str | None, message: Message | None
              ) -> Prospect | None:
    if message is not None:
        enrollment = session.get(Enrollment, message.enrollment_id)
        if enrollment is not None:
            return session.get(Prospect, enrollment.prospect_id)
    if not address:
        return None
    return session.scalars(select(Prospect).where(
        Prospect.email_key == address.strip().lower())).first()


def _step_of(session: Session, message: Message | None) -> str | None:
    if message is None:
        return None
    run = session.get(StepRun, message.step_run_id)
    return run.step_id if run is not None else None


def _open_enrollments(session: Session, prospect: Prospect | None) -> list[int]:
    if prospect is None:
        return []
    return list(session.scalars(select(Enrollment.id).where(
        Enrollment.prospect_id == prospect.id, Enrollment.status.in_(OPEN))
        .order_by(Enrollment.id)))


def _colleagues(session: Session, prospect: Prospect | None) -> list[int]:
    """Open enrollments of other people at the same account: the same account row, or
    for prospects without one, the same company email domain (never a free-mail one)."""
    if prospect is None:
        return []
    if prospect.account_id is not None:
        same = Prospect.account_id == prospect.account_id
    else:
        domain = prospect.email_key.rsplit("@", 1)[-1]
        if domain in FREE_MAIL_DOMAINS:
            return []
        same = Prospect.email_key.like(f"%@{domain}")
    return list(session.scalars(select(Enrollment.id).join(
        Prospect, Prospect.id == Enrollment.prospect_id).where(
        same, Prospect.id != prospect.id, Enrollment.status.in_(OPEN)).order_by(Enrollment.id)))


def _latest_email(session: Session, message: Message) -> bool:
    latest = session.scalar(select(func.max(Message.id)).where(
        Message.enrollment_id == message.enrollment_id))
    return latest == message.id


def _reopen_run(session: Session, message: Message) -> None:
    """The bounced run goes back to ``deferred``: the scheduler claims it again when due,
    and the executor sends the stored message again under the same Message-ID."""
    run = session.get(StepRun, message.step_run_id)
    if run is not None and run.state == "sent":
        run.state, run.finished_at = "deferred", None


# -- effects -----------------------------------------------------------------------
def _tell(session: Session, app: App, enrollment_ids: Iterable[int], now: datetime,
          make: Callable[[Enrollment], ev.Event]) -> list[tuple[int, str]]:
    """Advance each enrollment with its event, under its row lock, in id order."""
    out = []
    for enrollment_id in sorted(set(enrollment_ids)):
        row = lock_enrollment(session, enrollment_id)
        if row.status not in OPEN:
            continue
        definition = definition_for(session, app, row)
        decision = advance(definition, read_state(row), make(row), now=now,
                           calendar=app.calendar)
        apply(session, row, decision, now=now)
        out.append((row.id, decision.state.status.value))
    return out


def _pause_if_blocked(session: Session, mailbox_id: int, now: datetime) -> bool:
    """Pause a mailbox whose recent blocks pass the threshold; True when paused now."""
    blocks, sent = block_rate(session, mailbox_id, now)
    mailbox = session.get(Mailbox, mailbox_id, with_for_update=True)
    if mailbox is None or mailbox.paused or blocks < BLOCK_PAUSE_MINIMUM:
        return False
    if blocks < BLOCK_PAUSE_RATE * max(sent, 1):
        return False
    mailbox.paused = True
    mailbox.pause_reason = (f"{blocks} sends blocked by receiving servers in the last "
                            f"{BLOCK_WINDOW.days} days ({blocks / max(sent, 1):.0%} of {sent})")
    return True


def block_rate(session: Session, mailbox_id: int, now: datetime) -> tuple[int, int]:
    """(blocked, sent) for a mailbox over ``BLOCK_WINDOW``: what ``status`` reports."""
    since = now - BLOCK_WINDOW
    blocks = session.scalar(select(func.count()).select_from(Event).where(
        Event.mailbox_id == mailbox_id, Event.kind == Kind.BLOCKED.value,
        Event.occurred_at >= since)) or 0
    sent = session.scalar(select(func.count()).select_from(Message).where(
        Message.mailbox_id == mailbox_id, Message.sent_at >= since)) or 0
    return blocks, sent


# -- small helpers -------------------------------------------------------------------
def _sent_to_unsubscribe_address(raw: bytes) -> bool:
    """A mail to ``local+unsubscribe@domain``: the List-Unsubscribe mailto was used."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:65536], headersonly=True)
    values = [str(v) for name in ("To", "Delivered-To", "X-Original-To", "Envelope-To")
              for v in headers.get_all(name, [])]
    return any(UNSUBSCRIBE_TAG in address.lower() for _, address in getaddresses(values))


def _is_complaint(found: Classification) -> bool:
    """An ARF feedback report of type abuse (RFC 5965): the recipient called it spam."""
    return found.reason == "feedback" and "abuse" in (found.diagnostic or "").lower()


def _as_unsubscribe(found: Classification) -> Classification:
    if found.kind not in (Kind.REPLY, Kind.UNKNOWN):
        return found  # a bounce or an auto-reply to that address is not a person asking
    return replace(found, kind=Kind.UNSUBSCRIBE)


def _payload(found: Classification, source: str) -> dict[str, object]:
    return {"source": source, "status": found.status, "reason": found.reason,
            "diagnostic": (found.diagnostic or "")[:500] or None,
            "recipient": found.recipient, "sender": found.sender,
            "return_date": found.return_date.isoformat() if found.return_date else None,
            "in_reply_to": found.in_reply_to, "delayed": found.delayed or None,
            "reply_text": (found.reply_text or "")[:4000] or None}
