/* cps-revision.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Immutable, signed revisions exactly as the sync contract defines them
 * (CONTRACT.md “Exact rules”): the same bytes a JavaScript client computes.
 */

#pragma once

#include <gio/gio.h>

#include "cps-clock.h"
#include "cps-device-key.h"
#include "cps-json.h"

G_BEGIN_DECLS

#define CPS_REVISION_ERROR (cps_revision_error_quark ())

typedef enum
{
  CPS_REVISION_ERROR_INVALID,          /* malformed fields */
  CPS_REVISION_ERROR_BAD_ID,
  CPS_REVISION_ERROR_CHECKSUM_MISMATCH,
  CPS_REVISION_ERROR_BAD_SIGNATURE,
  CPS_REVISION_ERROR_BAD_CLOCK,
  CPS_REVISION_ERROR_UNKNOWN_PARENT,
  CPS_REVISION_ERROR_BAD_PARENTS,      /* not sorted, duplicated, or of another project */
} CpsRevisionError;

#define CPS_TYPE_REVISION (cps_revision_get_type ())
G_DECLARE_FINAL_TYPE (CpsRevision, cps_revision, CPS, REVISION, GObject)

GQuark cps_revision_error_quark (void);

CpsRevision *cps_revision_new_signed (const char *project_id, CpsRevision *const *parents,
                                      guint n_parents, CpsDeviceKey *key,
                                      const char *created_at, const CpsJsonNode *document,
                                      gboolean deleted, GError **error);
CpsRevision *cps_revision_new_from_json (const CpsJsonNode *node, GError **error);
CpsRevision *cps_revision_new_from_string (const char *json, gssize length, GError **error);

const char *cps_revision_get_id (CpsRevision *self);
const char *cps_revision_get_project_id (CpsRevision *self);
const char *const *cps_revision_get_parents (CpsRevision *self);
guint cps_revision_get_n_parents (CpsRevision *self);
const CpsClock *cps_revision_get_clock (CpsRevision *self);
const char *cps_revision_get_device_id (CpsRevision *self);
const char *cps_revision_get_created_at (CpsRevision *self);
const char *cps_revision_get_checksum (CpsRevision *self);
gboolean cps_revision_get_deleted (CpsRevision *self);
const char *cps_revision_get_signature (CpsRevision *self);
gboolean cps_revision_is_encrypted (CpsRevision *self);
const CpsJsonNode *cps_revision_get_document (CpsRevision *self);
const CpsJsonNode *cps_revision_get_payload (CpsRevision *self);
guint cps_revision_get_depth (CpsRevision *self);

char *cps_revision_to_json (CpsRevision *self, gboolean with_payload);
char *cps_revision_compute_id (CpsRevision *self, GError **error);

gboolean cps_revision_verify (CpsRevision *self, const guint8 public_key[32], GError **error);
gboolean cps_revision_validate_clock (CpsRevision *self, CpsRevision *const *parents,
                                      guint n_parents, GError **error);

char *cps_now_rfc3339 (void);
gboolean cps_is_uuid (const char *text);

G_END_DECLS
