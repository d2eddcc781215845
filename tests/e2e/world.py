"""A rep's day in a real store, for the web app's tests: rita owns a mailbox in New
York, three prospects are enrolled in a sequence whose first step is a call due at
once, and the scheduler has made the call tasks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sequencer.clock import FakeClock
from sequencer.runtime.embedded import run_once
from sequencer.services.api_tokens import create_token
from sequencer.services.app import App
from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from sequencer.services.task_queue import rep_day
from tests.integration.helpers import ROOT, make_app, write_csv

CALL_FIRST = ROOT / "tests" / "fixtures" / "web" / "call-first.yaml"
SENDER = "rita@ourco.example"
HEADER = "email,first_name,last_name,company,phone,timezone,country"
PEOPLE = ("ana@acme.example,Ana,Ruiz,Acme,+1 212 555 0101,America/New_York,US",
          "bo@globex.example,Bo,Chen,Globex,+1 415 555 0102,America/Los_Angeles,US",
          "cy@initech.example,Cy,<b>Evil</b>,Initech,+44 20 5555 0103,Europe/London,GB")


@dataclass
class World:
    app: App
    clock: FakeClock
    write_token: str
    read_token: str
    task_ids: list[int]


def build_world(database_url: str, folder: Path, *, with_tasks: bool = True) -> World:
    app, clock = make_app(database_url)
    _, write = create_token(app, "rita's laptop", scope="write", owner="rita")
    _, read = create_token(app, "rita's tablet", scope="read", owner="rita")
    if with_tasks:
        add_mailbox(app, SENDER, transport=f"file://{folder / 'outbox'}", daily_cap=40,
                    owner="rita", timezone="America/New_York")
        enroll_csv(app, CALL_FIRST, write_csv(folder / "people.csv", HEADER, *PEOPLE),
                   mailbox=SENDER)
        run_once(app)
    tasks = [t.id for t in rep_day(app, "rita")] if with_tasks else []
    return World(app, clock, write, read, tasks)
