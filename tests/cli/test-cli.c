/* test-cli.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs the built `cps` as a user would and checks its exit codes and output.
 */

#define G_LOG_DOMAIN "test-cli"

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "cps.h"
#include "cli-run.h"

#define BACKUP "cine_power_planner_backup_2025-03-01T14-05-09+01-00.json"
#define BUNDLE "Night Exterior.json"

static char *tmpdir;

static char *
fixture (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "planner", name, NULL);
}

/* Runs cps with the NULL-terminated arguments. */
static void
run_cps (Run *run, ...)
{
  g_autoptr (GSubprocessLauncher) launcher = run_launcher_new ();
  va_list args;

  va_start (args, run);
  run_cps_valist (launcher, run, args);
  va_end (args);
}

static guint
count_lines_starting (const char *text, const char *prefix)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      n++;
  return n;
}

static void
test_usage (void)
{
  g_auto (Run) help = { 0 }, none = { 0 }, bogus = { 0 }, version = { 0 }, no_files = { 0 },
               bad_option = { 0 };

  run_cps (&help, "--help", NULL);
  g_assert_cmpint (help.status, ==, 0);
  g_assert_nonnull (strstr (help.out, "verify"));
  g_assert_nonnull (strstr (help.out, "export-bundle"));

  run_cps (&none, NULL);
  g_assert_cmpint (none.status, ==, 2);

  run_cps (&bogus, "frobnicate", NULL);
  g_assert_cmpint (bogus.status, ==, 2);
  g_assert_nonnull (strstr (bogus.err, "“frobnicate” is not a command"));

  run_cps (&version, "--version", NULL);
  g_assert_cmpint (version.status, ==, 0);
  g_assert_cmpstr (version.out, ==, "cps " PACKAGE_VERSION "\n");

  run_cps (&no_files, "verify", NULL);
  g_assert_cmpint (no_files.status, ==, 2);
  g_assert_nonnull (strstr (no_files.err, "at least one file"));

  run_cps (&bad_option, "verify", "--no-such-option", NULL);
  g_assert_cmpint (bad_option.status, ==, 2);
}

static void
test_verify_fixtures (void)
{
  g_autofree char *a = fixture (BACKUP);
  g_autofree char *b = fixture (BUNDLE);
  g_autofree char *c = fixture ("2025-03-01T14-05-09+01-00 auto gear rules.json");
  g_autofree char *d = fixture ("cine-power-planner-version-log-2025-03-01T14-05-09+01-00.json");
  g_autofree char *e = fixture ("cine-power-planner-log-v1.0.53-2025-03-01T13-05-09-000Z.json");
  g_auto (Run) run = { 0 };

  run_cps (&run, "verify", a, b, c, d, e, NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpuint (count_lines_starting (run.out, "OK  "), ==, 5);
  g_assert_nonnull (strstr (run.out, "(Full backup, 3 projects)"));
  g_assert_nonnull (strstr (run.out, "5 intact, 0 damaged, 0 changed, 0 unreadable"));
}

static void
test_verify_sums (void)
{
  g_autofree char *a = fixture (BACKUP);
  g_autofree char *b = fixture (BUNDLE);
  g_autofree char *sums = fixture ("SHA256SUMS");
  g_autofree char *wrong = fixture ("SHA256SUMS.wrong");
  g_auto (Run) good = { 0 }, bad = { 0 };

  run_cps (&good, "verify", "--sums", sums, a, b, NULL);
  g_assert_cmpint (good.status, ==, 0);
  g_assert_cmpuint (count_lines_starting (good.out, "OK  "), ==, 2);
  g_assert_nonnull (strstr (good.out, "checksum matches the list"));

  run_cps (&bad, "verify", "--sums", wrong, a, b, NULL);
  g_assert_cmpint (bad.status, ==, 1);
  g_assert_cmpuint (count_lines_starting (bad.out, "MISMATCH  "), ==, 1);
  g_assert_cmpuint (count_lines_starting (bad.out, "OK  "), ==, 1);
  g_assert_nonnull (strstr (bad.out, "listed: sha256:" "2725b617a780456f538ba7c91d12dbb50a9f9c3eb6f3ac6202425b79f450cca0"));
}

static void
test_verify_damaged (void)
{
  g_autofree char *damaged = g_build_filename (tmpdir, "damaged.json", NULL);
  g_autofree char *missing = g_build_filename (tmpdir, "missing.json", NULL);
  g_autofree char *good = fixture (BUNDLE);
  g_auto (Run) run = { 0 }, unreadable = { 0 }, json = { 0 };
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (GError) error = NULL;
  const CpsJsonNode *files, *summary;

  g_file_set_contents (damaged, "{\"data\": {\"project\": {\"A\": {\"gearList\": \"x", -1, NULL);

  run_cps (&run, "verify", good, damaged, NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_cmpuint (count_lines_starting (run.out, "FAILED  "), ==, 1);
  g_assert_nonnull (strstr (run.out, "$.data.project.A.gearList: The string starting here is "
                                     "never closed"));

  run_cps (&unreadable, "verify", good, damaged, missing, NULL);
  g_assert_cmpint (unreadable.status, ==, 2);
  g_assert_cmpuint (count_lines_starting (unreadable.out, "UNREADABLE  "), ==, 1);

  run_cps (&json, "verify", "--json", good, damaged, missing, NULL);
  g_assert_cmpint (json.status, ==, 2);
  doc = cps_json_document_parse_copy (json.out, -1, NULL, &error);
  g_assert_no_error (error);
  files = cps_json_object_get (cps_json_document_get_root (doc), "files");
  g_assert_cmpuint (files->n, ==, 3);
  g_assert_cmpstr (cps_json_object_get_string (&files->v.items[0], "status"), ==, "ok");
  g_assert_cmpstr (cps_json_object_get_string (&files->v.items[0], "kind"), ==,
                   "project-bundle");
  g_assert_cmpstr (cps_json_object_get_string (&files->v.items[1], "status"), ==, "damaged");
  g_assert_cmpstr (cps_json_object_get_string (&files->v.items[2], "status"), ==, "unreadable");
  summary = cps_json_object_get (cps_json_document_get_root (doc), "summary");
  g_assert_cmpfloat (cps_json_object_get (summary, "damaged")->v.number, ==, 1);
}

static void
test_inspect (void)
{
  g_autofree char *backup = fixture (BACKUP);
  g_autofree char *bundle = fixture (BUNDLE);
  g_auto (Run) text = { 0 }, json = { 0 };
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (GError) error = NULL;
  const CpsJsonNode *root, *projects;

  run_cps (&text, "inspect", backup, NULL);
  g_assert_cmpint (text.status, ==, 0);
  g_assert_nonnull (strstr (text.out, "Full backup"));
  g_assert_nonnull (strstr (text.out, "\n  Car Rig Test\n"));
  g_assert_nonnull (strstr (text.out, "\n  Night Exterior\n"));
  g_assert_nonnull (strstr (text.out, "\n  Studio Interview\n"));
  g_assert_nonnull (strstr (text.out, "Example 150Wh V-Mount"));

  run_cps (&json, "inspect", "--json", bundle, NULL);
  g_assert_cmpint (json.status, ==, 0);
  doc = cps_json_document_parse_copy (json.out, -1, NULL, &error);
  g_assert_no_error (error);
  root = cps_json_document_get_root (doc);
  g_assert_cmpstr (cps_json_object_get_string (root, "kind"), ==, "project-bundle");
  g_assert_cmpstr (cps_json_object_get_string (root, "checksum"), ==,
                   "sha256:072fad15910cb5a4d95b5a34400c16ea3795e5b4d6e76dca32be0bbeb6722a73");
  projects = cps_json_object_get (root, "projects");
  g_assert_cmpuint (projects->n, ==, 1);
  g_assert_cmpstr (cps_json_object_get_string (&projects->v.items[0], "name"), ==,
                   "Night Exterior");
}

static void
test_checksum (void)
{
  g_autofree char *backup = fixture (BACKUP);
  g_autofree char *bundle = fixture (BUNDLE);
  g_auto (Run) file = { 0 }, project = { 0 }, missing = { 0 };
  g_autofree char *expected_line = NULL;

  run_cps (&file, "checksum", bundle, NULL);
  g_assert_cmpint (file.status, ==, 0);
  expected_line = g_strdup_printf (
    "sha256:072fad15910cb5a4d95b5a34400c16ea3795e5b4d6e76dca32be0bbeb6722a73  %s\n", bundle);
  g_assert_true (g_str_has_prefix (file.out, expected_line));

  run_cps (&project, "checksum", "--project", "Night Exterior", backup, NULL);
  g_assert_cmpint (project.status, ==, 0);
  g_assert_cmpstr (project.out, ==,
                   "sha256:515961e9a23f688beefcf76ed91466c50aef0364a6a71013ad038b92b049ead6\n");

  run_cps (&missing, "checksum", "--project", "Nope", backup, NULL);
  g_assert_cmpint (missing.status, ==, 1);
  g_assert_nonnull (strstr (missing.err, "no project called “Nope”"));
}

static void
test_export_bundle (void)
{
  g_autofree char *backup = fixture (BACKUP);
  g_autofree char *out = g_build_filename (tmpdir, "Car Rig Test.json", NULL);
  g_auto (Run) export = { 0 }, again = { 0 }, usage = { 0 }, check = { 0 }, verify = { 0 },
               forced = { 0 };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  run_cps (&export, "export-bundle", backup, "--project", "Car Rig Test", "-o", out, NULL);
  g_assert_cmpint (export.status, ==, 0);
  g_assert_true (g_file_get_contents (out, &before, NULL, NULL));
  g_assert_true (g_str_has_prefix (before, "{\n  \"setupName\": \"Car Rig Test\""));

  /* The bundle reads back as a bundle with the same content checksum. */
  run_cps (&check, "checksum", "--project", "Car Rig Test", out, NULL);
  run_cps (&verify, "checksum", "--project", "Car Rig Test", backup, NULL);
  g_assert_cmpint (check.status, ==, 0);
  g_assert_cmpstr (check.out, ==, verify.out);

  /* An existing file is never replaced without --force. */
  run_cps (&again, "export-bundle", backup, "--project", "Night Exterior", "-o", out, NULL);
  g_assert_cmpint (again.status, ==, 1);
  g_assert_nonnull (strstr (again.err, "already exists"));
  g_assert_true (g_file_get_contents (out, &after, NULL, NULL));
  g_assert_cmpstr (before, ==, after);

  run_cps (&forced, "export-bundle", backup, "--project", "Night Exterior", "-o", out, "--force",
           NULL);
  g_assert_cmpint (forced.status, ==, 0);

  run_cps (&usage, "export-bundle", backup, "-o", out, NULL);
  g_assert_cmpint (usage.status, ==, 2);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("cps-cli-XXXXXX", NULL);

  g_test_add_func ("/cli/usage", test_usage);
  g_test_add_func ("/cli/verify-fixtures", test_verify_fixtures);
  g_test_add_func ("/cli/verify-sums", test_verify_sums);
  g_test_add_func ("/cli/verify-damaged", test_verify_damaged);
  g_test_add_func ("/cli/inspect", test_inspect);
  g_test_add_func ("/cli/checksum", test_checksum);
  g_test_add_func ("/cli/export-bundle", test_export_bundle);

  ret = g_test_run ();
  {
    g_autofree char *a = g_build_filename (tmpdir, "damaged.json", NULL);
    g_autofree char *b = g_build_filename (tmpdir, "Car Rig Test.json", NULL);
    g_remove (a);
    g_remove (b);
    g_rmdir (tmpdir);
  }
  g_free (tmpdir);
  return ret;
}
