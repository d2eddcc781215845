"""The sandboxed Jinja2 environment and the renderer (RELIABILITY rule 8).

Templates are user content: they render in Jinja2's ``SandboxedEnvironment``
(Jinja2 3.1.6 or later, which closes the known sandbox escapes), with no loader,
a plain-data context, and caps the sandbox alone does not give: no string or list
multiplied past the output cap, no huge powers, every ``range`` and the whole
render bounded in time, the output bounded in size while it is produced, and deep
recursion caught. Any of these holds the step; nothing is sent.
"""

from __future__ import annotations

import operator
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

from jinja2 import StrictUndefined, TemplateError, Undefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from sequencer.errors import SequencerError

MAX_OUTPUT_CHARS = 100_000
MAX_RENDER_SECONDS = 2.0  # a template that needs longer is a mistake or an attack
MAX_EXPONENT = 64
MAX_RANGE = 100_000  # as Jinja2's own sandboxed range
_budget = threading.local()  # this thread's render deadline (renders run per thread)


class RenderError(SequencerError):
    """A template could not be rendered for a prospect; nothing may be sent."""


class MissingField(StrictUndefined):
    """An absent merge field: false in ``{% if %}``, replaced by ``default``, fatal when printed."""

    def __bool__(self) -> bool:  # type: ignore[override]
        return False

    def _fail(self, *args: Any, **kwargs: Any) -> NoReturn:
        namespace = getattr(self._undefined_obj, "namespace", None)
        name = f"{namespace}.{self._undefined_name}" if namespace else self._undefined_name
        raise RenderError(f"merge field {name!r} is empty for this prospect "
                          "and the template gives no fallback (use | default(...))")

    __str__ = _fail
    __iter__ = _fail
    __len__ = _fail


class _CappedSandbox(SandboxedEnvironment):
    """The sandbox, with the operators that can allocate without bound checked."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"power with an exponent above {MAX_EXPONENT} refused")
            return operator.pow(left, right)
        sized, count = (left, right) if isinstance(left, str | list | tuple) else (right, left)
        if isinstance(sized, str | list | tuple) and isinstance(count, int) \
                and len(sized) * count > MAX_OUTPUT_CHARS:
            raise SecurityError(f"repetition larger than {MAX_OUTPUT_CHARS} refused")
        return operator.mul(left, right)


def _bounded_range(*args: int) -> Iterator[int]:
    """``range`` of at most ``MAX_RANGE`` items, that gives up when the render's deadline
    passes (nested loops too)."""
    if len(range(*args)) > MAX_RANGE:
        raise SecurityError(f"range larger than {MAX_RANGE} refused")
    for index, value in enumerate(range(*args)):
        if not index % 1024:
            _check_deadline()
        yield value


def _check_deadline() -> None:
    deadline = getattr(_budget, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise SecurityError(f"rendering took longer than {MAX_RENDER_SECONDS} s")


def make_environment() -> SandboxedEnvironment:
    """A fresh sandboxed environment with no loader: templates come in as text."""
    env = _CappedSandbox(
        undefined=MissingField,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["range"] = _bounded_range
    return env


class Renderer:
    """Renders templates from a directory, compiling each file once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = make_environment()
        self._compiled: dict[str, Any] = {}

    def _template(self, name: str, source: str | None = None) -> Any:
        key = name if source is None else f"{name}\0{source}"
        found = self._compiled.get(key)
        if found is None:
            text = source if source is not None else (self.root / name).read_text("utf-8")
            try:
                found = self._compiled[key] = self.env.from_string(text)
            except TemplateError as exc:
                raise RenderError(f"{name}: {exc}") from exc
        return found

    def render_file(self, name: str, context: Mapping[str, Any]) -> str:
        return self._render(self._template(name), name, context)

    def render_text(self, text: str, context: Mapping[str, Any], *, name: str = "<subject>"
                    ) -> str:
        return self._render(self._template(name, text), name, context)

    @staticmethod
    def _render(template: Any, name: str, context: Mapping[str, Any]) -> str:
        """Render chunk by chunk, so size and time are checked while output is made."""
        _budget.deadline = time.monotonic() + MAX_RENDER_SECONDS
        parts: list[str] = []
        size = 0
        try:
            for part in template.generate(context):
                size += len(part)
                if size > MAX_OUTPUT_CHARS:
                    raise RenderError(f"output larger than {MAX_OUTPUT_CHARS} characters")
                _check_deadline()
                parts.append(part)
        except RenderError as exc:
            raise RenderError(f"{name}: {exc}") from exc
        except RecursionError as exc:
            raise RenderError(f"{name}: the template recurses too deeply") from exc
        except (TemplateError, ArithmeticError, TypeError, ValueError, MemoryError) as exc:
            raise RenderError(f"{name}: {exc}") from exc
        finally:
            _budget.deadline = None
        return "".join(parts)


def is_missing(value: object) -> bool:
    return isinstance(value, Undefined)
