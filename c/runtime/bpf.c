/*
 * BPF programs (BPFLoader2 and upgradeable) through the kernel switch, as agave's bpf_loader
 * `execute` runs them: serialise the instruction's accounts (ABI v1) into a transaction-arena
 * buffer, enter the program's image over it, serve its kernel calls, log the units it used,
 * map its outcome to an InstructionError, and write its accounts back with the
 * BorrowedAccount rules (deserialize_parameters_for_abiv1).
 */
#include "rt.h"

#define NON_DUP_MARKER 0xff
#define RENT_EPOCH_MASKED 0xffffffffffffffffULL
/* Offsets inside a serialised account. */
#define SER_KEY 8
#define SER_OWNER 40
#define SER_LAMPORTS 72
#define SER_DATA_LEN 80
#define SER_DATA 88

static uint64_t pad8(uint64_t n) { return (n + 7) & ~7ULL; }

static uint64_t serialized_account_size(uint64_t len) {
  return SER_DATA + len + RT_MAX_PERMITTED_DATA_INCREASE + pad8(len) - len + 8;
}

/* serialize_parameters_for_abiv1 (aligned, no direct mapping). Fails for an account whose data
 * the witness elided (a program's ELF account passed as an instruction account). */
static int serialize(kernel_t *k, frame_t *f) {
  for (uint64_t i = 0; i < f->n; i++) {
    txacct_t *a = frame_account(k, f, i);
    if (a->stored->elided && a->data == a->stored->data) return fail(k, IE_INVALID_ACCOUNT_DATA);
  }
  const pk_t *program = k->tx->accts[f->program].key;
  uint64_t size = 8 + 8 + f->data_len + 32;
  for (uint64_t i = 0; i < f->n; i++) {
    size += f->accts[i].first != i ? 8 : serialized_account_size(frame_account(k, f, i)->len);
  }
  uint8_t *buf = tx_alloc(k, size);
  f->buf = buf;
  f->buf_len = size;
  f->hdr = tx_alloc(k, (f->n ? f->n : 1) * 8);
  f->orig_len = tx_alloc(k, (f->n ? f->n : 1) * 8);
  wr64(buf, f->n);
  uint64_t off = 8;
  for (uint64_t i = 0; i < f->n; i++) {
    const iacct_t *ia = &f->accts[i];
    if (ia->first != i) {
      buf[off] = (uint8_t)ia->first;
      f->hdr[i] = f->hdr[ia->first];
      f->orig_len[i] = f->orig_len[ia->first];
      off += 8;
      continue;
    }
    txacct_t *a = frame_account(k, f, i);
    uint8_t *p = buf + off;
    p[0] = NON_DUP_MARKER;
    p[1] = ia->signer;
    p[2] = ia->writable && !pk_eq(a->key, program);
    p[3] = a->executable;
    copy(p + SER_KEY, a->key, 32);
    copy(p + SER_OWNER, &a->owner, 32);
    wr64(p + SER_LAMPORTS, a->lamports);
    wr64(p + SER_DATA_LEN, a->len);
    if (a->len) copy(p + SER_DATA, a->data, a->len);
    uint64_t total = serialized_account_size(a->len);
    wr64(p + total - 8, RENT_EPOCH_MASKED);
    f->hdr[i] = off;
    f->orig_len[i] = a->len;
    off += total;
  }
  wr64(buf + off, f->data_len);
  copy(buf + off + 8, f->data, f->data_len);
  copy(buf + off + 8 + f->data_len, program, 32);
  f->act.data_offset = off + 8;
  return 0;
}

/* deserialize_parameters_for_abiv1 */
static int write_back(kernel_t *k, frame_t *f) {
  for (uint64_t i = 0; i < f->n; i++) {
    if (f->accts[i].first != i) continue;
    const uint8_t *p = f->buf + f->hdr[i];
    txacct_t *a = frame_account(k, f, i);
    uint64_t lamports = rd64(p + SER_LAMPORTS);
    if (lamports != a->lamports && acct_set_lamports(k, f, i, lamports)) return 1;
    uint64_t len = rd64(p + SER_DATA_LEN);
    if (len > f->orig_len[i] + RT_MAX_PERMITTED_DATA_INCREASE ||
        len > RT_MAX_PERMITTED_DATA_LENGTH) {
      return fail(k, IE_INVALID_REALLOC);
    }
    uint8_t *data = f->buf + f->hdr[i] + SER_DATA;
    bool same = len == a->len && bytes_eq(a->data, data, len);
    /* the finished program's input is never written again: the account takes its bytes */
    uint64_t room = f->orig_len[i] + RT_MAX_PERMITTED_DATA_INCREASE;
    if (!same) {
      if (acct_adopt_data(k, f, i, data, len)) return 1;
      a->cap = room;
    }
    const pk_t *owner = (const pk_t *)(p + SER_OWNER);
    if (!pk_eq(owner, &a->owner) && acct_set_owner(k, f, i, owner)) return 1;
  }
  return 0;
}

static const uint32_t BUILTIN_ERRORS[27] = {
    0, 0, IE_INVALID_ARGUMENT, IE_INVALID_INSTRUCTION_DATA, IE_INVALID_ACCOUNT_DATA,
    IE_ACCOUNT_DATA_TOO_SMALL, IE_INSUFFICIENT_FUNDS, IE_INCORRECT_PROGRAM_ID,
    IE_MISSING_REQUIRED_SIGNATURE, IE_ACCOUNT_ALREADY_INITIALIZED, IE_UNINITIALIZED_ACCOUNT,
    IE_NOT_ENOUGH_ACCOUNT_KEYS, IE_ACCOUNT_BORROW_FAILED, IE_MAX_SEED_LENGTH_EXCEEDED,
    IE_INVALID_SEEDS, IE_BORSH_IO_ERROR, IE_ACCOUNT_NOT_RENT_EXEMPT, IE_UNSUPPORTED_SYSVAR,
    IE_ILLEGAL_OWNER, IE_MAX_ACCOUNTS_DATA_ALLOCATIONS_EXCEEDED, IE_INVALID_REALLOC,
    IE_MAX_INSTRUCTION_TRACE_LENGTH_EXCEEDED, IE_BUILTIN_PROGRAMS_MUST_CONSUME_COMPUTE_UNITS,
    IE_INVALID_ACCOUNT_OWNER, IE_ARITHMETIC_OVERFLOW, IE_IMMUTABLE, IE_INCORRECT_AUTHORITY,
};

/* InstructionError::from(u64) of solana-program-error. */
static int from_return_code(kernel_t *k, uint64_t code) {
  uint64_t high = code >> 32, low = code & 0xffffffffULL;
  if (code == (1ULL << 32)) return fail_custom(k, 0);
  if (low == 0 && high >= 2 && high <= 26) return fail(k, BUILTIN_ERRORS[high]);
  if (high == 0) return fail_custom(k, (uint32_t)low);
  return fail(k, IE_INVALID_ERROR);
}

/* The image of an executable program account: its own (BPFLoader2) or its programdata's. */
static const uint8_t *program_image(kernel_t *k, txacct_t *prog) {
  if (pk_eq(&prog->owner, id_bpf_loader2())) return prog->stored->image;
  if (prog->len < 36 || rd32(prog->data) != 2) return NULL;
  account_t *programdata = store_find(k, prog->data + 4);
  return programdata ? programdata->image : NULL;
}

int bpf_process(kernel_t *k, frame_t *f) {
  tx_t *t = k->tx;
  txacct_t *prog = &t->accts[f->program];
  const pk_t *program = prog->key;
  const uint8_t *image = program_image(k, prog);
  if (!image) {
    fail(k, IE_UNSUPPORTED_PROGRAM_ID);
    instruction_log_failure(k, program);
    return 1;
  }
  if (serialize(k, f)) {
    instruction_log_failure(k, program);
    return 1;
  }
  uint64_t budget = t->meter;
  uint64_t heap_cost = ((t->heap + 32767) / 32768 - 1) * RT_HEAP_COST;
  if (heap_cost > t->meter) {
    t->meter = 0;
    fail(k, IE_COMPUTATIONAL_BUDGET_EXCEEDED);
    instruction_log_failure(k, program);
    return 1;
  }
  t->meter -= heap_cost;
  uint64_t vm_budget = t->meter;
  hs_activation *act = &f->act;
  act->input_addr = (uint64_t)f->buf;
  act->input_len = f->buf_len;
  act->heap_size = t->heap;
  act->compute_units = t->meter;
  log_flush();
  uint64_t status = heliostat_program_enter(image, act);
  while (status == HS_KERNEL_CALL) {
    t->meter = act->compute_units;
    uint64_t result = 0;
    int kernel_failed = kernel_call(k, f, &result);
    act->compute_units = t->meter;
    act->result = result;
    act->fail = kernel_failed ? 1 : 0;
    log_flush();
    status = heliostat_program_resume(act);
  }
  t->meter = act->compute_units;
  uint64_t consumed[2] = {vm_budget - t->meter, budget};
  log_event(RT_LOG_CONSUMED, program, 32, consumed[0], consumed[1]);
  if (t->return_len) {
    uint8_t *payload = tx_alloc(k, 32 + t->return_len);
    copy(payload, program, 32);
    copy(payload + 32, t->return_data, t->return_len);
    log_event(RT_LOG_RETURN, payload, 32 + t->return_len, 0, 0);
  }

  int r = 0;
  if (status == HS_EXITED) {
    r = act->value ? from_return_code(k, act->value) : write_back(k, f);
  } else if (act->value == HS_FAULT_VM) {
    t->meter = 0; /* deplete_cu_meter_on_vm_failure */
    r = fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_LAST_FAULT, 0, NULL);
  } else if (act->value == HS_FAULT_SYSCALL) {
    r = fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_LAST_FAULT, 0, NULL);
  } else if (act->value == HS_FAULT_BUDGET) {
    r = fail(k, IE_COMPUTATIONAL_BUDGET_EXCEEDED);
  } else if (act->value == HS_FAULT_INSTRUCTION_ERROR) {
    r = fail(k, (uint32_t)act->args[0]);
  } else {
    r = 1; /* HS_FAULT_KERNEL: the kernel call's failure is already in t->err */
  }
  if (r) {
    instruction_log_failure(k, program);
  } else {
    log_event(RT_LOG_SUCCESS, program, 32, 0, 0);
  }
  return r;
}
