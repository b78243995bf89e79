/* cps-handlers-admin.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GET /v1/admin/status: one look at the server's state for administrators.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include "cps-handlers.h"

/* GET /v1/admin/status */
void
cps_handle_admin_status (CpsRequest *request)
{
  g_autoptr (CpsCheckpointRecord) checkpoint = NULL;
  g_autoptr (CpsJsonWriter) writer = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *head = NULL;
  gint64 revisions = 0;
  gint64 conflicts = 0;
  gint64 active = 0;
  gint64 pending = 0;
  gint64 revoked = 0;
  gint64 audit_seq = 0;

  if (!cps_request_authenticate (request, CPS_SCOPE_ADMIN))
    return;

  revisions = cps_storage_revision_count (request->storage, &error);
  if (error == NULL)
    conflicts = cps_storage_project_count_conflicted (request->storage, &error);
  if (error == NULL)
    cps_storage_device_count_states (request->storage, &active, &pending, &revoked, &error);
  if (error == NULL)
    cps_storage_audit_last (request->storage, &audit_seq, &head, &error);
  if (error == NULL)
    checkpoint = cps_storage_checkpoint_last (request->storage, &error);
  if (error != NULL)
    {
      cps_request_storage_error (request, error);
      return;
    }

  writer = cps_json_writer_new ();
  cps_json_writer_begin_object (writer);
  cps_json_writer_member_string (writer, "version", PACKAGE_VERSION);
  cps_json_writer_member_string (writer, "storage",
                                 cps_storage_get_backend_name (request->storage));
  cps_json_writer_member_int (writer, "revisions", revisions);
  cps_json_writer_member_int (writer, "conflicts_open", conflicts);

  cps_json_writer_key (writer, "devices");
  cps_json_writer_begin_object (writer);
  cps_json_writer_member_int (writer, "active", active);
  cps_json_writer_member_int (writer, "pending", pending);
  cps_json_writer_member_int (writer, "revoked", revoked);
  cps_json_writer_end_object (writer);

  cps_json_writer_key (writer, "audit");
  cps_json_writer_begin_object (writer);
  cps_json_writer_member_int (writer, "entries", audit_seq);
  cps_json_writer_member_string (writer, "head", head);
  cps_json_writer_key (writer, "last_checkpoint");
  if (checkpoint == NULL)
    cps_json_writer_null (writer);
  else
    cps_checkpoint_write_json (checkpoint, writer);
  cps_json_writer_end_object (writer);

  cps_json_writer_end_object (writer);
  cps_request_reply (request, 200, g_steal_pointer (&writer));
}
