"""The module ``dramatiq`` loads: set the broker up, then declare the actors."""

from __future__ import annotations

from sequencer.settings import Settings
from workers.broker import setup_broker

broker = setup_broker(Settings.from_env())

from workers import actors  # noqa: E402  (actors bind to the broker set up above)

execute_step = actors.execute_step
