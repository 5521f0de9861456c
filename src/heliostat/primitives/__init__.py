"""Encodings, hashes, keys and errors shared by every layer."""
