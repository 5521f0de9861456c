/*
 * One transaction, in LiteSVM's order (litesvm lib.rs send_transaction, agave 4.1 pieces):
 * sanitize → signatures → recent blockhash → compute-budget limits → duplicate → fee, account
 * loading and fee-payer validation → program checks → (included from here) instructions →
 * rent-state check → commit, or roll back to the pre-state minus the fee.
 */
#include "rt.h"

#include "ed25519/ed25519.h"

typedef struct {
  bool has_limit, has_price, has_heap, has_size;
  uint32_t limit, heap, size;
  uint64_t price;
} budget_t;

static void reject(kernel_t *k, uint32_t tx_error, uint32_t index) {
  k->tx->tx_error = tx_error;
  k->tx->tx_error_index = index;
  output_receipt(k, RT_TX_REJECTED);
}

static bool is_builtin_for_budget(const pk_t *p) {
  return pk_eq(p, id_system()) || pk_eq(p, id_compute_budget()) || pk_eq(p, id_bpf_loader2()) ||
         pk_eq(p, id_bpf_upgradeable()) || pk_eq(p, id_bpf_deprecated()) ||
         pk_eq(p, id_loader_v4()) || pk_eq(p, id_bridge());
}

/* ComputeBudgetInstructionDetails: 0 or a TransactionError (index in *index). */
static uint32_t compute_budget_limits(tx_t *t, uint32_t *index) {
  budget_t b = {0};
  const message_t *m = &t->m;
  for (uint64_t i = 0; i < m->n_ix; i++) {
    const cix_t *ix = &m->ix[i];
    if (!pk_eq(&m->keys[ix->program], id_compute_budget())) continue;
    *index = (uint32_t)i;
    const uint8_t *d = ix->data;
    uint64_t n = ix->data_len;
    uint8_t tag = n ? d[0] : 0xff;
    bool *seen;
    if (tag == 1 && n >= 5) {
      seen = &b.has_heap;
      b.heap = rd32(d + 1);
    } else if (tag == 2 && n >= 5) {
      seen = &b.has_limit;
      b.limit = rd32(d + 1);
    } else if (tag == 3 && n >= 9) {
      seen = &b.has_price;
      b.price = rd64(d + 1);
    } else if (tag == 4 && n >= 5) {
      seen = &b.has_size;
      b.size = rd32(d + 1);
    } else {
      return TE_INSTRUCTION_ERROR; /* with InvalidInstructionData */
    }
    if (*seen) return TE_DUPLICATE_INSTRUCTION;
    *seen = true;
  }
  /* sanitize_and_convert_to_compute_budget_limits */
  t->heap = RT_MIN_HEAP;
  if (b.has_heap) {
    if (b.heap < RT_MIN_HEAP || b.heap > RT_MAX_HEAP || b.heap % 1024) {
      for (uint64_t i = 0; i < m->n_ix; i++) {
        const cix_t *ix = &m->ix[i];
        if (pk_eq(&m->keys[ix->program], id_compute_budget()) && ix->data[0] == 1) {
          *index = (uint32_t)i;
        }
      }
      return TE_INSTRUCTION_ERROR;
    }
    t->heap = b.heap;
  }
  uint64_t limit;
  if (b.has_limit) {
    limit = b.limit;
  } else {
    limit = 0;
    for (uint64_t i = 0; i < m->n_ix; i++) {
      bool builtin = is_builtin_for_budget(&m->keys[m->ix[i].program]);
      limit += builtin ? RT_BUILTIN_CU_ALLOCATION : RT_DEFAULT_CU_PER_INSTRUCTION;
    }
  }
  t->cu_limit = limit < RT_MAX_COMPUTE_UNIT_LIMIT ? limit : RT_MAX_COMPUTE_UNIT_LIMIT;
  t->price = b.price;
  if (b.has_size && b.size == 0) return TE_INVALID_LOADED_ACCOUNTS_DATA_SIZE_LIMIT;
  return 0;
}

/* ceil(price * limit / 1e6) without 128-bit arithmetic: limit < 2^21. */
static uint64_t prioritization_fee(uint64_t price, uint64_t limit) {
  uint64_t q = price / 1000000, r = price % 1000000;
  if (q >> 43) return ~0ULL; /* limit < 2^21: q * limit cannot overflow below this */
  uint64_t high = q * limit;
  uint64_t low = (r * limit + 999999) / 1000000;
  return high + low < high ? ~0ULL : high + low;
}

static bool blockhash_known(kernel_t *k, const uint8_t *hash) {
  for (uint64_t i = 0; i < k->n_blockhashes; i++) {
    if (pk_eq_bytes((const pk_t *)(k->blockhashes + 32 * i), hash)) return true;
  }
  return false;
}

/* The recent blockhash a forced transaction must carry: sha256("heliostat/forced-transaction")
 * (FORCED_BLOCKHASH in heliostat.runtime.interface). No block has this hash, so an L2
 * transaction can never be forced again through L1, nor a forced one sent as an L2
 * transaction; L1 queues each forced signature once (PriorityQueue.forceTransaction). */
static const uint8_t FORCED_BLOCKHASH[32] = {
    0x7e, 0x92, 0xae, 0x2a, 0x2a, 0xdb, 0x96, 0x42, 0xcf, 0xc2, 0x06, 0x21, 0xfd, 0x97, 0x00, 0xf1,
    0x36, 0x98, 0x85, 0xf3, 0x04, 0x6d, 0x5b, 0x27, 0x67, 0x53, 0xbd, 0xeb, 0x61, 0x54, 0x95, 0x28};

static const uint8_t **signature_slot(kernel_t *k, const uint8_t *sig) {
  uint64_t h = rd64(sig) & k->sig_mask;
  while (k->sig_table[h] && !bytes_eq(k->sig_table[h], sig, 64)) {
    h = (h + 1) & k->sig_mask;
  }
  return &k->sig_table[h];
}

/* 0: uninitialised, 1: rent-paying, 2: rent-exempt (agave RentState). */
static int rent_state(kernel_t *k, uint64_t lamports, uint64_t len) {
  if (lamports == 0) return 0;
  return lamports >= min_balance(k, len) ? 2 : 1;
}

static bool rent_transition_allowed(kernel_t *k, uint64_t pre_l, uint64_t pre_n, uint64_t post_l,
                                    uint64_t post_n) {
  int post = rent_state(k, post_l, post_n);
  if (post != 1) return true;
  return rent_state(k, pre_l, pre_n) == 1 && pre_n == post_n && post_l <= pre_l;
}

static bool is_instruction_account(const message_t *m, uint64_t i) {
  for (uint64_t j = 0; j < m->n_ix; j++) {
    for (uint64_t a = 0; a < m->ix[j].n_accounts; a++) {
      if (m->ix[j].accounts[a] == i) return true;
    }
  }
  return false;
}

static bool is_invoked(const message_t *m, uint64_t i) {
  for (uint64_t j = 0; j < m->n_ix; j++) {
    if (m->ix[j].program == i) return true;
  }
  return false;
}

/* Load every account; validate and charge the fee payer (validate_fee_payer). */
static uint32_t load_accounts(kernel_t *k, tx_t *t, uint32_t *index) {
  message_t *m = &t->m;
  t->accts = tx_alloc(k, m->n_keys * sizeof(txacct_t));
  bool payer_done = false;
  for (uint64_t i = 0; i < m->n_keys; i++) {
    txacct_t *a = &t->accts[i];
    a->key = &m->keys[i];
    /* the host's hint names the witness entry; a wrong hint only costs the search */
    uint32_t hint = i < k->n_hints ? rd32(k->hints + 4 * i) : 0xffffffffu;
    if (hint < k->n_accounts && pk_eq(&k->accounts[hint].key, a->key)) {
      a->stored = &k->accounts[hint];
    } else {
      a->stored = store_find(k, a->key->b);
    }
    if (!a->stored) rt_panic("transaction account missing from the witness");
    account_t *s = a->stored;
    a->lamports = s->lamports;
    a->owner = s->owner;
    a->rent_epoch = s->lamports ? s->rent_epoch : 0;
    a->executable = s->executable;
    a->len = s->len;
    a->data = s->data;
    a->signer = message_is_signer(m, i);
    a->writable = message_is_writable(m, i);
    if (!payer_done && (!is_invoked(m, i) || is_instruction_account(m, i))) {
      payer_done = true;
      *index = (uint32_t)i;
      if (a->lamports == 0) return TE_ACCOUNT_NOT_FOUND;
      if (!pk_eq(&a->owner, id_system()) || a->len) return TE_INVALID_ACCOUNT_FOR_FEE;
      if (a->lamports < t->fee) return TE_INSUFFICIENT_FUNDS_FOR_FEE;
      uint64_t pre = a->lamports;
      a->lamports -= t->fee;
      if (!rent_transition_allowed(k, pre, 0, a->lamports, 0)) {
        return TE_INSUFFICIENT_FUNDS_FOR_RENT;
      }
    }
  }
  if (!payer_done) return TE_ACCOUNT_NOT_FOUND;
  for (uint64_t i = 0; i < m->n_ix; i++) {
    txacct_t *p = &t->accts[m->ix[i].program];
    if (pk_eq(p->key, id_native_loader())) continue;
    if (!p->executable) return TE_INVALID_PROGRAM_FOR_EXECUTION;
    if (pk_eq(&p->owner, id_native_loader())) continue;
    if (!pk_eq(&p->owner, id_bpf_loader2()) && !pk_eq(&p->owner, id_bpf_upgradeable()) &&
        !pk_eq(&p->owner, id_bpf_deprecated()) && !pk_eq(&p->owner, id_loader_v4())) {
      return TE_INVALID_PROGRAM_FOR_EXECUTION;
    }
  }
  /* Account data is shared with the store until an instruction changes it (make_room in
   * instruction.c copies it first), so a failed transaction leaves no trace. */
  return 0;
}

static void commit(kernel_t *k, tx_t *t, bool success) {
  for (uint64_t i = 0; i < t->m.n_keys; i++) {
    txacct_t *a = &t->accts[i];
    if (!a->writable) continue;
    account_t *s = a->stored;
    if (!success) {
      if (a == &t->accts[t->err_payer]) {
        s->lamports -= t->fee;
        s->changed = 1;
        a->committed = 1;
      }
      continue;
    }
    bool same = a->lamports == s->lamports && a->len == s->len && pk_eq(&a->owner, &s->owner) &&
                a->executable == s->executable &&
                (a->data == s->data || bytes_eq(a->data, s->data, a->len));
    if (!same) {
      store_commit(k, s, a);
      a->committed = 1;
    }
  }
  if (success) {
    for (uint64_t i = 0; i < t->n_withdrawals && k->n_withdrawals < k->max_withdrawals; i++) {
      k->withdrawals[k->n_withdrawals++] = t->withdrawals[i];
    }
  }
}

void transaction_process(kernel_t *k, const uint8_t *bytes, uint64_t len, uint64_t l1_index) {
  tx_t *t = tx_alloc(k, sizeof(tx_t));
  k->tx = t;
  t->l1_index = l1_index;
  uint32_t error = message_parse(k, &t->m, bytes, len);
  if (error) return reject(k, error, 0);
  message_t *m = &t->m;
  if (k->flags & RT_FLAG_VERIFY_SIGNATURES) {
    for (uint64_t i = 0; i < m->n_sigs; i++) {
      if (ed25519_verify(m->sigs + 64 * i, m->keys[i].b, m->msg, m->msg_len) != ED25519_OK) {
        return reject(k, TE_SIGNATURE_FAILURE, 0);
      }
    }
  }
  bool forced = l1_index != ~0ULL; /* ordered by L1: no blockhash window, the forced hash */
  bool known = forced ? pk_eq_bytes((const pk_t *)FORCED_BLOCKHASH, m->blockhash)
                      : blockhash_known(k, m->blockhash);
  if (!known) return reject(k, TE_BLOCKHASH_NOT_FOUND, 0);
  uint32_t index = 0;
  error = compute_budget_limits(t, &index);
  if (error == TE_INSTRUCTION_ERROR) {
    t->err_ix = index;
    t->err.kind = IE_INVALID_INSTRUCTION_DATA;
  }
  if (error) return reject(k, error, index);
  const uint8_t **slot = signature_slot(k, m->sigs);
  if (*slot) return reject(k, TE_ALREADY_PROCESSED, 0);
  t->fee = k->lamports_per_signature * m->n_sigs;
  uint64_t priority = prioritization_fee(t->price, t->cu_limit);
  t->fee = t->fee + priority < t->fee ? ~0ULL : t->fee + priority;
  error = load_accounts(k, t, &index);
  t->err_payer = index;
  if (error) return reject(k, error, index);

  /* Included from here on. */
  *slot = m->sigs;
  t->meter = t->cu_limit;
  bool ok = true;
  for (uint64_t i = 0; i < m->n_ix; i++) {
    if (instruction_top_level(k, &m->ix[i])) {
      t->err_ix = i;
      t->tx_error = TE_INSTRUCTION_ERROR;
      ok = false;
      break;
    }
  }
  if (ok) {
    for (uint64_t i = 0; i < m->n_keys; i++) {
      txacct_t *a = &t->accts[i];
      account_t *s = a->stored;
      if (!a->writable || pk_eq(a->key, id_incinerator())) continue;
      if (!rent_transition_allowed(k, s->lamports, s->len, a->lamports, a->len)) {
        t->tx_error = TE_INSUFFICIENT_FUNDS_FOR_RENT;
        t->tx_error_index = (uint32_t)i;
        ok = false;
        break;
      }
    }
  }
  commit(k, t, ok);
  output_receipt(k, ok ? RT_TX_OK : RT_TX_FAILED);
}
