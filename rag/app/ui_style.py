"""The chat page's look: CSS, the <head> snippet and a Gradio theme with system fonts only."""

from __future__ import annotations

from typing import Any

CSS = """
.gradio-container { max-width: 1400px !important; margin: 0 auto; }
#rag-header h1 { font-size: 1.45rem; margin: 0 0 .35rem; line-height: 1.3; }
#rag-header h1 .en { font-size: .95rem; font-weight: 400; opacity: .7; margin-left: .4rem; }
.rag-badges { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
.rag-badge { display: inline-block; border-radius: 999px; padding: .15rem .7rem;
  font-size: .85rem; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-secondary); }
.rag-badge b { font-weight: 600; margin-right: .25rem; }
.rag-status { font-size: .8rem; opacity: .75; margin-top: .3rem; }
a.cite-ref { font-weight: 600; text-decoration: none; color: var(--color-accent);
  padding: 0 .1rem; border-radius: 3px; }
a.cite-ref:hover { background: var(--color-accent-soft); text-decoration: underline; }
.cite-old { opacity: .6; }
.rag-error { color: #b42318; }
#rag-sources { max-height: 72vh; overflow-y: auto; }
.rag-sources-empty { opacity: .7; font-size: .9rem; padding: .6rem .2rem; line-height: 1.6; }
.src-head { font-weight: 600; margin: .2rem 0 .5rem; }
.src-list { list-style: none; padding: 0; margin: 0; }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: .55rem .75rem; margin: 0 0 .6rem; scroll-margin-top: .5rem;
  transition: background-color .4s, box-shadow .4s; }
.src-card:target { background: #fff8db; box-shadow: 0 0 0 2px #f59f00; color: #1f2328; }
.src-title { font-weight: 600; line-height: 1.45; }
.src-n { color: var(--color-accent); margin-right: .2rem; }
.src-meta { font-size: .8rem; opacity: .75; margin: .15rem 0 .35rem; }
.src-text { white-space: pre-wrap; margin: 0; padding: 0 0 0 .6rem; font-size: .9rem;
  line-height: 1.65; border-left: 3px solid var(--border-color-primary); }
.src-text mark { background: #ffe066; color: #1f2328; padding: 0 .1rem; border-radius: 2px; }
.rag-notices { font-size: .8rem; opacity: .8; margin: 0 0 .5rem; padding: 0; list-style: none; }
#rag-send, #rag-clear { white-space: nowrap; }
@media (max-width: 768px) {
  #rag-chat { height: 52vh !important; min-height: 320px; }
  #rag-main { flex-direction: column !important; flex-wrap: nowrap !important; }
  #rag-main > .column { width: 100% !important; min-width: 0 !important;
    flex: 1 1 auto !important; }
  #rag-header h1 .en { display: block; margin: 0; }
  #rag-sources { max-height: none; }
  #rag-input-row { flex-wrap: wrap !important; }
}
"""

# Gradio scopes `css` to the app's content; the page padding around it needs a plain <style>.
HEAD = """<style>
@media (max-width: 768px) {
  .gradio-container > .main { padding-left: .5rem !important; padding-right: .5rem !important; }
}
</style>"""

FONTS = ("Noto Sans CJK TC", "Noto Sans TC", "PingFang TC", "Microsoft JhengHei", "Heiti TC",
         "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif")
MONO = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")


def theme() -> Any:
    """System font stacks only: no GoogleFont, so the page fetches nothing from a CDN."""
    import gradio as gr

    return gr.themes.Default(primary_hue="blue", font=list(FONTS), font_mono=list(MONO))
