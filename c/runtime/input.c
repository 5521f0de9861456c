/*
 * The batch input (docs/runtime.md, "Batch input"): header, sysvars and the account witness
 * are decoded here; priority operations and blocks are walked by main.c. The account store
 * is the witness, sorted by key, updated in place as transactions commit.
 */
#include "rt.h"

#define HDR_MAGIC 0x3154414254534c48ULL /* "HLSTBAT1" */
#define ACCOUNT_EXECUTABLE 1
#define ACCOUNT_ELIDED 2
#define ACCOUNT_IMAGE 4

static uint64_t pad8(uint64_t n) { return (n + 7) & ~7ULL; }

/* The plain witness, sorted by key (the host sorts; a disorder would break lookups). */
static void parse_witness(kernel_t *k, const uint8_t *p) {
  k->accounts = pers_alloc(k, k->n_accounts * sizeof(account_t));
  for (uint64_t i = 0; i < k->n_accounts; i++) {
    account_t *a = &k->accounts[i];
    copy(&a->key, p, 32);
    copy(&a->owner, p + 32, 32);
    a->lamports = rd64(p + 64);
    a->rent_epoch = rd64(p + 72);
    a->len = rd64(p + 80);
    uint64_t flags = rd64(p + 88);
    p += 96;
    a->executable = (flags & ACCOUNT_EXECUTABLE) != 0;
    if (flags & ACCOUNT_IMAGE) {
      a->image = p;
      p += 32;
    }
    if (flags & ACCOUNT_ELIDED) {
      a->elided = 1;
    } else {
      a->data = (uint8_t *)p; /* read-only input: copied before the first write */
      p += pad8(a->len);
    }
    if (i > 0 && pk_cmp(k->accounts[i - 1].key.b, a->key.b) >= 0) {
      rt_panic("witness accounts are not sorted by key");
    }
  }

}

/* The state-tree witness: every record becomes an account (absent keys: the default account);
 * an elided account's image id is its data hash, which st_commit verifies with the rest. */
static void open_state_witness(kernel_t *k, const uint8_t *w, uint64_t len) {
  if (len < 16) rt_panic("state witness truncated");
  uint64_t size = st_memory_size(rd32(w + 8));
  void *mem = pers_alloc(k, size);
  if (st_open(&k->st, w, len, mem, size) != ST_OK) rt_panic("state witness malformed");
  k->n_accounts = k->st.n_accounts;
  k->accounts = pers_alloc(k, k->n_accounts * sizeof(account_t));
  zero(k->accounts, k->n_accounts * sizeof(account_t));
  for (uint64_t i = 0; i < k->n_accounts; i++) {
    account_t *a = &k->accounts[i];
    st_account *s = &k->st.accounts[i];
    copy(&a->key, s->key, 32);
    copy(&a->owner, s->old.owner, 32);
    a->lamports = s->old.lamports;
    a->rent_epoch = s->old.rent_epoch;
    a->len = s->old.data_len;
    a->data = (uint8_t *)s->old.data;
    a->executable = s->old.executable;
    a->elided = s->elided;
    a->st = s;
    if (s->elided) a->image = (const uint8_t *)&s->data_hash;
  }
}

/* Decode the header, sysvars and witness. */
void input_parse(kernel_t *k, const uint8_t *in) {
  if (rd64(in) != HDR_MAGIC) rt_panic("bad batch input magic");
  k->input = in;
  k->heap_size = rd64(in + 8);
  k->batch_number = rd64(in + 16);
  k->old_root = in + 24;
  k->lamports_per_signature = rd64(in + 56);
  k->rent_per_byte = rd64(in + 64);
  k->flags = rd64(in + 72);
  k->n_sysvars = rd64(in + 80);
  k->n_priority = rd64(in + 88);
  k->n_blocks = rd64(in + 96);
  k->n_accounts = rd64(in + 104);
  uint64_t n_transactions = rd64(in + 112);
  uint64_t sections = rd64(in + 120); /* offset of the witness */
  uint64_t n_processed = rd64(in + 128);
  uint64_t witness_len = rd64(in + 144);

  /* Heap: the kernel struct and the persistent arena (the first `persistent` bytes), then
   * the transaction arena, which the runtime leaves zeroed after every transaction. */
  uint8_t *heap = (uint8_t *)RT_HEAP_ADDR;
  uint64_t persistent = rd64(in + 136);
  if (persistent >= k->heap_size) rt_panic("persistent arena larger than the heap");
  k->pers = heap + ((sizeof(kernel_t) + 4095) & ~4095ULL);
  k->pers_end = heap + persistent;
  k->txa_base = k->txa = k->txa_high = k->pers_end;
  k->txa_end = heap + k->heap_size;

  const uint8_t *p = in + 160;
  k->sysvars = pers_alloc(k, k->n_sysvars * sizeof(sysvar_t));
  for (uint64_t i = 0; i < k->n_sysvars; i++) {
    k->sysvars[i].id = p;
    k->sysvars[i].len = rd64(p + 32);
    k->sysvars[i].data = p + 40;
    p += 40 + pad8(k->sysvars[i].len);
  }
  const uint8_t *processed = p; /* signatures already processed (AlreadyProcessed) */
  p += 64 * n_processed;
  k->ops = p; /* priority operations, then blocks: walked by main.c */

  if (k->flags & RT_FLAG_STATE_TREE) {
    open_state_witness(k, in + sections, witness_len);
  } else {
    parse_witness(k, in + sections);
  }

  /* Withdrawals and the signature table live for the whole batch. */
  k->max_withdrawals = n_transactions + 1;
  k->withdrawals = pers_alloc(k, k->max_withdrawals * sizeof(withdrawal_t));
  uint64_t slots = 16;
  while (slots < 2 * (n_transactions + n_processed)) slots <<= 1;
  k->sig_table = pers_alloc(k, slots * sizeof(uint8_t *));
  zero(k->sig_table, slots * sizeof(uint8_t *));
  k->sig_mask = slots - 1;
  for (uint64_t i = 0; i < n_processed; i++) {
    const uint8_t *sig = processed + 64 * i;
    uint64_t h = rd64(sig) & k->sig_mask;
    while (k->sig_table[h]) h = (h + 1) & k->sig_mask;
    k->sig_table[h] = sig;
  }
}

account_t *store_find(kernel_t *k, const uint8_t *key) {
  uint64_t lo = 0, hi = k->n_accounts;
  while (lo < hi) {
    uint64_t mid = (lo + hi) / 2;
    int c = pk_cmp(k->accounts[mid].key.b, key);
    if (c == 0) return &k->accounts[mid];
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return NULL;
}

/* Make a transaction account's state the committed state of its store entry. */
void store_commit(kernel_t *k, account_t *a, const txacct_t *t) {
  a->lamports = t->lamports;
  a->owner = t->owner;
  a->executable = t->executable;
  a->rent_epoch = t->rent_epoch;
  if (t->data != a->data || t->len != a->len) {
    if (t->len > a->cap) {
      a->cap = t->len;
      a->data = t->len ? pers_alloc(k, t->len) : NULL;
    }
    if (t->len) copy(a->data, t->data, t->len);
    a->len = t->len;
  }
  a->changed = 1;
}

/* State-tree mode: hand every account's final value to the tree, check the old root, compute
 * the new one. A witness that does not match the old root stops the batch: nothing is
 * published. */
void state_commit(kernel_t *k) {
  if (!(k->flags & RT_FLAG_STATE_TREE)) return;
  for (uint64_t i = 0; i < k->n_accounts; i++) {
    account_t *a = &k->accounts[i];
    st_value *v = &a->st->new;
    v->lamports = a->lamports;
    v->rent_epoch = a->rent_epoch;
    v->data_len = a->len;
    v->data = a->elided ? NULL : a->data;
    copy(v->owner, &a->owner, 32);
    v->executable = a->executable;
  }
  if (st_commit(&k->st, (const st_digest *)k->old_root, (st_digest *)k->new_root) != ST_OK) {
    rt_panic("state witness does not match the old root");
  }
}
