/* cps-planner-project.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "cps-finding.h"
#include "cps-json.h"

G_BEGIN_DECLS

#define CPS_BUNDLE_TYPE "camera-power-planner/project-bundle"

typedef struct
{
  const char *section; /* translated section title, static */
  const char *label;   /* translated field label, static */
  char *value;
} CpsSummaryItem;

#define CPS_TYPE_PLANNER_PROJECT (cps_planner_project_get_type ())
G_DECLARE_FINAL_TYPE (CpsPlannerProject, cps_planner_project, CPS, PLANNER_PROJECT, GObject)

CpsPlannerProject *cps_planner_project_new (const char *name, CpsJsonDocument *document,
                                            const char *source_name);

const char *cps_planner_project_get_name (CpsPlannerProject *self);
const char *cps_planner_project_get_source_name (CpsPlannerProject *self);
CpsJsonDocument *cps_planner_project_get_document (CpsPlannerProject *self);
const CpsJsonNode *cps_planner_project_get_root (CpsPlannerProject *self);
const char *cps_planner_project_get_content_checksum (CpsPlannerProject *self);
GListModel *cps_planner_project_get_auto_backups (CpsPlannerProject *self);
guint cps_planner_project_get_auto_backup_count (CpsPlannerProject *self);
GPtrArray *cps_planner_project_get_findings (CpsPlannerProject *self);
CpsSeverity cps_planner_project_get_status (CpsPlannerProject *self);
GDateTime *cps_planner_project_get_backup_time (CpsPlannerProject *self);
gboolean cps_planner_project_is_auto_backup (CpsPlannerProject *self);

void cps_planner_project_add_finding (CpsPlannerProject *self, CpsSeverity severity,
                                      const char *path, const char *message);
void _cps_planner_project_add_auto_backup (CpsPlannerProject *self, CpsPlannerProject *backup);
void _cps_planner_project_set_backup_time (CpsPlannerProject *self, GDateTime *time);

GPtrArray *cps_planner_project_summarize (CpsPlannerProject *self);
void cps_summary_item_free (CpsSummaryItem *item);

char *cps_planner_project_to_bundle (CpsPlannerProject *self, gsize *length, GError **error);

G_END_DECLS
