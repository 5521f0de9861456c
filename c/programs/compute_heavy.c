/*
 * compute_heavy: the VM benchmark. Runs `iterations` rounds (u64 little-endian instruction
 * data, default 1000) of xorshift64 mixing into a 64-word table on the stack, with no
 * syscalls inside the loop, then logs
 *   Program log: 0x<iterations>, 0x<x>, 0x<acc>, 0x<table checksum>, 0x0
 * heliostat.toolchain.program_reference.compute_heavy is the same in Python. About 33 instructions
 * per iteration.
 */
#include <heliostat.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {.ka = NULL};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  uint64_t iterations = 1000;
  if (params.data_len >= 8) {
    iterations = 0;
    for (int i = 7; i >= 0; i--) iterations = (iterations << 8) | params.data[i];
  }
  uint64_t table[64];
  for (uint64_t i = 0; i < 64; i++) table[i] = i * 0x9E3779B97F4A7C15ULL;
  uint64_t x = 0x0123456789ABCDEFULL;
  uint64_t acc = 0;
  for (uint64_t i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    table[i & 63] ^= x;
    acc += table[(x >> 29) & 63] * 0x2545F4914F6CDD1DULL;
    acc = (acc << 5) | (acc >> 59);
  }
  uint64_t checksum = 0;
  for (uint64_t i = 0; i < 64; i++) checksum = (checksum ^ table[i]) * 0x100000001B3ULL;
  sol_log_64(iterations, x, acc, checksum, 0);
  return SUCCESS;
}
