"""Between the engine's ``EnrollmentState`` and the ``enrollments`` row.

Scalar parts live in columns the scheduler and reports query; the rest (rounds,
variants, threads, facts) in one JSON column the engine alone reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sequencer.engine.state import EnrollmentState, Facts, Status, Thread
from sequencer.store.models import Enrollment


def wake_time(state: EnrollmentState) -> datetime | None:
    """When the scheduler must next look at the enrollment (None: only an event can move it)."""
    if state.status is Status.ACTIVE and state.waiting_on is None:
        return state.due_at
    if state.status is Status.PAUSED:
        return state.resume_at
    return None


def memory_of(state: EnrollmentState) -> dict[str, Any]:
    facts = state.facts
    return {
        "rounds": dict(state.rounds),
        "variants": dict(state.variants),
        "threads": {k: {"subject": t.subject, "message_ids": list(t.message_ids)}
                    for k, t in state.threads.items()},
        "facts": {
            "opened": sorted(facts.opened), "clicked": sorted(facts.clicked),
            "replied_steps": sorted(facts.replied_steps), "replied": facts.replied,
            "sent": sorted(facts.sent), "stage": facts.stage,
            "meeting_booked": facts.meeting_booked, "outcomes": dict(facts.outcomes),
        },
    }


def columns_of(state: EnrollmentState) -> dict[str, Any]:
    """Every column the state decides, for inserts and updates alike."""
    return {
        "status": state.status.value,
        "current_step": state.step,
        "due_at": state.due_at,
        "next_run_at": wake_time(state),
        "last_touch_at": state.last_touch_at,
        "waiting_on": state.waiting_on,
        "pause_reason": state.pause_reason,
        "resume_at": state.resume_at,
        "exit_reason": state.exit_reason,
        "soft_bounces": state.soft_bounces,
        "seed": state.seed,
        "timezone": state.timezone,
        "country": state.country,
        "started_at": state.started_at,
        "memory": memory_of(state),
    }


def write_state(row: Enrollment, state: EnrollmentState) -> None:
    for name, value in columns_of(state).items():
        setattr(row, name, value)


def read_state(row: Any) -> EnrollmentState:
    """The engine's state of an enrollment: an ``Enrollment`` or a Core row of the table."""
    memory = row.memory or {}
    raw = memory.get("facts", {})
    facts = Facts(
        opened=frozenset(raw.get("opened", ())), clicked=frozenset(raw.get("clicked", ())),
        replied_steps=frozenset(raw.get("replied_steps", ())), replied=raw.get("replied", False),
        sent=frozenset(raw.get("sent", ())), stage=raw.get("stage"),
        meeting_booked=raw.get("meeting_booked", False), outcomes=raw.get("outcomes", {}),
    )
    threads = {k: Thread(v["subject"], tuple(v["message_ids"]))
               for k, v in memory.get("threads", {}).items()}
    return EnrollmentState(
        status=Status(row.status), step=row.current_step, due_at=row.due_at,
        timezone=row.timezone, country=row.country, seed=row.seed, started_at=row.started_at,
        last_touch_at=row.last_touch_at, waiting_on=row.waiting_on,
        rounds=memory.get("rounds", {}), variants=memory.get("variants", {}), threads=threads,
        facts=facts, pause_reason=row.pause_reason, resume_at=row.resume_at,
        exit_reason=row.exit_reason, soft_bounces=row.soft_bounces,
    )
