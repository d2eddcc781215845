"""Reply-rate reporting: stated definitions, breakdowns with intervals, four formats.

What each figure means is written once, in ``docs/reporting.md``, and implemented
once, in ``query.py`` (one SQL statement per report, SQLAlchemy Core, the same on
SQLite and PostgreSQL). ``stats`` turns counts into rates with Wilson intervals,
``report`` runs a breakdown, ``formats`` and ``html`` show it, ``marks`` and
``rules`` say which replies were positive.

Other modules of this package (``funnel``, ``abtest``, ``learned``) are written
separately; nothing here imports them at import time.
"""

from __future__ import annotations

from sequencer.reporting.stats import MIN_BASE, Rate, wilson

__all__ = ["MIN_BASE", "Rate", "wilson"]
