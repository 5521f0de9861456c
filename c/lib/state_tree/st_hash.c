/*
 * Hashing for the state tree: pack bytes into 30-bit limbs, compress through the Poseidon2
 * syscall, hash account data and leaves (docs/state.md, "Leaf encoding").
 *
 * 120 bytes = 960 bits = 15 u64 words = 32 limbs = four 8-limb blocks: both the leaf header
 * and the data are packed 120 bytes at a time from aligned words, so no limb needs a byte
 * loop (a limb straddles two words at most).
 */
#include "st_hash.h"

#include "poseidon2_syscall.h"

#define MASK30 0x3fffffffULL
#define DATA_TAG 0x44415441u /* "DATA" */
#define LEAF_VERSION 1ULL

typedef uint64_t __attribute__((__may_alias__)) u64a;

static bool aligned8(const void *p) { return ((uintptr_t)p & 7) == 0; }

int st_key_cmp(const uint8_t *a, const uint8_t *b) {
  if (aligned8(a) && aligned8(b)) {
    const u64a *x = (const u64a *)a, *y = (const u64a *)b;
    for (int i = 0; i < 4; i++) {
      if (x[i] != y[i]) {
        /* keys order as big-endian byte strings: compare the byte-swapped words */
        return __builtin_bswap64(x[i]) < __builtin_bswap64(y[i]) ? -1 : 1;
      }
    }
    return 0;
  }
  for (int i = 0; i < 32; i++) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

bool st_bytes_eq(const uint8_t *a, const uint8_t *b, uint64_t n) {
  uint64_t i = 0;
  if (aligned8(a) && aligned8(b)) {
    for (; i + 8 <= n; i += 8) {
      if (*(const u64a *)(a + i) != *(const u64a *)(b + i)) return false;
    }
  }
  for (; i < n; i++) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

void st_copy(void *dst, const void *src, uint64_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  uint64_t i = 0;
  if (aligned8(d) && aligned8(s)) {
    for (; i + 8 <= n; i += 8) *(u64a *)(d + i) = *(const u64a *)(s + i);
  }
  for (; i < n; i++) d[i] = s[i];
}

/* The permutation state: 16 u32 words, 8-aligned, as the syscall wants it. */
typedef st_state state16;

static void permute(state16 *s) { heliostat_poseidon2_permute(s->e); }

static void put_digest(state16 *s, int half, const st_digest *d) {
  const u64a *x = (const u64a *)d->e;
  uint64_t *y = &s->w[4 * half];
  y[0] = x[0], y[1] = x[1], y[2] = x[2], y[3] = x[3];
}

static void get_digest(const state16 *s, st_digest *d) {
  u64a *y = (u64a *)d->e;
  y[0] = s->w[0], y[1] = s->w[1], y[2] = s->w[2], y[3] = s->w[3];
}

/*
 * Limb j of a 960-bit little-endian integer held in words w[0..14]: bits 30j .. 30j+29.
 * Written out with constant shifts (the loop form costs LLVM ~20 instructions a limb).
 */
#define LIMB(w, j)                                                                        \
  ((uint32_t)(((((30 * (j)) & 63) > 34)                                                    \
                   ? ((w)[(30 * (j)) >> 6] >> ((30 * (j)) & 63)) |                         \
                         ((w)[((30 * (j)) >> 6) + 1] << (64 - ((30 * (j)) & 63)))         \
                   : ((w)[(30 * (j)) >> 6] >> ((30 * (j)) & 63))) &                        \
               MASK30))
#define LIMBS8(e, w, first)                                                                \
  do {                                                                                     \
    (e)[0] = LIMB(w, (first) + 0), (e)[1] = LIMB(w, (first) + 1);                          \
    (e)[2] = LIMB(w, (first) + 2), (e)[3] = LIMB(w, (first) + 3);                          \
    (e)[4] = LIMB(w, (first) + 4), (e)[5] = LIMB(w, (first) + 5);                          \
    (e)[6] = LIMB(w, (first) + 6), (e)[7] = LIMB(w, (first) + 7);                          \
  } while (0)

/* Absorb `blocks` (1..4) 30-byte blocks of w into the chain h = compress(h, block). */
static void absorb(state16 *s, const u64a *w, uint64_t blocks) {
  LIMBS8(s->e + 8, w, 0);
  permute(s);
  if (blocks < 2) return;
  LIMBS8(s->e + 8, w, 8);
  permute(s);
  if (blocks < 3) return;
  LIMBS8(s->e + 8, w, 16);
  permute(s);
  if (blocks < 4) return;
  LIMBS8(s->e + 8, w, 24);
  permute(s);
}

void st_data_hash(const uint8_t *data, uint64_t len, st_digest *out) {
  state16 s;
  if (len == 0) {
    s.w[0] = s.w[1] = s.w[2] = s.w[3] = 0;
    get_digest(&s, out);
    return;
  }
  s.e[0] = (uint32_t)(len & MASK30);
  s.e[1] = (uint32_t)(len >> 30);
  s.e[2] = DATA_TAG;
  s.e[3] = 0;
  s.w[2] = s.w[3] = 0;
  uint64_t words[16];
  for (uint64_t at = 0; at < len; at += 120) {
    uint64_t chunk = len - at < 120 ? len - at : 120;
    const u64a *w = (const u64a *)(data + at);
    if (chunk < 120 || !aligned8(data)) {
      for (int i = 0; i < 16; i++) words[i] = 0;
      st_copy(words, data + at, chunk);
      w = (const u64a *)words;
    }
    absorb(&s, w, (chunk + 29) / 30);
  }
  get_digest(&s, out);
}

void st_leaf_hash(const uint8_t *key, const uint8_t *next_key, const st_value *v,
                  const st_digest *data_hash, st_digest *out) {
  uint64_t w[16];
  st_copy(w, key, 32);
  st_copy(w + 4, next_key, 32);
  st_copy(w + 8, v->owner, 32);
  w[12] = v->lamports;
  w[13] = v->rent_epoch;
  /* data_len u32 | executable u8 | version u8 | two zero bytes */
  w[14] = (v->data_len & 0xffffffffULL) | ((uint64_t)v->executable << 32) | (LEAF_VERSION << 40);
  w[15] = 0;
  const u64a *x = (const u64a *)w;
  state16 s;
  LIMBS8(s.e, x, 0);
  LIMBS8(s.e + 8, x, 8);
  permute(&s);
  LIMBS8(s.e + 8, x, 16);
  permute(&s);
  LIMBS8(s.e + 8, x, 24);
  permute(&s);
  put_digest(&s, 1, data_hash);
  permute(&s);
  get_digest(&s, out);
}
