"""`heliostat devnet`: a whole rollup on one machine — anvil, contracts, node, prover, L1 wiring."""
