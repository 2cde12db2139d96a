"""Read a console page as a person looks at it: the elements the page marks (an id or a
data-* attribute), each with its text and the links inside it. Standard library only."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    links: list[str] = field(default_factory=list)

    @property
    def words(self) -> str:
        return " ".join(self.text.split())


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.marked: list[Element] = []
        self.open: list[Element | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a" and "href" in values:
            for element in self.open:
                if element is not None:
                    element.links.append(values["href"])
        if tag in VOID:
            return
        marked = "id" in values or any(name.startswith("data-") for name in values)
        element = Element(tag, values) if marked else None
        if element is not None:
            if tag == "a" and "href" in values:
                element.links.append(values["href"])
            self.marked.append(element)
        self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        for element in self.open:
            if element is not None:
                element.text += data


def marked(html: str) -> list[Element]:
    reader = _Reader()
    reader.feed(html)
    return reader.marked


def by_id(html: str, element_id: str) -> Element:
    found = [element for element in marked(html) if element.attrs.get("id") == element_id]
    assert found, f"no element #{element_id}"
    return found[0]


def with_data(html: str, name: str) -> list[Element]:
    """Elements carrying the attribute `data-<name>`, in page order."""
    return [element for element in marked(html) if f"data-{name}" in element.attrs]
