"""Offline data jobs of cadsearch (catalog generation and other batch work)."""
