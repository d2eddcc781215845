"""Cross-sequence limits: one active sequence, re-enrollment policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sequencer.definition.model import Definition
from sequencer.engine.eligibility import PastEnrollment, may_enroll
from sequencer.engine.state import Status
from tests.unit.engine_helpers import definition

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


def seq(limits: str) -> Definition:
    return definition(f"name: cold\nlimits: {limits}\nsteps: [{{id: a, type: task}}]\n")


def test_a_new_prospect_may_be_enrolled() -> None:
    assert may_enroll(seq("{}"), [], now=NOW).allowed


def test_a_prospect_active_in_the_same_sequence_is_refused_whatever_the_limits() -> None:
    history = [PastEnrollment("cold", Status.PAUSED, NOW - timedelta(days=3))]
    verdict = may_enroll(seq("{one_active_sequence: false, reenroll: always}"),
                         history, now=NOW)
    assert (verdict.allowed, verdict.code) == (False, "already_active")


def test_one_active_sequence_refuses_a_prospect_active_elsewhere_unless_allowed() -> None:
    history = [PastEnrollment("nurture", Status.ACTIVE, NOW - timedelta(days=30))]
    refused = may_enroll(seq("{one_active_sequence: true}"), history, now=NOW)
    assert refused.code == "active_elsewhere" and "nurture" in refused.reason
    assert may_enroll(seq("{one_active_sequence: false}"), history, now=NOW).allowed


def test_reenrollment_follows_the_policy() -> None:
    ended = NOW - timedelta(days=60)
    history = [PastEnrollment("cold", Status.EXITED, ended - timedelta(days=20), ended)]
    assert may_enroll(seq("{reenroll: never}"), history, now=NOW).code == "reenroll_never"
    assert may_enroll(seq("{reenroll: always}"), history, now=NOW).allowed
    too_soon = may_enroll(seq("{reenroll: after 90 days}"), history, now=NOW)
    assert too_soon.code == "reenroll_too_soon" and "2027-03-31" in too_soon.reason
    later = NOW + timedelta(days=31)
    assert may_enroll(seq("{reenroll: after 90 days}"), history, now=later).allowed
