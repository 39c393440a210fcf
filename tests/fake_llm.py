"""A scripted OpenAI-compatible chat server for tests and benchmarks (stdlib only).

    with FakeLLM() as llm:              # or the `fake_llm` pytest fixture
        llm.script("高雄於2025年8月加入 IURC [1]。", FAIL_500)
        settings = settings.with_(llm_base_url=llm.base_url, llm_model="fake")

It serves what the openai client (and llama-index's OpenAILike on top of it) calls with an
api_base ending in /v1: POST /v1/chat/completions, non-streaming JSON or, with "stream": true,
server-sent events (`data: {chunk}\\n\\n` ... `data: [DONE]\\n\\n`), and GET /v1/models.

Each chat request takes the next scripted reply (then `default`); a reply is a text, one of the
failure modes below, a text after CUT (streamed, then the connection closes with no finish
reason and no [DONE]), or a callable that maps the request's messages to one of those. Every
request body is recorded in `requests` so tests can check what was sent. `chunk_chars` and
`chunk_delay` make a server that trickles (one character every 5 s); FAIL_TIMEOUT one that
accepts and never answers.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

FAIL_500 = "<fake:http-500>"  # HTTP 500 with an OpenAI-style error body
FAIL_TIMEOUT = "<fake:timeout>"  # says nothing for `delay` seconds (longer than the client waits)
FAIL_GARBAGE = "<fake:garbage>"  # a body that is not JSON (nor JSON events when streaming)
FAIL_EMPTY = "<fake:empty>"  # a well-formed reply whose content is empty
CUT = "<fake:cut>"  # prefix: stream the rest of the reply, then close before finish and [DONE]
FAILURES = (FAIL_500, FAIL_TIMEOUT, FAIL_GARBAGE, FAIL_EMPTY)

Messages = list[dict[str, Any]]
Reply = str | Callable[[Messages], str]


class FakeLLM:
    """The server, started on a free port of 127.0.0.1 in a daemon thread."""

    def __init__(self, default: Reply = "", delay: float = 5.0, chunk_chars: int = 4,
                 chunk_delay: float = 0.0, first_delay: float = 0.0) -> None:
        self.default: Reply = default
        self.delay = delay  # how long FAIL_TIMEOUT stalls (cut short by stop())
        self.chunk_chars = chunk_chars  # characters per streamed delta
        self.chunk_delay = chunk_delay  # pause between streamed deltas
        self.first_delay = first_delay  # pause before any reply (a model's prefill time)
        self._initial = (delay, chunk_chars)
        self.requests: list[dict[str, Any]] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- control
    def script(self, *replies: Reply) -> FakeLLM:
        """Replies for the next chat requests, in order; afterwards `default` answers."""
        with self._lock:
            self._queue.extend(replies)
        return self

    def reset(self, default: Reply = "") -> None:
        """Forget scripted replies and recorded requests; back to instant replies."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.default = default
            self.chunk_delay = self.first_delay = 0.0
            self.delay, self.chunk_chars = self._initial

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeLLM is not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chats(self) -> list[dict[str, Any]]:
        """The recorded chat-completion request bodies."""
        return [r["body"] for r in self.requests if r["path"].endswith("/chat/completions")]

    def start(self) -> FakeLLM:
        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True  # a stalled reply never blocks shutdown
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes stalled handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- behaviour
    def _next(self, messages: Messages) -> str:
        with self._lock:
            reply = self._queue.popleft() if self._queue else self.default
        return reply(messages) if callable(reply) else reply

    def _sleep(self, seconds: float) -> bool:
        """False when the server is stopping."""
        return not self._stopping.wait(seconds) if seconds > 0 else True


def _handler(llm: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection; a stream ends with it

        def log_message(self, *_: Any) -> None:  # keep pytest output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            llm.requests.append({"method": "GET", "path": self.path, "body": None})
            if self.path.rstrip("/").endswith("/models"):
                self._json(200, {"object": "list", "data": [
                    {"id": "fake", "object": "model", "created": 0, "owned_by": "tests"}]})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "nf"}})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"_raw": raw.decode("utf-8", "replace")}
            llm.requests.append({"method": "POST", "path": self.path, "body": body,
                                 "headers": dict(self.headers)})
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "nf"}})
                return
            reply = llm._next(list(body.get("messages") or []))
            if not llm._sleep(llm.first_delay):
                return
            if reply == FAIL_500:
                self._json(500, {"error": {"message": "fake internal error",
                                           "type": "server_error", "code": None}})
            elif reply == FAIL_TIMEOUT:
                llm._sleep(llm.delay)  # the client gives up first; then the socket just closes
            elif body.get("stream"):
                self._stream(reply, body)
            elif reply == FAIL_GARBAGE:
                self._raw(200, "application/json", b"<html>502 Bad Gateway</html> {not json")
            else:
                self._json(200, _completion(body, "" if reply == FAIL_EMPTY else reply))

        def _stream(self, reply: str, body: dict[str, Any]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            if reply == FAIL_GARBAGE:
                self._send(b"data: {this is not json\n\n")
                return
            cut = reply.startswith(CUT)
            text = "" if reply == FAIL_EMPTY else reply.removeprefix(CUT)
            events = list(_chunks(body, text, llm.chunk_chars))
            for i, event in enumerate(events[:-1] if cut else events):
                if i > 1 and not llm._sleep(llm.chunk_delay):
                    return
                self._send(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
            if not cut:
                self._send(b"data: [DONE]\n\n")

        def _send(self, data: bytes) -> None:
            try:
                self.wfile.write(data)
                self.wfile.flush()
            except OSError:  # the client went away (timeout); nothing to do
                pass

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self._raw(status, "application/json",
                      json.dumps(payload, ensure_ascii=False).encode("utf-8"))

        def _raw(self, status: int, content_type: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self._send(data)

    return Handler


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


def _chunks(body: dict[str, Any], text: str, size: int) -> Iterator[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": body.get("model", "fake"),
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""})
    for i in range(0, len(text), max(1, size)):
        yield chunk({"content": text[i : i + size]})
    yield chunk({}, "stop")


def system_prompt(request: dict[str, Any]) -> str:
    return _content(request["messages"], "system")


def user_prompt(request: dict[str, Any]) -> str:
    return _content(request["messages"], "user")


def _content(messages: Messages, role: str) -> str:
    for m in reversed(messages):
        if m.get("role") == role:
            content = m.get("content") or ""
            if isinstance(content, list):  # content parts
                return "".join(str(part.get("text", "")) for part in content)
            return str(content)
    return ""


_PASSAGE = re.compile(r"^\[(\d+)\] 標題：[^\n]*\n<<<段落 (\w+)>>>\n(.*?)\n<<<結束 \2>>>$",
                      re.S | re.M)


def shown_passages(messages: Messages) -> dict[int, str]:
    """The numbered passages of an answer request: {n: text as the model saw it}, read the way
    a model should: only frames tagged with the request's nonce."""
    user = _content(messages, "user")
    nonce = nonce_of(user)
    return {int(n): text for n, tag, text in _PASSAGE.findall(user) if tag == nonce}


def nonce_of(user: str) -> str:
    """The frame nonce a request's user message declares (in its first line)."""
    found = re.search(r"<<<段落 (\w+)>>>", user.split("\n", 1)[0])
    return found.group(1) if found else ""


def question_of(user: str) -> str:
    """The question of an answer request: the line labelled with the request's nonce."""
    found = re.search(rf"^問題（{re.escape(nonce_of(user))}）：(.*)$", user, re.M)
    return found.group(1) if found else ""


def citing(needle: str, template: str, missing: str = "我不知道。") -> Callable[[Messages], str]:
    """A reply that cites the first shown passage holding `needle`: template.format(n=...)."""

    def reply(messages: Messages) -> str:
        found = [n for n, text in sorted(shown_passages(messages).items()) if needle in text]
        return template.format(n=found[0]) if found else missing

    return reply


def is_rewrite_request(messages: Messages) -> bool:
    return not _content(messages, "system") and "完整問題" in _content(messages, "user")


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    """A started FakeLLM, stopped (within seconds, even with a stalled reply) after the test."""
    llm = FakeLLM().start()
    try:
        yield llm
    finally:
        llm.stop()
