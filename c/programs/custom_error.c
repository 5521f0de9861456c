/*
 * custom_error: fails in the way the first byte of instruction data selects.
 *   (empty) or 0 -> Custom(42)                 (returns 42)
 *   1            -> Custom(n), n = u32 little-endian in bytes 1..5 (Custom(0) for n = 0)
 *   2            -> InvalidArgument
 *   3            -> InvalidInstructionData
 *   4            -> sol_panic_ ("panicked at custom_error.c:<line>:0")
 *   5            -> abort
 *   other        -> success
 * Logs "Program log: failing" first.
 */
#include <heliostat.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {.ka = NULL};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  sol_log("failing");
  uint8_t selector = params.data_len > 0 ? params.data[0] : 0;
  switch (selector) {
    case 0:
      return SOL_CUSTOM_ERROR(42);
    case 1: {
      if (params.data_len < 5) return ERROR_INVALID_INSTRUCTION_DATA;
      uint32_t code = (uint32_t)params.data[1] | (uint32_t)params.data[2] << 8 |
                      (uint32_t)params.data[3] << 16 | (uint32_t)params.data[4] << 24;
      return SOL_CUSTOM_ERROR(code);
    }
    case 2:
      return ERROR_INVALID_ARGUMENT;
    case 3:
      return ERROR_INVALID_INSTRUCTION_DATA;
    case 4:
      sol_panic();
    case 5:
      abort();
    default:
      return SUCCESS;
  }
}
