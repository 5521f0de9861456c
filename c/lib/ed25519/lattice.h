/*
 * Half-size scalars for ed25519 verification (the idea of T. Pornin, "Optimized lattice
 * basis reduction in dimension 2, and fast Schnorr and EdDSA signature verification",
 * 2020): instead of [s]B - [k]A - R = 0 check [t]([s]B - [k]A - R) = 0 with
 *   [t s mod L]B - [r]A - [t]R = 0,   r = t k (mod 8L),   t odd,   |r|, |t| ~ 2^128,
 * which halves the doublings. Working modulo 8L (the curve's order) rather than L keeps the
 * check exact for points with a torsion part: [r]A = [t k]A for every A when
 * r = t k (mod 8L), and [t] is invertible on the whole group when t is odd and below L.
 * So the check accepts exactly when [s]B - [k]A = R, as the cofactorless rule demands.
 */
#pragma once

#include <stdint.h>

typedef struct {
  uint64_t r[4];  /* r >= 0, little-endian words */
  uint64_t t[4];  /* |t|: odd, below L */
  int t_negative; /* the sign of t */
  int bits;       /* max(bit length of r, of |t|) */
} ed25519_split;

/* (r, t) for k in [0, L): a half extended Euclid on (8L, k), stopped at the first
 * remainder below 2^128 (then |t| < 8L / 2^128 < 2^128), made odd in t. */
void ed25519_lattice_split(ed25519_split *out, const uint8_t k[32]);

/* out = t * s mod L for a 256-bit t and a 32-byte s. */
void ed25519_mul_mod_l(uint8_t out[32], const uint64_t t[4], const uint8_t s[32]);

int ed25519_bitlen256(const uint64_t a[4]);
