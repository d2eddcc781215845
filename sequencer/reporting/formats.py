"""A report as a terminal table, JSON or CSV (the HTML page is ``html.py``).

Every format carries each rate with its numerator, its denominator and its 95%
Wilson interval, and says "too small a base" under the minimum; JSON and CSV
carry the counts so that anyone can recompute the rates.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from sequencer.reporting.dimensions import heading, label
from sequencer.reporting.report import Figures, Report
from sequencer.reporting.stats import TOO_SMALL, Rate

DEFINITIONS = {
    "delivered": "emails sent minus emails bounced (a hard bounce, soft bounce or block "
                 "matched to the email after its last send; delay warnings are not bounces)",
    "reply_rate": "prospects who replied (events of kind 'reply' only) / prospects "
                  "delivered at least one email in the slice; a reply belongs to the email it "
                  "answers, else to the last email delivered to the prospect before it",
    "positive_reply_rate": "prospects with a reply marked positive (by a rep, else by the "
                           "phrase rules) / the same base",
    "bounce_rate": "emails bounced / emails sent",
    "unsubscribe_rate": "prospects who unsubscribed, attributed like replies / the same base",
    "meeting_rate": "prospects with a meeting booked, attributed like replies / the same base",
    "open_rate": "UNRELIABLE (image proxies open every email, privacy features block the "
                 "pixel): prospects with an open / prospects delivered an email from a "
                 "sequence that tracks opens",
    "click_rate": "prospects with a click / prospects delivered an email from a sequence "
                  "that tracks clicks; also inflated by link scanners",
    "median_hours_to_first_reply": "median, over the slice's emails that were replied to, "
                                   "of the hours from the email to its first reply",
    "base": "a prospect with emails in two slices (two variants, two steps) counts in each",
}
RATE_COLUMNS = ("reply", "positive_reply", "negative_reply", "bounce", "unsubscribe",
                "meeting", "open", "click")
COUNT_COLUMNS = ("emails_sent", "emails_bounced", "emails_delivered", "prospects_sent",
                 "prospects_delivered", "replied", "positive", "negative", "unsubscribed",
                 "meetings", "open_base", "opened", "click_base", "clicked")


def to_json(report: Report) -> str:
    return json.dumps(as_json(report), indent=2, ensure_ascii=False) + "\n"


def as_json(report: Report) -> dict[str, Any]:
    return {
        "generated_at": report.generated_at.isoformat(),
        "filters": {"sequence": report.sequence,
                    "since": report.since.isoformat() if report.since else None},
        "by": list(report.by), "keys": list(report.keys), "minimum_base": report.minimum,
        "reply_rules": report.rules_source, "tracking": report.tracking,
        "definitions": DEFINITIONS,
        "rows": [{"key": {k: _plain(v) for k, v in s.key.items()},
                  **_figures_json(s.figures)} for s in report.rows],
        "total": _figures_json(report.total),
    }


def _figures_json(figures: Figures) -> dict[str, Any]:
    rates = figures.rates()
    return {"counts": {name: getattr(figures, name) for name in COUNT_COLUMNS},
            "rates": {name: None if rate is None else rate.as_json()
                      for name, rate in rates.items()},
            "median_hours_to_first_reply": (None if figures.median_hours_to_reply is None
                                            else round(figures.median_hours_to_reply, 2))}


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    rate_headers = [f"{name}_{part}" for name in RATE_COLUMNS
                    for part in ("rate", "ci95_low", "ci95_high", "too_small")]
    writer.writerow(["row", *report.keys, *COUNT_COLUMNS, *rate_headers,
                     "median_hours_to_first_reply"])
    for s in report.rows:
        writer.writerow(["slice", *(_plain(s.key[k]) for k in report.keys),
                         *_csv_figures(s.figures)])
    writer.writerow(["total", *("" for _ in report.keys), *_csv_figures(report.total)])
    return out.getvalue()


def _csv_figures(figures: Figures) -> list[Any]:
    values: list[Any] = [getattr(figures, name) for name in COUNT_COLUMNS]
    for rate in figures.rates().values():
        if rate is None:
            values += ["", "", "", ""]
            continue
        low, high = rate.interval
        values += ["" if rate.value is None else f"{rate.value:.6f}", f"{low:.6f}",
                   f"{high:.6f}", "yes" if rate.too_small else "no"]
    values.append(_hours(figures.median_hours_to_reply) or "")
    return values


def print_table(report: Report, console: Console) -> None:
    table = Table(title=_title(report), title_justify="left", show_footer=False)
    for key in report.keys:
        table.add_column(heading(key))
    for name in ("reached", "replied", "reply rate [95% CI]", "positive", "bounce",
                 "unsubscribe", "meetings", "open*", "median h"):
        table.add_column(name, justify="right", no_wrap=True)
    for s in report.rows:
        table.add_row(*(label(k, s.key[k]) for k in report.keys), *_cells(s.figures))
    table.add_section()
    table.add_row(*(["all"] + [""] * (len(report.keys) - 1) if report.keys else []),
                  *_cells(report.total), style="bold")
    console.print(table)
    console.print(_caption(report), highlight=False)


def _cells(f: Figures) -> list[str]:
    return [str(f.prospects_delivered), str(f.replied), short(f.reply_rate),
            short(f.positive_rate), short(f.bounce_rate), short(f.unsubscribe_rate),
            str(f.meetings), short(f.open_rate), _hours(f.median_hours_to_reply) or "–"]


def short(rate: Rate | None) -> str:
    """``12.5% [9.1–16.8]``; "too small a base (n=12)"; "–" when not tracked."""
    if rate is None:
        return "–"
    if rate.too_small:
        return f"{TOO_SMALL} (n={rate.denominator})"
    low, high = rate.interval
    value = rate.value or 0.0
    return f"{value * 100:.1f}% [{low * 100:.1f}–{high * 100:.1f}]"


def _title(report: Report) -> str:
    scope = f"sequence {report.sequence}" if report.sequence else "all sequences"
    since = f", emails sent since {report.since:%Y-%m-%d}" if report.since else ""
    by = " × ".join(report.by) or "total"
    return f"Reply rates by {by}: {scope}{since}"


def _caption(report: Report) -> str:
    return ("reached: prospects delivered at least one email in the row. Rates are of "
            "them (bounce: of emails sent), with 95% Wilson intervals; under "
            f"{report.minimum} in a base: '{TOO_SMALL}'. A prospect with emails in two rows "
            "counts in each. *Opens are unreliable (image proxies, privacy features) and "
            "shown only for sequences that track them. Definitions: docs/reporting.md.")


def _hours(value: float | None) -> str | None:
    return None if value is None else f"{value:.1f}"


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, int | float | str) else str(value)
