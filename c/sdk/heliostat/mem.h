/*
 * Memory helpers. sol_memcpy/sol_memset/sol_memcmp/sol_memmove are loops that cost
 * instructions and never fault on overlap; the *_syscall forms use the runtime's syscalls
 * (a fixed CU cost for short spans, cheaper for long ones, agave's overlap rules).
 * The C library names memcpy/memset/memmove/memcmp (which the compiler emits for struct
 * copies) are defined in heliostat_sdk.c as these loops.
 */
#pragma once

#include "syscalls.h"
#include "types.h"

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int value, size_t n);
int memcmp(const void *a, const void *b, size_t n);

SOL_INLINE void sol_memcpy(void *dst, const void *src, uint64_t n) {
  uint8_t *d = (uint8_t *)dst;
  const uint8_t *s = (const uint8_t *)src;
  for (uint64_t i = 0; i < n; i++) d[i] = s[i];
}

SOL_INLINE void sol_memmove(void *dst, const void *src, uint64_t n) {
  uint8_t *d = (uint8_t *)dst;
  const uint8_t *s = (const uint8_t *)src;
  if (d < s) {
    for (uint64_t i = 0; i < n; i++) d[i] = s[i];
  } else {
    for (uint64_t i = n; i > 0; i--) d[i - 1] = s[i - 1];
  }
}

SOL_INLINE void sol_memset(void *dst, uint8_t value, uint64_t n) {
  uint8_t *d = (uint8_t *)dst;
  for (uint64_t i = 0; i < n; i++) d[i] = value;
}

/* Returns the difference of the first differing bytes (as unsigned), 0 when equal. */
SOL_INLINE int sol_memcmp(const void *a, const void *b, uint64_t n) {
  const uint8_t *x = (const uint8_t *)a;
  const uint8_t *y = (const uint8_t *)b;
  for (uint64_t i = 0; i < n; i++) {
    if (x[i] != y[i]) return (int)x[i] - (int)y[i];
  }
  return 0;
}

SOL_INLINE bool sol_pubkey_eq(const SolPubkey *a, const SolPubkey *b) {
  return sol_memcmp(a->x, b->x, SOL_PUBKEY_SIZE) == 0;
}

SOL_INLINE void sol_memcpy_syscall(void *dst, const void *src, uint64_t n) { sol_memcpy_(dst, src, n); }
SOL_INLINE void sol_memmove_syscall(void *dst, const void *src, uint64_t n) { sol_memmove_(dst, src, n); }
SOL_INLINE void sol_memset_syscall(void *dst, uint8_t value, uint64_t n) { sol_memset_(dst, value, n); }
SOL_INLINE int32_t sol_memcmp_syscall(const void *a, const void *b, uint64_t n) {
  int32_t result = 0;
  sol_memcmp_(a, b, n, &result);
  return result;
}
