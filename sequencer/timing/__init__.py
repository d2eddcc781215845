"""Send-time rules, pure: windows in the prospect's local time, holidays, waits, jitter.

Imports only the standard library and ``sequencer.definition``. Local time
exists only inside this package; everything it returns is aware UTC.
"""

from sequencer.timing.calendar import NO_HOLIDAYS, HolidayCalendar
from sequencer.timing.sendtime import due_after_wait, next_send_time, timetable_for
from sequencer.timing.timetable import Timetable

__all__ = [
    "NO_HOLIDAYS",
    "HolidayCalendar",
    "Timetable",
    "due_after_wait",
    "next_send_time",
    "timetable_for",
]
