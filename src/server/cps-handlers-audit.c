/* cps-handlers-audit.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The audit log: listing with filters, the full export (JSON Lines or CSV)
 * and the signed checkpoints that let anyone holding the server's public key
 * check that the chain was not rewritten.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <string.h>

#include "cps-audit.h"
#include "cps-handlers.h"
#include "cps-revision.h"
#include "cps-server.h"

#define DEFAULT_PAGE 100
#define EXPORT_PAGE 500
#define MAX_ACTION_LENGTH 64

/* ----- auxiliary functions ------------------------------------------------------------------ */

/* Action names are dotted and lowercase: [a-z._]{1,64}. */
static gboolean
is_action_name (const char *text)
{
  gsize len = strlen (text);

  if (len == 0 || len > MAX_ACTION_LENGTH)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!(text[i] >= 'a' && text[i] <= 'z') && text[i] != '.' && text[i] != '_')
      return FALSE;
  return TRUE;
}

/* An RFC 3339 time in the stored form (UTC, milliseconds), so filters compare as text. */
static char *
normalize_time (const char *text)
{
  g_autoptr (GDateTime) parsed = NULL;
  g_autoptr (GDateTime) utc = NULL;
  g_autofree char *base = NULL;

  if (strlen (text) > 64 || strchr (text, 'T') == NULL)
    return NULL;
  parsed = g_date_time_new_from_iso8601 (text, NULL);
  if (parsed == NULL)
    return NULL;
  utc = g_date_time_to_utc (parsed);
  base = g_date_time_format (utc, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", base, g_date_time_get_microsecond (utc) / 1000);
}

static gboolean
get_uuid_filter (CpsRequest *request, const char *name, char **out)
{
  const char *text = cps_request_get_query (request, name);

  if (text == NULL || *text == '\0')
    return TRUE;
  if (!cps_is_uuid (text))
    {
      g_autofree char *message = g_strdup_printf ("“%s” must be an id (a lowercase UUID).",
                                                  name);

      return cps_request_invalid_field (request, name, message);
    }
  *out = g_strdup (text);
  return TRUE;
}

static gboolean
get_time_filter (CpsRequest *request, const char *name, char **out)
{
  const char *text = cps_request_get_query (request, name);

  if (text == NULL || *text == '\0')
    return TRUE;
  *out = normalize_time (text);
  if (*out == NULL)
    {
      g_autofree char *message = g_strdup_printf ("“%s” must be an RFC 3339 time such as "
                                                  "2026-03-01T13:05:09.123Z.",
                                                  name);

      return cps_request_invalid_field (request, name, message);
    }
  return TRUE;
}

static void
audit_filter_clear (CpsAuditFilter *filter)
{
  g_clear_pointer (&filter->action, g_free);
  g_clear_pointer (&filter->actor_account, g_free);
  g_clear_pointer (&filter->actor_device, g_free);
  g_clear_pointer (&filter->from, g_free);
  g_clear_pointer (&filter->to, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CpsAuditFilter, audit_filter_clear)

static gboolean
get_filter (CpsRequest *request, CpsAuditFilter *filter)
{
  const char *action = cps_request_get_query (request, "action");

  if (action != NULL && *action != '\0')
    {
      if (!is_action_name (action))
        return cps_request_invalid_field (request, "action",
                                          "“action” must be an action name such as "
                                          "login.failed.");
      filter->action = g_strdup (action);
    }
  if (!get_uuid_filter (request, "actor", &filter->actor_account) ||
      !get_uuid_filter (request, "device", &filter->actor_device) ||
      !get_time_filter (request, "from", &filter->from) ||
      !get_time_filter (request, "to", &filter->to))
    return FALSE;
  if (filter->from != NULL && filter->to != NULL && strcmp (filter->from, filter->to) >= 0)
    return cps_request_invalid_field (request, "to", "“to” must be later than “from”.");
  return TRUE;
}

/* One CSV field by RFC 4180: quoted when it holds a comma, quote or line break. */
static void
append_csv_field (GString *out, const char *value)
{
  if (value == NULL)
    return;
  if (strpbrk (value, ",\"\r\n") == NULL)
    {
      g_string_append (out, value);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

static void
append_csv_row (GString *out, const CpsAuditRecord *entry)
{
  const char *fields[] = {
    entry->at, entry->action, entry->actor_account, entry->actor_device, entry->target_type,
    entry->target_id, entry->details_json, entry->prev_hash, entry->hash,
  };

  g_string_append_printf (out, "%" G_GINT64_FORMAT, entry->seq);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_string_append_c (out, ',');
      append_csv_field (out, fields[i]);
    }
  g_string_append (out, "\r\n");
}

/* ----- handlers ----------------------------------------------------------------------------- */

/* GET /v1/audit?cursor=&limit=&action=&actor=&device=&from=&to= */
void
cps_handle_audit_list (CpsRequest *request)
{
  g_auto (CpsAuditFilter) filter = { 0 };
  g_autoptr (CpsJsonWriter) writer = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *next_cursor = NULL;
  gint64 after_seq = 0;
  guint limit;
  guint n;

  if (!cps_request_authenticate (request, CPS_SCOPE_ADMIN))
    return;
  if (!cps_request_get_limit (request, DEFAULT_PAGE, &limit) ||
      !cps_request_get_seq_cursor (request, "cursor", "audit", &after_seq) ||
      !get_filter (request, &filter))
    return;

  /* One more than asked tells whether there is a next page. */
  entries = cps_storage_audit_list (request->storage, &filter, after_seq, limit + 1, &error);
  if (entries == NULL)
    {
      cps_request_storage_error (request, error);
      return;
    }
  n = MIN (entries->len, limit);

  writer = cps_json_writer_new ();
  cps_json_writer_begin_object (writer);
  cps_json_writer_key (writer, "entries");
  cps_json_writer_begin_array (writer);
  for (guint i = 0; i < n; i++)
    {
      const CpsAuditRecord *entry = g_ptr_array_index (entries, i);
      g_autoptr (GString) json = g_string_sized_new (512);

      cps_audit_write_entry_json (entry, json);
      cps_json_writer_raw (writer, json->str);
    }
  cps_json_writer_end_array (writer);
  if (entries->len > limit)
    {
      const CpsAuditRecord *last = g_ptr_array_index (entries, n - 1);

      next_cursor = cps_cursor_encode_seq ("audit", last->seq);
    }
  cps_json_writer_member_string (writer, "next_cursor", next_cursor);
  cps_json_writer_end_object (writer);
  cps_request_reply (request, 200, g_steal_pointer (&writer));
}

/* GET /v1/audit/export?format=jsonl|csv */
void
cps_handle_audit_export (CpsRequest *request)
{
  CpsAuditFilter everything = { 0 };
  g_autoptr (CpsJsonWriter) details = NULL;
  g_autoptr (GString) details_text = NULL;
  g_autoptr (GString) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *head = NULL;
  const char *format;
  gboolean csv;
  gint64 head_seq = 0;
  gint64 after_seq = 0;
  gint64 count = 0;

  if (!cps_request_authenticate (request, CPS_SCOPE_ADMIN))
    return;

  format = cps_request_get_query (request, "format");
  if (format == NULL || *format == '\0')
    format = "jsonl";
  if (strcmp (format, "jsonl") != 0 && strcmp (format, "csv") != 0)
    {
      cps_request_invalid_field (request, "format", "“format” must be jsonl or csv.");
      return;
    }
  csv = strcmp (format, "csv") == 0;

  /* Entries are append-only, so reading up to the head seen now gives one consistent
   * prefix of the chain even while requests keep appending. */
  if (!cps_storage_audit_last (request->storage, &head_seq, &head, &error))
    {
      cps_request_storage_error (request, error);
      return;
    }

  body = g_string_sized_new (4096);
  if (csv)
    g_string_append (body, "seq,at,action,actor_account,actor_device,target_type,target_id,"
                           "details,prev_hash,hash\r\n");
  while (after_seq < head_seq)
    {
      g_autoptr (GPtrArray) page = cps_storage_audit_list (request->storage, &everything,
                                                           after_seq, EXPORT_PAGE, &error);

      if (page == NULL)
        {
          cps_request_storage_error (request, error);
          return;
        }
      for (guint i = 0; i < page->len; i++)
        {
          const CpsAuditRecord *entry = g_ptr_array_index (page, i);

          if (entry->seq > head_seq)
            break;
          if (csv)
            append_csv_row (body, entry);
          else
            {
              cps_audit_write_entry_json (entry, body);
              g_string_append_c (body, '\n');
            }
          count++;
          after_seq = entry->seq;
        }
      if (page->len < EXPORT_PAGE)
        break;
    }

  /* The export itself is recorded after the body is built, in its own transaction: an
   * export that cannot be audited is not handed out. */
  details = cps_json_writer_new ();
  cps_json_writer_begin_object (details);
  cps_json_writer_member_string (details, "format", format);
  cps_json_writer_member_int (details, "entries", count);
  cps_json_writer_end_object (details);
  details_text = cps_json_writer_steal (g_steal_pointer (&details));
  if (!cps_request_begin (request))
    return;
  if (!cps_request_audit (request, "audit.exported", NULL, NULL, details_text->str, &error))
    {
      cps_request_abort (request, error);
      return;
    }
  if (!cps_request_commit (request))
    return;

  cps_request_reply_text (request, 200, g_steal_pointer (&body),
                          csv ? "text/csv; charset=utf-8; header=present"
                              : "application/x-ndjson");
  cps_request_add_header (request, "Content-Disposition",
                          csv ? "attachment; filename=\"cps-audit.csv\""
                              : "attachment; filename=\"cps-audit.jsonl\"");
}

/* GET /v1/audit/checkpoints */
void
cps_handle_checkpoints_list (CpsRequest *request)
{
  g_autoptr (CpsJsonWriter) writer = NULL;
  g_autoptr (GPtrArray) checkpoints = NULL;
  g_autoptr (GError) error = NULL;

  if (!cps_request_authenticate (request, CPS_SCOPE_READ))
    return;

  checkpoints = cps_storage_checkpoint_list (request->storage, &error);
  if (checkpoints == NULL)
    {
      cps_request_storage_error (request, error);
      return;
    }

  writer = cps_json_writer_new ();
  cps_json_writer_begin_object (writer);
  cps_json_writer_member_string (writer, "server_public_key",
                                 cps_server_key_get_public_base64 (
                                   cps_server_get_key (request->server)));
  cps_json_writer_key (writer, "checkpoints");
  cps_json_writer_begin_array (writer);
  for (guint i = 0; i < checkpoints->len; i++)
    cps_checkpoint_write_json (g_ptr_array_index (checkpoints, i), writer);
  cps_json_writer_end_array (writer);
  cps_json_writer_end_object (writer);
  cps_request_reply (request, 200, g_steal_pointer (&writer));
}

/* POST /v1/audit/checkpoints */
void
cps_handle_checkpoint_create (CpsRequest *request)
{
  g_autoptr (CpsCheckpointRecord) checkpoint = NULL;
  g_autoptr (CpsJsonWriter) writer = NULL;
  g_autoptr (GError) error = NULL;

  if (!cps_request_authenticate (request, CPS_SCOPE_ADMIN))
    return;

  checkpoint = cps_audit_checkpoint (request->storage, cps_server_get_key (request->server),
                                     FALSE, &error);
  if (checkpoint == NULL && error != NULL)
    {
      cps_request_storage_error (request, error);
      return;
    }
  if (checkpoint == NULL)
    {
      cps_request_error (request, 409, "audit_empty", NULL,
                         "The audit log has no entries yet, so there is nothing to sign.");
      return;
    }

  g_message ("Audit checkpoint at entry %" G_GINT64_FORMAT " on request of account %s",
             checkpoint->seq, request->caller->account->id);
  writer = cps_json_writer_new ();
  cps_checkpoint_write_json (checkpoint, writer);
  cps_request_reply (request, 200, g_steal_pointer (&writer));
}
