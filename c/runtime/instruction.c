/*
 * Invocations: the instruction stack (push with its reentrancy and depth rules, the lamport
 * balance check at pop), dispatch to builtins and BPF programs, the compute meter, and the
 * rules every change to an account obeys (agave's BorrowedAccount: set_lamports,
 * set_data_length, set_data_from_slice, set_owner), applied to an instruction's view.
 */
#include "rt.h"

int consume(kernel_t *k, uint64_t units) {
  tx_t *t = k->tx;
  if (t->meter < units) {
    t->meter = 0;
    return fail(k, IE_COMPUTATIONAL_BUDGET_EXCEEDED);
  }
  t->meter -= units;
  return 0;
}

txacct_t *frame_account(kernel_t *k, const frame_t *f, uint64_t position) {
  return &k->tx->accts[f->accts[position].tx_index];
}

static const pk_t *program_key(kernel_t *k, const frame_t *f) {
  return k->tx->accts[f->program].key;
}

bool frame_is_owner(kernel_t *k, const frame_t *f, const txacct_t *a) {
  return pk_eq(&a->owner, program_key(k, f));
}

/* ---- BorrowedAccount rules -------------------------------------------------------------- */

int acct_set_lamports(kernel_t *k, const frame_t *f, uint64_t pos, uint64_t lamports) {
  txacct_t *a = frame_account(k, f, pos);
  if (!frame_is_owner(k, f, a) && lamports < a->lamports) {
    return fail(k, IE_EXTERNAL_ACCOUNT_LAMPORT_SPEND);
  }
  if (!f->accts[pos].writable) return fail(k, IE_READONLY_LAMPORT_CHANGE);
  a->lamports = lamports;
  return 0;
}

static int can_data_be_changed(kernel_t *k, const frame_t *f, uint64_t pos) {
  if (!f->accts[pos].writable) return fail(k, IE_READONLY_DATA_MODIFIED);
  if (!frame_is_owner(k, f, frame_account(k, f, pos))) {
    return fail(k, IE_EXTERNAL_ACCOUNT_DATA_MODIFIED);
  }
  return 0;
}

int acct_can_resize(kernel_t *k, const frame_t *f, uint64_t pos, uint64_t len) {
  txacct_t *a = frame_account(k, f, pos);
  if (len != a->len && !frame_is_owner(k, f, a)) return fail(k, IE_ACCOUNT_DATA_SIZE_CHANGED);
  if (len > RT_MAX_PERMITTED_DATA_LENGTH) return fail(k, IE_INVALID_REALLOC);
  int64_t delta = (int64_t)len - (int64_t)a->len;
  if (k->tx->resize_delta + delta > RT_MAX_TX_DATA_GROWTH) {
    return fail(k, IE_MAX_ACCOUNTS_DATA_ALLOCATIONS_EXCEEDED);
  }
  return can_data_be_changed(k, f, pos);
}

/* Give the account a private, large-enough buffer (its committed bytes are shared). An
 * account whose bytes the witness elided (a program's ELF) cannot change them. */
static int make_room(kernel_t *k, txacct_t *a, uint64_t len) {
  if (a->copied && len <= a->cap) return 0;
  if (a->stored->elided && !a->copied) return fail(k, IE_INVALID_ACCOUNT_DATA);
  uint64_t cap = len > a->len ? len : a->len;
  uint8_t *data = tx_alloc(k, cap ? cap : 1);
  if (a->len) copy(data, a->data, a->len);
  a->data = data;
  a->cap = cap;
  a->copied = 1;
  return 0;
}

int acct_set_data_length(kernel_t *k, const frame_t *f, uint64_t pos, uint64_t len) {
  if (acct_can_resize(k, f, pos, len)) return 1;
  txacct_t *a = frame_account(k, f, pos);
  if (a->len == len) return 0;
  if (make_room(k, a, len)) return 1;
  if (len > a->len) zero(a->data + a->len, len - a->len);
  k->tx->resize_delta += (int64_t)len - (int64_t)a->len;
  a->len = len;
  return 0;
}

int acct_set_data(kernel_t *k, const frame_t *f, uint64_t pos, const uint8_t *data, uint64_t len) {
  if (acct_can_resize(k, f, pos, len)) return 1;
  txacct_t *a = frame_account(k, f, pos);
  if (make_room(k, a, len)) return 1;
  k->tx->resize_delta += (int64_t)len - (int64_t)a->len;
  if (len && a->data != data) copy(a->data, data, len);
  a->len = len;
  return 0;
}

/* set_data_from_slice, taking the bytes where they lie: `data` must stay untouched for the rest
 * of the transaction (a finished program's input, or a private copy). The caller may raise
 * `cap` to the room actually available after them. */
int acct_adopt_data(kernel_t *k, const frame_t *f, uint64_t pos, uint8_t *data, uint64_t len) {
  if (acct_can_resize(k, f, pos, len)) return 1;
  txacct_t *a = frame_account(k, f, pos);
  k->tx->resize_delta += (int64_t)len - (int64_t)a->len;
  a->data = data;
  a->len = len;
  a->cap = len;
  a->copied = 1;
  return 0;
}

int acct_set_owner(kernel_t *k, const frame_t *f, uint64_t pos, const pk_t *owner) {
  txacct_t *a = frame_account(k, f, pos);
  if (!frame_is_owner(k, f, a) || !f->accts[pos].writable || !is_zeroed(a->data, a->len)) {
    return fail(k, IE_MODIFIED_PROGRAM_ID);
  }
  a->owner = *owner;
  return 0;
}

/* ---- Invocation ------------------------------------------------------------------------- */

static uint64_t lamport_sum(kernel_t *k, const frame_t *f) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < f->n; i++) {
    if (f->accts[i].first == i) sum += frame_account(k, f, i)->lamports;
  }
  return sum;
}

static void log_failure(kernel_t *k, const pk_t *program) {
  rt_error_t *e = &k->tx->err;
  uint8_t payload[64];
  uint64_t len = 32;
  copy(payload, program, 32);
  if (e->key) {
    copy(payload + 32, e->key, 32);
    len = 64;
  }
  uint64_t number = e->kind == IE_CUSTOM && e->log == IE_CUSTOM ? e->custom : e->arg;
  log_event(RT_LOG_FAILED, payload, len, e->log, number);
}

/* push, run the program, pop: agave InvokeContext::process_instruction. */
int instruction_invoke(kernel_t *k, frame_t *f) {
  tx_t *t = k->tx;
  const pk_t *program = program_key(k, f);
  if (f->caller) {
    bool contains = false;
    for (frame_t *g = f->caller; g; g = g->caller) {
      if (pk_eq(program_key(k, g), program)) contains = true;
    }
    if (contains && !pk_eq(program_key(k, f->caller), program)) {
      return fail(k, IE_REENTRANCY_NOT_ALLOWED);
    }
  }
  if (f->height > RT_MAX_STACK_HEIGHT) return fail(k, IE_CALL_DEPTH);
  if (++t->trace_len > RT_MAX_TRACE_LENGTH) {
    return fail(k, IE_MAX_INSTRUCTION_TRACE_LENGTH_EXCEEDED);
  }
  txacct_t *prog = &t->accts[f->program];
  const pk_t *owner = &prog->owner;
  bool native = pk_eq(owner, id_native_loader());
  bool bpf = pk_eq(owner, id_bpf_loader2()) || pk_eq(owner, id_bpf_upgradeable());
  if (!native && !bpf) return fail(k, IE_UNSUPPORTED_PROGRAM_ID);
  if (native && !pk_eq(program, id_system()) && !pk_eq(program, id_compute_budget()) &&
      !pk_eq(program, id_bridge())) {
    return fail(k, IE_UNSUPPORTED_PROGRAM_ID);
  }

  t->return_program = *program;
  t->return_len = 0;
  frame_t *saved = t->top;
  t->top = f;
  log_event(RT_LOG_INVOKE, program, 32, f->height, 0);
  uint64_t before = lamport_sum(k, f);
  int r;
  if (bpf) {
    r = bpf_process(k, f); /* logs its own outcome */
  } else {
    r = consume(k, RT_BUILTIN_CU);
    if (!r) {
      if (pk_eq(program, id_system())) {
        r = system_process(k, f);
      } else if (pk_eq(program, id_compute_budget())) {
        r = compute_budget_process(k, f);
      } else {
        r = bridge_process(k, f);
      }
    }
    if (r) {
      log_failure(k, program);
    } else {
      log_event(RT_LOG_SUCCESS, program, 32, 0, 0);
    }
  }
  t->top = saved;
  if (!r && lamport_sum(k, f) != before) r = fail(k, IE_UNBALANCED_INSTRUCTION);
  return r;
}

/* A failed BPF invocation logs through this too (bpf.c). */
void instruction_log_failure(kernel_t *k, const pk_t *program) { log_failure(k, program); }

/* prepare_next_top_level_instruction: privileges come from the message. */
int instruction_top_level(kernel_t *k, const cix_t *ix) {
  tx_t *t = k->tx;
  frame_t *f = tx_alloc(k, sizeof(frame_t));
  f->height = 1;
  f->program = ix->program;
  f->n = ix->n_accounts;
  f->accts = tx_alloc(k, (f->n ? f->n : 1) * sizeof(iacct_t));
  for (uint64_t i = 0; i < f->n; i++) {
    uint8_t index = ix->accounts[i];
    iacct_t *a = &f->accts[i];
    a->tx_index = index;
    a->first = (uint16_t)i;
    for (uint64_t j = 0; j < i; j++) {
      if (f->accts[j].tx_index == index) {
        a->first = f->accts[j].first;
        break;
      }
    }
    a->signer = t->accts[index].signer;
    a->writable = t->accts[index].writable;
  }
  f->data = ix->data;
  f->data_len = ix->data_len;
  return instruction_invoke(k, f);
}
