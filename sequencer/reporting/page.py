"""What the HTML report shows, gathered in one place: the reports it needs and the
sections other modules add.

``page_reports`` runs the breakdowns the page draws (total; sequence × step;
sequence × step × variant; local weekday × hour, weekday, hour; week by week; and
the reader's own ``--by``). Sections written elsewhere (the funnel, the A/B verdicts) join the page
through ``extra_sections``: a module that defines ``html_section(app, *, sequence,
since) -> str`` (an HTML fragment, headings from ``<h3>`` down, no script) is called
once, and its fragment is placed under its own ``<h2>``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sequencer.reporting.report import Report, build_report
from sequencer.reporting.rules import Rules, load_rules
from sequencer.services.app import App

# (heading, module, anchor): the sections other engineers own, in page order.
OPTIONAL_SECTIONS = (("Funnel", "sequencer.reporting.funnel", "funnel"),
                     ("A/B tests: verdicts", "sequencer.reporting.abtest", "abtests"))
HOOK = "html_section"


@dataclass(frozen=True, slots=True)
class Section:
    """A titled HTML fragment placed on the page as it is (trusted: our own modules)."""

    title: str
    html: str
    anchor: str


@dataclass(frozen=True, slots=True)
class Page:
    total: Report
    steps: Report
    variants: Report
    heat: Report
    weekdays: Report
    hours: Report
    weeks: Report
    chosen: Report | None = None
    sections: tuple[Section, ...] = field(default_factory=tuple)


def page_reports(app: App, *, sequence: str | None = None, since: datetime | None = None,
                 rules: Rules | None = None, by: Iterable[str] = ()) -> Page:
    """Every breakdown the page shows, and the optional sections."""
    rules = rules or load_rules()
    options: dict[str, Any] = {"sequence": sequence, "since": since, "now": app.clock.now(),
                               "rules": rules}
    with app.engine.connect() as connection:
        total = build_report(connection, (), **options)
        options["with_total"], options["refresh_rollup"] = False, False

        def breakdown(*dims: str) -> Report:
            return build_report(connection, dims, **options)

        chosen = tuple(by)
        return Page(total, breakdown("step"), breakdown("variant"),
                    breakdown("weekday", "hour"), breakdown("weekday"), breakdown("hour"),
                    breakdown("week"),
                    breakdown(*chosen) if chosen else None,
                    extra_sections(app, sequence=sequence, since=since))


def extra_sections(app: App, *, sequence: str | None,
                   since: datetime | None) -> tuple[Section, ...]:
    """The sections of ``OPTIONAL_SECTIONS`` whose module exists and has the hook."""
    found = []
    for title, module_name, anchor in OPTIONAL_SECTIONS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        hook = getattr(module, HOOK, None)
        if callable(hook):
            found.append(Section(title, str(hook(app, sequence=sequence, since=since)), anchor))
    return tuple(found)
