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

#define USERNAME_MAX_CHARS 64
#define LIST_PAGE 500

/* ----- helpers --------------------------------------------------------------------------- */

static int
usage_error (GOptionContext *context, const char *action, const char *message)
{
  g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

  g_printerr ("cps-server account %s: %s\n\n%s", action, message, help);
  return EXIT_USAGE;
}

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

static gboolean
parse_options (GOptionContext *context, const GOptionEntry *entries, const char *summary,
               int *argc, char ***argv, char **message)
{
  g_autoptr (GError) error = NULL;

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *message = g_strdup (error->message);
      return FALSE;
    }
  if (*argc > 1)
    {
      *message = g_strdup_printf (_("Unexpected argument “%s”."), (*argv)[1]);
      return FALSE;
    }
  return TRUE;
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

static gboolean
username_is_valid (const char *username)
{
  gsize length = strlen (username);

  if (length == 0 || length > USERNAME_MAX_CHARS)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    {
      char c = username[i];

      if (!g_ascii_isalnum (c) && c != '.' && c != '_' && c != '@' && c != '-')
        return FALSE;
    }
  return TRUE;
}

/* Opens DATA_DIR/cps-server.db; only `add` may create the directory and the database. */
static CpsStorage *
open_storage (const char *data_dir, gboolean create)
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

static char *
details_json (const char *first_key, ...)
{
  CpsJsonWriter *writer = cps_json_writer_new ();
  va_list args;

  cps_json_writer_begin_object (writer);
  va_start (args, first_key);
  for (const char *key = first_key; key != NULL; key = va_arg (args, const char *))
    cps_json_writer_member_string (writer, key, va_arg (args, const char *));
  va_end (args);
  cps_json_writer_end_object (writer);
  return g_string_free (cps_json_writer_steal (writer), FALSE);
}

/* Finds @username inside the open transaction; reports a missing one. */
static CpsAccountRecord *
get_account (CpsStorage *storage, const char *username)
{
  g_autoptr (GError) error = NULL;
  CpsAccountRecord *account = cps_storage_account_get_by_name (storage, username, &error);

  if (account == NULL)
    {
      if (g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
        failed (_("There is no account “%s”. List the accounts with “cps-server account "
                  "list”."),
                username);
      else
        failed ("%s", error->message);
    }
  return account;
}

static int
storage_failed (CpsStorage *storage, GError *error)
{
  cps_storage_rollback (storage);
  return failed ("%s", error->message);
}

/* Whether an admin other than @account_id exists. */
static gboolean
other_admin_exists (CpsStorage *storage, const char *account_id, gboolean *exists,
                    GError **error)
{
  g_autofree char *cursor = NULL;

  *exists = FALSE;
  for (;;)
    {
      g_autoptr (GPtrArray) page = cps_storage_account_list (storage, cursor, LIST_PAGE, error);

      if (page == NULL)
        return FALSE;
      for (guint i = 0; i < page->len; i++)
        {
          const CpsAccountRecord *other = g_ptr_array_index (page, i);

          if (g_strcmp0 (other->role, "admin") == 0 && g_strcmp0 (other->id, account_id) != 0)
            {
              *exists = TRUE;
              return TRUE;
            }
        }
      if (page->len < LIST_PAGE)
        return TRUE;
      g_free (cursor);
      cursor = g_strdup (((const CpsAccountRecord *) g_ptr_array_index (page, page->len - 1))
                           ->username);
    }
}

/* ----- add ------------------------------------------------------------------------------- */

static int
account_add (int argc, char **argv)
{
  g_autoptr (CpsServerKey) key = NULL;
  g_autofree char *data_dir = NULL, *username = NULL, *role = NULL;
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
      N_("Directory holding the server database"), N_("DIR") },
    { "username", 0, 0, G_OPTION_ARG_STRING, &username, N_("Name to sign in with"),
      N_("NAME") },
    { "role", 0, 0, G_OPTION_ARG_STRING, &role, N_("admin, lead, member or observer"),
      N_("ROLE") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (CpsStorage) storage = NULL;
  g_autoptr (CpsAccountRecord) existing = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (CpsSecret) password = NULL;
  g_autofree char *message = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *id = NULL;
  g_autofree char *created_at = NULL;
  g_autofree char *details = NULL;
  CpsAccountRecord account = { 0 };

  if (!parse_options (context, entries,
                      _("cps-server account add --data-dir DIR --username NAME --role ROLE\n\n"
                        "Creates an account. The password is read as one line from standard "
                        "input."),
                      &argc, &argv, &message))
    return usage_error (context, "add", message);
  if (data_dir == NULL || username == NULL || role == NULL)
    return usage_error (context, "add", _("Give --data-dir, --username and --role."));
  if (!username_is_valid (username))
    return usage_error (context, "add",
                        _("A username is 1 to 64 characters of letters, digits, “.”, “_”, "
                          "“@” and “-”."));
  if (!cps_role_is_valid (role))
    return usage_error (context, "add",
                        _("The role must be admin, lead, member or observer."));

  if ((password = read_password ()) == NULL)
    return EXIT_FAILED;
  hash = cps_password_hash (password, &error);
  if (hash == NULL)
    return failed ("%s", error->message);
  if ((storage = open_storage (data_dir, TRUE)) == NULL)
    return EXIT_FAILED;
  key = load_key_if_any (data_dir);

  id = g_uuid_string_random ();
  created_at = cps_now_rfc3339 ();
  account.id = id;
  account.username = username;
  account.role = role;
  account.password_hash = hash;
  account.created_at = created_at;
  details = details_json ("via", "command-line", "username", username, "role", role, NULL);

  if (!cps_storage_begin (storage, &error))
    return failed ("%s", error->message);
  existing = cps_storage_account_get_by_name (storage, username, &error);
  if (existing == NULL && !g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
    return storage_failed (storage, error);
  g_clear_error (&error);
  if (existing != NULL ||
      (!cps_storage_account_insert (storage, &account, &error) &&
       g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_EXISTS)))
    {
      cps_storage_rollback (storage);
      return failed (_("The username “%s” is already taken; choose another."), username);
    }
  if (error != NULL ||
      !cps_audit_append (storage, key, "account.created", NULL, NULL, "account", id, details,
                         NULL, &error))
    return storage_failed (storage, error);
  if (!cps_storage_commit (storage, &error))
    return storage_failed (storage, error);

  g_print (_("Created the account “%s” with the role %s (id %s).\n"), username, role, id);
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
  g_autofree char *data_dir = NULL;
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
      N_("Directory holding the server database"), N_("DIR") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (CpsStorage) storage = NULL;
  g_autoptr (GPtrArray) accounts = g_ptr_array_new_with_free_func (
    (GDestroyNotify) cps_account_record_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *cursor = NULL;
  const char *headers[4] = { _("USERNAME"), _("ROLE"), _("MFA"), _("CREATED") };
  const char *mfa_on = _("on"), *mfa_off = _("off");
  guint widths[4];

  if (!parse_options (context, entries,
                      _("cps-server account list --data-dir DIR\n\n"
                        "Lists the server's accounts."),
                      &argc, &argv, &message))
    return usage_error (context, "list", message);
  if (data_dir == NULL)
    return usage_error (context, "list", _("Give the data directory with --data-dir DIR."));
  if ((storage = open_storage (data_dir, FALSE)) == NULL)
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
  g_autoptr (CpsServerKey) key = NULL;
  g_autofree char *data_dir = NULL, *username = NULL;
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
      N_("Directory holding the server database"), N_("DIR") },
    { "username", 0, 0, G_OPTION_ARG_STRING, &username, N_("The account to change"),
      N_("NAME") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (CpsStorage) storage = NULL;
  g_autoptr (CpsAccountRecord) account = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (CpsSecret) password = NULL;
  g_autofree char *message = NULL;
  g_autofree char *details = NULL;

  if (!parse_options (context, entries,
                      _("cps-server account passwd --data-dir DIR --username NAME\n\n"
                        "Sets an account's new password, read as one line from standard input, "
                        "and signs out all of the account's devices."),
                      &argc, &argv, &message))
    return usage_error (context, "passwd", message);
  if (data_dir == NULL || username == NULL)
    return usage_error (context, "passwd", _("Give --data-dir and --username."));
  if ((storage = open_storage (data_dir, FALSE)) == NULL)
    return EXIT_FAILED;
  key = load_key_if_any (data_dir);
  if ((password = read_password ()) == NULL)
    return EXIT_FAILED;

  if (!cps_storage_begin (storage, &error))
    return failed ("%s", error->message);
  if ((account = get_account (storage, username)) == NULL)
    {
      cps_storage_rollback (storage);
      return EXIT_FAILED;
    }
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

  details = details_json ("via", "command-line", NULL);
  if (!cps_storage_account_update (storage, account, &error) ||
      !cps_audit_append (storage, key, "account.password_changed", NULL, NULL, "account",
                         account->id, details, NULL, &error) ||
      !cps_storage_commit (storage, &error))
    return storage_failed (storage, error);

  g_print (_("Changed the password of “%s”. Its devices must sign in again.\n"), username);
  return EXIT_OK;
}

/* ----- role ------------------------------------------------------------------------------ */

static int
account_role (int argc, char **argv)
{
  g_autoptr (CpsServerKey) key = NULL;
  g_autofree char *data_dir = NULL, *username = NULL, *role = NULL;
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
      N_("Directory holding the server database"), N_("DIR") },
    { "username", 0, 0, G_OPTION_ARG_STRING, &username, N_("The account to change"),
      N_("NAME") },
    { "role", 0, 0, G_OPTION_ARG_STRING, &role, N_("admin, lead, member or observer"),
      N_("ROLE") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (CpsStorage) storage = NULL;
  g_autoptr (CpsAccountRecord) account = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *details = NULL;
  g_autofree char *old_role = NULL;

  if (!parse_options (context, entries,
                      _("cps-server account role --data-dir DIR --username NAME --role ROLE\n\n"
                        "Changes an account's role."),
                      &argc, &argv, &message))
    return usage_error (context, "role", message);
  if (data_dir == NULL || username == NULL || role == NULL)
    return usage_error (context, "role", _("Give --data-dir, --username and --role."));
  if (!cps_role_is_valid (role))
    return usage_error (context, "role",
                        _("The role must be admin, lead, member or observer."));
  if ((storage = open_storage (data_dir, FALSE)) == NULL)
    return EXIT_FAILED;
  key = load_key_if_any (data_dir);

  if (!cps_storage_begin (storage, &error))
    return failed ("%s", error->message);
  if ((account = get_account (storage, username)) == NULL)
    {
      cps_storage_rollback (storage);
      return EXIT_FAILED;
    }
  if (g_strcmp0 (account->role, role) == 0)
    {
      cps_storage_rollback (storage);
      g_print (_("“%s” already has the role %s.\n"), username, role);
      return EXIT_OK;
    }
  if (g_strcmp0 (account->role, "admin") == 0)
    {
      gboolean exists = FALSE;

      if (!other_admin_exists (storage, account->id, &exists, &error))
        return storage_failed (storage, error);
      if (!exists)
        {
          cps_storage_rollback (storage);
          return failed (_("“%s” is the last admin; make another account admin first."),
                         username);
        }
    }

  old_role = g_steal_pointer (&account->role);
  account->role = g_strdup (role);
  details = details_json ("from", old_role, "to", role, "via", "command-line", NULL);
  if (!cps_storage_account_update (storage, account, &error) ||
      !cps_audit_append (storage, key, "account.role_changed", NULL, NULL, "account",
                         account->id, details, NULL, &error) ||
      !cps_storage_commit (storage, &error))
    return storage_failed (storage, error);

  g_print (_("“%s” now has the role %s (was %s).\n"), username, role, old_role);
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
