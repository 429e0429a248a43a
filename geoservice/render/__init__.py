"""Turning layer features into map output: symbols, MVT encoding, PNG rendering, legends."""
