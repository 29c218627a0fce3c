"""The eval job: retrieval quality of a model bundle on a catalog (metrics, run, report)."""
