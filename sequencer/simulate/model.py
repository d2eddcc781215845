"""The simulation's inputs: prospects, mailboxes and a model of prospect behaviour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SimProspect:
    id: str
    timezone: str
    country: str | None
    email: str = ""
    first_name: str = ""
    company: str = ""


@dataclass(frozen=True, slots=True)
class Mailbox:
    address: str
    daily_cap: int | None = None  # emails per UTC day; None: unlimited


@dataclass(frozen=True, slots=True)
class Behaviour:
    """Per-touch chances of what a prospect does; all zero means nobody answers.

    ``reply`` and ``auto_reply`` apply to each delivered email, ``bounce`` to the
    first email to a prospect (a dead address bounces at once).
    """

    reply: float = 0.0
    auto_reply: float = 0.0
    bounce: float = 0.0
    unsubscribe: float = 0.0
    call_connect: float = 0.15
    call_voicemail: float = 0.45
    call_wrong_number: float = 0.03

    @classmethod
    def typical(cls) -> Behaviour:
        """Rates of a typical cold campaign: 3% replies, 4% auto-replies, 2% bounces."""
        return cls(reply=0.03, auto_reply=0.04, bounce=0.02, unsubscribe=0.004)

    @property
    def is_silent(self) -> bool:
        return not (self.reply or self.auto_reply or self.bounce or self.unsubscribe)
