/*
 * Test harness for c/lib/state_tree: open a witness, set final values, commit or verify.
 *
 * Instruction data (little-endian u64s; every part 8-aligned):
 *   op (0 commit, 1 verify, 2 open only, 3 find) | heap bytes usable from 0x300000000
 *   | old root (32) | witness length | witness (padded to 8) | n finals
 *   | per final: position, lamports, rent_epoch, executable, data_len, data_mode
 *     (0: bytes follow, padded to 8; 1: NULL; 2: one byte, then the bytes, padded to 8 —
 *     so the library reads data at an odd address), owner (32)
 * Return data: rc | stage (1 open, 2 commit/verify, 3 finals) | new root (32)
 *   | n records | one status byte per record.
 * Find (op 3): after the witness, u64 n keys and the keys (32 bytes each); the return data is
 *   rc | stage | one u32 per key: the record position st_find returns, or 0xffffffff.
 * The instruction always succeeds: the library's verdict is in the return data.
 */
#include <heliostat.h>

#include "state_tree.h"

static uint64_t rd(const uint8_t *p) { return *(const uint64_t *)p; }

static void answer(uint64_t rc, uint64_t stage, const st_digest *root, const st_batch *b) {
  uint8_t out[1024] __attribute__((aligned(8)));
  uint64_t *w = (uint64_t *)out;
  w[0] = rc;
  w[1] = stage;
  sol_memcpy(out + 16, root->e, 32);
  uint64_t n = b->n_accounts;
  if (n > 1024 - 56) n = 1024 - 56;
  w[6] = n;
  for (uint64_t i = 0; i < n; i++) out[56 + i] = b->accounts[i].status;
  sol_set_return_data(out, 56 + n);
}

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {.ka = NULL};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  const uint8_t *p = params.data;
  uint64_t op = rd(p), heap = rd(p + 8);
  st_digest old_root, new_root = {{0}};
  sol_memcpy(old_root.e, p + 16, 32);
  uint64_t wlen = rd(p + 48);
  const uint8_t *witness = p + 56;
  p = witness + ((wlen + 7) & ~7ULL);
  st_batch b = {0};
  int rc = st_open(&b, witness, wlen, (void *)(SOL_HEAP_START + 8), heap - 8);
  if (rc != ST_OK || op == 2) {
    answer(rc, 1, &new_root, &b);
    return SUCCESS;
  }
  if (op == 3) {
    uint64_t n = rd(p);
    uint32_t found[128];
    if (n > 128) n = 128;
    for (uint64_t i = 0; i < n; i++) {
      const st_account *a = st_find(&b, p + 8 + 32 * i);
      found[i] = a ? (uint32_t)(a - b.accounts) : 0xffffffffu;
    }
    uint64_t head[2] = {ST_OK, 1};
    uint8_t out[16 + 4 * 128] __attribute__((aligned(8)));
    sol_memcpy(out, head, 16);
    sol_memcpy(out + 16, found, 4 * n);
    sol_set_return_data(out, 16 + 4 * n);
    return SUCCESS;
  }
  if (op == 1) {
    rc = st_verify(&b, &old_root);
    answer(rc, 2, &new_root, &b);
    return SUCCESS;
  }
  uint64_t n_finals = rd(p);
  p += 8;
  for (uint64_t f = 0; f < n_finals; f++) {
    uint64_t position = rd(p), data_len = rd(p + 32), mode = rd(p + 40);
    if (position >= b.n_accounts) {
      answer(ST_ERR_VALUE, 3, &new_root, &b);
      return SUCCESS;
    }
    st_value *v = &b.accounts[position].new;
    v->lamports = rd(p + 8);
    v->rent_epoch = rd(p + 16);
    v->executable = (uint8_t)rd(p + 24);
    if (rd(p + 24) > 255) v->executable = 2; /* out of range: let the library refuse it */
    v->data_len = data_len;
    sol_memcpy(v->owner, p + 48, 32);
    p += 80;
    v->data = mode == 1 ? NULL : mode == 2 ? p + 1 : p;
    if (mode == 0) p += (data_len + 7) & ~7ULL;
    if (mode == 2) p += (data_len + 8) & ~7ULL;
  }
  rc = st_commit(&b, &old_root, &new_root);
  answer(rc, 2, &new_root, &b);
  return SUCCESS;
}
