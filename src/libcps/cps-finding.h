/* cps-finding.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  CPS_SEVERITY_INFO,
  CPS_SEVERITY_WARNING,
  CPS_SEVERITY_ERROR,
} CpsSeverity;

#define CPS_TYPE_FINDING (cps_finding_get_type ())

/**
 * CpsFinding:
 * @severity: how bad it is; an error means the data cannot be trusted as it is
 * @path: (nullable): where in the JSON document, as `$.data.project["Name"]`
 * @message: one translated sentence a person can act on
 *
 * A problem found in a file, reported instead of aborting.
 */
typedef struct
{
  CpsSeverity severity;
  char *path;
  char *message;
} CpsFinding;

GType cps_finding_get_type (void) G_GNUC_CONST;
CpsFinding *cps_finding_new (CpsSeverity severity, const char *path, const char *message);
CpsFinding *cps_finding_copy (const CpsFinding *finding);
void cps_finding_free (CpsFinding *finding);
const char *cps_severity_to_string (CpsSeverity severity);
const char *cps_severity_to_label (CpsSeverity severity);

void cps_findings_add (GPtrArray *findings, CpsSeverity severity, const char *path,
                       const char *format, ...) G_GNUC_PRINTF (4, 5);
CpsSeverity cps_findings_worst (GPtrArray *findings);
guint cps_findings_count (GPtrArray *findings, CpsSeverity severity);
GPtrArray *cps_findings_new (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsFinding, cps_finding_free)

G_END_DECLS
