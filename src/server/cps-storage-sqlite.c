/* cps-storage-sqlite.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The SQLite storage backend: one database file in WAL mode with
 * synchronous=FULL, so a committed write survives a crash or power cut, and
 * several connections (worker threads, server processes) read while one
 * writes. cps_storage_begin() is BEGIN IMMEDIATE: it takes the write lock at
 * once, waiting up to ten seconds for another writer (the writers of one
 * process first queue for their turn, which passes without polling, and
 * every write transaction of a process runs on its one writer connection;
 * see docs/adr/0003-sqlite-write-path.md).
 *
 * The schema is versioned with PRAGMA user_version; each version has one
 * migration, applied in one transaction. Revisions, audit entries and
 * checkpoints are append-only: triggers refuse UPDATE and DELETE of them,
 * whoever issues it. Revision `seq` is an AUTOINCREMENT key, so it increases
 * with every insert and is never reused, across restarts too.
 *
 * Every statement is prepared once per connection and kept (SQLITE_PREPARE_
 * PERSISTENT); after each use it is reset and its bindings cleared.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "cps-storage.h"
#include "cps-storage-sqlite-vfs.h"

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 10000
/* Page cache per connection, in KiB (negative PRAGMA cache_size). The writer connection's
 * stays warm (see take_writer_turn()) and holds the indexes a push probes; a worker's own
 * connection finds its cache stale after every write, so a large one would only hold
 * memory. */
#define WRITER_CACHE_SIZE_KIB 12000
#define READER_CACHE_SIZE_KIB 2000
/* Pages in the WAL before it is copied back into the database. Above SQLite's 1000, so a
 * page that many pushes touch (an index leaf) is copied once for many commits. */
#define WAL_CHECKPOINT_PAGES 8192
/* Frames in the WAL after a passive checkpoint that make the next one a restart: under a
 * steady stream of writes, passive checkpoints never find the whole WAL copied back with no
 * reader on it, so SQLite never starts it over and the file grows without end. */
#define WAL_RESTART_FRAMES (2 * WAL_CHECKPOINT_PAGES)
/* How long a restart waits for readers to leave old snapshots (writers of this process wait
 * for it); if some stay longer, it is tried again after a later commit. */
#define WAL_RESTART_WAIT_MS 200
/* Bytes the WAL file is truncated to after a checkpoint. */
#define WAL_SIZE_LIMIT (64 * 1024 * 1024)
/* Rate-limit rows older than this are dropped when a key gets a new one. */
#define RATELIMIT_KEEP_SECONDS (24 * 60 * 60)

/* The one connection every write transaction of this process on a database runs on, lent
 * to the storage whose turn it is (see take_writer_turn()). */
typedef struct
{
  char *path;
  sqlite3 *db; /* opened by the first writer */
  GHashTable *statements;
  guint n_storages;        /* open storages of this path */
  gboolean taken;          /* a storage has the turn */
  gboolean checkpoint_due; /* the WAL is long: handed to the storage giving the turn back */
} WriterConnection;

typedef struct
{
  CpsStorage parent;

  /* The connection in use: this storage's own, or the process's writer connection while
   * this storage has the writer turn. */
  sqlite3 *db;
  GHashTable *statements; /* SQL text → sqlite3_stmt, of db */

  /* Owned */
  sqlite3 *own_db;
  GHashTable *own_statements;
  char *path;

  WriterConnection *writer; /* shared by the storages of this path in this process */
  gboolean has_writer_turn; /* between cps_storage_begin() and commit/rollback */
  gboolean in_snapshot;     /* a read transaction of cps_storage_begin_read() is open */
  gboolean checkpoint_due;  /* a commit of ours made the WAL long: storage_idle() copies it */
} CpsStorageSqlite;

#define SELF(storage) ((CpsStorageSqlite *) (storage))

/* A cached statement in use: reset and unbound when it goes out of scope. */
typedef sqlite3_stmt *CachedStmt;

static void
finalize_stmt (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static void
release_stmt (sqlite3_stmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (CachedStmt, release_stmt, NULL)

/* A statement of its own, finalized when it goes out of scope. */
typedef sqlite3_stmt OwnStmt;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwnStmt, sqlite3_finalize)

typedef gpointer (*ReadRowFunc) (sqlite3_stmt *stmt);

static const CpsStorageVTable sqlite_vtable;

/* ----- schema ----------------------------------------------------------------------------- */

/* Lists and filters each have an index. Tables with an INTEGER PRIMARY KEY carry it in
 * every index, so an index on (action) is also ordered by seq within an action.
 * revisions_by_project covers what revision_graph reads, so building a project's DAG does
 * not read the documents; revisions_feed is the changes feed in seq order with the project
 * of each entry, so a member's page skips other projects' revisions without reading them. */
/* clang-format off */
static const char schema_v1[] =
  "CREATE TABLE accounts ("
  "  id TEXT PRIMARY KEY NOT NULL,"
  "  username TEXT NOT NULL UNIQUE,"
  "  role TEXT NOT NULL,"
  "  password_hash TEXT NOT NULL,"
  "  totp_secret TEXT,"
  "  totp_pending TEXT,"
  "  totp_last_step INTEGER NOT NULL DEFAULT 0,"
  "  created_at TEXT NOT NULL"
  ");"
  "CREATE TABLE recovery_codes ("
  "  account_id TEXT NOT NULL REFERENCES accounts (id),"
  "  code_hash TEXT NOT NULL,"
  "  used_at TEXT,"
  "  PRIMARY KEY (account_id, code_hash)"
  ");"
  "CREATE TABLE devices ("
  "  id TEXT PRIMARY KEY NOT NULL,"
  "  account_id TEXT NOT NULL REFERENCES accounts (id),"
  "  name TEXT,"
  "  platform TEXT,"
  "  client_version TEXT,"
  "  public_key TEXT NOT NULL UNIQUE,"
  "  key_fingerprint TEXT NOT NULL,"
  "  state TEXT NOT NULL CHECK (state IN ('active', 'pending', 'revoked')),"
  "  registered_at TEXT NOT NULL,"
  "  last_seen_at TEXT,"
  "  last_sync_at TEXT,"
  "  revoked_at TEXT,"
  "  revoked_by TEXT,"
  "  revoke_reason TEXT"
  ");"
  "CREATE INDEX devices_by_account ON devices (account_id, registered_at, id);"
  "CREATE INDEX devices_by_registration ON devices (registered_at, id);"
  "CREATE TABLE tokens ("
  "  token_hash TEXT PRIMARY KEY NOT NULL,"
  "  kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),"
  "  state TEXT NOT NULL CHECK (state IN ('active', 'rotated', 'revoked')),"
  "  session_id TEXT NOT NULL,"
  "  account_id TEXT NOT NULL REFERENCES accounts (id),"
  "  device_id TEXT NOT NULL REFERENCES devices (id),"
  "  created_at INTEGER NOT NULL,"
  "  expires_at INTEGER NOT NULL"
  ");"
  "CREATE INDEX tokens_by_session ON tokens (session_id);"
  "CREATE INDEX tokens_by_device ON tokens (device_id);"
  "CREATE INDEX tokens_by_expiry ON tokens (expires_at);"
  "CREATE TABLE ratelimit ("
  "  key TEXT NOT NULL,"
  "  at INTEGER NOT NULL"
  ");"
  "CREATE INDEX ratelimit_by_key ON ratelimit (key, at);"
  "CREATE TABLE projects ("
  "  id TEXT PRIMARY KEY NOT NULL,"
  "  name TEXT NOT NULL,"
  "  owner TEXT NOT NULL REFERENCES accounts (id),"
  "  encrypted INTEGER NOT NULL CHECK (encrypted IN (0, 1)),"
  "  created_at TEXT NOT NULL,"
  "  updated_at TEXT NOT NULL,"
  "  heads TEXT NOT NULL DEFAULT '',"
  "  conflicted INTEGER NOT NULL DEFAULT 0 CHECK (conflicted IN (0, 1)),"
  "  revision_count INTEGER NOT NULL DEFAULT 0,"
  "  checksum TEXT,"
  "  deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))"
  ");"
  "CREATE INDEX projects_conflicted ON projects (id) WHERE conflicted = 1;"
  "CREATE TABLE members ("
  "  project_id TEXT NOT NULL REFERENCES projects (id),"
  "  account_id TEXT NOT NULL REFERENCES accounts (id),"
  "  role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),"
  "  PRIMARY KEY (project_id, account_id)"
  ");"
  "CREATE INDEX members_by_account ON members (account_id, project_id);"
  "CREATE TABLE wrapped_keys ("
  "  project_id TEXT NOT NULL REFERENCES projects (id),"
  "  account_id TEXT NOT NULL REFERENCES accounts (id),"
  "  key_epoch INTEGER NOT NULL,"
  "  wrapped_key TEXT NOT NULL,"
  "  PRIMARY KEY (project_id, account_id, key_epoch)"
  ");"
  "CREATE TABLE revisions ("
  "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  id TEXT NOT NULL UNIQUE,"
  "  project_id TEXT NOT NULL REFERENCES projects (id),"
  "  device_id TEXT NOT NULL REFERENCES devices (id),"
  "  created_at TEXT NOT NULL,"
  "  checksum TEXT NOT NULL,"
  "  deleted INTEGER NOT NULL CHECK (deleted IN (0, 1)),"
  "  parents TEXT NOT NULL,"
  "  clock_sum INTEGER NOT NULL,"
  "  clock_json TEXT NOT NULL,"
  "  json TEXT NOT NULL,"
  "  header_json TEXT NOT NULL"
  ");"
  "CREATE INDEX revisions_by_project ON revisions (project_id, seq, id, clock_sum, parents);"
  "CREATE INDEX revisions_feed ON revisions (seq, project_id);"
  "CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions"
  "  BEGIN SELECT RAISE (ABORT, 'revisions are append-only'); END;"
  "CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions"
  "  BEGIN SELECT RAISE (ABORT, 'revisions are append-only'); END;"
  "CREATE TABLE audit_entries ("
  "  seq INTEGER PRIMARY KEY CHECK (seq > 0),"
  "  at TEXT NOT NULL,"
  "  action TEXT NOT NULL,"
  "  actor_account TEXT,"
  "  actor_device TEXT,"
  "  target_type TEXT,"
  "  target_id TEXT,"
  "  details_json TEXT NOT NULL,"
  "  prev_hash TEXT NOT NULL,"
  "  hash TEXT NOT NULL"
  ");"
  "CREATE INDEX audit_by_action ON audit_entries (action);"
  "CREATE INDEX audit_by_actor_account ON audit_entries (actor_account);"
  "CREATE INDEX audit_by_actor_device ON audit_entries (actor_device);"
  "CREATE INDEX audit_by_time ON audit_entries (at);"
  "CREATE TRIGGER audit_entries_in_order BEFORE INSERT ON audit_entries"
  "  WHEN NEW.seq IS NOT (SELECT IFNULL (MAX (seq), 0) + 1 FROM audit_entries)"
  "  BEGIN SELECT RAISE (ABORT, 'audit entries must be appended in sequence'); END;"
  "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries"
  "  BEGIN SELECT RAISE (ABORT, 'audit entries are append-only'); END;"
  "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries"
  "  BEGIN SELECT RAISE (ABORT, 'audit entries are append-only'); END;"
  "CREATE TABLE checkpoints ("
  "  id INTEGER PRIMARY KEY,"
  "  seq INTEGER NOT NULL REFERENCES audit_entries (seq),"
  "  hash TEXT NOT NULL,"
  "  at TEXT NOT NULL,"
  "  signature TEXT NOT NULL"
  ");"
  "CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints"
  "  BEGIN SELECT RAISE (ABORT, 'checkpoints are append-only'); END;"
  "CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints"
  "  BEGIN SELECT RAISE (ABORT, 'checkpoints are append-only'); END;";
/* clang-format on */

/* To change the schema, append { 2, "…" } with the statements that take version 1 to 2,
 * and raise SCHEMA_VERSION. */
static const struct
{
  int version;
  const char *sql;
} migrations[] = {
  { 1, schema_v1 },
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == SCHEMA_VERSION);

/* ----- errors and statements -------------------------------------------------------------- */

/* Turns an SQLite failure into a GError. @doing is a phrase such as “Could not add the
 * account”; the message says what went wrong and, where it can, what to do. */
static void
set_db_error (sqlite3 *db, const char *path, int rc, const char *doing, GError **error)
{
  const char *detail = db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc);

  switch (rc & 0xff)
    {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_EXISTS,
                     _("%s: one with the same key is already stored (%s)."), doing, detail);
      else
        g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                     _("%s: the database refused it (%s)."), doing, detail);
      break;

    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_BUSY,
                   _("%s: the database “%s” stayed busy with another writer for more than %d "
                     "seconds. Try again."),
                   doing, path, BUSY_TIMEOUT_MS / 1000);
      break;

    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("%s: the database “%s” is damaged (%s). Stop the server and restore it "
                     "from a backup."),
                   doing, path, detail);
      break;

    case SQLITE_FULL:
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("%s: the disk holding “%s” is full. Free some space and try again."), doing,
                   path);
      break;

    default:
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("%s: %s (database “%s”)."), doing, detail, path);
      break;
    }
}

static void
set_sqlite_error (CpsStorageSqlite *self, int rc, const char *doing, GError **error)
{
  set_db_error (self->db, self->path, rc, doing, error);
}

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

/* Returns the connection's statement for @sql, preparing it on first use. */
static sqlite3_stmt *
prepare (CpsStorageSqlite *self, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, sql);
  int rc;

  if (stmt != NULL)
    return stmt;

  rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (self, rc, _("Could not prepare a database query"), error);
      return NULL;
    }
  g_hash_table_insert (self->statements, g_strdup (sql), stmt);
  return stmt;
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

/* Runs a statement that returns no rows. */
static gboolean
step_done (CpsStorageSqlite *self, sqlite3_stmt *stmt, const char *doing, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_DONE)
    return TRUE;
  set_sqlite_error (self, rc, doing, error);
  return FALSE;
}

/* Runs an UPDATE of one row; NOT_FOUND when no row matched. */
static gboolean
step_update (CpsStorageSqlite *self, sqlite3_stmt *stmt, const char *doing, const char *not_found,
             const char *key, GError **error)
{
  if (!step_done (self, stmt, doing, error))
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
    set_sqlite_error (self, rc, doing, error);
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
      set_sqlite_error (self, rc, doing, error);
      return NULL;
    }
  return g_steal_pointer (&rows);
}

static gint64
read_count (CpsStorageSqlite *self, const char *sql, const char *doing, GError **error)
{
  g_auto (CachedStmt) stmt = prepare (self, sql, error);
  int rc;

  if (stmt == NULL)
    return -1;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (self, rc, doing, error);
      return -1;
    }
  return sqlite3_column_int64 (stmt, 0);
}

/* Runs cached statement @sql with up to two text parameters and no rows. */
static gboolean
exec_cached (CpsStorageSqlite *self, const char *sql, const char *param1, const char *param2,
             const char *doing, GError **error)
{
  g_auto (CachedStmt) stmt = prepare (self, sql, error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, param1);
  if (param2 != NULL)
    bind_text (stmt, 2, param2);
  return step_done (self, stmt, doing, error);
}

/* Runs @sql (several statements, no parameters) on @db, for setup outside the cache. */
static gboolean
exec_script (CpsStorageSqlite *self, const char *sql, const char *doing, GError **error)
{
  int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      set_sqlite_error (self, rc, doing, error);
      return FALSE;
    }
  return TRUE;
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

/* ----- writer turns and checkpoints ------------------------------------------------------- */

/* The writers of one process take turns on each database before BEGIN IMMEDIATE, and every
 * write transaction runs on one connection, the writer connection, lent to the storage whose
 * turn it is: cps_storage_begin() points the storage at it, the commit or rollback points it
 * back at the storage's own connection. Two things follow. The turn passes at once, where
 * SQLite's busy handler would wait for the write lock by sleeping (1, 2, 5 … up to 100 ms at
 * a time). And the writer connection's page cache stays warm: SQLite discards a connection's
 * whole cache when another connection has written, so with every worker writing on its own
 * connection each transaction began by reading its index pages back from the file. Writers
 * in other processes are still waited for by the busy timeout. */
static GMutex writer_mutex;
static GCond writer_cond;
static GHashTable *writer_connections; /* database path → WriterConnection */

static void
writer_connection_free (WriterConnection *writer)
{
  g_clear_pointer (&writer->statements, g_hash_table_unref);
  if (writer->db != NULL && sqlite3_close (writer->db) != SQLITE_OK)
    g_warning ("Could not close the database %s: %s", writer->path, sqlite3_errmsg (writer->db));
  g_free (writer->path);
  g_free (writer);
}

/* Called after every commit on the writer connection, once SQLite's write lock is released,
 * with the number of frames in the WAL. It replaces SQLite's automatic checkpoint, which
 * would copy the WAL back while the turn is still held, holding up every other writer of the
 * process, and before the request is answered; the checkpoint is the same (PASSIVE, past
 * the same length), run by storage_idle() on the storage's own connection. */
static int
writer_committed_cb (void *data, sqlite3 *db, const char *name, int n_frames)
{
  WriterConnection *writer = data;

  if (n_frames >= WAL_CHECKPOINT_PAGES)
    writer->checkpoint_due = TRUE;
  return SQLITE_OK;
}

/* The same for a storage's own connection, which writes only when it creates or migrates
 * the schema, or when a command or test writes without cps_storage_begin(). */
static int
own_committed_cb (void *data, sqlite3 *db, const char *name, int n_frames)
{
  if (n_frames >= WAL_CHECKPOINT_PAGES)
    sqlite3_wal_checkpoint_v2 (db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  return SQLITE_OK;
}

static gboolean open_connection (const char *path, sqlite3 **db_out, GError **error);
static gboolean apply_settings (sqlite3 *db, const char *path, int cache_kib, GError **error);
static void end_snapshot (CpsStorageSqlite *self);
static void storage_idle (CpsStorage *storage);

/* Joins the storages of self->path: they share one writer connection. */
static void
join_writers (CpsStorageSqlite *self)
{
  g_mutex_lock (&writer_mutex);
  if (writer_connections == NULL)
    writer_connections = g_hash_table_new (g_str_hash, g_str_equal);
  self->writer = g_hash_table_lookup (writer_connections, self->path);
  if (self->writer == NULL)
    {
      self->writer = g_new0 (WriterConnection, 1);
      self->writer->path = g_strdup (self->path);
      g_hash_table_insert (writer_connections, self->writer->path, self->writer);
    }
  self->writer->n_storages++;
  g_mutex_unlock (&writer_mutex);
}

/* The last storage of a path to close closes the writer connection. */
static void
leave_writers (CpsStorageSqlite *self)
{
  WriterConnection *writer = g_steal_pointer (&self->writer);

  if (writer == NULL)
    return;
  g_mutex_lock (&writer_mutex);
  if (--writer->n_storages > 0)
    writer = NULL;
  else
    g_hash_table_remove (writer_connections, writer->path);
  g_mutex_unlock (&writer_mutex);
  if (writer != NULL)
    writer_connection_free (writer);
}

static gboolean
take_writer_turn (CpsStorageSqlite *self, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + BUSY_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  WriterConnection *writer = self->writer;

  g_mutex_lock (&writer_mutex);
  while (writer->taken)
    if (!g_cond_wait_until (&writer_cond, &writer_mutex, deadline) && writer->taken)
      {
        g_mutex_unlock (&writer_mutex);
        set_db_error (NULL, self->path, SQLITE_BUSY, _("Could not start a database transaction"),
                      error);
        return FALSE;
      }
  writer->taken = TRUE;
  g_mutex_unlock (&writer_mutex);
  self->has_writer_turn = TRUE;

  /* The connection is opened by its first user, with the turn held: nobody else touches it. */
  if (writer->db == NULL)
    {
      if (!open_connection (writer->path, &writer->db, error)
          || !apply_settings (writer->db, writer->path, WRITER_CACHE_SIZE_KIB, error))
        {
          g_clear_pointer (&writer->db, sqlite3_close);
          g_mutex_lock (&writer_mutex);
          writer->taken = FALSE;
          g_cond_broadcast (&writer_cond);
          g_mutex_unlock (&writer_mutex);
          self->has_writer_turn = FALSE;
          return FALSE;
        }
      writer->statements
          = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finalize_stmt);
      sqlite3_wal_hook (writer->db, writer_committed_cb, writer);
    }
  self->db = writer->db;
  self->statements = writer->statements;
  return TRUE;
}

/* Gives the turn back; *checkpoint_due (when not NULL) says the WAL should be copied back. */
static void
give_writer_turn (CpsStorageSqlite *self, gboolean *checkpoint_due)
{
  WriterConnection *writer = self->writer;

  if (checkpoint_due != NULL)
    *checkpoint_due = FALSE;
  if (!self->has_writer_turn)
    return;
  self->has_writer_turn = FALSE;
  self->db = self->own_db;
  self->statements = self->own_statements;

  g_mutex_lock (&writer_mutex);
  if (checkpoint_due != NULL)
    *checkpoint_due = writer->checkpoint_due;
  writer->checkpoint_due = FALSE;
  writer->taken = FALSE;
  g_cond_broadcast (&writer_cond);
  g_mutex_unlock (&writer_mutex);
}

/* ----- opening ---------------------------------------------------------------------------- */

/* Returns an SQLite result code; SQLITE_NOTADB means the file is not a database. */
static int
read_schema_version (sqlite3 *db, int *out_version)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  *out_version = 0;
  rc = sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          *out_version = sqlite3_column_int (stmt, 0);
          rc = SQLITE_OK;
        }
    }
  sqlite3_finalize (stmt);
  return rc;
}

static gboolean
check_schema_version (CpsStorageSqlite *self, int *out_version, GError **error)
{
  int rc = read_schema_version (self->db, out_version);

  if ((rc & 0xff) == SQLITE_NOTADB)
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("“%s” is not a cps-server database (%s). Check the data folder, or move "
                     "the file away to start a new database."),
                   self->path, sqlite3_errstr (rc));
      return FALSE;
    }
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (self, rc, _("Could not read the database’s schema version"), error);
      return FALSE;
    }
  if (*out_version > SCHEMA_VERSION)
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NEWER_SCHEMA,
                   _("The database “%s” was written by a newer version of cps-server (schema "
                     "%d; this version reads up to %d). Update cps-server to use it; the file "
                     "was left unchanged."),
                   self->path, *out_version, SCHEMA_VERSION);
      return FALSE;
    }
  return TRUE;
}

/* A file at schema 0 must be empty: tables there belong to another program. */
static gboolean
check_unversioned_is_empty (CpsStorageSqlite *self, GError **error)
{
  g_autoptr (OwnStmt) stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (self->db, "SELECT count(*) FROM sqlite_master", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (self, rc, _("Could not read the database"), error);
      return FALSE;
    }
  if (sqlite3_column_int64 (stmt, 0) > 0)
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("“%s” is an SQLite database of another program, not a cps-server "
                     "database. Check the data folder, or move the file away to start a new "
                     "database."),
                   self->path);
      return FALSE;
    }
  return TRUE;
}

/* Brings the schema to SCHEMA_VERSION in one IMMEDIATE transaction. The version is read
 * again inside it, so two processes opening a new file at once cannot both migrate. */
static gboolean
migrate (CpsStorageSqlite *self, GError **error)
{
  int version = 0;

  if (!exec_script (self, "BEGIN IMMEDIATE", _("Could not prepare the database"), error))
    return FALSE;
  if (!check_schema_version (self, &version, error))
    goto fail;
  if (version == 0 && !check_unversioned_is_empty (self, error))
    goto fail;

  for (guint i = 0; i < G_N_ELEMENTS (migrations); i++)
    {
      g_autofree char *set_version = NULL;

      if (migrations[i].version <= version)
        continue;
      if (version == 0)
        g_debug ("Creating schema %d in %s", migrations[i].version, self->path);
      else
        g_message ("Migrating the database %s to schema %d", self->path, migrations[i].version);
      if (!exec_script (self, migrations[i].sql, _("Could not set up the database"), error))
        goto fail;
      /* A PRAGMA takes no parameters; the value is our own constant. */
      set_version = g_strdup_printf ("PRAGMA user_version = %d", migrations[i].version);
      if (!exec_script (self, set_version, _("Could not set up the database"), error))
        goto fail;
    }

  if (!exec_script (self, "COMMIT", _("Could not set up the database"), error))
    goto fail;
  return TRUE;

fail:
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

/* Creates the file with mode 0600 when it does not exist, so the database (and the -wal
 * and -shm files SQLite creates with the same mode) is readable only by the server. */
static gboolean
create_private_file (const char *path, GError **error)
{
  int fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  if (fd < 0)
    {
      int saved_errno = errno;

      if (saved_errno == EEXIST)
        return TRUE;
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("Could not create the database “%s”: %s."), path, g_strerror (saved_errno));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

static void
storage_sqlite_free (CpsStorageSqlite *self)
{
  /* A transaction left open on the writer connection is rolled back before it is lent on. */
  if (self->has_writer_turn && !sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  give_writer_turn (self, NULL);
  end_snapshot (self);
  storage_idle ((CpsStorage *) self);
  leave_writers (self);

  g_clear_pointer (&self->own_statements, g_hash_table_unref);
  if (self->own_db != NULL)
    {
      if (!sqlite3_get_autocommit (self->own_db))
        sqlite3_exec (self->own_db, "ROLLBACK", NULL, NULL, NULL);
      if (sqlite3_close (self->own_db) != SQLITE_OK)
        g_warning ("Could not close the database %s: %s", self->path,
                   sqlite3_errmsg (self->own_db));
    }
  g_free (self->path);
  g_free (self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsStorageSqlite, storage_sqlite_free)

static gboolean
apply_settings (sqlite3 *db, const char *path, int cache_kib, GError **error)
{
  g_autoptr (OwnStmt) stmt = NULL;
  g_autofree char *settings = NULL;
  const char *mode;
  int rc;

  rc = sqlite3_prepare_v2 (db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_db_error (db, path, rc, _("Could not switch the database to WAL mode"), error);
      return FALSE;
    }
  mode = (const char *) sqlite3_column_text (stmt, 0);
  if (g_ascii_strcasecmp (mode ? mode : "", "wal") != 0)
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("The database “%s” could not be switched to WAL mode (it stayed in “%s” "
                     "mode). Put it on a local file system that supports shared memory."),
                   path, mode ? mode : "");
      return FALSE;
    }

  /* The VFS's gathered writes rely on both of the first two (cps-storage-sqlite-vfs.c):
   * FULL syncs the WAL before a commit is visible, and without spilling, pages reach the WAL
   * only in a commit, so nothing is ever left in the buffer when a transaction ends. Never
   * open a connection of this backend without them. A transaction's pages stay in memory
   * until it commits: the server's largest, a push, is a few MB. */
  settings = g_strdup_printf ("PRAGMA synchronous = FULL;"
                              "PRAGMA cache_spill = OFF;"
                              "PRAGMA foreign_keys = ON;"
                              "PRAGMA cache_size = -%d;"
                              "PRAGMA mmap_size = 0;"
                              "PRAGMA temp_store = MEMORY;"
                              "PRAGMA journal_size_limit = %d;",
                              cache_kib, WAL_SIZE_LIMIT);
  rc = sqlite3_exec (db, settings, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      set_db_error (db, path, rc, _("Could not set up the database connection"), error);
      return FALSE;
    }
  return TRUE;
}

/* Opens a connection to the database at @path, which exists; the caller applies the
 * settings and installs a WAL hook instead of PRAGMA wal_autocheckpoint. */
static gboolean
open_connection (const char *path, sqlite3 **db_out, GError **error)
{
  sqlite3 *db = NULL;
  int rc;

  /* apply_settings() makes every connection synchronous=FULL, which the VFS relies on */
  rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        _cps_sqlite_gathering_vfs ());
  if (rc != SQLITE_OK)
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("Could not open the database “%s”: %s."), path,
                   db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
      sqlite3_close (db);
      return FALSE;
    }
  sqlite3_extended_result_codes (db, 1);
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);
  *db_out = db;
  return TRUE;
}

CpsStorage *
_cps_storage_sqlite_open (const char *path, GError **error)
{
  g_autoptr (CpsStorageSqlite) self = NULL;
  gboolean checked;
  int version = 0;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("“%s” is a folder, not a database file."), path);
      return NULL;
    }
  if (!create_private_file (path, error))
    return NULL;

  self = g_new0 (CpsStorageSqlite, 1);
  self->parent.vtable = &sqlite_vtable;
  self->path = g_strdup (path);
  self->own_statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finalize_stmt);
  self->statements = self->own_statements;
  if (!open_connection (path, &self->own_db, error))
    return NULL;
  self->db = self->own_db;

  /* The first read of the file: nothing is written before the file is known to be a
   * database of ours at this version or older. One read transaction, so a schema another
   * connection creates meanwhile is seen whole or not at all. */
  if (!exec_script (self, "BEGIN", _("Could not read the database"), error))
    return NULL;
  checked = check_schema_version (self, &version, error)
            && (version > 0 || check_unversioned_is_empty (self, error));
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  if (!checked)
    return NULL;

  if (!apply_settings (self->db, self->path, READER_CACHE_SIZE_KIB, error))
    return NULL;
  sqlite3_wal_hook (self->db, own_committed_cb, self);
  join_writers (self);
  if (version < SCHEMA_VERSION && !migrate (self, error))
    return NULL;

  return (CpsStorage *) g_steal_pointer (&self);
}

static void
storage_close (CpsStorage *storage)
{
  storage_sqlite_free (SELF (storage));
}

/* ----- transactions ----------------------------------------------------------------------- */

/* Ends the read snapshot of storage_begin_read(), if one is open. */
static void
end_snapshot (CpsStorageSqlite *self)
{
  if (!self->in_snapshot)
    return;
  self->in_snapshot = FALSE;
  if (!sqlite3_get_autocommit (self->own_db))
    sqlite3_exec (self->own_db, "ROLLBACK", NULL, NULL, NULL);
}

/* A deferred transaction on the storage's own connection: SQLite takes the snapshot at the
 * first read and keeps it, where each statement outside a transaction would take its own
 * (two lock calls each, and a fresh page cache whenever another connection has written). */
static gboolean
storage_begin_read (CpsStorage *storage, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);

  if (self->has_writer_turn || self->in_snapshot)
    return TRUE;
  if (!exec_script (self, "BEGIN", _("Could not read the database"), error))
    return FALSE;
  self->in_snapshot = TRUE;
  return TRUE;
}

static gboolean
storage_begin (CpsStorage *storage, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = NULL;

  end_snapshot (self);
  /* has_writer_turn too: SQLite may have ended a failed transaction itself, and the turn is
   * only given back by commit or rollback (waiting for our own turn would never end) */
  if (self->has_writer_turn || !sqlite3_get_autocommit (self->db))
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("A transaction is already open on this database connection."));
      return FALSE;
    }
  if (!take_writer_turn (self, error))
    return FALSE;
  stmt = prepare (self, "BEGIN IMMEDIATE", error);
  if (stmt == NULL || !step_done (self, stmt, _("Could not start a database transaction"), error))
    {
      g_clear_pointer (&stmt, release_stmt); /* before the connection goes back */
      give_writer_turn (self, NULL);
      return FALSE;
    }
  return TRUE;
}

static gboolean
storage_commit (CpsStorage *storage, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  sqlite3_stmt *stmt;
  gboolean committed, checkpoint_due;

  if (!self->has_writer_turn)
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("No transaction is open on this database connection."));
      return FALSE;
    }
  stmt = prepare (self, "COMMIT", error);
  if (stmt == NULL)
    return FALSE;
  committed = step_done (self, stmt, _("Could not save the changes to the database"), error);
  release_stmt (stmt);

  /* Nothing of a failed commit is kept: the caller can start again from a clean state. */
  if (!committed && !sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  give_writer_turn (self, &checkpoint_due);
  self->checkpoint_due = self->checkpoint_due || checkpoint_due;
  return committed;
}

/* The checkpoint a commit found due runs here, after the answer has gone out (the server
 * calls this once the request is answered), or when the storage is closed: a checkpoint
 * copies thousands of pages and would hold up the answer of the push that made it due by
 * tens of milliseconds. Not inside a transaction or a read snapshot of this storage, where
 * SQLite would refuse it. */
static void
storage_idle (CpsStorage *storage)
{
  CpsStorageSqlite *self = SELF (storage);
  int log_frames = 0;

  if (!self->checkpoint_due || self->has_writer_turn || self->in_snapshot)
    return;
  self->checkpoint_due = FALSE;
  sqlite3_wal_checkpoint_v2 (self->db, "main", SQLITE_CHECKPOINT_PASSIVE, &log_frames, NULL);
  if (log_frames < WAL_RESTART_FRAMES || !take_writer_turn (self, NULL))
    return;

  /* With the turn held no writer of this process starts; the restart copies what the passive
   * checkpoints left, waits a moment for readers on older snapshots, and lets the next commit
   * write the WAL from its start (and truncate it to WAL_SIZE_LIMIT). */
  sqlite3_busy_timeout (self->db, WAL_RESTART_WAIT_MS);
  if (sqlite3_wal_checkpoint_v2 (self->db, "main", SQLITE_CHECKPOINT_RESTART, NULL, NULL)
      != SQLITE_OK)
    g_debug ("The WAL of %s (%d frames) could not be started over yet: %s", self->path,
             log_frames, sqlite3_errmsg (self->db));
  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);
  give_writer_turn (self, NULL);
}

static void
storage_rollback (CpsStorage *storage)
{
  CpsStorageSqlite *self = SELF (storage);
  int rc;

  end_snapshot (self);
  /* SQLite may have ended the transaction itself (a full disk, an I/O error): the turn is
   * given back all the same. */
  if (!sqlite3_get_autocommit (self->db))
    {
      rc = sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      if (rc != SQLITE_OK)
        g_warning ("Could not roll back a transaction on %s: %s", self->path,
                   sqlite3_errmsg (self->db));
    }
  give_writer_turn (self, NULL);
}

/* ----- accounts --------------------------------------------------------------------------- */

static gboolean
storage_account_insert (CpsStorage *storage, const CpsAccountRecord *account, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
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
  return step_done (self, stmt, _("Could not add the account"), error);
}

static CpsAccountRecord *
storage_account_get (CpsStorage *storage, const char *id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = prepare (self, "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id = ?1", error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, id);
  return read_one (self, stmt, read_account, _("Could not read the account"),
                   _("There is no account with the id “%s”."), id, error);
}

static CpsAccountRecord *
storage_account_get_by_name (CpsStorage *storage, const char *username, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = prepare (self, "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE username = ?1", error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, username);
  return read_one (self, stmt, read_account, _("Could not read the account"),
                   _("There is no account named “%s”."), username, error);
}

static GPtrArray *
storage_account_list (CpsStorage *storage, const char *cursor, guint limit, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
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

static gboolean
storage_account_update (CpsStorage *storage, const CpsAccountRecord *account, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
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

static gint64
storage_account_count (CpsStorage *storage, GError **error)
{
  return read_count (SELF (storage), "SELECT count(*) FROM accounts",
                     _("Could not count the accounts"), error);
}

static gboolean
storage_recovery_codes_replace (CpsStorage *storage, const char *account_id,
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

static gboolean
storage_recovery_code_use (CpsStorage *storage, const char *account_id, const char *code_hash,
                           GError **error)
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

static gboolean
storage_device_insert (CpsStorage *storage, const CpsDeviceRecord *device, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
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
  return step_done (self, stmt, _("Could not register the device"), error);
}

static CpsDeviceRecord *
storage_device_get (CpsStorage *storage, const char *id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = prepare (self, "SELECT " DEVICE_COLUMNS " FROM devices WHERE id = ?1", error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, id);
  return read_one (self, stmt, read_device, _("Could not read the device"),
                   _("There is no device with the id “%s”."), id, error);
}

static CpsDeviceRecord *
storage_device_get_by_key (CpsStorage *storage, const char *public_key, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = prepare (self, "SELECT " DEVICE_COLUMNS " FROM devices WHERE public_key = ?1", error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, public_key);
  return read_one (self, stmt, read_device, _("Could not read the device"),
                   _("No device is registered with the public key “%s”."), public_key, error);
}

static GPtrArray *
storage_device_list (CpsStorage *storage, const char *account_id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = NULL;

  if (account_id != NULL)
    stmt = prepare (self,
                    "SELECT " DEVICE_COLUMNS " FROM devices WHERE account_id = ?1 "
                    "ORDER BY registered_at, id",
                    error);
  else
    stmt = prepare (self, "SELECT " DEVICE_COLUMNS " FROM devices ORDER BY registered_at, id",
                    error);
  if (stmt == NULL)
    return NULL;
  if (account_id != NULL)
    bind_text (stmt, 1, account_id);
  return read_all (self, stmt, read_device, (GDestroyNotify) cps_device_record_free,
                   _("Could not list the devices"), error);
}

static gboolean
storage_device_update (CpsStorage *storage, const CpsDeviceRecord *device, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
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

static gboolean
storage_device_touch (CpsStorage *storage, const char *id, const char *at, gboolean synced,
                      GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
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

static gboolean
storage_device_count_states (CpsStorage *storage, gint64 *active, gint64 *pending, gint64 *revoked,
                             GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = prepare (self, "SELECT state, count(*) FROM devices GROUP BY state", error);
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
      set_sqlite_error (self, rc, _("Could not count the devices"), error);
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

static gboolean
storage_token_insert (CpsStorage *storage, const CpsTokenRecord *token, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
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
  return step_done (self, stmt, _("Could not store the token"), error);
}

static CpsTokenRecord *
storage_token_get (CpsStorage *storage, const char *token_hash, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = prepare (self, "SELECT " TOKEN_COLUMNS " FROM tokens WHERE token_hash = ?1", error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, token_hash);
  /* The hash is not secret, but a token's identity has no place in a message. */
  return read_one (self, stmt, read_token, _("Could not read the token"),
                   _("There is no such token."), NULL, error);
}

static gboolean
storage_token_set_state (CpsStorage *storage, const char *token_hash, CpsTokenState state,
                         GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = prepare (self, "UPDATE tokens SET state = ?2 WHERE token_hash = ?1", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, token_hash);
  bind_text (stmt, 2, token_state_to_string (state));
  return step_update (self, stmt, _("Could not update the token"), _("There is no such token."),
                      NULL, error);
}

static gboolean
storage_tokens_revoke_session (CpsStorage *storage, const char *session_id, GError **error)
{
  return exec_cached (SELF (storage),
                      "UPDATE tokens SET state = 'revoked' WHERE session_id = ?1 "
                      "AND state != 'revoked'",
                      session_id, NULL, _("Could not revoke the session"), error);
}

static gboolean
storage_tokens_revoke_device (CpsStorage *storage, const char *device_id, GError **error)
{
  return exec_cached (SELF (storage),
                      "UPDATE tokens SET state = 'revoked' WHERE device_id = ?1 "
                      "AND state != 'revoked'",
                      device_id, NULL, _("Could not revoke the device’s sessions"), error);
}

static gboolean
storage_tokens_purge_expired (CpsStorage *storage, gint64 now, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self, "DELETE FROM tokens WHERE expires_at <= ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, now);
  return step_done (self, stmt, _("Could not remove expired tokens"), error);
}

/* ----- rate limits ------------------------------------------------------------------------ */

static gboolean
storage_ratelimit_record (CpsStorage *storage, const char *key, gint64 at, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  const char *doing = _("Could not record a failed attempt");
  g_auto (CachedStmt) insert = NULL;
  g_auto (CachedStmt) trim = NULL;

  insert = prepare (self, "INSERT INTO ratelimit (key, at) VALUES (?1, ?2)", error);
  if (insert == NULL)
    return FALSE;
  bind_text (insert, 1, key);
  sqlite3_bind_int64 (insert, 2, at);
  if (!step_done (self, insert, doing, error))
    return FALSE;

  trim = prepare (self, "DELETE FROM ratelimit WHERE key = ?1 AND at < ?2", error);
  if (trim == NULL)
    return FALSE;
  bind_text (trim, 1, key);
  sqlite3_bind_int64 (trim, 2, at - RATELIMIT_KEEP_SECONDS);
  return step_done (self, trim, doing, error);
}

static gint64
storage_ratelimit_count (CpsStorage *storage, const char *key, gint64 since, gint64 *oldest,
                         GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
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
      set_sqlite_error (self, rc, _("Could not count failed attempts"), error);
      return -1;
    }
  if (oldest != NULL)
    *oldest = sqlite3_column_int64 (stmt, 1); /* NULL reads as 0 when none */
  return sqlite3_column_int64 (stmt, 0);
}

static gboolean
storage_ratelimit_clear (CpsStorage *storage, const char *key, GError **error)
{
  return exec_cached (SELF (storage), "DELETE FROM ratelimit WHERE key = ?1", key, NULL,
                      _("Could not clear failed attempts"), error);
}

static gboolean
storage_ratelimit_forget (CpsStorage *storage, const char *key, gint64 at, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
                                      "DELETE FROM ratelimit WHERE rowid = "
                                      "(SELECT rowid FROM ratelimit WHERE key = ?1 AND at = ?2 "
                                      "LIMIT 1)",
                                      error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, key);
  sqlite3_bind_int64 (stmt, 2, at);
  return step_done (self, stmt, _("Could not clear failed attempts"), error);
}

/* ----- projects and members --------------------------------------------------------------- */

static gboolean
storage_project_insert (CpsStorage *storage, const CpsProjectRecord *project, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_autofree char *heads = join_ids ((const char *const *) project->heads, TRUE);
  g_auto (CachedStmt) stmt = prepare (self,
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
  return step_done (self, stmt, _("Could not create the project"), error);
}

static CpsProjectRecord *
storage_project_get (CpsStorage *storage, const char *id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt
      = prepare (self, "SELECT " PROJECT_COLUMNS " FROM projects p WHERE p.id = ?1", error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, id);
  return read_one (self, stmt, read_project, _("Could not read the project"),
                   _("There is no project with the id “%s”."), id, error);
}

static GPtrArray *
storage_project_list (CpsStorage *storage, const char *member_account, const char *cursor,
                      guint limit, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = NULL;

  if (member_account != NULL)
    stmt = prepare (self,
                    "SELECT " PROJECT_COLUMNS " FROM members m "
                    "JOIN projects p ON p.id = m.project_id "
                    "WHERE m.account_id = ?1 AND m.project_id > ?2 "
                    "ORDER BY m.project_id LIMIT ?3",
                    error);
  else
    stmt = prepare (self,
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

static gboolean
storage_project_update (CpsStorage *storage, const CpsProjectRecord *project, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_autofree char *heads = join_ids ((const char *const *) project->heads, TRUE);
  g_auto (CachedStmt) stmt = prepare (self,
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

static gint64
storage_project_count_conflicted (CpsStorage *storage, GError **error)
{
  return read_count (SELF (storage), "SELECT count(*) FROM projects WHERE conflicted = 1",
                     _("Could not count the conflicted projects"), error);
}

static gboolean
storage_member_put (CpsStorage *storage, const char *project_id, const char *account_id,
                    const char *role, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
                                      "INSERT INTO members (project_id, account_id, role) "
                                      "VALUES (?1, ?2, ?3) ON CONFLICT (project_id, account_id) "
                                      "DO UPDATE SET role = excluded.role",
                                      error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, project_id);
  bind_text (stmt, 2, account_id);
  bind_text (stmt, 3, role);
  return step_done (self, stmt, _("Could not store the project member"), error);
}

/* Removes the membership and the wrapped keys the account held for the project. */
static gboolean
storage_member_delete (CpsStorage *storage, const char *project_id, const char *account_id,
                       GError **error)
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

static char *
storage_member_get_role (CpsStorage *storage, const char *project_id, const char *account_id,
                         GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
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
    set_sqlite_error (self, rc, _("Could not read the project member"), error);
  return NULL;
}

static GPtrArray *
storage_member_list (CpsStorage *storage, const char *project_id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
                                      "SELECT account_id, role FROM members "
                                      "WHERE project_id = ?1 ORDER BY account_id",
                                      error);

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, project_id);
  return read_all (self, stmt, read_member, (GDestroyNotify) cps_member_record_free,
                   _("Could not list the project members"), error);
}

static gboolean
storage_keys_put (CpsStorage *storage, const char *project_id, const char *account_id,
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
      g_auto (CachedStmt) stmt = prepare (self,
                                          "INSERT INTO wrapped_keys (project_id, account_id, "
                                          "key_epoch, wrapped_key) VALUES (?1, ?2, ?3, ?4)",
                                          error);

      if (stmt == NULL)
        return FALSE;
      bind_text (stmt, 1, project_id);
      bind_text (stmt, 2, account_id);
      sqlite3_bind_int64 (stmt, 3, key->key_epoch);
      bind_text (stmt, 4, key->wrapped_key);
      if (!step_done (self, stmt, doing, error))
        return FALSE;
    }
  return TRUE;
}

/* @account_id NULL lists the keys of every account. */
static GPtrArray *
storage_keys_list (CpsStorage *storage, const char *project_id, const char *account_id,
                   GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = NULL;

  if (account_id != NULL)
    stmt = prepare (self,
                    "SELECT account_id, key_epoch, wrapped_key FROM wrapped_keys "
                    "WHERE project_id = ?1 AND account_id = ?2 ORDER BY key_epoch",
                    error);
  else
    stmt = prepare (self,
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

static gboolean
storage_revision_insert (CpsStorage *storage, CpsRevisionRecord *revision, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_autofree char *parents = join_ids ((const char *const *) revision->parents, FALSE);
  g_auto (CachedStmt) stmt = prepare (self,
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
  if (!step_done (self, stmt, _("Could not store the revision"), error))
    return FALSE;
  revision->seq = sqlite3_last_insert_rowid (self->db);
  return TRUE;
}

static CpsRevisionRecord *
storage_revision_get (CpsStorage *storage, const char *project_id, const char *id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = NULL;

  if (project_id != NULL)
    stmt = prepare (self,
                    "SELECT " REVISION_COLUMNS " FROM revisions r "
                    "WHERE r.id = ?1 AND r.project_id = ?2",
                    error);
  else
    stmt = prepare (self, "SELECT " REVISION_COLUMNS " FROM revisions r WHERE r.id = ?1", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, id);
  if (project_id != NULL)
    bind_text (stmt, 2, project_id);
  return read_one (self, stmt, read_revision, _("Could not read the revision"),
                   _("There is no revision “%s” in this project."), id, error);
}

static GPtrArray *
storage_revision_list (CpsStorage *storage, const char *project_id, gint64 after_seq, guint limit,
                       GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
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

static GPtrArray *
storage_revision_graph (CpsStorage *storage, const char *project_id, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
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
static GPtrArray *
storage_changes_list (CpsStorage *storage, const char *member_account, gint64 after_seq,
                      guint limit, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = NULL;

  if (member_account != NULL)
    stmt = prepare (self,
                    "SELECT " REVISION_COLUMNS " FROM revisions r WHERE r.seq IN "
                    "(SELECT f.seq FROM revisions f INDEXED BY revisions_feed "
                    " WHERE f.seq > ?2 AND f.project_id IN "
                    " (SELECT m.project_id FROM members m WHERE m.account_id = ?1) "
                    " ORDER BY f.seq LIMIT ?3) "
                    "ORDER BY r.seq",
                    error);
  else
    stmt = prepare (self,
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

static gint64
storage_revision_count (CpsStorage *storage, GError **error)
{
  return read_count (SELF (storage), "SELECT count(*) FROM revisions",
                     _("Could not count the revisions"), error);
}

/* @func may use this connection: the walk has a statement of its own. Returning FALSE from
 * @func stops the walk; with an error set, it is passed on and the walk returns FALSE. */
static gboolean
storage_revision_foreach (CpsStorage *storage,
                          gboolean (*func) (const CpsRevisionRecord *revision, gpointer user_data,
                                            GError **error),
                          gpointer user_data, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_autoptr (OwnStmt) stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (self->db, "SELECT " REVISION_COLUMNS " FROM revisions r ORDER BY r.seq",
                           -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (self, rc, _("Could not read the revisions"), error);
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
      set_sqlite_error (self, rc, _("Could not read the revisions"), error);
      return FALSE;
    }
  return TRUE;
}

/* ----- audit ------------------------------------------------------------------------------ */

static gboolean
storage_audit_last (CpsStorage *storage, gint64 *seq, char **hash, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
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
      set_sqlite_error (self, rc, _("Could not read the audit log"), error);
      return FALSE;
    }
  if (seq != NULL)
    *seq = sqlite3_column_int64 (stmt, 0);
  if (hash != NULL)
    *hash = column_dup (stmt, 1);
  return TRUE;
}

static gboolean
storage_audit_insert (CpsStorage *storage, const CpsAuditRecord *entry, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
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
  return step_done (self, stmt, _("Could not append to the audit log"), error);
}

/* Each combination of filters is its own statement (at most 32), so SQLite can use the
 * index of the filter it picks. */
static GPtrArray *
storage_audit_list (CpsStorage *storage, const CpsAuditFilter *filter, gint64 after_seq,
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

  stmt = prepare (self, sql->str, error);
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

static gboolean
storage_checkpoint_insert (CpsStorage *storage, const CpsCheckpointRecord *checkpoint,
                           GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
                                      "INSERT INTO checkpoints (" CHECKPOINT_COLUMNS ") "
                                      "VALUES (?1, ?2, ?3, ?4)",
                                      error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, checkpoint->seq);
  bind_text (stmt, 2, checkpoint->hash);
  bind_text (stmt, 3, checkpoint->at);
  bind_text (stmt, 4, checkpoint->signature);
  return step_done (self, stmt, _("Could not store the audit checkpoint"), error);
}

static GPtrArray *
storage_checkpoint_list (CpsStorage *storage, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
                                      "SELECT " CHECKPOINT_COLUMNS " FROM checkpoints "
                                      "ORDER BY id",
                                      error);

  if (stmt == NULL)
    return NULL;
  return read_all (self, stmt, read_checkpoint, (GDestroyNotify) cps_checkpoint_record_free,
                   _("Could not list the audit checkpoints"), error);
}

static CpsCheckpointRecord *
storage_checkpoint_last (CpsStorage *storage, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_auto (CachedStmt) stmt = prepare (self,
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
    set_sqlite_error (self, rc, _("Could not read the audit checkpoints"), error);
  return NULL;
}

/* ----- operations ------------------------------------------------------------------------- */

static gboolean
fsync_path (const char *path, int flags, GError **error)
{
  int fd = g_open (path, flags | O_CLOEXEC, 0);
  int saved_errno;

  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("Could not open “%s” to flush it to disk: %s."), path,
                   g_strerror (saved_errno));
      return FALSE;
    }
  if (fsync (fd) != 0)
    {
      saved_errno = errno;
      close (fd);
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("Could not flush “%s” to disk: %s."), path, g_strerror (saved_errno));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

static gboolean
copy_database (CpsStorageSqlite *self, sqlite3 *dest, const char *path, GError **error)
{
  sqlite3_backup *backup;
  int rc;

  backup = sqlite3_backup_init (dest, "main", self->db, "main");
  if (backup == NULL)
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("Could not start the backup into “%s”: %s."), path, sqlite3_errmsg (dest));
      return FALSE;
    }

  /* All pages in one step: one read transaction, so the copy is one consistent state
   * while other connections keep writing to the WAL. */
  do
    {
      rc = sqlite3_backup_step (backup, -1);
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        sqlite3_sleep (50);
    }
  while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish (backup);

  if (rc != SQLITE_DONE)
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("Could not copy the database “%s” into “%s”: %s."), self->path, path,
                   sqlite3_errstr (rc));
      return FALSE;
    }

  /* A single self-contained file: no -wal beside it is needed to read it. */
  rc = sqlite3_exec (dest, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("Could not finish the backup “%s”: %s."), path, sqlite3_errmsg (dest));
      return FALSE;
    }
  return TRUE;
}

static gboolean
storage_backup_to (CpsStorage *storage, const char *path, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_autofree char *dir = NULL;
  sqlite3 *dest = NULL;
  gboolean ok;
  int fd;
  int rc;

  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved_errno = errno;

      if (saved_errno == EEXIST)
        g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_EXISTS,
                     _("“%s” already exists; a backup is only written to a new file. Choose "
                       "another name or move the file away."),
                     path);
      else
        g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                     _("Could not create the backup “%s”: %s."), path, g_strerror (saved_errno));
      return FALSE;
    }
  close (fd);

  rc = sqlite3_open_v2 (path, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("Could not open the backup “%s”: %s."), path,
                   dest != NULL ? sqlite3_errmsg (dest) : sqlite3_errstr (rc));
      ok = FALSE;
    }
  else
    {
      ok = copy_database (self, dest, path, error);
    }

  if (sqlite3_close (dest) != SQLITE_OK && ok)
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("Could not finish the backup “%s”: %s."), path, sqlite3_errmsg (dest));
      ok = FALSE;
    }

  dir = g_path_get_dirname (path);
  if (ok && fsync_path (path, O_RDONLY, error) && fsync_path (dir, O_RDONLY | O_DIRECTORY, error))
    return TRUE;

  /* Leave no partial backup that could be mistaken for a good one. */
  g_unlink (path);
  {
    g_autofree char *journal = g_strconcat (path, "-journal", NULL);
    g_unlink (journal);
  }
  return FALSE;
}

static gboolean
storage_check_integrity (CpsStorage *storage, GPtrArray *problems, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_autoptr (OwnStmt) integrity = NULL;
  g_autoptr (OwnStmt) foreign = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (self->db, "PRAGMA integrity_check", -1, &integrity, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step (integrity)) == SQLITE_ROW)
    {
      const char *line = (const char *) sqlite3_column_text (integrity, 0);

      if (g_strcmp0 (line, "ok") != 0)
        g_ptr_array_add (problems, g_strdup_printf (_("The database “%s” is damaged: %s."),
                                                    self->path, line ? line : ""));
      rc = SQLITE_OK;
    }
  if (rc != SQLITE_DONE)
    {
      /* A file too damaged to check is a finding, not a failure to look. */
      if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
        {
          g_ptr_array_add (problems, g_strdup_printf (_("The database “%s” is damaged: %s."),
                                                      self->path, sqlite3_errmsg (self->db)));
          return TRUE;
        }
      set_sqlite_error (self, rc, _("Could not check the database"), error);
      return FALSE;
    }

  rc = sqlite3_prepare_v2 (self->db, "PRAGMA foreign_key_check", -1, &foreign, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step (foreign)) == SQLITE_ROW)
    {
      const char *table = (const char *) sqlite3_column_text (foreign, 0);
      const char *parent = (const char *) sqlite3_column_text (foreign, 2);
      g_autofree char *problem = NULL;

      /* The local store's check words it the same way. */
      problem = g_strdup_printf (_("Row %lld of table “%s” refers to a missing row of table “%s”"),
                                 (long long) sqlite3_column_int64 (foreign, 1), table ? table : "",
                                 parent ? parent : "");
      g_ptr_array_add (problems, g_strdup_printf ("%s: %s.", self->path, problem));
      rc = SQLITE_OK;
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (self, rc, _("Could not check the database’s references"), error);
      return FALSE;
    }
  return TRUE;
}

static const CpsStorageVTable sqlite_vtable = {
  .name = "sqlite",
  .close = storage_close,
  .begin = storage_begin,
  .commit = storage_commit,
  .rollback = storage_rollback,
  .begin_read = storage_begin_read,
  .idle = storage_idle,
  .account_insert = storage_account_insert,
  .account_get = storage_account_get,
  .account_get_by_name = storage_account_get_by_name,
  .account_list = storage_account_list,
  .account_update = storage_account_update,
  .account_count = storage_account_count,
  .recovery_codes_replace = storage_recovery_codes_replace,
  .recovery_code_use = storage_recovery_code_use,
  .device_insert = storage_device_insert,
  .device_get = storage_device_get,
  .device_get_by_key = storage_device_get_by_key,
  .device_list = storage_device_list,
  .device_update = storage_device_update,
  .device_touch = storage_device_touch,
  .device_count_states = storage_device_count_states,
  .token_insert = storage_token_insert,
  .token_get = storage_token_get,
  .token_set_state = storage_token_set_state,
  .tokens_revoke_session = storage_tokens_revoke_session,
  .tokens_revoke_device = storage_tokens_revoke_device,
  .tokens_purge_expired = storage_tokens_purge_expired,
  .ratelimit_record = storage_ratelimit_record,
  .ratelimit_count = storage_ratelimit_count,
  .ratelimit_clear = storage_ratelimit_clear,
  .ratelimit_forget = storage_ratelimit_forget,
  .project_insert = storage_project_insert,
  .project_get = storage_project_get,
  .project_list = storage_project_list,
  .project_update = storage_project_update,
  .project_count_conflicted = storage_project_count_conflicted,
  .member_put = storage_member_put,
  .member_delete = storage_member_delete,
  .member_get_role = storage_member_get_role,
  .member_list = storage_member_list,
  .keys_put = storage_keys_put,
  .keys_list = storage_keys_list,
  .revision_insert = storage_revision_insert,
  .revision_get = storage_revision_get,
  .revision_list = storage_revision_list,
  .revision_graph = storage_revision_graph,
  .changes_list = storage_changes_list,
  .revision_count = storage_revision_count,
  .revision_foreach = storage_revision_foreach,
  .audit_last = storage_audit_last,
  .audit_insert = storage_audit_insert,
  .audit_list = storage_audit_list,
  .checkpoint_insert = storage_checkpoint_insert,
  .checkpoint_list = storage_checkpoint_list,
  .checkpoint_last = storage_checkpoint_last,
  .backup_to = storage_backup_to,
  .check_integrity = storage_check_integrity,
};
