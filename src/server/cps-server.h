/* cps-server.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The HTTP core: a SoupServer on the main thread that reads and bounds each
 * request (size, gzip), routes it, runs the handler on a worker thread with a
 * per-thread storage connection, and writes the response (gzip when asked).
 */

#pragma once

#include <gio/gio.h>

#include "cps-metrics.h"
#include "cps-server-config.h"
#include "cps-server-key.h"

G_BEGIN_DECLS

#define CPS_TYPE_SERVER (cps_server_get_type ())
G_DECLARE_FINAL_TYPE (CpsServer, cps_server, CPS, SERVER, GObject)

CpsServer *cps_server_new (CpsServerConfig *config, GError **error);
/* Starts listening; prints “listening on <scheme>://<host>:<port>” once accepting. */
gboolean cps_server_start (CpsServer *self, GError **error);
/* Stops accepting, lets running requests finish, closes storage. */
void cps_server_stop (CpsServer *self);

const CpsServerConfig *cps_server_get_config (CpsServer *self);
CpsServerKey *cps_server_get_key (CpsServer *self);
CpsMetrics *cps_server_get_metrics (CpsServer *self);
/* The storage connection of the calling worker thread (opened on first use). */
CpsStorage *cps_server_get_storage (CpsServer *self, GError **error);

G_END_DECLS
