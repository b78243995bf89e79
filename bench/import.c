/* import.c — bench-import
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Imports a 1,000-project full backup into a fresh local store as 1,000
 * signed revisions in one transaction (cps_store_import_file(), what
 * `cps import` does: sign, verify, store with parents, outbox and import
 * record), and in the same run inserts the very same rows (same schema, same
 * text) raw into a fresh SQLite file in one transaction, without signing or
 * verifying. Prints both times, best of N interleaved runs, and the ratio
 * (target ≤ 3), plus a breakdown of where the import's time goes.
 *
 *   bench-import [--file BACKUP | --generator gen-backup.py [--cache-dir DIR]
 *                 [--projects N] [--size-mb MB]] [--runs N] [--dir DIR]
 */

#define G_LOG_DOMAIN "bench-import"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "cps.h"
#include "cps-import.h"
#include "cps-revision.h"
#include "cps-store.h"
#include "cps-test-util.h"

#define TARGET_RATIO 3.0

typedef struct
{
  char *table;
  char *insert_sql;
  int n_columns;
  GPtrArray *rows; /* GPtrArray of sqlite3_value* (duplicated) per row */
} Table;

static void
free_row (gpointer row)
{
  GPtrArray *values = row;

  g_ptr_array_unref (values);
}

static void
free_table (Table *table)
{
  g_free (table->table);
  g_free (table->insert_sql);
  g_ptr_array_unref (table->rows);
  g_free (table);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Table, free_table)

static void G_GNUC_NORETURN
fail (const char *what, const char *detail)
{
  fprintf (stderr, "bench-import: %s: %s\n", what, detail);
  exit (1);
}

static void
value_free (gpointer value)
{
  sqlite3_value_free (value);
}

/* Reads a whole table of a finished store, in rowid order, to insert again. */
static Table *
read_table (sqlite3 *db, const char *table_name)
{
  g_autofree char *select = g_strdup_printf ("SELECT * FROM %s ORDER BY rowid", table_name);
  g_autoptr (GString) insert = g_string_new (NULL);
  Table *table = g_new0 (Table, 1);
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db, select, -1, &stmt, NULL) != SQLITE_OK)
    fail (select, sqlite3_errmsg (db));
  table->table = g_strdup (table_name);
  table->n_columns = sqlite3_column_count (stmt);
  table->rows = g_ptr_array_new_with_free_func (free_row);
  g_string_append_printf (insert, "INSERT INTO %s (", table_name);
  for (int i = 0; i < table->n_columns; i++)
    g_string_append_printf (insert, "%s%s", i ? ", " : "", sqlite3_column_name (stmt, i));
  g_string_append (insert, ") VALUES (");
  for (int i = 0; i < table->n_columns; i++)
    g_string_append_printf (insert, "%s?%d", i ? ", " : "", i + 1);
  g_string_append (insert, ")");
  table->insert_sql = g_strdup (insert->str);

  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      GPtrArray *row = g_ptr_array_new_with_free_func (value_free);
      for (int i = 0; i < table->n_columns; i++)
        g_ptr_array_add (row, sqlite3_value_dup (sqlite3_column_value (stmt, i)));
      g_ptr_array_add (table->rows, row);
    }
  sqlite3_finalize (stmt);
  return table;
}

static void
exec_or_fail (sqlite3 *db, const char *sql)
{
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    fail (sql, sqlite3_errmsg (db));
}

/* The baseline: the same rows, inserted raw in one transaction. Returns
 * seconds. */
static double
insert_raw (const char *path, GPtrArray *tables)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsStore) schema = NULL;
  sqlite3 *db = NULL;
  gint64 start, end;

  /* The same schema, created by the store itself, untimed. */
  schema = cps_store_open (path, &error);
  if (schema == NULL)
    fail ("baseline schema", error->message);
  g_clear_object (&schema);

  if (sqlite3_open (path, &db) != SQLITE_OK)
    fail ("baseline open", sqlite3_errmsg (db));
  exec_or_fail (db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                    "PRAGMA foreign_keys = ON");

  start = g_get_monotonic_time ();
  exec_or_fail (db, "BEGIN IMMEDIATE");
  for (guint t = 0; t < tables->len; t++)
    {
      Table *table = g_ptr_array_index (tables, t);
      sqlite3_stmt *stmt = NULL;

      if (sqlite3_prepare_v2 (db, table->insert_sql, -1, &stmt, NULL) != SQLITE_OK)
        fail (table->insert_sql, sqlite3_errmsg (db));
      for (guint r = 0; r < table->rows->len; r++)
        {
          GPtrArray *row = g_ptr_array_index (table->rows, r);

          sqlite3_reset (stmt);
          for (int c = 0; c < table->n_columns; c++)
            sqlite3_bind_value (stmt, c + 1, g_ptr_array_index (row, c));
          if (sqlite3_step (stmt) != SQLITE_DONE)
            fail (table->insert_sql, sqlite3_errmsg (db));
        }
      sqlite3_finalize (stmt);
    }
  exec_or_fail (db, "COMMIT");
  end = g_get_monotonic_time ();
  sqlite3_close (db);
  return (end - start) / 1e6;
}

/* The import as `cps import` does it. Returns seconds. */
static double
import_store (const char *path, CpsDeviceKey *key, CpsPlannerFile *file, guint *out_revisions)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsStore) store = cps_store_open (path, &error);
  g_autoptr (GPtrArray) results = NULL;
  gint64 start, end;

  if (store == NULL)
    fail ("open", error->message);
  start = g_get_monotonic_time ();
  results = cps_store_import_file (store, key, file, NULL, NULL, NULL, &error);
  end = g_get_monotonic_time ();
  if (results == NULL)
    fail ("import", error->message);
  *out_revisions = cps_store_count_revisions (store, NULL, NULL);
  return (end - start) / 1e6;
}

static char *
find_python (void)
{
  if (g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    return g_strdup ("/usr/bin/python3");
  return g_find_program_in_path ("python3");
}

static char *
ensure_backup (const char *generator, const char *cache_dir, guint projects, double size_mb)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *generator_text = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *name = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *python = find_python ();
  g_autofree char *projects_arg = g_strdup_printf ("%u", projects);
  g_autofree char *size_arg = g_strdup_printf ("%g", size_mb);
  char *path;
  gsize length = 0;
  int status = 0;

  if (!g_file_get_contents (generator, &generator_text, &length, &error))
    fail ("generator", error->message);
  digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) generator_text, length);
  digest[12] = '\0';
  name = g_strdup_printf ("backup-p%u-s%g-seed20250301-%s", projects, size_mb, digest);
  dir = g_build_filename (cache_dir, name, NULL);
  path = g_build_filename (dir, "cine_power_planner_backup_2025-03-01T14-05-09+01-00.json", NULL);
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return path;

  if (python == NULL)
    fail ("python3", "not found, needed to generate the backup (or pass --file)");
  g_mkdir_with_parents (dir, 0755);
  printf ("Generating the benchmark backup (once) in %s …\n", dir);
  fflush (stdout);
  {
    const char *argv[] = { python, generator, "-o", path, "--projects", projects_arg,
                           "--size-mb", size_arg, NULL };
    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                       &status, &error) ||
        !g_spawn_check_wait_status (status, &error))
      fail ("gen-backup.py", error->message);
  }
  return path;
}

static double
min_of (GArray *values)
{
  double best = G_MAXDOUBLE;

  for (guint i = 0; i < values->len; i++)
    best = MIN (best, g_array_index (values, double, i));
  return best;
}

static char *
runs_text (GArray *values)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < values->len; i++)
    g_string_append_printf (out, "%s%.3f", i ? " " : "", g_array_index (values, double, i));
  return g_string_free (out, FALSE);
}

/* Where the import's time goes: each step alone over every project. */
static void
breakdown (CpsDeviceKey *key, CpsPlannerFile *file, double import_seconds)
{
  GListModel *projects = cps_planner_file_get_projects (file);
  guint n = g_list_model_get_n_items (projects);
  g_autoptr (GPtrArray) revisions = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *project_id = g_uuid_string_random ();
  gint64 t0, t1, t2, t3;
  gsize bytes = 0;

  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CpsPlannerProject) project = g_list_model_get_item (projects, i);
      g_autoptr (GError) error = NULL;
      CpsRevision *revision = cps_revision_new_signed (project_id, NULL, 0, key, NULL,
                                                       cps_planner_project_get_root (project),
                                                       FALSE, &error);
      if (revision == NULL)
        fail ("sign", error->message);
      g_ptr_array_add (revisions, revision);
    }
  t1 = g_get_monotonic_time ();
  for (guint i = 0; i < revisions->len; i++)
    if (!cps_revision_verify (g_ptr_array_index (revisions, i),
                              cps_device_key_get_public_key (key), NULL))
      fail ("verify", "a fresh revision does not verify");
  t2 = g_get_monotonic_time ();
  for (guint i = 0; i < revisions->len; i++)
    {
      g_autofree char *json = cps_revision_to_json (g_ptr_array_index (revisions, i), TRUE);
      bytes += strlen (json);
    }
  t3 = g_get_monotonic_time ();

  printf ("  where the import's time goes (each step alone, %u revisions, %.1f MB of JSON):\n",
          n, bytes / 1e6);
  printf ("    build + sign (cps_revision_new_signed)   %8.3f s\n", (t1 - t0) / 1e6);
  printf ("    verify (id, checksum, signature)         %8.3f s\n", (t2 - t1) / 1e6);
  printf ("    write as JSON (cps_revision_to_json)     %8.3f s\n", (t3 - t2) / 1e6);
  printf ("    the rest: the store's SQL, commit, lookups %6.3f s\n",
          import_seconds - (t3 - t0) / 1e6);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) context = NULL;
  g_autofree char *file_path = NULL;
  g_autofree char *generator = NULL;
  g_autofree char *cache_dir = NULL;
  g_autofree char *work_parent = NULL;
  g_autofree char *work_dir = NULL;
  g_autoptr (GFile) gfile = NULL;
  g_autoptr (CpsPlannerFile) file = NULL;
  g_autoptr (CpsDeviceKey) key = NULL;
  g_autoptr (GArray) ours = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) raw = g_array_new (FALSE, FALSE, sizeof (double));
  int projects = 1000;
  double size_mb = 20;
  int runs = 3;
  guint n_projects, n_revisions = 0;
  double best_ours, best_raw, ratio;
  g_autofree char *ours_runs = NULL;
  g_autofree char *raw_runs = NULL;
  gint64 load_start;
  double load_seconds;
  GOptionEntry entries[] = {
    { "file", 0, 0, G_OPTION_ARG_FILENAME, &file_path, "Import this backup", "FILE" },
    { "generator", 0, 0, G_OPTION_ARG_FILENAME, &generator, "gen-backup.py, to generate one",
      "PATH" },
    { "cache-dir", 0, 0, G_OPTION_ARG_FILENAME, &cache_dir, "Where the generated backup is kept",
      "DIR" },
    { "projects", 0, 0, G_OPTION_ARG_INT, &projects, "Projects in the generated backup", "N" },
    { "size-mb", 0, 0, G_OPTION_ARG_DOUBLE, &size_mb, "Size of the generated backup", "MB" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Timed runs of each (best is reported)", "N" },
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &work_parent, "Where the stores are written", "DIR" },
    { NULL }
  };

  cps_init_i18n ();
  context = g_option_context_new ("— import benchmark against raw SQLite inserts");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "bench-import: %s\n", error->message);
      return 2;
    }
  if (file_path == NULL && generator == NULL)
    {
      fprintf (stderr, "bench-import: give --file BACKUP or --generator gen-backup.py\n");
      return 2;
    }
  runs = MAX (runs, 1);
  if (file_path == NULL)
    {
      g_autofree char *default_cache = g_strdup_printf ("%s/cps-bench-%u", g_get_tmp_dir (),
                                                        (guint) getuid ());
      file_path = ensure_backup (generator, cache_dir ? cache_dir : default_cache,
                                 (guint) MAX (projects, 1), size_mb);
    }

  load_start = g_get_monotonic_time ();
  gfile = g_file_new_for_path (file_path);
  file = cps_planner_file_load (gfile, NULL, &error);
  if (file == NULL)
    fail (file_path, error->message);
  load_seconds = (g_get_monotonic_time () - load_start) / 1e6;
  n_projects = g_list_model_get_n_items (cps_planner_file_get_projects (file));
  key = cps_device_key_new_ephemeral (NULL);

  work_dir = work_parent ? g_build_filename (work_parent, "cps-bench-import-XXXXXX", NULL)
                         : g_build_filename (g_get_tmp_dir (), "cps-bench-import-XXXXXX", NULL);
  if (g_mkdtemp (work_dir) == NULL)
    fail ("work dir", g_strerror (errno));

  /* One untimed round first (page cache, code paths), then interleaved runs. */
  for (int run = -1; run < runs; run++)
    {
      g_autofree char *store_path = g_strdup_printf ("%s/store-%d.sqlite", work_dir, run + 1);
      g_autofree char *raw_path = g_strdup_printf ("%s/raw-%d.sqlite", work_dir, run + 1);
      g_autoptr (GPtrArray) tables = g_ptr_array_new_with_free_func ((GDestroyNotify) free_table);
      const char *names[] = { "devices", "projects", "revisions", "revision_parents", "outbox",
                              "imports" };
      sqlite3 *db = NULL;
      double t_ours, t_raw;

      t_ours = import_store (store_path, key, file, &n_revisions);
      if (sqlite3_open_v2 (store_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        fail ("read back", sqlite3_errmsg (db));
      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        g_ptr_array_add (tables, read_table (db, names[i]));
      sqlite3_close (db);
      t_raw = insert_raw (raw_path, tables);

      if (run >= 0)
        {
          g_array_append_val (ours, t_ours);
          g_array_append_val (raw, t_raw);
        }
      cps_test_remove_tree (store_path);
      {
        g_autofree char *wal = g_strconcat (store_path, "-wal", NULL);
        g_autofree char *shm = g_strconcat (store_path, "-shm", NULL);
        g_autofree char *raw_wal = g_strconcat (raw_path, "-wal", NULL);
        g_autofree char *raw_shm = g_strconcat (raw_path, "-shm", NULL);
        g_unlink (wal);
        g_unlink (shm);
        g_unlink (raw_path);
        g_unlink (raw_wal);
        g_unlink (raw_shm);
      }
    }
  cps_test_remove_tree (work_dir);

  best_ours = min_of (ours);
  best_raw = min_of (raw);
  ratio = best_ours / best_raw;
  ours_runs = runs_text (ours);
  raw_runs = runs_text (raw);

  printf ("cps import benchmark\n");
  printf ("  file      %s\n", file_path);
  printf ("            %.1f MB, %u projects (read in %.3f s, untimed)\n",
          cps_planner_file_get_size (file) / 1e6, n_projects, load_seconds);
  printf ("  store     %u revisions, one transaction, WAL, synchronous=FULL\n", n_revisions);
  printf ("  method    best of %d interleaved runs each, after one untimed round\n", runs);
  printf ("\n");
  printf ("                                   wall (best)   all runs (s)\n");
  printf ("  import (sign, verify, store)   %8.3f s     %s\n", best_ours, ours_runs);
  printf ("  raw SQLite insert, same rows   %8.3f s     %s\n", best_raw, raw_runs);
  printf ("\n");
  printf ("  time ratio import/raw   %6.2f     target <= %.1f       %s\n", ratio, TARGET_RATIO,
          ratio <= TARGET_RATIO ? "PASS" : "FAIL");
  printf ("  per revision            %6.3f ms import, %.3f ms raw\n",
          best_ours * 1000 / MAX (n_revisions, 1), best_raw * 1000 / MAX (n_revisions, 1));
  printf ("\n");
  breakdown (key, file, best_ours);
  return 0;
}
