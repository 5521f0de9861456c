/*
 * Cross-program invocation (agave program-runtime cpi.rs, invoke_context.rs), for the C and
 * Rust ABIs without stricter_abi_and_runtime_constraints (mainnet today): translate the
 * instruction, derive PDA signers, prepare the callee with the privilege rules, sync the
 * caller's account changes into the transaction, run the callee, and copy the callee's changes
 * back into the caller's memory. Every read and write of the caller goes through the kernel's
 * copy services, so each is checked with the caller's region rules.
 */
#include "rt.h"

/* SIMD-0339 (increase_cpi_account_info_limit): metas and account infos cost bytes / 250. */
#define RT_SIMD_0339 1
#define ACCOUNT_INFO_BYTE_SIZE 80
#define C_INFO_SIZE 56
#define RUST_INFO_SIZE 48

static int violation(kernel_t *k) {
  return fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_LAST_VIOLATION, 0, NULL);
}

/* A failed callee fails its caller with the same InstructionError, printed plainly. */
static int propagate(kernel_t *k) {
  rt_error_t *e = &k->tx->err;
  e->log = e->kind;
  e->arg = 0;
  e->key = NULL;
  return 1;
}

static int unaligned(kernel_t *k) {
  return fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_UNALIGNED, 0, NULL);
}

/* translate_type / translate_slice: mapped (read), then aligned; empty slices map nothing. */
static int read_typed(kernel_t *k, void *dst, uint64_t addr, uint64_t len, uint64_t align) {
  if (!len) return 0;
  if (heliostat_caller_read(dst, addr, len) != HS_ACCESS_OK) return violation(k);
  return addr % align ? unaligned(k) : 0;
}

/* translate_type_mut: mapped for a store (a read and a write of the same bytes), aligned. */
static int check_mut(kernel_t *k, uint64_t addr, uint64_t len, uint64_t align) {
  if (!len) return 0;
  uint8_t *tmp = tx_alloc(k, len);
  if (heliostat_caller_read(tmp, addr, len) != HS_ACCESS_OK ||
      heliostat_caller_write(addr, tmp, len) != HS_ACCESS_OK) {
    return violation(k);
  }
  return addr % align ? unaligned(k) : 0;
}

static int write_caller(kernel_t *k, uint64_t addr, const void *src, uint64_t len) {
  if (!len) return 0;
  return heliostat_caller_write(addr, src, len) == HS_ACCESS_OK ? 0 : violation(k);
}

static uint64_t caller_position(const frame_t *f, uint16_t tx_index, bool *found) {
  for (uint64_t i = 0; i < f->n; i++) {
    if (f->accts[i].tx_index == tx_index) {
      *found = true;
      return f->accts[i].first;
    }
  }
  *found = false;
  return 0;
}

static bool tx_index_of(kernel_t *k, const pk_t *key, uint16_t *index) {
  tx_t *t = k->tx;
  for (uint64_t i = 0; i < t->m.n_keys; i++) {
    if (pk_eq(t->accts[i].key, key)) {
      *index = (uint16_t)i;
      return true;
    }
  }
  return false;
}

int cpi_prepare(kernel_t *k, frame_t *caller, const cpi_request_t *req, frame_t **out) {
  const pk_t *program = req->program, *signers = req->signers;
  const cpi_meta_t *metas = req->metas;
  uint64_t n = req->n, n_signers = req->n_signers, len = req->len;
  const uint8_t *data = req->data;
  frame_t *f = tx_alloc(k, sizeof(frame_t));
  f->caller = caller;
  f->height = caller->height + 1;
  f->n = n;
  f->accts = tx_alloc(k, (n ? n : 1) * sizeof(iacct_t));
  for (uint64_t i = 0; i < n; i++) {
    uint16_t index;
    if (!tx_index_of(k, metas[i].key, &index)) {
      log_message_keys(k, RT_MSG_UNKNOWN_ACCOUNT, metas[i].key, NULL);
      return fail(k, IE_MISSING_ACCOUNT);
    }
    iacct_t *a = &f->accts[i];
    a->tx_index = index;
    a->first = (uint16_t)i;
    a->signer = metas[i].signer;
    a->writable = metas[i].writable;
    for (uint64_t j = 0; j < i; j++) {
      if (f->accts[j].tx_index == index) {
        iacct_t *first = &f->accts[f->accts[j].first];
        first->signer |= a->signer;
        first->writable |= a->writable;
        a->first = first->first;
        break;
      }
    }
  }
  for (uint64_t i = 0; i < n; i++) {
    iacct_t *a = &f->accts[i];
    if (a->first != i) {
      a->signer = f->accts[a->first].signer;
      a->writable = f->accts[a->first].writable;
      continue;
    }
    bool found;
    uint64_t pos = caller_position(caller, a->tx_index, &found);
    if (!found) return fail(k, IE_MISSING_ACCOUNT);
    const iacct_t *c = &caller->accts[pos];
    const pk_t *key = metas[i].key;
    if (a->writable && !c->writable) {
      log_message_keys(k, RT_MSG_WRITABLE_ESCALATED, key, NULL);
      return fail(k, IE_PRIVILEGE_ESCALATION);
    }
    if (a->signer && !c->signer) {
      bool pda = false;
      for (uint64_t s = 0; s < n_signers; s++) pda |= pk_eq(&signers[s], key);
      if (!pda) {
        log_message_keys(k, RT_MSG_SIGNER_ESCALATED, key, NULL);
        return fail(k, IE_PRIVILEGE_ESCALATION);
      }
    }
  }
  uint16_t program_index;
  bool in_caller = false;
  if (tx_index_of(k, program, &program_index)) caller_position(caller, program_index, &in_caller);
  if (!in_caller) {
    log_message_keys(k, RT_MSG_UNKNOWN_PROGRAM, program, NULL);
    return fail(k, IE_MISSING_ACCOUNT);
  }
  f->program = program_index;
  uint8_t *copy_of = tx_alloc(k, len ? len : 1);
  copy(copy_of, data, len);
  f->data = copy_of;
  f->data_len = len;
  *out = f;
  return 0;
}

/* ---- translating the caller's structures ------------------------------------------------ */

typedef struct {
  pk_t program;
  cpi_meta_t *metas;
  uint64_t n;
  uint8_t *data;
  uint64_t len;
} instruction_t;

static int per_bytes(kernel_t *k, uint64_t bytes) { return consume(k, bytes / RT_CPI_BYTES_PER_UNIT); }

static int check_size(kernel_t *k, uint64_t n, uint64_t len) {
  if (n > RT_MAX_INSTRUCTION_ACCOUNTS) {
    return fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_TOO_MANY_ACCOUNTS, n, NULL);
  }
  if (len > RT_MAX_INSTRUCTION_DATA) {
    return fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_DATA_TOO_LARGE, len, NULL);
  }
  return 0;
}

static int translate_instruction(kernel_t *k, uint64_t addr, bool rust, instruction_t *ix) {
  uint8_t raw[80];
  uint64_t metas_addr, data_addr, n, len;
  if (rust) {
    if (read_typed(k, raw, addr, 80, 8)) return 1;
    metas_addr = rd64(raw);
    n = rd64(raw + 16);
    data_addr = rd64(raw + 24);
    len = rd64(raw + 40);
    copy(&ix->program, raw + 48, 32);
  } else {
    if (read_typed(k, raw, addr, 40, 8)) return 1;
    if (read_typed(k, &ix->program, rd64(raw), 32, 1)) return 1;
    metas_addr = rd64(raw + 8);
    n = rd64(raw + 16);
    data_addr = rd64(raw + 24);
    len = rd64(raw + 32);
  }
  uint64_t meta_size = rust ? 34 : 16;
  if (n > RT_MAX_INSTRUCTION_ACCOUNTS || len > RT_MAX_INSTRUCTION_DATA) return check_size(k, n, len);
  uint8_t *metas = tx_alloc(k, n * meta_size + 1);
  if (read_typed(k, metas, metas_addr, n * meta_size, rust ? 1 : 8)) return 1;
  ix->data = tx_alloc(k, len + 1);
  if (read_typed(k, ix->data, data_addr, len, 1)) return 1;
  ix->len = len;
  if (RT_SIMD_0339 && per_bytes(k, n * 34)) return 1;
  if (per_bytes(k, len)) return 1;
  ix->n = n;
  ix->metas = tx_alloc(k, (n ? n : 1) * sizeof(cpi_meta_t));
  for (uint64_t i = 0; i < n; i++) {
    const uint8_t *m = metas + i * meta_size;
    uint8_t signer = rust ? m[32] : m[9], writable = rust ? m[33] : m[8];
    if (signer > 1 || writable > 1) return fail(k, IE_INVALID_ARGUMENT);
    pk_t *key = tx_alloc(k, sizeof(pk_t));
    if (rust) {
      copy(key, m, 32);
    } else if (read_typed(k, key, rd64(m), 32, 1)) {
      return 1;
    }
    ix->metas[i].key = key;
    ix->metas[i].signer = signer;
    ix->metas[i].writable = writable;
  }
  return 0;
}

/* Signer seeds: [[seed]] as (ptr, len) pairs in both ABIs. */
static int translate_signers(kernel_t *k, const pk_t *program, uint64_t addr, uint64_t n,
                             pk_t **signers) {
  if (!n) return 0;
  uint8_t *outer = tx_alloc(k, n * 16);
  if (read_typed(k, outer, addr, n * 16, 8)) return 1;
  if (n > RT_MAX_SIGNERS) {
    return fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_TOO_MANY_SIGNERS, 0, NULL);
  }
  *signers = tx_alloc(k, n * sizeof(pk_t));
  for (uint64_t s = 0; s < n; s++) {
    uint64_t seeds_addr = rd64(outer + 16 * s), n_seeds = rd64(outer + 16 * s + 8);
    uint8_t *inner = tx_alloc(k, n_seeds * 16 + 1);
    if (read_typed(k, inner, seeds_addr, n_seeds * 16, 8)) return 1;
    if (n_seeds > RT_MAX_SEEDS) return fail(k, IE_MAX_SEED_LENGTH_EXCEEDED);
    SolBytes *seeds = tx_alloc(k, (n_seeds + 1) * sizeof(SolBytes));
    for (uint64_t i = 0; i < n_seeds; i++) {
      uint64_t len = rd64(inner + 16 * i + 8);
      uint8_t *bytes = tx_alloc(k, len + 1);
      if (read_typed(k, bytes, rd64(inner + 16 * i), len, 1)) return 1;
      seeds[i].addr = bytes;
      seeds[i].len = len;
    }
    for (uint64_t i = 0; i < n_seeds; i++) {
      if (seeds[i].len > RT_MAX_SEED_LEN) {
        return fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_SEED_TOO_LONG, 0, NULL);
      }
    }
    if (sol_create_program_address(seeds, n_seeds, (const SolPubkey *)program,
                                   (SolPubkey *)&(*signers)[s]) != 0) {
      return fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_INVALID_SEEDS, 0, NULL);
    }
  }
  return 0;
}

static int check_authorized(kernel_t *k, const pk_t *program) {
  if (pk_eq(program, id_native_loader()) || pk_eq(program, id_bpf_loader2()) ||
      pk_eq(program, id_bpf_deprecated()) || pk_eq(program, id_bpf_upgradeable())) {
    return fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_PROGRAM_NOT_SUPPORTED, 0, program);
  }
  return 0;
}

/* One callee account as the caller holds it (CallerAccount). */
typedef struct {
  uint64_t position;      /* in the caller's instruction */
  uint64_t lamports_addr, owner_addr, data_addr, data_len, len_addr;
  bool update_caller;
  bool skip;              /* executable: nothing to sync */
} caller_account_t;

static int caller_account(kernel_t *k, uint64_t info_addr, const uint8_t *info, bool rust,
                          caller_account_t *c) {
  uint8_t word[16];
  if (rust) {
    uint64_t rc_lamports = rd64(info + 8), rc_data = rd64(info + 16);
    if (read_typed(k, word, rc_lamports + 24, 8, 8)) return 1;
    c->lamports_addr = rd64(word);
    if (check_mut(k, c->lamports_addr, 8, 8)) return 1;
    c->owner_addr = rd64(info + 24);
    if (check_mut(k, c->owner_addr, 32, 1)) return 1;
    if (read_typed(k, word, rc_data + 24, 16, 8)) return 1;
    c->data_addr = rd64(word);
    c->data_len = rd64(word + 8);
    if (per_bytes(k, c->data_len)) return 1;
    c->len_addr = rc_data + 32;
  } else {
    c->lamports_addr = rd64(info + 8);
    if (check_mut(k, c->lamports_addr, 8, 8)) return 1;
    c->owner_addr = rd64(info + 32);
    if (check_mut(k, c->owner_addr, 32, 1)) return 1;
    c->data_len = rd64(info + 16);
    if (per_bytes(k, c->data_len)) return 1;
    c->data_addr = rd64(info + 24);
    c->len_addr = info_addr + 16;
  }
  if (check_mut(k, c->data_addr, c->data_len, 1)) return 1;
  return check_mut(k, c->len_addr, 8, 1);
}

/* update_callee_account: the caller's view of the account becomes the transaction's. */
static int update_callee(kernel_t *k, frame_t *caller, const caller_account_t *c) {
  uint64_t pos = c->position;
  txacct_t *a = frame_account(k, caller, pos);
  if (a->stored->elided && !a->copied) return fail(k, IE_INVALID_ACCOUNT_DATA);
  uint8_t lamports[8];
  if (read_typed(k, lamports, c->lamports_addr, 8, 1)) return 1;
  if (rd64(lamports) != a->lamports && acct_set_lamports(k, caller, pos, rd64(lamports))) return 1;
  uint8_t *data = tx_alloc(k, c->data_len + 1);
  if (read_typed(k, data, c->data_addr, c->data_len, 1)) return 1;
  rt_error_t saved = k->tx->err;
  if (acct_can_resize(k, caller, pos, c->data_len) == 0) {
    if (acct_set_data(k, caller, pos, data, c->data_len)) return 1;
  } else if (c->data_len != a->len || !bytes_eq(a->data, data, a->len)) {
    return 1;
  } else {
    k->tx->err = saved;
  }
  pk_t owner;
  if (read_typed(k, &owner, c->owner_addr, 32, 1)) return 1;
  if (!pk_eq(&owner, &a->owner) && acct_set_owner(k, caller, pos, &owner)) return 1;
  return 0;
}

/* update_caller_account: the callee's changes become visible in the caller's memory. */
static int update_caller(kernel_t *k, frame_t *caller, const caller_account_t *c) {
  txacct_t *a = frame_account(k, caller, c->position);
  uint8_t word[8];
  wr64(word, a->lamports);
  if (write_caller(k, c->lamports_addr, word, 8)) return 1;
  if (write_caller(k, c->owner_addr, &a->owner, 32)) return 1;
  if (read_typed(k, word, c->len_addr, 8, 1)) return 1;
  uint64_t prev = rd64(word), post = a->len;
  uint64_t original = caller->orig_len[c->position];
  if (post > original + RT_MAX_PERMITTED_DATA_INCREASE && prev != post) {
    uint64_t limit = RT_MAX_PERMITTED_DATA_INCREASE;
    log_message(k, RT_MSG_REALLOC_LIMITED, &limit, 8);
    return fail(k, IE_INVALID_REALLOC);
  }
  if (prev != post) {
    if (post < prev) {
      uint8_t *zeros = tx_alloc(k, prev - post);
      if (write_caller(k, c->data_addr + post, zeros, prev - post)) return 1;
    }
    if (check_mut(k, c->data_addr, post, 1)) return 1;
    wr64(word, post);
    if (write_caller(k, c->len_addr, word, 8)) return 1;
    if ((c->data_addr - 8) % 8) return unaligned(k);
    if (write_caller(k, c->data_addr - 8, word, 8)) return 1;
  }
  return write_caller(k, c->data_addr, a->data, post);
}

int cpi_invoke(kernel_t *k, frame_t *f, bool rust) {
  const uint64_t *args = f->act.args;
  if (consume(k, RT_INVOKE_UNITS)) return 1;
  instruction_t ix;
  if (translate_instruction(k, args[0], rust, &ix)) return 1;
  pk_t *signers = NULL;
  const pk_t *caller_program = k->tx->accts[f->program].key;
  if (translate_signers(k, caller_program, args[3], args[4], &signers)) return 1;
  if (check_authorized(k, &ix.program)) return 1;
  frame_t *callee;
  cpi_request_t req = {&ix.program, ix.metas, ix.n, signers, args[4], ix.data, ix.len};
  if (cpi_prepare(k, f, &req, &callee)) return 1;

  /* translate_account_infos */
  uint64_t infos_addr = args[1], n_infos = args[2];
  uint64_t info_size = rust ? RUST_INFO_SIZE : C_INFO_SIZE;
  uint8_t *infos = tx_alloc(k, n_infos * info_size + 1);
  if (read_typed(k, infos, infos_addr, n_infos * info_size, 8)) return 1;
  if (n_infos > RT_MAX_CPI_ACCOUNT_INFOS) {
    return fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_TOO_MANY_INFOS, n_infos, NULL);
  }
  if (RT_SIMD_0339 && per_bytes(k, n_infos * ACCOUNT_INFO_BYTE_SIZE)) return 1;
  pk_t *info_keys = tx_alloc(k, (n_infos ? n_infos : 1) * sizeof(pk_t));
  for (uint64_t i = 0; i < n_infos; i++) {
    if (read_typed(k, &info_keys[i], rd64(infos + i * info_size), 32, 1)) return 1;
  }

  /* translate_accounts_common, then update_callee_account for each */
  caller_account_t *accounts = tx_alloc(k, (callee->n ? callee->n : 1) * sizeof(caller_account_t));
  uint64_t n_accounts = 0;
  for (uint64_t i = 0; i < callee->n; i++) {
    const iacct_t *ia = &callee->accts[i];
    if (ia->first != i) continue;
    bool found;
    uint64_t position = caller_position(f, ia->tx_index, &found);
    txacct_t *a = &k->tx->accts[ia->tx_index];
    if (a->executable) {
      if (per_bytes(k, a->len)) return 1;
      continue;
    }
    uint64_t which = n_infos;
    for (uint64_t j = 0; j < n_infos; j++) {
      if (pk_eq(&info_keys[j], a->key)) {
        which = j;
        break;
      }
    }
    if (which == n_infos) {
      log_message_keys(k, RT_MSG_UNKNOWN_ACCOUNT, a->key, NULL);
      return fail(k, IE_MISSING_ACCOUNT);
    }
    caller_account_t *c = &accounts[n_accounts++];
    c->position = position;
    c->update_caller = ia->writable;
    if (caller_account(k, infos_addr + which * info_size, infos + which * info_size, rust, c)) {
      return 1;
    }
  }
  for (uint64_t i = 0; i < n_accounts; i++) {
    if (update_callee(k, f, &accounts[i])) return 1;
  }

  if (instruction_invoke(k, callee)) return propagate(k);

  for (uint64_t i = 0; i < n_accounts; i++) {
    if (accounts[i].update_caller && update_caller(k, f, &accounts[i])) return 1;
  }
  return 0;
}
