"""Duplicate candidates, confirmation, grouping, keepers, review and trash."""
