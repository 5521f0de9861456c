/*
 * Runtime utilities: little-endian access, keys, the two bump arenas, rent, log events and
 * instruction failures.
 */
#include "rt.h"

/* sBPF loads and stores at any alignment in one instruction, and so does the proof; these
 * casts are how the runtime reads the packed wire and input formats. */
typedef uint64_t __attribute__((may_alias)) u64_alias;
typedef uint32_t __attribute__((may_alias)) u32_alias;

uint64_t rd64(const uint8_t *p) { return *(const u64_alias *)p; }

uint32_t rd32(const uint8_t *p) { return *(const u32_alias *)p; }

void wr64(uint8_t *p, uint64_t v) { *(u64_alias *)p = v; }

/* Keys compare as four words; the order is bytewise (big-endian words). */
int pk_cmp(const uint8_t *a, const uint8_t *b) {
  for (int i = 0; i < 32; i += 8) {
    uint64_t x = rd64(a + i), y = rd64(b + i);
    if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
  }
  return 0;
}

bool pk_eq_bytes(const pk_t *a, const uint8_t *b) {
  const uint8_t *x = a->b;
  return rd64(x) == rd64(b) && rd64(x + 8) == rd64(b + 8) && rd64(x + 16) == rd64(b + 16) &&
         rd64(x + 24) == rd64(b + 24);
}

bool pk_eq(const pk_t *a, const pk_t *b) { return pk_eq_bytes(a, b->b); }

bool bytes_eq(const uint8_t *a, const uint8_t *b, uint64_t n) {
  for (; n >= 8; n -= 8, a += 8, b += 8) {
    if (rd64(a) != rd64(b)) return false;
  }
  for (; n; n--) {
    if (*a++ != *b++) return false;
  }
  return true;
}

bool is_zeroed(const uint8_t *p, uint64_t n) {
  for (; n >= 8; n -= 8, p += 8) {
    if (rd64(p)) return false;
  }
  for (; n; n--) {
    if (*p++) return false;
  }
  return true;
}

/* Long copies and fills go through the VM's memory services (one step natively, the
 * memory-copy chip when proven); short ones stay loops. */
void copy(void *dst, const void *src, uint64_t n) {
  if (n >= 256) {
    sol_memmove_(dst, src, n);
    return;
  }
  uint8_t *d = dst;
  const uint8_t *s = src;
  if (d > s && d < s + n) {
    sol_memmove(dst, src, n);
    return;
  }
  for (; n >= 32; n -= 32, d += 32, s += 32) {
    uint64_t a = rd64(s), b = rd64(s + 8), c = rd64(s + 16), e = rd64(s + 24);
    wr64(d, a);
    wr64(d + 8, b);
    wr64(d + 16, c);
    wr64(d + 24, e);
  }
  for (; n >= 8; n -= 8, d += 8, s += 8) wr64(d, rd64(s));
  for (; n; n--) *d++ = *s++;
}

void zero(void *dst, uint64_t n) {
  if (n >= 512) {
    sol_memset_(dst, 0, n);
    return;
  }
  uint8_t *d = dst;
  for (; n >= 8; n -= 8, d += 8) wr64(d, 0);
  for (; n; n--) *d++ = 0;
}

SOL_NORETURN void rt_panic(const char *why) {
  uint64_t n = 0;
  while (why[n]) n++;
  sol_log_(why, n);
  abort();
}

static uint8_t *bump(uint8_t **cur, uint8_t *end, uint64_t n) {
  uint8_t *p = (uint8_t *)(((uintptr_t)*cur + 7) & ~(uintptr_t)7);
  if (n > (uint64_t)(end - p)) rt_panic("runtime heap exhausted");
  *cur = p + n;
  return p;
}

void *pers_alloc(kernel_t *k, uint64_t n) { return bump(&k->pers, k->pers_end, n); }

/* The transaction arena is zero wherever it has not been used since the last reset, so
 * allocations come out zeroed without a fill. */
void *tx_alloc(kernel_t *k, uint64_t n) {
  uint8_t *p = bump(&k->txa, k->txa_end, n);
  if (k->txa > k->txa_high) k->txa_high = k->txa;
  return p;
}

void tx_arena_reset(kernel_t *k) {
  zero(k->txa_base, (uint64_t)(k->txa_high - k->txa_base));
  k->txa = k->txa_high = k->txa_base;
}

/* Rent::minimum_balance with an integral exemption threshold (checked by the host). */
uint64_t min_balance(kernel_t *k, uint64_t data_len) {
  return (RT_ACCOUNT_STORAGE_OVERHEAD + data_len) * k->rent_per_byte;
}

/* Log events are buffered and handed to the host in one call just before control can pass to
 * a program (whose own logs must come after them) and before the receipt: one syscall instead
 * of one per line. Record: kind, a, b, length, data padded to 8. */
#define LOG_BUFFER 4096

void log_flush(void) {
  kernel_t *k = (kernel_t *)RT_HEAP_ADDR;
  tx_t *t = k->tx;
  if (t && t->log_len) {
    heliostat_log(RT_LOG_BATCH, t->log_buf, t->log_len, 0, 0);
    t->log_len = 0;
  }
}

void log_event(uint64_t kind, const void *data, uint64_t len, uint64_t a, uint64_t b) {
  kernel_t *k = (kernel_t *)RT_HEAP_ADDR;
  tx_t *t = k->tx;
  uint64_t size = 32 + ((len + 7) & ~7ULL);
  if (size > LOG_BUFFER) {
    log_flush();
    heliostat_log(kind, data, len, a, b);
    return;
  }
  if (!t->log_buf) t->log_buf = tx_alloc(k, LOG_BUFFER);
  if (t->log_len + size > LOG_BUFFER) log_flush();
  uint8_t *p = t->log_buf + t->log_len;
  wr64(p, kind);
  wr64(p + 8, a);
  wr64(p + 16, b);
  wr64(p + 24, len);
  copy(p + 32, data, len);
  zero(p + 32 + len, size - 32 - len);
  t->log_len += size;
}

void log_message(kernel_t *k, uint64_t template_id, const void *args, uint64_t len) {
  log_event(RT_LOG_MESSAGE, args, len, template_id, 0);
}

void log_message_keys(kernel_t *k, uint64_t template_id, const pk_t *a, const pk_t *b) {
  uint8_t args[64];
  copy(args, a, 32);
  if (b) copy(args + 32, b, 32);
  log_message(k, template_id, args, b ? 64 : 32);
}

int fail_log(kernel_t *k, uint32_t kind, uint32_t log, uint64_t arg, const pk_t *key) {
  rt_error_t *e = &k->tx->err;
  e->kind = kind;
  e->custom = 0;
  e->log = log;
  e->arg = arg;
  e->key = key;
  return 1;
}

int fail(kernel_t *k, uint32_t kind) { return fail_log(k, kind, kind, 0, NULL); }

int fail_custom(kernel_t *k, uint32_t code) {
  fail_log(k, IE_CUSTOM, IE_CUSTOM, 0, NULL);
  k->tx->err.custom = code;
  return 1;
}
