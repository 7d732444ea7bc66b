"""Nearest photos for query vectors."""
