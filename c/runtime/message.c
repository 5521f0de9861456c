/*
 * Solana's transaction wire format: compact-u16 lengths, legacy and v0 messages, and the
 * sanitisation agave applies before anything else (solana-message sanitize, agave
 * SanitizedTransaction::try_create, validate_account_locks). Address lookup tables are
 * refused (AddressLookupTableNotFound): the rollup keeps no tables yet.
 */
#include "rt.h"

typedef struct {
  const uint8_t *p, *end;
  bool bad;
} reader_t;

/* short_vec: 1..3 bytes of 7 bits, little end first; canonical (no trailing zero byte) and
 * at most u16::MAX. */
static uint64_t read_cu16(reader_t *r) {
  uint64_t value = 0;
  for (int i = 0; i < 3; i++) {
    if (r->p >= r->end) {
      r->bad = true;
      return 0;
    }
    uint8_t b = *r->p++;
    value |= (uint64_t)(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (i > 0 && b == 0) r->bad = true;     /* alias: a non-canonical encoding */
      if (i == 2 && b > 3) r->bad = true;     /* overflows u16 */
      return value;
    }
  }
  r->bad = true; /* a third byte with a continuation bit */
  return 0;
}

static const uint8_t *take(reader_t *r, uint64_t n) {
  if (r->bad || n > (uint64_t)(r->end - r->p)) {
    r->bad = true;
    return r->p;
  }
  const uint8_t *at = r->p;
  r->p += n;
  return at;
}

/* Parse and sanitise; 0 or a TransactionError index. */
uint32_t message_parse(kernel_t *k, message_t *m, const uint8_t *tx, uint64_t len) {
  reader_t r = {tx, tx + len, false};
  m->tx = tx;
  m->tx_len = len;
  m->n_sigs = read_cu16(&r);
  m->sigs = take(&r, 64 * m->n_sigs);
  m->msg = r.p;
  if (r.bad || r.p >= r.end) return TE_SANITIZE_FAILURE;
  m->versioned = 0;
  if (*r.p & 0x80) {
    if ((*r.p & 0x7f) != 0) return TE_SANITIZE_FAILURE; /* only v0 exists */
    m->versioned = 1;
    r.p++;
  }
  const uint8_t *header = take(&r, 3);
  m->n_req_sigs = header[0];
  m->n_ro_signed = header[1];
  m->n_ro_unsigned = header[2];
  m->n_keys = read_cu16(&r);
  m->keys = (const pk_t *)take(&r, 32 * m->n_keys);
  m->blockhash = take(&r, 32);
  m->n_ix = read_cu16(&r);
  if (r.bad) return TE_SANITIZE_FAILURE;
  m->ix = tx_alloc(k, m->n_ix * sizeof(cix_t));
  for (uint64_t i = 0; i < m->n_ix; i++) {
    cix_t *ix = &m->ix[i];
    ix->program = *take(&r, 1);
    ix->n_accounts = read_cu16(&r);
    ix->accounts = take(&r, ix->n_accounts);
    ix->data_len = read_cu16(&r);
    ix->data = take(&r, ix->data_len);
    if (r.bad) return TE_SANITIZE_FAILURE;
  }
  uint64_t n_lookups = 0;
  if (m->versioned) {
    n_lookups = read_cu16(&r);
    for (uint64_t i = 0; i < n_lookups && !r.bad; i++) {
      take(&r, 32);
      take(&r, read_cu16(&r));
      take(&r, read_cu16(&r));
    }
  }
  if (r.bad) return TE_SANITIZE_FAILURE;
  m->msg_len = (uint64_t)(r.p - m->msg); /* trailing bytes are tolerated, as bincode does */

  /* Message::sanitize and VersionedTransaction::sanitize */
  if (m->n_req_sigs > m->n_sigs || m->n_sigs > m->n_req_sigs) return TE_SANITIZE_FAILURE;
  if (m->n_sigs > m->n_keys) return TE_SANITIZE_FAILURE;
  if ((uint64_t)m->n_req_sigs + m->n_ro_unsigned > m->n_keys) return TE_SANITIZE_FAILURE;
  if (m->n_ro_signed >= m->n_req_sigs) return TE_SANITIZE_FAILURE;
  if (m->n_keys > RT_MAX_TX_ACCOUNTS) return TE_SANITIZE_FAILURE;
  for (uint64_t i = 0; i < m->n_ix; i++) {
    const cix_t *ix = &m->ix[i];
    if (ix->program == 0 || ix->program >= m->n_keys) return TE_SANITIZE_FAILURE;
    for (uint64_t j = 0; j < ix->n_accounts; j++) {
      if (ix->accounts[j] >= m->n_keys) return TE_SANITIZE_FAILURE;
    }
  }
  if (n_lookups) return TE_ADDRESS_LOOKUP_TABLE_NOT_FOUND;
  for (uint64_t i = 1; i < m->n_keys; i++) {
    for (uint64_t j = 0; j < i; j++) {
      if (pk_eq(&m->keys[i], &m->keys[j])) return TE_ACCOUNT_LOADED_TWICE;
    }
  }
  if (m->n_keys > RT_MAX_TX_ACCOUNT_LOCKS) return TE_TOO_MANY_ACCOUNT_LOCKS;
  return 0;
}

bool message_is_signer(const message_t *m, uint64_t i) { return i < m->n_req_sigs; }

static bool is_invoked(const message_t *m, uint64_t i) {
  for (uint64_t j = 0; j < m->n_ix; j++) {
    if (m->ix[j].program == i) return true;
  }
  return false;
}

/* SanitizedMessage::is_writable: the header's writable ranges, minus reserved accounts, minus
 * invoked programs unless the upgradeable loader is present (demote_program_write_locks). */
bool message_is_writable(const message_t *m, uint64_t i) {
  bool writable = i < m->n_req_sigs ? i < (uint64_t)(m->n_req_sigs - m->n_ro_signed)
                                    : i < m->n_keys - m->n_ro_unsigned;
  if (!writable || is_reserved_key(&m->keys[i])) return false;
  if (is_invoked(m, i)) {
    for (uint64_t j = 0; j < m->n_keys; j++) {
      if (pk_eq(&m->keys[j], id_bpf_upgradeable())) return true;
    }
    return false;
  }
  return true;
}
