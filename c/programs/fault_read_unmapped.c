/*
 * fault_read_unmapped: loads 8 bytes from an address no region maps.
 * The address is 0x500000000 (past the input region, the last one), or the u64
 * little-endian in the first 8 bytes of instruction data when there are 8 or more.
 * Logs "Program log: reading" and then faults with an access violation (a load).
 */
#include <heliostat.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {.ka = NULL};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  uint64_t address = 0x500000000ULL;
  if (params.data_len >= 8) {
    address = 0;
    for (int i = 7; i >= 0; i--) address = (address << 8) | params.data[i];
  }
  sol_log("reading");
  volatile const uint64_t *pointer = (volatile const uint64_t *)(uintptr_t)address;
  uint64_t value = *pointer;
  sol_log_64(value, 0, 0, 0, 0); /* reached only if the address was mapped */
  return SUCCESS;
}
