/* test-store.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The local store on real SQLite files: creation and migration, refusing a
 * newer schema and damaged files, verified append-only revisions with heads,
 * conflicts and the display winner, lookups, imports, snapshots with
 * rotation, restore (and refusal of damaged snapshots), the full check and
 * restore rehearsals that find tampering.
 */

#define G_LOG_DOMAIN "test-store"

#include "config.h"

#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "cps.h"
#include "cps-revision.h"
#include "cps-store.h"
#include "cps-test-util.h"

#define PROJECT "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
#define PROJECT_2 "11111111-2222-4333-8444-555555555555"
#define DEVICE_A "0a1b2c3d-0000-4000-8000-00000000000a"
#define DEVICE_B "0a1b2c3d-0000-4000-8000-00000000000b"
#define DEVICE_C "0a1b2c3d-0000-4000-8000-00000000000c"

typedef struct
{
  char *dir;
  char *path;
  CpsStore *store;
  CpsDeviceKey *a;
  CpsDeviceKey *b;
} Fixture;

static void
add_device (CpsStore *store, CpsDeviceKey *key)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (cps_store_add_device (store, cps_device_key_get_device_id (key),
                                       cps_device_key_get_public_key (key), "test device",
                                       &error));
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("cps-test-store-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "nested", "store.sqlite", NULL);
  fixture->store = cps_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->store);
  fixture->a = cps_device_key_new_ephemeral (DEVICE_A);
  fixture->b = cps_device_key_new_ephemeral (DEVICE_B);
  add_device (fixture->store, fixture->a);
  add_device (fixture->store, fixture->b);
  g_assert_true (cps_store_add_project (fixture->store, PROJECT, "Night shoot", &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_clear_object (&fixture->store);
  g_clear_object (&fixture->a);
  g_clear_object (&fixture->b);
  cps_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->path);
}

/* A revision of @project_id with a small planner-like document. */
static CpsRevision *
make_revision (CpsDeviceKey *key, const char *project_id, CpsRevision **parents, guint n_parents,
               const char *created_at, const char *camera)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json = g_strdup_printf (
    "{\"metadata\":{\"type\":\"camera-power-planner/project-bundle\"},"
    "\"project\":{\"camera\":\"%s\",\"battery\":\"Bebob V150micro\","
    "\"crew\":[{\"name\":\"Zoë\",\"role\":\"DIT\"}],\"runtime\":2.5}}",
    camera);
  g_autoptr (CpsJsonDocument) doc = cps_json_document_parse_copy (json, -1, NULL, &error);
  CpsRevision *revision;

  g_assert_no_error (error);
  revision = cps_revision_new_signed (project_id, parents, n_parents, key, created_at,
                                      cps_json_document_get_root (doc), FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (revision);
  return revision;
}

static void
add_revision (CpsStore *store, CpsRevision *revision, gboolean expect_added)
{
  g_autoptr (GError) error = NULL;
  gboolean added = !expect_added;

  g_assert_true (cps_store_add_revision (store, revision, &added, &error));
  g_assert_no_error (error);
  g_assert_true (added == expect_added);
}

static sqlite3 *
open_raw (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  return db;
}

static void
exec_raw (sqlite3 *db, const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

static char *
file_checksum (const char *path)
{
  g_autofree char *data = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &data, &length, NULL));
  return cps_checksum_bytes (data, length);
}

/* Everything a person would see of a store, as one string. */
static char *
dump_store (CpsStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) projects = cps_store_list_projects (store, &error);
  g_autoptr (GPtrArray) revisions = cps_store_list_revisions (store, NULL, &error);
  GString *out = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < projects->len; i++)
    {
      CpsStoreProject *project = g_ptr_array_index (projects, i);
      g_autofree char *heads = g_strjoinv (",", project->heads);
      g_string_append_printf (out, "project %s %s %u %s\n", project->id, project->name,
                              project->revision_count, heads);
    }
  for (guint i = 0; i < revisions->len; i++)
    g_string_append_printf (out, "revision %s\n",
                            cps_revision_get_id (g_ptr_array_index (revisions, i)));
  g_string_append_printf (out, "outbox %u\n", cps_store_count_outbox (store, NULL));
  return g_string_free (out, FALSE);
}

static gboolean
has_finding (CpsStoreCheck *check, const char *path, const char *needle)
{
  for (guint i = 0; i < check->findings->len; i++)
    {
      const CpsFinding *finding = g_ptr_array_index (check->findings, i);

      if ((path == NULL || g_strcmp0 (finding->path, path) == 0) &&
          strstr (finding->message, needle) != NULL)
        return TRUE;
    }
  return FALSE;
}

static void
print_findings (CpsStoreCheck *check)
{
  for (guint i = 0; i < check->findings->len; i++)
    {
      const CpsFinding *finding = g_ptr_array_index (check->findings, i);
      g_test_message ("finding: %s: %s", finding->path, finding->message);
    }
}

/* Tests */

static void
test_open_reopen (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cps-test-store-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "a", "b", "store.sqlite", NULL);
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (CpsStoreProject) project = NULL;
  g_autofree char *default_path = NULL;
  sqlite3 *db;
  sqlite3_stmt *stmt;

  store = cps_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cps_store_get_path (store), ==, path);
  g_assert_cmpint (cps_store_get_schema_version (store), ==, CPS_STORE_SCHEMA_VERSION);
  g_assert_true (cps_store_add_project (store, PROJECT, "Night shoot", &error));
  g_assert_no_error (error);
  g_assert_false (cps_store_add_project (store, PROJECT, "Again", &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_false (cps_store_add_project (store, "not-a-uuid", "X", &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_clear_object (&store);

  store = cps_store_open (path, &error);
  g_assert_no_error (error);
  project = cps_store_find_project (store, "Night shoot", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (project->id, ==, PROJECT);
  g_assert_cmpuint (project->revision_count, ==, 0);
  g_assert_cmpuint (g_strv_length (project->heads), ==, 0);
  g_assert_false (project->conflicted);
  g_assert_null (project->checksum);

  /* WAL, and the pragmas on the store's own connection. */
  db = open_raw (path);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &stmt, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "wal");
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  /* A folder is not a store. */
  g_assert_null (cps_store_open (dir, &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO);
  g_clear_error (&error);

  g_setenv ("CPS_STORE", "/somewhere/else.sqlite", TRUE);
  default_path = cps_store_default_path ();
  g_assert_cmpstr (default_path, ==, "/somewhere/else.sqlite");
  g_clear_pointer (&default_path, g_free);
  g_unsetenv ("CPS_STORE");
  default_path = cps_store_default_path ();
  g_assert_true (g_str_has_suffix (default_path, "/cine-power-sync/store.sqlite"));
  g_assert_true (g_str_has_prefix (default_path, g_get_user_data_dir ()));

  g_clear_object (&store);
  cps_test_remove_tree (dir);
}

static void
test_newer_schema (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cps-test-store-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "store.sqlite", NULL);
  g_autoptr (CpsStore) store = cps_store_open (path, &error);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  sqlite3 *db;

  g_assert_no_error (error);
  g_clear_object (&store);
  db = open_raw (path);
  exec_raw (db, "PRAGMA journal_mode = DELETE; PRAGMA user_version = 99");
  sqlite3_close (db);
  before = file_checksum (path);

  store = cps_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NEWER_SCHEMA);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "newer version"));
  g_assert_nonnull (strstr (error->message, "99"));
  g_assert_nonnull (strstr (error->message, "left unchanged"));
  after = file_checksum (path);
  g_assert_cmpstr (before, ==, after);
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));

  cps_test_remove_tree (dir);
}

static void
test_foreign_database (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cps-test-store-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "other.sqlite", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  sqlite3 *db = open_raw (path);

  exec_raw (db, "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')");
  sqlite3_close (db);
  before = file_checksum (path);
  g_assert_null (cps_store_open (path, &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "another program"));
  after = file_checksum (path);
  g_assert_cmpstr (before, ==, after);
  cps_test_remove_tree (dir);
}

static void
fill_store (Fixture *fixture, guint n, GPtrArray *ids)
{
  g_autoptr (CpsRevision) previous = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *camera = g_strdup_printf ("Camera %u %01000u", i, i);
      CpsRevision *parents[1] = { previous };
      g_autoptr (CpsRevision) revision = make_revision (fixture->a, PROJECT, parents,
                                                        previous ? 1 : 0, NULL, camera);

      add_revision (fixture->store, revision, TRUE);
      if (ids != NULL)
        g_ptr_array_add (ids, g_strdup (cps_revision_get_id (revision)));
      g_set_object (&previous, revision);
    }
}

static void
test_damaged_header (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsSnapshot) snapshot = NULL;
  g_autoptr (CpsStore) reopened = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *moved = NULL;
  g_autofree char *dump = NULL;
  g_autofree char *restored_dump = NULL;
  FILE *file;

  fill_store (fixture, 5, NULL);
  snapshot = cps_store_snapshot (fixture->store, "manual", &error);
  g_assert_no_error (error);
  dump = dump_store (fixture->store);
  g_clear_object (&fixture->store); /* checkpoints the WAL into the file */

  file = fopen (fixture->path, "r+b");
  g_assert_nonnull (file);
  fwrite ("garbage garbage garbage garbage garbage garbage garbage garbage garbage garbage", 1, 80,
          file);
  fclose (file);
  before = file_checksum (fixture->path);

  g_assert_null (cps_store_open (fixture->path, &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "is damaged"));
  g_assert_nonnull (strstr (error->message, "cps restore"));
  g_assert_nonnull (strstr (error->message, snapshot->path));
  g_clear_error (&error);
  after = file_checksum (fixture->path);
  g_assert_cmpstr (before, ==, after);

  /* A damaged store is restored by moving it aside. */
  g_assert_true (cps_store_restore_damaged (fixture->path, snapshot->path, &moved, &error));
  g_assert_no_error (error);
  g_assert_nonnull (moved);
  g_assert_true (g_file_test (moved, G_FILE_TEST_EXISTS));
  g_clear_pointer (&after, g_free);
  after = file_checksum (moved);
  g_assert_cmpstr (before, ==, after);
  reopened = cps_store_open (fixture->path, &error);
  g_assert_no_error (error);
  restored_dump = dump_store (reopened);
  g_assert_cmpstr (dump, ==, restored_dump);
}

static void
test_damaged_no_snapshot (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cps-test-store-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "store.sqlite", NULL);

  g_assert_true (g_file_set_contents (path, "{\"not\": \"a database at all, but long enough\"}",
                                      -1, NULL));
  g_assert_null (cps_store_open (path, &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "no snapshots"));
  cps_test_remove_tree (dir);
}

static void
test_damaged_truncated (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsSnapshot) snapshot = NULL;
  gint64 size;
  GStatBuf st;

  fill_store (fixture, 60, NULL);
  snapshot = cps_store_snapshot (fixture->store, "manual", &error);
  g_assert_no_error (error);
  g_clear_object (&fixture->store);

  g_assert_cmpint (g_stat (fixture->path, &st), ==, 0);
  size = st.st_size;
  g_assert_cmpint (size, >, 16 * 4096);
  g_assert_cmpint (truncate (fixture->path, size / 2), ==, 0);

  g_assert_null (cps_store_open (fixture->path, &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "cps restore"));
  g_assert_nonnull (strstr (error->message, snapshot->path));
}

static void
test_revisions (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsRevision) r1 = make_revision (fixture->a, PROJECT, NULL, 0,
                                              "2026-03-01T13:00:00.000Z", "ARRI ALEXA 35");
  g_autoptr (CpsRevision) r2a = make_revision (fixture->a, PROJECT, &r1, 1,
                                               "2026-03-01T14:02:00.000Z", "Sony VENICE 2");
  g_autoptr (CpsRevision) r2b = make_revision (fixture->b, PROJECT, &r1, 1,
                                               "2026-03-01T14:05:00.000Z", "RED KOMODO 6K");
  g_autoptr (CpsRevision) r3 = NULL;
  g_autoptr (CpsRevision) winner = NULL;
  g_autoptr (CpsRevision) loaded = NULL;
  g_autoptr (CpsStoreProject) project = NULL;
  g_autoptr (GPtrArray) heads = NULL;
  g_autoptr (GPtrArray) list = NULL;
  CpsRevision *both[2];
  const char *low, *high;
  g_autofree char *json = NULL;
  g_autofree char *loaded_json = NULL;

  add_revision (fixture->store, r1, TRUE);
  add_revision (fixture->store, r1, FALSE); /* a duplicate is not an error */
  g_assert_cmpuint (cps_store_count_outbox (fixture->store, NULL), ==, 1);

  /* The stored text is the revision exactly. */
  loaded = cps_store_get_revision (fixture->store, cps_revision_get_id (r1), &error);
  g_assert_no_error (error);
  json = cps_revision_to_json (r1, TRUE);
  loaded_json = cps_revision_to_json (loaded, TRUE);
  g_assert_cmpstr (json, ==, loaded_json);

  heads = cps_store_get_heads (fixture->store, PROJECT, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (heads->len, ==, 1);
  g_assert_cmpstr (cps_revision_get_id (g_ptr_array_index (heads, 0)), ==,
                   cps_revision_get_id (r1));
  g_clear_pointer (&heads, g_ptr_array_unref);

  /* Two devices edit the same revision: both are kept, the project is
   * conflicted. */
  add_revision (fixture->store, r2a, TRUE);
  add_revision (fixture->store, r2b, TRUE);
  heads = cps_store_get_heads (fixture->store, PROJECT, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (heads->len, ==, 2);
  low = cps_revision_get_id (g_ptr_array_index (heads, 0));
  high = cps_revision_get_id (g_ptr_array_index (heads, 1));
  g_assert_cmpint (strcmp (low, high), <, 0);
  g_assert_true ((g_str_equal (low, cps_revision_get_id (r2a)) &&
                  g_str_equal (high, cps_revision_get_id (r2b))) ||
                 (g_str_equal (low, cps_revision_get_id (r2b)) &&
                  g_str_equal (high, cps_revision_get_id (r2a))));

  project = cps_store_get_project (fixture->store, PROJECT, &error);
  g_assert_no_error (error);
  g_assert_true (project->conflicted);
  g_assert_cmpuint (project->revision_count, ==, 3);
  g_assert_cmpuint (g_strv_length (project->heads), ==, 2);
  g_assert_cmpstr (project->heads[0], ==, low);
  g_assert_cmpstr (project->heads[1], ==, high);
  g_assert_cmpstr (project->updated_at, ==, "2026-03-01T14:05:00.000Z");

  /* Equal clock sums (2 each): the higher id is shown. */
  winner = cps_store_get_display_winner (fixture->store, PROJECT, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cps_revision_get_id (winner), ==, high);
  g_assert_cmpstr (project->checksum, ==, cps_revision_get_checksum (winner));
  g_clear_object (&winner);
  g_clear_pointer (&project, cps_store_project_free);

  /* The merge names both heads. */
  both[0] = r2a;
  both[1] = r2b;
  r3 = make_revision (fixture->a, PROJECT, both, 2, "2026-03-01T15:00:00.000Z", "Merged");
  add_revision (fixture->store, r3, TRUE);
  g_clear_pointer (&heads, g_ptr_array_unref);
  heads = cps_store_get_heads (fixture->store, PROJECT, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (heads->len, ==, 1);
  g_assert_cmpstr (cps_revision_get_id (g_ptr_array_index (heads, 0)), ==,
                   cps_revision_get_id (r3));
  project = cps_store_find_project (fixture->store, PROJECT, &error);
  g_assert_no_error (error);
  g_assert_false (project->conflicted);
  g_assert_cmpuint (project->revision_count, ==, 4);
  g_assert_cmpstr (project->checksum, ==, cps_revision_get_checksum (r3));
  g_assert_false (project->deleted);
  winner = cps_store_get_display_winner (fixture->store, PROJECT, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cps_revision_get_id (winner), ==, cps_revision_get_id (r3));

  /* Oldest first, in the order they were stored. */
  list = cps_store_list_revisions (fixture->store, PROJECT, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 4);
  g_assert_cmpstr (cps_revision_get_id (g_ptr_array_index (list, 0)), ==,
                   cps_revision_get_id (r1));
  g_assert_cmpstr (cps_revision_get_id (g_ptr_array_index (list, 1)), ==,
                   cps_revision_get_id (r2a));
  g_assert_cmpstr (cps_revision_get_id (g_ptr_array_index (list, 2)), ==,
                   cps_revision_get_id (r2b));
  g_assert_cmpstr (cps_revision_get_id (g_ptr_array_index (list, 3)), ==,
                   cps_revision_get_id (r3));
  g_assert_cmpuint (cps_store_count_revisions (fixture->store, PROJECT, NULL), ==, 4);
  g_assert_cmpuint (cps_store_count_outbox (fixture->store, NULL), ==, 4);

  /* A project without revisions has no winner. */
  g_assert_true (cps_store_add_project (fixture->store, PROJECT_2, "Empty", &error));
  g_assert_null (cps_store_get_display_winner (fixture->store, PROJECT_2, &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = cps_store_list_revisions (fixture->store, PROJECT_2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = cps_store_list_revisions (fixture->store, "99999999-2222-4333-8444-555555555555", &error);
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND);
  g_assert_null (list);
}

/* Rewrites @text (a revision) with @from replaced by @to, then gives it a
 * correct id and signature by @key, so that only the edited rule breaks. */
static CpsRevision *
resign_with_edit (CpsRevision *revision, CpsDeviceKey *key, const char *from, const char *to)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json = cps_revision_to_json (revision, TRUE);
  g_autoptr (GString) edited = g_string_new (json);
  g_autoptr (CpsRevision) unsigned_revision = NULL;
  g_autofree char *id = NULL;
  g_autofree char *signature = NULL;
  CpsRevision *result;

  g_assert_cmpuint (g_string_replace (edited, from, to, 1), ==, 1);
  unsigned_revision = cps_revision_new_from_string (edited->str, edited->len, &error);
  g_assert_no_error (error);
  id = cps_revision_compute_id (unsigned_revision, &error);
  g_assert_no_error (error);
  signature = cps_device_key_sign_base64 (key, id, strlen (id));
  g_string_replace (edited, cps_revision_get_id (revision), id, 1);
  g_string_replace (edited, cps_revision_get_signature (revision), signature, 1);
  result = cps_revision_new_from_string (edited->str, edited->len, &error);
  g_assert_no_error (error);
  return result;
}

static void
assert_refused (Fixture *fixture, CpsRevision *revision, GQuark domain, int code,
                const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = dump_store (fixture->store);
  g_autofree char *after = NULL;
  gboolean added = TRUE;

  g_assert_false (cps_store_add_revision (fixture->store, revision, &added, &error));
  g_assert_error (error, domain, code);
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, needle));
  g_assert_false (added);
  g_assert_false (cps_store_has_revision (fixture->store, cps_revision_get_id (revision)));
  after = dump_store (fixture->store);
  g_assert_cmpstr (before, ==, after);
}

static void
test_refused (Fixture *fixture, gconstpointer data)
{
  g_autoptr (CpsDeviceKey) unknown = cps_device_key_new_ephemeral (DEVICE_C);
  g_autoptr (CpsRevision) r1 = make_revision (fixture->a, PROJECT, NULL, 0, NULL, "A");
  g_autoptr (CpsRevision) orphan_parent = make_revision (fixture->a, PROJECT, NULL, 0, NULL, "B");
  g_autoptr (CpsRevision) orphan = make_revision (fixture->a, PROJECT, &orphan_parent, 1, NULL,
                                                  "C");
  g_autoptr (CpsRevision) by_unknown = make_revision (unknown, PROJECT, NULL, 0, NULL, "D");
  g_autoptr (CpsRevision) other_project = make_revision (fixture->a, PROJECT_2, NULL, 0, NULL,
                                                         "E");
  g_autoptr (CpsRevision) child = NULL;
  g_autoptr (CpsRevision) bad_signature = NULL;
  g_autoptr (CpsRevision) bad_id = NULL;
  g_autoptr (CpsRevision) bad_checksum = NULL;
  g_autoptr (CpsRevision) bad_clock = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *forged = NULL;
  g_autoptr (GString) text = NULL;

  add_revision (fixture->store, r1, TRUE);
  child = make_revision (fixture->a, PROJECT, &r1, 1, NULL, "F");

  assert_refused (fixture, orphan, CPS_REVISION_ERROR, CPS_REVISION_ERROR_UNKNOWN_PARENT,
                  "not in the local store");
  assert_refused (fixture, by_unknown, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND,
                  "not known to this store");
  assert_refused (fixture, other_project, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND,
                  "add the project first");

  /* Signed by device B's key but claiming device A. */
  json = cps_revision_to_json (child, TRUE);
  forged = cps_device_key_sign_base64 (fixture->b, cps_revision_get_id (child),
                                       strlen (cps_revision_get_id (child)));
  text = g_string_new (json);
  g_string_replace (text, cps_revision_get_signature (child), forged, 1);
  bad_signature = cps_revision_new_from_string (text->str, text->len, &error);
  g_assert_no_error (error);
  assert_refused (fixture, bad_signature, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_SIGNATURE,
                  "signature");

  /* The document edited after signing. */
  g_string_assign (text, json);
  g_assert_cmpuint (g_string_replace (text, "Bebob V150micro", "Bebob V290RM", 1), ==, 1);
  bad_id = cps_revision_new_from_string (text->str, text->len, &error);
  g_assert_no_error (error);
  assert_refused (fixture, bad_id, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_ID,
                  "does not match its content");

  /* Correctly signed, but the document does not have the stated checksum. */
  bad_checksum = resign_with_edit (child, fixture->a, "Bebob V150micro", "Bebob V290RM");
  assert_refused (fixture, bad_checksum, CPS_REVISION_ERROR,
                  CPS_REVISION_ERROR_CHECKSUM_MISMATCH, "checksum");

  /* Correctly signed, but the clock skips a step. */
  bad_clock = resign_with_edit (child, fixture->a, "\"" DEVICE_A "\":2", "\"" DEVICE_A "\":3");
  assert_refused (fixture, bad_clock, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_CLOCK,
                  "clock");

  /* The genuine one still goes in. */
  add_revision (fixture->store, child, TRUE);
}

static void
test_append_only (Fixture *fixture, gconstpointer data)
{
  g_autoptr (CpsRevision) r1 = make_revision (fixture->a, PROJECT, NULL, 0, NULL, "A");
  g_autoptr (CpsRevision) r2 = make_revision (fixture->a, PROJECT, &r1, 1, NULL, "B");
  sqlite3 *db;
  char *message = NULL;

  add_revision (fixture->store, r1, TRUE);
  add_revision (fixture->store, r2, TRUE);
  db = open_raw (fixture->path);
  g_assert_cmpint (sqlite3_exec (db, "UPDATE revisions SET deleted = 1", NULL, NULL, &message),
                   !=, SQLITE_OK);
  g_assert_nonnull (strstr (message, "append-only"));
  sqlite3_free (message);
  g_assert_cmpint (sqlite3_exec (db, "DELETE FROM revisions", NULL, NULL, &message), !=,
                   SQLITE_OK);
  g_assert_nonnull (strstr (message, "append-only"));
  sqlite3_free (message);
  g_assert_cmpint (sqlite3_exec (db, "DELETE FROM revision_parents", NULL, NULL, &message), !=,
                   SQLITE_OK);
  sqlite3_free (message);
  sqlite3_close (db);
  g_assert_cmpuint (cps_store_count_revisions (fixture->store, NULL, NULL), ==, 2);
}

static void
test_transactions (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsRevision) r1 = make_revision (fixture->a, PROJECT, NULL, 0, NULL, "A");
  g_autoptr (CpsRevision) r2 = make_revision (fixture->a, PROJECT, &r1, 1, NULL, "B");
  g_autoptr (CpsRevision) orphan_parent = make_revision (fixture->b, PROJECT, NULL, 0, NULL, "X");
  g_autoptr (CpsRevision) orphan = make_revision (fixture->b, PROJECT, &orphan_parent, 1, NULL,
                                                  "Y");
  g_autoptr (CpsSnapshot) snapshot = NULL;

  g_assert_true (cps_store_begin (fixture->store, &error));
  g_assert_no_error (error);
  g_assert_true (cps_store_in_transaction (fixture->store));
  g_assert_false (cps_store_begin (fixture->store, &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  snapshot = cps_store_snapshot (fixture->store, "manual", &error);
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID);
  g_assert_null (snapshot);
  g_clear_error (&error);
  add_revision (fixture->store, r1, TRUE);
  add_revision (fixture->store, r2, TRUE);
  cps_store_rollback (fixture->store);
  g_assert_false (cps_store_in_transaction (fixture->store));
  g_assert_false (cps_store_has_revision (fixture->store, cps_revision_get_id (r1)));
  g_assert_cmpuint (cps_store_count_outbox (fixture->store, NULL), ==, 0);

  /* r1 was rolled back, so r2's parent is unknown again. */
  g_assert_false (cps_store_add_revision (fixture->store, r2, NULL, &error));
  g_assert_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_UNKNOWN_PARENT);
  g_clear_error (&error);

  /* A refused revision inside a batch leaves the rest of the batch alone. */
  g_assert_true (cps_store_begin (fixture->store, &error));
  add_revision (fixture->store, r1, TRUE);
  g_assert_false (cps_store_add_revision (fixture->store, orphan, NULL, &error));
  g_assert_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_UNKNOWN_PARENT);
  g_clear_error (&error);
  add_revision (fixture->store, r2, TRUE);
  g_assert_true (cps_store_commit (fixture->store, &error));
  g_assert_no_error (error);
  g_assert_true (cps_store_has_revision (fixture->store, cps_revision_get_id (r1)));
  g_assert_true (cps_store_has_revision (fixture->store, cps_revision_get_id (r2)));
  g_assert_false (cps_store_has_revision (fixture->store, cps_revision_get_id (orphan)));
  g_assert_false (cps_store_commit (fixture->store, &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID);
}

static void
test_lookup (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsRevision) r1 = make_revision (fixture->a, PROJECT, NULL, 0, NULL, "A");
  const char *id = cps_revision_get_id (r1);
  g_autofree char *prefix8 = g_strndup (id, 7 + 8);
  g_autofree char *bare8 = g_strndup (id + 7, 8);
  g_autofree char *bare7 = g_strndup (id + 7, 7);
  g_autofree char *upper = g_ascii_strup (id + 7, 12);
  g_autoptr (CpsStoreProject) project = NULL;
  g_autofree char *project_prefix = g_strndup (PROJECT, 8);
  const char *forms[] = { id, prefix8, bare8, upper, id + 7 };

  add_revision (fixture->store, r1, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      g_autoptr (CpsRevision) found = cps_store_get_revision (fixture->store, forms[i], &error);
      g_assert_no_error (error);
      g_assert_cmpstr (cps_revision_get_id (found), ==, id);
    }
  g_assert_null (cps_store_get_revision (fixture->store, bare7, &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (cps_store_get_revision (fixture->store, "sha256:nothexnothex", &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (cps_store_get_revision (fixture->store, "abc*", &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  /* No real id starts this way unless by a 2^-32 chance. */
  g_assert_null (cps_store_get_revision (fixture->store,
                                         g_str_has_prefix (id + 7, "00000000") ? "11111111"
                                                                              : "00000000",
                                         &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Projects: id, name, id prefix; ambiguous names; unknown ones. */
  project = cps_store_find_project (fixture->store, project_prefix, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (project->id, ==, PROJECT);
  g_clear_pointer (&project, cps_store_project_free);
  g_assert_true (cps_store_add_project (fixture->store, PROJECT_2, "Night shoot", &error));
  project = cps_store_find_project (fixture->store, "Night shoot", &error);
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, PROJECT));
  g_assert_nonnull (strstr (error->message, PROJECT_2));
  g_clear_error (&error);
  project = cps_store_find_project (fixture->store, PROJECT_2, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (project->name, ==, "Night shoot");
  g_clear_pointer (&project, cps_store_project_free);
  project = cps_store_find_project (fixture->store, "Day shoot", &error);
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "cps projects"));
}

static void
test_devices (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  guint8 key[32];

  /* The same key again is fine; another key for the same device is not. */
  add_device (fixture->store, fixture->a);
  g_assert_false (cps_store_add_device (fixture->store, DEVICE_A,
                                        cps_device_key_get_public_key (fixture->b), NULL,
                                        &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_true (cps_store_get_device_key (fixture->store, DEVICE_A, key, &error));
  g_assert_cmpmem (key, 32, cps_device_key_get_public_key (fixture->a), 32);
  g_assert_false (cps_store_get_device_key (fixture->store, DEVICE_C, key, &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (cps_store_add_device (fixture->store, "device", key, NULL, &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID);
}

static void
test_imports (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *checksum = cps_checksum_bytes ("file bytes", 10);

  g_assert_false (cps_store_has_import (fixture->store, checksum));
  g_assert_true (cps_store_record_import (fixture->store, "/tmp/backup.json", checksum,
                                          "full-backup", &error));
  g_assert_no_error (error);
  g_assert_true (cps_store_has_import (fixture->store, checksum));
  g_assert_true (cps_store_record_import (fixture->store, "/tmp/copy.json", checksum,
                                          "full-backup", &error));
  g_assert_no_error (error);
  g_assert_false (cps_store_record_import (fixture->store, "/tmp/x.json", "md5:abc",
                                           "full-backup", &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* Imports survive reopening. */
  g_clear_object (&fixture->store);
  fixture->store = cps_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_true (cps_store_has_import (fixture->store, checksum));
}

static void
test_snapshot_rotation (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) taken = g_ptr_array_new_with_free_func ((GDestroyNotify) cps_snapshot_free);
  g_autoptr (GPtrArray) listed = NULL;
  g_autofree char *dir = cps_store_get_snapshot_dir (fixture->store);

  g_assert_cmpuint (cps_store_get_snapshot_limit (fixture->store), ==, 20);
  cps_store_set_snapshot_limit (fixture->store, 3);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *reason = g_strdup_printf ("Take %u/5", i);
      CpsSnapshot *snapshot;

      fill_store (fixture, 1, NULL);
      snapshot = cps_store_snapshot (fixture->store, reason, &error);
      g_assert_no_error (error);
      g_assert_true (g_str_has_prefix (snapshot->path, dir));
      g_ptr_array_add (taken, snapshot);
    }

  listed = cps_store_list_snapshots (fixture->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (listed->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      const CpsSnapshot *snapshot = g_ptr_array_index (listed, i);
      const CpsSnapshot *expected = g_ptr_array_index (taken, 4 - i);
      g_autofree char *sha_path = g_strconcat (snapshot->path, ".sha256", NULL);
      g_autofree char *json_path = g_strconcat (snapshot->path, ".json", NULL);
      g_autofree char *sha_text = NULL;
      g_autofree char *json_text = NULL;
      g_autofree char *base = g_path_get_basename (snapshot->path);
      g_autofree char *actual = file_checksum (snapshot->path);
      g_autofree char *line = g_strdup_printf ("%s  %s\n", actual + 7, base);
      g_autofree char *count = g_strdup_printf ("\"revision_count\":%u", 5 - i);
      g_autofree char *reason = g_strdup_printf ("take-%u-5", 4 - i);

      /* Newest first, each with correct manifests. */
      g_assert_cmpstr (snapshot->path, ==, expected->path);
      g_assert_cmpstr (snapshot->checksum, ==, expected->checksum);
      g_assert_cmpstr (snapshot->checksum, ==, actual);
      g_assert_cmpstr (snapshot->reason, ==, reason);
      g_assert_nonnull (snapshot->created_at);
      g_assert_true (g_str_has_suffix (base, "-take-" "0-5.sqlite") == (i == 4));
      g_assert_cmpint (snapshot->size, >, 0);
      g_assert_true (g_file_get_contents (sha_path, &sha_text, NULL, NULL));
      g_assert_cmpstr (sha_text, ==, line);
      g_assert_true (g_file_get_contents (json_path, &json_text, NULL, NULL));
      g_assert_nonnull (strstr (json_text, count));
      g_assert_nonnull (strstr (json_text, "\"schema_version\":1"));
      g_assert_true (cps_store_verify_snapshot (snapshot->path, &error));
      g_assert_no_error (error);
    }
  /* The two oldest are gone with their manifests. */
  for (guint i = 0; i < 2; i++)
    {
      const CpsSnapshot *old = g_ptr_array_index (taken, i);
      g_autofree char *sha_path = g_strconcat (old->path, ".sha256", NULL);
      g_autofree char *json_path = g_strconcat (old->path, ".json", NULL);

      g_assert_false (g_file_test (old->path, G_FILE_TEST_EXISTS));
      g_assert_false (g_file_test (sha_path, G_FILE_TEST_EXISTS));
      g_assert_false (g_file_test (json_path, G_FILE_TEST_EXISTS));
    }
}

static void
test_restore (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsSnapshot) snapshot = NULL;
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) listed = NULL;
  g_autoptr (CpsRevision) later = NULL;
  g_autoptr (CpsRevision) after_restore = NULL;
  g_autoptr (CpsRevision) head = NULL;
  g_autofree char *dump_at_snapshot = NULL;
  g_autofree char *dump_changed = NULL;
  g_autofree char *dump = NULL;
  const CpsSnapshot *before = NULL;

  fill_store (fixture, 3, ids);
  head = cps_store_get_revision (fixture->store, g_ptr_array_index (ids, 2), &error);
  g_assert_no_error (error);
  snapshot = cps_store_snapshot (fixture->store, "manual", &error);
  g_assert_no_error (error);
  dump_at_snapshot = dump_store (fixture->store);

  /* Changes after the snapshot. */
  later = make_revision (fixture->b, PROJECT, &head, 1, NULL, "Later");
  add_revision (fixture->store, later, TRUE);
  g_assert_true (cps_store_add_project (fixture->store, PROJECT_2, "Later project", &error));
  dump_changed = dump_store (fixture->store);
  g_assert_cmpstr (dump_changed, !=, dump_at_snapshot);

  g_assert_true (cps_store_restore (fixture->store, snapshot->path, &error));
  g_assert_no_error (error);
  dump = dump_store (fixture->store);
  g_assert_cmpstr (dump, ==, dump_at_snapshot);
  g_assert_false (cps_store_has_revision (fixture->store, cps_revision_get_id (later)));

  /* The store before the restore was kept as a snapshot. */
  listed = cps_store_list_snapshots (fixture->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (listed->len, ==, 2);
  before = g_ptr_array_index (listed, 0);
  g_assert_cmpstr (before->reason, ==, "before-restore");
  g_assert_cmpstr (((CpsSnapshot *) g_ptr_array_index (listed, 1))->path, ==, snapshot->path);

  /* The restored store works as before (statements, parents). */
  after_restore = make_revision (fixture->a, PROJECT, &head, 1, NULL, "After restore");
  add_revision (fixture->store, after_restore, TRUE);

  /* And the before-restore snapshot brings the later changes back. */
  g_assert_true (cps_store_restore (fixture->store, before->path, &error));
  g_assert_no_error (error);
  g_clear_pointer (&dump, g_free);
  dump = dump_store (fixture->store);
  g_assert_cmpstr (dump, ==, dump_changed);

  /* Still a WAL store after taking in a snapshot's pages. */
  {
    sqlite3 *db = open_raw (fixture->path);
    sqlite3_stmt *stmt = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &stmt, NULL), ==,
                     SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "wal");
    sqlite3_finalize (stmt);
    sqlite3_close (db);
  }

  /* Reopening sees the restored content. */
  g_clear_object (&fixture->store);
  fixture->store = cps_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_clear_pointer (&dump, g_free);
  dump = dump_store (fixture->store);
  g_assert_cmpstr (dump, ==, dump_changed);
}

static void
test_restore_refuses_damage (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsSnapshot) snapshot = NULL;
  g_autoptr (GPtrArray) listed = NULL;
  g_autofree char *dump = NULL;
  g_autofree char *copy_path = NULL;
  g_autofree char *data_bytes = NULL;
  gsize length = 0;
  struct
  {
    const char *name;
    const char *expect;
  } cases[] = {
    { "bit flip", "its checksum is" },
    { "truncation", "truncated" },
    { "no manifest", "no checksum manifest" },
    { "bad manifest", "manifest" },
  };

  fill_store (fixture, 30, NULL);
  snapshot = cps_store_snapshot (fixture->store, "manual", &error);
  g_assert_no_error (error);
  fill_store (fixture, 2, NULL);
  dump = dump_store (fixture->store);
  g_assert_true (g_file_get_contents (snapshot->path, &data_bytes, &length, NULL));
  g_assert_cmpuint (length, >, 8192);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *damaged = g_build_filename (fixture->dir, "damaged.sqlite", NULL);
      g_autofree char *sha = g_strconcat (damaged, ".sha256", NULL);
      g_autofree char *json = g_strconcat (damaged, ".json", NULL);
      g_autofree char *sha_text = NULL;
      g_autofree char *json_text = NULL;
      g_autofree char *copy = g_memdup2 (data_bytes, length);
      g_autofree char *after = NULL;
      g_autofree char *snapshot_sha = g_strconcat (snapshot->path, ".sha256", NULL);
      g_autofree char *snapshot_json = g_strconcat (snapshot->path, ".json", NULL);
      g_autoptr (GPtrArray) now_listed = NULL;
      gsize copy_length = length;

      g_assert_true (g_file_get_contents (snapshot_sha, &sha_text, NULL, NULL));
      g_assert_true (g_file_get_contents (snapshot_json, &json_text, NULL, NULL));
      {
        g_autoptr (GString) renamed = g_string_new (sha_text);
        g_autofree char *base = g_path_get_basename (snapshot->path);
        g_string_replace (renamed, base, "damaged.sqlite", 1);
        if (i == 3)
          g_string_assign (renamed, "not a checksum line\n");
        if (i != 2)
          g_assert_true (g_file_set_contents (sha, renamed->str, -1, NULL));
        else
          g_unlink (sha);
      }
      g_assert_true (g_file_set_contents (json, json_text, -1, NULL));
      if (i == 0)
        copy[length / 2] ^= 0x10;
      else if (i == 1)
        copy_length = length - 4096;
      g_assert_true (g_file_set_contents (damaged, copy, copy_length, NULL));

      g_assert_false (cps_store_restore (fixture->store, damaged, &error));
      g_assert_nonnull (error);
      g_test_message ("%s: %s", cases[i].name, error->message);
      g_assert_true (error->domain == CPS_STORE_ERROR);
      g_assert_nonnull (strstr (error->message, cases[i].expect));
      g_assert_nonnull (strstr (error->message, "othing was changed"));
      g_assert_false (cps_store_verify_snapshot (damaged, NULL));
      g_clear_error (&error);

      /* The live store is untouched, and no before-restore snapshot was
       * needed. */
      after = dump_store (fixture->store);
      g_assert_cmpstr (after, ==, dump);
      now_listed = cps_store_list_snapshots (fixture->store, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (now_listed->len, ==, 1);
    }

  /* A missing snapshot. */
  copy_path = g_build_filename (fixture->dir, "missing.sqlite", NULL);
  g_assert_false (cps_store_restore (fixture->store, copy_path, &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The genuine snapshot still restores. */
  g_assert_true (cps_store_restore (fixture->store, snapshot->path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (cps_store_count_revisions (fixture->store, NULL, NULL), ==, 30);
  listed = cps_store_list_snapshots (fixture->store, &error);
  g_assert_cmpuint (listed->len, ==, 2);
}

static void
test_check_and_rehearsal (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (CpsSnapshot) good = NULL;
  g_autoptr (CpsSnapshot) tampered_live = NULL;
  g_autoptr (CpsStoreCheck) check = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  const char *victim;
  g_autofree char *sql = NULL;
  g_autofree char *good_before = NULL;
  g_autofree char *good_after = NULL;
  sqlite3 *db;

  fill_store (fixture, 12, ids);
  victim = g_ptr_array_index (ids, 5);

  check = cps_store_check (fixture->store, NULL, &error);
  g_assert_no_error (error);
  print_findings (check);
  g_assert_cmpuint (check->revisions_checked, ==, 12);
  g_assert_cmpuint (check->problems, ==, 0);
  g_clear_pointer (&check, cps_store_check_free);

  g_cancellable_cancel (cancellable);
  g_assert_null (cps_store_check (fixture->store, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  good = cps_store_snapshot (fixture->store, "manual", &error);
  g_assert_no_error (error);
  good_before = file_checksum (good->path);
  check = cps_store_rehearse_restore (good->path, NULL, &error);
  g_assert_no_error (error);
  print_findings (check);
  g_assert_cmpuint (check->revisions_checked, ==, 12);
  g_assert_cmpuint (check->problems, ==, 0);
  g_clear_pointer (&check, cps_store_check_free);
  good_after = file_checksum (good->path);
  g_assert_cmpstr (good_before, ==, good_after);

  /* Tamper with one revision in the snapshot, past the trigger. */
  db = open_raw (good->path);
  sql = g_strdup_printf ("DROP TRIGGER revisions_no_update;"
                         "UPDATE revisions SET json = replace (json, 'Bebob V150micro', "
                         "'Bebob V290RM') WHERE id = '%s'",
                         victim);
  exec_raw (db, sql);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);
  sqlite3_close (db);

  check = cps_store_rehearse_restore (good->path, NULL, &error);
  g_assert_no_error (error);
  print_findings (check);
  g_assert_cmpuint (check->revisions_checked, ==, 12);
  g_assert_cmpuint (check->problems, ==, 2);
  g_assert_true (has_finding (check, good->path, "its checksum is"));
  g_assert_true (has_finding (check, victim, "does not match its content"));
  g_clear_pointer (&check, cps_store_check_free);

  /* Tamper with the live store, then snapshot it: the manifest is right,
   * the revision is not. Its child's links and the rest stay fine. */
  db = open_raw (fixture->path);
  exec_raw (db, "DROP TRIGGER revisions_no_update");
  g_free (sql);
  sql = g_strdup_printf ("UPDATE revisions SET json = replace (json, 'Zoë', 'Zoe'),"
                         " checksum = 'sha256:" "0000000000000000000000000000000000000000000000000000000000000000"
                         "' WHERE id = '%s'",
                         (const char *) g_ptr_array_index (ids, 8));
  exec_raw (db, sql);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);
  sqlite3_close (db);

  check = cps_store_check (fixture->store, NULL, &error);
  g_assert_no_error (error);
  print_findings (check);
  g_assert_cmpuint (check->problems, ==, 2);
  g_assert_true (has_finding (check, g_ptr_array_index (ids, 8), "does not match its content"));
  g_assert_true (has_finding (check, g_ptr_array_index (ids, 8), "stored column “checksum”"));
  g_clear_pointer (&check, cps_store_check_free);

  tampered_live = cps_store_snapshot (fixture->store, "tampered", &error);
  g_assert_no_error (error);
  check = cps_store_rehearse_restore (tampered_live->path, NULL, &error);
  g_assert_no_error (error);
  print_findings (check);
  g_assert_cmpuint (check->problems, ==, 2);
  g_assert_false (has_finding (check, tampered_live->path, "checksum is"));
  g_assert_true (has_finding (check, g_ptr_array_index (ids, 8), "does not match its content"));
  g_clear_pointer (&check, cps_store_check_free);

  /* A snapshot that is not a store at all. */
  g_assert_true (g_file_set_contents (good->path, "not sqlite at all", -1, NULL));
  check = cps_store_rehearse_restore (good->path, NULL, &error);
  g_assert_no_error (error);
  print_findings (check);
  g_assert_cmpuint (check->problems, >=, 2);
  g_assert_cmpuint (check->revisions_checked, ==, 0);
  g_assert_true (has_finding (check, good->path, "cannot be restored"));
  g_clear_pointer (&check, cps_store_check_free);

  g_assert_null (cps_store_rehearse_restore ("/nonexistent/snapshot.sqlite", NULL, &error));
  g_assert_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND);
}

static void
test_check_links (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (CpsStoreCheck) check = NULL;
  g_autofree char *sql = NULL;
  sqlite3 *db;

  fill_store (fixture, 4, ids);
  db = open_raw (fixture->path);
  sql = g_strdup_printf ("DROP TRIGGER revision_parents_no_delete;"
                         "DELETE FROM revision_parents WHERE child = '%s'",
                         (const char *) g_ptr_array_index (ids, 2));
  exec_raw (db, sql);
  sqlite3_close (db);

  check = cps_store_check (fixture->store, NULL, &error);
  g_assert_no_error (error);
  print_findings (check);
  g_assert_cmpuint (check->problems, ==, 1);
  g_assert_true (has_finding (check, g_ptr_array_index (ids, 2), "parent links are stored"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/store/open-reopen", test_open_reopen);
  g_test_add_func ("/store/newer-schema", test_newer_schema);
  g_test_add_func ("/store/damaged-no-snapshot", test_damaged_no_snapshot);
  g_test_add_func ("/store/foreign-database", test_foreign_database);
  ADD ("/store/damaged-header", test_damaged_header);
  ADD ("/store/damaged-truncated", test_damaged_truncated);
  ADD ("/store/revisions", test_revisions);
  ADD ("/store/refused", test_refused);
  ADD ("/store/append-only", test_append_only);
  ADD ("/store/transactions", test_transactions);
  ADD ("/store/lookup", test_lookup);
  ADD ("/store/devices", test_devices);
  ADD ("/store/imports", test_imports);
  ADD ("/store/snapshot-rotation", test_snapshot_rotation);
  ADD ("/store/restore", test_restore);
  ADD ("/store/restore-refuses-damage", test_restore_refuses_damage);
  ADD ("/store/check-and-rehearsal", test_check_and_rehearsal);
  ADD ("/store/check-links", test_check_links);

#undef ADD

  return g_test_run ();
}
