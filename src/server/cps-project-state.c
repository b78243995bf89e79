/* cps-project-state.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <string.h>

#include "cps-project-state.h"
#include "cps-revision.h"

static gboolean
reply_project_not_found (CpsRequest *request)
{
  return cps_request_error (request, 404, "not_found", NULL,
                            "There is no such project, or you are not one of its members.");
}

gboolean
_cps_project_open_for_caller (CpsRequest *request, const char *project_id,
                              CpsProjectRecord **project, char **role)
{
  g_autoptr (CpsProjectRecord) found = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *member_role = NULL;

  g_return_val_if_fail (request->caller != NULL, FALSE);

  if (!cps_is_uuid (project_id))
    return reply_project_not_found (request);

  found = cps_storage_project_get (request->storage, project_id, &error);
  if (found == NULL)
    {
      if (g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
        return reply_project_not_found (request);
      return cps_request_storage_error (request, error);
    }

  member_role = cps_storage_member_get_role (request->storage, project_id,
                                             request->caller->account->id, &error);
  if (member_role == NULL)
    {
      if (!g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
        return cps_request_storage_error (request, error);
      if ((request->caller->scopes & CPS_SCOPE_ADMIN) == 0)
        return reply_project_not_found (request);
    }

  *project = g_steal_pointer (&found);
  if (role != NULL)
    *role = g_steal_pointer (&member_role);
  return TRUE;
}

gboolean
_cps_project_role_can_write (const char *role)
{
  return g_strcmp0 (role, "owner") == 0 || g_strcmp0 (role, "editor") == 0;
}

gboolean
_cps_project_role_is_valid (const char *role)
{
  return g_strcmp0 (role, "owner") == 0 || g_strcmp0 (role, "editor") == 0
         || g_strcmp0 (role, "viewer") == 0;
}

void
_cps_project_write_fields (CpsJsonWriter *writer, const CpsProjectRecord *project)
{
  cps_json_writer_member_string (writer, "id", project->id);
  cps_json_writer_member_string (writer, "name", project->name);
  cps_json_writer_member_string (writer, "owner", project->owner);
  cps_json_writer_member_bool (writer, "encrypted", project->encrypted);
  cps_json_writer_member_string (writer, "created_at", project->created_at);
  cps_json_writer_member_string (writer, "updated_at", project->updated_at);
  cps_json_writer_key (writer, "heads");
  cps_json_writer_strv (writer, (const char *const *) project->heads);
  cps_json_writer_member_bool (writer, "conflicted", project->conflicted);
  cps_json_writer_member_int (writer, "revision_count", project->revision_count);
  cps_json_writer_member_string (writer, "checksum", project->checksum);
  cps_json_writer_member_bool (writer, "deleted", project->deleted);
}

void
_cps_project_write (CpsJsonWriter *writer, const CpsProjectRecord *project)
{
  cps_json_writer_begin_object (writer);
  _cps_project_write_fields (writer, project);
  cps_json_writer_end_object (writer);
}

gboolean
_cps_project_write_detail (CpsJsonWriter *writer, CpsStorage *storage,
                           const CpsProjectRecord *project, const char *account_id, GError **error)
{
  g_autoptr (GPtrArray) members = NULL;
  g_autoptr (GPtrArray) keys = NULL;

  members = cps_storage_member_list (storage, project->id, error);
  if (members == NULL)
    return FALSE;
  keys = cps_storage_keys_list (storage, project->id, account_id, error);
  if (keys == NULL)
    return FALSE;

  cps_json_writer_begin_object (writer);
  _cps_project_write_fields (writer, project);

  cps_json_writer_key (writer, "members");
  cps_json_writer_begin_array (writer);
  for (guint i = 0; i < members->len; i++)
    {
      const CpsMemberRecord *member = g_ptr_array_index (members, i);

      cps_json_writer_begin_object (writer);
      cps_json_writer_member_string (writer, "account_id", member->account_id);
      cps_json_writer_member_string (writer, "role", member->role);
      cps_json_writer_end_object (writer);
    }
  cps_json_writer_end_array (writer);

  cps_json_writer_key (writer, "keys");
  cps_json_writer_begin_array (writer);
  for (guint i = 0; i < keys->len; i++)
    {
      const CpsWrappedKeyRecord *key = g_ptr_array_index (keys, i);

      cps_json_writer_begin_object (writer);
      cps_json_writer_member_string (writer, "account_id", key->account_id);
      cps_json_writer_member_int (writer, "key_epoch", key->key_epoch);
      cps_json_writer_member_string (writer, "wrapped_key", key->wrapped_key);
      cps_json_writer_end_object (writer);
    }
  cps_json_writer_end_array (writer);

  cps_json_writer_end_object (writer);
  return TRUE;
}

int
_cps_project_pick_winner (const CpsHeadInfo *heads, guint n_heads)
{
  int best = -1;

  for (guint i = 0; i < n_heads; i++)
    {
      if (best < 0 || heads[i].clock_sum > heads[best].clock_sum
          || (heads[i].clock_sum == heads[best].clock_sum
              && strcmp (heads[i].id, heads[best].id) > 0))
        best = (int) i;
    }
  return best;
}

char *
_cps_details_member (const char *account_id, const char *role)
{
  CpsJsonWriter *writer = cps_json_writer_new ();

  cps_json_writer_begin_object (writer);
  cps_json_writer_member_string (writer, "account_id", account_id);
  if (role != NULL)
    cps_json_writer_member_string (writer, "role", role);
  cps_json_writer_end_object (writer);
  return g_string_free (cps_json_writer_steal (writer), FALSE);
}
