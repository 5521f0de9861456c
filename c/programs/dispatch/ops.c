/* dispatch: the operations the table points at. */
#include "ops.h"

uint64_t op_add(uint64_t state, uint64_t operand) { return state + operand; }

uint64_t op_mul(uint64_t state, uint64_t operand) { return state * (operand | 1); }

uint64_t op_xor(uint64_t state, uint64_t operand) { return state ^ operand; }

uint64_t op_rotate(uint64_t state, uint64_t operand) {
  uint64_t r = operand & 63;
  return r == 0 ? state : (state << r) | (state >> (64 - r));
}

uint64_t op_mix(uint64_t state, uint64_t operand) {
  state ^= state >> 33;
  state *= 0xFF51AFD7ED558CCDULL;
  state ^= state >> 33;
  return state + operand;
}
