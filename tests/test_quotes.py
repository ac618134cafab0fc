"""Who said what (qa.quotes, qa.desk.quotebook, qa.desk.said): every quotation and reported
statement in both seed articles, with its speaker, found and nothing else; spellings of
one person grouped; titles; quotes over several paragraphs and other quote styles on
small articles; the stored quotes kept in step with the index; `ask` and `qa quotes`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SEED_000, SEED_002, make_settings, seed_paragraph

import qa
from qa.cli import main
from qa.desk.quotebook import QuoteItem, book
from qa.reading.quotes import extract
from qa.settings import Settings
from qa.store.ingest import ingest
from qa.store.opened import forget_stores, open_store
from qa.store.quote_rows import COLLECTION

# Every quotation (direct) and reported statement in the seeds, read by hand:
# (article, paragraph, kind, speaker, as the article names them, how the text starts).
GOLD = [
    (SEED_000, 2, "reported", "Eric Jacobstein", "Eric Jacobstein", "The money will be used"),
    (SEED_000, 5, "direct", "Eric Jacobstein", "the official", "We support repatriation"),
    (SEED_000, 6, "reported", "Eric Jacobstein", "Jocobstein", "this is a pilot plan"),
    (SEED_000, 6, "reported", "Eric Jacobstein", "He", "no nationality in particular"),
    (SEED_000, 7, "reported", "Eric Jacobstein", "The Deputy Assistant Secretary of State",
     "the United States has provided $50 million"),
    (SEED_000, 8, "reported", "Eric Jacobstein", "he", "they have also offered $8,000,000"),
    (SEED_000, 11, "direct", "Marcela Escobar", "Marcela Escobar", "we want to strengthen"),
    (SEED_000, 12, "reported", "Marcela Escobar", "Escobar", "the signed agreement strengthens"),
    (SEED_000, 13, "reported", "Luis Miranda", "Luis Miranda", "logistics will be established"),
    (SEED_000, 13, "direct", "Luis Miranda", "Luis Miranda", "non-refoulement when the person"),
    (SEED_000, 15, "reported", "they", "They", "this pilot program will provide"),
    (SEED_000, 15, "direct", "they", "They", "in a humane manner, to repatriate"),
    (SEED_000, 17, "reported", "they", "they", "safe-conduct passes are being"),
    (SEED_000, 18, "direct", "Luis Miranda", "Miranda", "We have collaboration with"),
    (SEED_000, 19, "reported", "Eric Jacobstein", "Jocobstein", "Technology has been used"),
    (SEED_000, 21, "reported", "Marcela Escobar", "Marcela Escobar", "30,000 people have"),
    (SEED_000, 21, "direct", "Marcela Escobar", "Marcela Escobar", "a record number in the"),
    (SEED_000, 21, "reported", "Marcela Escobar", "She", "this initiative was being expanded"),
    (SEED_000, 21, "direct", "Marcela Escobar", "She", "conversations are being held"),
    (SEED_000, 23, "direct", "State Department officials", "State Department officials",
     "Use legal means before"),
    (SEED_000, 23, "reported", "State Department officials", "State Department officials",
     "never before in the United States"),
    (SEED_002, 5, "direct", "Alejandro Mayorkas",
     "Homeland Security Secretary Alejandro Mayorkas", "a regional response"),
    (SEED_002, 5, "reported", "Alejandro Mayorkas",
     "Homeland Security Secretary Alejandro Mayorkas", "the agreement is part of"),
    (SEED_002, 6, "direct", "Alejandro Mayorkas", "Mayorkas", "As the United States continues"),
    (SEED_002, 7, "direct", "José Raúl Mulino", "Mulino", "close"),
]  # fmt: skip


def key(item: QuoteItem) -> tuple[str, int, str, str, str]:
    return (item.source, item.citations[0].paragraph, item.kind, item.speaker, item.said_as)


def matched(items: list[QuoteItem], gold: list[tuple[str, int, str, str, str, str]]) -> int:
    """How many gold entries one item each matches (same place, kind, speaker, start)."""
    left = list(items)
    hits = 0
    for source, n, kind, speaker, said_as, start in gold:
        for item in left:
            if key(item) == (source, n, kind, speaker, said_as) and item.text.startswith(start):
                left.remove(item)
                hits += 1
                break
    return hits


def test_every_seed_quote_with_its_speaker_and_none_invented(seeded: Settings) -> None:
    items = qa.quotes(settings=seeded)
    hits = matched(items, GOLD)
    precision, recall = hits / len(items), hits / len(GOLD)
    assert (precision, recall) == (1.0, 1.0), sorted(map(key, items))
    # The scare quote in ¶3 (the “non-refoulement” rule) is no one's quote.
    assert not [i for i in items if i.citations[0].paragraph == 3 and i.source == SEED_000]


def test_each_quote_is_cited_to_the_verbatim_paragraph(seeded: Settings) -> None:
    for item in qa.quotes(settings=seeded):
        for c in item.citations:
            assert c.text == seed_paragraph(c.source, c.paragraph)
            assert c.sentence and c.sentence in c.text
        if item.kind == "direct":
            assert item.text in item.citations[0].text


def test_pronoun_and_role_speakers_are_resolved_and_marked(seeded: Settings) -> None:
    by_said = {(i.said_as, i.citations[0].paragraph): i for i in qa.quotes(settings=seeded)}
    assert by_said[("the official", 5)].resolved
    assert by_said[("The Deputy Assistant Secretary of State", 7)].speaker == "Eric Jacobstein"
    assert by_said[("She", 21)].resolved and by_said[("She", 21)].speaker == "Marcela Escobar"
    assert not by_said[("Miranda", 18)].resolved
    # A group stays as the article writes it.
    assert not by_said[("They", 15)].resolved
    assert {i.said_as for i in qa.quotes("they", seeded)} == {"They", "they"}
    # "What did they say ...?" is not looked up among unnamed groups' quotes.
    answer = qa.ask("What did they say about safe-conduct passes?", settings=seeded)
    assert not any("quotes the articles attribute" in n for n in answer.notes)


def test_spellings_of_one_person_are_grouped(seeded: Settings) -> None:
    jacobstein = qa.quotes("Jacobstein", seeded)
    assert [key(i) for i in qa.quotes("Jocobstein", seeded)] == [key(i) for i in jacobstein]
    assert {i.citations[0].paragraph for i in jacobstein} == {2, 5, 6, 7, 8, 19}
    assert {i.said_as for i in jacobstein} >= {"Jocobstein", "Eric Jacobstein"}
    # Raúl José / José Raúl Mulino: one person across the two articles.
    for name in ("Raúl José Mulino", "José Raúl Mulino", "Mulino"):
        assert [key(i) for i in qa.quotes(name, seeded)] == [
            (SEED_002, 7, "direct", "José Raúl Mulino", "Mulino")
        ]
    groups = book(seeded).groups
    mulino = groups.find("Raúl José Mulino")
    assert len(mulino) == 1 and set(mulino[0].names) == {"José Raúl Mulino", "Raúl José Mulino"}
    escobar = groups.find("Marcela Escobari")
    assert len(escobar) == 1 and {"Marcela Escobar", "Marcela Escobari"} <= set(escobar[0].names)
    assert len(qa.quotes("Marcela Escobari", seeded)) == 6
    assert qa.quotes("Nobody Known", seeded) == []


def test_titles_come_from_the_articles(seeded: Settings) -> None:
    titles = {i.speaker: i.title for i in qa.quotes(settings=seeded)}
    assert titles["Eric Jacobstein"] == (
        "deputy assistant secretary of state for the Bureau of Western Hemisphere Affairs "
        "of the Department of State"
    )
    assert titles["Luis Miranda"].startswith("Principal Deputy Assistant Secretary for Comm")
    assert titles["Marcela Escobar"].startswith("Special Assistant to the President")
    assert titles["Alejandro Mayorkas"] == "Homeland Security Secretary"
    assert "President-elect" in titles["José Raúl Mulino"]
    mulino = book(seeded).groups.find("Mulino")[0]
    assert mulino.titles[SEED_000] == "President"


def test_about_ranks_a_speakers_quotes_by_topic(seeded: Settings) -> None:
    arrests = qa.quotes("Miranda", seeded, about="arresting traffickers")
    assert arrests and arrests[0].citations[0].paragraph == 18
    assert qa.quotes("Miranda", seeded, about="the weather in Paris") == []
    assert [i.source for i in qa.quotes(settings=seeded, sources=[SEED_002])] == [SEED_002] * 4
    with pytest.raises(qa.QAError, match="No article in the index matches 'nope.txt'"):
        qa.quotes(settings=seeded, sources=["nope.txt"])


def test_quotes_take_the_same_scope_as_ask(seeded: Settings) -> None:
    title = "US grants Panama $6 million for repatriation of illegal immigrants"
    assert {i.source for i in qa.quotes(settings=seeded, sources=[title])} == {SEED_000}
    assert qa.quotes("Miranda", seeded, sources=[SEED_002]) == []
    with pytest.raises(qa.QAError, match="is not a date"):
        qa.quotes(settings=seeded, since="last week")
    # Scoped to the other article, Miranda's quote is not the answer.
    question = "What did Miranda say about arrests of traffickers?"
    answer = qa.ask(question, settings=seeded, sources=[SEED_002])
    assert (SEED_000, 18) not in [(c.source, c.paragraph) for c in answer.citations]
    assert not any("quotes the articles attribute" in n for n in answer.notes)


def test_ask_what_a_speaker_said_cites_their_quote(seeded: Settings) -> None:
    answer = qa.ask("What did Miranda say about arrests of traffickers?", settings=seeded)
    assert not answer.abstained
    assert [(c.source, c.paragraph) for c in answer.citations][0] == (SEED_000, 18)
    assert "Luis Miranda" in answer.text and "20,000 people" in answer.text
    # The one who said it is resolved, and the answer says how.
    answer = qa.ask("What did Jocobstein say about the reward?", settings=seeded)
    assert (answer.citations[0].source, answer.citations[0].paragraph) == (SEED_000, 8)
    assert any("“he”" in note for note in answer.notes)
    # Nothing Miranda said is about this: not answered from his quotes.
    answer = qa.ask("What did Miranda say about the weather in Paris?", settings=seeded)
    assert (SEED_000, 18) not in [(c.source, c.paragraph) for c in answer.citations]
    assert not any("quotes the articles attribute" in n for n in answer.notes)


def test_cli_quotes_json_and_text(seeded: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    index = ["--index", str(seeded.index_dir)]
    assert main([*index, "quotes", "--speaker", "Jocobstein", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {q["speaker"] for q in out["quotes"]} == {"Eric Jacobstein"}
    assert sorted(q["paragraphs"][0] for q in out["quotes"]) == [2, 5, 6, 6, 7, 8, 19]
    assert all(q["citations"][0]["text"] == seed_paragraph(SEED_000, q["paragraphs"][0])
               for q in out["quotes"])  # fmt: skip
    assert main([*index, "quotes", "--speaker", "Mayorkas"]) == 0
    text = capsys.readouterr().out
    assert "Alejandro Mayorkas, Homeland Security Secretary" in text and "¶6" in text
    assert main([*index, "quotes", "--source", "nope.txt"]) == 2
    assert capsys.readouterr().err.startswith("error: No article in the index matches")


# --- small articles ------------------------------------------------------------------

STYLES = """Council approves harbour plan

The council voted 7-2 on Tuesday to rebuild the north pier, the mayor's office said.

"This is the most important decision we have taken in ten years," said Mayor Ines Kowalski, who proposed the plan.

"The pier has been closing for repairs every winter. Fishermen lose weeks of work.

"We cannot keep patching it," she added.

According to harbour engineer Tomas Brandt, "the old pilings are rotten below the waterline."

Brandt told the council that repairs would cost more than a new pier within five years.

Residents called it a "new start" for the waterfront.
"""  # noqa: E501

STYLES_GOLD = [
    ("styles.txt", 2, "reported", "the mayor's office", "the mayor's office", "The council voted"),
    ("styles.txt", 3, "direct", "Ines Kowalski", "Mayor Ines Kowalski", "This is the most"),
    ("styles.txt", 4, "direct", "Ines Kowalski", "she", "The pier has been closing"),
    ("styles.txt", 6, "direct", "Tomas Brandt", "harbour engineer Tomas Brandt",
     "the old pilings"),
    ("styles.txt", 7, "reported", "Tomas Brandt", "Brandt", "repairs would cost"),
]  # fmt: skip

# Written after the rules were first final, to measure them. Measured then: 2 quotes
# found, both by the right person but named by surname alone ("Aalto", "Lund": a name
# given only as "union leader Sven Aalto" was not known as a person), so precision 0/2
# and recall 0/7 by exact speaker (2/2 and 2/7 by person). The rules were then fixed on
# it (names mentioned anywhere, "the chief executive, Mirja Lund, said", "X, she said,
# ...", "a crew member said", "the union stressed"), so it is no longer held back.
HELD_BACK = """Ferry strike ends after two days

Ferry crews returned to work on Thursday after union leader Sven Aalto announced a deal.

"We got what we came for," Aalto told reporters outside the terminal. The company's chief executive, Mirja Lund, said the agreement "protects every route we run."

Lund warned that fares could rise next year.

Passengers, she said, should check timetables before travelling.

"It was a hard two days for everyone," a crew member said.

The deal, the union stressed, runs until 2027.
"""  # noqa: E501

HELD_BACK_GOLD = [
    ("held.txt", 3, "direct", "Sven Aalto", "Aalto", "We got what we came for"),
    ("held.txt", 3, "direct", "Mirja Lund", "Mirja Lund", "protects every route"),
    ("held.txt", 3, "reported", "Mirja Lund", "Mirja Lund", "the agreement"),
    ("held.txt", 4, "reported", "Mirja Lund", "Lund", "fares could rise"),
    ("held.txt", 5, "reported", "Mirja Lund", "she", "Passengers"),
    ("held.txt", 6, "direct", "a crew member", "a crew member", "It was a hard two days"),
    ("held.txt", 7, "reported", "the union", "the union", "The deal"),
]  # fmt: skip

# Written after those fixes and measured: precision 2/3, recall 2/8 ("she" given to the
# wrong person; missed a name in apposition inside a tag, an untagged second quote,
# "told the crowd <clause>", "One reviewer wrote that"). The rules were then fixed on
# it too, so it is no longer held back either.
HELD_BACK_2 = """Museum reopens with new wing

The city museum reopened on Saturday with a wing for modern art, its director, Paula Serrano, announced.

"Visitors have waited four years for this," Serrano said in an interview. "We think it was worth it."

Culture Minister Henrik Olsen told the crowd the wing cost 40 million crowns.

Critics were less kind. One reviewer wrote that the new galleries "feel like an airport."

Serrano rejected that view: "Airports do not have Matisse," she said.

The museum expects 300,000 visitors this year, a spokeswoman said.
"""  # noqa: E501

HELD_BACK_2_GOLD = [
    ("held2.txt", 2, "reported", "Paula Serrano", "Paula Serrano", "The city museum"),
    ("held2.txt", 3, "direct", "Paula Serrano", "Serrano", "Visitors have waited"),
    ("held2.txt", 3, "direct", "Paula Serrano", "Serrano", "We think it was worth it"),
    ("held2.txt", 4, "reported", "Henrik Olsen", "Culture Minister Henrik Olsen", "the wing cost"),
    ("held2.txt", 5, "reported", "One reviewer", "One reviewer", "the new galleries"),
    ("held2.txt", 5, "direct", "One reviewer", "One reviewer", "feel like an airport"),
    ("held2.txt", 6, "direct", "Paula Serrano", "she", "Airports do not have Matisse"),
    ("held2.txt", 7, "reported", "a spokeswoman", "a spokeswoman", "The museum expects"),
]  # fmt: skip

# Written after those fixes, and measured without changing a rule since: the held-back
# measure of the rules as they are.
HELD_BACK_3 = """Drought forces water limits in three valleys

Water use in the Arlen, Fosse and Marrow valleys will be capped from Monday, the regional water board announced on Friday.

"We have never seen reservoirs this low in March," board chairman Oskar Lindqvist told a press conference. He added that the cap would be lifted once rainfall returned to normal.

Farmers' union president Greta Holm called the decision "late and badly explained."

"Nobody asked us," Holm said. "Nobody."

According to the board, households will be allowed 120 litres a day.

Environment Minister Lars Ek said on Saturday that the government would pay for emergency pipelines. "This is a national problem, not a local one," he said.

Residents have mixed feelings. "I understand it, but I have three children," said Anna Berg, a mother from Fosse.
"""  # noqa: E501

HELD_BACK_3_GOLD = [
    ("held3.txt", 2, "reported", "the regional water board", "the regional water board",
     "Water use in the"),
    ("held3.txt", 3, "direct", "Oskar Lindqvist", "board chairman Oskar Lindqvist",
     "We have never seen"),
    ("held3.txt", 3, "reported", "Oskar Lindqvist", "He", "the cap would be lifted"),
    ("held3.txt", 4, "direct", "Greta Holm", "Farmers' union president Greta Holm",
     "late and badly"),
    ("held3.txt", 5, "direct", "Greta Holm", "Holm", "Nobody asked us"),
    ("held3.txt", 5, "direct", "Greta Holm", "Holm", "Nobody."),
    ("held3.txt", 6, "reported", "the board", "the board", "households will be allowed"),
    ("held3.txt", 7, "reported", "Lars Ek", "Environment Minister Lars Ek", "the government"),
    ("held3.txt", 7, "direct", "Lars Ek", "he", "This is a national problem"),
    ("held3.txt", 8, "direct", "Anna Berg", "Anna Berg", "I understand it"),
]  # fmt: skip


@pytest.fixture
def small(tmp_path: Path) -> Settings:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "styles.txt").write_text(STYLES, encoding="utf-8")
    (folder / "held.txt").write_text(HELD_BACK, encoding="utf-8")
    (folder / "held2.txt").write_text(HELD_BACK_2, encoding="utf-8")
    (folder / "held3.txt").write_text(HELD_BACK_3, encoding="utf-8")
    settings = make_settings(tmp_path / "index", folder)
    ingest([folder], settings, quiet=True)
    return settings


def test_a_quote_over_several_paragraphs_and_other_styles(small: Settings) -> None:
    items = qa.quotes(settings=small, sources=["styles.txt"])
    assert matched(items, STYLES_GOLD) == len(STYLES_GOLD) == len(items), sorted(map(key, items))
    running = next(i for i in items if i.said_as == "she")
    # Opened in ¶4 with no closing mark, continued by ¶5's opening mark, closed there.
    assert [c.paragraph for c in running.citations] == [4, 5]
    assert running.text.endswith("Fishermen lose weeks of work. We cannot keep patching it")
    assert running.resolved
    assert [i.title for i in items if i.speaker == "Ines Kowalski"][0] == "Mayor"
    # "a “new start”" with no speech verb is a scare quote.
    assert not [i for i in items if "new start" in i.text]


def test_first_held_back_article_after_the_fixes_it_prompted(small: Settings) -> None:
    items = qa.quotes(settings=small, sources=["held.txt"])
    hits = matched(items, HELD_BACK_GOLD)
    # Missed: "said the agreement “protects ...”", a clause that is mostly the quote.
    assert (hits, len(items), len(HELD_BACK_GOLD)) == (6, 6, 7), sorted(map(key, items))


def test_second_held_back_article_after_the_fixes_it_prompted(small: Settings) -> None:
    items = qa.quotes(settings=small, sources=["held2.txt"])
    hits = matched(items, HELD_BACK_2_GOLD)
    # Missed: "One reviewer wrote that the new galleries “...”", mostly the quote.
    assert (hits, len(items), len(HELD_BACK_2_GOLD)) == (7, 7, 8), sorted(map(key, items))


def test_held_back_article_measured(small: Settings) -> None:
    """The rules on shapes they were not fitted to: precision 5/5, recall 5/10. Missed:
    "..., the regional water board announced on Friday." (a time after the tag verb),
    "called the decision “...”" ("called" is not a speech verb here), "“Nobody.”" (one
    word, untagged, after a tagged quote: taken for a scare quote), "According to the
    board, <clause>" (reported speech by "according to"), "said on Saturday that ..." (a
    time between verb and "that")."""
    items = qa.quotes(settings=small, sources=["held3.txt"])
    hits = matched(items, HELD_BACK_3_GOLD)
    assert (hits, len(items), len(HELD_BACK_3_GOLD)) == (5, 5, 10), sorted(map(key, items))


def test_paragraphs_of_one_quote_joined_and_a_name_that_ends_a_sentence() -> None:
    """Shapes from the BBC articles: a quote's paragraphs joined into one ('"A. "B."'),
    and a speaker's name followed by the sentence's full stop."""
    paragraphs = [
        (2, 'An Ajax spokesman told BBC Sport: "The coach must fit our profile. "We need '
            'to find a solution soon." Ronald Koeman quit last week.'),
        (3, '"It is over," said team manager Jo Maso. Africa was next.'),
    ]  # fmt: skip
    got = [(q.text, q.speaker, q.title) for q in extract(paragraphs).quotes]
    assert got == [
        ('The coach must fit our profile. "We need to find a solution soon.',
         "An Ajax spokesman", ""),
        ("It is over", "Jo Maso", "team manager"),
    ]  # fmt: skip


# --- storage ---------------------------------------------------------------------------


def test_quotes_are_stored_at_ingest_and_follow_edits(tmp_path: Path, seeds_copy: Path) -> None:
    settings = make_settings(tmp_path / "index", seeds_copy)
    ingest([seeds_copy], settings, quiet=True)
    stored = open_store(settings).client.get_collection(COLLECTION)
    assert stored.count() == 2
    first = book(settings)
    assert first.extracted_on_read == 0 and len(first.items) == len(GOLD)

    # An edit to one paragraph re-extracts its whole article: with ¶4 now about Luis
    # Miranda, "the official" of the unchanged ¶5 is read as him, from the stored row.
    path = seeds_copy / SEED_000
    text = path.read_text(encoding="utf-8")
    edited = text.replace("Jacobstein held a virtual", "Luis Miranda held a virtual")
    path.write_text(edited, encoding="utf-8")
    ingest([seeds_copy], settings, quiet=True)
    after = book(settings)
    assert after.extracted_on_read == 0
    official = [i for i in after.items if i.said_as == "the official"]
    assert [(i.speaker, i.citations[0].paragraph) for i in official] == [("Luis Miranda", 5)]
    assert official[0].citations[0].text == seed_paragraph(SEED_000, 5)


def test_a_stale_row_is_never_shown_and_a_deleted_article_leaves(
    tmp_path: Path, seeds_copy: Path
) -> None:
    settings = make_settings(tmp_path / "index", seeds_copy)
    ingest([seeds_copy], settings, quiet=True)
    stored = open_store(settings).client.get_collection(COLLECTION, embedding_function=None)
    rows = stored.get(include=["metadatas"])
    # A row from other paragraphs (older text, older rules) that says no one spoke.
    stored.update(
        ids=rows["ids"],
        embeddings=[[0.0]] * len(rows["ids"]),
        documents=['{"quotes": [], "people": {}}'] * len(rows["ids"]),
        metadatas=[dict(m or {}) | {"digest": "older"} for m in rows["metadatas"]],
    )
    (tmp_path / "index" / "generation").write_text("changed\n")
    read = book(settings)
    assert read.extracted_on_read == 2 and len(read.items) == len(GOLD)
    # An article deleted from the folder: its row goes with its paragraphs.
    (seeds_copy / SEED_002).unlink()
    ingest([seeds_copy], settings, quiet=True)
    stored = open_store(settings).client.get_collection(COLLECTION, embedding_function=None)
    paths = {str((m or {}).get("path")) for m in stored.get(include=["metadatas"])["metadatas"]}
    assert paths == {str((seeds_copy / SEED_000).resolve())}
    assert {i.source for i in book(settings).items} == {SEED_000}


def test_an_index_from_before_quotes_is_read_from_its_paragraphs(
    tmp_path: Path, seeds_copy: Path
) -> None:
    settings = make_settings(tmp_path / "index", seeds_copy)
    ingest([seeds_copy], settings, quiet=True)
    expected = [key(i) for i in book(settings).items]
    open_store(settings).client.delete_collection(COLLECTION)  # as an older ingest left it
    forget_stores()
    legacy = make_settings(tmp_path / "index", seeds_copy)
    (tmp_path / "index" / "generation").write_text("upgraded\n")
    old = book(legacy)
    assert old.extracted_on_read == 2 and [key(i) for i in old.items] == expected
    # The next ingest stores them, though no paragraph changed.
    report = ingest([seeds_copy], legacy, quiet=True)
    assert report.unchanged == report.paragraphs
    assert open_store(legacy).client.get_collection(COLLECTION).count() == 2
