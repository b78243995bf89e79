/* cps-project-view.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "cps-project-item.h"

G_BEGIN_DECLS

#define CPS_TYPE_PROJECT_VIEW (cps_project_view_get_type ())
G_DECLARE_FINAL_TYPE (CpsProjectView, cps_project_view, CPS, PROJECT_VIEW, GtkWidget)

GtkWidget *cps_project_view_new (void);
CpsProjectItem *cps_project_view_get_item (CpsProjectView *self);
void cps_project_view_set_item (CpsProjectView *self, CpsProjectItem *item);
const char *cps_project_view_get_page (CpsProjectView *self);
void cps_project_view_set_page (CpsProjectView *self, const char *page);
GListModel *cps_project_view_get_history (CpsProjectView *self);
gboolean cps_project_view_get_history_loading (CpsProjectView *self);
guint cps_project_view_get_n_selected_revisions (CpsProjectView *self);
GPtrArray *cps_project_view_dup_selected_revisions (CpsProjectView *self);

G_END_DECLS
