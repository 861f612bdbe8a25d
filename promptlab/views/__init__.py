"""Renderings of Result objects: terminal tables, JSON/JSONL, Markdown, JUnit."""
