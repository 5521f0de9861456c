/*
 * fault_compute_budget: logs "Program log: looping" and then never exits; the VM stops it
 * when the compute budget runs out ("exceeded CUs meter at BPF instruction").
 */
#include <heliostat.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {.ka = NULL};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  sol_log("looping");
  uint64_t state = params.data_len + 1;
  for (;;) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    if (state == 0) sol_log("never"); /* keeps the loop observable */
  }
}
