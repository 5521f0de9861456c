/* Basic types of the Heliostat C SDK: fixed-width integers, pubkeys, byte slices. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __LP64__
#error "sBPF programs are LP64"
#endif

#define SOL_PUBKEY_SIZE 32
#define SOL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Function attributes used throughout the SDK. */
#define SOL_INLINE static inline __attribute__((always_inline))
#define SOL_NORETURN __attribute__((noreturn))

typedef struct {
  uint8_t x[SOL_PUBKEY_SIZE];
} SolPubkey;

/* A (pointer, length) pair, the layout syscalls such as sol_log_data and sol_sha256 take. */
typedef struct {
  const uint8_t *addr;
  uint64_t len;
} SolBytes;
