/* cps-server-commands.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the cps-server subcommands other than serve share: their command lines
 * are parsed and refused alike.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include "cps-server-commands.h"

gboolean
cps_server_command_parse (GOptionContext *context, const GOptionEntry *entries,
                          const char *summary, int *argc, char ***argv, GError **error)
{
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  return g_option_context_parse (context, argc, argv, error);
}

int
cps_server_command_usage_error (GOptionContext *context, const char *command,
                                const char *message)
{
  g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

  g_printerr ("%s: %s\n\n%s", command, message, help);
  return 2;
}
