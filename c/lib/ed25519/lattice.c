/*
 * The lattice split of lattice.h, on 256-bit unsigned integers (4 little-endian words).
 * Remainders shrink from 8L < 2^256; the Euclid cofactors alternate in sign, so their
 * magnitudes T grow by T_{i+1} = T_{i-1} + q_i T_i and t_i = (-1)^(i+1) T_i.
 */
#include "lattice.h"

#include "sc25519.h"

/* 8L, little-endian words. */
static const uint64_t EIGHT_L[4] = {0xc09318d2e7ae9f68ULL, 0xa6f7cef517bce6b2ULL, 0,
                                    0x8000000000000000ULL};
static const uint64_t L_WORDS[4] = {0x5812631a5cf5d3edULL, 0x14def9dea2f79cd6ULL, 0,
                                    0x1000000000000000ULL};
#define SPLIT_BITS 128

static int bitlen64(uint64_t x) {
  int n = 0;
  if (x >> 32) { n += 32; x >>= 32; }
  if (x >> 16) { n += 16; x >>= 16; }
  if (x >> 8) { n += 8; x >>= 8; }
  if (x >> 4) { n += 4; x >>= 4; }
  if (x >> 2) { n += 2; x >>= 2; }
  if (x >> 1) { n += 1; x >>= 1; }
  return n + (int)x;
}

int ed25519_bitlen256(const uint64_t a[4]) {
  for (int i = 3; i >= 0; i--) {
    if (a[i]) return 64 * i + bitlen64(a[i]);
  }
  return 0;
}

static int cmp256(const uint64_t a[4], const uint64_t b[4]) {
  for (int i = 3; i >= 0; i--) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

static void sub256(uint64_t a[4], const uint64_t b[4]) { /* a -= b, a >= b */
  uint64_t borrow = 0;
  for (int i = 0; i < 4; i++) {
    uint64_t bi = b[i] + borrow;
    uint64_t next = (bi < borrow) | (a[i] < bi);
    a[i] -= bi;
    borrow = next;
  }
}

static void add256(uint64_t a[4], const uint64_t b[4]) { /* a += b, no overflow */
  uint64_t carry = 0;
  for (int i = 0; i < 4; i++) {
    uint64_t s = a[i] + carry;
    uint64_t c1 = s < carry;
    a[i] = s + b[i];
    carry = c1 | (a[i] < s);
  }
}

static void shl256(uint64_t out[4], const uint64_t a[4], int s) { /* 0 <= s < 256 */
  int words = s >> 6, bits = s & 63;
  for (int i = 3; i >= 0; i--) {
    uint64_t v = 0;
    if (i - words >= 0) {
      v = a[i - words] << bits;
      if (bits && i - words - 1 >= 0) v |= a[i - words - 1] >> (64 - bits);
    }
    out[i] = v;
  }
}

static void shr1_256(uint64_t a[4]) {
  for (int i = 0; i < 3; i++) a[i] = (a[i] >> 1) | (a[i + 1] << 63);
  a[3] >>= 1;
}

static void copy256(uint64_t out[4], const uint64_t a[4]) {
  for (int i = 0; i < 4; i++) out[i] = a[i];
}

/* a -= q b for q < 2^32 and a >= q b. Each 64-bit word of b is multiplied in two 32-bit
 * halves, as sBPF's multiply keeps only the low 64 bits. */
static inline __attribute__((always_inline)) void submul(uint64_t a[4], const uint64_t b[4],
                                                         uint64_t q) {
  uint64_t carry = 0, borrow = 0;
  for (int i = 0; i < 4; i++) {
    uint64_t lo = (b[i] & 0xffffffffu) * q, hi = (b[i] >> 32) * q;
    uint64_t p = lo + (hi << 32);
    uint64_t next = (p < lo) + (hi >> 32);
    p += carry;
    next += p < carry;
    carry = next;
    uint64_t t = a[i] - p;
    uint64_t out = (a[i] < p) + (t < borrow);
    a[i] = t - borrow;
    borrow = out;
  }
}

/* c += q d over the low `words` words, q < 2^32 (the sum fits in them). */
static inline __attribute__((always_inline)) void addmul(uint64_t c[4], const uint64_t d[4],
                                                         uint64_t q, int words) {
  uint64_t carry_d = 0, carry_c = 0;
  for (int i = 0; i < words; i++) {
    uint64_t lo = (d[i] & 0xffffffffu) * q, hi = (d[i] >> 32) * q;
    uint64_t p = lo + (hi << 32);
    uint64_t next = (p < lo) + (hi >> 32);
    p += carry_d;
    next += p < carry_d;
    carry_d = next;
    uint64_t t = c[i] + p;
    uint64_t out = t < p;
    c[i] = t + carry_c;
    carry_c = out + (c[i] < t);
  }
}

/* a += b over the low `words` words (no overflow out of them). */
static inline __attribute__((always_inline)) void addn(uint64_t a[4], const uint64_t b[4],
                                                       int words) {
  uint64_t carry = 0;
  for (int i = 0; i < words; i++) {
    uint64_t s = a[i] + carry;
    uint64_t c1 = s < carry;
    a[i] = s + b[i];
    carry = c1 | (a[i] < s);
  }
}

/* The 64 bits of a starting at bit position at (>= 0), a < 2^256. */
static uint64_t bits64(const uint64_t a[4], int at) {
  int word = at >> 6, bit = at & 63;
  uint64_t v = a[word] >> bit;
  if (bit && word < 3) v |= a[word + 1] << (64 - bit);
  return v;
}

/* One Euclid step: r0 = r0 mod r1, T0 += (r0 div r1) T1, for r0 > r1 > 0 with bit lengths
 * n0, n1; T0 and T1 live in their low `words` words and so does the new T0 (at most
 * 8L / r1). The quotient comes from a 64-bit division of the leading bits when it has at
 * most 32 bits (nearly always), else from binary long division. */
static inline __attribute__((always_inline)) void divstep_words(uint64_t r0[4],
                                                                const uint64_t r1[4],
                                                                uint64_t T0[4],
                                                                const uint64_t T1[4],
                                                                int n0, int n1, int words) {
  int s = n0 - n1;
  if (s == 0) { /* same length: the quotient is 1 */
    sub256(r0, r1);
    addn(T0, T1, words);
    return;
  }
  if (s < 32) {
    int at = n0 > 64 ? n0 - 64 : 0;
    uint64_t a = bits64(r0, at), b = bits64(r1, at); /* b >= 2^(63 - s) >= 2^32 */
    /* r0 / r1 > a / (b + 1): q is at most 2 short of the quotient */
    uint64_t q = b == ~(uint64_t)0 ? 0 : a / (b + 1);
    submul(r0, r1, q);
    addmul(T0, T1, q, words);
    while (cmp256(r0, r1) >= 0) {
      sub256(r0, r1);
      addn(T0, T1, words);
    }
    return;
  }
  uint64_t d[4], e[4];
  shl256(d, r1, s);
  shl256(e, T1, s);
  for (;;) {
    if (cmp256(r0, d) >= 0) {
      sub256(r0, d);
      add256(T0, e);
    }
    if (s-- == 0) break;
    shr1_256(d);
    shr1_256(e);
  }
}

/* Steps while r1 >= 2^128: then every T is below 8L / 2^128 < 2^128, two words. The
 * lengths come packed (n0 << 16 | n1): sBPF calls take at most 5 arguments. */
static __attribute__((noinline)) void divstep_narrow(uint64_t r0[4], const uint64_t r1[4],
                                                     uint64_t T0[4], const uint64_t T1[4],
                                                     int lengths) {
  divstep_words(r0, r1, T0, T1, lengths >> 16, lengths & 0xffff, 2);
}

static __attribute__((noinline)) void divstep(uint64_t r0[4], const uint64_t r1[4],
                                              uint64_t T0[4], const uint64_t T1[4], int lengths) {
  divstep_words(r0, r1, T0, T1, lengths >> 16, lengths & 0xffff, 4);
}

static void candidate(ed25519_split *out, const uint64_t r[4], const uint64_t T[4], int index) {
  copy256(out->r, r);
  copy256(out->t, T);
  out->t_negative = (index & 1) == 0; /* t_i = (-1)^(i+1) T_i */
  int rb = ed25519_bitlen256(r), tb = ed25519_bitlen256(T);
  out->bits = rb > tb ? rb : tb;
}

void ed25519_lattice_split(ed25519_split *out, const uint8_t k[32]) {
  /* rows[j] holds (r, T) of the pair; prev/cur alternate instead of being copied */
  uint64_t r[2][4] = {{0, 0, 0, 0}, {0, 0, 0, 0}}, T[2][4] = {{0, 0, 0, 0}, {1, 0, 0, 0}};
  copy256(r[0], EIGHT_L);
  for (int i = 0; i < 32; i++) r[1][i >> 3] |= (uint64_t)k[i] << (8 * (i & 7));
  int prev = 0, cur = 1, index = 1; /* (r[cur], T[cur]) = (r_index, T_index) */
  int n_prev = 256, n_cur = ed25519_bitlen256(r[cur]);
  while (n_cur > SPLIT_BITS) {
    divstep_narrow(r[prev], r[cur], T[prev], T[cur], n_prev << 16 | n_cur);
    n_prev = n_cur;
    n_cur = ed25519_bitlen256(r[prev]);
    prev ^= 1;
    cur ^= 1;
    index++;
  }
  if (T[cur][0] & 1) {
    candidate(out, r[cur], T[cur], index);
  } else {
    /* Consecutive cofactors are coprime, so T_{index-1} and T_{index+1} are odd. */
    ed25519_split before, after;
    candidate(&before, r[prev], T[prev], index - 1);
    *out = before;
    if (n_cur > 0) {
      divstep(r[prev], r[cur], T[prev], T[cur], n_prev << 16 | n_cur);
      candidate(&after, r[prev], T[prev], index + 1);
      if (after.bits < before.bits) *out = after;
    }
  }
  if (cmp256(out->t, L_WORDS) >= 0) {
    /* |t| >= L (not seen in practice): fall back to (r, t) = (k, 1), full-length scalars. */
    uint64_t kw[4] = {0, 0, 0, 0}, one[4] = {1, 0, 0, 0};
    for (int i = 0; i < 32; i++) kw[i >> 3] |= (uint64_t)k[i] << (8 * (i & 7));
    candidate(out, kw, one, 1);
  }
}

void ed25519_mul_mod_l(uint8_t out[32], const uint64_t t[4], const uint8_t s[32]) {
  uint32_t a[8], b[8];
  for (int i = 0; i < 4; i++) {
    a[2 * i] = (uint32_t)t[i];
    a[2 * i + 1] = (uint32_t)(t[i] >> 32);
  }
  for (int i = 0; i < 8; i++) {
    b[i] = (uint32_t)s[4 * i] | (uint32_t)s[4 * i + 1] << 8 | (uint32_t)s[4 * i + 2] << 16 |
           (uint32_t)s[4 * i + 3] << 24;
  }
  /* schoolbook in 32-bit limbs; each 64-bit product split so that columns cannot overflow */
  uint64_t col[17];
  for (int i = 0; i < 17; i++) col[i] = 0;
  for (int i = 0; i < 8; i++) {
    if (a[i] == 0) continue;
    for (int j = 0; j < 8; j++) {
      uint64_t p = (uint64_t)a[i] * b[j];
      col[i + j] += p & 0xffffffffu;
      col[i + j + 1] += p >> 32;
    }
  }
  uint8_t wide[64];
  for (int i = 0; i < 16; i++) {
    col[i + 1] += col[i] >> 32;
    for (int b8 = 0; b8 < 4; b8++) wide[4 * i + b8] = (uint8_t)(col[i] >> (8 * b8));
  }
  sc25519_reduce(out, wide);
}
