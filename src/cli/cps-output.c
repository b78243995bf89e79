/* cps-output.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cps"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n.h>

#include "cps-cli.h"

static gboolean progress_shown;

gboolean
cps_cli_parse_options (GOptionContext *context, int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("cps: %s\n", error->message);
      g_printerr (_("Run “cps --help” to see the commands and their options.\n"));
      return FALSE;
    }
  return TRUE;
}

/**
 * cps_cli_parse_entries:
 *
 * Adds @entries to @context, translated, and parses the command line.
 */
gboolean
cps_cli_parse_entries (GOptionContext *context, const GOptionEntry *entries, int *argc,
                       char ***argv)
{
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  return cps_cli_parse_options (context, argc, argv);
}

/**
 * cps_cli_open_store:
 * @path: (nullable): the --store option; %NULL for $CPS_STORE or the default
 *
 * Opens the local store, reporting a failure on standard error.
 *
 * Returns: (transfer full) (nullable): the store
 */
CpsStore *
cps_cli_open_store (const char *path)
{
  g_autofree char *resolved = path ? g_strdup (path) : cps_store_default_path ();
  g_autoptr (GError) error = NULL;
  CpsStore *store = cps_store_open (resolved, &error);

  if (store == NULL)
    cps_cli_error ("%s", error->message);
  return store;
}

/**
 * cps_cli_resolve_target:
 * @spec: PROJECT or PROJECT@REVISION (an id or a unique prefix of one)
 *
 * Finds the project and the revision @spec names: the given one, or the
 * project's display winner.
 */
gboolean
cps_cli_resolve_target (CpsStore *store, const char *spec, CpsStoreProject **out_project,
                        CpsRevision **out_revision, GError **error)
{
  g_autofree char *name = g_strdup (spec);
  char *at = strrchr (name, '@');
  g_autoptr (CpsStoreProject) project = NULL;
  g_autoptr (CpsRevision) revision = NULL;

  if (at != NULL)
    *at++ = '\0';
  project = cps_store_find_project (store, name, error);
  if (project == NULL)
    return FALSE;
  if (at != NULL)
    revision = cps_store_get_revision (store, at, error);
  else
    revision = cps_store_get_display_winner (store, project->id, error);
  if (revision == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND,
                     _("The project has no revisions yet"));
      return FALSE;
    }
  if (strcmp (cps_revision_get_project_id (revision), project->id) != 0)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("Revision %s belongs to another project"), at);
      return FALSE;
    }
  *out_project = g_steal_pointer (&project);
  *out_revision = g_steal_pointer (&revision);
  return TRUE;
}

void
cps_cli_usage_error (const char *command, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("cps %s: %s\n", command, message);
  g_printerr (_("Run “cps %s --help” for its usage.\n"), command);
}

void
cps_cli_error (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  cps_cli_progress_done ();
  g_printerr ("cps: %s\n", message);
}

void
cps_cli_print_json (JsonNode *node)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

/**
 * cps_cli_progress:
 *
 * Shows a one-line progress message on standard error, only when it is a
 * terminal, overwriting the previous one.
 */
void
cps_cli_progress (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  if (!isatty (STDERR_FILENO))
    return;
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("\r\033[K%s", message);
  progress_shown = TRUE;
}

void
cps_cli_progress_done (void)
{
  if (!progress_shown)
    return;
  g_printerr ("\r\033[K");
  progress_shown = FALSE;
}

/**
 * cps_cli_label_width:
 *
 * Returns: the column, in characters, at which values after @labels line up
 */
guint
cps_cli_label_width (const char *const *labels, guint n, guint indent)
{
  glong widest = 0;

  for (guint i = 0; i < n; i++)
    widest = MAX (widest, g_utf8_strlen (labels[i], -1));
  return indent + widest + 1;
}

/**
 * cps_cli_print_field:
 * @width: the column the value starts at, counted in characters
 *
 * Prints “label value” with the values of consecutive fields aligned, also
 * for translated labels with accents (printf pads bytes, not characters).
 */
void
cps_cli_print_field (const char *indent, guint width, const char *label, const char *value)
{
  glong used = g_utf8_strlen (indent, -1) + g_utf8_strlen (label, -1);
  g_autofree char *padding = g_strnfill (used < (glong) width ? width - used : 1, ' ');

  g_print ("%s%s%s%s\n", indent, label, padding, value);
}

void
cps_cli_print_findings (GPtrArray *findings, const char *indent)
{
  for (guint i = 0; findings != NULL && i < findings->len; i++)
    {
      const CpsFinding *finding = g_ptr_array_index (findings, i);

      g_print ("%s", indent);
      if (finding->path != NULL)
        /* Translators: a problem: its severity, JSON path and message */
        g_print (_("%s: %s: %s"), cps_severity_to_label (finding->severity), finding->path,
                 finding->message);
      else
        /* Translators: a problem: its severity and message */
        g_print (_("%s: %s"), cps_severity_to_label (finding->severity), finding->message);
      g_print ("\n");
    }
}

void
cps_cli_add_findings_json (JsonBuilder *builder, GPtrArray *findings)
{
  json_builder_begin_array (builder);
  for (guint i = 0; findings != NULL && i < findings->len; i++)
    {
      const CpsFinding *finding = g_ptr_array_index (findings, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "severity");
      json_builder_add_string_value (builder, cps_severity_to_string (finding->severity));
      json_builder_set_member_name (builder, "path");
      if (finding->path != NULL)
        json_builder_add_string_value (builder, finding->path);
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, finding->message);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

static void
add_nullable_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

void
cps_cli_add_project_json (JsonBuilder *builder, CpsPlannerProject *project)
{
  GListModel *backups = cps_planner_project_get_auto_backups (project);
  GDateTime *time = cps_planner_project_get_backup_time (project);
  guint n = g_list_model_get_n_items (backups);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, cps_planner_project_get_name (project));
  add_nullable_string (builder, "content_checksum",
                       cps_planner_project_get_content_checksum (project));
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder,
                                 cps_severity_to_string (cps_planner_project_get_status (project)));
  if (time != NULL)
    {
      g_autofree char *iso = g_date_time_format (time, "%Y-%m-%dT%H:%M:%S");
      add_nullable_string (builder, "backup_time", iso);
    }
  else
    {
      json_builder_set_member_name (builder, "auto_backups");
      json_builder_begin_array (builder);
      for (guint i = 0; i < n; i++)
        {
          g_autoptr (CpsPlannerProject) backup = g_list_model_get_item (backups, i);
          cps_cli_add_project_json (builder, backup);
        }
      json_builder_end_array (builder);
    }
  json_builder_set_member_name (builder, "findings");
  cps_cli_add_findings_json (builder, cps_planner_project_get_findings (project));
  json_builder_end_object (builder);
}

void
cps_cli_add_file_json (JsonBuilder *builder, CpsPlannerFile *file)
{
  GListModel *projects = cps_planner_file_get_projects (file);
  GListModel *orphans = cps_planner_file_get_orphan_backups (file);
  GFile *gfile = cps_planner_file_get_file (file);
  g_autofree char *path = gfile ? g_file_get_path (gfile) : NULL;

  add_nullable_string (builder, "file", path ? path : cps_planner_file_get_display_name (file));
  json_builder_set_member_name (builder, "kind");
  json_builder_add_string_value (builder,
                                 cps_planner_kind_to_string (cps_planner_file_get_kind (file)));
  add_nullable_string (builder, "version", cps_planner_file_get_version (file));
  add_nullable_string (builder, "created_at", cps_planner_file_get_created_at (file));
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, (gint64) cps_planner_file_get_size (file));
  add_nullable_string (builder, "checksum", cps_planner_file_get_checksum (file));
  json_builder_set_member_name (builder, "projects");
  json_builder_begin_array (builder);
  for (guint i = 0; i < g_list_model_get_n_items (projects); i++)
    {
      g_autoptr (CpsPlannerProject) project = g_list_model_get_item (projects, i);
      cps_cli_add_project_json (builder, project);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "orphan_auto_backups");
  json_builder_begin_array (builder);
  for (guint i = 0; i < g_list_model_get_n_items (orphans); i++)
    {
      g_autoptr (CpsPlannerProject) project = g_list_model_get_item (orphans, i);
      cps_cli_add_project_json (builder, project);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "findings");
  cps_cli_add_findings_json (builder, cps_planner_file_get_findings (file));
}

static void
count_in (GPtrArray *findings, CpsSeverity severity, guint *count, const CpsFinding **first)
{
  for (guint i = 0; i < findings->len; i++)
    {
      const CpsFinding *finding = g_ptr_array_index (findings, i);
      if (finding->severity != severity)
        continue;
      (*count)++;
      if (first != NULL && *first == NULL)
        *first = finding;
    }
}

static guint
count_all (CpsPlannerFile *file, CpsSeverity severity, const CpsFinding **first)
{
  GListModel *projects = cps_planner_file_get_projects (file);
  guint count = 0;

  count_in (cps_planner_file_get_findings (file), severity, &count, first);
  for (guint i = 0; i < g_list_model_get_n_items (projects); i++)
    {
      g_autoptr (CpsPlannerProject) project = g_list_model_get_item (projects, i);
      GListModel *backups = cps_planner_project_get_auto_backups (project);

      count_in (cps_planner_project_get_findings (project), severity, &count, first);
      for (guint j = 0; j < g_list_model_get_n_items (backups); j++)
        {
          g_autoptr (CpsPlannerProject) backup = g_list_model_get_item (backups, j);
          count_in (cps_planner_project_get_findings (backup), severity, &count, first);
        }
    }
  return count;
}

/**
 * cps_cli_count_all_findings:
 *
 * Counts findings of @severity in the file, its projects and their auto-backups.
 */
guint
cps_cli_count_all_findings (CpsPlannerFile *file, CpsSeverity severity)
{
  return count_all (file, severity, NULL);
}

/**
 * cps_cli_first_error:
 *
 * Returns: (nullable): the first error finding anywhere in @file
 */
const CpsFinding *
cps_cli_first_error (CpsPlannerFile *file)
{
  const CpsFinding *first = NULL;

  count_all (file, CPS_SEVERITY_ERROR, &first);
  return first;
}
