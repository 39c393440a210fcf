"""The writer lease: one ingest per collection, recorded in the store, renewed while it runs,
taken over when its holder is dead or its expiry has passed."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from rag.errors import IngestRunning, LeaseLost

log = logging.getLogger(__name__)
LEASE_SECONDS = 30.0  # a holder that has not renewed for this long is presumed gone
RENEW_EVERY = 1 / 3  # of LEASE_SECONDS: two renewals may fail before the lease runs out
WAIT_SECONDS = 10.0  # `rag ingest --wait` default: a short wait, then exit 2 with who holds it
POLL_SECONDS = 0.5


@dataclass(frozen=True, kw_only=True)
class Lease:
    """Who holds a collection's writer lease. `epoch` goes up by one with every take-over, so a
    store installs a new lease only over the one its taker saw (two takers cannot both win)."""

    epoch: int
    holder: str  # a random token per holding process
    pid: int
    host: str
    proc_start: str  # the holder's start time on its host: a reused pid is not mistaken for it
    started: float  # seconds since the epoch
    expires: float  # seconds since the epoch; 0 once released

    @property
    def released(self) -> bool:
        return self.expires <= 0

    def describe(self) -> str:
        since = datetime.fromtimestamp(self.started).astimezone().isoformat(timespec="seconds")
        return f"pid {self.pid}, host {self.host}, since {since}"


class LeaseStore(Protocol):
    """What a store keeps for the lease; each call is atomic on its own (SQLite: one
    transaction on its own connection; Chroma: a create-if-absent record per epoch)."""

    def lease(self) -> Lease | None:
        """The lease of the highest epoch (held, expired or released), None if never taken."""

    def take_lease(self, lease: Lease) -> bool:
        """Install `lease` if and only if the current lease's epoch is `lease.epoch - 1` (0 when
        none was ever taken); False when another taker got there first."""

    def renew_lease(self, lease: Lease) -> bool:
        """Store `lease`'s new expiry if it is still the current lease (same epoch and holder);
        False when it was taken over."""


def host_name() -> str:
    return socket.gethostname()


def process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), '' where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return ""
    return fields[19] if len(fields) > 19 else ""


def process_alive(pid: int, proc_start: str) -> bool:
    """True while the process runs (a zombie or a reused pid counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return True  # no /proc: trust kill(0)
    if fields and fields[0] in ("Z", "X"):
        return False
    return not proc_start or len(fields) <= 19 or fields[19] == proc_start


def is_stale(lease: Lease, now: float, host: str,
             alive: Callable[[int, str], bool] = process_alive) -> bool:
    """A lease anyone may take over: released, expired, or held by a dead process on this host
    (another host's holder is only known dead by its expiry)."""
    if lease.released or lease.expires <= now:
        return True
    return lease.host == host and not alive(lease.pid, lease.proc_start)


def running_message(lease: Lease) -> str:
    return (f"另一個匯入正在進行（{lease.describe()}）；請等它結束，或用 --wait 秒數 等候。 "
            f"ingest already running ({lease.describe()}): wait for it to finish, or pass "
            "--wait SECONDS to wait longer.")


class WriterLease:
    """`with WriterLease(store) as lease:` holds the collection's writer lease for the block:
    waits up to `wait` seconds for a live holder (saying so through `notify`), takes over a stale
    one, renews in a thread every third of `ttl`, and releases on exit. Writers call `check()`
    before each write: it raises LeaseLost once the lease may have passed to someone else."""

    def __init__(self, store: LeaseStore, *, wait: float = WAIT_SECONDS,
                 ttl: float = LEASE_SECONDS, notify: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.wait = max(0.0, wait)
        self.ttl = ttl
        self.notify = notify or log.warning
        self.held: Lease | None = None
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed = 0.0  # monotonic time of the last successful renewal

    # ------------------------------------------------------------ taking
    def __enter__(self) -> Self:
        self.held = self._acquire()
        self._renewed = time.monotonic()
        self._thread = threading.Thread(target=self._renew_loop, name="lease-renewal",
                                        daemon=True)
        self._thread.start()
        return self

    def _acquire(self) -> Lease:
        deadline = time.monotonic() + self.wait
        told = False
        while True:
            current = self.store.lease()
            now = time.time()
            if current is None or is_stale(current, now, host_name()):
                mine = self._claim(current, now)
                if self.store.take_lease(mine):
                    if current is not None and not current.released:
                        log.warning("took over a stale ingest lease (%s)", current.describe())
                    return mine
                continue  # another taker won this epoch: look again
            if time.monotonic() >= deadline:
                raise IngestRunning(running_message(current))
            if not told:
                self.notify(f"等待另一個匯入結束（{current.describe()}），"
                            f"最多 {self.wait:.0f} 秒。 Waiting up to {self.wait:.0f} s "
                            f"for the running ingest ({current.describe()}).")
                told = True
            time.sleep(min(POLL_SECONDS, max(0.01, deadline - time.monotonic())))

    def _claim(self, current: Lease | None, now: float) -> Lease:
        pid = os.getpid()
        return Lease(epoch=(current.epoch if current else 0) + 1, holder=uuid.uuid4().hex,
                     pid=pid, host=host_name(), proc_start=process_start(pid), started=now,
                     expires=now + self.ttl)

    # ------------------------------------------------------------ holding
    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl * RENEW_EVERY):
            self.renew()

    def renew(self) -> None:
        """Extend the expiry now (the thread does this; long single steps may call it too)."""
        if self.held is None or self._lost.is_set():
            return
        extended = replace(self.held, expires=time.time() + self.ttl)
        try:
            still = self.store.renew_lease(extended)
        except Exception as exc:  # an unreachable store: the lease runs out unless renewed
            log.warning("could not renew the ingest lease: %s", exc)
            if time.monotonic() - self._renewed > self.ttl:
                self._lost.set()
            return
        if still:
            self.held = extended
            self._renewed = time.monotonic()
        else:
            self._lost.set()

    def check(self) -> None:
        """Raise LeaseLost when another process may hold the lease now."""
        if self.held is None:
            raise LeaseLost("沒有取得寫入租約。 This process does not hold the writer lease.")
        if self._lost.is_set() or time.monotonic() - self._renewed > self.ttl:
            self._lost.set()
            raise LeaseLost(
                f"寫入租約已被接手（本程序停頓超過 {self.ttl:.0f} 秒）；已停止寫入，"
                f"請重新執行匯入。 The writer lease was taken over (this process stalled "
                f"for more than {self.ttl:.0f} s); it stopped writing: run the ingest again.")

    # ------------------------------------------------------------ releasing
    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.ttl)
        if self.held is not None and not self._lost.is_set():
            try:
                self.store.renew_lease(replace(self.held, expires=0.0))
            except Exception as exc:  # released by expiry instead
                log.warning("could not release the ingest lease: %s", exc)
        self.held = None
