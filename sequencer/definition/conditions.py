"""Branch conditions: a small expression language, parsed into frozen nodes.

Grammar (``if:`` of a branch step)::

    expr    := term ("or" term)*
    term    := factor ("and" factor)*
    factor  := "not" factor | "(" expr ")" | test
    test    := FACT [ "(" STEP ")" ]                  opened / clicked / replied / sent
             | "meeting_booked"
             | "stage" ("==" | "!=") NAME
             | "stage" ["not"] "in" "[" NAME ("," NAME)* "]"
             | "outcome" "(" STEP ")" ("==" | "!=") NAME
             | "outcome" "(" STEP ")" ["not"] "in" "[" NAME ("," NAME)* "]"

``replied`` without a step means a reply to any step. Evaluation reads a
``Facts`` object and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

FACT_NAMES = frozenset({"opened", "clicked", "replied", "sent"})


class Facts(Protocol):
    """What a condition can see about one enrollment."""

    @property
    def opened(self) -> frozenset[str]: ...
    @property
    def clicked(self) -> frozenset[str]: ...
    @property
    def replied_steps(self) -> frozenset[str]: ...
    @property
    def replied(self) -> bool: ...
    @property
    def sent(self) -> frozenset[str]: ...
    @property
    def stage(self) -> str | None: ...
    @property
    def meeting_booked(self) -> bool: ...
    @property
    def outcomes(self) -> Mapping[str, str]: ...


@dataclass(frozen=True, slots=True)
class Fact:
    name: str  # one of FACT_NAMES or "meeting_booked"
    step: str | None = None

    def evaluate(self, facts: Facts) -> bool:
        if self.name == "meeting_booked":
            return facts.meeting_booked
        if self.name == "replied" and self.step is None:
            return facts.replied
        steps = {
            "opened": facts.opened,
            "clicked": facts.clicked,
            "replied": facts.replied_steps,
            "sent": facts.sent,
        }[self.name]
        return bool(steps) if self.step is None else self.step in steps


@dataclass(frozen=True, slots=True)
class StageIn:
    stages: frozenset[str]
    negate: bool = False

    def evaluate(self, facts: Facts) -> bool:
        return (facts.stage in self.stages) != self.negate


@dataclass(frozen=True, slots=True)
class OutcomeIn:
    step: str
    outcomes: frozenset[str]
    negate: bool = False

    def evaluate(self, facts: Facts) -> bool:
        return (facts.outcomes.get(self.step) in self.outcomes) != self.negate


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition

    def evaluate(self, facts: Facts) -> bool:
        return not self.operand.evaluate(facts)


@dataclass(frozen=True, slots=True)
class All:
    operands: tuple[Condition, ...]

    def evaluate(self, facts: Facts) -> bool:
        return all(o.evaluate(facts) for o in self.operands)


@dataclass(frozen=True, slots=True)
class Any_:
    operands: tuple[Condition, ...]

    def evaluate(self, facts: Facts) -> bool:
        return any(o.evaluate(facts) for o in self.operands)


Condition = Fact | StageIn | OutcomeIn | Not | All | Any_


class ConditionSyntaxError(ValueError):
    """The text of a condition does not parse; the message says where."""


_TOKEN = re.compile(r"\s*(?:(==|!=|[()\[\],])|([A-Za-z0-9_][A-Za-z0-9_\-.]*))")


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            found = text[pos:].strip()[:10]
            raise ConditionSyntaxError(f"unexpected {found!r} at column {pos + 1}")
        tokens.append(match.group(1) or match.group(2))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None, *, describe: str | None = None) -> str:
        token = self.peek()
        if token is None:
            raise ConditionSyntaxError(
                f"condition ends early, expected {describe or expected or 'more'}"
            )
        if expected is not None and token != expected:
            raise ConditionSyntaxError(f"expected {expected!r}, found {token!r}")
        self.pos += 1
        return token

    def name(self, what: str) -> str:
        token = self.take(describe=what)
        if not (token[0].isalnum() or token[0] == "_"):
            raise ConditionSyntaxError(f"expected {what}, found {token!r}")
        return token

    def parse(self) -> Condition:
        if not self.tokens:
            raise ConditionSyntaxError("empty condition")
        node = self.expr()
        if self.peek() is not None:
            raise ConditionSyntaxError(f"unexpected {self.peek()!r} after a complete condition")
        return node

    def expr(self) -> Condition:
        operands = [self.term()]
        while self.peek() == "or":
            self.take()
            operands.append(self.term())
        return operands[0] if len(operands) == 1 else Any_(tuple(operands))

    def term(self) -> Condition:
        operands = [self.factor()]
        while self.peek() == "and":
            self.take()
            operands.append(self.factor())
        return operands[0] if len(operands) == 1 else All(tuple(operands))

    def factor(self) -> Condition:
        token = self.peek()
        if token == "not":
            self.take()
            return Not(self.factor())
        if token == "(":
            self.take()
            node = self.expr()
            self.take(")")
            return node
        return self.test()

    def test(self) -> Condition:
        word = self.name("a fact such as replied, opened(step), stage or outcome(step)")
        if word in FACT_NAMES:
            step = None
            if self.peek() == "(":
                self.take()
                if self.peek() != ")":
                    step = self.name("a step id")
                self.take(")")
            return Fact(word, step)
        if word == "meeting_booked":
            return Fact(word)
        if word == "stage":
            negate, values = self.comparison()
            return StageIn(values, negate)
        if word == "outcome":
            self.take("(")
            step = self.name("a step id")
            self.take(")")
            negate, values = self.comparison()
            return OutcomeIn(step, values, negate)
        known = ", ".join(sorted(FACT_NAMES | {"meeting_booked", "stage", "outcome"}))
        raise ConditionSyntaxError(f"unknown fact {word!r} (known: {known})")

    def comparison(self) -> tuple[bool, frozenset[str]]:
        op = self.take(describe="==, !=, in or not in")
        if op in ("==", "!="):
            return op == "!=", frozenset({self.name("a value")})
        negate = False
        if op == "not":
            negate = True
            op = self.take("in")
        if op != "in":
            raise ConditionSyntaxError(f"expected ==, != or in, found {op!r}")
        self.take("[")
        values = {self.name("a value")}
        while self.peek() == ",":
            self.take()
            values.add(self.name("a value"))
        self.take("]")
        return negate, frozenset(values)


def parse_condition(text: str) -> Condition:
    """Parse a branch condition.

    Raises:
        ConditionSyntaxError: the text is not a valid condition.
    """
    return _Parser(text).parse()


def referenced_steps(condition: Condition) -> list[str]:
    """Every step id a condition names, in order, for validation."""
    match condition:
        case Fact(step=step):
            return [step] if step else []
        case OutcomeIn(step=step):
            return [step]
        case StageIn():
            return []
        case Not(operand=operand):
            return referenced_steps(operand)
        case All(operands=ops) | Any_(operands=ops):
            return [s for op in ops for s in referenced_steps(op)]
    raise AssertionError(condition)  # pragma: no cover


def outcome_tests(condition: Condition) -> list[OutcomeIn]:
    """Every outcome comparison inside a condition."""
    match condition:
        case OutcomeIn():
            return [condition]
        case Not(operand=operand):
            return outcome_tests(operand)
        case All(operands=ops) | Any_(operands=ops):
            return [t for op in ops for t in outcome_tests(op)]
    return []
