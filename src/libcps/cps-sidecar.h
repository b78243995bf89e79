/* cps-sidecar.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `sha256sum`-format checksum lists (SHA256SUMS files) kept next to exports.
 */

#pragma once

#include <gio/gio.h>

#include "cps-finding.h"

G_BEGIN_DECLS

typedef struct _CpsSidecar CpsSidecar;

typedef enum
{
  CPS_SIDECAR_MATCH,
  CPS_SIDECAR_MISMATCH,
  CPS_SIDECAR_NOT_LISTED,
} CpsSidecarResult;

CpsSidecar *cps_sidecar_load (GFile *file, GCancellable *cancellable, GError **error);
CpsSidecar *cps_sidecar_parse (const char *text, gsize length, const char *display_name,
                               GPtrArray *findings);
void cps_sidecar_free (CpsSidecar *sidecar);
GPtrArray *cps_sidecar_get_findings (CpsSidecar *sidecar);
guint cps_sidecar_get_n_entries (CpsSidecar *sidecar);
const char *cps_sidecar_lookup (CpsSidecar *sidecar, const char *basename);
CpsSidecarResult cps_sidecar_check (CpsSidecar *sidecar, const char *basename,
                                    const char *checksum);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsSidecar, cps_sidecar_free)

G_END_DECLS
