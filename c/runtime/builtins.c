/*
 * The small builtins: the Compute Budget program (its instructions were already applied to the
 * transaction's limits; executing one only costs its 150 units) and the bridge program, whose
 * Withdraw moves lamports into the bridge vault through the System Program (a native CPI, as an
 * agave builtin would) and records a withdrawal to an Ethereum address for the batch output.
 */
#include "rt.h"

int compute_budget_process(kernel_t *k, frame_t *f) {
  (void)k;
  (void)f;
  return 0;
}

#define BRIDGE_WITHDRAW 0

int bridge_process(kernel_t *k, frame_t *f) {
  if (f->data_len < 32 || rd32(f->data) != BRIDGE_WITHDRAW) {
    return fail(k, IE_INVALID_INSTRUCTION_DATA);
  }
  uint64_t lamports = rd64(f->data + 4);
  const uint8_t *recipient = f->data + 12;
  if (f->n < 3) return fail(k, IE_MISSING_ACCOUNT);
  txacct_t *from = frame_account(k, f, 0);
  const pk_t *vault = frame_account(k, f, 1)->key;
  if (!f->accts[0].signer) return fail(k, IE_MISSING_REQUIRED_SIGNATURE);
  if (!pk_eq(vault, id_bridge_vault())) return fail(k, IE_INVALID_ARGUMENT);
  if (lamports == 0) return fail(k, IE_INVALID_ARGUMENT);

  /* System transfer from -> vault, invoked by the bridge. */
  uint8_t data[12];
  data[0] = 2;
  data[1] = data[2] = data[3] = 0;
  wr64(data + 4, lamports);
  cpi_meta_t metas[2] = {{from->key, 1, 1, {0}}, {vault, 0, 1, {0}}};
  cpi_request_t req = {id_system(), metas, 2, NULL, 0, data, 12};
  frame_t *callee;
  if (cpi_prepare(k, f, &req, &callee)) return 1;
  if (instruction_invoke(k, callee)) {
    k->tx->err.log = k->tx->err.kind; /* the caller fails with the callee's error */
    k->tx->err.key = NULL;
    return 1;
  }

  tx_t *t = k->tx;
  if (t->n_withdrawals == 0) t->withdrawals = tx_alloc(k, 8 * sizeof(withdrawal_t));
  if (t->n_withdrawals == 8) return fail(k, IE_INVALID_ARGUMENT); /* at most 8 per transaction */
  withdrawal_t *w = &t->withdrawals[t->n_withdrawals++];
  w->sender = *from->key;
  copy(w->recipient, recipient, 20);
  w->lamports = lamports;
  return 0;
}
