"""Printing a simulation summary for people: rich tables, weeks as bars."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from rich.console import Console
from rich.table import Table

from sequencer.simulate.summary import Summary


def show_summary(console: Console, summary: Summary, *, title: str) -> None:
    console.print(f"[bold]{title}[/bold]")
    if not summary.touches:
        console.print("No touch landed in the simulated period.")
        return
    assert summary.first_touch is not None and summary.last_touch is not None
    console.print(
        f"{summary.touches:,} touches: {summary.emails:,} emails, {summary.tasks:,} rep tasks. "
        f"First {summary.first_touch:%Y-%m-%d %H:%M} UTC, last lands "
        f"[bold]{summary.last_touch:%Y-%m-%d %H:%M} UTC[/bold]."
    )
    console.print(f"Sent outside 08:00-18:00 in the prospect's local time: "
                  f"{summary.outside_business_hours:.2%}")
    console.print(_steps_table(summary))
    console.print(per_day_line(summary.per_day))
    console.print(_weeks_table(summary))
    console.print(_exits_line(summary))
    if any(m.daily_cap for m in summary.mailboxes):
        console.print(_capacity(summary))


def _steps_table(summary: Summary) -> Table:
    table = Table(title="Touches per step (days since enrollment)", title_justify="left")
    for name in ("step", "type", "touches", "nominal day", "median day", "p90 slip",
                 "max slip"):
        table.add_column(name, justify="left" if name in ("step", "type") else "right")
    for s in summary.steps:
        table.add_row(s.step, s.type, f"{s.touches:,}", f"{s.nominal_day:g}",
                      _num(s.median_day), _num(s.p90_slip_days), _num(s.max_slip_days))
    return table


SPARKS = "·▁▂▃▄▅▆▇█"  # a visible dot for an empty day, so that long runs fold cleanly


def per_day_line(per_day: dict[date, int]) -> str:
    """Touches per UTC day as one character a day, from the first day to the last."""
    first, last = min(per_day), max(per_day)
    peak = max(per_day.values())
    days = [per_day.get(first + timedelta(days=i), 0) for i in range((last - first).days + 1)]
    spark = "".join(SPARKS[0 if n == 0 else max(1, round(8 * n / peak))] for n in days)
    return (f"Touches per day, {first:%Y-%m-%d} to {last:%Y-%m-%d} (peak {peak:,}, "
            f"· = none):\n[cyan]{spark}[/cyan]")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _weeks_table(summary: Summary) -> Table:
    weeks: Counter[date] = Counter()
    for day, n in summary.per_day.items():
        weeks[day - timedelta(days=day.weekday())] += n
    table = Table(title="Touches per week (UTC, weeks starting Monday)", title_justify="left")
    table.add_column("week of")
    table.add_column("touches", justify="right")
    table.add_column("busiest day", justify="right")
    table.add_column("")
    peak = max(weeks.values())
    for week in sorted(weeks):
        days = {d: n for d, n in summary.per_day.items() if 0 <= (d - week).days < 7}
        busiest = max(days, key=lambda d: days[d])
        bar = "█" * max(1, round(30 * weeks[week] / peak))
        table.add_row(f"{week}", f"{weeks[week]:,}", f"{busiest:%a} {days[busiest]:,}", bar)
    return table


def _exits_line(summary: Summary) -> str:
    ended = ", ".join(f"{reason} {n:,}" for reason, n in
                      sorted(summary.exits.items(), key=lambda kv: -kv[1]))
    still = ", ".join(f"{status} {n:,}" for status, n in summary.still_open.items())
    line = f"Ended: {ended or 'none'}."
    if still:
        line += f" Still open at the end: {still}."
    if summary.replies or summary.auto_replies:
        line += (f" Simulated answers: {summary.replies:,} replies, "
                 f"{summary.auto_replies:,} out-of-office.")
    return line


def _capacity(summary: Summary) -> Table:
    table = Table(title="Capacity", title_justify="left")
    for name in ("mailbox", "daily cap", "emails", "days used", "days at cap", "deferred sends"):
        table.add_column(name, justify="left" if name == "mailbox" else "right")
    for m in summary.mailboxes:
        table.add_row(m.address, str(m.daily_cap or "∞"), f"{m.emails:,}", str(m.days_used),
                      str(m.days_capped), f"{m.deferrals:,}")
    needed = summary.mailbox_days_needed()
    if needed is not None:
        table.caption = (f"{summary.emails:,} emails need {needed:,} mailbox-days at full cap. "
                         + _capped_caption(summary))
    return table


def _capped_caption(summary: Summary) -> str:
    if not summary.capped_days:
        return "Caps never pushed a step back."
    days = sorted(summary.capped_days)
    listed = ", ".join(f"{d:%b %d} ({summary.capped_days[d]:,})" for d in days[:8])
    more = f" and {len(days) - 8} more" if len(days) > 8 else ""
    return f"Caps pushed steps back on {len(days)} day(s): {listed}{more}."
