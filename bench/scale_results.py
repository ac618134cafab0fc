"""The scale benchmark's results: bench/results.json, results.md and scale.png, written
by scale.py and brought up to date by load.py when it runs alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS_JSON = BENCH / "results.json"
RESULTS_MD = BENCH / "results.md"
CHART = BENCH / "scale.png"

GOALS = {
    "ingest_vs_embed_ratio": ("<=", 1.15),
    "ingest_speedup_vs_stock": (">=", 1.3),
    "reingest_fraction": ("<=", 0.03),
    "query_p50_vs_stock_ratio": ("<=", 1.0),
}


def verdict(name: str, value: float) -> str:
    op, goal = GOALS[name]
    ok = value <= goal if op == "<=" else value >= goal
    return f"{'met' if ok else 'NOT met'} (goal {op} {goal})"


def per_piece(results: dict[str, Any]) -> float:
    """Stock's ingest CPU seconds per word piece the model read, over ours."""
    ing, tokens = results["ingest"], results["ingest"]["tokens"]
    cpu = {kind: min(c for _, c in runs) for kind, runs in ing["runs_wall_cpu_s"].items()}
    stock = cpu["stock"] / tokens["stock"]["tokens_read"]
    return float(stock / (cpu["ours"] / tokens["ours"]["tokens_read"]))


def write_markdown(results: dict[str, Any]) -> None:
    m, ing = results["metrics"], results["ingest"]
    emb, corpus = results["embedder"], results["corpus"]
    lines = [
        "# Scale benchmark",
        "",
        f"`make bench{' SIZE=small' if results['size'] == 'small' else ''}` "
        f"({results['when']}; {results['machine']['cpus']} CPUs, load average "
        f"{results['machine']['load_avg_at_start']:.1f} at the start, shared with other "
        f"work). Embedder: `{emb['model']}` variant `{emb['variant']}` "
        f"(collection records `{emb.get('collection_variant')}`). Ratios are measured "
        "side by side in the same run; absolute times move with the machine's load.",
        "",
        "| metric | value | goal |",
        "|---|---|---|",
    ]
    cpu = results.get("metrics_cpu", {})
    for name in GOALS:
        if name in m:
            on_cpu = f" (CPU time: {cpu[name]:.3f})" if name in cpu else ""
            lines.append(f"| `{name}` | {m[name]:.3f}{on_cpu} | {verdict(name, m[name])} |")
    if "retrieve_p50_vs_stock_ratio" in results:
        lines.append(
            f"| `retrieve_p50_vs_stock_ratio` (ours `qa.retrieve`, hybrid, k=8) | "
            f"{results['retrieve_p50_vs_stock_ratio']:.3f} | (no goal) |"
        )
    tokens = ing.get("tokens") or {}
    each = "; ".join(
        f"{kind} " + ", ".join(f"{wall:.1f}" for wall, _ in values) + " s"
        for kind, values in ing["runs_wall_cpu_s"].items()
    )
    lines += [
        "",
        f"Wall-clock ratios use each side's best of the interleaved runs ({each}); "
        "the CPU-time ratios (this process, all threads) move less with the machine's load.",
    ]
    if tokens:
        o, st = tokens["ours"], tokens["stock"]
        lines += [
            "",
            f"What each side gives the model (it reads at most {tokens['max_seq_length']} "
            f"word pieces of a text): ours {o['texts']:,} paragraphs, {o['tokens_read']:,} "
            f"word pieces read of {o['tokens']:,}; stock {st['texts']:,} chunks, "
            f"{st['tokens_read']:,} read of {st['tokens']:,} ({st['truncated_texts']:,} "
            "chunks cut short, their tails never embedded). Per word piece read (CPU time), stock "
            f"takes {per_piece(results):.2f} times as long as ours: stock is quicker only "
            "because it embeds less of the text.",
        ]
    lines += [
        "",
        f"## Ingest ({corpus['articles']} BBC articles, {corpus['paragraphs']} paragraphs)",
        "",
        "| run | seconds |",
        "|---|---|",
        f"| floor: same texts, `embed_passages`, bare batched loop | {ing['floor_embed_s']:.1f} |",
        f"| ours: `qa.ingest.ingest` into an empty index | {ing['ours_s']:.1f} |",
        f"| stock: `VectorStoreIndex.from_documents` into Chroma "
        f"({corpus['stock_chunks']} chunks) | {ing['stock_s']:.1f} |",
        f"| ours, re-ingest unchanged | {ing['reingest_s']:.2f} |",
        f"| ours, one article changed | {ing['one_changed_s']:.2f} |",
        f"| ours, changed back | {ing['changed_back_s']:.2f} |",
        "",
        "## Queries, start-up and memory",
        "",
        "Each level in fresh processes. Start-up: `python -c` that imports `qa`, runs "
        "`warm_up()` and answers one question (time to that answer, and that process's "
        "peak RSS). Queries: BBC headlines as questions, `qa.service.ask` (extractive "
        "answerer) and the stock retriever (`index.as_retriever().retrieve(q)`, top-k 2) "
        "interleaved after one warm-up each; peak RSS of that process.",
        "",
        "| level | paragraphs | ask p50 ms | ask p95 ms | retrieve p50 ms | stock p50 ms "
        "| stock p95 ms | start-up s | peak RSS MB (start-up / queries) | index MB "
        "| re-ingest s | one change s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, lv in results["levels"].items():
        reingest = lv.get("reingest_s", ing["reingest_s"])
        changed = lv.get("one_changed_s", ing["one_changed_s"])
        lines.append(
            f"| {name} | {lv['paragraphs']:,} | {lv['ask_p50_ms']:.0f} | "
            f"{lv['ask_p95_ms']:.0f} | {lv['retrieve_p50_ms']:.0f} | "
            f"{lv['stock_retriever_p50_ms']:.0f} | "
            f"{lv['stock_retriever_p95_ms']:.0f} | {lv['startup_s']:.1f} | "
            f"{lv['startup_rss_mb']:.0f} / {lv['peak_rss_mb']:.0f} | "
            f"{lv['index_disk_mb']:.0f} | {reingest:.2f} | {changed:.2f} |"
        )
    large = results["levels"][results["large_level"]]
    build = large.get("build", {})
    lines += [
        "",
        f"The `bbc` level's stock retriever searches the stock index built above; the "
        f"`{results['large_level']}` level's searches our collection (the same rows).",
        "",
        f"**How the `{results['large_level']}` level is built.** The BBC index above plus "
        f"{int(results['large_level'][1:]) - 1} copies of every article, each copy in its "
        "own folder under new file names (`<topic>_<NNN>_c<k>.txt`). In copy k every "
        'sentence that ends in a full stop, ! or ? carries the words "(copy k)" before '
        "it, so no sentence is shared with the original (the answerer embeds sentences "
        "and caches them; twins would flatter it); headlines and paragraph numbers are "
        "unchanged. The copies' paragraphs are stored exactly as `qa ingest` stores them "
        "(same parser, node ids and metadata: the re-ingest below finds all "
        f"{large.get('reingest_report', {}).get('unchanged', 0):,} unchanged), but with the "
        "vector of the original paragraph instead of an embedding of the marked text "
        "(embedding 100k paragraphs takes hours on 2 cores); "
        f"{build.get('embedded', 0)} paragraphs the marker changed the reading of were "
        "embedded. Dense and BM25 search the full size; answer quality at this level is "
        "not measured. Built in "
        f"{build.get('build_s', float('nan')):.0f} s when first made, then cached in "
        "bench/.cache/.",
        "",
        "Headline's article cited or listed as related: "
        + ", ".join(
            f"{name} {lv['headline_article_cited']:.0%}" for name, lv in results["levels"].items()
        )
        + " (a sanity check, not a quality metric).",
        "",
    ]
    if "load" in results:
        lines += load_markdown(results["load"])
    lines += ["![ratios and latency](scale.png)", ""]
    RESULTS_MD.write_text("\n".join(lines))


def load_markdown(ld: dict[str, Any]) -> list[str]:
    return [
        "## Load",
        "",
        f"`bench/load.py`: {ld['clients']} concurrent `gradio_client` sessions asking "
        f"`/ask` on `app.py` (its own index of the seed articles) for {ld['seconds']:.0f} "
        f"s, {ld['distinct_questions']} seed questions whose answers are known (checked "
        "against the question set's keywords and gold paragraphs, and equal to the "
        "answer given to one client alone).",
        "",
        "| requests | errors | wrong | p50 ms | p95 ms | max ms | answers/s |",
        "|---|---|---|---|---|---|---|",
        f"| {ld['requests']} | {ld['errors']} | {ld['wrong']} | {ld['p50_ms']:.0f} | "
        f"{ld['p95_ms']:.0f} | {ld['max_ms']:.0f} | {ld['throughput_per_s']:.2f} |",
        "",
    ]


def chart(results: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    names = [n for n in GOALS if n in results["metrics"]]
    values = [results["metrics"][n] for n in names]
    goals = [GOALS[n][1] for n in names]
    xs = range(len(names))
    left.bar(xs, values, color="#4c72b0", label="measured")
    left.scatter(xs, goals, color="#c44e52", marker="_", s=900, label="goal", zorder=3)
    left.set_xticks(list(xs), [n.replace("_", "\n", 2) for n in names], fontsize=7)
    left.set_yscale("log")
    left.set_title("ratios (same run; log scale)")
    left.legend(fontsize=8)
    levels = list(results["levels"])
    width = 0.27
    for i, (key, label) in enumerate(
        [
            ("ask_p50_ms", "ask p50"),
            ("retrieve_p50_ms", "our retriever p50"),
            ("stock_retriever_p50_ms", "stock retriever p50"),
        ]
    ):
        right.bar(
            [x + i * width for x in range(len(levels))],
            [results["levels"][lv][key] for lv in levels],
            width,
            label=label,
        )
    right.set_xticks(
        [x + width for x in range(len(levels))],
        [f"{lv}\n{results['levels'][lv]['paragraphs']:,} paragraphs" for lv in levels],
    )
    right.set_ylabel("ms")
    right.set_title("query latency")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(CHART, dpi=100)
    plt.close(fig)
