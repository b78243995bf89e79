/* cps-clock.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Vector clocks: device id → counter. Missing entries count as 0.
 */

#pragma once

#include <glib-object.h>

#include "cps-json.h"

G_BEGIN_DECLS

typedef enum
{
  CPS_CLOCK_EQUAL,
  CPS_CLOCK_BEFORE,     /* a happened before b */
  CPS_CLOCK_AFTER,      /* a happened after b */
  CPS_CLOCK_CONCURRENT,
} CpsClockOrder;

typedef struct _CpsClock CpsClock;

#define CPS_TYPE_CLOCK (cps_clock_get_type ())

GType cps_clock_get_type (void) G_GNUC_CONST;
CpsClock *cps_clock_new (void);
CpsClock *cps_clock_copy (const CpsClock *clock);
void cps_clock_free (CpsClock *clock);
CpsClock *cps_clock_new_from_json (const CpsJsonNode *node, GError **error);

guint64 cps_clock_get (const CpsClock *clock, const char *device_id);
void cps_clock_set (CpsClock *clock, const char *device_id, guint64 counter);
guint cps_clock_get_n_devices (const CpsClock *clock);
const char *cps_clock_get_device (const CpsClock *clock, guint i);
guint64 cps_clock_sum (const CpsClock *clock);

void cps_clock_merge_into (CpsClock *clock, const CpsClock *other);
CpsClock *cps_clock_merge (const CpsClock *a, const CpsClock *b);
CpsClock *cps_clock_next (const CpsClock *const *parents, guint n_parents,
                          const char *device_id);
CpsClockOrder cps_clock_compare (const CpsClock *a, const CpsClock *b);
gboolean cps_clock_equal (const CpsClock *a, const CpsClock *b);
void cps_clock_write_jcs (const CpsClock *clock, GString *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsClock, cps_clock_free)

G_END_DECLS
