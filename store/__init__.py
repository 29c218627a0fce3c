"""Collection schema and vector-store backends (Qdrant Edge embedded, Qdrant server)."""
