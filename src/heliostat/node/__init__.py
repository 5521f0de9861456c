"""The sequencer node: Solana JSON-RPC, deterministic ordering, soft confirmations, storage."""
