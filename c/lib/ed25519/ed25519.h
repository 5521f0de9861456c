/*
 * Ed25519 signature verification with exactly the acceptance rules of Solana's transaction
 * sigverify (ed25519-dalek 2.1 VerifyingKey::verify_strict over curve25519-dalek 4), for
 * sBPF. The Python reference and native jet is heliostat.primitives.ed25519 (verify_code),
 * which returns the same code for every input; docs/ed25519.md states the rules.
 */
#pragma once

#include <stdint.h>

#define ED25519_OK 0
#define ED25519_ERR_NON_CANONICAL_S 1    /* s >= L */
#define ED25519_ERR_INVALID_PUBLIC_KEY 2 /* A is not the encoding of a curve point */
#define ED25519_ERR_SMALL_ORDER_KEY 3    /* A has order 1, 2, 4 or 8 */
#define ED25519_ERR_SMALL_ORDER_R 4      /* R decodes to a point of order 1, 2, 4 or 8 */
#define ED25519_ERR_R_MISMATCH 5         /* encode([s]B - [k]A) differs from R's bytes */

/* 0 when sig is a valid signature of msg by pubkey, else one of the codes above. */
int ed25519_verify(const uint8_t sig[64], const uint8_t pubkey[32], const uint8_t *msg,
                   uint64_t msg_len);
