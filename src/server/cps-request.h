/* cps-request.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One HTTP request as handlers see it. The HTTP core (cps-server.c) reads the
 * message on the main thread, decompresses and bounds the body, then runs the
 * route's handler synchronously on a worker thread with that thread's own
 * storage connection. The handler fills in a status and a JSON body; the core
 * compresses and sends it. Handlers never touch libsoup.
 */

#pragma once

#include <gio/gio.h>

#include "cps-json.h"
#include "cps-json-writer.h"
#include "cps-server-config.h"
#include "cps-storage.h"

G_BEGIN_DECLS

typedef struct _CpsServer CpsServer;

/* What a role may do (CONTRACT.md “Scopes follow the role”). */
typedef enum
{
  CPS_SCOPE_READ = 1 << 0,  /* every role */
  CPS_SCOPE_PUSH = 1 << 1,  /* member, lead, admin */
  CPS_SCOPE_SIGN_OFF = 1 << 2, /* lead, admin */
  CPS_SCOPE_ADMIN = 1 << 3, /* admin: accounts, every device, audit log */
} CpsScope;

/* The authenticated caller, filled by cps_request_authenticate(). */
typedef struct
{
  CpsAccountRecord *account;
  CpsDeviceRecord *device;
  CpsTokenRecord *token;    /* the access token presented */
  CpsScope scopes;
} CpsCaller;

typedef struct
{
  /* Borrowed */
  CpsServer *server;
  const CpsServerConfig *config;
  CpsStorage *storage;        /* this worker thread's connection */

  /* The request */
  const char *method;         /* "GET", "POST", "PUT", "DELETE" */
  const char *path;           /* e.g. "/v1/projects/…/revisions" */
  const char *const *params;  /* the route's {placeholders}, in order, already validated
                                 as one path segment (no '/', no NUL, ≤ 128 bytes) */
  GHashTable *query;          /* (nullable) decoded query parameters, char* → char* */
  const char *body;           /* decompressed body, NUL-terminated; NULL when empty */
  gsize body_length;
  const char *peer_address;   /* the client's IP address as text */
  const char *authorization;  /* (nullable) the Authorization header */
  gint64 received_at;         /* g_get_real_time() when it arrived */

  /* Filled by cps_request_authenticate() */
  CpsCaller *caller;

  /* The response */
  guint status;
  GString *response;          /* JSON body, or NULL for no body (204) */
  const char *content_type;   /* default "application/json; charset=utf-8" */
  GPtrArray *headers;         /* extra response headers: name, value, name, value … */
  const char *error_code;     /* set by cps_request_error(): for logs and metrics */
} CpsRequest;

typedef void (*CpsHandlerFunc) (CpsRequest *request);

/* ----- responses ------------------------------------------------------------------------ */

/* Sets the contract's error shape: {"error": {"code", "message", "details"}}.
 * @details_json is a JSON object text or NULL for {}. The message is one English sentence a
 * person can act on (clients localise by code). Returns FALSE so handlers can
 * `return cps_request_error (…);` from gboolean helpers. */
gboolean cps_request_error (CpsRequest *request, guint status, const char *code,
                            const char *details_json, const char *format, ...)
  G_GNUC_PRINTF (5, 6);

/* A JSON response: takes ownership of the writer's text. */
void cps_request_reply (CpsRequest *request, guint status, CpsJsonWriter *writer);
/* A response without body (204). */
void cps_request_reply_empty (CpsRequest *request, guint status);
void cps_request_add_header (CpsRequest *request, const char *name, const char *value);

/* ----- input ---------------------------------------------------------------------------- */

/* Parses the body as one JSON object. On failure replies 400 invalid_request (or 413) and
 * returns NULL. The document is freed by the caller. */
CpsJsonDocument *cps_request_parse_object (CpsRequest *request);

/* Field access with validation: on a missing or mistyped field they reply
 * 400 invalid_request naming the field (details {"field": "…"}) and return FALSE.
 * Optional fields leave *out untouched when absent. */
gboolean cps_request_get_string (CpsRequest *request, const CpsJsonNode *object,
                                 const char *field, gboolean required, gsize max_length,
                                 const char **out);
gboolean cps_request_get_bool (CpsRequest *request, const CpsJsonNode *object,
                               const char *field, gboolean required, gboolean *out);
gboolean cps_request_get_int (CpsRequest *request, const CpsJsonNode *object, const char *field,
                              gboolean required, gint64 min, gint64 max, gint64 *out);
/* Objects and arrays: *out points into the document. */
gboolean cps_request_get_object (CpsRequest *request, const CpsJsonNode *object,
                                 const char *field, gboolean required, const CpsJsonNode **out);
gboolean cps_request_get_array (CpsRequest *request, const CpsJsonNode *object,
                                const char *field, gboolean required, guint max_items,
                                const CpsJsonNode **out);

/* Query parameters: NULL when absent. */
const char *cps_request_get_query (CpsRequest *request, const char *name);
/* limit= (1 … config->max_page_items, default @default_limit); replies 400 when bad. */
gboolean cps_request_get_limit (CpsRequest *request, guint default_limit, guint *out);
/* Cursors are opaque to clients: base64url of "<kind>:<value>". NULL/absent gives NULL.
 * A cursor of another kind or malformed replies 400 invalid_request. */
gboolean cps_request_get_cursor (CpsRequest *request, const char *kind, char **out);
/* The same for a cursor under another parameter name (the changes feed's `since`). */
gboolean cps_request_get_cursor_param (CpsRequest *request, const char *param, const char *kind,
                                       char **out);
char *cps_cursor_encode (const char *kind, const char *value);
/* Cursors that are a position in a durable sequence (revisions, the changes feed, the audit
 * log): *out is 0 without one; a cursor that is not a sequence number replies 400. */
gboolean cps_request_get_seq_cursor (CpsRequest *request, const char *param, const char *kind,
                                     gint64 *out);
char *cps_cursor_encode_seq (const char *kind, gint64 seq);

/* ----- authentication ------------------------------------------------------------------- */

/* Checks the bearer token on every request (hash, state, expiry, session, device state,
 * account), fills request->caller and touches the device's last_seen_at. Replies
 * 401 unauthorized / 401 device_revoked / 403 forbidden (missing @scopes) and returns FALSE. */
gboolean cps_request_authenticate (CpsRequest *request, CpsScope scopes);

/* Updates the caller's device last_sync_at (at most once a minute). */
void cps_request_note_sync (CpsRequest *request);
gboolean cps_request_sync_is_noted (CpsRequest *request);

CpsScope cps_scopes_for_role (const char *role);
gboolean cps_role_is_valid (const char *role);

void cps_caller_free (CpsCaller *caller);

/* ----- audit ---------------------------------------------------------------------------- */

/* Appends an entry to the audit chain inside the current write transaction (the caller
 * has called cps_storage_begin()). @details_json is a JSON object text (never payload
 * content, passwords, tokens or codes) or NULL. The actor defaults to the caller. */
gboolean cps_request_audit (CpsRequest *request, const char *action, const char *target_type,
                            const char *target_id, const char *details_json, GError **error);

/* Replies 500 storage_error (logs the GError without payload) and returns FALSE. */
gboolean cps_request_storage_error (CpsRequest *request, GError *error);
/* Replaces the handler's answer, headers included, with a 500 storage_error saying it was
 * withdrawn (see cps_storage_check_reads()). */
void cps_request_retract (CpsRequest *request, GError *error);

/* ----- transactions and common replies ----------------------------------------------------- */

/* cps_storage_begin(); when it fails, replies 500 storage_error (503 when busy) and returns
 * FALSE. */
gboolean cps_request_begin (CpsRequest *request);
/* cps_storage_commit(); when it fails, rolls back, replies like cps_request_begin() and
 * returns FALSE. */
gboolean cps_request_commit (CpsRequest *request);
/* Rolls back the open transaction, replies with cps_request_storage_error() and returns
 * FALSE. */
gboolean cps_request_abort (CpsRequest *request, GError *error);

/* Replies 400 invalid_request about @field (details {"field": …}) with @message as it is, and
 * returns FALSE. */
gboolean cps_request_invalid_field (CpsRequest *request, const char *field, const char *message);

/* A reply that is not JSON: takes ownership of @body. */
void cps_request_reply_text (CpsRequest *request, guint status, GString *body,
                             const char *content_type);

/* A checkpoint as the API shows it: {"seq", "hash", "at", "signature"}. */
void cps_checkpoint_write_json (const CpsCheckpointRecord *checkpoint, CpsJsonWriter *writer);

G_END_DECLS
