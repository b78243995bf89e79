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
 *
 * This file opens the database and runs its connections, writer turns,
 * transactions and operations (backup, integrity check);
 * cps-storage-sqlite-records.c reads and writes the records.
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

#include "cps-storage-sqlite-private.h"
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
/* Bounds of a group commit (see finish_turn() and group_may_grow()): the writers whose work
 * one commit makes durable, and the rows a group may have changed and still take in another
 * writer. Single-revision pushes, a handful of rows each, share their commits; a batch of 100
 * revisions commits alone, as before: its sync is a small part of its turn, and its worker
 * had better go on to the next request than wait for the others. */
#define MAX_GROUP_MEMBERS 8
#define MAX_GROUP_CHANGES 100
/* Bytes the WAL file is truncated to after a checkpoint. */
#define WAL_SIZE_LIMIT (64 * 1024 * 1024)

/* The one connection every write transaction of this process on a database runs on, lent
 * to the storage whose turn it is (see take_writer_turn()). */
struct _WriterConnection
{
  char *path;
  sqlite3 *db; /* opened by the first writer */
  GHashTable *statements;
  guint n_storages;        /* open storages of this path */
  gboolean taken;          /* a storage has the turn */
  guint n_joining;         /* storages waiting in cps_storage_begin() for the turn */
  CommitGroup *group;      /* the write transaction open on db, if any */
  gboolean checkpoint_due; /* the WAL is long: handed to the storage giving the turn back */
};

/* One write transaction on the writer connection, shared by consecutive writers of this
 * process: see finish_turn(). */
struct _CommitGroup
{
  gint ref_count;
  guint n_members;        /* storages whose work went into it */
  sqlite3_int64 changes;  /* sqlite3_total_changes64() of the connection at its BEGIN */
  gboolean done;   /* committed, or rolled back with @error */
  GError *error;
};

static CommitGroup *
commit_group_new (void)
{
  CommitGroup *group = g_new0 (CommitGroup, 1);

  group->ref_count = 1;
  group->n_members = 1;
  return group;
}

static void
commit_group_unref (CommitGroup *group)
{
  if (!g_atomic_int_dec_and_test (&group->ref_count))
    return;
  g_clear_error (&group->error);
  g_free (group);
}

static void
finalize_stmt (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

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

void
_cps_storage_sqlite_set_error (CpsStorageSqlite *self, int rc, const char *doing, GError **error)
{
  set_db_error (self->db, self->path, rc, doing, error);
}

static void
set_rolled_back_error (CpsStorageSqlite *self, GError **error)
{
  g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
               _("The database “%s” rolled the transaction back after an error; nothing of it "
                 "was stored. Try again."),
               self->path);
}

/* Returns the connection's statement for @sql, preparing it on first use. */
sqlite3_stmt *
_cps_storage_sqlite_prepare (CpsStorageSqlite *self, const char *sql, GError **error)
{
  sqlite3_stmt *stmt;
  int rc;

  /* After some errors SQLite rolls the transaction back itself, and the connection would run
   * every later statement as a transaction of its own: nothing more runs until the caller
   * rolls back. */
  if (self->has_writer_turn && self->group != NULL && sqlite3_get_autocommit (self->db))
    {
      set_rolled_back_error (self, error);
      return NULL;
    }

  stmt = g_hash_table_lookup (self->statements, sql);
  if (stmt != NULL)
    return stmt;

  rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      _cps_storage_sqlite_set_error (self, rc, _("Could not prepare a database query"), error);
      return NULL;
    }
  g_hash_table_insert (self->statements, g_strdup (sql), stmt);
  return stmt;
}

/* Runs a statement that returns no rows. */
gboolean
_cps_storage_sqlite_step_done (CpsStorageSqlite *self, sqlite3_stmt *stmt, const char *doing,
                               GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_DONE)
    return TRUE;
  _cps_storage_sqlite_set_error (self, rc, doing, error);
  return FALSE;
}

/* Runs @sql (several statements, no parameters) on @db, for setup outside the cache. */
static gboolean
exec_script (CpsStorageSqlite *self, const char *sql, const char *doing, GError **error)
{
  int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      _cps_storage_sqlite_set_error (self, rc, doing, error);
      return FALSE;
    }
  return TRUE;
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
static void storage_rollback (CpsStorage *storage);

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

/* Waits for the turn. A writer from cps_storage_begin() (@join) also takes it while a
 * transaction is open on the writer connection, and its work goes into that transaction
 * (self->group); anyone else waits until no transaction is open. */
static gboolean
take_writer_turn (CpsStorageSqlite *self, gboolean join, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + BUSY_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  WriterConnection *writer = self->writer;

  g_mutex_lock (&writer_mutex);
  if (join)
    writer->n_joining++;
  while (writer->taken || (!join && writer->group != NULL))
    if (!g_cond_wait_until (&writer_cond, &writer_mutex, deadline)
        && (writer->taken || (!join && writer->group != NULL)))
      {
        if (join)
          writer->n_joining--;
        g_mutex_unlock (&writer_mutex);
        set_db_error (NULL, self->path, SQLITE_BUSY, _("Could not start a database transaction"),
                      error);
        return FALSE;
      }
  if (join)
    writer->n_joining--;
  writer->taken = TRUE;
  if (writer->group != NULL)
    {
      self->group = writer->group;
      g_atomic_int_inc (&self->group->ref_count);
      self->group->n_members++;
    }
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

/* How many storages of @storage's database wait in cps_storage_begin() for the turn (for
 * tests). */
guint
_cps_storage_sqlite_count_joining (CpsStorage *storage)
{
  CpsStorageSqlite *self = SELF (storage);
  guint n;

  g_mutex_lock (&writer_mutex);
  n = self->writer->n_joining;
  g_mutex_unlock (&writer_mutex);
  return n;
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
      _cps_storage_sqlite_set_error (self, rc, _("Could not read the database’s schema version"),
                                     error);
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
      _cps_storage_sqlite_set_error (self, rc, _("Could not read the database"), error);
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
  if (self->has_writer_turn)
    storage_rollback ((CpsStorage *) self);
  end_snapshot (self);
  storage_idle ((CpsStorage *) self);
  leave_writers (self);
  g_clear_error (&self->lost_reads);

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

/* Runs @sql, a statement without parameters, on the connection in use. */
static gboolean
exec_cached_plain (CpsStorageSqlite *self, const char *sql, const char *doing, GError **error)
{
  g_auto (CachedStmt) stmt = _cps_storage_sqlite_prepare (self, sql, error);

  return stmt != NULL && _cps_storage_sqlite_step_done (self, stmt, doing, error);
}

/* Ends the open transaction of the writer connection, which the turn holder's work was the
 * last to go into: records how for every storage waiting on it and gives the turn back. */
static void
end_group (CpsStorageSqlite *self, const GError *error, gboolean *checkpoint_due)
{
  CommitGroup *group = g_steal_pointer (&self->group);

  g_mutex_lock (&writer_mutex);
  group->done = TRUE;
  group->error = error != NULL ? g_error_copy (error) : NULL;
  if (self->writer->group == group)
    {
      self->writer->group = NULL;
      commit_group_unref (group);
    }
  g_mutex_unlock (&writer_mutex);
  commit_group_unref (group);
  self->in_savepoint = FALSE;
  give_writer_turn (self, checkpoint_due); /* wakes the waiting members too */
}

/* Whether the open transaction may take in another writer's work: it has few members and
 * has changed few rows. Its changed pages also stay in memory until the commit
 * (cache_spill=OFF): the writer connection's page cache, full at its size once the server
 * has run a while, grows past it only with them, and a group that has grown it by half
 * (a few large rows) takes in nobody more. */
static gboolean
group_may_grow (CpsStorageSqlite *self, const CommitGroup *group)
{
  int cache_used = 0, highwater = 0;

  if (group->n_members >= MAX_GROUP_MEMBERS
      || sqlite3_total_changes64 (self->db) - group->changes >= MAX_GROUP_CHANGES)
    return FALSE;
  sqlite3_db_status (self->db, SQLITE_DBSTATUS_CACHE_USED, &cache_used, &highwater, FALSE);
  return cache_used < WRITER_CACHE_SIZE_KIB * 1024 / 2 * 3;
}

/* With the turn held and this storage's work settled in the open transaction (kept or
 * rolled back to its savepoint): when other writers of this process are waiting for the
 * turn, it is handed to the next one with the transaction still open, and this storage
 * waits until the last of them commits it; otherwise this storage commits. So writers that
 * come together share one commit and one sync of the WAL (group commit), and none is told
 * its work is stored before the commit that stores it has succeeded. A failed commit fails
 * every member. Returns whether the transaction was committed. */
static gboolean
finish_turn (CpsStorageSqlite *self, GError **error)
{
  WriterConnection *writer = self->writer;
  CommitGroup *group = self->group;
  g_autoptr (GError) local_error = NULL;
  gboolean committed, checkpoint_due;

  /* SQLite rolls a transaction back itself after some errors (a full disk, an I/O error):
   * then the work of every member is gone. */
  if (sqlite3_get_autocommit (self->db))
    {
      set_rolled_back_error (self, &local_error);
      end_group (self, local_error, NULL);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_mutex_lock (&writer_mutex);
  if (writer->n_joining > 0 && group_may_grow (self, group))
    {
      self->group = NULL;
      self->in_savepoint = FALSE;
      self->has_writer_turn = FALSE;
      self->db = self->own_db;
      self->statements = self->own_statements;
      writer->taken = FALSE;
      g_cond_broadcast (&writer_cond);
      while (!group->done)
        g_cond_wait (&writer_cond, &writer_mutex);
      committed = group->error == NULL;
      if (!committed)
        g_propagate_error (error, g_error_copy (group->error));
      g_mutex_unlock (&writer_mutex);
      commit_group_unref (group);
      return committed;
    }
  g_mutex_unlock (&writer_mutex);

  committed = exec_cached_plain (self, "COMMIT", _("Could not save the changes to the database"),
                                 &local_error);
  /* Nothing of a failed commit is kept: the callers can start again from a clean state. */
  if (!committed && !sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  end_group (self, local_error, &checkpoint_due);
  self->checkpoint_due = self->checkpoint_due || checkpoint_due;
  if (!committed)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return committed;
}

static gboolean
storage_begin (CpsStorage *storage, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_autoptr (GError) local_error = NULL;

  end_snapshot (self);
  /* What this request read may not be stored: nothing more is written on it until the
   * server has asked (storage_check_reads()). */
  if (self->lost_reads != NULL)
    {
      g_propagate_error (error, g_error_copy (self->lost_reads));
      return FALSE;
    }
  /* has_writer_turn too: SQLite may have ended a failed transaction itself, and the turn is
   * only given back by commit or rollback (waiting for our own turn would never end) */
  if (self->has_writer_turn || !sqlite3_get_autocommit (self->db))
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("A transaction is already open on this database connection."));
      return FALSE;
    }
  if (!take_writer_turn (self, TRUE, error))
    return FALSE;

  /* joining the transaction an earlier writer handed on (it is open: finish_turn() hands on
   * nothing else, and _cps_storage_sqlite_prepare() refuses to run on a lost one) */
  if (self->group != NULL)
    {
      g_autoptr (GError) group_error = NULL;

      if (exec_cached_plain (self, "SAVEPOINT cps_member",
                             _("Could not start a database transaction"), &local_error))
        {
          self->in_savepoint = TRUE;
          return TRUE;
        }
      /* nothing of ours is in it: it goes on for the others */
      if (!finish_turn (self, &group_error))
        g_debug ("Could not store the work of other requests on %s: %s", self->path,
                 group_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (!exec_cached_plain (self, "BEGIN IMMEDIATE", _("Could not start a database transaction"),
                          error))
    {
      give_writer_turn (self, NULL);
      return FALSE;
    }
  self->group = commit_group_new ();
  self->group->changes = sqlite3_total_changes64 (self->db);
  g_mutex_lock (&writer_mutex);
  self->writer->group = self->group;
  g_atomic_int_inc (&self->group->ref_count);
  g_mutex_unlock (&writer_mutex);
  return TRUE;
}

static gboolean
storage_commit (CpsStorage *storage, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);
  g_autoptr (GError) local_error = NULL;

  if (!self->has_writer_turn)
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   _("No transaction is open on this database connection."));
      return FALSE;
    }
  if (self->in_savepoint && !sqlite3_get_autocommit (self->db)
      && !exec_cached_plain (self, "RELEASE cps_member",
                             _("Could not save the changes to the database"), &local_error))
    {
      cps_storage_rollback (storage);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return finish_turn (self, error);
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
  if (log_frames < WAL_RESTART_FRAMES || !take_writer_turn (self, FALSE, NULL))
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
  g_autoptr (GError) error = NULL;
  gboolean joined;
  int rc;

  end_snapshot (self);
  if (!self->has_writer_turn)
    {
      if (!sqlite3_get_autocommit (self->db))
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      return;
    }

  /* Only this storage's part of a transaction it joined: the earlier members' work stays,
   * and is committed or handed on as after a commit. This storage may have read that work:
   * if it is not stored after all, storage_check_reads() says so. */
  joined = self->in_savepoint;
  if (joined && !sqlite3_get_autocommit (self->db))
    {
      if (sqlite3_exec (self->db, "ROLLBACK TO cps_member; RELEASE cps_member", NULL, NULL, NULL)
          == SQLITE_OK)
        {
          self->in_savepoint = FALSE;
          if (!finish_turn (self, &error))
            {
              /* the members that committed report it; this request does through
               * storage_check_reads() */
              g_debug ("Could not store the work of other requests on %s: %s", self->path,
                       error->message);
              g_clear_error (&self->lost_reads);
              self->lost_reads = g_steal_pointer (&error);
            }
          return;
        }
      g_warning ("Could not roll back a transaction on %s: %s", self->path,
                 sqlite3_errmsg (self->db));
    }

  /* The whole transaction. SQLite may have ended it itself (a full disk, an I/O error): the
   * turn is given back all the same, and any members waiting are told it failed. */
  if (!sqlite3_get_autocommit (self->db))
    {
      rc = sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      if (rc != SQLITE_OK)
        g_warning ("Could not roll back a transaction on %s: %s", self->path,
                   sqlite3_errmsg (self->db));
    }
  if (self->group != NULL)
    {
      set_rolled_back_error (self, &error);
      end_group (self, error, NULL);
      if (joined)
        {
          g_clear_error (&self->lost_reads);
          self->lost_reads = g_steal_pointer (&error);
        }
    }
  else
    give_writer_turn (self, NULL);
}

static gboolean
storage_check_reads (CpsStorage *storage, GError **error)
{
  CpsStorageSqlite *self = SELF (storage);

  if (self->lost_reads == NULL)
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&self->lost_reads));
  return FALSE;
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
      _cps_storage_sqlite_set_error (self, rc, _("Could not check the database"), error);
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
      _cps_storage_sqlite_set_error (self, rc, _("Could not check the database’s references"),
                                     error);
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
  .check_reads = storage_check_reads,
  .account_insert = _cps_storage_sqlite_account_insert,
  .account_get = _cps_storage_sqlite_account_get,
  .account_get_by_name = _cps_storage_sqlite_account_get_by_name,
  .account_list = _cps_storage_sqlite_account_list,
  .account_update = _cps_storage_sqlite_account_update,
  .account_count = _cps_storage_sqlite_account_count,
  .recovery_codes_replace = _cps_storage_sqlite_recovery_codes_replace,
  .recovery_code_use = _cps_storage_sqlite_recovery_code_use,
  .device_insert = _cps_storage_sqlite_device_insert,
  .device_get = _cps_storage_sqlite_device_get,
  .device_get_by_key = _cps_storage_sqlite_device_get_by_key,
  .device_list = _cps_storage_sqlite_device_list,
  .device_update = _cps_storage_sqlite_device_update,
  .device_touch = _cps_storage_sqlite_device_touch,
  .device_count_states = _cps_storage_sqlite_device_count_states,
  .token_insert = _cps_storage_sqlite_token_insert,
  .token_get = _cps_storage_sqlite_token_get,
  .token_set_state = _cps_storage_sqlite_token_set_state,
  .tokens_revoke_session = _cps_storage_sqlite_tokens_revoke_session,
  .tokens_revoke_device = _cps_storage_sqlite_tokens_revoke_device,
  .tokens_purge_expired = _cps_storage_sqlite_tokens_purge_expired,
  .ratelimit_record = _cps_storage_sqlite_ratelimit_record,
  .ratelimit_count = _cps_storage_sqlite_ratelimit_count,
  .ratelimit_clear = _cps_storage_sqlite_ratelimit_clear,
  .ratelimit_forget = _cps_storage_sqlite_ratelimit_forget,
  .project_insert = _cps_storage_sqlite_project_insert,
  .project_get = _cps_storage_sqlite_project_get,
  .project_list = _cps_storage_sqlite_project_list,
  .project_update = _cps_storage_sqlite_project_update,
  .project_count_conflicted = _cps_storage_sqlite_project_count_conflicted,
  .member_put = _cps_storage_sqlite_member_put,
  .member_delete = _cps_storage_sqlite_member_delete,
  .member_get_role = _cps_storage_sqlite_member_get_role,
  .member_list = _cps_storage_sqlite_member_list,
  .keys_put = _cps_storage_sqlite_keys_put,
  .keys_list = _cps_storage_sqlite_keys_list,
  .revision_insert = _cps_storage_sqlite_revision_insert,
  .revision_get = _cps_storage_sqlite_revision_get,
  .revision_list = _cps_storage_sqlite_revision_list,
  .revision_graph = _cps_storage_sqlite_revision_graph,
  .changes_list = _cps_storage_sqlite_changes_list,
  .revision_count = _cps_storage_sqlite_revision_count,
  .revision_foreach = _cps_storage_sqlite_revision_foreach,
  .audit_last = _cps_storage_sqlite_audit_last,
  .audit_insert = _cps_storage_sqlite_audit_insert,
  .audit_list = _cps_storage_sqlite_audit_list,
  .checkpoint_insert = _cps_storage_sqlite_checkpoint_insert,
  .checkpoint_list = _cps_storage_sqlite_checkpoint_list,
  .checkpoint_last = _cps_storage_sqlite_checkpoint_last,
  .backup_to = storage_backup_to,
  .check_integrity = storage_check_integrity,
};
