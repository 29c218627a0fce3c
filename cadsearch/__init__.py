"""cadsearch: multimodal search over catalogs of CAD parts, built on Ray."""

__version__ = "0.1.0"
