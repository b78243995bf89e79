/* cps-server-commands.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The cps-server subcommands other than serve. Each takes its own argv with
 * argv[0] the subcommand name and returns the exit status: 0 when all is
 * well, 1 when a problem was found, 2 on usage errors.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* cps-server-account.c */
int cps_server_account_main (int argc, char **argv);

/* cps-server-ops.c */
int cps_server_backup_main (int argc, char **argv);
int cps_server_rehearse_restore_main (int argc, char **argv);
int cps_server_check_main (int argc, char **argv);

/* cps-server-commands.c: what the subcommands share */

/* Parses @argv with @entries, whose help is translated in the program's domain, under
 * @summary (already translated). */
gboolean cps_server_command_parse (GOptionContext *context, const GOptionEntry *entries,
                                   const char *summary, int *argc, char ***argv, GError **error);
/* Prints "@command: @message" and the options' help on standard error; returns 2. */
int cps_server_command_usage_error (GOptionContext *context, const char *command,
                                    const char *message);

G_END_DECLS
