"""FRI, verifier side: the layer schedule, folding one leaf, and checking one query's path.

Layer k holds 2^L_k extension values in bit-reversed order on the coset s_k·K (with
s_k = g^(2^(log_max − L_k))); a leaf is 2^a_k consecutive values, a coset of the order-2^a_k
subgroup. Folding by 2^a is a successive binary folds with β, β², β⁴, …:
f'(x²) = (f(x) + f(−x))/2 + β·(f(x) − f(−x))/(2x). A shorter input (a table of smaller
height) joins at the layer of its size: value += β^(2^a)·reduced_opening. The schedule picks
each arity so that every input size is a layer boundary. (Shared by prover and verifier.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from heliostat.stark.config import StarkConfig
from heliostat.stark.extension import Ext4
from heliostat.stark.field import GENERATOR, P, two_adic_generator

INV_TWO = (P + 1) // 2


@dataclass(frozen=True)
class FriSchedule:
    """The layer sizes and arities FRI uses for a given set of input sizes."""

    log_max: int
    log_arities: tuple[int, ...]
    log_final: int  # log2 of the final domain (where the final polynomial is checked)
    log_final_poly_len: int  # the final polynomial has 2^this coefficients

    def layer_log_sizes(self) -> list[int]:
        """log2 of each committed layer's size (layer 0 is the largest input)."""
        sizes, cur = [], self.log_max
        for a in self.log_arities:
            sizes.append(cur)
            cur -= a
        return sizes

    def shift(self, log_size: int) -> int:
        """Return the coset shift of a layer of size 2^log_size: g^(2^(log_max − size))."""
        return pow(GENERATOR, 1 << (self.log_max - log_size), P)


def fri_schedule(input_log_sizes: Sequence[int], config: StarkConfig) -> FriSchedule:
    """Plan the layers: fold by up to 2^max_log_arity, stopping at every input size."""
    sizes = sorted(set(input_log_sizes), reverse=True)
    log_max = sizes[0]
    min_log_height = sizes[-1] - config.log_blowup
    log_final_poly_len = min(config.log_final_poly_len, min_log_height)
    log_final = log_final_poly_len + config.log_blowup
    arities, cur = [], log_max
    while cur > log_final:
        stop = max([s for s in sizes if s < cur] + [log_final])
        a = min(config.max_log_arity, cur - stop)
        arities.append(a)
        cur -= a
    return FriSchedule(log_max, tuple(arities), log_final, log_final_poly_len)


def bit_reverse(i: int, bits: int) -> int:
    """Reverse the low ``bits`` bits of ``i``."""
    return int(f"{i:0{bits}b}"[::-1], 2) if bits else 0


def domain_point(log_size: int, index: int, shift: int) -> int:
    """Return the point at bit-reversed position ``index`` of shift·K, |K| = 2^log_size."""
    omega = two_adic_generator(log_size)
    return shift * pow(omega, bit_reverse(index, log_size), P) % P


def fold_leaf(
    values: Sequence[Ext4], log_arity: int, leaf_index: int, log_size: int, shift: int, beta: Ext4
) -> Ext4:
    """Fold one leaf (2^log_arity values of a layer of size 2^log_size) to one value."""
    omega = two_adic_generator(log_size)
    y = shift * pow(omega, bit_reverse(leaf_index, log_size - log_arity), P) % P
    y_inv = pow(y, P - 2, P)
    cur = list(values)
    beta_pow = beta
    for step in range(log_arity):
        k = log_arity - step  # the remaining coset has 2^k points
        omega_k_inv = pow(two_adic_generator(k), P - 2, P)
        half = len(cur) // 2
        folded = []
        for t in range(half):
            x_inv = y_inv * pow(omega_k_inv, bit_reverse(t, k - 1), P) % P
            lo, hi = cur[2 * t], cur[2 * t + 1]
            even = (lo + hi) * INV_TWO
            odd = (lo - hi) * (INV_TWO * x_inv % P)
            folded.append(even + beta_pow * odd)
        cur = folded
        y_inv = y_inv * y_inv % P
        beta_pow = beta_pow * beta_pow
    return cur[0]


def evaluate_poly(coeffs: Sequence[Ext4], x: int) -> Ext4:
    """Horner evaluation of an extension-coefficient polynomial at a base-field point."""
    acc = Ext4.zero()
    for c in reversed(coeffs):
        acc = acc * x + c
    return acc
