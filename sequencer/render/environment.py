"""The sandboxed Jinja2 environment and the renderer."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from jinja2 import StrictUndefined, TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment

from sequencer.errors import SequencerError

MAX_OUTPUT_CHARS = 100_000


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


def make_environment() -> SandboxedEnvironment:
    """A fresh sandboxed environment with no loader: templates come in as text."""
    env = SandboxedEnvironment(
        undefined=MissingField,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
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
        try:
            out = str(template.render(context))
        except RenderError as exc:
            raise RenderError(f"{name}: {exc}") from exc
        except (TemplateError, ArithmeticError, TypeError, ValueError) as exc:
            raise RenderError(f"{name}: {exc}") from exc
        if len(out) > MAX_OUTPUT_CHARS:
            raise RenderError(f"{name}: output larger than {MAX_OUTPUT_CHARS} characters")
        return out


def is_missing(value: object) -> bool:
    return isinstance(value, Undefined)
