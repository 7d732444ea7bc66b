"""Measuring methods: comparison runs, retrieval metrics, synthetic copies."""
