/* cps-project-merge.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The left side is the display winner, the right side the next head in id
 * order; with more than two heads, each merge removes one and the caller
 * merges again. Where a criss-cross history gives several lowest common
 * ancestors, the one with the largest clock sum (then highest id) is the
 * base: conflicts that a recursive merge might avoid are then shown to a
 * person instead, never resolved silently.
 */

#define G_LOG_DOMAIN "cps-project-merge"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "cps-dag.h"
#include "cps-project-merge.h"

struct _CpsProjectMerge
{
  GObject parent_instance;

  CpsStore *store;
  CpsRevision *left;
  CpsRevision *right;
  CpsRevision *ancestor;
  CpsMerge *merge;
  guint n_heads;
  char *left_time;
  char *right_time;
  char *left_device;
  char *right_device;
};

G_DEFINE_FINAL_TYPE (CpsProjectMerge, cps_project_merge, G_TYPE_OBJECT)

static void
cps_project_merge_finalize (GObject *object)
{
  CpsProjectMerge *self = CPS_PROJECT_MERGE (object);

  g_clear_object (&self->store);
  g_clear_object (&self->left);
  g_clear_object (&self->right);
  g_clear_object (&self->ancestor);
  g_clear_object (&self->merge);
  g_free (self->left_time);
  g_free (self->right_time);
  g_free (self->left_device);
  g_free (self->right_device);

  G_OBJECT_CLASS (cps_project_merge_parent_class)->finalize (object);
}

static void
cps_project_merge_class_init (CpsProjectMergeClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cps_project_merge_finalize;
}

static void
cps_project_merge_init (CpsProjectMerge *self)
{
}

/* “2026-03-01 14:02” in local time, for conflict summaries. */
static char *
format_time (const char *created_at)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_iso8601 (created_at, NULL);
  g_autoptr (GDateTime) local = utc ? g_date_time_to_local (utc) : NULL;

  return local ? g_date_time_format (local, "%Y-%m-%d %H:%M") : g_strdup (created_at);
}

/* The device's recorded name (“DIT cart”), else the start of its id. */
static char *
device_label (CpsStore *store, const char *device_id)
{
  char *name = cps_store_dup_device_name (store, device_id);

  if (name != NULL && *name != '\0')
    return name;
  g_free (name);
  /* Translators: a device, named by the start of its id */
  return g_strdup_printf (_("device %.8s"), device_id);
}

/**
 * cps_project_merge_new:
 *
 * Prepares the merge of two heads of @project_id. Fails with
 * %CPS_STORE_ERROR_INVALID when the project has a single head.
 *
 * Returns: (transfer full) (nullable): the prepared merge
 */
CpsProjectMerge *
cps_project_merge_new (CpsStore *store, const char *project_id, GError **error)
{
  g_autoptr (CpsProjectMerge) self = g_object_new (CPS_TYPE_PROJECT_MERGE, NULL);
  g_autoptr (GPtrArray) revisions = NULL;
  g_autoptr (GPtrArray) heads = NULL;
  g_autoptr (GPtrArray) lcas = NULL;
  g_autoptr (CpsDag) dag = cps_dag_new ();
  CpsMergeSide left_side, right_side;
  const char *best = NULL;

  self->store = g_object_ref (store);
  revisions = cps_store_list_revisions (store, project_id, error);
  heads = revisions ? cps_store_get_heads (store, project_id, error) : NULL;
  if (heads == NULL)
    return NULL;
  self->n_heads = heads->len;
  if (heads->len < 2)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("The project has a single head: there is nothing to merge"));
      return NULL;
    }

  for (guint i = 0; i < revisions->len; i++)
    {
      CpsRevision *rev = g_ptr_array_index (revisions, i);
      cps_dag_add (dag, cps_revision_get_id (rev), cps_revision_get_parents (rev),
                   cps_clock_sum (cps_revision_get_clock (rev)));
    }

  self->left = cps_store_get_display_winner (store, project_id, error);
  if (self->left == NULL)
    return NULL;
  for (guint i = 0; i < heads->len && self->right == NULL; i++)
    {
      CpsRevision *head = g_ptr_array_index (heads, i);
      if (strcmp (cps_revision_get_id (head), cps_revision_get_id (self->left)) != 0)
        self->right = g_object_ref (head);
    }

  if (cps_revision_is_encrypted (self->left) || cps_revision_is_encrypted (self->right))
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("An encrypted revision cannot be merged without its project key"));
      return NULL;
    }

  lcas = cps_dag_lowest_common_ancestors (dag, cps_revision_get_id (self->left),
                                          cps_revision_get_id (self->right));
  best = cps_dag_get_display_winner (dag, lcas);
  if (best != NULL)
    {
      self->ancestor = cps_store_get_revision (store, best, error);
      if (self->ancestor == NULL)
        return NULL;
    }

  self->left_time = format_time (cps_revision_get_created_at (self->left));
  self->right_time = format_time (cps_revision_get_created_at (self->right));
  self->left_device = device_label (store, cps_revision_get_device_id (self->left));
  self->right_device = device_label (store, cps_revision_get_device_id (self->right));
  left_side = (CpsMergeSide) { self->left_device, self->left_time };
  right_side = (CpsMergeSide) { self->right_device, self->right_time };

  self->merge = cps_merge_new (self->ancestor && !cps_revision_is_encrypted (self->ancestor)
                                 ? cps_revision_get_document (self->ancestor)
                                 : NULL,
                               cps_revision_get_document (self->left),
                               cps_revision_get_document (self->right), &left_side, &right_side);
  return g_steal_pointer (&self);
}

/**
 * cps_project_merge_get_merge:
 *
 * Returns: (transfer none): the three-way merge, to inspect and resolve
 */
CpsMerge *
cps_project_merge_get_merge (CpsProjectMerge *self)
{
  return self->merge;
}

/**
 * cps_project_merge_get_left:
 *
 * Returns: (transfer none): the display winner
 */
CpsRevision *
cps_project_merge_get_left (CpsProjectMerge *self)
{
  return self->left;
}

/**
 * cps_project_merge_get_right:
 *
 * Returns: (transfer none): the other head
 */
CpsRevision *
cps_project_merge_get_right (CpsProjectMerge *self)
{
  return self->right;
}

/**
 * cps_project_merge_get_ancestor:
 *
 * Returns: (transfer none) (nullable): the common ancestor, if any
 */
CpsRevision *
cps_project_merge_get_ancestor (CpsProjectMerge *self)
{
  return self->ancestor;
}

guint
cps_project_merge_get_n_heads (CpsProjectMerge *self)
{
  return self->n_heads;
}

/**
 * cps_project_merge_commit:
 * @key: this device's key
 *
 * Writes the merge revision once every conflict is resolved.
 *
 * Returns: (transfer full) (nullable): the merge revision, stored
 */
CpsRevision *
cps_project_merge_commit (CpsProjectMerge *self, CpsDeviceKey *key, GError **error)
{
  g_autoptr (CpsJsonDocument) result = cps_merge_build_result (self->merge, error);
  g_autoptr (CpsRevision) revision = NULL;
  CpsRevision *parents[2] = { self->left, self->right };

  if (result == NULL)
    return NULL;
  revision = cps_revision_new_signed (cps_revision_get_project_id (self->left), parents, 2, key,
                                      NULL, cps_json_document_get_root (result), FALSE, error);
  if (revision == NULL || !cps_store_add_revision (self->store, revision, NULL, error))
    return NULL;
  return g_steal_pointer (&revision);
}
