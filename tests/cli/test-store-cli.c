/* test-store-cli.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The local store through `cps`, as a user drives it: import, projects,
 * log, show, export, backup, restore and check, each against a real SQLite
 * file in a temporary home.
 */

#define G_LOG_DOMAIN "test-store-cli"

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "cps.h"
#include "cps-store.h"
#include "cli-run.h"
#include "cps-test-util.h"

#define BACKUP "cine_power_planner_backup_2025-03-01T14-05-09+01-00.json"
#define BUNDLE "Night Exterior.json"

typedef struct
{
  char *home;
  char *store;
} Fixture;

static char *
fixture_file (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "planner", name, NULL);
}

static void
run_cps (Fixture *f, Run *run, ...)
{
  g_autoptr (GSubprocessLauncher) launcher = run_launcher_new ();
  va_list args;

  g_subprocess_launcher_setenv (launcher, "CPS_STORE", f->store, TRUE);
  g_subprocess_launcher_setenv (launcher, "HOME", f->home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", f->home, TRUE);
  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", "disabled:", TRUE);
  va_start (args, run);
  run_cps_valist (launcher, run, args);
  va_end (args);
}

static CpsJsonDocument *
parse_output (const char *out)
{
  g_autoptr (GError) error = NULL;
  CpsJsonDocument *doc = cps_json_document_parse_copy (out, -1, NULL, &error);

  g_assert_no_error (error);
  return doc;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->home = g_dir_make_tmp ("cps-store-cli-XXXXXX", NULL);
  f->store = g_build_filename (f->home, "store.sqlite", NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  cps_test_remove_tree (f->home);
  g_free (f->home);
  g_free (f->store);
}

static void
test_import_idempotent (Fixture *f, gconstpointer data)
{
  g_autofree char *backup = fixture_file (BACKUP);
  g_autofree char *bundle = fixture_file (BUNDLE);
  g_auto (Run) first = { 0 }, again = { 0 }, bundle_run = { 0 }, projects = { 0 };
  g_autoptr (CpsJsonDocument) doc = NULL;
  const CpsJsonNode *list;

  run_cps (f, &first, "import", backup, NULL);
  g_assert_cmpint (first.status, ==, 0);
  g_assert_nonnull (strstr (first.out, "3 new, 0 updated, 0 unchanged, 0 skipped"));

  run_cps (f, &again, "import", backup, NULL);
  g_assert_cmpint (again.status, ==, 0);
  g_assert_nonnull (strstr (again.out, "0 new, 0 updated, 3 unchanged, 0 skipped"));

  /* The bundle of Night Exterior holds more members than the backup's
   * derivation: a new revision of the same project. */
  run_cps (f, &bundle_run, "import", bundle, NULL);
  g_assert_cmpint (bundle_run.status, ==, 0);
  g_assert_nonnull (strstr (bundle_run.out, "0 new, 1 updated, 0 unchanged"));

  run_cps (f, &projects, "projects", "--json", NULL);
  g_assert_cmpint (projects.status, ==, 0);
  doc = parse_output (projects.out);
  list = cps_json_document_get_root (doc);
  g_assert_cmpuint (list->n, ==, 3);
  for (guint i = 0; i < list->n; i++)
    {
      const CpsJsonNode *p = &list->v.items[i];
      gboolean night = g_strcmp0 (cps_json_object_get_string (p, "name"), "Night Exterior") == 0;

      g_assert_cmpfloat (cps_json_object_get (p, "revision_count")->v.number, ==, night ? 2 : 1);
      g_assert_false (cps_json_object_get (p, "conflicted")->v.boolean);
    }
}

static void
test_log_show_export (Fixture *f, gconstpointer data)
{
  g_autofree char *backup = fixture_file (BACKUP);
  g_autofree char *bundle = fixture_file (BUNDLE);
  g_autofree char *out = g_build_filename (f->home, "Night Exterior.json", NULL);
  g_auto (Run) import = { 0 }, import2 = { 0 }, log = { 0 }, show = { 0 }, show_old = { 0 },
               export = { 0 }, reimport = { 0 }, missing = { 0 };
  g_autoptr (CpsJsonDocument) log_doc = NULL;
  g_autofree char *old_spec = NULL;
  const CpsJsonNode *entries;

  run_cps (f, &import, "import", backup, NULL);
  run_cps (f, &import2, "import", bundle, NULL);

  run_cps (f, &log, "log", "--json", "Night Exterior", NULL);
  g_assert_cmpint (log.status, ==, 0);
  log_doc = parse_output (log.out);
  entries = cps_json_document_get_root (log_doc);
  g_assert_cmpuint (entries->n, ==, 2);
  /* newest first: the second revision names the first as its parent */
  g_assert_cmpuint (cps_json_object_get (&entries->v.items[0], "parents")->n, ==, 1);
  g_assert_cmpstr (cps_json_object_get (&entries->v.items[0], "parents")->v.items[0].v.string,
                   ==, cps_json_object_get_string (&entries->v.items[1], "id"));
  g_assert_null (cps_json_object_get (&entries->v.items[0], "payload"));

  /* show the display winner, then the first revision by an id prefix */
  run_cps (f, &show, "show", "Night Exterior", NULL);
  g_assert_cmpint (show.status, ==, 0);
  g_assert_nonnull (strstr (show.out, "\"projectHtml\""));
  old_spec = g_strdup_printf ("Night Exterior@%.20s",
                              cps_json_object_get_string (&entries->v.items[1], "id"));
  run_cps (f, &show_old, "show", old_spec, NULL);
  g_assert_cmpint (show_old.status, ==, 0);
  g_assert_null (strstr (show_old.out, "\"projectHtml\""));
  g_assert_nonnull (strstr (show_old.out, "\"setupName\": \"Night Exterior\""));

  /* export as a bundle; importing it back adds nothing */
  run_cps (f, &export, "export", "Night Exterior", "-o", out, NULL);
  g_assert_cmpint (export.status, ==, 0);
  run_cps (f, &reimport, "import", out, NULL);
  g_assert_nonnull (strstr (reimport.out, "0 new, 0 updated, 1 unchanged"));

  run_cps (f, &missing, "log", "No Such Project", NULL);
  g_assert_cmpint (missing.status, ==, 1);
  g_assert_nonnull (strstr (missing.err, "No Such Project"));
}

static void
test_backup_restore_check (Fixture *f, gconstpointer data)
{
  g_autofree char *backup = fixture_file (BACKUP);
  g_autofree char *bundle = fixture_file (BUNDLE);
  g_auto (Run) import = { 0 }, snap = { 0 }, import2 = { 0 }, list = { 0 }, restore = { 0 },
               check = { 0 }, projects = { 0 }, rehearse = { 0 };
  g_autofree char *snapshot = NULL;
  const char *start, *end;

  run_cps (f, &import, "import", backup, NULL);
  run_cps (f, &snap, "backup", NULL);
  g_assert_cmpint (snap.status, ==, 0);
  start = strstr (snap.out, " to ");
  g_assert_nonnull (start);
  start += 4;
  end = strstr (start, " (sha256:");
  g_assert_nonnull (end);
  snapshot = g_strndup (start, end - start);
  g_assert_true (g_file_test (snapshot, G_FILE_TEST_IS_REGULAR));

  run_cps (f, &rehearse, "restore", "--rehearse", snapshot, NULL);
  g_assert_cmpint (rehearse.status, ==, 0);
  g_assert_nonnull (strstr (rehearse.out, "3 revisions verified, 0 problems"));

  run_cps (f, &import2, "import", bundle, NULL);
  g_assert_nonnull (strstr (import2.out, "1 updated"));

  run_cps (f, &restore, "restore", snapshot, NULL);
  g_assert_cmpint (restore.status, ==, 0);
  run_cps (f, &projects, "projects", "--json", NULL);
  /* the update made after the snapshot is gone again */
  g_assert_null (strstr (projects.out, "\"revision_count\" : 2"));

  run_cps (f, &list, "backup", "--list", NULL);
  g_assert_nonnull (strstr (list.out, "before-restore"));

  run_cps (f, &check, "check", NULL);
  g_assert_cmpint (check.status, ==, 0);
  g_assert_nonnull (strstr (check.out, "3 revisions verified, 0 problems"));
}

static void
test_import_damaged (Fixture *f, gconstpointer data)
{
  g_autofree char *damaged = g_build_filename (f->home, "damaged.json", NULL);
  g_auto (Run) run = { 0 }, projects = { 0 };

  g_file_set_contents (damaged, "{\"data\": {\"project\": {\"A\": {", -1, NULL);
  run_cps (f, &run, "import", damaged, NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "nothing was imported"));
  run_cps (f, &projects, "projects", NULL);
  g_assert_nonnull (strstr (projects.out, "No local projects yet"));
}

static CpsRevision *
add_revision (CpsStore *store, const char *project_id, CpsRevision **parents, guint n,
              CpsDeviceKey *key, const char *json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc = cps_json_document_parse_copy (json, -1, NULL, &error);
  CpsRevision *rev = cps_revision_new_signed (project_id, parents, n, key, NULL,
                                              cps_json_document_get_root (doc), FALSE, &error);

  g_assert_no_error (error);
  g_assert_true (cps_store_add_revision (store, rev, NULL, &error));
  g_assert_no_error (error);
  return rev;
}

/* Two devices edit the same project concurrently; the CLI lists the one
 * overlapping change, then merges with a choice for it. */
static void
test_merge (Fixture *f, gconstpointer data)
{
  const char *pid = "11111111-2222-4333-8444-555555555555";
  g_autoptr (CpsDeviceKey) a = cps_device_key_new_ephemeral (NULL);
  g_autoptr (CpsDeviceKey) b = cps_device_key_new_ephemeral (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsRevision) base = NULL, left = NULL, right = NULL;
  g_auto (Run) list = { 0 }, merged = { 0 }, show = { 0 }, again = { 0 }, diff = { 0 },
               bad = { 0 };
  g_autofree char *left_spec = NULL, *right_spec = NULL, *take = NULL;
  g_auto (Run) list_json = { 0 };

  {
    g_autoptr (CpsStore) store = cps_store_open (f->store, &error);
    g_assert_no_error (error);
    g_assert_true (cps_store_add_device (store, cps_device_key_get_device_id (a),
                                         cps_device_key_get_public_key (a), "DIT cart", &error));
    g_assert_true (cps_store_add_device (store, cps_device_key_get_device_id (b),
                                         cps_device_key_get_public_key (b), "Camera truck",
                                         &error));
    g_assert_true (cps_store_add_project (store, pid, "Merge Me", &error));
    base = add_revision (store, pid, NULL, 0, a,
                         "{\"setupName\":\"Merge Me\",\"camera\":\"C1\",\"battery\":\"B1\","
                         "\"monitor\":\"M1\"}");
    left = add_revision (store, pid, &base, 1, a,
                         "{\"setupName\":\"Merge Me\",\"camera\":\"C1\",\"battery\":\"B2\","
                         "\"monitor\":\"M2\"}");
    right = add_revision (store, pid, &base, 1, b,
                          "{\"setupName\":\"Merge Me\",\"camera\":\"C2\",\"battery\":\"B3\","
                          "\"monitor\":\"M1\"}");
  }

  run_cps (f, &list, "merge", "Merge Me", NULL);
  g_assert_cmpint (list.status, ==, 1);
  g_assert_nonnull (strstr (list.out, "$.battery"));
  g_assert_nonnull (strstr (list.out, "1 conflict needs a choice"));
  /* the sides are named by the devices' recorded names */
  g_assert_nonnull (strstr (list.out, "DIT cart"));
  g_assert_nonnull (strstr (list.out, "Camera truck"));
  g_assert_null (strstr (list.out, "$.camera"));

  run_cps (f, &bad, "merge", "Merge Me", "--take", "$.battery=sideways", NULL);
  g_assert_cmpint (bad.status, ==, 2);

  left_spec = g_strdup_printf ("Merge Me@%s", cps_revision_get_id (left));
  right_spec = g_strdup_printf ("Merge Me@%s", cps_revision_get_id (right));
  run_cps (f, &diff, "diff", left_spec, right_spec, NULL);
  g_assert_cmpint (diff.status, ==, 1);
  g_assert_nonnull (strstr (diff.out, "3 differences"));

  /* Left is the display winner; equal clock sums leave it to the ids. */
  {
    g_autoptr (CpsJsonDocument) doc = NULL;
    const char *winner;

    run_cps (f, &list_json, "merge", "--json", "Merge Me", NULL);
    g_assert_cmpint (list_json.status, ==, 1);
    doc = parse_output (list_json.out);
    winner = cps_json_object_get_string (cps_json_document_get_root (doc), "left");
    take = g_strdup_printf ("$.battery=%s",
                            g_strcmp0 (winner, cps_revision_get_id (right)) == 0 ? "left"
                                                                                 : "right");
  }
  run_cps (f, &merged, "merge", "Merge Me", "--take", take, NULL);
  g_assert_cmpint (merged.status, ==, 0);
  g_assert_nonnull (strstr (merged.out, "Merged into sha256:"));

  /* both sides' other edits are kept, the conflict took the right side */
  run_cps (f, &show, "show", "Merge Me", NULL);
  g_assert_nonnull (strstr (show.out, "\"battery\": \"B3\""));
  g_assert_nonnull (strstr (show.out, "\"camera\": \"C2\""));
  g_assert_nonnull (strstr (show.out, "\"monitor\": \"M2\""));

  run_cps (f, &again, "merge", "Merge Me", NULL);
  g_assert_cmpint (again.status, ==, 0);
  g_assert_nonnull (strstr (again.out, "nothing to merge"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/store-cli/import-idempotent", Fixture, NULL, fixture_set_up,
              test_import_idempotent, fixture_tear_down);
  g_test_add ("/store-cli/log-show-export", Fixture, NULL, fixture_set_up, test_log_show_export,
              fixture_tear_down);
  g_test_add ("/store-cli/backup-restore-check", Fixture, NULL, fixture_set_up,
              test_backup_restore_check, fixture_tear_down);
  g_test_add ("/store-cli/merge", Fixture, NULL, fixture_set_up, test_merge, fixture_tear_down);
  g_test_add ("/store-cli/import-damaged", Fixture, NULL, fixture_set_up, test_import_damaged,
              fixture_tear_down);

  return g_test_run ();
}
