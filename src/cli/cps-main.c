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
};

static void
print_help (FILE *out)
{
  fprintf (out, "%s\n", _("Usage: cps COMMAND [OPTION…] [ARGUMENT…]"));
  fprintf (out, "\n%s\n", _("Verify and inspect Cine Power Planner files."));
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

int
main (int argc, char **argv)
{
  const char *name;

  cps_init_i18n ();
  g_set_prgname ("cps");

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
