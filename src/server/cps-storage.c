/* cps-storage.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What every storage backend shares: the error domain, the record free
 * functions, choosing a backend by name, and questions answered through the
 * interface alone. The backends live in cps-storage-<name>.c.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <glib/gi18n.h>

#include "cps-storage.h"

G_DEFINE_QUARK (cps-storage-error-quark, cps_storage_error)

void
cps_account_record_free (CpsAccountRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->id);
  g_free (record->username);
  g_free (record->role);
  g_free (record->password_hash);
  g_free (record->totp_secret);
  g_free (record->totp_pending);
  g_free (record->created_at);
  g_free (record);
}

void
cps_device_record_free (CpsDeviceRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->id);
  g_free (record->account_id);
  g_free (record->name);
  g_free (record->platform);
  g_free (record->client_version);
  g_free (record->public_key);
  g_free (record->key_fingerprint);
  g_free (record->state);
  g_free (record->registered_at);
  g_free (record->last_seen_at);
  g_free (record->last_sync_at);
  g_free (record->revoked_at);
  g_free (record->revoked_by);
  g_free (record->revoke_reason);
  g_free (record);
}

void
cps_token_record_free (CpsTokenRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->token_hash);
  g_free (record->session_id);
  g_free (record->account_id);
  g_free (record->device_id);
  g_free (record);
}

void
cps_project_record_free (CpsProjectRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->id);
  g_free (record->name);
  g_free (record->owner);
  g_free (record->created_at);
  g_free (record->updated_at);
  g_strfreev (record->heads);
  g_free (record->checksum);
  g_free (record);
}

void
cps_member_record_free (CpsMemberRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->account_id);
  g_free (record->role);
  g_free (record);
}

void
cps_wrapped_key_record_free (CpsWrappedKeyRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->account_id);
  g_free (record->wrapped_key);
  g_free (record);
}

void
cps_revision_record_free (CpsRevisionRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->id);
  g_free (record->project_id);
  g_free (record->device_id);
  g_free (record->created_at);
  g_free (record->checksum);
  g_strfreev (record->parents);
  g_free (record->clock_json);
  g_free (record->json);
  g_free (record->header_json);
  g_free (record);
}

void
cps_audit_record_free (CpsAuditRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->at);
  g_free (record->action);
  g_free (record->actor_account);
  g_free (record->actor_device);
  g_free (record->target_type);
  g_free (record->target_id);
  g_free (record->details_json);
  g_free (record->prev_hash);
  g_free (record->hash);
  g_free (record);
}

void
cps_checkpoint_record_free (CpsCheckpointRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->hash);
  g_free (record->at);
  g_free (record->signature);
  g_free (record);
}

/**
 * cps_storage_open:
 * @backend: (nullable): the backend's name; only "sqlite" exists (NULL means "sqlite")
 * @location: where the backend keeps its data: for SQLite the database file
 *
 * Opens a new connection, creating and migrating the storage when needed.
 *
 * Returns: (transfer full): the connection, or NULL with @error set
 */
CpsStorage *
cps_storage_open (const char *backend, const char *location, GError **error)
{
  g_return_val_if_fail (location != NULL, NULL);

  if (backend == NULL || g_str_equal (backend, "sqlite"))
    return _cps_storage_sqlite_open (location, error);

  g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
               _("The storage backend “%s” is unknown; this server supports “sqlite”. "
                 "Correct the storage setting in the configuration."),
               backend);
  return NULL;
}

/**
 * cps_storage_close:
 * @self: (nullable): a connection
 *
 * Closes the connection and frees it. An open transaction is rolled back.
 */
void
cps_storage_close (CpsStorage *self)
{
  if (self == NULL)
    return;
  self->vtable->close (self);
}

/* How many accounts one read takes while looking for admins. */
#define ADMIN_SCAN_PAGE 500

/**
 * cps_storage_other_admin_exists:
 * @storage: a connection; inside the transaction that changes @account_id's role, so the
 *   answer holds until it commits
 * @account_id: the account that would stop being an admin
 * @exists: (out): whether an admin other than @account_id exists
 *
 * Returns: FALSE with @error set when the accounts cannot be read
 */
gboolean
cps_storage_other_admin_exists (CpsStorage *storage, const char *account_id, gboolean *exists,
                                GError **error)
{
  g_autofree char *cursor = NULL;

  *exists = FALSE;
  for (;;)
    {
      g_autoptr (GPtrArray) page = cps_storage_account_list (storage, cursor, ADMIN_SCAN_PAGE,
                                                             error);

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
      if (page->len < ADMIN_SCAN_PAGE)
        return TRUE;
      g_free (cursor);
      cursor = g_strdup (((const CpsAccountRecord *) g_ptr_array_index (page, page->len - 1))
                           ->username);
    }
}
