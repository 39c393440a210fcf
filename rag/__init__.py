"""Question answering with verified citations over Chinese news articles."""
