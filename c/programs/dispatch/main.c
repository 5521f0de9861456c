/*
 * dispatch: a multi-file program that exercises what the runtime will need from the
 * toolchain: calls across files, a function-pointer table and string pointers in .rodata,
 * a 1 KiB lookup table, a 3.5 KiB stack frame.
 *
 * For each byte b of instruction data it applies OPS[b % 5] to a running state (starting at
 * 0x48454C494F535441, "HELIOSTA") and logs the operation's name. Then it logs
 *   Program log: 0x<state>, 0x<crc32 of the instruction data>, 0x<stack_sum>, 0x<n ops>, 0x0
 * heliostat.toolchain.program_reference.dispatch computes the same values in Python.
 */
#include "ops.h"

static uint32_t crc32(const uint8_t *data, uint64_t len) {
  uint32_t crc = 0xFFFFFFFFu;
  for (uint64_t i = 0; i < len; i++) crc = CRC32_TABLE[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {.ka = NULL};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  uint64_t state = 0x48454C494F535441ULL;
  for (uint64_t i = 0; i < params.data_len; i++) {
    const Op *op = &OPS[params.data[i] % OP_COUNT];
    sol_log(op->name);
    state = op->apply(state, op->operand);
  }
  uint64_t sum = stack_sum(params.data, params.data_len);
  sol_log_64(state, crc32(params.data, params.data_len), sum, params.data_len, 0);
  return SUCCESS;
}
