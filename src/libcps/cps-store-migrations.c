/* cps-store-migrations.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The local store's schema, versioned with PRAGMA user_version. Each version
 * has one migration function that takes the schema from the version before to
 * its own; a store is migrated in one transaction, so a crash leaves it at the
 * old version, never half-way. To change the schema, add migrate_to_v2() to
 * the table below and raise CPS_STORE_SCHEMA_VERSION in cps-store.h.
 */

#define G_LOG_DOMAIN "cps-store"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "cps-store-private.h"

typedef gboolean (*MigrateFunc) (sqlite3 *db, const char *path, GError **error);

/* Revisions and their parent links are append-only: the triggers make any
 * UPDATE or DELETE of them fail, whoever issues it. `seq` is the insertion
 * order (an INTEGER PRIMARY KEY survives VACUUM, a bare rowid does not).
 * No table is WITHOUT ROWID: SQLite 3.40's integrity_check reports false
 * “NULL value in …” errors for NOT NULL columns after the key of such tables. */
static const char schema_v1[] =
  "CREATE TABLE devices ("
  "  id TEXT PRIMARY KEY NOT NULL,"
  "  public_key BLOB NOT NULL CHECK (length (public_key) = 32),"
  "  name TEXT,"
  "  added_at TEXT NOT NULL"
  ");"
  "CREATE TABLE projects ("
  "  id TEXT PRIMARY KEY NOT NULL,"
  "  name TEXT NOT NULL,"
  "  created_at TEXT NOT NULL"
  ");"
  "CREATE INDEX projects_by_name ON projects (name);"
  "CREATE TABLE revisions ("
  "  seq INTEGER PRIMARY KEY,"
  "  id TEXT NOT NULL UNIQUE,"
  "  project_id TEXT NOT NULL REFERENCES projects (id),"
  "  device_id TEXT NOT NULL REFERENCES devices (id),"
  "  created_at TEXT NOT NULL,"
  "  checksum TEXT NOT NULL,"
  "  deleted INTEGER NOT NULL CHECK (deleted IN (0, 1)),"
  "  clock TEXT NOT NULL,"
  "  clock_sum INTEGER NOT NULL,"
  "  json TEXT NOT NULL,"
  "  stored_at TEXT NOT NULL"
  ");"
  "CREATE INDEX revisions_by_project ON revisions (project_id, seq);"
  "CREATE TABLE revision_parents ("
  "  child TEXT NOT NULL REFERENCES revisions (id),"
  "  parent TEXT NOT NULL REFERENCES revisions (id),"
  "  position INTEGER NOT NULL,"
  "  PRIMARY KEY (child, position)"
  ");"
  "CREATE INDEX revision_parents_by_parent ON revision_parents (parent);"
  "CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions"
  "  BEGIN SELECT RAISE (ABORT, 'revisions are append-only'); END;"
  "CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions"
  "  BEGIN SELECT RAISE (ABORT, 'revisions are append-only'); END;"
  "CREATE TRIGGER revision_parents_no_update BEFORE UPDATE ON revision_parents"
  "  BEGIN SELECT RAISE (ABORT, 'revisions are append-only'); END;"
  "CREATE TRIGGER revision_parents_no_delete BEFORE DELETE ON revision_parents"
  "  BEGIN SELECT RAISE (ABORT, 'revisions are append-only'); END;"
  "CREATE TABLE imports ("
  "  file_checksum TEXT PRIMARY KEY NOT NULL,"
  "  path TEXT NOT NULL,"
  "  kind TEXT NOT NULL,"
  "  imported_at TEXT NOT NULL"
  ");"
  "CREATE TABLE outbox ("
  "  seq INTEGER PRIMARY KEY,"
  "  revision_id TEXT NOT NULL UNIQUE REFERENCES revisions (id),"
  "  project_id TEXT NOT NULL REFERENCES projects (id),"
  "  queued_at TEXT NOT NULL,"
  "  attempts INTEGER NOT NULL DEFAULT 0,"
  "  last_attempt_at TEXT,"
  "  last_error TEXT,"
  "  acked_at TEXT"
  ");"
  "CREATE INDEX outbox_pending ON outbox (seq) WHERE acked_at IS NULL;"
  "CREATE TABLE sync_log ("
  "  seq INTEGER PRIMARY KEY,"
  "  at TEXT NOT NULL,"
  "  project_id TEXT,"
  "  direction TEXT NOT NULL,"
  "  status TEXT NOT NULL,"
  "  revision_count INTEGER NOT NULL DEFAULT 0,"
  "  message TEXT,"
  "  details TEXT"
  ");";

static gboolean
migrate_to_v1 (sqlite3 *db, const char *path, GError **error)
{
  return _cps_store_exec (db, schema_v1, path, error);
}

static const struct
{
  int version;
  MigrateFunc migrate;
} migrations[] = {
  { 1, migrate_to_v1 },
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == CPS_STORE_SCHEMA_VERSION);

/* Returns an SQLite result code; SQLITE_NOTADB and SQLITE_CORRUPT mean a
 * damaged file. */
int
_cps_store_read_schema_version (sqlite3 *db, int *out_version)
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

void
_cps_store_set_newer_schema_error (GError **error, const char *path, int version)
{
  g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NEWER_SCHEMA,
               _("The local store “%s” was written by a newer version of Cine Power Sync "
                 "(store schema %d; this version reads up to %d). Update Cine Power Sync to "
                 "open it; the file was left unchanged."),
               path, version, CPS_STORE_SCHEMA_VERSION);
}

/*
 * Brings @db to CPS_STORE_SCHEMA_VERSION in one IMMEDIATE transaction. The
 * version is read again inside it, so two programs opening a new store at once
 * cannot both migrate.
 */
gboolean
_cps_store_migrate (sqlite3 *db, const char *path, GError **error)
{
  int version = 0;
  int rc;

  rc = _cps_store_read_schema_version (db, &version);
  if (rc != SQLITE_OK)
    {
      _cps_store_set_sqlite_error (error, db, rc, path, _("Could not read the store’s schema"));
      return FALSE;
    }
  if (version > CPS_STORE_SCHEMA_VERSION)
    {
      _cps_store_set_newer_schema_error (error, path, version);
      return FALSE;
    }
  if (version == CPS_STORE_SCHEMA_VERSION)
    return TRUE;

  if (!_cps_store_exec (db, "BEGIN IMMEDIATE", path, error))
    return FALSE;

  rc = _cps_store_read_schema_version (db, &version);
  if (rc != SQLITE_OK)
    {
      _cps_store_set_sqlite_error (error, db, rc, path, _("Could not read the store’s schema"));
      goto fail;
    }
  if (version > CPS_STORE_SCHEMA_VERSION)
    {
      _cps_store_set_newer_schema_error (error, path, version);
      goto fail;
    }

  for (guint i = 0; i < G_N_ELEMENTS (migrations); i++)
    {
      g_autofree char *set_version = NULL;

      if (migrations[i].version <= version)
        continue;
      g_debug ("Migrating %s to schema %d", path, migrations[i].version);
      if (!migrations[i].migrate (db, path, error))
        goto fail;
      /* A PRAGMA takes no parameters; the value is our own constant. */
      set_version = g_strdup_printf ("PRAGMA user_version = %d", migrations[i].version);
      if (!_cps_store_exec (db, set_version, path, error))
        goto fail;
    }

  if (!_cps_store_exec (db, "COMMIT", path, error))
    goto fail;
  return TRUE;

fail:
  sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}
