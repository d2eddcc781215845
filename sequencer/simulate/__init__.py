"""``sequencer simulate``: the real engine and timing on a virtual clock.

Synthetic (or CSV) prospects, an optional model of replies, bounces and
out-of-office answers, simulated reps who work their tasks on time, and mailbox
daily caps, so that a sequence can be previewed and capacity planned before a
single email leaves.
"""

from sequencer.simulate.model import Behaviour, Mailbox, SimProspect
from sequencer.simulate.runner import SimulationResult, Touch, simulate

__all__ = ["Behaviour", "Mailbox", "SimProspect", "SimulationResult", "Touch", "simulate"]
