/*
 * echo: echoes its instruction data and moves lamports.
 *
 * Instruction data: u64 little-endian `amount`, then a payload of any length.
 * Accounts: 0 = a writable account owned by this program (its data receives the payload),
 *           1 = a writable account that receives `amount` lamports from account 0.
 * Effects: account 0's data starts with the payload (the rest is untouched), `amount`
 * lamports move from account 0 to account 1, the payload becomes the return data.
 * Logs:
 *   Program log: echo
 *   Program data: <payload in base64>          (omitted when the payload is empty)
 *   Program log: 0x<amount>, 0x<payload length>, 0x<lamports of 0 after>, 0x<of 1 after>, 0x0
 * Errors: InvalidInstructionData (fewer than 8 bytes), NotEnoughAccountKeys (< 2 accounts),
 * InvalidArgument (an account not writable), IncorrectProgramId (account 0 not owned by the
 * program), AccountDataTooSmall (payload longer than account 0's data), InsufficientFunds.
 */
#include <heliostat.h>

static uint64_t read_u64_le(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo accounts[2];
  SolParameters params = {.ka = accounts};
  if (!sol_deserialize(input, &params, SOL_ARRAY_SIZE(accounts))) {
    return ERROR_INVALID_ARGUMENT;
  }
  sol_log("echo");
  if (params.data_len < 8) return ERROR_INVALID_INSTRUCTION_DATA;
  if (params.ka_num < 2) return ERROR_NOT_ENOUGH_ACCOUNT_KEYS;
  SolAccountInfo *source = &accounts[0];
  SolAccountInfo *destination = &accounts[1];
  if (!source->is_writable || !destination->is_writable) return ERROR_INVALID_ARGUMENT;
  if (!sol_pubkey_eq(source->owner, params.program_id)) return ERROR_INCORRECT_PROGRAM_ID;

  uint64_t amount = read_u64_le(params.data);
  const uint8_t *payload = params.data + 8;
  uint64_t payload_len = params.data_len - 8;
  if (payload_len > source->data_len) return ERROR_ACCOUNT_DATA_TOO_SMALL;
  if (*source->lamports < amount) return ERROR_INSUFFICIENT_FUNDS;

  memcpy(source->data, payload, payload_len);
  *source->lamports -= amount;
  *destination->lamports += amount;
  if (payload_len > 0) {
    const SolBytes slice = {payload, payload_len};
    sol_log_data(&slice, 1);
  }
  sol_set_return_data(payload, payload_len);
  sol_log_64(amount, payload_len, *source->lamports, *destination->lamports, 0);
  return SUCCESS;
}
