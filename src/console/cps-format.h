/* cps-format.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * How the console writes times and ids for people.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *cps_format_date_time (GDateTime *time);
char *cps_format_rfc3339 (const char *text);

G_END_DECLS
