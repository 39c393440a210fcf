"""One writer per collection: the lease policy (stale, expired, lost) and two real ingest
processes against one collection, one of them killed with SIGKILL while holding the lease."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, make_settings
from test_ingest import KILL_SCRIPT, SENTENCES, assert_consistent, chroma_state, manifest_state

from rag.errors import IngestRunning, LeaseLost
from rag.lease import Lease, WriterLease, host_name, is_stale, process_alive, process_start
from rag.manifest import Manifest

# ---------------------------------------------------------------- the policy, pure


def lease(**changes: Any) -> Lease:
    fields: dict[str, Any] = dict(epoch=1, holder="h", pid=123, host="here", proc_start="9",
                                  started=1000.0, expires=2000.0)
    return Lease(**{**fields, **changes})


def test_stale_when_released_expired_or_dead_on_this_host() -> None:
    alive = lambda pid, start: True  # noqa: E731
    dead = lambda pid, start: False  # noqa: E731
    assert not is_stale(lease(), 1500.0, "here", alive)
    assert is_stale(lease(expires=0.0), 1500.0, "here", alive)  # released
    assert is_stale(lease(), 2000.5, "here", alive)  # expired
    assert is_stale(lease(), 1500.0, "here", dead)  # the holder died on this host
    assert not is_stale(lease(), 1500.0, "there", dead)  # another host: only expiry counts


def test_this_process_is_alive_and_a_reaped_child_is_not() -> None:
    me = os.getpid()
    assert process_alive(me, process_start(me))
    assert not process_alive(me, "not-my-start-time")  # a reused pid is not the holder
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not process_alive(child.pid, "")


def test_a_live_lease_elsewhere_refuses_with_who_holds_it(tmp_path: Path) -> None:
    with Manifest(tmp_path / "m.sqlite") as store:
        held = lease(host="build-server-2", pid=31337, started=time.time() - 60,
                     expires=time.time() + 600)
        assert store.take_lease(held)
        said: list[str] = []
        with pytest.raises(IngestRunning) as info, WriterLease(store, wait=0.2,
                                                               notify=said.append):
            pass
        message = str(info.value)
        assert "ingest already running (pid 31337, host build-server-2, since " in message
        assert "--wait" in message and said and "Waiting up to" in said[0]
        assert store.lease() == held  # untouched


def test_an_expired_lease_elsewhere_is_taken_over(tmp_path: Path) -> None:
    with Manifest(tmp_path / "m.sqlite") as store:
        assert store.take_lease(lease(host="build-server-2", expires=time.time() - 1))
        with WriterLease(store, wait=0) as mine:
            assert mine.held is not None and mine.held.epoch == 2
            assert store.lease() == mine.held and mine.held.host == host_name()
            mine.check()
        after = store.lease()
        assert after is not None and after.released and after.epoch == 2


def test_a_holder_that_stalled_past_its_expiry_stops_writing(tmp_path: Path,
                                                              monkeypatch: Any) -> None:
    with Manifest(tmp_path / "m.sqlite") as store, WriterLease(store, wait=0, ttl=0.3) as slow:
        monkeypatch.setattr(slow, "renew", lambda: None)  # a stopped process renews nothing
        time.sleep(0.4)
        with Manifest(tmp_path / "m.sqlite") as other, WriterLease(other, wait=0) as taker:
            assert taker.held is not None and taker.held.epoch == 2
            with pytest.raises(LeaseLost):
                slow.check()


# ---------------------------------------------------------------- two real processes

def _records(tmp_path: Path) -> Path:
    short = [s[:18] + "。" for s in SENTENCES[:60]]
    assert len(set(short)) == 60
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(
        json.dumps({"id": f"k{i:02d}", "title": f"短訊{i}", "text": text}, ensure_ascii=False)
        for i, text in enumerate(short)) + "\n", encoding="utf-8")
    return path


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", PYTHONPATH=str(ROOT),
               RAG_DATA_DIR=str(data_dir))
    return env


def _holder(tmp_path: Path, records: Path, hold: float) -> tuple[subprocess.Popen[bytes], Path]:
    """An ingest process that stops for `hold` s inside its second batch, lease held."""
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(tmp_path / "rag"), str(records), str(marker),
         str(hold)], cwd=tmp_path, env=_env(tmp_path / "rag"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the holder never reached its window: "
                        + proc.communicate()[0].decode(errors="replace"))
        time.sleep(0.05)
    return proc, marker


def _cli_ingest(tmp_path: Path, records: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag.app.cli", "ingest", "--quiet", *flags, str(records)],
        cwd=tmp_path, env=_env(tmp_path / "rag"), capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_second_ingest_refuses_or_waits_and_loses_nothing(tmp_path: Path) -> None:
    """The issue's data loss: a second ingest used to read the first one's pending rows as a
    crashed batch and delete its chunks and articles while the first printed success."""
    records = _records(tmp_path)
    first, _ = _holder(tmp_path, records, hold=8)
    try:
        refused = _cli_ingest(tmp_path, records, "--wait", "0")
        assert refused.returncode == 2, refused.stderr
        assert (f"ingest already running (pid {first.pid}, host {socket.gethostname()}, "
                "since ") in refused.stderr
        assert "Traceback" not in refused.stderr and refused.stdout == ""
        assert first.poll() is None  # the holder was not disturbed
        waited = _cli_ingest(tmp_path, records, "--wait", "120")
        assert first.wait(timeout=120) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.stdout is not None and "added 60" in first.stdout.read().decode()
    assert waited.returncode == 0, waited.stderr
    assert "Waiting up to 120 s for the running ingest" in waited.stderr
    assert "未變 unchanged 60" in waited.stdout  # it ran after the first one, on its result
    settings = make_settings(tmp_path / "rag")
    entries, chroma = assert_consistent(settings)
    assert sorted(entries) == [f"k{i:02d}" for i in range(60)]
    assert Counter(a for a, _, _ in chroma.values()) == Counter(
        {f"k{i:02d}": 1 for i in range(60)})


@pytest.mark.slow
def test_a_holder_killed_with_sigkill_is_taken_over_at_once(tmp_path: Path) -> None:
    records = _records(tmp_path)
    holder, _ = _holder(tmp_path, records, hold=300)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    settings = make_settings(tmp_path / "rag")
    with Manifest(settings.manifest_path) as manifest:
        dead = manifest.lease()
        assert dead is not None and dead.pid == holder.pid and not dead.released
        assert len(manifest.pending()) == 8  # the batch it was writing
    assert len(manifest_state(settings)[0]) == 8 and len(chroma_state(settings)) == 16

    after = _cli_ingest(tmp_path, records, "--wait", "0")  # no waiting: its holder is dead
    assert after.returncode == 0, after.stderr
    assert "未變 unchanged 8" in after.stdout and "新增 added 52" in after.stdout
    entries, chroma = assert_consistent(settings)
    assert sorted(entries) == [f"k{i:02d}" for i in range(60)]
    assert Counter(a for a, _, _ in chroma.values()) == Counter(
        {f"k{i:02d}": 1 for i in range(60)})
    with Manifest(settings.manifest_path) as manifest:
        taken = manifest.lease()
        assert taken is not None and taken.epoch == dead.epoch + 1 and taken.released
        assert manifest.pending() == []
