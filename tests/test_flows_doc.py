"""docs/flows.md draws every registered flow: one diagram per flow, every step in one."""

from __future__ import annotations

import re
from pathlib import Path

from handlers import FLOWS, build_registry

DOC = Path(__file__).resolve().parent.parent / "docs" / "flows.md"
MERMAID = re.compile(r"^```mermaid\n(.*?)^```", re.M | re.S)


def _diagrams() -> dict[str, str]:
    """Each section's heading, with the Mermaid diagrams under it."""
    sections = DOC.read_text("utf-8").split("\n## ")[1:]
    return {
        heading: "\n".join(MERMAID.findall(body))
        for heading, _, body in (section.partition("\n") for section in sections)
    }


def test_every_flow_has_a_diagram_named_in_its_heading() -> None:
    headings = " ".join(heading for heading, diagram in _diagrams().items() if diagram)
    missing = [flow.name for flow in FLOWS if f"`{flow.name}`" not in headings]
    assert missing == []


def _drawn_steps() -> set[str]:
    """Step names in the diagrams: "flow.step" whose flow part is a registered flow."""
    names = re.findall(r"\b([a-z_]+\.[a-z_0-9]+)\b", " ".join(_diagrams().values()))
    flows = {flow.name for flow in FLOWS}
    return {name for name in names if name.partition(".")[0] in flows}


def _registered_steps() -> set[str]:
    registry = build_registry()
    return {f"{name}.{step.name}" for name, flow in registry.flows.items() for step in flow.steps}


def test_every_registered_step_is_drawn() -> None:
    assert sorted(_registered_steps() - _drawn_steps()) == []


def test_every_step_drawn_is_registered() -> None:
    assert sorted(_drawn_steps() - _registered_steps()) == []
