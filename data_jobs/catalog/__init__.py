"""Sample catalog of mechanical parts: part families, generator, contact sheet."""
