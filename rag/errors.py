"""The few error classes the project raises; each message says what to do next."""

from __future__ import annotations


class RagError(Exception):
    """Base class: a problem the user can fix; the CLI and UI show the message, not a traceback."""


class ConfigError(RagError):
    """A setting (environment variable or TOML file) is missing or malformed."""


class InputError(RagError):
    """The user's input (a query, a question, a file) cannot be used as given."""


class IndexEmptyError(RagError):
    """The collection holds nothing yet."""


class ModelError(RagError):
    """An embedding or reranking model could not be loaded or used."""


class ModelMismatchError(RagError):
    """The collection was built with another embedding model than the one configured."""


class LLMError(RagError):
    """The LLM server failed: unreachable, timed out, or answered garbage."""
