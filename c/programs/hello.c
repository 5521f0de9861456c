/*
 * hello: exercises every logging syscall once.
 *
 * Logs, in order:
 *   Program log: Hello, Heliostat!
 *   Program log: 0x1, 0x2, 0x3, 0x4, 0x5
 *   Program log: 0x<accounts>, 0x<instruction data length>, 0x0, 0x0, 0x0
 *   Program log: <program id in base58>
 *   Program data: aGVsaW9zdGF0 <instruction data in base64>
 *   Program consumption: <n> units remaining
 */
#include <heliostat.h>

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo accounts[4];
  SolParameters params = {.ka = accounts};
  if (!sol_deserialize(input, &params, SOL_ARRAY_SIZE(accounts))) {
    return ERROR_INVALID_ARGUMENT;
  }
  sol_log("Hello, Heliostat!");
  sol_log_64(1, 2, 3, 4, 5);
  sol_log_64(params.ka_total, params.data_len, 0, 0, 0);
  sol_log_pubkey(params.program_id);
  const SolBytes parts[2] = {
      {(const uint8_t *)"heliostat", 9},
      {params.data, params.data_len},
  };
  sol_log_data(parts, 2);
  sol_log_compute_units();
  return SUCCESS;
}
