/*
 * Scalars modulo L = 2^252 + 27742317777372353535851937790883648493, the order of the
 * ed25519 base point, as 32-byte little-endian strings.
 */
#pragma once

#include <stdint.h>

/* 1 when s < L (RFC 8032 5.1.7; ed25519-dalek's Scalar::from_canonical_bytes). */
int sc25519_is_canonical(const uint8_t s[32]);

/* out = in mod L, in [0, L): in is a 64-byte little-endian integer (a SHA-512 digest). */
void sc25519_reduce(uint8_t out[32], const uint8_t in[64]);
