"""The holiday calendar adapter: the ``holidays`` package behind the core's ``HolidayCalendar``."""

from __future__ import annotations

from datetime import date
from functools import cache

import holidays


class PublicHolidays:
    """Public holidays by ISO country code, cached per (country, year)."""

    def __init__(self) -> None:
        self._years: dict[tuple[str, int], frozenset[date]] = {}

    def is_holiday(self, country: str, day: date) -> bool:
        key = (country, day.year)
        found = self._years.get(key)
        if found is None:
            found = self._years[key] = self._load(country, day.year)
        return day in found

    @staticmethod
    def _load(country: str, year: int) -> frozenset[date]:
        try:
            calendar = holidays.country_holidays(country, years=year)
        except NotImplementedError:
            return frozenset()  # an unknown country has no holidays; validate reports it
        return frozenset(calendar.keys())

    def __repr__(self) -> str:
        return "PublicHolidays()"


PUBLIC_HOLIDAYS = PublicHolidays()


@cache
def supported_countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


def country_exists(code: str) -> bool:
    return code.upper() in supported_countries()
