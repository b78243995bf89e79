/* fuzz-planner.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libFuzzer target for the planner format reader. Whatever the bytes, the
 * reader must return a file object whose every part can be shown and used:
 * each project (and each auto-backup under it) has a name, a document, a
 * content checksum that is the checksum of that document, a summary and a
 * bundle the reader recognises again with the same content; every finding
 * is well formed. Crashes, leaks, sanitizer reports and GLib criticals all
 * count as failures.
 */

#define G_LOG_DOMAIN "fuzz-planner"

#include "config.h"

#include "fuzz-common.h"

/* The bundle importer reads one-letter keys as the planner's short aliases
 * (PLANNER-FORMATS.md), so a document that carries such a key as data does
 * not survive export and import unchanged; that is the planner's own rule,
 * not a reader bug. */
static gboolean
has_short_key (const CpsJsonNode *root)
{
  for (guint i = 0; cps_json_node_get_type (root) == CPS_JSON_OBJECT && i < root->n; i++)
    if (root->v.members[i].key_len == 1)
      return TRUE;
  return FALSE;
}

/* A project document is built from parsed objects, whose duplicate keys the
 * reader has already resolved; the top level the reader assembles itself
 * must not repeat a key either, or the canonical form is not RFC 8785's. */
static void
check_unique_keys (const CpsJsonNode *root, const char *name)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  if (cps_json_node_get_type (root) != CPS_JSON_OBJECT)
    return;
  for (guint i = 0; i < root->n; i++)
    {
      const CpsJsonMember *m = &root->v.members[i];

      if (strlen (m->key) == m->key_len && !g_hash_table_add (seen, (gpointer) m->key))
        fuzz_fail ("the document of project “%s” has the key “%s” twice", name, m->key);
    }
}

static void
check_summary (CpsPlannerProject *project)
{
  g_autoptr (GPtrArray) summary = cps_planner_project_summarize (project);

  fuzz_assert (summary != NULL);
  for (guint i = 0; i < summary->len; i++)
    {
      const CpsSummaryItem *item = g_ptr_array_index (summary, i);

      fuzz_assert (item != NULL);
      fuzz_assert (item->section != NULL && g_utf8_validate (item->section, -1, NULL));
      fuzz_assert (item->label != NULL && g_utf8_validate (item->label, -1, NULL));
      fuzz_assert (item->value != NULL && g_utf8_validate (item->value, -1, NULL));
    }
}

static void
check_bundle (CpsPlannerProject *project, const CpsJsonNode *root, const char *content_checksum)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsPlannerFile) again = NULL;
  g_autoptr (CpsPlannerProject) reread = NULL;
  g_autofree char *bundle = NULL;
  const CpsJsonNode *reread_root;
  gsize length = 0;

  bundle = cps_planner_project_to_bundle (project, &length, &error);
  if (bundle == NULL)
    {
      /* Only a document without a canonical form (a number beyond the
       * double range) cannot be written. */
      if (content_checksum != NULL)
        fuzz_fail ("project “%s” has a content checksum but no bundle: %s",
                   cps_planner_project_get_name (project), error ? error->message : "(none)");
      fuzz_assert (error != NULL);
      return;
    }
  fuzz_assert (error == NULL);
  if (content_checksum == NULL)
    fuzz_fail ("project “%s” has a bundle but no content checksum",
               cps_planner_project_get_name (project));
  fuzz_check_text (bundle, length, "bundle");

  /* What we export, we read back as one project bundle with the same
   * content. */
  again = cps_planner_file_new_from_data ("bundle.json", bundle, length);
  fuzz_assert (again != NULL);
  if (cps_planner_file_get_kind (again) != CPS_PLANNER_KIND_PROJECT_BUNDLE)
    fuzz_fail ("the bundle of “%s” reads back as %s:\n%.*s", cps_planner_project_get_name (project),
               cps_planner_kind_to_string (cps_planner_file_get_kind (again)),
               (int) MIN (length, 2000), bundle);
  fuzz_assert (g_list_model_get_n_items (cps_planner_file_get_projects (again)) == 1);
  reread = g_list_model_get_item (cps_planner_file_get_projects (again), 0);
  reread_root = cps_planner_project_get_root (reread);
  if (has_short_key (root))
    return;
  if (!cps_json_node_equal (root, reread_root))
    fuzz_fail ("the bundle of “%s” reads back as a different document:\n%.*s",
               cps_planner_project_get_name (project), (int) MIN (length, 2000), bundle);
  if (g_strcmp0 (content_checksum, cps_planner_project_get_content_checksum (reread)) != 0)
    fuzz_fail ("the bundle of “%s” reads back with content checksum %s instead of %s",
               cps_planner_project_get_name (project),
               cps_planner_project_get_content_checksum (reread), content_checksum);
}

static void
check_project (CpsPlannerProject *project, gboolean under_owner)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = NULL;
  CpsJsonDocument *document;
  const CpsJsonNode *root;
  const char *name;
  const char *content_checksum;
  GListModel *backups;
  guint n_backups;

  fuzz_assert (CPS_IS_PLANNER_PROJECT (project));
  name = cps_planner_project_get_name (project);
  fuzz_assert (name != NULL && g_utf8_validate (name, -1, NULL));
  (void) cps_planner_project_get_source_name (project);
  fuzz_check_findings (cps_planner_project_get_findings (project), name);
  fuzz_assert (cps_planner_project_get_status (project)
               == cps_findings_worst (cps_planner_project_get_findings (project)));

  document = cps_planner_project_get_document (project);
  fuzz_assert (document != NULL);
  root = cps_planner_project_get_root (project);
  fuzz_assert (root != NULL && root == cps_json_document_get_root (document));
  check_unique_keys (root, name);

  /* The content checksum is the checksum of this very document. */
  content_checksum = cps_planner_project_get_content_checksum (project);
  expected = cps_checksum_content (root, &error);
  if (content_checksum != NULL)
    {
      fuzz_check_checksum (content_checksum, name);
      if (g_strcmp0 (content_checksum, expected) != 0)
        fuzz_fail ("project “%s”: content checksum %s, but its document gives %s", name,
                   content_checksum, expected ? expected : "(none)");
    }
  else
    {
      if (expected != NULL)
        fuzz_fail ("project “%s” has no content checksum, but its document gives %s", name,
                   expected);
      fuzz_assert (cps_planner_project_get_status (project) == CPS_SEVERITY_ERROR);
    }

  check_summary (project);
  check_bundle (project, root, content_checksum);

  if (under_owner)
    {
      fuzz_assert (cps_planner_project_is_auto_backup (project));
      fuzz_assert (cps_planner_project_get_backup_time (project) != NULL);
    }

  backups = cps_planner_project_get_auto_backups (project);
  fuzz_assert (backups != NULL);
  n_backups = g_list_model_get_n_items (backups);
  fuzz_assert (cps_planner_project_get_auto_backup_count (project) == n_backups);
  if (under_owner)
    fuzz_assert (n_backups == 0);
  for (guint i = 0; i < n_backups; i++)
    {
      g_autoptr (CpsPlannerProject) backup = g_list_model_get_item (backups, i);
      check_project (backup, TRUE);
    }
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_make_warnings_fatal ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (CpsPlannerFile) file = NULL;
  g_autofree char *checksum = NULL;
  GListModel *projects;
  GListModel *orphans;
  CpsPlannerKind kind;
  guint n;

  file = cps_planner_file_new_from_data ("fuzz.json", (const char *) data, size);
  fuzz_assert (CPS_IS_PLANNER_FILE (file));

  kind = cps_planner_file_get_kind (file);
  fuzz_assert (kind <= CPS_PLANNER_KIND_DIAGNOSTICS_LOG);
  fuzz_assert (cps_planner_kind_to_string (kind) != NULL);
  fuzz_assert (cps_planner_kind_to_label (kind) != NULL);
  fuzz_assert (cps_planner_file_get_file (file) == NULL);
  fuzz_assert (g_strcmp0 (cps_planner_file_get_display_name (file), "fuzz.json") == 0);
  if (cps_planner_file_get_version (file) != NULL)
    fuzz_assert (g_utf8_validate (cps_planner_file_get_version (file), -1, NULL));
  if (cps_planner_file_get_created_at (file) != NULL)
    fuzz_assert (g_utf8_validate (cps_planner_file_get_created_at (file), -1, NULL));
  fuzz_assert (cps_planner_file_get_size (file) == size);

  checksum = cps_checksum_bytes (data, size);
  fuzz_assert (g_strcmp0 (cps_planner_file_get_checksum (file), checksum) == 0);

  fuzz_check_findings (cps_planner_file_get_findings (file), "file");
  fuzz_assert (cps_planner_file_get_status (file)
               >= cps_findings_worst (cps_planner_file_get_findings (file)));
  if (cps_planner_file_get_document (file) == NULL)
    fuzz_assert (cps_planner_file_get_status (file) == CPS_SEVERITY_ERROR);

  projects = cps_planner_file_get_projects (file);
  fuzz_assert (projects != NULL);
  n = g_list_model_get_n_items (projects);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CpsPlannerProject) project = g_list_model_get_item (projects, i);
      const char *name = cps_planner_project_get_name (project);
      CpsPlannerProject *found;

      check_project (project, FALSE);
      found = cps_planner_file_find_project (file, name);
      fuzz_assert (found != NULL);
      fuzz_assert (g_strcmp0 (cps_planner_project_get_name (found), name) == 0);
      fuzz_assert (cps_planner_file_get_status (file) >= cps_planner_project_get_status (project));
    }

  orphans = cps_planner_file_get_orphan_backups (file);
  fuzz_assert (orphans != NULL);
  n = g_list_model_get_n_items (orphans);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CpsPlannerProject) orphan = g_list_model_get_item (orphans, i);
      check_project (orphan, FALSE);
    }

  return 0;
}
