"""The reindex job: a catalog into a searchable collection, as one Ray Data pipeline."""
