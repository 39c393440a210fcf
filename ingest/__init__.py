"""Ingest stage: files -> articles -> chunks -> vectors in Chroma (+ the lexical index)."""
