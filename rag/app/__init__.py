"""The faces of the pipeline: the `rag` command line and the Gradio chat UI (the core never
imports them)."""
