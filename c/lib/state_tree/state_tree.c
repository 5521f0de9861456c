/*
 * The state tree's batch witness: parse it (st_open), then verify it against the old root
 * and compute the new root in one multiproof pass (st_commit). docs/state.md ("Batch
 * witness", "Commit") is the specification; heliostat.runtime.state_witness the reference.
 */
#include "state_tree.h"

#include "poseidon2_syscall.h"
#include "st_hash.h"

#define BABYBEAR_P 2013265921u
#define KIND_ABSENT 0
#define KIND_PRESENT 1
#define FLAG_EXECUTABLE 1
#define FLAG_ELIDED 2
#define HEADER_BYTES 16
#define ABSENT_BYTES 48
#define PRESENT_BYTES 128

typedef uint32_t __attribute__((__may_alias__)) u32a;
typedef uint64_t __attribute__((__may_alias__)) u64a;

static const uint8_t ZERO_KEY[32] __attribute__((aligned(8))) = {0};
static const st_value DEFAULT_VALUE = {0};
static const st_digest ZERO_DIGEST = {{0}};

static uint32_t rd32(const uint8_t *p) { return *(const u32a *)p; }
static uint64_t rd64(const uint8_t *p) { return *(const u64a *)p; }

static bool digest_eq(const st_digest *a, const st_digest *b) {
  const u64a *x = (const u64a *)a->e, *y = (const u64a *)b->e;
  return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

static bool canonical(const st_digest *d) {
  for (int i = 0; i < 8; i++) {
    if (d->e[i] >= BABYBEAR_P) return false;
  }
  return true;
}

static bool is_zero(const uint8_t *p, uint64_t n) {
  for (uint64_t i = 0; i < n; i++) {
    if (p[i]) return false;
  }
  return true;
}

/* low_key < key < next_key, where a zero next key means "no next key". */
static bool in_gap(const uint8_t *key, const uint8_t *low_key, const uint8_t *next_key) {
  if (st_key_cmp(low_key, key) >= 0) return false;
  return st_bytes_eq(next_key, ZERO_KEY, 32) || st_key_cmp(key, next_key) < 0;
}

uint64_t st_memory_size(uint64_t n_records) {
  return n_records * (sizeof(st_account) + sizeof(st_node) + sizeof(st_node *));
}

/* One present record at w + *at (the caller checked 128 bytes are there). */
static int open_present(st_account *a, const uint8_t *w, uint64_t *at) {
  const uint8_t *r = w + *at;
  uint8_t flags = r[33];
  if ((flags & ~(FLAG_EXECUTABLE | FLAG_ELIDED)) || rd32(r + 32) >> 16 || rd32(r + 124)) {
    return ST_ERR_FORMAT;
  }
  a->present = 1;
  a->elided = (flags & FLAG_ELIDED) != 0;
  a->index = rd32(r + 36);
  a->next_key = r + 40;
  st_copy(a->old.owner, r + 72, 32);
  a->old.lamports = rd64(r + 104);
  a->old.rent_epoch = rd64(r + 112);
  a->old.data_len = rd32(r + 120);
  a->old.executable = flags & FLAG_EXECUTABLE;
  *at += PRESENT_BYTES;
  return ST_OK;
}

/* The payload after a present record: the data hash (elided) or the data and its padding. */
static int open_payload(st_account *a, const uint8_t *w, uint64_t len, uint64_t *at) {
  if (a->elided) {
    if (len - *at < 32) return ST_ERR_TRUNCATED;
    st_copy(a->data_hash.e, w + *at, 32);
    if (!canonical(&a->data_hash)) return ST_ERR_NONCANONICAL;
    *at += 32;
    return ST_OK;
  }
  uint64_t n = a->old.data_len, padded = (n + 7) & ~7ULL;
  if (len - *at < padded) return ST_ERR_TRUNCATED;
  if (!is_zero(w + *at + n, padded - n)) return ST_ERR_FORMAT;
  a->old.data = n ? w + *at : NULL;
  *at += padded;
  return ST_OK;
}

int st_open(st_batch *b, const uint8_t *w, uint64_t len, void *mem, uint64_t mem_len) {
  if ((uintptr_t)w & 7) return ST_ERR_FORMAT;
  if (len < HEADER_BYTES) return ST_ERR_TRUNCATED;
  if (rd32(w) != ST_VERSION || rd32(w + 4) != ST_DEPTH) return ST_ERR_FORMAT;
  uint64_t n = rd32(w + 8), n_siblings = rd32(w + 12);
  if (((uintptr_t)mem & 7) || mem_len < st_memory_size(n)) return ST_ERR_MEMORY;
  st_account *acc = mem;
  b->accounts = acc;
  b->n_accounts = n;
  b->nodes = (st_node *)(acc + n);
  b->live = (st_node **)(b->nodes + n);
  b->n_siblings = n_siblings;
  uint64_t at = HEADER_BYTES;
  int rc;
  for (uint64_t i = 0; i < n; i++) {
    st_account *a = &acc[i];
    *a = (st_account){0};
    if (len - at < 33) return ST_ERR_TRUNCATED;
    const uint8_t *r = w + at;
    a->key = r;
    a->next_key = ZERO_KEY;
    if (r[32] == KIND_ABSENT) {
      if (len - at < ABSENT_BYTES) return ST_ERR_TRUNCATED;
      if (rd32(r + 32) >> 8 || rd32(r + 44)) return ST_ERR_FORMAT;
      a->index = rd32(r + 36);
      a->low = rd32(r + 40);
      at += ABSENT_BYTES;
    } else if (r[32] == KIND_PRESENT) {
      if (len - at < PRESENT_BYTES) return ST_ERR_TRUNCATED;
      if ((rc = open_present(a, w, &at)) != ST_OK) return rc;
    } else {
      return ST_ERR_FORMAT;
    }
    if (i > 0 && st_key_cmp(acc[i - 1].key, r) >= 0) return ST_ERR_ORDER;
    if (!a->present) {
      const st_account *low = a->low < i ? &acc[a->low] : NULL;
      if (!low || !low->present || !in_gap(r, low->key, low->next_key)) return ST_ERR_LOW_LEAF;
    } else if ((rc = open_payload(a, w, len, &at)) != ST_OK) {
      return rc;
    }
    a->new = a->old;
  }
  if ((len - at) / 4 < n) return ST_ERR_TRUNCATED;
  b->order = (const uint32_t *)(w + at);
  for (uint64_t k = 0; k < n; k++) {
    uint32_t position = b->order[k];
    if (position >= n || (k > 0 && acc[position].index <= acc[b->order[k - 1]].index)) {
      return ST_ERR_INDEX_ORDER;
    }
  }
  at += 4 * n;
  if (n & 1) {
    if (len - at < 4) return ST_ERR_TRUNCATED;
    if (rd32(w + at)) return ST_ERR_FORMAT;
    at += 4;
  }
  b->siblings = (const st_digest *)(w + at);
  for (uint64_t s = 0; s < n_siblings; s++) {
    if (len - at < 32) return ST_ERR_TRUNCATED;
    if (!canonical((const st_digest *)(w + at))) return ST_ERR_NONCANONICAL;
    at += 32;
  }
  return at == len ? ST_OK : ST_ERR_TRAILING;
}

st_account *st_find(const st_batch *b, const uint8_t key[32]) {
  uint64_t lo = 0, hi = b->n_accounts;
  while (lo < hi) {
    uint64_t mid = (lo + hi) / 2;
    int c = st_key_cmp(b->accounts[mid].key, key);
    if (c == 0) return &b->accounts[mid];
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Commit */

static int check_value(const st_account *a) {
  const st_value *v = &a->new;
  if (v->executable > 1 || v->data_len > 0xffffffffULL) return ST_ERR_VALUE;
  if (v->lamports == 0) return ST_OK;
  if (a->elided) {
    if (v->data != NULL || v->data_len != a->old.data_len) return ST_ERR_VALUE;
  } else if (v->data == NULL && v->data_len != 0) {
    return ST_ERR_VALUE;
  }
  return ST_OK;
}

static bool same_data(const st_value *x, const st_value *y) {
  if (x->data_len != y->data_len) return false;
  if (x->data_len == 0 || x->data == y->data) return true;
  if (x->data == NULL || y->data == NULL) return false;
  return st_bytes_eq(x->data, y->data, x->data_len);
}

static bool same_value(const st_value *x, const st_value *y) {
  return x->lamports == y->lamports && x->rent_epoch == y->rent_epoch &&
         x->executable == y->executable && st_bytes_eq(x->owner, y->owner, 32) &&
         same_data(x, y);
}

/* Creations link in key order, each behind the last key already linked after its low leaf. */
static void link_creations(st_batch *b) {
  st_account *acc = b->accounts;
  for (uint64_t i = 0; i < b->n_accounts; i++) {
    acc[i].new_next = acc[i].next_key;
    acc[i].tail = (uint32_t)i;
  }
  for (uint64_t i = 0; i < b->n_accounts; i++) {
    st_account *a = &acc[i];
    if (a->present || a->new.lamports == 0) continue;
    st_account *low = &acc[a->low], *before = &acc[low->tail];
    a->new_next = before->new_next;
    before->new_next = a->key;
    low->tail = (uint32_t)i;
  }
}

/* Old and new leaf digests and the status of one account. */
static void hash_leaves(st_account *a, bool commit) {
  const st_value *v = a->new.lamports ? &a->new : &DEFAULT_VALUE;
  st_digest digest;
  if (!a->present) {
    a->old_leaf = a->new_leaf = ZERO_DIGEST;
    a->status = ST_ABSENT;
    if (commit && a->new.lamports) {
      a->status = ST_CREATED;
      st_data_hash(v->data, v->data_len, &digest);
      st_leaf_hash(a->key, a->new_next, v, &digest, &a->new_leaf);
    }
    return;
  }
  if (!a->elided) st_data_hash(a->old.data, a->old.data_len, &a->data_hash);
  st_leaf_hash(a->key, a->next_key, &a->old, &a->data_hash, &a->old_leaf);
  a->new_leaf = a->old_leaf;
  if (!commit) return;
  bool same = same_value(v, &a->old);
  a->status = same ? ST_UNCHANGED : a->new.lamports == 0 ? ST_EMPTIED : ST_UPDATED;
  if (same && st_bytes_eq(a->new_next, a->next_key, 32)) return;
  if (same_data(v, &a->old)) {
    digest = a->data_hash;
  } else {
    st_data_hash(v->data, v->data_len, &digest);
  }
  st_leaf_hash(a->key, a->new_next, v, &digest, &a->new_leaf);
}

static void copy4(uint64_t *dst, const void *src) {
  const u64a *x = src;
  dst[0] = x[0], dst[1] = x[1], dst[2] = x[2], dst[3] = x[3];
}

static void permute(st_state *s) { heliostat_poseidon2_permute(s->e); }

/*
 * Hash the known leaves (in index order) up to the root, old and new values side by side.
 * A node's digest is the first half of its own permutation state, so the parent is computed
 * in place: put the sibling (or the right neighbour's digest) in the other half and permute.
 * A node whose subtree did not change keeps no new state: its new digest is its old one.
 * `live` lists the nodes of the current height in index order.
 */
static int multiproof(st_batch *b, const st_digest *old_root, st_digest *new_root) {
  st_node *nodes = b->nodes, **live = b->live;
  uint64_t m = b->n_accounts;
  const st_digest *sibling = b->siblings, *siblings_end = b->siblings + b->n_siblings;
  for (uint64_t k = 0; k < m; k++) {
    const st_account *a = &b->accounts[b->order[k]];
    st_node *x = &nodes[k];
    x->index = a->index;
    x->changed = !digest_eq(&a->old_leaf, &a->new_leaf);
    copy4(x->old.w, a->old_leaf.e);
    if (x->changed) copy4(x->new.w, a->new_leaf.e);
    live[k] = x;
  }
  for (int h = 0; h < ST_DEPTH; h++) {
    uint64_t out = 0, k = 0;
    while (k < m) {
      st_node *x = live[k];
      uint64_t index = x->index;
      if (!(index & 1) && k + 1 < m && live[k + 1]->index == index + 1) {
        const st_node *y = live[k + 1];
        copy4(x->old.w + 4, y->old.w);
        if (x->changed | y->changed) {
          if (!x->changed) copy4(x->new.w, x->old.w);
          copy4(x->new.w + 4, y->changed ? y->new.w : y->old.w);
          permute(&x->new);
          x->changed = 1;
        }
        k += 2;
      } else {
        if (sibling == siblings_end) return ST_ERR_SIBLINGS;
        if (index & 1) { /* the sibling is on the left */
          copy4(x->old.w + 4, x->old.w);
          copy4(x->old.w, sibling);
          if (x->changed) {
            copy4(x->new.w + 4, x->new.w);
            copy4(x->new.w, sibling);
          }
        } else {
          copy4(x->old.w + 4, sibling);
          if (x->changed) copy4(x->new.w + 4, sibling);
        }
        if (x->changed) permute(&x->new);
        sibling++;
        k += 1;
      }
      permute(&x->old);
      x->index = index >> 1;
      live[out++] = x;
    }
    m = out;
  }
  if (sibling != siblings_end) return ST_ERR_SIBLINGS;
  if (m == 0) {
    *new_root = *old_root;
    return ST_OK;
  }
  const st_node *root = live[0];
  if (!digest_eq((const st_digest *)root->old.w, old_root)) return ST_ERR_ROOT;
  copy4((uint64_t *)new_root->e, root->changed ? root->new.w : root->old.w);
  return ST_OK;
}

int st_commit(st_batch *b, const st_digest *old_root, st_digest *new_root) {
  int rc;
  for (uint64_t i = 0; i < b->n_accounts; i++) {
    if ((rc = check_value(&b->accounts[i])) != ST_OK) return rc;
  }
  link_creations(b);
  for (uint64_t i = 0; i < b->n_accounts; i++) hash_leaves(&b->accounts[i], true);
  return multiproof(b, old_root, new_root);
}

int st_verify(st_batch *b, const st_digest *old_root) {
  for (uint64_t i = 0; i < b->n_accounts; i++) hash_leaves(&b->accounts[i], false);
  st_digest unused;
  return multiproof(b, old_root, &unused);
}
