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

/* One project of the file on its way into the store. */
typedef struct
{
  CpsPlannerProject *project;
  CpsImportedProject *item;
  CpsRevision *parent;   /* nullable */
  CpsRevision *revision; /* built by sign_cb */
  CpsDeviceKey *key;
  GCancellable *cancellable;
  GError *error;
} Plan;

static void
plan_free (Plan *plan)
{
  g_clear_object (&plan->project);
  g_clear_pointer (&plan->item, cps_imported_project_free);
  g_clear_object (&plan->parent);
  g_clear_object (&plan->revision);
  g_clear_error (&plan->error);
  g_free (plan);
}

/* Decides what happens to @plan's project, creating a new local project
 * where needed: the only step that reads the store. */
static gboolean
plan_project (CpsStore *store, Plan *plan, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (CpsStoreProject) existing = NULL;
  g_autoptr (GPtrArray) heads = NULL;
  CpsImportedProject *item = plan->item;
  const char *checksum = cps_planner_project_get_content_checksum (plan->project);

  if (checksum == NULL)
    {
      item->outcome = CPS_IMPORT_SKIPPED;
      return TRUE;
    }

  existing = cps_store_find_project (store, item->name, &local_error);
  if (existing == NULL)
    {
      if (!g_error_matches (local_error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      item->project_id = g_uuid_string_random ();
      item->outcome = CPS_IMPORT_ADDED;
      return cps_store_add_project (store, item->project_id, item->name, error);
    }

  item->project_id = g_strdup (existing->id);
  heads = cps_store_get_heads (store, item->project_id, error);
  if (heads == NULL)
    return FALSE;
  if (heads_have_checksum (heads, checksum))
    {
      item->outcome = CPS_IMPORT_UNCHANGED;
      return TRUE;
    }
  item->outcome = CPS_IMPORT_UPDATED;
  if (heads->len == 0)
    return TRUE;
  plan->parent = cps_store_get_display_winner (store, item->project_id, error);
  return plan->parent != NULL;
}

/* Builds and signs a plan's revision: pure computation (canonical JSON,
 * SHA-256, Ed25519), so it runs on every core. */
static void
sign_cb (gpointer data, gpointer user_data)
{
  Plan *plan = data;

  if (g_cancellable_set_error_if_cancelled (plan->cancellable, &plan->error))
    return;
  plan->revision = cps_revision_new_signed (plan->item->project_id,
                                            plan->parent ? &plan->parent : NULL,
                                            plan->parent ? 1 : 0, plan->key, NULL,
                                            cps_planner_project_get_root (plan->project), FALSE,
                                            &plan->error);
}

static gboolean
sign_all (GPtrArray *plans, GError **error)
{
  GThreadPool *pool = g_thread_pool_new (sign_cb, NULL, MAX (1, (int) g_get_num_processors ()),
                                         FALSE, error);

  if (pool == NULL)
    return FALSE;
  for (guint i = 0; i < plans->len; i++)
    {
      Plan *plan = g_ptr_array_index (plans, i);
      if (plan->item->outcome == CPS_IMPORT_ADDED || plan->item->outcome == CPS_IMPORT_UPDATED)
        g_thread_pool_push (pool, plan, NULL);
    }
  g_thread_pool_free (pool, FALSE, TRUE);

  for (guint i = 0; i < plans->len; i++)
    {
      Plan *plan = g_ptr_array_index (plans, i);
      if (plan->error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&plan->error));
          return FALSE;
        }
    }
  return TRUE;
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
  g_autoptr (GPtrArray) plans = NULL;

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

  /* Plan in order, sign in parallel, then store in order. */
  plans = g_ptr_array_new_with_free_func ((GDestroyNotify) plan_free);
  for (guint i = 0; i < n; i++)
    {
      Plan *plan = g_new0 (Plan, 1);

      plan->project = g_list_model_get_item (projects, i);
      plan->item = g_new0 (CpsImportedProject, 1);
      plan->item->name = g_strdup (cps_planner_project_get_name (plan->project));
      plan->key = key;
      plan->cancellable = cancellable;
      g_ptr_array_add (plans, plan);
      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !plan_project (store, plan, error))
        goto failed;
    }
  if (!sign_all (plans, error))
    goto failed;
  for (guint i = 0; i < plans->len; i++)
    {
      Plan *plan = g_ptr_array_index (plans, i);

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto failed;
      if (plan->revision != NULL)
        {
          if (!cps_store_add_revision (store, plan->revision, NULL, error))
            goto failed;
          plan->item->revision_id = g_strdup (cps_revision_get_id (plan->revision));
        }
      g_ptr_array_add (results, g_steal_pointer (&plan->item));
      if (progress != NULL)
        progress (i + 1, n, cps_planner_project_get_name (plan->project), user_data);
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
