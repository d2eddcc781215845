"""Between the outbox and the inbound path: read what was sent, post what comes back.

``harvest`` reads the emails sent since the last look (the store says which; the
``.eml`` files in the outbox say what) and asks the fates what each one earns. At
their time, ``deliver`` builds each answer as raw MIME from the sent file, keeps a
copy in ``inbox/``, and hands it to ``services.inbound.ingest``: the same path as
IMAP polling or ``inbound ingest``. The kind the classifier read is counted, and so
is any answer it read differently from what the demo wrote.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from sequencer.delivery.outbox import outbox_file_name
from sequencer.demo.answers import (
    Original,
    bounce,
    out_of_office,
    read_original,
    reply,
    unsubscribe_by_mailto,
)
from sequencer.demo.fates import AnswerKind, Fate, Sent, fate_of
from sequencer.demo.phrases import UNSUBSCRIBE
from sequencer.demo.world import DemoWorld
from sequencer.services.inbound import ingest
from sequencer.store.models import Message, StepRun

HARD_DIAGNOSTIC = "550 5.1.1 <{to}>: Recipient address rejected: User unknown in virtual " \
                  "mailbox table"
SOFT_DIAGNOSTIC = "452 4.2.2 <{to}>: Recipient address rejected: Mailbox full (quota exceeded)"


@dataclass(order=True)
class _Pending:
    at: datetime
    order: int
    fate: Fate = field(compare=False)
    file: Path = field(compare=False)
    zone: str = field(compare=False)
    language: str = field(compare=False)


@dataclass
class Mailroom:
    world: DemoWorld
    sent: int = 0
    taken_in: Counter[str] = field(default_factory=Counter)  # by the kind the classifier read
    moods: Counter[str] = field(default_factory=Counter)  # replies by what the demo wrote
    misread: list[tuple[str, str, str]] = field(default_factory=list)  # (file, meant, read)
    effects: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, what it did)
    interested: list[tuple[str, datetime]] = field(default_factory=list)  # positive replies
    # (address, taken in at) not yet handed on to the account executive
    _last_message: int = 0
    _pending: list[_Pending] = field(default_factory=list)
    _queued: int = 0  # answers queued so far: keeps equal times in the order they came
    _contacted: set[str] = field(default_factory=set)
    _away: set[str] = field(default_factory=set)

    @property
    def inbox(self) -> Path:
        return self.world.options.out / "inbox"

    def harvest(self) -> int:
        """Read the emails sent since the last call; returns how many."""
        with self.world.app.sessions() as session:
            rows = session.execute(
                select(Message.id, Message.message_id, Message.to_address, Message.variant,
                       Message.sent_at, StepRun.step_id)
                .join(StepRun, StepRun.id == Message.step_run_id)
                .where(Message.id > self._last_message, Message.sent_at.is_not(None))
                .order_by(Message.id)).all()
        for row_id, message_id, to, variant, sent_at, step in rows:
            self._last_message = row_id
            assert sent_at is not None  # the query asks for sent ones
            person = self.world.people[to.lower()]
            sent = Sent(to.lower(), step, variant, sent_at, person.timezone, person.language,
                        first=to.lower() not in self._contacted,
                        was_away=to.lower() in self._away)
            self._contacted.add(sent.to)
            fate = fate_of(sent, seed=self.world.options.seed,
                            rates=self.world.options.rates)
            if fate is None:
                continue
            if fate.kind is AnswerKind.OUT_OF_OFFICE:
                self._away.add(sent.to)
            self._queued += 1
            heapq.heappush(self._pending, _Pending(
                fate.at, self._queued, fate,
                self.world.outbox / outbox_file_name(message_id), person.timezone,
                person.language))
        self.sent += len(rows)
        return len(rows)

    def next_at(self) -> datetime | None:
        return self._pending[0].at if self._pending else None

    def deliver(self) -> int:
        """Take in every answer due by now; returns how many."""
        now = self.world.clock.now()
        delivered = 0
        while self._pending and self._pending[0].at <= now:
            pending = heapq.heappop(self._pending)
            original = read_original(pending.file.read_bytes())
            raw = self._build(pending, original, now)
            if raw is None:
                continue
            name = f"{pending.fate.kind.value}-{pending.file.name}"
            self.inbox.mkdir(exist_ok=True)
            (self.inbox / name).write_bytes(raw)
            found = ingest(self.world.app, raw, source=f"demo inbox/{name}")
            self.taken_in[found.kind] += 1
            self.effects.update((found.kind, status) for _, status in found.enrollments)
            if found.suppressed:
                self.effects[found.kind, "suppressed"] += 1
            if pending.fate.mood:
                self.moods[pending.fate.mood] += 1
            if pending.fate.mood == "positive" and found.kind == "reply":
                self.interested.append((original.recipient.lower(), now))
            if found.kind != pending.fate.kind.value:
                self.misread.append((name, pending.fate.kind.value, found.kind))
            delivered += 1
        return delivered

    def _build(self, pending: _Pending, original: Original, now: datetime) -> bytes | None:
        fate, zone, language = pending.fate, pending.zone, pending.language
        match fate.kind:
            case AnswerKind.REPLY:
                return reply(original, fate.text, at=now, zone=zone, language=language)
            case AnswerKind.OUT_OF_OFFICE:
                assert fate.back is not None
                return out_of_office(original, fate.back, at=now, zone=zone, language=language)
            case AnswerKind.HARD_BOUNCE | AnswerKind.SOFT_BOUNCE:
                hard = fate.kind is AnswerKind.HARD_BOUNCE
                diagnostic = (HARD_DIAGNOSTIC if hard else SOFT_DIAGNOSTIC).format(
                    to=original.recipient)
                return bounce(original, status="5.1.1" if hard else "4.2.2",
                              diagnostic=diagnostic, at=now)
            case AnswerKind.UNSUBSCRIBE if fate.by_mailto:
                return unsubscribe_by_mailto(original, at=now, zone=zone)
            case AnswerKind.UNSUBSCRIBE:
                return reply(original, UNSUBSCRIBE[language], at=now, zone=zone,
                             language=language)
