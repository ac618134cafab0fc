"""Question answering over news articles, with every claim cited to a paragraph."""

from .answer import Answer, Citation
from .claims import Verdict, check
from .errors import QAError
from .ingest import IngestReport, ingest
from .said import quotes
from .service import ask, retrieve
from .settings import Settings
from .timeline import Timeline, timeline

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
