"""Keypoints and geometric verification of two photos; precise re-ranking."""
