/*
 * What the runtime reports: a receipt per transaction (a native side channel for the
 * sequencer), the rolling hash of priority operations, and the batch's public output
 * (docs/runtime.md, "Public output"), published once at the end.
 */
#include "rt.h"

#define OUT_MAGIC 0x3354554f54534c48ULL /* "HLSTOUT3" */
/* The output starts with keccak256 of its head: L1 keeps exactly that hash for a committed
 * batch, and a zkVM proof exposes the output's first 32 bytes as public values, so L1 checks
 * a proof of this run without hashing anything the proof commits to otherwise. */
#define DIGEST 32
/* The state diff travels to L1 in chunks of this many bytes (the last one shorter), each in
 * its own transaction; its hash is keccak256 over the chunks' keccak256 hashes, which L1
 * computes from the per-chunk hashes it keeps (docs/settlement.md, "Data availability"). */
#define DIFF_CHUNK 98304

static uint64_t pad8(uint64_t n) { return (n + 7) & ~7ULL; }

/* key, owner, lamports, rent_epoch, flags (1 executable, 2 data omitted), len, data (padded).
 * Data the witness elided (a program's ELF, which never changes here) is omitted. */
static bool omitted(const account_t *a) { return a->len && !a->data; }

static uint64_t record_size(const account_t *a) {
  return 32 + 32 + 8 * 4 + (omitted(a) ? 0 : pad8(a->len));
}

static uint8_t *account_record(uint8_t *p, const pk_t *key, const account_t *a) {
  copy(p, key, 32);
  copy(p + 32, &a->owner, 32);
  wr64(p + 64, a->lamports);
  wr64(p + 72, a->rent_epoch);
  wr64(p + 80, (uint64_t)a->executable | (omitted(a) ? 2 : 0));
  wr64(p + 88, a->len);
  if (a->len && !omitted(a)) copy(p + 96, a->data, a->len);
  return p + record_size(a);
}

void output_receipt(kernel_t *k, uint64_t status) {
  tx_t *t = k->tx;
  uint64_t size = 88 + pad8(t->return_len) + 8 + t->log_len;
  uint64_t n_changed = 0;
  if (status != RT_TX_REJECTED) {
    for (uint64_t i = 0; i < t->m.n_keys; i++) {
      if (t->accts[i].committed) {
        n_changed++;
        size += record_size(t->accts[i].stored);
      }
    }
  }
  uint8_t *r = tx_alloc(k, size);
  wr64(r, status);
  uint32_t error = status == RT_TX_OK ? 0xffffffffu : t->tx_error;
  uint32_t index = error == TE_INSTRUCTION_ERROR ? (uint32_t)t->err_ix : t->tx_error_index;
  wr64(r + 8, (uint64_t)error | ((uint64_t)index << 32));
  wr64(r + 16, (uint64_t)t->err.kind | ((uint64_t)t->err.custom << 32));
  wr64(r + 24, status == RT_TX_REJECTED ? 0 : t->fee);
  wr64(r + 32, status == RT_TX_REJECTED ? 0 : t->cu_limit - t->meter);
  copy(r + 40, &t->return_program, 32);
  wr64(r + 72, t->return_len);
  copy(r + 80, t->return_data, t->return_len);
  uint8_t *p = r + 80 + pad8(t->return_len);
  wr64(p, n_changed);
  p += 8;
  if (status != RT_TX_REJECTED) {
    for (uint64_t i = 0; i < t->m.n_keys; i++) {
      if (t->accts[i].committed) p = account_record(p, t->accts[i].key, t->accts[i].stored);
    }
  }
  /* the log events not yet handed over travel with the receipt */
  wr64(p, t->log_len);
  copy(p + 8, t->log_buf, t->log_len);
  t->log_len = 0;
  heliostat_receipt(r, size);
}

/* priority_hash = keccak256(priority_hash || record) */
void priority_hash_update(kernel_t *k, const uint8_t *record, uint64_t len) {
  SolBytes parts[2] = {{k->priority_hash, 32}, {record, len}};
  sol_keccak256(parts, 2, k->priority_hash);
  k->priority_count++;
}

/* keccak256(keccak256(chunk_0) || ... || keccak256(chunk_{n-1})) over DIFF_CHUNK-byte chunks. */
static void diff_hash(kernel_t *k, const uint8_t *diff, uint64_t len, uint8_t *hash) {
  uint64_t n = (len + DIFF_CHUNK - 1) / DIFF_CHUNK;
  uint8_t *hashes = pers_alloc(k, 32 * n);
  for (uint64_t i = 0; i < n; i++) {
    uint64_t size = len - i * DIFF_CHUNK < DIFF_CHUNK ? len - i * DIFF_CHUNK : DIFF_CHUNK;
    SolBytes part = {diff + i * DIFF_CHUNK, size};
    sol_keccak256(&part, 1, hashes + 32 * i);
  }
  SolBytes all = {hashes, 32 * n};
  sol_keccak256(&all, 1, hash);
}

/* keccak256(lamports per signature || rent per byte || the sysvar section), as the input
 * carries them: the parameters a proof must show, since L1 requires the production ones. */
static void params_hash(kernel_t *k, uint8_t *hash) {
  const uint8_t *sysvars = k->input + 160, *end = sysvars;
  if (k->n_sysvars) {
    sysvar_t *last = &k->sysvars[k->n_sysvars - 1];
    end = last->data + pad8(last->len);
  }
  SolBytes parts[2] = {{k->input + 56, 16}, {sysvars, (uint64_t)(end - sysvars)}};
  sol_keccak256(parts, 2, hash);
}

void output_publish(kernel_t *k) {
  uint64_t n_changed = 0, diff_size = 8;
  for (uint64_t i = 0; i < k->n_accounts; i++) {
    if (k->accounts[i].changed) {
      n_changed++;
      diff_size += 8 + record_size(&k->accounts[i]);
    }
  }
  uint64_t w_size = k->n_withdrawals * sizeof(withdrawal_t);
  uint64_t head_size = 8 + 8 + 32 + 32 + 32 + 8 + 8 + w_size + 8 + 32 + 32;
  uint8_t *digest = pers_alloc(k, DIGEST + head_size + diff_size);
  uint8_t *out = digest + DIGEST;
  uint8_t *diff = out + head_size;
  wr64(diff, n_changed);
  uint8_t *p = diff + 8;
  for (uint64_t i = 0; i < k->n_accounts; i++) {
    account_t *a = &k->accounts[i];
    if (!a->changed) continue;
    wr64(p, a->st ? a->st->index : ~0ULL); /* its leaf, so that L1 data rebuilds the tree */
    p = account_record(p + 8, &a->key, a);
  }
  wr64(out, OUT_MAGIC);
  wr64(out + 8, k->batch_number);
  copy(out + 16, k->old_root, 32);
  copy(out + 48, k->new_root, 32); /* zero without a state tree */
  copy(out + 80, k->priority_hash, 32);
  wr64(out + 112, k->priority_count);
  wr64(out + 120, k->n_withdrawals);
  copy(out + 128, k->withdrawals, w_size);
  /* the switches (signature checks, state tree) and parameters: private input made public */
  wr64(out + 128 + w_size, k->flags);
  params_hash(k, out + 136 + w_size);
  diff_hash(k, diff, diff_size, out + 168 + w_size);
  SolBytes head = {out, head_size};
  sol_keccak256(&head, 1, digest);
  heliostat_publish(digest, DIGEST + head_size + diff_size);
}
