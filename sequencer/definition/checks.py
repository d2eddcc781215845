"""Checks across a whole definition: references, reachability, and policy lints.

Errors make a sequence unusable; warnings are policy a team may promote to
errors (see ``LintPolicy``). Template checks need Jinja2 and live at the edge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sequencer.definition.conditions import Fact, outcome_tests, referenced_steps
from sequencer.definition.located import Path, Report, with_article
from sequencer.definition.model import (
    TASK_OUTCOMES,
    WEEKDAY_NAMES,
    Definition,
    Step,
    StepType,
    WaitUnit,
)

_At = Callable[..., Path]  # step id and keys -> the path of that value in the file


@dataclass(frozen=True, slots=True)
class LintPolicy:
    """Thresholds of the policy lints."""

    max_touches: int = 4
    per_days: int = 7
    business_start: int = 8 * 60
    business_end: int = 18 * 60


def check_definition(definition: Definition, report: Report, policy: LintPolicy) -> None:
    """Add every cross-step error and policy warning of ``definition`` to ``report``."""
    at = _locator(report)
    _check_schedule(definition, report)
    for step in definition.steps:
        _check_references(definition, step, report, at(step.id))
    _check_reachability(definition, report, at)
    _check_branch_cycles(definition, report, at)
    _lint_touch_density(definition, report, policy, at)
    _lint_window_hours(definition, report, policy)
    _lint_thread_subjects(definition, report, at)


def _locator(report: Report) -> _At:
    def at(step_id: str, *key: str | int) -> Path:
        return (*report.step_paths.get(step_id, ("steps",)), *key)

    return at


def _check_schedule(definition: Definition, report: Report) -> None:
    schedule = definition.schedule
    if not schedule.opens_ever():
        report.error(("schedule", "windows"), "the schedule never opens: no day has a window, "
                     "so no step could ever be sent")
    uses_business_days = any(s.wait.unit is WaitUnit.BUSINESS_DAYS and s.wait.amount
                             for s in definition.steps)
    if uses_business_days and not schedule.business_days:
        report.error(("schedule", "business_days"), "business-day waits are used but "
                     "business_days is empty")
    open_days = {d for d, windows in enumerate(schedule.windows) if windows}
    if schedule.opens_ever() and uses_business_days and not open_days & schedule.business_days:
        report.error(("schedule", "windows"), "no window opens on a business day, so steps after "
                     "business-day waits would never be sent")


def _check_references(definition: Definition, step: Step, report: Report, path: Path) -> None:
    for key, target in (("goto", step.goto), ("else", step.otherwise)):
        if target is not None and target not in definition.index:
            report.error((*path, key), f"step {step.id!r}: {key} to unknown step {target!r}")
    if step.thread is not None:
        _check_thread(definition, step, report, path)
    if step.type is StepType.EMAIL and step.thread is None:
        for variant in step.variants:
            if not variant.subject:
                report.error(path, f"email step {step.id!r} starts a new thread, so it needs a "
                             f"'subject' (variant {variant.id!r} has none)")
    if sum(v.weight for v in step.variants) == 0 and step.variants:
        report.error((*path, "variants"), f"step {step.id!r}: every variant has weight 0",
                     at_key=True)
    if step.condition is not None:
        _check_condition(definition, step, report, path)


def _check_thread(definition: Definition, step: Step, report: Report, path: Path) -> None:
    target = step.thread
    assert target is not None
    if target not in definition.index:
        report.error((*path, "thread"), f"step {step.id!r} threads into unknown step {target!r}")
    elif definition.step(target).type is StepType.MANUAL_EMAIL:
        report.error((*path, "thread"), f"step {step.id!r} threads into {target!r}, a manual "
                     "email: the rep sends it from their own mail client, so its conversation "
                     "is unknown; thread into an automatic email step")
    elif definition.step(target).type is not StepType.EMAIL:
        report.error((*path, "thread"), f"step {step.id!r} threads into {target!r}, which is "
                     "not an email step")
    elif definition.position(target) >= definition.position(step.id):
        report.error((*path, "thread"), f"step {step.id!r} threads into {target!r}, which comes "
                     "after it; a follow-up can only reply to an earlier email")


def _check_condition(definition: Definition, step: Step, report: Report, path: Path) -> None:
    assert step.condition is not None
    for name in referenced_steps(step.condition):
        if name not in definition.index:
            report.error((*path, "if"), f"branch {step.id!r} tests unknown step {name!r}")
    for test in _facts(step.condition):
        if test.step in definition.index and test.name in ("opened", "clicked", "replied", "sent") \
                and not definition.step(test.step).is_email:
            report.error((*path, "if"), f"branch {step.id!r}: {test.name}({test.step}) "
                         f"tests {with_article(definition.step(test.step).type.value)} step, "
                         "not an email")
    for outcome in outcome_tests(step.condition):
        if outcome.step not in definition.index:
            continue
        target = definition.step(outcome.step)
        allowed = TASK_OUTCOMES.get(target.type)
        if allowed is None:
            report.error((*path, "if"), f"branch {step.id!r}: outcome({outcome.step}) tests "
                         f"{with_article(target.type.value)} step, which has no outcome")
            continue
        for value in sorted(outcome.outcomes - allowed):
            report.error((*path, "if"), f"branch {step.id!r}: {value!r} is not an outcome of "
                         f"{with_article(target.type.value)} step (known: "
                         f"{', '.join(sorted(allowed))})")


def _facts(condition: object) -> list[Fact]:
    if isinstance(condition, Fact):
        return [condition]
    operands = getattr(condition, "operands", None)
    if operands is not None:
        return [f for op in operands for f in _facts(op)]
    operand = getattr(condition, "operand", None)
    return _facts(operand) if operand is not None else []


def successors(definition: Definition, index: int) -> list[int]:
    """The steps that can follow step ``index`` (a branch may jump)."""
    step = definition.steps[index]
    following = [index + 1] if index + 1 < len(definition.steps) else []
    if step.type is not StepType.BRANCH:
        return following
    targets = [definition.index[t] for t in (step.goto,) if t in definition.index]
    if step.otherwise is not None and step.otherwise in definition.index:
        targets.append(definition.index[step.otherwise])
    elif step.otherwise is None:
        targets.extend(following)
    return targets


def _check_reachability(definition: Definition, report: Report, at: _At) -> None:
    if not definition.steps:
        return
    seen = {0}
    todo = [0]
    while todo:
        for nxt in successors(definition, todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    for i, step in enumerate(definition.steps):
        if i not in seen:
            report.error(at(step.id), f"step {step.id!r} can never be reached")


def _instant_edges(definition: Definition, index: int) -> list[tuple[str, int]]:
    """Where a branch that resolves at once can jump, labelled by the key that sends it there."""
    step = definition.steps[index]
    edges = [("goto", definition.index[step.goto])] if step.goto in definition.index else []
    if step.otherwise is not None:
        if step.otherwise in definition.index:
            edges.append(("else", definition.index[step.otherwise]))
    elif index + 1 < len(definition.steps):
        edges.append(("if", index + 1))
    return [(key, target) for key, target in edges if _is_instant_branch(definition, target)]


def _is_instant_branch(definition: Definition, index: int) -> bool:
    step = definition.steps[index]
    return step.type is StepType.BRANCH and not step.wait.amount


def _check_branch_cycles(definition: Definition, report: Report, at: _At) -> None:
    """A loop made only of branches with no wait would spin forever without a touch.

    Each loop is reported once, at its first branch in the file, on the key that
    keeps it going round.
    """
    reported: set[frozenset[int]] = set()
    for start in range(len(definition.steps)):
        if not _is_instant_branch(definition, start):
            continue
        cycle = _cycle_from(definition, start)
        if cycle is None or frozenset(cycle) in reported or min(cycle) != start:
            continue
        reported.add(frozenset(cycle))
        key = next(k for k, t in _instant_edges(definition, start) if t == cycle[1 % len(cycle)]
                   or (len(cycle) == 1 and t == start))
        names = " -> ".join(definition.steps[i].id for i in [*cycle, start])
        report.error(at(definition.steps[start].id, key),
                     f"branches loop without a touch or a wait: {names}")


def _cycle_from(definition: Definition, start: int) -> list[int] | None:
    """A path of instant branches from ``start`` back to itself, if one exists (DFS)."""
    stack: list[tuple[int, list[int]]] = [(start, [start])]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        for _, target in reversed(_instant_edges(definition, node)):
            if target == start:
                return path
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def nominal_days(definition: Definition) -> list[tuple[Step, float]]:
    """Each touch on the straight path (branches not taken) with its nominal day."""
    day = 0.0
    out: list[tuple[Step, float]] = []
    for step in definition.steps:
        day += step.wait.nominal_days()
        if step.type.is_touch:
            out.append((step, day))
    return out


def _lint_touch_density(definition: Definition, report: Report, policy: LintPolicy,
                        at: _At) -> None:
    touches = nominal_days(definition)
    for i, (_step, day) in enumerate(touches):
        inside = [s for s, d in touches[i:] if d - day < policy.per_days]
        if len(inside) > policy.max_touches:
            report.warn(at(inside[-1].id), f"{len(inside)} touches within {policy.per_days} days "
                        f"({inside[0].id} to {inside[-1].id}); the policy allows "
                        f"{policy.max_touches}", code="touch-density")
            return


def _lint_window_hours(definition: Definition, report: Report, policy: LintPolicy) -> None:
    for day, windows in enumerate(definition.schedule.windows):
        name = WEEKDAY_NAMES[day]
        where = report.anchor("window", str(day)) or ("schedule", "windows")
        for window in windows:
            if day >= 5:
                report.warn(where, f"window {window.label()} on {name} is on "
                            "a weekend", code="window-hours")
            elif window.start < policy.business_start or window.end > policy.business_end:
                report.warn(where, f"window {window.label()} on {name} falls "
                            "outside local business hours "
                            f"({policy.business_start // 60:02d}:00-"
                            f"{policy.business_end // 60:02d}:00)", code="window-hours")


def _lint_thread_subjects(definition: Definition, report: Report, at: _At) -> None:
    for step in definition.steps:
        if step.thread is None or step.thread not in definition.index:
            continue
        parent = definition.step(step.thread)
        parent_subjects = {v.subject for v in parent.variants}
        for variant in step.variants:
            if variant.subject and variant.subject not in parent_subjects:
                report.warn(at(step.id, "subject"), f"step {step.id!r} is meant to thread into "
                            f"{parent.id!r} but its subject differs, so many mail clients will "
                            "show it as a new conversation; drop its subject to send it as "
                            "'Re: <the first subject>'", code="thread-subject")
