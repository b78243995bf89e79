/* cps-project-item.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "cps.h"
#include "cps-store.h"

G_BEGIN_DECLS

#define CPS_TYPE_PROJECT_ITEM (cps_project_item_get_type ())
G_DECLARE_FINAL_TYPE (CpsProjectItem, cps_project_item, CPS, PROJECT_ITEM, GObject)

CpsProjectItem *cps_project_item_new (GFile *location, CpsPlannerFile *file,
                                      CpsPlannerProject *project);
CpsProjectItem *cps_project_item_new_for_error (GFile *location, const GError *error);
CpsProjectItem *cps_project_item_new_for_store_project (const char *store_path,
                                                        const CpsStoreProject *project,
                                                        CpsRevision *winner);
CpsProjectItem *cps_project_item_new_for_store_error (const char *store_path,
                                                      const GError *error);

GFile *cps_project_item_get_location (CpsProjectItem *self);
CpsPlannerFile *cps_project_item_get_file (CpsProjectItem *self);
CpsPlannerProject *cps_project_item_get_project (CpsProjectItem *self);
const char *cps_project_item_get_name (CpsProjectItem *self);
const char *cps_project_item_get_source_name (CpsProjectItem *self);
const char *cps_project_item_get_kind_label (CpsProjectItem *self);
const char *cps_project_item_get_checksum (CpsProjectItem *self);
guint cps_project_item_get_auto_backup_count (CpsProjectItem *self);
guint cps_project_item_get_revision_count (CpsProjectItem *self);
GPtrArray *cps_project_item_get_findings (CpsProjectItem *self);
guint cps_project_item_get_n_file_findings (CpsProjectItem *self);
const char *cps_project_item_get_error_message (CpsProjectItem *self);
gboolean cps_project_item_is_readable (CpsProjectItem *self);
gboolean cps_project_item_is_local (CpsProjectItem *self);
const CpsStoreProject *cps_project_item_get_store_project (CpsProjectItem *self);
CpsRevision *cps_project_item_get_revision (CpsProjectItem *self);
const GError *cps_project_item_get_store_error (CpsProjectItem *self);
char *cps_project_item_dup_key (CpsProjectItem *self);
guint cps_project_item_count (CpsProjectItem *self, CpsSeverity severity);
CpsSeverity cps_project_item_get_status (CpsProjectItem *self);
char *cps_project_item_dup_status_label (CpsProjectItem *self);
char *cps_project_item_dup_status_description (CpsProjectItem *self);
const char *cps_project_item_get_status_icon_name (CpsProjectItem *self);
const char *cps_project_item_get_status_style_class (CpsProjectItem *self);
const CpsJsonNode *cps_project_item_get_root (CpsProjectItem *self);

G_END_DECLS
