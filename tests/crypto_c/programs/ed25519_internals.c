/*
 * ed25519_internals: the pieces of c/lib/ed25519 one at a time, for differential tests
 * against Python integers and for instruction counts. Instruction data:
 *   op (1 byte) || repeat (1 byte, the operation runs max(repeat, 1) times) || operands
 * The result is the return data. Ops:
 *   0 fe_mul    a (32) || b (32)          -> canonical bytes of a*b
 *   1 fe_sq     a (32)                    -> a^2
 *   2 invert    a (32)                    -> 1/a
 *   3 pow22523  a (32)                    -> a^((p-5)/8)
 *   4 mul_limbs f (80) || g (80)          -> the 10 raw int64 limbs of f*g (no reduction)
 *   5 sq_limbs  f (80)                    -> raw limbs of f^2
 *   6 sc_reduce x (64)                    -> x mod L (32)
 *   7 sha512    data                      -> digest (64)
 *   9 decode    s (32)                    -> 1 byte status (0 ok), then canonical x, y
 *  10 dsm       a (32) || A (32) || b (32) -> encode([a]A + [b]B), or 1 byte 0xff
 *  11 small_y   s (32)                    -> 1 byte: has_small_order_y
 *  12 canon     s (32)                    -> 1 byte: sc25519_is_canonical
 *  13 split     k (32)                    -> r (32) || |t| (32) || t negative (1) || bits (1)
 *  14 mul_mod_l t (32) || s (32)          -> t s mod L (32)
 *  15 mul_distinct f (80) || g (80)       -> raw limbs of f*g (the non-aliasing kernel)
 *  16 sq_distinct  f (80)                 -> raw limbs of f^2 (the non-aliasing kernel)
 *  17 mul_small    f (80) || g (40, u32)  -> raw limbs of f*g (the table kernel)
 * 255 nothing (the baseline of instruction counts)
 */
#include <heliostat.h>

#include "../../../c/lib/ed25519/ed25519.h"
#include "../../../c/lib/ed25519/fe25519.h"
#include "../../../c/lib/ed25519/ge25519.h"
#include "../../../c/lib/ed25519/lattice.h"
#include "../../../c/lib/ed25519/sc25519.h"
#include "../../../c/lib/ed25519/sha512.h"

static void read_limbs(fe25519 f, const uint8_t *p) {
  for (int i = 0; i < 10; i++) {
    uint64_t v = 0;
    for (int b = 7; b >= 0; b--) v = (v << 8) | p[8 * i + b];
    f[i] = (int64_t)v;
  }
}

static void write_limbs(uint8_t *p, const fe25519 f) {
  for (int i = 0; i < 10; i++) {
    for (int b = 0; b < 8; b++) p[8 * i + b] = (uint8_t)((uint64_t)f[i] >> (8 * b));
  }
}

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {.ka = NULL};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  if (params.data_len < 2) return ERROR_INVALID_INSTRUCTION_DATA;
  const uint8_t op = params.data[0];
  const int repeat = params.data[1] ? params.data[1] : 1;
  const uint8_t *in = params.data + 2;
  const uint64_t in_len = params.data_len - 2;
  uint8_t out[200];
  uint64_t out_len = 0;
  fe25519 a, b, h;
  for (int n = 0; n < repeat; n++) {
    switch (op) {
      case 0:
        fe25519_frombytes(a, in);
        fe25519_frombytes(b, in + 32);
        fe25519_mul(h, a, b);
        fe25519_tobytes(out, h);
        out_len = 32;
        break;
      case 1:
        fe25519_frombytes(a, in);
        fe25519_sq(h, a);
        fe25519_tobytes(out, h);
        out_len = 32;
        break;
      case 2:
        fe25519_frombytes(a, in);
        fe25519_invert(h, a);
        fe25519_tobytes(out, h);
        out_len = 32;
        break;
      case 3:
        fe25519_frombytes(a, in);
        fe25519_pow22523(h, a);
        fe25519_tobytes(out, h);
        out_len = 32;
        break;
      case 4:
        read_limbs(a, in);
        read_limbs(b, in + 80);
        fe25519_mul(h, a, b);
        write_limbs(out, h);
        out_len = 80;
        break;
      case 5:
        read_limbs(a, in);
        fe25519_sq(h, a);
        write_limbs(out, h);
        out_len = 80;
        break;
      case 6:
        sc25519_reduce(out, in);
        out_len = 32;
        break;
      case 7:
        sha512(out, in, in_len);
        out_len = 64;
        break;
      case 9: {
        ge25519_p3 p;
        out[0] = (uint8_t)(ge25519_frombytes(&p, in) != 0);
        fe25519 recip, x, y;
        fe25519_invert(recip, p.Z);
        fe25519_mul(x, p.X, recip);
        fe25519_mul(y, p.Y, recip);
        fe25519_tobytes(out + 1, x);
        fe25519_tobytes(out + 33, y);
        out_len = out[0] ? 1 : 65;
        break;
      }
      case 10: {
        ge25519_p3 p;
        ge25519_p2 r;
        if (ge25519_frombytes(&p, in + 32) != 0) {
          out[0] = 0xff;
          out_len = 1;
          break;
        }
        ge25519_double_scalarmult_vartime(&r, in, &p, in + 64);
        ge25519_tobytes(out, &r);
        out_len = 32;
        break;
      }
      case 11:
        out[0] = (uint8_t)ge25519_has_small_order_y(in);
        out_len = 1;
        break;
      case 12:
        out[0] = (uint8_t)sc25519_is_canonical(in);
        out_len = 1;
        break;
      case 13: {
        ed25519_split split;
        ed25519_lattice_split(&split, in);
        for (int i = 0; i < 32; i++) {
          out[i] = (uint8_t)(split.r[i >> 3] >> (8 * (i & 7)));
          out[32 + i] = (uint8_t)(split.t[i >> 3] >> (8 * (i & 7)));
        }
        out[64] = (uint8_t)split.t_negative;
        out[65] = (uint8_t)split.bits;
        out_len = 66;
        break;
      }
      case 14: {
        uint64_t t[4] = {0, 0, 0, 0};
        for (int i = 0; i < 32; i++) t[i >> 3] |= (uint64_t)in[i] << (8 * (i & 7));
        ed25519_mul_mod_l(out, t, in + 32);
        out_len = 32;
        break;
      }
      case 15:
        read_limbs(a, in);
        read_limbs(b, in + 80);
        fe25519_mul_distinct(h, a, b);
        write_limbs(out, h);
        out_len = 80;
        break;
      case 16:
        read_limbs(a, in);
        fe25519_sq_distinct(h, a);
        write_limbs(out, h);
        out_len = 80;
        break;
      case 17: {
        fe25519_small g;
        read_limbs(a, in);
        for (int i = 0; i < 10; i++) {
          g[i] = (uint32_t)in[80 + 4 * i] | (uint32_t)in[81 + 4 * i] << 8 |
                 (uint32_t)in[82 + 4 * i] << 16 | (uint32_t)in[83 + 4 * i] << 24;
        }
        fe25519_mul_small(h, a, g);
        write_limbs(out, h);
        out_len = 80;
        break;
      }
      case 255:
        out_len = 0;
        break;
      default:
        return ERROR_INVALID_INSTRUCTION_DATA;
    }
  }
  sol_set_return_data(out, out_len);
  return SUCCESS;
}

/* The library, after the entrypoint (which stays the first function of .text). */
#include "../../../c/lib/ed25519/ed25519.c"
#include "../../../c/lib/ed25519/fe25519.c"
#include "../../../c/lib/ed25519/fe25519_asm.c"
#include "../../../c/lib/ed25519/ge25519.c"
#include "../../../c/lib/ed25519/lattice.c"
#include "../../../c/lib/ed25519/sc25519.c"
#include "../../../c/lib/ed25519/sha512.c"
#include "../../../c/lib/ed25519/sha512_asm.c"
