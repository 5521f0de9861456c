/*
 * heliostat_poseidon2_permute: the VM's Poseidon2 precompile (kernel image only).
 * state: 16 u32 little-endian words, 8-byte aligned, each below p = 2013265921; replaced in
 * place by Poseidon2 (BabyBear, width 16, Plonky3's constants). r0 = 0. A misaligned pointer,
 * an unmapped address or a non-canonical word stops the kernel (a runtime bug).
 * Semantics: docs/state.md ("The Poseidon2 syscall"); Python: heliostat.svm.syscalls.poseidon2.
 */
#pragma once

#include <stdint.h>

extern uint64_t heliostat_poseidon2_permute(uint32_t *state);
