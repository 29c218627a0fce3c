"""Bench helpers, shared with the store tests; not part of the shipped packages."""
