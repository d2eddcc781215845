"""The funnel's section of the HTML report, from the plain data of ``funnel.funnel``.

For a reader who never used the command line: the funnel drawn as bars (calls made,
connected, conversations, meetings, qualified, opportunities, won) with each
conversion in words, the rates by group with their intervals, how long prospects
stay in each stage, and the open pipeline. Every name and figure is escaped.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from sequencer.errors import InputError
from sequencer.reporting.charts import FunnelStage, funnel_chart
from sequencer.reporting.funnel import funnel
from sequencer.reporting.stats import TOO_SMALL, Rate
from sequencer.services.app import App

CALLS, PEOPLE = ("call", "calls"), ("person", "people")
RATES = (("dial_connect", "Calls that reached a person",
          "calls connected / calls made"),
         ("positive_reply", "Positive replies",
          "people who replied with interest / people delivered an email"),
         ("meeting_conversion", "Conversations that led to a meeting",
          "people with a meeting booked after their first conversation / people with a "
          "conversation (a connected call or a reply)"),
         ("sales_acceptance", "Meetings that became qualified",
          "people who reached {qualified} after their first meeting / people with a meeting"),
         ("close", "Opportunities won",
          "people who reached {won} / people who reached {opportunity}"))


def section(app: App, *, sequence: str | None, since: datetime | None) -> str:
    """The funnel of ``sequence`` (else every sequence's) since ``since``, by sequence;
    a lifecycle that cannot be read is said on the page rather than failing it."""
    try:
        data = funnel(app, sequence=sequence, since=since)
    except InputError as exc:
        return ('<h3>From calls to customers</h3><p class="warn">The funnel could not be '
                f"computed: {escape(str(exc))}</p>")
    return render_funnel(data)


def render_funnel(data: dict[str, Any]) -> str:
    """The section's HTML (headings from ``<h3>``)."""
    total, names = data["total"], data["lifecycle"]
    steps = {s["name"]: s["count"] for s in total["steps"]}
    calls = total["rates"]["dial_connect"]
    if not (calls["denominator"] or steps["conversations"] or steps["meetings"]
            or steps["qualified"] or total["pipeline"]["count"]
            or any(v["stays"] or v["current"] for v in total["velocity"])):
        return ('<h3>From calls to customers</h3><p class="empty">Nothing has been recorded '
                "after the emails yet: no calls, replies, meetings or stage changes, so there "
                "is no funnel to draw. Meetings and stages appear here once they are recorded "
                "(sequencer record meeting, sequencer record stage).</p>")
    return "".join((
        "<h3>From calls to customers</h3>",
        "<p>Each bar counts calls, or people, who got that far. Next to each bar: how many "
        "of the stage before made it (the rates below, with their intervals).</p>",
        funnel_chart("The sales funnel", _stages(total, names)),
        "<h3>The rates, by " + escape(_by(data)) + "</h3>",
        _rates_table(data),
        "<h3>How long prospects stay in each stage</h3>",
        "<p>The median number of days between entering a stage and the next stage change; "
        "in brackets, how many stays were measured and how many people are in the stage "
        "now.</p>",
        _velocity_table(data),
        "<h3>Open pipeline</h3>",
        f"<p>People at {escape(names['qualified'])} or further, not yet won and not lost, "
        "and the sum of their deals' latest values (currencies are never added "
        "together).</p>",
        _pipeline_table(data),
    ))


def _by(data: dict[str, Any]) -> str:
    return "sequence" if data["by"] == "sequence" else "prospect source"


def _stages(total: dict[str, Any], names: dict[str, Any]) -> list[FunnelStage]:
    steps = {s["name"]: s["count"] for s in total["steps"]}
    rates = total["rates"]
    calls = rates["dial_connect"]
    return [
        FunnelStage("Calls made", calls["denominator"], CALLS),
        FunnelStage("Calls connected", calls["numerator"], CALLS,
                    _note(calls, "of calls reached a person")),
        FunnelStage("Conversations", steps["conversations"], PEOPLE,
                    "a connected call or a reply"),
        FunnelStage("Meetings booked", steps["meetings"], PEOPLE,
                    _note(rates["meeting_conversion"], "of conversations led to one")),
        FunnelStage(f"Reached {names['qualified']}", steps["qualified"], PEOPLE,
                    _note(rates["sales_acceptance"], "of meetings got this far")),
        FunnelStage(f"Reached {names['opportunity']}", steps["opportunities"],
                    PEOPLE),
        FunnelStage(f"Won ({names['won']})", steps["won"], PEOPLE,
                    _note(rates["close"], "of opportunities won")),
    ]


def _note(rate: dict[str, Any], words: str) -> str:
    """``50.0% of calls reached a person (2 of 4)``, flagged when the base is small."""
    if not rate["denominator"]:
        return ""
    share = f"{rate['rate'] * 100:.1f}% {words} ({rate['numerator']:,} of " \
            f"{rate['denominator']:,})"
    return f"{share}, {TOO_SMALL}" if rate["too_small"] else share


def _rate_cell(rate: dict[str, Any]) -> str:
    if not rate["denominator"]:
        return "–"
    return Rate(rate["numerator"], rate["denominator"]).text()


def _rates_table(data: dict[str, Any]) -> str:
    names = data["lifecycle"]
    head = f'<th scope="col" class="key">{escape(_by(data))}</th>' + "".join(
        f'<th scope="col" title="{escape(meaning.format(**names))}">{escape(title)}</th>'
        for _, title, meaning in RATES)
    rows = "".join(_rate_row(group) for group in data["groups"])
    rows += _rate_row(data["total"], css="total")
    meanings = "".join(f"<dt>{escape(title)}</dt><dd>{escape(meaning.format(**names))}</dd>"
                       for _, title, meaning in RATES)
    return (f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
            f"<details><summary>What each rate counts</summary><dl>{meanings}</dl></details>")


def _rate_row(group: dict[str, Any], css: str = "") -> str:
    cells = f'<td class="key">{escape(group["group"])}</td>' + "".join(
        f"<td>{escape(_rate_cell(group['rates'][key]))}</td>" for key, _, _ in RATES)
    return f'<tr class="{css}">{cells}</tr>' if css else f"<tr>{cells}</tr>"


def _velocity_table(data: dict[str, Any]) -> str:
    groups = [*data["groups"], data["total"]]
    head = '<th scope="col" class="key">stage</th>' + "".join(
        f'<th scope="col">{escape(g["group"])}</th>' for g in groups)
    rows = []
    for index, row in enumerate(data["total"]["velocity"]):
        cells = "".join(f"<td>{escape(_stay(g['velocity'][index]))}</td>" for g in groups)
        rows.append(f'<tr><td class="key">{escape(row["stage"])}</td>{cells}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _stay(row: dict[str, Any]) -> str:
    days = "–" if row["median_days"] is None else f"{row['median_days']:.1f} days"
    return f"{days} ({row['stays']} measured; {row['current']} now)"


def _pipeline_table(data: dict[str, Any]) -> str:
    head = (f'<th scope="col" class="key">{escape(_by(data))}</th><th scope="col">open deals'
            '</th><th scope="col">with a value</th><th scope="col">value</th>')
    rows = "".join(_pipeline_row(g) for g in data["groups"])
    rows += _pipeline_row(data["total"], css="total")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _pipeline_row(group: dict[str, Any], css: str = "") -> str:
    pipeline = group["pipeline"]
    value = ", ".join(f"{amount:,.0f} {currency}" for currency, amount
                      in pipeline["value"].items()) or "–"
    cells = (f'<td class="key">{escape(group["group"])}</td><td>{pipeline["count"]:,}</td>'
             f"<td>{pipeline['valued']:,}</td><td>{escape(value)}</td>")
    return f'<tr class="{css}">{cells}</tr>' if css else f"<tr>{cells}</tr>"
