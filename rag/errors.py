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


class StoreError(RagError):
    """The index storage (Chroma and the manifest) cannot be used as it is."""


class StoreUnavailable(StoreError):
    """The Chroma server cannot be reached (down, restarting, wrong address); retry later."""


class StoreCorrupt(StoreError):
    """A stored file is damaged or empty while the vectors say otherwise; the message says how
    to restore it."""


class IngestRunning(StoreError):
    """Another process holds the collection's writer lease (an ingest is running)."""


class LeaseLost(StoreError):
    """This process's writer lease was taken over (it stalled past its expiry): stop writing."""
