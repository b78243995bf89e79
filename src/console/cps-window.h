/* cps-window.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "cps-application.h"
#include "cps-project-view.h"

G_BEGIN_DECLS

#define CPS_TYPE_WINDOW (cps_window_get_type ())
G_DECLARE_FINAL_TYPE (CpsWindow, cps_window, CPS, WINDOW, AdwApplicationWindow)

CpsWindow *cps_window_new (CpsApplication *application);
void cps_window_open_files (CpsWindow *self, GFile **files, guint n_files);
gboolean cps_window_get_loading (CpsWindow *self);
void cps_window_cancel_loading (CpsWindow *self);
GListModel *cps_window_get_rows (CpsWindow *self);
GPtrArray *cps_window_dup_selected_items (CpsWindow *self);
CpsProjectView *cps_window_get_project_view (CpsWindow *self);

G_END_DECLS
