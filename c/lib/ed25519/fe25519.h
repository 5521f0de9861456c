/*
 * Arithmetic in GF(p), p = 2^255 - 19, for sBPF (64x64->64 multiply, no __int128).
 *
 * An element is 10 signed 64-bit limbs, f = sum f[i] * 2^ceil(25.5 i) (limbs alternate 26
 * and 25 bits), the representation of ref10 (SUPERCOP's ed25519 reference code). Values
 * are kept modulo p, not reduced: fe25519_tobytes gives the canonical 32 bytes.
 *
 * Bounds. "Carried" means every limb in [0, 2^26) (even) / [0, 2^25) (odd), limb 1 allowed a
 * little over (the last wrap of a carry chain), which is what fe25519_mul, fe25519_sq and
 * fe25519_carry produce. fe25519_add/sub of carried inputs do not carry: their limbs have
 * magnitude below 2x the carried bound. fe25519_mul and fe25519_sq accept inputs whose
 * limbs are at most k_f and k_g times the carried bound with k_f * k_g <= 16: the worst
 * column is then below 124.5 * 16 * 2^52 < 2^63 (see gen_field_asm.py for the column sums).
 * Callers in ge25519.c keep k <= 4 on both sides.
 */
#pragma once

#include <stdint.h>

typedef int64_t fe25519[10];
/* A reduced element (limbs in [0, 2^26)) stored in half the room: the .rodata tables. */
typedef uint32_t fe25519_small[10];

/* h = f * g and h = f^2 (hand-scheduled sBPF in fe25519_asm.c; h may alias f or g). */
void fe25519_mul(fe25519 h, const fe25519 f, const fe25519 g);
void fe25519_sq(fe25519 h, const fe25519 f);
/* The same when h is neither f nor g (5 instructions fewer). */
void fe25519_mul_distinct(fe25519 h, const fe25519 f, const fe25519 g);
void fe25519_sq_distinct(fe25519 h, const fe25519 f);
/* h = f * g for a g stored small; h is neither f nor g. */
void fe25519_mul_small(fe25519 h, const fe25519 f, const fe25519_small g);

/* h = f reduced into [0, p): the canonical limbs (each in [0, 2^26) / [0, 2^25)). */
void fe25519_reduce(fe25519 h, const fe25519 f);
/* Canonical little-endian encoding (the value reduced into [0, p)). */
void fe25519_tobytes(uint8_t s[32], const fe25519 h);
/* The 255 low bits of s as a field element (bit 255 ignored; values >= p allowed). */
void fe25519_frombytes(fe25519 h, const uint8_t s[32]);
/* z^(2^252 - 3) = z^((p - 5) / 8), the exponent of the square-root candidate. */
void fe25519_pow22523(fe25519 out, const fe25519 z);
/* z^(p - 2) = 1/z (0 for z = 0). */
void fe25519_invert(fe25519 out, const fe25519 z);
/* A full carry chain: any limbs up to 2^62 in magnitude -> carried. */
void fe25519_carry(fe25519 h);
/* 1 when f = 0 (mod p), the low bit of f's canonical encoding for isnegative. */
int fe25519_iszero(const fe25519 f);
int fe25519_isnegative(const fe25519 f);

static inline void fe25519_0(fe25519 h) {
  for (int i = 0; i < 10; i++) h[i] = 0;
}

static inline void fe25519_1(fe25519 h) {
  h[0] = 1;
  for (int i = 1; i < 10; i++) h[i] = 0;
}

static inline void fe25519_copy(fe25519 h, const fe25519 f) {
  for (int i = 0; i < 10; i++) h[i] = f[i];
}

static inline void fe25519_add(fe25519 h, const fe25519 f, const fe25519 g) {
  for (int i = 0; i < 10; i++) h[i] = f[i] + g[i];
}

static inline void fe25519_sub(fe25519 h, const fe25519 f, const fe25519 g) {
  for (int i = 0; i < 10; i++) h[i] = f[i] - g[i];
}

static inline void fe25519_neg(fe25519 h, const fe25519 f) {
  for (int i = 0; i < 10; i++) h[i] = -f[i];
}
