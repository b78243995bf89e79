/* cps-handlers-auth.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sign-in, token refresh, sign-out and TOTP enrolment (CONTRACT.md “Accounts
 * and sessions”).
 *
 * Failed sign-ins are counted per account name and per address in storage, so
 * every server process sees them, and they are committed even though the
 * request itself fails. Each refresh moves the pair into a new session id and
 * leaves the presented refresh token ROTATED: presenting any exchanged refresh
 * token again is then recognised as reuse, however many rotations ago it was.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <string.h>

#include "cps-audit.h"
#include "cps-credentials.h"
#include "cps-handlers.h"
#include "cps-revision.h"
#include "cps-server.h"

#define USERNAME_MAX_BYTES 256
#define PASSWORD_MAX_BYTES 1024
#define DEVICE_NAME_MAX_BYTES 200
#define PLATFORM_MAX_BYTES 100
#define CLIENT_VERSION_MAX_BYTES 100
#define PUBLIC_KEY_MAX_BYTES 64
#define RECOVERY_CODE_MAX_BYTES 64
#define TOKEN_MAX_BYTES 128
#define CODE_MAX_BYTES 64

static gint64
request_time (CpsRequest *request)
{
  return request->received_at / G_USEC_PER_SEC;
}

/* Appends to the audit chain with an explicit actor: sign-in and refresh have no
 * authenticated caller yet. */
static gboolean
audit_as (CpsRequest *request, const char *action, const char *actor_account,
          const char *actor_device, const char *target_type, const char *target_id,
          const char *details, GError **error)
{
  return cps_audit_append (request->storage, cps_server_get_key (request->server), action,
                           actor_account, actor_device, target_type, target_id, details, NULL,
                           error);
}

static gboolean
is_totp_format (const char *code)
{
  if (strlen (code) != 6)
    return FALSE;
  for (guint i = 0; i < 6; i++)
    if (!g_ascii_isdigit (code[i]))
      return FALSE;
  return TRUE;
}

static void
write_token_reply (CpsRequest *request, const char *access_token, const char *refresh_token,
                   const char *device_id, const CpsAccountRecord *account)
{
  CpsJsonWriter *writer = cps_json_writer_new ();

  cps_json_writer_begin_object (writer);
  cps_json_writer_member_string (writer, "access_token", access_token);
  cps_json_writer_member_string (writer, "refresh_token", refresh_token);
  cps_json_writer_member_int (writer, "expires_in", request->config->access_token_seconds);
  cps_json_writer_member_string (writer, "device_id", device_id);
  cps_json_writer_key (writer, "account");
  cps_json_writer_begin_object (writer);
  cps_json_writer_member_string (writer, "id", account->id);
  cps_json_writer_member_string (writer, "username", account->username);
  cps_json_writer_member_string (writer, "role", account->role);
  cps_json_writer_end_object (writer);
  cps_json_writer_end_object (writer);
  cps_request_reply (request, 200, writer);
}

/* Inserts a new access/refresh pair for @session_id (inside the transaction). */
static gboolean
issue_tokens (CpsRequest *request, const char *session_id, const char *account_id,
              const char *device_id, char **access_token, char **refresh_token, GError **error)
{
  g_autofree char *access = cps_token_generate ();
  g_autofree char *refresh = cps_token_generate ();
  g_autofree char *access_hash = cps_token_hash (access);
  g_autofree char *refresh_hash = cps_token_hash (refresh);
  gint64 now = request_time (request);
  CpsTokenRecord record = {
    .state = CPS_TOKEN_ACTIVE,
    .session_id = (char *) session_id,
    .account_id = (char *) account_id,
    .device_id = (char *) device_id,
    .created_at = now,
  };

  record.token_hash = access_hash;
  record.kind = CPS_TOKEN_ACCESS;
  record.expires_at = now + request->config->access_token_seconds;
  if (!cps_storage_token_insert (request->storage, &record, error))
    return FALSE;

  record.token_hash = refresh_hash;
  record.kind = CPS_TOKEN_REFRESH;
  record.expires_at = now + (gint64) request->config->refresh_token_days * 24 * 60 * 60;
  if (!cps_storage_token_insert (request->storage, &record, error))
    return FALSE;

  *access_token = g_steal_pointer (&access);
  *refresh_token = g_steal_pointer (&refresh);
  return TRUE;
}

/* ----- sign-in --------------------------------------------------------------------------- */

/* Whether @key has reached @max failures in the window; *retry_after gets the seconds until
 * its oldest counted failure leaves the window. */
static gboolean
rate_limit_reached (CpsRequest *request, const char *key, guint max, gint64 *retry_after,
                    GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gint64 now = request_time (request);
  gint64 window = request->config->login_window_seconds;
  gint64 oldest = now;
  gint64 count;

  count = cps_storage_ratelimit_count (request->storage, key, now - window, &oldest,
                                       &local_error);
  if (count < 0 || local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (count < (gint64) max)
    {
      *retry_after = 0;
      return TRUE;
    }
  *retry_after = MAX (1, oldest + window - now);
  return TRUE;
}

/* Takes one attempt from the account's and the address's budgets under the write lock,
 * before the password is checked, so that parallel guesses cannot all pass a count taken
 * before any of them failed. Replies 429 (or 5xx) and returns FALSE when none is left. */
static gboolean
reserve_attempt (CpsRequest *request, const char *account_key, const char *address_key,
                 gint64 *at)
{
  g_autoptr (GError) error = NULL;
  gint64 retry_account = 0, retry_address = 0;

  *at = request_time (request);
  if (!cps_request_begin (request))
    return FALSE;
  if (!rate_limit_reached (request, account_key, request->config->login_max_per_account,
                           &retry_account, &error) ||
      !rate_limit_reached (request, address_key, request->config->login_max_per_address,
                           &retry_address, &error))
    return cps_request_abort (request, error);

  if (retry_account > 0 || retry_address > 0)
    {
      gint64 retry_after = MAX (retry_account, retry_address);
      g_autofree char *header = g_strdup_printf ("%" G_GINT64_FORMAT, retry_after);
      g_autofree char *limit_details =
        g_strdup_printf ("{\"retry_after\":%" G_GINT64_FORMAT "}", retry_after);

      cps_storage_rollback (request->storage);
      g_message ("sign-in from %s refused: too many failures", request->peer_address);
      cps_request_add_header (request, "Retry-After", header);
      return cps_request_error (request, 429, "rate_limited", limit_details,
                                "Too many failed sign-ins; wait %" G_GINT64_FORMAT " seconds "
                                "and try again.",
                                retry_after);
    }

  if (!cps_storage_ratelimit_record (request->storage, account_key, *at, &error) ||
      !cps_storage_ratelimit_record (request->storage, address_key, *at, &error))
    return cps_request_abort (request, error);
  return cps_request_commit (request);
}

/* Gives a reserved attempt back when the sign-in did not fail on a guess (a code was
 * asked for, or the device was refused). Best effort: at worst it counts once too often. */
static void
refund_attempt (CpsRequest *request, const char *account_key, const char *address_key,
                gint64 at)
{
  g_autoptr (GError) error = NULL;

  if (!cps_storage_begin (request->storage, &error) ||
      !cps_storage_ratelimit_forget (request->storage, account_key, at, &error) ||
      !cps_storage_ratelimit_forget (request->storage, address_key, at, &error) ||
      !cps_storage_commit (request->storage, &error))
    {
      cps_storage_rollback (request->storage);
      g_debug ("Could not give a sign-in attempt back: %s", error->message);
    }
}

/* Audits a failed sign-in in its own transaction (its attempt was already counted by
 * reserve_attempt()), then answers 401 with @code. */
static void
reply_login_failure (CpsRequest *request, const char *account_id, const char *username,
                     const char *code)
{
  g_autoptr (GError) error = NULL;
  /* The name typed is kept only when it names an account: people type passwords into the
   * username field, and the audit log must never hold one. */
  g_autofree char *details = cps_json_object_of_strings (
    "reason", code, "username", account_id != NULL ? username : "(unknown)", NULL);

  if (!cps_request_begin (request))
    return;
  if (!audit_as (request, "login.failed", NULL, NULL, account_id != NULL ? "account" : NULL,
                 account_id, details, &error))
    {
      cps_request_abort (request, error);
      return;
    }
  if (!cps_request_commit (request))
    return;

  g_message ("failed sign-in from %s (%s)", request->peer_address, code);
  if (g_strcmp0 (code, "invalid_totp") == 0)
    cps_request_error (request, 401, "invalid_totp", NULL,
                       "The authentication code is wrong or was already used; wait for the "
                       "next code and try again.");
  else
    cps_request_error (request, 401, "invalid_credentials", NULL,
                       "The username or password is wrong; check both and try again.");
}

typedef struct
{
  const char *username;
  const char *password;
  const char *totp;
  const char *recovery_code;
  const char *device_name;
  const char *platform;
  const char *client_version;
  const char *public_key;
} LoginInput;

static gboolean
read_login_input (CpsRequest *request, const CpsJsonNode *root, LoginInput *in)
{
  const CpsJsonNode *device = NULL;

  if (!cps_request_get_string (request, root, "username", TRUE, USERNAME_MAX_BYTES,
                               &in->username) ||
      !cps_request_get_string (request, root, "password", TRUE, PASSWORD_MAX_BYTES,
                               &in->password) ||
      !cps_request_get_string (request, root, "totp", FALSE, 6, &in->totp) ||
      !cps_request_get_string (request, root, "recovery_code", FALSE, RECOVERY_CODE_MAX_BYTES,
                               &in->recovery_code) ||
      !cps_request_get_object (request, root, "device", TRUE, &device) ||
      !cps_request_get_string (request, device, "name", TRUE, DEVICE_NAME_MAX_BYTES,
                               &in->device_name) ||
      !cps_request_get_string (request, device, "platform", TRUE, PLATFORM_MAX_BYTES,
                               &in->platform) ||
      !cps_request_get_string (request, device, "client_version", TRUE,
                               CLIENT_VERSION_MAX_BYTES, &in->client_version) ||
      !cps_request_get_string (request, device, "public_key", TRUE, PUBLIC_KEY_MAX_BYTES,
                               &in->public_key))
    return FALSE;

  if (in->totp != NULL && !is_totp_format (in->totp))
    return cps_request_invalid_field (request, "totp",
                                      "“totp” must be the 6 digits your authenticator app "
                                      "shows.");
  if (*in->device_name == '\0')
    return cps_request_invalid_field (request, "device.name", "Give the device a name.");
  return TRUE;
}

/* The device presenting @public_key, registered when new. Replies and returns FALSE when the
 * sign-in cannot continue; the transaction is then rolled back unless *commit_anyway is set
 * (a new device waiting for approval must stay registered). */
static gboolean
resolve_device (CpsRequest *request, const LoginInput *in, const char *fingerprint,
                const CpsAccountRecord *account, CpsDeviceRecord **out, gboolean *commit_anyway)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsDeviceRecord) device = NULL;
  g_autofree char *details = NULL;

  *commit_anyway = FALSE;
  device = cps_storage_device_get_by_key (request->storage, in->public_key, &error);
  if (device == NULL && !g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
    return cps_request_storage_error (request, error);

  if (device != NULL)
    {
      if (g_strcmp0 (device->account_id, account->id) != 0)
        return cps_request_error (request, 409, "device_key_in_use", NULL,
                                  "This device key belongs to another account; sign in with "
                                  "a new key on this device.");
      if (g_strcmp0 (device->state, "revoked") == 0)
        return cps_request_error (request, 403, "device_revoked", NULL,
                                  "This device was revoked and can never sign in again; "
                                  "create a new device key to continue.");
      if (g_strcmp0 (device->state, "active") != 0)
        return cps_request_error (request, 403, "device_pending", NULL,
                                  "This device is waiting for an administrator’s approval; "
                                  "sign in again once it is approved.");

      if (g_strcmp0 (device->name, in->device_name) != 0 ||
          g_strcmp0 (device->platform, in->platform) != 0 ||
          g_strcmp0 (device->client_version, in->client_version) != 0)
        {
          g_free (device->name);
          device->name = g_strdup (in->device_name);
          g_free (device->platform);
          device->platform = g_strdup (in->platform);
          g_free (device->client_version);
          device->client_version = g_strdup (in->client_version);
          if (!cps_storage_device_update (request->storage, device, &error))
            return cps_request_storage_error (request, error);
        }
      *out = g_steal_pointer (&device);
      return TRUE;
    }

  g_clear_error (&error);
  device = g_new0 (CpsDeviceRecord, 1);
  device->id = g_uuid_string_random ();
  device->account_id = g_strdup (account->id);
  device->name = g_strdup (in->device_name);
  device->platform = g_strdup (in->platform);
  device->client_version = g_strdup (in->client_version);
  device->public_key = g_strdup (in->public_key);
  device->key_fingerprint = g_strdup (fingerprint);
  device->state = g_strdup (request->config->require_device_approval &&
                                g_strcmp0 (account->role, "admin") != 0
                              ? "pending"
                              : "active");
  device->registered_at = cps_now_rfc3339 ();

  details = cps_json_object_of_strings ("name", device->name, "platform", device->platform,
                                        "state", device->state, "key_fingerprint",
                                        device->key_fingerprint, NULL);
  if (!cps_storage_device_insert (request->storage, device, &error) ||
      !audit_as (request, "device.registered", account->id, device->id, "device", device->id,
                 details, &error))
    return cps_request_storage_error (request, error);
  g_message ("device %s registered for account %s (%s)", device->id, account->id,
             device->state);

  if (g_strcmp0 (device->state, "pending") == 0)
    {
      *commit_anyway = TRUE;
      *out = g_steal_pointer (&device);
      return cps_request_error (request, 403, "device_pending", NULL,
                                "This device is registered and waits for an administrator’s "
                                "approval; sign in again once it is approved.");
    }
  *out = g_steal_pointer (&device);
  return TRUE;
}

void
cps_handle_login (CpsRequest *request)
{
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (CpsAccountRecord) account = NULL;
  g_autoptr (CpsDeviceRecord) device = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *username_lower = NULL;
  g_autofree char *account_key = NULL;
  g_autofree char *address_key = NULL;
  g_autofree char *account_id = NULL;
  g_autofree char *session_id = NULL;
  g_autofree char *access_token = NULL;
  g_autofree char *refresh_token = NULL;
  g_autofree char *details = NULL;
  g_autofree char *now_text = NULL;
  gint64 attempt_at = 0;
  gboolean used_recovery_code = FALSE;
  gboolean commit_anyway = FALSE;
  LoginInput in = { 0 };

  if ((doc = cps_request_parse_object (request)) == NULL ||
      !read_login_input (request, cps_json_document_get_root (doc), &in))
    return;
  fingerprint = cps_key_fingerprint (in.public_key);
  if (fingerprint == NULL)
    {
      cps_request_invalid_field (request, "device.public_key",
                                 "“device.public_key” must be the standard base64 of a 32-byte "
                                 "Ed25519 public key.");
      return;
    }

  /* The attempt is counted before any check of the password, so guessing stops at the
   * limit even when many guesses arrive at once. */
  username_lower = g_utf8_strdown (in.username, -1);
  account_key = g_strconcat ("account:", username_lower, NULL);
  address_key = g_strconcat ("address:", request->peer_address, NULL);
  if (!reserve_attempt (request, account_key, address_key, &attempt_at))
    return;

  account = cps_storage_account_get_by_name (request->storage, in.username, &error);
  if (account == NULL)
    {
      if (!g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
        {
          cps_request_storage_error (request, error);
          return;
        }
      cps_password_verify_dummy (in.password);
      reply_login_failure (request, NULL, in.username, "invalid_credentials");
      return;
    }
  /* Outside the transaction: Argon2id takes a while and must not hold the write lock. */
  if (!cps_password_verify (account->password_hash, in.password))
    {
      reply_login_failure (request, account->id, in.username, "invalid_credentials");
      return;
    }
  if (account->totp_secret != NULL && in.totp == NULL && in.recovery_code == NULL)
    {
      refund_attempt (request, account_key, address_key, attempt_at);
      cps_request_error (request, 401, "mfa_required", NULL,
                         "This account uses two-step verification; send the code from your "
                         "authenticator app or a recovery code.");
      return;
    }

  account_id = g_strdup (account->id);
  if (!cps_request_begin (request))
    return;
  /* Read again under the write lock: a concurrent sign-in may have used this TOTP step. */
  g_clear_pointer (&account, cps_account_record_free);
  account = cps_storage_account_get (request->storage, account_id, &error);
  if (account == NULL)
    {
      cps_request_abort (request, error);
      return;
    }

  if (account->totp_secret != NULL)
    {
      gboolean passed = FALSE;

      if (in.totp != NULL)
        {
          gint64 matched = 0;

          passed = cps_totp_verify (account->totp_secret, in.totp, request_time (request),
                                    account->totp_last_step, &matched);
          if (passed)
            {
              account->totp_last_step = matched;
              if (!cps_storage_account_update (request->storage, account, &error))
                {
                  cps_request_abort (request, error);
                  return;
                }
            }
        }
      else if (in.recovery_code != NULL)
        {
          g_autofree char *code_hash = cps_recovery_code_hash (in.recovery_code);

          passed = cps_storage_recovery_code_use (request->storage, account->id, code_hash,
                                                  &error);
          if (error != NULL)
            {
              cps_request_abort (request, error);
              return;
            }
          used_recovery_code = passed;
        }
      if (!passed)
        {
          cps_storage_rollback (request->storage);
          reply_login_failure (request, account->id, in.username, "invalid_totp");
          return;
        }
    }

  if (!resolve_device (request, &in, fingerprint, account, &device, &commit_anyway) &&
      !commit_anyway)
    {
      cps_storage_rollback (request->storage);
      refund_attempt (request, account_key, address_key, attempt_at);
      return;
    }

  if (used_recovery_code)
    {
      g_autofree char *code_details = cps_json_object_of_strings ("via", "login", NULL);

      if (!audit_as (request, "recovery_code.used", account->id, device->id, "account",
                     account->id, code_details, &error))
        {
          cps_request_abort (request, error);
          return;
        }
    }

  if (commit_anyway)
    {
      /* The reply (403 device_pending) is already set; keep the registration. */
      if (cps_request_commit (request))
        refund_attempt (request, account_key, address_key, attempt_at);
      return;
    }

  session_id = g_uuid_string_random ();
  now_text = cps_now_rfc3339 ();
  details = cps_json_object_of_strings ("session", session_id, NULL);
  if (!issue_tokens (request, session_id, account->id, device->id, &access_token,
                     &refresh_token, &error) ||
      !cps_storage_ratelimit_clear (request->storage, account_key, &error) ||
      !cps_storage_ratelimit_forget (request->storage, address_key, attempt_at, &error) ||
      !cps_storage_device_touch (request->storage, device->id, now_text, FALSE, &error) ||
      !audit_as (request, "login.succeeded", account->id, device->id, "session", session_id,
                 details, &error))
    {
      cps_request_abort (request, error);
      return;
    }
  if (!cps_request_commit (request))
    return;

  g_message ("account %s signed in on device %s", account->id, device->id);
  write_token_reply (request, access_token, refresh_token, device->id, account);
}

/* ----- refresh --------------------------------------------------------------------------- */

static void
reply_refresh_unauthorized (CpsRequest *request)
{
  cps_storage_rollback (request->storage);
  cps_request_error (request, 401, "unauthorized", NULL,
                     "The refresh token is not valid any more; sign in again.");
}

void
cps_handle_refresh (CpsRequest *request)
{
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (CpsTokenRecord) token = NULL;
  g_autoptr (CpsDeviceRecord) device = NULL;
  g_autoptr (CpsAccountRecord) account = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *session_id = NULL;
  g_autofree char *access_token = NULL;
  g_autofree char *refresh_token = NULL;
  g_autofree char *details = NULL;
  const char *presented = NULL;

  if ((doc = cps_request_parse_object (request)) == NULL ||
      !cps_request_get_string (request, cps_json_document_get_root (doc), "refresh_token", TRUE,
                               TOKEN_MAX_BYTES, &presented))
    return;

  hash = cps_token_hash (presented);
  if (!cps_request_begin (request))
    return;
  token = cps_storage_token_get (request->storage, hash, &error);
  if (token == NULL)
    {
      if (!g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
        cps_request_abort (request, error);
      else
        reply_refresh_unauthorized (request);
      return;
    }
  if (token->kind != CPS_TOKEN_REFRESH)
    {
      reply_refresh_unauthorized (request);
      return;
    }

  /* A revoked device says so, whatever became of its tokens. */
  device = cps_storage_device_get (request->storage, token->device_id, &error);
  if (device == NULL)
    {
      cps_request_abort (request, error);
      return;
    }
  if (g_strcmp0 (device->state, "revoked") == 0)
    {
      cps_storage_rollback (request->storage);
      cps_request_error (request, 401, "device_revoked", NULL,
                         "This device was revoked; it can no longer use this server.");
      return;
    }

  if (token->state == CPS_TOKEN_ROTATED)
    {
      /* Someone holds a copy of an exchanged token: end every session of the device. */
      g_autofree char *reuse_details = cps_json_object_of_strings ("reason",
                                                                   "refresh_token_reused", NULL);

      if (!cps_storage_tokens_revoke_device (request->storage, token->device_id, &error) ||
          !audit_as (request, "session.revoked", token->account_id, token->device_id, "device",
                     token->device_id, reuse_details, &error))
        {
          cps_request_abort (request, error);
          return;
        }
      if (!cps_request_commit (request))
        return;
      g_warning ("refresh token reused for device %s; every session of it was revoked",
                 token->device_id);
      cps_request_error (request, 401, "token_reused", NULL,
                         "This refresh token was already used, so every session of this "
                         "device was ended for safety; sign in again.");
      return;
    }
  if (token->state != CPS_TOKEN_ACTIVE || token->expires_at <= request_time (request) ||
      g_strcmp0 (device->state, "active") != 0)
    {
      reply_refresh_unauthorized (request);
      return;
    }

  account = cps_storage_account_get (request->storage, token->account_id, &error);
  if (account == NULL)
    {
      cps_request_abort (request, error);
      return;
    }

  /* The old pair stops working; the presented token stays recognisable as exchanged. */
  session_id = g_uuid_string_random ();
  details = cps_json_object_of_strings ("previous_session", token->session_id, NULL);
  if (!cps_storage_tokens_revoke_session (request->storage, token->session_id, &error) ||
      !cps_storage_token_set_state (request->storage, hash, CPS_TOKEN_ROTATED, &error) ||
      !issue_tokens (request, session_id, account->id, device->id, &access_token,
                     &refresh_token, &error) ||
      !audit_as (request, "session.refreshed", account->id, device->id, "session", session_id,
                 details, &error))
    {
      cps_request_abort (request, error);
      return;
    }
  if (!cps_request_commit (request))
    return;

  write_token_reply (request, access_token, refresh_token, device->id, account);
}

/* ----- sign-out -------------------------------------------------------------------------- */

void
cps_handle_logout (CpsRequest *request)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *details = cps_json_object_of_strings ("reason", "logout", NULL);
  const char *session_id;

  if (!cps_request_authenticate (request, 0))
    return;
  session_id = request->caller->token->session_id;

  if (!cps_request_begin (request))
    return;
  if (!cps_storage_tokens_revoke_session (request->storage, session_id, &error) ||
      !cps_request_audit (request, "session.revoked", "session", session_id, details, &error))
    {
      cps_request_abort (request, error);
      return;
    }
  if (!cps_request_commit (request))
    return;
  cps_request_reply_empty (request, 204);
}

/* ----- TOTP ------------------------------------------------------------------------------ */

/* Begins a transaction and reads the caller's account afresh under the write lock. */
static CpsAccountRecord *
begin_with_account (CpsRequest *request)
{
  g_autoptr (GError) error = NULL;
  CpsAccountRecord *account;

  if (!cps_request_begin (request))
    return NULL;
  account = cps_storage_account_get (request->storage, request->caller->account->id, &error);
  if (account == NULL)
    cps_request_abort (request, error);
  return account;
}

void
cps_handle_totp_begin (CpsRequest *request)
{
  g_autoptr (CpsAccountRecord) account = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *uri = NULL;
  CpsJsonWriter *writer;

  if (!cps_request_authenticate (request, 0) || (account = begin_with_account (request)) == NULL)
    return;
  if (account->totp_secret != NULL)
    {
      cps_storage_rollback (request->storage);
      cps_request_error (request, 409, "totp_already_enabled", NULL,
                         "Two-step verification is already on for this account; turn it off "
                         "first to enrol a new authenticator.");
      return;
    }

  secret = cps_totp_generate_secret ();
  g_free (account->totp_pending);
  account->totp_pending = g_strdup (secret);
  if (!cps_storage_account_update (request->storage, account, &error))
    {
      cps_request_abort (request, error);
      return;
    }
  if (!cps_request_commit (request))
    return;

  uri = cps_totp_uri (secret, account->username);
  writer = cps_json_writer_new ();
  cps_json_writer_begin_object (writer);
  cps_json_writer_member_string (writer, "secret", secret);
  cps_json_writer_member_string (writer, "otpauth_uri", uri);
  cps_json_writer_end_object (writer);
  cps_request_reply (request, 200, writer);
}

/* Inside the write transaction: counts one code attempt of @account_id against the same
 * budget as sign-ins, so a stolen access token cannot try every 6-digit code. Replies 429 and
 * returns FALSE (transaction rolled back) when the budget is spent. */
static gboolean
take_code_attempt (CpsRequest *request, const char *account_id, char **key)
{
  g_autoptr (GError) error = NULL;
  gint64 retry_after = 0;

  *key = g_strconcat ("totp:", account_id, NULL);
  if (!rate_limit_reached (request, *key, request->config->login_max_per_account, &retry_after,
                           &error))
    return cps_request_abort (request, error);
  if (retry_after > 0)
    {
      g_autofree char *header = g_strdup_printf ("%" G_GINT64_FORMAT, retry_after);

      cps_storage_rollback (request->storage);
      cps_request_add_header (request, "Retry-After", header);
      return cps_request_error (request, 429, "rate_limited", NULL,
                                "Too many wrong codes; wait %" G_GINT64_FORMAT " seconds and "
                                "try again.",
                                retry_after);
    }
  if (!cps_storage_ratelimit_record (request->storage, *key, request_time (request), &error))
    return cps_request_abort (request, error);
  return TRUE;
}

/* A wrong code: keeps the counted attempt (and nothing else) and answers 401. */
static void
reply_wrong_code (CpsRequest *request, const char *message)
{
  if (!cps_request_commit (request))
    return;
  cps_request_error (request, 401, "invalid_totp", NULL, "%s", message);
}

void
cps_handle_totp_confirm (CpsRequest *request)
{
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (CpsAccountRecord) account = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) codes = NULL;
  g_autoptr (GPtrArray) hashes = NULL;
  g_autofree char *attempt_key = NULL;
  const char *code = NULL;
  gint64 matched = 0;
  CpsJsonWriter *writer;

  if (!cps_request_authenticate (request, 0) ||
      (doc = cps_request_parse_object (request)) == NULL ||
      !cps_request_get_string (request, cps_json_document_get_root (doc), "code", TRUE,
                               CODE_MAX_BYTES, &code))
    return;
  if (!is_totp_format (code))
    {
      cps_request_invalid_field (request, "code",
                                 "“code” must be the 6 digits your authenticator app shows.");
      return;
    }

  if ((account = begin_with_account (request)) == NULL)
    return;
  if (!take_code_attempt (request, account->id, &attempt_key))
    return;
  if (account->totp_pending == NULL)
    {
      cps_storage_rollback (request->storage);
      cps_request_error (request, 409, "totp_not_pending", NULL,
                         "There is no authenticator waiting for confirmation; start with "
                         "POST /v1/auth/totp.");
      return;
    }
  /* A new secret has no used steps yet. */
  if (!cps_totp_verify (account->totp_pending, code, request_time (request), 0, &matched))
    {
      reply_wrong_code (request, "The code does not match the new authenticator; check the "
                                 "device’s clock and try the next code.");
      return;
    }

  g_free (account->totp_secret);
  account->totp_secret = g_steal_pointer (&account->totp_pending);
  account->totp_last_step = matched;
  codes = cps_recovery_codes_generate ();
  hashes = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; codes[i] != NULL; i++)
    g_ptr_array_add (hashes, cps_recovery_code_hash (codes[i]));
  g_ptr_array_add (hashes, NULL);

  if (!cps_storage_account_update (request->storage, account, &error) ||
      !cps_storage_ratelimit_clear (request->storage, attempt_key, &error) ||
      !cps_storage_recovery_codes_replace (request->storage, account->id,
                                           (const char *const *) hashes->pdata, &error) ||
      !cps_request_audit (request, "totp.enabled", "account", account->id, NULL, &error))
    {
      cps_request_abort (request, error);
      return;
    }
  if (!cps_request_commit (request))
    return;

  g_message ("account %s turned on two-step verification", account->id);
  writer = cps_json_writer_new ();
  cps_json_writer_begin_object (writer);
  cps_json_writer_key (writer, "recovery_codes");
  cps_json_writer_strv (writer, (const char *const *) codes);
  cps_json_writer_end_object (writer);
  cps_request_reply (request, 200, writer);
}

void
cps_handle_totp_disable (CpsRequest *request)
{
  static const char *const no_codes[] = { NULL };
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (CpsAccountRecord) account = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *details = NULL;
  g_autofree char *attempt_key = NULL;
  const char *code = NULL;
  const char *via = NULL;
  gint64 matched = 0;

  if (!cps_request_authenticate (request, 0) ||
      (doc = cps_request_parse_object (request)) == NULL ||
      !cps_request_get_string (request, cps_json_document_get_root (doc), "code", TRUE,
                               CODE_MAX_BYTES, &code) ||
      (account = begin_with_account (request)) == NULL ||
      !take_code_attempt (request, account->id, &attempt_key))
    return;

  if (account->totp_secret == NULL)
    {
      cps_storage_rollback (request->storage);
      cps_request_error (request, 409, "totp_not_enabled", NULL,
                         "Two-step verification is not on for this account.");
      return;
    }

  if (is_totp_format (code))
    {
      if (cps_totp_verify (account->totp_secret, code, request_time (request),
                           account->totp_last_step, &matched))
        via = "totp";
    }
  else
    {
      g_autofree char *code_hash = cps_recovery_code_hash (code);

      if (cps_storage_recovery_code_use (request->storage, account->id, code_hash, &error))
        via = "recovery_code";
      else if (error != NULL)
        {
          cps_request_abort (request, error);
          return;
        }
    }
  if (via == NULL)
    {
      reply_wrong_code (request, "The code is wrong or was already used; send a current code "
                                 "from your authenticator app or an unused recovery code.");
      return;
    }

  g_clear_pointer (&account->totp_secret, g_free);
  g_clear_pointer (&account->totp_pending, g_free);
  if (matched > 0)
    account->totp_last_step = matched;
  details = cps_json_object_of_strings ("via", via, NULL);
  if (!cps_storage_account_update (request->storage, account, &error) ||
      !cps_storage_ratelimit_clear (request->storage, attempt_key, &error) ||
      !cps_storage_recovery_codes_replace (request->storage, account->id, no_codes, &error) ||
      (g_strcmp0 (via, "recovery_code") == 0 &&
       !cps_request_audit (request, "recovery_code.used", "account", account->id,
                           "{\"via\":\"totp_disable\"}", &error)) ||
      !cps_request_audit (request, "totp.disabled", "account", account->id, details, &error))
    {
      cps_request_abort (request, error);
      return;
    }
  if (!cps_request_commit (request))
    return;

  g_message ("account %s turned off two-step verification", account->id);
  cps_request_reply_empty (request, 204);
}
