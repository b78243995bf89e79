/* test-malformed.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Hostile and damaged files, read from disk as a user would open them: each
 * gets a specific finding (or, when it cannot be read at all, a specific
 * error) and nothing crashes.
 */

#define G_LOG_DOMAIN "test-malformed"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "cps.h"
#include "cps-test-util.h"

static char *tmpdir;

static char *
write_file (const char *name, const char *data, gssize length)
{
  char *path = g_build_filename (tmpdir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, data, length, &error);
  g_assert_no_error (error);
  return path;
}

static CpsPlannerFile *
load_path (const char *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;
  CpsPlannerFile *result = cps_planner_file_load (file, NULL, &error);

  g_assert_no_error (error);
  return result;
}

static CpsPlannerFile *
load_data (const char *data, gssize length)
{
  g_autofree char *path = write_file ("input.json", data, length);
  return load_path (path);
}

/* Looks for a finding in the file or any of its projects. */
static gboolean
find (CpsPlannerFile *file, CpsSeverity severity, const char *path, const char *part)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  GListModel *projects = cps_planner_file_get_projects (file);

  g_ptr_array_extend (all, cps_planner_file_get_findings (file), NULL, NULL);
  for (guint i = 0; i < g_list_model_get_n_items (projects); i++)
    {
      g_autoptr (CpsPlannerProject) project = g_list_model_get_item (projects, i);
      g_ptr_array_extend (all, cps_planner_project_get_findings (project), NULL, NULL);
    }
  for (guint i = 0; i < all->len; i++)
    {
      const CpsFinding *f = g_ptr_array_index (all, i);
      if (f->severity == severity && g_strcmp0 (f->path, path) == 0 &&
          strstr (f->message, part) != NULL)
        return TRUE;
    }
  for (guint i = 0; i < all->len; i++)
    {
      const CpsFinding *f = g_ptr_array_index (all, i);
      g_test_message ("have: %s %s: %s", cps_severity_to_string (f->severity), f->path,
                      f->message);
    }
  return FALSE;
}

static void
assert_finding (const char *data, gssize length, CpsSeverity severity, const char *path,
                const char *part)
{
  g_autoptr (CpsPlannerFile) file = load_data (data, length);

  g_test_message ("expecting %s at %s: %s", cps_severity_to_string (severity), path, part);
  g_assert_true (find (file, severity, path, part));
}

static void
test_truncated (void)
{
  g_autofree char *path = g_test_build_filename (
    G_TEST_DIST, "data", "planner", "cine_power_planner_backup_2025-03-01T14-05-09+01-00.json",
    NULL);
  g_autofree char *contents = NULL;
  gsize length;

  g_file_get_contents (path, &contents, &length, NULL);
  /* Cut at many places: always an error finding, never a crash. */
  for (gsize cut = 0; cut < length; cut += length / 97 + 1)
    {
      g_autoptr (CpsPlannerFile) file = load_data (contents, cut);
      g_assert_cmpint (cps_planner_file_get_status (file), ==, CPS_SEVERITY_ERROR);
      g_assert_null (cps_planner_file_get_document (file));
    }
  assert_finding (contents, length - 1, CPS_SEVERITY_ERROR, "$", "probably truncated");
  /* Cut inside a string: the path names the member whose value was cut. */
  assert_finding (contents, strstr (contents, "Sample Pictures") - contents, CPS_SEVERITY_ERROR,
                  "$.settings.cameraPowerPlanner_setups", "never closed");
}

static void
test_invalid_utf8 (void)
{
  assert_finding ("{\"data\":{\"setups\":{\"A\":{\"camera\":\"Caf\xe9\"}}}}", -1,
                  CPS_SEVERITY_ERROR, "$.data.setups.A.camera", "Invalid UTF-8 byte 0xE9");
  /* Latin-1 saved file */
  assert_finding ("{\"version\":\"1.0\",\"data\":{\"project\":{\"M\xfcnchen\":{}}}}", -1,
                  CPS_SEVERITY_ERROR, "$.data.project", "UTF-8");
}

static void
test_nul_bytes (void)
{
  static const char with_nul[] = "{\"version\":\"1.0\",\0\"data\":{}}";
  static const char nul_in_string[] = "{\"version\":\"1.\0\"}";

  assert_finding (with_nul, sizeof with_nul - 1, CPS_SEVERITY_ERROR, "$", "a NUL byte");
  assert_finding (nul_in_string, sizeof nul_in_string - 1, CPS_SEVERITY_ERROR, "$.version",
                  "NUL byte inside a string");
  /* An escaped NUL is legal JSON but cannot be a project name. */
  assert_finding ("{\"data\":{\"project\":{\"a\\u0000b\":{}}}}", -1, CPS_SEVERITY_ERROR,
                  "$.data.project[\"a\\u0000b\"]", "NUL character");
}

typedef struct
{
  const char *json;
  CpsSeverity severity;
  const char *path;
  const char *part;
} TypeCase;

static void
test_wrong_types (void)
{
  static const TypeCase cases[] = {
    /* root */
    { "[]", CPS_SEVERITY_ERROR, "$", "holds an array" },
    { "\"backup\"", CPS_SEVERITY_ERROR, "$", "holds a string" },
    { "42", CPS_SEVERITY_ERROR, "$", "holds a number" },
    { "null", CPS_SEVERITY_ERROR, "$", "holds null" },
    { "{\"hello\":1}", CPS_SEVERITY_ERROR, "$", "not a backup" },
    { "{\"type\":\"something/else\"}", CPS_SEVERITY_ERROR, "$.type", "something/else" },
    /* backup: top level */
    { "{\"version\":\"1\",\"settings\":5,\"data\":{\"setups\":{}}}", CPS_SEVERITY_WARNING,
      "$.settings", "are a number" },
    { "{\"version\":\"1\",\"data\":\"oops\"}", CPS_SEVERITY_ERROR, "$.data", "is a string" },
    { "{\"version\":\"1\",\"data\":[1,2]}", CPS_SEVERITY_ERROR, "$.data", "is an array" },
    { "{\"version\":\"1\",\"data\":{},\"diagnostics\":{}}", CPS_SEVERITY_WARNING, "$.diagnostics",
      "should be an array" },
    { "{\"version\":\"1\",\"data\":{\"a\":1},\"diagnostics\":[7]}", CPS_SEVERITY_WARNING,
      "$.diagnostics[0]", "section or status" },
    { "{\"version\":\"1\",\"generatedAt\":\"yesterday\",\"data\":{\"a\":1}}",
      CPS_SEVERITY_WARNING, "$.generatedAt", "ISO 8601" },
    /* backup: data sections */
    { "{\"data\":{\"setups\":[]}}", CPS_SEVERITY_WARNING, "$.data.setups", "is an array" },
    { "{\"data\":{\"project\":\"x\"}}", CPS_SEVERITY_WARNING, "$.data.project", "is a string" },
    { "{\"data\":{\"contacts\":{}}}", CPS_SEVERITY_WARNING, "$.data.contacts", "is an object" },
    { "{\"data\":{\"ownGear\":true}}", CPS_SEVERITY_WARNING, "$.data.ownGear", "is a boolean" },
    { "{\"data\":{\"autoGearRules\":{}}}", CPS_SEVERITY_WARNING, "$.data.autoGearRules",
      "is an object" },
    { "{\"data\":{\"fullBackupHistory\":1}}", CPS_SEVERITY_WARNING, "$.data.fullBackupHistory",
      "is a number" },
    /* backup: project entries */
    { "{\"data\":{\"project\":{\"P\":5}}}", CPS_SEVERITY_ERROR, "$.data.project.P",
      "is a number" },
    { "{\"data\":{\"setups\":{\"P\":\"cam\"}}}", CPS_SEVERITY_ERROR, "$.data.setups.P",
      "is a string" },
    { "{\"data\":{\"setups\":{\"P\":{\"camera\":7}}}}", CPS_SEVERITY_WARNING,
      "$.data.setups.P.camera", "is a number" },
    { "{\"data\":{\"setups\":{\"P\":{\"motors\":\"M\"}}}}", CPS_SEVERITY_WARNING,
      "$.data.setups.P.motors", "is a string" },
    { "{\"data\":{\"project\":{\"P\":{\"projectInfo\":\"x\"}}}}", CPS_SEVERITY_WARNING,
      "$.data.project.P.projectInfo", "is a string" },
    { "{\"data\":{\"project\":{\"P\":{\"projectInfo\":{\"people\":{}}}}}}", CPS_SEVERITY_WARNING,
      "$.data.project.P.projectInfo.people", "is an object" },
    { "{\"data\":{\"project\":{\"P\":{\"projectInfo\":{\"projectName\":[]}}}}}",
      CPS_SEVERITY_WARNING, "$.data.project.P.projectInfo.projectName", "is an array" },
    { "{\"data\":{\"project\":{\"P\":{\"autoGearRules\":null}}}}", CPS_SEVERITY_WARNING,
      "$.data.project.P.autoGearRules", "is null" },
    { "{\"data\":{\"project\":{\"P\":{\"gearListAndProjectRequirementsGenerated\":\"yes\"}}}}",
      CPS_SEVERITY_WARNING, "$.data.project.P.gearListAndProjectRequirementsGenerated",
      "is a string" },
    /* bundles */
    { "{\"setupName\":\"B\",\"metadata\":\"x\"}", CPS_SEVERITY_WARNING, "$.metadata",
      "is a string" },
    { "{\"setupName\":\"B\"}", CPS_SEVERITY_WARNING, "$.metadata", "no “metadata”" },
    { "{\"setupName\":5,\"metadata\":{\"type\":\"camera-power-planner/project-bundle\"}}",
      CPS_SEVERITY_WARNING, "$.setupName", "is a number" },
    { "{\"setupName\":\"B\",\"contacts\":{},"
      "\"metadata\":{\"type\":\"camera-power-planner/project-bundle\"}}",
      CPS_SEVERITY_WARNING, "$.contacts", "is an object" },
    { "{\"setupName\":\"B\",\"metadata\":{\"type\":\"other\"}}", CPS_SEVERITY_WARNING,
      "$.metadata.type", "type is not" },
    /* other exports */
    { "{\"type\":\"camera-power-planner/auto-gear-rules\",\"rules\":{}}", CPS_SEVERITY_ERROR,
      "$.rules", "is an object" },
    { "{\"type\":\"camera-power-planner/auto-gear-rules\",\"rules\":[1]}", CPS_SEVERITY_WARNING,
      "$.rules[0]", "is a number" },
    { "{\"type\":\"camera-power-planner/auto-gear-rules\",\"rules\":[{}]}", CPS_SEVERITY_WARNING,
      "$.rules[0]", "no “id”" },
    { "{\"type\":\"camera-power-planner/auto-gear-rules\"}", CPS_SEVERITY_ERROR, "$.rules",
      "no “rules” list" },
    { "{\"type\":\"camera-power-planner/auto-gear-presets\",\"presets\":\"p\"}",
      CPS_SEVERITY_ERROR, "$.presets", "is a string" },
    { "{\"type\":\"cine-power-planner-version-log\",\"differences\":[],"
      "\"summary\":{\"totalDifferences\":2}}",
      CPS_SEVERITY_WARNING, "$.summary.totalDifferences", "counts 2" },
    { "{\"type\":\"cine-power-planner-version-log\",\"differences\":null}", CPS_SEVERITY_ERROR,
      "$.differences", "is null" },
    { "{\"exportedAt\":\"x\",\"history\":5}", CPS_SEVERITY_ERROR, "$.history", "is a number" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %u: %s", i, cases[i].json);
      assert_finding (cases[i].json, -1, cases[i].severity, cases[i].path, cases[i].part);
    }
}

static void
test_deep_nesting (void)
{
  g_autoptr (GString) deep = g_string_new ("{\"data\":{\"setups\":");
  g_autoptr (GString) expected = g_string_new (NULL);

  for (int i = 0; i < 10000; i++)
    g_string_append (deep, "[");
  for (int i = 0; i < 10000; i++)
    g_string_append (deep, "]");
  g_string_append (deep, "}}");
  /* The path leads to where the limit was hit: two keys and 510 indexes. */
  g_string_append (expected, "$.data.setups");
  for (int i = 0; i < CPS_JSON_MAX_DEPTH - 2; i++)
    g_string_append (expected, "[0]");
  assert_finding (deep->str, deep->len, CPS_SEVERITY_ERROR, expected->str, "more than 512 levels");
}

static void
test_huge_number (void)
{
  const char *json = "{\"setupName\":\"N\",\"distance\":\"x\",\"diagramPositions\":"
                     "{\"camera\":{\"x\":1e400,\"y\":-1e400}},"
                     "\"metadata\":{\"type\":\"camera-power-planner/project-bundle\"}}";
  g_autoptr (CpsPlannerFile) file = load_data (json, -1);
  g_autoptr (CpsPlannerProject) project =
    g_list_model_get_item (cps_planner_file_get_projects (file), 0);

  g_assert_true (find (file, CPS_SEVERITY_ERROR, "$.diagramPositions.camera.x", "1e400"));
  g_assert_true (find (file, CPS_SEVERITY_ERROR, "$.diagramPositions.camera.y", "-1e400"));
  /* No canonical form, so no content checksum, and the project says why. */
  g_assert_null (cps_planner_project_get_content_checksum (project));
  g_assert_true (find (file, CPS_SEVERITY_ERROR, NULL, "no content checksum"));
}

static void
test_duplicate_keys (void)
{
  assert_finding ("{\"data\":{\"project\":{\"A\":{\"gearList\":\"1\"},\"A\":{\"gearList\":\"2\"}}}}",
                  -1, CPS_SEVERITY_ERROR, "$.data.project.A", "more than once");
}

/* A 50 MB backup reads fully and quickly enough for a unit test. */
static void
test_large_file (void)
{
  g_autoptr (GString) big = g_string_sized_new (52 << 20);
  g_autofree char *path = NULL;
  g_autoptr (CpsPlannerFile) file = NULL;
  g_autofree char *filler = g_strnfill (10000, 'x');
  guint n = 0;

  g_string_append (big, "{\"version\":\"1.0.53\",\"generatedAt\":\"2025-03-01T14:05:09+01:00\","
                        "\"data\":{\"project\":{");
  while (big->len < (50u << 20))
    g_string_append_printf (big, "%s\"P%05u\":{\"gearList\":\"%s\",\"n\":[%u,1.5,true,null]}",
                            n ? "," : "", n, filler, n), n++;
  g_string_append (big, "}}}");
  path = write_file ("big.json", big->str, big->len);
  file = load_path (path);
  g_assert_cmpuint (cps_planner_file_get_size (file), >=, 50u << 20);
  g_assert_cmpuint (g_list_model_get_n_items (cps_planner_file_get_projects (file)), ==, n);
  g_assert_cmpint (cps_planner_file_get_status (file), ==, CPS_SEVERITY_INFO);
  {
    g_autofree char *expected = cps_checksum_bytes (big->str, big->len);
    g_assert_cmpstr (cps_planner_file_get_checksum (file), ==, expected);
  }
}

static void
test_empty_file (void)
{
  assert_finding ("", 0, CPS_SEVERITY_ERROR, "$", "empty");
  assert_finding ("\n\n  ", -1, CPS_SEVERITY_ERROR, "$", "only white space");
}

static void
assert_unreadable (const char *path, GQuark domain, int code, const char *part)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsPlannerFile) result = cps_planner_file_load (file, NULL, &error);

  g_assert_null (result);
  g_assert_error (error, domain, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, part));
}

static void
test_directory (void)
{
  assert_unreadable (tmpdir, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY, "is a folder");
}

static void
test_missing (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "does-not-exist.json", NULL);
  assert_unreadable (path, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "does-not-exist.json");
}

static void
test_fifo (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "pipe.json", NULL);

  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  assert_unreadable (path, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, "not a regular file");
}

/* Root can read anything, so as root the check runs in a child that drops
 * to nobody first. */
static void
test_unreadable (void)
{
  g_autofree char *path = write_file ("secret.json", "{}", -1);

  g_assert_cmpint (g_chmod (path, 0), ==, 0);
  g_assert_cmpint (g_chmod (tmpdir, 0755), ==, 0);
  if (geteuid () == 0)
    {
      pid_t pid = fork ();
      int status;

      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          g_autoptr (GFile) file = NULL;
          g_autoptr (GError) error = NULL;
          g_autoptr (CpsPlannerFile) result = NULL;

          if (setgid (65534) != 0 || setuid (65534) != 0)
            _exit (3);
          file = g_file_new_for_path (path);
          result = cps_planner_file_load (file, NULL, &error);
          _exit (result == NULL &&
                     g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED) &&
                     strstr (error->message, "secret.json") != NULL
                   ? 0
                   : 1);
        }
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    }
  else
    assert_unreadable (path, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "secret.json");
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("cps-malformed-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);

  g_test_add_func ("/malformed/truncated", test_truncated);
  g_test_add_func ("/malformed/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/malformed/nul-bytes", test_nul_bytes);
  g_test_add_func ("/malformed/wrong-types", test_wrong_types);
  g_test_add_func ("/malformed/deep-nesting", test_deep_nesting);
  g_test_add_func ("/malformed/huge-number", test_huge_number);
  g_test_add_func ("/malformed/duplicate-keys", test_duplicate_keys);
  g_test_add_func ("/malformed/large-file", test_large_file);
  g_test_add_func ("/malformed/empty-file", test_empty_file);
  g_test_add_func ("/malformed/directory", test_directory);
  g_test_add_func ("/malformed/missing", test_missing);
  g_test_add_func ("/malformed/fifo", test_fifo);
  g_test_add_func ("/malformed/unreadable", test_unreadable);

  ret = g_test_run ();
  cps_test_remove_tree (tmpdir);
  g_free (tmpdir);
  return ret;
}
