"""Errors a user can act on: the message says what happened and what to do."""


class QAError(Exception):
    """Shown to the user as is (CLI exit code 2, a message in the chat page)."""


class QuestionError(QAError):
    pass


class IndexMissingError(QAError):
    pass


class IndexModelError(QAError):
    pass


class IndexCorruptError(QAError):
    pass


class IndexWriteError(QAError):
    """Writing to the index failed (disk full, read-only, server gone)."""


class ConfigError(QAError):
    """A setting in the environment or on the command line has a value we can't use."""


class ScopeError(QAError):
    """A scope (articles, dates, site) that is malformed or matches no article."""
