/* cps-field-labels.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Names a person knows for the planner's project fields (“Battery”, “Crew”),
 * so that merge conflicts and diffs can say what changed in the planner's own
 * words rather than as a JSON path.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CpsFieldLabel CpsFieldLabel;

const char *cps_field_label_lookup (const char *pattern);

CpsFieldLabel *cps_field_label_new (void);
void cps_field_label_free (CpsFieldLabel *label);
void cps_field_label_push_key (CpsFieldLabel *label, const char *key, gsize key_len);
void cps_field_label_push_item (CpsFieldLabel *label, const char *display_name);
const char *cps_field_label_get_pattern (CpsFieldLabel *label);
char *cps_field_label_to_string (CpsFieldLabel *label);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsFieldLabel, cps_field_label_free)

G_END_DECLS
