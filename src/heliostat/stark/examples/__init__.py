"""Example AIRs: small machines for tests and the synthetic benchmark AIR."""
