/*
 * Heliostat C SDK for sBPF v0 programs (and the rollup runtime).
 *
 * Include this one header. A program defines
 *
 *     uint64_t entrypoint(const uint8_t *input);
 *
 * parses its input with sol_deserialize(), and returns SUCCESS (0), a builtin error
 * (ERROR_*), or a custom error code (1..0xffffffff, see SOL_CUSTOM_ERROR).
 *
 * Build with `python -m heliostat.toolchain build prog.c -o prog.so`; the build links
 * heliostat_sdk.c (memcpy/memset/memmove/memcmp and the input parser) into every program.
 */
#pragma once

#include "heliostat/types.h"
#include "heliostat/errors.h"
#include "heliostat/syscalls.h"
#include "heliostat/mem.h"
#include "heliostat/log.h"
#include "heliostat/input.h"
