/* cps-handlers-health.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GET /v1/health and GET /metrics: no authentication, and nothing a user
 * wrote — counts only.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include "cps-handlers.h"
#include "cps-metrics.h"
#include "cps-server.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static void
reply_unavailable (CpsRequest *request, GError *error)
{
  g_warning ("Health check: storage is unavailable: %s",
             error != NULL ? error->message : "no connection");
  cps_request_add_header (request, "Retry-After", "5");
  cps_request_error (request, 503, "unavailable", "{\"status\":\"unavailable\"}",
                     "The server cannot reach its storage right now; try again later.");
}

/* GET /v1/health */
void
cps_handle_health (CpsRequest *request)
{
  g_autoptr (CpsJsonWriter) writer = NULL;
  g_autoptr (GError) error = NULL;
  gint64 seq = 0;
  g_autofree char *head = NULL;

  if (request->storage == NULL)
    {
      reply_unavailable (request, NULL);
      return;
    }
  /* A cheap read proves the connection answers. */
  if (!cps_storage_audit_last (request->storage, &seq, &head, &error))
    {
      reply_unavailable (request, error);
      return;
    }

  writer = cps_json_writer_new ();
  cps_json_writer_begin_object (writer);
  cps_json_writer_member_string (writer, "status", "ok");
  cps_json_writer_member_string (writer, "version", PACKAGE_VERSION);
  cps_json_writer_member_string (writer, "storage",
                                 cps_storage_get_backend_name (request->storage));
  cps_json_writer_end_object (writer);
  cps_request_reply (request, 200, g_steal_pointer (&writer));
}

/* GET /metrics */
void
cps_handle_metrics (CpsRequest *request)
{
  g_autoptr (GError) error = NULL;
  GString *text;

  if (request->storage == NULL)
    {
      reply_unavailable (request, NULL);
      return;
    }

  text = cps_metrics_render (cps_server_get_metrics (request->server), request->storage,
                             &error);
  if (text == NULL)
    {
      cps_request_storage_error (request, error);
      return;
    }

  cps_request_reply_text (request, 200, text, METRICS_CONTENT_TYPE);
}
