"""Build a ``Definition`` from plain data, reporting every problem with its line.

The parser takes data (already read from YAML at the edge) and a line map; it
never opens files. Structural checks live here; checks across steps live in
``checks``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar

from sequencer.definition.conditions import ConditionSyntaxError, parse_condition
from sequencer.definition.durations import parse_days, parse_wait, parse_window
from sequencer.definition.learned import parse_learned_windows
from sequencer.definition.located import Path, Report, with_article
from sequencer.definition.model import (
    HOLIDAYS_PROSPECT_COUNTRY,
    Compliance,
    Definition,
    ExitRules,
    Limits,
    PauseRules,
    Schedule,
    Step,
    StepType,
    Tracking,
    Variant,
    Wait,
    WaitUnit,
    Window,
)

T = TypeVar("T")

TOP_KEYS = ("name", "description", "schedule", "exit_on", "pause_on", "limits",
            "compliance", "tracking", "custom_fields", "steps")
SCHEDULE_KEYS = ("windows", "timezone", "country", "holidays", "business_days", "jitter",
                 "learned_windows")
EXIT_WORDS = ("reply", "account_reply", "bounce", "unsubscribe", "meeting_booked")
LIMIT_KEYS = ("one_active_sequence", "reenroll", "max_touches_per_week", "max_soft_bounces")
COMMON_STEP_KEYS = ("id", "type", "wait", "at", "if_past", "instructions")
STEP_KEYS: dict[StepType, tuple[str, ...]] = {
    StepType.EMAIL: ("template", "subject", "variants", "thread"),
    StepType.MANUAL_EMAIL: ("template", "subject", "variants", "thread"),
    StepType.CALL: (),
    StepType.LINKEDIN_CONNECT: (),
    StepType.LINKEDIN_MESSAGE: ("template",),
    StepType.LINKEDIN_VIEW: (),
    StepType.TASK: (),
    StepType.BRANCH: ("if", "goto", "else"),
}
VARIANT_KEYS = ("id", "template", "subject", "weight")
STEP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,62}$")
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT_WINDOWS = (Window(8 * 60, 10 * 60), Window(15 * 60, 16 * 60))


def parse_definition(
    data: object,
    report: Report,
    *,
    zone_exists: Callable[[str], bool],
    country_exists: Callable[[str], bool] | None = None,
) -> Definition | None:
    """Parse a whole sequence, adding every problem to ``report``.

    Returns None when the data is too broken to build a definition (the
    problems say why); otherwise a definition, possibly with warnings in the report.
    """
    root = _mapping(data, (), report, "the sequence file must be a mapping of keys")
    if root is None:
        return None
    _known_keys(root, (), TOP_KEYS, report, "sequence")
    ctx = _Context(report, zone_exists, country_exists)
    name = ctx.text(root, ("name",), required=True) or "<unnamed>"
    schedule = ctx.schedule(root.get("schedule", {}))
    steps = ctx.steps(root.get("steps"))
    definition = Definition(
        name=name,
        description=ctx.text(root, ("description",)) or "",
        steps=steps,
        schedule=schedule,
        exit=ctx.exit_rules(root.get("exit_on")),
        pause=ctx.pause_rules(root.get("pause_on")),
        limits=ctx.limits(root.get("limits", {})),
        compliance=Compliance(**ctx.flags(root, "compliance", ("unsubscribe_footer",
                                                                 "physical_address"))),
        tracking=Tracking(**ctx.flags(root, "tracking", ("opens", "clicks"))),
        custom_fields=ctx.custom_fields(root.get("custom_fields", [])),
        version=content_version(root),
    )
    return definition


def content_version(data: Mapping[str, Any]) -> str:
    """The version of a sequence: a short hash of its canonical content."""
    canonical = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _mapping(value: object, path: Path, report: Report, message: str) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    report.error(path, message)
    return None


def _known_keys(
    mapping: Mapping[str, Any], path: Path, allowed: tuple[str, ...], report: Report, what: str
) -> None:
    for key in mapping:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            report.error((*path, key), f"unknown key {key!r} in {what}{suggestion}", at_key=True)


class _Context:
    """The parsing of each section; every method records problems and never raises."""

    def __init__(
        self,
        report: Report,
        zone_exists: Callable[[str], bool],
        country_exists: Callable[[str], bool] | None,
    ) -> None:
        self.report = report
        self.zone_exists = zone_exists
        self.country_exists = country_exists

    # -- scalars ---------------------------------------------------------------
    def text(self, mapping: Mapping[str, Any], path: Path, *, required: bool = False) -> str | None:
        key = path[-1]
        value = mapping.get(str(key))
        if value is None:
            if required:
                self.report.error(path[:-1], f"missing required key {key!r}")
            return None
        if not isinstance(value, str) or not value.strip():
            self.report.error(path, f"{key!r} must be non-empty text, not {value!r}")
            return None
        return value

    def typed(self, value: object, path: Path, kind: type[T], describe: str) -> T | None:
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        self.report.error(path, f"{path[-1]!r} must be {describe}, not {value!r}")
        return None

    def flags(self, root: Mapping[str, Any], section: str, names: tuple[str, ...]
              ) -> dict[str, bool]:
        raw = root.get(section, {})
        block = _mapping(raw, (section,), self.report, f"{section!r} must be a mapping")
        if not block:
            return {}
        _known_keys(block, (section,), names, self.report, section)
        out: dict[str, bool] = {}
        for name in names:
            if name in block:
                flag = self.typed(block[name], (section, name), bool, "true or false")
                if flag is not None:
                    out[name] = flag
        return out

    def _written_as(self, path: Path, spellings: tuple[str, ...]) -> bool:
        """Whether the value at ``path`` was literally one of ``spellings`` in the file."""
        return self.report.raw.get(path) in spellings

    # -- schedule --------------------------------------------------------------
    def schedule(self, raw: object) -> Schedule:
        block = _mapping(raw, ("schedule",), self.report, "'schedule' must be a mapping")
        if block is None:
            return Schedule(windows=(DEFAULT_WINDOWS,) * 5 + ((),) * 2)
        _known_keys(block, ("schedule",), SCHEDULE_KEYS, self.report, "schedule")
        windows = self.windows(block.get("windows"))
        zone = block.get("timezone", "UTC")
        if not isinstance(zone, str) or not self.zone_exists(zone):
            self.report.error(("schedule", "timezone"), f"unknown time zone {zone!r} "
                              "(use an IANA name such as America/New_York)")
            zone = "UTC"
        country = block.get("country")
        if country is not None:
            country = self.country(country, ("schedule", "country"))
        holidays = block.get("holidays", HOLIDAYS_PROSPECT_COUNTRY)
        if holidays is False and self._written_as(("schedule", "holidays"), ("no", "NO", "No")):
            holidays = self.country(False, ("schedule", "holidays"))  # Norway, unquoted
        elif holidays in (None, False, "none"):
            holidays = None
        elif holidays != HOLIDAYS_PROSPECT_COUNTRY:
            holidays = self.country(holidays, ("schedule", "holidays"))
        business = block.get("business_days", "mon-fri")
        try:
            business_days = frozenset(parse_days(business))
        except ValueError as exc:
            self.report.error(("schedule", "business_days"), str(exc))
            business_days = frozenset(range(5))
        return Schedule(
            windows=windows,
            default_timezone=zone,
            default_country=country,
            holidays=holidays,
            business_days=business_days,
            jitter_seconds=self.jitter(block.get("jitter", 0)),
            learned=parse_learned_windows(block.get("learned_windows"), self.report),
        )

    def country(self, value: object, path: Path) -> str | None:
        if isinstance(value, bool):
            self.report.error(path, f"YAML reads the country code {'NO' if not value else 'YES'} "
                              "as a boolean: write it in quotes, as in 'NO'")
            return None
        if not isinstance(value, str) or (
            self.country_exists is not None and not self.country_exists(value.upper())
        ):
            self.report.error(path, f"unknown holiday country {value!r} "
                              "(use an ISO 3166 code such as US, GB, DE, or 'prospect_country')")
            return None
        return value.upper()

    def jitter(self, raw: object) -> int:
        try:
            wait = parse_wait(raw)
        except ValueError:
            self.report.error(("schedule", "jitter"), f"jitter must be minutes or hours such as "
                              f"'20 minutes', not {raw!r}")
            return 0
        if wait.amount and not wait.is_absolute:
            self.report.error(("schedule", "jitter"), "jitter must be given in minutes or hours")
            return 0
        return int(wait.as_timedelta().total_seconds()) if wait.amount else 0

    def windows(self, raw: object) -> tuple[tuple[Window, ...], ...]:
        if raw is None:
            return (DEFAULT_WINDOWS,) * 5 + ((),) * 2
        block = _mapping(raw, ("schedule", "windows"), self.report,
                         "'windows' maps days to lists of windows, as in mon-fri: ['08:00-10:00']")
        days: list[list[Window]] = [[] for _ in range(7)]
        for key, spans in (block or {}).items():
            path: Path = ("schedule", "windows", key)
            try:
                numbers = parse_days(key)
            except ValueError as exc:
                self.report.error(path, str(exc), at_key=True)
                continue
            if isinstance(spans, str):
                spans = [spans]
            if not isinstance(spans, list):
                self.report.error(path, f"windows for {key!r} must be a list such as "
                                  "['08:00-10:00']")
                continue
            for i, span in enumerate(spans):
                try:
                    window = parse_window(span)
                except ValueError as exc:
                    self.report.error((*path, i), str(exc))
                    continue
                for day in numbers:
                    days[day].append(window)
                    self.report.anchors.setdefault(("window", str(day)), path)
        return tuple(merge_windows(d) for d in days)

    # -- rules -----------------------------------------------------------------
    def exit_rules(self, raw: object) -> ExitRules:
        if raw is None:
            return ExitRules()
        if not isinstance(raw, list):
            self.report.error(("exit_on",), "'exit_on' must be a list, as in [reply, bounce]")
            return ExitRules()
        words: set[str] = set()
        stages: set[str] = set()
        for i, item in enumerate(raw):
            if isinstance(item, dict) and set(item) == {"stage"}:
                values = item["stage"] if isinstance(item["stage"], list) else [item["stage"]]
                stages.update(str(v) for v in values)
            elif item in EXIT_WORDS:
                words.add(item)
            else:
                self.report.error(("exit_on", i), f"unknown exit rule {item!r} (known: "
                                  f"{', '.join(EXIT_WORDS)}, or {{stage: [...]}})")
        return ExitRules(
            reply="reply" in words,
            account_reply="account_reply" in words,
            bounce=True,  # a hard bounce always ends the enrollment: the address is dead
            unsubscribe=True,  # an opt-out is always honoured, whatever the file says
            meeting_booked="meeting_booked" in words,
            stages=frozenset(stages),
        )

    def pause_rules(self, raw: object) -> PauseRules:
        if raw is None:
            return PauseRules()
        block = _mapping(raw, ("pause_on",), self.report, "'pause_on' must be a mapping")
        if not block:
            return PauseRules(out_of_office=False)
        _known_keys(block, ("pause_on",), ("out_of_office",), self.report, "pause_on")
        ooo = block.get("out_of_office", False)
        if isinstance(ooo, bool):
            return PauseRules(out_of_office=ooo)
        path: Path = ("pause_on", "out_of_office")
        rules = _mapping(ooo, path, self.report, "'out_of_office' is true, false or a mapping")
        if rules is None:
            return PauseRules()
        _known_keys(rules, path, ("resume_after_return", "default_days"), self.report,
                    "out_of_office")
        resume = self.wait_days(rules.get("resume_after_return", "1 business day"),
                                (*path, "resume_after_return"), (WaitUnit.BUSINESS_DAYS,))
        default = self.wait_days(rules.get("default_days", "7 days"), (*path, "default_days"),
                                 (WaitUnit.DAYS, WaitUnit.WEEKS))
        return PauseRules(True, resume, default)

    def wait_days(self, raw: object, path: Path, units: tuple[WaitUnit, ...]) -> int:
        """A whole number of days (or business days) given as a number or as a wait."""
        if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
            return raw
        try:
            wait = parse_wait(raw)
        except ValueError as exc:
            self.report.error(path, str(exc))
            return 1
        if wait.unit not in units:
            names = " or ".join(u.value.replace("_", " ") for u in units)
            self.report.error(path, f"{path[-1]!r} is counted in {names}, not "
                              f"{wait.unit.value.replace('_', ' ')}")
            return 1
        return wait.amount * (7 if wait.unit is WaitUnit.WEEKS else 1)

    def limits(self, raw: object) -> Limits:
        block = _mapping(raw, ("limits",), self.report, "'limits' must be a mapping")
        if not block:
            return Limits()
        _known_keys(block, ("limits",), LIMIT_KEYS, self.report, "limits")
        one = block.get("one_active_sequence", True)
        one = self.typed(one, ("limits", "one_active_sequence"), bool, "true or false")
        reenroll, after = self.reenroll(block.get("reenroll", "never"))
        weekly = block.get("max_touches_per_week")
        if weekly is not None:
            weekly = self.typed(weekly, ("limits", "max_touches_per_week"), int, "a whole number")
            if weekly is not None and weekly < 1:
                self.report.error(("limits", "max_touches_per_week"),
                                  "max_touches_per_week must be at least 1")
                weekly = None
        soft = self.typed(block.get("max_soft_bounces", 3), ("limits", "max_soft_bounces"), int,
                          "a whole number")
        if soft is not None and soft < 0:
            self.report.error(("limits", "max_soft_bounces"), "max_soft_bounces must be 0 or more")
            soft = None
        return Limits(bool(one) if one is not None else True, reenroll, after, weekly,
                      soft if soft is not None else 3)

    def reenroll(self, raw: object) -> tuple[str, int]:
        if raw in ("never", "always"):
            return str(raw), 0
        match = re.match(r"^after\s+(.+)$", raw) if isinstance(raw, str) else None
        if match:
            try:
                wait = parse_wait(match.group(1))
                return "after", max(1, round(wait.nominal_days()))
            except ValueError:
                pass
        self.report.error(("limits", "reenroll"), f"reenroll is never, always or 'after N days', "
                          f"not {raw!r}")
        return "never", 0

    def custom_fields(self, raw: object) -> frozenset[str]:
        if not isinstance(raw, list):
            self.report.error(("custom_fields",), "'custom_fields' must be a list of field names")
            return frozenset()
        names: set[str] = set()
        for i, item in enumerate(raw):
            if isinstance(item, str) and FIELD_NAME.match(item):
                names.add(item)
            else:
                self.report.error(("custom_fields", i), f"custom field {item!r} must be a name "
                                  "made of letters, digits and _")
        return frozenset(names)

    # -- steps -----------------------------------------------------------------
    def steps(self, raw: object) -> tuple[Step, ...]:
        if raw is None:
            self.report.error((), "missing required key 'steps'")
            return ()
        if not isinstance(raw, list) or not raw:
            self.report.error(("steps",), "'steps' must be a non-empty list of steps")
            return ()
        steps: list[Step] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(raw):
            step = self.step(item, ("steps", i))
            if step is None:
                continue
            if step.id in seen:
                self.report.error(("steps", i, "id"), f"duplicate step id {step.id!r} "
                                  f"(first used on line {seen[step.id]})")
                continue
            seen[step.id] = self.report.line(("steps", i, "id"))
            self.report.step_paths[step.id] = ("steps", i)
            steps.append(step)
        return tuple(steps)

    def step(self, raw: object, path: Path) -> Step | None:
        block = _mapping(raw, path, self.report,
                         "each step must be a mapping with an id and a type")
        if block is None:
            return None
        step_id = block.get("id")
        if not isinstance(step_id, str) or not STEP_ID.match(step_id):
            if step_id is None:
                self.report.error(path, "step has no 'id'")
            else:
                self.report.error((*path, "id"), f"step id {step_id!r} must be letters, digits, "
                                  "- and _ (up to 63)")
            return None
        kind = block.get("type")
        try:
            step_type = StepType(str(kind))
        except ValueError:
            known = ", ".join(t.value for t in StepType)
            self.report.error((*path, "type"), f"step {step_id!r}: unknown step type {kind!r} "
                              f"(known: {known})")
            return None
        allowed = COMMON_STEP_KEYS + STEP_KEYS[step_type]
        what = f"{with_article(step_type.value)} step"
        _known_keys(block, path, allowed, self.report, what)
        wait = self.wait(block, path)
        at = self.exact_date(block, path)
        if_past = block.get("if_past", "skip")
        if if_past not in ("skip", "send"):
            self.report.error((*path, "if_past"), "if_past is skip or send")
            if_past = "skip"
        variants = self.variants(block, path, step_type) if step_type in (
            StepType.EMAIL, StepType.MANUAL_EMAIL, StepType.LINKEDIN_MESSAGE) else ()
        condition = self.condition(block, path) if step_type is StepType.BRANCH else None
        return Step(
            id=step_id,
            type=step_type,
            wait=wait,
            at=at,
            if_past=if_past,
            variants=variants,
            thread=self.text(block, (*path, "thread")),
            instructions=self.text(block, (*path, "instructions")),
            condition=condition,
            goto=self.text(block, (*path, "goto")),
            otherwise=self.text(block, (*path, "else")),
        )

    def wait(self, block: Mapping[str, Any], path: Path) -> Wait:
        if "wait" not in block:
            return Wait()
        try:
            return parse_wait(block["wait"])
        except ValueError as exc:
            self.report.error((*path, "wait"), str(exc))
            return Wait()

    def exact_date(self, block: Mapping[str, Any], path: Path) -> date | None:
        raw = block.get("at")
        if raw is None or (isinstance(raw, date) and not hasattr(raw, "hour")):
            return raw
        try:
            return date.fromisoformat(str(raw))
        except ValueError:
            self.report.error((*path, "at"), f"'at' must be a date such as 2027-01-05, not {raw!r}")
            return None

    def variants(self, block: Mapping[str, Any], path: Path, kind: StepType) -> tuple[Variant, ...]:
        subject = block.get("subject")
        if "variants" in block and "template" in block:
            self.report.error((*path, "variants"), "give either 'template' or 'variants', not both",
                              at_key=True)
        if "variants" not in block:
            template = block.get("template")
            if template is None:
                if kind is StepType.EMAIL:
                    self.report.error(path, f"email step {block['id']!r} needs a 'template' "
                                      "or 'variants'")
                return ()
            if not isinstance(template, str):
                self.report.error((*path, "template"), "'template' must be a file name")
                return ()
            self.report.anchors[("variant", str(block["id"]), "default")] = path
            if isinstance(subject, str):
                self.report.anchors[("subject", str(block["id"]), "default")] = (*path, "subject")
            return (Variant("default", template, subject if isinstance(subject, str) else None),)
        raw = block["variants"]
        if not isinstance(raw, list) or not raw:
            self.report.error((*path, "variants"), "'variants' must be a non-empty list")
            return ()
        out: list[Variant] = []
        for i, item in enumerate(raw):
            variant = self.variant(item, (*path, "variants", i), i, subject)
            if variant is None:
                continue
            if any(v.id == variant.id for v in out):
                self.report.error((*path, "variants", i), f"duplicate variant id {variant.id!r}")
                continue
            step_id = str(block["id"])
            self.report.anchors[("variant", step_id, variant.id)] = (*path, "variants", i)
            own = isinstance(item, dict) and "subject" in item
            self.report.anchors[("subject", step_id, variant.id)] = (
                (*path, "variants", i, "subject") if own else (*path, "subject"))
            out.append(variant)
        return tuple(out)

    def variant(self, raw: object, path: Path, index: int, subject: object) -> Variant | None:
        block = _mapping(raw, path, self.report, "a variant is a mapping with a template")
        if block is None:
            return None
        _known_keys(block, path, VARIANT_KEYS, self.report, "a variant")
        template = self.text(block, (*path, "template"), required=True)
        weight = self.typed(block.get("weight", 1), (*path, "weight"), int, "a whole number")
        if weight is not None and weight < 0:
            self.report.error((*path, "weight"), "weight must be 0 or more")
        variant_id = block.get("id", chr(ord("a") + index) if index < 26 else f"v{index}")
        own_subject = self.text(block, (*path, "subject"))
        if template is None:
            return None
        return Variant(str(variant_id), template,
                       own_subject or (subject if isinstance(subject, str) else None),
                       max(weight or 0, 0) if weight is not None else 1)

    def condition(self, block: Mapping[str, Any], path: Path) -> Any:
        text = block.get("if")
        if text is None:
            self.report.error(path, f"branch {block['id']!r} needs an 'if' condition")
            return None
        if not isinstance(text, str):
            self.report.error((*path, "if"), "'if' must be a condition as text")
            return None
        goto = block.get("goto")
        if not isinstance(goto, str) or not goto.strip():
            where = (*path, "goto") if "goto" in block else path
            self.report.error(where, f"branch {block['id']!r} needs a 'goto' step")
        try:
            return parse_condition(text)
        except ConditionSyntaxError as exc:
            self.report.error((*path, "if"), f"branch {block['id']!r}: {exc}")
            return None


def merge_windows(windows: list[Window]) -> tuple[Window, ...]:
    """Sort the windows of a day and join those that overlap."""
    merged: list[Window] = []
    for w in sorted(windows, key=lambda w: w.start):
        if merged and w.start <= merged[-1].end:
            merged[-1] = Window(merged[-1].start, max(merged[-1].end, w.end))
        else:
            merged.append(w)
    return tuple(merged)
