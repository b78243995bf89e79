/* cps-cmd-merge.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `cps diff A B` and `cps merge PROJECT`. A diff is the three-way merge of
 * the two sides without a common ancestor: every difference is then a
 * conflict item, with the same planner-aware paths and wording a merge uses.
 */

#define G_LOG_DOMAIN "cps"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "cps-cli.h"
#include "cps-import.h"
#include "cps-merge.h"
#include "cps-project-merge.h"

static char *store_path;
static char *project_option;

/* One side of a diff: a document and what to call it. */
typedef struct
{
  CpsJsonDocument *doc; /* owns the nodes, for file sides */
  GObject *owner;       /* keeps a revision or project alive */
  const CpsJsonNode *root;
  char *label;
  char *time;
} Side;

static void
side_clear (Side *side)
{
  g_clear_pointer (&side->doc, cps_json_document_unref);
  g_clear_object (&side->owner);
  g_clear_pointer (&side->label, g_free);
  g_clear_pointer (&side->time, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Side, side_clear)

static gboolean
load_file_side (const char *path, Side *side)
{
  g_autoptr (GFile) file = g_file_new_for_commandline_arg (path);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsPlannerFile) planner_file = cps_planner_file_load (file, NULL, &error);
  GListModel *projects;
  CpsPlannerProject *project = NULL;

  if (planner_file == NULL)
    {
      cps_cli_error ("%s", error->message);
      return FALSE;
    }
  projects = cps_planner_file_get_projects (planner_file);
  if (project_option != NULL)
    project = cps_planner_file_find_project (planner_file, project_option);
  else if (g_list_model_get_n_items (projects) == 1)
    {
      g_autoptr (CpsPlannerProject) only = g_list_model_get_item (projects, 0);
      project = only;
    }
  if (project == NULL)
    {
      cps_cli_error (_("“%s” does not hold exactly one project; name one with --project"),
                     path);
      return FALSE;
    }
  side->doc = cps_json_document_ref (cps_planner_project_get_document (project));
  side->root = cps_json_document_get_root (side->doc);
  side->label = g_path_get_basename (path);
  side->time = g_strdup (cps_planner_file_get_created_at (planner_file));
  return TRUE;
}

static gboolean
load_store_side (CpsStore **store, const char *spec, Side *side)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsStoreProject) project = NULL;
  CpsRevision *revision = NULL;

  if (*store == NULL && (*store = cps_cli_open_store (store_path)) == NULL)
    return FALSE;
  if (!cps_cli_resolve_target (*store, spec, &project, &revision, &error))
    {
      /* Without @REVISION, not found means neither a project nor a file. */
      if (strchr (spec, '@') == NULL &&
          g_error_matches (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND))
        cps_cli_error (_("“%s” is neither a file nor a local project: %s"), spec,
                       error->message);
      else
        cps_cli_error ("%s", error->message);
      return FALSE;
    }
  side->owner = G_OBJECT (revision);
  if (cps_revision_is_encrypted (revision))
    {
      cps_cli_error (_("Revision %s is encrypted and cannot be compared here"),
                     cps_revision_get_id (revision));
      return FALSE;
    }
  side->root = cps_revision_get_document (revision);
  side->label = g_strdup_printf ("%s@%.12s", project->name,
                                 cps_revision_get_id (revision) + strlen (CPS_CHECKSUM_PREFIX));
  side->time = g_strdup (cps_revision_get_created_at (revision));
  return TRUE;
}

static gboolean
load_side (CpsStore **store, const char *spec, Side *side)
{
  if (g_file_test (spec, G_FILE_TEST_EXISTS))
    return load_file_side (spec, side);
  return load_store_side (store, spec, side);
}

static void
print_value (const char *label, const CpsJsonNode *value)
{
  g_autofree char *text = value ? cps_json_to_string (value, 0, NULL, NULL) : NULL;

  /* Translators: shown for a value that one side does not have */
  g_print ("      %s %s\n", label, text ? text : _("(absent)"));
}

static void
add_node (JsonBuilder *builder, const char *name, const CpsJsonNode *value)
{
  g_autofree char *text = value ? cps_json_to_string (value, 0, NULL, NULL) : NULL;

  json_builder_set_member_name (builder, name);
  if (text == NULL)
    json_builder_add_null_value (builder);
  else
    json_builder_add_value (builder, json_from_string (text, NULL));
}

static void
add_conflicts_json (JsonBuilder *builder, CpsMerge *merge, gboolean with_ancestor)
{
  json_builder_begin_array (builder);
  for (guint i = 0; i < cps_merge_get_n_conflicts (merge); i++)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "path");
      json_builder_add_string_value (builder, cps_merge_conflict_get_path (merge, i));
      json_builder_set_member_name (builder, "label");
      json_builder_add_string_value (builder, cps_merge_conflict_get_label (merge, i));
      json_builder_set_member_name (builder, "summary");
      json_builder_add_string_value (builder, cps_merge_conflict_get_summary (merge, i));
      if (with_ancestor)
        add_node (builder, "ancestor", cps_merge_conflict_get_ancestor (merge, i));
      add_node (builder, "left", cps_merge_conflict_get_left (merge, i));
      add_node (builder, "right", cps_merge_conflict_get_right (merge, i));
      json_builder_set_member_name (builder, "choice");
      json_builder_add_string_value (
        builder, cps_merge_choice_to_string (cps_merge_conflict_get_choice (merge, i)));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

int
cps_cmd_diff (int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "store", 0, 0, G_OPTION_ARG_FILENAME, &store_path,
      N_("Use this store instead of the default (or $CPS_STORE)"), N_("FILE") },
    { "project", 'p', 0, G_OPTION_ARG_STRING, &project_option,
      N_("The project to take from files that hold several"), N_("NAME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Write JSON"), NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new (_("A B — compare two files, projects or revisions"));
  g_autoptr (CpsStore) store = NULL;
  g_auto (Side) a = { 0 };
  g_auto (Side) b = { 0 };
  g_autoptr (CpsMerge) merge = NULL;
  CpsMergeSide side_a, side_b;
  guint n;

  g_option_context_set_description (context,
                                    _("A and B are each a planner file, a local PROJECT or "
                                      "PROJECT@REVISION. Exit status: 0 identical, 1 "
                                      "different, 2 usage error."));
  if (!cps_cli_parse_entries (context, entries, &argc, &argv))
    return CPS_EXIT_USAGE;
  if (argc != 3)
    {
      cps_cli_usage_error ("diff", _("Give exactly two things to compare."));
      return CPS_EXIT_USAGE;
    }
  if (!load_side (&store, argv[1], &a) || !load_side (&store, argv[2], &b))
    return CPS_EXIT_USAGE;

  side_a = (CpsMergeSide) { a.label, a.time };
  side_b = (CpsMergeSide) { b.label, b.time };
  merge = cps_merge_new (NULL, a.root, b.root, &side_a, &side_b);
  n = cps_merge_get_n_conflicts (merge);

  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "a");
      json_builder_add_string_value (builder, a.label);
      json_builder_set_member_name (builder, "b");
      json_builder_add_string_value (builder, b.label);
      json_builder_set_member_name (builder, "differences");
      add_conflicts_json (builder, merge, FALSE);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      cps_cli_print_json (root);
    }
  else
    {
      for (guint i = 0; i < n; i++)
        {
          g_print ("%s\n", cps_merge_conflict_get_summary (merge, i));
          g_print ("    %s\n", cps_merge_conflict_get_path (merge, i));
        }
      if (n == 0)
        g_print (_("No differences: the two have the same content.\n"));
      else
        g_print (g_dngettext (GETTEXT_PACKAGE, "%u difference\n", "%u differences\n", n), n);
    }
  return n == 0 ? CPS_EXIT_OK : CPS_EXIT_PROBLEMS;
}

static gboolean
apply_take (CpsMerge *merge, const char *spec)
{
  g_autofree char *path = g_strdup (spec);
  char *eq = strrchr (path, '=');
  CpsMergeChoice choice;
  g_autoptr (GError) error = NULL;

  if (eq == NULL || !cps_merge_choice_from_string (eq + 1, &choice) ||
      choice == CPS_MERGE_CHOICE_VALUE || choice == CPS_MERGE_CHOICE_NONE)
    {
      cps_cli_usage_error ("merge", _("“%s” is not PATH=left, PATH=right or PATH=both."), spec);
      return FALSE;
    }
  *eq = '\0';
  if (!cps_merge_resolve_path (merge, path, choice, &error))
    {
      cps_cli_error ("%s", error->message);
      return FALSE;
    }
  return TRUE;
}

int
cps_cmd_merge (int argc, char **argv)
{
  gboolean json = FALSE;
  g_auto (GStrv) takes = NULL;
  g_autofree char *all = NULL;
  const GOptionEntry entries[] = {
    { "store", 0, 0, G_OPTION_ARG_FILENAME, &store_path,
      N_("Use this store instead of the default (or $CPS_STORE)"), N_("FILE") },
    { "take", 't', 0, G_OPTION_ARG_STRING_ARRAY, &takes,
      N_("Resolve one conflict: left, right or (lists) both"), N_("PATH=CHOICE") },
    { "all", 'a', 0, G_OPTION_ARG_STRING, &all,
      N_("Resolve every remaining conflict with one side"), N_("left|right") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Write JSON"), NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new (_("PROJECT — merge a conflicted project’s heads"));
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (CpsStoreProject) project = NULL;
  g_autoptr (CpsProjectMerge) project_merge = NULL;
  g_autoptr (CpsDeviceKey) key = NULL;
  g_autoptr (CpsRevision) result = NULL;
  g_autoptr (GError) error = NULL;
  CpsMerge *merge;
  guint unresolved;

  g_option_context_set_description (context,
                                    _("Without choices, lists the conflicts. A merge revision "
                                      "is written once every conflict has a choice. Exit "
                                      "status: 0 merged or nothing to merge, 1 conflicts "
                                      "remain, 2 usage error."));
  if (!cps_cli_parse_entries (context, entries, &argc, &argv))
    return CPS_EXIT_USAGE;
  if (argc != 2)
    {
      cps_cli_usage_error ("merge", _("Give exactly one project name or id."));
      return CPS_EXIT_USAGE;
    }
  if ((store = cps_cli_open_store (store_path)) == NULL)
    return CPS_EXIT_PROBLEMS;
  project = cps_store_find_project (store, argv[1], &error);
  if (project == NULL)
    {
      cps_cli_error ("%s", error->message);
      return CPS_EXIT_PROBLEMS;
    }
  if (!project->conflicted)
    {
      g_print (_("“%s” has a single head: there is nothing to merge.\n"), project->name);
      return CPS_EXIT_OK;
    }
  project_merge = cps_project_merge_new (store, project->id, &error);
  if (project_merge == NULL)
    {
      cps_cli_error ("%s", error->message);
      return CPS_EXIT_PROBLEMS;
    }
  merge = cps_project_merge_get_merge (project_merge);

  for (guint i = 0; takes != NULL && takes[i] != NULL; i++)
    if (!apply_take (merge, takes[i]))
      return CPS_EXIT_USAGE;
  if (all != NULL)
    {
      CpsMergeChoice choice;
      if (!cps_merge_choice_from_string (all, &choice) ||
          (choice != CPS_MERGE_CHOICE_LEFT && choice != CPS_MERGE_CHOICE_RIGHT))
        {
          cps_cli_usage_error ("merge", _("--all takes left or right."));
          return CPS_EXIT_USAGE;
        }
      cps_merge_resolve_all (merge, choice);
    }

  unresolved = cps_merge_get_n_unresolved (merge);
  if (unresolved == 0)
    {
      if ((key = cps_device_key_load_or_create (NULL, NULL, &error)) == NULL ||
          !cps_store_ensure_device (store, key, &error) ||
          (result = cps_project_merge_commit (project_merge, key, &error)) == NULL)
        {
          cps_cli_error ("%s", error->message);
          return CPS_EXIT_PROBLEMS;
        }
    }

  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "project");
      json_builder_add_string_value (builder, project->id);
      json_builder_set_member_name (builder, "left");
      json_builder_add_string_value (builder,
                                     cps_revision_get_id (cps_project_merge_get_left (project_merge)));
      json_builder_set_member_name (builder, "right");
      json_builder_add_string_value (builder,
                                     cps_revision_get_id (cps_project_merge_get_right (project_merge)));
      json_builder_set_member_name (builder, "conflicts");
      add_conflicts_json (builder, merge, TRUE);
      json_builder_set_member_name (builder, "merged");
      if (result != NULL)
        json_builder_add_string_value (builder, cps_revision_get_id (result));
      else
        json_builder_add_null_value (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      cps_cli_print_json (root);
    }
  else
    {
      for (guint i = 0; i < cps_merge_get_n_conflicts (merge); i++)
        {
          CpsMergeChoice choice = cps_merge_conflict_get_choice (merge, i);

          g_print ("%s\n", cps_merge_conflict_get_summary (merge, i));
          g_print ("    %s", cps_merge_conflict_get_path (merge, i));
          if (choice != CPS_MERGE_CHOICE_NONE)
            g_print (" → %s", cps_merge_choice_to_string (choice));
          g_print ("\n");
          if (choice == CPS_MERGE_CHOICE_NONE)
            {
              print_value (_("ancestor:"), cps_merge_conflict_get_ancestor (merge, i));
              print_value (_("left:"), cps_merge_conflict_get_left (merge, i));
              print_value (_("right:"), cps_merge_conflict_get_right (merge, i));
            }
        }
      if (result != NULL)
        {
          g_print (_("Merged into %s.\n"), cps_revision_get_id (result));
          if (cps_project_merge_get_n_heads (project_merge) > 2)
            g_print (_("The project still has %u heads; run “cps merge %s” again.\n"),
                     cps_project_merge_get_n_heads (project_merge) - 1, project->name);
        }
      else
        g_print (g_dngettext (GETTEXT_PACKAGE,
                              "%u conflict needs a choice: add --take PATH=left|right|both or "
                              "--all left|right.\n",
                              "%u conflicts need a choice: add --take PATH=left|right|both or "
                              "--all left|right.\n",
                              unresolved),
                 unresolved);
    }
  return result != NULL ? CPS_EXIT_OK : CPS_EXIT_PROBLEMS;
}
