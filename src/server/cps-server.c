/* cps-server.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The HTTP core. On the main thread, SoupServer reads each request; we refuse
 * what is too large or encoded in ways we do not speak before any handler runs,
 * decompress gzip bodies under a hard cap, route, and pause the message. A
 * worker thread then runs the handler with its own storage connection, and the
 * response goes back to the main thread to be (optionally) gzipped and sent.
 *
 * Handlers run on workers so that signature checks and Argon2id use every core,
 * and so that one slow fsync never stalls the event loop.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gi18n.h>
#include <libsoup/soup.h>

#include "cps-audit.h"
#include "cps-request.h"
#include "cps-router.h"
#include "cps-server.h"
#include "cps-storage.h"

/* Bodies smaller than this are sent as they are even when gzip is accepted. */
#define GZIP_MIN_BYTES 512
/* Audit checkpoints every 10 minutes (CONTRACT.md), expired tokens purged hourly. */
#define HOUSEKEEPING_SECONDS 600
#define SHUTDOWN_GRACE_SECONDS 30

struct _CpsServer
{
  GObject parent_instance;

  /* Owned */
  CpsServerConfig *config;
  CpsServerKey *key;
  CpsMetrics *metrics;
  SoupServer *soup;
  GThreadPool *pool;
  GMainContext *context;
  char *database_path;
  guint housekeeping_id;
  guint housekeeping_runs;

  gint in_flight; /* atomic */
  guint open_requests; /* main thread: handled requests whose answer is not yet written */
  gboolean stopping;
  GMainLoop *drain_loop; /* (nullable) running while cps_server_stop() waits */
  guint drain_timeout_id;
};

typedef struct
{
  /* Owned */
  CpsServer *server;
  SoupServerMessage *msg;     /* NULL for housekeeping jobs */
  CpsRouteMatch match;
  CpsRequest request;
  GBytes *body;
  char *method;
  char *path;
  char *peer;
  char *authorization;
  gulong disconnected_id;

  gboolean accept_gzip;
  gboolean disconnected;
  gint64 started;             /* monotonic µs */
} Job;

G_DEFINE_FINAL_TYPE (CpsServer, cps_server, G_TYPE_OBJECT)

/* One storage connection per worker thread (a server process runs one CpsServer). */
static char *storage_backend;
static char *storage_location;
static GPrivate thread_storage = G_PRIVATE_INIT ((GDestroyNotify) cps_storage_close);

/* ----- jobs ----------------------------------------------------------------------------- */

static void
job_free (Job *job)
{
  if (job->msg != NULL && job->disconnected_id != 0)
    g_signal_handler_disconnect (job->msg, job->disconnected_id);
  g_clear_object (&job->msg);
  cps_route_match_clear (&job->match);
  g_clear_pointer (&job->request.query, g_hash_table_unref);
  if (job->request.response != NULL)
    g_string_free (job->request.response, TRUE);
  g_clear_pointer (&job->request.headers, g_ptr_array_unref);
  cps_caller_free (job->request.caller);
  g_clear_pointer (&job->body, g_bytes_unref);
  g_free (job->method);
  g_free (job->path);
  g_free (job->peer);
  g_free (job->authorization);
  g_clear_object (&job->server);
  g_free (job);
}

static void
message_disconnected_cb (SoupServerMessage *msg, gpointer user_data)
{
  Job *job = user_data;

  job->disconnected = TRUE;
}

/* ----- bodies --------------------------------------------------------------------------- */

static GBytes *
convert_bytes (GConverter *converter, const guint8 *data, gsize length, gsize cap,
               gboolean *too_large, GError **error)
{
  g_autoptr(GByteArray) out = g_byte_array_sized_new (MIN (cap, length * 4 + 64));
  guint8 buffer[16384];
  gsize consumed = 0;

  *too_large = FALSE;
  for (;;)
    {
      gsize read = 0, written = 0;
      GConverterResult result;

      result = g_converter_convert (converter, data + consumed, length - consumed, buffer,
                                    sizeof buffer, G_CONVERTER_INPUT_AT_END, &read, &written,
                                    error);
      if (result == G_CONVERTER_ERROR)
        return NULL;
      consumed += read;
      if (out->len + written > cap)
        {
          *too_large = TRUE;
          return NULL;
        }
      g_byte_array_append (out, buffer, written);
      if (result == G_CONVERTER_FINISHED)
        break;
      if (read == 0 && written == 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                               "the compressed body ends too early");
          return NULL;
        }
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static gboolean
accepts_gzip (SoupMessageHeaders *headers)
{
  const char *value = soup_message_headers_get_list (headers, "Accept-Encoding");
  g_auto(GStrv) codings = NULL;

  if (value == NULL)
    return FALSE;
  codings = g_strsplit (value, ",", -1);
  for (guint i = 0; codings[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (codings[i], ";", 2);
      const char *name = g_strstrip (parts[0]);

      if (g_ascii_strcasecmp (name, "gzip") == 0)
        return parts[1] == NULL || !g_str_has_suffix (g_strstrip (parts[1]), "q=0");
    }
  return FALSE;
}

/* ----- responses ------------------------------------------------------------------------ */

static void
send_response (CpsServer *self, SoupServerMessage *msg, CpsRequest *request, gboolean gzip)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *content_type = request->content_type;

  if (request->status == 0)
    {
      g_critical ("%s %s: the handler gave no answer", request->method, request->path);
      cps_request_error (request, 500, "internal_error", NULL,
                         "The server failed to answer this request.");
    }

  soup_server_message_set_status (msg, request->status, NULL);
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  for (guint i = 0; request->headers != NULL && i + 1 < request->headers->len; i += 2)
    soup_message_headers_replace (headers, g_ptr_array_index (request->headers, i),
                                  g_ptr_array_index (request->headers, i + 1));

  if (request->response == NULL)
    return;
  if (content_type == NULL)
    content_type = "application/json; charset=utf-8";

  if (gzip && request->response->len >= GZIP_MIN_BYTES)
    {
      g_autoptr(GZlibCompressor) compressor =
        g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 1);
      g_autoptr(GError) error = NULL;
      gboolean too_large;
      g_autoptr(GBytes) compressed = NULL;

      compressed = convert_bytes (G_CONVERTER (compressor), (const guint8 *) request->response->str,
                                  request->response->len, request->response->len + 1024,
                                  &too_large, &error);
      if (compressed != NULL)
        {
          gsize size;
          gconstpointer data = g_bytes_get_data (compressed, &size);

          soup_message_headers_replace (headers, "Content-Encoding", "gzip");
          soup_message_headers_append (headers, "Vary", "Accept-Encoding");
          soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, data, size);
          return;
        }
    }
  {
    /* Handed over, not copied: a page of the changes feed can be megabytes. */
    gsize length = request->response->len;
    char *body = g_string_free (g_steal_pointer (&request->response), FALSE);

    soup_server_message_set_response (msg, content_type, SOUP_MEMORY_TAKE, body, length);
  }
}

static void
log_request (Job *job)
{
  double ms = (g_get_monotonic_time () - job->started) / 1000.0;
  const char *route = job->match.route != NULL ? job->match.route->pattern : "(no route)";

  char status[8];

  g_snprintf (status, sizeof status, "%u", job->request.status);
  /* Structured: route patterns and codes only; never bodies, tokens or query values.
   * Only MESSAGE takes printf arguments, and it must come last. */
  /* Refusals and failures are always logged; answered requests only with
   * G_MESSAGES_DEBUG=cps-server (or at info level in the journal). */
  GLogLevelFlags level = job->request.status >= 500   ? G_LOG_LEVEL_WARNING
                         : job->request.status >= 400 ? G_LOG_LEVEL_MESSAGE
                                                      : G_LOG_LEVEL_INFO;

  g_log_structured (G_LOG_DOMAIN, level,
                    "CPS_METHOD", cps_metrics_method_label (job->method),
                    "CPS_ROUTE", route,
                    "CPS_STATUS", status,
                    "CPS_ERROR", job->request.error_code != NULL ? job->request.error_code : "",
                    "MESSAGE", "%s %s %s %s %.2f ms", cps_metrics_method_label (job->method),
                    route, status,
                    job->request.error_code != NULL ? job->request.error_code : "-", ms);
}

/* The drain ends once no handler runs and every answer has been written. */
static void
maybe_end_drain (CpsServer *self)
{
  if (self->drain_loop != NULL && g_atomic_int_get (&self->in_flight) == 0 &&
      self->open_requests == 0)
    g_main_loop_quit (self->drain_loop);
}

static void
finish_job (Job *job)
{
  CpsServer *self = job->server;
  const char *route = job->match.route != NULL ? job->match.route->pattern : "unmatched";

  if (job->msg != NULL && !job->disconnected)
    {
      send_response (self, job->msg, &job->request, job->accept_gzip);
      soup_server_message_unpause (job->msg);
    }
  if (job->msg != NULL)
    {
      cps_metrics_observe_request (self->metrics, job->method, route, job->request.status,
                                   (g_get_monotonic_time () - job->started) / 1e6);
      log_request (job);
    }

  g_atomic_int_add (&self->in_flight, -1);
  job_free (job);
  maybe_end_drain (self);
}

static gboolean
finish_job_cb (gpointer user_data)
{
  finish_job (user_data);
  return G_SOURCE_REMOVE;
}

/* Answers on the main thread without a worker (routing and body errors). */
static void
reply_now (CpsServer *self, SoupServerMessage *msg, Job *job)
{
  send_response (self, msg, &job->request, job->accept_gzip);
  cps_metrics_observe_request (self->metrics, job->method, "unmatched", job->request.status,
                               (g_get_monotonic_time () - job->started) / 1e6);
  log_request (job);
  job_free (job);
}

/* ----- workers -------------------------------------------------------------------------- */

static CpsStorage *
get_thread_storage (GError **error)
{
  CpsStorage *storage = g_private_get (&thread_storage);

  if (storage == NULL)
    {
      storage = cps_storage_open (storage_backend, storage_location, error);
      if (storage != NULL)
        g_private_set (&thread_storage, storage);
    }
  return storage;
}

static void
housekeeping (CpsServer *self, CpsStorage *storage)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CpsCheckpointRecord) last = NULL;
  g_autofree char *head = NULL;
  gint64 seq = 0;

  if (!cps_storage_audit_last (storage, &seq, &head, &error))
    goto failed;
  last = cps_storage_checkpoint_last (storage, &error);
  if (last == NULL && error != NULL)
    goto failed;
  if (seq > 0 && (last == NULL || last->seq < seq))
    {
      g_autoptr(CpsCheckpointRecord) made = cps_audit_checkpoint (storage, self->key, FALSE,
                                                                  &error);

      if (made == NULL && error != NULL)
        goto failed;
    }
  if (self->housekeeping_runs++ % 6 == 0)
    {
      if (!cps_storage_begin (storage, &error))
        goto failed;
      if (!cps_storage_tokens_purge_expired (storage, g_get_real_time () / G_USEC_PER_SEC,
                                             &error)
          || !cps_storage_commit (storage, &error))
        {
          cps_storage_rollback (storage);
          goto failed;
        }
    }
  return;

failed:
  g_warning ("Housekeeping (audit checkpoint, token purge) failed: %s", error->message);
}

static void
run_job (gpointer data, gpointer user_data)
{
  Job *job = data;
  CpsServer *self = job->server;
  g_autoptr(GError) error = NULL;
  CpsStorage *storage = get_thread_storage (&error);
  g_autoptr(GError) lost = NULL;

  if (storage == NULL)
    {
      g_warning ("Could not open storage: %s", error->message);
      cps_request_error (&job->request, 503, "unavailable", NULL,
                         "The server cannot reach its storage right now; try again later.");
    }
  else if (job->msg == NULL)
    {
      housekeeping (self, storage);
      cps_storage_check_reads (storage, NULL);
    }
  else
    {
      job->request.storage = storage;
      /* One snapshot for the handler's reads; its write transactions end it. */
      if (!cps_storage_begin_read (storage, &error))
        g_debug ("Reading without a snapshot: %s", error->message);
      job->match.route->handler (&job->request);
      /* A handler that returned early inside a transaction must not leave this worker's
       * connection holding the write lock; outside one this does nothing. */
      cps_storage_rollback (storage);
      /* An answer built on other requests' work that was then not stored is not given. */
      if (!cps_storage_check_reads (storage, &lost))
        cps_request_retract (&job->request, lost);
      job->request.storage = NULL;
    }

  g_main_context_invoke (self->context, finish_job_cb, job);
  if (storage != NULL)
    cps_storage_idle (storage);
}

/* ----- the SoupServer callbacks --------------------------------------------------------- */

static void
early_handler_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
                  GHashTable *query, gpointer user_data)
{
  CpsServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);
  Job job = { 0 };
  const char *code = NULL, *message = NULL;
  guint status = 0;

  /* Refuse before reading: the compressed body may not exceed the decompressed limit. */
  if (encoding == SOUP_ENCODING_CHUNKED || encoding == SOUP_ENCODING_EOF)
    status = 411, code = "length_required",
    message = "Send the body with a Content-Length header.";
  else if (encoding == SOUP_ENCODING_CONTENT_LENGTH &&
           soup_message_headers_get_content_length (headers) > (goffset) self->config->max_body_bytes)
    status = 413, code = "too_large", message = "The request body is larger than this server "
                                                "accepts; send it in smaller parts.";
  if (status == 0)
    return;

  /* libsoup still reads the whole body before it sends this answer (unless the client
   * asked “Expect: 100-continue”): drop it as it arrives instead of holding it in memory,
   * or a client declaring gigabytes could exhaust the server's memory. */
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);

  job.request.method = soup_server_message_get_method (msg);
  job.request.path = path;
  job.request.config = self->config;
  cps_request_error (&job.request, status, code, NULL, "%s", message);
  send_response (self, msg, &job.request, FALSE);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
  if (job.request.response != NULL)
    g_string_free (job.request.response, TRUE);
  g_clear_pointer (&job.request.headers, g_ptr_array_unref);
}

/* libsoup answers some requests itself before any handler runs (a path that decodes to
 * “..” segments, a malformed URI): give those answers the contract's error shape too. */
static void
message_got_headers_cb (SoupServerMessage *msg, gpointer user_data)
{
  guint status = soup_server_message_get_status (msg);
  CpsRequest request = { 0 };

  if (status < 400 || soup_server_message_get_response_body (msg)->length > 0)
    return;
  cps_request_error (&request, status, status == 400 ? "invalid_request" : "http_error", NULL,
                     "The server could not make sense of this request's address or headers.");
  soup_server_message_set_response (msg, "application/json; charset=utf-8", SOUP_MEMORY_COPY,
                                    request.response->str, request.response->len);
  g_string_free (request.response, TRUE);
}

static void
request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  g_signal_connect_after (msg, "got-headers", G_CALLBACK (message_got_headers_cb), NULL);
}

/* "finished" (answer written) or "disconnected", whichever comes first. */
static void
answer_done_cb (SoupServerMessage *msg, gpointer user_data)
{
  CpsServer *self = user_data;

  if (g_object_steal_data (G_OBJECT (msg), "cps-answer-pending") == NULL)
    return;
  self->open_requests--;
  maybe_end_drain (self);
}

static GBytes *
read_body (CpsServer *self, SoupServerMessage *msg, Job *job)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  const char *coding = soup_message_headers_get_one (headers, "Content-Encoding");
  g_autoptr(GBytes) raw = soup_message_body_flatten (body);
  gsize cap = self->config->max_body_bytes;
  gboolean too_large = FALSE;

  if (g_bytes_get_size (raw) > cap)
    too_large = TRUE;
  else if (coding != NULL && g_ascii_strcasecmp (coding, "gzip") == 0)
    {
      g_autoptr(GZlibDecompressor) decompressor =
        g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
      g_autoptr(GError) error = NULL;
      gsize size;
      gconstpointer data = g_bytes_get_data (raw, &size);
      GBytes *plain = convert_bytes (G_CONVERTER (decompressor), data, size, cap, &too_large,
                                     &error);

      if (plain != NULL)
        return plain;
      if (!too_large)
        {
          cps_request_error (&job->request, 400, "invalid_request", NULL,
                             "The body is marked gzip but is not valid gzip data.");
          return NULL;
        }
    }
  else if (coding != NULL && g_ascii_strcasecmp (coding, "identity") != 0)
    {
      cps_request_error (&job->request, 415, "unsupported_encoding", NULL,
                         "The body is encoded as “%s”; send it plain or gzip-compressed.",
                         coding);
      return NULL;
    }
  else
    return g_steal_pointer (&raw);

  cps_request_error (&job->request, 413, "too_large", NULL,
                     "The request body is larger than %" G_GSIZE_FORMAT
                     " bytes once decompressed; send it in smaller parts.",
                     cap);
  return NULL;
}

static void
server_handler_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
                   GHashTable *query, gpointer user_data)
{
  CpsServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  Job *job = g_new0 (Job, 1);
  const char *raw_query;

  job->server = g_object_ref (self);
  job->started = g_get_monotonic_time ();
  job->method = g_strdup (soup_server_message_get_method (msg));
  job->path = g_strdup (path);
  job->peer = g_strdup (soup_server_message_get_remote_host (msg));
  job->authorization = g_strdup (soup_message_headers_get_one (headers, "Authorization"));
  job->accept_gzip = accepts_gzip (headers);
  job->request.server = self;
  job->request.config = self->config;
  job->request.method = job->method;
  job->request.path = job->path;
  job->request.peer_address = job->peer != NULL ? job->peer : "";
  job->request.authorization = job->authorization;
  job->request.received_at = g_get_real_time ();

  if (self->stopping)
    {
      cps_request_add_header (&job->request, "Retry-After", "5");
      cps_request_add_header (&job->request, "Connection", "close");
      cps_request_error (&job->request, 503, "unavailable", NULL,
                         "The server is shutting down; try again in a moment.");
      reply_now (self, msg, job);
      return;
    }

  if (!cps_router_match (job->method, path, &job->match))
    {
      if (job->match.allowed != NULL)
        {
          cps_request_add_header (&job->request, "Allow", job->match.allowed);
          cps_request_error (&job->request, 405, "method_not_allowed", NULL,
                             "%s is not possible here; this address accepts %s.", job->method,
                             job->match.allowed);
        }
      else
        cps_request_error (&job->request, 404, "not_found", NULL,
                           "There is no such address on this server; see the sync contract "
                           "for the ones there are.");
      reply_now (self, msg, job);
      return;
    }
  job->request.params = (const char *const *) job->match.params;

  raw_query = g_uri_get_query (soup_server_message_get_uri (msg));
  if (raw_query != NULL)
    {
      if (strlen (raw_query) > 4096)
        {
          cps_request_error (&job->request, 414, "too_large", NULL,
                             "The query string is too long.");
          reply_now (self, msg, job);
          return;
        }
      job->request.query = soup_form_decode (raw_query);
    }

  job->body = read_body (self, msg, job);
  if (job->body == NULL)
    {
      reply_now (self, msg, job);
      return;
    }
  if (g_bytes_get_size (job->body) > 0)
    {
      /* Handlers get a NUL-terminated copy: the JSON reader checks for embedded NULs. */
      gsize size;
      const char *data = g_bytes_get_data (job->body, &size);
      GBytes *terminated = g_bytes_new_take (g_strndup (data, size), size + 1);

      g_bytes_unref (job->body);
      job->body = terminated;
      job->request.body = g_bytes_get_data (job->body, NULL);
      job->request.body_length = size;
    }

  job->msg = g_object_ref (msg);
  job->disconnected_id = g_signal_connect (msg, "disconnected",
                                           G_CALLBACK (message_disconnected_cb), job);
  self->open_requests++;
  g_object_set_data (G_OBJECT (msg), "cps-answer-pending", GINT_TO_POINTER (1));
  g_signal_connect_object (msg, "finished", G_CALLBACK (answer_done_cb), self, 0);
  g_signal_connect_object (msg, "disconnected", G_CALLBACK (answer_done_cb), self, 0);
  soup_server_message_pause (msg);
  g_atomic_int_inc (&self->in_flight);
  g_thread_pool_push (self->pool, job, NULL);
}

static gboolean
housekeeping_cb (gpointer user_data)
{
  CpsServer *self = user_data;
  Job *job = g_new0 (Job, 1);

  job->server = g_object_ref (self);
  job->started = g_get_monotonic_time ();
  g_atomic_int_inc (&self->in_flight);
  g_thread_pool_push (self->pool, job, NULL);
  return G_SOURCE_CONTINUE;
}

/* ----- the object ----------------------------------------------------------------------- */

static void
cps_server_finalize (GObject *object)
{
  CpsServer *self = CPS_SERVER (object);

  g_clear_handle_id (&self->housekeeping_id, g_source_remove);
  if (self->pool != NULL)
    g_thread_pool_free (g_steal_pointer (&self->pool), FALSE, TRUE);
  g_clear_object (&self->soup);
  g_clear_pointer (&self->metrics, cps_metrics_free);
  g_clear_pointer (&self->key, cps_server_key_free);
  g_clear_pointer (&self->config, cps_server_config_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->database_path);

  G_OBJECT_CLASS (cps_server_parent_class)->finalize (object);
}

static void
cps_server_class_init (CpsServerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cps_server_finalize;
}

static void
cps_server_init (CpsServer *self)
{
}

/* ----- listening ------------------------------------------------------------------------ */

static GInetSocketAddress *
parse_listen (const char *listen, GError **error)
{
  g_autofree char *host = NULL;
  const char *colon;
  guint64 port;
  g_autoptr(GInetAddress) address = NULL;

  if (listen[0] == '[')
    {
      const char *end = strchr (listen, ']');

      if (end == NULL || end[1] != ':')
        goto bad;
      host = g_strndup (listen + 1, end - listen - 1);
      colon = end + 1;
    }
  else
    {
      colon = strrchr (listen, ':');
      if (colon == NULL)
        goto bad;
      host = g_strndup (listen, colon - listen);
    }
  if (!g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL))
    goto bad;
  if (g_strcmp0 (host, "localhost") == 0)
    {
      g_free (host);
      host = g_strdup ("127.0.0.1");
    }
  address = g_inet_address_new_from_string (host);
  if (address == NULL)
    goto bad;
  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (address, port));

bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               _("“%s” is not an address to listen on. Give an IP address and a port, as "
                 "127.0.0.1:8080 or [::1]:8443."),
               listen);
  return NULL;
}

/**
 * cps_server_new:
 * @config: (transfer full): the settings
 *
 * Opens (creating and migrating when needed) the storage and the server key.
 */
CpsServer *
cps_server_new (CpsServerConfig *config, GError **error)
{
  g_autoptr(CpsServer) self = g_object_new (CPS_TYPE_SERVER, NULL);
  g_autoptr(CpsStorage) storage = NULL;
  g_autoptr(CpsCheckpointRecord) last_checkpoint = NULL;
  guint workers;

  self->config = config;
  self->context = g_main_context_ref_thread_default ();
  self->metrics = cps_metrics_new ();

  if (config->data_dir == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("No data directory: give --data-dir DIR."));
      return NULL;
    }
  if (g_mkdir_with_parents (config->data_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not create the data directory “%s”: %s"), config->data_dir,
                   g_strerror (saved_errno));
      return NULL;
    }
  self->database_path = cps_server_config_dup_database_path (config);

  /* Open once here so a damaged or newer database stops the start, not the first request. */
  storage = cps_storage_open (config->storage, self->database_path, error);
  if (storage == NULL)
    return NULL;

  /* A key is made for a new server only: once checkpoints are signed, a lost key must be
   * restored, never silently replaced. */
  last_checkpoint = cps_storage_checkpoint_last (storage, error);
  if (last_checkpoint == NULL && error != NULL && *error != NULL)
    return NULL;
  if (last_checkpoint != NULL)
    self->key = cps_server_key_load (config->data_dir, error);
  else
    self->key = cps_server_key_load_or_create (config->data_dir, error);
  if (self->key == NULL)
    return NULL;

  g_free (storage_backend);
  storage_backend = g_strdup (config->storage);
  g_free (storage_location);
  storage_location = g_strdup (self->database_path);

  workers = config->workers != 0 ? config->workers : MAX (4, 2 * g_get_num_processors ());
  self->pool = g_thread_pool_new (run_job, self, workers, FALSE, error);
  if (self->pool == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
cps_server_start (CpsServer *self, GError **error)
{
  g_autoptr(GInetSocketAddress) address = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  GInetAddress *inet;
  GSList *uris;

  address = parse_listen (self->config->listen, error);
  if (address == NULL)
    return FALSE;
  inet = g_inet_socket_address_get_address (address);

  if (self->config->tls_cert != NULL || self->config->tls_key != NULL)
    {
      if (self->config->tls_cert == NULL || self->config->tls_key == NULL)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("TLS needs both a certificate (--tls-cert) and its key "
                                 "(--tls-key)."));
          return FALSE;
        }
      certificate = g_tls_certificate_new_from_files (self->config->tls_cert,
                                                      self->config->tls_key, error);
      if (certificate == NULL)
        {
          g_prefix_error (error, _("Could not load the TLS certificate and key: "));
          return FALSE;
        }
    }
  else if (!g_inet_address_get_is_loopback (inet) && !self->config->insecure_http)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("Refusing plain HTTP on %s: passwords and tokens would cross the network "
                     "unencrypted. Give --tls-cert and --tls-key, listen on a loopback address "
                     "behind a TLS proxy, or pass --insecure-http if you really mean it."),
                   self->config->listen);
      return FALSE;
    }

  self->soup = soup_server_new ("server-header", "cps-server/" PACKAGE_VERSION,
                                certificate != NULL ? "tls-certificate" : NULL, certificate,
                                NULL);
  g_signal_connect (self->soup, "request-started", G_CALLBACK (request_started_cb), NULL);
  soup_server_add_early_handler (self->soup, NULL, early_handler_cb, self, NULL);
  soup_server_add_handler (self->soup, NULL, server_handler_cb, self, NULL);

  if (!soup_server_listen (self->soup, G_SOCKET_ADDRESS (address),
                           certificate != NULL ? SOUP_SERVER_LISTEN_HTTPS : 0, error))
    {
      g_prefix_error (error, _("Could not listen on %s: "), self->config->listen);
      return FALSE;
    }

  self->housekeeping_id = g_timeout_add_seconds (HOUSEKEEPING_SECONDS, housekeeping_cb, self);

  uris = soup_server_get_uris (self->soup);
  for (GSList *l = uris; l != NULL; l = l->next)
    {
      GUri *uri = l->data;
      const char *host = g_uri_get_host (uri);
      gboolean ipv6 = strchr (host, ':') != NULL;

      /* Fixed by the contract: scripts wait for this exact line. */
      printf ("listening on %s://%s%s%s:%d\n", g_uri_get_scheme (uri), ipv6 ? "[" : "", host,
              ipv6 ? "]" : "", g_uri_get_port (uri));
    }
  fflush (stdout);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return TRUE;
}

static gboolean
drain_timeout_cb (gpointer user_data)
{
  CpsServer *self = user_data;

  g_warning ("%d requests still running after %d s; stopping anyway",
             g_atomic_int_get (&self->in_flight), SHUTDOWN_GRACE_SECONDS);
  self->drain_timeout_id = 0;
  g_main_loop_quit (self->drain_loop);
  return G_SOURCE_REMOVE;
}

/**
 * cps_server_stop:
 *
 * Stops accepting connections, answers new requests on open connections with
 * 503, and waits (up to 30 s) for running requests to finish and commit.
 */
void
cps_server_stop (CpsServer *self)
{
  self->stopping = TRUE;
  g_clear_handle_id (&self->housekeeping_id, g_source_remove);

  /* Connections stay open until the running requests are answered; new requests get 503. */
  if (g_atomic_int_get (&self->in_flight) > 0 || self->open_requests > 0)
    {
      self->drain_loop = g_main_loop_new (self->context, FALSE);
      self->drain_timeout_id = g_timeout_add_seconds (SHUTDOWN_GRACE_SECONDS, drain_timeout_cb,
                                                      self);
      g_main_loop_run (self->drain_loop);
      g_clear_handle_id (&self->drain_timeout_id, g_source_remove);
      g_clear_pointer (&self->drain_loop, g_main_loop_unref);
    }
  if (self->soup != NULL)
    soup_server_disconnect (self->soup);
  if (self->pool != NULL)
    g_thread_pool_free (g_steal_pointer (&self->pool), FALSE, TRUE);
}

const CpsServerConfig *
cps_server_get_config (CpsServer *self)
{
  return self->config;
}

CpsServerKey *
cps_server_get_key (CpsServer *self)
{
  return self->key;
}

CpsMetrics *
cps_server_get_metrics (CpsServer *self)
{
  return self->metrics;
}

CpsStorage *
cps_server_get_storage (CpsServer *self, GError **error)
{
  return get_thread_storage (error);
}
