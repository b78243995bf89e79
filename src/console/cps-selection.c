/* cps-selection.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cps-console"

#include "config.h"

#include "cps-selection.h"

/**
 * cps_selection_dup_items:
 *
 * Returns: (transfer container) (element-type GObject): the selected items
 *   of @model, in its order, each with a reference
 */
GPtrArray *
cps_selection_dup_items (GtkSelectionModel *model)
{
  GPtrArray *items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GtkBitset) selected = gtk_selection_model_get_selection (model);
  GtkBitsetIter iter;
  guint position;

  for (gboolean more = gtk_bitset_iter_init_first (&iter, selected, &position); more;
       more = gtk_bitset_iter_next (&iter, &position))
    g_ptr_array_add (items, g_list_model_get_item (G_LIST_MODEL (model), position));
  return items;
}
