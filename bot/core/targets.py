"""Every step name written in the flows' code resolves, checked when the registry is built.

A step names where the conversation goes next as a string ("produk.satuan"): in `Goto(...)`
and `Enter(...)`, as a builder's `next_step=` or `summary=`, as what a function returns, or
as the first half of an edit menu's (step, label) pair. A typo there would only show in a
chat, as an internal error; reading the flows' modules once at start-up finds it first.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from types import ModuleType

STEP_CALLS = frozenset({"Goto", "Enter", "go_on"})
STEP_KEYWORDS = frozenset({"to", "next_step", "summary", "back"})
_STEP_NAME = re.compile(r"^([a-z_]+)\.([a-z_0-9]+)$")


class UnknownTarget(LookupError):
    """A flow's code names a step that no registered flow has."""


def check_targets(
    modules: Iterable[ModuleType], flows: Iterable[str], resolves: Callable[[str], object]
) -> None:
    """Raise UnknownTarget for a step name in `modules` that `resolves` refuses.

    Only names whose flow part is one of `flows` count: "errors.internal" is a catalog key.
    """
    flow_names = frozenset(flows)
    for module in modules:
        for line, name in _named_steps(module):
            match = _STEP_NAME.match(name)
            if match is None or match.group(1) not in flow_names:
                continue
            try:
                resolves(name)
            except LookupError:
                raise UnknownTarget(
                    f"{module.__name__}:{line} goes to {name!r}, which is no step"
                ) from None


@cache
def _named_steps(module: ModuleType) -> tuple[tuple[int, str], ...]:
    tree = ast.parse(inspect.getsource(module))
    return tuple(dict.fromkeys(_strings_naming_steps(tree)))


def _strings_naming_steps(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        named = _expression_naming_a_step(node)
        if named is not None:
            yield from _constants(named)


def _expression_naming_a_step(node: ast.AST) -> ast.AST | None:
    if isinstance(node, ast.Call) and _called(node) in STEP_CALLS and node.args:
        return node.args[0]
    if isinstance(node, ast.keyword) and node.arg in STEP_KEYWORDS:
        return node.value
    if isinstance(node, ast.Return):
        return node.value
    if isinstance(node, ast.Tuple) and len(node.elts) == 2:  # an edit menu's (step, label)
        step, label = node.elts
        if isinstance(label, ast.Constant) and isinstance(label.value, str):
            return step
    return None


def _called(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _constants(node: ast.AST) -> Iterator[tuple[int, str]]:
    """String constants in an expression, through conditionals ("a" if x else "b")."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.lineno, node.value
    elif isinstance(node, ast.IfExp):
        yield from _constants(node.body)
        yield from _constants(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _constants(value)
