"""Settlement on Ethereum: the Ethereum toolchain, the generated STARK verifier, L1 clients."""
