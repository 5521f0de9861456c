/*
 * The compiled part of the Heliostat C SDK, linked into every program: the C library
 * memory functions the compiler may call on its own (struct copies, large initialisers)
 * and the input parser.
 */
#include "heliostat.h"

/* Word-at-a-time when both pointers are 8-aligned: programs copy pubkeys and account data. */
void *memcpy(void *dst, const void *src, size_t n) {
  uint8_t *d = (uint8_t *)dst;
  const uint8_t *s = (const uint8_t *)src;
  if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
    for (; n >= 8; n -= 8, d += 8, s += 8) *(uint64_t *)d = *(const uint64_t *)s;
  }
  for (; n > 0; n--) *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  sol_memmove(dst, src, n);
  return dst;
}

void *memset(void *dst, int value, size_t n) {
  uint8_t *d = (uint8_t *)dst;
  if (((uintptr_t)d & 7) == 0) {
    uint64_t word = (uint8_t)value * 0x0101010101010101ULL;
    for (; n >= 8; n -= 8, d += 8) *(uint64_t *)d = word;
  }
  for (; n > 0; n--) *d++ = (uint8_t)value;
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) { return sol_memcmp(a, b, n); }

static uint64_t read_u64(const uint8_t *p) { return *(const uint64_t *)p; }

bool sol_deserialize(const uint8_t *input, SolParameters *params, uint64_t ka_capacity) {
  if (input == NULL || params == NULL) return false;
  uint64_t total = read_u64(input);
  input += sizeof(uint64_t);
  params->ka_total = total;
  params->ka_num = total < ka_capacity ? total : ka_capacity;

  for (uint64_t i = 0; i < total; i++) {
    uint8_t dup = *input;
    input += 1;
    if (dup != SOL_NON_DUP_MARKER) {
      if (dup >= i) return false; /* a duplicate points back at an earlier account */
      input += 7;
      if (i < ka_capacity) {
        if (dup < ka_capacity) {
          params->ka[i] = params->ka[dup];
        } else {
          return false; /* the original was not kept, so the copy cannot be made */
        }
      }
      continue;
    }
    SolAccountInfo info;
    info.is_signer = input[0] != 0;
    info.is_writable = input[1] != 0;
    info.executable = input[2] != 0;
    input += 3 + 4; /* flags, then the original data length slot agave leaves as padding */
    info.key = (const SolPubkey *)input;
    input += SOL_PUBKEY_SIZE;
    info.owner = (SolPubkey *)input;
    input += SOL_PUBKEY_SIZE;
    info.lamports = (uint64_t *)input;
    input += sizeof(uint64_t);
    info.data_len_ptr = (uint64_t *)input;
    info.data_len = read_u64(input);
    input += sizeof(uint64_t);
    info.data = (uint8_t *)input;
    input += info.data_len + SOL_MAX_PERMITTED_DATA_INCREASE;
    input = (const uint8_t *)(((uintptr_t)input + 7) & ~(uintptr_t)7);
    info.rent_epoch = read_u64(input);
    input += sizeof(uint64_t);
    if (i < ka_capacity) params->ka[i] = info;
  }

  params->data_len = read_u64(input);
  input += sizeof(uint64_t);
  params->data = input;
  input += params->data_len;
  params->program_id = (const SolPubkey *)input;
  return true;
}

bool sol_account_resize(SolAccountInfo *account, uint64_t new_len) {
  if (new_len > account->data_len + SOL_MAX_PERMITTED_DATA_INCREASE) return false;
  *account->data_len_ptr = new_len;
  return true;
}

void *sol_heap_alloc(uint64_t size, uint64_t align) {
  uint64_t *cursor = (uint64_t *)(uintptr_t)SOL_HEAP_START;
  uint64_t used = *cursor == 0 ? sizeof(uint64_t) : *cursor; /* the cursor's own slot */
  if (align == 0 || (align & (align - 1)) != 0) return NULL;
  uint64_t start = (used + align - 1) & ~(align - 1);
  if (start < used || size > SOL_HEAP_LENGTH || start > SOL_HEAP_LENGTH - size) return NULL;
  *cursor = start + size;
  return (void *)(uintptr_t)(SOL_HEAP_START + start);
}
