/*
 * accounts: reports what sol_deserialize parsed, to check the SDK against the runtime's
 * serialisation (duplicate markers, alignment padding after data of any length).
 *
 * For every account i (duplicates included) it logs
 *   Program log: <key in base58>
 *   Program log: 0x<i>, 0x<signer | writable << 1 | executable << 2>, 0x<lamports>,
 *                0x<data length>, 0x<first data byte or 0>
 * then "Program log: <program id>". With 8 bytes of instruction data (u64 `new_len`) it
 * resizes account 0 to new_len bytes (it must be writable and owned by the program; new
 * bytes are zero) and logs "Program log: resized"; InvalidRealloc if new_len is more than
 * 10 KiB beyond the current length.
 */
#include <heliostat.h>

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo accounts[8];
  SolParameters params = {.ka = accounts};
  if (!sol_deserialize(input, &params, SOL_ARRAY_SIZE(accounts))) {
    return ERROR_INVALID_ARGUMENT;
  }
  for (uint64_t i = 0; i < params.ka_num; i++) {
    const SolAccountInfo *a = &accounts[i];
    uint64_t flags = (uint64_t)a->is_signer | (uint64_t)a->is_writable << 1 |
                     (uint64_t)a->executable << 2;
    sol_log_pubkey(a->key);
    sol_log_64(i, flags, *a->lamports, a->data_len, a->data_len > 0 ? a->data[0] : 0);
  }
  sol_log_pubkey(params.program_id);
  if (params.data_len == 8 && params.ka_num >= 1) {
    uint64_t new_len = 0;
    for (int i = 7; i >= 0; i--) new_len = (new_len << 8) | params.data[i];
    SolAccountInfo *target = &accounts[0];
    uint64_t old_len = target->data_len;
    if (!sol_account_resize(target, new_len)) return ERROR_INVALID_ACCOUNT_DATA_REALLOC;
    if (new_len > old_len) sol_memset(target->data + old_len, 0, new_len - old_len);
    sol_log("resized");
  }
  return SUCCESS;
}
