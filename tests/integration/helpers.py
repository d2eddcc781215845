"""Building an App on a test database with a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sequencer.clock import FakeClock
from sequencer.services.app import App, bootstrap
from sequencer.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
COLD = ROOT / "sequences" / "cold-outbound.yaml"
MONDAY = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 07:00 in New York


def make_app(database_url: str, start: datetime = MONDAY) -> tuple[App, FakeClock]:
    clock = FakeClock(start)
    app = bootstrap(Settings(database_url=database_url), clock=clock, templates=TEMPLATES)
    return app, clock


def write_csv(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", "utf-8")
    return path
