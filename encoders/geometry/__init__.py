"""A part's file to model inputs: load, validate, normalize, sample points, render views."""
