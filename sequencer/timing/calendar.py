"""Holiday calendars as a port: the core asks, an adapter (``sequencer.calendars``) answers."""

from __future__ import annotations

from datetime import date
from typing import Protocol


class HolidayCalendar(Protocol):
    def is_holiday(self, country: str, day: date) -> bool:
        """True when ``day`` is a public holiday in ``country`` (ISO 3166 alpha-2)."""
        ...


class _NoHolidays:
    def is_holiday(self, country: str, day: date) -> bool:
        return False

    def __repr__(self) -> str:
        return "NO_HOLIDAYS"


NO_HOLIDAYS: HolidayCalendar = _NoHolidays()
