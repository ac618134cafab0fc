"""Question answering over news articles, with every claim cited to a paragraph."""

from .answer import Answer, Citation
from .errors import QAError
from .ingest import IngestReport, ingest
from .service import ask, retrieve
from .settings import Settings

__all__ = ["Answer", "Citation", "IngestReport", "QAError", "Settings", "ask", "ingest", "retrieve"]
