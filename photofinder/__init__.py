"""PhotoFinder: find similar photos and duplicates in your own library, offline."""

__version__ = "0.1.0"
