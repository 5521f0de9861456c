/*
 * fault_call_depth: recurses `depth` times (u64 little-endian instruction data, default
 * 100). Each level is a real call frame (not a tail call). With sBPF v0's limit of 64 frames
 * a depth of 63 or more faults with "call depth exceeded"; smaller depths log
 * "Program log: 0x<depth>, 0x<result>, 0x0, 0x0, 0x0" and succeed.
 * Logs "Program log: recursing" first.
 */
#include <heliostat.h>

static __attribute__((noinline)) uint64_t recurse(uint64_t n) {
  if (n == 0) return 1;
  uint64_t below = recurse(n - 1);
  return (below ^ (below >> 3)) + n; /* uses the result, so no tail call */
}

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {.ka = NULL};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  uint64_t depth = 100;
  if (params.data_len >= 8) {
    depth = 0;
    for (int i = 7; i >= 0; i--) depth = (depth << 8) | params.data[i];
  }
  sol_log("recursing");
  uint64_t result = recurse(depth);
  sol_log_64(depth, result, 0, 0, 0);
  return SUCCESS;
}
