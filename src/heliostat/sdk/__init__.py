"""What client programs import: receipt verification, and more as the SDK grows."""
