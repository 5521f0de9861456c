/*
 * Solana syscalls, declared under their runtime names. The linker turns each call into an
 * R_BPF_64_32 relocation that the loader binds by murmur3-32 of the name; calling a name
 * that is not a syscall and that no file defines is a link error.
 */
#pragma once

#include "types.h"

/* Logging */
void sol_log_(const char *message, uint64_t len);
void sol_log_64_(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e);
void sol_log_pubkey(const SolPubkey *pubkey);
void sol_log_compute_units_(void);
void sol_log_data(const SolBytes *slices, uint64_t count);

/* Memory; the runtime charges CU per byte and checks regions and overlap (memcpy_). */
void sol_memcpy_(void *dst, const void *src, uint64_t n);
void sol_memmove_(void *dst, const void *src, uint64_t n);
void sol_memset_(void *dst, uint8_t value, uint64_t n);
void sol_memcmp_(const void *a, const void *b, uint64_t n, int32_t *result);

/* Aborting */
SOL_NORETURN void sol_panic_(const char *file, uint64_t len, uint64_t line, uint64_t column);
SOL_NORETURN void abort(void);

/* Return data */
void sol_set_return_data(const uint8_t *data, uint64_t len);
uint64_t sol_get_return_data(uint8_t *data, uint64_t len, SolPubkey *program_id);

/* Hashing: results are 32 bytes */
uint64_t sol_sha256(const SolBytes *slices, uint64_t count, uint8_t *result);
uint64_t sol_keccak256(const SolBytes *slices, uint64_t count, uint8_t *result);

/* Program addresses */
uint64_t sol_create_program_address(const SolBytes *seeds, uint64_t count,
                                    const SolPubkey *program_id, SolPubkey *address);
uint64_t sol_try_find_program_address(const SolBytes *seeds, uint64_t count,
                                      const SolPubkey *program_id, SolPubkey *address,
                                      uint8_t *bump_seed);

/* Sysvars and context */
uint64_t sol_get_clock_sysvar(void *clock);
uint64_t sol_get_rent_sysvar(void *rent);
uint64_t sol_get_epoch_schedule_sysvar(void *schedule);
uint64_t sol_get_stack_height(void);
uint64_t sol_remaining_compute_units(void);
