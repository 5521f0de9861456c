"""What client programs import: `HeliostatClient` (over solana-py) and receipt verification."""
