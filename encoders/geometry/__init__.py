"""Turning a part's file into model inputs: load, validate, normalize, sample points, render views."""
