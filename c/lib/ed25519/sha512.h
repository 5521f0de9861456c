/* SHA-512 (FIPS 180-4) for sBPF: streaming and one-shot. */
#pragma once

#include <stdint.h>

typedef struct {
  uint64_t state[8];
  uint64_t length;     /* bytes absorbed so far (messages below 2^61 bytes) */
  uint8_t buffer[128]; /* a partial block */
  uint64_t buffered;
} sha512_ctx;

void sha512_init(sha512_ctx *ctx);
void sha512_update(sha512_ctx *ctx, const uint8_t *data, uint64_t len);
void sha512_final(sha512_ctx *ctx, uint8_t digest[64]);
void sha512(uint8_t digest[64], const uint8_t *data, uint64_t len);

/* The compression function on one 128-byte block (exposed for measurements). */
void sha512_block(uint64_t state[8], const uint8_t block[128]);
