"""What the settlement tests share: an example machine's case with its deployed verifier."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from heliostat.settlement.stark_verifier import OnChainVerifier
from heliostat.stark.proof import Proof
from heliostat.stark.prover import ProvingKey


@dataclass
class ChainCase:
    """A machine's key, valid traces and publics, one honest proof, its on-chain verifier."""

    pk: ProvingKey
    traces: list[NDArray[np.uint32]]
    publics: list[int]
    proof: Proof
    onchain: OnChainVerifier
