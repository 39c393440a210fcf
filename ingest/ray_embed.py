"""Embedding on Ray: `RayEmbedder` hands embed() calls to actors that each load the model once.

`rag ingest --ray [ADDRESS]` gives the Ingestor a RayEmbedder instead of the local model: the
driver still reads, chunks, de-duplicates and alone writes to the store (so the pending marks,
the reconcile at start and the writer lease are unchanged); only the vectors come from the
workers. Each embed() call is cut into pieces that go to whichever worker is free, at most
IN_FLIGHT pieces queued per worker, and the vectors come back in input order. Being `remote`,
it lets the Ingestor read and chunk the next batch while the workers embed this one.

A worker that dies (a killed process, a lost node) is restarted by Ray and its pieces are sent
again, up to RESTARTS times; after that the call raises ModelError, nothing of the batch has been
written, and re-running the ingest resumes where it stopped. The driver keeps a local embedder
for what it needs between calls (the name recorded in the collection, the dimension, token counts
for the chunker); the workers must run the same model, which start() checks.

Ray is the optional extra `pip install -e ".[distributed]"`; nothing else imports this module.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import numpy as np

from rag.config import Settings
from rag.embed import Embedder, get_embedder
from rag.errors import ConfigError, ModelError
from rag.text import bundled_tiktoken_cache

log = logging.getLogger(__name__)
LOCAL = "local"  # ray.init's address for "start a new instance for this run"
IN_FLIGHT = 2  # pieces queued per worker: it starts the next while the driver collects one
RESTARTS = 3  # a worker killed more often than this fails the batch (the ingest can resume)
OBJECT_STORE_BYTES = 128 * 1024 * 1024  # a local instance: a 256-chunk batch's vectors are 0.4 MB
# Ray runs its workers at nice 15 by default; here they do the ingest's main work, and on a busy
# machine nice 15 made 2 workers 2.3x slower than one in-process model (160 texts: 46 s vs 20 s).
LOCAL_SYSTEM_CONFIG = {"worker_niceness": 0}


@dataclass(frozen=True)
class WorkerInfo:
    """What start() learns from each worker before any text is sent."""

    name: str
    dim: int
    pid: int
    host: str


class EmbedWorker:
    """The Ray actor: the configured embedder, loaded once per process."""

    def __init__(self, settings: Settings) -> None:
        self.embedder = get_embedder(settings)
        self.embedder.embed(["暖機 warm-up"])  # load the weights now, not inside the first batch

    def info(self) -> WorkerInfo:
        return WorkerInfo(name=self.embedder.name, dim=self.embedder.dim, pid=os.getpid(),
                          host=socket.gethostname())

    def embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self.embedder.embed(texts, is_query)

    def cpu_seconds(self) -> float:
        """CPU time this worker has used (bench/ray_scale.py: cost per chunk)."""
        return time.process_time()


def worker_env(threads: int) -> dict[str, str]:
    """The workers' environment: their own thread count, and the same offline setup as the CLI
    (prepare_process_env) since a remote node does not inherit the driver's variables."""
    env = {"OMP_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE",
           "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false",
           "HF_HUB_DISABLE_TELEMETRY": "1"}
    cache = bundled_tiktoken_cache()
    if cache:
        env["TIKTOKEN_CACHE_DIR"] = str(cache)
    return env


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            "未安裝 Ray：請執行 pip install -e \".[distributed]\" 後再用 --ray。 Ray is not "
            "installed: run `pip install -e \".[distributed]\"` to use --ray.") from exc
    return ray


class RayEmbedder(Embedder):
    """An Embedder whose embed() runs on Ray actors; build it with `RayEmbedder.start(...)`
    and close it (or use it as a context manager) to stop the workers."""

    remote = True  # the Ingestor reads and chunks the next batch while the workers embed

    def __init__(self, local: Embedder, actors: list[Any], owns_ray: bool) -> None:
        super().__init__(local.batch_size)
        self.local = local
        self.name = local.name
        self.max_tokens = local.max_tokens
        self.actors = actors
        self.owns_ray = owns_ray  # start() connected (or started a local instance): close() ends it
        self.infos: list[WorkerInfo] = []

    @classmethod
    def start(cls, settings: Settings, address: str | None = None, workers: int | None = None,
              threads: int = 1) -> RayEmbedder:
        """Connect to the cluster at `address` (None: start a local instance for this run) and
        start `workers` actors of `threads` threads each (None: as many as its CPUs allow)."""
        ray = _ray()
        threads = max(1, threads)
        owns = _connect(ray, address, (workers or 0) * threads)
        try:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            n = workers or max(1, cpus // threads)
            if n * threads > cpus:  # Ray would wait forever for the CPUs of the last workers
                raise ConfigError(
                    f"Ray 叢集只有 {cpus} 個 CPU，{n} 個工作程序 × {threads} 執行緒放不下；請減少 "
                    f"--ray-workers 或加入節點。 The Ray cluster has {cpus} CPUs, too few for "
                    f"{n} workers of {threads} threads: pass fewer --ray-workers or add nodes.")
            remote = ray.remote(EmbedWorker).options(
                num_cpus=threads, max_restarts=RESTARTS, max_task_retries=RESTARTS,
                runtime_env={"env_vars": worker_env(threads)})
            actors = [remote.remote(settings) for _ in range(n)]
            embedder = cls(get_embedder(settings), actors, owns)
            embedder.infos = embedder._call(lambda a: a.info.remote())
        except BaseException:
            if owns:
                ray.shutdown()
            raise
        embedder._check_model()
        return embedder

    # ---------------------------------------------------------------- the Embedder interface
    @property
    def dim(self) -> int:
        return self.local.dim

    def count_tokens(self, text: str, is_query: bool = False) -> int:
        return self.local.count_tokens(text, is_query)

    def _embed_batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self.embed(texts, is_query)

    def embed(self, texts: Sequence[str], is_query: bool = False) -> np.ndarray:
        """Vectors in input order, computed by the workers (already normalised there)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        n = len(self.actors)  # pieces: a multiple of the workers, so equal workers finish together
        count = n * math.ceil(math.ceil(len(texts) / self.batch_size) / n)
        size = math.ceil(len(texts) / count)
        pieces = [texts[i : i + size] for i in range(0, len(texts), size)]
        parts = self._spread(pieces, is_query)
        return np.vstack(parts).astype(np.float32, copy=False)

    # ---------------------------------------------------------------- work distribution
    def _spread(self, pieces: list[list[str]], is_query: bool) -> list[np.ndarray]:
        """Each free worker takes the next piece; results are put back in piece order."""
        ray = _ray()
        results: list[np.ndarray | None] = [None] * len(pieces)
        queue = deque(enumerate(pieces))
        running: dict[Any, tuple[int, Any]] = {}

        def submit(actor: Any) -> None:
            index, piece = queue.popleft()
            running[actor.embed.remote(piece, is_query)] = (index, actor)

        for _ in range(IN_FLIGHT):
            for actor in self.actors:
                if queue:
                    submit(actor)
        while running:
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                index, actor = running.pop(ref)
                results[index] = self._get(ref)
                if queue:
                    submit(actor)
        return [r for r in results if r is not None]

    def _call(self, method: Any) -> list[Any]:
        return [self._get(ref) for ref in [method(a) for a in self.actors]]

    def _get(self, ref: Any) -> Any:
        ray = _ray()
        try:
            return ray.get(ref)
        except ray.exceptions.RayError as exc:
            raise ModelError(
                f"Ray 嵌入工作程序失敗（{type(exc).__name__}：{str(exc)[:300]}）；"
                "已寫入的批次都完整，請重新執行同一個匯入指令，會從中斷處繼續。 "
                f"A Ray embedding worker failed "
                f"({type(exc).__name__}); every batch written so far is complete: run the same "
                "ingest again and it resumes where it stopped.") from exc

    def _check_model(self) -> None:
        for info in self.infos:
            if info.name != self.name or info.dim != self.dim:
                self.close()
                raise ModelError(
                    f"Ray 工作程序 {info.host}:{info.pid} 的嵌入模型是 {info.name}/{info.dim}，"
                    f"本機是 {self.name}/{self.dim}；請讓各節點使用相同的 RAG_EMBED_MODEL。 "
                    f"Ray worker {info.host}:{info.pid} runs {info.name} ({info.dim} dims), "
                    f"the driver {self.name} ({self.dim}): install the same model on every node.")

    # ---------------------------------------------------------------- lifetime
    def cpu_seconds(self) -> float:
        """CPU time of all workers so far (a restarted worker starts from 0)."""
        return float(sum(self._call(lambda a: a.cpu_seconds.remote())))

    def worker_pids(self) -> list[tuple[str, int]]:
        """(host, pid) of each worker now (a restarted worker has a new pid)."""
        return [(i.host, i.pid) for i in self._call(lambda a: a.info.remote())]

    def close(self) -> None:
        """Stop the workers; disconnect (and stop a local instance) when start() connected."""
        ray = _ray()
        if not ray.is_initialized():
            return
        for actor in self.actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception as exc:  # already gone: nothing to stop
                log.debug("ray.kill: %s", exc)
        self.actors = []
        if self.owns_ray:
            ray.shutdown()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def _connect(ray: Any, address: str | None, cpus_wanted: int = 0) -> bool:
    """ray.init at `address`, or a new local instance (with at least `cpus_wanted` CPUs: more
    workers than cores is the caller's choice); False when Ray was already initialised by the
    caller (who then also ends it)."""
    if ray.is_initialized():
        return False
    target = address or LOCAL
    try:
        if target == LOCAL:
            ray.init(address=LOCAL, num_cpus=max(os.cpu_count() or 1, cpus_wanted),
                     include_dashboard=False,
                     object_store_memory=OBJECT_STORE_BYTES, log_to_driver=False,
                     logging_level=logging.WARNING, _system_config=LOCAL_SYSTEM_CONFIG)
        else:
            ray.init(address=target, log_to_driver=False, logging_level=logging.WARNING)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise ConfigError(
            f"無法連上 Ray 叢集 {target}（{exc}）。請確認 `ray start --head` 已在該位址執行，"
            "或不帶位址使用 --ray 啟動本機的 Ray。 "
            f"Cannot reach the Ray cluster at {target} ({exc}): start it with "
            "`ray start --head` there, or pass --ray without an address for a local instance."
        ) from exc
    return True
