/*
 * The ed25519 group: -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19), in the coordinate
 * systems of Hisil-Wong-Carter-Dawson ("Twisted Edwards curves revisited", 2008) as ref10
 * names them:
 *   p2     (X : Y : Z)         x = X/Z, y = Y/Z
 *   p3     (X : Y : Z : T)     the same with T = XY/Z (extended)
 *   p1p1   (X : Y : Z : T)     "completed": x = X/Z, y = Y/T
 *   cached (Y+X, Y-X, Z, 2dT)  a p3 ready to be added
 *   precomp (y+x, y-x, 2dxy)   an affine point ready to be added (the base-point table)
 */
#pragma once

#include <stdint.h>

#include "fe25519.h"

typedef struct {
  fe25519 X, Y, Z;
} ge25519_p2;

typedef struct {
  fe25519 X, Y, Z, T;
} ge25519_p3;

typedef struct {
  fe25519 X, Y, Z, T;
} ge25519_p1p1;

typedef struct {
  fe25519 YplusX, YminusX, Z, T2d;
  int z_is_one; /* Z = 1 (a decoded point): the addition skips a multiply */
} ge25519_cached;

typedef struct {
  fe25519_small yplusx, yminusx, xy2d;
} ge25519_precomp;

/* Decode 32 bytes with curve25519-dalek's rules (y >= p allowed and used mod p; the sign
 * bit negates x even when x = 0). Returns 0, or -1 when y has no x on the curve. */
int ge25519_frombytes(ge25519_p3 *h, const uint8_t s[32]);

/* Canonical encoding: y in [0, p) and the low bit of x in bit 255. */
void ge25519_tobytes(uint8_t s[32], const ge25519_p2 *h);

/* 1 when the canonical y of an encoding (y mod p, sign bit ignored) is one of the five
 * y-coordinates of the 8 points of small order. Every such y decodes (to small-order
 * points only), so for a decodable encoding this is exactly "[8]P is the identity". */
int ge25519_has_small_order_y(const uint8_t s[32]);

/* The multi-scalar multiplication of verification:
 *   r = [scalar0]point0 + [scalar1]point1 + [base0]B + [base1](2^128 B),
 * scalars as 4 little-endian 64-bit words, all below 2^bits (bits <= 256); used as
 * integers, with no reduction modulo L (which matters for points outside the prime-order
 * subgroup). Variable time. */
typedef struct {
  const ge25519_p3 *point[2];
  uint64_t scalar[2][4];
  uint64_t base_scalar[2][4];
  int bits;
} ge25519_msm;

void ge25519_msm_vartime(ge25519_p2 *r, const ge25519_msm *in);

/* r = [a]A + [b]B (a, b below 2^256): the msm with one point. */
void ge25519_double_scalarmult_vartime(ge25519_p2 *r, const uint8_t a[32], const ge25519_p3 *A,
                                       const uint8_t b[32]);

/* 1 when p is the identity (X = 0 and Y = Z). */
int ge25519_is_identity(const ge25519_p2 *p);

void ge25519_neg(ge25519_p3 *r, const ge25519_p3 *p);
