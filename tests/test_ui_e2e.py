"""The chat UI end to end: `python app.py` in a subprocess over a copy of the indexed corpus, driven
by headless Chromium (Debian's /usr/bin/chromium through Playwright; see .ci/install-browser.sh).
One server and one browser for the module; each test its own browser context (session).

Each numbered defect of issue 13 has a check here: (1) a question sent while an answer streams
waits in line, visibly; (2) Clear during streaming stays cleared; (3) an elliptical follow-up is
answered from the article just cited; (4) filters explain themselves (chips, invalid dates
rejected with a message, "the filters exclude…"); (5) dark mode is readable (computed contrast);
(6) copy gives plain text with sources and the messages' accessible names carry no markup;
(7) no sideways scroll at 390 px; (8) light-mode contrast, lang, labels, no layout jump, the
5,000-character notice, GRADIO_SERVER_PORT, the page's meta tags, older answers' citations.
Screenshots at 1280 and 390 px, light and dark, go to out/screenshots/ (gitignored)."""

from __future__ import annotations

import json
import os
import re
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
PACE = "0.08"  # s per 4 revealed characters: answers stream for ~2 s, long enough to interrupt
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
REFUSAL = REFUSALS["zh-Hant"]
BOT = '#rag-chat [data-testid="bot"]'
USER = '#rag-chat [data-testid="user"]'
AA = 4.5
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}

if not CHROMIUM.exists():  # a missing browser is a broken set-up, not a reason to skip
    raise RuntimeError("no /usr/bin/chromium: run `bash .ci/install-browser.sh` first")

# WCAG contrast of an element's text against what is painted behind it: the first opaque
# background up the tree, with translucent ones blended over it.
CONTRAST_JS = """([selector, pseudo]) => {
  const el = document.querySelector(selector);
  if (!el) return null;
  const parse = (c) => { const m = c.match(/[\\d.]+/g).map(Number);
    return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const bg = parse(getComputedStyle(e).backgroundColor);
    if (bg[3] > 0) { layers.push(bg); if (bg[3] >= 1) break; }
  }
  let base = [255, 255, 255];
  if (layers.length && layers[layers.length - 1][3] >= 1) base = layers.pop().slice(0, 3);
  else if (document.body.classList.contains('dark')) base = [11, 15, 25];
  for (const l of layers.reverse()) base = base.map((v, i) => v * (1 - l[3]) + l[i] * l[3]);
  const fg = parse(getComputedStyle(el, pseudo || null).color);
  const text = fg.slice(0, 3).map((v, i) => v * fg[3] + base[i] * (1 - fg[3]));
  const [a, b] = [lum(text), lum(base)].sort((x, y) => y - x);
  return {ratio: (a + 0.05) / (b + 0.05), fg: fg, bg: base};
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, n: int = 4000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-n:] if path.exists() else ""


@pytest.fixture(scope="module")
def data_dir(indexed: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the indexed corpus: the server writes feedback there."""
    copy = tmp_path_factory.mktemp("ui-data") / "rag"
    shutil.copytree(indexed.data_dir, copy)
    return copy


@pytest.fixture(scope="module")
def server(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python app.py` over the copy, on a free loopback port given only as GRADIO_SERVER_PORT
    and GRADIO_SERVER_NAME (no --host/--port): the page answering proves they are honoured."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "app.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "GRADIO_"))}
    env.update(RAG_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1", RAG_UI_PACE=PACE,
               GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1")
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
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

    def send(self, question: str) -> None:
        self.page.fill("#rag-question textarea", question)
        self.page.click("#rag-send")

    def idle(self, n_bots: int) -> str:
        """Wait until the page shows `n_bots` final answers and nothing waits; the last one."""
        self.page.wait_for_function(
            """([sel, n]) => { const b = document.querySelectorAll(sel);
                if (b.length !== n) return false;
                const t = b[b.length - 1].innerText;
                const q = document.querySelector('#rag-queue').innerText.trim();
                return t && !t.includes('▌') && !t.includes('Searching') && !q; }""",
            arg=[BOT, n_bots], timeout=ANSWER_TIMEOUT_MS)
        return str(self.bots().last.inner_text())

    def ask(self, question: str) -> str:
        """Type, send, wait for the final (not streaming) reply; its text."""
        before = self.bots().count()
        self.page.evaluate("window.__seen = []")
        self.send(question)
        return self.idle(before + 1)

    def seen(self) -> list[str]:
        return list(self.page.evaluate("window.__seen"))

    def contrast(self, selector: str, pseudo: str = "") -> float:
        result = self.page.evaluate(CONTRAST_JS, [selector, pseudo])
        assert result is not None, f"nothing matches {selector}"
        return float(result["ratio"])

    def assert_readable(self, selectors: list[str], mode: str) -> None:
        low = {s: round(self.contrast(s), 2) for s in selectors}
        bad = {s: r for s, r in low.items() if r < AA}
        assert not bad, f"{mode}: contrast below {AA}:1: {bad}"

    def wide(self) -> int:
        return int(self.page.evaluate("document.documentElement.scrollWidth"))

    def shot(self, name: str, out: Path, full: bool = True) -> Path:
        path = out / name
        self.page.screenshot(path=str(path), full_page=full)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / name)
        return path

    def outside_requests(self) -> list[str]:
        return [u for u in self.requests
                if urlparse(u).scheme not in ("data", "blob", "about")
                and urlparse(u).hostname not in LOOPBACK]

    def close(self) -> None:
        self.context.close()


READABLE = [f"{BOT} .md p", f"{USER} .md p", f"{BOT} a.cite-ref", "#rag-sources .src-title",
            "#rag-sources .src-meta", "#rag-sources .src-text", "#rag-sources .src-text mark",
            "#rag-sources button.rag-copy", "#rag-send", "#rag-clear", "#rag-regen",
            "#rag-header h1 .en", "#rag-backend"]


def test_desktop_light_chat_cites_follows_up_copies_and_exports(
        server: str, browser: Any, data_dir: Path, tmp_path: Path) -> None:
    ui = Page(browser, server, **DESKTOP, color_scheme="light")
    page = ui.page
    ui.context.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        # (8) the page: lang, product meta, labelled controls
        with urllib.request.urlopen(server, timeout=10) as response:
            shell = response.read().decode("utf-8")
        assert page.evaluate("document.documentElement.lang") == "zh-Hant"
        assert "Click to try out" not in shell and "githubusercontent" not in shell
        assert "gradio.app" not in shell and "新聞問答" in page.title()
        assert re.search(r'property="og:title" content="新聞問答', shell)
        assert page.get_by_role("textbox", name=re.compile("問題")).count() == 1
        chat_box = page.locator("#rag-chat").bounding_box()
        input_box = page.locator("#rag-question").bounding_box()

        # a first answer streams in, with [n] links to its own cards
        first = ui.ask("歐盟IURC代表團哪天到高雄？")
        assert "6日" in first
        drafts = [t for t in ui.seen() if "▌" in t]
        assert drafts and [len(t) for t in drafts] == sorted(len(t) for t in drafts)
        assert ui.bots().last.locator("a.cite-ref").first.get_attribute("href") == "#src-1-1"
        assert page.locator("#src-1-1 mark").count() == 1

        # (8) no layout jump when the sources appear
        assert page.locator("#rag-chat").bounding_box() == chat_box
        assert page.locator("#rag-question").bounding_box() == input_box

        # (3) the elliptical follow-up is answered from the article just cited
        second = ui.ask("那是誰帶隊的？")
        assert "Röttger" in second, second
        assert "延續上一題的文章" in page.inner_text("#rag-sources")

        # (8) older answers keep clickable citations that land on their own cards
        old_link = ui.bots().first.locator("a.cite-ref").first
        assert old_link.get_attribute("href") == "#src-1-1"
        old_link.click()
        page.wait_for_function("() => location.hash === '#src-1-1'")
        assert page.evaluate("document.querySelector(':target')?.id") == "src-1-1"
        # keyboard use of a [n] link keeps the focus on it
        link = ui.bots().last.locator("a.cite-ref").first
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_function("() => location.hash === '#src-2-1'")
        # the page gives the focus back in the next animation frame (ui_style.py), which can
        # come after the hash changes: wait a moment for it rather than read it at once
        page.wait_for_function("() => document.activeElement?.classList.contains('cite-ref')",
                               timeout=2000)

        # (6) copy: plain text with sources; accessible names without markup
        page.locator("#turn-2 button.rag-copy").click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert "Röttger" in copied and "<" not in copied and "\\" not in copied
        assert re.search(r"\[1\] .+ \(2026-02-07\): ", copied), copied
        labels = ui.bots().evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
        assert labels and all(lb and "<" not in lb and "cite-ref" not in lb for lb in labels)

        # (8) light-mode contrast of answer text, citations, source cards and buttons
        ui.assert_readable([*READABLE, "#src-1-1 .src-title"], "light")
        assert ui.contrast("#rag-question textarea", "::placeholder") >= AA
        ui.shot("desktop-1280-light.png", tmp_path)

        # export: the conversation as Markdown with its sources
        with page.expect_download() as download:
            page.click("#rag-export")
        markdown = Path(download.value.path()).read_text(encoding="utf-8")
        assert "## 第 1 題" in markdown and "## 第 2 題" in markdown and "Röttger" in markdown
        assert "**來源 Sources**" in markdown and "<a " not in markdown

        # regenerate the last answer; edit and resend the last question
        page.click("#rag-regen")
        assert "Röttger" in ui.idle(2)
        page.click("#rag-edit")
        sync_api.expect(page.locator("#rag-question textarea")).to_have_value("那是誰帶隊的？")
        page.wait_for_function(f"() => document.querySelectorAll('{BOT}').length === 1")
        assert "Röttger" in ui.ask("那是誰帶隊的？")

        # feedback: 👎 with a comment lands in the data folder, without who gave it
        page.locator('#rag-chat button[aria-label="Dislike"]').last.click()
        page.fill("#rag-comment textarea", "想知道更多")
        page.click("#rag-comment-send")
        page.wait_for_selector("#rag-thanks .rag-thanks")
        feedback = data_dir / "feedback.jsonl"
        deadline = time.monotonic() + 10
        while '想知道更多' not in (feedback.read_text(encoding="utf-8") if feedback.exists()
                                   else ""):
            assert time.monotonic() < deadline, "no feedback written"
            time.sleep(0.2)
        records = [json.loads(x) for x in feedback.read_text(encoding="utf-8").splitlines()]
        assert records[-1]["rating"] == "down" and records[-1]["comment"] == "想知道更多"
        assert "Röttger" in records[-1]["answer"] and records[-1]["citations"]
        assert not {"ip", "user", "session", "client"} & set(records[-1])
        assert not ui.outside_requests(), ui.outside_requests()
    finally:
        ui.close()


def test_small_talk_and_a_change_of_topic(server: str, browser: Any) -> None:
    """A greeting and "which articles" get replies that search nothing; a new topic asked
    without a pronoun leaves the previous article (it was answered from it)."""
    ui = Page(browser, server, **DESKTOP)
    page = ui.page
    try:
        assert ui.ask("你好").startswith("您好！")
        assert "這是對話回覆" in page.inner_text("#rag-sources")
        catalog = ui.ask("有哪些文章？")
        assert "目前收錄 5 篇文章" in catalog and "高雄點亮主權 AI 燈塔" in catalog
        assert "方美錸" in ui.ask("林欽榮在檳城和哪位行政議員交流？")
        switched = ui.ask("燈塔計畫是什麼？")
        assert "燈塔計畫" in switched and "檳城" not in switched, switched
        assert "延續上一題的文章" not in page.inner_text("#turn-4")
        assert "高雄點亮主權 AI 燈塔" in page.inner_text("#turn-4")
    finally:
        ui.close()


def test_controls_while_an_answer_streams(server: str, browser: Any) -> None:
    ui = Page(browser, server, **DESKTOP)
    page = ui.page
    try:
        # (1) a question sent 0.4 s into an answer waits in line, visibly, and is answered
        ui.send("When did Kaohsiung join the IURC?")
        time.sleep(0.4)
        ui.send("Who is the mayor of Orange County?")
        sync_api.expect(page.locator("#rag-queue")).to_contain_text("排隊中", timeout=10_000)
        ui.idle(2)
        users = page.locator(USER).all_inner_texts()
        assert users == ["When did Kaohsiung join the IURC?",
                         "Who is the mayor of Orange County?"]

        # Stop ends the running answer; the chat keeps working
        ui.send("檳城吸引了多少家跨國公司進駐？")
        time.sleep(0.3)
        page.click("#rag-stop")
        page.wait_for_function(
            f"() => [...document.querySelectorAll('{BOT}')].pop()?.innerText.includes('已停止')")
        time.sleep(1.5)
        assert "已停止" in ui.bots().last.inner_text() and ui.bots().count() == 3

        # (2) Clear 0.3 s after sending cancels the answer and stays cleared
        ui.send("橘郡郡長是誰？")
        time.sleep(0.3)
        page.click("#rag-clear")
        page.wait_for_function(f"() => document.querySelectorAll('{BOT}').length === 0")
        time.sleep(3)
        assert ui.bots().count() == 0 and page.locator(USER).count() == 0
        assert page.locator("#rag-sources .src-card").count() == 0
        assert "300" in ui.ask("檳城吸引了多少家跨國公司進駐？")
    finally:
        ui.close()


def test_filters_explain_themselves(server: str, browser: Any) -> None:
    ui = Page(browser, server, **DESKTOP)
    page = ui.page
    try:
        page.click("#rag-filters .label-wrap")
        page.wait_for_selector("#rag-after input")
        assert page.get_by_role("textbox", name=re.compile("開始日期")).count() == 1
        assert page.get_by_role("textbox", name=re.compile("結束日期")).count() == 1
        # (4) a start date that excludes everything: a chip, and the refusal says why
        page.fill("#rag-after input", "2030-01-01")
        page.press("#rag-after input", "Enter")
        sync_api.expect(page.locator("#rag-chip-after")).to_contain_text("2030-01-01")
        assert REFUSAL in ui.ask("高雄何時加入 IURC？")
        assert "篩選條件排除了可能相關的文章" in ui.bots().last.inner_text()
        # the chip removes its filter
        page.click("#rag-chip-after")
        sync_api.expect(page.locator("#rag-after input")).to_have_value("")
        sync_api.expect(page.locator("#rag-chip-after")).to_be_hidden()
        # invalid dates are rejected with a message, never silently dropped or kept
        for bad in ("2025/13/45", "明天", "2025-05"):
            page.fill("#rag-after input", bad)
            page.press("#rag-after input", "Enter")
            sync_api.expect(page.locator("#rag-filter-msg [role=alert]")).to_contain_text(bad)
            sync_api.expect(page.locator("#rag-chip-after")).to_be_hidden()
        assert "開始日期格式不正確" in ui.ask("高雄何時加入 IURC？")
        # a reversed range
        page.fill("#rag-after input", "2025-05-01")
        page.fill("#rag-before input", "2025-01-01")
        page.press("#rag-before input", "Enter")
        sync_api.expect(page.locator("#rag-filter-msg [role=alert]")).to_contain_text("晚於")
        assert "晚於結束日期" in ui.ask("高雄何時加入 IURC？")
        page.fill("#rag-after input", "")
        page.fill("#rag-before input", "")
        page.press("#rag-before input", "Enter")
        # an article filter that excludes the answer
        page.click("#rag-article input")
        page.locator("ul[role=listbox] li", has_text="檳城").first.click()
        sync_api.expect(page.locator("#rag-chip-article")).to_contain_text("檳城")
        assert REFUSAL in ui.ask("高雄何時加入 IURC？")
        assert "篩選條件排除了可能相關的文章" in ui.bots().last.inner_text()
        # (refusals that help) related passages, never cited
        assert page.locator("#turn-4 .rel-card").count() >= 2
        assert page.locator("#turn-4 .src-card").count() == 0
        assert "300" in ui.ask("檳城吸引了多少家跨國公司進駐？")
        dates = page.locator("#turn-5 .src-meta").all_inner_texts()
        assert dates and all(d.startswith("2024-10-19") for d in dates), dates
    finally:
        ui.close()


def test_dark_mode_is_readable(server: str, browser: Any, tmp_path: Path) -> None:
    ui = Page(browser, server, **DESKTOP, color_scheme="dark")
    page = ui.page
    try:
        assert page.evaluate("document.body.classList.contains('dark')")
        assert "紐豪斯" in ui.ask("橘郡郡長是誰？")
        ui.bots().last.locator("a.cite-ref").first.click()
        page.wait_for_function("() => location.hash === '#src-1-1'")
        page.wait_for_timeout(600)  # the highlight's transition
        # (5) the clicked card, its title, date and text; an error message
        ui.assert_readable([*READABLE, "#src-1-1 .src-title", "#src-1-1 .src-meta",
                            "#src-1-1 .src-text", "#src-1-1 mark"], "dark")
        assert ui.contrast("#rag-question textarea", "::placeholder") >= AA
        ui.shot("desktop-1280-dark.png", tmp_path)
        page.fill("#rag-question textarea", "")
        page.click("#rag-send")
        page.wait_for_selector("#rag-chat .rag-error")
        assert ui.contrast("#rag-chat .rag-error") >= AA
        assert REFUSAL in ui.ask("誰贏得了2024年世界大賽？")
        ui.assert_readable(["#rag-sources .rel-card .src-text", "#rag-sources .rel-head"],
                           "dark")
    finally:
        ui.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_has_no_sideways_scroll_and_shows_long_questions(
        server: str, browser: Any, tmp_path: Path, scheme: str) -> None:
    ui = Page(browser, server, **PHONE, color_scheme=scheme)
    page = ui.page
    try:
        assert ui.wide() <= 390
        # (7) a long URL and an unbroken token do not widen the page
        long_url = "https://example.com/" + "a" * 300 + "?q=" + "b" * 200
        ui.ask(f"這個網址是什麼？{long_url}")
        ui.ask("高雄" + "x" * 800)
        assert ui.wide() <= 390, ui.wide()
        # (8) a 5,000-character question is shown whole, with a prominent notice
        reply = ui.ask(("高雄市長是誰？" + "請回答。" * 1250)[:5000])
        assert "只用了前 500 字" in reply
        warn = ui.bots().last.locator(".rag-warn")
        assert warn.is_visible() and ui.contrast(f"{BOT} .rag-warn") >= AA
        assert len(page.locator(USER).last.inner_text()) >= 5000
        assert ui.wide() <= 390, ui.wide()
        assert "紐豪斯" in ui.ask("橘郡郡長是誰？")
        chat = page.locator("#rag-chat").bounding_box()
        sources = page.locator("#rag-sources").bounding_box()
        assert chat and sources and sources["y"] >= chat["y"] + chat["height"]
        assert sources["width"] > 300
        ui.assert_readable([f"{BOT} a.cite-ref", "#rag-sources .src-title", "#rag-send"],
                           scheme)
        page.evaluate("document.querySelector('#rag-chat').scrollIntoView()")
        ui.shot(f"phone-390-{scheme}.png", tmp_path, full=False)
        ui.shot(f"phone-390-{scheme}-full.png", tmp_path)
        assert not ui.outside_requests(), ui.outside_requests()
    finally:
        ui.close()
