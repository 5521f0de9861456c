/*
 * exec_probe: one program, many small probes of syscalls and of the account write-back,
 * for the LiteSVM differential conformance table (tests/svm/conformance/scenarios.py).
 *
 * Instruction data: one selector byte, then the probe's arguments. Each probe logs what it
 * observed (so that logs, compute units and errors can be compared with LiteSVM) or makes
 * the change whose write-back rule it exercises.
 */
#include <heliostat.h>

/* Syscalls the SDK header does not declare. */
uint64_t sol_get_sysvar(const SolPubkey *sysvar_id, void *var, uint64_t offset, uint64_t length);
uint64_t sol_get_epoch_stake(const SolPubkey *vote);
typedef struct {
  uint64_t data_len;
  uint64_t accounts_len;
} SolSiblingMeta;
uint64_t sol_get_processed_sibling_instruction(uint64_t index, SolSiblingMeta *meta,
                                               SolPubkey *program_id, uint8_t *data,
                                               void *accounts);

enum {
  PROBE_SYSVARS = 0,          /* accounts: clock, rent sysvars (their keys name the ids) */
  PROBE_PDA = 1,              /* data: seeds, each as u8 length + bytes */
  PROBE_HASHES = 2,           /* data: bytes to hash, split in two slices */
  PROBE_CONTEXT = 3,          /* stack height, sibling instruction, epoch stake */
  PROBE_RETURN_DATA = 4,      /* data: the return data */
  PROBE_MEMCPY_OVERLAP = 5,   /* sol_memcpy_ over overlapping ranges */
  PROBE_LOG_BYTES = 6,        /* data: bytes logged with sol_log_ (may be invalid UTF-8) */
  PROBE_MOVE_LAMPORTS = 7,    /* data: u64 amount moved from account 0 to account 1 */
  PROBE_WRITE_DATA = 8,       /* data: byte written at account 0 data[0] */
  PROBE_RESIZE = 9,           /* data: u64 new data length of account 0 */
  PROBE_ASSIGN = 10,          /* account 0's owner := account 1's key */
  PROBE_MINT_LAMPORTS = 11,   /* adds 1 lamport to account 0 out of nowhere */
  PROBE_MEMOPS = 12,          /* memcmp signs, memmove overlap, memset */
  PROBE_LOG_MISC = 13,        /* sol_log_data fields, sol_log_pubkey, sol_log_compute_units_ */
  PROBE_UNALIGNED = 14,       /* sol_get_clock_sysvar into an odd address */
  PROBE_BAD_POINTER = 15,     /* sol_log_ of an unmapped address */
  PROBE_PANIC_BAD_FILE = 16,  /* sol_panic_ with a file name that is not UTF-8 */
  PROBE_BIG_RETURN = 17,      /* sol_set_return_data of 1025 bytes */
  PROBE_RETURN_CODE = 18,     /* data: u64 returned as is */
  PROBE_SYSCALL_BUDGET = 19,  /* calls sol_log_64_ until the budget runs out */
  PROBE_BIG_COPY = 20,        /* data: u64 n; memcpy/memset of n heap bytes (per-byte cost) */
  PROBE_ZERO_AND_ASSIGN = 21, /* zero account 0's data, then assign it to account 1's key */
};

static uint64_t read_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static uint64_t probe_sysvars(SolParameters *params) {
  uint64_t clock[5];
  uint64_t rent[3];
  uint64_t schedule[5];
  sol_get_clock_sysvar(clock);
  sol_log_64(clock[0], clock[1], clock[2], clock[3], clock[4]);
  sol_get_rent_sysvar(rent);
  sol_log_64(rent[0], rent[1], rent[2], 0, 0);
  sol_get_epoch_schedule_sysvar(schedule);
  sol_log_64(schedule[0], schedule[1], schedule[2], schedule[3], schedule[4]);
  if (params->ka_num < 2) return ERROR_NOT_ENOUGH_ACCOUNT_KEYS;
  uint8_t buffer[24] = {0};
  uint64_t whole = sol_get_sysvar(params->ka[1].key, buffer, 0, 17);
  uint64_t slice = sol_get_sysvar(params->ka[0].key, buffer, 8, 8);
  uint64_t past_end = sol_get_sysvar(params->ka[0].key, buffer, 36, 8);
  uint64_t unknown = sol_get_sysvar(params->program_id, buffer, 0, 8);
  sol_log_64(whole, slice, past_end, unknown, read_u64(buffer));
  return SUCCESS;
}

static uint64_t probe_pda(SolParameters *params) {
  SolBytes seeds[17];
  uint64_t count = 0;
  uint64_t at = 1;
  while (at < params->data_len && count < SOL_ARRAY_SIZE(seeds)) {
    uint64_t len = params->data[at];
    seeds[count].addr = params->data + at + 1;
    seeds[count].len = len;
    count++;
    at += 1 + len;
  }
  SolPubkey address;
  uint8_t bump = 0;
  uint64_t created = sol_create_program_address(seeds, count, params->program_id, &address);
  if (created == 0) sol_log_pubkey(&address);
  uint64_t found = sol_try_find_program_address(seeds, count, params->program_id, &address, &bump);
  if (found == 0) sol_log_pubkey(&address);
  sol_log_64(created, found, bump, count, 0);
  return SUCCESS;
}

static uint64_t probe_hashes(SolParameters *params) {
  uint64_t n = params->data_len - 1;
  SolBytes parts[2] = {{params->data + 1, n / 2}, {params->data + 1 + n / 2, n - n / 2}};
  uint8_t sha[32];
  uint8_t keccak[32];
  sol_sha256(parts, 2, sha);
  sol_keccak256(parts, 2, keccak);
  SolBytes out[2] = {{sha, 32}, {keccak, 32}};
  sol_log_data(out, 2);
  return SUCCESS;
}

static uint64_t probe_context(SolParameters *params) {
  SolSiblingMeta meta = {0, 0};
  SolPubkey program_id;
  uint64_t sibling = sol_get_processed_sibling_instruction(0, &meta, &program_id, 0, 0);
  uint64_t total_stake = sol_get_epoch_stake(0);
  uint64_t stake = sol_get_epoch_stake(params->program_id);
  sol_log_64(sol_get_stack_height(), sibling, meta.data_len, total_stake, stake);
  return SUCCESS;
}

static uint64_t probe_return_data(SolParameters *params) {
  uint8_t back[64];
  SolPubkey owner;
  uint64_t before = sol_get_return_data(back, sizeof(back), &owner);
  sol_set_return_data(params->data + 1, params->data_len - 1);
  uint64_t after = sol_get_return_data(back, 4, &owner);
  sol_log_pubkey(&owner);
  sol_log_64(before, after, back[0], back[3], 0);
  return SUCCESS;
}

static uint64_t probe_memops(void) {
  uint8_t a[16];
  uint8_t b[16];
  sol_memset_(a, 0x11, sizeof(a));
  sol_memset_(b, 0x11, sizeof(b));
  b[5] = 0x90;
  int32_t less = 0, greater = 0, equal = 0;
  sol_memcmp_(a, b, sizeof(a), &less);
  sol_memcmp_(b, a, sizeof(a), &greater);
  sol_memcmp_(a, a, sizeof(a), &equal);
  for (int i = 0; i < 16; i++) a[i] = (uint8_t)i;
  sol_memmove_(a + 2, a, 8);
  sol_memmove_(a, a + 3, 8);
  sol_log_64((uint64_t)(int64_t)less, (uint64_t)greater, (uint64_t)equal, read_u64(a),
             read_u64(a + 8));
  return SUCCESS;
}

static uint64_t probe_log_misc(SolParameters *params) {
  static const char hello[] = "hello";
  SolBytes fields[3] = {{(const uint8_t *)hello, 5}, {params->data, 0}, {params->data, params->data_len}};
  sol_log_data(fields, 3);
  sol_log_pubkey(params->program_id);
  sol_log_compute_units();
  return SUCCESS;
}

static uint64_t probe_big_copy(SolParameters *params) {
  uint64_t n = read_u64(params->data + 1);
  uint8_t *heap = (uint8_t *)0x300000000ULL;
  sol_memset_(heap, 7, n);
  sol_memcpy_(heap + n, heap, n);
  int32_t result = 1;
  sol_memcmp_(heap, heap + n, n, &result);
  sol_log_64(n, (uint64_t)result, heap[2 * n - 1], 0, 0);
  return SUCCESS;
}

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo accounts[4];
  SolParameters params = {.ka = accounts};
  if (!sol_deserialize(input, &params, SOL_ARRAY_SIZE(accounts))) return ERROR_INVALID_ARGUMENT;
  if (params.data_len == 0) return ERROR_INVALID_INSTRUCTION_DATA;
  const uint8_t *args = params.data + 1;
  switch (params.data[0]) {
    case PROBE_SYSVARS:
      return probe_sysvars(&params);
    case PROBE_PDA:
      return probe_pda(&params);
    case PROBE_HASHES:
      return probe_hashes(&params);
    case PROBE_CONTEXT:
      return probe_context(&params);
    case PROBE_RETURN_DATA:
      return probe_return_data(&params);
    case PROBE_MEMCPY_OVERLAP: {
      uint8_t buffer[32] = {0};
      sol_memcpy_(buffer + 4, buffer, 16);
      return SUCCESS;
    }
    case PROBE_LOG_BYTES:
      sol_log_((const char *)args, params.data_len - 1);
      return SUCCESS;
    case PROBE_MOVE_LAMPORTS: {
      uint64_t amount = read_u64(args);
      *accounts[0].lamports -= amount;
      *accounts[1].lamports += amount;
      return SUCCESS;
    }
    case PROBE_WRITE_DATA:
      accounts[0].data[0] = args[0];
      return SUCCESS;
    case PROBE_RESIZE:
      *accounts[0].data_len_ptr = read_u64(args);
      return SUCCESS;
    case PROBE_ASSIGN:
      *accounts[0].owner = *accounts[1].key;
      return SUCCESS;
    case PROBE_MINT_LAMPORTS:
      *accounts[0].lamports += 1;
      return SUCCESS;
    case PROBE_MEMOPS:
      return probe_memops();
    case PROBE_LOG_MISC:
      return probe_log_misc(&params);
    case PROBE_UNALIGNED: {
      uint64_t clock[6];
      sol_get_clock_sysvar((uint8_t *)clock + 1);
      return SUCCESS;
    }
    case PROBE_BAD_POINTER:
      sol_log_((const char *)0x500000000ULL, 4);
      return SUCCESS;
    case PROBE_PANIC_BAD_FILE: {
      static const char file[] = {'a', (char)0xc3, 'b'};
      sol_panic_(file, sizeof(file), 7, 9);
    }
    case PROBE_BIG_RETURN: {
      uint8_t *heap = (uint8_t *)0x300000000ULL;
      sol_set_return_data(heap, 1025);
      return SUCCESS;
    }
    case PROBE_RETURN_CODE:
      return read_u64(args);
    case PROBE_SYSCALL_BUDGET:
      for (uint64_t i = 0;; i++) sol_log_64_(i, 0, 0, 0, 0);
    case PROBE_BIG_COPY:
      return probe_big_copy(&params);
    case PROBE_ZERO_AND_ASSIGN:
      sol_memset_(accounts[0].data, 0, accounts[0].data_len);
      *accounts[0].owner = *accounts[1].key;
      return SUCCESS;
    default:
      return ERROR_INVALID_INSTRUCTION_DATA;
  }
}
