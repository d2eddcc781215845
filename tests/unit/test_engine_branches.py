"""Branches: a condition on the facts picks the next step."""

from __future__ import annotations

from datetime import timedelta

from sequencer.definition.model import Definition
from sequencer.engine import events
from sequencer.engine.actions import ScheduleAt
from tests.unit.engine_helpers import Driver, definition, in_zone, local, only, wall

MONDAY_9 = local("2027-04-05", "09:00")


def branching(condition: str, *, wait: str = "2 days", with_else: bool = True) -> Definition:
    """intro, call, then a branch to ``warm`` (else ``cold``, or without else the next step).

    The step right after the branch is never the one the tested rule picks, so that
    falling through by mistake shows.
    """
    if with_else:
        branch = (
            f'{{id: check, type: branch, wait: {wait}, if: "{condition}", goto: warm, else: cold}}'
        )
        after = [
            "{id: warm, type: email, template: warm.j2, subject: Warm}",
            "{id: cold, type: email, template: cold.j2, subject: Cold}",
        ]
    else:
        branch = f'{{id: check, type: branch, wait: {wait}, if: "{condition}", goto: warm}}'
        after = [
            "{id: next, type: email, template: next.j2, subject: Next}",
            "{id: warm, type: email, template: warm.j2, subject: Warm}",
        ]
    steps = "\n".join(
        f"  - {line}"
        for line in [
            "{id: intro, type: email, template: intro.j2, subject: Hello}",
            "{id: call, type: call, wait: 1 business day}",
            branch,
            *after,
        ]
    )
    return definition(f"""
name: branching
schedule:
  timezone: America/New_York
  windows: {{mon-fri: ["08:00-10:00"]}}
  holidays: none
exit_on: [reply]
steps:
{steps}
""")


def at_the_branch(defn: Definition, outcome: str = "no_answer") -> Driver:
    """Intro sent Monday, call completed Tuesday: the branch is the current step."""
    driver = Driver(defn, MONDAY_9)
    driver.send_current("Hello")
    driver.complete_current(outcome)
    return driver


def test_a_branch_goes_to_its_goto_step_when_the_condition_holds() -> None:
    driver = at_the_branch(branching("opened(intro)", with_else=False))
    driver.fire(events.Opened("intro"))

    decision = driver.due()

    assert decision.state.step == "warm"
    assert decision.actions == (ScheduleAt("warm", only(decision, ScheduleAt).at),)


def test_a_branch_goes_to_its_else_step_when_the_condition_does_not_hold() -> None:
    driver = at_the_branch(branching("opened(intro)"))

    decision = driver.due()

    assert decision.state.step == "cold"


def test_a_branch_without_else_falls_through_to_the_next_step_when_the_condition_fails() -> None:
    driver = at_the_branch(branching("opened(intro)", with_else=False))

    decision = driver.due()

    assert decision.state.step == "next"


def test_a_branch_with_a_wait_is_evaluated_when_due_not_when_entered() -> None:
    driver = at_the_branch(branching("clicked(intro)"))
    entered = driver.state
    assert entered.step == "check"  # not resolved yet: nobody had clicked
    assert entered.due_at is not None
    assert in_zone(entered.due_at) == wall("2027-04-08 00:00")  # a branch needs no window

    driver.fire(events.Clicked("intro"), at=local("2027-04-07", "18:00"))
    decision = driver.due()

    assert decision.state.step == "warm"
    assert decision.state.due_at is not None
    assert in_zone(decision.state.due_at) == wall("2027-04-08 08:00")


def test_a_branch_without_a_wait_is_resolved_as_soon_as_it_is_entered() -> None:
    driver = Driver(branching("outcome(call) == connected", wait="0"), MONDAY_9)
    driver.send_current()
    driver.due()

    decision = driver.fire(events.TaskCompleted("call", "connected"))

    assert decision.state.step == "warm"
    assert decision.actions == (ScheduleAt("warm", only(decision, ScheduleAt).at),)


def test_a_branch_on_opened_sees_an_open_of_the_step() -> None:
    defn = branching("opened(intro) and not clicked(intro)")
    opened = at_the_branch(defn)
    clicked = at_the_branch(defn)

    opened.fire(events.Opened("intro"))
    clicked.fire(events.Clicked("intro"))

    assert opened.due().state.step == "warm"
    assert clicked.due().state.step == "cold"  # a click also counts as an open
    assert clicked.state.facts.opened == {"intro"}


def test_a_branch_on_a_call_outcome_follows_the_outcome_recorded_for_that_call() -> None:
    defn = branching("outcome(call) in [connected, voicemail]")

    assert at_the_branch(defn, "voicemail").due().state.step == "warm"
    assert at_the_branch(defn, "wrong_number").due().state.step == "cold"


def test_a_branch_on_stage_follows_the_latest_stage() -> None:
    defn = branching("stage == evaluation")
    moved = at_the_branch(defn)
    moved.fire(events.StageChanged("lead"))
    moved.fire(events.StageChanged("evaluation"))
    stayed = at_the_branch(defn)
    stayed.fire(events.StageChanged("lead"))

    assert moved.due().state.step == "warm"
    assert stayed.due().state.step == "cold"


def test_a_branch_target_gets_its_own_wait_after_the_branch_is_resolved() -> None:
    defn = definition("""
        name: target-wait
        schedule:
          timezone: America/New_York
          windows: {mon-fri: ["08:00-10:00"]}
          holidays: none
        steps:
          - {id: intro, type: email, template: intro.j2, subject: Hello}
          - {id: check, type: branch, wait: 1 day, if: "opened(intro)", goto: later}
          - {id: soon, type: email, template: soon.j2, subject: Soon}
          - {id: later, type: email, wait: 1 week, template: later.j2, subject: Later}
    """)
    driver = Driver(defn, MONDAY_9)
    driver.send_current()
    driver.fire(events.Opened("intro"), at=MONDAY_9 + timedelta(hours=1))

    decision = driver.due()  # Tuesday 00:00

    assert decision.state.step == "later"
    assert decision.state.due_at is not None
    assert in_zone(decision.state.due_at) == wall("2027-04-13 08:00")
