"""The chat UI end to end: `python app.py` in a subprocess over the indexed corpus, driven by
headless Chromium (Debian's /usr/bin/chromium through Playwright; see .ci/install-browser.sh).

Checks what a user sees: the answer streams in, [n] markers link to <mark>ed sources, a follow-up
uses the conversation, an unanswerable question gets the refusal, errors are friendly, the
clear button works, desktop and phone layouts, and no request leaves the machine. Screenshots go
to the test's tmp_path and to out/screenshots/ (gitignored) for people to look at."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from conftest import stop
from playwright import sync_api  # the `test` extra installs it

from rag.config import Settings
from rag.manifest import Manifest
from rag.prompt import REFUSALS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
SCREENSHOTS = ROOT / "out" / "screenshots"
START_TIMEOUT = 300  # s: loading models and a warm-up answer on a busy 2-core machine
ANSWER_TIMEOUT_MS = 180_000
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
REFUSAL = REFUSALS["zh-Hant"]
BOT = '#rag-chat [data-testid="bot"]'

if not CHROMIUM.exists():  # a missing browser is a broken set-up, not a reason to skip
    raise RuntimeError("no /usr/bin/chromium: run `bash .ci/install-browser.sh` first")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, n: int = 4000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-n:] if path.exists() else ""


@pytest.fixture(scope="module")
def server(indexed: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python app.py` on a free loopback port over the indexed data dir; its URL."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "app.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "GRADIO_"))}
    env.update(RAG_DATA_DIR=str(indexed.data_dir), HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False",
               PYTHONUNBUFFERED="1")
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited with {proc.returncode}:\n{_tail(log)}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not answer on {url} in {START_TIMEOUT} s:\n{_tail(log)}")
            time.sleep(1)
        yield url
    finally:
        stop(proc, timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Page:
    """One browser session (its own context) that records every request it makes."""

    def __init__(self, browser: Any, url: str, **context: Any) -> None:
        self.context = browser.new_context(**context)
        self.requests: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.page.goto(url)
        self.page.wait_for_selector("#rag-question textarea")
        self.page.wait_for_selector("#rag-backend")
        # Every distinct text of the newest bot message, as the page shows it.
        self.page.evaluate("""() => {
            window.__seen = [];
            const root = document.querySelector('#rag-chat');
            new MutationObserver(() => {
                const bots = root.querySelectorAll('[data-testid="bot"]');
                if (!bots.length) return;
                const t = bots[bots.length - 1].innerText, s = window.__seen;
                if (!s.length || s[s.length - 1] !== t) s.push(t);
            }).observe(root, {subtree: true, childList: true, characterData: true});
        }""")

    def bots(self) -> Any:
        return self.page.locator(BOT)

    def ask(self, question: str) -> str:
        """Type, send, wait for the final (not streaming) reply; its text."""
        before = self.bots().count()
        self.page.evaluate("window.__seen = []")
        self.page.fill("#rag-question textarea", question)
        self.page.click("#rag-send")
        self.page.wait_for_function(
            """([sel, n]) => { const b = document.querySelectorAll(sel);
                if (b.length <= n) return false;
                const t = b[b.length - 1].innerText;
                return t && !t.includes('▌') && !t.includes('Searching'); }""",
            arg=[BOT, before], timeout=ANSWER_TIMEOUT_MS)
        return str(self.bots().last.inner_text())

    def seen(self) -> list[str]:
        return list(self.page.evaluate("window.__seen"))

    def shot(self, name: str, out: Path) -> Path:
        path = out / name
        self.page.screenshot(path=str(path), full_page=True)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / name)
        return path

    def outside_requests(self) -> list[str]:
        return [u for u in self.requests
                if urlparse(u).scheme not in ("data", "blob", "about")
                and urlparse(u).hostname not in LOOPBACK]

    def close(self) -> None:
        self.context.close()


def test_desktop_chat_streams_cites_follows_up_and_refuses(
        server: str, browser: Any, indexed: Settings, tmp_path: Path) -> None:
    ui = Page(browser, server, viewport={"width": 1280, "height": 900})
    page = ui.page
    try:
        manifest = Manifest(indexed.manifest_path)
        n_articles, n_chunks = manifest.count()
        manifest.close()
        assert "抽取式" in page.inner_text("#rag-backend")
        assert f"{n_articles} 篇文章 / {n_chunks} 段" in page.inner_text("#rag-corpus")
        assert "高雄何時加入 IURC？" in page.inner_text("#rag-examples")

        # 1. The answer streams in: a searching note, a growing draft, then the final text.
        first = ui.ask("高雄市長是誰？")
        assert "陳其邁" in first
        drafts = [t for t in ui.seen() if "▌" in t]
        assert drafts, ui.seen()
        lengths = [len(t) for t in drafts]
        assert lengths == sorted(lengths) and lengths[0] < len(first), ui.seen()

        # Citations: [n] links in the answer, source cards with the quote in <mark>.
        links = ui.bots().last.locator("a.cite-ref")
        assert links.count() >= 1 and links.first.get_attribute("href") == "#src-1"
        assert page.locator("#rag-sources .src-card mark").count() >= 1
        assert page.locator("#src-1").count() == 1
        assert "記者" in page.inner_text("#src-1")

        # 2. A follow-up uses the conversation (the rewritten question is shown as a notice).
        second = ui.ask("那橘郡郡長呢？")
        assert "紐豪斯" in second
        assert "橘郡郡長是誰" in page.inner_text("#rag-sources")
        assert ui.bots().first.locator("a.cite-ref").count() == 0  # older links retired
        marks = page.locator("#rag-sources .src-card mark")
        assert marks.count() >= 1 and "紐豪斯" in page.inner_text("#rag-sources")

        # Clicking a marker jumps to its source and highlights it (CSS :target).
        ui.bots().last.locator("a.cite-ref").first.click()
        page.wait_for_function("() => location.hash === '#src-1'")
        assert page.evaluate("document.querySelector(':target')?.id") == "src-1"
        assert page.evaluate(
            "getComputedStyle(document.querySelector('#src-1')).boxShadow") != "none"

        # Side by side at 1280 px: the sources panel is to the right of the chat.
        chat = page.locator("#rag-chat").bounding_box()
        sources = page.locator("#rag-sources").bounding_box()
        assert chat and sources and sources["x"] >= chat["x"] + chat["width"] - 1
        shot = ui.shot("desktop-1280x900.png", tmp_path)
        assert shot.stat().st_size > 10_000

        # 3. An unanswerable question gets the refusal sentence and no sources.
        assert ui.ask("誰贏得了2024年世界大賽？") == REFUSAL
        assert page.locator("#rag-sources .src-card").count() == 0

        # 4. An error is a friendly message in the chat, and the chat keeps working.
        page.fill("#rag-question textarea", "")
        page.click("#rag-send")
        page.wait_for_function(
            "() => document.querySelectorAll('#rag-chat .rag-error').length > 0")
        assert "問題是空的" in page.inner_text("#rag-chat")
        assert "Traceback" not in page.content()
        assert "300" in ui.ask("檳城吸引了多少家跨國公司進駐？")

        # 5. The clear button empties the chat and the sources panel.
        page.click("#rag-clear")
        page.wait_for_function(f"() => document.querySelectorAll('{BOT}').length === 0")
        assert page.locator("#rag-sources .src-card").count() == 0
        assert not ui.outside_requests(), ui.outside_requests()
    finally:
        ui.close()


def test_phone_layout_stacks_sources_under_the_chat(
        server: str, browser: Any, tmp_path: Path) -> None:
    ui = Page(browser, server, viewport={"width": 390, "height": 844},
              device_scale_factor=2, is_mobile=True, has_touch=True)
    page = ui.page
    try:
        page.locator("#rag-examples button", has_text="橘郡郡長是誰？").first.click()
        sync_api.expect(page.locator("#rag-question textarea")).to_have_value(
            "橘郡郡長是誰？", timeout=30_000)  # the example fills the box via a server round trip
        page.click("#rag-send")
        page.wait_for_selector("#rag-sources .src-card mark", timeout=ANSWER_TIMEOUT_MS)
        assert "紐豪斯" in ui.bots().last.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        chat = page.locator("#rag-chat").bounding_box()
        sources = page.locator("#rag-sources").bounding_box()
        assert chat and sources and sources["y"] >= chat["y"] + chat["height"]
        assert sources["width"] > 300
        ui.shot("phone-390x844.png", tmp_path)
        page.screenshot(path=str(tmp_path / "phone-390x844-viewport.png"))
        shutil.copy(tmp_path / "phone-390x844-viewport.png", SCREENSHOTS)
        assert not ui.outside_requests(), ui.outside_requests()
    finally:
        ui.close()


def test_date_and_article_filters_reach_the_answer(server: str, browser: Any) -> None:
    ui = Page(browser, server, viewport={"width": 1280, "height": 1000})
    page = ui.page
    try:
        page.click("#rag-filters .label-wrap")
        page.fill("#rag-after input", "2024-01-01")
        page.press("#rag-after input", "Enter")
        page.fill("#rag-before input", "2024-12-31")
        page.press("#rag-before input", "Enter")
        page.click("#rag-article input")
        page.locator("ul[role=listbox] li", has_text="檳城").first.click()
        assert "300" in ui.ask("檳城吸引了多少家跨國公司進駐？")
        dates = page.locator("#rag-sources .src-meta").all_inner_texts()
        assert dates and all(d.startswith("2024-10-19") for d in dates), dates
        # The IURC article (2026) is outside the range: refused, not answered from it.
        assert ui.ask("高雄何時加入 IURC？") == REFUSAL
        page.fill("#rag-after input", "2024-13-45")
        page.press("#rag-after input", "Enter")
        assert "開始日期格式不正確" in ui.ask("高雄何時加入 IURC？")
        assert not ui.outside_requests(), ui.outside_requests()
    finally:
        ui.close()
