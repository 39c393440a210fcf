"""Any OpenAI-compatible chat server (Ollama, vLLM, llama.cpp, OpenAI) through llama-index,
with a wall-clock deadline on every answer."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, ClassVar

from rag.answerers import Response
from rag.config import Settings
from rag.errors import ConfigError, LLMError
from rag.lang import Lang
from rag.prompt import (
    CITATION_QA_TEMPLATE,
    REWRITE_TEMPLATE,
    SYSTEM_PROMPT,
    as_data,
    format_passages,
    is_refusal,
    new_nonce,
    refusal,
)
from rag.schema import Draft, Passage

if TYPE_CHECKING:
    from rag.embed import Embedder


class OpenAIAnswerer:
    """Streams the model's answer; every failure becomes an LLMError with a one-line reason:
    an unreachable or failing server, a reply past the deadline (however slowly it trickles),
    a stream cut before its end."""

    name: ClassVar[str] = "openai"
    can_rewrite: ClassVar[bool] = True

    def __init__(self, base_url: str, model: str, api_key: str | None = None,
                 timeout: float = 60.0, retries: int = 2, context_tokens: int = 3000,
                 encoding: str = "o200k_base", max_tokens: int = 512,
                 deadline: float = 30.0) -> None:
        self.base_url = base_url
        self.model = model
        self.label = f"LLM：{model}"
        self.context_tokens = context_tokens
        self.encoding = encoding
        self.deadline = deadline
        from llama_index.llms.openai_like import OpenAILike

        # Everything explicit: llama-index's global Settings must never pick a default LLM.
        # `timeout` bounds each read only; `deadline` bounds the whole answer (see _pieces).
        self.llm = OpenAILike(model=model, api_base=base_url, api_key=api_key or "not-needed",
                              is_chat_model=True, timeout=timeout, max_retries=retries,
                              temperature=0.0, context_window=32768, max_tokens=max_tokens)

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return bool(settings.llm_base_url)

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None
                      ) -> OpenAIAnswerer:
        if not settings.llm_base_url or not settings.llm_model:
            raise ConfigError("請設定 RAG_LLM_BASE_URL 與 RAG_LLM_MODEL。 Set RAG_LLM_BASE_URL "
                              "(e.g. http://127.0.0.1:11434/v1) and RAG_LLM_MODEL.")
        return cls(settings.llm_base_url, settings.llm_model, settings.llm_api_key,
                   settings.llm_timeout, settings.llm_retries, settings.context_tokens,
                   settings.tokenizer, max_tokens=settings.llm_max_tokens,
                   deadline=settings.llm_deadline)

    def messages(self, question: str, passages: Sequence[Passage], lang: Lang
                 ) -> tuple[list[Any], int]:
        """The chat messages and how many passages fit the context budget; passages and the
        question are framed with a fresh nonce (rag/prompt.py)."""
        from llama_index.core.llms import ChatMessage, MessageRole

        nonce = new_nonce()
        context, shown = format_passages(passages, self.context_tokens, self.encoding, nonce)
        user = CITATION_QA_TEMPLATE.format(context=context, nonce=nonce,
                                           question=as_data(question, one_line=True))
        return [
            ChatMessage(role=MessageRole.SYSTEM,
                        content=SYSTEM_PROMPT.format(refusal=refusal(lang))),
            ChatMessage(role=MessageRole.USER, content=user),
        ], shown

    def respond(self, question: str, passages: Sequence[Passage], lang: Lang) -> Response:
        """Streams the model's pieces; the draft is a refusal when the model wrote the stock
        refusal sentence its system prompt asks for, and cites only the passages it saw."""
        messages, shown = self.messages(question, passages, lang)
        return Response(self._pieces(messages),
                        lambda text: Draft(text, refused=is_refusal(text), shown=shown))

    def _pieces(self, messages: list[Any]) -> Iterator[str]:
        """The model's text as it arrives, read on the shared I/O loop. Raises LLMError when
        the deadline passes (httpx and openai time out per read, so a server that accepts and
        never answers waited 3 x 60 s, and one that sends a character every 5 s never timed
        out), when the stream ends without a finish reason (a connection cut before [DONE]:
        every OpenAI-compatible server sends one in its last chunk) or with no text at all."""
        deadline = time.monotonic() + self.deadline
        out: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        future = asyncio.run_coroutine_threadsafe(self._produce(messages, out), _io_loop())
        got_any = False
        finish: str | None = None
        try:
            while True:
                try:
                    kind, value = out.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise LLMError(self._late()) from None
                if kind == "error":
                    raise LLMError(_reason(value, self.base_url)) from value
                if kind == "end":
                    finish = value
                    break
                got_any = True
                yield value
        finally:
            future.cancel()  # on the deadline, an error or a consumer that stops: no work left
        if finish is None:
            raise LLMError(f"LLM 回答在結束前中斷。 The LLM server at {self.base_url} closed "
                           "the stream before the end of the answer.")
        if not got_any:
            raise LLMError(f"LLM 伺服器回傳空白回答。 The LLM server at {self.base_url} "
                           "returned an empty answer.")

    async def _produce(self, messages: list[Any], out: queue.SimpleQueue[tuple[str, Any]]
                       ) -> None:
        """Runs on the I/O loop: ("piece", text)..., then ("end", finish reason or None) or
        ("error", exception). Cancelling it closes the HTTP response."""
        finish = None
        try:
            stream = await self.llm.astream_chat(messages)
            async with aclosing(stream):
                async for chunk in stream:
                    finish = _finish_reason(chunk.raw) or finish
                    if chunk.delta:
                        out.put(("piece", chunk.delta))
            out.put(("end", finish))
        except Exception as exc:  # openai/httpx raise many types; all mean "the server failed"
            out.put(("error", exc))

    def _late(self) -> str:
        return (f"LLM 未在 {self.deadline:g} 秒內回答完畢。 The LLM server at {self.base_url} "
                f"did not finish its answer within {self.deadline:g} s (RAG_LLM_DEADLINE).")

    def rewrite(self, history: str, question: str) -> str:
        """A stand-alone version of a follow-up question (within the same deadline)."""
        prompt = REWRITE_TEMPLATE.format(history=as_data(history), question=as_data(question))
        future = asyncio.run_coroutine_threadsafe(self.llm.acomplete(prompt), _io_loop())
        try:
            reply = future.result(timeout=self.deadline)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise LLMError(self._late()) from None
        except Exception as exc:  # see _produce
            raise LLMError(_reason(exc, self.base_url)) from exc
        text = str(reply.text or "").strip().splitlines()
        return text[0].strip() if text else question


_LOOP_LOCK = threading.Lock()
_LOOP: tuple[int, asyncio.AbstractEventLoop] | None = None


def _io_loop() -> asyncio.AbstractEventLoop:
    """One event loop per process, in a daemon thread, that runs every LLM request: a request
    awaited there is cancelled at its deadline, closing its connection, and no thread is left
    blocked in a read. Made again in a forked child (threads do not survive a fork)."""
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None or _LOOP[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="rag-llm-io", daemon=True).start()
            _LOOP = (os.getpid(), loop)
        return _LOOP[1]


def _finish_reason(raw: Any) -> str | None:
    """The finish reason of an OpenAI chat-completion chunk ("stop", "length"), if it has one."""
    choices = getattr(raw, "choices", None) or []
    return getattr(choices[0], "finish_reason", None) if choices else None


def _reason(exc: Exception, url: str) -> str:
    kind = type(exc).__name__
    if "Timeout" in kind:
        return f"LLM 伺服器逾時。 The LLM server at {url} timed out."
    if "Connection" in kind:
        return f"無法連線 LLM 伺服器。 Cannot reach the LLM server at {url}."
    status = getattr(exc, "status_code", None)
    if status:
        return f"LLM 伺服器錯誤 {status}。 The LLM server at {url} answered HTTP {status}."
    return (f"LLM 伺服器回應無法使用（{kind}）。 "
            f"Unusable reply from the LLM server at {url}: {kind}.")
