/*
 * fault_divide_by_zero: divides 1000 by the instruction data length (a `div64` by a
 * register). With empty instruction data the VM faults with a division by zero; otherwise
 * it logs "Program log: 0x<1000 / len>, 0x0, 0x0, 0x0, 0x0" and succeeds.
 * Logs "Program log: dividing" first either way.
 */
#include <heliostat.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {.ka = NULL};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  sol_log("dividing");
  uint64_t quotient = 1000 / params.data_len;
  sol_log_64(quotient, 0, 0, 0, 0);
  return SUCCESS;
}
