"""How a cited paragraph's origin reads, the same in the CLI, the JSON's neighbours and the
chat page: "CNN · 27 November 2013 · by Jane Doe", and "paragraph 4, page 2"."""

from __future__ import annotations

from datetime import date as Date
from typing import Protocol


class HasOrigin(Protocol):
    paragraph: int
    date: str
    author: str
    site: str
    page: int


def shown_date(iso: str) -> str:
    """'2015-03-10' -> '10 March 2015'; anything else as it is."""
    try:
        d = Date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{d.day} {d.strftime('%B')} {d.year}"


def origin(c: HasOrigin) -> str:
    """Site, date and author of the article a paragraph comes from; "" if none is known."""
    parts = [c.site, shown_date(c.date) if c.date else "", f"by {c.author}" if c.author else ""]
    return " · ".join(p for p in parts if p)


def position(c: HasOrigin) -> str:
    """'paragraph 4' or, in a PDF, 'paragraph 4, page 2'."""
    return f"paragraph {c.paragraph}" + (f", page {c.page}" if c.page else "")
