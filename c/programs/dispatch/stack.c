/* dispatch: a function whose frame uses most of sBPF's 4 KiB. */
#include "ops.h"

#define BUFFER_SIZE 3584

uint64_t stack_sum(const uint8_t *data, uint64_t len) {
  volatile uint8_t buffer[BUFFER_SIZE]; /* volatile: keep the whole frame in use */
  for (uint64_t i = 0; i < BUFFER_SIZE; i++) buffer[i] = (uint8_t)(i * 7 + (len ? data[i % len] : 0));
  uint64_t sum = 0;
  for (uint64_t i = 0; i < BUFFER_SIZE; i += 7) sum = sum * 31 + buffer[i];
  return sum;
}
