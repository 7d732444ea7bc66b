"""Headless core shared by the CLI and the GUI; never imports Qt."""
