/* test-planner.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reading every planner format: the shared fixtures, the derivation of
 * project documents from full backups, auto-backup grouping and the
 * planner's restore tolerance.
 */

#define G_LOG_DOMAIN "test-planner"

#include "config.h"

#include <string.h>

#include "cps.h"

#define BACKUP "cine_power_planner_backup_2025-03-01T14-05-09+01-00.json"

static CpsPlannerFile *
load_fixture (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "planner", name, NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;
  CpsPlannerFile *result = cps_planner_file_load (file, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static CpsPlannerFile *
load_string (const char *json)
{
  return cps_planner_file_new_from_data ("test.json", json, strlen (json));
}

static CpsPlannerProject *
project_at (CpsPlannerFile *file, guint i)
{
  g_autoptr (CpsPlannerProject) project =
    g_list_model_get_item (cps_planner_file_get_projects (file), i);
  g_assert_nonnull (project);
  return project; /* the file keeps it alive */
}

static gboolean
has_finding (GPtrArray *findings, CpsSeverity severity, const char *path, const char *part)
{
  for (guint i = 0; i < findings->len; i++)
    {
      const CpsFinding *f = g_ptr_array_index (findings, i);
      if (f->severity == severity && g_strcmp0 (f->path, path) == 0 &&
          (part == NULL || strstr (f->message, part) != NULL))
        return TRUE;
    }
  for (guint i = 0; i < findings->len; i++)
    {
      const CpsFinding *f = g_ptr_array_index (findings, i);
      g_test_message ("finding: %s %s %s", cps_severity_to_string (f->severity), f->path,
                      f->message);
    }
  return FALSE;
}

static void
test_fixture_kinds (void)
{
  static const struct
  {
    const char *name;
    CpsPlannerKind kind;
    guint projects;
  } fixtures[] = {
    { BACKUP, CPS_PLANNER_KIND_FULL_BACKUP, 3 },
    { "Night Exterior.json", CPS_PLANNER_KIND_PROJECT_BUNDLE, 1 },
    { "2025-03-01T14-05-09+01-00 auto gear rules.json", CPS_PLANNER_KIND_AUTO_GEAR_RULES, 0 },
    { "cine-power-planner-version-log-2025-03-01T14-05-09+01-00.json",
      CPS_PLANNER_KIND_VERSION_LOG, 0 },
    { "cine-power-planner-log-v1.0.53-2025-03-01T13-05-09-000Z.json",
      CPS_PLANNER_KIND_DIAGNOSTICS_LOG, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (fixtures); i++)
    {
      g_autoptr (CpsPlannerFile) file = load_fixture (fixtures[i].name);

      g_test_message ("%s", fixtures[i].name);
      g_assert_cmpint (cps_planner_file_get_kind (file), ==, fixtures[i].kind);
      g_assert_cmpuint (g_list_model_get_n_items (cps_planner_file_get_projects (file)), ==,
                        fixtures[i].projects);
      g_assert_cmpint (cps_planner_file_get_status (file), <, CPS_SEVERITY_WARNING);
      g_assert_true (cps_checksum_is_valid (cps_planner_file_get_checksum (file)));
      g_assert_cmpstr (cps_planner_file_get_version (file), ==, "1.0.53");
      g_assert_nonnull (cps_planner_file_get_created_at (file));
    }
}

static void
test_fixture_checksums (void)
{
  g_autoptr (CpsPlannerFile) backup = load_fixture (BACKUP);
  g_autoptr (CpsPlannerFile) bundle = load_fixture ("Night Exterior.json");

  /* The file checksums are those of the fixtures' SHA256SUMS. */
  g_assert_cmpstr (cps_planner_file_get_checksum (backup), ==,
                   "sha256:2725b617a780456f538ba7c91d12dbb50a9f9c3eb6f3ac6202425b79f450cca7");
  g_assert_cmpstr (cps_planner_file_get_checksum (bundle), ==,
                   "sha256:072fad15910cb5a4d95b5a34400c16ea3795e5b4d6e76dca32be0bbeb6722a73");
  /* Content checksums, checked independently with Python:
   * sha256(json.dumps(doc_without_metadata, sort_keys=True,
   *        separators=(",", ":"), ensure_ascii=False)), which equals JCS for
   * documents of strings and integers. */
  g_assert_cmpstr (cps_planner_project_get_content_checksum (project_at (bundle, 0)), ==,
                   "sha256:179825298cbfa3689e24b46c6c6be5c8601eb8637518a458f1582a0ed6b6d3fe");
  g_assert_cmpstr (cps_planner_project_get_content_checksum (project_at (backup, 1)), ==,
                   "sha256:515961e9a23f688beefcf76ed91466c50aef0364a6a71013ad038b92b049ead6");
}

static void
test_backup_projects (void)
{
  g_autoptr (CpsPlannerFile) file = load_fixture (BACKUP);
  const char *names[] = { "Car Rig Test", "Night Exterior", "Studio Interview" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      CpsPlannerProject *project = project_at (file, i);
      g_assert_cmpstr (cps_planner_project_get_name (project), ==, names[i]);
      g_assert_true (cps_checksum_is_valid (cps_planner_project_get_content_checksum (project)));
      g_assert_cmpuint (cps_planner_project_get_auto_backup_count (project), ==, 0);
    }
  g_assert_true (cps_planner_file_find_project (file, "Night Exterior") == project_at (file, 1));
  g_assert_null (cps_planner_file_find_project (file, "Nope"));
  /* The planner's own diagnostics entry is reported as a note. */
  g_assert_true (has_finding (cps_planner_file_get_findings (file), CPS_SEVERITY_INFO,
                              "$.diagnostics[0]", "documentationTracker"));
}

/* Every key of data.setups[name] and data.project[name] is in the
 * derived document, unchanged. */
static void
test_derivation_lossless (void)
{
  g_autoptr (CpsPlannerFile) file = load_fixture (BACKUP);
  const CpsJsonNode *root = cps_json_document_get_root (cps_planner_file_get_document (file));
  const CpsJsonNode *data = cps_json_object_get (root, "data");
  GListModel *projects = cps_planner_file_get_projects (file);

  for (guint i = 0; i < g_list_model_get_n_items (projects); i++)
    {
      CpsPlannerProject *project = project_at (file, i);
      const char *name = cps_planner_project_get_name (project);
      const CpsJsonNode *doc = cps_planner_project_get_root (project);
      const CpsJsonNode *sources[] = {
        cps_json_object_get (cps_json_object_get (data, "setups"), name),
        cps_json_object_get (cps_json_object_get (data, "project"), name),
      };
      const CpsJsonNode *metadata = cps_json_object_get (doc, "metadata");

      g_assert_cmpstr (cps_json_object_get_string (doc, "setupName"), ==, name);
      for (guint s = 0; s < G_N_ELEMENTS (sources); s++)
        for (guint k = 0; k < sources[s]->n; k++)
          {
            const CpsJsonMember *m = &sources[s]->v.members[k];
            const CpsJsonNode *value = cps_json_object_get (doc, m->key);
            const CpsJsonNode *kept = cps_json_object_get (cps_json_object_get (doc,
                                                                                "x-cps-setup"),
                                                           m->key);
            g_assert_nonnull (value);
            g_assert_true (cps_json_node_equal (value, &m->value) ||
                           (kept != NULL && cps_json_node_equal (kept, &m->value)));
          }

      g_assert_cmpstr (cps_json_object_get_string (metadata, "type"), ==, CPS_BUNDLE_TYPE);
      g_assert_cmpstr (cps_json_object_get_string (metadata, "version"), ==, "1.0.53");
      g_assert_cmpstr (cps_json_object_get_string (metadata, "exportedAt"), ==,
                       "2025-03-01T13:05:09.000Z");
    }
}

static void
test_derivation_conflict_kept (void)
{
  g_autoptr (CpsPlannerFile) file = load_string (
    "{\"version\":\"1.0.53\",\"generatedAt\":\"2025-03-01T14:05:09+01:00\",\"data\":{"
    "\"setups\":{\"P\":{\"camera\":\"A\",\"projectInfo\":{\"projectName\":\"Old\"},\"x\":1}},"
    "\"project\":{\"P\":{\"projectInfo\":{\"projectName\":\"New\"},\"gearList\":\"<p/>\","
    "\"x\":1,\"futureKey\":{\"n\":[1,2]}}}}}");
  CpsPlannerProject *project = project_at (file, 0);
  g_autofree char *canonical = cps_jcs_to_string (cps_planner_project_get_root (project), NULL,
                                                  NULL);

  g_assert_cmpstr (canonical, ==,
                   "{\"camera\":\"A\",\"futureKey\":{\"n\":[1,2]},\"gearList\":\"<p/>\","
                   "\"metadata\":{\"exportedAt\":\"2025-03-01T13:05:09.000Z\","
                   "\"generator\":\"Camera Power Planner\",\"includesAutoGearRules\":false,"
                   "\"includesOwnedGearMarkers\":false,"
                   "\"type\":\"camera-power-planner/project-bundle\",\"version\":\"1.0.53\"},"
                   "\"projectInfo\":{\"projectName\":\"New\"},\"setupName\":\"P\",\"x\":1,"
                   "\"x-cps-setup\":{\"projectInfo\":{\"projectName\":\"Old\"}}}");
}

/* Stray setupName and metadata members inside the entries are kept too. */
static void
test_derivation_strays_kept (void)
{
  g_autoptr (CpsPlannerFile) file = load_string (
    "{\"version\":\"1\",\"data\":{"
    "\"setups\":{\"P\":{\"setupName\":\"S1\",\"metadata\":1,\"camera\":\"A\"}},"
    "\"project\":{\"P\":{\"setupName\":\"S2\",\"metadata\":2,\"camera\":\"B\"}}}}");
  const CpsJsonNode *root = cps_planner_project_get_root (project_at (file, 0));
  const CpsJsonNode *setup_kept = cps_json_object_get (root, "x-cps-setup");
  const CpsJsonNode *project_kept = cps_json_object_get (root, "x-cps-project");

  g_assert_cmpstr (cps_json_object_get_string (root, "setupName"), ==, "P");
  g_assert_cmpstr (cps_json_object_get_string (root, "camera"), ==, "B");
  g_assert_cmpuint (setup_kept->n, ==, 3);
  g_assert_cmpstr (cps_json_object_get_string (setup_kept, "setupName"), ==, "S1");
  g_assert_cmpfloat (cps_json_object_get (setup_kept, "metadata")->v.number, ==, 1);
  g_assert_cmpstr (cps_json_object_get_string (setup_kept, "camera"), ==, "A");
  g_assert_cmpuint (project_kept->n, ==, 2);
  g_assert_cmpstr (cps_json_object_get_string (project_kept, "setupName"), ==, "S2");
  g_assert_cmpfloat (cps_json_object_get (project_kept, "metadata")->v.number, ==, 2);
}

/* Entries with many keys are merged through a hash table; the result must
 * match the small-entry path. */
static void
test_derivation_many_keys (void)
{
  g_autoptr (GString) json = g_string_new ("{\"data\":{\"setups\":{\"P\":{");
  g_autoptr (CpsPlannerFile) file = NULL;
  const CpsJsonNode *root;

  for (int i = 0; i < 200; i++)
    g_string_append_printf (json, "%s\"k%d\":%d", i ? "," : "", i, i);
  g_string_append (json, "}},\"project\":{\"P\":{\"k5\":5,\"k7\":70,\"extra\":true}}}}");
  file = load_string (json->str);
  root = cps_planner_project_get_root (project_at (file, 0));
  /* setupName, 200 setup keys, extra, x-cps-setup, metadata */
  g_assert_cmpuint (root->n, ==, 204);
  g_assert_cmpfloat (cps_json_object_get (root, "k7")->v.number, ==, 70);
  g_assert_cmpfloat (cps_json_object_get (cps_json_object_get (root, "x-cps-setup"), "k7")->v.number,
                     ==, 7);
  g_assert_null (cps_json_object_get (cps_json_object_get (root, "x-cps-setup"), "k5"));
}

static void
test_bundle_round_trip (void)
{
  g_autoptr (CpsPlannerFile) backup = load_fixture (BACKUP);
  CpsPlannerProject *project = cps_planner_file_find_project (backup, "Studio Interview");
  g_autoptr (GError) error = NULL;
  gsize length;
  g_autofree char *bundle = cps_planner_project_to_bundle (project, &length, &error);
  g_autoptr (CpsPlannerFile) reread = NULL;

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (bundle, "{\n  \"setupName\": \"Studio Interview\",\n"));
  g_assert_false (g_str_has_suffix (bundle, "\n"));
  reread = cps_planner_file_new_from_data ("Studio Interview.json", bundle, length);
  g_assert_cmpint (cps_planner_file_get_kind (reread), ==, CPS_PLANNER_KIND_PROJECT_BUNDLE);
  g_assert_cmpint (cps_planner_file_get_status (reread), ==, CPS_SEVERITY_INFO);
  g_assert_cmpstr (cps_planner_project_get_name (project_at (reread, 0)), ==, "Studio Interview");
  g_assert_cmpstr (cps_planner_project_get_content_checksum (project_at (reread, 0)), ==,
                   cps_planner_project_get_content_checksum (project));
}

static void
test_auto_backups (void)
{
  g_autoptr (CpsPlannerFile) file = load_string (
    "{\"version\":\"1.0.53\",\"data\":{\"project\":{"
    "\"Night Exterior\":{\"gearList\":\"a\"},"
    "\"Night\":{\"gearList\":\"b\"},"
    "\"auto-backup-2025-03-01-13-50-00-Night Exterior\":{\"gearList\":\"old\"},"
    "\"auto-backup-2025-03-01-13-40-Night Exterior\":{\"gearList\":\"older\"},"
    "\"auto-backup-2025-03-01-13-50-00-Night Exterior-copy-2\":{\"gearList\":\"clash\"},"
    "\"auto-backup-before-delete-2025-03-01-14-00-00-Night\":{\"gearList\":\"gone\"},"
    "\"auto-backup-2025-03-01-12-00-00-Deleted Project\":{\"gearList\":\"x\"},"
    "\"auto-backup-2025-03-01-12-00-00\":{\"gearList\":\"y\"},"
    "\"auto-backup-nonsense\":{\"gearList\":\"z\"}},"
    "\"setups\":{\"auto-backup-2025-03-01-13-50-00-Night Exterior\":{\"camera\":\"C\"}}}}");
  CpsPlannerProject *night = cps_planner_file_find_project (file, "Night");
  CpsPlannerProject *exterior = cps_planner_file_find_project (file, "Night Exterior");
  GListModel *orphans = cps_planner_file_get_orphan_backups (file);
  g_autoptr (CpsPlannerProject) first = NULL;
  GDateTime *time;

  g_assert_cmpuint (g_list_model_get_n_items (cps_planner_file_get_projects (file)), ==, 2);
  g_assert_cmpuint (cps_planner_project_get_auto_backup_count (exterior), ==, 3);
  g_assert_cmpuint (cps_planner_project_get_auto_backup_count (night), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (orphans), ==, 3);

  first = g_list_model_get_item (cps_planner_project_get_auto_backups (exterior), 0);
  g_assert_cmpstr (cps_planner_project_get_name (first), ==,
                   "auto-backup-2025-03-01-13-40-Night Exterior");
  time = cps_planner_project_get_backup_time (first);
  g_assert_nonnull (time);
  g_assert_cmpint (g_date_time_get_hour (time), ==, 13);
  g_assert_cmpint (g_date_time_get_minute (time), ==, 40);
  g_assert_true (cps_planner_project_is_auto_backup (first));
  g_assert_false (cps_planner_project_is_auto_backup (exterior));

  /* The auto-backup's setup half is merged like a project's. */
  {
    g_autoptr (CpsPlannerProject) with_setup =
      g_list_model_get_item (cps_planner_project_get_auto_backups (exterior), 1);
    g_assert_cmpstr (cps_json_object_get_string (cps_planner_project_get_root (with_setup),
                                                 "camera"),
                     ==, "C");
  }
}

static void
test_restore_tolerance (void)
{
  /* Legacy root-level data, projects as an array, appVersion. */
  g_autoptr (CpsPlannerFile) legacy = load_string (
    "{\"appVersion\":\"1.0.1\",\"setups\":{\"A\":{\"camera\":\"X\"}},"
    "\"projects\":[{\"name\":\"A\",\"project\":{\"gearList\":\"g\"}},{\"bad\":1}]}");
  /* payload instead of data, settings as a JSON string. */
  g_autoptr (CpsPlannerFile) payload = load_string (
    "{\"applicationVersion\":\"1.0.2\",\"storage\":\"{\\\"darkMode\\\":\\\"true\\\"}\","
    "\"payload\":{\"project\":{\"B\":{\"gearList\":\"g\"}}}}");
  /* Nothing at all: the planner refuses it. */
  g_autoptr (CpsPlannerFile) empty = load_string (
    "{\"version\":\"1.0.53\",\"settings\":{},\"sessionStorage\":{},\"data\":{}}");
  CpsPlannerProject *a;

  g_assert_cmpint (cps_planner_file_get_kind (legacy), ==, CPS_PLANNER_KIND_FULL_BACKUP);
  g_assert_cmpstr (cps_planner_file_get_version (legacy), ==, "1.0.1");
  a = cps_planner_file_find_project (legacy, "A");
  g_assert_nonnull (a);
  g_assert_cmpstr (cps_json_object_get_string (cps_planner_project_get_root (a), "camera"), ==,
                   "X");
  g_assert_cmpstr (cps_json_object_get_string (cps_planner_project_get_root (a), "gearList"), ==,
                   "g");
  g_assert_true (has_finding (cps_planner_file_get_findings (legacy), CPS_SEVERITY_WARNING,
                              "$.projects[1]", "name"));

  g_assert_cmpstr (cps_planner_file_get_version (payload), ==, "1.0.2");
  g_assert_nonnull (cps_planner_file_find_project (payload, "B"));
  g_assert_true (has_finding (cps_planner_project_get_findings (
                                cps_planner_file_find_project (payload, "B")),
                              CPS_SEVERITY_INFO, "$.payload.project.B", "no saved setup"));

  g_assert_cmpint (cps_planner_file_get_kind (empty), ==, CPS_PLANNER_KIND_FULL_BACKUP);
  g_assert_true (has_finding (cps_planner_file_get_findings (empty), CPS_SEVERITY_ERROR, NULL,
                              "refuses to restore"));
}

static void
test_bundle_aliases (void)
{
  g_autoptr (CpsPlannerFile) file = load_string (
    "{\"s\":\"Short\",\"c\":\"Cam\",\"p\":\"V-Mount\",\"b\":\"Batt\",\"o\":[\"M\"],"
    "\"t\":{\"type\":\"camera-power-planner/project-bundle\",\"version\":\"1.0.53\"}}");
  CpsPlannerProject *project = project_at (file, 0);
  const CpsJsonNode *root = cps_planner_project_get_root (project);

  g_assert_cmpint (cps_planner_file_get_kind (file), ==, CPS_PLANNER_KIND_PROJECT_BUNDLE);
  g_assert_cmpstr (cps_planner_project_get_name (project), ==, "Short");
  g_assert_cmpstr (cps_json_object_get_string (root, "camera"), ==, "Cam");
  g_assert_cmpstr (cps_json_object_get_string (root, "battery"), ==, "Batt");
  /* Each short key is expanded once: “p” becomes batteryPlate, not battery. */
  g_assert_cmpstr (cps_json_object_get_string (root, "batteryPlate"), ==, "V-Mount");
  g_assert_cmpuint (root->n, ==, 6);
  g_assert_nonnull (cps_json_object_get (root, "motors"));
  g_assert_cmpstr (cps_planner_file_get_version (file), ==, "1.0.53");
  g_assert_true (has_finding (cps_planner_project_get_findings (project), CPS_SEVERITY_INFO, NULL,
                              "one-letter"));
}

static void
test_summary (void)
{
  g_autoptr (CpsPlannerFile) file = load_fixture ("Night Exterior.json");
  g_autoptr (GPtrArray) items = cps_planner_project_summarize (project_at (file, 0));
  gboolean camera = FALSE, battery = FALSE, crew = FALSE, motors = FALSE;

  for (guint i = 0; i < items->len; i++)
    {
      const CpsSummaryItem *item = g_ptr_array_index (items, i);
      if (g_str_equal (item->label, "Camera"))
        camera = g_str_equal (item->value, "Example Cinema Camera X1");
      if (g_str_equal (item->label, "Battery"))
        battery = g_str_equal (item->value, "Example 150Wh V-Mount");
      if (g_str_equal (item->section, "Crew"))
        crew = g_str_equal (item->value, "Alex Example (DoP)");
      if (g_str_equal (item->label, "Lens motors"))
        motors = g_str_equal (item->value, "Example Lens Motor");
      g_assert_cmpstr (item->value, !=, "");
    }
  g_assert_true (camera && battery && crew && motors);
}

static void
store_result_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
test_load_async (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "planner", BACKUP, NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (CpsPlannerFile) loaded = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) cancelled_result = NULL;

  cps_planner_file_load_async (file, NULL, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  loaded = cps_planner_file_load_finish (result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (cps_planner_file_get_projects (loaded)), ==, 3);

  g_cancellable_cancel (cancellable);
  cps_planner_file_load_async (file, cancellable, store_result_cb,
                               &cancelled_result);
  while (cancelled_result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (cps_planner_file_load_finish (cancelled_result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/planner/fixture-kinds", test_fixture_kinds);
  g_test_add_func ("/planner/fixture-checksums", test_fixture_checksums);
  g_test_add_func ("/planner/backup-projects", test_backup_projects);
  g_test_add_func ("/planner/derivation-lossless", test_derivation_lossless);
  g_test_add_func ("/planner/derivation-conflict-kept", test_derivation_conflict_kept);
  g_test_add_func ("/planner/derivation-strays-kept", test_derivation_strays_kept);
  g_test_add_func ("/planner/derivation-many-keys", test_derivation_many_keys);
  g_test_add_func ("/planner/bundle-round-trip", test_bundle_round_trip);
  g_test_add_func ("/planner/auto-backups", test_auto_backups);
  g_test_add_func ("/planner/restore-tolerance", test_restore_tolerance);
  g_test_add_func ("/planner/bundle-aliases", test_bundle_aliases);
  g_test_add_func ("/planner/summary", test_summary);
  g_test_add_func ("/planner/load-async", test_load_async);

  return g_test_run ();
}
