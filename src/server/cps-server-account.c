/* cps-server-account.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * cps-server account add|list|passwd|role: account administration on the
 * server machine itself, working directly on the data directory. This is how
 * the first admin comes to exist (CONTRACT.md “Running the server”).
 * Passwords are read as one line from standard input, never from the command
 * line, where other users could see them.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "cps-audit.h"
#include "cps-credentials.h"
#include "cps-json-writer.h"
#include "cps-request.h"
#include "cps-revision.h"
#include "cps-server-commands.h"
#include "cps-server-config.h"
#include "cps-storage.h"

enum
{
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2,
};

#define LIST_PAGE 500

/* What an action takes besides --data-dir, which every action takes. */
typedef enum
{
  WITH_USERNAME = 1 << 0,     /* --username NAME: the account to change */
  WITH_NEW_USERNAME = 1 << 1, /* --username NAME: the new account's name, checked */
  WITH_ROLE = 1 << 2,         /* --role ROLE, checked; only with a --username */
} ActionOptions;

typedef struct
{
  char *data_dir;
  char *username;
  char *role;
} AccountOptions;

static void
account_options_clear (AccountOptions *options)
{
  g_clear_pointer (&options->data_dir, g_free);
  g_clear_pointer (&options->username, g_free);
  g_clear_pointer (&options->role, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AccountOptions, account_options_clear)

/* ----- helpers --------------------------------------------------------------------------- */

static int
failed (const char *format, ...) G_GNUC_PRINTF (1, 2);

static int
failed (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("cps-server account: %s\n", message);
  return EXIT_FAILED;
}

/* Parses the options of @action: --data-dir and those @with names. Every one of them must be
 * given, and a new username and a role must be well-formed. Returns EXIT_OK, or EXIT_USAGE
 * having said why. */
static int
parse_options (const char *action, const char *summary, ActionOptions with, int argc,
               char **argv, AccountOptions *options)
{
  gboolean with_username = (with & (WITH_USERNAME | WITH_NEW_USERNAME)) != 0;
  GOptionEntry entries[4] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &options->data_dir,
      N_("Directory holding the server database"), N_("DIR") },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autofree char *command = g_strconcat ("cps-server account ", action, NULL);
  g_autofree char *unexpected = NULL;
  g_autoptr (GError) error = NULL;
  guint n = 1;

  if (with_username)
    entries[n++] = (GOptionEntry) { "username", 0, 0, G_OPTION_ARG_STRING, &options->username,
                                    (with & WITH_NEW_USERNAME) ? N_("Name to sign in with")
                                                               : N_("The account to change"),
                                    N_("NAME") };
  if (with & WITH_ROLE)
    entries[n++] = (GOptionEntry) { "role", 0, 0, G_OPTION_ARG_STRING, &options->role,
                                    N_("admin, lead, member or observer"), N_("ROLE") };

  if (!cps_server_command_parse (context, entries, summary, &argc, &argv, &error))
    return cps_server_command_usage_error (context, command, error->message);
  if (argc > 1)
    {
      unexpected = g_strdup_printf (_("Unexpected argument “%s”."), argv[1]);
      return cps_server_command_usage_error (context, command, unexpected);
    }

  if (options->data_dir == NULL || (with_username && options->username == NULL) ||
      ((with & WITH_ROLE) && options->role == NULL))
    return cps_server_command_usage_error (
      context, command,
      (with & WITH_ROLE) ? _("Give --data-dir, --username and --role.")
      : with_username    ? _("Give --data-dir and --username.")
                         : _("Give the data directory with --data-dir DIR."));
  if ((with & WITH_NEW_USERNAME) && !cps_username_is_valid (options->username))
    return cps_server_command_usage_error (context, command,
                                           _("A username is 1 to 64 characters of letters, "
                                             "digits, “.”, “_”, “@” and “-”."));
  if ((with & WITH_ROLE) && !cps_role_is_valid (options->role))
    return cps_server_command_usage_error (context, command,
                                           _("The role must be admin, lead, member or "
                                             "observer."));
  return EXIT_OK;
}

/* The server key, when the server has made one, so that an entry landing on a multiple of
 * 100 gets its checkpoint at once; NULL otherwise (the server signs one later). */
static CpsServerKey *
load_key_if_any (const char *data_dir)
{
  g_autoptr (GError) error = NULL;
  CpsServerKey *key = cps_server_key_load (data_dir, &error);

  if (key == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    g_printerr ("cps-server: %s\n", error->message);
  return key;
}

/* Opens DATA_DIR/cps-server.db; only `add` may create the directory and the database. With
 * @key, loads the server key too (see load_key_if_any()). */
static CpsStorage *
open_storage (const char *data_dir, gboolean create, CpsServerKey **key)
{
  g_autoptr (CpsServerConfig) config = cps_server_config_new_defaults ();
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  CpsStorage *storage;

  config->data_dir = g_strdup (data_dir);
  path = cps_server_config_dup_database_path (config);
  if (create)
    {
      if (g_mkdir_with_parents (data_dir, 0700) != 0)
        {
          int saved_errno = errno;

          failed (_("The data directory %s cannot be created: %s."), data_dir,
                  g_strerror (saved_errno));
          return NULL;
        }
    }
  else if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      failed (_("There is no server database in %s. Check --data-dir, or add the first account "
                "with “cps-server account add”."),
              data_dir);
      return NULL;
    }

  storage = cps_storage_open (config->storage, path, &error);
  if (storage == NULL)
    failed (_("The server database %s cannot be opened: %s"), path, error->message);
  else if (key != NULL)
    *key = load_key_if_any (data_dir);
  return storage;
}

static void
free_password (char *password)
{
  if (password == NULL)
    return;
  sodium_memzero (password, strlen (password));
  free (password);
}

typedef char *CpsSecret;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (CpsSecret, free_password, NULL)

/* One line from standard input, without its line ending; echo is off at a terminal. */
static char *
read_password (void)
{
  struct termios saved, quiet;
  gboolean terminal = isatty (STDIN_FILENO);
  gboolean echo_off = FALSE;
  char *line = NULL;
  size_t size = 0;
  ssize_t length;

  if (terminal)
    {
      g_printerr ("%s", _("Password: "));
      if (tcgetattr (STDIN_FILENO, &saved) == 0)
        {
          quiet = saved;
          quiet.c_lflag &= ~(tcflag_t) ECHO;
          echo_off = tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
        }
    }
  length = getline (&line, &size, stdin);
  if (echo_off)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
      g_printerr ("\n");
    }

  if (length < 0)
    {
      free (line);
      failed (_("No password was given: write it as one line on standard input."));
      return NULL;
    }
  if (length > 0 && line[length - 1] == '\n')
    line[--length] = '\0';
  if (length > 0 && line[length - 1] == '\r')
    line[--length] = '\0';
  if (length == 0)
    {
      free (line);
      failed (_("The password is empty: write it as one line on standard input."));
      return NULL;
    }
  if ((size_t) length != strlen (line))
    {
      free_password (line);
      failed (_("The password must not contain NUL characters."));
      return NULL;
    }
  if (!cps_password_is_acceptable (line, NULL))
    {
      free_password (line);
      failed (_("The password must be 8 to 1024 bytes of UTF-8 text."));
      return NULL;
    }
  return line;
}

static int
storage_failed (CpsStorage *storage, GError *error)
{
  cps_storage_rollback (storage);
  return failed ("%s", error->message);
}

/* Begins a transaction and finds @username in it; reports a failure or a missing account,
 * rolling back, and returns NULL then. */
static CpsAccountRecord *
begin_with_account (CpsStorage *storage, const char *username)
{
  g_autoptr (GError) error = NULL;
  CpsAccountRecord *account;

  if (!cps_storage_begin (storage, &error))
    {
      failed ("%s", error->message);
      return NULL;
    }
  account = cps_storage_account_get_by_name (storage, username, &error);
  if (account == NULL)
    {
      cps_storage_rollback (storage);
      if (g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
        failed (_("There is no account “%s”. List the accounts with “cps-server account "
                  "list”."),
                username);
      else
        failed ("%s", error->message);
    }
  return account;
}

/* Saves @account with its audit entry @action (about the account, by the command line) and
 * commits; reports a failure, rolling back. */
static gboolean
save_account (CpsStorage *storage, CpsServerKey *key, CpsAccountRecord *account,
              const char *action, const char *details)
{
  g_autoptr (GError) error = NULL;

  if (!cps_storage_account_update (storage, account, &error) ||
      !cps_audit_append (storage, key, action, NULL, NULL, "account", account->id, details, NULL,
                         &error) ||
      !cps_storage_commit (storage, &error))
    {
      storage_failed (storage, error);
      return FALSE;
    }
  return TRUE;
}

/* ----- add ------------------------------------------------------------------------------- */

static int
account_add (int argc, char **argv)
{
  g_auto (AccountOptions) options = { 0 };
  g_autoptr (CpsServerKey) key = NULL;
  g_autoptr (CpsStorage) storage = NULL;
  g_autoptr (CpsAccountRecord) existing = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (CpsSecret) password = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *id = NULL;
  g_autofree char *created_at = NULL;
  g_autofree char *details = NULL;
  CpsAccountRecord account = { 0 };
  int status;

  status = parse_options ("add",
                          _("cps-server account add --data-dir DIR --username NAME --role ROLE\n\n"
                            "Creates an account. The password is read as one line from "
                            "standard input."),
                          WITH_NEW_USERNAME | WITH_ROLE, argc, argv, &options);
  if (status != EXIT_OK)
    return status;

  if ((password = read_password ()) == NULL)
    return EXIT_FAILED;
  hash = cps_password_hash (password, &error);
  if (hash == NULL)
    return failed ("%s", error->message);
  if ((storage = open_storage (options.data_dir, TRUE, &key)) == NULL)
    return EXIT_FAILED;

  id = g_uuid_string_random ();
  created_at = cps_now_rfc3339 ();
  account.id = id;
  account.username = options.username;
  account.role = options.role;
  account.password_hash = hash;
  account.created_at = created_at;
  details = cps_json_object_of_strings ("via", "command-line", "username", options.username,
                                        "role", options.role, NULL);

  if (!cps_storage_begin (storage, &error))
    return failed ("%s", error->message);
  existing = cps_storage_account_get_by_name (storage, options.username, &error);
  if (existing == NULL && !g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
    return storage_failed (storage, error);
  g_clear_error (&error);
  if (existing != NULL ||
      (!cps_storage_account_insert (storage, &account, &error) &&
       g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_EXISTS)))
    {
      cps_storage_rollback (storage);
      return failed (_("The username “%s” is already taken; choose another."), options.username);
    }
  if (error != NULL ||
      !cps_audit_append (storage, key, "account.created", NULL, NULL, "account", id, details,
                         NULL, &error))
    return storage_failed (storage, error);
  if (!cps_storage_commit (storage, &error))
    return storage_failed (storage, error);

  g_print (_("Created the account “%s” with the role %s (id %s).\n"), options.username,
           options.role, id);
  return EXIT_OK;
}

/* ----- list ------------------------------------------------------------------------------ */

static void
print_cell (const char *text, guint width, gboolean last)
{
  glong length = g_utf8_strlen (text, -1);

  g_print ("%s", text);
  if (last)
    {
      g_print ("\n");
      return;
    }
  for (glong i = length; i < (glong) width + 2; i++)
    g_print (" ");
}

static int
account_list (int argc, char **argv)
{
  g_auto (AccountOptions) options = { 0 };
  g_autoptr (CpsStorage) storage = NULL;
  g_autoptr (GPtrArray) accounts = g_ptr_array_new_with_free_func (
    (GDestroyNotify) cps_account_record_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *cursor = NULL;
  const char *headers[4] = { _("USERNAME"), _("ROLE"), _("MFA"), _("CREATED") };
  const char *mfa_on = _("on"), *mfa_off = _("off");
  guint widths[4];
  int status;

  status = parse_options ("list",
                          _("cps-server account list --data-dir DIR\n\n"
                            "Lists the server's accounts."),
                          0, argc, argv, &options);
  if (status != EXIT_OK)
    return status;
  if ((storage = open_storage (options.data_dir, FALSE, NULL)) == NULL)
    return EXIT_FAILED;

  for (;;)
    {
      GPtrArray *page = cps_storage_account_list (storage, cursor, LIST_PAGE, &error);
      guint n;

      if (page == NULL)
        return failed ("%s", error->message);
      n = page->len;
      g_ptr_array_extend_and_steal (accounts, page);
      if (n < LIST_PAGE)
        break;
      g_free (cursor);
      cursor = g_strdup (((const CpsAccountRecord *) g_ptr_array_index (
                            accounts, accounts->len - 1))->username);
    }

  if (accounts->len == 0)
    {
      g_print (_("No accounts yet. Add the first admin with “cps-server account add "
                 "--data-dir DIR --username NAME --role admin”.\n"));
      return EXIT_OK;
    }

  for (guint c = 0; c < G_N_ELEMENTS (headers); c++)
    widths[c] = g_utf8_strlen (headers[c], -1);
  widths[2] = MAX (widths[2], (guint) MAX (g_utf8_strlen (mfa_on, -1),
                                           g_utf8_strlen (mfa_off, -1)));
  for (guint i = 0; i < accounts->len; i++)
    {
      const CpsAccountRecord *account = g_ptr_array_index (accounts, i);

      widths[0] = MAX (widths[0], (guint) g_utf8_strlen (account->username, -1));
      widths[1] = MAX (widths[1], (guint) g_utf8_strlen (account->role, -1));
    }

  for (guint c = 0; c < G_N_ELEMENTS (headers); c++)
    print_cell (headers[c], widths[c], c == G_N_ELEMENTS (headers) - 1);
  for (guint i = 0; i < accounts->len; i++)
    {
      const CpsAccountRecord *account = g_ptr_array_index (accounts, i);

      print_cell (account->username, widths[0], FALSE);
      print_cell (account->role, widths[1], FALSE);
      print_cell (account->totp_secret != NULL ? mfa_on : mfa_off, widths[2], FALSE);
      print_cell (account->created_at, widths[3], TRUE);
    }
  return EXIT_OK;
}

/* ----- passwd ---------------------------------------------------------------------------- */

static int
account_passwd (int argc, char **argv)
{
  g_auto (AccountOptions) options = { 0 };
  g_autoptr (CpsServerKey) key = NULL;
  g_autoptr (CpsStorage) storage = NULL;
  g_autoptr (CpsAccountRecord) account = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (CpsSecret) password = NULL;
  g_autofree char *details = NULL;
  int status;

  status = parse_options ("passwd",
                          _("cps-server account passwd --data-dir DIR --username NAME\n\n"
                            "Sets an account's new password, read as one line from standard "
                            "input, and signs out all of the account's devices."),
                          WITH_USERNAME, argc, argv, &options);
  if (status != EXIT_OK)
    return status;
  if ((storage = open_storage (options.data_dir, FALSE, &key)) == NULL)
    return EXIT_FAILED;
  if ((password = read_password ()) == NULL)
    return EXIT_FAILED;

  if ((account = begin_with_account (storage, options.username)) == NULL)
    return EXIT_FAILED;
  g_free (account->password_hash);
  account->password_hash = cps_password_hash (password, &error);
  if (account->password_hash == NULL)
    return storage_failed (storage, error);

  /* Whoever knew the old password may hold a session: end them all. */
  devices = cps_storage_device_list (storage, account->id, &error);
  if (devices == NULL)
    return storage_failed (storage, error);
  for (guint i = 0; i < devices->len; i++)
    {
      const CpsDeviceRecord *device = g_ptr_array_index (devices, i);

      if (!cps_storage_tokens_revoke_device (storage, device->id, &error))
        return storage_failed (storage, error);
    }

  details = cps_json_object_of_strings ("via", "command-line", NULL);
  if (!save_account (storage, key, account, "account.password_changed", details))
    return EXIT_FAILED;

  g_print (_("Changed the password of “%s”. Its devices must sign in again.\n"),
           options.username);
  return EXIT_OK;
}

/* ----- role ------------------------------------------------------------------------------ */

static int
account_role (int argc, char **argv)
{
  g_auto (AccountOptions) options = { 0 };
  g_autoptr (CpsServerKey) key = NULL;
  g_autoptr (CpsStorage) storage = NULL;
  g_autoptr (CpsAccountRecord) account = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *details = NULL;
  g_autofree char *old_role = NULL;
  int status;

  status = parse_options ("role",
                          _("cps-server account role --data-dir DIR --username NAME --role ROLE"
                            "\n\nChanges an account's role."),
                          WITH_USERNAME | WITH_ROLE, argc, argv, &options);
  if (status != EXIT_OK)
    return status;
  if ((storage = open_storage (options.data_dir, FALSE, &key)) == NULL)
    return EXIT_FAILED;

  if ((account = begin_with_account (storage, options.username)) == NULL)
    return EXIT_FAILED;
  if (g_strcmp0 (account->role, options.role) == 0)
    {
      cps_storage_rollback (storage);
      g_print (_("“%s” already has the role %s.\n"), options.username, options.role);
      return EXIT_OK;
    }
  if (g_strcmp0 (account->role, "admin") == 0)
    {
      gboolean exists = FALSE;

      if (!cps_storage_other_admin_exists (storage, account->id, &exists, &error))
        return storage_failed (storage, error);
      if (!exists)
        {
          cps_storage_rollback (storage);
          return failed (_("“%s” is the last admin; make another account admin first."),
                         options.username);
        }
    }

  old_role = g_steal_pointer (&account->role);
  account->role = g_strdup (options.role);
  details = cps_json_object_of_strings ("from", old_role, "to", options.role, "via",
                                        "command-line", NULL);
  if (!save_account (storage, key, account, "account.role_changed", details))
    return EXIT_FAILED;

  g_print (_("“%s” now has the role %s (was %s).\n"), options.username, options.role, old_role);
  return EXIT_OK;
}

/* ----- dispatch -------------------------------------------------------------------------- */

static void
print_usage (FILE *out)
{
  fprintf (out, "%s\n\n%s\n", _("Usage: cps-server account ACTION [OPTIONS…]"), _("Actions:"));
  fprintf (out, "  add     %s\n",
           _("Create an account (--data-dir DIR --username NAME --role ROLE; password on "
             "standard input)"));
  fprintf (out, "  list    %s\n", _("List the accounts (--data-dir DIR)"));
  fprintf (out, "  passwd  %s\n",
           _("Set a new password (--data-dir DIR --username NAME; password on standard input)"));
  fprintf (out, "  role    %s\n",
           _("Change an account's role (--data-dir DIR --username NAME --role ROLE)"));
  fprintf (out, "\n%s\n", _("Run “cps-server account ACTION --help” for an action's options."));
}

/**
 * cps_server_account_main:
 * @argv: the command line from the subcommand on (argv[0] is "account")
 *
 * Returns: 0 on success, 1 when the action failed, 2 on usage errors
 */
int
cps_server_account_main (int argc, char **argv)
{
  const char *action;

  if (argc < 2)
    {
      print_usage (stderr);
      return EXIT_USAGE;
    }
  action = argv[1];
  if (g_str_equal (action, "--help") || g_str_equal (action, "-h") ||
      g_str_equal (action, "help"))
    {
      print_usage (stdout);
      return EXIT_OK;
    }
  if (g_str_equal (action, "add"))
    return account_add (argc - 1, argv + 1);
  if (g_str_equal (action, "list"))
    return account_list (argc - 1, argv + 1);
  if (g_str_equal (action, "passwd"))
    return account_passwd (argc - 1, argv + 1);
  if (g_str_equal (action, "role"))
    return account_role (argc - 1, argv + 1);

  g_printerr ("cps-server account: ");
  g_printerr (_("unknown action “%s”"), action);
  g_printerr ("\n\n");
  print_usage (stderr);
  return EXIT_USAGE;
}
