/*
 * The kernel switch, seen from the kernel (the runtime image): the activation record, the
 * statuses, fault classes and kernel-call numbers, and the kernel-only syscalls. Mirrors
 * heliostat.svm.kernel_abi; docs/svm.md ("Kernel switch") is the specification.
 */
#pragma once

#include <stdint.h>

typedef struct {
  uint64_t input_addr;    /* in (enter): kernel address of the program's input buffer */
  uint64_t input_len;     /* in (enter) */
  uint64_t heap_size;     /* in (enter): bytes, <= 256 KiB, multiple of 1 KiB */
  uint64_t data_offset;   /* in (enter): r2 = 0x400000000 + data_offset */
  uint64_t compute_units; /* in: units the program may use from now; out: units left */
  uint64_t status;        /* out: HS_EXITED, HS_FAULTED, HS_KERNEL_CALL */
  uint64_t value;         /* out: r0, fault class, or kernel-call number */
  uint64_t args[5];       /* out: kernel call r1..r5; fault class 4: instruction error */
  uint64_t result;        /* in (resume): r0 for the program */
  uint64_t fail;          /* in (resume): non-zero ends the program (fault class 5) */
  uint64_t depth;         /* out: 1 for a top-level instruction's program */
  uint64_t instructions;  /* out: instructions the program executed so far */
} hs_activation;

_Static_assert(sizeof(hs_activation) == 128, "the activation record is 128 bytes");

#define HS_EXITED 0
#define HS_FAULTED 1
#define HS_KERNEL_CALL 2

#define HS_FAULT_VM 1
#define HS_FAULT_SYSCALL 2
#define HS_FAULT_BUDGET 3
#define HS_FAULT_INSTRUCTION_ERROR 4
#define HS_FAULT_KERNEL 5

#define HS_CALL_INVOKE_C 1
#define HS_CALL_INVOKE_RUST 2
#define HS_CALL_SET_RETURN_DATA 3
#define HS_CALL_GET_RETURN_DATA 4
#define HS_CALL_STACK_HEIGHT 5
#define HS_CALL_GET_SYSVAR 6
#define HS_CALL_CLOCK 7
#define HS_CALL_RENT 8
#define HS_CALL_EPOCH_SCHEDULE 9
#define HS_CALL_EPOCH_REWARDS 10
#define HS_CALL_LAST_RESTART_SLOT 11
#define HS_CALL_SIBLING 12
#define HS_CALL_EPOCH_STAKE 13

#define HS_ACCESS_OK 0
#define HS_ACCESS_VIOLATION 1

uint64_t heliostat_program_enter(const uint8_t *image_id, hs_activation *record);
uint64_t heliostat_program_resume(hs_activation *record);
uint64_t heliostat_caller_read(void *dst, uint64_t program_src, uint64_t len);
uint64_t heliostat_caller_write(uint64_t program_dst, const void *src, uint64_t len);
uint64_t heliostat_publish(const void *data, uint64_t len);
uint64_t heliostat_receipt(const void *data, uint64_t len);
uint64_t heliostat_log(uint64_t kind, const void *data, uint64_t len, uint64_t a, uint64_t b);

#define HS_KERNEL_SYSCALLS                                                                    \
  "heliostat_program_enter", "heliostat_program_resume", "heliostat_caller_read",            \
      "heliostat_caller_write", "heliostat_publish", "heliostat_receipt", "heliostat_log"
