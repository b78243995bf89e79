/* server-fixture.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A real cps-server ($CPS_SERVER) on a loopback port with a throwaway data
 * directory, and a small synchronous HTTP client for tests and benchmarks.
 */

#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "cps-device-key.h"
#include "cps-json.h"

G_BEGIN_DECLS

typedef struct
{
  char *data_dir;
  char *base_url;          /* http://127.0.0.1:PORT */
  GSubprocess *process;
  SoupSession *session;
  gboolean own_data_dir;   /* removed by cps_test_server_free() */
  char **extra_args;
} CpsTestServer;

typedef struct
{
  guint status;
  char *body;
  gsize length;
  CpsJsonDocument *json;   /* (nullable) when the body is JSON */
  char *retry_after;       /* (nullable) */
  char *content_type;      /* (nullable) */
  char *content_encoding;  /* (nullable) */
} CpsTestResponse;

typedef struct
{
  char *username;
  char *account_id;
  char *device_id;
  char *access_token;
  char *refresh_token;
  guint8 seed[32];
  CpsDeviceKey *key;       /* signs revisions as device_id */
} CpsTestClient;

/* Starts cps-server serve in @data_dir (NULL: a new temporary directory) with @extra_args
 * (NULL-terminated, nullable) and waits for its “listening on” line. */
CpsTestServer *cps_test_server_start (const char *data_dir, const char *const *extra_args);
/* SIGTERM (or SIGKILL when @kill) and wait; the data directory stays. */
void cps_test_server_stop (CpsTestServer *server, gboolean kill);
/* Starts it again on the same data directory (a new port). */
void cps_test_server_restart (CpsTestServer *server);
void cps_test_server_free (CpsTestServer *server);

/* Runs `cps-server ARGS…` (NULL-terminated) with @stdin_text; returns the exit status. */
int cps_test_server_command (const char *stdin_text, char **out, char **err, ...)
  G_GNUC_NULL_TERMINATED;
/* cps-server account add for @server's data directory (works while it runs). */
void cps_test_server_add_account (CpsTestServer *server, const char *username,
                                  const char *password, const char *role);

/* One request. @body (nullable) is sent as application/json; @token (nullable) as Bearer. */
CpsTestResponse *cps_test_request (CpsTestServer *server, const char *method, const char *path,
                                   const char *token, const char *body);
/* The same with raw control: extra headers as name, value pairs (NULL-terminated), and a body
 * of any bytes. */
CpsTestResponse *cps_test_request_full (CpsTestServer *server, const char *method,
                                        const char *path, const char *token,
                                        const void *body, gsize body_length,
                                        const char *const *headers);
void cps_test_response_free (CpsTestResponse *response);

/* Looks up a dotted path ("error.code", "account.id", "results.0.status") in the JSON. */
const CpsJsonNode *cps_test_json_get (CpsTestResponse *response, const char *path);
const char *cps_test_json_get_string (CpsTestResponse *response, const char *path);
gint64 cps_test_json_get_int (CpsTestResponse *response, const char *path);
/* Asserts the status and, for errors, the contract's error shape and code. */
void cps_test_assert_error (CpsTestResponse *response, guint status, const char *code);

/* Logs in with a fresh device key (asserting 200) and returns the session. */
CpsTestClient *cps_test_login (CpsTestServer *server, const char *username,
                               const char *password, const char *device_name);
/* Logs in with the given client's key again (same device), replacing its tokens. */
CpsTestResponse *cps_test_login_again (CpsTestServer *server, CpsTestClient *client,
                                       const char *password, const char *extra_json_members);
void cps_test_client_free (CpsTestClient *client);

/* Creates a project (asserting 201) and returns its id. */
char *cps_test_create_project (CpsTestServer *server, CpsTestClient *client, const char *name,
                               gboolean encrypted);
/* A signed revision JSON of @project_id on top of @parents (JSON texts of revisions, may be
 * NULL/empty) holding @document_json, by @client's device. */
char *cps_test_make_revision (CpsTestClient *client, const char *project_id,
                              const char *const *parent_jsons, const char *document_json);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsTestServer, cps_test_server_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsTestResponse, cps_test_response_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsTestClient, cps_test_client_free)

G_END_DECLS
