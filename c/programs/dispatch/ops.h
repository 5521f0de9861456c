/* dispatch: the operations, their table and the checksum table, shared by its files. */
#pragma once

#include <heliostat.h>

typedef uint64_t (*op_fn)(uint64_t state, uint64_t operand);

#define OP_COUNT 5

/* ops.c */
uint64_t op_add(uint64_t state, uint64_t operand);
uint64_t op_mul(uint64_t state, uint64_t operand);
uint64_t op_xor(uint64_t state, uint64_t operand);
uint64_t op_rotate(uint64_t state, uint64_t operand);
uint64_t op_mix(uint64_t state, uint64_t operand);

/* tables.c: read-only data with pointers in it (function and string tables) */
typedef struct {
  const char *name;
  op_fn apply;
  uint64_t operand;
} Op;

extern const Op OPS[OP_COUNT];
extern const uint32_t CRC32_TABLE[256];

/* stack.c: uses most of a 4 KiB frame */
uint64_t stack_sum(const uint8_t *data, uint64_t len);
