"""Embedding backends, one file each; see rag.embed.REGISTRY."""
