"""Readers and writers of the on-disk interchange format (PoseTrack'18 / '17 JSON)."""
