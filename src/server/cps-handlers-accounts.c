/* cps-handlers-accounts.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The caller's account, and account management for admins.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include "cps-credentials.h"
#include "cps-handlers.h"
#include "cps-revision.h"

#define USERNAME_MAX_CHARS 64
#define PASSWORD_MAX_BYTES 1024
#define ROLE_MAX_BYTES 32
#define DEFAULT_PAGE_ITEMS 100

static void
write_account (CpsJsonWriter *writer, const CpsAccountRecord *account)
{
  cps_json_writer_begin_object (writer);
  cps_json_writer_member_string (writer, "id", account->id);
  cps_json_writer_member_string (writer, "username", account->username);
  cps_json_writer_member_string (writer, "role", account->role);
  cps_json_writer_member_string (writer, "created_at", account->created_at);
  cps_json_writer_member_bool (writer, "mfa_enabled", account->totp_secret != NULL);
  cps_json_writer_end_object (writer);
}

static void
reply_account (CpsRequest *request, guint status, const CpsAccountRecord *account)
{
  CpsJsonWriter *writer = cps_json_writer_new ();

  write_account (writer, account);
  cps_request_reply (request, status, writer);
}

void
cps_handle_account_self (CpsRequest *request)
{
  if (!cps_request_authenticate (request, CPS_SCOPE_READ))
    return;
  reply_account (request, 200, request->caller->account);
}

void
cps_handle_accounts_list (CpsRequest *request)
{
  g_autoptr (GPtrArray) accounts = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *cursor = NULL;
  g_autofree char *next_cursor = NULL;
  CpsJsonWriter *writer;
  guint limit = 0;

  if (!cps_request_authenticate (request, CPS_SCOPE_ADMIN) ||
      !cps_request_get_limit (request, DEFAULT_PAGE_ITEMS, &limit) ||
      !cps_request_get_cursor (request, "account", &cursor))
    return;

  /* One more than asked tells whether another page follows. */
  accounts = cps_storage_account_list (request->storage, cursor, limit + 1, &error);
  if (accounts == NULL)
    {
      cps_request_storage_error (request, error);
      return;
    }
  if (accounts->len > limit)
    {
      g_ptr_array_set_size (accounts, limit);
      next_cursor = cps_cursor_encode (
        "account", ((const CpsAccountRecord *) g_ptr_array_index (accounts, limit - 1))->username);
    }

  writer = cps_json_writer_new ();
  cps_json_writer_begin_object (writer);
  cps_json_writer_key (writer, "accounts");
  cps_json_writer_begin_array (writer);
  for (guint i = 0; i < accounts->len; i++)
    write_account (writer, g_ptr_array_index (accounts, i));
  cps_json_writer_end_array (writer);
  cps_json_writer_member_string (writer, "next_cursor", next_cursor);
  cps_json_writer_end_object (writer);
  cps_request_reply (request, 200, writer);
}

void
cps_handle_accounts_create (CpsRequest *request)
{
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (CpsAccountRecord) existing = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *details = NULL;
  const CpsJsonNode *root;
  const char *username = NULL, *password = NULL, *role = NULL;
  CpsAccountRecord account = { 0 };
  g_autofree char *id = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *created_at = NULL;

  if (!cps_request_authenticate (request, CPS_SCOPE_ADMIN) ||
      (doc = cps_request_parse_object (request)) == NULL)
    return;
  root = cps_json_document_get_root (doc);
  if (!cps_request_get_string (request, root, "username", TRUE, USERNAME_MAX_CHARS, &username) ||
      !cps_request_get_string (request, root, "password", TRUE, PASSWORD_MAX_BYTES, &password) ||
      !cps_request_get_string (request, root, "role", TRUE, ROLE_MAX_BYTES, &role))
    return;
  if (!cps_username_is_valid (username))
    {
      cps_request_invalid_field (request, "username",
                                 "“username” must be 1 to 64 characters of letters, digits, "
                                 "“.”, “_”, “@” and “-”.");
      return;
    }
  if (!cps_password_is_acceptable (password, &error))
    {
      cps_request_invalid_field (request, "password", error->message);
      return;
    }
  if (!cps_role_is_valid (role))
    {
      cps_request_invalid_field (request, "role",
                                 "“role” must be one of admin, lead, member and observer.");
      return;
    }

  /* Hash before taking the write lock: Argon2id takes a while. */
  hash = cps_password_hash (password, &error);
  if (hash == NULL)
    {
      cps_request_storage_error (request, error);
      return;
    }
  id = g_uuid_string_random ();
  created_at = cps_now_rfc3339 ();
  account.id = id;
  account.username = (char *) username;
  account.role = (char *) role;
  account.password_hash = hash;
  account.created_at = created_at;

  details = cps_json_object_of_strings ("username", username, "role", role, NULL);

  if (!cps_request_begin (request))
    return;
  existing = cps_storage_account_get_by_name (request->storage, username, &error);
  if (existing == NULL && !g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
    {
      cps_request_abort (request, error);
      return;
    }
  g_clear_error (&error);
  if (existing != NULL ||
      (!cps_storage_account_insert (request->storage, &account, &error) &&
       g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_EXISTS)))
    {
      cps_storage_rollback (request->storage);
      cps_request_error (request, 409, "username_taken", NULL,
                         "The username “%s” is already taken; choose another.", username);
      return;
    }
  if (error != NULL ||
      !cps_request_audit (request, "account.created", "account", id, details, &error))
    {
      cps_request_abort (request, error);
      return;
    }
  if (!cps_request_commit (request))
    return;

  g_message ("account %s created by %s", id, request->caller->account->id);
  reply_account (request, 201, &account);
}

void
cps_handle_account_role (CpsRequest *request)
{
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (CpsAccountRecord) account = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *details = NULL;
  g_autofree char *old_role = NULL;
  const char *account_id = request->params[0];
  const char *role = NULL;

  if (!cps_request_authenticate (request, CPS_SCOPE_ADMIN) ||
      (doc = cps_request_parse_object (request)) == NULL ||
      !cps_request_get_string (request, cps_json_document_get_root (doc), "role", TRUE,
                               ROLE_MAX_BYTES, &role))
    return;
  if (!cps_role_is_valid (role))
    {
      cps_request_invalid_field (request, "role",
                                 "“role” must be one of admin, lead, member and observer.");
      return;
    }
  if (!cps_is_uuid (account_id))
    {
      cps_request_error (request, 404, "not_found", NULL, "There is no such account.");
      return;
    }

  if (!cps_request_begin (request))
    return;
  account = cps_storage_account_get (request->storage, account_id, &error);
  if (account == NULL)
    {
      if (g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
        {
          cps_storage_rollback (request->storage);
          cps_request_error (request, 404, "not_found", NULL, "There is no such account.");
        }
      else
        cps_request_abort (request, error);
      return;
    }
  if (g_strcmp0 (account->role, role) == 0)
    {
      cps_storage_rollback (request->storage);
      reply_account (request, 200, account);
      return;
    }
  if (g_strcmp0 (account->role, "admin") == 0)
    {
      gboolean exists = FALSE;

      if (!cps_storage_other_admin_exists (request->storage, account->id, &exists, &error))
        {
          cps_request_abort (request, error);
          return;
        }
      if (!exists)
        {
          cps_storage_rollback (request->storage);
          cps_request_error (request, 409, "last_admin", NULL,
                             "This is the last admin account; make another account admin "
                             "first.");
          return;
        }
    }

  old_role = g_steal_pointer (&account->role);
  account->role = g_strdup (role);
  details = cps_json_object_of_strings ("from", old_role, "to", role, NULL);
  if (!cps_storage_account_update (request->storage, account, &error) ||
      !cps_request_audit (request, "account.role_changed", "account", account->id, details,
                          &error))
    {
      cps_request_abort (request, error);
      return;
    }
  if (!cps_request_commit (request))
    return;

  g_message ("account %s is now %s (was %s)", account->id, role, old_role);
  reply_account (request, 200, account);
}
