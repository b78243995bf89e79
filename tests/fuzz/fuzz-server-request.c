/* fuzz-server-request.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libFuzzer target for cps-server's request handlers, run in process on a
 * real (SQLite) storage, without HTTP. Each input is one request, filled in
 * the way the HTTP core (server_handler_cb() in cps-server.c) fills it:
 *
 *   byte 0   low nibble: the route (see routes[] below);
 *            high nibble % 3: the caller (admin, member, observer)
 *   then     one line per {} parameter of the route (the path segment, as
 *            the client would percent-encode it; routed by cps_router_match())
 *   the rest the body (POST/PUT) or the raw query string (GET)
 *
 * Route 10 feeds the rest to the cursor decoder (cps_request_get_cursor())
 * and route 11 sends it as the Authorization header.
 *
 * Every answer must be 2xx or 4xx — a 5xx caused by what a client sent is a
 * bug — and valid JSON (no body only with 204); errors must have the
 * contract's shape {"error": {"code", "message", "details": {}}} with a code
 * the server documents for that status; response headers must not carry
 * line breaks. A handler that answers 2xx must not leave its transaction
 * open (the core's rollback would discard what it answered for), and after
 * the core's rollback no transaction is open. A refused request (4xx) stores
 * no account, device or revision; a push answers one result per revision it
 * was sent, stores exactly those it reports as accepted (each reads back
 * under its id in that project) and answers the project's stored heads. No
 * password, refresh token or recovery code the request carried may be
 * answered, logged or audited, and audit details are JSON objects. The
 * router must route exactly the parameters the HTTP core lets through, and
 * a cursor must decode to what was encoded.
 *
 * State the inputs may change and that later inputs need (the seeded
 * devices, their tokens, project memberships, the pending TOTP secret, the
 * per-address sign-in and per-account code limits) is put back.
 *
 * CPS_FUZZ_SERVER_SEEDS=DIR writes the seed inputs (corpus/server-request/)
 * into DIR and exits; CPS_FUZZ_LOG=1 shows the server's log messages and each
 * request with its answer.
 */

#define G_LOG_DOMAIN "fuzz-server-request"

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <sodium.h>

#include "fuzz-common.h"

#include "cps-credentials.h"
#include "cps-handlers.h"
#include "cps-request.h"
#include "cps-router.h"
#include "cps-server.h"
#include "cps-storage.h"
#include "cps-test-util.h"

/* ----- cheap password hashing -------------------------------------------------------------- */

/* The fuzz target is linked with -Wl,--wrap=crypto_pwhash_str_alg (tests/fuzz/meson.build), so
 * cps_password_hash() — and through it the dummy hash that unknown users are checked against —
 * runs Argon2id at libsodium's lowest cost instead of 19 MiB and two passes. Verification
 * reads the cost from the stored hash, so sign-ins and account creation take microseconds
 * instead of ~20 ms each and can be fuzzed at full speed. Only the cost differs: the hash
 * format and every code path are the server's. */
int __real_crypto_pwhash_str_alg (char out[crypto_pwhash_STRBYTES], const char *const passwd,
                                  unsigned long long passwdlen, unsigned long long opslimit,
                                  size_t memlimit, int alg);
int __wrap_crypto_pwhash_str_alg (char out[crypto_pwhash_STRBYTES], const char *const passwd,
                                  unsigned long long passwdlen, unsigned long long opslimit,
                                  size_t memlimit, int alg);

int
__wrap_crypto_pwhash_str_alg (char out[crypto_pwhash_STRBYTES], const char *const passwd,
                              unsigned long long passwdlen, unsigned long long opslimit,
                              size_t memlimit, int alg)
{
  return __real_crypto_pwhash_str_alg (out, passwd, passwdlen, crypto_pwhash_argon2id_OPSLIMIT_MIN,
                                       crypto_pwhash_argon2id_MEMLIMIT_MIN, alg);
}

/* ----- the seeded server ---------------------------------------------------------------- */

#define PEER_ADDRESS "192.0.2.7"
#define PROJECT_ID "0f0e0d0c-0000-4000-8000-00000000b001"
#define ENCRYPTED_PROJECT_ID "0f0e0d0c-0000-4000-8000-00000000b002"
#define FIRST_CREATED_AT "2026-01-01T00:00:00.000Z"
#define LATER_CREATED_AT "2026-01-01T00:01:00.000Z"
#define SEED_DOCUMENT "{\"name\":\"Fuzz night\",\"cameras\":[{\"name\":\"A\",\"watts\":45}]}"

typedef enum
{
  SEAT_ADMIN,
  SEAT_MEMBER,
  SEAT_OBSERVER,
  N_SEATS,
} SeatIndex;

typedef struct
{
  const char *account_id;
  const char *username;
  const char *role;         /* account role */
  const char *project_role; /* member role in PROJECT_ID */
  const char *device_id;
  guint8 seed_byte; /* the device key's seed is 32 of these */

  CpsDeviceKey *key;
  char *token; /* the access token presented as this caller */
  char *token_hash;
} Seat;

static Seat seats[N_SEATS] = {
  { "0f0e0d0c-0000-4000-8000-00000000a001", "admin", "admin", "owner",
    "0f0e0d0c-0000-4000-8000-00000000d001", 0x11 },
  { "0f0e0d0c-0000-4000-8000-00000000a002", "member", "member", "editor",
    "0f0e0d0c-0000-4000-8000-00000000d002", 0x22 },
  { "0f0e0d0c-0000-4000-8000-00000000a003", "observer", "observer", "viewer",
    "0f0e0d0c-0000-4000-8000-00000000d003", 0x33 },
};

static CpsServer *server;
static CpsStorage *storage;
static char *data_dir;
static char *totp_pending;   /* the admin's pending TOTP secret */
static char *first_revision; /* JSON of the revision stored in PROJECT_ID at the start */

/* ----- routes --------------------------------------------------------------------------- */

typedef enum
{
  KIND_BODY,   /* the rest is the body */
  KIND_QUERY,  /* the rest is the raw query string */
  KIND_CURSOR, /* the cursor decoder, no handler */
  KIND_AUTH,   /* the rest is the Authorization header */
} RouteKind;

typedef struct
{
  const char *method;
  const char *pattern; /* as in cps_routes[]: "{}" is a parameter */
  CpsHandlerFunc handler;
  RouteKind kind;
} Route;

static const Route routes[16] = {
  { "POST", "/v1/projects/{}/revisions", cps_handle_push, KIND_BODY },
  { "POST", "/v1/projects", cps_handle_projects_create, KIND_BODY },
  { "PUT", "/v1/projects/{}/members/{}", cps_handle_member_put, KIND_BODY },
  { "POST", "/v1/accounts", cps_handle_accounts_create, KIND_BODY },
  { "POST", "/v1/devices/{}/revoke", cps_handle_device_revoke, KIND_BODY },
  { "POST", "/v1/auth/login", cps_handle_login, KIND_BODY },
  { "POST", "/v1/auth/refresh", cps_handle_refresh, KIND_BODY },
  { "POST", "/v1/auth/totp/confirm", cps_handle_totp_confirm, KIND_BODY },
  { "GET", "/v1/audit", cps_handle_audit_list, KIND_QUERY },
  { "GET", "/v1/changes", cps_handle_changes, KIND_QUERY },
  { "GET", "/v1/projects", NULL, KIND_CURSOR },
  { "GET", "/v1/account", cps_handle_account_self, KIND_AUTH },
  { "GET", "/v1/projects/{}/revisions", cps_handle_revisions_list, KIND_QUERY },
  { "DELETE", "/v1/projects/{}/members/{}", cps_handle_member_delete, KIND_BODY },
  { "GET", "/v1/projects/{}/conflict", cps_handle_project_conflict, KIND_QUERY },
  { "GET", "/v1/devices", cps_handle_devices_list, KIND_QUERY },
};

enum
{
  ROUTE_PUSH = 0,
  ROUTE_MEMBER_PUT = 2,
  ROUTE_ACCOUNTS_CREATE = 3,
  ROUTE_DEVICE_REVOKE = 4,
  ROUTE_LOGIN = 5,
  ROUTE_TOTP_CONFIRM = 7,
  ROUTE_CURSOR = 10,
  ROUTE_MEMBER_DELETE = 13,
};

/* Error codes the server documents (CONTRACT.md and the decisions in
 * docs/sync-contract.md), each with the statuses it may come with. */
static const struct
{
  const char *code;
  guint statuses[3];
} known_errors[] = {
  { "invalid_request", { 400 } },
  { "too_large", { 413, 414 } },
  { "unauthorized", { 401 } },
  { "device_revoked", { 401, 403, 409 } },
  { "device_pending", { 403 } },
  { "device_key_in_use", { 409 } },
  { "forbidden", { 403 } },
  { "not_found", { 404 } },
  { "username_taken", { 409 } },
  { "project_exists", { 409 } },
  { "invalid_credentials", { 401 } },
  { "mfa_required", { 401 } },
  { "invalid_totp", { 401 } },
  { "totp_not_pending", { 409 } },
  { "totp_already_enabled", { 409 } },
  { "totp_not_enabled", { 409 } },
  { "token_reused", { 401 } },
  { "rate_limited", { 429 } },
  { "last_owner", { 409 } },
  { "last_admin", { 409 } },
  { "audit_empty", { 409 } },
};

static const char *const push_codes[] = {
  "invalid_revision",  "bad_id",         "bad_signature",  "bad_clock", "unknown_parent",
  "checksum_mismatch", "device_revoked", "unknown_device", "forbidden", NULL,
};

static const char *const cursor_kinds[] = { "audit", "account", "project", "revision", "changes" };

/* ----- secrets -------------------------------------------------------------------------- */

/* The secrets the current request carries (passwords, refresh tokens, recovery codes): they
 * must never be logged, audited or sent back. */
static GPtrArray *secrets;

static void
collect_secrets (const char *body, gsize length)
{
  static const char *const fields[] = { "password", "refresh_token", "recovery_code" };
  g_autoptr (CpsJsonDocument) doc = NULL;
  const CpsJsonNode *root;

  g_ptr_array_set_size (secrets, 0);
  if (body == NULL)
    return;
  doc = cps_json_document_parse_copy (body, length, NULL, NULL);
  root = doc != NULL ? cps_json_document_get_root (doc) : NULL;
  if (cps_json_node_get_type (root) != CPS_JSON_OBJECT)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      const CpsJsonNode *node = cps_json_object_get (root, fields[i]);

      /* Short ones could turn up by chance (in an id, a time stamp). */
      if (cps_json_node_get_type (node) == CPS_JSON_STRING && node->n >= 8
          && strlen (node->v.string) == node->n)
        g_ptr_array_add (secrets, g_strdup (node->v.string));
    }
}

static const char *
find_secret (const char *text, gssize length)
{
  if (text == NULL || secrets == NULL)
    return NULL;
  for (guint i = 0; i < secrets->len; i++)
    {
      const char *secret = g_ptr_array_index (secrets, i);

      if (length < 0 ? strstr (text, secret) != NULL : g_strstr_len (text, length, secret) != NULL)
        return secret;
    }
  return NULL;
}

/* ----- logging -------------------------------------------------------------------------- */

static gboolean show_log;

/* The server logs every refused request with g_message(): dropped unless CPS_FUZZ_LOG is set.
 * Warnings and criticals fail the run as in the other targets (fuzz-common.h). */
static GLogWriterOutput
server_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, "MESSAGE") == 0 && fields[i].value != NULL
        && find_secret (fields[i].value, fields[i].length) != NULL)
      {
        g_log_writer_standard_streams (level, fields, n_fields, data);
        fuzz_fail ("a secret the request carried was logged (see above)");
      }
  if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) == 0)
    return show_log ? g_log_writer_standard_streams (level, fields, n_fields, data)
                    : G_LOG_WRITER_HANDLED;
  return fuzz_log_writer (level, fields, n_fields, data);
}

/* ----- set-up --------------------------------------------------------------------------- */

static void
must (gboolean ok, GError *error, const char *what)
{
  if (!ok)
    fuzz_fail ("set-up: %s failed: %s", what, error != NULL ? error->message : "(no error)");
}

static void
remove_data_dir (void)
{
  if (data_dir != NULL)
    cps_test_remove_tree (data_dir);
}

/* On tmpfs when there is one: storage commits with synchronous=FULL, and an fsync per request
 * would make the disk, not the parsers, the limit. */
static char *
make_data_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir;

  if (g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR))
    {
      dir = g_strdup ("/dev/shm/cps-fuzz-server-XXXXXX");
      if (g_mkdtemp (dir) != NULL)
        return dir;
      g_free (dir);
    }
  dir = g_dir_make_tmp ("cps-fuzz-server-XXXXXX", &error);
  must (dir != NULL, error, "making a data directory");
  return dir;
}

/* The memberships of the seeded accounts, as at the start. */
static void
restore_members (void)
{
  g_autoptr (GError) error = NULL;

  must (cps_storage_begin (storage, &error), error, "begin");
  for (guint i = 0; i < N_SEATS; i++)
    must (cps_storage_member_put (storage, PROJECT_ID, seats[i].account_id, seats[i].project_role,
                                  &error),
          error, "member_put");
  must (cps_storage_member_put (storage, ENCRYPTED_PROJECT_ID, seats[SEAT_ADMIN].account_id,
                                "owner", &error),
        error, "member_put");
  must (cps_storage_commit (storage, &error), error, "commit");
}

/* The seeded devices active again, with their access tokens. */
static void
restore_devices (void)
{
  g_autoptr (GError) error = NULL;

  must (cps_storage_begin (storage, &error), error, "begin");
  for (guint i = 0; i < N_SEATS; i++)
    {
      g_autoptr (CpsDeviceRecord) device
          = cps_storage_device_get (storage, seats[i].device_id, &error);
      g_autoptr (CpsTokenRecord) token = NULL;

      must (device != NULL, error, "device_get");
      if (g_strcmp0 (device->state, "active") != 0)
        {
          g_free (device->state);
          device->state = g_strdup ("active");
          g_clear_pointer (&device->revoked_at, g_free);
          g_clear_pointer (&device->revoked_by, g_free);
          g_clear_pointer (&device->revoke_reason, g_free);
          must (cps_storage_device_update (storage, device, &error), error, "device_update");
        }
      token = cps_storage_token_get (storage, seats[i].token_hash, &error);
      must (token != NULL, error, "token_get");
      if (token->state != CPS_TOKEN_ACTIVE)
        must (cps_storage_token_set_state (storage, seats[i].token_hash, CPS_TOKEN_ACTIVE, &error),
              error, "token_set_state");
    }
  must (cps_storage_commit (storage, &error), error, "commit");
}

/* The admin's TOTP enrolment pending, as at the start (a lucky code may have confirmed it). */
static void
restore_totp (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsAccountRecord) account = NULL;

  must (cps_storage_begin (storage, &error), error, "begin");
  account = cps_storage_account_get (storage, seats[SEAT_ADMIN].account_id, &error);
  must (account != NULL, error, "account_get");
  if (account->totp_secret != NULL || g_strcmp0 (account->totp_pending, totp_pending) != 0)
    {
      g_clear_pointer (&account->totp_secret, g_free);
      g_free (account->totp_pending);
      account->totp_pending = g_strdup (totp_pending);
      must (cps_storage_account_update (storage, account, &error), error, "account_update");
    }
  must (cps_storage_commit (storage, &error), error, "commit");
}

/* Sign-ins all come from one address, and TOTP codes from three accounts: without this, every
 * attempt after the 20th (5th) in 15 minutes would be answered 429 before the password or the
 * code is looked at. */
static void
clear_limit (const char *key)
{
  g_autoptr (GError) error = NULL;

  must (cps_storage_begin (storage, &error), error, "begin");
  must (cps_storage_ratelimit_clear (storage, key, &error), error, "ratelimit_clear");
  must (cps_storage_commit (storage, &error), error, "commit");
}

static void
seed_storage (void)
{
  g_autoptr (GError) error = NULL;
  guint8 random[24];
  g_autofree char *password = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *now = cps_now_rfc3339 ();
  gint64 now_s = g_get_real_time () / G_USEC_PER_SEC;
  char *no_heads[] = { NULL };

  /* Nobody knows the passwords: no input can sign in for real. */
  randombytes_buf (random, sizeof random);
  password = g_base64_encode (random, sizeof random);
  hash = cps_password_hash (password, &error);
  must (hash != NULL, error, "cps_password_hash");
  totp_pending = cps_totp_generate_secret ();

  must (cps_storage_begin (storage, &error), error, "begin");
  for (guint i = 0; i < N_SEATS; i++)
    {
      Seat *seat = &seats[i];
      guint8 seed[32];
      g_autofree char *public_key = NULL;
      g_autofree char *fingerprint = NULL;
      g_autofree char *session = g_uuid_string_random ();
      CpsAccountRecord account = {
        .id = (char *) seat->account_id,
        .username = (char *) seat->username,
        .role = (char *) seat->role,
        .password_hash = hash,
        .totp_pending = i == SEAT_ADMIN ? totp_pending : NULL,
        .created_at = now,
      };
      CpsDeviceRecord device = {
        .id = (char *) seat->device_id,
        .account_id = (char *) seat->account_id,
        .name = "fuzz",
        .platform = "fuzz",
        .client_version = "0",
        .state = "active",
        .registered_at = now,
      };
      CpsTokenRecord token = {
        .kind = CPS_TOKEN_ACCESS,
        .state = CPS_TOKEN_ACTIVE,
        .session_id = session,
        .account_id = (char *) seat->account_id,
        .device_id = (char *) seat->device_id,
        .created_at = now_s,
        .expires_at = now_s + 10 * 365 * 24 * 3600,
      };

      memset (seed, seat->seed_byte, sizeof seed);
      seat->key = cps_device_key_new_from_seed (seat->device_id, seed);
      public_key = cps_device_key_dup_public_key_base64 (seat->key);
      fingerprint = cps_key_fingerprint (public_key);
      device.public_key = public_key;
      device.key_fingerprint = fingerprint;
      seat->token = cps_token_generate ();
      seat->token_hash = cps_token_hash (seat->token);
      token.token_hash = seat->token_hash;

      must (cps_storage_account_insert (storage, &account, &error), error, "account_insert");
      must (cps_storage_device_insert (storage, &device, &error), error, "device_insert");
      must (cps_storage_token_insert (storage, &token, &error), error, "token_insert");
    }

  for (guint i = 0; i < 2; i++)
    {
      CpsProjectRecord project = {
        .id = i == 0 ? PROJECT_ID : ENCRYPTED_PROJECT_ID,
        .name = i == 0 ? "Fuzz night" : "Fuzz secret",
        .owner = (char *) seats[SEAT_ADMIN].account_id,
        .encrypted = i == 1,
        .created_at = now,
        .updated_at = now,
        .heads = no_heads,
      };

      must (cps_storage_project_insert (storage, &project, &error), error, "project_insert");
    }
  must (cps_storage_commit (storage, &error), error, "commit");
  restore_members ();
}

/* A revision of PROJECT_ID with SEED_DOCUMENT (changed by @change), signed by @seat's device. */
static char *
make_revision (SeatIndex seat, const char *parent_json, const char *created_at, const char *change)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsRevision) parent = NULL;
  g_autoptr (CpsRevision) revision = NULL;
  g_autoptr (CpsJsonDocument) document = NULL;
  g_autofree char *text = NULL;

  if (parent_json != NULL)
    {
      parent = cps_revision_new_from_string (parent_json, -1, &error);
      must (parent != NULL, error, "reading the parent revision");
    }
  text = g_strdup_printf ("{\"name\":\"Fuzz night\",\"change\":\"%s\","
                          "\"cameras\":[{\"name\":\"A\",\"watts\":45}]}",
                          change);
  document = cps_json_document_parse_copy (text, -1, NULL, &error);
  must (document != NULL, error, "parsing the seed document");
  revision = cps_revision_new_signed (PROJECT_ID, parent != NULL ? &parent : NULL,
                                      parent != NULL ? 1 : 0, seats[seat].key, created_at,
                                      cps_json_document_get_root (document), FALSE, &error);
  must (revision != NULL, error, "signing a revision");
  return cps_revision_to_json (revision, TRUE);
}

/* ----- one request ---------------------------------------------------------------------- */

typedef struct
{
  gint64 accounts;
  gint64 devices;
  gint64 revisions;
} Counts;

static Counts
count_rows (void)
{
  g_autoptr (GError) error = NULL;
  gint64 active = 0, pending = 0, revoked = 0;
  Counts counts;

  counts.accounts = cps_storage_account_count (storage, &error);
  must (counts.accounts >= 0 && error == NULL, error, "account_count");
  counts.revisions = cps_storage_revision_count (storage, &error);
  must (counts.revisions >= 0 && error == NULL, error, "revision_count");
  must (cps_storage_device_count_states (storage, &active, &pending, &revoked, &error), error,
        "device_count_states");
  counts.devices = active + pending + revoked;
  return counts;
}

static void
request_clear (CpsRequest *request)
{
  g_clear_pointer (&request->query, g_hash_table_unref);
  if (request->response != NULL)
    g_string_free (g_steal_pointer (&request->response), TRUE);
  g_clear_pointer (&request->headers, g_ptr_array_unref);
  g_clear_pointer (&request->caller, cps_caller_free);
}

static void
request_init (CpsRequest *request)
{
  memset (request, 0, sizeof *request);
  request->server = server;
  request->config = cps_server_get_config (server);
  request->storage = storage;
  request->peer_address = PEER_ADDRESS;
  request->received_at = g_get_real_time ();
}

static const char *
describe (const CpsRequest *request)
{
  static char text[256];

  g_snprintf (text, sizeof text, "%s %s", request->method ? request->method : "?",
              request->path ? request->path : "?");
  return text;
}

static void
check_header_text (const char *text, const char *what, const CpsRequest *request)
{
  if (text == NULL || *text == '\0')
    fuzz_fail ("%s: an empty or missing response header %s", describe (request), what);
  for (const char *p = text; *p; p++)
    if ((guchar) *p < 0x20 || (guchar) *p >= 0x7f)
      fuzz_fail ("%s: response header %s “%s” holds byte 0x%02x", describe (request), what, text,
                 (guchar) *p);
}

static gboolean
is_snake_case (const char *code)
{
  if (code == NULL || !g_ascii_islower (*code))
    return FALSE;
  for (const char *p = code; *p; p++)
    if (!g_ascii_islower (*p) && *p != '_' && !g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

static const CpsJsonNode *
member_of_type (const CpsJsonNode *object, const char *key, CpsJsonType type)
{
  const CpsJsonNode *node = cps_json_object_get (object, key);

  return node != NULL && cps_json_node_get_type (node) == type ? node : NULL;
}

/* The error object's shape, its code and status. */
static void
check_error_shape (const CpsRequest *request, const CpsJsonNode *root, const char *text)
{
  const CpsJsonNode *error = member_of_type (root, "error", CPS_JSON_OBJECT);
  const CpsJsonNode *code = error ? member_of_type (error, "code", CPS_JSON_STRING) : NULL;
  const CpsJsonNode *message = error ? member_of_type (error, "message", CPS_JSON_STRING) : NULL;
  const CpsJsonNode *details = error ? member_of_type (error, "details", CPS_JSON_OBJECT) : NULL;
  gboolean known = FALSE;

  if (root->n != 1 || error == NULL || error->n != 3 || code == NULL || message == NULL
      || details == NULL)
    fuzz_fail ("%s: %u answer without the contract's error shape: %s", describe (request),
               request->status, text);
  if (!is_snake_case (code->v.string))
    fuzz_fail ("%s: error code “%s” is not snake_case", describe (request), code->v.string);
  if (message->n == 0)
    fuzz_fail ("%s: error %s has an empty message", describe (request), code->v.string);
  if (g_strcmp0 (request->error_code, code->v.string) != 0)
    fuzz_fail ("%s: error_code “%s” but the body says “%s”", describe (request),
               request->error_code ? request->error_code : "(null)", code->v.string);
  for (guint i = 0; i < G_N_ELEMENTS (known_errors); i++)
    if (strcmp (known_errors[i].code, code->v.string) == 0)
      {
        for (guint j = 0; j < G_N_ELEMENTS (known_errors[i].statuses); j++)
          known = known || known_errors[i].statuses[j] == request->status;
        if (!known)
          fuzz_fail ("%s: error %s comes with status %u", describe (request), code->v.string,
                     request->status);
      }
  if (!known)
    fuzz_fail ("%s: undocumented error code %s (%u)", describe (request), code->v.string,
               request->status);
}

/* The answer as the HTTP core would send it. Returns the parsed body (NULL for 204). */
static CpsJsonDocument *
check_response (const CpsRequest *request)
{
  g_autoptr (GPtrArray) findings = cps_findings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc = NULL;
  const CpsJsonNode *root;
  guint status = request->status;
  const char *text;
  gsize length;

  if (status == 0)
    fuzz_fail ("%s: the handler gave no answer", describe (request));
  if (status >= 500)
    fuzz_fail ("%s: answered %u (%s) to client input: %s", describe (request), status,
               request->error_code ? request->error_code : "-",
               request->response ? request->response->str : "(no body)");
  if (!(status >= 200 && status < 300) && !(status >= 400 && status < 500))
    fuzz_fail ("%s: answered status %u", describe (request), status);

  if (request->headers != NULL)
    {
      if (request->headers->len % 2 != 0)
        fuzz_fail ("%s: response headers are not name, value pairs", describe (request));
      for (guint i = 0; i < request->headers->len; i++)
        check_header_text (g_ptr_array_index (request->headers, i), i % 2 ? "value" : "name",
                           request);
    }
  if (request->content_type != NULL)
    fuzz_fail ("%s: answered %s instead of JSON", describe (request), request->content_type);

  if (request->response == NULL)
    {
      if (status != 204)
        fuzz_fail ("%s: %u without a body", describe (request), status);
      return NULL;
    }
  if (status == 204)
    fuzz_fail ("%s: 204 with a body", describe (request));

  text = request->response->str;
  length = request->response->len;
  fuzz_check_text (text, length, "response");
  doc = cps_json_document_parse_copy (text, length, findings, &error);
  if (doc == NULL)
    fuzz_fail ("%s: the %u answer is not JSON (%s): %.*s", describe (request), status,
               error->message, (int) MIN (length, 2000), text);
  if (findings->len > 0)
    fuzz_fail ("%s: the %u answer has findings, first: %s: %.*s", describe (request), status,
               ((CpsFinding *) g_ptr_array_index (findings, 0))->message, (int) MIN (length, 2000),
               text);
  root = cps_json_document_get_root (doc);
  if (cps_json_node_get_type (root) != CPS_JSON_OBJECT)
    fuzz_fail ("%s: the %u answer is not a JSON object", describe (request), status);

  if (status >= 400)
    check_error_shape (request, root, text);
  else if (cps_json_object_get (root, "error") != NULL || request->error_code != NULL)
    fuzz_fail ("%s: %u answer carries an error: %s", describe (request), status, text);
  return g_steal_pointer (&doc);
}

/* A revision a push answered as accepted or duplicate is stored in that project, and reads
 * back as a revision with that id. */
static void
check_stored_revision (const char *project_id, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsRevisionRecord) record = cps_storage_revision_get (storage, project_id, id, &error);
  g_autoptr (CpsRevision) revision = NULL;

  if (record == NULL)
    fuzz_fail ("push: %s answered as stored, but it is not: %s", id,
               error ? error->message : "(no error)");
  revision = cps_revision_new_from_string (record->json, -1, &error);
  if (revision == NULL)
    fuzz_fail ("push: stored revision %s does not read back: %s", id, error->message);
  if (strcmp (cps_revision_get_id (revision), id) != 0
      || strcmp (cps_revision_get_project_id (revision), project_id) != 0)
    fuzz_fail ("push: stored revision %s reads back as %s of project %s", id,
               cps_revision_get_id (revision), cps_revision_get_project_id (revision));
}

/* A 200 push answer: one result per revision sent, each well formed; returns how many were
 * accepted. The body was cut by split_push_body() or parsed as a whole: either way it must be
 * a JSON object whose "revisions" array has as many items as there are results. */
static guint
check_push_reply (const CpsRequest *request, CpsJsonDocument *doc)
{
  g_autoptr (CpsJsonDocument) body = NULL;
  const CpsJsonNode *root = cps_json_document_get_root (doc);
  const CpsJsonNode *results = member_of_type (root, "results", CPS_JSON_ARRAY);
  const CpsJsonNode *heads = member_of_type (root, "heads", CPS_JSON_ARRAY);
  const CpsJsonNode *conflicted = member_of_type (root, "conflicted", CPS_JSON_BOOLEAN);
  const CpsJsonNode *sent;
  guint accepted = 0;

  if (results == NULL || heads == NULL || conflicted == NULL)
    fuzz_fail ("push: 200 without results, heads and conflicted: %s", request->response->str);
  if (conflicted->v.boolean != (heads->n > 1))
    fuzz_fail ("push: conflicted is %d with %u heads", conflicted->v.boolean, heads->n);
  for (guint i = 0; i < heads->n; i++)
    if (heads->v.items[i].type != CPS_JSON_STRING
        || !cps_checksum_is_valid (heads->v.items[i].v.string))
      fuzz_fail ("push: head %u is not a revision id", i);

  if (request->body == NULL)
    fuzz_fail ("push: 200 for a request without a body");
  body = cps_json_document_parse_copy (request->body, request->body_length, NULL, NULL);
  sent = body != NULL
             ? member_of_type (cps_json_document_get_root (body), "revisions", CPS_JSON_ARRAY)
             : NULL;
  if (sent == NULL)
    fuzz_fail ("push: 200 for a body that is not {\"revisions\": […]}: %.*s",
               (int) MIN (request->body_length, 2000), request->body ? request->body : "");
  if (sent->n != results->n)
    fuzz_fail ("push: %u revisions sent, %u results", sent->n, results->n);

  for (guint i = 0; i < results->n; i++)
    {
      const CpsJsonNode *result = &results->v.items[i];
      const CpsJsonNode *id = cps_json_object_get (result, "id");
      const char *status = cps_json_object_get_string (result, "status");
      const CpsJsonNode *error = cps_json_object_get (result, "error");
      const char *sent_id = cps_json_node_get_type (&sent->v.items[i]) == CPS_JSON_OBJECT
                                ? cps_json_object_get_string (&sent->v.items[i], "id")
                                : NULL;

      if (result->type != CPS_JSON_OBJECT || status == NULL || id == NULL
          || (id->type != CPS_JSON_STRING && id->type != CPS_JSON_NULL))
        fuzz_fail ("push: result %u is malformed: %s", i, request->response->str);
      if (strcmp (status, "accepted") == 0 || strcmp (status, "duplicate") == 0)
        {
          if (error != NULL || id->type != CPS_JSON_STRING || !cps_checksum_is_valid (id->v.string))
            fuzz_fail ("push: result %u is %s without a revision id, or with an error", i, status);
          if (sent_id == NULL || strcmp (sent_id, id->v.string) != 0)
            fuzz_fail ("push: result %u is %s under id %s, but the revision sent has id %s", i,
                       status, id->v.string, sent_id ? sent_id : "(none)");
          accepted += strcmp (status, "accepted") == 0;
          check_stored_revision (request->params[0], id->v.string);
        }
      else if (strcmp (status, "rejected") == 0)
        {
          const char *code = cps_json_object_get_string (error, "code");
          const char *message = cps_json_object_get_string (error, "message");

          if (code == NULL || message == NULL || *message == '\0'
              || !g_strv_contains (push_codes, code))
            fuzz_fail ("push: result %u is rejected without a documented code: %s", i,
                       request->response->str);
        }
      else
        fuzz_fail ("push: result %u has status “%s”", i, status);
    }

  /* The heads answered are the project's. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (CpsProjectRecord) project
        = cps_storage_project_get (storage, request->params[0], &error);
    guint n_heads;

    must (project != NULL, error, "project_get");
    n_heads = project->heads != NULL ? g_strv_length (project->heads) : 0;
    if (n_heads != heads->n || project->conflicted != conflicted->v.boolean)
      fuzz_fail ("push: answered %u heads, the project has %u", heads->n, n_heads);
    for (guint i = 0; i < n_heads; i++)
      if (strcmp (project->heads[i], heads->v.items[i].v.string) != 0)
        fuzz_fail ("push: answered head %s, the project has %s", heads->v.items[i].v.string,
                   project->heads[i]);
  }
  return accepted;
}

/* libsoup hands the core a path whose segments are percent-encoded: do the same. */
static void
append_segment (GString *path, const char *param, gsize length)
{
  for (gsize i = 0; i < length; i++)
    {
      guchar c = param[i];

      if (g_ascii_isalnum (c) || (c != 0 && strchr ("-._~", c) != NULL))
        g_string_append_c (path, c);
      else
        g_string_append_printf (path, "%%%02X", c);
    }
}

/* Whether the router must let @param through as a {} parameter. */
static gboolean
param_is_routable (const char *param, gsize length)
{
  return length > 0 && length <= 128 && memchr (param, '\0', length) == NULL
         && memchr (param, '/', length) == NULL && g_utf8_validate (param, length, NULL);
}

static const char *
take_line (const char **data, gsize *size, gsize *length)
{
  const char *line = *data;
  const char *end = memchr (line, '\n', *size);

  *length = end != NULL ? (gsize) (end - line) : *size;
  *data += end != NULL ? *length + 1 : *length;
  *size -= end != NULL ? *length + 1 : *length;
  return line;
}

/* The cursor decoder: what it accepts must encode back to itself, and whatever is encoded must
 * decode again. */
static void
fuzz_cursor (const char *data, gsize size)
{
  g_autofree char *value = NULL;
  g_autofree char *decoded = NULL;
  const char *kind;
  CpsRequest request;
  gboolean ok;

  if (size == 0)
    return;
  kind = cursor_kinds[(guchar) data[0] % G_N_ELEMENTS (cursor_kinds)];
  value = g_strndup (data + 1, size - 1); /* a query value never holds NUL */

  request_init (&request);
  request.method = "GET";
  request.path = "/v1/projects";
  request.query = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert (request.query, g_strdup ("cursor"), g_strdup (value));
  ok = cps_request_get_cursor (&request, kind, &decoded);
  if (ok)
    {
      if (request.status != 0)
        fuzz_fail ("cursor: accepted but answered %u", request.status);
      if ((*value == '\0') != (decoded == NULL))
        fuzz_fail ("cursor: “%s” decoded to %s", value, decoded ? decoded : "nothing");
      if (decoded != NULL)
        {
          g_autofree char *again = cps_cursor_encode (kind, decoded);
          g_autofree char *decoded_again = NULL;

          if (*decoded == '\0' || !g_utf8_validate (decoded, -1, NULL))
            fuzz_fail ("cursor: “%s” decoded to an empty or non-UTF-8 value", value);
          g_hash_table_insert (request.query, g_strdup ("cursor"), g_strdup (again));
          if (!cps_request_get_cursor (&request, kind, &decoded_again)
              || g_strcmp0 (decoded, decoded_again) != 0)
            fuzz_fail ("cursor: “%s” decodes to “%s”, which encodes to “%s”, which decodes to “%s”",
                       value, decoded, again, decoded_again ? decoded_again : "(refused)");
        }
    }
  else
    {
      g_autoptr (CpsJsonDocument) doc = NULL;
      const CpsJsonNode *details;

      if (decoded != NULL)
        fuzz_fail ("cursor: refused but gave a value");
      doc = check_response (&request);
      details = cps_json_object_get (
          cps_json_object_get (cps_json_document_get_root (doc), "error"), "details");
      if (request.status != 400 || g_strcmp0 (request.error_code, "invalid_request") != 0
          || g_strcmp0 (cps_json_object_get_string (details, "field"), "cursor") != 0)
        fuzz_fail ("cursor: refused with %u %s: %s", request.status, request.error_code,
                   request.response->str);
    }
  request_clear (&request);

  /* The other way round: any value a list could put in a cursor. */
  if (*value != '\0' && g_utf8_validate (value, -1, NULL) && strlen (kind) + strlen (value) < 300)
    {
      g_autofree char *encoded = cps_cursor_encode (kind, value);
      g_autofree char *back = NULL;

      request_init (&request);
      request.method = "GET";
      request.path = "/v1/projects";
      request.query = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_insert (request.query, g_strdup ("cursor"), g_strdup (encoded));
      if (!cps_request_get_cursor (&request, kind, &back) || g_strcmp0 (back, value) != 0)
        fuzz_fail ("cursor: “%s” encodes to “%s”, which decodes to “%s”", value, encoded,
                   back ? back : "(refused)");
      request_clear (&request);
    }
}

static gint64
audit_seq (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hash = NULL;
  gint64 seq = 0;

  must (cps_storage_audit_last (storage, &seq, &hash, &error), error, "audit_last");
  return seq;
}

/* The audit entries the request appended: details are JSON objects, and no secret the request
 * carried, nor the name typed in a failed sign-in of an unknown account, is in them. */
static void
check_new_audit (const CpsRequest *request, gint64 after_seq)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  CpsAuditFilter filter = { 0 };

  entries = cps_storage_audit_list (storage, &filter, after_seq, 1000, &error);
  must (entries != NULL, error, "audit_list");
  for (guint i = 0; i < entries->len; i++)
    {
      const CpsAuditRecord *entry = g_ptr_array_index (entries, i);
      g_autoptr (GPtrArray) findings = cps_findings_new ();
      g_autoptr (CpsJsonDocument) details = NULL;
      const char *secret;

      details = cps_json_document_parse_copy (entry->details_json, -1, findings, NULL);
      if (details == NULL || findings->len > 0
          || cps_json_node_get_type (cps_json_document_get_root (details)) != CPS_JSON_OBJECT)
        fuzz_fail ("%s: audit entry %" G_GINT64_FORMAT " (%s) has details that are not a JSON "
                   "object: %s",
                   describe (request), entry->seq, entry->action, entry->details_json);
      if ((secret = find_secret (entry->details_json, -1)) != NULL
          || (secret = find_secret (entry->target_id, -1)) != NULL)
        fuzz_fail ("%s: audit entry %" G_GINT64_FORMAT " (%s) holds the secret “%s”",
                   describe (request), entry->seq, entry->action, secret);
      if (strcmp (entry->action, "login.failed") == 0 && entry->target_id == NULL
          && g_strcmp0 (
                 cps_json_object_get_string (cps_json_document_get_root (details), "username"),
                 "(unknown)")
                 != 0)
        fuzz_fail ("%s: a failed sign-in of an unknown account audits the name typed: %s",
                   describe (request), entry->details_json);
    }
}

/* Runs the handler as run_job() does, then checks the transaction it leaves behind. */
static void
run_handler (CpsRequest *request, CpsHandlerFunc handler)
{
  g_autoptr (GError) error = NULL;

  handler (request);

  /* A handler that answered 2xx with its transaction still open would lose what it answered
   * for to the core's rollback; after 4xx that rollback is the design. */
  if (cps_storage_begin (storage, &error))
    cps_storage_rollback (storage);
  else if (request->status >= 200 && request->status < 300)
    fuzz_fail ("%s: answered %u with a transaction still open (%s)", describe (request),
               request->status, error->message);
  g_clear_error (&error);

  cps_storage_rollback (storage);
  if (!cps_storage_begin (storage, &error))
    fuzz_fail ("%s: a transaction is still open after the core's rollback: %s", describe (request),
               error->message);
  cps_storage_rollback (storage);
}

static void
fuzz_request (guint route_index, SeatIndex seat, const char *data, gsize size)
{
  const Route *route = &routes[route_index];
  g_autoptr (GString) path = g_string_new (NULL);
  g_autoptr (GPtrArray) params = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autofree char *body = NULL;
  g_autofree char *raw_query = NULL;
  g_autofree char *authorization = NULL;
  g_auto (GStrv) parts = g_strsplit (route->pattern + 1, "/", -1);
  CpsRouteMatch match = { 0 };
  gboolean routable = TRUE;
  gboolean matched;
  CpsRequest request;
  Counts before, after;
  gint64 seq_before;
  const char *secret;
  guint accepted = 0;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_string_append_c (path, '/');
      if (strcmp (parts[i], "{}") == 0)
        {
          gsize length;
          const char *param = take_line (&data, &size, &length);

          append_segment (path, param, length);
          routable = routable && param_is_routable (param, length);
          g_ptr_array_add (params, g_strndup (param, length));
        }
      else
        g_string_append (path, parts[i]);
    }
  routable = routable && path->len <= 1024;

  /* The router: it must take exactly the parameters the core promises handlers. */
  matched = cps_router_match (route->method, path->str, &match);
  if (matched != routable)
    fuzz_fail ("router: %s %s %s", route->method, path->str,
               matched ? "matched a parameter it must refuse" : "did not match");
  if (!matched)
    {
      cps_route_match_clear (&match);
      return;
    }
  if (match.route->handler != route->handler)
    fuzz_fail ("router: %s %s went to the wrong handler", route->method, path->str);
  for (guint i = 0; i < params->len; i++)
    if (match.params == NULL || g_strcmp0 (match.params[i], g_ptr_array_index (params, i)) != 0)
      fuzz_fail ("router: parameter %u of %s is “%s”, not “%s”", i, path->str,
                 match.params ? match.params[i] : "(none)", (char *) g_ptr_array_index (params, i));

  request_init (&request);
  request.method = route->method;
  request.path = path->str;
  request.params = (const char *const *) match.params;
  authorization = g_strconcat ("Bearer ", seats[seat].token, NULL);
  switch (route->kind)
    {
    case KIND_BODY:
      if (size > 0)
        {
          body = g_malloc (size + 1); /* the core's NUL-terminated copy */
          memcpy (body, data, size);
          body[size] = '\0';
          request.body = body;
          request.body_length = size;
        }
      break;
    case KIND_QUERY:
      if (size > 0)
        {
          raw_query = g_strndup (data, size);
          if (strlen (raw_query) > 4096) /* the core answers 414 itself */
            goto out;
          request.query = soup_form_decode (raw_query);
        }
      break;
    case KIND_AUTH:
      g_free (authorization);
      authorization = size > 0 ? g_strndup (data, size) : NULL;
      break;
    case KIND_CURSOR:
    default:
      g_assert_not_reached ();
    }
  request.authorization = authorization;

  if (route_index == ROUTE_LOGIN)
    clear_limit ("address:" PEER_ADDRESS);
  else if (route_index == ROUTE_TOTP_CONFIRM)
    {
      g_autofree char *key = g_strconcat ("totp:", seats[seat].account_id, NULL);

      clear_limit (key);
    }

  collect_secrets (request.body, request.body_length);
  before = count_rows ();
  seq_before = audit_seq ();
  run_handler (&request, route->handler);
  if (show_log)
    g_printerr ("%s as %s → %u %.300s\n", describe (&request), seats[seat].username, request.status,
                request.response ? request.response->str : "");
  doc = check_response (&request);
  if (request.response != NULL && (secret = find_secret (request.response->str, -1)) != NULL)
    fuzz_fail ("%s: the answer holds the secret “%s”: %s", describe (&request), secret,
               request.response->str);
  check_new_audit (&request, seq_before);
  if (route_index == ROUTE_PUSH && request.status == 200)
    accepted = check_push_reply (&request, doc);
  after = count_rows ();

  if (request.status >= 400
      && (after.accounts != before.accounts || after.devices != before.devices
          || after.revisions != before.revisions))
    fuzz_fail ("%s: refused with %u but stored something (accounts %" G_GINT64_FORMAT
               " → %" G_GINT64_FORMAT ", devices %" G_GINT64_FORMAT " → %" G_GINT64_FORMAT
               ", revisions %" G_GINT64_FORMAT " → %" G_GINT64_FORMAT ")",
               describe (&request), request.status, before.accounts, after.accounts, before.devices,
               after.devices, before.revisions, after.revisions);
  if (after.revisions - before.revisions != accepted)
    fuzz_fail ("%s: %u revisions accepted but %" G_GINT64_FORMAT " stored", describe (&request),
               accepted, after.revisions - before.revisions);
  if (after.accounts - before.accounts
      != (route_index == ROUTE_ACCOUNTS_CREATE && request.status == 201 ? 1 : 0))
    fuzz_fail ("%s: answered %u and the accounts went from %" G_GINT64_FORMAT
               " to %" G_GINT64_FORMAT,
               describe (&request), request.status, before.accounts, after.accounts);
  if (after.devices != before.devices)
    fuzz_fail ("%s: answered %u and the devices went from %" G_GINT64_FORMAT
               " to %" G_GINT64_FORMAT,
               describe (&request), request.status, before.devices, after.devices);

out:
  g_ptr_array_set_size (secrets, 0);
  request_clear (&request);
  cps_route_match_clear (&match);

  /* Put back what later inputs rely on. */
  if (route_index == ROUTE_DEVICE_REVOKE)
    restore_devices ();
  else if (route_index == ROUTE_MEMBER_PUT || route_index == ROUTE_MEMBER_DELETE)
    restore_members ();
  else if (route_index == ROUTE_TOTP_CONFIRM)
    restore_totp ();
}

/* ----- seeds ---------------------------------------------------------------------------- */

static void
write_seed (const char *dir, const char *name, char route_byte, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = g_strdup_printf ("%c%s", route_byte, text);

  must (g_file_set_contents (path, contents, -1, &error), error, path);
}

/* The route byte for @route as @seat: the high nibble 3 is the admin, 4 the member, 5 the
 * observer, so most seeds start with a digit or punctuation. */
static char
route_byte (guint route, SeatIndex seat)
{
  return (char) (((3 + seat) << 4) | route);
}

static void
write_seeds (const char *dir)
{
  g_autofree char *r2 = make_revision (SEAT_ADMIN, first_revision, LATER_CREATED_AT, "admin");
  g_autofree char *r3 = make_revision (SEAT_MEMBER, first_revision, LATER_CREATED_AT, "member");
  g_autofree char *r4 = make_revision (SEAT_MEMBER, r3, "2026-01-01T00:02:00.000Z", "merge");
  g_autofree char *text = NULL;
  g_autofree char *audit_cursor = cps_cursor_encode ("audit", "1");
  g_autofree char *changes_cursor = cps_cursor_encode ("changes", "0");
  g_autofree char *revision_cursor = cps_cursor_encode ("revision", "1");
  guint8 key[32];
  g_autofree char *public_key = NULL;

  g_mkdir_with_parents (dir, 0755);

  text = g_strdup_printf ("%s\n{\"revisions\":[%s]}", PROJECT_ID, r2);
  write_seed (dir, "push-one", route_byte (0, SEAT_ADMIN), text);
  g_clear_pointer (&text, g_free);
  /* Pretty-printed and two in a row by the member: the second names the first as parent. */
  text = g_strdup_printf ("%s\n{\n  \"revisions\": [\n    %s,\n    %s\n  ]\n}\n", PROJECT_ID, r3,
                          r4);
  write_seed (dir, "push-batch-member", route_byte (0, SEAT_MEMBER), text);
  g_clear_pointer (&text, g_free);
  /* Not the usual shape: read by the general path. */
  text = g_strdup_printf ("%s\n{\"note\":1,\"revisions\":[%s,{\"id\":\"sha256:%064d\"}]}",
                          PROJECT_ID, first_revision, 0);
  write_seed (dir, "push-general-path", route_byte (0, SEAT_ADMIN), text);
  g_clear_pointer (&text, g_free);
  text = g_strdup_printf ("%s\n{\"revisions\":[%s]}", ENCRYPTED_PROJECT_ID, r2);
  write_seed (dir, "push-wrong-project", route_byte (0, SEAT_ADMIN), text);
  g_clear_pointer (&text, g_free);

  text = g_strdup_printf ("{\"name\":\"Night shoot\",\"encrypted\":false,\"keys\":"
                          "[{\"account_id\":\"%s\",\"key_epoch\":1,\"wrapped_key\":\"AAAA\"}]}",
                          seats[SEAT_MEMBER].account_id);
  write_seed (dir, "projects-create", route_byte (1, SEAT_MEMBER), text);
  g_clear_pointer (&text, g_free);

  text = g_strdup_printf ("%s\n%s\n{\"role\":\"viewer\",\"wrapped_keys\":"
                          "[{\"key_epoch\":2,\"wrapped_key\":\"AAECAw==\"}]}",
                          PROJECT_ID, seats[SEAT_MEMBER].account_id);
  write_seed (dir, "member-put", route_byte (2, SEAT_ADMIN), text);
  g_clear_pointer (&text, g_free);

  write_seed (dir, "accounts-create", route_byte (3, SEAT_ADMIN),
              "{\"username\":\"gaffer\",\"password\":\"correct horse\",\"role\":\"member\"}");

  text = g_strdup_printf ("%s\n{\"reason\":\"lost on set\"}", seats[SEAT_MEMBER].device_id);
  write_seed (dir, "device-revoke", route_byte (4, SEAT_ADMIN), text);
  g_clear_pointer (&text, g_free);

  memset (key, 0x44, sizeof key);
  public_key = g_base64_encode (key, sizeof key);
  text = g_strdup_printf (
      "{\"username\":\"nobody\",\"password\":\"password123\",\"totp\":\"123456\","
      "\"device\":{\"name\":\"Laptop\",\"platform\":\"linux\","
      "\"client_version\":\"0.1\",\"public_key\":\"%s\"}}",
      public_key);
  write_seed (dir, "login", route_byte (5, SEAT_ADMIN), text);
  g_clear_pointer (&text, g_free);

  write_seed (dir, "refresh", route_byte (6, SEAT_ADMIN),
              "{\"refresh_token\":\"q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c\"}");
  write_seed (dir, "totp-confirm", route_byte (7, SEAT_ADMIN), "{\"code\":\"123456\"}");

  text
      = g_strdup_printf ("limit=5&action=push.rejected&actor=%s&device=%s"
                         "&from=2026-01-01T00:00:00Z&to=2099-01-01T00:00:00.000%%2B01:00&cursor=%s",
                         seats[SEAT_ADMIN].account_id, seats[SEAT_ADMIN].device_id, audit_cursor);
  write_seed (dir, "audit-query", route_byte (8, SEAT_ADMIN), text);
  g_clear_pointer (&text, g_free);

  text = g_strdup_printf ("since=%s&limit=10", changes_cursor);
  write_seed (dir, "changes-query", route_byte (9, SEAT_MEMBER), text);
  g_clear_pointer (&text, g_free);

  /* The first byte picks the kind: 'd' is 100, and 100 % 5 is 0, "audit". */
  text = g_strdup_printf ("d%s", audit_cursor);
  write_seed (dir, "cursor", route_byte (10, SEAT_ADMIN), text);
  g_clear_pointer (&text, g_free);

  write_seed (dir, "authorization", route_byte (11, SEAT_ADMIN),
              "Bearer AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE");

  text = g_strdup_printf ("%s\nlimit=1&cursor=%s", PROJECT_ID, revision_cursor);
  write_seed (dir, "revisions-list", route_byte (12, SEAT_OBSERVER), text);
  g_clear_pointer (&text, g_free);

  text = g_strdup_printf ("%s\n%s", PROJECT_ID, seats[SEAT_OBSERVER].account_id);
  write_seed (dir, "member-delete", route_byte (13, SEAT_ADMIN), text);
  g_clear_pointer (&text, g_free);

  write_seed (dir, "project-conflict", route_byte (14, SEAT_MEMBER), PROJECT_ID);
  write_seed (dir, "devices-list", route_byte (15, SEAT_ADMIN), "all=true");
}

/* ----- libFuzzer ------------------------------------------------------------------------ */

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *database = NULL;
  g_autofree char *body = NULL;
  g_autoptr (CpsJsonDocument) doc = NULL;
  CpsServerConfig *config;
  const char *seeds_dir = g_getenv ("CPS_FUZZ_SERVER_SEEDS");
  CpsRequest request;

  show_log = g_getenv ("CPS_FUZZ_LOG") != NULL;
  secrets = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (server_log_writer, NULL, NULL);

  data_dir = make_data_dir ();
  atexit (remove_data_dir);

  /* A server that is never started: the handlers need its key (audit checkpoints) and
   * metrics. It opens and migrates the database once; the target keeps its own connection,
   * as a worker thread does. */
  config = cps_server_config_new_defaults ();
  g_free (config->data_dir);
  config->data_dir = g_strdup (data_dir);
  config->workers = 1;
  server = cps_server_new (config, &error);
  must (server != NULL, error, "cps_server_new");
  database = cps_server_config_dup_database_path (cps_server_get_config (server));
  storage = cps_storage_open ("sqlite", database, &error);
  must (storage != NULL, error, "cps_storage_open");

  seed_storage ();

  /* The first revision goes in through the push handler itself. */
  first_revision = make_revision (SEAT_ADMIN, NULL, FIRST_CREATED_AT, "first");
  body = g_strdup_printf ("{\"revisions\":[%s]}", first_revision);
  request_init (&request);
  {
    g_autofree char *authorization = g_strconcat ("Bearer ", seats[SEAT_ADMIN].token, NULL);
    const char *params[] = { PROJECT_ID, NULL };

    request.method = "POST";
    request.path = "/v1/projects/" PROJECT_ID "/revisions";
    request.params = params;
    request.body = body;
    request.body_length = strlen (body);
    request.authorization = authorization;
    run_handler (&request, cps_handle_push);
    doc = check_response (&request);
    if (request.status != 200 || check_push_reply (&request, doc) != 1)
      fuzz_fail ("set-up: the first revision was not accepted: %u %s", request.status,
                 request.response ? request.response->str : "");
    request_clear (&request);
  }

  if (seeds_dir != NULL)
    {
      write_seeds (seeds_dir);
      exit (0);
    }
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  guint route;
  SeatIndex seat;

  if (size == 0)
    return 0;
  route = data[0] & 0x0f;
  seat = (SeatIndex) ((data[0] >> 4) % N_SEATS);
  if (route == ROUTE_CURSOR)
    fuzz_cursor ((const char *) data + 1, size - 1);
  else
    fuzz_request (route, seat, (const char *) data + 1, size - 1);
  return 0;
}
