/*
 * The System Program as a builtin (agave programs/system system_processor.rs): transfer,
 * create account, assign, allocate and their with-seed variants, with agave's checks, errors
 * (SystemError as Custom codes) and log messages. Nonce-account instructions are not
 * supported (InvalidInstructionData; docs/runtime.md lists the difference).
 */
#include "rt.h"

/* SystemError codes (solana-system-interface) */
#define SYS_ACCOUNT_ALREADY_IN_USE 0
#define SYS_RESULT_WITH_NEGATIVE_LAMPORTS 1
#define SYS_INVALID_ACCOUNT_DATA_LENGTH 3
#define SYS_ADDRESS_WITH_SEED_MISMATCH 5

/* The "Address" of an account being created or changed: `base` is set for seeded addresses
 * (then the base must sign instead of the address). */
typedef struct {
  const pk_t *address;
  const pk_t *base;
} address_t;

typedef struct {
  const uint8_t *p, *end;
  bool bad;
} bincode_t;

static const uint8_t *take(bincode_t *r, uint64_t n) {
  if (r->bad || n > (uint64_t)(r->end - r->p)) {
    r->bad = true;
    return r->end;
  }
  const uint8_t *at = r->p;
  r->p += n;
  return at;
}

static uint64_t take_u64(bincode_t *r) {
  const uint8_t *p = take(r, 8);
  return r->bad ? 0 : rd64(p);
}

static const pk_t *take_key(bincode_t *r) { return (const pk_t *)take(r, 32); }

/* A serde String: u64 length, then UTF-8 bytes (validated, as serde does). */
static bool utf8_valid(const uint8_t *s, uint64_t n) {
  uint64_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    uint64_t w = c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 : (c >= 0xe0 && c <= 0xef) ? 3
               : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
    if (!w || i + w > n) return false;
    for (uint64_t j = 1; j < w; j++) {
      uint8_t d = s[i + j];
      uint8_t lo = 0x80, hi = 0xbf;
      if (j == 1 && c == 0xe0) lo = 0xa0;
      if (j == 1 && c == 0xed) hi = 0x9f;
      if (j == 1 && c == 0xf0) lo = 0x90;
      if (j == 1 && c == 0xf4) hi = 0x8f;
      if (d < lo || d > hi) return false;
    }
    i += w;
  }
  return true;
}

static const uint8_t *take_string(bincode_t *r, uint64_t *len) {
  *len = take_u64(r);
  const uint8_t *s = take(r, *len);
  if (!r->bad && !utf8_valid(s, *len)) r->bad = true;
  return s;
}

static bool signed_by(kernel_t *k, const frame_t *f, const pk_t *key) {
  for (uint64_t i = 0; i < f->n; i++) {
    if (f->accts[i].signer && pk_eq(frame_account(k, f, i)->key, key)) return true;
  }
  return false;
}

static bool address_signed(kernel_t *k, const frame_t *f, const address_t *a) {
  return signed_by(k, f, a->base ? a->base : a->address);
}

static void log_address(kernel_t *k, uint64_t template_id, const address_t *a) {
  log_message_keys(k, template_id, a->address, a->base);
}

/* A seeded address: base, seed (a string) and owner. */
typedef struct {
  const pk_t *base;
  const uint8_t *seed;
  uint64_t len;
  const pk_t *owner;
} seed_t;

/* Pubkey::create_with_seed: sha256(base || seed || owner), refusing PDA-marker owners. */
static int create_with_seed(kernel_t *k, const seed_t *s, pk_t *out) {
  static const char marker[] = "ProgramDerivedAddress";
  if (s->len > RT_MAX_SEED_LEN) return fail(k, IE_MAX_SEED_LENGTH_EXCEEDED);
  if (bytes_eq(s->owner->b + 32 - 21, (const uint8_t *)marker, 21)) return fail(k, IE_ILLEGAL_OWNER);
  SolBytes parts[3] = {{s->base->b, 32}, {s->seed, s->len}, {s->owner->b, 32}};
  sol_sha256(parts, 3, out->b);
  return 0;
}

static int seeded_address(kernel_t *k, const pk_t *address, const seed_t *s) {
  pk_t derived;
  if (create_with_seed(k, s, &derived)) return 1;
  if (!pk_eq(address, &derived)) {
    pk_t *copy_of = tx_alloc(k, sizeof(pk_t));
    *copy_of = derived;
    log_message_keys(k, RT_MSG_CREATE_SEED_MISMATCH, address, copy_of);
    return fail_custom(k, SYS_ADDRESS_WITH_SEED_MISMATCH);
  }
  return 0;
}

static int allocate(kernel_t *k, const frame_t *f, uint64_t pos, const address_t *a, uint64_t space) {
  if (!address_signed(k, f, a)) {
    log_address(k, RT_MSG_ALLOCATE_MUST_SIGN, a);
    return fail(k, IE_MISSING_REQUIRED_SIGNATURE);
  }
  txacct_t *acct = frame_account(k, f, pos);
  if (acct->len || !pk_eq(&acct->owner, id_system())) {
    log_address(k, RT_MSG_ALLOCATE_IN_USE, a);
    return fail_custom(k, SYS_ACCOUNT_ALREADY_IN_USE);
  }
  if (space > RT_MAX_PERMITTED_DATA_LENGTH) {
    uint64_t args[2] = {space, RT_MAX_PERMITTED_DATA_LENGTH};
    log_message(k, RT_MSG_ALLOCATE_TOO_LARGE, args, 16);
    return fail_custom(k, SYS_INVALID_ACCOUNT_DATA_LENGTH);
  }
  return acct_set_data_length(k, f, pos, space);
}

static int assign(kernel_t *k, const frame_t *f, uint64_t pos, const address_t *a, const pk_t *owner) {
  if (pk_eq(&frame_account(k, f, pos)->owner, owner)) return 0;
  if (!address_signed(k, f, a)) {
    log_address(k, RT_MSG_ASSIGN_MUST_SIGN, a);
    return fail(k, IE_MISSING_REQUIRED_SIGNATURE);
  }
  return acct_set_owner(k, f, pos, owner);
}

static int transfer_verified(kernel_t *k, const frame_t *f, uint64_t from, uint64_t to,
                             uint64_t lamports) {
  txacct_t *a = frame_account(k, f, from);
  if (a->len) {
    log_message(k, RT_MSG_TRANSFER_FROM_DATA, NULL, 0);
    return fail(k, IE_INVALID_ARGUMENT);
  }
  if (lamports > a->lamports) {
    uint64_t args[2] = {a->lamports, lamports};
    log_message(k, RT_MSG_TRANSFER_INSUFFICIENT, args, 16);
    return fail_custom(k, SYS_RESULT_WITH_NEGATIVE_LAMPORTS);
  }
  if (acct_set_lamports(k, f, from, a->lamports - lamports)) return 1;
  txacct_t *b = frame_account(k, f, to);
  if (b->lamports + lamports < b->lamports) return fail(k, IE_ARITHMETIC_OVERFLOW);
  return acct_set_lamports(k, f, to, b->lamports + lamports);
}

static int transfer(kernel_t *k, const frame_t *f, uint64_t lamports) {
  if (!f->accts[0].signer) {
    log_message_keys(k, RT_MSG_TRANSFER_MUST_SIGN, frame_account(k, f, 0)->key, NULL);
    return fail(k, IE_MISSING_REQUIRED_SIGNATURE);
  }
  return transfer_verified(k, f, 0, 1, lamports);
}

typedef struct {
  uint64_t lamports, space;
  const pk_t *owner;
} create_t;

static int create_account(kernel_t *k, const frame_t *f, const address_t *to, const create_t *c) {
  if (frame_account(k, f, 1)->lamports > 0) {
    log_address(k, RT_MSG_CREATE_IN_USE, to);
    return fail_custom(k, SYS_ACCOUNT_ALREADY_IN_USE);
  }
  if (allocate(k, f, 1, to, c->space) || assign(k, f, 1, to, c->owner)) return 1;
  return transfer(k, f, c->lamports);
}

static int need(kernel_t *k, const frame_t *f, uint64_t n) {
  return f->n < n ? fail(k, IE_MISSING_ACCOUNT) : 0; /* check_number_of_instruction_accounts */
}

int system_process(kernel_t *k, frame_t *f) {
  bincode_t r = {f->data, f->data + f->data_len, false};
  const uint8_t *tag_bytes = take(&r, 4);
  uint32_t tag = r.bad ? 0xffffffff : rd32(tag_bytes);
  address_t addr = {NULL, NULL};
  switch (tag) {
    case 0: { /* CreateAccount { lamports, space, owner } */
      uint64_t lamports = take_u64(&r), space = take_u64(&r);
      const pk_t *owner = take_key(&r);
      if (r.bad) break;
      if (need(k, f, 2)) return 1;
      addr.address = frame_account(k, f, 1)->key;
      create_t c = {lamports, space, owner};
      return create_account(k, f, &addr, &c);
    }
    case 1: { /* Assign { owner } */
      const pk_t *owner = take_key(&r);
      if (r.bad) break;
      if (need(k, f, 1)) return 1;
      addr.address = frame_account(k, f, 0)->key;
      return assign(k, f, 0, &addr, owner);
    }
    case 2: { /* Transfer { lamports } */
      uint64_t lamports = take_u64(&r);
      if (r.bad) break;
      if (need(k, f, 2)) return 1;
      return transfer(k, f, lamports);
    }
    case 3: { /* CreateAccountWithSeed { base, seed, lamports, space, owner } */
      const pk_t *base = take_key(&r);
      uint64_t seed_len;
      const uint8_t *seed = take_string(&r, &seed_len);
      uint64_t lamports = take_u64(&r), space = take_u64(&r);
      const pk_t *owner = take_key(&r);
      if (r.bad) break;
      if (need(k, f, 2)) return 1;
      addr.address = frame_account(k, f, 1)->key;
      addr.base = base;
      seed_t s = {base, seed, seed_len, owner};
      if (seeded_address(k, addr.address, &s)) return 1;
      create_t c = {lamports, space, owner};
      return create_account(k, f, &addr, &c);
    }
    case 8: { /* Allocate { space } */
      uint64_t space = take_u64(&r);
      if (r.bad) break;
      if (need(k, f, 1)) return 1;
      addr.address = frame_account(k, f, 0)->key;
      return allocate(k, f, 0, &addr, space);
    }
    case 9: { /* AllocateWithSeed { base, seed, space, owner } */
      const pk_t *base = take_key(&r);
      uint64_t seed_len;
      const uint8_t *seed = take_string(&r, &seed_len);
      uint64_t space = take_u64(&r);
      const pk_t *owner = take_key(&r);
      if (r.bad) break;
      if (need(k, f, 1)) return 1;
      addr.address = frame_account(k, f, 0)->key;
      addr.base = base;
      seed_t s = {base, seed, seed_len, owner};
      if (seeded_address(k, addr.address, &s)) return 1;
      if (allocate(k, f, 0, &addr, space)) return 1;
      return assign(k, f, 0, &addr, owner);
    }
    case 10: { /* AssignWithSeed { base, seed, owner } */
      const pk_t *base = take_key(&r);
      uint64_t seed_len;
      const uint8_t *seed = take_string(&r, &seed_len);
      const pk_t *owner = take_key(&r);
      if (r.bad) break;
      if (need(k, f, 1)) return 1;
      addr.address = frame_account(k, f, 0)->key;
      addr.base = base;
      seed_t s = {base, seed, seed_len, owner};
      if (seeded_address(k, addr.address, &s)) return 1;
      return assign(k, f, 0, &addr, owner);
    }
    case 11: { /* TransferWithSeed { lamports, from_seed, from_owner } */
      uint64_t lamports = take_u64(&r), seed_len;
      const uint8_t *seed = take_string(&r, &seed_len);
      const pk_t *owner = take_key(&r);
      if (r.bad) break;
      if (need(k, f, 3)) return 1;
      const pk_t *base = frame_account(k, f, 1)->key;
      if (!f->accts[1].signer) {
        log_message_keys(k, RT_MSG_TRANSFER_SEED_MUST_SIGN, base, NULL);
        return fail(k, IE_MISSING_REQUIRED_SIGNATURE);
      }
      pk_t *derived = tx_alloc(k, sizeof(pk_t));
      seed_t s = {base, seed, seed_len, owner};
      if (create_with_seed(k, &s, derived)) return 1;
      const pk_t *from = frame_account(k, f, 0)->key;
      if (!pk_eq(from, derived)) {
        log_message_keys(k, RT_MSG_TRANSFER_SEED_MISMATCH, from, derived);
        return fail_custom(k, SYS_ADDRESS_WITH_SEED_MISMATCH);
      }
      return transfer_verified(k, f, 0, 2, lamports);
    }
    default:
      break;
  }
  return fail(k, IE_INVALID_INSTRUCTION_DATA);
}
