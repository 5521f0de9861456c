/*
 * memops: uses the sol_memset_, sol_memcpy_, sol_memcmp_ and sol_memmove_ syscalls on
 * stack buffers and logs what they produced:
 *   Program log: 0x0, 0xaa, 0xab, 0xab, 0x1        (memcmp equal, memcmp after a change
 *                                                   = 0xab - 0x01, a[0], a[1], a[1] after
 *                                                   the overlapping memmove)
 * With a writable account 0 whose data is at least as long as the instruction data, it
 * then copies the instruction data into that account's data with sol_memcpy_ and logs
 *   Program log: copied
 */
#include <heliostat.h>

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo accounts[1];
  SolParameters params = {.ka = accounts};
  if (!sol_deserialize(input, &params, SOL_ARRAY_SIZE(accounts))) {
    return ERROR_INVALID_ARGUMENT;
  }
  uint8_t a[64];
  uint8_t b[64];
  sol_memset_syscall(a, 0xab, sizeof(a));
  sol_memcpy_syscall(b, a, sizeof(b));
  int32_t equal = sol_memcmp_syscall(a, b, sizeof(a));
  b[10] = 0x01;
  int32_t differ = sol_memcmp_syscall(a, b, sizeof(a));
  a[0] = 0x01;
  sol_memmove_syscall(a + 1, a, 32); /* overlapping: a[1] becomes 0x01 */
  sol_log_64((uint64_t)(int64_t)equal, (uint64_t)(int64_t)differ, b[0], b[1], a[1]);
  if (params.ka_num >= 1 && accounts[0].is_writable && accounts[0].data_len >= params.data_len) {
    sol_memcpy_syscall(accounts[0].data, params.data, params.data_len);
    sol_log("copied");
  }
  return SUCCESS;
}
