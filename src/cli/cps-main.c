/* cps-main.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `cps`: every console capability, headless. One file per subcommand group.
 */

#define G_LOG_DOMAIN "cps"

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <glib/gi18n.h>

#include "cps-cli.h"

typedef struct
{
  const char *name;
  CpsCommandFunc func;
  const char *summary;
} Command;

static const Command commands[] = {
  { "inspect", cps_cmd_inspect, N_("Show what a planner file contains") },
  { "verify", cps_cmd_verify, N_("Check files are intact, optionally against SHA256SUMS") },
  { "checksum", cps_cmd_checksum, N_("Print file and project content checksums") },
  { "export-bundle", cps_cmd_export_bundle,
    N_("Write one project of a full backup as a bundle the planner imports") },
  { "import", cps_cmd_import, N_("Import backups and bundles as local projects") },
  { "projects", cps_cmd_projects, N_("List the local projects") },
  { "log", cps_cmd_log, N_("Show a project’s revision history") },
  { "show", cps_cmd_show, N_("Show a project document, or one of its revisions") },
  { "export", cps_cmd_export, N_("Write a local project as a bundle the planner imports") },
  { "backup", cps_cmd_backup, N_("Snapshot the local store, or list its snapshots") },
  { "restore", cps_cmd_restore, N_("Restore the local store from a snapshot") },
  { "diff", cps_cmd_diff, N_("Compare two files, projects or revisions") },
  { "merge", cps_cmd_merge, N_("Merge a conflicted project’s heads") },
  { "check", cps_cmd_check, N_("Verify the integrity of the whole local store") },
};

static void
print_help (FILE *out)
{
  fprintf (out, "%s\n", _("Usage: cps COMMAND [OPTION…] [ARGUMENT…]"));
  fprintf (out, "\n%s\n", _("Verify, inspect and keep Cine Power Planner projects."));
  fprintf (out, "\n%s\n", _("Commands:"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-15s %s\n", commands[i].name, _(commands[i].summary));
  fprintf (out, "\n%s\n", _("Options:"));
  fprintf (out, "  %-15s %s\n", "-h, --help", _("Show this help"));
  fprintf (out, "  %-15s %s\n", "--version", _("Show the version"));
  fprintf (out, "\n%s\n", _("Run “cps COMMAND --help” for the options of a command."));
  fprintf (out, "%s\n", _("Exit status: 0 all good, 1 problems found, 2 usage error or "
                          "unreadable file."));
}

/* Library messages meant for people (not debugging) read as cps's own. */
static void
log_handler (const char *log_domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
    g_printerr ("cps: %s\n", message);
  else
    g_log_default_handler (log_domain, level, message, data);
}

int
main (int argc, char **argv)
{
  const char *name;

  cps_init_i18n ();
  g_set_prgname ("cps");
  g_log_set_default_handler (log_handler, NULL);

  if (argc < 2)
    {
      print_help (stderr);
      return CPS_EXIT_USAGE;
    }

  name = argv[1];
  if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0 || strcmp (name, "help") == 0)
    {
      print_help (stdout);
      return CPS_EXIT_OK;
    }
  if (strcmp (name, "--version") == 0)
    {
      g_print ("cps %s\n", PACKAGE_VERSION);
      return CPS_EXIT_OK;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (name, commands[i].name) == 0)
      {
        /* So that usage lines read “cps verify [OPTION…] FILE…”. */
        g_autofree char *prgname = g_strdup_printf ("cps %s", name);
        g_set_prgname (prgname);
        return commands[i].func (argc - 1, argv + 1);
      }

  g_printerr (_("cps: “%s” is not a command.\n"), name);
  g_printerr (_("Run “cps --help” to see the commands and their options.\n"));
  return CPS_EXIT_USAGE;
}
