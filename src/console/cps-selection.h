/* cps-selection.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

GPtrArray *cps_selection_dup_items (GtkSelectionModel *model);

G_END_DECLS
