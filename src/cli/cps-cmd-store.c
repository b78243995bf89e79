/* cps-cmd-store.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The local store: `cps import`, `projects`, `log`, `show`, `export`,
 * `backup`, `restore` and `check`.
 */

#define G_LOG_DOMAIN "cps"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "cps-cli.h"
#include "cps-import.h"

static char *store_path;

#define STORE_OPTION                                                                              \
  { "store", 0, 0, G_OPTION_ARG_FILENAME, &store_path,                                            \
    N_("Use this store instead of the default (or $CPS_STORE)"), N_("FILE") }

static CpsDeviceKey *
load_device_key (void)
{
  g_autoptr (GError) error = NULL;
  CpsDeviceKey *key = cps_device_key_load_or_create (NULL, NULL, &error);

  if (key == NULL)
    cps_cli_error (_("This device’s signing key cannot be loaded: %s"), error->message);
  return key;
}

static char *
short_id (const char *id)
{
  return g_strndup (id + strlen (CPS_CHECKSUM_PREFIX), 12);
}

/* cps import */

static void
import_progress_cb (guint done, guint total, const char *name, gpointer user_data)
{
  cps_cli_progress (_("Importing %s: project %u of %u"), (const char *) user_data, done, total);
}

int
cps_cmd_import (int argc, char **argv)
{
  gboolean json = FALSE;
  g_auto (GStrv) files = NULL;
  const GOptionEntry entries[] = {
    STORE_OPTION,
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Write JSON"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new (_("FILE… — import backups and bundles as local projects"));
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (CpsDeviceKey) key = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  int status = CPS_EXIT_OK;

  if (!cps_cli_parse_entries (context, entries, &argc, &argv))
    return CPS_EXIT_USAGE;
  if (files == NULL || files[0] == NULL)
    {
      cps_cli_usage_error ("import", _("Give at least one file."));
      return CPS_EXIT_USAGE;
    }
  if ((store = cps_cli_open_store (store_path)) == NULL || (key = load_device_key ()) == NULL)
    return CPS_EXIT_PROBLEMS;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "files");
  json_builder_begin_array (builder);
  for (guint i = 0; files[i] != NULL; i++)
    {
      g_autoptr (GFile) file = g_file_new_for_commandline_arg (files[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (CpsPlannerFile) planner_file = cps_planner_file_load (file, NULL, &error);
      g_autoptr (GPtrArray) results = NULL;
      guint counts[4] = { 0 };

      if (planner_file != NULL)
        results = cps_store_import_file (store, key, planner_file, import_progress_cb, files[i],
                                         NULL, &error);
      cps_cli_progress_done ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "file");
      json_builder_add_string_value (builder, files[i]);
      if (results == NULL)
        {
          status = planner_file == NULL ? CPS_EXIT_USAGE : CPS_EXIT_PROBLEMS;
          json_builder_set_member_name (builder, "error");
          json_builder_add_string_value (builder, error->message);
          json_builder_end_object (builder);
          if (!json)
            cps_cli_error ("%s", error->message);
          continue;
        }

      json_builder_set_member_name (builder, "projects");
      json_builder_begin_array (builder);
      for (guint j = 0; j < results->len; j++)
        {
          const CpsImportedProject *item = g_ptr_array_index (results, j);

          counts[item->outcome]++;
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, item->name);
          json_builder_set_member_name (builder, "outcome");
          json_builder_add_string_value (builder, cps_import_outcome_to_string (item->outcome));
          json_builder_set_member_name (builder, "project_id");
          if (item->project_id)
            json_builder_add_string_value (builder, item->project_id);
          else
            json_builder_add_null_value (builder);
          json_builder_set_member_name (builder, "revision");
          if (item->revision_id)
            json_builder_add_string_value (builder, item->revision_id);
          else
            json_builder_add_null_value (builder);
          json_builder_end_object (builder);
          if (item->outcome == CPS_IMPORT_SKIPPED && status == CPS_EXIT_OK)
            status = CPS_EXIT_PROBLEMS;
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);

      if (!json)
        g_print (_("%s: %u new, %u updated, %u unchanged, %u skipped\n"), files[i],
                 counts[CPS_IMPORT_ADDED], counts[CPS_IMPORT_UPDATED],
                 counts[CPS_IMPORT_UNCHANGED], counts[CPS_IMPORT_SKIPPED]);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  if (json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (builder);
      cps_cli_print_json (root);
    }
  return status;
}

/* cps projects */

int
cps_cmd_projects (int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    STORE_OPTION,
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Write JSON"), NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_("— list the local projects"));
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (GPtrArray) projects = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  if (!cps_cli_parse_entries (context, entries, &argc, &argv))
    return CPS_EXIT_USAGE;
  if (argc > 1)
    {
      cps_cli_usage_error ("projects", _("This command takes no arguments."));
      return CPS_EXIT_USAGE;
    }
  if ((store = cps_cli_open_store (store_path)) == NULL)
    return CPS_EXIT_PROBLEMS;
  projects = cps_store_list_projects (store, &error);
  if (projects == NULL)
    {
      cps_cli_error ("%s", error->message);
      return CPS_EXIT_PROBLEMS;
    }

  json_builder_begin_array (builder);
  for (guint i = 0; i < projects->len; i++)
    {
      const CpsStoreProject *p = g_ptr_array_index (projects, i);

      if (json)
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "id");
          json_builder_add_string_value (builder, p->id);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, p->name);
          json_builder_set_member_name (builder, "revision_count");
          json_builder_add_int_value (builder, p->revision_count);
          json_builder_set_member_name (builder, "heads");
          json_builder_begin_array (builder);
          for (guint h = 0; p->heads && p->heads[h]; h++)
            json_builder_add_string_value (builder, p->heads[h]);
          json_builder_end_array (builder);
          json_builder_set_member_name (builder, "conflicted");
          json_builder_add_boolean_value (builder, p->conflicted);
          json_builder_set_member_name (builder, "checksum");
          if (p->checksum)
            json_builder_add_string_value (builder, p->checksum);
          else
            json_builder_add_null_value (builder);
          json_builder_set_member_name (builder, "updated_at");
          json_builder_add_string_value (builder, p->updated_at);
          json_builder_end_object (builder);
          continue;
        }
      g_print ("%s  %s\n", p->id, p->name);
      g_print ("    ");
      g_print (g_dngettext (GETTEXT_PACKAGE, "%u revision", "%u revisions", p->revision_count),
               p->revision_count);
      if (p->conflicted)
        g_print (_(", in conflict: %u heads, run “cps merge %s”"), g_strv_length (p->heads),
                 p->name);
      g_print (_(", updated %s"), p->updated_at);
      g_print ("\n    %s\n", p->checksum ? p->checksum : "");
    }
  json_builder_end_array (builder);

  if (json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (builder);
      cps_cli_print_json (root);
    }
  else if (projects->len == 0)
    g_print (_("No local projects yet. Import a backup or bundle with “cps import FILE”.\n"));
  return CPS_EXIT_OK;
}

/* cps log */

int
cps_cmd_log (int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    STORE_OPTION,
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Write JSON"), NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new (_("PROJECT — show a project’s revision history, newest first"));
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (CpsStoreProject) project = NULL;
  g_autoptr (GPtrArray) revisions = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  if (!cps_cli_parse_entries (context, entries, &argc, &argv))
    return CPS_EXIT_USAGE;
  if (argc != 2)
    {
      cps_cli_usage_error ("log", _("Give exactly one project name or id."));
      return CPS_EXIT_USAGE;
    }
  if ((store = cps_cli_open_store (store_path)) == NULL)
    return CPS_EXIT_PROBLEMS;
  project = cps_store_find_project (store, argv[1], &error);
  if (project != NULL)
    revisions = cps_store_list_revisions (store, project->id, &error);
  if (revisions == NULL)
    {
      cps_cli_error ("%s", error->message);
      return CPS_EXIT_PROBLEMS;
    }

  json_builder_begin_array (builder);
  for (guint i = revisions->len; i-- > 0;)
    {
      CpsRevision *rev = g_ptr_array_index (revisions, i);
      const char *const *parents = cps_revision_get_parents (rev);
      gboolean is_head = g_strv_contains ((const char *const *) project->heads,
                                          cps_revision_get_id (rev));

      if (json)
        {
          g_autofree char *header = cps_revision_to_json (rev, FALSE);
          g_autoptr (JsonNode) node = json_from_string (header, NULL);
          json_builder_add_value (builder, g_steal_pointer (&node));
          continue;
        }
      {
        g_autofree char *id = short_id (cps_revision_get_id (rev));
        g_autofree char *device = g_strndup (cps_revision_get_device_id (rev), 8);
        g_autoptr (GString) parent_text = g_string_new (NULL);

        for (guint p = 0; parents[p] != NULL; p++)
          {
            g_autofree char *short_parent = short_id (parents[p]);
            g_string_append_printf (parent_text, "%s%s", p ? ", " : "", short_parent);
          }
        g_print ("%s%s  %s  %s %s\n", is_head ? "* " : "  ", id,
                 cps_revision_get_created_at (rev), _("device"), device);
        if (parent_text->len > 0)
          g_print ("    %s %s\n", _("parents:"), parent_text->str);
        g_print ("    %s %s%s\n", _("content:"), cps_revision_get_checksum (rev),
                 cps_revision_get_deleted (rev) ? _(" (deleted)") : "");
      }
    }
  json_builder_end_array (builder);

  if (json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (builder);
      cps_cli_print_json (root);
    }
  return CPS_EXIT_OK;
}

/* cps show */

int
cps_cmd_show (int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    STORE_OPTION,
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Write the whole revision as JSON"), NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new (_("PROJECT[@REVISION] — show a project document"));
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (CpsStoreProject) project = NULL;
  g_autoptr (CpsRevision) revision = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  if (!cps_cli_parse_entries (context, entries, &argc, &argv))
    return CPS_EXIT_USAGE;
  if (argc != 2)
    {
      cps_cli_usage_error ("show", _("Give exactly one PROJECT or PROJECT@REVISION."));
      return CPS_EXIT_USAGE;
    }
  if ((store = cps_cli_open_store (store_path)) == NULL)
    return CPS_EXIT_PROBLEMS;
  if (!cps_cli_resolve_target (store, argv[1], &project, &revision, &error))
    {
      cps_cli_error ("%s", error->message);
      return CPS_EXIT_PROBLEMS;
    }

  if (json)
    {
      g_autofree char *compact = cps_revision_to_json (revision, TRUE);
      g_autoptr (JsonNode) node = json_from_string (compact, NULL);
      cps_cli_print_json (node);
      return CPS_EXIT_OK;
    }
  if (cps_revision_is_encrypted (revision))
    {
      cps_cli_error (_("This revision is encrypted and cannot be shown here"));
      return CPS_EXIT_PROBLEMS;
    }
  text = cps_json_to_string (cps_revision_get_document (revision), 2, NULL, NULL);
  g_print ("%s\n", text);
  return CPS_EXIT_OK;
}

/* cps export */

int
cps_cmd_export (int argc, char **argv)
{
  g_autofree char *output = NULL;
  gboolean force = FALSE;
  const GOptionEntry entries[] = {
    STORE_OPTION,
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Where to write the bundle"),
      N_("FILE") },
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, N_("Replace the output file if it exists"),
      NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new (_("PROJECT[@REVISION] — write a project as a bundle the planner "
                            "imports"));
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (CpsStoreProject) project = NULL;
  g_autoptr (CpsRevision) revision = NULL;
  g_autoptr (GFile) out_file = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  gsize length;

  if (!cps_cli_parse_entries (context, entries, &argc, &argv))
    return CPS_EXIT_USAGE;
  if (argc != 2 || output == NULL)
    {
      cps_cli_usage_error ("export", _("Give one PROJECT[@REVISION] and --output FILE."));
      return CPS_EXIT_USAGE;
    }
  if ((store = cps_cli_open_store (store_path)) == NULL)
    return CPS_EXIT_PROBLEMS;
  if (!cps_cli_resolve_target (store, argv[1], &project, &revision, &error))
    {
      cps_cli_error ("%s", error->message);
      return CPS_EXIT_PROBLEMS;
    }
  if (cps_revision_is_encrypted (revision))
    {
      cps_cli_error (_("This revision is encrypted and cannot be exported here"));
      return CPS_EXIT_PROBLEMS;
    }

  out_file = g_file_new_for_commandline_arg (output);
  if (!force && g_file_query_exists (out_file, NULL))
    {
      cps_cli_error (_("“%s” already exists; choose another name or add --force to replace "
                       "it."),
                     output);
      return CPS_EXIT_PROBLEMS;
    }
  text = cps_json_to_string (cps_revision_get_document (revision), 2, &length, &error);
  if (text == NULL ||
      !g_file_replace_contents (out_file, text, length, NULL, FALSE, G_FILE_CREATE_NONE, NULL,
                                NULL, &error))
    {
      cps_cli_error (_("Cannot write “%s”: %s"), output, error->message);
      return CPS_EXIT_PROBLEMS;
    }
  g_print (_("Wrote “%s” to %s (content checksum %s)\n"), project->name, output,
           cps_revision_get_checksum (revision));
  return CPS_EXIT_OK;
}

/* cps backup */

int
cps_cmd_backup (int argc, char **argv)
{
  gboolean list = FALSE;
  const GOptionEntry entries[] = {
    STORE_OPTION,
    { "list", 'l', 0, G_OPTION_ARG_NONE, &list, N_("List the snapshots instead"), NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new (_("— take a checksummed snapshot of the local store"));
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (GError) error = NULL;

  if (!cps_cli_parse_entries (context, entries, &argc, &argv))
    return CPS_EXIT_USAGE;
  if (argc > 1)
    {
      cps_cli_usage_error ("backup", _("This command takes no arguments."));
      return CPS_EXIT_USAGE;
    }
  if ((store = cps_cli_open_store (store_path)) == NULL)
    return CPS_EXIT_PROBLEMS;

  if (list)
    {
      g_autoptr (GPtrArray) snapshots = cps_store_list_snapshots (store, &error);
      if (snapshots == NULL)
        {
          cps_cli_error ("%s", error->message);
          return CPS_EXIT_PROBLEMS;
        }
      for (guint i = 0; i < snapshots->len; i++)
        {
          const CpsSnapshot *s = g_ptr_array_index (snapshots, i);
          g_print ("%s  %s  %s\n", s->created_at ? s->created_at : "?",
                   s->reason ? s->reason : "?", s->path);
        }
      return CPS_EXIT_OK;
    }

  {
    g_autoptr (CpsSnapshot) snapshot = cps_store_snapshot (store, "manual", &error);
    if (snapshot == NULL)
      {
        cps_cli_error ("%s", error->message);
        return CPS_EXIT_PROBLEMS;
      }
    g_print (_("Snapshot written to %s (%s)\n"), snapshot->path, snapshot->checksum);
  }
  return CPS_EXIT_OK;
}

/* cps restore */

int
cps_cmd_restore (int argc, char **argv)
{
  gboolean rehearse = FALSE;
  const GOptionEntry entries[] = {
    STORE_OPTION,
    { "rehearse", 0, 0, G_OPTION_ARG_NONE, &rehearse,
      N_("Restore into a temporary file and verify it, changing nothing"), NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new (_("SNAPSHOT — restore the local store from a snapshot"));
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = store_path ? g_strdup (store_path) : cps_store_default_path ();

  if (!cps_cli_parse_entries (context, entries, &argc, &argv))
    return CPS_EXIT_USAGE;
  if (argc != 2)
    {
      cps_cli_usage_error ("restore", _("Give exactly one snapshot file (see “cps backup "
                                        "--list”)."));
      return CPS_EXIT_USAGE;
    }

  if (rehearse)
    {
      g_autoptr (CpsStoreCheck) check = cps_store_rehearse_restore (argv[1], NULL, &error);
      if (check == NULL)
        {
          cps_cli_error ("%s", error->message);
          return CPS_EXIT_PROBLEMS;
        }
      cps_cli_print_findings (check->findings, "");
      g_print (_("Rehearsal: %u revisions verified, %u problems\n"), check->revisions_checked,
               check->problems);
      return check->problems > 0 ? CPS_EXIT_PROBLEMS : CPS_EXIT_OK;
    }

  store = cps_store_open (path, &error);
  if (store == NULL && g_error_matches (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT))
    {
      /* A damaged store cannot snapshot itself: it is moved aside instead. */
      g_autofree char *moved = NULL;
      g_clear_error (&error);
      if (!cps_store_restore_damaged (path, argv[1], &moved, &error))
        {
          cps_cli_error ("%s", error->message);
          return CPS_EXIT_PROBLEMS;
        }
      g_print (_("Restored %s from %s; the damaged store was kept as %s\n"), path, argv[1],
               moved);
      return CPS_EXIT_OK;
    }
  if (store == NULL)
    {
      cps_cli_error ("%s", error->message);
      return CPS_EXIT_PROBLEMS;
    }
  if (!cps_store_restore (store, argv[1], &error))
    {
      cps_cli_error ("%s", error->message);
      return CPS_EXIT_PROBLEMS;
    }
  g_print (_("Restored %s from %s; the state before it was kept as a “before-restore” "
             "snapshot\n"),
           path, argv[1]);
  return CPS_EXIT_OK;
}

/* cps check */

int
cps_cmd_check (int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    STORE_OPTION,
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Write JSON"), NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new (_("— verify the integrity of the whole local store"));
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (CpsStoreCheck) check = NULL;
  g_autoptr (GError) error = NULL;

  if (!cps_cli_parse_entries (context, entries, &argc, &argv))
    return CPS_EXIT_USAGE;
  if (argc > 1)
    {
      cps_cli_usage_error ("check", _("This command takes no arguments."));
      return CPS_EXIT_USAGE;
    }
  if ((store = cps_cli_open_store (store_path)) == NULL)
    return CPS_EXIT_PROBLEMS;
  cps_cli_progress (_("Checking every revision…"));
  check = cps_store_check (store, NULL, &error);
  cps_cli_progress_done ();
  if (check == NULL)
    {
      cps_cli_error ("%s", error->message);
      return CPS_EXIT_PROBLEMS;
    }

  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "revisions_checked");
      json_builder_add_int_value (builder, check->revisions_checked);
      json_builder_set_member_name (builder, "problems");
      json_builder_add_int_value (builder, check->problems);
      json_builder_set_member_name (builder, "findings");
      cps_cli_add_findings_json (builder, check->findings);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      cps_cli_print_json (root);
    }
  else
    {
      cps_cli_print_findings (check->findings, "");
      g_print (_("%u revisions verified, %u problems\n"), check->revisions_checked,
               check->problems);
    }
  return check->problems > 0 ? CPS_EXIT_PROBLEMS : CPS_EXIT_OK;
}
