/* cps-server-main.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * cps-server SUBCOMMAND …: serve, account, backup, rehearse-restore, check.
 * The command lines are fixed by CONTRACT.md (“Running the server”).
 * Exit status: 0 all is well, 1 a problem was found or the command failed,
 * 2 usage error.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <locale.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <glib/gi18n.h>
#include <glib-unix.h>
#include <sodium.h>

#include "cps.h"
#include "cps-server.h"
#include "cps-server-commands.h"

#define DEFAULT_CONFIG_PATH "/etc/cps-server.conf"

typedef struct
{
  CpsServer *server;
  GMainLoop *loop;
  gboolean stopping;
} ServeState;

static gboolean
terminate_cb (gpointer user_data)
{
  ServeState *state = user_data;

  /* A second signal while draining changes nothing: the grace period still applies. */
  if (state->stopping)
    return G_SOURCE_CONTINUE;
  state->stopping = TRUE;
  g_message ("Stopping: finishing the requests in progress");
  cps_server_stop (state->server);
  g_main_loop_quit (state->loop);
  return G_SOURCE_CONTINUE;
}

static int
usage_error (GOptionContext *context, const char *message)
{
  g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

  g_printerr ("cps-server: %s\n\n%s", message, help);
  return 2;
}

static int
serve_main (int argc, char **argv)
{
  g_autofree char *data_dir = NULL, *listen = NULL, *config_path = NULL;
  g_autofree char *tls_cert = NULL, *tls_key = NULL;
  gboolean insecure_http = FALSE;
  int workers = -1;
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
      N_("Directory holding the database and the server key"), N_("DIR") },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
      N_("Address and port to listen on; port 0 picks a free one"), N_("HOST:PORT") },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_path,
      N_("Settings file (default /etc/cps-server.conf when it exists)"), N_("FILE") },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert,
      N_("PEM certificate (chain) for HTTPS"), N_("FILE") },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key,
      N_("PEM private key of the certificate"), N_("FILE") },
    { "insecure-http", 0, 0, G_OPTION_ARG_NONE, &insecure_http,
      N_("Allow plain HTTP on an address that is not loopback"), NULL },
    { "workers", 0, 0, G_OPTION_ARG_INT, &workers,
      N_("Request worker threads (default: twice the cores, at least 4)"), N_("N") },
    { NULL },
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CpsServerConfig) config = cps_server_config_new_defaults ();
  g_autoptr(CpsServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  ServeState state;
  guint term_id, int_id;

  g_option_context_set_summary (context, _("Run the sync server."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc > 1)
    return usage_error (context, _("serve takes no arguments besides its options."));

  if (!cps_server_config_load_file (config, config_path != NULL ? config_path
                                                                : DEFAULT_CONFIG_PATH,
                                    config_path != NULL, &error))
    {
      g_printerr ("cps-server: %s\n", error->message);
      return 1;
    }
  if (data_dir != NULL)
    g_free (config->data_dir), config->data_dir = g_steal_pointer (&data_dir);
  if (listen != NULL)
    g_free (config->listen), config->listen = g_steal_pointer (&listen);
  if (tls_cert != NULL)
    g_free (config->tls_cert), config->tls_cert = g_steal_pointer (&tls_cert);
  if (tls_key != NULL)
    g_free (config->tls_key), config->tls_key = g_steal_pointer (&tls_key);
  if (insecure_http)
    config->insecure_http = TRUE;
  if (workers >= 0)
    {
      if (workers > 64)
        return usage_error (context, _("--workers must be from 0 to 64."));
      config->workers = workers;
    }
  if (config->data_dir == NULL)
    return usage_error (context, _("Give the data directory with --data-dir DIR."));

  /* Every worker thread would otherwise get its own malloc arena that keeps what it once
   * held: two arenas keep the server's memory flat (see bench/README.md). */
  mallopt (M_ARENA_MAX, 2);
  /* A fixed threshold: response bodies of feed pages are mapped and given back when sent,
   * instead of glibc raising the threshold and keeping them in the heap. */
  mallopt (M_MMAP_THRESHOLD, 256 * 1024);

  /* TLS 1.3 only. glib-networking reads this once, when the first TLS object is made. */
  if (config->tls_cert != NULL)
    g_setenv ("G_TLS_GNUTLS_PRIORITY", "NORMAL:-VERS-ALL:+VERS-TLS1.3", TRUE);

  server = cps_server_new (g_steal_pointer (&config), &error);
  if (server == NULL)
    {
      g_printerr ("cps-server: %s\n", error->message);
      return 1;
    }

  /* Handle the signals before the “listening on” line: whoever waits for it may stop the
   * server at once, and must get the graceful stop rather than the default action. */
  loop = g_main_loop_new (NULL, FALSE);
  state.server = server;
  state.loop = loop;
  state.stopping = FALSE;
  term_id = g_unix_signal_add (SIGTERM, terminate_cb, &state);
  int_id = g_unix_signal_add (SIGINT, terminate_cb, &state);
  if (!cps_server_start (server, &error))
    {
      g_source_remove (term_id);
      g_source_remove (int_id);
      g_printerr ("cps-server: %s\n", error->message);
      return 1;
    }
  g_main_loop_run (loop);
  g_source_remove (term_id);
  g_source_remove (int_id);
  g_message ("Stopped");
  return 0;
}

static void
print_usage (FILE *out)
{
  fprintf (out, "%s\n\n%s\n", _("Usage: cps-server COMMAND [OPTIONS…]"), _("Commands:"));
  fprintf (out, "  serve             %s\n", _("Run the sync server"));
  fprintf (out, "  account           %s\n", _("Add, list and change accounts (add|list|passwd|role)"));
  fprintf (out, "  backup            %s\n", _("Make a consistent backup with a checksum manifest"));
  fprintf (out, "  rehearse-restore  %s\n", _("Restore a backup into a scratch copy and verify it"));
  fprintf (out, "  check             %s\n", _("Check storage, revisions and the audit chain"));
  fprintf (out, "\n%s\n", _("Run “cps-server COMMAND --help” for a command's options."));
}

int
main (int argc, char **argv)
{
  const char *command;

  cps_init_i18n ();
  g_set_prgname ("cps-server");
  if (sodium_init () < 0)
    {
      g_printerr ("cps-server: %s\n", _("The cryptography library could not start."));
      return 1;
    }

  if (argc < 2)
    {
      print_usage (stderr);
      return 2;
    }
  command = argv[1];
  if (g_str_equal (command, "--help") || g_str_equal (command, "-h") ||
      g_str_equal (command, "help"))
    {
      print_usage (stdout);
      return 0;
    }
  if (g_str_equal (command, "--version"))
    {
      printf ("cps-server %s\n", PACKAGE_VERSION);
      return 0;
    }

  /* So each command's --help shows “cps-server COMMAND [OPTION…]”. */
  {
    g_autofree char *prgname = g_strdup_printf ("cps-server %s", command);

    if (strlen (command) < 32 && g_utf8_validate (command, -1, NULL))
      g_set_prgname (prgname);
  }

  if (g_str_equal (command, "serve"))
    return serve_main (argc - 1, argv + 1);
  if (g_str_equal (command, "account"))
    return cps_server_account_main (argc - 1, argv + 1);
  if (g_str_equal (command, "backup"))
    return cps_server_backup_main (argc - 1, argv + 1);
  if (g_str_equal (command, "rehearse-restore"))
    return cps_server_rehearse_restore_main (argc - 1, argv + 1);
  if (g_str_equal (command, "check"))
    return cps_server_check_main (argc - 1, argv + 1);

  g_printerr ("cps-server: %s\n\n", _("unknown command"));
  print_usage (stderr);
  return 2;
}
