/*
 * The program input (Solana's ABI v1, "aligned" serialisation of BPFLoader2 and the
 * upgradeable loader) and its parser. Layout, from agave's serialize_parameters_aligned:
 *
 *   u64 number of accounts
 *   per account: u8 duplicate marker (0xff = first occurrence, else the index of the
 *     original followed by 7 bytes of padding), then for a first occurrence:
 *     u8 is_signer, u8 is_writable, u8 executable, 4 bytes padding, 32-byte key,
 *     32-byte owner, u64 lamports, u64 data length, the data, 10 KiB of realloc space,
 *     padding to 8 bytes, u64 rent epoch
 *   u64 instruction data length, the instruction data, the 32-byte program id
 *
 * Pointers in SolAccountInfo point into the input region: writes through `lamports`,
 * `data` and `owner` are what the runtime reads back after the program exits.
 */
#pragma once

#include "types.h"

#define SOL_NON_DUP_MARKER 0xff
#define SOL_MAX_PERMITTED_DATA_INCREASE (10 * 1024)

typedef struct {
  const SolPubkey *key;
  uint64_t *lamports;
  uint64_t data_len;      /* length at entry */
  uint8_t *data;
  SolPubkey *owner;       /* writable: assigning an account writes here */
  uint64_t rent_epoch;
  bool is_signer;
  bool is_writable;
  bool executable;
  uint64_t *data_len_ptr; /* the serialised length: write it to resize (sol_account_resize) */
} SolAccountInfo;

typedef struct {
  SolAccountInfo *ka;           /* caller-provided array, filled up to its capacity */
  uint64_t ka_num;              /* accounts filled in ka */
  uint64_t ka_total;            /* accounts in the input (may exceed ka_num) */
  const uint8_t *data;          /* instruction data */
  uint64_t data_len;
  const SolPubkey *program_id;
} SolParameters;

/*
 * Parses `input` into `params`, filling at most `ka_capacity` entries of params->ka
 * (the rest are skipped but still walked over). Returns false on a malformed input.
 */
bool sol_deserialize(const uint8_t *input, SolParameters *params, uint64_t ka_capacity);

/* Sets the account's data length (up to data_len + 10 KiB); returns false if too long. */
bool sol_account_resize(SolAccountInfo *account, uint64_t new_len);

/*
 * The heap: 32 KiB (the runtime's default) at 0x3_0000_0000, zeroed at entry. Programs have
 * no mutable globals, so the bump allocator keeps its cursor in the heap's first 8 bytes.
 * Returns NULL when the request does not fit; memory is never freed.
 */
#define SOL_HEAP_START 0x300000000ULL
#define SOL_HEAP_LENGTH (32 * 1024)

void *sol_heap_alloc(uint64_t size, uint64_t align);
