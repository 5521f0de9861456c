"""Solana JSON-RPC over HTTP and websocket, plus `heliostat_*` methods."""
