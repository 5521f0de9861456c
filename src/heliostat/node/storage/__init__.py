"""Durable storage for the node: the interface and its SQLite implementation."""
