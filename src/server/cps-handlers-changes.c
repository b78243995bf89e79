/* cps-handlers-changes.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The changes feed: every accepted revision of the caller's projects in the
 * order of the durable global sequence. The stored revision text is spliced
 * into the response as it is, never parsed again, which keeps pulls fast.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include "cps-handlers.h"
#include "cps-revision.h"

#define CHANGES_CURSOR_KIND "changes"

/* ----- GET /v1/changes --------------------------------------------------------------------- */

void
cps_handle_changes (CpsRequest *request)
{
  g_autoptr (GPtrArray) changes = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *next = NULL;
  const char *member_account;
  CpsJsonWriter *writer;
  gint64 after_seq = 0;
  guint limit = 0;

  if (!cps_request_authenticate (request, CPS_SCOPE_READ))
    return;
  if (!cps_request_get_limit (request, request->config->max_page_items, &limit))
    return;

  /* since= is a cursor of kind "changes" whose value is the last seq seen. */
  if (!cps_request_get_seq_cursor (request, "since", CHANGES_CURSOR_KIND, &after_seq))
    return;

  member_account
      = (request->caller->scopes & CPS_SCOPE_ADMIN) != 0 ? NULL : request->caller->account->id;
  changes = cps_storage_changes_list (request->storage, member_account, after_seq, limit, &error);
  if (changes == NULL)
    {
      cps_request_storage_error (request, error);
      return;
    }

  writer = cps_json_writer_new ();
  cps_json_writer_begin_object (writer);
  cps_json_writer_key (writer, "changes");
  cps_json_writer_begin_array (writer);
  for (guint i = 0; i < changes->len; i++)
    {
      const CpsRevisionRecord *record = g_ptr_array_index (changes, i);

      cps_json_writer_begin_object (writer);
      cps_json_writer_member_int (writer, "seq", record->seq);
      cps_json_writer_member_string (writer, "project_id", record->project_id);
      cps_json_writer_member_raw (writer, "revision", record->json);
      cps_json_writer_end_object (writer);
      after_seq = record->seq;
    }
  cps_json_writer_end_array (writer);

  /* With nothing new, next is the same position, so polling never skips an entry. */
  next = cps_cursor_encode_seq (CHANGES_CURSOR_KIND, after_seq);
  cps_json_writer_member_string (writer, "next", next);
  cps_json_writer_member_bool (writer, "done", changes->len < limit);
  cps_json_writer_end_object (writer);

  cps_request_note_sync (request);

  cps_request_reply (request, 200, writer);
}
