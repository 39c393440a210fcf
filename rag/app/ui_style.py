"""The chat page's look and its small script: CSS (light and dark, WCAG AA contrast), the <head>
snippet and a Gradio theme with system fonts only.

Colours are explicit where Gradio's defaults fall short of 4.5:1 (its primary button is white
on blue-500, 3.7:1; placeholders 1.9:1); dark mode follows the system setting (Gradio puts
`dark` on <body>), so every colour below has a `.dark` twin. The CSS goes in a plain <style>
in <head>: Gradio scopes its `css` option to the app, where `.dark` (on body) cannot match."""

from __future__ import annotations

from typing import Any

# Light: text #1f2937 on white 14.7:1; links #1d4ed8 6.7:1 (6.1:1 on the grey bubble).
# Dark: text #f3f4f6 on #0b0f19 17:1; links #93c5fd 10:1 (8:1 on the bubble).
CSS = """
.gradio-container { max-width: 1400px !important; width: 100% !important; margin: 0 auto; }
#rag-header h1 { font-size: 1.45rem; margin: 0 0 .35rem; line-height: 1.3; }
#rag-header h1 .en { font-size: .95rem; font-weight: 400; margin-left: .4rem; color: #374151; }
.dark #rag-header h1 .en { color: #d1d5db; }
.rag-badges { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
.rag-badge { display: inline-block; border-radius: 999px; padding: .15rem .7rem;
  font-size: .85rem; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-secondary); color: var(--body-text-color); }
.rag-badge b { font-weight: 600; margin-right: .25rem; }
.rag-status { font-size: .8rem; margin-top: .3rem; color: #4b5563; }
.dark .rag-status { color: #d1d5db; }

/* long words, URLs and 5,000-character questions wrap instead of widening the page */
#rag-chat .message-content, #rag-chat .md, #rag-chat .message, .src-card, .rel-card,
.rag-queue-box, #rag-filter-msg, .rag-notices { overflow-wrap: anywhere; word-break: break-word; }
#rag-main, #rag-main > .column, #rag-chat-col, #rag-sources-col { min-width: 0 !important; }
#rag-chat .message-row, #rag-chat .message { max-width: 100%; }

a.cite-ref { font-weight: 700; text-decoration: underline; text-underline-offset: 2px;
  color: #1d4ed8 !important; padding: 0 .1rem; border-radius: 3px; }
a.cite-ref:hover, a.cite-ref:focus-visible { background: #dbeafe; color: #1e3a8a !important; }
a.cite-ref:focus-visible { outline: 2px solid #1d4ed8; outline-offset: 1px; }
.dark a.cite-ref { color: #93c5fd !important; }
.dark a.cite-ref:hover, .dark a.cite-ref:focus-visible { background: #1e3a8a;
  color: #ffffff !important; }
.dark a.cite-ref:focus-visible { outline-color: #93c5fd; }

.rag-error { color: #b42318; font-weight: 600; }
.dark .rag-error { color: #fca5a5; }
.rag-warn { border-left: 4px solid #b45309; background: #fffbeb; color: #78350f;
  padding: .45rem .6rem; margin: 0 0 .5rem; border-radius: 4px; font-weight: 600; }
.dark .rag-warn { background: #451a03; color: #fde68a; border-left-color: #f59e0b; }
.rag-note { margin-top: .45rem; padding: .35rem .55rem; border-radius: 4px;
  background: #eff6ff; color: #1e3a8a; font-size: .92rem; }
.dark .rag-note { background: #172554; color: #dbeafe; }
.rag-filter-note { background: #fef3c7; color: #78350f; font-weight: 600; }
.dark .rag-filter-note { background: #451a03; color: #fde68a; }
.rag-stopped { color: #4b5563; font-style: italic; }
.dark .rag-stopped { color: #d1d5db; }

/* the sources panel: fixed height beside the chat, so nothing moves when sources arrive */
#rag-sources { height: 600px !important; overflow-y: auto !important;
  overscroll-behavior: contain; color: var(--body-text-color); }
#rag-sources ol, #rag-sources ul { list-style: none !important; padding-left: 0 !important;
  margin-left: 0 !important; }
#rag-sources li { list-style: none !important; margin-left: 0 !important; }
#rag-sources li::marker { content: none; }
/* status lines take no room (and move nothing) while they are empty */
#rag-queue:not(:has(.rag-queue-box)), #rag-thanks:not(:has(.rag-thanks)),
#rag-filter-msg:not(:has(.rag-error)), #rag-chips:not(:has(button)),
#rag-comment-row:not(:has(textarea)) { display: none !important; }
.rag-sources-empty { color: #4b5563; font-size: .9rem; padding: .6rem .2rem; line-height: 1.6; }
.dark .rag-sources-empty { color: #d1d5db; }
.src-group { margin: 0 0 1rem; }
.src-head { display: flex; gap: .5rem; align-items: flex-start; justify-content: space-between;
  font-weight: 600; margin: .2rem 0 .4rem; }
.src-q { min-width: 0; overflow-wrap: anywhere; }
.src-count, .rel-head { font-weight: 600; margin: .2rem 0 .4rem; font-size: .9rem; }
.rel-head { color: #78350f; }
.dark .rel-head { color: #fde68a; }
.src-list, .rel-list { list-style: none; padding: 0; margin: 0; }
.src-card, .rel-card { border: 1px solid #9ca3af; border-radius: 8px; padding: .55rem .75rem;
  margin: 0 0 .6rem; scroll-margin-top: .5rem; background: #ffffff; color: #1f2937;
  transition: background-color .4s, box-shadow .4s; }
.rel-card { border-style: dashed; background: #f9fafb; }
.dark .src-card { background: #111827; color: #f3f4f6; border-color: #6b7280; }
.dark .rel-card { background: #1f2937; color: #f3f4f6; border-color: #6b7280; }
.src-card:target { background: #fff8db; box-shadow: 0 0 0 3px #b45309; color: #1f2328; }
.dark .src-card:target { background: #422006; box-shadow: 0 0 0 3px #f59e0b; color: #fef9c3; }
.src-title { font-weight: 600; line-height: 1.45; }
.src-n { color: #1d4ed8; margin-right: .2rem; }
.dark .src-n { color: #93c5fd; }
.src-card:target .src-n { color: #1e3a8a; }
.dark .src-card:target .src-n { color: #fde68a; }
.src-meta { font-size: .8rem; margin: .15rem 0 .35rem; color: #4b5563; }
.dark .src-meta { color: #d1d5db; }
.src-card:target .src-meta { color: #3f3f46; }
.dark .src-card:target .src-meta { color: #fef3c7; }
.src-meta a.src-url { color: #1d4ed8; text-decoration: underline; }
.dark .src-meta a.src-url { color: #93c5fd; }
.src-text { white-space: pre-wrap; margin: 0; padding: 0 0 0 .6rem; font-size: .9rem;
  line-height: 1.65; border-left: 3px solid #9ca3af; }
.src-text mark { background: #ffe066; color: #1f2328; padding: 0 .1rem; border-radius: 2px; }
.dark .src-text mark { background: #854d0e; color: #fefce8; }
.rag-notices { font-size: .8rem; margin: 0 0 .5rem; padding: 0; list-style: none;
  color: #4b5563; }
.dark .rag-notices { color: #d1d5db; }

/* buttons: AA text contrast in both modes */
#rag-sources button.rag-copy { flex: none; line-height: 1.4; margin: 0; font-size: .8rem;
  font-weight: 600; padding: .15rem .55rem;
  border-radius: 6px; border: 1px solid #1d4ed8; background: #ffffff; color: #1d4ed8;
  cursor: pointer; }
.dark #rag-sources button.rag-copy { background: #111827; color: #93c5fd; border-color: #93c5fd; }
#rag-send { background: #1d4ed8 !important; color: #ffffff !important;
  border-color: #1d4ed8 !important; white-space: nowrap; }
#rag-send:hover { background: #1e40af !important; }
#rag-stop { white-space: nowrap; }
#rag-stop:not(:disabled) { background: #b91c1c !important; color: #ffffff !important;
  border-color: #b91c1c !important; }
#rag-actions button, #rag-chips button { color: #1f2937 !important; }
.dark #rag-actions button, .dark #rag-chips button { color: #f3f4f6 !important; }
#rag-chips { gap: .4rem; flex-wrap: wrap; }
#rag-chips:empty { display: none; }
.rag-chip { border-radius: 999px !important; background: #eff6ff !important;
  border: 1px solid #1d4ed8 !important; color: #1e3a8a !important; }
.dark .rag-chip { background: #172554 !important; border-color: #93c5fd !important;
  color: #dbeafe !important; }
#rag-question textarea::placeholder, #rag-question input::placeholder,
#rag-filters input::placeholder, #rag-comment textarea::placeholder { color: #6b7280;
  opacity: 1; }
.dark #rag-question textarea::placeholder, .dark #rag-question input::placeholder,
.dark #rag-filters input::placeholder, .dark #rag-comment textarea::placeholder {
  color: #9ca3af; }
.rag-queue-box { font-size: .88rem; padding: .35rem .55rem; border-radius: 6px;
  background: #eff6ff; color: #1e3a8a; }
.dark .rag-queue-box { background: #172554; color: #dbeafe; }
.rag-queue-list { margin: .2rem 0 0 1.2rem; padding: 0; }
.rag-thanks { font-size: .88rem; color: #166534; }
.dark .rag-thanks { color: #86efac; }

@media (max-width: 768px) {
  #rag-chat { height: 52vh !important; min-height: 320px; }
  #rag-main { flex-direction: column !important; flex-wrap: nowrap !important; }
  #rag-main > .column { width: 100% !important; min-width: 0 !important;
    flex: 1 1 auto !important; }
  #rag-header h1 .en { display: block; margin: 0; }
  #rag-sources { height: auto; max-height: none; }
  #rag-input-row, #rag-actions { flex-wrap: wrap !important; }
  #rag-input-row > :has(#rag-question), #rag-question { flex: 1 1 100% !important;
    min-width: 100% !important; }
  #rag-send, #rag-stop { flex: 1 1 40% !important; }
  #rag-actions button { flex: 1 1 40% !important; }
  .gradio-container > .main { padding-left: .5rem !important; padding-right: .5rem !important; }
}
"""

# The page's own script, local: keep lang="zh-Hant", copy an answer as plain text, download the
# Markdown export, give chat messages a plain-text accessible name (Gradio's is the raw message
# markup), and keep keyboard focus on a [n] link after it jumps to its source.
SCRIPT = r"""
(() => {
  // the page is Chinese: Gradio sets <html lang> to the browser's locale once it loads
  const keepLang = () => {
    if (document.documentElement.lang !== 'zh-Hant') document.documentElement.lang = 'zh-Hant';
  };
  keepLang();
  new MutationObserver(keepLang).observe(document.documentElement,
                                         {attributes: true, attributeFilter: ['lang']});
  const WHO = {bot: '回答 Answer', user: '問題 Question'};
  let queued = false;
  function nameMessages() {
    queued = false;
    document.querySelectorAll('#rag-chat [data-testid="bot"], #rag-chat [data-testid="user"]')
      .forEach((el) => {
        const name = WHO[el.dataset.testid] + '：' + (el.innerText || '').trim();
        if (el.getAttribute('aria-label') !== name) el.setAttribute('aria-label', name);
      });
  }
  new MutationObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(nameMessages); }
  }).observe(document.documentElement, {subtree: true, childList: true, characterData: true,
                                        attributes: true, attributeFilter: ['aria-label']});

  async function copy(text) {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) {
      const area = document.createElement('textarea');
      area.value = text; area.setAttribute('readonly', '');
      area.style.position = 'fixed'; area.style.opacity = '0';
      document.body.appendChild(area); area.select();
      const ok = document.execCommand('copy'); area.remove(); return ok;
    }
  }
  document.addEventListener('click', async (event) => {
    const button = event.target.closest && event.target.closest('button.rag-copy');
    if (!button) return;
    const ok = await copy(button.dataset.copy || '');
    button.textContent = ok ? '已複製 Copied' : '無法複製 Copy failed';
    setTimeout(() => { button.textContent = '複製 Copy'; }, 2000);
  });

  window.ragExport = (markdown) => {
    if (!markdown) return [];
    const blob = new Blob([markdown], {type: 'text/markdown;charset=utf-8'});
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = 'news-qa-' + new Date().toISOString().slice(0, 10) + '.md';
    document.body.appendChild(link); link.click();
    setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
    return [];
  };

  document.addEventListener('keydown', (event) => {
    const link = event.target.closest && event.target.closest('a.cite-ref');
    if (!link || event.key !== 'Enter') return;
    requestAnimationFrame(() => {
      if (document.activeElement !== link && link.isConnected) link.focus({preventScroll: true});
    });
  });
})();
"""

HEAD = f"<style>{CSS}</style>\n<script>{SCRIPT}</script>"

FONTS = ("Noto Sans CJK TC", "Noto Sans TC", "PingFang TC", "Microsoft JhengHei", "Heiti TC",
         "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif")
MONO = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")


def theme() -> Any:
    """System font stacks only: no GoogleFont, so the page fetches nothing from a CDN."""
    import gradio as gr

    return gr.themes.Default(primary_hue="blue", font=list(FONTS), font_mono=list(MONO))
