"""Bringing the catalogue and index up to date: scan, read, embed, store, watch."""
