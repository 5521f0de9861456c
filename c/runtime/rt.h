/*
 * Heliostat runtime (the kernel image): shared types, constants and prototypes.
 *
 * The runtime is the rollup's state transition function. It reads a batch (header, sysvars,
 * priority operations, blocks of wire-format transactions, the account witness) from its
 * read-only input region, processes every transaction as agave does, runs BPF programs
 * through the VM's kernel switch (kernel_abi.h), reports receipts natively and publishes the
 * batch's public output. docs/runtime.md is the specification of every format here.
 *
 * No writable globals exist in an sBPF image: all state hangs off one `kernel_t` at the start
 * of the heap, passed to every function as `k`.
 */
#pragma once

#include <heliostat.h>

#include "kernel_abi.h"
#include "rt_errors.h"
#include "state_tree/state_tree.h"

/* ---------------------------------------------------------------------------------------- */
/* Limits and constants (agave 4.1 / solana-sdk values, named after their upstream names). */

#define RT_HEAP_ADDR 0x300000000ULL
#define RT_MAX_TX_ACCOUNTS 256             /* u8 indices */
#define RT_MAX_TX_ACCOUNT_LOCKS 128        /* MAX_TX_ACCOUNT_LOCKS */
#define RT_MAX_INSTRUCTION_ACCOUNTS 255    /* MAX_ACCOUNTS_PER_INSTRUCTION */
#define RT_MAX_INSTRUCTION_DATA 10240      /* MAX_INSTRUCTION_DATA_LEN */
#define RT_MAX_CPI_ACCOUNT_INFOS 255       /* MAX_CPI_ACCOUNT_INFOS_SIMD_0339 */
#define RT_MAX_STACK_HEIGHT 5              /* max_instruction_stack_depth */
#define RT_MAX_TRACE_LENGTH 64             /* max_instruction_trace_length */
#define RT_MAX_SIGNERS 16
#define RT_MAX_SEEDS 16
#define RT_MAX_SEED_LEN 32
#define RT_MAX_PERMITTED_DATA_INCREASE 10240
#define RT_MAX_PERMITTED_DATA_LENGTH (10ULL * 1024 * 1024)
#define RT_MAX_TX_DATA_GROWTH (20LL * 1024 * 1024)
#define RT_MAX_RETURN_DATA 1024
#define RT_PACKET_DATA_SIZE 1232
#define RT_DEFAULT_CU_PER_INSTRUCTION 200000
#define RT_BUILTIN_CU_ALLOCATION 3000      /* MAX_BUILTIN_ALLOCATION_COMPUTE_UNIT_LIMIT */
#define RT_MAX_COMPUTE_UNIT_LIMIT 1400000
#define RT_MIN_HEAP 32768
#define RT_MAX_HEAP 262144
#define RT_BUILTIN_CU 150                  /* DEFAULT_COMPUTE_UNITS of system & compute budget */
#define RT_INVOKE_UNITS 946
#define RT_CPI_BYTES_PER_UNIT 250
#define RT_SYSCALL_BASE_COST 100
#define RT_SYSVAR_BASE_COST 100
#define RT_MEM_OP_BASE_COST 10
#define RT_HEAP_COST 8
#define RT_ACCOUNT_STORAGE_OVERHEAD 128

/* Transaction outcome classes in receipts. */
#define RT_TX_OK 0
#define RT_TX_FAILED 1   /* included: fee charged, everything else rolled back */
#define RT_TX_REJECTED 2 /* not included: nothing changed */

/* Log event kinds (heliostat_log); the host formats them (heliostat.runtime.logs). */
#define RT_LOG_INVOKE 1   /* data = program id, a = stack height */
#define RT_LOG_SUCCESS 2  /* data = program id */
#define RT_LOG_FAILED 3   /* data = program id [+ payload], a = failure code, b = number */
#define RT_LOG_CONSUMED 4 /* data = program id, a = consumed, b = budget */
#define RT_LOG_RETURN 5   /* data = program id || return data */
#define RT_LOG_MESSAGE 6  /* data = arguments, a = message template */
#define RT_LOG_BATCH 7    /* data = several events: kind, a, b, length, data (padded) */

/* Failure codes beyond the InstructionError indices (RT_LOG_FAILED a; rt_error_t.log). */
#define RT_FAIL_LAST_FAULT 200      /* the message of the activation's fault (host knows it) */
#define RT_FAIL_LAST_VIOLATION 201  /* the access violation of the last failed copy */
#define RT_FAIL_UNALIGNED 202       /* "Unaligned pointer" */
#define RT_FAIL_RETURN_TOO_LARGE 203
#define RT_FAIL_TOO_MANY_SIGNERS 204
#define RT_FAIL_SEED_TOO_LONG 205
#define RT_FAIL_INVALID_SEEDS 206
#define RT_FAIL_TOO_MANY_ACCOUNTS 207
#define RT_FAIL_DATA_TOO_LARGE 208
#define RT_FAIL_TOO_MANY_INFOS 209
#define RT_FAIL_PROGRAM_NOT_SUPPORTED 210 /* data carries the program id */
#define RT_FAIL_INVALID_LENGTH 211
#define RT_FAIL_OVERLAPPING 212

/* Message templates (RT_LOG_MESSAGE a); heliostat.runtime.logs holds the texts. */
#define RT_MSG_TRANSFER_FROM_DATA 1
#define RT_MSG_TRANSFER_INSUFFICIENT 2
#define RT_MSG_TRANSFER_MUST_SIGN 3
#define RT_MSG_ALLOCATE_MUST_SIGN 4
#define RT_MSG_ALLOCATE_IN_USE 5
#define RT_MSG_ALLOCATE_TOO_LARGE 6
#define RT_MSG_ASSIGN_MUST_SIGN 7
#define RT_MSG_CREATE_IN_USE 8
#define RT_MSG_CREATE_SEED_MISMATCH 9
#define RT_MSG_TRANSFER_SEED_MUST_SIGN 10
#define RT_MSG_TRANSFER_SEED_MISMATCH 11
#define RT_MSG_UNKNOWN_ACCOUNT 12
#define RT_MSG_WRITABLE_ESCALATED 13
#define RT_MSG_SIGNER_ESCALATED 14
#define RT_MSG_UNKNOWN_PROGRAM 15
#define RT_MSG_REALLOC_LIMITED 16

/* ---------------------------------------------------------------------------------------- */
/* Types */

typedef struct {
  uint8_t b[32];
} pk_t;

/* One account of the batch state (a witness entry, updated as transactions commit). */
typedef struct {
  pk_t key;
  pk_t owner;
  uint64_t lamports;
  uint64_t rent_epoch;
  uint64_t len;
  uint8_t *data;         /* committed bytes (in the input until first written) */
  uint64_t cap;          /* capacity of `data` in the heap (0: it lives in the input) */
  const uint8_t *image;  /* 32-byte image id when the account holds an ELF, else NULL */
  st_account *st;        /* its state-tree record (state-tree mode), else NULL */
  uint8_t executable;
  uint8_t elided;        /* data not supplied (program bytes): never serialised */
  uint8_t changed;       /* part of the state diff */
  uint8_t pad[5];
} account_t;

/* A transaction account: the working state one transaction sees and changes. */
typedef struct {
  const pk_t *key;
  account_t *stored;
  uint64_t lamports;
  pk_t owner;
  uint8_t *data;
  uint64_t len, cap;
  uint64_t rent_epoch;
  uint8_t executable, signer, writable, invoked;
  uint8_t copied;    /* data is a private copy (writable accounts) */
  uint8_t committed; /* changed the store when the transaction committed */
  uint8_t pad[2];
} txacct_t;

/* A compiled instruction of the message. */
typedef struct {
  uint8_t program;
  uint8_t pad[7];
  uint64_t n_accounts;
  const uint8_t *accounts;
  uint64_t data_len;
  const uint8_t *data;
} cix_t;

/* A parsed and sanitised message. */
typedef struct {
  const uint8_t *tx;
  uint64_t tx_len;
  const uint8_t *sigs;
  uint64_t n_sigs;
  const uint8_t *msg;
  uint64_t msg_len;
  uint8_t versioned, n_req_sigs, n_ro_signed, n_ro_unsigned;
  uint8_t pad[4];
  uint64_t n_keys;
  const pk_t *keys;
  const uint8_t *blockhash;
  uint64_t n_ix;
  cix_t *ix;
} message_t;

/* An instruction account as an invocation sees it. */
typedef struct {
  uint16_t tx_index;
  uint16_t first; /* position of its first occurrence in this instruction */
  uint8_t signer, writable;
  uint8_t pad[2];
} iacct_t;

/* One invocation on the instruction stack. */
typedef struct frame {
  struct frame *caller;
  uint64_t height;
  uint16_t program; /* tx index of the program account */
  uint8_t pad[6];
  uint64_t n;
  iacct_t *accts;
  const uint8_t *data;
  uint64_t data_len;
  /* BPF only: the serialised input and where each position's account lives in it */
  uint8_t *buf;
  uint64_t buf_len;
  uint64_t *hdr;      /* per position: offset of the account's serialised header */
  uint64_t *orig_len; /* per position: data length when serialised */
  hs_activation act;
} frame_t;

/* An instruction failure: the InstructionError, and how "failed: ..." is printed. */
typedef struct {
  uint32_t kind;   /* InstructionError index (rt_errors.h) */
  uint32_t custom; /* Custom(n) */
  uint32_t log;    /* RT_FAIL_* or the kind */
  uint32_t pad;
  uint64_t arg;    /* a number for the log text */
  const pk_t *key; /* a key for the log text */
} rt_error_t;

typedef struct {
  pk_t sender;
  uint8_t recipient[20];
  uint8_t pad[4];
  uint64_t lamports;
} withdrawal_t;

/* The current transaction. */
typedef struct {
  message_t m;
  uint64_t l1_index;      /* position in the L1 queue of a forced transaction, else ~0 */
  uint64_t err_payer;     /* index of the fee payer */
  txacct_t *accts; /* one per account key */
  uint64_t cu_limit, meter, price, heap;
  uint64_t fee;
  uint64_t trace_len;     /* instructions started (CPI included) */
  int64_t resize_delta;
  frame_t *top;           /* the running invocation */
  pk_t return_program;
  uint64_t return_len;
  uint8_t return_data[RT_MAX_RETURN_DATA];
  rt_error_t err;
  uint64_t err_ix;        /* top-level instruction index of the failure */
  uint32_t tx_error;      /* TransactionError variant when not an instruction error */
  uint32_t tx_error_index;
  withdrawal_t *withdrawals;
  uint64_t n_withdrawals;
  uint8_t *log_buf; /* buffered log events (log_flush) */
  uint64_t log_len;
} tx_t;

typedef struct {
  const uint8_t *id;
  const uint8_t *data;
  uint64_t len;
} sysvar_t;

typedef struct kernel {
  const uint8_t *input;
  uint64_t heap_size;
  uint64_t batch_number;
  const uint8_t *old_root;
  uint64_t lamports_per_signature;
  uint64_t rent_per_byte; /* lamports_per_byte_year * exemption_threshold */
  uint64_t flags;
  uint64_t n_priority, n_blocks;
  const uint8_t *ops; /* priority operations, followed by the blocks */
  uint64_t n_sysvars;
  sysvar_t *sysvars;
  uint64_t n_accounts;
  account_t *accounts;
  /* arenas: persistent (whole batch) and per transaction (zeroed after each) */
  uint8_t *pers, *pers_end;
  uint8_t *txa_base, *txa, *txa_end, *txa_high;
  /* the block being processed */
  uint64_t slot;
  const uint8_t *clock; /* 40 bytes of Clock sysvar data */
  uint64_t n_blockhashes;
  const uint8_t *blockhashes;
  /* batch results */
  uint8_t priority_hash[32];
  uint64_t priority_count;
  withdrawal_t *withdrawals;
  uint64_t n_withdrawals, max_withdrawals;
  st_batch st;          /* state-tree mode: the opened witness */
  uint8_t new_root[32]; /* state-tree mode: computed at the end of the batch */
  const uint8_t *hints; /* the current transaction's witness-index hints (u32 each) */
  uint64_t n_hints;
  const uint8_t **sig_table; /* open addressing over first-signature prefixes */
  uint64_t sig_mask;
  tx_t *tx;
} kernel_t;

#define RT_FLAG_VERIFY_SIGNATURES 1
#define RT_FLAG_STATE_TREE 2 /* the witness is a state-tree batch witness (docs/state.md) */

/* ---------------------------------------------------------------------------------------- */
/* Utilities (rt_util.c) */

uint64_t rd64(const uint8_t *p);
uint32_t rd32(const uint8_t *p);
void wr64(uint8_t *p, uint64_t v);
bool pk_eq(const pk_t *a, const pk_t *b);
bool pk_eq_bytes(const pk_t *a, const uint8_t *b);
int pk_cmp(const uint8_t *a, const uint8_t *b);
bool is_zeroed(const uint8_t *p, uint64_t n);
bool bytes_eq(const uint8_t *a, const uint8_t *b, uint64_t n);
void copy(void *dst, const void *src, uint64_t n);
void zero(void *dst, uint64_t n);
void *pers_alloc(kernel_t *k, uint64_t n);
void *tx_alloc(kernel_t *k, uint64_t n); /* zeroed */
void tx_arena_reset(kernel_t *k);
SOL_NORETURN void rt_panic(const char *why);
uint64_t min_balance(kernel_t *k, uint64_t data_len);
void log_event(uint64_t kind, const void *data, uint64_t len, uint64_t a, uint64_t b);
void log_flush(void);
void log_message(kernel_t *k, uint64_t template_id, const void *args, uint64_t len);
void log_message_keys(kernel_t *k, uint64_t template_id, const pk_t *a, const pk_t *b);
int fail(kernel_t *k, uint32_t kind);
int fail_custom(kernel_t *k, uint32_t code);
int fail_log(kernel_t *k, uint32_t kind, uint32_t log, uint64_t arg, const pk_t *key);

/* Well-known ids (rt_util.c) */

const pk_t *id_system(void);
const pk_t *id_clock(void);
const pk_t *id_rent(void);
const pk_t *id_instructions(void);
const pk_t *id_epoch_schedule(void);
const pk_t *id_epoch_rewards(void);
const pk_t *id_last_restart_slot(void);
const pk_t *id_compute_budget(void);
const pk_t *id_native_loader(void);
const pk_t *id_bpf_loader2(void);
const pk_t *id_bpf_upgradeable(void);
const pk_t *id_bpf_deprecated(void);
const pk_t *id_loader_v4(void);
const pk_t *id_bridge(void);
const pk_t *id_bridge_vault(void);
const pk_t *id_incinerator(void);
bool is_reserved_key(const pk_t *key);

/* Input and state (input.c) */
void input_parse(kernel_t *k, const uint8_t *input);
account_t *store_find(kernel_t *k, const uint8_t *key);
void store_commit(kernel_t *k, account_t *a, const txacct_t *t);
void state_commit(kernel_t *k);

/* Messages (message.c) */
uint32_t message_parse(kernel_t *k, message_t *m, const uint8_t *tx, uint64_t len);
bool message_is_writable(const message_t *m, uint64_t i);
bool message_is_signer(const message_t *m, uint64_t i);

/* Transactions (transaction.c) */
void transaction_process(kernel_t *k, const uint8_t *tx, uint64_t len, uint64_t l1_index);

/* Instructions (instruction.c) */
int instruction_top_level(kernel_t *k, const cix_t *ix);
int instruction_invoke(kernel_t *k, frame_t *callee);
void instruction_log_failure(kernel_t *k, const pk_t *program);
bool frame_is_owner(kernel_t *k, const frame_t *f, const txacct_t *a);
txacct_t *frame_account(kernel_t *k, const frame_t *f, uint64_t position);
int consume(kernel_t *k, uint64_t units);

/* Account rules (BorrowedAccount), instruction.c */
int acct_set_lamports(kernel_t *k, const frame_t *f, uint64_t pos, uint64_t lamports);
int acct_set_data_length(kernel_t *k, const frame_t *f, uint64_t pos, uint64_t len);
int acct_set_data(kernel_t *k, const frame_t *f, uint64_t pos, const uint8_t *data, uint64_t len);
int acct_set_owner(kernel_t *k, const frame_t *f, uint64_t pos, const pk_t *owner);
int acct_adopt_data(kernel_t *k, const frame_t *f, uint64_t pos, uint8_t *data, uint64_t len);
int acct_can_resize(kernel_t *k, const frame_t *f, uint64_t pos, uint64_t len);

/* Builtins */
int system_process(kernel_t *k, frame_t *f);
int compute_budget_process(kernel_t *k, frame_t *f);
int bridge_process(kernel_t *k, frame_t *f);
int bpf_process(kernel_t *k, frame_t *f);
int kernel_call(kernel_t *k, frame_t *f, uint64_t *result);
int cpi_invoke(kernel_t *k, frame_t *f, bool rust_abi);

/* An account meta of an inner instruction, as a builtin or a program passes it. */
typedef struct {
  const pk_t *key;
  uint8_t signer, writable;
  uint8_t pad[6];
} cpi_meta_t;

/* An inner instruction: program, account metas, PDA signers, data. */
typedef struct {
  const pk_t *program;
  const cpi_meta_t *metas;
  uint64_t n;
  const pk_t *signers;
  uint64_t n_signers;
  const uint8_t *data;
  uint64_t len;
} cpi_request_t;

/* prepare_next_instruction: the callee's frame, with agave's privilege checks. */
int cpi_prepare(kernel_t *k, frame_t *caller, const cpi_request_t *req, frame_t **out);

/* Outputs (output.c) */
void output_receipt(kernel_t *k, uint64_t status);
void output_publish(kernel_t *k);
void priority_hash_update(kernel_t *k, const uint8_t *record, uint64_t len);
