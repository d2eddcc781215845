"""What a template uses: every merge field with its line, and whether it has a fallback.

``validate`` uses this to report unknown fields (errors) and optional fields
printed without a fallback (warnings), before any prospect is at risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jinja2 import TemplateSyntaxError, nodes

from sequencer.definition.fields import ALWAYS_PRESENT, NAMESPACES, TOP_LEVEL
from sequencer.render.environment import make_environment

FALLBACK_FILTERS = frozenset({"default", "d"})
# Names Jinja provides itself: inside loops, macros and its global functions.
JINJA_BUILTINS = frozenset({"loop", "range", "dict", "lipsum", "cycler", "joiner", "namespace",
                            "self", "varargs", "kwargs", "caller", "super"})


@dataclass(frozen=True, slots=True)
class FieldUse:
    name: str  # "prospect.first_name", "prospect.custom.pain_point", "unsubscribe_url"
    line: int
    has_fallback: bool


@dataclass
class TemplateReport:
    syntax_error: tuple[int, str] | None = None
    uses: list[FieldUse] = field(default_factory=list)

    def names(self) -> set[str]:
        return {u.name for u in self.uses}


def analyse_template(source: str) -> TemplateReport:
    """Parse ``source`` and list its merge fields; a syntax error is reported, not raised."""
    env = make_environment()
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        return TemplateReport(syntax_error=(exc.lineno or 1, exc.message or str(exc)))
    report = TemplateReport()
    local_names = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    local_names |= JINJA_BUILTINS
    _visit(tree, report, guarded=frozenset(), fallback=False, local=local_names)
    return report


def _dotted(node: nodes.Node) -> str | None:
    """``prospect.custom.x`` for a chain of attribute lookups on a name."""
    parts: list[str] = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            parts.append(node.arg.value)
        else:
            return None
        node = node.node
    if isinstance(node, nodes.Name):
        return ".".join([node.name, *reversed(parts)])
    return None


def _visit(node: nodes.Node, report: TemplateReport, *, guarded: frozenset[str],
           fallback: bool, local: set[str]) -> None:
    if isinstance(node, nodes.Filter) and node.name in FALLBACK_FILTERS:
        if node.node is not None:
            _visit(node.node, report, guarded=guarded, fallback=True, local=local)
        for arg in node.args:
            _visit(arg, report, guarded=guarded, fallback=fallback, local=local)
        return
    if isinstance(node, nodes.Or):
        _visit(node.left, report, guarded=guarded, fallback=True, local=local)
        _visit(node.right, report, guarded=guarded, fallback=fallback, local=local)
        return
    if isinstance(node, nodes.CondExpr | nodes.If):
        _visit_conditional(node, report, guarded=guarded, fallback=fallback, local=local)
        return
    name = _dotted(node) if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name) else None
    if name is not None and name.split(".")[0] not in local:
        if isinstance(node, nodes.Name) and node.ctx != "load":
            return
        report.uses.append(FieldUse(name, node.lineno, fallback or name in guarded))
        return
    for child in node.iter_child_nodes():
        _visit(child, report, guarded=guarded, fallback=fallback, local=local)


def _visit_conditional(node: nodes.CondExpr | nodes.If, report: TemplateReport, *,
                       guarded: frozenset[str], fallback: bool, local: set[str]) -> None:
    """What the test ensures guards the true branch only."""
    _visit(node.test, report, guarded=guarded, fallback=True, local=local)
    tested = guarded | _ensured(node.test)
    then: list[nodes.Node]
    otherwise: list[nodes.Node]
    if isinstance(node, nodes.CondExpr):
        then, otherwise = [node.expr1], [node.expr2] if node.expr2 is not None else []
    else:
        then, otherwise = list(node.body), [*node.elif_, *node.else_]
    for child in then:
        _visit(child, report, guarded=tested, fallback=fallback, local=local)
    for child in otherwise:
        _visit(child, report, guarded=guarded, fallback=fallback, local=local)


def _ensured(test: nodes.Node) -> set[str]:
    """The fields a true ``test`` guarantees present: ``a and b`` both, ``a or b`` neither."""
    if isinstance(test, nodes.Getattr | nodes.Getitem | nodes.Name):
        name = _dotted(test)
        return {name} if name else set()
    if isinstance(test, nodes.And):
        return _ensured(test.left) | _ensured(test.right)
    if isinstance(test, nodes.Or):
        return _ensured(test.left) & _ensured(test.right)
    return set()  # not, comparisons and calls guarantee nothing


def field_problem(name: str, custom_fields: frozenset[str]) -> str | None:
    """Why ``name`` is not a merge field a prospect can provide, or None if it is."""
    parts = name.split(".")
    root = parts[0]
    if root not in TOP_LEVEL:
        return f"unknown variable {root!r} (known: {', '.join(sorted(TOP_LEVEL))})"
    if root not in NAMESPACES or len(parts) == 1:
        return None
    if root == "prospect" and parts[1] == "custom":
        if len(parts) == 2:
            return None
        if parts[2] not in custom_fields:
            return (f"'prospect.custom.{parts[2]}' is not a declared custom field "
                    "(add it to custom_fields)")
        return None
    if parts[1] not in NAMESPACES[root]:
        return (f"{name!r} is not a {root} field (known: "
                f"{', '.join(sorted(NAMESPACES[root]))})")
    return None


def is_optional(name: str) -> bool:
    """Whether a prospect may lack ``name`` (custom fields are always optional)."""
    parts = name.split(".")
    if parts[0] not in NAMESPACES or len(parts) < 2:
        return False
    return parts[1] not in ALWAYS_PRESENT[parts[0]]
