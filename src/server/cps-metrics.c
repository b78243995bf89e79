/* cps-metrics.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prometheus text exposition 0.0.4. Counters live in this process; the
 * gauges every process must agree on are read from storage when scraped.
 * Labels carry methods, route patterns and statuses only, never user content.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <string.h>

#include "cps-metrics.h"

static const double bucket_bounds[] = {
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
};
/* The same bounds as the exposition spells them. */
static const char *const bucket_labels[] = {
  "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
};
G_STATIC_ASSERT (G_N_ELEMENTS (bucket_bounds) == G_N_ELEMENTS (bucket_labels));
#define N_BUCKETS (G_N_ELEMENTS (bucket_bounds) + 1) /* the last one is +Inf */

typedef struct
{
  char *method;
  char *route;
  guint status;
  guint64 count;
} RequestCounter;

typedef struct
{
  char *method;
  char *route;
  guint status;
  guint64 buckets[N_BUCKETS]; /* per bucket, not cumulative */
  guint64 count;
  double sum;
} LatencyHistogram;

struct _CpsMetrics
{
  GMutex lock;
  GHashTable *requests;   /* "method route status" → RequestCounter */
  GHashTable *latencies;  /* "method route status" → LatencyHistogram */
  guint64 push_accepted;
  guint64 push_rejected;
  guint64 push_duplicate;
};

static void
request_counter_free (RequestCounter *counter)
{
  g_free (counter->method);
  g_free (counter->route);
  g_free (counter);
}

static void
latency_histogram_free (LatencyHistogram *histogram)
{
  g_free (histogram->method);
  g_free (histogram->route);
  g_free (histogram);
}

static int
compare_requests (gconstpointer a, gconstpointer b)
{
  const RequestCounter *ra = *(RequestCounter *const *) a;
  const RequestCounter *rb = *(RequestCounter *const *) b;
  int cmp = strcmp (ra->route, rb->route);

  if (cmp == 0)
    cmp = strcmp (ra->method, rb->method);
  if (cmp == 0)
    cmp = ra->status < rb->status ? -1 : ra->status > rb->status;
  return cmp;
}

static int
compare_latencies (gconstpointer a, gconstpointer b)
{
  const LatencyHistogram *ha = *(LatencyHistogram *const *) a;
  const LatencyHistogram *hb = *(LatencyHistogram *const *) b;
  int cmp = strcmp (ha->route, hb->route);

  if (cmp == 0)
    cmp = strcmp (ha->method, hb->method);
  return cmp != 0 ? cmp : (ha->status > hb->status) - (ha->status < hb->status);
}

/* A label value in the exposition format: backslash, double quote and line
 * feed escaped. */
static void
append_label_value (GString *out, const char *value)
{
  g_string_append_c (out, '"');
  for (const char *p = value; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        default:
          g_string_append_c (out, *p);
        }
    }
  g_string_append_c (out, '"');
}

static void
append_double (GString *out, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* Twelve significant digits: microseconds over days of accumulated time. */
  g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.12g", value));
}

static void
append_family (GString *out, const char *name, const char *type, const char *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
append_method_route (GString *out, const char *method, const char *route)
{
  g_string_append (out, "method=");
  append_label_value (out, method);
  g_string_append (out, ",route=");
  append_label_value (out, route);
}

CpsMetrics *
cps_metrics_new (void)
{
  CpsMetrics *metrics = g_new0 (CpsMetrics, 1);

  g_mutex_init (&metrics->lock);
  metrics->requests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) request_counter_free);
  metrics->latencies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify) latency_histogram_free);
  return metrics;
}

void
cps_metrics_free (CpsMetrics *metrics)
{
  if (metrics == NULL)
    return;
  g_hash_table_unref (metrics->requests);
  g_hash_table_unref (metrics->latencies);
  g_mutex_clear (&metrics->lock);
  g_free (metrics);
}

/**
 * cps_metrics_observe_request:
 * @route: the route pattern ("/v1/projects/{id}"), never the raw path, so
 *   the number of series stays bounded
 * @seconds: how long the request took
 */
/**
 * cps_metrics_method_label:
 *
 * Returns: (transfer none): @method when it is a standard HTTP method, else "other"
 */
const char *
cps_metrics_method_label (const char *method)
{
  static const char *const known[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
                                       "OPTIONS", NULL };

  for (guint i = 0; known[i] != NULL; i++)
    if (g_strcmp0 (method, known[i]) == 0)
      return known[i];
  return "other";
}

void
cps_metrics_observe_request (CpsMetrics *metrics, const char *method, const char *route,
                             guint status, double seconds)
{
  g_autofree char *request_key = NULL;
  g_autofree char *latency_key = NULL;
  RequestCounter *counter;
  LatencyHistogram *histogram;
  guint bucket = 0;

  g_return_if_fail (metrics != NULL);

  /* The method is whatever the client sent: only known ones become label values, or any
   * client could grow the series (and this process's memory) without bound. */
  method = cps_metrics_method_label (method);
  if (route == NULL)
    route = "unmatched";
  if (!(seconds >= 0)) /* also NaN */
    seconds = 0;
  while (bucket < G_N_ELEMENTS (bucket_bounds) && seconds > bucket_bounds[bucket])
    bucket++;

  request_key = g_strdup_printf ("%s %s %u", method, route, status);
  latency_key = g_strdup_printf ("%s %s %u", method, route, status);

  g_mutex_lock (&metrics->lock);

  counter = g_hash_table_lookup (metrics->requests, request_key);
  if (counter == NULL)
    {
      counter = g_new0 (RequestCounter, 1);
      counter->method = g_strdup (method);
      counter->route = g_strdup (route);
      counter->status = status;
      g_hash_table_insert (metrics->requests, g_steal_pointer (&request_key), counter);
    }
  counter->count++;

  histogram = g_hash_table_lookup (metrics->latencies, latency_key);
  if (histogram == NULL)
    {
      histogram = g_new0 (LatencyHistogram, 1);
      histogram->method = g_strdup (method);
      histogram->route = g_strdup (route);
      histogram->status = status;
      g_hash_table_insert (metrics->latencies, g_steal_pointer (&latency_key), histogram);
    }
  histogram->buckets[bucket]++;
  histogram->count++;
  histogram->sum += seconds;

  g_mutex_unlock (&metrics->lock);
}

void
cps_metrics_add_push (CpsMetrics *metrics, guint accepted, guint rejected, guint duplicate)
{
  g_return_if_fail (metrics != NULL);

  g_mutex_lock (&metrics->lock);
  metrics->push_accepted += accepted;
  metrics->push_rejected += rejected;
  metrics->push_duplicate += duplicate;
  g_mutex_unlock (&metrics->lock);
}

/* g_hash_table_get_values_as_ptr_array() is GLib 2.76. */
static GPtrArray *
values_of (GHashTable *table)
{
  GPtrArray *values = g_ptr_array_sized_new (g_hash_table_size (table));
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (values, value);
  return values;
}

static void
render_requests (CpsMetrics *metrics, GString *out)
{
  g_autoptr (GPtrArray) requests = values_of (metrics->requests);
  g_autoptr (GPtrArray) latencies = values_of (metrics->latencies);

  g_ptr_array_sort (requests, compare_requests);
  g_ptr_array_sort (latencies, compare_latencies);

  append_family (out, "cps_http_requests_total", "counter",
                 "HTTP requests handled, by method, route pattern and status.");
  for (guint i = 0; i < requests->len; i++)
    {
      const RequestCounter *counter = g_ptr_array_index (requests, i);

      g_string_append (out, "cps_http_requests_total{");
      append_method_route (out, counter->method, counter->route);
      g_string_append_printf (out, ",status=\"%u\"} %" G_GUINT64_FORMAT "\n", counter->status,
                              counter->count);
    }

  append_family (out, "cps_http_request_duration_seconds", "histogram",
                 "Time from receiving a request to its response, by method, route pattern and "
                 "status.");
  for (guint i = 0; i < latencies->len; i++)
    {
      const LatencyHistogram *histogram = g_ptr_array_index (latencies, i);
      guint64 cumulative = 0;

      for (guint b = 0; b < N_BUCKETS; b++)
        {
          cumulative += histogram->buckets[b];
          g_string_append (out, "cps_http_request_duration_seconds_bucket{");
          append_method_route (out, histogram->method, histogram->route);
          g_string_append_printf (out, ",status=\"%u\",le=\"", histogram->status);
          g_string_append (out, b < G_N_ELEMENTS (bucket_labels) ? bucket_labels[b] : "+Inf");
          g_string_append_printf (out, "\"} %" G_GUINT64_FORMAT "\n", cumulative);
        }
      g_string_append (out, "cps_http_request_duration_seconds_sum{");
      append_method_route (out, histogram->method, histogram->route);
      g_string_append_printf (out, ",status=\"%u\"} ", histogram->status);
      append_double (out, histogram->sum);
      g_string_append (out, "\ncps_http_request_duration_seconds_count{");
      append_method_route (out, histogram->method, histogram->route);
      g_string_append_printf (out, ",status=\"%u\"} %" G_GUINT64_FORMAT "\n", histogram->status,
                              histogram->count);
    }

  append_family (out, "cps_push_revisions_total", "counter",
                 "Revisions received in pushes, by result.");
  g_string_append_printf (out,
                          "cps_push_revisions_total{result=\"accepted\"} %" G_GUINT64_FORMAT "\n"
                          "cps_push_revisions_total{result=\"rejected\"} %" G_GUINT64_FORMAT "\n"
                          "cps_push_revisions_total{result=\"duplicate\"} %" G_GUINT64_FORMAT
                          "\n",
                          metrics->push_accepted, metrics->push_rejected,
                          metrics->push_duplicate);
}

static gboolean
render_storage (CpsStorage *storage, GString *out, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *head = NULL;
  gint64 conflicts;
  gint64 revisions = 0;
  gint64 active = 0;
  gint64 pending = 0;
  gint64 revoked = 0;
  gint64 audit_seq = 0;

  conflicts = cps_storage_project_count_conflicted (storage, &local_error);
  if (local_error == NULL)
    revisions = cps_storage_revision_count (storage, &local_error);
  if (local_error == NULL)
    cps_storage_device_count_states (storage, &active, &pending, &revoked, &local_error);
  if (local_error == NULL)
    cps_storage_audit_last (storage, &audit_seq, &head, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  append_family (out, "cps_conflicts_open", "gauge", "Projects with more than one head.");
  g_string_append_printf (out, "cps_conflicts_open %" G_GINT64_FORMAT "\n", conflicts);

  append_family (out, "cps_devices", "gauge", "Registered devices, by state.");
  g_string_append_printf (out,
                          "cps_devices{state=\"active\"} %" G_GINT64_FORMAT "\n"
                          "cps_devices{state=\"pending\"} %" G_GINT64_FORMAT "\n"
                          "cps_devices{state=\"revoked\"} %" G_GINT64_FORMAT "\n",
                          active, pending, revoked);

  append_family (out, "cps_revisions_stored", "gauge", "Revisions stored over all projects.");
  g_string_append_printf (out, "cps_revisions_stored %" G_GINT64_FORMAT "\n", revisions);

  append_family (out, "cps_audit_entries", "gauge", "Entries in the audit chain.");
  g_string_append_printf (out, "cps_audit_entries %" G_GINT64_FORMAT "\n", audit_seq);
  return TRUE;
}

/**
 * cps_metrics_render:
 * @storage: (nullable): where the shared gauges are read; %NULL leaves them out
 *
 * Returns: (transfer full) (nullable): the whole exposition
 */
GString *
cps_metrics_render (CpsMetrics *metrics, CpsStorage *storage, GError **error)
{
  g_autoptr (GString) out = g_string_sized_new (4096);

  g_return_val_if_fail (metrics != NULL, NULL);

  g_mutex_lock (&metrics->lock);
  render_requests (metrics, out);
  g_mutex_unlock (&metrics->lock);

  if (storage != NULL && !render_storage (storage, out, error))
    return NULL;
  return g_steal_pointer (&out);
}
