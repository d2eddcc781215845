"""explain: the answer to "why didn't this send?" in each situation a rep asks about."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from sequencer.engine import events as ev
from sequencer.errors import InputError
from sequencer.runtime.embedded import next_wake, run_once
from sequencer.services.actions import act_on, list_tasks
from sequencer.services.enroll import enroll_csv
from sequencer.services.explain import explain
from sequencer.services.mailboxes import add_mailbox
from sequencer.store.models import Suppression
from tests.integration.helpers import COLD, MONDAY, make_app, write_csv

pytestmark = pytest.mark.integration


def why(app: object, email: str = "ann@acme.example") -> str:
    return str(explain(app, email)[0]["why"])  # type: ignore[arg-type]


def test_explain_follows_one_prospect_through_waits_tasks_pauses_and_exits(
    database_url: str, tmp_path: Path
) -> None:
    app, clock = make_app(database_url)
    add_mailbox(app, "ana@sender.example", transport=f"file://{tmp_path}/out", daily_cap=50)
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", "email,timezone",
                                    "ann@acme.example,America/New_York"),
               mailbox="ana@sender.example")
    first = why(app)
    assert first.startswith("waiting: due at Mon 2026-11-23 08:") and "America/New_York" in first
    assert "mailbox ana@sender.example has sent 0/50 today" in first
    wake = next_wake(app)
    assert wake is not None
    clock.set(wake)
    run_once(app)  # the intro goes out
    assert "call-1 (call)" in str(explain(app, "ann@acme.example")[0]["next_step"])
    clock.set(MONDAY + timedelta(days=4, hours=2))  # Friday 09:00 in New York
    run_once(app)  # the call task (due Wednesday) is handed to the rep
    task = list_tasks(app)[0]
    assert why(app).startswith(f"waiting on the rep: call task {task.id} for step call-1")
    act_on(app, "ann@acme.example", ev.PauseRequested("negotiating with legal"))
    assert why(app).startswith("paused: negotiating with legal, until someone resumes it")
    with app.sessions.begin() as session:
        session.add(Suppression(kind="domain", value="acme.example", reason="competitor",
                                created_at=MONDAY))
    act_on(app, "ann@acme.example", ev.ExitRequested("moved to a partner"))
    assert why(app).startswith("exited: moved to a partner")
    history = explain(app, "ann@acme.example")[0]["history"]
    assert any(line.startswith("intro round 1: sent at Mon 2026-11-23") for line in history)  # type: ignore[attr-defined]
    with pytest.raises(InputError, match="no enrollment"):
        explain(app, "nobody@nowhere.example")
    app.close()
