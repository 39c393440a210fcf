"""Evaluation: gold data, metrics and the eval runner."""
