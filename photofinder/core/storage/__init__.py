"""The catalogue (SQLite), the vector index cache, files kept beside them, locks."""
