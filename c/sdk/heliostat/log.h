/* Logging and panicking: thin wrappers over the log and panic syscalls. */
#pragma once

#include "syscalls.h"
#include "types.h"

SOL_INLINE uint64_t sol_strlen(const char *s) {
  uint64_t n = 0;
  while (s[n] != 0) n++;
  return n;
}

/* "Program log: <message>" */
SOL_INLINE void sol_log(const char *message) { sol_log_(message, sol_strlen(message)); }

/* "Program log: 0x1, 0x2, 0x3, 0x4, 0x5" (five values in hex) */
SOL_INLINE void sol_log_64(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e) {
  sol_log_64_(a, b, c, d, e);
}

/* "Program consumption: <n> units remaining" */
SOL_INLINE void sol_log_compute_units(void) { sol_log_compute_units_(); }

/*
 * Aborts the program; the log says "... panicked at <file>:<line>:0". The file is the
 * base name (clang's __FILE_NAME__) so that the ELF does not depend on the checkout path.
 */
#ifdef __FILE_NAME__
#define SOL_FILE_NAME __FILE_NAME__
#else
#define SOL_FILE_NAME __FILE__
#endif
#define sol_panic() sol_panic_(SOL_FILE_NAME, sizeof(SOL_FILE_NAME) - 1, __LINE__, 0)

/* Panics when `expr` is false. */
#define sol_assert(expr) \
  do {                   \
    if (!(expr)) {       \
      sol_panic();       \
    }                    \
  } while (0)
