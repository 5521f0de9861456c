/*
 * Kernel calls: the syscalls of a program that touch transaction state, served by the runtime
 * while the program is suspended (docs/svm.md, "Kernel switch"). Costs, checks and their order
 * are agave's (syscalls/src/lib.rs, sysvar.rs), as heliostat.svm.syscalls implements them for
 * one instruction at a time.
 */
#include "rt.h"

/* An access to the suspended program's memory failed: end the syscall with the violation. */
static int violation(kernel_t *k) {
  return fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_LAST_VIOLATION, 0, NULL);
}

/* translate_mut!'s checks on (addr, len, align) outputs: mapped for a store, aligned,
 * disjoint. A store check is a read followed by writing the same bytes back. */
typedef struct {
  uint64_t addr, len, align;
} out_t;

static int check_outputs(kernel_t *k, const out_t *outs, uint64_t n) {
  for (uint64_t i = 0; i < n; i++) {
    uint64_t len = outs[i].len;
    if (!len) continue;
    uint8_t *tmp = tx_alloc(k, len);
    if (heliostat_caller_read(tmp, outs[i].addr, len) != HS_ACCESS_OK ||
        heliostat_caller_write(outs[i].addr, tmp, len) != HS_ACCESS_OK) {
      return violation(k);
    }
  }
  for (uint64_t i = 0; i < n; i++) {
    if (outs[i].len && outs[i].addr % outs[i].align) {
      return fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_UNALIGNED, 0, NULL);
    }
  }
  for (uint64_t i = 0; i < n; i++) {
    for (uint64_t j = i + 1; j < n; j++) {
      const out_t *a = &outs[i], *b = &outs[j];
      if (!a->len || !b->len) continue;
      bool disjoint = a->addr > b->addr ? a->addr - b->addr >= b->len : b->addr - a->addr >= a->len;
      if (!disjoint) return fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_OVERLAPPING, 0, NULL);
    }
  }
  return 0;
}

static int write_out(kernel_t *k, uint64_t addr, const void *src, uint64_t len) {
  if (!len) return 0;
  return heliostat_caller_write(addr, src, len) == HS_ACCESS_OK ? 0 : violation(k);
}

static int read_in(kernel_t *k, void *dst, uint64_t addr, uint64_t len) {
  if (!len) return 0;
  return heliostat_caller_read(dst, addr, len) == HS_ACCESS_OK ? 0 : violation(k);
}

/* The sysvar cache: the block's clock, then the batch's table. */
static const uint8_t *sysvar_data(kernel_t *k, const uint8_t *id, uint64_t *len) {
  if (pk_eq_bytes(id_clock(), id) && k->clock) {
    *len = 40;
    return k->clock;
  }
  for (uint64_t i = 0; i < k->n_sysvars; i++) {
    if (pk_cmp(k->sysvars[i].id, id) == 0) {
      *len = k->sysvars[i].len;
      return k->sysvars[i].data;
    }
  }
  return NULL;
}

/* Typed getters: the #[repr(C)] struct built from the sysvar's bincode bytes. */
static int typed_sysvar(kernel_t *k, uint64_t call, uint64_t addr) {
  uint64_t size, align;
  const pk_t *id;
  switch (call) {
    case HS_CALL_CLOCK: size = 40; align = 8; id = id_clock(); break;
    case HS_CALL_RENT: size = 24; align = 8; id = id_rent(); break;
    case HS_CALL_EPOCH_SCHEDULE: size = 40; align = 8; id = id_epoch_schedule(); break;
    case HS_CALL_EPOCH_REWARDS: size = 96; align = 16; id = id_epoch_rewards(); break;
    default: size = 8; align = 8; id = id_last_restart_slot(); break;
  }
  if (consume(k, RT_SYSVAR_BASE_COST + size)) return 1;
  out_t out = {addr, size, align};
  if (check_outputs(k, &out, 1)) return 1;
  uint64_t len;
  const uint8_t *data = sysvar_data(k, id->b, &len);
  if (!data) return fail(k, IE_UNSUPPORTED_SYSVAR);
  uint8_t value[96];
  zero(value, sizeof(value));
  if (call == HS_CALL_EPOCH_SCHEDULE) {
    /* bincode: u64, u64, bool, u64, u64; the struct pads the bool to 8 bytes */
    copy(value, data, len < 17 ? len : 17);
    if (len >= 33) copy(value + 24, data + 17, 16);
  } else {
    copy(value, data, len < size ? len : size);
  }
  return write_out(k, addr, value, size);
}

static int get_sysvar(kernel_t *k, const uint64_t *args, uint64_t *result) {
  uint64_t id_addr = args[0], addr = args[1], offset = args[2], length = args[3];
  uint64_t per_byte = length / RT_CPI_BYTES_PER_UNIT;
  uint64_t cost = RT_SYSVAR_BASE_COST + 32 / RT_CPI_BYTES_PER_UNIT +
                  (per_byte > RT_MEM_OP_BASE_COST ? per_byte : RT_MEM_OP_BASE_COST);
  if (consume(k, cost)) return 1;
  out_t out = {addr, length, 1};
  if (check_outputs(k, &out, 1)) return 1;
  uint8_t id[32];
  if (read_in(k, id, id_addr, 32)) return 1;
  if (offset + length < offset || addr + length < addr) return fail(k, IE_ARITHMETIC_OVERFLOW);
  uint64_t len;
  const uint8_t *data = sysvar_data(k, id, &len);
  if (!data) {
    *result = 2;
    return 0;
  }
  if (offset + length > len) {
    *result = 1;
    return 0;
  }
  *result = 0;
  return write_out(k, addr, data + offset, length);
}

static int set_return_data(kernel_t *k, const frame_t *f, const uint64_t *args) {
  uint64_t addr = args[0], len = args[1];
  if (consume(k, len / RT_CPI_BYTES_PER_UNIT + RT_SYSCALL_BASE_COST)) return 1;
  if (len > RT_MAX_RETURN_DATA) {
    return fail_log(k, IE_PROGRAM_FAILED_TO_COMPLETE, RT_FAIL_RETURN_TOO_LARGE, len, NULL);
  }
  tx_t *t = k->tx;
  uint8_t *tmp = tx_alloc(k, len ? len : 1);
  if (read_in(k, tmp, addr, len)) return 1;
  copy(t->return_data, tmp, len);
  t->return_len = len;
  t->return_program = *t->accts[f->program].key;
  return 0;
}

static int get_return_data(kernel_t *k, const uint64_t *args, uint64_t *result) {
  uint64_t addr = args[0], len = args[1], program_addr = args[2];
  tx_t *t = k->tx;
  if (consume(k, RT_SYSCALL_BASE_COST)) return 1;
  uint64_t n = len < t->return_len ? len : t->return_len;
  if (n) {
    if (consume(k, (n + 32) / RT_CPI_BYTES_PER_UNIT)) return 1;
    out_t outs[2] = {{addr, n, 1}, {program_addr, 32, 1}};
    if (check_outputs(k, outs, 2)) return 1;
    if (write_out(k, addr, t->return_data, n)) return 1;
    if (write_out(k, program_addr, &t->return_program, 32)) return 1;
  }
  *result = t->return_len;
  return 0;
}

int kernel_call(kernel_t *k, frame_t *f, uint64_t *result) {
  const uint64_t *args = f->act.args;
  switch (f->act.value) {
    case HS_CALL_INVOKE_C:
    case HS_CALL_INVOKE_RUST:
      *result = 0;
      return cpi_invoke(k, f, f->act.value == HS_CALL_INVOKE_RUST);
    case HS_CALL_SET_RETURN_DATA:
      return set_return_data(k, f, args);
    case HS_CALL_GET_RETURN_DATA:
      return get_return_data(k, args, result);
    case HS_CALL_STACK_HEIGHT:
      if (consume(k, RT_SYSCALL_BASE_COST)) return 1;
      *result = f->height;
      return 0;
    case HS_CALL_GET_SYSVAR:
      return get_sysvar(k, args, result);
    case HS_CALL_CLOCK:
    case HS_CALL_RENT:
    case HS_CALL_EPOCH_SCHEDULE:
    case HS_CALL_EPOCH_REWARDS:
    case HS_CALL_LAST_RESTART_SLOT:
      *result = 0;
      return typed_sysvar(k, f->act.value, args[0]);
    case HS_CALL_SIBLING:
      /* The instruction trace is not kept: no processed sibling is ever reported. */
      if (consume(k, RT_SYSCALL_BASE_COST)) return 1;
      *result = 0;
      return 0;
    case HS_CALL_EPOCH_STAKE:
      /* The rollup has no stake: every vote account (and the total) has 0. */
      if (consume(k, args[0] ? RT_SYSCALL_BASE_COST + RT_MEM_OP_BASE_COST : RT_SYSCALL_BASE_COST)) {
        return 1;
      }
      if (args[0]) {
        uint8_t vote[32];
        if (read_in(k, vote, args[0], 32)) return 1;
      }
      *result = 0;
      return 0;
    default:
      rt_panic("unknown kernel call");
  }
}
