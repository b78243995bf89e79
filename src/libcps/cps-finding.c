/* cps-finding.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cps-finding"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "cps-finding.h"

G_DEFINE_BOXED_TYPE (CpsFinding, cps_finding, cps_finding_copy, cps_finding_free)

/**
 * cps_finding_new:
 * @severity: the severity
 * @path: (nullable): a JSON path
 * @message: a message a person can act on
 *
 * Returns: (transfer full): a new finding
 */
CpsFinding *
cps_finding_new (CpsSeverity severity, const char *path, const char *message)
{
  CpsFinding *finding = g_new0 (CpsFinding, 1);

  finding->severity = severity;
  finding->path = g_strdup (path);
  finding->message = g_strdup (message);
  return finding;
}

CpsFinding *
cps_finding_copy (const CpsFinding *finding)
{
  return cps_finding_new (finding->severity, finding->path, finding->message);
}

void
cps_finding_free (CpsFinding *finding)
{
  if (finding == NULL)
    return;
  g_free (finding->path);
  g_free (finding->message);
  g_free (finding);
}

/**
 * cps_severity_to_string:
 *
 * Returns: the stable, untranslated name used in JSON output
 */
const char *
cps_severity_to_string (CpsSeverity severity)
{
  switch (severity)
    {
    case CPS_SEVERITY_INFO:
      return "info";
    case CPS_SEVERITY_WARNING:
      return "warning";
    case CPS_SEVERITY_ERROR:
      return "error";
    default:
      g_return_val_if_reached ("error");
    }
}

/**
 * cps_severity_to_label:
 *
 * Returns: the translated name shown to people
 */
const char *
cps_severity_to_label (CpsSeverity severity)
{
  switch (severity)
    {
    case CPS_SEVERITY_INFO:
      return _("Note");
    case CPS_SEVERITY_WARNING:
      return _("Warning");
    case CPS_SEVERITY_ERROR:
      return _("Error");
    default:
      g_return_val_if_reached (_("Error"));
    }
}

GPtrArray *
cps_findings_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) cps_finding_free);
}

void
cps_findings_add (GPtrArray *findings, CpsSeverity severity, const char *path,
                  const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  if (findings == NULL)
    return;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_ptr_array_add (findings, cps_finding_new (severity, path, message));
}

CpsSeverity
cps_findings_worst (GPtrArray *findings)
{
  CpsSeverity worst = CPS_SEVERITY_INFO;

  for (guint i = 0; findings != NULL && i < findings->len; i++)
    {
      const CpsFinding *finding = g_ptr_array_index (findings, i);
      worst = MAX (worst, finding->severity);
    }
  return worst;
}

guint
cps_findings_count (GPtrArray *findings, CpsSeverity severity)
{
  guint count = 0;

  for (guint i = 0; findings != NULL && i < findings->len; i++)
    {
      const CpsFinding *finding = g_ptr_array_index (findings, i);
      if (finding->severity == severity)
        count++;
    }
  return count;
}
