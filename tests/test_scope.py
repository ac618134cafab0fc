"""Questions scoped to chosen articles, a publication-date range or a site (qa.search.scope),
over real indexes: the seeds, dated copies of them, and the seeds among many look-alikes."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import SEED_000, SEED_002, SEEDS, make_settings, seed_paragraph
from test_cli import run_qa
from test_server_mode import chroma_server, on_server  # noqa: F401 (a fixture)

from qa import ask, retrieve
from qa.errors import ScopeError
from qa.reading.articles import read_article
from qa.search.scope import Scope, resolve, scoped_retriever
from qa.settings import Settings
from qa.store.ingest import ingest
from qa.store.library import delete_article, list_articles
from qa.store.opened import forget_stores

retrieve_mod = importlib.import_module("qa.search.retrieve")
GRANT = "How much money did the US give Panama for the deportation pilot?"
TITLE_002 = read_article(SEEDS / SEED_002).title


def sources(answer_citations: list[object]) -> set[str]:
    return {c.source for c in answer_citations}  # type: ignore[attr-defined]


# --- one seed article or the other ----------------------------------------------------


def test_a_question_answered_by_one_seed_abstains_scoped_to_the_other(seeded: Settings) -> None:
    everywhere = ask(GRANT, settings=seeded)
    assert not everywhere.abstained and "6,000,000" in everywhere.text
    assert everywhere.scope is None
    assert not any(n.startswith("Scope:") for n in everywhere.notes)

    scoped_in = ask(GRANT, settings=seeded, sources=[SEED_000])
    assert not scoped_in.abstained and "6,000,000" in scoped_in.text
    assert sources(scoped_in.citations) == {SEED_000}
    assert scoped_in.citations[0].text == seed_paragraph(SEED_000, 2)
    assert f"Scope: 1 article ({SEED_000})." in scoped_in.notes

    scoped_out = ask(GRANT, settings=seeded, sources=[SEED_002])
    assert scoped_out.abstained
    assert "6,000,000" not in scoped_out.text and not scoped_out.citations
    assert scoped_out.related and sources(scoped_out.related) == {SEED_002}
    assert {source for source, _ in scoped_out.retrieved} == {SEED_002}
    assert scoped_out.scope is not None
    assert scoped_out.scope["articles"] == [SEED_002]
    assert scoped_out.scope["sources"] == [SEED_002]
    assert scoped_out.scope["text"] == f"Scope: 1 article ({SEED_002})."
    assert scoped_out.as_dict()["scope"] == scoped_out.scope


def test_both_articles_in_scope_answer_as_unscoped(seeded: Settings) -> None:
    both = ask(GRANT, settings=seeded, sources=[SEED_000, SEED_002])
    plain = ask(GRANT, settings=seeded)
    assert both.text == plain.text
    assert both.notes[-1] == f"Scope: 2 articles ({SEED_000}, {SEED_002})."


def test_articles_are_named_by_file_name_path_title_or_stem(seeded: Settings) -> None:
    folder = seeded.seeds_dir
    for name in (SEED_002.upper(), str(folder / SEED_002), TITLE_002.lower(), SEED_002[:-4]):
        resolved = resolve(Scope(sources=(name,)), seeded)
        assert [a.source for a in resolved.articles] == [SEED_002], name
    # a single name is one source, not a sequence of characters
    assert Scope(sources=SEED_000).sources == (SEED_000,)  # type: ignore[arg-type]


def test_an_article_that_is_not_in_the_index_is_a_clear_error(seeded: Settings) -> None:
    with pytest.raises(ScopeError) as err:
        ask(GRANT, settings=seeded, sources=[SEED_000, "no_such_article.txt"])
    message = str(err.value)
    assert "'no_such_article.txt'" in message and SEED_000 in message and SEED_002 in message
    assert "000" not in message.split("matches")[1].split("(")[0]  # only the unknown one named


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("since", "2024-13-01", "since='2024-13-01' is not a date (use YYYY-MM-DD)."),
        ("until", "yesterday", "until='yesterday' is not a date (use YYYY-MM-DD)."),
        ("since", "1/7/2024", "since='1/7/2024' is not a date (use YYYY-MM-DD)."),
    ],
)
def test_a_bad_date_is_a_clear_error(
    seeded: Settings, field: str, value: str, message: str
) -> None:
    with pytest.raises(ScopeError) as err:
        ask(GRANT, settings=seeded, **{field: value})
    assert str(err.value) == message


def test_sources_that_are_not_names_are_a_clear_error() -> None:
    with pytest.raises(ScopeError, match="sources=7: give article names"):
        Scope(sources=7)  # type: ignore[arg-type]
    assert Scope(sources=["", "  "]).sources is None  # type: ignore[arg-type]


def test_a_range_that_ends_before_it_starts_is_a_clear_error() -> None:
    with pytest.raises(ScopeError, match="since=2024-08-01 is after until=2024-07-01"):
        Scope(since="2024-08-01", until="2024-07-01")


def test_undated_articles_are_outside_any_date_range(seeded: Settings) -> None:
    with pytest.raises(ScopeError) as err:
        ask(GRANT, settings=seeded, since="2000-01-01")
    assert "No article is in the scope" in str(err.value)
    assert "2 undated articles were left out" in str(err.value)


def test_the_articles_are_read_again_when_the_index_changes(
    settings: Settings, seeds_copy: Path
) -> None:
    ingest([seeds_copy], settings, quiet=True)
    assert len(resolve(Scope(sources=(SEED_000,)), settings).articles) == 1
    with pytest.raises(ScopeError):
        resolve(Scope(sources=("ferry.txt",)), settings)
    ferry = seeds_copy / "ferry.txt"
    ferry.write_text("Ferry\n\nThe ferry carries 240 passengers.\n", encoding="utf-8")
    ingest([ferry], settings, quiet=True)
    assert [a.source for a in resolve(Scope(sources=("ferry.txt",)), settings).articles] == [
        "ferry.txt"
    ]
    delete_article(str(ferry.resolve()), settings)
    with pytest.raises(ScopeError, match="'ferry.txt'"):
        resolve(Scope(sources=("ferry.txt",)), settings)


# --- dated copies of the seeds -------------------------------------------------------


def dated_copy(folder: Path, name: str, front: str, target: str | None = None) -> None:
    text = (SEEDS / name).read_text(encoding="utf-8")
    (folder / (target or name)).write_text(f"{front}\n\n{text}", encoding="utf-8")


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """000 published 2024-06-28 by Example Daily, 002 on 2024-07-02 at a cbsnews.com
    address, and an undated copy of 000."""
    base = tmp_path_factory.mktemp("dated")
    folder = base / "articles"
    folder.mkdir()
    dated_copy(folder, SEED_000, "date: 2024-06-28\nsite: Example Daily")
    dated_copy(folder, SEED_002, "date: 2024-07-02\nurl: https://www.cbsnews.com/news/panama/")
    shutil.copy(SEEDS / SEED_000, folder / "undated_copy.txt")
    settings = make_settings(base / "index", folder)
    assert ingest([folder], settings, quiet=True).files == 3
    forget_stores()
    return settings


def test_since_keeps_later_articles_and_says_what_it_left_out(dated: Settings) -> None:
    resolved = resolve(Scope(since="2024-07-01"), dated)
    assert [a.source for a in resolved.articles] == [SEED_002]
    assert resolved.undated == 1
    assert resolved.describe() == (
        f"Scope: 1 article ({SEED_002}); published 2024-07-01 or later; "
        "1 undated article was left out."
    )
    answer = ask(GRANT, settings=dated, since="2024-07-01")
    assert answer.abstained
    assert answer.scope is not None and answer.scope["since"] == "2024-07-01"
    assert answer.scope["undated_left_out"] == 1
    assert resolved.describe() in answer.notes


def test_until_keeps_earlier_articles(dated: Settings) -> None:
    answer = ask(GRANT, settings=dated, until="2024-06-30")
    assert not answer.abstained and "6,000,000" in answer.text
    assert sources(answer.citations) == {SEED_000}
    assert answer.scope is not None and answer.scope["articles"] == [SEED_000]


def test_a_range_includes_its_end_days(dated: Settings) -> None:
    resolved = resolve(Scope(since="2024-06-28", until="2024-07-02"), dated)
    assert sorted(a.source for a in resolved.articles) == [SEED_000, SEED_002]
    assert "published between 2024-06-28 and 2024-07-02" in resolved.describe()
    with pytest.raises(ScopeError, match="published between 2024-06-29 and 2024-07-01"):
        resolve(Scope(since="2024-06-29", until="2024-07-01"), dated)


def test_site_by_name_or_web_address(dated: Settings) -> None:
    by_name = resolve(Scope(site="example daily"), dated)
    assert [a.source for a in by_name.articles] == [SEED_000]
    by_host = resolve(Scope(site="cbsnews.com"), dated)
    assert [a.source for a in by_host.articles] == [SEED_002]
    assert by_host.describe().endswith("; from cbsnews.com.")
    assert ask(GRANT, settings=dated, site="cbsnews.com").abstained
    with pytest.raises(ScopeError, match="No article in the scope is from the site 'bbc.co.uk'"):
        ask(GRANT, settings=dated, site="bbc.co.uk")


# --- a small scope in a large index ------------------------------------------------------


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The seeds among 40 short articles that all speak of money for Panama's
    deportations, so that an unscoped search fills its candidates with them."""
    base = tmp_path_factory.mktemp("crowded")
    folder = base / "articles"
    shutil.copytree(SEEDS, folder)
    for i in range(40):
        (folder / f"filler_{i:02d}.txt").write_text(
            f"Panama deportation pilot money update {i}\n\n"
            f"How much money did the US give Panama for the deportation pilot? Officials "
            f"said in briefing {i} that the US gave Panama money for the deportation pilot.\n\n"
            f"The US money given to Panama pays for the deportation pilot, report {i} says.\n",
            encoding="utf-8",
        )
    settings = make_settings(base / "index", folder)
    assert ingest([folder], settings, quiet=True).files == 42
    forget_stores()
    return settings


def test_a_small_scope_in_a_large_index_gets_its_best_paragraphs(crowded: Settings) -> None:
    unscoped = retrieve(GRANT, k=30, settings=crowded)
    assert not any(c.source == SEED_002 for c in unscoped)  # what a post-filter would see

    scoped = retrieve(GRANT, k=5, settings=crowded, sources=[SEED_002])
    assert len(scoped) == 5 and {c.source for c in scoped} == {SEED_002}
    for mode in ("dense", "bm25"):
        hits = retrieve(GRANT, k=5, settings=crowded, mode=mode, sources=[SEED_002])
        assert len(hits) == 5 and {c.source for c in hits} == {SEED_002}, mode

    answer = ask(GRANT, settings=crowded, sources=[SEED_000])
    assert not answer.abstained and "6,000,000" in answer.text
    assert answer.citations[0].text == seed_paragraph(SEED_000, 2)


def test_the_scoped_dense_search_is_exact(crowded: Settings) -> None:
    """The scope's own vectors, ranked by cosine: the same order the whole index gives
    when the scope is every article."""
    everything = Scope(sources=tuple(a.path for a in list_articles(crowded)))
    scoped = scoped_retriever(crowded, everything, k=10, mode="dense")
    plain = scoped_retriever(crowded, None, k=10, mode="dense")
    assert scoped.paths is not None and plain.paths is None
    assert [h.node.node_id for h in scoped.retrieve(GRANT)] == [
        h.node.node_id for h in plain.retrieve(GRANT)
    ]


def test_the_whole_index_is_searched_exactly_up_to_a_size(
    crowded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unscoped, an embedded index of at most EXACT_WHOLE paragraphs is ranked by the
    cosine of every stored vector: the same paragraphs in every process (HNSW's graph,
    rebuilt by each process in several threads, gave another ranking now and then). A
    larger index is searched by HNSW."""
    plain = scoped_retriever(crowded, None, k=30, mode="dense")
    store = plain.store

    def hnsw(*args: object) -> None:
        raise AssertionError("searched by HNSW")

    monkeypatch.setattr(plain.dense, "retrieve", hnsw)
    ids = [row["id"] for row in store.records()]
    vectors = store.embeddings(ids)
    q = np.asarray(plain.embedder.get_query_embedding(GRANT), dtype=np.float32)
    cosine = {i: float(vectors[i] @ q) for i in ids}
    got = plain.retrieve(GRANT)
    assert len(got) == 30 < len(ids)
    scores = [h.node.metadata["dense_score"] for h in got]
    assert scores == pytest.approx([cosine[h.node.node_id] for h in got], abs=1e-5)
    assert scores == sorted(scores, reverse=True)
    taken = {h.node.node_id for h in got}
    assert scores[-1] >= max(c for i, c in cosine.items() if i not in taken) - 1e-5

    monkeypatch.setattr(retrieve_mod, "EXACT_WHOLE", len(ids) - 1)
    assert store.all_vectors(len(ids) - 1) is None
    approximate = scoped_retriever(crowded, None, k=5, mode="dense").retrieve(GRANT)
    assert [h.node.node_id for h in approximate][:1] == [got[0].node.node_id]


def test_scope_through_a_chroma_server(
    chroma_server: int,  # noqa: F811
    tmp_path: Path,
    seeds_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    here = on_server(tmp_path / "machine", seeds_copy, chroma_server)
    ingest([seeds_copy], here, quiet=True)
    for exact in (retrieve_mod.EXACT_DENSE, 0):  # the scope's vectors; Chroma's filter
        monkeypatch.setattr(retrieve_mod, "EXACT_DENSE", exact)
        assert not ask(GRANT, settings=here, sources=[SEED_000]).abstained
        answer = ask(GRANT, settings=here, sources=[SEED_002])
        assert answer.abstained and {s for s, _ in answer.retrieved} == {SEED_002}


def test_a_scope_too_large_to_search_exactly_uses_chromas_filter(
    crowded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past EXACT_DENSE paragraphs the dense part asks Chroma with a `path $in` filter:
    the same best paragraphs, only from the scope."""
    exact = [c.source for c in retrieve(GRANT, k=5, settings=crowded, mode="dense",
                                        sources=[SEED_002])]  # fmt: skip
    monkeypatch.setattr(retrieve_mod, "EXACT_DENSE", 0)
    filtered = retrieve(GRANT, k=5, settings=crowded, mode="dense", sources=[SEED_002])
    assert [c.source for c in filtered] == exact == [SEED_002] * 5
    answer = ask(GRANT, settings=crowded, sources=[SEED_000])
    assert answer.citations[0].text == seed_paragraph(SEED_000, 2)


# --- the command line ---------------------------------------------------------------


def test_cli_flags_scope_the_answer_and_json_shows_it(seeded: Settings) -> None:
    out = run_qa("ask", GRANT, "--json", "--source", SEED_002, index_dir=seeded.index_dir)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["abstained"] is True
    assert data["scope"]["articles"] == [SEED_002]
    assert data["scope"]["text"] == f"Scope: 1 article ({SEED_002})."

    out = run_qa(
        "ask", GRANT, "--source", SEED_000, "--source", SEED_002, index_dir=seeded.index_dir
    )
    assert out.returncode == 0, out.stderr
    assert "6,000,000" in out.stdout
    assert f"Note: Scope: 2 articles ({SEED_000}, {SEED_002})." in out.stdout

    out = run_qa("ask", GRANT, "--since", "2024-13-01", index_dir=seeded.index_dir)
    assert out.returncode == 2
    assert out.stderr.strip() == "error: since='2024-13-01' is not a date (use YYYY-MM-DD)."
