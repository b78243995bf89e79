/* cps-metrics.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Per-process counters for /metrics (Prometheus text). Request counts and
 * latency histograms by route and status, pushes accepted and rejected. Gauges
 * that must agree across processes (conflicts open, devices by state) are read
 * from storage when scraped. Thread-safe.
 */

#pragma once

#include <glib.h>

#include "cps-storage.h"

G_BEGIN_DECLS

typedef struct _CpsMetrics CpsMetrics;

CpsMetrics *cps_metrics_new (void);
void cps_metrics_free (CpsMetrics *metrics);
const char *cps_metrics_method_label (const char *method);
/* @route is the route pattern ("/v1/projects/{id}"), never the raw path. */
void cps_metrics_observe_request (CpsMetrics *metrics, const char *method, const char *route,
                                  guint status, double seconds);
void cps_metrics_add_push (CpsMetrics *metrics, guint accepted, guint rejected, guint duplicate);
/* The whole exposition, reading gauges from @storage. */
GString *cps_metrics_render (CpsMetrics *metrics, CpsStorage *storage, GError **error);

G_END_DECLS
