"""The pure sequence engine.

``advance(definition, state, event, *, now) -> Decision`` decides everything;
``start`` enrolls. No database, broker, network or wall clock in here.
"""

from sequencer.engine import actions, events
from sequencer.engine.actions import Decision
from sequencer.engine.advance import advance, start
from sequencer.engine.state import TRANSITIONS, EnrollmentState, Facts, Status, Thread

__all__ = [
    "TRANSITIONS",
    "Decision",
    "EnrollmentState",
    "Facts",
    "Status",
    "Thread",
    "actions",
    "advance",
    "events",
    "start",
]
