/*
 * ed25519_linked: the verify program built the way the runtime links the library, as
 * separate translation units (tests/crypto_c/test_ed25519_sbpf.py passes c/lib/ed25519's
 * .c files as sources). Same instruction data and results as c/programs/ed25519_verify.c.
 */
#include <heliostat.h>

#include "ed25519/ed25519.h"

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {.ka = NULL};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  if (params.data_len < 96) return ERROR_INVALID_INSTRUCTION_DATA;
  const uint8_t *data = params.data;
  int code = ed25519_verify(data, data + 64, data + 96, params.data_len - 96);
  return code == ED25519_OK ? SUCCESS : SOL_CUSTOM_ERROR((uint64_t)code);
}
