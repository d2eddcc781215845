"""Declaring an A/B winner: a new version for new enrollments, nothing changed for the
running ones, and a sequence file that still validates (issue 5, point 3)."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from sequencer.cli.validate import validate_command
from sequencer.clock import FakeClock
from sequencer.errors import InputError
from sequencer.services.app import App
from sequencer.services.variants import declare_winner
from sequencer.store.models import Enrollment, Event, SequenceVersion
from tests.integration.abtest_store import (  # noqa: F401 (a fixture)
    ab_store_fixture,
    cold_copy,
    enroll,
    intros,
    send_intros,
)
from tests.integration.helpers import TEMPLATES

pytestmark = pytest.mark.integration


def test_new_enrollments_get_the_winner_and_running_ones_keep_version_and_variant(
        ab_store: tuple[App, FakeClock], tmp_path: Path) -> None:
    app, clock = ab_store
    sequence = cold_copy(tmp_path)
    enroll(app, sequence, tmp_path, "sent", 30)
    send_intros(app, clock)
    enroll(app, sequence, tmp_path, "waiting", 30)  # enrolled before, intro not sent yet
    before = intros(app)
    assert {v for v, _, _ in before.values()} == {"a", "b"}
    with app.sessions() as session:
        old_versions = dict(session.execute(select(Enrollment.id,
                                                   Enrollment.sequence_version_id)).all())

    declared = declare_winner(app, sequence, "intro", "b")

    assert declared.changed and declared.from_version != declared.to_version
    assert declared.weights_before == {"a": 50, "b": 50}
    enroll(app, sequence, tmp_path, "new", 30)
    send_intros(app, clock)
    after = intros(app)
    assert {email: after[email] for email in before} == before  # sent intros untouched
    early = {v for e, (v, _, _) in after.items() if e.startswith("waiting-")}
    late = {v for e, (v, _, _) in after.items() if e.startswith("new-")}
    assert early == {"a", "b"}  # pinned to the old version: its weights still apply
    assert late == {"b"}
    with app.sessions() as session:
        pinned = dict(session.execute(select(Enrollment.id,
                                             Enrollment.sequence_version_id)).all())
        new_version_id = session.scalars(select(SequenceVersion.id).where(
            SequenceVersion.version == declared.to_version)).one()
    assert all(pinned[i] == v for i, v in old_versions.items())
    assert {v for i, v in pinned.items() if i not in old_versions} == {new_version_id}


def test_the_declared_file_keeps_its_comments_and_still_validates(
        ab_store: tuple[App, FakeClock], tmp_path: Path) -> None:
    app, _ = ab_store
    sequence = cold_copy(tmp_path)
    original = sequence.read_text("utf-8")

    declare_winner(app, sequence, "intro", "a")

    text = sequence.read_text("utf-8")
    assert "# A 7-touch cold outbound cadence" in text
    assert "# used when a prospect has no time zone" in text
    assert "# A/B winner 'a' declared 2026-11-23" in text and "a: 50, b: 50" in text
    diff = [line for line in difflib.ndiff(original.splitlines(), text.splitlines())
            if line[:1] in "+-"]
    removed = [line[2:] for line in diff if line.startswith("-")]
    added = [line[2:] for line in diff if line.startswith("+")]
    assert [line.replace("weight: 50}", "") for line in removed] == [
        line.replace("weight: 100}", "").replace("weight: 0}", "") for line in added[1:]]
    assert added[0].strip().startswith("# A/B winner")
    assert "weight: 100}" in added[1] and "weight: 0}" in added[2]
    result = CliRunner().invoke(validate_command, [str(sequence), "--templates",
                                                   str(TEMPLATES)])
    assert result.exit_code == 0, result.output


def test_declaring_the_same_winner_again_changes_nothing(
        ab_store: tuple[App, FakeClock], tmp_path: Path) -> None:
    app, _ = ab_store
    sequence = cold_copy(tmp_path)
    first = declare_winner(app, sequence, "intro", "b")
    text = sequence.read_text("utf-8")

    again = declare_winner(app, sequence, "intro", "b")

    assert not again.changed
    assert again.to_version == first.to_version
    assert sequence.read_text("utf-8") == text
    with app.sessions() as session:
        events = session.scalars(select(Event).where(Event.kind == "ab_winner")).all()
    assert [e.payload["variant"] for e in events] == ["b"]


def test_a_published_sequence_can_be_named_instead_of_its_file(
        ab_store: tuple[App, FakeClock], tmp_path: Path) -> None:
    app, _ = ab_store
    sequence = cold_copy(tmp_path)
    enroll(app, sequence, tmp_path, "one", 1)

    declared = declare_winner(app, "cold-outbound", "intro", "b")

    assert declared.path == sequence and declared.changed


@pytest.mark.parametrize(("step", "variant", "message"), [
    ("intro", "c", "has no variant 'c' (its variants: a, b)"),
    ("bump", "a", "step 'bump' of cold-outbound has no variants to choose from"),
    ("outro", "a", "has no step 'outro'"),
])
def test_a_winner_that_cannot_be_is_refused_and_the_file_is_untouched(
        ab_store: tuple[App, FakeClock], tmp_path: Path, step: str, variant: str,
        message: str) -> None:
    app, _ = ab_store
    sequence = cold_copy(tmp_path)
    original = sequence.read_text("utf-8")
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        declare_winner(app, sequence, step, variant)
    assert sequence.read_text("utf-8") == original


def test_an_unknown_sequence_name_is_refused(ab_store: tuple[App, FakeClock]) -> None:
    app, _ = ab_store
    with pytest.raises(InputError, match="neither a sequence file nor the name"):
        declare_winner(app, "warm-inbound", "intro", "a")
