/*
 * The runtime's entrypoint: decode the batch, apply the L1 priority operations in L1 order
 * (deposits credit lamports; forced transactions run first, in the first block's context),
 * run every block's transactions, publish the public output.
 */
#include "rt.h"

#define OP_DEPOSIT 1
#define OP_FORCED 2

static uint64_t pad8(uint64_t n) { return (n + 7) & ~7ULL; }

static void be64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* Set the block context; return a pointer to the block's transaction count. */
static const uint8_t *enter_block(kernel_t *k, const uint8_t *b) {
  k->slot = rd64(b);
  k->clock = b + 8;
  k->n_blockhashes = rd64(b + 48);
  k->blockhashes = b + 56;
  return b + 56 + 32 * k->n_blockhashes;
}

static void deposit(kernel_t *k, const uint8_t *op) {
  uint64_t l1_index = rd64(op + 8), lamports = rd64(op + 48);
  account_t *a = store_find(k, op + 16);
  if (!a) rt_panic("deposit recipient missing from the witness");
  if (a->lamports + lamports >= a->lamports) { /* an overflowing deposit credits nothing */
    a->lamports += lamports;
    a->changed = 1;
  }
  uint8_t record[49];
  record[0] = OP_DEPOSIT;
  be64(record + 1, l1_index);
  copy(record + 9, op + 16, 32);
  be64(record + 41, lamports);
  priority_hash_update(k, record, sizeof(record));
}

/* A transaction record: length, hints, bytes; returns the bytes and sets k->hints. */
static const uint8_t *tx_record(kernel_t *k, const uint8_t *p, uint64_t *len, uint64_t *size) {
  *len = rd64(p);
  k->n_hints = rd64(p + 8);
  k->hints = p + 16;
  uint64_t hints = pad8(4 * k->n_hints);
  *size = 16 + hints + pad8(*len);
  return p + 16 + hints;
}

static void forced(kernel_t *k, const uint8_t *op) {
  uint64_t l1_index = rd64(op + 8), len, size;
  const uint8_t *tx = tx_record(k, op + 16, &len, &size);
  uint8_t record[41];
  record[0] = OP_FORCED;
  be64(record + 1, l1_index);
  SolBytes part = {tx, len};
  sol_keccak256(&part, 1, record + 9);
  priority_hash_update(k, record, sizeof(record));
  transaction_process(k, tx, len, l1_index);
  tx_arena_reset(k);
}

uint64_t entrypoint(const uint8_t *input) {
  kernel_t *k = (kernel_t *)RT_HEAP_ADDR;
  input_parse(k, input);
  const uint8_t *blocks = k->ops;
  for (uint64_t i = 0; i < k->n_priority; i++) {
    uint64_t kind = rd64(blocks);
    uint64_t len, size = 0;
    if (kind != OP_DEPOSIT) tx_record(k, blocks + 16, &len, &size);
    blocks += kind == OP_DEPOSIT ? 56 : 16 + size;
  }
  if (k->n_blocks) enter_block(k, blocks);
  const uint8_t *op = k->ops;
  for (uint64_t i = 0; i < k->n_priority; i++) {
    uint64_t kind = rd64(op);
    if (kind == OP_DEPOSIT) {
      deposit(k, op);
      op += 56;
    } else if (kind == OP_FORCED) {
      uint64_t len, size;
      tx_record(k, op + 16, &len, &size);
      forced(k, op);
      op += 16 + size;
    } else {
      rt_panic("unknown priority operation");
    }
  }
  const uint8_t *b = blocks;
  for (uint64_t i = 0; i < k->n_blocks; i++) {
    const uint8_t *p = enter_block(k, b);
    uint64_t n = rd64(p);
    p += 8;
    for (uint64_t j = 0; j < n; j++) {
      uint64_t len, size;
      const uint8_t *tx = tx_record(k, p, &len, &size);
      transaction_process(k, tx, len, ~0ULL);
      tx_arena_reset(k);
      p += size;
    }
    b = p;
  }
  state_commit(k);
  output_publish(k);
  return 0;
}
