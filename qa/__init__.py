"""Question answering over news articles, with every claim cited to a paragraph."""

from .answering.answer import Answer, Citation
from .desk.claims import check
from .desk.said import quotes
from .desk.timeline import Timeline, timeline
from .desk.verdict import Verdict
from .errors import QAError
from .service import ask, retrieve
from .settings import Settings
from .store.ingest import IngestReport, ingest

__all__ = [
    "Answer",
    "Citation",
    "IngestReport",
    "QAError",
    "Settings",
    "Timeline",
    "Verdict",
    "ask",
    "check",
    "ingest",
    "quotes",
    "retrieve",
    "timeline",
]
