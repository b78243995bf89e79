/* cps-store-check.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The full check of a store, and restore rehearsals. The check trusts
 * nothing it stored: SQLite's integrity and foreign-key checks, then every
 * revision parsed again from its stored text, its indexed columns compared to
 * it, its id recomputed, its document checksum and signature verified against
 * the stored device key, its parent links and its clock rule checked.
 */

#define G_LOG_DOMAIN "cps-store"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "cps-jcs.h"
#include "cps-store-private.h"

/* Parsed revisions kept for their children's clock rule. */
#define CHECK_CACHE_SIZE 256

typedef struct
{
  CpsStore *store;
  CpsStoreCheck *check;
  GHashTable *keys;      /* device id → guint8[32], or NULL value when unknown */
  GHashTable *recent;    /* revision id → CpsRevision */
  sqlite3_stmt *parents; /* child → parent links, on their own statement */
} Checker;

static void
add_problem (CpsStoreCheck *check, const char *path, const char *format, ...)
  G_GNUC_PRINTF (3, 4);

static void
add_problem (CpsStoreCheck *check, const char *path, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (check->findings, cps_finding_new (CPS_SEVERITY_ERROR, path, message));
  check->problems++;
}

static CpsStoreCheck *
check_new (void)
{
  CpsStoreCheck *check = g_new0 (CpsStoreCheck, 1);

  check->findings = cps_findings_new ();
  return check;
}

static void
check_sqlite (CpsStore *self, CpsStoreCheck *check)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (self->db, "PRAGMA integrity_check", -1, &stmt, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *line = (const char *) sqlite3_column_text (stmt, 0);

      if (g_strcmp0 (line, "ok") != 0)
        add_problem (check, self->path, _("SQLite integrity check: %s"), line);
      rc = SQLITE_OK;
    }
  if (rc != SQLITE_DONE && rc != SQLITE_OK)
    add_problem (check, self->path, _("SQLite integrity check could not run: %s"),
                 sqlite3_errmsg (self->db));
  sqlite3_finalize (stmt);

  stmt = NULL;
  rc = sqlite3_prepare_v2 (self->db, "PRAGMA foreign_key_check", -1, &stmt, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      add_problem (check, self->path,
                   _("Row %lld of table “%s” refers to a missing row of table “%s”"),
                   (long long) sqlite3_column_int64 (stmt, 1),
                   (const char *) sqlite3_column_text (stmt, 0),
                   (const char *) sqlite3_column_text (stmt, 2));
      rc = SQLITE_OK;
    }
  if (rc != SQLITE_DONE && rc != SQLITE_OK)
    add_problem (check, self->path, _("SQLite foreign key check could not run: %s"),
                 sqlite3_errmsg (self->db));
  sqlite3_finalize (stmt);
}

static const guint8 *
lookup_key (Checker *checker, const char *device_id)
{
  gpointer key = NULL;
  guint8 public_key[32];

  if (g_hash_table_lookup_extended (checker->keys, device_id, NULL, &key))
    return key;
  if (cps_store_get_device_key (checker->store, device_id, public_key, NULL))
    key = g_memdup2 (public_key, sizeof public_key);
  g_hash_table_insert (checker->keys, g_strdup (device_id), key);
  return key;
}

static CpsRevision *
find_parent (Checker *checker, const char *id)
{
  CpsRevision *parent = g_hash_table_lookup (checker->recent, id);

  if (parent != NULL)
    return g_object_ref (parent);
  if (!cps_store_has_revision (checker->store, id))
    return NULL;
  return cps_store_get_revision (checker->store, id, NULL);
}

static void
remember (Checker *checker, CpsRevision *revision)
{
  if (g_hash_table_size (checker->recent) >= CHECK_CACHE_SIZE)
    g_hash_table_remove_all (checker->recent);
  g_hash_table_replace (checker->recent, g_strdup (cps_revision_get_id (revision)),
                        g_object_ref (revision));
}

static void
compare_column (CpsStoreCheck *check, const char *id, const char *column, const char *stored,
                const char *actual)
{
  if (g_strcmp0 (stored, actual) != 0)
    add_problem (check, id,
                 _("The stored column “%s” (%s) differs from the revision’s own value (%s)"),
                 column, stored ? stored : "NULL", actual ? actual : "NULL");
}

static void
check_parent_links (Checker *checker, CpsRevision *revision, GPtrArray *parents)
{
  CpsStoreCheck *check = checker->check;
  const char *id = cps_revision_get_id (revision);
  const char *const *parent_ids = cps_revision_get_parents (revision);
  guint n_links = 0;
  int rc;

  sqlite3_reset (checker->parents);
  _cps_store_bind_text (checker->parents, 1, id);
  while ((rc = sqlite3_step (checker->parents)) == SQLITE_ROW)
    {
      const char *parent = (const char *) sqlite3_column_text (checker->parents, 0);
      int position = sqlite3_column_int (checker->parents, 1);

      if (position < 0 || (guint) position >= g_strv_length ((char **) parent_ids) ||
          g_strcmp0 (parent_ids[position], parent) != 0)
        add_problem (check, id,
                     _("The stored parent link to %s (position %d) is not one of the revision’s "
                       "parents"),
                     parent, position);
      n_links++;
    }
  sqlite3_reset (checker->parents);
  if (rc != SQLITE_DONE)
    add_problem (check, id, _("Its parent links could not be read: %s"),
                 sqlite3_errmsg (checker->store->db));
  else if (n_links != g_strv_length ((char **) parent_ids))
    {
      guint n_parents = g_strv_length ((char **) parent_ids);
      g_autofree char *names = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                             "It names %u parent",
                                                             "It names %u parents", n_parents),
                                                n_parents);
      /* Translators: the first %s is “It names N parent(s)” */
      add_problem (check, id,
                   g_dngettext (GETTEXT_PACKAGE, "%s but %u parent link is stored",
                                "%s but %u parent links are stored", n_links),
                   names, n_links);
    }

  for (guint i = 0; parent_ids[i] != NULL; i++)
    {
      CpsRevision *parent = find_parent (checker, parent_ids[i]);

      if (parent == NULL)
        add_problem (check, id, _("Its parent %s is missing from the store"), parent_ids[i]);
      else
        g_ptr_array_add (parents, parent);
    }
}

static void
check_revision (Checker *checker, sqlite3_stmt *row)
{
  CpsStoreCheck *check = checker->check;
  const char *id = (const char *) sqlite3_column_text (row, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsRevision) revision = NULL;
  g_autoptr (GPtrArray) parents = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GString) clock = g_string_new (NULL);
  g_autofree char *computed = NULL;
  const guint8 *key;

  check->revisions_checked++;
  revision = _cps_store_revision_from_text ((const char *) sqlite3_column_text (row, 7),
                                            sqlite3_column_bytes (row, 7), id, &error);
  if (revision == NULL)
    {
      add_problem (check, id, "%s", error->message);
      return;
    }

  compare_column (check, id, "id", id, cps_revision_get_id (revision));
  compare_column (check, id, "project_id", (const char *) sqlite3_column_text (row, 1),
                  cps_revision_get_project_id (revision));
  compare_column (check, id, "device_id", (const char *) sqlite3_column_text (row, 2),
                  cps_revision_get_device_id (revision));
  compare_column (check, id, "created_at", (const char *) sqlite3_column_text (row, 3),
                  cps_revision_get_created_at (revision));
  compare_column (check, id, "checksum", (const char *) sqlite3_column_text (row, 4),
                  cps_revision_get_checksum (revision));
  compare_column (check, id, "deleted", sqlite3_column_int (row, 5) ? "true" : "false",
                  cps_revision_get_deleted (revision) ? "true" : "false");
  cps_clock_write_jcs (cps_revision_get_clock (revision), clock);
  compare_column (check, id, "clock", (const char *) sqlite3_column_text (row, 6), clock->str);
  if ((guint64) sqlite3_column_int64 (row, 8) != cps_clock_sum (cps_revision_get_clock (revision)))
    add_problem (check, id, _("The stored clock sum %lld differs from the clock’s (%llu)"),
                 (long long) sqlite3_column_int64 (row, 8),
                 (unsigned long long) cps_clock_sum (cps_revision_get_clock (revision)));

  computed = cps_revision_compute_id (revision, &error);
  if (computed == NULL)
    add_problem (check, id, _("Its id cannot be recomputed: %s"), error->message);
  else if (strcmp (computed, cps_revision_get_id (revision)) != 0)
    add_problem (check, id,
                 _("Its id does not match its content: the content gives %s. The revision "
                   "was altered after it was stored."),
                 computed);
  else
    {
      key = lookup_key (checker, cps_revision_get_device_id (revision));
      if (key == NULL)
        add_problem (check, id,
                     _("Its device %s is not in the store, so its signature cannot be "
                       "verified"),
                     cps_revision_get_device_id (revision));
      else if (!cps_revision_verify (revision, key, &error))
        add_problem (check, id, "%s", error->message);
    }
  g_clear_error (&error);

  check_parent_links (checker, revision, parents);
  if (parents->len == cps_revision_get_n_parents (revision) &&
      !cps_revision_validate_clock (revision, (CpsRevision *const *) parents->pdata, parents->len,
                                    &error))
    add_problem (check, id, "%s", error->message);

  remember (checker, revision);
}

/**
 * cps_store_check:
 * @cancellable: (nullable): to stop early (then %NULL with %G_IO_ERROR_CANCELLED)
 *
 * Checks the whole store (see the top of this file). Problems are findings,
 * not errors: the error is only for a check that could not run.
 *
 * Returns: (transfer full) (nullable): what was found
 */
CpsStoreCheck *
cps_store_check (CpsStore *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (CpsStoreCheck) check = check_new ();
  g_autoptr (GHashTable) keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GHashTable) recent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         g_object_unref);
  g_autoptr (CpsSqliteStmt) rows = NULL;
  g_autoptr (CpsSqliteStmt) parent_links = NULL;
  Checker checker = { self, check, keys, recent, NULL };
  gboolean own_transaction;
  int rc;

  g_return_val_if_fail (CPS_IS_STORE (self), NULL);

  check_sqlite (self, check);

  /* One read transaction, so the check sees one consistent state. */
  own_transaction = sqlite3_get_autocommit (self->db) != 0;
  if (own_transaction && !_cps_store_exec (self->db, "BEGIN", self->path, error))
    return NULL;

  rc = sqlite3_prepare_v2 (self->db,
                           "SELECT id, project_id, device_id, created_at, checksum, deleted, "
                           "clock, json, clock_sum FROM revisions ORDER BY seq",
                           -1, &rows, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2 (self->db,
                             "SELECT parent, position FROM revision_parents WHERE child = ?1 "
                             "ORDER BY position",
                             -1, &parent_links, NULL);
  if (rc != SQLITE_OK)
    {
      /* A store too damaged to read its tables has its findings already. */
      add_problem (check, self->path, _("The revisions cannot be read: %s"),
                   sqlite3_errmsg (self->db));
      if (own_transaction)
        sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL);
      return g_steal_pointer (&check);
    }
  checker.parents = parent_links;

  while ((rc = sqlite3_step (rows)) == SQLITE_ROW)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          sqlite3_reset (rows);
          if (own_transaction)
            sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL);
          return NULL;
        }
      check_revision (&checker, rows);
    }
  if (rc != SQLITE_DONE)
    add_problem (check, self->path, _("Reading the revisions stopped: %s"),
                 sqlite3_errmsg (self->db));
  sqlite3_reset (rows);
  if (own_transaction)
    sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL);

  return g_steal_pointer (&check);
}

static void
remove_database_files (const char *path)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  g_autofree char *journal = g_strconcat (path, "-journal", NULL);

  g_unlink (path);
  g_unlink (wal);
  g_unlink (shm);
  g_unlink (journal);
}

/**
 * cps_store_rehearse_restore:
 * @snapshot_path: a snapshot
 *
 * Restores @snapshot_path into a temporary file, opens it as a store (which
 * runs any migrations), runs the full check there and deletes the temporary
 * file. Nothing else is touched. A snapshot that fails its checksum manifest
 * or cannot be restored at all gives findings too: the error is for a
 * rehearsal that could not run (missing snapshot, no temporary space,
 * cancelled).
 *
 * Returns: (transfer full) (nullable): what was found
 */
CpsStoreCheck *
cps_store_rehearse_restore (const char *snapshot_path, GCancellable *cancellable,
                            GError **error)
{
  g_autoptr (CpsStoreCheck) check = check_new ();
  g_autoptr (CpsStoreCheck) inner = NULL;
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *temp_dir = NULL;
  g_autofree char *temp_path = NULL;
  sqlite3 *source = NULL;
  sqlite3 *dest = NULL;
  gboolean restored = TRUE;

  g_return_val_if_fail (snapshot_path != NULL, NULL);

  if (!g_file_test (snapshot_path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND,
                   _("There is no snapshot “%s”. Run `cps backup --list` to see the "
                     "snapshots."),
                   snapshot_path);
      return NULL;
    }

  /* The manifest and SQLite's own checks; a failure is a finding, and the
   * rehearsal goes on to find out what else is wrong. */
  if (!cps_store_verify_snapshot (snapshot_path, &local_error))
    {
      add_problem (check, snapshot_path, "%s", local_error->message);
      g_clear_error (&local_error);
    }

  temp_dir = g_dir_make_tmp ("cps-rehearsal-XXXXXX", &local_error);
  if (temp_dir == NULL)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO,
                   _("Could not create a temporary folder for the rehearsal: %s"),
                   local_error->message);
      return NULL;
    }
  temp_path = g_build_filename (temp_dir, "rehearsal.sqlite", NULL);

  /* Not immutable: a damaged snapshot should fail here the way it would in a
   * real restore. */
  source = _cps_store_open_connection (snapshot_path, SQLITE_OPEN_READONLY, &local_error);
  if (source != NULL)
    dest = _cps_store_open_connection (temp_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                       &local_error);
  if (source == NULL || dest == NULL ||
      !_cps_store_backup (source, dest, snapshot_path, temp_path, &local_error))
    {
      add_problem (check, snapshot_path, _("The snapshot cannot be restored: %s"),
                   local_error->message);
      g_clear_error (&local_error);
      restored = FALSE;
    }
  sqlite3_close (source);
  sqlite3_close (dest);

  if (restored)
    {
      store = cps_store_open (temp_path, &local_error);
      if (store == NULL)
        {
          add_problem (check, snapshot_path, _("The restored copy does not open as a store: %s"),
                       local_error->message);
          g_clear_error (&local_error);
        }
    }
  if (store != NULL)
    {
      inner = cps_store_check (store, cancellable, &local_error);
      g_clear_object (&store);
    }
  remove_database_files (temp_path);
  g_rmdir (temp_dir);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (inner != NULL)
    {
      check->revisions_checked += inner->revisions_checked;
      check->problems += inner->problems;
      for (guint i = 0; i < inner->findings->len; i++)
        g_ptr_array_add (check->findings, cps_finding_copy (g_ptr_array_index (inner->findings, i)));
    }
  return g_steal_pointer (&check);
}
