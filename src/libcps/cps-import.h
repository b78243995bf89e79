/* cps-import.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Turning planner exports into local projects and revisions.
 */

#pragma once

#include <gio/gio.h>

#include "cps-device-key.h"
#include "cps-planner-file.h"
#include "cps-store.h"

G_BEGIN_DECLS

typedef enum
{
  CPS_IMPORT_ADDED,     /* a new local project */
  CPS_IMPORT_UPDATED,   /* a new revision of an existing project */
  CPS_IMPORT_UNCHANGED, /* the content is already a head of the project */
  CPS_IMPORT_SKIPPED,   /* the project has no canonical form (see its findings) */
} CpsImportOutcome;

typedef struct
{
  char *name;
  char *project_id;
  char *revision_id; /* nullable: no revision was written */
  CpsImportOutcome outcome;
} CpsImportedProject;

typedef void (*CpsImportProgress) (guint done, guint total, const char *name, gpointer user_data);

GPtrArray *cps_store_import_file (CpsStore *store, CpsDeviceKey *key, CpsPlannerFile *file,
                                  CpsImportProgress progress, gpointer user_data,
                                  GCancellable *cancellable, GError **error);
const char *cps_import_outcome_to_string (CpsImportOutcome outcome);
void cps_imported_project_free (CpsImportedProject *item);
gboolean cps_store_ensure_device (CpsStore *store, CpsDeviceKey *key, GError **error);

G_END_DECLS
