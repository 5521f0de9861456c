/*
 * ed25519_verify: verifies one ed25519 signature with Solana's acceptance rules.
 *   instruction data = signature (64) || public key (32) || message (the rest)
 *   -> success when valid; Custom(code) with code = 1..5 of ed25519.h when not;
 *      InvalidInstructionData when the data is shorter than 96 bytes.
 * No logs, no syscalls: the compute units consumed are the instructions of one
 * verification plus a handful for the entrypoint.
 *
 * The library is compiled into this one translation unit (its files are included at the
 * end, so that the entrypoint stays the first function of .text), and
 * `build_program("ed25519_verify")` needs no extra sources.
 */
#include <heliostat.h>

#include "../lib/ed25519/ed25519.h"

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {.ka = NULL};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  if (params.data_len < 96) return ERROR_INVALID_INSTRUCTION_DATA;
  const uint8_t *data = params.data;
  int code = ed25519_verify(data, data + 64, data + 96, params.data_len - 96);
  return code == ED25519_OK ? SUCCESS : SOL_CUSTOM_ERROR((uint64_t)code);
}

#include "../lib/ed25519/ed25519.c"
#include "../lib/ed25519/fe25519.c"
#include "../lib/ed25519/fe25519_asm.c"
#include "../lib/ed25519/ge25519.c"
#include "../lib/ed25519/lattice.c"
#include "../lib/ed25519/sc25519.c"
#include "../lib/ed25519/sha512.c"
#include "../lib/ed25519/sha512_asm.c"
