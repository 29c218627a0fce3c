"""Models and their inputs: CLIP towers, geometry encoders, bundles, the geometry input stage."""
