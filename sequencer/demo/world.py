"""The demo's world: a fresh folder, store, mailboxes and enrollments on a fake clock.

The folder is the demo's own: a fresh ``sequencer.db`` and ``outbox/`` on every run,
never the user's ``./sequencer.db``. A folder that holds anything else and was not
made by the demo is refused rather than cleaned.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sequencer.clock import FakeClock
from sequencer.demo.fates import Rates
from sequencer.demo.people import DemoProspect, demo_prospects, write_csv
from sequencer.demo.sales import Chances
from sequencer.errors import InputError
from sequencer.services.app import App, bootstrap
from sequencer.services.enroll import EnrollSummary, enroll_csv
from sequencer.services.mailboxes import add_mailbox
from sequencer.settings import Settings
from sequencer.store.migrate import upgrade

DEMO_START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # a Monday: the same run every time
MARKER = ".sequencer-demo"  # says the folder is the demo's, so a rerun may empty it
DEMO_SECRET = "sequencer-demo-link-signing-key"  # links in a throwaway demo need no secret
# (address, display name, signature): the team whose mailboxes send the demo.
SENDERS: tuple[tuple[str, str], ...] = (
    ("ana@yourco.example", "Ana Ruiz"), ("ben@yourco.example", "Ben Okafor"),
    ("chloe@yourco.example", "Chloé Martin"),
)
DAILY_CAP = 150
POSTAL_ADDRESS = "Yourco Inc., 1 Example Street, Springfield"  # the footer some sequences ask


@dataclass(frozen=True, slots=True)
class DemoOptions:
    out: Path
    prospects: int = 300
    days: int = 28
    seed: int = 1
    sequences: Path = Path("sequences")
    templates: Path = Path("templates")
    start: datetime = DEMO_START
    rates: Rates = field(default_factory=Rates)  # how often prospects answer, and how
    chances: Chances = field(default_factory=Chances)  # where positive replies lead


@dataclass
class DemoWorld:
    options: DemoOptions
    app: App
    clock: FakeClock
    people: dict[str, DemoProspect]  # by lower-cased email
    enrolled: list[EnrollSummary] = field(default_factory=list)

    @property
    def database(self) -> Path:
        return self.options.out / "sequencer.db"

    @property
    def outbox(self) -> Path:
        return self.options.out / "outbox"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database.resolve()}"


def build_world(options: DemoOptions) -> DemoWorld:
    """Prepare the folder, create the store, register the senders, enroll everyone.

    Raises:
        InputError: ``out`` holds files the demo did not make, or a sequence is missing.
        DefinitionError: an example sequence has errors.
    """
    _fresh_folder(options.out)
    url = f"sqlite:///{(options.out / 'sequencer.db').resolve()}"
    upgrade(url)
    clock = FakeClock(options.start)
    settings = Settings(database_url=url, secret_keys=(DEMO_SECRET,),
                        postal_address=POSTAL_ADDRESS)
    app = bootstrap(settings, clock=clock, templates=options.templates)
    people = demo_prospects(options.prospects, options.seed)
    world = DemoWorld(options, app, clock, {p.email.lower(): p for p in people})
    transport = world.outbox.resolve().as_uri() + "?fsync=no"  # a throwaway run: no fsync
    for address, name in SENDERS:
        add_mailbox(app, address, transport=transport, daily_cap=DAILY_CAP, display_name=name,
                    signature=f"{name}, Yourco")
    for (sequence, sender), group in sorted(_groups(people).items()):
        path = options.sequences / f"{sequence}.yaml"
        if not path.exists():
            raise InputError(f"{path}: the demo runs the example sequences; it is missing")
        rows = write_csv(group, options.out / "prospects" / f"{sequence}.{sender}.csv",
                         options.seed)
        world.enrolled.append(enroll_csv(app, path, rows, mailbox=sender))
    return world


def _groups(people: list[DemoProspect]) -> dict[tuple[str, str], list[DemoProspect]]:
    """People by (sequence, sending mailbox): each sequence's list dealt to every sender."""
    groups: dict[tuple[str, str], list[DemoProspect]] = defaultdict(list)
    dealt: dict[str, int] = defaultdict(int)
    for person in people:
        sender = SENDERS[dealt[person.sequence] % len(SENDERS)][0]
        dealt[person.sequence] += 1
        groups[person.sequence, sender].append(person)
    return groups


def _fresh_folder(out: Path) -> None:
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise InputError(f"{out} exists and was not made by 'sequencer demo': choose another "
                         "folder with --out")
    if out.exists():
        shutil.rmtree(out)
    (out / "prospects").mkdir(parents=True)
    (out / MARKER).write_text("made by 'sequencer demo': emptied on every run\n", "utf-8")
