"""Near-copies (qa.store.copies): one agency story republished under another headline,
its ending cut and a sentence reworded, is cited once, by its earliest published copy,
with the other listed in `also_in`; a scope holding only the reprint cites the reprint;
the timeline dates the story once; the Articles tab marks the reprint; removing the
original re-forms the group."""

from __future__ import annotations

from pathlib import Path

from conftest import make_settings

from qa import ask, check, timeline
from qa.store.copies import find_groups
from qa.store.ingest import ingest
from qa.store.library import list_articles

STORY = [
    "The port authority of Kelvik said on 4 March 2024 that it would spend 12 million "
    "euros on a new container terminal, the largest investment in the harbour in decades.",
    "The terminal will be built on reclaimed land north of the ferry quay and should open "
    "in the spring of 2026, the authority's director, Maren Holt, told reporters.",
    "Shipping companies welcomed the plan, saying the current quays are too short for the "
    "vessels now calling at the port.",
    "Environmental groups said they would study the plans for the reclaimed land closely.",
]


def write(folder: Path, name: str, title: str, date: str, paragraphs: list[str]) -> Path:
    path = folder / name
    front = f"---\ntitle: {title}\ndate: {date}\n---\n\n"
    path.write_text(front + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def reprint() -> list[str]:
    paragraphs = STORY[:3]  # the ending cut
    paragraphs[2] = paragraphs[2].replace("Shipping companies welcomed", "Shipping lines praised")
    return paragraphs


def two_copies(tmp_path: Path) -> tuple[Path, Path, Path]:
    folder = tmp_path / "articles"
    folder.mkdir()
    original = write(folder, "wire.txt", "Kelvik to build container terminal", "2024-03-04", STORY)
    copy = write(folder, "reprint.txt", "Big money for Kelvik harbour", "2024-03-05", reprint())
    # An unrelated article, so that the groups are not everything.
    write(folder, "other.txt", "Ferry fares rise", "2024-03-06", [
        "Ferry fares between Kelvik and Ostby will rise by five percent from April, the "
        "operator said, blaming the price of fuel and new safety rules for the crossing.",
    ])  # fmt: skip
    return folder, original, copy


def test_groups_are_near_copies_across_articles_only() -> None:
    items = [
        ("a1", "a", STORY[0]), ("a2", "a", STORY[2]), ("b1", "b", STORY[0]),
        ("b2", "b", reprint()[2]), ("c1", "c", STORY[3]), ("a3", "a", STORY[0]),
    ]  # fmt: skip
    groups = sorted(sorted(g) for g in find_groups(items))
    # a1 and a3 are the same paragraph twice in one article: they join only through b1.
    assert groups == [["a1", "a3", "b1"], ["a2", "b2"]]
    assert find_groups([("x", "a", STORY[0]), ("y", "b", STORY[1])]) == []


def test_a_story_is_cited_once_by_its_earliest_copy(tmp_path: Path) -> None:
    folder, original, copy = two_copies(tmp_path)
    settings = make_settings(tmp_path / "index", folder)
    ingest([folder], settings, quiet=True)
    answer = ask("How much will Kelvik spend on the container terminal?", settings=settings)
    assert not answer.abstained and "12 million euros" in answer.text
    sources = [c.source for c in answer.citations]
    assert sources.count("wire.txt") >= 1 and "reprint.txt" not in sources
    first = answer.citations[0]
    assert first.also_in == [
        {"source": "reprint.txt", "paragraph": 2, "date": "2024-03-05", "site": ""}
    ]
    assert first.as_dict()["also_in"] == first.also_in
    assert "reprint.txt" not in {r[0] for r in answer.retrieved}  # one copy was read

    # Asked of the reprint alone, the reprint is what is cited, with nothing beside it.
    scoped = ask("How much will Kelvik spend on the container terminal?", settings=settings,
                 sources=["reprint.txt"])  # fmt: skip
    assert scoped.citations[0].source == "reprint.txt" and scoped.citations[0].also_in == []

    # The claim is supported once, not by two articles.
    verdict = check("Kelvik will spend 12 million euros on a container terminal.", settings)
    assert verdict.verdict == "supported"
    assert [c.source for c in verdict.supporting] == ["wire.txt"]

    # The timeline dates the announcement once, from the original.
    dated = [e for e in timeline(settings=settings).events if e.kind == "text"
             and e.when.iso == "2024-03-04"]  # fmt: skip
    assert [e.citation.source for e in dated] == ["wire.txt"]
    assert dated[0].citation.also_in[0]["source"] == "reprint.txt"

    marks = {a.source: a.copy_of for a in list_articles(settings)}
    assert marks == {"reprint.txt": "wire.txt", "wire.txt": "", "other.txt": ""}

    # Without the original the group re-forms: the reprint stands alone.
    original.unlink()
    ingest([folder], settings, quiet=True)
    alone = ask("How much will Kelvik spend on the container terminal?", settings=settings)
    assert alone.citations[0].source == "reprint.txt" and alone.citations[0].also_in == []
    assert {a.source: a.copy_of for a in list_articles(settings)}["reprint.txt"] == ""
