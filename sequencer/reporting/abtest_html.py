"""The A/B verdicts' section of the HTML report, from the plain data of
``abtest.ab_verdicts``.

For each sequence with a step that has variants (only the page's sequence when it
has one), a table per step: each variant with the people it reached, its reply and
positive reply rates with their 95% intervals and its chance of being best, then the
verdict in words. Every name and figure is escaped.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from sqlalchemy import select

from sequencer.errors import DefinitionError, InputError
from sequencer.reporting.abtest import METRIC_WORDS, ab_verdicts, chance_words
from sequencer.services.app import App
from sequencer.store.models import SequenceVersion

COLUMNS = ("people reached", "reply rate", "positive reply rate")


def section(app: App, *, sequence: str | None, since: datetime | None) -> str:
    """Every A/B test of ``sequence`` (else of every published sequence)."""
    names = [sequence] if sequence else _sequences(app)
    parts = []
    for name in names:
        try:
            verdicts = ab_verdicts(app, name)
        except (InputError, DefinitionError) as exc:  # e.g. run where its templates are not
            parts.append(f'<h3>{escape(name)}</h3><p class="warn">Its A/B tests could not be '
                         f"read: {escape(str(exc))}</p>")
            continue
        if verdicts["steps"]:
            parts.append(render_verdicts(verdicts))
    if not parts:
        scope = f"{escape(sequence)} has no" if sequence else "No sequence has a"
        return (f'<h3>No A/B tests</h3><p class="empty">{scope} step with variants yet, '
                "so there is nothing to compare.</p>")
    intro = ("<p>Where a step has several variants, each person gets one of them. A variant "
             "wins only when its lead is very unlikely to be chance (a statistical test, "
             "adjusted when several variants are compared); until then the verdict says how "
             "many more people each variant needs to reach.")
    if since is not None:
        intro += (" These verdicts count every email of each test, whatever the date the "
                  "rest of the page starts from.")
    return "<h3>How A/B tests are judged</h3>" + intro + "</p>" + "".join(parts)


def _sequences(app: App) -> list[str]:
    with app.sessions() as session:
        return sorted(set(session.scalars(select(SequenceVersion.name))))


def render_verdicts(verdicts: dict[str, Any]) -> str:
    """One sequence's steps with variants: a heading, then a table and verdict per step."""
    parts = [f"<h3>{escape(verdicts['sequence'])}</h3>"]
    for step in verdicts["steps"]:
        parts.append(_step(step))
    return "".join(parts)


def _step(step: dict[str, Any]) -> str:
    metric, chances = _chances(step)
    head = '<th scope="col" class="key">variant</th>' + "".join(
        f'<th scope="col">{escape(h)}</th>' for h in (
            *COLUMNS, f"chance of being best on {METRIC_WORDS.get(metric, metric)}"))
    rows = []
    for arm in step["arms"]:
        mark = " (winner)" if arm["variant"] == step["winner"] else ""
        weight = "" if arm["weight"] is None else f", weight {arm['weight']}"
        chance = chances.get(arm["variant"])
        cells = (f'<td class="key">{escape(arm["variant"] + mark + weight)}</td>'
                 f"<td>{arm['delivered']:,}</td>"
                 f"<td>{escape(_rate(arm['replies']))}</td>"
                 f"<td>{escape(_rate(arm['positive_replies']))}</td>"
                 f"<td>{'–' if chance is None else escape(chance_words(chance))}</td>")
        rows.append(f"<tr>{cells}</tr>")
    verdict = (f'<p class="verdict {escape(step["status"])}"><strong>Verdict:</strong> '
               f"{escape(_sentence(step['verdict']))}</p>")
    declared = step.get("declared")
    if declared:
        verdict += (f"<p>A winner was declared: variant {escape(str(declared['variant']))}, "
                    f"on {escape(str(declared['at'])[:10])}.</p>")
    return (f"<h4>Step {escape(step['step'])}</h4>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            + verdict)


def _chances(step: dict[str, Any]) -> tuple[str, dict[str, float]]:
    """The metric the verdict is about (the one a winner won on, else positive replies
    when there are any, else replies) and each variant's chance of being best on it."""
    metrics = {m["metric"]: m for m in step["metrics"]}
    name: str = step["metric"] or next(
        (m for m in METRIC_WORDS if any(a[m]["count"] for a in step["arms"])), "replies")
    found: dict[str, float] = metrics[name]["probability_best"] if name in metrics else {}
    return name, found


def _rate(rate: dict[str, Any]) -> str:
    """``12.5% (5 of 40; likely 5.5–26.8%)``."""
    if not rate["base"]:
        return "–"
    return (f"{rate['rate'] * 100:.1f}% ({rate['count']:,} of {rate['base']:,}; likely "
            f"{rate['low'] * 100:.1f}–{rate['high'] * 100:.1f}%)")


def _sentence(words: str) -> str:
    """The verdict as a sentence (not capitalised: it may start with a variant's id)."""
    return words if words.endswith(".") else words + "."
