"""The index survives what happens to it in real use: an ingest killed half-way, a
question asked while another process ingests, two ingests at once. Each writer is a real
`qa ingest` process on a real Chroma store."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SEED_000, SEEDS, make_settings

from qa.answering.answer import idf_for
from qa.reading.articles import read_article
from qa.search.retrieve import hybrid_retriever
from qa.service import ask, retrieve
from qa.settings import Settings
from qa.store.index import ids_digest, write_lock
from qa.store.ingest import ingest
from qa.store.opened import forget_stores, open_store

FILES, PARAGRAPHS = 24, 14
CITIES = ["Lisbon", "Quito", "Hanoi", "Nairobi", "Tromsø", "Valparaíso", "Tbilisi", "Accra"]


def dispatch(i: int) -> str:
    """An article whose every paragraph is new text (nothing to reuse a vector from)."""
    city = CITIES[i % len(CITIES)]
    paras = [f"Dispatch {i} from {city}: harbour records, week {i}"]
    for j in range(1, PARAGRAPHS + 1):
        paras.append(
            f"In dispatch {i}, item {j}, the {city} harbour office logged {i * 100 + j} "
            f"containers of {['coffee', 'copper', 'salmon', 'cotton', 'tea'][j % 5]} and "
            f"said inspections would rise by {j} percent in week {i + j}."
        )
    return "\n\n".join(paras) + "\n"


@pytest.fixture(scope="module")
def dispatches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dispatches")
    for i in range(FILES):
        (folder / f"dispatch_{i:02d}.txt").write_text(dispatch(i), encoding="utf-8")
    return folder


def expected(folder: Path) -> set[tuple[str, int]]:
    return {
        (str(path.resolve()), p.number)
        for path in sorted(folder.glob("*.txt"))
        for p in read_article(path).evidence
    }


def env_for(index_dir: Path) -> dict[str, str]:
    return {**os.environ, "QA_INDEX_DIR": str(index_dir), "HF_HUB_OFFLINE": "1"}


def start_ingest(index_dir: Path, folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "qa", "ingest", str(folder), "--json"],
        cwd=ROOT, env=env_for(index_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def stored_rows(index_dir: Path) -> int:
    """Rows Chroma has committed, read straight from its database by another connection."""
    db = index_dir / "chroma.sqlite3"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("select count(*) from embeddings").fetchone()[0])
    except sqlite3.Error:
        return 0


def check_consistent(settings: Settings, want: set[tuple[str, int]]) -> None:
    """Every wanted paragraph exactly once in Chroma, in the word index and in the vector
    index (each paragraph's own vector finds it first)."""
    forget_stores()
    store = open_store(settings)
    rows = list(store.records())
    positions = Counter((r["metadata"]["path"], int(r["metadata"]["paragraph"])) for r in rows)
    assert set(positions) == want
    assert max(positions.values()) == 1, "a paragraph is stored twice"
    assert store.lexical_ids() == ids_digest(r["id"] for r in rows)
    lexical = store.lexical()
    assert lexical is not None and int(lexical.bm25.scores["num_docs"]) == len(rows)
    ids = [r["id"] for r in rows]
    vectors = store.embeddings(ids)
    for id_ in ids[:: max(1, len(ids) // 40)]:
        found = store.collection.query(query_embeddings=[vectors[id_].tolist()], n_results=1)
        assert found["ids"][0] == [id_]


def test_ingest_killed_half_way_then_rerun(tmp_path: Path, dispatches: Path) -> None:
    settings = make_settings(tmp_path / "index", dispatches)
    want = expected(dispatches)
    proc = start_ingest(settings.index_dir, dispatches)
    try:
        while proc.poll() is None and not 0 < stored_rows(settings.index_dir) < len(want):
            time.sleep(0.05)
        assert proc.poll() is None, "the ingest ended before it could be killed half-way"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert 0 < stored_rows(settings.index_dir) < len(want)

    report = ingest([dispatches], settings, quiet=True)

    assert report.paragraphs == len(want)
    assert report.embedded < len(want)  # what the killed run stored was kept
    check_consistent(settings, want)
    paragraph = dispatch(19).split("\n\n")[7]
    hits = retrieve(paragraph, k=3, settings=settings)
    assert (hits[0].source, hits[0].paragraph) == ("dispatch_19.txt", 8)


def test_word_index_behind_chroma_is_repaired(tmp_path: Path, seeds_copy: Path) -> None:
    """A run killed after its Chroma writes but before the word index was rewritten."""
    settings = make_settings(tmp_path / "index", seeds_copy)
    ingest([seeds_copy], settings, quiet=True)
    store = open_store(settings)
    ids = [r["id"] for r in store.records()]
    store.delete(ids[:3])  # as if they had been removed and the run then died
    assert store.lexical_ids() != ids_digest(ids[3:])

    report = ingest([seeds_copy], settings, quiet=True)

    assert report.added == 3
    check_consistent(settings, expected(seeds_copy))


def test_questions_during_an_ingest_in_another_process(
    tmp_path: Path, seeds_copy: Path, dispatches: Path
) -> None:
    settings = make_settings(tmp_path / "index", seeds_copy)
    ingest([seeds_copy], settings, quiet=True)
    question = "How much money did the US give Panama for the deportation flights?"
    first = ask(question, settings=settings)
    assert first.citations and first.citations[0].source == SEED_000

    writer = start_ingest(settings.index_dir, dispatches)
    answers = []
    try:
        while writer.poll() is None:
            answer = ask(question, settings=settings)  # must never raise
            answers.append([(c.source, c.paragraph) for c in answer.citations])
    finally:
        out, err = writer.communicate(timeout=600)
    assert writer.returncode == 0, err
    assert len(answers) >= 3
    assert all((SEED_000, 2) in cited for cited in answers)

    # The same process sees the new articles, without a restart.
    after = ask(
        "How many containers did the Hanoi harbour office log in item 3?", settings=settings
    )
    sources = {c.source for c in after.citations} | {c.source for c in after.related}
    assert any(s.startswith("dispatch_") for s in sources)
    check_consistent(settings, expected(seeds_copy) | expected(dispatches))


def test_one_question_reads_one_word_index(
    tmp_path: Path, seeds_copy: Path, dispatches: Path
) -> None:
    """The term weights a question's answer is scored with come from the word index its
    hits came from, though an ingest replaced the index in between: mixed, the seed
    question's best sentence fell under the cut now and then during an ingest."""
    settings = make_settings(tmp_path / "index", seeds_copy)
    ingest([seeds_copy], settings, quiet=True)
    seeds = len(expected(seeds_copy))
    retriever = hybrid_retriever(settings)
    hits = retriever.retrieve("How much money did the US give Panama for the deportation flights?")
    assert hits and all(h.node.metadata["bm25_rank"] < 99 for h in hits[:1])
    assert idf_for(retriever).docs == seeds

    ingest([dispatches], settings, quiet=True)
    grown = seeds + len(expected(dispatches))
    assert idf_for(retriever).docs == seeds  # the index it retrieved with
    assert idf_for(open_store(settings)).docs == grown
    assert idf_for(hybrid_retriever(settings)).docs == grown  # the next question's


def test_a_second_ingest_waits_for_the_first(tmp_path: Path, seeds_copy: Path) -> None:
    settings = make_settings(tmp_path / "index", seeds_copy)
    with write_lock(settings):  # as an ingest in another process would hold it
        waiting = start_ingest(settings.index_dir, seeds_copy)
        assert waiting.stderr is not None
        said = ""
        while "waiting" not in said:  # blocks until the process says something, or ends
            line = waiting.stderr.readline()
            assert line, "the second ingest ended without waiting"
            said += line
        assert "another ingest is writing to this index; waiting" in said
        time.sleep(0.5)
        assert waiting.poll() is None, "the second ingest did not wait for the lock"
        assert not (settings.index_dir / "chroma.sqlite3").exists()
    out, err = waiting.communicate(timeout=600)
    assert waiting.returncode == 0, err
    assert json.loads(out.splitlines()[-1])["added"] > 20
    check_consistent(settings, expected(seeds_copy))


def test_two_ingests_of_the_same_folder_store_it_once(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    procs = [start_ingest(index_dir, SEEDS) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    check_consistent(make_settings(index_dir), expected(SEEDS))


def test_vectors_in_store_are_normalised(seeded: Settings) -> None:
    """The cosine the retriever derives from Chroma's score assumes unit vectors."""
    store = open_store(seeded)
    vectors = store.embeddings([r["id"] for r in store.records()])
    norms = np.array([np.linalg.norm(v) for v in vectors.values()])
    assert np.allclose(norms, 1.0, atol=1e-3)
