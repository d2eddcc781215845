"""How ``sequencer demo`` shows what happened: week lines, answers, reply rates, next steps."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sequencer.demo.figures import ALL_STEPS, DemoFigures
from sequencer.demo.mailroom import Mailroom
from sequencer.demo.runner import WeekProgress
from sequencer.demo.world import DemoWorld

# (kind, label, {what the inbound path did: how to say it})
ANSWERS = (
    ("reply", "replies", {"exited": "enrollments exited (theirs and colleagues' at the account)"}),
    ("auto_reply", "out-of-office", {"paused": "paused until the return date"}),
    ("hard_bounce", "hard bounces", {"suppressed": "suppressed", "exited": "exited"}),
    ("soft_bounce", "soft bounces", {"active": "sent again later"}),
    ("unsubscribe", "unsubscribes", {"suppressed": "suppressed", "exited": "exited"}),
)


def week_line(week: WeekProgress) -> str:
    return (f"week {week.number} ({week.start:%b %d}):{week.sent:>5} sent{week.replies:>4} "
            f"replies{week.auto_replies:>4} out-of-office{week.bounces:>4} bounces"
            f"{week.unsubscribes:>4} unsubscribes{week.tasks_done:>5} tasks done")


def show_world(console: Console, world: DemoWorld) -> None:
    options = world.options
    zones = {p.timezone for p in world.people.values()}
    countries = {p.country for p in world.people.values()}
    enrolled: dict[str, int] = {}
    for summary in world.enrolled:
        enrolled[summary.sequence] = enrolled.get(summary.sequence, 0) + summary.enrolled
    start = options.start
    replay = f"{start:%Y-%m-%d}" if start.time() == time(0) else f"{start:%Y-%m-%dT%H:%MZ}"
    console.print(f"[bold]▶ {len(world.people)} sample prospects[/bold] in {len(zones)} time "
                  f"zones and {len(countries)} countries, {options.days} virtual days from "
                  f"{start:%a %Y-%m-%d} (--start {replay} --seed {options.seed} replays it), "
                  f"3 mailboxes writing to {world.outbox}/",
                  soft_wrap=True)
    console.print("  enrolled: " + ", ".join(f"{name} {n}" for name, n in enrolled.items()),
                  soft_wrap=True)


def show_answers(console: Console, mailroom: Mailroom) -> None:
    """What came back, as the inbound path read it, and what it did."""
    console.print("[bold]Answers taken in through the inbound path[/bold] (real MIME, "
                  "classified, matched to the email they answer):", soft_wrap=True)
    for kind, label, effects in ANSWERS:
        done = [f"{mailroom.effects[kind, effect]} {said}" for effect, said in effects.items()
                if mailroom.effects[kind, effect]]
        console.print(f"  {mailroom.taken_in[kind]:>4} {label:<14} " + ", ".join(done),
                      soft_wrap=True)
    moods = mailroom.moods
    console.print(f"       replies as written: {moods['positive']} positive (\"yes, let's "
                  f"talk Thursday\"), {moods['neutral']} neutral, {moods['negative']} negative",
                  soft_wrap=True)
    if mailroom.misread:
        console.print(f"  [yellow]{len(mailroom.misread)} answer(s) read as another kind[/yellow]"
                      ": " + ", ".join(f"{f} ({m} read as {r})"
                                       for f, m, r in mailroom.misread[:5]), soft_wrap=True)


def show_figures(console: Console, figures: DemoFigures) -> None:
    table = Table(title="Reply rate by sequence and step: prospects who replied / prospects "
                  "delivered", title_justify="left")
    table.add_column("sequence", no_wrap=True)
    table.add_column("step", no_wrap=True)
    for name in ("sent", "delivered", "replied", "rate"):
        table.add_column(name, justify="right")
    shown = ""
    for line in figures.lines:
        rate = "-" if line.rate is None else f"{line.rate:.1%}"
        style = "bold" if line.step == ALL_STEPS else None
        table.add_row(line.sequence if line.sequence != shown else "", line.step,
                      str(line.sent), str(line.delivered), str(line.replied), rate, style=style)
        shown = line.sequence
    console.print(table)
    statuses = ", ".join(f"{n} {s}" for s, n in figures.enrollments.most_common())
    exits = ", ".join(f"{n} {r}" for r, n in figures.exits.most_common())
    console.print(f"Enrollments: {statuses}; exits: {exits or 'none'}; "
                  f"{figures.suppressed} address(es) suppressed; "
                  f"{figures.tasks['done']} tasks done by the rep.", soft_wrap=True)
    console.print(f"After the positive replies: {figures.events['meeting_booked']} meetings "
                  f"booked, {figures.events['stage_changed']} stage changes recorded "
                  "('sequencer funnel' and the report's funnel show where they led).",
                  soft_wrap=True)


def show_where(console: Console, world: DemoWorld, *, html: Path | None, example: str | None,
               seconds: float) -> None:
    out = world.options.out
    emails = sum(1 for _ in world.outbox.glob("*.eml"))
    answers = sum(1 for _ in (out / "inbox").glob("*.eml"))
    console.print(f"\n[green]✓[/green] Done in {seconds:.1f} s.")
    lines = [f"  outbox:   {world.outbox}/  ({emails} .eml files, as sent)",
             f"  inbox:    {out / 'inbox'}/  ({answers} answers, as taken in)",
             f"  database: {world.database}",
             f"  report:   {html}" if html else
             "  report:   the HTML report arrives with 'sequencer report --format html'",
             "Look around (the commands read SEQUENCER_DATABASE_URL):",
             f"  export SEQUENCER_DATABASE_URL={world.database_url}",
             "  sequencer status",
             *([f"  sequencer explain {example}"] if example else []),
             "  sequencer report --by step --format table",
             "  sequencer funnel"]
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
