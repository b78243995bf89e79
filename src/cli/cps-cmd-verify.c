/* cps-cmd-verify.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `cps verify FILE... [--sums SHA256SUMS]`: one line per file saying whether
 * it is intact.
 */

#define G_LOG_DOMAIN "cps"

#include "config.h"

#include <glib/gi18n.h>

#include "cps-cli.h"

typedef enum
{
  VERDICT_OK,
  VERDICT_DAMAGED,
  VERDICT_MISMATCH,
  VERDICT_UNREADABLE,
} Verdict;

static const char *
verdict_to_string (Verdict verdict)
{
  switch (verdict)
    {
    case VERDICT_OK:
      return "ok";
    case VERDICT_DAMAGED:
      return "damaged";
    case VERDICT_MISMATCH:
      return "mismatch";
    case VERDICT_UNREADABLE:
    default:
      return "unreadable";
    }
}

static const char *
sums_to_string (CpsSidecarResult result)
{
  switch (result)
    {
    case CPS_SIDECAR_MATCH:
      return "match";
    case CPS_SIDECAR_MISMATCH:
      return "mismatch";
    case CPS_SIDECAR_NOT_LISTED:
    default:
      return "not-listed";
    }
}

static char *
describe_ok (CpsPlannerFile *file, guint warnings, CpsSidecar *sums, CpsSidecarResult result)
{
  guint n = g_list_model_get_n_items (cps_planner_file_get_projects (file));
  GString *text = g_string_new (cps_planner_kind_to_label (cps_planner_file_get_kind (file)));

  if (n > 0)
    {
      g_string_append (text, ", ");
      g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u project", "%u projects", n),
                              n);
    }
  if (warnings > 0)
    {
      g_string_append (text, ", ");
      g_string_append_printf (text,
                              g_dngettext (GETTEXT_PACKAGE, "%u warning", "%u warnings", warnings),
                              warnings);
    }
  if (sums != NULL && result == CPS_SIDECAR_MATCH)
    g_string_append_printf (text, ", %s", _("checksum matches the list"));
  else if (sums != NULL)
    g_string_append_printf (text, ", %s", _("not in the checksum list"));
  return g_string_free (text, FALSE);
}

int
cps_cmd_verify (int argc, char **argv)
{
  gboolean json = FALSE;
  gboolean verbose = FALSE;
  g_autofree char *sums_path = NULL;
  g_auto (GStrv) files = NULL;
  const GOptionEntry entries[] = {
    { "sums", 's', 0, G_OPTION_ARG_FILENAME, &sums_path,
      N_("Also check each file against this sha256sum-format list"), N_("FILE") },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("List every finding of every file"),
      NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Write JSON"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new (_("FILE… — check that planner files are intact"));
  g_autoptr (CpsSidecar) sums = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  guint n_files, counts[4] = { 0 };
  int status = CPS_EXIT_OK;

  g_option_context_set_description (context,
                                    _("Exit status: 0 every file intact, 1 problems found, "
                                      "2 usage error or unreadable file."));
  if (!cps_cli_parse_entries (context, entries, &argc, &argv))
    return CPS_EXIT_USAGE;
  if (files == NULL || files[0] == NULL)
    {
      cps_cli_usage_error ("verify", _("Give at least one file."));
      return CPS_EXIT_USAGE;
    }

  if (sums_path != NULL)
    {
      g_autoptr (GFile) sums_file = g_file_new_for_commandline_arg (sums_path);
      g_autoptr (GError) error = NULL;

      sums = cps_sidecar_load (sums_file, NULL, &error);
      if (sums == NULL)
        {
          cps_cli_error ("%s", error->message);
          return CPS_EXIT_USAGE;
        }
      if (!json)
        cps_cli_print_findings (cps_sidecar_get_findings (sums), "");
      if (cps_findings_worst (cps_sidecar_get_findings (sums)) == CPS_SEVERITY_ERROR)
        status = CPS_EXIT_PROBLEMS;
    }

  if (json)
    {
      json_builder_begin_object (builder);
      if (sums != NULL)
        {
          json_builder_set_member_name (builder, "sums_findings");
          cps_cli_add_findings_json (builder, cps_sidecar_get_findings (sums));
        }
      json_builder_set_member_name (builder, "files");
      json_builder_begin_array (builder);
    }

  n_files = g_strv_length (files);
  for (guint i = 0; i < n_files; i++)
    {
      g_autoptr (GFile) file = g_file_new_for_commandline_arg (files[i]);
      g_autofree char *basename = g_file_get_basename (file);
      g_autoptr (GError) error = NULL;
      g_autoptr (CpsPlannerFile) planner_file = NULL;
      CpsSidecarResult sums_result = CPS_SIDECAR_NOT_LISTED;
      Verdict verdict;
      guint errors = 0, warnings = 0;

      cps_cli_progress (_("Verifying %u of %u: %s"), i + 1, n_files, basename);
      planner_file = cps_planner_file_load (file, NULL, &error);
      cps_cli_progress_done ();

      if (planner_file == NULL)
        verdict = VERDICT_UNREADABLE;
      else
        {
          errors = cps_cli_count_all_findings (planner_file, CPS_SEVERITY_ERROR);
          warnings = cps_cli_count_all_findings (planner_file, CPS_SEVERITY_WARNING);
          if (sums != NULL)
            sums_result = cps_sidecar_check (sums, basename,
                                             cps_planner_file_get_checksum (planner_file));
          if (sums_result == CPS_SIDECAR_MISMATCH)
            verdict = VERDICT_MISMATCH;
          else if (errors > 0)
            verdict = VERDICT_DAMAGED;
          else
            verdict = VERDICT_OK;
        }
      counts[verdict]++;
      if (verdict == VERDICT_UNREADABLE)
        status = CPS_EXIT_USAGE;
      else if (verdict != VERDICT_OK && status == CPS_EXIT_OK)
        status = CPS_EXIT_PROBLEMS;

      if (json)
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "status");
          json_builder_add_string_value (builder, verdict_to_string (verdict));
          if (sums != NULL)
            {
              json_builder_set_member_name (builder, "sums");
              json_builder_add_string_value (builder, sums_to_string (sums_result));
            }
          if (planner_file != NULL)
            cps_cli_add_file_json (builder, planner_file);
          else
            {
              json_builder_set_member_name (builder, "file");
              json_builder_add_string_value (builder, files[i]);
              json_builder_set_member_name (builder, "error");
              json_builder_add_string_value (builder, error->message);
            }
          json_builder_end_object (builder);
          continue;
        }

      switch (verdict)
        {
        case VERDICT_OK:
          {
            g_autofree char *what = describe_ok (planner_file, warnings, sums, sums_result);
            /* Translators: “OK” starts a line of cps verify's output */
            g_print ("%s  %s (%s)\n", _("OK"), files[i], what);
          }
          break;
        case VERDICT_MISMATCH:
          {
            const char *expected = cps_sidecar_lookup (sums, basename);
            g_print ("%s  %s: %s\n", _("MISMATCH"), files[i],
                     _("the file’s SHA-256 differs from the checksum list; it was changed or "
                       "damaged after the list was made"));
            g_print ("    %s sha256:%s\n", _("listed:"), expected);
            g_print ("    %s %s\n", _("actual:"), cps_planner_file_get_checksum (planner_file));
          }
          break;
        case VERDICT_DAMAGED:
          {
            const CpsFinding *first = cps_cli_first_error (planner_file);
            g_print ("%s  %s: %s%s%s", _("FAILED"), files[i], first->path ? first->path : "",
                     first->path ? ": " : "", first->message);
            if (errors > 1)
              g_print (g_dngettext (GETTEXT_PACKAGE, " (and %u more error)",
                                    " (and %u more errors)", errors - 1),
                       errors - 1);
            g_print ("\n");
          }
          break;
        case VERDICT_UNREADABLE:
        default:
          g_print ("%s  %s: %s\n", _("UNREADABLE"), files[i], error->message);
          break;
        }

      if (verbose && planner_file != NULL)
        {
          GListModel *projects = cps_planner_file_get_projects (planner_file);
          cps_cli_print_findings (cps_planner_file_get_findings (planner_file), "    ");
          for (guint j = 0; j < g_list_model_get_n_items (projects); j++)
            {
              g_autoptr (CpsPlannerProject) project = g_list_model_get_item (projects, j);
              cps_cli_print_findings (cps_planner_project_get_findings (project), "    ");
            }
        }
    }

  if (json)
    {
      g_autoptr (JsonNode) root = NULL;

      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "summary");
      json_builder_begin_object (builder);
      for (Verdict v = VERDICT_OK; v <= VERDICT_UNREADABLE; v++)
        {
          json_builder_set_member_name (builder, verdict_to_string (v));
          json_builder_add_int_value (builder, counts[v]);
        }
      json_builder_end_object (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      cps_cli_print_json (root);
    }
  else if (n_files > 1)
    g_print (_("%u intact, %u damaged, %u changed, %u unreadable\n"), counts[VERDICT_OK],
             counts[VERDICT_DAMAGED], counts[VERDICT_MISMATCH], counts[VERDICT_UNREADABLE]);

  return status;
}
