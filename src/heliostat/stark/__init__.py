"""The generic proof system: field, polynomials, Merkle, transcript, FRI, AIR, prover, verifier."""
