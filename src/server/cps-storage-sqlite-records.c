/* cps-storage-sqlite-records.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The records of the SQLite backend: accounts, devices, tokens, rate limits, projects and
 * members, revisions, audit entries and checkpoints, each read and written with one cached
 * statement on the connection in use (the storage's own, or the writer connection during a
 * write transaction; see cps-storage-sqlite.c).
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <sqlite3.h>

#include "cps-storage-sqlite-private.h"

/* Rate-limit rows older than this are dropped when a key gets a new one. */
#define RATELIMIT_KEEP_SECONDS (24 * 60 * 60)

typedef gpointer (*ReadRowFunc) (sqlite3_stmt *stmt);

/* ----- statements ------------------------------------------------------------------------- */

/* @not_found is a translated sentence with one %s for @key (or none). */
static void
set_not_found (GError **error, const char *not_found, const char *key)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
  g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND, not_found, key ? key : "");
#pragma GCC diagnostic pop
}

/* Text is bound without a copy: every caller's strings outlive the statement's use. */
static void
bind_text (sqlite3_stmt *stmt, int index, const char *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, index);
}

static char *
column_dup (sqlite3_stmt *stmt, int column)
{
  const unsigned char *text = sqlite3_column_text (stmt, column);

  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

/* Space-separated ids → a vector, empty (never NULL) for an empty text. */
static GStrv
column_ids (sqlite3_stmt *stmt, int column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  if (text == NULL || *text == '\0')
    return g_new0 (char *, 1);
  return g_strsplit (text, " ", -1);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Ids → space-separated text, sorted when @sort. */
static char *
join_ids (const char *const *ids, gboolean sort)
{
  g_autofree const char **copy = NULL;
  guint n;

  if (ids == NULL)
    return g_strdup ("");
  if (!sort)
    return g_strjoinv (" ", (char **) ids);

  n = g_strv_length ((char **) ids);
  copy = g_new0 (const char *, n + 1);
  memcpy (copy, ids, n * sizeof (char *));
  qsort (copy, n, sizeof (char *), compare_strings);
  return g_strjoinv (" ", (char **) copy);
}

/* Runs an UPDATE of one row; NOT_FOUND when no row matched. */
static gboolean
step_update (CpsStorageSqlite *self, sqlite3_stmt *stmt, const char *doing, const char *not_found,
             const char *key, GError **error)
{
  if (!_cps_storage_sqlite_step_done (self, stmt, doing, error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    {
      set_not_found (error, not_found, key);
      return FALSE;
    }
  return TRUE;
}

/* Steps to the statement's one row: SQLITE_ROW, SQLITE_DONE (no row, NOT_FOUND set), or an
 * error code with @error set. */
static int
step_one (CpsStorageSqlite *self, sqlite3_stmt *stmt, const char *doing, const char *not_found,
          const char *key, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_DONE)
    set_not_found (error, not_found, key);
  else if (rc != SQLITE_ROW)
    _cps_storage_sqlite_set_error (self, rc, doing, error);
  return rc;
}

static gpointer
read_one (CpsStorageSqlite *self, sqlite3_stmt *stmt, ReadRowFunc read, const char *doing,
          const char *not_found, const char *key, GError **error)
{
  if (step_one (self, stmt, doing, not_found, key, error) != SQLITE_ROW)
    return NULL;
  return read (stmt);
}

static GPtrArray *
read_all (CpsStorageSqlite *self, sqlite3_stmt *stmt, ReadRowFunc read, GDestroyNotify free_func,
          const char *doing, GError **error)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (free_func);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (rows, read (stmt));
  if (rc != SQLITE_DONE)
    {
      _cps_storage_sqlite_set_error (self, rc, doing, error);
      return NULL;
    }
  return g_steal_pointer (&rows);
}

static gint64
read_count (CpsStorageSqlite *self, const char *sql, const char *doing, GError **error)
{
  g_auto (CachedStmt) stmt = _cps_storage_sqlite_prepare (self, sql, error);
  int rc;

  if (stmt == NULL)
    return -1;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      _cps_storage_sqlite_set_error (self, rc, doing, error);
      return -1;
    }
  return sqlite3_column_int64 (stmt, 0);
}

/* Runs cached statement @sql with up to two text parameters and no rows. */
static gboolean
exec_cached (CpsStorageSqlite *self, const char *sql, const char *param1, const char *param2,
             const char *doing, GError **error)
{
  g_auto (CachedStmt) stmt = _cps_storage_sqlite_prepare (self, sql, error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, param1);
  if (param2 != NULL)
    bind_text (stmt, 2, param2);
  return _cps_storage_sqlite_step_done (self, stmt, doing, error);
}

/* ----- records ---------------------------------------------------------------------------- */

#define ACCOUNT_COLUMNS                                                                            \
  "id, username, role, password_hash, totp_secret, totp_pending, totp_last_step, created_at"

static gpointer
read_account (sqlite3_stmt *stmt)
{
  CpsAccountRecord *account = g_new0 (CpsAccountRecord, 1);

  account->id = column_dup (stmt, 0);
  account->username = column_dup (stmt, 1);
  account->role = column_dup (stmt, 2);
  account->password_hash = column_dup (stmt, 3);
  account->totp_secret = column_dup (stmt, 4);
  account->totp_pending = column_dup (stmt, 5);
  account->totp_last_step = sqlite3_column_int64 (stmt, 6);
  account->created_at = column_dup (stmt, 7);
  return account;
}

#define DEVICE_COLUMNS                                                                             \
  "id, account_id, name, platform, client_version, public_key, key_fingerprint, state, "           \
  "registered_at, last_seen_at, last_sync_at, revoked_at, revoked_by, revoke_reason"

static gpointer
read_device (sqlite3_stmt *stmt)
{
  CpsDeviceRecord *device = g_new0 (CpsDeviceRecord, 1);

  device->id = column_dup (stmt, 0);
  device->account_id = column_dup (stmt, 1);
  device->name = column_dup (stmt, 2);
  device->platform = column_dup (stmt, 3);
  device->client_version = column_dup (stmt, 4);
  device->public_key = column_dup (stmt, 5);
  device->key_fingerprint = column_dup (stmt, 6);
  device->state = column_dup (stmt, 7);
  device->registered_at = column_dup (stmt, 8);
  device->last_seen_at = column_dup (stmt, 9);
  device->last_sync_at = column_dup (stmt, 10);
  device->revoked_at = column_dup (stmt, 11);
  device->revoked_by = column_dup (stmt, 12);
  device->revoke_reason = column_dup (stmt, 13);
  return device;
}

static const char *const token_kinds[] = { "access", "refresh" };
static const char *const token_states[] = { "active", "rotated", "revoked" };

static const char *
token_kind_to_string (CpsTokenKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (token_kinds), token_kinds[0]);
  return token_kinds[kind];
}

static const char *
token_state_to_string (CpsTokenState state)
{
  /* An unknown state is stored as revoked: never more permissive than asked. */
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (token_states), "revoked");
  return token_states[state];
}

#define TOKEN_COLUMNS                                                                              \
  "token_hash, kind, state, session_id, account_id, device_id, created_at, expires_at"

static gpointer
read_token (sqlite3_stmt *stmt)
{
  CpsTokenRecord *token = g_new0 (CpsTokenRecord, 1);
  const char *kind = (const char *) sqlite3_column_text (stmt, 1);
  const char *state = (const char *) sqlite3_column_text (stmt, 2);

  token->token_hash = column_dup (stmt, 0);
  token->kind = g_strcmp0 (kind, "refresh") == 0 ? CPS_TOKEN_REFRESH : CPS_TOKEN_ACCESS;
  if (g_strcmp0 (state, "active") == 0)
    token->state = CPS_TOKEN_ACTIVE;
  else if (g_strcmp0 (state, "rotated") == 0)
    token->state = CPS_TOKEN_ROTATED;
  else
    token->state = CPS_TOKEN_REVOKED;
  token->session_id = column_dup (stmt, 3);
  token->account_id = column_dup (stmt, 4);
  token->device_id = column_dup (stmt, 5);
  token->created_at = sqlite3_column_int64 (stmt, 6);
  token->expires_at = sqlite3_column_int64 (stmt, 7);
  return token;
}

#define PROJECT_COLUMNS                                                                            \
  "p.id, p.name, p.owner, p.encrypted, p.created_at, p.updated_at, p.heads, p.conflicted, "        \
  "p.revision_count, p.checksum, p.deleted"

static gpointer
read_project (sqlite3_stmt *stmt)
{
  CpsProjectRecord *project = g_new0 (CpsProjectRecord, 1);

  project->id = column_dup (stmt, 0);
  project->name = column_dup (stmt, 1);
  project->owner = column_dup (stmt, 2);
  project->encrypted = sqlite3_column_int (stmt, 3) != 0;
  project->created_at = column_dup (stmt, 4);
  project->updated_at = column_dup (stmt, 5);
  project->heads = column_ids (stmt, 6);
  project->conflicted = sqlite3_column_int (stmt, 7) != 0;
  project->revision_count = sqlite3_column_int64 (stmt, 8);
  project->checksum = column_dup (stmt, 9);
  project->deleted = sqlite3_column_int (stmt, 10) != 0;
  return project;
}

static gpointer
read_member (sqlite3_stmt *stmt)
{
  CpsMemberRecord *member = g_new0 (CpsMemberRecord, 1);

  member->account_id = column_dup (stmt, 0);
  member->role = column_dup (stmt, 1);
  return member;
}

static gpointer
read_wrapped_key (sqlite3_stmt *stmt)
{
  CpsWrappedKeyRecord *key = g_new0 (CpsWrappedKeyRecord, 1);

  key->account_id = column_dup (stmt, 0);
  key->key_epoch = sqlite3_column_int64 (stmt, 1);
  key->wrapped_key = column_dup (stmt, 2);
  return key;
}

/* Every revision query selects these twelve columns in this order; a query that does not
 * fill a field selects NULL in its place. */
#define REVISION_COLUMNS                                                                           \
  "r.seq, r.id, r.project_id, r.device_id, r.created_at, r.checksum, r.deleted, r.parents, "       \
  "r.clock_sum, r.clock_json, r.json, r.header_json"
#define REVISION_HEADER_COLUMNS                                                                    \
  "r.seq, r.id, r.project_id, r.device_id, r.created_at, r.checksum, r.deleted, r.parents, "       \
  "r.clock_sum, r.clock_json, NULL, r.header_json"
#define REVISION_GRAPH_COLUMNS                                                                     \
  "r.seq, r.id, r.project_id, NULL, NULL, NULL, 0, r.parents, r.clock_sum, NULL, NULL, NULL"

static gpointer
read_revision (sqlite3_stmt *stmt)
{
  CpsRevisionRecord *revision = g_new0 (CpsRevisionRecord, 1);

  revision->seq = sqlite3_column_int64 (stmt, 0);
  revision->id = column_dup (stmt, 1);
  revision->project_id = column_dup (stmt, 2);
  revision->device_id = column_dup (stmt, 3);
  revision->created_at = column_dup (stmt, 4);
  revision->checksum = column_dup (stmt, 5);
  revision->deleted = sqlite3_column_int (stmt, 6) != 0;
  revision->parents = column_ids (stmt, 7);
  revision->clock_sum = (guint64) sqlite3_column_int64 (stmt, 8);
  revision->clock_json = column_dup (stmt, 9);
  revision->json = column_dup (stmt, 10);
  revision->header_json = column_dup (stmt, 11);
  return revision;
}

#define AUDIT_COLUMNS                                                                              \
  "seq, at, action, actor_account, actor_device, target_type, target_id, details_json, "           \
  "prev_hash, hash"

static gpointer
read_audit (sqlite3_stmt *stmt)
{
  CpsAuditRecord *entry = g_new0 (CpsAuditRecord, 1);

  entry->seq = sqlite3_column_int64 (stmt, 0);
  entry->at = column_dup (stmt, 1);
  entry->action = column_dup (stmt, 2);
  entry->actor_account = column_dup (stmt, 3);
  entry->actor_device = column_dup (stmt, 4);
  entry->target_type = column_dup (stmt, 5);
  entry->target_id = column_dup (stmt, 6);
  entry->details_json = column_dup (stmt, 7);
  entry->prev_hash = column_dup (stmt, 8);
  entry->hash = column_dup (stmt, 9);
  return entry;
}

#define CHECKPOINT_COLUMNS "seq, hash, at, signature"

static gpointer
read_checkpoint (sqlite3_stmt *stmt)
{
  CpsCheckpointRecord *checkpoint = g_new0 (CpsCheckpointRecord, 1);

  checkpoint->seq = sqlite3_column_int64 (stmt, 0);
  checkpoint->hash = column_dup (stmt, 1);
  checkpoint->at = column_dup (stmt, 2);
  checkpoint->signature = column_dup (stmt, 3);
  return checkpoint;
}

/* ----- accounts --------------------------------------------------------------------------- */

gboolean
_cps_storage_sqlite_account_insert (CpsStorage *storage, const CpsAccountRecord *account,
                                    GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "INSERT INTO accounts (" ACCOUNT_COLUMNS ") "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                                     error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, account->id);
  bind_text (stmt, 2, account->username);
  bind_text (stmt, 3, account->role);
  bind_text (stmt, 4, account->password_hash);
  bind_text (stmt, 5, account->totp_secret);
  bind_text (stmt, 6, account->totp_pending);
  sqlite3_bind_int64 (stmt, 7, account->totp_last_step);
  bind_text (stmt, 8, account->created_at);
  return _cps_storage_sqlite_step_done (self, stmt, _("Could not add the account"), error);
}

CpsAccountRecord *
_cps_storage_sqlite_account_get (CpsStorage *storage, const char *id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = _cps_storage_sqlite_prepare (
      self, "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id = ?1", error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, id);
  return read_one (self, stmt, read_account, _("Could not read the account"),
                   _("There is no account with the id “%s”."), id, error);
}

CpsAccountRecord *
_cps_storage_sqlite_account_get_by_name (CpsStorage *storage, const char *username, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = _cps_storage_sqlite_prepare (
      self, "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE username = ?1", error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, username);
  return read_one (self, stmt, read_account, _("Could not read the account"),
                   _("There is no account named “%s”."), username, error);
}

GPtrArray *
_cps_storage_sqlite_account_list (CpsStorage *storage, const char *cursor, guint limit,
                                  GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "SELECT " ACCOUNT_COLUMNS " FROM accounts "
                                     "WHERE username > ?1 ORDER BY username LIMIT ?2",
                                     error);

  if (stmt == NULL)
    return NULL;
  /* Every username sorts after the empty text. */
  bind_text (stmt, 1, cursor ? cursor : "");
  sqlite3_bind_int64 (stmt, 2, limit);
  return read_all (self, stmt, read_account, (GDestroyNotify) cps_account_record_free,
                   _("Could not list the accounts"), error);
}

gboolean
_cps_storage_sqlite_account_update (CpsStorage *storage, const CpsAccountRecord *account,
                                    GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "UPDATE accounts SET role = ?2, password_hash = ?3, "
                                     "totp_secret = ?4, totp_pending = ?5, "
                                     "totp_last_step = ?6 WHERE id = ?1",
                                     error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, account->id);
  bind_text (stmt, 2, account->role);
  bind_text (stmt, 3, account->password_hash);
  bind_text (stmt, 4, account->totp_secret);
  bind_text (stmt, 5, account->totp_pending);
  sqlite3_bind_int64 (stmt, 6, account->totp_last_step);
  return step_update (self, stmt, _("Could not update the account"),
                      _("There is no account with the id “%s”."), account->id, error);
}

gint64
_cps_storage_sqlite_account_count (CpsStorage *storage, GError **error)
{
  return read_count (SELF (storage), "SELECT count(*) FROM accounts",
                     _("Could not count the accounts"), error);
}

gboolean
_cps_storage_sqlite_recovery_codes_replace (CpsStorage *storage, const char *account_id,
                                            const char *const *code_hashes, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  const char *doing = _("Could not store the recovery codes");

  if (!exec_cached (self, "DELETE FROM recovery_codes WHERE account_id = ?1", account_id, NULL,
                    doing, error))
    return FALSE;

  for (guint i = 0; code_hashes != NULL && code_hashes[i] != NULL; i++)
    {
      if (!exec_cached (self,
                        "INSERT OR IGNORE INTO recovery_codes (account_id, code_hash) "
                        "VALUES (?1, ?2)",
                        account_id, code_hashes[i], doing, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
_cps_storage_sqlite_recovery_code_use (CpsStorage *storage, const char *account_id,
                                       const char *code_hash, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);

  if (!exec_cached (self,
                    "UPDATE recovery_codes SET used_at = strftime ('%Y-%m-%dT%H:%M:%fZ', 'now') "
                    "WHERE account_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
                    account_id, code_hash, _("Could not use the recovery code"), error))
    return FALSE;
  return sqlite3_changes (self->db) > 0;
}

/* ----- devices ---------------------------------------------------------------------------- */

gboolean
_cps_storage_sqlite_device_insert (CpsStorage *storage, const CpsDeviceRecord *device,
                                   GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "INSERT INTO devices (" DEVICE_COLUMNS ") VALUES (?1, ?2, "
                                     "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                                     error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, device->id);
  bind_text (stmt, 2, device->account_id);
  bind_text (stmt, 3, device->name);
  bind_text (stmt, 4, device->platform);
  bind_text (stmt, 5, device->client_version);
  bind_text (stmt, 6, device->public_key);
  bind_text (stmt, 7, device->key_fingerprint);
  bind_text (stmt, 8, device->state);
  bind_text (stmt, 9, device->registered_at);
  bind_text (stmt, 10, device->last_seen_at);
  bind_text (stmt, 11, device->last_sync_at);
  bind_text (stmt, 12, device->revoked_at);
  bind_text (stmt, 13, device->revoked_by);
  bind_text (stmt, 14, device->revoke_reason);
  return _cps_storage_sqlite_step_done (self, stmt, _("Could not register the device"), error);
}

CpsDeviceRecord *
_cps_storage_sqlite_device_get (CpsStorage *storage, const char *id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = _cps_storage_sqlite_prepare (
      self, "SELECT " DEVICE_COLUMNS " FROM devices WHERE id = ?1", error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, id);
  return read_one (self, stmt, read_device, _("Could not read the device"),
                   _("There is no device with the id “%s”."), id, error);
}

CpsDeviceRecord *
_cps_storage_sqlite_device_get_by_key (CpsStorage *storage, const char *public_key, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = _cps_storage_sqlite_prepare (
      self, "SELECT " DEVICE_COLUMNS " FROM devices WHERE public_key = ?1", error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, public_key);
  return read_one (self, stmt, read_device, _("Could not read the device"),
                   _("No device is registered with the public key “%s”."), public_key, error);
}

GPtrArray *
_cps_storage_sqlite_device_list (CpsStorage *storage, const char *account_id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = NULL;

  if (account_id != NULL)
    stmt = _cps_storage_sqlite_prepare (self,
                                        "SELECT " DEVICE_COLUMNS
                                        " FROM devices WHERE account_id = ?1 "
                                        "ORDER BY registered_at, id",
                                        error);
  else
    stmt = _cps_storage_sqlite_prepare (
        self, "SELECT " DEVICE_COLUMNS " FROM devices ORDER BY registered_at, id", error);
  if (stmt == NULL)
    return NULL;
  if (account_id != NULL)
    bind_text (stmt, 1, account_id);
  return read_all (self, stmt, read_device, (GDestroyNotify) cps_device_record_free,
                   _("Could not list the devices"), error);
}

gboolean
_cps_storage_sqlite_device_update (CpsStorage *storage, const CpsDeviceRecord *device,
                                   GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "UPDATE devices SET state = ?2, revoked_at = ?3, "
                                     "revoked_by = ?4, revoke_reason = ?5, name = ?6, "
                                     "platform = ?7, client_version = ?8 WHERE id = ?1",
                                     error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, device->id);
  bind_text (stmt, 2, device->state);
  bind_text (stmt, 3, device->revoked_at);
  bind_text (stmt, 4, device->revoked_by);
  bind_text (stmt, 5, device->revoke_reason);
  bind_text (stmt, 6, device->name);
  bind_text (stmt, 7, device->platform);
  bind_text (stmt, 8, device->client_version);
  return step_update (self, stmt, _("Could not update the device"),
                      _("There is no device with the id “%s”."), device->id, error);
}

gboolean
_cps_storage_sqlite_device_touch (CpsStorage *storage, const char *id, const char *at,
                                  gboolean synced, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "UPDATE devices SET last_seen_at = ?2, "
                                     "last_sync_at = CASE WHEN ?3 THEN ?2 ELSE last_sync_at END "
                                     "WHERE id = ?1",
                                     error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, id);
  bind_text (stmt, 2, at);
  sqlite3_bind_int (stmt, 3, synced ? 1 : 0);
  return step_update (self, stmt, _("Could not record when the device was seen"),
                      _("There is no device with the id “%s”."), id, error);
}

gboolean
_cps_storage_sqlite_device_count_states (CpsStorage *storage, gint64 *active, gint64 *pending,
                                         gint64 *revoked, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = _cps_storage_sqlite_prepare (
      self, "SELECT state, count(*) FROM devices GROUP BY state", error);
  gint64 counts[3] = { 0, 0, 0 };
  int rc;

  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *state = (const char *) sqlite3_column_text (stmt, 0);
      gint64 n = sqlite3_column_int64 (stmt, 1);

      if (g_strcmp0 (state, "active") == 0)
        counts[0] = n;
      else if (g_strcmp0 (state, "pending") == 0)
        counts[1] = n;
      else if (g_strcmp0 (state, "revoked") == 0)
        counts[2] = n;
    }
  if (rc != SQLITE_DONE)
    {
      _cps_storage_sqlite_set_error (self, rc, _("Could not count the devices"), error);
      return FALSE;
    }
  if (active != NULL)
    *active = counts[0];
  if (pending != NULL)
    *pending = counts[1];
  if (revoked != NULL)
    *revoked = counts[2];
  return TRUE;
}

/* ----- tokens ----------------------------------------------------------------------------- */

gboolean
_cps_storage_sqlite_token_insert (CpsStorage *storage, const CpsTokenRecord *token, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = _cps_storage_sqlite_prepare (self,
                                                          "INSERT INTO tokens (" TOKEN_COLUMNS ") "
                                                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                                                          error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, token->token_hash);
  bind_text (stmt, 2, token_kind_to_string (token->kind));
  bind_text (stmt, 3, token_state_to_string (token->state));
  bind_text (stmt, 4, token->session_id);
  bind_text (stmt, 5, token->account_id);
  bind_text (stmt, 6, token->device_id);
  sqlite3_bind_int64 (stmt, 7, token->created_at);
  sqlite3_bind_int64 (stmt, 8, token->expires_at);
  return _cps_storage_sqlite_step_done (self, stmt, _("Could not store the token"), error);
}

CpsTokenRecord *
_cps_storage_sqlite_token_get (CpsStorage *storage, const char *token_hash, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = _cps_storage_sqlite_prepare (
      self, "SELECT " TOKEN_COLUMNS " FROM tokens WHERE token_hash = ?1", error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, token_hash);
  /* The hash is not secret, but a token's identity has no place in a message. */
  return read_one (self, stmt, read_token, _("Could not read the token"),
                   _("There is no such token."), NULL, error);
}

gboolean
_cps_storage_sqlite_token_set_state (CpsStorage *storage, const char *token_hash,
                                     CpsTokenState state, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = _cps_storage_sqlite_prepare (
      self, "UPDATE tokens SET state = ?2 WHERE token_hash = ?1", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, token_hash);
  bind_text (stmt, 2, token_state_to_string (state));
  return step_update (self, stmt, _("Could not update the token"), _("There is no such token."),
                      NULL, error);
}

gboolean
_cps_storage_sqlite_tokens_revoke_session (CpsStorage *storage, const char *session_id,
                                           GError **error)
{
  return exec_cached (SELF (storage),
                      "UPDATE tokens SET state = 'revoked' WHERE session_id = ?1 "
                      "AND state != 'revoked'",
                      session_id, NULL, _("Could not revoke the session"), error);
}

gboolean
_cps_storage_sqlite_tokens_revoke_device (CpsStorage *storage, const char *device_id,
                                          GError **error)
{
  return exec_cached (SELF (storage),
                      "UPDATE tokens SET state = 'revoked' WHERE device_id = ?1 "
                      "AND state != 'revoked'",
                      device_id, NULL, _("Could not revoke the device’s sessions"), error);
}

gboolean
_cps_storage_sqlite_tokens_purge_expired (CpsStorage *storage, gint64 now, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self, "DELETE FROM tokens WHERE expires_at <= ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, now);
  return _cps_storage_sqlite_step_done (self, stmt, _("Could not remove expired tokens"), error);
}

/* ----- rate limits ------------------------------------------------------------------------ */

gboolean
_cps_storage_sqlite_ratelimit_record (CpsStorage *storage, const char *key, gint64 at,
                                      GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  const char *doing = _("Could not record a failed attempt");
  g_auto (CachedStmt) insert = NULL;
  g_auto (CachedStmt) trim = NULL;

  insert = _cps_storage_sqlite_prepare (self, "INSERT INTO ratelimit (key, at) VALUES (?1, ?2)",
                                        error);
  if (insert == NULL)
    return FALSE;
  bind_text (insert, 1, key);
  sqlite3_bind_int64 (insert, 2, at);
  if (!_cps_storage_sqlite_step_done (self, insert, doing, error))
    return FALSE;

  trim = _cps_storage_sqlite_prepare (self, "DELETE FROM ratelimit WHERE key = ?1 AND at < ?2",
                                      error);
  if (trim == NULL)
    return FALSE;
  bind_text (trim, 1, key);
  sqlite3_bind_int64 (trim, 2, at - RATELIMIT_KEEP_SECONDS);
  return _cps_storage_sqlite_step_done (self, trim, doing, error);
}

gint64
_cps_storage_sqlite_ratelimit_count (CpsStorage *storage, const char *key, gint64 since,
                                     gint64 *oldest, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = _cps_storage_sqlite_prepare (self,
                                                          "SELECT count(*), min(at) FROM ratelimit "
                                                          "WHERE key = ?1 AND at >= ?2",
                                                          error);
  int rc;

  if (oldest != NULL)
    *oldest = 0;
  if (stmt == NULL)
    return -1;
  bind_text (stmt, 1, key);
  sqlite3_bind_int64 (stmt, 2, since);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      _cps_storage_sqlite_set_error (self, rc, _("Could not count failed attempts"), error);
      return -1;
    }
  if (oldest != NULL)
    *oldest = sqlite3_column_int64 (stmt, 1); /* NULL reads as 0 when none */
  return sqlite3_column_int64 (stmt, 0);
}

gboolean
_cps_storage_sqlite_ratelimit_clear (CpsStorage *storage, const char *key, GError **error)
{
  return exec_cached (SELF (storage), "DELETE FROM ratelimit WHERE key = ?1", key, NULL,
                      _("Could not clear failed attempts"), error);
}

gboolean
_cps_storage_sqlite_ratelimit_forget (CpsStorage *storage, const char *key, gint64 at,
                                      GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "DELETE FROM ratelimit WHERE rowid = "
                                     "(SELECT rowid FROM ratelimit WHERE key = ?1 AND at = ?2 "
                                     "LIMIT 1)",
                                     error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, key);
  sqlite3_bind_int64 (stmt, 2, at);
  return _cps_storage_sqlite_step_done (self, stmt, _("Could not clear failed attempts"), error);
}

/* ----- projects and members --------------------------------------------------------------- */

gboolean
_cps_storage_sqlite_project_insert (CpsStorage *storage, const CpsProjectRecord *project,
                                    GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_autofree char *heads = join_ids ((const char *const *) project->heads, TRUE);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "INSERT INTO projects (id, name, owner, encrypted, "
                                     "created_at, updated_at, heads, conflicted, "
                                     "revision_count, checksum, deleted) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                                     error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, project->id);
  bind_text (stmt, 2, project->name);
  bind_text (stmt, 3, project->owner);
  sqlite3_bind_int (stmt, 4, project->encrypted ? 1 : 0);
  bind_text (stmt, 5, project->created_at);
  bind_text (stmt, 6, project->updated_at ? project->updated_at : project->created_at);
  bind_text (stmt, 7, heads);
  sqlite3_bind_int (stmt, 8, project->conflicted ? 1 : 0);
  sqlite3_bind_int64 (stmt, 9, project->revision_count);
  bind_text (stmt, 10, project->checksum);
  sqlite3_bind_int (stmt, 11, project->deleted ? 1 : 0);
  return _cps_storage_sqlite_step_done (self, stmt, _("Could not create the project"), error);
}

CpsProjectRecord *
_cps_storage_sqlite_project_get (CpsStorage *storage, const char *id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = _cps_storage_sqlite_prepare (
      self, "SELECT " PROJECT_COLUMNS " FROM projects p WHERE p.id = ?1", error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, id);
  return read_one (self, stmt, read_project, _("Could not read the project"),
                   _("There is no project with the id “%s”."), id, error);
}

GPtrArray *
_cps_storage_sqlite_project_list (CpsStorage *storage, const char *member_account,
                                  const char *cursor, guint limit, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = NULL;

  if (member_account != NULL)
    stmt = _cps_storage_sqlite_prepare (self,
                                        "SELECT " PROJECT_COLUMNS " FROM members m "
                                        "JOIN projects p ON p.id = m.project_id "
                                        "WHERE m.account_id = ?1 AND m.project_id > ?2 "
                                        "ORDER BY m.project_id LIMIT ?3",
                                        error);
  else
    stmt = _cps_storage_sqlite_prepare (self,
                                        "SELECT " PROJECT_COLUMNS " FROM projects p "
                                        "WHERE p.id > ?2 ORDER BY p.id LIMIT ?3",
                                        error);
  if (stmt == NULL)
    return NULL;
  if (member_account != NULL)
    bind_text (stmt, 1, member_account);
  bind_text (stmt, 2, cursor ? cursor : "");
  sqlite3_bind_int64 (stmt, 3, limit);
  return read_all (self, stmt, read_project, (GDestroyNotify) cps_project_record_free,
                   _("Could not list the projects"), error);
}

gboolean
_cps_storage_sqlite_project_update (CpsStorage *storage, const CpsProjectRecord *project,
                                    GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_autofree char *heads = join_ids ((const char *const *) project->heads, TRUE);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "UPDATE projects SET name = ?2, updated_at = ?3, "
                                     "heads = ?4, conflicted = ?5, revision_count = ?6, "
                                     "checksum = ?7, deleted = ?8 WHERE id = ?1",
                                     error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, project->id);
  bind_text (stmt, 2, project->name);
  bind_text (stmt, 3, project->updated_at);
  bind_text (stmt, 4, heads);
  sqlite3_bind_int (stmt, 5, project->conflicted ? 1 : 0);
  sqlite3_bind_int64 (stmt, 6, project->revision_count);
  bind_text (stmt, 7, project->checksum);
  sqlite3_bind_int (stmt, 8, project->deleted ? 1 : 0);
  return step_update (self, stmt, _("Could not update the project"),
                      _("There is no project with the id “%s”."), project->id, error);
}

gint64
_cps_storage_sqlite_project_count_conflicted (CpsStorage *storage, GError **error)
{
  return read_count (SELF (storage), "SELECT count(*) FROM projects WHERE conflicted = 1",
                     _("Could not count the conflicted projects"), error);
}

gboolean
_cps_storage_sqlite_member_put (CpsStorage *storage, const char *project_id, const char *account_id,
                                const char *role, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "INSERT INTO members (project_id, account_id, role) "
                                     "VALUES (?1, ?2, ?3) ON CONFLICT (project_id, account_id) "
                                     "DO UPDATE SET role = excluded.role",
                                     error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, project_id);
  bind_text (stmt, 2, account_id);
  bind_text (stmt, 3, role);
  return _cps_storage_sqlite_step_done (self, stmt, _("Could not store the project member"),
                                        error);
}

/* Removes the membership and the wrapped keys the account held for the project. */
gboolean
_cps_storage_sqlite_member_delete (CpsStorage *storage, const char *project_id,
                                   const char *account_id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  const char *doing = _("Could not remove the project member");

  if (!exec_cached (self, "DELETE FROM members WHERE project_id = ?1 AND account_id = ?2",
                    project_id, account_id, doing, error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND,
                   _("Account “%s” is not a member of project “%s”."), account_id, project_id);
      return FALSE;
    }
  return exec_cached (self, "DELETE FROM wrapped_keys WHERE project_id = ?1 AND account_id = ?2",
                      project_id, account_id, doing, error);
}

char *
_cps_storage_sqlite_member_get_role (CpsStorage *storage, const char *project_id,
                                     const char *account_id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "SELECT role FROM members "
                                     "WHERE project_id = ?1 AND account_id = ?2",
                                     error);
  int rc;

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, project_id);
  bind_text (stmt, 2, account_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return column_dup (stmt, 0);
  if (rc == SQLITE_DONE)
    g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND,
                 _("Account “%s” is not a member of project “%s”."), account_id, project_id);
  else
    _cps_storage_sqlite_set_error (self, rc, _("Could not read the project member"), error);
  return NULL;
}

GPtrArray *
_cps_storage_sqlite_member_list (CpsStorage *storage, const char *project_id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "SELECT account_id, role FROM members "
                                     "WHERE project_id = ?1 ORDER BY account_id",
                                     error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, project_id);
  return read_all (self, stmt, read_member, (GDestroyNotify) cps_member_record_free,
                   _("Could not list the project members"), error);
}

gboolean
_cps_storage_sqlite_keys_put (CpsStorage *storage, const char *project_id, const char *account_id,
                              GPtrArray *keys, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  const char *doing = _("Could not store the project keys");

  if (!exec_cached (self, "DELETE FROM wrapped_keys WHERE project_id = ?1 AND account_id = ?2",
                    project_id, account_id, doing, error))
    return FALSE;

  for (guint i = 0; keys != NULL && i < keys->len; i++)
    {
      const CpsWrappedKeyRecord *key = g_ptr_array_index (keys, i);
      g_auto (CachedStmt) stmt
          = _cps_storage_sqlite_prepare (self,
                                         "INSERT INTO wrapped_keys (project_id, account_id, "
                                         "key_epoch, wrapped_key) VALUES (?1, ?2, ?3, ?4)",
                                         error);

      if (stmt == NULL)
        return FALSE;
      bind_text (stmt, 1, project_id);
      bind_text (stmt, 2, account_id);
      sqlite3_bind_int64 (stmt, 3, key->key_epoch);
      bind_text (stmt, 4, key->wrapped_key);
      if (!_cps_storage_sqlite_step_done (self, stmt, doing, error))
        return FALSE;
    }
  return TRUE;
}

/* @account_id NULL lists the keys of every account. */
GPtrArray *
_cps_storage_sqlite_keys_list (CpsStorage *storage, const char *project_id, const char *account_id,
                               GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = NULL;

  if (account_id != NULL)
    stmt = _cps_storage_sqlite_prepare (
        self,
        "SELECT account_id, key_epoch, wrapped_key FROM wrapped_keys "
        "WHERE project_id = ?1 AND account_id = ?2 ORDER BY key_epoch",
        error);
  else
    stmt = _cps_storage_sqlite_prepare (
        self,
        "SELECT account_id, key_epoch, wrapped_key FROM wrapped_keys "
        "WHERE project_id = ?1 ORDER BY account_id, key_epoch",
        error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, project_id);
  if (account_id != NULL)
    bind_text (stmt, 2, account_id);
  return read_all (self, stmt, read_wrapped_key, (GDestroyNotify) cps_wrapped_key_record_free,
                   _("Could not list the project keys"), error);
}

/* ----- revisions -------------------------------------------------------------------------- */

gboolean
_cps_storage_sqlite_revision_insert (CpsStorage *storage, CpsRevisionRecord *revision,
                                     GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_autofree char *parents = join_ids ((const char *const *) revision->parents, FALSE);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "INSERT INTO revisions (id, project_id, device_id, "
                                     "created_at, checksum, deleted, parents, clock_sum, "
                                     "clock_json, json, header_json) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                                     error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, revision->id);
  bind_text (stmt, 2, revision->project_id);
  bind_text (stmt, 3, revision->device_id);
  bind_text (stmt, 4, revision->created_at);
  bind_text (stmt, 5, revision->checksum);
  sqlite3_bind_int (stmt, 6, revision->deleted ? 1 : 0);
  bind_text (stmt, 7, parents);
  sqlite3_bind_int64 (stmt, 8, (sqlite3_int64) revision->clock_sum);
  bind_text (stmt, 9, revision->clock_json);
  bind_text (stmt, 10, revision->json);
  bind_text (stmt, 11, revision->header_json);
  if (!_cps_storage_sqlite_step_done (self, stmt, _("Could not store the revision"), error))
    return FALSE;
  revision->seq = sqlite3_last_insert_rowid (self->db);
  return TRUE;
}

CpsRevisionRecord *
_cps_storage_sqlite_revision_get (CpsStorage *storage, const char *project_id, const char *id,
                                  GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = NULL;

  if (project_id != NULL)
    stmt = _cps_storage_sqlite_prepare (self,
                                        "SELECT " REVISION_COLUMNS " FROM revisions r "
                                        "WHERE r.id = ?1 AND r.project_id = ?2",
                                        error);
  else
    stmt = _cps_storage_sqlite_prepare (
        self, "SELECT " REVISION_COLUMNS " FROM revisions r WHERE r.id = ?1", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, id);
  if (project_id != NULL)
    bind_text (stmt, 2, project_id);
  return read_one (self, stmt, read_revision, _("Could not read the revision"),
                   _("There is no revision “%s” in this project."), id, error);
}

GPtrArray *
_cps_storage_sqlite_revision_list (CpsStorage *storage, const char *project_id, gint64 after_seq,
                                   guint limit, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "SELECT " REVISION_HEADER_COLUMNS " FROM revisions r "
                                     "WHERE r.project_id = ?1 AND r.seq > ?2 "
                                     "ORDER BY r.seq LIMIT ?3",
                                     error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, project_id);
  sqlite3_bind_int64 (stmt, 2, after_seq);
  sqlite3_bind_int64 (stmt, 3, limit);
  return read_all (self, stmt, read_revision, (GDestroyNotify) cps_revision_record_free,
                   _("Could not list the revisions"), error);
}

GPtrArray *
_cps_storage_sqlite_revision_graph (CpsStorage *storage, const char *project_id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "SELECT " REVISION_GRAPH_COLUMNS " FROM revisions r "
                                     "WHERE r.project_id = ?1 ORDER BY r.seq",
                                     error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, project_id);
  return read_all (self, stmt, read_revision, (GDestroyNotify) cps_revision_record_free,
                   _("Could not read the project’s revision graph"), error);
}

/* One query either way. For a member, the inner query walks revisions_feed in seq order
 * and keeps the seqs of the member's projects (read once from members_by_account), stopping
 * at @limit; the outer one reads just those rows. A page costs what it returns plus a
 * compact index scan over what it skips, never a sort of the member's whole feed (which is
 * what SQLite would choose through revisions_by_project, hence INDEXED BY). */
GPtrArray *
_cps_storage_sqlite_changes_list (CpsStorage *storage, const char *member_account, gint64 after_seq,
                                  guint limit, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = NULL;

  if (member_account != NULL)
    stmt = _cps_storage_sqlite_prepare (
        self,
        "SELECT " REVISION_COLUMNS " FROM revisions r WHERE r.seq IN "
        "(SELECT f.seq FROM revisions f INDEXED BY revisions_feed "
        " WHERE f.seq > ?2 AND f.project_id IN "
        " (SELECT m.project_id FROM members m WHERE m.account_id = ?1) "
        " ORDER BY f.seq LIMIT ?3) "
        "ORDER BY r.seq",
        error);
  else
    stmt = _cps_storage_sqlite_prepare (self,
                                        "SELECT " REVISION_COLUMNS " FROM revisions r "
                                        "WHERE r.seq > ?2 ORDER BY r.seq LIMIT ?3",
                                        error);
  if (stmt == NULL)
    return NULL;
  if (member_account != NULL)
    bind_text (stmt, 1, member_account);
  sqlite3_bind_int64 (stmt, 2, after_seq);
  sqlite3_bind_int64 (stmt, 3, limit);
  return read_all (self, stmt, read_revision, (GDestroyNotify) cps_revision_record_free,
                   _("Could not read the changes feed"), error);
}

gint64
_cps_storage_sqlite_revision_count (CpsStorage *storage, GError **error)
{
  return read_count (SELF (storage), "SELECT count(*) FROM revisions",
                     _("Could not count the revisions"), error);
}

/* @func may use this connection: the walk has a statement of its own. Returning FALSE from
 * @func stops the walk; with an error set, it is passed on and the walk returns FALSE. */
gboolean
_cps_storage_sqlite_revision_foreach (CpsStorage *storage,
                                      gboolean (*func) (const CpsRevisionRecord *revision,
                                                        gpointer user_data, GError **error),
                                      gpointer user_data, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_autoptr (OwnStmt) stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (self->db, "SELECT " REVISION_COLUMNS " FROM revisions r ORDER BY r.seq",
                           -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      _cps_storage_sqlite_set_error (self, rc, _("Could not read the revisions"), error);
      return FALSE;
    }

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr (CpsRevisionRecord) revision = read_revision (stmt);
      GError *local_error = NULL;

      if (!func (revision, user_data, &local_error))
        {
          if (local_error == NULL)
            return TRUE;
          g_propagate_error (error, local_error);
          return FALSE;
        }
    }
  if (rc != SQLITE_DONE)
    {
      _cps_storage_sqlite_set_error (self, rc, _("Could not read the revisions"), error);
      return FALSE;
    }
  return TRUE;
}

/* ----- audit ------------------------------------------------------------------------------ */

gboolean
_cps_storage_sqlite_audit_last (CpsStorage *storage, gint64 *seq, char **hash, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = _cps_storage_sqlite_prepare (self,
                                                          "SELECT seq, hash FROM audit_entries "
                                                          "ORDER BY seq DESC LIMIT 1",
                                                          error);
  int rc;

  if (seq != NULL)
    *seq = 0;
  if (hash != NULL)
    *hash = NULL;
  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (rc != SQLITE_ROW)
    {
      _cps_storage_sqlite_set_error (self, rc, _("Could not read the audit log"), error);
      return FALSE;
    }
  if (seq != NULL)
    *seq = sqlite3_column_int64 (stmt, 0);
  if (hash != NULL)
    *hash = column_dup (stmt, 1);
  return TRUE;
}

gboolean
_cps_storage_sqlite_audit_insert (CpsStorage *storage, const CpsAuditRecord *entry, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "INSERT INTO audit_entries (" AUDIT_COLUMNS ") "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                                     error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, entry->seq);
  bind_text (stmt, 2, entry->at);
  bind_text (stmt, 3, entry->action);
  bind_text (stmt, 4, entry->actor_account);
  bind_text (stmt, 5, entry->actor_device);
  bind_text (stmt, 6, entry->target_type);
  bind_text (stmt, 7, entry->target_id);
  bind_text (stmt, 8, entry->details_json ? entry->details_json : "{}");
  bind_text (stmt, 9, entry->prev_hash);
  bind_text (stmt, 10, entry->hash);
  return _cps_storage_sqlite_step_done (self, stmt, _("Could not append to the audit log"), error);
}

/* Each combination of filters is its own statement (at most 32), so SQLite can use the
 * index of the filter it picks. */
GPtrArray *
_cps_storage_sqlite_audit_list (CpsStorage *storage, const CpsAuditFilter *filter, gint64 after_seq,
                                guint limit, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_autoptr (GString) sql = g_string_new ("SELECT " AUDIT_COLUMNS " FROM audit_entries "
                                          "WHERE seq > ?1");
  g_auto (CachedStmt) stmt = NULL;

  if (filter != NULL && filter->action != NULL)
    g_string_append (sql, " AND action = ?2");
  if (filter != NULL && filter->actor_account != NULL)
    g_string_append (sql, " AND actor_account = ?3");
  if (filter != NULL && filter->actor_device != NULL)
    g_string_append (sql, " AND actor_device = ?4");
  if (filter != NULL && filter->from != NULL)
    g_string_append (sql, " AND at >= ?5");
  if (filter != NULL && filter->to != NULL)
    g_string_append (sql, " AND at < ?6");
  g_string_append (sql, " ORDER BY seq LIMIT ?7");

  stmt = _cps_storage_sqlite_prepare (self, sql->str, error);
  if (stmt == NULL)
    return NULL;
  /* Parameters a statement does not use are still numbered below ?7 and bind harmlessly. */
  sqlite3_bind_int64 (stmt, 1, after_seq);
  if (filter != NULL)
    {
      bind_text (stmt, 2, filter->action);
      bind_text (stmt, 3, filter->actor_account);
      bind_text (stmt, 4, filter->actor_device);
      bind_text (stmt, 5, filter->from);
      bind_text (stmt, 6, filter->to);
    }
  sqlite3_bind_int64 (stmt, 7, limit);
  return read_all (self, stmt, read_audit, (GDestroyNotify) cps_audit_record_free,
                   _("Could not read the audit log"), error);
}

gboolean
_cps_storage_sqlite_checkpoint_insert (CpsStorage *storage, const CpsCheckpointRecord *checkpoint,
                                       GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "INSERT INTO checkpoints (" CHECKPOINT_COLUMNS ") "
                                     "VALUES (?1, ?2, ?3, ?4)",
                                     error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, checkpoint->seq);
  bind_text (stmt, 2, checkpoint->hash);
  bind_text (stmt, 3, checkpoint->at);
  bind_text (stmt, 4, checkpoint->signature);
  return _cps_storage_sqlite_step_done (self, stmt, _("Could not store the audit checkpoint"),
                                        error);
}

GPtrArray *
_cps_storage_sqlite_checkpoint_list (CpsStorage *storage, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "SELECT " CHECKPOINT_COLUMNS " FROM checkpoints "
                                     "ORDER BY id",
                                     error);

  if (stmt == NULL)
    return NULL;
  return read_all (self, stmt, read_checkpoint, (GDestroyNotify) cps_checkpoint_record_free,
                   _("Could not list the audit checkpoints"), error);
}

CpsCheckpointRecord *
_cps_storage_sqlite_checkpoint_last (CpsStorage *storage, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = _cps_storage_sqlite_prepare (self,
                                     "SELECT " CHECKPOINT_COLUMNS " FROM checkpoints "
                                     "ORDER BY id DESC LIMIT 1",
                                     error);
  int rc;

  if (stmt == NULL)
    return NULL;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return read_checkpoint (stmt);
  if (rc != SQLITE_DONE)
    _cps_storage_sqlite_set_error (self, rc, _("Could not read the audit checkpoints"), error);
  return NULL;
}
