/*
 * ed25519_verify: the checks of ed25519-dalek 2.1's verify_strict, cheapest first (all must
 * pass, so the order only picks the code of a signature that fails several):
 *   1. s < L
 *   2. A decodes (dalek's rules: y >= p and the sign bit on x = 0 are accepted)
 *   3. A is not of small order
 *   4. R is not of small order
 *   5. encode([s]B - [k]A) equals R's bytes, k = SHA-512(R || A || M) mod L.
 * A small-order point is recognised by its y alone (ge25519_has_small_order_y): every
 * such y decodes, to small-order points only. Check 5 is done as: R's y is below p (the
 * encoding of a point of order above 8 is canonical exactly then), R decodes, and
 * [s]B - [k]A - R = 0, evaluated with the half-size scalars of lattice.h.
 */
#include "ed25519.h"

#include "ge25519.h"
#include "lattice.h"
#include "sc25519.h"
#include "sha512.h"

/* 1 when the 255-bit y of an encoding is below p = 2^255 - 19. */
static int y_is_canonical(const uint8_t s[32]) {
  if ((s[31] & 0x7f) != 0x7f) return 1;
  for (int i = 30; i > 0; i--) {
    if (s[i] != 0xff) return 1;
  }
  return s[0] < 0xed;
}

int ed25519_verify(const uint8_t sig[64], const uint8_t pubkey[32], const uint8_t *msg,
                   uint64_t msg_len) {
  const uint8_t *r_bytes = sig, *s_bytes = sig + 32;
  if (!sc25519_is_canonical(s_bytes)) return ED25519_ERR_NON_CANONICAL_S;

  ge25519_p3 a, r;
  if (ge25519_frombytes(&a, pubkey) != 0) return ED25519_ERR_INVALID_PUBLIC_KEY;
  if (ge25519_has_small_order_y(pubkey)) return ED25519_ERR_SMALL_ORDER_KEY;
  if (ge25519_has_small_order_y(r_bytes)) return ED25519_ERR_SMALL_ORDER_R;
  if (!y_is_canonical(r_bytes)) return ED25519_ERR_R_MISMATCH;
  if (ge25519_frombytes(&r, r_bytes) != 0) return ED25519_ERR_R_MISMATCH;

  uint8_t digest[64], k[32];
  sha512_ctx hash;
  sha512_init(&hash);
  sha512_update(&hash, r_bytes, 32);
  sha512_update(&hash, pubkey, 32);
  sha512_update(&hash, msg, msg_len);
  sha512_final(&hash, digest);
  sc25519_reduce(k, digest);

  /* [t s mod L]B + [r](-A or A) + [|t|](-R) = 0, with r = t k (mod 8L): see lattice.h */
  ed25519_split split;
  ed25519_lattice_split(&split, k);
  ge25519_msm in;
  uint8_t ts[32];
  ed25519_mul_mod_l(ts, split.t, s_bytes);
  if (!split.t_negative) ge25519_neg(&a, &a); /* -[r]A when t > 0, +[r]A when t < 0 */
  ge25519_neg(&r, &r);
  in.point[0] = &a;
  in.point[1] = &r;
  for (int i = 0; i < 4; i++) {
    in.scalar[0][i] = split.r[i];
    in.scalar[1][i] = split.t[i];
    in.base_scalar[0][i] = in.base_scalar[1][i] = 0;
  }
  for (int i = 0; i < 32; i++) { /* t s mod L in two 128-bit halves */
    in.base_scalar[i >> 4][(i >> 3) & 1] |= (uint64_t)ts[i] << (8 * (i & 7));
  }
  in.bits = split.bits > 128 ? split.bits : 128;
  ge25519_p2 sum;
  ge25519_msm_vartime(&sum, &in);
  return ge25519_is_identity(&sum) ? ED25519_OK : ED25519_ERR_R_MISMATCH;
}
