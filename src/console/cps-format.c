/* cps-format.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cps-console"

#include "config.h"

#include <glib/gi18n.h>

#include "cps-format.h"

/**
 * cps_format_date_time:
 *
 * Returns: (transfer full): @time as the console shows times
 */
char *
cps_format_date_time (GDateTime *time)
{
  /* Translators: how the time of an automatic backup is shown, see
   * g_date_time_format(). xgettext: no-c-format */
  return g_date_time_format (time, _("%Y-%m-%d %H:%M:%S"));
}

/**
 * cps_format_rfc3339:
 * @text: (nullable): an RFC 3339 or ISO 8601 time
 *
 * Returns: (transfer full) (nullable): @text in local time, as people read
 *   it, or @text itself when it is not a time
 */
char *
cps_format_rfc3339 (const char *text)
{
  g_autoptr (GDateTime) time = NULL;
  g_autoptr (GDateTime) local = NULL;

  if (text == NULL)
    return NULL;
  time = g_date_time_new_from_iso8601 (text, NULL);
  if (time == NULL)
    return g_strdup (text);
  local = g_date_time_to_local (time);
  return cps_format_date_time (local);
}
