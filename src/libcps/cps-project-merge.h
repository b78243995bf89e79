/* cps-project-merge.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Merging a conflicted local project: two of its heads, against their
 * common ancestor, into a merge revision naming both as parents.
 */

#pragma once

#include <gio/gio.h>

#include "cps-device-key.h"
#include "cps-merge.h"
#include "cps-revision.h"
#include "cps-store.h"

G_BEGIN_DECLS

#define CPS_TYPE_PROJECT_MERGE (cps_project_merge_get_type ())
G_DECLARE_FINAL_TYPE (CpsProjectMerge, cps_project_merge, CPS, PROJECT_MERGE, GObject)

CpsProjectMerge *cps_project_merge_new (CpsStore *store, const char *project_id,
                                        GError **error);
CpsMerge *cps_project_merge_get_merge (CpsProjectMerge *self);
CpsRevision *cps_project_merge_get_left (CpsProjectMerge *self);
CpsRevision *cps_project_merge_get_right (CpsProjectMerge *self);
CpsRevision *cps_project_merge_get_ancestor (CpsProjectMerge *self);
guint cps_project_merge_get_n_heads (CpsProjectMerge *self);
CpsRevision *cps_project_merge_commit (CpsProjectMerge *self, CpsDeviceKey *key,
                                       GError **error);

G_END_DECLS
