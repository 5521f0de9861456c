/*
 * GF(2^255 - 19): encoding, decoding, carries and the two fixed exponentiations. The
 * multiply and square are in fe25519_asm.c.
 */
#include "fe25519.h"

static const int LIMB_BITS[10] = {26, 25, 26, 25, 26, 25, 26, 25, 26, 25};
/* Bit offset of each limb: ceil(25.5 * i). */
static const int LIMB_OFFSET[10] = {0, 26, 51, 77, 102, 128, 153, 179, 204, 230};

void fe25519_carry(fe25519 h) {
  int64_t c;
  for (int i = 0; i < 9; i++) {
    c = h[i] >> LIMB_BITS[i]; /* floor: the limb keeps its low bits, in [0, 2^bits) */
    h[i + 1] += c;
    h[i] -= c << LIMB_BITS[i];
  }
  c = h[9] >> 25;
  h[9] -= c << 25;
  h[0] += 19 * c; /* 2^255 = 19 (mod p) */
  c = h[0] >> 26;
  h[0] -= c << 26;
  h[1] += c;
}

void fe25519_frombytes(fe25519 h, const uint8_t s[32]) {
  for (int i = 0; i < 10; i++) {
    /* Every limb lies within the 4 bytes from its first byte (offset % 8 + bits <= 32). */
    int byte = LIMB_OFFSET[i] >> 3;
    uint64_t word = (uint64_t)s[byte] | (uint64_t)s[byte + 1] << 8 |
                    (uint64_t)s[byte + 2] << 16 | (uint64_t)s[byte + 3] << 24;
    h[i] = (int64_t)((word >> (LIMB_OFFSET[i] & 7)) & ((1u << LIMB_BITS[i]) - 1));
  }
}

void fe25519_reduce(fe25519 h, const fe25519 f) {
  fe25519_copy(h, f);
  /* Three chains bring any input to limbs in range with value V in [0, 2^255): the first
   * leaves limb 1 off by a carry, the second by at most 1, the third settles it (a wrap
   * can only happen while V is outside [0, 2^255), and it moves V by p into it). */
  fe25519_carry(h);
  fe25519_carry(h);
  fe25519_carry(h);
  /* q = 1 exactly when V >= p, i.e. when V + 19 reaches 2^255. */
  int64_t q = (h[0] + 19) >> 26;
  for (int i = 1; i < 10; i++) q = (h[i] + q) >> LIMB_BITS[i];
  h[0] += 19 * q;
  for (int i = 0; i < 9; i++) {
    int64_t c = h[i] >> LIMB_BITS[i];
    h[i + 1] += c;
    h[i] -= c << LIMB_BITS[i];
  }
  h[9] &= (1 << 25) - 1; /* drops the 2^255 of V + 19q - 2^255 = V - p */
}

void fe25519_tobytes(uint8_t s[32], const fe25519 f) {
  fe25519 h;
  fe25519_reduce(h, f);
  for (int i = 0; i < 32; i++) s[i] = 0;
  for (int i = 0; i < 10; i++) {
    uint64_t limb = (uint64_t)h[i] << (LIMB_OFFSET[i] & 7);
    int byte = LIMB_OFFSET[i] >> 3;
    for (int b = 0; b < 5 && byte + b < 32; b++) s[byte + b] |= (uint8_t)(limb >> (8 * b));
  }
}

int fe25519_iszero(const fe25519 f) {
  fe25519 h;
  fe25519_reduce(h, f);
  int64_t any = 0;
  for (int i = 0; i < 10; i++) any |= h[i];
  return any == 0;
}

int fe25519_isnegative(const fe25519 f) {
  fe25519 h;
  fe25519_reduce(h, f);
  return (int)(h[0] & 1);
}

/* h = f^(2^n), n >= 1: after the first, squarings go in pairs through a temporary so that
 * they can use the non-aliasing kernel. */
static void fe25519_sqn(fe25519 h, const fe25519 f, int n) {
  fe25519 t;
  fe25519_sq(h, f);
  int i = 1;
  for (; i + 1 < n; i += 2) {
    fe25519_sq_distinct(t, h);
    fe25519_sq_distinct(h, t);
  }
  if (i < n) fe25519_sq(h, h);
}

/* The addition chain shared by both exponents: returns z^(2^250 - 1) in t0 and z^11 in
 * z11 (the chain of ref10, 250 squarings and 11 multiplications to there). */
static void fe25519_pow2250m1(fe25519 t0, fe25519 z11, const fe25519 z) {
  fe25519 t1, t2;
  fe25519_sq(t0, z);           /* z^2 */
  fe25519_sqn(t1, t0, 2);      /* z^8 */
  fe25519_mul(t1, z, t1);      /* z^9 */
  fe25519_mul(z11, t0, t1);    /* z^11 */
  fe25519_sq(t0, z11);         /* z^22 */
  fe25519_mul(t0, t1, t0);     /* z^(2^5 - 1) */
  fe25519_sqn(t1, t0, 5);
  fe25519_mul(t0, t1, t0);     /* z^(2^10 - 1) */
  fe25519_sqn(t1, t0, 10);
  fe25519_mul(t1, t1, t0);     /* z^(2^20 - 1) */
  fe25519_sqn(t2, t1, 20);
  fe25519_mul(t1, t2, t1);     /* z^(2^40 - 1) */
  fe25519_sqn(t1, t1, 10);
  fe25519_mul(t0, t1, t0);     /* z^(2^50 - 1) */
  fe25519_sqn(t1, t0, 50);
  fe25519_mul(t1, t1, t0);     /* z^(2^100 - 1) */
  fe25519_sqn(t2, t1, 100);
  fe25519_mul(t1, t2, t1);     /* z^(2^200 - 1) */
  fe25519_sqn(t1, t1, 50);
  fe25519_mul(t0, t1, t0);     /* z^(2^250 - 1) */
}

void fe25519_pow22523(fe25519 out, const fe25519 z) {
  fe25519 t0, z11;
  fe25519_pow2250m1(t0, z11, z);
  fe25519_sqn(t0, t0, 2);      /* z^(2^252 - 4) */
  fe25519_mul(out, t0, z);     /* z^(2^252 - 3) */
}

void fe25519_invert(fe25519 out, const fe25519 z) {
  fe25519 t0, z11;
  fe25519_pow2250m1(t0, z11, z);
  fe25519_sqn(t0, t0, 5);      /* z^(2^255 - 32) */
  fe25519_mul(out, t0, z11);   /* z^(2^255 - 21) = z^(p - 2) */
}
