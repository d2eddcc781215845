"""The day a person says they are back, read from the text of an auto-reply.

Convention: the date returned is the **first day the person says they are available**.

* "back on 14 August", "returning 2026-01-05", "de retour le 3 mars", "ab dem 5. Januar
  wieder", "de vuelta el 7 de enero", "vanaf 13 januari weer", "rientrerò il 9
  gennaio" give that day;
* "until 14 August", "jusqu'au 3 mars inclus", "bis 14.08.", "hasta el 7 de enero",
  "até 10 de fevereiro", "tot en met 12 januari", "fino al 9 gennaio" give the day
  after; so do ranges ("July 10-31", "du 3 au 14 mars") and a single day of absence
  ("out of the office Friday");
* when the text says both, the most explicit wins: "back on" over "until" over an
  absence; between equals, the first in the text.

Dates: ISO (2026-01-05), numbers (14/08, 14.08., 14.8.2026: day first, as in Europe;
month first only when day first is impossible, when a weekday written next to it agrees
only with month first, when another date of the text is unambiguously month first, or,
in English, when only the month-first reading is near), month names in the seven
languages with or without a year, a weekday alone ("back Monday": the next one after
``received``), "tomorrow", "next week" (its Monday) and a bare day ("until the 3rd":
the next 3rd). A date without a year takes ``received``'s year, or the next one when
it would fall before ``received`` (a date up to ``STALE_DAYS`` before it is kept as is:
that is an auto-reply left on after the return, and the person is back already).
Without ``received`` only dates with a year are read. A date more than a year after
``received`` is absurd: None.

Only the text before any quoted history is read, at most ``MAX_CHARS`` of it, and each
date is searched in a short window after its keyword: the work is linear in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from sequencer.inbound.datewords import (
    MONTHS,
    NEXT_WEEK,
    TOMORROW,
    WEEKDAY_ABBREVIATIONS,
    WEEKDAYS,
    alternation,
)
from sequencer.inbound.replytext import strip_quoted
from sequencer.inbound.textfold import fold

MAX_CHARS = 6_000  # an out-of-office text says when in its first lines
WINDOW = 70  # characters after "back", "until"... in which their date is looked for
ABSENT_WINDOW = 28  # "out of the office Friday": the date follows closely
BACK_AFTER_WINDOW = 40  # "ab dem 5. Januar wieder": how far "wieder" may follow
STALE_DAYS = 14
MAX_DAYS_AHEAD = 366
PARAGRAPH = "\u2029"


class Role(Enum):
    """What a keyword says about the date after it."""

    ABSENT = "absent"  # away on that day: back the day after
    UNTIL = "until"  # away until that day, inclusive: back the day after
    FROM = "from"  # "ab", "vanaf", "a partir de": a return only with "wieder", "weer"... after
    BACK = "back"  # back on that day


# How explicit each reading is; the most explicit one in a text wins. A range counts
# as "until" and an accepted "from" as "back".
_STRENGTH = {Role.ABSENT: 1, Role.UNTIL: 2, Role.FROM: 3, Role.BACK: 3}


_KEYWORDS: tuple[tuple[Role, str, str], ...] = (
    (Role.BACK, "en", r"back|return(?:ing|s)?|in the office (?:on|from)"
                      r"|available (?:again )?(?:on|from)|reachable (?:again )?(?:on|from)"),
    (Role.BACK, "fr", r"de retour|retour|reviendrai|rentrerai|rentree"
                      r"|(?:de nouveau|a nouveau) (?:disponible|joignable|present|au bureau)"),
    (Role.BACK, "de", r"zuruck|wieder (?:im buro|erreichbar|da|verfugbar|im haus|am platz)"),
    (Role.BACK, "es", r"de vuelta|de regreso|regres(?:o|are|aremos)|volvere|me reincorporo"
                      r"|reincorporare|(?:de nuevo|nuevamente) (?:disponible|en la oficina)"),
    (Role.BACK, "pt", r"de volta|retorn(?:o|arei|aremos)|regress(?:o|arei)|voltarei"
                      r"|novamente disponivel"),
    (Role.BACK, "nl", r"terug|weer (?:aanwezig|bereikbaar|op kantoor|beschikbaar)"),
    (Role.BACK, "it", r"di ritorno|rientr(?:ero|o|ata|ato)|tornero|di nuovo (?:in ufficio"
                      r"|disponibile|raggiungibile)|nuovamente (?:in ufficio|disponibile)"),
    (Role.UNTIL, "en", r"until|till|til|through|thru|up to and including"),
    (Role.UNTIL, "fr", r"jusqu' ?(?:au|a|aux|le)"),
    (Role.UNTIL, "de", r"bis"),
    (Role.UNTIL, "es", r"hasta"),
    (Role.UNTIL, "pt", r"ate"),
    (Role.UNTIL, "nl", r"tot en met|t/m|tot"),
    (Role.UNTIL, "it", r"fino|sino"),
    (Role.ABSENT, "en", r"out of (?:the )?office|out|away|off|on (?:annual )?leave"
                        r"|on vacation|on holiday|absent|travell?ing"),
    (Role.ABSENT, "fr", r"absente?|en conges?|en vacances|en deplacement"),
    (Role.ABSENT, "de", r"abwesend|im urlaub|nicht im buro|ausser haus|auf dienstreise"),
    (Role.ABSENT, "es", r"ausente|de vacaciones|fuera de la oficina|de viaje"),
    (Role.ABSENT, "pt", r"ausente|de ferias|fora do escritorio|em viagem"),
    (Role.ABSENT, "nl", r"afwezig|op vakantie|met vakantie|niet op kantoor|niet aanwezig"),
    (Role.ABSENT, "it", r"assente|in ferie|in vacanza|fuori ufficio|fuori sede|in viaggio"),
    (Role.FROM, "en", r"from|as of|starting"),
    (Role.FROM, "fr", r"a partir du|a partir de|des le"),
    (Role.FROM, "de", r"ab dem|ab den|ab|am"),
    (Role.FROM, "es", r"a partir del|a partir de|desde el"),
    (Role.FROM, "pt", r"a partir do dia|a partir do|a partir de"),
    (Role.FROM, "nl", r"vanaf|op"),
    (Role.FROM, "it", r"a partire dal|a partire da|dal"),
)
_KEYWORD = re.compile("|".join(
    rf"(?P<k{index}>\b(?:{pattern})\b)" for index, (_, _, pattern) in enumerate(_KEYWORDS)))

_BACK_AFTER = re.compile(
    rf"(?P<between>[^.!?\u2029]{{0,{BACK_AFTER_WINDOW}}}?)\b(?:back|available|in the office"
    r"|reachable|de retour|disponible"
    r"|joignable|au bureau|wieder|zuruck|erreichbar|im buro|de vuelta|de regreso"
    r"|en la oficina|de volta|novamente|no escritorio|weer|terug|bereikbaar|aanwezig"
    r"|op kantoor|di nuovo|nuovamente|in ufficio|rientro|raggiungibile)\b"
)
_NOT_BACK = re.compile(
    r"\b(?:not|nicht|niet|pas|ne|no|non|nao|kein|and|und|et|y|e|en|ed|but|aber|mais|pero"
    r"|mas|maar|ma)\b"
)

_MONTH = alternation(MONTHS)
_WEEKDAY = alternation(WEEKDAYS)
_ANY_WEEKDAY = alternation({**WEEKDAYS, **WEEKDAY_ABBREVIATIONS})
_ORDINAL = r"(?:st|nd|rd|th|eme|er|e|o|a)?"
_TO = r"\s*(?:-|–|to|au|bis|al|a|tot|t/m)\s*(?:the\s+)?"


# After a bare day number: not a longer number, a time, a numeric or a named-month date.
_NOT_A_DAY_ALONE = (
    rf"(?!\d|:|/|[.-]\d|\.?\s*(?:of\s+|de\s+)?(?:{_MONTH})\b"
    r"|\s*(?:h\b|uhr|heures|horas|ore|uur|%))"
)


def _weekday_prefix(name: str) -> str:
    return rf"(?:(?P<{name}>{_ANY_WEEKDAY})\.?,?\s+(?:the\s+|le\s+|den\s+)?)?"


_DATE = re.compile(
    r"(?<![\w./-])(?:"
    r"(?P<iso_y>\d{4})[-/.](?P<iso_m>\d{1,2})[-/.](?P<iso_d>\d{1,2})(?!\d)"
    + "|" + _weekday_prefix("dm_wd")
    + rf"(?:(?P<dm_d1>\d{{1,2}}){_ORDINAL}\.?{_TO})?"
    rf"(?P<dm_d>\d{{1,2}}){_ORDINAL}\.?\s*(?:of\s+|de\s+)?(?P<dm_m>{_MONTH})\b\.?"
    r"(?:,?\s*(?:de\s+)?(?P<dm_y>\d{4})\b)?"
    + "|" + _weekday_prefix("md_wd")
    + rf"(?P<md_m>{_MONTH})\b\.?\s+(?:the\s+)?(?P<md_d>\d{{1,2}}){_ORDINAL}(?!\d)"
    rf"(?:\s*[-–]\s*(?P<md_d2>\d{{1,2}}){_ORDINAL}(?!\d))?(?:,?\s+(?P<md_y>\d{{4}})\b)?"
    + "|" + _weekday_prefix("num_wd")
    + r"(?P<num_a>\d{1,2})(?P<num_sep>[./-])(?P<num_b>\d{1,2})"
    r"(?:(?P=num_sep)(?P<num_y>\d{4}|\d{2}))?(?P<num_dot>\.)?(?![\d:])"
    r"(?!\s*(?:h\b|uhr|am\b|pm\b|%))"
    rf"|(?:(?:next|this|coming|prochain|proximo|proxima|volgende|prossimo|kommenden"
    rf"|nachsten)\s+)?(?P<wd>{_WEEKDAY})\b"
    rf"|(?P<tomorrow>{alternation(TOMORROW)})\b"
    rf"|(?P<next_week>{alternation(NEXT_WEEK)})\b"
    r"|the\s+(?P<day_en>\d{1,2})(?:st|nd|rd|th)\b" + _NOT_A_DAY_ALONE
    + r"|(?:le|au|am|zum|dem|el|dia|il|al|op de)\s+(?P<day>\d{1,2})(?:er|e|o)?"
    + _NOT_A_DAY_ALONE
    + r")"
)
_TIME_BEFORE = re.compile(r"\b(?:at|um|a las|as|alle|ore|om|vers|gegen)\s*$")
_RANGE_CONNECTOR = re.compile(
    r"\s*(?:-|–|to|au|bis|al|a|tot|t/m|till|until|through|thru)\s+")
_SLASH_DATE = re.compile(r"(?<![\w./-])(\d{1,2})/(\d{1,2})(?:/\d{2,4})?(?![\d/])")
_SENTENCE_END = re.compile(r"([a-z]+)[.!?](?:\s|$)|\u2029")
_ABBREVIATIONS = frozenset(MONTHS) | frozenset(WEEKDAY_ABBREVIATIONS) | {"st", "nd", "rd", "th"}


@dataclass(frozen=True, slots=True)
class _Found:
    """One date read after one keyword: when the person is back, how sure, where."""

    back: date
    strength: int
    position: int


def return_date(text: str, *, received: date | None = None) -> date | None:
    """The first day the person says they are available, or None when not stated.

    "back on 14 August" gives 14 August; "until 14 August" (and a range ending on it, or
    "out on 14 August") gives 15 August; when both are said, "back on" wins. See the
    module docstring for how dates without a year, weekdays and numbers are read.

    Parameters:
        text: the body of an auto-reply (quoted history after it is ignored). Pass the
            subject separately if the body says nothing: it often repeats the date.
        received: the day the message arrived, which dates without a year, weekdays
            and "tomorrow" are read against.

    Returns:
        A date within a year after ``received`` (or up to ``STALE_DAYS`` before it),
        or None.
    """
    prepared = _prepare(text)
    context = _Context(prepared, received)
    best: _Found | None = None
    for keyword in _KEYWORD.finditer(prepared):
        found = context.read(keyword)
        if found is not None and (best is None or found.strength > best.strength):
            best = found
    return best.back if best is not None else None


def _prepare(text: str) -> str:
    folded = fold(strip_quoted(text)[:MAX_CHARS])
    return re.sub(r"\n\s*\n", f" {PARAGRAPH} ", folded).replace("\n", " ")


class _Context:
    """The text being read, the day it arrived, and the day-or-month-first convention."""

    def __init__(self, text: str, received: date | None) -> None:
        self.text = text
        self.received = received
        self.month_first = _month_first_elsewhere(text)

    def read(self, keyword: re.Match[str]) -> _Found | None:
        """The return date the first date after ``keyword`` gives, if any."""
        role, language, _ = _KEYWORDS[int(str(keyword.lastgroup)[1:])]
        english = language == "en"
        limit = ABSENT_WINDOW if role is Role.ABSENT else WINDOW
        window_end = _clip(self.text, keyword.end(), keyword.end() + limit)
        for match in _DATE.finditer(self.text, keyword.end(), window_end):
            if self.is_time(match, keyword.end()):
                continue  # "back at 9.30 on Monday": the date is further on
            day = self.resolve(match, english=english)
            if day is None:
                return None
            return self.found(role, keyword, match, day, english=english)
        return None

    def found(self, role: Role, keyword: re.Match[str], match: re.Match[str], day: date,
              *, english: bool) -> _Found | None:
        end, ranged = self.range_end(match, day, english=english)
        if role is Role.FROM and not ranged:
            after = _BACK_AFTER.match(self.text, match.end())
            if after is None or _NOT_BACK.search(after.group("between")) or any(
                    char.isdigit() for char in after.group("between")):
                return None
        back = end if role in (Role.BACK, Role.FROM) and not ranged else end + timedelta(1)
        if not self.plausible(back):
            return None
        return _Found(back, _STRENGTH[Role.UNTIL if ranged else role], keyword.start())

    def is_time(self, match: re.Match[str], start: int) -> bool:
        """Whether a bare number is a time of day ("at 9.30", "um 10.15")."""
        if not (match.group("num_a") or match.group("day")):
            return False
        if match.group("num_a") and match.group("num_sep") == "." and not match.group("num_y"):
            second = int(match.group("num_b"))
            if second > 12 and not match.group("num_dot"):
                return True
        return _TIME_BEFORE.search(self.text, start, match.start()) is not None

    def range_end(self, match: re.Match[str], day: date, *, english: bool) -> tuple[date, bool]:
        """The last day of a range ("3-14 March", "from 3 March to 14 March"), or ``day``."""
        if match.group("dm_d1") or match.group("md_d2"):
            return day, True
        joined = _RANGE_CONNECTOR.match(self.text, match.end())
        if joined is None:
            return day, False
        second = _DATE.match(self.text, joined.end())
        if second is None:
            return day, False
        end = self.resolve(second, english=english)
        if end is None or end < day:
            return day, False
        return end, True

    def plausible(self, back: date) -> bool:
        if self.received is None:
            return True
        return (self.received - timedelta(STALE_DAYS) <= back
                <= self.received + timedelta(MAX_DAYS_AHEAD))

    def resolve(self, match: re.Match[str], *, english: bool) -> date | None:
        """The date ``match`` names, read against the day the text arrived."""
        group = match.group
        if group("iso_y"):
            return _make(int(group("iso_y")), int(group("iso_m")), int(group("iso_d")))
        if group("dm_m"):
            return self.calendar(int(group("dm_d")), MONTHS[group("dm_m")], group("dm_y"))
        if group("md_m"):
            day = group("md_d2") or group("md_d")
            return self.calendar(int(day), MONTHS[group("md_m")], group("md_y"))
        if group("num_a"):
            return self.numeric(match, english=english)
        return self.relative(match)

    def relative(self, match: re.Match[str]) -> date | None:
        received, group = self.received, match.group
        if received is None:
            return None
        if group("wd"):
            ahead = (WEEKDAYS[group("wd")] - received.weekday() - 1) % 7 + 1
            return received + timedelta(ahead)
        if group("tomorrow"):
            return received + timedelta(1)
        if group("next_week"):
            return received + timedelta(7 - received.weekday())
        day = int(group("day_en") or group("day"))
        for months_ahead in range(3):
            month = (received.month - 1 + months_ahead) % 12 + 1
            year = received.year + (received.month - 1 + months_ahead) // 12
            found = _make(year, month, day)
            if found is not None and found >= received:
                return found
        return None

    def numeric(self, match: re.Match[str], *, english: bool) -> date | None:
        """14/08, 14.08., 14.8.2026, 03/14: day first unless the context says otherwise."""
        group = match.group
        first, second, separator = int(group("num_a")), int(group("num_b")), group("num_sep")
        year = group("num_y")
        if separator == "-" and not year:
            return None  # "10-31" without a month name is a range of numbers, not a date
        if separator == "." and not year and not (group("num_dot") or len(group("num_b")) == 2):
            return None  # "3.5" is a number
        day_first = self.calendar(first, second, year)
        month_first = self.calendar(second, first, year) if separator == "/" else None
        if day_first is None or month_first is None or day_first == month_first:
            return day_first or month_first
        weekday = group("num_wd")
        if weekday:
            wanted = {**WEEKDAYS, **WEEKDAY_ABBREVIATIONS}[weekday]
            if month_first.weekday() == wanted != day_first.weekday():
                return month_first
            return day_first
        if self.month_first is not None:
            return month_first if self.month_first else day_first
        if english and self.received is not None:
            days = (day_first - self.received).days, (month_first - self.received).days
            if days[0] > 120 and 0 <= days[1] <= 60:
                return month_first
        return day_first

    def calendar(self, day: int, month: int, year: str | None) -> date | None:
        """``day``/``month`` in the stated year, or in the year ``received`` implies."""
        if year is not None:
            return _make(int(year) + (2000 if len(year) == 2 else 0), month, day)
        if self.received is None:
            return None
        found = _make(self.received.year, month, day)
        if found is None or found < self.received - timedelta(STALE_DAYS):
            found = _make(self.received.year + 1, month, day)
        return found


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _clip(text: str, start: int, end: int) -> int:
    """``end``, or the end of the sentence or paragraph that starts at ``start``."""
    for boundary in _SENTENCE_END.finditer(text, start, end):
        word = boundary.group(1)
        if word is None or word not in _ABBREVIATIONS:
            return boundary.start() if word is None else boundary.end(1)
    return min(end, len(text))


def _month_first_elsewhere(text: str) -> bool | None:
    """Whether the text writes an unambiguous numeric date month first (03/14), day
    first (14/03), or neither (None)."""
    for match in _SLASH_DATE.finditer(text):
        first, second = int(match.group(1)), int(match.group(2))
        if first <= 12 < second <= 31:
            return True
        if second <= 12 < first <= 31:
            return False
    return None
