/*
 * fault_write_readonly: stores a byte into its own .rodata, which lives in the read-only
 * program region (0x1_0000_0000). Logs "Program log: writing" and then faults with an
 * access violation (a store to the program region).
 */
#include <heliostat.h>

static const uint8_t TABLE[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {.ka = NULL};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  sol_log("writing");
  uint8_t *target = (uint8_t *)TABLE;
  /* Hide the pointer's origin so the compiler keeps a store it could prove undefined. */
  __asm__ volatile("" : "+r"(target));
  target[params.data_len & 15] = 0xff;
  sol_log_64(TABLE[params.data_len & 15], 0, 0, 0, 0); /* never reached */
  return SUCCESS;
}
