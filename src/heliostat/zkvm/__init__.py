"""The zkVM: STARK proofs that an sBPF execution recorded by `heliostat.svm` ran correctly."""
