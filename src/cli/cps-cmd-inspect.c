/* cps-cmd-inspect.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `cps inspect` and `cps checksum`: what a file contains.
 */

#define G_LOG_DOMAIN "cps"

#include "config.h"

#include <glib/gi18n.h>

#include "cps-cli.h"

static void
print_project (CpsPlannerProject *project, gboolean summary)
{
  const char *checksum = cps_planner_project_get_content_checksum (project);
  GListModel *backups = cps_planner_project_get_auto_backups (project);
  guint n_backups = g_list_model_get_n_items (backups);

  g_autoptr (GPtrArray) items = summary ? cps_planner_project_summarize (project) : NULL;
  g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  guint width;

  g_ptr_array_add (labels, g_strdup (_("Content checksum:")));
  for (guint i = 0; items != NULL && i < items->len; i++)
    {
      const CpsSummaryItem *item = g_ptr_array_index (items, i);
      /* Translators: a field label followed by its value, e.g. “Camera:” */
      g_ptr_array_add (labels, g_strdup_printf (_("%s:"), item->label));
    }
  width = cps_cli_label_width ((const char *const *) labels->pdata, labels->len, 4);

  g_print ("\n  %s\n", cps_planner_project_get_name (project));
  cps_cli_print_field ("    ", width, g_ptr_array_index (labels, 0),
                       checksum ? checksum : _("(none)"));
  for (guint i = 0; items != NULL && i < items->len; i++)
    {
      const CpsSummaryItem *item = g_ptr_array_index (items, i);
      cps_cli_print_field ("    ", width, g_ptr_array_index (labels, i + 1), item->value);
    }

  if (n_backups > 0)
    {
      g_print ("    ");
      g_print (g_dngettext (GETTEXT_PACKAGE, "%u auto-backup:", "%u auto-backups:", n_backups),
               n_backups);
      g_print ("\n");
    }
  for (guint i = 0; i < n_backups; i++)
    {
      g_autoptr (CpsPlannerProject) backup = g_list_model_get_item (backups, i);
      const char *backup_checksum = cps_planner_project_get_content_checksum (backup);
      g_print ("      %s  %s\n", backup_checksum ? backup_checksum : _("(none)"),
               cps_planner_project_get_name (backup));
    }
  cps_cli_print_findings (cps_planner_project_get_findings (project), "    ");
}

static CpsPlannerFile *
load_or_report (const char *path)
{
  g_autoptr (GFile) file = g_file_new_for_commandline_arg (path);
  g_autoptr (GError) error = NULL;
  CpsPlannerFile *result = cps_planner_file_load (file, NULL, &error);

  if (result == NULL)
    cps_cli_error ("%s", error->message);
  return result;
}

int
cps_cmd_inspect (int argc, char **argv)
{
  gboolean json = FALSE;
  g_auto (GStrv) files = NULL;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Write JSON"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_("FILE — show what a planner file "
                                                               "contains"));
  g_autoptr (CpsPlannerFile) planner_file = NULL;
  GListModel *projects, *orphans;
  guint64 size;
  guint width;
  g_autofree char *size_text = NULL;

  if (!cps_cli_parse_entries (context, entries, &argc, &argv))
    return CPS_EXIT_USAGE;
  if (files == NULL || g_strv_length (files) != 1)
    {
      cps_cli_usage_error ("inspect", _("Give exactly one file."));
      return CPS_EXIT_USAGE;
    }

  planner_file = load_or_report (files[0]);
  if (planner_file == NULL)
    return CPS_EXIT_USAGE;

  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (builder);
      cps_cli_add_file_json (builder, planner_file);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      cps_cli_print_json (root);
      return cps_planner_file_get_status (planner_file) == CPS_SEVERITY_ERROR ? CPS_EXIT_PROBLEMS
                                                                             : CPS_EXIT_OK;
    }

  {
    const char *header_labels[] = { _("Kind:"), _("Planner version:"), _("Written:"),
                                    _("Size:"), _("File checksum:") };
    width = cps_cli_label_width (header_labels, G_N_ELEMENTS (header_labels), 2);
  }
  size = cps_planner_file_get_size (planner_file);
  size_text = g_format_size (size);
  g_print ("%s\n", files[0]);
  cps_cli_print_field ("  ", width, _("Kind:"),
                       cps_planner_kind_to_label (cps_planner_file_get_kind (planner_file)));
  if (cps_planner_file_get_version (planner_file) != NULL)
    cps_cli_print_field ("  ", width, _("Planner version:"),
                         cps_planner_file_get_version (planner_file));
  if (cps_planner_file_get_created_at (planner_file) != NULL)
    cps_cli_print_field ("  ", width, _("Written:"), cps_planner_file_get_created_at (planner_file));
  {
    g_autofree char *bytes = g_strdup_printf ("%" G_GUINT64_FORMAT, size);
    /* Translators: a file size, e.g. “42.3 kB (42301 bytes)” */
    g_autofree char *size_line = g_strdup_printf (_("%s (%s bytes)"), size_text, bytes);
    cps_cli_print_field ("  ", width, _("Size:"), size_line);
  }
  cps_cli_print_field ("  ", width, _("File checksum:"), cps_planner_file_get_checksum (planner_file));
  cps_cli_print_findings (cps_planner_file_get_findings (planner_file), "  ");

  projects = cps_planner_file_get_projects (planner_file);
  for (guint i = 0; i < g_list_model_get_n_items (projects); i++)
    {
      g_autoptr (CpsPlannerProject) project = g_list_model_get_item (projects, i);
      print_project (project, TRUE);
    }

  orphans = cps_planner_file_get_orphan_backups (planner_file);
  if (g_list_model_get_n_items (orphans) > 0)
    g_print ("\n  %s\n", _("Auto-backups of projects not in this file:"));
  for (guint i = 0; i < g_list_model_get_n_items (orphans); i++)
    {
      g_autoptr (CpsPlannerProject) backup = g_list_model_get_item (orphans, i);
      const char *checksum = cps_planner_project_get_content_checksum (backup);
      g_print ("    %s  %s\n", checksum ? checksum : _("(none)"),
               cps_planner_project_get_name (backup));
    }

  return cps_planner_file_get_status (planner_file) == CPS_SEVERITY_ERROR ? CPS_EXIT_PROBLEMS
                                                                         : CPS_EXIT_OK;
}

int
cps_cmd_checksum (int argc, char **argv)
{
  gboolean json = FALSE;
  g_autofree char *project_name = NULL;
  g_auto (GStrv) files = NULL;
  const GOptionEntry entries[] = {
    { "project", 'p', 0, G_OPTION_ARG_STRING, &project_name,
      N_("Print only the content checksum of this project"), N_("NAME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Write JSON"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new (_("FILE — print the file checksum and each project’s content "
                            "checksum"));
  g_autoptr (CpsPlannerFile) planner_file = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  GListModel *projects;
  int status = CPS_EXIT_OK;

  if (!cps_cli_parse_entries (context, entries, &argc, &argv))
    return CPS_EXIT_USAGE;
  if (files == NULL || g_strv_length (files) != 1)
    {
      cps_cli_usage_error ("checksum", _("Give exactly one file."));
      return CPS_EXIT_USAGE;
    }

  planner_file = load_or_report (files[0]);
  if (planner_file == NULL)
    return CPS_EXIT_USAGE;

  if (project_name != NULL)
    {
      CpsPlannerProject *project = cps_planner_file_find_project (planner_file, project_name);
      const char *checksum;

      if (project == NULL)
        {
          cps_cli_error (_("“%s” has no project called “%s”. Run “cps inspect %s” to list its "
                           "projects."),
                         files[0], project_name, files[0]);
          return CPS_EXIT_PROBLEMS;
        }
      checksum = cps_planner_project_get_content_checksum (project);
      if (checksum == NULL)
        {
          cps_cli_print_findings (cps_planner_project_get_findings (project), "");
          return CPS_EXIT_PROBLEMS;
        }
      if (json)
        {
          g_autoptr (JsonNode) root = NULL;
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "project");
          json_builder_add_string_value (builder, project_name);
          json_builder_set_member_name (builder, "content_checksum");
          json_builder_add_string_value (builder, checksum);
          json_builder_end_object (builder);
          root = json_builder_get_root (builder);
          cps_cli_print_json (root);
        }
      else
        g_print ("%s\n", checksum);
      return CPS_EXIT_OK;
    }

  projects = cps_planner_file_get_projects (planner_file);
  if (json)
    {
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "file");
      json_builder_add_string_value (builder, files[0]);
      json_builder_set_member_name (builder, "checksum");
      json_builder_add_string_value (builder, cps_planner_file_get_checksum (planner_file));
      json_builder_set_member_name (builder, "projects");
      json_builder_begin_array (builder);
    }
  else
    g_print ("%s  %s\n", cps_planner_file_get_checksum (planner_file), files[0]);

  for (guint i = 0; i < g_list_model_get_n_items (projects); i++)
    {
      g_autoptr (CpsPlannerProject) project = g_list_model_get_item (projects, i);
      const char *checksum = cps_planner_project_get_content_checksum (project);

      if (checksum == NULL)
        status = CPS_EXIT_PROBLEMS;
      if (json)
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, cps_planner_project_get_name (project));
          json_builder_set_member_name (builder, "content_checksum");
          if (checksum != NULL)
            json_builder_add_string_value (builder, checksum);
          else
            json_builder_add_null_value (builder);
          json_builder_end_object (builder);
        }
      else
        g_print ("%s  %s#%s\n", checksum ? checksum : _("(no canonical form)"), files[0],
                 cps_planner_project_get_name (project));
    }

  if (json)
    {
      g_autoptr (JsonNode) root = NULL;
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      cps_cli_print_json (root);
    }
  if (cps_planner_file_get_document (planner_file) == NULL)
    status = CPS_EXIT_PROBLEMS;
  return status;
}
