"""Errors a user can hit. Each message says what went wrong and what to do about it."""


class DebateError(Exception):
    """Base class: the message is shown to people as is (one line, no traceback)."""


class MotionError(DebateError):
    """A motion pack is missing, malformed, or refers to something that does not exist."""


class SourceError(DebateError):
    """A source file cannot be read: missing, binary, corrupt, or without required metadata."""


class IndexMissingError(DebateError):
    """The motion has not been ingested yet (or the index was deleted)."""


class QueryError(DebateError):
    """A search query or student message that cannot be used as given."""


class LLMError(DebateError):
    """The configured language model cannot be used (missing extra, key, timeout, API error)."""
