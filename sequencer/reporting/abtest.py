"""A/B verdicts: for each step with variants, is one variant really better?

``judge`` is pure: arms' counts in, a ``StepVerdict`` out (see docs/ab-tests.md for
every rule). ``ab_verdicts`` reads the counts with the reply-rate report's own
breakdown by variant (``report.build_report``: the definitions of docs/reporting.md,
implemented once) and returns plain data (dicts, lists, numbers, strings) that
JSON, the table printer and the HTML report all take as is.

Two metrics are judged, in this order: positive replies (what a team is after),
then replies. For each, the best arm is tested against every other one (Fisher's
exact test for small counts, else the two-proportion z-test; Holm's adjustment when
there are several), and each arm gets its probability of being best.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sequencer.definition.model import Definition
from sequencer.errors import InputError
from sequencer.reporting.abtest_stats import (
    ALPHA,
    compare,
    holm,
    probability_best,
    rate,
    sample_size_per_arm,
    wilson_interval,
)
from sequencer.reporting.report import build_report
from sequencer.reporting.rules import Rules
from sequencer.services.app import App
from sequencer.services.sequences import definition_of
from sequencer.store.models import Event, SequenceVersion

MIN_DIFFERENCE = 0.02  # the smallest difference worth detecting: 2 percentage points
METRICS = ("positive_replies", "replies")
METRIC_WORDS = {"positive_replies": "positive replies", "replies": "replies"}


@dataclass(frozen=True, slots=True)
class ArmCounts:
    """One variant of a step: prospects delivered it, and those whose (positive) reply
    is attributed to it."""

    variant: str
    delivered: int
    replied: int
    positive: int
    weight: int | None = None  # in the latest version of the sequence; None if gone


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    base: int
    rate: float
    low: float  # the 95% Wilson interval
    high: float


@dataclass(frozen=True, slots=True)
class Arm:
    variant: str
    weight: int | None
    delivered: int
    replies: Rate
    positive_replies: Rate


@dataclass(frozen=True, slots=True)
class Versus:
    """The best arm against one other arm, on one metric."""

    other: str
    difference: float  # best's rate minus the other's
    test: str  # "z-test" or "fisher"
    p_value: float
    adjusted_p: float  # Holm-adjusted over the comparisons of this metric
    significant: bool


@dataclass(frozen=True, slots=True)
class MetricResult:
    metric: str
    best: str
    probability_best: dict[str, float]
    versus: tuple[Versus, ...]
    effect: float  # the difference the needed sample is for: observed, or the minimum
    needed_per_arm: int  # delivered prospects each arm needs to detect ``effect``


@dataclass(frozen=True, slots=True)
class StepVerdict:
    step: str
    status: str  # "winner", "no_difference" or "not_enough_data"
    verdict: str  # in words
    winner: str | None
    metric: str | None  # the metric the winner won on
    more_needed_per_arm: int  # 0 once every arm has the sample it needs
    arms: tuple[Arm, ...]
    metrics: tuple[MetricResult, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain data: dicts, lists, strings and numbers, as JSON has them."""
        plain: dict[str, Any] = _lists(asdict(self))
        return plain


def ab_verdicts(app: App, sequence: str, *, step: str | None = None,
                version: str | None = None, min_difference: float = MIN_DIFFERENCE,
                rules: Rules | None = None) -> dict[str, Any]:
    """The verdict on every step with variants of ``sequence`` (a name), as plain data.

    ``version`` (a version hash or its first characters) limits the counts to the
    enrollments pinned to it; by default every version counts. The shape is
    documented in docs/ab-tests.md ("The data behind the verdicts").

    Raises:
        InputError: no such sequence, version or step with variants.
    """
    with app.sessions() as session:
        versions = _versions(session, sequence, version)
        definitions = [definition_of(session, app, row.id) for row in versions]
        declared = _declarations(session, sequence)
    steps = _steps_with_variants(definitions, step, sequence)
    keys = ("version", "variant") if version else ("variant",)
    with app.engine.connect() as connection:
        rows = build_report(connection, keys, sequence=sequence, rules=rules,
                            with_total=False).rows
    counted = {(r.key["step"], r.key["variant"]): r.figures for r in rows
               if not version or r.key["version"] == versions[0].version}
    verdicts = []
    for step_id, variant_ids in steps.items():
        weights = _weights(definitions[-1], step_id)
        seen = [v for (s, v), _ in counted.items() if s == step_id and v not in variant_ids]
        arms = []
        for variant_id in [*variant_ids, *seen]:
            figures = counted.get((step_id, variant_id))
            delivered = figures.prospects_delivered if figures else 0
            replied = min(figures.replied, delivered) if figures else 0
            positive = min(figures.positive, replied) if figures else 0
            arms.append(ArmCounts(variant_id, delivered, replied, positive,
                                  weights.get(variant_id)))
        plain = judge(step_id, arms, min_difference=min_difference).as_dict()
        plain["declared"] = declared.get(step_id)
        verdicts.append(plain)
    return {"sequence": sequence, "version": versions[0].version if version else None,
            "versions": [row.version for row in versions], "min_difference": min_difference,
            "steps": verdicts}


def html_section(app: App, *, sequence: str | None, since: datetime | None) -> str:
    """The A/B verdicts' section of the HTML report (see ``page.extra_sections``); drawn
    by ``abtest_html``."""
    from sequencer.reporting.abtest_html import section  # it imports this module

    return section(app, sequence=sequence, since=since)


def _versions(session: Session, sequence: str, version: str | None
              ) -> list[SequenceVersion]:
    """The published versions of ``sequence``, oldest first (only ``version``'s if given)."""
    rows = list(session.scalars(select(SequenceVersion).where(
        SequenceVersion.name == sequence).order_by(SequenceVersion.created_at,
                                                   SequenceVersion.id)))
    if not rows:
        raise InputError(f"no sequence named {sequence!r} has been published "
                         f"(enrolling prospects publishes it)")
    if version is None:
        return rows
    chosen = [row for row in rows if row.version.startswith(version)]
    if len(chosen) != 1:
        known = ", ".join(row.version[:10] for row in rows)
        problem = "matches several versions" if chosen else "is not a version"
        raise InputError(f"{version!r} {problem} of {sequence} (its versions: {known})")
    return chosen


def _steps_with_variants(definitions: Sequence[Definition], step: str | None, sequence: str
                         ) -> dict[str, list[str]]:
    """Each step that has two variants or more in some version, with their ids (in file
    order, the latest version's first)."""
    found: dict[str, list[str]] = {}
    for definition in reversed(definitions):
        for candidate in definition.steps:
            if len(candidate.variants) > 1:
                ids = found.setdefault(candidate.id, [])
                ids.extend(v.id for v in candidate.variants if v.id not in ids)
    if step is None:
        return found
    if step not in found:
        raise InputError(f"{sequence} has no step {step!r} with variants"
                         + (f" (steps with variants: {', '.join(found)})" if found else ""))
    return {step: found[step]}


def _weights(definition: Definition, step: str) -> dict[str, int]:
    if step not in definition.index:
        return {}
    return {v.id: v.weight for v in definition.step(step).variants}


def _declarations(session: Session, sequence: str) -> dict[str, dict[str, Any]]:
    """The latest winner declared for each step of ``sequence`` (``ab_winner`` events)."""
    out: dict[str, dict[str, Any]] = {}
    rows = session.scalars(select(Event).where(Event.kind == "ab_winner").order_by(
        Event.occurred_at, Event.id))
    for event in rows:
        payload = event.payload or {}
        if payload.get("sequence") == sequence and isinstance(payload.get("step"), str):
            out[payload["step"]] = {"variant": payload.get("variant"),
                                    "at": event.occurred_at.isoformat(),
                                    "version": payload.get("to_version")}
    return out


def judge(step: str, arms: Sequence[ArmCounts], *, min_difference: float = MIN_DIFFERENCE,
          alpha: float = ALPHA) -> StepVerdict:
    """The verdict on one step's variants from their counts.

    Raises:
        ValueError: fewer than two arms, or counts that are not counts.
    """
    if len(arms) < 2:
        raise ValueError(f"step {step!r}: an A/B verdict needs at least two variants")
    shown = tuple(Arm(a.variant, a.weight, a.delivered, _rate(a.replied, a.delivered),
                      _rate(a.positive, a.delivered)) for a in arms)
    results = tuple(_metric(name, arms, min_difference, alpha) for name in METRICS)
    for result in results:
        if any(v.significant for v in result.versus):
            return _winner(step, shown, results, result)
    judged = [r for r, name in zip(results, METRICS, strict=True)
              if sum(_successes(a, name) for a in arms)] or [results[-1]]
    more = max(max(r.needed_per_arm for r in judged) - a.delivered for a in arms)
    if more > 0:
        words = f"not enough data yet: each arm needs about {_about(more)} more delivered"
        return StepVerdict(step, "not_enough_data", words, None, None, more, shown, results)
    effect = max(r.effect for r in judged)
    words = (f"no real difference yet: a difference of {_points(effect)} or more "
             f"would most likely have shown by now")
    return StepVerdict(step, "no_difference", words, None, None, 0, shown, results)


def _metric(name: str, arms: Sequence[ArmCounts], min_difference: float, alpha: float
            ) -> MetricResult:
    counts = [(_successes(a, name), a.delivered) for a in arms]
    chances = probability_best(counts)
    best = max(range(len(arms)), key=lambda i: (rate(*counts[i]), chances[i], -i))
    others = [i for i in range(len(arms)) if i != best]
    tests = [compare(*counts[best], *counts[i]) for i in others]
    adjusted = holm([t.p_value for t in tests])
    versus = tuple(Versus(arms[i].variant, t.difference, t.test, t.p_value, p,
                          p < alpha and t.difference > 0)
                   for i, t, p in zip(others, tests, adjusted, strict=True))
    # The runner-up is the baseline the best must be told apart from.
    runner_up = max(rate(*counts[i]) for i in others)
    effect = max(rate(*counts[best]) - runner_up, min_difference)
    target = runner_up + effect if runner_up + effect <= 1 else runner_up - effect
    return MetricResult(name, arms[best].variant,
                        {a.variant: c for a, c in zip(arms, chances, strict=True)},
                        versus, effect, sample_size_per_arm(runner_up, target, alpha=alpha))


def _winner(step: str, arms: tuple[Arm, ...], results: tuple[MetricResult, ...],
            result: MetricResult) -> StepVerdict:
    beaten = [v for v in result.versus if v.significant]
    level = ", ".join(_p(v.adjusted_p) for v in beaten)
    chance = chance_words(result.probability_best[result.best])
    words = (f"{result.best} beats {_and(v.other for v in beaten)} on "
             f"{METRIC_WORDS[result.metric]} ({level}, {chance} probability best)")
    unclear = [v.other for v in result.versus if not v.significant]
    if unclear:
        words += f"; no real difference yet from {_and(unclear)}"
    return StepVerdict(step, "winner", words, result.best, result.metric, 0, arms, results)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


def _successes(arm: ArmCounts, metric: str) -> int:
    return arm.positive if metric == "positive_replies" else arm.replied


def _rate(count: int, base: int) -> Rate:
    low, high = wilson_interval(count, base)
    return Rate(count, base, rate(count, base), low, high)


def _about(n: int) -> str:
    """``n`` rounded up to two significant figures: the sample is an estimate."""
    if n < 100:
        return str(n)
    step = 10 ** (len(str(n)) - 2)
    return f"{math.ceil(n / step) * step:,}"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def chance_words(share: float) -> str:
    """A probability as people read it: never a false 100% or 0%."""
    if share > 0.99:
        return ">99%"
    if share < 0.01:
        return "<1%"
    return f"{round(share * 100)}%"


def _points(difference: float) -> str:
    return f"{difference * 100:.3g} points"


def _and(names: Iterable[str]) -> str:
    items: list[str] = list(names)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
