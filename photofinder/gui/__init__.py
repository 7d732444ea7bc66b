"""PhotoFinder's desktop app (PySide6): windows, models, delegates and background workers."""
