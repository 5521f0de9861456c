/*
 * Scalars modulo L. The reduction works on signed 21-bit limbs (as ref10's sc_reduce):
 * 2^252 = -delta (mod L) with delta = L - 2^252 < 2^125, so a limb at 2^(21(i+12)) folds
 * into six limbs at 2^(21 i) .. 2^(21(i+5)) multiplied by the signed 21-bit digits of
 * -delta, interleaved with carries that keep every product below 2^63.
 */
#include "sc25519.h"

/* L, little-endian. */
static const uint8_t L_BYTES[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                    0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                    0,    0,    0,    0,    0,    0,    0,    0,
                                    0,    0,    0,    0,    0,    0,    0,    0x10};

/* -delta = sum MINUS_DELTA[t] 2^(21 t), each digit in (-2^20, 2^20). */
static const int64_t MINUS_DELTA[6] = {666643, 470296, 654183, -997805, 136657, -683901};

int sc25519_is_canonical(const uint8_t s[32]) {
  for (int i = 31; i >= 0; i--) {
    if (s[i] != L_BYTES[i]) return s[i] < L_BYTES[i];
  }
  return 0; /* s = L */
}

/* limbs[hi] * 2^(21 hi) -> -delta * limbs[hi] * 2^(21 (hi - 12)) */
static void fold(int64_t limbs[25], int hi) {
  for (int t = 0; t < 6; t++) limbs[hi - 12 + t] += limbs[hi] * MINUS_DELTA[t];
  limbs[hi] = 0;
}

/* Floor carries from limb lo up to limb hi - 1: limbs lo .. hi - 1 end in [0, 2^21). */
static void carry(int64_t limbs[25], int lo, int hi) {
  for (int i = lo; i < hi; i++) {
    int64_t c = limbs[i] >> 21;
    limbs[i + 1] += c;
    limbs[i] -= c * ((int64_t)1 << 21);
  }
}

static void pack(uint8_t out[32], const int64_t limbs[25]) {
  for (int i = 0; i < 32; i++) out[i] = 0;
  for (int i = 0; i < 12; i++) {
    uint64_t v = (uint64_t)limbs[i];
    int bit = 21 * i;
    for (int b = 0; b < 4 && (bit >> 3) + b < 32; b++) {
      out[(bit >> 3) + b] |= (uint8_t)((v << (bit & 7)) >> (8 * b));
    }
  }
  out[31] |= (uint8_t)(limbs[12] << 4); /* bit 252 */
}

void sc25519_reduce(uint8_t out[32], const uint8_t in[64]) {
  int64_t limbs[25];
  for (int i = 0; i < 25; i++) limbs[i] = 0;
  for (int bit = 0; bit < 512; bit += 8) { /* 24 limbs of 21 bits, the last one 29 */
    int i = bit / 21 < 23 ? bit / 21 : 23;
    int shift = bit - 21 * i;
    limbs[i] += (int64_t)in[bit >> 3] << shift;
  }
  carry(limbs, 0, 23); /* bytes straddling limbs: normalise to 21 bits (limb 23 keeps 29) */
  for (int hi = 23; hi >= 18; hi--) fold(limbs, hi); /* products below 2^50 */
  carry(limbs, 6, 18); /* limbs 6..17 back to 21 bits; limb 18 takes the carry */
  for (int hi = 18; hi >= 12; hi--) fold(limbs, hi);
  carry(limbs, 0, 12);
  /* What is left at 2^252 shrinks to -1, 0 or 1 in a step or two; -1 folds to 0 or 1. */
  while (limbs[12] < 0 || limbs[12] > 1) {
    fold(limbs, 12);
    carry(limbs, 0, 12);
  }
  /* value = limbs[12] 2^252 + (limbs 0..11 in [0, 2^21)) < 2^253: pack 253 bits */
  pack(out, limbs);
  if (!sc25519_is_canonical(out)) { /* in [L, 2^253): subtract L once */
    fold(limbs, 12);
    carry(limbs, 0, 12);
    pack(out, limbs);
  }
}
