"""Any OpenAI-compatible chat server (Ollama, vLLM, llama.cpp, OpenAI) through llama-index."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rag.answerers import Response
from rag.config import Settings
from rag.errors import ConfigError, LLMError
from rag.lang import Lang
from rag.prompt import (
    CITATION_QA_TEMPLATE,
    REWRITE_TEMPLATE,
    SYSTEM_PROMPT,
    format_passages,
    is_refusal,
    refusal,
)
from rag.schema import Draft, Passage

if TYPE_CHECKING:
    from rag.embed import Embedder


class OpenAIAnswerer:
    """Streams the model's answer; every failure becomes an LLMError with a one-line reason."""

    name: ClassVar[str] = "openai"
    can_rewrite: ClassVar[bool] = True

    def __init__(self, base_url: str, model: str, api_key: str | None = None,
                 timeout: float = 60.0, retries: int = 2, context_tokens: int = 3000,
                 encoding: str = "o200k_base") -> None:
        self.base_url = base_url
        self.model = model
        self.label = f"LLM：{model}"
        self.context_tokens = context_tokens
        self.encoding = encoding
        from llama_index.llms.openai_like import OpenAILike

        # Everything explicit: llama-index's global Settings must never pick a default LLM.
        self.llm = OpenAILike(model=model, api_base=base_url, api_key=api_key or "not-needed",
                              is_chat_model=True, timeout=timeout, max_retries=retries,
                              temperature=0.0, context_window=32768)

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
                   settings.tokenizer)

    def messages(self, question: str, passages: Sequence[Passage], lang: Lang
                 ) -> tuple[list[Any], int]:
        """The chat messages and how many passages fit the context budget."""
        from llama_index.core.llms import ChatMessage, MessageRole

        context, shown = format_passages(passages, self.context_tokens, self.encoding)
        return [
            ChatMessage(role=MessageRole.SYSTEM,
                        content=SYSTEM_PROMPT.format(refusal=refusal(lang))),
            ChatMessage(role=MessageRole.USER,
                        content=CITATION_QA_TEMPLATE.format(context=context, question=question)),
        ], shown

    def respond(self, question: str, passages: Sequence[Passage], lang: Lang) -> Response:
        """Streams the model's pieces; the draft is a refusal when the model wrote the stock
        refusal sentence its system prompt asks for, and cites only the passages it saw."""
        messages, shown = self.messages(question, passages, lang)
        return Response(self._pieces(messages),
                        lambda text: Draft(text, refused=is_refusal(text), shown=shown))

    def _pieces(self, messages: list[Any]) -> Iterator[str]:
        try:
            got_any = False
            for chunk in self.llm.stream_chat(messages):
                delta = chunk.delta or ""
                if delta:
                    got_any = True
                    yield delta
        except LLMError:
            raise
        except Exception as exc:  # openai/httpx raise many types; all mean "the server failed"
            raise LLMError(_reason(exc, self.base_url)) from exc
        if not got_any:
            raise LLMError(f"LLM 伺服器回傳空白回答。 The LLM server at {self.base_url} "
                           "returned an empty answer.")

    def rewrite(self, history: str, question: str) -> str:
        """A stand-alone version of a follow-up question."""
        try:
            reply = self.llm.complete(REWRITE_TEMPLATE.format(history=history, question=question))
        except Exception as exc:  # see stream()
            raise LLMError(_reason(exc, self.base_url)) from exc
        text = str(reply.text or "").strip().splitlines()
        return text[0].strip() if text else question


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
