/* cps-cmd-export.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `cps export-bundle BACKUP --project NAME -o OUT`.
 */

#define G_LOG_DOMAIN "cps"

#include "config.h"

#include <glib/gi18n.h>

#include "cps-cli.h"

int
cps_cmd_export_bundle (int argc, char **argv)
{
  gboolean json = FALSE;
  gboolean force = FALSE;
  g_autofree char *project_name = NULL;
  g_autofree char *output = NULL;
  g_auto (GStrv) files = NULL;
  const GOptionEntry entries[] = {
    { "project", 'p', 0, G_OPTION_ARG_STRING, &project_name, N_("The project to export"),
      N_("NAME") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Where to write the bundle"),
      N_("FILE") },
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, N_("Replace the output file if it exists"),
      NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Write a JSON report"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new (_("BACKUP — write one project as a bundle the planner imports"));
  g_autoptr (GFile) input = NULL;
  g_autoptr (GFile) out_file = NULL;
  g_autoptr (CpsPlannerFile) planner_file = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *bundle = NULL;
  CpsPlannerProject *project;
  gsize length;

  if (!cps_cli_parse_entries (context, entries, &argc, &argv))
    return CPS_EXIT_USAGE;
  if (files == NULL || g_strv_length (files) != 1)
    {
      cps_cli_usage_error ("export-bundle", _("Give exactly one backup file."));
      return CPS_EXIT_USAGE;
    }
  if (project_name == NULL || output == NULL)
    {
      cps_cli_usage_error ("export-bundle", _("Both --project and --output are required."));
      return CPS_EXIT_USAGE;
    }

  input = g_file_new_for_commandline_arg (files[0]);
  planner_file = cps_planner_file_load (input, NULL, &error);
  if (planner_file == NULL)
    {
      cps_cli_error ("%s", error->message);
      return CPS_EXIT_USAGE;
    }

  project = cps_planner_file_find_project (planner_file, project_name);
  if (project == NULL)
    {
      GListModel *projects = cps_planner_file_get_projects (planner_file);
      guint n = g_list_model_get_n_items (projects);

      cps_cli_error (_("“%s” has no project called “%s”."), files[0], project_name);
      if (n > 0)
        g_printerr ("%s\n", _("Its projects are:"));
      for (guint i = 0; i < n; i++)
        {
          g_autoptr (CpsPlannerProject) p = g_list_model_get_item (projects, i);
          g_printerr ("  %s\n", cps_planner_project_get_name (p));
        }
      if (cps_planner_file_get_document (planner_file) == NULL)
        cps_cli_print_findings (cps_planner_file_get_findings (planner_file), "  ");
      return CPS_EXIT_PROBLEMS;
    }

  bundle = cps_planner_project_to_bundle (project, &length, &error);
  if (bundle == NULL)
    {
      cps_cli_error (_("The project cannot be written as a bundle: %s"), error->message);
      return CPS_EXIT_PROBLEMS;
    }

  /* Written to a temporary file and renamed, so an existing file is never
   * left half-written. */
  out_file = g_file_new_for_commandline_arg (output);
  if (!force && g_file_query_exists (out_file, NULL))
    {
      cps_cli_error (_("“%s” already exists; choose another name or add --force to replace "
                       "it."),
                     output);
      return CPS_EXIT_PROBLEMS;
    }
  if (!g_file_replace_contents (out_file, bundle, length, NULL, FALSE, G_FILE_CREATE_NONE, NULL,
                                NULL, &error))
    {
      cps_cli_error (_("Cannot write “%s”: %s"), output, error->message);
      return CPS_EXIT_PROBLEMS;
    }

  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      g_autofree char *file_checksum = cps_checksum_bytes (bundle, length);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "project");
      json_builder_add_string_value (builder, project_name);
      json_builder_set_member_name (builder, "output");
      json_builder_add_string_value (builder, output);
      json_builder_set_member_name (builder, "checksum");
      json_builder_add_string_value (builder, file_checksum);
      json_builder_set_member_name (builder, "content_checksum");
      json_builder_add_string_value (builder, cps_planner_project_get_content_checksum (project));
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      cps_cli_print_json (root);
    }
  else
    g_print (_("Wrote “%s” to %s (content checksum %s)\n"), project_name, output,
             cps_planner_project_get_content_checksum (project));
  return CPS_EXIT_OK;
}
