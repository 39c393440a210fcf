"""What one chat session holds: its turns (the conversation, kept in the page's gr.State) and its
inbox on the server (questions waiting while an answer streams, and which answer is current).

The inbox is why no question is dropped: the page's Send puts a question in the inbox at once
(no queue, no wait) and shows it as queued; one answering loop per session takes questions out in
order. Stop ends the running answer at its next piece. Clear bumps the inbox's epoch: the loop
closes the running answer before its next piece and paints the cleared page itself."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from rag.schema import Answer


@dataclass(frozen=True, kw_only=True)
class Turn:
    """One question and what it got. `draft` is not None while the answer streams in; a turn is
    final with an `answer`, an `error` (a friendly message) or `stopped` (the user stopped it)."""

    n: int  # 1-based, never reused in a session: source ids are src-<n>-<k>
    question: str  # as the user sent it, shown whole
    answer: Answer | None = None
    draft: str | None = None
    error: str = ""
    stopped: bool = False
    urls: dict[str, str] = field(default_factory=dict)  # article id -> original URL
    filters: str = ""  # the filters it was asked under, in words ("" for none)
    limit: int = 0  # characters of a question the Assistant reads (0: no limit)

    @property
    def live(self) -> bool:
        return self.draft is not None

    def stop(self) -> Turn:
        """This turn as the user left it: its draft so far, marked stopped."""
        return replace(self, stopped=True) if self.live else self


@dataclass(frozen=True)
class Job:
    """A question waiting in the inbox with the filter inputs it was sent with."""

    question: str
    after: Any = None
    before: Any = None
    article: Any = None


class Inbox:
    """One session's waiting questions and its answering loop's state; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: deque[Job] = deque()
        self._running = False
        self._stop = False
        self.epoch = 0  # bumped by Clear
        self.taken = 0  # questions taken out so far

    @property
    def running(self) -> bool:
        return self._running

    def put(self, job: Job) -> None:
        with self._lock:
            self._jobs.append(job)

    def waiting(self) -> list[str]:
        with self._lock:
            return [j.question for j in self._jobs]

    def start(self) -> int | None:
        """Become the session's answering loop: its epoch, or None when one already runs."""
        with self._lock:
            if self._running:
                return None
            self._running = True
            return self.epoch

    def take(self) -> Job | None:
        """The next question; None ends the loop (atomically, so a question put in just after
        starts a new loop instead of waiting for one that is leaving)."""
        with self._lock:
            self._stop = False
            if self._jobs:
                self.taken += 1
                return self._jobs.popleft()
            self._running = False
            return None

    def stop_current(self) -> None:
        """Stop: the running answer ends at its next piece; waiting questions go on."""
        with self._lock:
            self._stop = self._running

    def stopping(self) -> bool:
        return self._stop

    def leave(self) -> None:
        """The loop ends early (stopped, cleared, or an error): another may start."""
        with self._lock:
            self._running = False

    def interrupt(self, drop_waiting: bool) -> None:
        """Stop the running answer (and with Clear, forget the waiting questions too)."""
        with self._lock:
            self.epoch += 1
            if drop_waiting:
                self._jobs.clear()

    def current(self, epoch: int) -> bool:
        return self.epoch == epoch

    def idle_since(self, taken: int) -> bool:
        """No question taken, waiting or being answered since `taken` questions had been."""
        with self._lock:
            return not self._running and not self._jobs and self.taken == taken


class Inboxes:
    """Inboxes by session (Gradio's session hash); dropped when the page is closed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_session: dict[str, Inbox] = {}

    def get(self, session: str | None) -> Inbox:
        with self._lock:
            return self._by_session.setdefault(session or "", Inbox())

    def drop(self, session: str | None) -> None:
        with self._lock:
            self._by_session.pop(session or "", None)

    def __len__(self) -> int:
        return len(self._by_session)
