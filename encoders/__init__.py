"""Models and their inputs: CLIP towers, geometry encoders, bundles, and the geometry input stage."""
