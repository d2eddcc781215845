"""The composition root: settings, database, clock and calendar, built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sequencer.calendars import PUBLIC_HOLIDAYS
from sequencer.clock import Clock, SystemClock
from sequencer.definition.model import Definition
from sequencer.services.learned_cache import LearnedWindowsCache
from sequencer.settings import Settings
from sequencer.store.db import make_engine, make_sessions
from sequencer.timing.calendar import HolidayCalendar


@dataclass
class App:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    calendar: HolidayCalendar
    templates: Path
    definitions: dict[int, Definition] = field(default_factory=dict)  # by sequence version id
    learned_windows: LearnedWindowsCache = field(default_factory=LearnedWindowsCache)

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None,
              templates: Path | None = None) -> App:
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)
    return App(settings, engine, make_sessions(engine), clock or SystemClock(), PUBLIC_HOLIDAYS,
               templates or Path("templates"))
