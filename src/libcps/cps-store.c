/* cps-store.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The local store. One SQLite connection in WAL mode with synchronous=FULL:
 * once a write returns, it survives a crash or power cut. Every revision is
 * verified (id, checksum, signature by a known device, clock rule, parents
 * present) before it is written; revisions are never updated or deleted
 * (triggers in the schema enforce it). A store is not thread-safe: use one
 * CpsStore per thread. Snapshots and restore live in cps-store-snapshot.c,
 * the full check in cps-store-check.c, the schema in cps-store-migrations.c.
 */

#define G_LOG_DOMAIN "cps-store"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "cps-jcs.h"
#include "cps-store-private.h"

/* Revisions kept parsed after they were added or read as parents. */
#define PARENT_CACHE_SIZE 64

G_DEFINE_FINAL_TYPE (CpsStore, cps_store, G_TYPE_OBJECT)

G_DEFINE_QUARK (cps-store-error-quark, cps_store_error)

G_DEFINE_BOXED_TYPE (CpsStoreProject, cps_store_project, cps_store_project_copy,
                     cps_store_project_free)
G_DEFINE_BOXED_TYPE (CpsSnapshot, cps_snapshot, cps_snapshot_copy, cps_snapshot_free)
G_DEFINE_BOXED_TYPE (CpsStoreCheck, cps_store_check, cps_store_check_copy, cps_store_check_free)

/* SQLite helpers shared by the store's files */

/*
 * Turns an SQLite failure into a GError a person can act on. @doing is a
 * translated phrase such as “Could not add the revision”.
 */
void
_cps_store_set_sqlite_error (GError **error, sqlite3 *db, int rc, const char *path,
                             const char *doing)
{
  const char *detail = db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc);

  switch (rc & 0xff)
    {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      {
        g_autofree char *message = _cps_store_damaged_message (path, detail);
        g_set_error_literal (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT, message);
      }
      break;

    case SQLITE_FULL:
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO,
                   _("%s: the disk holding “%s” is full. Free some space and try again; "
                     "nothing was changed."),
                   doing, path);
      break;

    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO,
                   _("%s: “%s” is busy in another program (%s). Try again when it has "
                     "finished."),
                   doing, path, detail);
      break;

    case SQLITE_CONSTRAINT:
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CONFLICT, _("%s in “%s”: %s"), doing,
                   path, detail);
      break;

    default:
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO, _("%s in “%s”: %s"), doing, path,
                   detail);
      break;
    }
}

gboolean
_cps_store_exec (sqlite3 *db, const char *sql, const char *path, GError **error)
{
  int rc = sqlite3_exec (db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      _cps_store_set_sqlite_error (error, db, rc, path, _("Could not update the local store"));
      return FALSE;
    }
  return TRUE;
}

/* Returns a cached statement for the static string @sql, reset and unbound. */
sqlite3_stmt *
_cps_store_prepare (CpsStore *self, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, sql);
  int rc;

  if (stmt != NULL)
    return stmt;

  rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      _cps_store_set_sqlite_error (error, self->db, rc, self->path,
                                   _("Could not read the local store"));
      return NULL;
    }
  g_hash_table_insert (self->statements, (gpointer) sql, stmt);
  return stmt;
}

gboolean
_cps_store_bind_text (sqlite3_stmt *stmt, int index, const char *text)
{
  return sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT) == SQLITE_OK;
}

char *
_cps_store_column_dup (sqlite3_stmt *stmt, int column)
{
  const unsigned char *text = sqlite3_column_text (stmt, column);

  return text ? g_strdup ((const char *) text) : NULL;
}

sqlite3 *
_cps_store_open_connection (const char *path, int flags, GError **error)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2 (path, &db, flags, NULL);

  if (rc != SQLITE_OK)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO,
                   _("Could not open the store “%s”: %s"), path,
                   db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_extended_result_codes (db, 1);
  sqlite3_busy_timeout (db, CPS_STORE_BUSY_TIMEOUT_MS);
  return db;
}

/*
 * Runs `PRAGMA quick_check` or `integrity_check`; on a problem, returns FALSE
 * with the first few lines SQLite reported.
 */
gboolean
_cps_store_quick_check (sqlite3 *db, const char *pragma, char **out_problem)
{
  g_autofree char *sql = g_strdup_printf ("PRAGMA %s", pragma);
  g_autoptr (GString) problems = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;
  guint n = 0;
  int rc;

  rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    {
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          const char *line = (const char *) sqlite3_column_text (stmt, 0);

          if (g_strcmp0 (line, "ok") == 0)
            continue;
          if (n++ < 3)
            g_string_append_printf (problems, "%s%s", problems->len ? "; " : "", line);
        }
    }
  if (rc != SQLITE_DONE)
    g_string_append_printf (problems, "%s%s", problems->len ? "; " : "", sqlite3_errmsg (db));
  sqlite3_finalize (stmt);

  if (problems->len == 0)
    return TRUE;
  if (n > 3)
    g_string_append_printf (problems, " (+%u)", n - 3);
  if (out_problem != NULL)
    *out_problem = g_strdup (problems->str);
  return FALSE;
}

/*
 * The message for a damaged store: what is wrong, which snapshots exist, and
 * how to restore one.
 */
char *
_cps_store_damaged_message (const char *store_path, const char *detail)
{
  g_autoptr (GPtrArray) snapshots = cps_store_list_snapshots_for_path (store_path, NULL);
  g_autoptr (GString) message = g_string_new (NULL);

  g_string_append_printf (message, _("The local store “%s” is damaged (%s)."), store_path,
                          detail);
  g_string_append_c (message, ' ');
  if (snapshots == NULL || snapshots->len == 0)
    {
      g_autofree char *dir = g_path_get_dirname (store_path);
      g_autofree char *snapshot_dir = g_build_filename (dir, "snapshots", NULL);

      g_string_append_printf (message,
                              _("There are no snapshots in “%s” to restore; the file was left "
                                "as it is."),
                              snapshot_dir);
    }
  else
    {
      const CpsSnapshot *newest = g_ptr_array_index (snapshots, 0);

      g_string_append_printf (message,
                              g_dngettext (GETTEXT_PACKAGE,
                                           "%u snapshot exists, the newest is “%s”.",
                                           "%u snapshots exist, the newest is “%s”.",
                                           snapshots->len),
                              snapshots->len, newest->path);
      g_string_append_c (message, ' ');
      g_string_append_printf (message,
                              _("Run `cps restore %s` to restore it (the damaged file is kept "
                                "aside), or `cps backup --list` to see the others."),
                              newest->path);
    }
  return g_string_free (g_steal_pointer (&message), FALSE);
}

CpsRevision *
_cps_store_revision_from_text (const char *text, int length, const char *id, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  CpsRevision *revision;

  if (text == NULL)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT,
                   _("Revision %s has no stored text. Run `cps check` to check the whole "
                     "store."),
                   id);
      return NULL;
    }
  revision = cps_revision_new_from_string (text, length, &local_error);
  if (revision == NULL)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT,
                   _("Revision %s in the local store cannot be read: %s. Run `cps check` to "
                     "check the whole store."),
                   id, local_error->message);
      return NULL;
    }
  return revision;
}

static gboolean
step_done (CpsStore *self, sqlite3_stmt *stmt, const char *doing, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE)
    {
      _cps_store_set_sqlite_error (error, self->db, rc, self->path, doing);
      return FALSE;
    }
  return TRUE;
}

/* Steps a statement expected to give one row or none. */
static int
step_row (CpsStore *self, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    _cps_store_set_sqlite_error (error, self->db, rc, self->path,
                                 _("Could not read the local store"));
  return rc;
}

static void
remember_revision (CpsStore *self, CpsRevision *revision)
{
  if (g_hash_table_size (self->revision_cache) >= PARENT_CACHE_SIZE)
    g_hash_table_remove_all (self->revision_cache);
  g_hash_table_replace (self->revision_cache, g_strdup (cps_revision_get_id (revision)),
                        g_object_ref (revision));
}

void
_cps_store_forget_cached (CpsStore *self)
{
  g_hash_table_remove_all (self->revision_cache);
  g_hash_table_remove_all (self->statements);
}

/* A file without a schema version must be new: another program's database is
 * never turned into a store. */
static gboolean
is_empty_database (CpsStore *self, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (self->db, "SELECT count (*) FROM sqlite_schema", -1, &stmt, NULL);
  gint64 objects = 0;

  if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      objects = sqlite3_column_int64 (stmt, 0);
      rc = SQLITE_OK;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_OK)
    {
      _cps_store_set_sqlite_error (error, self->db, rc, self->path,
                                   _("Could not open the local store"));
      return FALSE;
    }
  if (objects > 0)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("“%s” is an SQLite database of another program, not a Cine Power Sync "
                     "store; it was left unchanged"),
                   self->path);
      return FALSE;
    }
  return TRUE;
}

static void
finalize_statement (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

/* GObject */

static void
cps_store_dispose (GObject *object)
{
  CpsStore *self = CPS_STORE (object);

  if (self->statements != NULL)
    g_hash_table_remove_all (self->statements);
  if (self->revision_cache != NULL)
    g_hash_table_remove_all (self->revision_cache);

  G_OBJECT_CLASS (cps_store_parent_class)->dispose (object);
}

static void
cps_store_finalize (GObject *object)
{
  CpsStore *self = CPS_STORE (object);

  g_clear_pointer (&self->statements, g_hash_table_unref);
  g_clear_pointer (&self->revision_cache, g_hash_table_unref);
  if (self->db != NULL)
    {
      if (self->in_transaction)
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      sqlite3_close (self->db);
      self->db = NULL;
    }
  g_clear_pointer (&self->path, g_free);

  G_OBJECT_CLASS (cps_store_parent_class)->finalize (object);
}

static void
cps_store_class_init (CpsStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cps_store_dispose;
  object_class->finalize = cps_store_finalize;
}

static void
cps_store_init (CpsStore *self)
{
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, finalize_statement);
  self->revision_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                g_object_unref);
  self->snapshot_limit = CPS_STORE_DEFAULT_SNAPSHOT_LIMIT;
}

/* Public API */

CpsStoreProject *
cps_store_project_copy (const CpsStoreProject *project)
{
  CpsStoreProject *copy = g_new0 (CpsStoreProject, 1);

  copy->id = g_strdup (project->id);
  copy->name = g_strdup (project->name);
  copy->created_at = g_strdup (project->created_at);
  copy->updated_at = g_strdup (project->updated_at);
  copy->revision_count = project->revision_count;
  copy->heads = g_strdupv (project->heads);
  copy->conflicted = project->conflicted;
  copy->checksum = g_strdup (project->checksum);
  copy->deleted = project->deleted;
  return copy;
}

void
cps_store_project_free (CpsStoreProject *project)
{
  if (project == NULL)
    return;
  g_free (project->id);
  g_free (project->name);
  g_free (project->created_at);
  g_free (project->updated_at);
  g_strfreev (project->heads);
  g_free (project->checksum);
  g_free (project);
}

CpsSnapshot *
cps_snapshot_copy (const CpsSnapshot *snapshot)
{
  CpsSnapshot *copy = g_new0 (CpsSnapshot, 1);

  copy->path = g_strdup (snapshot->path);
  copy->created_at = g_strdup (snapshot->created_at);
  copy->reason = g_strdup (snapshot->reason);
  copy->checksum = g_strdup (snapshot->checksum);
  copy->size = snapshot->size;
  return copy;
}

void
cps_snapshot_free (CpsSnapshot *snapshot)
{
  if (snapshot == NULL)
    return;
  g_free (snapshot->path);
  g_free (snapshot->created_at);
  g_free (snapshot->reason);
  g_free (snapshot->checksum);
  g_free (snapshot);
}

CpsStoreCheck *
cps_store_check_copy (const CpsStoreCheck *check)
{
  CpsStoreCheck *copy = g_new0 (CpsStoreCheck, 1);

  copy->revisions_checked = check->revisions_checked;
  copy->problems = check->problems;
  copy->findings = cps_findings_new ();
  for (guint i = 0; i < check->findings->len; i++)
    g_ptr_array_add (copy->findings, cps_finding_copy (g_ptr_array_index (check->findings, i)));
  return copy;
}

void
cps_store_check_free (CpsStoreCheck *check)
{
  if (check == NULL)
    return;
  g_clear_pointer (&check->findings, g_ptr_array_unref);
  g_free (check);
}

/**
 * cps_store_default_path:
 *
 * Returns: (transfer full): `$CPS_STORE` when set, otherwise
 *   `<user data dir>/cine-power-sync/store.sqlite`
 */
char *
cps_store_default_path (void)
{
  const char *env = g_getenv ("CPS_STORE");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "cine-power-sync", "store.sqlite", NULL);
}

/**
 * cps_store_open:
 * @path: the store file; it and its directory are created when missing
 *
 * Opens (creating and migrating as needed) a local store. A store written by
 * a newer version is refused with %CPS_STORE_ERROR_NEWER_SCHEMA and left
 * unchanged; a damaged one with %CPS_STORE_ERROR_CORRUPT, whose message names
 * the snapshots that can be restored.
 *
 * Returns: (transfer full) (nullable): the store
 */
CpsStore *
cps_store_open (const char *path, GError **error)
{
  g_autoptr (CpsStore) self = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *problem = NULL;
  int version = 0;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO,
                   _("Could not create the folder “%s” for the local store: %s"), dir,
                   g_strerror (saved_errno));
      return NULL;
    }
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO,
                   _("“%s” is a folder, not a local store file"), path);
      return NULL;
    }

  self = g_object_new (CPS_TYPE_STORE, NULL);
  self->path = g_strdup (path);
  self->db = _cps_store_open_connection (path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                         error);
  if (self->db == NULL)
    return NULL;

  /* The first read of the file: a damaged header shows here. Nothing is
   * written before the schema version is known to be ours or older. */
  rc = _cps_store_read_schema_version (self->db, &version);
  if (rc != SQLITE_OK)
    {
      _cps_store_set_sqlite_error (error, self->db, rc, path, _("Could not open the local store"));
      return NULL;
    }
  if (version > CPS_STORE_SCHEMA_VERSION)
    {
      _cps_store_set_newer_schema_error (error, path, version);
      return NULL;
    }
  if (version == 0 && !is_empty_database (self, error))
    return NULL;

  if (!_cps_store_exec (self->db, "PRAGMA journal_mode = WAL", path, error) ||
      !_cps_store_exec (self->db, "PRAGMA synchronous = FULL", path, error) ||
      !_cps_store_exec (self->db, "PRAGMA foreign_keys = ON", path, error))
    return NULL;

  if (version > 0 && !_cps_store_quick_check (self->db, "quick_check", &problem))
    {
      g_autofree char *message = _cps_store_damaged_message (path, problem);
      g_set_error_literal (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT, message);
      return NULL;
    }

  if (!_cps_store_migrate (self->db, path, error))
    return NULL;

  return g_steal_pointer (&self);
}

const char *
cps_store_get_path (CpsStore *self)
{
  g_return_val_if_fail (CPS_IS_STORE (self), NULL);
  return self->path;
}

int
cps_store_get_schema_version (CpsStore *self)
{
  int version = 0;

  g_return_val_if_fail (CPS_IS_STORE (self), 0);
  _cps_store_read_schema_version (self->db, &version);
  return version;
}

/* Devices */

/**
 * cps_store_add_device:
 * @device_id: the device's UUID
 * @public_key: its Ed25519 public key
 * @name: (nullable): a name to show
 *
 * Records a device whose revisions this store can verify. Adding a known
 * device again with the same key does nothing; with another key it is
 * %CPS_STORE_ERROR_CONFLICT, since a device's key never changes.
 */
gboolean
cps_store_add_device (CpsStore *self, const char *device_id, const guint8 public_key[32],
                      const char *name, GError **error)
{
  g_auto (CpsStoreStmt) find = NULL;
  g_auto (CpsStoreStmt) insert = NULL;
  g_autofree char *now = NULL;
  int rc;

  g_return_val_if_fail (CPS_IS_STORE (self), FALSE);
  g_return_val_if_fail (public_key != NULL, FALSE);

  if (!cps_is_uuid (device_id))
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("“%s” is not a device id (a lowercase UUID)"), device_id ? device_id : "");
      return FALSE;
    }

  find = _cps_store_prepare (self, "SELECT public_key FROM devices WHERE id = ?1", error);
  if (find == NULL)
    return FALSE;
  _cps_store_bind_text (find, 1, device_id);
  rc = step_row (self, find, error);
  if (rc == SQLITE_ROW)
    {
      const void *known = sqlite3_column_blob (find, 0);

      if (sqlite3_column_bytes (find, 0) == 32 && memcmp (known, public_key, 32) == 0)
        return TRUE;
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CONFLICT,
                   _("Device %s is already known with another public key; a device’s key "
                     "never changes, so this one was not added"),
                   device_id);
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    return FALSE;

  insert = _cps_store_prepare (self,
                               "INSERT INTO devices (id, public_key, name, added_at) "
                               "VALUES (?1, ?2, ?3, ?4)",
                               error);
  if (insert == NULL)
    return FALSE;
  now = cps_now_rfc3339 ();
  _cps_store_bind_text (insert, 1, device_id);
  sqlite3_bind_blob (insert, 2, public_key, 32, SQLITE_TRANSIENT);
  _cps_store_bind_text (insert, 3, name);
  _cps_store_bind_text (insert, 4, now);
  return step_done (self, insert, _("Could not add the device"), error);
}

/**
 * cps_store_get_device_key:
 * @public_key: (out caller-allocates) (array fixed-size=32): receives the key
 *
 * Returns: %TRUE when the device is known; otherwise %CPS_STORE_ERROR_NOT_FOUND
 */
gboolean
cps_store_get_device_key (CpsStore *self, const char *device_id, guint8 public_key[32],
                          GError **error)
{
  g_auto (CpsStoreStmt) find = NULL;
  int rc;

  g_return_val_if_fail (CPS_IS_STORE (self), FALSE);
  g_return_val_if_fail (device_id != NULL, FALSE);

  find = _cps_store_prepare (self, "SELECT public_key FROM devices WHERE id = ?1", error);
  if (find == NULL)
    return FALSE;
  _cps_store_bind_text (find, 1, device_id);
  rc = step_row (self, find, error);
  if (rc == SQLITE_ROW && sqlite3_column_bytes (find, 0) == 32)
    {
      memcpy (public_key, sqlite3_column_blob (find, 0), 32);
      return TRUE;
    }
  if (rc == SQLITE_DONE)
    g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND,
                 _("Device %s is not known to this store, so its revisions cannot be "
                   "verified; add the device first"),
                 device_id);
  else if (rc == SQLITE_ROW)
    g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT,
                 _("The stored key of device %s is not 32 bytes long. Run `cps check`."),
                 device_id);
  return FALSE;
}

/**
 * cps_store_dup_device_name:
 *
 * Returns: (transfer full) (nullable): the name the device was recorded
 *   with, or %NULL when it is unknown or has none
 */
char *
cps_store_dup_device_name (CpsStore *self, const char *device_id)
{
  g_auto (CpsStoreStmt) find = NULL;

  g_return_val_if_fail (CPS_IS_STORE (self), NULL);
  g_return_val_if_fail (device_id != NULL, NULL);

  find = _cps_store_prepare (self, "SELECT name FROM devices WHERE id = ?1", NULL);
  if (find == NULL)
    return NULL;
  _cps_store_bind_text (find, 1, device_id);
  if (step_row (self, find, NULL) != SQLITE_ROW || sqlite3_column_text (find, 0) == NULL)
    return NULL;
  return g_strdup ((const char *) sqlite3_column_text (find, 0));
}

/* Projects */

static gboolean
project_exists (CpsStore *self, const char *project_id, gboolean *out_exists, GError **error)
{
  g_auto (CpsStoreStmt) find = _cps_store_prepare (self, "SELECT 1 FROM projects WHERE id = ?1",
                                                   error);
  int rc;

  if (find == NULL)
    return FALSE;
  _cps_store_bind_text (find, 1, project_id);
  rc = step_row (self, find, error);
  *out_exists = rc == SQLITE_ROW;
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/**
 * cps_store_add_project:
 * @project_id: a lowercase UUID
 * @name: the project's name
 *
 * Returns: %TRUE when added; %CPS_STORE_ERROR_CONFLICT when the id exists
 */
gboolean
cps_store_add_project (CpsStore *self, const char *project_id, const char *name, GError **error)
{
  g_auto (CpsStoreStmt) insert = NULL;
  g_autofree char *now = NULL;
  gboolean exists = FALSE;

  g_return_val_if_fail (CPS_IS_STORE (self), FALSE);

  if (!cps_is_uuid (project_id))
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("“%s” is not a project id (a lowercase UUID)"),
                   project_id ? project_id : "");
      return FALSE;
    }
  if (name == NULL || *name == '\0' || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("A project needs a name (UTF-8 text)"));
      return FALSE;
    }
  if (!project_exists (self, project_id, &exists, error))
    return FALSE;
  if (exists)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CONFLICT,
                   _("Project %s is already in the local store"), project_id);
      return FALSE;
    }

  insert = _cps_store_prepare (self,
                               "INSERT INTO projects (id, name, created_at) VALUES (?1, ?2, ?3)",
                               error);
  if (insert == NULL)
    return FALSE;
  now = cps_now_rfc3339 ();
  _cps_store_bind_text (insert, 1, project_id);
  _cps_store_bind_text (insert, 2, name);
  _cps_store_bind_text (insert, 3, now);
  return step_done (self, insert, _("Could not add the project"), error);
}

static const char project_rows_sql[] =
  "SELECT p.id, p.name, p.created_at,"
  " (SELECT count (*) FROM revisions r WHERE r.project_id = p.id),"
  " (SELECT max (r.created_at) FROM revisions r WHERE r.project_id = p.id)"
  " FROM projects p WHERE ?1 IS NULL OR p.id = ?1 ORDER BY p.name, p.id";

/* Heads: revisions nobody names as a parent. Parents are always of the same
 * project (checked before insertion). */
static const char heads_sql[] =
  "SELECT r.project_id, r.id, r.clock_sum, r.checksum, r.deleted FROM revisions r"
  " WHERE (?1 IS NULL OR r.project_id = ?1)"
  " AND NOT EXISTS (SELECT 1 FROM revision_parents c WHERE c.parent = r.id)"
  " ORDER BY r.project_id, r.id";

/* Reads projects (all, or the one with @project_id) with their heads and
 * display winner. */
static GPtrArray *
read_projects (CpsStore *self, const char *project_id, GError **error)
{
  g_autoptr (GPtrArray) projects = g_ptr_array_new_with_free_func (
    (GDestroyNotify) cps_store_project_free);
  g_autoptr (GHashTable) by_id = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) heads = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                        (GDestroyNotify) g_ptr_array_unref);
  g_autoptr (GHashTable) best_sum = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_auto (CpsStoreStmt) rows = NULL;
  g_auto (CpsStoreStmt) head_rows = NULL;
  int rc;

  rows = _cps_store_prepare (self, project_rows_sql, error);
  if (rows == NULL)
    return NULL;
  _cps_store_bind_text (rows, 1, project_id);
  while ((rc = sqlite3_step (rows)) == SQLITE_ROW)
    {
      CpsStoreProject *project = g_new0 (CpsStoreProject, 1);

      project->id = _cps_store_column_dup (rows, 0);
      project->name = _cps_store_column_dup (rows, 1);
      project->created_at = _cps_store_column_dup (rows, 2);
      project->revision_count = sqlite3_column_int (rows, 3);
      project->updated_at = _cps_store_column_dup (rows, 4);
      if (project->updated_at == NULL)
        project->updated_at = g_strdup (project->created_at);
      g_ptr_array_add (projects, project);
      g_hash_table_insert (by_id, project->id, project);
      g_hash_table_insert (heads, project->id, g_ptr_array_new_with_free_func (g_free));
    }
  if (rc != SQLITE_DONE)
    {
      _cps_store_set_sqlite_error (error, self->db, rc, self->path,
                                   _("Could not read the projects"));
      return NULL;
    }

  head_rows = _cps_store_prepare (self, heads_sql, error);
  if (head_rows == NULL)
    return NULL;
  _cps_store_bind_text (head_rows, 1, project_id);
  while ((rc = sqlite3_step (head_rows)) == SQLITE_ROW)
    {
      const char *pid = (const char *) sqlite3_column_text (head_rows, 0);
      CpsStoreProject *project = g_hash_table_lookup (by_id, pid);
      const char *id = (const char *) sqlite3_column_text (head_rows, 1);
      gint64 sum = sqlite3_column_int64 (head_rows, 2);
      gint64 *best;
      GPtrArray *list;

      if (project == NULL)
        continue;
      list = g_hash_table_lookup (heads, project->id);
      g_ptr_array_add (list, g_strdup (id));
      /* Display winner: largest clock sum, then highest id (rows come by id). */
      best = g_hash_table_lookup (best_sum, project->id);
      if (best == NULL || sum >= *best)
        {
          if (best == NULL)
            g_hash_table_insert (best_sum, project->id, best = g_new (gint64, 1));
          *best = sum;
          g_free (project->checksum);
          project->checksum = _cps_store_column_dup (head_rows, 3);
          project->deleted = sqlite3_column_int (head_rows, 4) != 0;
        }
    }
  if (rc != SQLITE_DONE)
    {
      _cps_store_set_sqlite_error (error, self->db, rc, self->path,
                                   _("Could not read the projects"));
      return NULL;
    }

  for (guint i = 0; i < projects->len; i++)
    {
      CpsStoreProject *project = g_ptr_array_index (projects, i);
      GPtrArray *list = g_hash_table_lookup (heads, project->id);

      project->conflicted = list->len > 1;
      g_ptr_array_add (list, NULL);
      project->heads = (GStrv) g_ptr_array_steal (list, NULL);
    }
  return g_steal_pointer (&projects);
}

/**
 * cps_store_list_projects:
 *
 * Returns: (transfer full) (element-type CpsStoreProject): every project,
 *   sorted by name
 */
GPtrArray *
cps_store_list_projects (CpsStore *self, GError **error)
{
  g_return_val_if_fail (CPS_IS_STORE (self), NULL);
  return read_projects (self, NULL, error);
}

/**
 * cps_store_get_project:
 *
 * Returns: (transfer full) (nullable): the project with this exact id
 */
CpsStoreProject *
cps_store_get_project (CpsStore *self, const char *project_id, GError **error)
{
  g_autoptr (GPtrArray) projects = NULL;

  g_return_val_if_fail (CPS_IS_STORE (self), NULL);
  g_return_val_if_fail (project_id != NULL, NULL);

  projects = read_projects (self, project_id, error);
  if (projects == NULL)
    return NULL;
  if (projects->len == 0)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND,
                   _("There is no project %s in the local store. Run `cps projects` to list "
                     "them."),
                   project_id);
      return NULL;
    }
  return g_ptr_array_steal_index (projects, 0);
}

static gboolean
is_id_prefix (const char *text)
{
  gsize len = strlen (text);

  if (len < 8 || len > 36)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (text[i]) && text[i] != '-')
      return FALSE;
  return TRUE;
}

/**
 * cps_store_find_project:
 * @id_or_name: a project id, a name, or a unique id prefix of 8 characters
 *   or more
 *
 * Returns: (transfer full) (nullable): the project; %CPS_STORE_ERROR_NOT_FOUND
 *   when none matches, %CPS_STORE_ERROR_INVALID when a name is ambiguous
 */
CpsStoreProject *
cps_store_find_project (CpsStore *self, const char *id_or_name, GError **error)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_auto (CpsStoreStmt) by_name = NULL;
  gboolean exists = FALSE;
  int rc;

  g_return_val_if_fail (CPS_IS_STORE (self), NULL);
  g_return_val_if_fail (id_or_name != NULL, NULL);

  if (!project_exists (self, id_or_name, &exists, error))
    return NULL;
  if (exists)
    return cps_store_get_project (self, id_or_name, error);

  by_name = _cps_store_prepare (self, "SELECT id FROM projects WHERE name = ?1 ORDER BY id",
                                error);
  if (by_name == NULL)
    return NULL;
  _cps_store_bind_text (by_name, 1, id_or_name);
  while ((rc = sqlite3_step (by_name)) == SQLITE_ROW)
    g_ptr_array_add (ids, _cps_store_column_dup (by_name, 0));
  if (rc != SQLITE_DONE)
    {
      _cps_store_set_sqlite_error (error, self->db, rc, self->path,
                                   _("Could not read the projects"));
      return NULL;
    }

  if (ids->len == 0 && is_id_prefix (id_or_name))
    {
      g_auto (CpsStoreStmt) by_prefix = NULL;
      g_autofree char *lower = g_ascii_strdown (id_or_name, -1);
      g_autofree char *pattern = g_strconcat (lower, "*", NULL);

      by_prefix = _cps_store_prepare (self,
                                      "SELECT id FROM projects WHERE id GLOB ?1 ORDER BY id "
                                      "LIMIT 5",
                                      error);
      if (by_prefix == NULL)
        return NULL;
      _cps_store_bind_text (by_prefix, 1, pattern);
      while ((rc = sqlite3_step (by_prefix)) == SQLITE_ROW)
        g_ptr_array_add (ids, _cps_store_column_dup (by_prefix, 0));
      if (rc != SQLITE_DONE)
        {
          _cps_store_set_sqlite_error (error, self->db, rc, self->path,
                                       _("Could not read the projects"));
          return NULL;
        }
    }

  if (ids->len == 1)
    return cps_store_get_project (self, g_ptr_array_index (ids, 0), error);
  if (ids->len == 0)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND,
                   _("There is no project “%s” in the local store. Run `cps projects` to list "
                     "them."),
                   id_or_name);
      return NULL;
    }

  g_ptr_array_add (ids, NULL);
  {
    g_autofree char *list = g_strjoinv (", ", (char **) ids->pdata);
    g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                 _("“%s” matches several projects (%s); name one by its id"), id_or_name, list);
  }
  return NULL;
}

/* Revisions */

static CpsRevision *
load_revision_by_exact_id (CpsStore *self, const char *id, GError **error)
{
  g_auto (CpsStoreStmt) find = NULL;
  int rc;

  find = _cps_store_prepare (self, "SELECT json FROM revisions WHERE id = ?1", error);
  if (find == NULL)
    return NULL;
  _cps_store_bind_text (find, 1, id);
  rc = step_row (self, find, error);
  if (rc == SQLITE_ROW)
    return _cps_store_revision_from_text ((const char *) sqlite3_column_text (find, 0),
                                          sqlite3_column_bytes (find, 0), id, error);
  if (rc == SQLITE_DONE)
    g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND,
                 _("There is no revision %s in the local store"), id);
  return NULL;
}

/* Loads a stored parent into *out_parent, or leaves it NULL when the parent
 * is not stored. Returns FALSE only on a read error. */
static gboolean
load_parent (CpsStore *self, const char *id, CpsRevision **out_parent, GError **error)
{
  g_auto (CpsStoreStmt) find = NULL;
  CpsRevision *cached;
  CpsRevision *revision;
  int rc;

  *out_parent = NULL;
  find = _cps_store_prepare (self, "SELECT 1 FROM revisions WHERE id = ?1", error);
  if (find == NULL)
    return FALSE;
  _cps_store_bind_text (find, 1, id);
  rc = step_row (self, find, error);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (rc != SQLITE_ROW)
    return FALSE;

  /* Only what the database holds is taken from the cache, so a revision
   * added in a transaction that was rolled back is never used. */
  cached = g_hash_table_lookup (self->revision_cache, id);
  if (cached != NULL)
    {
      *out_parent = g_object_ref (cached);
      return TRUE;
    }
  revision = load_revision_by_exact_id (self, id, error);
  if (revision == NULL)
    return FALSE;
  remember_revision (self, revision);
  *out_parent = revision;
  return TRUE;
}

static gboolean
revision_exists (CpsStore *self, const char *id, gboolean *out_exists, GError **error)
{
  g_auto (CpsStoreStmt) find = _cps_store_prepare (self, "SELECT 1 FROM revisions WHERE id = ?1",
                                                   error);
  int rc;

  if (find == NULL)
    return FALSE;
  _cps_store_bind_text (find, 1, id);
  rc = step_row (self, find, error);
  *out_exists = rc == SQLITE_ROW;
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/* Everything that needs the database, inside the caller's transaction. */
static gboolean
insert_revision (CpsStore *self, CpsRevision *revision, gboolean *out_added, GError **error)
{
  const char *id = cps_revision_get_id (revision);
  const char *project_id = cps_revision_get_project_id (revision);
  const char *const *parent_ids = cps_revision_get_parents (revision);
  guint n_parents = cps_revision_get_n_parents (revision);
  g_autoptr (GPtrArray) parents = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GString) clock = g_string_new (NULL);
  g_autofree char *json = NULL;
  g_autofree char *now = NULL;
  g_auto (CpsStoreStmt) insert = NULL;
  g_auto (CpsStoreStmt) insert_parent = NULL;
  g_auto (CpsStoreStmt) insert_outbox = NULL;
  gboolean exists = FALSE;

  if (!revision_exists (self, id, &exists, error))
    return FALSE;
  if (exists)
    return TRUE;

  for (guint i = 0; i < n_parents; i++)
    {
      CpsRevision *parent = NULL;

      if (!load_parent (self, parent_ids[i], &parent, error))
        return FALSE;
      if (parent == NULL)
        {
          g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_UNKNOWN_PARENT,
                       _("Revision %s names the parent %s, which is not in the local store; "
                         "add its parents first"),
                       id, parent_ids[i]);
          return FALSE;
        }
      g_ptr_array_add (parents, parent);
    }
  if (!cps_revision_validate_clock (revision, (CpsRevision *const *) parents->pdata, n_parents,
                                    error))
    {
      g_prefix_error (error, _("Revision %s was refused: "), id);
      return FALSE;
    }

  json = cps_revision_to_json (revision, TRUE);
  if (json == NULL)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("Revision %s cannot be written as JSON"), id);
      return FALSE;
    }
  cps_clock_write_jcs (cps_revision_get_clock (revision), clock);
  now = cps_now_rfc3339 ();

  insert = _cps_store_prepare (self,
                               "INSERT INTO revisions (id, project_id, device_id, created_at, "
                               "checksum, deleted, clock, clock_sum, json, stored_at) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                               error);
  if (insert == NULL)
    return FALSE;
  _cps_store_bind_text (insert, 1, id);
  _cps_store_bind_text (insert, 2, project_id);
  _cps_store_bind_text (insert, 3, cps_revision_get_device_id (revision));
  _cps_store_bind_text (insert, 4, cps_revision_get_created_at (revision));
  _cps_store_bind_text (insert, 5, cps_revision_get_checksum (revision));
  sqlite3_bind_int (insert, 6, cps_revision_get_deleted (revision) ? 1 : 0);
  sqlite3_bind_text (insert, 7, clock->str, clock->len, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 8, (sqlite3_int64) cps_clock_sum (cps_revision_get_clock (revision)));
  sqlite3_bind_text (insert, 9, json, -1, SQLITE_STATIC);
  _cps_store_bind_text (insert, 10, now);
  if (!step_done (self, insert, _("Could not add the revision"), error))
    return FALSE;

  if (n_parents > 0)
    {
      insert_parent = _cps_store_prepare (self,
                                          "INSERT INTO revision_parents (child, parent, position) "
                                          "VALUES (?1, ?2, ?3)",
                                          error);
      if (insert_parent == NULL)
        return FALSE;
      for (guint i = 0; i < n_parents; i++)
        {
          sqlite3_reset (insert_parent);
          _cps_store_bind_text (insert_parent, 1, id);
          _cps_store_bind_text (insert_parent, 2, parent_ids[i]);
          sqlite3_bind_int (insert_parent, 3, (int) i);
          if (!step_done (self, insert_parent, _("Could not add the revision"), error))
            return FALSE;
        }
    }

  insert_outbox = _cps_store_prepare (self,
                                      "INSERT INTO outbox (revision_id, project_id, queued_at) "
                                      "VALUES (?1, ?2, ?3)",
                                      error);
  if (insert_outbox == NULL)
    return FALSE;
  _cps_store_bind_text (insert_outbox, 1, id);
  _cps_store_bind_text (insert_outbox, 2, project_id);
  _cps_store_bind_text (insert_outbox, 3, now);
  if (!step_done (self, insert_outbox, _("Could not add the revision"), error))
    return FALSE;

  *out_added = TRUE;
  return TRUE;
}

/**
 * cps_store_add_revision:
 * @revision: a revision of a project in the store
 * @out_added: (out) (optional): whether it was new
 *
 * Verifies @revision (its id, the checksum of an unencrypted document, its
 * signature by a device the store knows, its clock against its parents,
 * which must all be stored) and appends it with an outbox entry, in one
 * transaction (or inside the caller's, see cps_store_begin()). A revision
 * already stored is not an error: @out_added is then %FALSE.
 *
 * Errors: %CPS_STORE_ERROR_NOT_FOUND for an unknown project or device; the
 * #CpsRevisionError of the first broken rule (%CPS_REVISION_ERROR_BAD_ID,
 * %CPS_REVISION_ERROR_BAD_SIGNATURE, %CPS_REVISION_ERROR_UNKNOWN_PARENT, …).
 */
gboolean
cps_store_add_revision (CpsStore *self, CpsRevision *revision, gboolean *out_added,
                        GError **error)
{
  const char *id;
  const char *savepoint = NULL;
  guint8 public_key[32];
  gboolean exists = FALSE;
  gboolean added = FALSE;
  gboolean own_transaction;

  g_return_val_if_fail (CPS_IS_STORE (self), FALSE);
  g_return_val_if_fail (CPS_IS_REVISION (revision), FALSE);

  if (out_added != NULL)
    *out_added = FALSE;
  id = cps_revision_get_id (revision);

  if (!project_exists (self, cps_revision_get_project_id (revision), &exists, error))
    return FALSE;
  if (!exists)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND,
                   _("Revision %s belongs to project %s, which is not in the local store; add "
                     "the project first"),
                   id, cps_revision_get_project_id (revision));
      return FALSE;
    }
  if (!cps_store_get_device_key (self, cps_revision_get_device_id (revision), public_key, error))
    {
      g_prefix_error (error, _("Revision %s was refused: "), id);
      return FALSE;
    }
  /* The expensive part (hashing, signature) runs before the write lock is
   * taken. */
  if (!cps_revision_verify (revision, public_key, error))
    {
      g_prefix_error (error, _("Revision %s was refused: "), id);
      return FALSE;
    }

  own_transaction = sqlite3_get_autocommit (self->db) != 0;
  savepoint = own_transaction ? "BEGIN IMMEDIATE" : "SAVEPOINT add_revision";
  if (!_cps_store_exec (self->db, savepoint, self->path, error))
    return FALSE;

  if (!insert_revision (self, revision, &added, error))
    goto fail;

  if (!_cps_store_exec (self->db, own_transaction ? "COMMIT" : "RELEASE add_revision", self->path,
                        error))
    goto fail;

  if (added)
    remember_revision (self, revision);
  if (out_added != NULL)
    *out_added = added;
  return TRUE;

fail:
  if (own_transaction)
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  else
    sqlite3_exec (self->db, "ROLLBACK TO add_revision; RELEASE add_revision", NULL, NULL, NULL);
  return FALSE;
}

/**
 * cps_store_has_revision:
 *
 * Returns: whether a revision with exactly this id is stored
 */
gboolean
cps_store_has_revision (CpsStore *self, const char *revision_id)
{
  gboolean exists = FALSE;

  g_return_val_if_fail (CPS_IS_STORE (self), FALSE);
  g_return_val_if_fail (revision_id != NULL, FALSE);

  return revision_exists (self, revision_id, &exists, NULL) && exists;
}

/**
 * cps_store_get_revision:
 * @revision_id: a full id, or a unique prefix of 8 or more hex digits, with
 *   or without `sha256:`
 *
 * Returns: (transfer full) (nullable): the revision
 */
CpsRevision *
cps_store_get_revision (CpsStore *self, const char *revision_id, GError **error)
{
  g_autofree char *hex = NULL;
  g_autofree char *pattern = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *text = NULL;
  g_auto (CpsStoreStmt) find = NULL;
  gsize len;
  int rc;

  g_return_val_if_fail (CPS_IS_STORE (self), NULL);
  g_return_val_if_fail (revision_id != NULL, NULL);

  hex = g_ascii_strdown (g_str_has_prefix (revision_id, CPS_CHECKSUM_PREFIX)
                           ? revision_id + strlen (CPS_CHECKSUM_PREFIX)
                           : revision_id,
                         -1);
  len = strlen (hex);
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (hex[i]))
      len = 0;
  if (len < 8 || len > 64)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("“%s” is not a revision id: give “sha256:” and 64 hex digits, or at least "
                     "the first 8 of them"),
                   revision_id);
      return NULL;
    }
  if (len == 64)
    {
      g_autofree char *full = g_strconcat (CPS_CHECKSUM_PREFIX, hex, NULL);
      return load_revision_by_exact_id (self, full, error);
    }

  pattern = g_strconcat (CPS_CHECKSUM_PREFIX, hex, "*", NULL);
  find = _cps_store_prepare (self, "SELECT id, json FROM revisions WHERE id GLOB ?1 LIMIT 2",
                             error);
  if (find == NULL)
    return NULL;
  _cps_store_bind_text (find, 1, pattern);
  rc = step_row (self, find, error);
  if (rc == SQLITE_ROW)
    {
      first = _cps_store_column_dup (find, 0);
      text = _cps_store_column_dup (find, 1);
      rc = step_row (self, find, error);
      if (rc == SQLITE_ROW)
        second = _cps_store_column_dup (find, 0);
    }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return NULL;
  if (first == NULL)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND,
                   _("No revision in the local store starts with %s"), revision_id);
      return NULL;
    }
  if (second != NULL)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("%s matches several revisions (%s, %s, …); give more digits"), revision_id,
                   first, second);
      return NULL;
    }
  return _cps_store_revision_from_text (text, -1, first, error);
}

static GPtrArray *
collect_revisions (CpsStore *self, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (GPtrArray) revisions = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *id = (const char *) sqlite3_column_text (stmt, 0);
      CpsRevision *revision = _cps_store_revision_from_text (
        (const char *) sqlite3_column_text (stmt, 1), sqlite3_column_bytes (stmt, 1), id, error);

      if (revision == NULL)
        return NULL;
      g_ptr_array_add (revisions, revision);
    }
  if (rc != SQLITE_DONE)
    {
      _cps_store_set_sqlite_error (error, self->db, rc, self->path,
                                   _("Could not read the revisions"));
      return NULL;
    }
  return g_steal_pointer (&revisions);
}

static gboolean
require_project (CpsStore *self, const char *project_id, GError **error)
{
  gboolean exists = FALSE;

  if (!project_exists (self, project_id, &exists, error))
    return FALSE;
  if (!exists)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND,
                   _("There is no project %s in the local store. Run `cps projects` to list "
                     "them."),
                   project_id);
      return FALSE;
    }
  return TRUE;
}

/**
 * cps_store_list_revisions:
 * @project_id: (nullable): a project id, or %NULL for every project
 *
 * Returns: (transfer full) (element-type CpsRevision): the revisions in the
 *   order they were stored, oldest first
 */
GPtrArray *
cps_store_list_revisions (CpsStore *self, const char *project_id, GError **error)
{
  g_auto (CpsStoreStmt) list = NULL;

  g_return_val_if_fail (CPS_IS_STORE (self), NULL);

  if (project_id != NULL && !require_project (self, project_id, error))
    return NULL;
  list = _cps_store_prepare (self,
                             "SELECT id, json FROM revisions WHERE ?1 IS NULL OR project_id = ?1 "
                             "ORDER BY seq",
                             error);
  if (list == NULL)
    return NULL;
  _cps_store_bind_text (list, 1, project_id);
  return collect_revisions (self, list, error);
}

/**
 * cps_store_get_heads:
 *
 * Returns: (transfer full) (element-type CpsRevision): the project's
 *   revisions without children, sorted by id; empty for a project without
 *   revisions
 */
GPtrArray *
cps_store_get_heads (CpsStore *self, const char *project_id, GError **error)
{
  g_auto (CpsStoreStmt) list = NULL;

  g_return_val_if_fail (CPS_IS_STORE (self), NULL);
  g_return_val_if_fail (project_id != NULL, NULL);

  if (!require_project (self, project_id, error))
    return NULL;
  list = _cps_store_prepare (self,
                             "SELECT r.id, r.json FROM revisions r WHERE r.project_id = ?1"
                             " AND NOT EXISTS (SELECT 1 FROM revision_parents c"
                             " WHERE c.parent = r.id) ORDER BY r.id",
                             error);
  if (list == NULL)
    return NULL;
  _cps_store_bind_text (list, 1, project_id);
  return collect_revisions (self, list, error);
}

/**
 * cps_store_get_display_winner:
 *
 * The head shown for a project: the largest clock sum, then the highest id
 * (DESIGN.md). It never decides what is kept.
 *
 * Returns: (transfer full) (nullable): the winner; %CPS_STORE_ERROR_NOT_FOUND
 *   for a project without revisions
 */
CpsRevision *
cps_store_get_display_winner (CpsStore *self, const char *project_id, GError **error)
{
  g_auto (CpsStoreStmt) find = NULL;
  int rc;

  g_return_val_if_fail (CPS_IS_STORE (self), NULL);
  g_return_val_if_fail (project_id != NULL, NULL);

  if (!require_project (self, project_id, error))
    return NULL;
  find = _cps_store_prepare (self,
                             "SELECT r.id, r.json FROM revisions r WHERE r.project_id = ?1"
                             " AND NOT EXISTS (SELECT 1 FROM revision_parents c"
                             " WHERE c.parent = r.id) ORDER BY r.clock_sum DESC, r.id DESC"
                             " LIMIT 1",
                             error);
  if (find == NULL)
    return NULL;
  _cps_store_bind_text (find, 1, project_id);
  rc = step_row (self, find, error);
  if (rc == SQLITE_ROW)
    return _cps_store_revision_from_text ((const char *) sqlite3_column_text (find, 1),
                                          sqlite3_column_bytes (find, 1),
                                          (const char *) sqlite3_column_text (find, 0), error);
  if (rc == SQLITE_DONE)
    g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND,
                 _("Project %s has no revisions yet"), project_id);
  return NULL;
}

/**
 * cps_store_count_revisions:
 * @project_id: (nullable): a project, or %NULL for all
 *
 * Returns: the number of stored revisions (0 on error, with @error set)
 */
guint
cps_store_count_revisions (CpsStore *self, const char *project_id, GError **error)
{
  g_auto (CpsStoreStmt) count = NULL;

  g_return_val_if_fail (CPS_IS_STORE (self), 0);

  count = _cps_store_prepare (self,
                              "SELECT count (*) FROM revisions WHERE ?1 IS NULL OR project_id = ?1",
                              error);
  if (count == NULL)
    return 0;
  _cps_store_bind_text (count, 1, project_id);
  if (step_row (self, count, error) != SQLITE_ROW)
    return 0;
  return (guint) sqlite3_column_int64 (count, 0);
}

/* Transactions */

/**
 * cps_store_begin:
 *
 * Starts a write transaction (BEGIN IMMEDIATE) so that a batch, such as the
 * import of a whole backup, is committed at once or not at all. Not nested.
 */
gboolean
cps_store_begin (CpsStore *self, GError **error)
{
  g_return_val_if_fail (CPS_IS_STORE (self), FALSE);

  if (self->in_transaction || !sqlite3_get_autocommit (self->db))
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("A transaction on the local store is already open"));
      return FALSE;
    }
  if (!_cps_store_exec (self->db, "BEGIN IMMEDIATE", self->path, error))
    return FALSE;
  self->in_transaction = TRUE;
  return TRUE;
}

/**
 * cps_store_commit:
 *
 * Commits the transaction. When that fails, everything since
 * cps_store_begin() is rolled back.
 */
gboolean
cps_store_commit (CpsStore *self, GError **error)
{
  g_return_val_if_fail (CPS_IS_STORE (self), FALSE);

  if (!self->in_transaction)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("No transaction on the local store is open"));
      return FALSE;
    }
  self->in_transaction = FALSE;
  if (!_cps_store_exec (self->db, "COMMIT", self->path, error))
    {
      if (!sqlite3_get_autocommit (self->db))
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

void
cps_store_rollback (CpsStore *self)
{
  g_return_if_fail (CPS_IS_STORE (self));

  self->in_transaction = FALSE;
  if (!sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

gboolean
cps_store_in_transaction (CpsStore *self)
{
  g_return_val_if_fail (CPS_IS_STORE (self), FALSE);
  return self->in_transaction;
}

/* Imports */

/**
 * cps_store_record_import:
 * @path: the file as the user named it
 * @file_checksum: `sha256:<hex>` of its bytes
 * @kind: what it was (cps_planner_kind_to_string())
 *
 * Remembers that a file's content was imported; recording the same content
 * again keeps the first record.
 */
gboolean
cps_store_record_import (CpsStore *self, const char *path, const char *file_checksum,
                         const char *kind, GError **error)
{
  g_auto (CpsStoreStmt) insert = NULL;
  g_autofree char *now = NULL;

  g_return_val_if_fail (CPS_IS_STORE (self), FALSE);
  g_return_val_if_fail (path != NULL && kind != NULL, FALSE);

  if (!cps_checksum_is_valid (file_checksum))
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("“%s” is not a checksum (sha256: and 64 lowercase hex digits)"),
                   file_checksum ? file_checksum : "");
      return FALSE;
    }
  insert = _cps_store_prepare (self,
                               "INSERT INTO imports (file_checksum, path, kind, imported_at) "
                               "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (file_checksum) DO NOTHING",
                               error);
  if (insert == NULL)
    return FALSE;
  now = cps_now_rfc3339 ();
  _cps_store_bind_text (insert, 1, file_checksum);
  _cps_store_bind_text (insert, 2, path);
  _cps_store_bind_text (insert, 3, kind);
  _cps_store_bind_text (insert, 4, now);
  return step_done (self, insert, _("Could not record the import"), error);
}

gboolean
cps_store_has_import (CpsStore *self, const char *file_checksum)
{
  g_auto (CpsStoreStmt) find = NULL;

  g_return_val_if_fail (CPS_IS_STORE (self), FALSE);
  g_return_val_if_fail (file_checksum != NULL, FALSE);

  find = _cps_store_prepare (self, "SELECT 1 FROM imports WHERE file_checksum = ?1", NULL);
  if (find == NULL)
    return FALSE;
  _cps_store_bind_text (find, 1, file_checksum);
  return sqlite3_step (find) == SQLITE_ROW;
}

/* Outbox */

/**
 * cps_store_count_outbox:
 *
 * Returns: how many revisions wait to be pushed
 */
guint
cps_store_count_outbox (CpsStore *self, GError **error)
{
  g_auto (CpsStoreStmt) count = NULL;

  g_return_val_if_fail (CPS_IS_STORE (self), 0);

  count = _cps_store_prepare (self, "SELECT count (*) FROM outbox WHERE acked_at IS NULL",
                              error);
  if (count == NULL)
    return 0;
  if (step_row (self, count, error) != SQLITE_ROW)
    return 0;
  return (guint) sqlite3_column_int64 (count, 0);
}
