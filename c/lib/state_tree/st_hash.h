/*
 * The state tree's hashing: the 30-bit packing, leaf and data hashes, node compression
 * (docs/state.md, "Leaf encoding"). Every permutation goes through the VM's syscall;
 * node compression lives in state_tree.c's multiproof, which permutes states in place.
 */
#pragma once

#include "state_tree.h"

/* Zero digest for empty data, else the length-tagged compression chain over 30-byte blocks. */
void st_data_hash(const uint8_t *data, uint64_t len, st_digest *out);

/* The leaf digest of (key, next key, value) with the value's data hash given. */
void st_leaf_hash(const uint8_t *key, const uint8_t *next_key, const st_value *v,
                  const st_digest *data_hash, st_digest *out);

/* Byte helpers shared with state_tree.c. */
int st_key_cmp(const uint8_t *a, const uint8_t *b);
bool st_bytes_eq(const uint8_t *a, const uint8_t *b, uint64_t n);
void st_copy(void *dst, const void *src, uint64_t n);
