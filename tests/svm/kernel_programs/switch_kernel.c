/*
 * A small kernel for the kernel-switch tests. Input (read-only, from the test):
 *   image_a[32] image_b[32] u64 len, then `len` bytes of program input for A (ABI v1 bytes
 *   or anything), u64 data_offset, u64 budget.
 * It copies A's input into its heap, enters A, and serves A's kernel calls:
 *   - sol_get_stack_height: first enters B (nested, over a copy of the same input placed
 *     after A's), publishes B's record, then returns 7 and charges 100 units;
 *   - sol_set_return_data(ptr, len): reads the bytes from A with heliostat_caller_read,
 *     publishes them, writes "OK" back over A's first two bytes, returns 0, charges 100;
 *     a read that fails ends A (fail = 9);
 *   - anything else: ends A with fail = 1.
 * Then it publishes A's final record and A's input buffer as A left it.
 */
#include <heliostat.h>

#include "kernel_abi.h"

#define HEAP ((uint8_t *)0x300000000ULL)

static uint64_t rd64(const uint8_t *p) { return *(const uint64_t *)p; }

uint64_t entrypoint(const uint8_t *input) {
  const uint8_t *image_a = input, *image_b = input + 32;
  uint64_t len = rd64(input + 64);
  const uint8_t *bytes = input + 72;
  uint64_t data_offset = rd64(bytes + len), budget = rd64(bytes + len + 8);
  uint8_t *buf_a = HEAP + 4096;
  uint8_t *buf_b = buf_a + ((len + 4095) & ~4095ULL);
  for (uint64_t i = 0; i < len; i++) buf_a[i] = buf_b[i] = bytes[i];

  hs_activation a = {0};
  a.input_addr = (uint64_t)buf_a;
  a.input_len = len;
  a.heap_size = 32 * 1024;
  a.data_offset = data_offset;
  a.compute_units = budget;
  uint64_t status = heliostat_program_enter(image_a, &a);
  while (status == HS_KERNEL_CALL) {
    a.fail = 0;
    if (a.value == HS_CALL_STACK_HEIGHT) {
      hs_activation b = {0};
      b.input_addr = (uint64_t)buf_b;
      b.input_len = len;
      b.heap_size = 32 * 1024;
      b.data_offset = data_offset;
      b.compute_units = a.compute_units;
      heliostat_program_enter(image_b, &b);
      heliostat_publish(&b, sizeof(b));
      a.result = 7;
      a.compute_units = a.compute_units >= 100 ? a.compute_units - 100 : 0;
    } else if (a.value == HS_CALL_SET_RETURN_DATA) {
      uint8_t data[64];
      uint64_t n = a.args[1] < 64 ? a.args[1] : 64;
      if (heliostat_caller_read(data, a.args[0], n) != HS_ACCESS_OK) {
        a.fail = 9;
      } else {
        heliostat_publish(data, n);
        heliostat_caller_write(a.args[0], "OK", 2);
        a.result = 0;
        a.compute_units = a.compute_units >= 100 ? a.compute_units - 100 : 0;
      }
    } else {
      a.fail = 1;
    }
    status = heliostat_program_resume(&a);
  }
  heliostat_publish(&a, sizeof(a));
  heliostat_publish(buf_a, len);
  return 0;
}
