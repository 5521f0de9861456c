/*
 * ed25519 group operations, decoding, and the variable-time multi-scalar multiplication
 * used by verification. Formulas: Hisil-Wong-Carter-Dawson 2008 for a = -1, in ref10's coordinate
 * systems (see ge25519.h). Bounds in limbs are noted as k x "carried" (fe25519.h).
 */
#include "ge25519.h"

#include "ed25519_tables.h"

#define VAR_WINDOW 4 /* NAF width for A and R: tables of their odd multiples up to 7 */
#define VAR_TABLE (1 << (VAR_WINDOW - 2))

static void ge25519_p3_0(ge25519_p3 *h) {
  fe25519_0(h->X);
  fe25519_1(h->Y);
  fe25519_1(h->Z);
  fe25519_0(h->T);
}

static void ge25519_p2_0(ge25519_p2 *h) {
  fe25519_0(h->X);
  fe25519_1(h->Y);
  fe25519_1(h->Z);
}

/* Completed -> projective (3M) and -> extended (4M). Inputs up to 3x carried. */
static void ge25519_p1p1_to_p2(ge25519_p2 *r, const ge25519_p1p1 *p) {
  fe25519_mul_distinct(r->X, p->X, p->T);
  fe25519_mul_distinct(r->Y, p->Y, p->Z);
  fe25519_mul_distinct(r->Z, p->Z, p->T);
}

static void ge25519_p1p1_to_p3(ge25519_p3 *r, const ge25519_p1p1 *p) {
  fe25519_mul_distinct(r->X, p->X, p->T);
  fe25519_mul_distinct(r->Y, p->Y, p->Z);
  fe25519_mul_distinct(r->Z, p->Z, p->T);
  fe25519_mul_distinct(r->T, p->X, p->Y);
}

static void ge25519_p3_to_cached(ge25519_cached *r, const ge25519_p3 *p, int z_is_one) {
  fe25519_add(r->YplusX, p->Y, p->X);
  fe25519_sub(r->YminusX, p->Y, p->X);
  fe25519_copy(r->Z, p->Z);
  fe25519_mul_distinct(r->T2d, p->T, ED25519_D2);
  r->z_is_one = z_is_one;
}

/* 2P from (X : Y : Z), carried: 4 squarings. Output: X 2x, Y 2x, Z 1x, T 3x carried. */
static void ge25519_dbl(ge25519_p1p1 *r, const fe25519 X, const fe25519 Y, const fe25519 Z) {
  fe25519 xx, yy, zz2, sum, s;
  fe25519_sq_distinct(xx, X);
  fe25519_sq_distinct(yy, Y);
  fe25519_sq_distinct(zz2, Z);
  fe25519_add(sum, X, Y);
  fe25519_sq_distinct(s, sum);
  for (int i = 0; i < 10; i++) {
    int64_t y3 = yy[i] + xx[i]; /* y^2 + x^2 */
    int64_t z3 = yy[i] - xx[i]; /* y^2 - x^2 */
    r->Y[i] = y3;
    r->Z[i] = z3;
    r->X[i] = s[i] - y3;              /* (x + y)^2 - x^2 - y^2 = 2xy */
    r->T[i] = zz2[i] + zz2[i] - z3;   /* 2z^2 - y^2 + x^2 */
  }
}

/* P + Q for a cached Q, or P - Q when negate is 1: 4M (3M when Q's Z is 1). */
static void ge25519_add_cached(ge25519_p1p1 *r, const ge25519_p3 *p, const ge25519_cached *q,
                               int negate) {
  fe25519 ypx, ymx, a, b, c, zz;
  fe25519_add(ypx, p->Y, p->X);
  fe25519_sub(ymx, p->Y, p->X);
  /* -Q swaps Y+X with Y-X and negates 2dT */
  fe25519_mul_distinct(a, ypx, negate ? q->YminusX : q->YplusX);
  fe25519_mul_distinct(b, ymx, negate ? q->YplusX : q->YminusX);
  fe25519_mul_distinct(c, p->T, q->T2d);
  const int64_t *z = p->Z;
  if (!q->z_is_one) {
    fe25519_mul_distinct(zz, p->Z, q->Z);
    z = zz;
  }
  for (int i = 0; i < 10; i++) {
    int64_t d2 = z[i] + z[i];
    int64_t cc = negate ? -c[i] : c[i];
    r->X[i] = a[i] - b[i];
    r->Y[i] = a[i] + b[i];
    r->Z[i] = d2 + cc;
    r->T[i] = d2 - cc;
  }
}

/* P + Q for an affine table entry, or P - Q when negate is 1: 3M. */
static void ge25519_add_precomp(ge25519_p1p1 *r, const ge25519_p3 *p, const ge25519_precomp *q,
                                int negate) {
  fe25519 ypx, ymx, a, b, c;
  fe25519_add(ypx, p->Y, p->X);
  fe25519_sub(ymx, p->Y, p->X);
  fe25519_mul_small(a, ypx, negate ? q->yminusx : q->yplusx);
  fe25519_mul_small(b, ymx, negate ? q->yplusx : q->yminusx);
  fe25519_mul_small(c, p->T, q->xy2d);
  for (int i = 0; i < 10; i++) {
    int64_t d2 = p->Z[i] + p->Z[i];
    int64_t cc = negate ? -c[i] : c[i];
    r->X[i] = a[i] - b[i];
    r->Y[i] = a[i] + b[i];
    r->Z[i] = d2 + cc;
    r->T[i] = d2 - cc;
  }
}

void ge25519_neg(ge25519_p3 *r, const ge25519_p3 *p) {
  fe25519_neg(r->X, p->X);
  fe25519_copy(r->Y, p->Y);
  fe25519_copy(r->Z, p->Z);
  fe25519_neg(r->T, p->T);
}

int ge25519_frombytes(ge25519_p3 *h, const uint8_t s[32]) {
  fe25519 u, v, v3, vxx, check;
  fe25519_frombytes(h->Y, s);
  fe25519_1(h->Z);
  fe25519_sq(u, h->Y);
  fe25519_mul(v, u, ED25519_D);
  u[0] -= 1; /* u = y^2 - 1 */
  v[0] += 1; /* v = d y^2 + 1 */
  fe25519_sq(v3, v);
  fe25519_mul(v3, v3, v); /* v^3 */
  fe25519_sq(h->X, v3);
  fe25519_mul(h->X, h->X, v);
  fe25519_mul(h->X, h->X, u); /* u v^7 */
  fe25519_pow22523(h->X, h->X);
  fe25519_mul(h->X, h->X, v3);
  fe25519_mul(h->X, h->X, u); /* x = u v^3 (u v^7)^((p-5)/8), RFC 8032 5.1.3 */
  fe25519_sq(vxx, h->X);
  fe25519_mul(vxx, vxx, v);
  fe25519_sub(check, vxx, u);
  if (!fe25519_iszero(check)) {
    fe25519_add(check, vxx, u);
    if (!fe25519_iszero(check)) return -1; /* u/v is not a square */
    fe25519_mul(h->X, h->X, ED25519_SQRTM1);
  }
  /* dalek: the root with low bit 0, negated when the sign bit is set (x = 0 included) */
  if (fe25519_isnegative(h->X)) fe25519_neg(h->X, h->X);
  if (s[31] >> 7) fe25519_neg(h->X, h->X);
  fe25519_carry(h->X);
  fe25519_mul(h->T, h->X, h->Y);
  return 0;
}

void ge25519_tobytes(uint8_t s[32], const ge25519_p2 *h) {
  fe25519 recip, x, y;
  uint8_t xs[32];
  fe25519_invert(recip, h->Z);
  fe25519_mul(x, h->X, recip);
  fe25519_mul(y, h->Y, recip);
  fe25519_tobytes(s, y);
  fe25519_tobytes(xs, x);
  s[31] ^= (uint8_t)((xs[0] & 1) << 7);
}

int ge25519_has_small_order_y(const uint8_t s[32]) {
  fe25519 y;
  fe25519_frombytes(y, s);
  fe25519_reduce(y, y);
  for (int k = 0; k < 5; k++) {
    int64_t diff = 0;
    for (int i = 0; i < 10; i++) diff |= y[i] ^ ED25519_SMALL_ORDER_Y[k][i];
    if (diff == 0) return 1;
  }
  return 0;
}

/* Index of the lowest set bit of x != 0: de Bruijn multiplication (Leiserson, Prokop and
 * Randall, "Using de Bruijn sequences to index a 1 in a computer word", 1998). */
static const uint8_t DEBRUIJN_INDEX[64] = {
    0,  1,  48, 2,  57, 49, 28, 3,  61, 58, 50, 42, 38, 29, 17, 4,  62, 55, 59, 36, 53, 51,
    43, 22, 45, 39, 33, 30, 24, 18, 12, 5,  63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21,
    44, 32, 23, 11, 46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9,  13, 8,  7,  6};

static int lowest_bit(uint64_t x) {
  return DEBRUIJN_INDEX[((x & -x) * 0x03f79d71b4cb0a89ULL) >> 58];
}

/* Width-w non-adjacent form of a scalar below 2^256 over positions 0 .. len - 1 (len at
 * least its bit length + 1; naf has room for a multiple of 4 at least len): naf[i] is 0 or
 * odd with |naf[i]| < 2^(w-1), the sum of naf[i] 2^i is the scalar, and nonzero digits are
 * at least w positions apart. */
static void slide(int16_t *naf, int len, const uint64_t scalar[4], int w) {
  uint64_t words[6] = {scalar[0], scalar[1], scalar[2], scalar[3], 0, 0};
  typedef uint64_t __attribute__((may_alias)) word64; /* zero the digits 4 at a time */
  word64 *naf64 = (word64 *)naf;
  for (int i = 0; i < (len + 3) >> 2; i++) naf64[i] = 0;
  const uint64_t width = (uint64_t)1 << w, mask = width - 1;
  uint64_t carry = 0;
  int pos = 0;
  while (pos < len) {
    int word = pos >> 6, bit = pos & 63;
    uint64_t bits = words[word] >> bit;
    if (bit) bits |= words[word + 1] << (64 - bit);
    if (carry == 0 && (bits & 1) == 0) { /* jump over a run of zero bits at once */
      pos += bits == 0 ? 64 : lowest_bit(bits);
      continue;
    }
    uint64_t window = carry + (bits & mask);
    if ((window & 1) == 0) { /* carry + an odd bit: a zero digit, the carry moves up */
      pos += 1;
      continue;
    }
    if (window < width / 2) {
      carry = 0;
      naf[pos] = (int16_t)window;
    } else {
      carry = 1; /* window - 2^w: borrow 2^w from the positions above */
      naf[pos] = (int16_t)((int64_t)window - (int64_t)width);
    }
    pos += w;
  }
}

/* odd[i] = (2i + 1)P for i < 2^(VAR_WINDOW - 2). */
static __attribute__((noinline)) void odd_multiples(ge25519_cached *odd, const ge25519_p3 *p) {
  ge25519_p1p1 t;
  ge25519_p3 u, p2;
  int64_t z_not_one = p->Z[0] ^ 1; /* decoded points have Z = 1, limb for limb */
  for (int i = 1; i < 10; i++) z_not_one |= p->Z[i];
  ge25519_p3_to_cached(&odd[0], p, z_not_one == 0);
  ge25519_dbl(&t, p->X, p->Y, p->Z);
  ge25519_p1p1_to_p3(&p2, &t);
  for (int i = 1; i < VAR_TABLE; i++) {
    ge25519_add_cached(&t, &p2, &odd[i - 1], 0);
    ge25519_p1p1_to_p3(&u, &t);
    ge25519_p3_to_cached(&odd[i], &u, 0);
  }
}

#define NAF_LEN 264 /* 256-bit scalars, the NAF's extra position, rounded to 8 */

/* The double-and-add loop over the four NAFs, from the top nonzero digit down. */
static __attribute__((noinline)) void straus(ge25519_p2 *r, const ge25519_msm *in,
                                             const ge25519_cached *odd) {
  int16_t naf[4][NAF_LEN] __attribute__((aligned(8)));
  ge25519_p1p1 t;
  ge25519_p3 u;
  int len = in->bits + 2 < NAF_LEN ? in->bits + 2 : NAF_LEN;
  slide(naf[0], len, in->scalar[0], VAR_WINDOW);
  slide(naf[1], len, in->scalar[1], VAR_WINDOW);
  slide(naf[2], len, in->base_scalar[0], ED25519_BASE_WINDOW);
  slide(naf[3], len, in->base_scalar[1], ED25519_BASE_WINDOW);
  int i = len - 1;
  while (i >= 0 && (naf[0][i] | naf[1][i] | naf[2][i] | naf[3][i]) == 0) i--;
  ge25519_p2_0(r);
  /* The sum starts at the identity: the first position needs no doubling, and its first
   * addition starts from the identity as p3 rather than converting it. */
  int fresh = 1;
  ge25519_p3_0(&u);
  for (; i >= 0; i--) {
    if (!fresh) ge25519_dbl(&t, r->X, r->Y, r->Z);
    for (int j = 0; j < 4; j++) {
      int16_t d = naf[j][i];
      if (d == 0) continue;
      if (!fresh) ge25519_p1p1_to_p3(&u, &t);
      fresh = 0;
      int index = (d > 0 ? d : -d) >> 1;
      if (j < 2) {
        ge25519_add_cached(&t, &u, &odd[j * VAR_TABLE + index], d < 0);
      } else {
        const ge25519_precomp *table = j == 2 ? ED25519_BASE_ODD : ED25519_BASE_HIGH_ODD;
        ge25519_add_precomp(&t, &u, &table[index], d < 0);
      }
    }
    ge25519_p1p1_to_p2(r, &t);
  }
}

/* sBPF gives every call frame 4 KiB: the two tables of odd multiples (2.5 KiB) live in this
 * frame and the loop's digits and temporaries in the next. */
void ge25519_msm_vartime(ge25519_p2 *r, const ge25519_msm *in) {
  ge25519_cached odd[2 * VAR_TABLE];
  odd_multiples(&odd[0], in->point[0]);
  odd_multiples(&odd[VAR_TABLE], in->point[1]);
  straus(r, in, odd);
}

void ge25519_double_scalarmult_vartime(ge25519_p2 *r, const uint8_t a[32], const ge25519_p3 *A,
                                       const uint8_t b[32]) {
  ge25519_msm in;
  ge25519_p3 identity;
  ge25519_p3_0(&identity);
  in.point[0] = A;
  in.point[1] = &identity;
  for (int i = 0; i < 4; i++) in.scalar[0][i] = in.scalar[1][i] = 0;
  for (int i = 0; i < 4; i++) in.base_scalar[0][i] = in.base_scalar[1][i] = 0;
  for (int i = 0; i < 32; i++) {
    in.scalar[0][i >> 3] |= (uint64_t)a[i] << (8 * (i & 7));
    in.base_scalar[i >> 4][(i >> 3) & 1] |= (uint64_t)b[i] << (8 * (i & 7)); /* 128-bit halves */
  }
  in.bits = 256;
  ge25519_msm_vartime(r, &in);
}

int ge25519_is_identity(const ge25519_p2 *p) {
  fe25519 d;
  fe25519_sub(d, p->Y, p->Z);
  return fe25519_iszero(p->X) && fe25519_iszero(d);
}
