/* cps-handlers-devices.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Listing, revoking and approving devices (CONTRACT.md “Devices”). A device
 * the caller may not manage answers 404 like a missing one, so ids of other
 * accounts' devices cannot be probed.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include "cps-handlers.h"
#include "cps-revision.h"

#define REASON_MAX_BYTES 500

static void
write_device (CpsJsonWriter *writer, const CpsDeviceRecord *device)
{
  cps_json_writer_begin_object (writer);
  cps_json_writer_member_string (writer, "id", device->id);
  cps_json_writer_member_string (writer, "account_id", device->account_id);
  cps_json_writer_member_string (writer, "name", device->name);
  cps_json_writer_member_string (writer, "platform", device->platform);
  cps_json_writer_member_string (writer, "client_version", device->client_version);
  cps_json_writer_member_string (writer, "state", device->state);
  cps_json_writer_member_string (writer, "key_fingerprint", device->key_fingerprint);
  cps_json_writer_member_string (writer, "registered_at", device->registered_at);
  cps_json_writer_member_string (writer, "last_seen_at", device->last_seen_at);
  cps_json_writer_member_string (writer, "last_sync_at", device->last_sync_at);
  cps_json_writer_member_string (writer, "revoked_at", device->revoked_at);
  cps_json_writer_member_string (writer, "revoked_by", device->revoked_by);
  cps_json_writer_member_string (writer, "revoke_reason", device->revoke_reason);
  cps_json_writer_end_object (writer);
}

static void
reply_device (CpsRequest *request, const CpsDeviceRecord *device)
{
  CpsJsonWriter *writer = cps_json_writer_new ();

  write_device (writer, device);
  cps_request_reply (request, 200, writer);
}

static gboolean
reply_not_found (CpsRequest *request)
{
  return cps_request_error (request, 404, "not_found", NULL,
                            "There is no such device, or it is not yours to manage.");
}

/* Begins a transaction and reads the device of the route under the write lock; replies 404
 * (rolling back) when the id is not a device the caller may manage. */
static CpsDeviceRecord *
begin_with_device (CpsRequest *request)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsDeviceRecord) device = NULL;
  const char *device_id = request->params[0];

  if (!cps_is_uuid (device_id))
    {
      reply_not_found (request);
      return NULL;
    }
  if (!cps_request_begin (request))
    return NULL;
  device = cps_storage_device_get (request->storage, device_id, &error);
  if (device == NULL)
    {
      if (g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
        {
          cps_storage_rollback (request->storage);
          reply_not_found (request);
        }
      else
        cps_request_abort (request, error);
      return NULL;
    }
  if (g_strcmp0 (device->account_id, request->caller->account->id) != 0 &&
      (request->caller->scopes & CPS_SCOPE_ADMIN) == 0)
    {
      cps_storage_rollback (request->storage);
      reply_not_found (request);
      return NULL;
    }
  return g_steal_pointer (&device);
}

void
cps_handle_devices_list (CpsRequest *request)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;
  const char *all_text;
  gboolean all = FALSE;
  CpsJsonWriter *writer;

  if (!cps_request_authenticate (request, CPS_SCOPE_READ))
    return;

  all_text = cps_request_get_query (request, "all");
  if (all_text != NULL)
    {
      if (g_strcmp0 (all_text, "true") == 0 || g_strcmp0 (all_text, "1") == 0)
        all = TRUE;
      else if (g_strcmp0 (all_text, "false") != 0 && g_strcmp0 (all_text, "0") != 0 &&
               *all_text != '\0')
        {
          cps_request_invalid_field (request, "all", "“all” must be true or false.");
          return;
        }
    }
  if (all && (request->caller->scopes & CPS_SCOPE_ADMIN) == 0)
    {
      cps_request_error (request, 403, "forbidden", NULL,
                         "Only admins may list every device; leave out “all=true” to list "
                         "your own.");
      return;
    }

  devices = cps_storage_device_list (request->storage, all ? NULL : request->caller->account->id,
                                     &error);
  if (devices == NULL)
    {
      cps_request_storage_error (request, error);
      return;
    }

  writer = cps_json_writer_new ();
  cps_json_writer_begin_object (writer);
  cps_json_writer_key (writer, "devices");
  cps_json_writer_begin_array (writer);
  for (guint i = 0; i < devices->len; i++)
    write_device (writer, g_ptr_array_index (devices, i));
  cps_json_writer_end_array (writer);
  cps_json_writer_end_object (writer);
  cps_request_reply (request, 200, writer);
}

void
cps_handle_device_revoke (CpsRequest *request)
{
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (CpsDeviceRecord) device = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *details = NULL;
  const char *reason = NULL;

  if (!cps_request_authenticate (request, CPS_SCOPE_READ))
    return;
  /* The body and its reason are optional. */
  if (request->body != NULL && request->body_length > 0 &&
      ((doc = cps_request_parse_object (request)) == NULL ||
       !cps_request_get_string (request, cps_json_document_get_root (doc), "reason", FALSE,
                                REASON_MAX_BYTES, &reason)))
    return;

  if ((device = begin_with_device (request)) == NULL)
    return;
  if (g_strcmp0 (device->state, "revoked") == 0)
    {
      /* Idempotent: the first revocation stands as it was. */
      cps_storage_rollback (request->storage);
      reply_device (request, device);
      return;
    }

  g_free (device->state);
  device->state = g_strdup ("revoked");
  g_free (device->revoked_at);
  device->revoked_at = cps_now_rfc3339 ();
  g_free (device->revoked_by);
  device->revoked_by = g_strdup (request->caller->account->id);
  g_free (device->revoke_reason);
  device->revoke_reason = g_strdup (reason);

  details = cps_json_object_of_strings ("account_id", device->account_id, "reason", reason, NULL);
  if (!cps_storage_device_update (request->storage, device, &error) ||
      !cps_storage_tokens_revoke_device (request->storage, device->id, &error) ||
      !cps_request_audit (request, "device.revoked", "device", device->id, details, &error))
    {
      cps_request_abort (request, error);
      return;
    }
  if (!cps_request_commit (request))
    return;

  g_message ("device %s revoked by account %s", device->id, request->caller->account->id);
  reply_device (request, device);
}

void
cps_handle_device_approve (CpsRequest *request)
{
  g_autoptr (CpsDeviceRecord) device = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *details = NULL;

  if (!cps_request_authenticate (request, CPS_SCOPE_ADMIN) ||
      (device = begin_with_device (request)) == NULL)
    return;

  if (g_strcmp0 (device->state, "revoked") == 0)
    {
      cps_storage_rollback (request->storage);
      cps_request_error (request, 409, "device_revoked", NULL,
                         "This device was revoked and can never be approved; the person can "
                         "sign in with a new device key instead.");
      return;
    }
  if (g_strcmp0 (device->state, "pending") != 0)
    {
      cps_storage_rollback (request->storage);
      reply_device (request, device);
      return;
    }

  g_free (device->state);
  device->state = g_strdup ("active");
  details = cps_json_object_of_strings ("account_id", device->account_id, NULL);
  if (!cps_storage_device_update (request->storage, device, &error) ||
      !cps_request_audit (request, "device.approved", "device", device->id, details, &error))
    {
      cps_request_abort (request, error);
      return;
    }
  if (!cps_request_commit (request))
    return;

  g_message ("device %s approved by account %s", device->id, request->caller->account->id);
  reply_device (request, device);
}
