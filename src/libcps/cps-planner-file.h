/* cps-planner-file.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "cps-finding.h"
#include "cps-json.h"
#include "cps-planner-project.h"

G_BEGIN_DECLS

typedef enum
{
  CPS_PLANNER_KIND_UNKNOWN,
  CPS_PLANNER_KIND_FULL_BACKUP,
  CPS_PLANNER_KIND_PROJECT_BUNDLE,
  CPS_PLANNER_KIND_AUTO_GEAR_RULES,
  CPS_PLANNER_KIND_AUTO_GEAR_PRESETS,
  CPS_PLANNER_KIND_VERSION_LOG,
  CPS_PLANNER_KIND_DIAGNOSTICS_LOG,
} CpsPlannerKind;

#define CPS_PLANNER_MAX_FILE_SIZE (G_GUINT64_CONSTANT (1) << 30)

#define CPS_TYPE_PLANNER_FILE (cps_planner_file_get_type ())
G_DECLARE_FINAL_TYPE (CpsPlannerFile, cps_planner_file, CPS, PLANNER_FILE, GObject)

const char *cps_planner_kind_to_string (CpsPlannerKind kind);
const char *cps_planner_kind_to_label (CpsPlannerKind kind);

CpsPlannerFile *cps_planner_file_load (GFile *file, GCancellable *cancellable, GError **error);
void cps_planner_file_load_async (GFile *file, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
CpsPlannerFile *cps_planner_file_load_finish (GAsyncResult *result, GError **error);
CpsPlannerFile *cps_planner_file_new_from_data (const char *display_name, const char *data,
                                                gsize length);

GFile *cps_planner_file_get_file (CpsPlannerFile *self);
const char *cps_planner_file_get_display_name (CpsPlannerFile *self);
CpsPlannerKind cps_planner_file_get_kind (CpsPlannerFile *self);
const char *cps_planner_file_get_version (CpsPlannerFile *self);
const char *cps_planner_file_get_created_at (CpsPlannerFile *self);
const char *cps_planner_file_get_checksum (CpsPlannerFile *self);
guint64 cps_planner_file_get_size (CpsPlannerFile *self);
CpsJsonDocument *cps_planner_file_get_document (CpsPlannerFile *self);
GListModel *cps_planner_file_get_projects (CpsPlannerFile *self);
GPtrArray *cps_planner_file_get_findings (CpsPlannerFile *self);
CpsSeverity cps_planner_file_get_status (CpsPlannerFile *self);
CpsPlannerProject *cps_planner_file_find_project (CpsPlannerFile *self, const char *name);
GListModel *cps_planner_file_get_orphan_backups (CpsPlannerFile *self);

G_END_DECLS
