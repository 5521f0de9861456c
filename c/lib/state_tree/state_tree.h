/*
 * The state tree, seen from the runtime: read a batch witness, hand the touched accounts to
 * the runtime, verify them against the old root and compute the new root in one pass.
 *
 * The tree is an indexed Merkle tree of depth 32 over Poseidon2/BabyBear; docs/state.md
 * specifies the leaf encoding and the witness bytes, and heliostat.runtime.state_witness is
 * the Python reference of every function here (same checks, same order, same codes).
 *
 *   st_batch b;
 *   int rc = st_open(&b, witness, len, mem, st_memory_size(n));   // structure only
 *   st_account *a = st_find(&b, key);                              // a->old: start value
 *   ... the runtime executes, writing each touched account's final value in a->new ...
 *   rc = st_commit(&b, &old_root, &new_root);                      // THE check + new root
 *
 * Values from st_open are unverified until st_commit (or st_verify) returns ST_OK: a batch
 * whose commit fails must publish nothing. Poseidon2 runs through the VM's
 * heliostat_poseidon2_permute syscall (poseidon2_syscall.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_DEPTH 32
#define ST_VERSION 1

/* Return codes (heliostat.runtime.state_witness.WitnessErrorCode). */
#define ST_OK 0
#define ST_ERR_TRUNCATED 1    /* the bytes end inside the structure */
#define ST_ERR_TRAILING 2     /* bytes after the siblings */
#define ST_ERR_FORMAT 3       /* version, depth, kind, flags, padding; witness not 8-aligned */
#define ST_ERR_ORDER 4        /* keys not strictly ascending */
#define ST_ERR_NONCANONICAL 5 /* a digest word >= p */
#define ST_ERR_LOW_LEAF 6     /* a false absence claim */
#define ST_ERR_INDEX_ORDER 7  /* index order not strictly ascending: a duplicate leaf */
#define ST_ERR_SIBLINGS 8     /* too few or too many siblings */
#define ST_ERR_ROOT 9         /* the witness does not hash to the old root */
#define ST_ERR_MEMORY 10      /* the memory given to st_open is too small or misaligned */
#define ST_ERR_VALUE 11       /* a final value the tree cannot hold */

/* Status of an account after st_commit. */
#define ST_UNCHANGED 0
#define ST_UPDATED 1
#define ST_CREATED 2
#define ST_EMPTIED 3 /* lamports went to 0: the leaf became a tombstone */
#define ST_ABSENT 4  /* absent before and after */

/* A digest: 8 canonical BabyBear elements. Roots are these 32 bytes (u32 little-endian). */
typedef struct {
  uint32_t e[8];
} __attribute__((aligned(8))) st_digest;

/* An account's value. Lamports 0 in a final value means deleted (or still absent). */
typedef struct {
  uint64_t lamports;
  uint64_t rent_epoch;
  const uint8_t *data; /* NULL: no bytes (length 0, or elided and unchanged) */
  uint64_t data_len;   /* < 2^32 */
  uint8_t owner[32];
  uint8_t executable; /* 0 or 1 */
  uint8_t pad[7];
} st_value;

typedef struct {
  const uint8_t *key; /* 32 bytes inside the witness */
  st_value old;       /* the start value: the default account when absent */
  st_value new;       /* st_open copies old here; the runtime writes the final value */
  uint8_t present;    /* the key has a leaf in the old tree (tombstones included) */
  uint8_t elided;     /* the witness carries the data hash, not the data: data stays */
  uint8_t status;     /* ST_UNCHANGED ... after st_commit */
  uint8_t pad0;
  uint32_t index;           /* present: its leaf; absent: the empty leaf it would take */
  uint32_t low;             /* absent: position of its low leaf in accounts[] */
  uint32_t tail;            /* internal: the last record linked behind this low leaf */
  st_digest data_hash;      /* hash of old.data (given by the witness when elided) */
  const uint8_t *next_key;  /* present: the old next key (all zero: none) */
  const uint8_t *new_next;  /* after st_commit: the new next key */
  st_digest old_leaf, new_leaf;
} st_account;

/* A Poseidon2 state (16 u32 words, 8-aligned, what the syscall permutes in place). */
typedef union {
  uint64_t w[8];
  uint32_t e[16];
} st_state;

/* A node of the multiproof: its digest is the first half of its permutation state. */
typedef struct {
  uint64_t index;
  uint64_t changed; /* the subtree changed: `new` holds the new digest, else it is `old`'s */
  st_state old, new;
} st_node;

typedef struct {
  st_account *accounts; /* ascending by key */
  uint64_t n_accounts;
  const uint32_t *order;    /* positions ascending by leaf index */
  const st_digest *siblings;
  uint64_t n_siblings;
  st_node *nodes;
  st_node **live;
} st_batch;

/* Bytes of memory st_open needs for n records (the witness header's third u32). */
uint64_t st_memory_size(uint64_t n_records);

/* Parse and check the witness (8-aligned, length len) into b, using mem (8-aligned). */
int st_open(st_batch *b, const uint8_t *witness, uint64_t len, void *mem, uint64_t mem_len);

/* The account with this key, or NULL (binary search). */
st_account *st_find(const st_batch *b, const uint8_t key[32]);

/* Verify every old value against old_root and compute new_root from the final values. */
int st_commit(st_batch *b, const st_digest *old_root, st_digest *new_root);

/* Verify the old values only (an optional early check; st_commit checks again). */
int st_verify(st_batch *b, const st_digest *old_root);
