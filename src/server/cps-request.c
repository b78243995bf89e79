/* cps-request.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The helpers every handler uses: the contract's error shape, field
 * validation, cursors, bearer-token authentication and transactions that
 * reply on failure.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <string.h>

#include "cps-audit.h"
#include "cps-credentials.h"
#include "cps-request.h"
#include "cps-revision.h"
#include "cps-server.h"

/* How stale last_seen_at may get before a request refreshes it: a write per request would
 * serialise every reader behind the write lock. */
#define LAST_SEEN_RESOLUTION_US (60 * G_USEC_PER_SEC)

/* ----- responses ------------------------------------------------------------------------ */

gboolean
cps_request_error (CpsRequest *request, guint status, const char *code, const char *details_json,
                   const char *format, ...)
{
  g_autoptr(CpsJsonWriter) writer = cps_json_writer_new ();
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  cps_json_writer_begin_object (writer);
  cps_json_writer_key (writer, "error");
  cps_json_writer_begin_object (writer);
  cps_json_writer_member_string (writer, "code", code);
  cps_json_writer_member_string (writer, "message", message);
  cps_json_writer_member_raw (writer, "details", details_json != NULL ? details_json : "{}");
  cps_json_writer_end_object (writer);
  cps_json_writer_end_object (writer);

  request->error_code = code;
  cps_request_reply (request, status, g_steal_pointer (&writer));
  return FALSE;
}

void
cps_request_reply (CpsRequest *request, guint status, CpsJsonWriter *writer)
{
  if (request->response != NULL)
    g_string_free (request->response, TRUE);
  request->status = status;
  request->response = cps_json_writer_steal (writer);
}

void
cps_request_reply_empty (CpsRequest *request, guint status)
{
  if (request->response != NULL)
    g_string_free (g_steal_pointer (&request->response), TRUE);
  request->status = status;
}

void
cps_request_add_header (CpsRequest *request, const char *name, const char *value)
{
  if (request->headers == NULL)
    request->headers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (request->headers, g_strdup (name));
  g_ptr_array_add (request->headers, g_strdup (value));
}

gboolean
cps_request_storage_error (CpsRequest *request, GError *error)
{
  if (g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_BUSY))
    {
      cps_request_add_header (request, "Retry-After", "1");
      return cps_request_error (request, 503, "unavailable", NULL,
                                "The server is busy; try again in a moment.");
    }
  g_warning ("%s %s: storage failed: %s", request->method, request->path,
             error != NULL ? error->message : "unknown error");
  return cps_request_error (request, 500, "storage_error", NULL,
                            "The server could not read or write its storage; nothing was "
                            "changed. Try again, and tell the administrator if it persists.");
}

/* Replaces whatever the handler answered, headers included, with a storage error: what it
 * answered from may not be stored (cps_storage_check_reads()). */
void
cps_request_retract (CpsRequest *request, GError *error)
{
  g_clear_pointer (&request->headers, g_ptr_array_unref);
  request->content_type = NULL;
  g_warning ("%s %s: answer withdrawn: %s", request->method, request->path,
             error != NULL ? error->message : "unknown error");
  cps_request_error (request, 500, "storage_error", NULL,
                     "The server's storage failed while this request was answered, so the "
                     "answer was withdrawn. Try again, and tell the administrator if it "
                     "persists.");
}

/* ----- input ---------------------------------------------------------------------------- */

static gboolean
field_error (CpsRequest *request, const char *field, const char *message)
{
  g_autoptr(CpsJsonWriter) details = cps_json_writer_new ();
  g_autoptr(GString) text = NULL;

  cps_json_writer_begin_object (details);
  cps_json_writer_member_string (details, "field", field);
  cps_json_writer_end_object (details);
  text = cps_json_writer_steal (g_steal_pointer (&details));
  return cps_request_error (request, 400, "invalid_request", text->str, "“%s” %s", field,
                            message);
}

CpsJsonDocument *
cps_request_parse_object (CpsRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CpsJsonDocument) doc = NULL;
  g_autoptr(GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cps_finding_free);

  if (request->body == NULL || request->body_length == 0)
    {
      cps_request_error (request, 400, "invalid_request", NULL,
                         "The request needs a JSON object as its body.");
      return NULL;
    }
  doc = cps_json_document_parse_copy (request->body, request->body_length, findings, &error);
  if (doc == NULL)
    {
      cps_request_error (request, 400, "invalid_request", NULL,
                         "The body is not valid JSON: %s", error->message);
      return NULL;
    }
  /* What JSON.parse would quietly accept but two readers may see differently (a repeated
   * member name, an unpaired surrogate) is refused: what is checked must be what is kept. */
  for (guint i = 0; i < findings->len; i++)
    {
      const CpsFinding *finding = g_ptr_array_index (findings, i);

      if (finding->severity == CPS_SEVERITY_ERROR)
        {
          g_autofree char *details = cps_json_object_of_strings ("path", finding->path, NULL);

          cps_request_error (request, 400, "invalid_request", details,
                             "The body is ambiguous JSON at %s: %s",
                             finding->path != NULL ? finding->path : "$", finding->message);
          return NULL;
        }
    }
  if (cps_json_node_get_type (cps_json_document_get_root (doc)) != CPS_JSON_OBJECT)
    {
      cps_request_error (request, 400, "invalid_request", NULL,
                         "The body must be a JSON object.");
      return NULL;
    }
  return g_steal_pointer (&doc);
}

static const CpsJsonNode *
get_member (CpsRequest *request, const CpsJsonNode *object, const char *field, gboolean required,
            CpsJsonType type, gboolean *ok)
{
  const CpsJsonNode *node = cps_json_object_get (object, field);

  *ok = TRUE;
  if (node == NULL || (!required && node->type == CPS_JSON_NULL))
    {
      if (required)
        *ok = field_error (request, field, "is required.");
      return NULL;
    }
  if (node->type != type)
    {
      g_autofree char *message = g_strdup_printf ("must be %s, not %s.",
                                                  cps_json_type_to_string (type),
                                                  cps_json_type_to_string (node->type));
      *ok = field_error (request, field, message);
      return NULL;
    }
  return node;
}

gboolean
cps_request_get_string (CpsRequest *request, const CpsJsonNode *object, const char *field,
                        gboolean required, gsize max_length, const char **out)
{
  gboolean ok;
  const CpsJsonNode *node = get_member (request, object, field, required, CPS_JSON_STRING, &ok);

  if (node == NULL)
    return ok;
  if (node->n > max_length)
    {
      g_autofree char *message = g_strdup_printf ("is longer than %" G_GSIZE_FORMAT " bytes.",
                                                  max_length);
      return field_error (request, field, message);
    }
  if (memchr (node->v.string, '\0', node->n) != NULL)
    return field_error (request, field, "must not contain NUL characters.");
  *out = node->v.string;
  return TRUE;
}

gboolean
cps_request_get_bool (CpsRequest *request, const CpsJsonNode *object, const char *field,
                      gboolean required, gboolean *out)
{
  gboolean ok;
  const CpsJsonNode *node = get_member (request, object, field, required, CPS_JSON_BOOLEAN, &ok);

  if (node != NULL)
    *out = node->v.boolean;
  return ok;
}

gboolean
cps_request_get_int (CpsRequest *request, const CpsJsonNode *object, const char *field,
                     gboolean required, gint64 min, gint64 max, gint64 *out)
{
  gboolean ok;
  const CpsJsonNode *node = get_member (request, object, field, required, CPS_JSON_NUMBER, &ok);
  double value;

  if (node == NULL)
    return ok;
  value = node->v.number;
  if (value != (double) (gint64) value || value < (double) min || value > (double) max)
    {
      g_autofree char *message = g_strdup_printf ("must be a whole number from %" G_GINT64_FORMAT
                                                  " to %" G_GINT64_FORMAT ".",
                                                  min, max);
      return field_error (request, field, message);
    }
  *out = (gint64) value;
  return TRUE;
}

gboolean
cps_request_get_object (CpsRequest *request, const CpsJsonNode *object, const char *field,
                        gboolean required, const CpsJsonNode **out)
{
  gboolean ok;
  const CpsJsonNode *node = get_member (request, object, field, required, CPS_JSON_OBJECT, &ok);

  if (node != NULL)
    *out = node;
  return ok;
}

gboolean
cps_request_get_array (CpsRequest *request, const CpsJsonNode *object, const char *field,
                       gboolean required, guint max_items, const CpsJsonNode **out)
{
  gboolean ok;
  const CpsJsonNode *node = get_member (request, object, field, required, CPS_JSON_ARRAY, &ok);

  if (node == NULL)
    return ok;
  if (node->n > max_items)
    {
      g_autoptr(CpsJsonWriter) details = cps_json_writer_new ();
      g_autoptr(GString) text = NULL;

      cps_json_writer_begin_object (details);
      cps_json_writer_member_string (details, "field", field);
      cps_json_writer_member_int (details, "limit", max_items);
      cps_json_writer_end_object (details);
      text = cps_json_writer_steal (g_steal_pointer (&details));
      return cps_request_error (request, 413, "too_large", text->str,
                                "“%s” holds more than %u items; send it in smaller parts.",
                                field, max_items);
    }
  *out = node;
  return TRUE;
}

const char *
cps_request_get_query (CpsRequest *request, const char *name)
{
  if (request->query == NULL)
    return NULL;
  return g_hash_table_lookup (request->query, name);
}

gboolean
cps_request_get_limit (CpsRequest *request, guint default_limit, guint *out)
{
  const char *text = cps_request_get_query (request, "limit");
  guint64 value;

  if (text == NULL)
    {
      *out = MIN (default_limit, request->config->max_page_items);
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (text, 10, 1, request->config->max_page_items, &value, NULL))
    {
      g_autofree char *details = g_strdup_printf ("{\"field\":\"limit\",\"max\":%u}",
                                                  request->config->max_page_items);

      return cps_request_error (request, 400, "invalid_request", details,
                                "“limit” must be a whole number from 1 to %u.",
                                request->config->max_page_items);
    }
  *out = (guint) value;
  return TRUE;
}

char *
cps_cursor_encode (const char *kind, const char *value)
{
  g_autofree char *plain = g_strconcat (kind, ":", value, NULL);
  g_autofree char *b64 = g_base64_encode ((const guchar *) plain, strlen (plain));
  char *p;

  /* base64url without padding: safe in a query string as it is */
  for (p = b64; *p != '\0'; p++)
    {
      if (*p == '+')
        *p = '-';
      else if (*p == '/')
        *p = '_';
      else if (*p == '=')
        {
          *p = '\0';
          break;
        }
    }
  return g_steal_pointer (&b64);
}

/* Returns the value, or NULL when @text is not a cursor of @kind. */
static char *
decode_cursor (const char *text, const char *kind)
{
  g_autoptr(GString) b64 = NULL;
  g_autofree guchar *plain = NULL;
  gsize length = strlen (text), plain_length = 0, kind_length = strlen (kind);

  if (length == 0 || length > 512)
    return NULL;
  b64 = g_string_sized_new (length + 3);
  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];

      if (c == '-')
        c = '+';
      else if (c == '_')
        c = '/';
      else if (!g_ascii_isalnum (c))
        return NULL;
      g_string_append_c (b64, c);
    }
  if (b64->len % 4 == 1)
    return NULL;
  while (b64->len % 4 != 0)
    g_string_append_c (b64, '=');
  plain = g_base64_decode (b64->str, &plain_length);
  if (plain_length <= kind_length + 1 || memcmp (plain, kind, kind_length) != 0 ||
      plain[kind_length] != ':' || memchr (plain, '\0', plain_length) != NULL ||
      !g_utf8_validate ((const char *) plain, plain_length, NULL))
    return NULL;
  return g_strndup ((const char *) plain + kind_length + 1, plain_length - kind_length - 1);
}

/**
 * cps_request_get_cursor_param:
 *
 * Like cps_request_get_cursor() for a parameter named @param (the changes
 * feed calls its cursor `since`).
 */
gboolean
cps_request_get_cursor_param (CpsRequest *request, const char *param, const char *kind,
                              char **out)
{
  const char *text = cps_request_get_query (request, param);
  char *value;

  *out = NULL;
  if (text == NULL || *text == '\0')
    return TRUE;
  value = decode_cursor (text, kind);
  if (value == NULL)
    {
      g_autofree char *details = g_strdup_printf ("{\"field\":\"%s\"}", param);

      return cps_request_error (request, 400, "invalid_request", details,
                                "“%s” is not a cursor this list returned; start again without "
                                "it.",
                                param);
    }
  *out = value;
  return TRUE;
}

gboolean
cps_request_get_cursor (CpsRequest *request, const char *kind, char **out)
{
  return cps_request_get_cursor_param (request, "cursor", kind, out);
}

gboolean
cps_request_get_seq_cursor (CpsRequest *request, const char *param, const char *kind,
                            gint64 *out)
{
  g_autofree char *value = NULL;
  g_autofree char *details = NULL;
  guint64 seq = 0;

  *out = 0;
  if (!cps_request_get_cursor_param (request, param, kind, &value))
    return FALSE;
  if (value == NULL)
    return TRUE;
  if (g_ascii_string_to_unsigned (value, 10, 0, G_MAXINT64, &seq, NULL))
    {
      *out = (gint64) seq;
      return TRUE;
    }
  details = cps_json_object_of_strings ("field", param, NULL);
  return cps_request_error (request, 400, "invalid_request", details,
                            "“%s” is not a position this list gave out; start again without "
                            "it.",
                            param);
}

char *
cps_cursor_encode_seq (const char *kind, gint64 seq)
{
  char value[32];

  g_snprintf (value, sizeof value, "%" G_GINT64_FORMAT, seq);
  return cps_cursor_encode (kind, value);
}

/* ----- authentication ------------------------------------------------------------------- */

CpsScope
cps_scopes_for_role (const char *role)
{
  if (g_strcmp0 (role, "admin") == 0)
    return CPS_SCOPE_READ | CPS_SCOPE_PUSH | CPS_SCOPE_SIGN_OFF | CPS_SCOPE_ADMIN;
  if (g_strcmp0 (role, "lead") == 0)
    return CPS_SCOPE_READ | CPS_SCOPE_PUSH | CPS_SCOPE_SIGN_OFF;
  if (g_strcmp0 (role, "member") == 0)
    return CPS_SCOPE_READ | CPS_SCOPE_PUSH;
  if (g_strcmp0 (role, "observer") == 0)
    return CPS_SCOPE_READ;
  return 0;
}

gboolean
cps_role_is_valid (const char *role)
{
  return cps_scopes_for_role (role) != 0;
}

void
cps_caller_free (CpsCaller *caller)
{
  if (caller == NULL)
    return;
  cps_account_record_free (caller->account);
  cps_device_record_free (caller->device);
  cps_token_record_free (caller->token);
  g_free (caller);
}

static gboolean
unauthorized (CpsRequest *request, const char *message)
{
  cps_request_add_header (request, "WWW-Authenticate", "Bearer realm=\"cps\"");
  return cps_request_error (request, 401, "unauthorized", NULL, "%s", message);
}

static gboolean
looks_like_token (const char *token)
{
  gsize length = strlen (token);

  if (length < 16 || length > 128)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isalnum (token[i]) && token[i] != '-' && token[i] != '_')
      return FALSE;
  return TRUE;
}

static gboolean
seen_recently (const char *last_seen_at, gint64 now_us)
{
  g_autoptr(GDateTime) seen = NULL;

  if (last_seen_at == NULL)
    return FALSE;
  seen = g_date_time_new_from_iso8601 (last_seen_at, NULL);
  return seen != NULL && now_us - g_date_time_to_unix (seen) * G_USEC_PER_SEC -
                               g_date_time_get_microsecond (seen) <
                           LAST_SEEN_RESOLUTION_US;
}

/* Records that @device was seen (and, when @synced, that it synced) now, in a write
 * transaction of its own. Best effort: a busy store must not fail the request itself. */
static void
touch_device (CpsRequest *request, CpsDeviceRecord *device, gboolean synced)
{
  g_autofree char *now = cps_now_rfc3339 ();
  g_autoptr(GError) error = NULL;

  if (!cps_storage_begin (request->storage, &error))
    {
      g_debug ("could not record that device %s was seen: %s", device->id, error->message);
      return;
    }
  if (!cps_storage_device_touch (request->storage, device->id, now, synced, &error)
      || !cps_storage_commit (request->storage, &error))
    {
      cps_storage_rollback (request->storage);
      g_debug ("could not record that device %s was seen: %s", device->id, error->message);
      return;
    }
  g_free (device->last_seen_at);
  device->last_seen_at = g_strdup (now);
  if (synced)
    {
      g_free (device->last_sync_at);
      device->last_sync_at = g_strdup (now);
    }
}

gboolean
cps_request_authenticate (CpsRequest *request, CpsScope scopes)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CpsTokenRecord) token = NULL;
  g_autoptr(CpsDeviceRecord) device = NULL;
  g_autoptr(CpsAccountRecord) account = NULL;
  g_autofree char *hash = NULL;
  const char *presented;
  CpsCaller *caller;

  if (request->authorization == NULL ||
      g_ascii_strncasecmp (request->authorization, "Bearer ", 7) != 0)
    return unauthorized (request, "Sign in first: this request needs an access token.");
  presented = request->authorization + 7;
  if (!looks_like_token (presented))
    return unauthorized (request, "The access token is not valid; sign in again.");

  hash = cps_token_hash (presented);
  token = cps_storage_token_get (request->storage, hash, &error);
  if (token == NULL)
    {
      if (!g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
        return cps_request_storage_error (request, error);
      return unauthorized (request, "The access token is not valid; sign in again.");
    }
  if (token->kind != CPS_TOKEN_ACCESS)
    return unauthorized (request, "The access token is not valid; sign in again.");

  /* The device first: revoking it also revokes its tokens, and its sessions must learn
   * why they stopped working. */
  device = cps_storage_device_get (request->storage, token->device_id, &error);
  if (device == NULL)
    return cps_request_storage_error (request, error);
  if (g_strcmp0 (device->state, "revoked") == 0)
    return cps_request_error (request, 401, "device_revoked", NULL,
                              "This device was revoked; it can no longer use this server.");
  if (g_strcmp0 (device->state, "active") != 0)
    return cps_request_error (request, 403, "device_pending", NULL,
                              "This device is waiting for an administrator's approval.");

  if (token->state != CPS_TOKEN_ACTIVE)
    return unauthorized (request, "The access token is no longer valid; sign in again.");
  if (token->expires_at <= request->received_at / G_USEC_PER_SEC)
    return unauthorized (request, "The access token has expired; refresh it or sign in again.");

  account = cps_storage_account_get (request->storage, token->account_id, &error);
  if (account == NULL)
    return cps_request_storage_error (request, error);

  if (!seen_recently (device->last_seen_at, request->received_at))
    touch_device (request, device, FALSE);

  caller = g_new0 (CpsCaller, 1);
  caller->scopes = cps_scopes_for_role (account->role);
  caller->account = g_steal_pointer (&account);
  caller->device = g_steal_pointer (&device);
  caller->token = g_steal_pointer (&token);
  cps_caller_free (request->caller);
  request->caller = caller;

  if ((caller->scopes & scopes) != scopes)
    return cps_request_error (request, 403, "forbidden", NULL,
                              "Your account's role (%s) does not allow this.",
                              caller->account->role);
  return TRUE;
}

/**
 * cps_request_sync_is_noted:
 *
 * Whether the caller's device has a last_sync_at recent enough that it need
 * not be written again (the same once-a-minute resolution as last_seen_at).
 */
gboolean
cps_request_sync_is_noted (CpsRequest *request)
{
  CpsDeviceRecord *device = request->caller != NULL ? request->caller->device : NULL;

  return device == NULL || seen_recently (device->last_sync_at, request->received_at);
}

/**
 * cps_request_note_sync:
 *
 * Records that the caller's device synced (last_sync_at), at most once a
 * minute like last_seen_at: a pull must not cost a write and an fsync.
 * Best effort: failing to record it never fails the request.
 */
void
cps_request_note_sync (CpsRequest *request)
{
  if (!cps_request_sync_is_noted (request))
    touch_device (request, request->caller->device, TRUE);
}

/* ----- audit ---------------------------------------------------------------------------- */

gboolean
cps_request_audit (CpsRequest *request, const char *action, const char *target_type,
                   const char *target_id, const char *details_json, GError **error)
{
  const char *account = request->caller != NULL ? request->caller->account->id : NULL;
  const char *device = request->caller != NULL ? request->caller->device->id : NULL;

  return cps_audit_append (request->storage, cps_server_get_key (request->server), action,
                           account, device, target_type, target_id, details_json, NULL, error);
}

/* ----- transactions and common replies ----------------------------------------------------- */

gboolean
cps_request_begin (CpsRequest *request)
{
  g_autoptr(GError) error = NULL;

  if (!cps_storage_begin (request->storage, &error))
    return cps_request_storage_error (request, error);
  return TRUE;
}

gboolean
cps_request_commit (CpsRequest *request)
{
  g_autoptr(GError) error = NULL;

  if (!cps_storage_commit (request->storage, &error))
    return cps_request_abort (request, error);
  return TRUE;
}

gboolean
cps_request_abort (CpsRequest *request, GError *error)
{
  cps_storage_rollback (request->storage);
  return cps_request_storage_error (request, error);
}

gboolean
cps_request_invalid_field (CpsRequest *request, const char *field, const char *message)
{
  g_autofree char *details = cps_json_object_of_strings ("field", field, NULL);

  return cps_request_error (request, 400, "invalid_request", details, "%s", message);
}

void
cps_request_reply_text (CpsRequest *request, guint status, GString *body,
                        const char *content_type)
{
  if (request->response != NULL)
    g_string_free (request->response, TRUE);
  request->status = status;
  request->response = body;
  request->content_type = content_type;
}

void
cps_checkpoint_write_json (const CpsCheckpointRecord *checkpoint, CpsJsonWriter *writer)
{
  cps_json_writer_begin_object (writer);
  cps_json_writer_member_int (writer, "seq", checkpoint->seq);
  cps_json_writer_member_string (writer, "hash", checkpoint->hash);
  cps_json_writer_member_string (writer, "at", checkpoint->at);
  cps_json_writer_member_string (writer, "signature", checkpoint->signature);
  cps_json_writer_end_object (writer);
}
