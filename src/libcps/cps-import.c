/* cps-import.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A project in a file is matched to a local project by name. Its content
 * becomes a new revision on top of the project's display winner unless one
 * of the heads already has exactly that content, so importing the same
 * export twice adds nothing. One file is one transaction: it lands whole or
 * not at all.
 */

#define G_LOG_DOMAIN "cps-import"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "cps-import.h"

const char *
cps_import_outcome_to_string (CpsImportOutcome outcome)
{
  switch (outcome)
    {
    case CPS_IMPORT_ADDED:
      return "added";
    case CPS_IMPORT_UPDATED:
      return "updated";
    case CPS_IMPORT_UNCHANGED:
      return "unchanged";
    case CPS_IMPORT_SKIPPED:
    default:
      return "skipped";
    }
}

void
cps_imported_project_free (CpsImportedProject *item)
{
  if (item == NULL)
    return;
  g_free (item->name);
  g_free (item->project_id);
  g_free (item->revision_id);
  g_free (item);
}

/**
 * cps_store_ensure_device:
 *
 * Records this device's public key in @store, so its revisions verify.
 */
gboolean
cps_store_ensure_device (CpsStore *store, CpsDeviceKey *key, GError **error)
{
  guint8 known[32];

  if (cps_store_get_device_key (store, cps_device_key_get_device_id (key), known, NULL))
    return TRUE;
  return cps_store_add_device (store, cps_device_key_get_device_id (key),
                               cps_device_key_get_public_key (key), g_get_host_name (), error);
}

static gboolean
heads_have_checksum (GPtrArray *heads, const char *checksum)
{
  for (guint i = 0; i < heads->len; i++)
    if (g_strcmp0 (cps_revision_get_checksum (g_ptr_array_index (heads, i)), checksum) == 0)
      return TRUE;
  return FALSE;
}

static CpsImportedProject *
import_project (CpsStore *store, CpsDeviceKey *key, CpsPlannerProject *project, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (CpsStoreProject) existing = NULL;
  g_autoptr (CpsRevision) revision = NULL;
  g_autoptr (CpsRevision) winner = NULL;
  g_autoptr (GPtrArray) heads = NULL;
  CpsImportedProject *item = g_new0 (CpsImportedProject, 1);
  const char *checksum = cps_planner_project_get_content_checksum (project);
  g_autofree char *project_id = NULL;

  item->name = g_strdup (cps_planner_project_get_name (project));
  if (checksum == NULL)
    {
      item->outcome = CPS_IMPORT_SKIPPED;
      return item;
    }

  existing = cps_store_find_project (store, item->name, &local_error);
  if (existing == NULL && !g_error_matches (local_error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      cps_imported_project_free (item);
      return NULL;
    }
  g_clear_error (&local_error);

  if (existing == NULL)
    {
      project_id = g_uuid_string_random ();
      if (!cps_store_add_project (store, project_id, item->name, error))
        {
          cps_imported_project_free (item);
          return NULL;
        }
      item->outcome = CPS_IMPORT_ADDED;
    }
  else
    {
      project_id = g_strdup (existing->id);
      heads = cps_store_get_heads (store, project_id, error);
      if (heads == NULL)
        {
          cps_imported_project_free (item);
          return NULL;
        }
      if (heads_have_checksum (heads, checksum))
        {
          item->project_id = g_steal_pointer (&project_id);
          item->outcome = CPS_IMPORT_UNCHANGED;
          return item;
        }
      winner = cps_store_get_display_winner (store, project_id, error);
      if (winner == NULL && heads->len > 0)
        {
          cps_imported_project_free (item);
          return NULL;
        }
      item->outcome = CPS_IMPORT_UPDATED;
    }

  revision = cps_revision_new_signed (project_id, winner ? &winner : NULL, winner ? 1 : 0, key,
                                      NULL, cps_planner_project_get_root (project), FALSE, error);
  if (revision == NULL || !cps_store_add_revision (store, revision, NULL, error))
    {
      cps_imported_project_free (item);
      return NULL;
    }
  item->project_id = g_steal_pointer (&project_id);
  item->revision_id = g_strdup (cps_revision_get_id (revision));
  return item;
}

/**
 * cps_store_import_file:
 * @key: this device's key, which signs the new revisions
 * @file: an analysed planner file
 * @progress: (nullable) (scope call): called after each project
 *
 * Imports every project of @file in one transaction and records the file.
 * Auto-backups stay in the file; they are the planner's history, not edits.
 *
 * Returns: (transfer full) (element-type CpsImportedProject) (nullable):
 *   what happened to each project, or %NULL with nothing changed
 */
GPtrArray *
cps_store_import_file (CpsStore *store, CpsDeviceKey *key, CpsPlannerFile *file,
                       CpsImportProgress progress, gpointer user_data, GCancellable *cancellable,
                       GError **error)
{
  g_autoptr (GPtrArray) results =
    g_ptr_array_new_with_free_func ((GDestroyNotify) cps_imported_project_free);
  GListModel *projects = cps_planner_file_get_projects (file);
  guint n = g_list_model_get_n_items (projects);
  GFile *gfile = cps_planner_file_get_file (file);
  g_autofree char *path = gfile ? g_file_get_path (gfile) : NULL;

  if (cps_planner_file_get_document (file) == NULL)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("“%s” could not be read as JSON, so nothing was imported; run “cps verify” "
                     "on it to see why"),
                   cps_planner_file_get_display_name (file));
      return NULL;
    }
  if (!cps_store_ensure_device (store, key, error) || !cps_store_begin (store, error))
    return NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CpsPlannerProject) project = g_list_model_get_item (projects, i);
      CpsImportedProject *item;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto failed;
      item = import_project (store, key, project, error);
      if (item == NULL)
        goto failed;
      g_ptr_array_add (results, item);
      if (progress != NULL)
        progress (i + 1, n, item->name, user_data);
    }

  if (!cps_store_record_import (store, path ? path : cps_planner_file_get_display_name (file),
                                cps_planner_file_get_checksum (file),
                                cps_planner_kind_to_string (cps_planner_file_get_kind (file)),
                                error) ||
      !cps_store_commit (store, error))
    goto failed;
  return g_steal_pointer (&results);

failed:
  cps_store_rollback (store);
  return NULL;
}
