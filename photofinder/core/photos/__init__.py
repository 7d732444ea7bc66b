"""Photo files: one robust read, the folder walk, presence checks, layout hash."""
