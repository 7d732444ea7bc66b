"""Benchmarks for PhotoFinder (not part of the shipped package)."""
