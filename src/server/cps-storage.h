/* cps-storage.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The server's storage interface. Handlers talk only to this; a backend
 * (SQLite now, PostgreSQL later) implements the vtable. Everything several
 * server processes must share lives behind it: accounts, tokens, devices,
 * projects, revisions, the change sequence, rate-limit counters and the audit
 * chain head. Nothing shared is kept only in process memory.
 *
 * One CpsStorage is one connection: it is used by one thread at a time.
 * cps_storage_open() makes a new connection of the configured backend.
 *
 * Write operations must run inside cps_storage_begin() … commit()/rollback();
 * reads may run inside or outside a transaction, or in a read snapshot
 * (cps_storage_begin_read(), which cps_storage_begin() ends). A transaction
 * taken with cps_storage_begin() serialises against every other writer
 * (SQLite: BEGIN IMMEDIATE; PostgreSQL: a SERIALIZABLE transaction or an
 * advisory lock), so read-check-write sequences in handlers are safe. A
 * backend may let the writers that come together share one commit (SQLite,
 * see docs/adr/0004-group-commit.md): commit() then returns only once that
 * commit has succeeded, rollback() may wait for it, and a transaction may
 * read the still uncommitted work of the writers before it.
 *
 * Times are RFC 3339 UTC strings with milliseconds (cps_now_rfc3339()) unless
 * a field says “unix seconds”. Lists take a cursor (the last key seen, NULL
 * for the start) and a limit, and return at most limit records.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CPS_STORAGE_ERROR (cps_storage_error_quark ())

typedef enum
{
  CPS_STORAGE_ERROR_FAILED,       /* I/O, corrupt file, lost connection */
  CPS_STORAGE_ERROR_NOT_FOUND,
  CPS_STORAGE_ERROR_EXISTS,       /* unique constraint: username, device key, revision id … */
  CPS_STORAGE_ERROR_BUSY,         /* the write lock could not be taken in time */
  CPS_STORAGE_ERROR_NEWER_SCHEMA,
} CpsStorageError;

GQuark cps_storage_error_quark (void);

/* ----- records -------------------------------------------------------------------------- */

typedef struct
{
  char *id;                /* UUID */
  char *username;
  char *role;              /* "admin" | "lead" | "member" | "observer" */
  char *password_hash;     /* crypto_pwhash_str() output */
  char *totp_secret;       /* (nullable) base32; MFA is on when set */
  char *totp_pending;      /* (nullable) base32 waiting for /auth/totp/confirm */
  gint64 totp_last_step;   /* last accepted RFC 6238 time step, 0 when none */
  char *created_at;
} CpsAccountRecord;

typedef struct
{
  char *id;                /* UUID */
  char *account_id;
  char *name;
  char *platform;
  char *client_version;
  char *public_key;        /* base64 of the 32-byte Ed25519 key; unique over all devices */
  char *key_fingerprint;   /* "sha256:" + hex of the raw key */
  char *state;             /* "active" | "pending" | "revoked" */
  char *registered_at;
  char *last_seen_at;      /* (nullable) */
  char *last_sync_at;      /* (nullable) */
  char *revoked_at;        /* (nullable) */
  char *revoked_by;        /* (nullable) account id */
  char *revoke_reason;     /* (nullable) */
} CpsDeviceRecord;

typedef enum
{
  CPS_TOKEN_ACCESS,
  CPS_TOKEN_REFRESH,
} CpsTokenKind;

typedef enum
{
  CPS_TOKEN_ACTIVE,
  CPS_TOKEN_ROTATED,       /* a refresh token already exchanged: presenting it again is reuse */
  CPS_TOKEN_REVOKED,
} CpsTokenState;

typedef struct
{
  char *token_hash;        /* "sha256:" + hex of the token; the token itself is never stored */
  CpsTokenKind kind;
  CpsTokenState state;
  char *session_id;        /* UUID: an access/refresh pair and its rotations */
  char *account_id;
  char *device_id;
  gint64 created_at;       /* unix seconds */
  gint64 expires_at;       /* unix seconds */
} CpsTokenRecord;

typedef struct
{
  char *id;
  char *name;
  char *owner;             /* account id */
  gboolean encrypted;
  char *created_at;
  char *updated_at;
  GStrv heads;             /* sorted revision ids, empty before the first push */
  gboolean conflicted;     /* more than one head */
  gint64 revision_count;
  char *checksum;          /* (nullable) content checksum of the display winner */
  gboolean deleted;        /* the display winner is a deletion */
} CpsProjectRecord;

typedef struct
{
  char *account_id;
  char *role;              /* "owner" | "editor" | "viewer" */
} CpsMemberRecord;

typedef struct
{
  char *account_id;
  gint64 key_epoch;
  char *wrapped_key;       /* base64 */
} CpsWrappedKeyRecord;

typedef struct
{
  gint64 seq;              /* position in the changes feed, assigned on insert */
  char *id;
  char *project_id;
  char *device_id;
  char *created_at;
  char *checksum;
  gboolean deleted;
  GStrv parents;           /* sorted */
  guint64 clock_sum;
  char *clock_json;        /* the clock object as received, JSON */
  char *json;              /* the whole revision exactly as received (compact JSON) */
  char *header_json;       /* the same without "payload" */
} CpsRevisionRecord;

typedef struct
{
  gint64 seq;
  char *at;
  char *action;
  char *actor_account;     /* (nullable) */
  char *actor_device;      /* (nullable) */
  char *target_type;       /* (nullable) */
  char *target_id;         /* (nullable) */
  char *details_json;      /* a JSON object, never NULL ("{}") */
  char *prev_hash;
  char *hash;
} CpsAuditRecord;

typedef struct
{
  char *action;            /* (nullable) filters; NULL matches everything */
  char *actor_account;
  char *actor_device;
  char *from;              /* inclusive RFC 3339 */
  char *to;                /* exclusive RFC 3339 */
} CpsAuditFilter;

typedef struct
{
  gint64 seq;
  char *hash;
  char *at;
  char *signature;         /* base64 */
} CpsCheckpointRecord;

void cps_account_record_free (CpsAccountRecord *record);
void cps_device_record_free (CpsDeviceRecord *record);
void cps_token_record_free (CpsTokenRecord *record);
void cps_project_record_free (CpsProjectRecord *record);
void cps_member_record_free (CpsMemberRecord *record);
void cps_wrapped_key_record_free (CpsWrappedKeyRecord *record);
void cps_revision_record_free (CpsRevisionRecord *record);
void cps_audit_record_free (CpsAuditRecord *record);
void cps_checkpoint_record_free (CpsCheckpointRecord *record);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsAccountRecord, cps_account_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsDeviceRecord, cps_device_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsTokenRecord, cps_token_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsProjectRecord, cps_project_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsMemberRecord, cps_member_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsWrappedKeyRecord, cps_wrapped_key_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsRevisionRecord, cps_revision_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsAuditRecord, cps_audit_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsCheckpointRecord, cps_checkpoint_record_free)

/* ----- the interface -------------------------------------------------------------------- */

typedef struct _CpsStorage CpsStorage;
typedef struct _CpsStorageVTable CpsStorageVTable;

struct _CpsStorage
{
  const CpsStorageVTable *vtable;
};

/* Lists return GPtrArray with the record's free function set; NULL and @error on failure.
 * Getters return NULL with CPS_STORAGE_ERROR_NOT_FOUND when there is no such row. */
struct _CpsStorageVTable
{
  const char *name; /* "sqlite" | "postgresql" */

  void (*close) (CpsStorage *self);

  gboolean (*begin) (CpsStorage *self, GError **error);
  gboolean (*commit) (CpsStorage *self, GError **error);
  void (*rollback) (CpsStorage *self);
  /* Until the next begin or rollback, reads outside a write transaction see one snapshot
   * (SQLite: a deferred read transaction; PostgreSQL: REPEATABLE READ, READ ONLY). Cheaper
   * than a snapshot per statement, and a request's reads agree with each other. */
  gboolean (*begin_read) (CpsStorage *self, GError **error);
  /* Work put off until no request waits on it: the server calls it after each answer
   * (SQLite: copying a long WAL back into the database). May do nothing. */
  void (*idle) (CpsStorage *self);
  /* Whether what the caller's rolled-back transactions read since the last call is stored.
   * FALSE (with @error) when one of them read uncommitted work of other writers whose commit
   * then failed: an answer built on those reads may be wrong. The server calls it after each
   * handler and answers with a storage error instead; until then begin() fails. TRUE where
   * transactions never see others' uncommitted work (PostgreSQL). */
  gboolean (*check_reads) (CpsStorage *self, GError **error);

  /* accounts */
  gboolean (*account_insert) (CpsStorage *self, const CpsAccountRecord *account, GError **error);
  CpsAccountRecord *(*account_get) (CpsStorage *self, const char *id, GError **error);
  CpsAccountRecord *(*account_get_by_name) (CpsStorage *self, const char *username,
                                            GError **error);
  /* ordered by username; @cursor is the last username seen */
  GPtrArray *(*account_list) (CpsStorage *self, const char *cursor, guint limit, GError **error);
  /* writes role, password_hash, totp_secret, totp_pending, totp_last_step */
  gboolean (*account_update) (CpsStorage *self, const CpsAccountRecord *account, GError **error);
  gint64 (*account_count) (CpsStorage *self, GError **error);

  /* recovery codes, stored as hashes; using one marks it used */
  gboolean (*recovery_codes_replace) (CpsStorage *self, const char *account_id,
                                      const char *const *code_hashes, GError **error);
  /* TRUE and marks it used when an unused code with that hash exists; FALSE otherwise */
  gboolean (*recovery_code_use) (CpsStorage *self, const char *account_id, const char *code_hash,
                                 GError **error);

  /* devices */
  gboolean (*device_insert) (CpsStorage *self, const CpsDeviceRecord *device, GError **error);
  CpsDeviceRecord *(*device_get) (CpsStorage *self, const char *id, GError **error);
  CpsDeviceRecord *(*device_get_by_key) (CpsStorage *self, const char *public_key,
                                         GError **error);
  /* @account_id NULL lists every device; ordered by registered_at, id */
  GPtrArray *(*device_list) (CpsStorage *self, const char *account_id, GError **error);
  /* writes state, revoked_at, revoked_by, revoke_reason, name, platform, client_version */
  gboolean (*device_update) (CpsStorage *self, const CpsDeviceRecord *device, GError **error);
  /* sets last_seen_at (and last_sync_at when @synced); outside a transaction is fine */
  gboolean (*device_touch) (CpsStorage *self, const char *id, const char *at, gboolean synced,
                            GError **error);
  /* counts by state: fills @active, @pending, @revoked */
  gboolean (*device_count_states) (CpsStorage *self, gint64 *active, gint64 *pending,
                                   gint64 *revoked, GError **error);

  /* tokens */
  gboolean (*token_insert) (CpsStorage *self, const CpsTokenRecord *token, GError **error);
  CpsTokenRecord *(*token_get) (CpsStorage *self, const char *token_hash, GError **error);
  gboolean (*token_set_state) (CpsStorage *self, const char *token_hash, CpsTokenState state,
                               GError **error);
  /* every token of the session, or of the device, becomes REVOKED */
  gboolean (*tokens_revoke_session) (CpsStorage *self, const char *session_id, GError **error);
  gboolean (*tokens_revoke_device) (CpsStorage *self, const char *device_id, GError **error);
  gboolean (*tokens_purge_expired) (CpsStorage *self, gint64 now, GError **error);

  /* rate limits: failures keyed by "account:<id-or-name>" or "address:<ip>" */
  gboolean (*ratelimit_record) (CpsStorage *self, const char *key, gint64 at, GError **error);
  /* how many failures since @since (unix seconds); @oldest gets the oldest counted one */
  gint64 (*ratelimit_count) (CpsStorage *self, const char *key, gint64 since, gint64 *oldest,
                             GError **error);
  gboolean (*ratelimit_clear) (CpsStorage *self, const char *key, GError **error);
  /* removes one row of @key recorded at @at (an attempt that turned out not to fail) */
  gboolean (*ratelimit_forget) (CpsStorage *self, const char *key, gint64 at, GError **error);

  /* projects */
  gboolean (*project_insert) (CpsStorage *self, const CpsProjectRecord *project, GError **error);
  CpsProjectRecord *(*project_get) (CpsStorage *self, const char *id, GError **error);
  /* ordered by id; @member_account NULL lists every project (admins) */
  GPtrArray *(*project_list) (CpsStorage *self, const char *member_account, const char *cursor,
                              guint limit, GError **error);
  /* writes name, updated_at, heads, conflicted, revision_count, checksum, deleted */
  gboolean (*project_update) (CpsStorage *self, const CpsProjectRecord *project, GError **error);
  gint64 (*project_count_conflicted) (CpsStorage *self, GError **error);

  /* members (insert or replace) and their wrapped keys */
  gboolean (*member_put) (CpsStorage *self, const char *project_id, const char *account_id,
                          const char *role, GError **error);
  gboolean (*member_delete) (CpsStorage *self, const char *project_id, const char *account_id,
                             GError **error);
  /* NULL with NOT_FOUND when the account is not a member */
  char *(*member_get_role) (CpsStorage *self, const char *project_id, const char *account_id,
                            GError **error);
  GPtrArray *(*member_list) (CpsStorage *self, const char *project_id, GError **error);
  /* replaces every wrapped key the account holds for the project */
  gboolean (*keys_put) (CpsStorage *self, const char *project_id, const char *account_id,
                        GPtrArray *keys /* CpsWrappedKeyRecord */, GError **error);
  GPtrArray *(*keys_list) (CpsStorage *self, const char *project_id, const char *account_id,
                           GError **error);

  /* revisions (append-only); insert sets record->seq from the durable global sequence */
  gboolean (*revision_insert) (CpsStorage *self, CpsRevisionRecord *revision, GError **error);
  /* full record; @project_id NULL finds the id in any project */
  CpsRevisionRecord *(*revision_get) (CpsStorage *self, const char *project_id, const char *id,
                                      GError **error);
  /* oldest first (by seq); @after_seq is the cursor (0 = start); json is not filled */
  GPtrArray *(*revision_list) (CpsStorage *self, const char *project_id, gint64 after_seq,
                               guint limit, GError **error);
  /* id, parents and clock_sum of every revision of the project (for the DAG) */
  GPtrArray *(*revision_graph) (CpsStorage *self, const char *project_id, GError **error);
  /* the changes feed: revisions with seq > @after_seq of projects @member_account belongs
   * to (NULL: every project), by seq, full json */
  GPtrArray *(*changes_list) (CpsStorage *self, const char *member_account, gint64 after_seq,
                              guint limit, GError **error);
  gint64 (*revision_count) (CpsStorage *self, GError **error);
  /* calls @func for every revision of every project in seq order (check, rehearsal) */
  gboolean (*revision_foreach) (CpsStorage *self,
                                gboolean (*func) (const CpsRevisionRecord *revision,
                                                  gpointer user_data, GError **error),
                                gpointer user_data, GError **error);

  /* audit chain: the last entry (seq 0 and NULL hash when empty) */
  gboolean (*audit_last) (CpsStorage *self, gint64 *seq, char **hash, GError **error);
  /* @entry->seq must be last seq + 1 */
  gboolean (*audit_insert) (CpsStorage *self, const CpsAuditRecord *entry, GError **error);
  /* by seq, entries with seq > @after_seq matching @filter */
  GPtrArray *(*audit_list) (CpsStorage *self, const CpsAuditFilter *filter, gint64 after_seq,
                            guint limit, GError **error);
  gboolean (*checkpoint_insert) (CpsStorage *self, const CpsCheckpointRecord *checkpoint,
                                 GError **error);
  GPtrArray *(*checkpoint_list) (CpsStorage *self, GError **error);
  /* (nullable) the newest checkpoint, NULL without error when there is none */
  CpsCheckpointRecord *(*checkpoint_last) (CpsStorage *self, GError **error);

  /* operations */
  /* a consistent online copy of everything into @path (a new file) */
  gboolean (*backup_to) (CpsStorage *self, const char *path, GError **error);
  /* integrity of the storage itself; problems are appended to @problems as strings */
  gboolean (*check_integrity) (CpsStorage *self, GPtrArray *problems, GError **error);
};

/* Opens a connection to the backend named by @backend ("sqlite") at @location (for SQLite
 * the database file; created and migrated when missing). */
CpsStorage *cps_storage_open (const char *backend, const char *location, GError **error);
void cps_storage_close (CpsStorage *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsStorage, cps_storage_close)

CpsStorage *_cps_storage_sqlite_open (const char *path, GError **error);

static inline const char *
cps_storage_get_backend_name (CpsStorage *self)
{
  return self->vtable->name;
}

/* Every vtable member `foo` has a wrapper cps_storage_foo (CpsStorage *self, …) with the
 * same arguments, defined below. */
static inline gboolean
cps_storage_begin (CpsStorage *self, GError **error)
{
  return self->vtable->begin (self, error);
}

static inline gboolean
cps_storage_commit (CpsStorage *self, GError **error)
{
  return self->vtable->commit (self, error);
}

static inline void
cps_storage_rollback (CpsStorage *self)
{
  self->vtable->rollback (self);
}

static inline gboolean
cps_storage_begin_read (CpsStorage *self, GError **error)
{
  return self->vtable->begin_read (self, error);
}

static inline void
cps_storage_idle (CpsStorage *self)
{
  self->vtable->idle (self);
}

static inline gboolean
cps_storage_check_reads (CpsStorage *self, GError **error)
{
  return self->vtable->check_reads (self, error);
}

static inline gboolean
cps_storage_account_insert (CpsStorage *self, const CpsAccountRecord *account, GError **error)
{
  return self->vtable->account_insert (self, account, error);
}

static inline CpsAccountRecord *
cps_storage_account_get (CpsStorage *self, const char *id, GError **error)
{
  return self->vtable->account_get (self, id, error);
}

static inline CpsAccountRecord *
cps_storage_account_get_by_name (CpsStorage *self, const char *username, GError **error)
{
  return self->vtable->account_get_by_name (self, username, error);
}

static inline GPtrArray *
cps_storage_account_list (CpsStorage *self, const char *cursor, guint limit, GError **error)
{
  return self->vtable->account_list (self, cursor, limit, error);
}

static inline gboolean
cps_storage_account_update (CpsStorage *self, const CpsAccountRecord *account, GError **error)
{
  return self->vtable->account_update (self, account, error);
}

static inline gint64
cps_storage_account_count (CpsStorage *self, GError **error)
{
  return self->vtable->account_count (self, error);
}

static inline gboolean
cps_storage_recovery_codes_replace (CpsStorage *self, const char *account_id, const char *const *code_hashes, GError **error)
{
  return self->vtable->recovery_codes_replace (self, account_id, code_hashes, error);
}

static inline gboolean
cps_storage_recovery_code_use (CpsStorage *self, const char *account_id, const char *code_hash, GError **error)
{
  return self->vtable->recovery_code_use (self, account_id, code_hash, error);
}

static inline gboolean
cps_storage_device_insert (CpsStorage *self, const CpsDeviceRecord *device, GError **error)
{
  return self->vtable->device_insert (self, device, error);
}

static inline CpsDeviceRecord *
cps_storage_device_get (CpsStorage *self, const char *id, GError **error)
{
  return self->vtable->device_get (self, id, error);
}

static inline CpsDeviceRecord *
cps_storage_device_get_by_key (CpsStorage *self, const char *public_key, GError **error)
{
  return self->vtable->device_get_by_key (self, public_key, error);
}

static inline GPtrArray *
cps_storage_device_list (CpsStorage *self, const char *account_id, GError **error)
{
  return self->vtable->device_list (self, account_id, error);
}

static inline gboolean
cps_storage_device_update (CpsStorage *self, const CpsDeviceRecord *device, GError **error)
{
  return self->vtable->device_update (self, device, error);
}

static inline gboolean
cps_storage_device_touch (CpsStorage *self, const char *id, const char *at, gboolean synced, GError **error)
{
  return self->vtable->device_touch (self, id, at, synced, error);
}

static inline gboolean
cps_storage_device_count_states (CpsStorage *self, gint64 *active, gint64 *pending, gint64 *revoked, GError **error)
{
  return self->vtable->device_count_states (self, active, pending, revoked, error);
}

static inline gboolean
cps_storage_token_insert (CpsStorage *self, const CpsTokenRecord *token, GError **error)
{
  return self->vtable->token_insert (self, token, error);
}

static inline CpsTokenRecord *
cps_storage_token_get (CpsStorage *self, const char *token_hash, GError **error)
{
  return self->vtable->token_get (self, token_hash, error);
}

static inline gboolean
cps_storage_token_set_state (CpsStorage *self, const char *token_hash, CpsTokenState state, GError **error)
{
  return self->vtable->token_set_state (self, token_hash, state, error);
}

static inline gboolean
cps_storage_tokens_revoke_session (CpsStorage *self, const char *session_id, GError **error)
{
  return self->vtable->tokens_revoke_session (self, session_id, error);
}

static inline gboolean
cps_storage_tokens_revoke_device (CpsStorage *self, const char *device_id, GError **error)
{
  return self->vtable->tokens_revoke_device (self, device_id, error);
}

static inline gboolean
cps_storage_tokens_purge_expired (CpsStorage *self, gint64 now, GError **error)
{
  return self->vtable->tokens_purge_expired (self, now, error);
}

static inline gboolean
cps_storage_ratelimit_record (CpsStorage *self, const char *key, gint64 at, GError **error)
{
  return self->vtable->ratelimit_record (self, key, at, error);
}

static inline gint64
cps_storage_ratelimit_count (CpsStorage *self, const char *key, gint64 since, gint64 *oldest, GError **error)
{
  return self->vtable->ratelimit_count (self, key, since, oldest, error);
}

static inline gboolean
cps_storage_ratelimit_clear (CpsStorage *self, const char *key, GError **error)
{
  return self->vtable->ratelimit_clear (self, key, error);
}

static inline gboolean
cps_storage_ratelimit_forget (CpsStorage *self, const char *key, gint64 at, GError **error)
{
  return self->vtable->ratelimit_forget (self, key, at, error);
}

static inline gboolean
cps_storage_project_insert (CpsStorage *self, const CpsProjectRecord *project, GError **error)
{
  return self->vtable->project_insert (self, project, error);
}

static inline CpsProjectRecord *
cps_storage_project_get (CpsStorage *self, const char *id, GError **error)
{
  return self->vtable->project_get (self, id, error);
}

static inline GPtrArray *
cps_storage_project_list (CpsStorage *self, const char *member_account, const char *cursor, guint limit, GError **error)
{
  return self->vtable->project_list (self, member_account, cursor, limit, error);
}

static inline gboolean
cps_storage_project_update (CpsStorage *self, const CpsProjectRecord *project, GError **error)
{
  return self->vtable->project_update (self, project, error);
}

static inline gint64
cps_storage_project_count_conflicted (CpsStorage *self, GError **error)
{
  return self->vtable->project_count_conflicted (self, error);
}

static inline gboolean
cps_storage_member_put (CpsStorage *self, const char *project_id, const char *account_id, const char *role, GError **error)
{
  return self->vtable->member_put (self, project_id, account_id, role, error);
}

static inline gboolean
cps_storage_member_delete (CpsStorage *self, const char *project_id, const char *account_id, GError **error)
{
  return self->vtable->member_delete (self, project_id, account_id, error);
}

static inline char *
cps_storage_member_get_role (CpsStorage *self, const char *project_id, const char *account_id, GError **error)
{
  return self->vtable->member_get_role (self, project_id, account_id, error);
}

static inline GPtrArray *
cps_storage_member_list (CpsStorage *self, const char *project_id, GError **error)
{
  return self->vtable->member_list (self, project_id, error);
}

static inline gboolean
cps_storage_keys_put (CpsStorage *self, const char *project_id, const char *account_id, GPtrArray *keys, GError **error)
{
  return self->vtable->keys_put (self, project_id, account_id, keys, error);
}

static inline GPtrArray *
cps_storage_keys_list (CpsStorage *self, const char *project_id, const char *account_id, GError **error)
{
  return self->vtable->keys_list (self, project_id, account_id, error);
}

static inline gboolean
cps_storage_revision_insert (CpsStorage *self, CpsRevisionRecord *revision, GError **error)
{
  return self->vtable->revision_insert (self, revision, error);
}

static inline CpsRevisionRecord *
cps_storage_revision_get (CpsStorage *self, const char *project_id, const char *id, GError **error)
{
  return self->vtable->revision_get (self, project_id, id, error);
}

static inline GPtrArray *
cps_storage_revision_list (CpsStorage *self, const char *project_id, gint64 after_seq, guint limit, GError **error)
{
  return self->vtable->revision_list (self, project_id, after_seq, limit, error);
}

static inline GPtrArray *
cps_storage_revision_graph (CpsStorage *self, const char *project_id, GError **error)
{
  return self->vtable->revision_graph (self, project_id, error);
}

static inline GPtrArray *
cps_storage_changes_list (CpsStorage *self, const char *member_account, gint64 after_seq, guint limit, GError **error)
{
  return self->vtable->changes_list (self, member_account, after_seq, limit, error);
}

static inline gint64
cps_storage_revision_count (CpsStorage *self, GError **error)
{
  return self->vtable->revision_count (self, error);
}

static inline gboolean
cps_storage_revision_foreach (CpsStorage *self, gboolean (*func) (const CpsRevisionRecord *revision, gpointer user_data, GError **error), gpointer user_data, GError **error)
{
  return self->vtable->revision_foreach (self, func, user_data, error);
}

static inline gboolean
cps_storage_audit_last (CpsStorage *self, gint64 *seq, char **hash, GError **error)
{
  return self->vtable->audit_last (self, seq, hash, error);
}

static inline gboolean
cps_storage_audit_insert (CpsStorage *self, const CpsAuditRecord *entry, GError **error)
{
  return self->vtable->audit_insert (self, entry, error);
}

static inline GPtrArray *
cps_storage_audit_list (CpsStorage *self, const CpsAuditFilter *filter, gint64 after_seq, guint limit, GError **error)
{
  return self->vtable->audit_list (self, filter, after_seq, limit, error);
}

static inline gboolean
cps_storage_checkpoint_insert (CpsStorage *self, const CpsCheckpointRecord *checkpoint, GError **error)
{
  return self->vtable->checkpoint_insert (self, checkpoint, error);
}

static inline GPtrArray *
cps_storage_checkpoint_list (CpsStorage *self, GError **error)
{
  return self->vtable->checkpoint_list (self, error);
}

static inline CpsCheckpointRecord *
cps_storage_checkpoint_last (CpsStorage *self, GError **error)
{
  return self->vtable->checkpoint_last (self, error);
}

static inline gboolean
cps_storage_backup_to (CpsStorage *self, const char *path, GError **error)
{
  return self->vtable->backup_to (self, path, error);
}

static inline gboolean
cps_storage_check_integrity (CpsStorage *self, GPtrArray *problems, GError **error)
{
  return self->vtable->check_integrity (self, problems, error);
}

/* ----- shared over the interface ------------------------------------------------------- */

/* Sets *@exists to whether an admin account other than @account_id exists. */
gboolean cps_storage_other_admin_exists (CpsStorage *storage, const char *account_id,
                                         gboolean *exists, GError **error);

G_END_DECLS
