/* test-server-ops.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Operating a real cps-server: the audit log (every action, filters, paging,
 * exports verified offline, signed checkpoints), admin status, metrics, the
 * backup / rehearse-restore / check commands, TLS 1.3, the refusal of plain
 * HTTP off loopback, a graceful stop in the middle of a push storm and the
 * settings file.
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <sqlite3.h>

#include "cps-audit-chain.h"
#include "cps-credentials.h"
#include "cps-jcs.h"
#include "cps-revision.h"
#include "server-fixture.h"
#include "cps-test-util.h"

#define ADMIN_PASSWORD "admin pass Qx7-lantern-orbit"
#define BEA_PASSWORD "bea pass Vw3-harbor-quill"
#define WRONG_PASSWORD "wrong pass Zk9-never-valid"
#define DOC_MARKER "Doc-Secret-Marker-5b1e"
#define DOC_A "{\"project\":{\"name\":\"" DOC_MARKER "\",\"batteries\":2}}"
#define DOC_B "{\"project\":{\"name\":\"" DOC_MARKER "\",\"batteries\":3}}"
#define DOC_C "{\"project\":{\"name\":\"" DOC_MARKER "\",\"batteries\":4}}"
#define DOC_M "{\"project\":{\"name\":\"" DOC_MARKER "\",\"batteries\":5}}"
#define CSV_HEADER \
  "seq,at,action,actor_account,actor_device,target_type,target_id,details,prev_hash,hash"

typedef struct
{
  CpsTestServer *server;
  CpsTestClient *admin;
  /* Filled by populate(). */
  CpsTestClient *bea;   /* member, editor of the project */
  char *bea_id;
  char *project;
  char *rev_a;          /* JSON texts of the two revisions pushed */
  char *rev_b;
} Fixture;

/* ----- helpers ------------------------------------------------------------------------------ */

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  fixture->server = cps_test_server_start (NULL, data);
  cps_test_server_add_account (fixture->server, "admin", ADMIN_PASSWORD, "admin");
  fixture->admin = cps_test_login (fixture->server, "admin", ADMIN_PASSWORD, "Admin laptop");
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  cps_test_client_free (fixture->admin);
  cps_test_client_free (fixture->bea);
  g_free (fixture->bea_id);
  g_free (fixture->project);
  g_free (fixture->rev_a);
  g_free (fixture->rev_b);
  cps_test_server_free (fixture->server);
}

static char *
add_account (Fixture *fixture, const char *username, const char *password, const char *role)
{
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"%s\","
                                           "\"role\":\"%s\"}",
                                           username, password, role);
  g_autoptr(CpsTestResponse) response = cps_test_request (fixture->server, "POST", "/v1/accounts",
                                                          fixture->admin->access_token, body);

  g_assert_cmpuint (response->status, ==, 201);
  return g_strdup (cps_test_json_get_string (response, "id"));
}

static void
put_member (Fixture *fixture, const char *project, const char *account, const char *role)
{
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/members/%s", project, account);
  g_autofree char *body = g_strdup_printf ("{\"role\":\"%s\"}", role);
  g_autoptr(CpsTestResponse) response = cps_test_request (fixture->server, "PUT", path,
                                                          fixture->admin->access_token, body);

  if (response->status != 200)
    g_test_message ("%s", response->body);
  g_assert_cmpuint (response->status, ==, 200);
}

static char *
push_body (const char *const *revisions)
{
  GString *body = g_string_new ("{\"revisions\":[");

  for (guint i = 0; revisions[i] != NULL; i++)
    g_string_append_printf (body, "%s%s", i > 0 ? "," : "", revisions[i]);
  g_string_append (body, "]}");
  return g_string_free (body, FALSE);
}

static CpsTestResponse *
push (CpsTestServer *server, CpsTestClient *as, const char *project,
      const char *const *revisions)
{
  g_autofree char *body = push_body (revisions);
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions", project);

  return cps_test_request (server, "POST", path, as->access_token, body);
}

/* Pushes and asserts that every revision got @status (and @code for rejections). */
static void
push_expect (CpsTestServer *server, CpsTestClient *as, const char *project,
             const char *const *revisions, const char *status, const char *code)
{
  g_autoptr(CpsTestResponse) response = push (server, as, project, revisions);

  if (response->status != 200)
    g_test_message ("push: %u %s", response->status, response->body);
  g_assert_cmpuint (response->status, ==, 200);
  for (guint i = 0; revisions[i] != NULL; i++)
    {
      g_autofree char *status_path = g_strdup_printf ("results.%u.status", i);
      g_autofree char *code_path = g_strdup_printf ("results.%u.error.code", i);

      if (g_strcmp0 (cps_test_json_get_string (response, status_path), status) != 0)
        g_test_message ("push: %s", response->body);
      g_assert_cmpstr (cps_test_json_get_string (response, status_path), ==, status);
      g_assert_cmpstr (cps_test_json_get_string (response, code_path), ==, code);
    }
}

static char *
make_revision (CpsTestClient *client, const char *project, const char *parent,
               const char *document)
{
  const char *parents[] = { parent, NULL };

  return cps_test_make_revision (client, project, parent != NULL ? parents : NULL, document);
}

static char *
revision_id (const char *json)
{
  g_autoptr(CpsRevision) revision = cps_revision_new_from_string (json, -1, NULL);

  g_assert_nonnull (revision);
  return g_strdup (cps_revision_get_id (revision));
}

static char *
login_body (const char *username, const char *password)
{
  guint8 pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  g_autofree char *b64 = NULL;

  crypto_sign_keypair (pk, sk);
  sodium_memzero (sk, sizeof sk);
  b64 = g_base64_encode (pk, sizeof pk);
  return g_strdup_printf ("{\"username\":\"%s\",\"password\":\"%s\",\"device\":{\"name\":\"n\","
                          "\"platform\":\"p\",\"client_version\":\"1\",\"public_key\":\"%s\"}}",
                          username, password, b64);
}

static void
failed_login (Fixture *fixture, const char *username)
{
  g_autofree char *body = login_body (username, WRONG_PASSWORD);
  g_autoptr(CpsTestResponse) response = cps_test_request (fixture->server, "POST",
                                                          "/v1/auth/login", NULL, body);

  cps_test_assert_error (response, 401, "invalid_credentials");
}

/* A member account with a session, a project she edits, two revisions and a failed login. */
static void
populate (Fixture *fixture)
{
  const char *a_list[2] = { NULL, NULL }, *b_list[2] = { NULL, NULL };

  fixture->bea_id = add_account (fixture, "bea", BEA_PASSWORD, "member");
  fixture->bea = cps_test_login (fixture->server, "bea", BEA_PASSWORD, "DIT cart");
  fixture->project = cps_test_create_project (fixture->server, fixture->admin, "Night shoot",
                                              FALSE);
  put_member (fixture, fixture->project, fixture->bea_id, "editor");
  fixture->rev_a = make_revision (fixture->bea, fixture->project, NULL, DOC_A);
  a_list[0] = fixture->rev_a;
  push_expect (fixture->server, fixture->bea, fixture->project, a_list, "accepted", NULL);
  fixture->rev_b = make_revision (fixture->admin, fixture->project, fixture->rev_a, DOC_B);
  b_list[0] = fixture->rev_b;
  push_expect (fixture->server, fixture->admin, fixture->project, b_list, "accepted", NULL);
  failed_login (fixture, "bea");
}

static CpsTestResponse *
audit_get (Fixture *fixture, const char *token, const char *query)
{
  g_autofree char *path = g_strconcat ("/v1/audit", query != NULL ? "?" : "", query, NULL);

  return cps_test_request (fixture->server, "GET", path, token, NULL);
}

static const CpsJsonNode *
entries_of (CpsTestResponse *response)
{
  const CpsJsonNode *entries = cps_test_json_get (response, "entries");

  if (response->status != 200)
    g_test_message ("audit: %u %s", response->status, response->body);
  g_assert_cmpuint (response->status, ==, 200);
  g_assert_nonnull (entries);
  g_assert_cmpint (entries->type, ==, CPS_JSON_ARRAY);
  return entries;
}

static gint64
entry_seq (const CpsJsonNode *entry)
{
  const CpsJsonNode *seq = cps_json_object_get (entry, "seq");

  g_assert_nonnull (seq);
  g_assert_cmpint (seq->type, ==, CPS_JSON_NUMBER);
  return (gint64) seq->v.number;
}

static const char *
entry_string (const CpsJsonNode *entry, const char *key)
{
  return cps_json_object_get_string (entry, key);
}

static const char *
details_string (const CpsJsonNode *entry, const char *key)
{
  const CpsJsonNode *details = cps_json_object_get (entry, "details");

  g_assert_cmpint (cps_json_node_get_type (details), ==, CPS_JSON_OBJECT);
  return cps_json_object_get_string (details, key);
}

/* Every entry of @action (asserting there is at least one and that all carry it). */
static CpsTestResponse *
audit_action (Fixture *fixture, const char *action)
{
  g_autofree char *query = g_strdup_printf ("action=%s&limit=500", action);
  CpsTestResponse *response = audit_get (fixture, fixture->admin->access_token, query);
  const CpsJsonNode *entries = entries_of (response);

  if (entries->n == 0)
    g_test_message ("no audit entry for %s", action);
  g_assert_cmpuint (entries->n, >, 0);
  for (guint i = 0; i < entries->n; i++)
    g_assert_cmpstr (entry_string (&entries->v.items[i], "action"), ==, action);
  return response;
}

/* Follows next_cursor through every page of @query with @limit items a page; returns the seqs. */
static GArray *
audit_all_pages (Fixture *fixture, const char *query, guint limit)
{
  GArray *seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *cursor = NULL;
  guint pages = 0;

  for (;;)
    {
      g_autofree char *escaped = cursor != NULL ? g_uri_escape_string (cursor, NULL, FALSE)
                                                : NULL;
      g_autofree char *full = g_strdup_printf ("%s%slimit=%u%s%s", query != NULL ? query : "",
                                               query != NULL ? "&" : "", limit,
                                               cursor != NULL ? "&cursor=" : "",
                                               cursor != NULL ? escaped : "");
      g_autoptr(CpsTestResponse) page = audit_get (fixture, fixture->admin->access_token, full);
      const CpsJsonNode *entries = entries_of (page);
      const CpsJsonNode *next = cps_test_json_get (page, "next_cursor");

      g_assert_cmpuint (entries->n, <=, limit);
      for (guint i = 0; i < entries->n; i++)
        {
          gint64 seq = entry_seq (&entries->v.items[i]);

          g_array_append_val (seqs, seq);
        }
      g_assert_nonnull (next);
      g_clear_pointer (&cursor, g_free);
      if (next->type == CPS_JSON_NULL)
        break;
      g_assert_cmpint (next->type, ==, CPS_JSON_STRING);
      g_assert_cmpuint (entries->n, ==, limit);
      cursor = g_strdup (next->v.string);
      g_assert_cmpuint (++pages, <, 1000);
    }
  return seqs;
}

static CpsTestResponse *
export (Fixture *fixture, const char *format)
{
  g_autofree char *path = g_strdup_printf ("/v1/audit/export?format=%s", format);
  CpsTestResponse *response = cps_test_request (fixture->server, "GET", path,
                                                fixture->admin->access_token, NULL);

  if (response->status != 200)
    g_test_message ("export: %u %s", response->status, response->body);
  g_assert_cmpuint (response->status, ==, 200);
  return response;
}

static char *
current_code (const char *secret, gint64 offset_steps)
{
  return cps_totp_code (secret, g_get_real_time () / G_USEC_PER_SEC / 30 + offset_steps);
}

static char *
read_text (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

/* Runs `cps-server ARGS…` and returns its exit status, keeping its output. */
static int
command_argv (const char *const *args, char **out, char **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *stdout_text = NULL, *stderr_text = NULL;

  g_ptr_array_add (argv, (gpointer) g_getenv ("CPS_SERVER"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const char *const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                 G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &stdout_text, &stderr_text, &error);
  g_assert_no_error (error);
  g_test_message ("cps-server %s → %d\n%s%s", args[0], g_subprocess_get_exit_status (process),
                  stdout_text, stderr_text);
  if (out != NULL)
    *out = g_steal_pointer (&stdout_text);
  if (err != NULL)
    *err = g_steal_pointer (&stderr_text);
  return g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
}

/* Runs a program found in PATH in @cwd; returns its exit status. */
static int
run_tool (const char *cwd, const char *const *argv, char **out, char **err)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *stdout_text = NULL, *stderr_text = NULL;
  int wait_status = 0;

  /* Output is always captured: nothing may reach the TAP stream. */
  g_spawn_sync (cwd, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &stdout_text,
                &stderr_text, &wait_status, &error);
  g_assert_no_error (error);
  if (out != NULL)
    *out = g_steal_pointer (&stdout_text);
  if (err != NULL)
    *err = g_steal_pointer (&stderr_text);
  if (WIFEXITED (wait_status))
    return WEXITSTATUS (wait_status);
  return -1;
}

/* ----- serve, run briefly ------------------------------------------------------------------- */

typedef struct
{
  char *line;
  gboolean done;
  gboolean timed_out;
  GCancellable *cancellable;
} ProbeState;

static void
probe_line_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ProbeState *state = user_data;

  state->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                           NULL, NULL);
  state->done = TRUE;
}

static gboolean
probe_timeout_cb (gpointer user_data)
{
  ProbeState *state = user_data;

  state->timed_out = TRUE;
  g_cancellable_cancel (state->cancellable);
  return G_SOURCE_REMOVE;
}

/* Starts `cps-server serve ARGS…`, waits (at most 20 s) for its first line of output, and
 * stops it with SIGTERM if it started. Returns its exit status; @first_line gets that line
 * (NULL when it exited without one) and @err_text its standard error. */
static int
serve_probe (const char *const *args, char **first_line, char **err_text)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *rest = NULL, *errors = NULL;
  ProbeState state = { NULL, FALSE, FALSE, cancellable };
  guint timeout_id;

  g_ptr_array_add (argv, (gpointer) g_getenv ("CPS_SERVER"));
  g_ptr_array_add (argv, "serve");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const char *const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (out), FALSE);
  timeout_id = g_timeout_add_seconds (20, probe_timeout_cb, &state);
  g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, cancellable, probe_line_cb,
                                       &state);
  while (!state.done)
    g_main_context_iteration (NULL, TRUE);
  if (!state.timed_out)
    g_source_remove (timeout_id);

  if (state.timed_out)
    g_subprocess_force_exit (process);
  else if (state.line != NULL && g_str_has_prefix (state.line, "listening on "))
    g_subprocess_send_signal (process, SIGTERM);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &rest, &errors, &error);
  g_assert_no_error (error);
  g_test_message ("cps-server serve → %s\n%s", state.line != NULL ? state.line : "(no line)",
                  errors);
  g_assert_false (state.timed_out);

  *first_line = state.line;
  if (err_text != NULL)
    *err_text = g_steal_pointer (&errors);
  return g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
}

/* ----- secrets ------------------------------------------------------------------------------ */

/* Whether @needle occurs in @length bytes of @data (which may hold NULs). */
static gboolean
contains_bytes (const char *data, gsize length, const char *needle)
{
  gsize n = strlen (needle);

  if (n == 0 || n > length)
    return n == 0;
  for (gsize i = 0; i + n <= length; i++)
    if (data[i] == needle[0] && memcmp (data + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

static void
assert_no_secrets (const char *what, const char *text, gsize length, GPtrArray *secrets)
{
  for (guint i = 0; i < secrets->len; i++)
    {
      const char *secret = g_ptr_array_index (secrets, i);

      if (contains_bytes (text, length, secret))
        g_error ("%s holds the secret “%s”", what, secret);
    }
}

static void
add_secret (GPtrArray *secrets, const char *secret)
{
  g_assert_nonnull (secret);
  g_assert_cmpuint (strlen (secret), >=, 6);
  g_ptr_array_add (secrets, g_strdup (secret));
}

/* A 6-digit code could occur by chance inside a hash; as a JSON string it cannot. */
static void
add_code_secret (GPtrArray *secrets, const char *code)
{
  g_ptr_array_add (secrets, g_strdup_printf ("\"%s\"", code));
}

/* ----- tests: audit ------------------------------------------------------------------------- */

static void
test_audit_actions (Fixture *fixture, gconstpointer data)
{
  static const char *const actions[] = {
    "account.created", "login.succeeded", "login.failed", "device.registered",
    "project.created", "member.added", "member.removed", "push.accepted", "push.rejected",
    "conflict.opened", "conflict.resolved", "device.revoked", "session.refreshed",
    "session.revoked", "totp.enabled", "totp.disabled", "recovery_code.used",
    "audit.exported",
  };
  g_autoptr(GPtrArray) secrets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(CpsTestClient) spare = NULL;
  g_autoptr(CpsTestResponse) refresh = NULL, logout = NULL, revoke = NULL, begin = NULL;
  g_autoptr(CpsTestResponse) confirm = NULL, recovery = NULL, disable = NULL, removed = NULL;
  g_autoptr(CpsTestResponse) jsonl = NULL, csv = NULL, full = NULL, forbidden = NULL;
  g_autoptr(CpsTestResponse) anonymous = NULL;
  g_autofree char *rev_c = NULL, *rev_m = NULL, *rev_x = NULL, *rev_y = NULL;
  g_autofree char *body = NULL, *path = NULL, *secret = NULL, *code = NULL;
  g_autofree char *log_path = NULL, *log = NULL;
  const CpsJsonNode *codes, *all;
  gsize log_length = 0;

  populate (fixture);
  add_secret (secrets, ADMIN_PASSWORD);
  add_secret (secrets, BEA_PASSWORD);
  add_secret (secrets, WRONG_PASSWORD);
  add_secret (secrets, DOC_MARKER);
  add_secret (secrets, fixture->admin->access_token);
  add_secret (secrets, fixture->admin->refresh_token);
  add_secret (secrets, fixture->bea->access_token);
  add_secret (secrets, fixture->bea->refresh_token);

  /* A conflict (B by the admin and C by Bea on top of A), then Bea's merge resolves it. */
  {
    const char *c_list[2] = { NULL, NULL }, *m_list[2] = { NULL, NULL };
    const char *heads[3] = { fixture->rev_b, NULL, NULL };

    rev_c = make_revision (fixture->bea, fixture->project, fixture->rev_a, DOC_C);
    c_list[0] = rev_c;
    push_expect (fixture->server, fixture->bea, fixture->project, c_list, "accepted", NULL);
    heads[1] = rev_c;
    rev_m = cps_test_make_revision (fixture->bea, fixture->project, heads, DOC_M);
    m_list[0] = rev_m;
    push_expect (fixture->server, fixture->bea, fixture->project, m_list, "accepted", NULL);
  }
  /* Y's parent X was never pushed. */
  {
    const char *y_list[2] = { NULL, NULL };

    rev_x = make_revision (fixture->bea, fixture->project, rev_m, DOC_A);
    rev_y = make_revision (fixture->bea, fixture->project, rev_x, DOC_B);
    y_list[0] = rev_y;
    push_expect (fixture->server, fixture->bea, fixture->project, y_list, "rejected",
                 "unknown_parent");
  }

  /* Sessions: Bea refreshes, then signs out. */
  body = g_strdup_printf ("{\"refresh_token\":\"%s\"}", fixture->bea->refresh_token);
  refresh = cps_test_request (fixture->server, "POST", "/v1/auth/refresh", NULL, body);
  g_assert_cmpuint (refresh->status, ==, 200);
  add_secret (secrets, cps_test_json_get_string (refresh, "access_token"));
  add_secret (secrets, cps_test_json_get_string (refresh, "refresh_token"));
  logout = cps_test_request (fixture->server, "POST", "/v1/auth/logout",
                            cps_test_json_get_string (refresh, "access_token"), NULL);
  g_assert_cmpuint (logout->status, ==, 204);

  /* A second device of the admin, revoked. */
  spare = cps_test_login (fixture->server, "admin", ADMIN_PASSWORD, "Spare phone");
  add_secret (secrets, spare->access_token);
  add_secret (secrets, spare->refresh_token);
  g_free (path);
  path = g_strdup_printf ("/v1/devices/%s/revoke", spare->device_id);
  revoke = cps_test_request (fixture->server, "POST", path, fixture->admin->access_token,
                            "{\"reason\":\"Left in a taxi\"}");
  g_assert_cmpuint (revoke->status, ==, 200);

  /* MFA on, a sign-in with a recovery code, MFA off. */
  begin = cps_test_request (fixture->server, "POST", "/v1/auth/totp",
                           fixture->admin->access_token, NULL);
  g_assert_cmpuint (begin->status, ==, 200);
  secret = g_strdup (cps_test_json_get_string (begin, "secret"));
  add_secret (secrets, secret);
  /* This step's code confirms (still valid if the step turns meanwhile), the next one
   * disables: a code is never accepted twice. */
  code = current_code (secret, 0);
  add_code_secret (secrets, code);
  g_free (body);
  body = g_strdup_printf ("{\"code\":\"%s\"}", code);
  confirm = cps_test_request (fixture->server, "POST", "/v1/auth/totp/confirm",
                             fixture->admin->access_token, body);
  g_assert_cmpuint (confirm->status, ==, 200);
  codes = cps_test_json_get (confirm, "recovery_codes");
  g_assert_nonnull (codes);
  g_assert_cmpuint (codes->n, ==, 10);
  for (guint i = 0; i < codes->n; i++)
    add_secret (secrets, codes->v.items[i].v.string);
  g_free (body);
  body = g_strdup_printf ("\"recovery_code\":\"%s\"", codes->v.items[3].v.string);
  recovery = cps_test_login_again (fixture->server, fixture->admin, ADMIN_PASSWORD, body);
  g_assert_cmpuint (recovery->status, ==, 200);
  add_secret (secrets, fixture->admin->access_token);
  add_secret (secrets, fixture->admin->refresh_token);
  g_free (code);
  code = current_code (secret, 1);
  add_code_secret (secrets, code);
  g_free (body);
  body = g_strdup_printf ("{\"code\":\"%s\"}", code);
  disable = cps_test_request (fixture->server, "DELETE", "/v1/auth/totp",
                             fixture->admin->access_token, body);
  g_assert_cmpuint (disable->status, ==, 204);

  g_free (path);
  path = g_strdup_printf ("/v1/projects/%s/members/%s", fixture->project, fixture->bea_id);
  removed = cps_test_request (fixture->server, "DELETE", path, fixture->admin->access_token,
                             NULL);
  g_assert_cmpuint (removed->status, ==, 204);

  jsonl = export (fixture, "jsonl");

  /* Every action is there, under its own filter. */
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      g_autoptr(CpsTestResponse) found = audit_action (fixture, actions[i]);

      g_test_message ("%s: %u", actions[i], cps_test_json_get (found, "entries")->n);
    }

  /* A few of them in detail. */
  {
    g_autoptr(CpsTestResponse) created = audit_action (fixture, "account.created");
    g_autoptr(CpsTestResponse) failed = audit_action (fixture, "login.failed");
    g_autoptr(CpsTestResponse) pushed = audit_action (fixture, "push.accepted");
    g_autoptr(CpsTestResponse) rejected = audit_action (fixture, "push.rejected");
    g_autoptr(CpsTestResponse) revoked = audit_action (fixture, "device.revoked");
    g_autoptr(CpsTestResponse) opened = audit_action (fixture, "conflict.opened");
    g_autoptr(CpsTestResponse) resolved = audit_action (fixture, "conflict.resolved");
    const CpsJsonNode *bea_created;
    const CpsJsonNode *entry;

    /* The first admin came from the command line, with no actor. */
    g_assert_cmpuint (cps_test_json_get (created, "entries")->n, ==, 2);
    bea_created = &cps_test_json_get (created, "entries")->v.items[1];
    g_assert_cmpint (cps_json_node_get_type (cps_test_json_get (created,
                                                                "entries.0.actor_account")),
                     ==, CPS_JSON_NULL);
    g_assert_cmpstr (entry_string (bea_created, "actor_account"), ==,
                     fixture->admin->account_id);
    g_assert_cmpstr (entry_string (bea_created, "target_type"), ==, "account");
    g_assert_cmpstr (entry_string (bea_created, "target_id"), ==, fixture->bea_id);

    entry = &cps_test_json_get (failed, "entries")->v.items[0];
    g_assert_cmpstr (entry_string (entry, "target_id"), ==, fixture->bea_id);
    g_assert_cmpstr (details_string (entry, "reason"), ==, "invalid_credentials");

    entry = &cps_test_json_get (pushed, "entries")->v.items[0];
    g_assert_cmpuint (cps_test_json_get (pushed, "entries")->n, ==, 4);
    g_assert_cmpstr (entry_string (entry, "actor_account"), ==, fixture->bea_id);
    g_assert_cmpstr (entry_string (entry, "actor_device"), ==, fixture->bea->device_id);
    g_assert_cmpstr (entry_string (entry, "target_id"), ==, fixture->project);

    entry = &cps_test_json_get (rejected, "entries")->v.items[0];
    g_assert_cmpuint (cps_test_json_get (rejected, "entries")->n, ==, 1);
    g_assert_cmpstr (entry_string (entry, "target_id"), ==, fixture->project);
    g_assert_cmpstr (entry_string (entry, "actor_device"), ==, fixture->bea->device_id);

    entry = &cps_test_json_get (revoked, "entries")->v.items[0];
    g_assert_cmpstr (entry_string (entry, "target_id"), ==, spare->device_id);
    g_assert_cmpuint (cps_test_json_get (opened, "entries")->n, ==, 1);
    g_assert_cmpuint (cps_test_json_get (resolved, "entries")->n, ==, 1);
    g_assert_cmpint (cps_test_json_get_int (opened, "entries.0.seq"), <,
                     cps_test_json_get_int (resolved, "entries.0.seq"));
  }

  /* Filters, compared with the whole list. */
  full = audit_get (fixture, fixture->admin->access_token, "limit=500");
  all = entries_of (full);
  g_assert_cmpint (cps_test_json_get (full, "next_cursor")->type, ==, CPS_JSON_NULL);
  g_assert_cmpuint (all->n, >, 20);
  for (guint i = 0; i < all->n; i++)
    g_assert_cmpint (entry_seq (&all->v.items[i]), ==, i + 1);
  {
    struct
    {
      const char *key;
      const char *value;
      const char *member;
    } by[] = {
      { "actor", fixture->bea_id, "actor_account" },
      { "device", fixture->bea->device_id, "actor_device" },
      { "actor", fixture->admin->account_id, "actor_account" },
    };

    for (guint f = 0; f < G_N_ELEMENTS (by); f++)
      {
        g_autofree char *query = g_strdup_printf ("%s=%s&limit=500", by[f].key, by[f].value);
        g_autoptr(CpsTestResponse) filtered = audit_get (fixture, fixture->admin->access_token,
                                                         query);
        const CpsJsonNode *entries = entries_of (filtered);
        guint expected = 0;

        for (guint i = 0; i < all->n; i++)
          if (g_strcmp0 (entry_string (&all->v.items[i], by[f].member), by[f].value) == 0)
            expected++;
        g_assert_cmpuint (expected, >, 2);
        g_assert_cmpuint (entries->n, ==, expected);
        for (guint i = 0; i < entries->n; i++)
          g_assert_cmpstr (entry_string (&entries->v.items[i], by[f].member), ==, by[f].value);
      }
  }
  {
    g_autofree char *query = g_strdup_printf ("action=push.accepted&actor=%s", fixture->bea_id);
    g_autoptr(CpsTestResponse) filtered = audit_get (fixture, fixture->admin->access_token,
                                                     query);

    /* A, C and M were Bea's; B was the admin's. */
    g_assert_cmpuint (entries_of (filtered)->n, ==, 3);
  }
  {
    const char *middle = entry_string (&all->v.items[all->n / 2], "at");
    const char *late = entry_string (&all->v.items[all->n - 3], "at");
    g_autofree char *m = g_uri_escape_string (middle, NULL, FALSE);
    g_autofree char *l = g_uri_escape_string (late, NULL, FALSE);
    g_autofree char *q_from = g_strdup_printf ("from=%s&limit=500", m);
    g_autofree char *q_to = g_strdup_printf ("to=%s&limit=500", m);
    g_autofree char *q_both = g_strdup_printf ("from=%s&to=%s&limit=500", m, l);
    g_autoptr(CpsTestResponse) r_from = audit_get (fixture, fixture->admin->access_token, q_from);
    g_autoptr(CpsTestResponse) r_to = audit_get (fixture, fixture->admin->access_token, q_to);
    g_autoptr(CpsTestResponse) r_both = NULL;
    guint n_from = 0, n_to = 0, n_both = 0;

    for (guint i = 0; i < all->n; i++)
      {
        const char *at = entry_string (&all->v.items[i], "at");

        if (strcmp (at, middle) >= 0)
          n_from++;
        else
          n_to++;
        if (strcmp (at, middle) >= 0 && strcmp (at, late) < 0)
          n_both++;
      }
    g_assert_cmpuint (entries_of (r_from)->n, ==, n_from);
    g_assert_cmpuint (entries_of (r_to)->n, ==, n_to);
    g_assert_cmpuint (n_from + n_to, ==, all->n);
    g_assert_cmpuint (n_from, >, 0);
    g_assert_cmpuint (n_to, >, 0);
    if (strcmp (middle, late) < 0)
      {
        r_both = audit_get (fixture, fixture->admin->access_token, q_both);
        g_assert_cmpuint (entries_of (r_both)->n, ==, n_both);
      }
  }

  /* Paging: the same entries, in order, once each. */
  {
    g_autoptr(GArray) paged = audit_all_pages (fixture, NULL, 4);
    g_autoptr(GArray) one_by_one = audit_all_pages (fixture, "action=push.accepted", 1);
    g_autoptr(CpsTestResponse) pushed = audit_action (fixture, "push.accepted");

    g_assert_cmpuint (paged->len, ==, all->n);
    for (guint i = 0; i < paged->len; i++)
      g_assert_cmpint (g_array_index (paged, gint64, i), ==, entry_seq (&all->v.items[i]));
    g_assert_cmpuint (one_by_one->len, ==, 4);
    for (guint i = 0; i < one_by_one->len; i++)
      g_assert_cmpint (g_array_index (one_by_one, gint64, i), ==,
                       entry_seq (&cps_test_json_get (pushed, "entries")->v.items[i]));
  }
  {
    g_autoptr(CpsTestResponse) first = audit_get (fixture, fixture->admin->access_token,
                                                  "limit=5");

    g_assert_cmpuint (entries_of (first)->n, ==, 5);
    g_assert_cmpint (cps_test_json_get_int (first, "entries.4.seq"), ==, 5);
    g_assert_nonnull (cps_test_json_get_string (first, "next_cursor"));
  }

  /* Bad filters. */
  {
    static const struct
    {
      const char *query;
      const char *field;
    } bad[] = {
      { "action=Login.Failed", "action" },
      { "action=login%3Bfailed", "action" },
      { "action=login%20failed", "action" },
      { "actor=not-a-uuid", "actor" },
      { "actor=00000000-0000-4000-8000-00000000000G", "actor" },
      { "device=12345", "device" },
      { "from=yesterday", "from" },
      { "from=2026-03-01", "from" },
      { "to=2026-13-01T00:00:00Z", "to" },
      { "from=2026-03-02T00:00:00.000Z&to=2026-03-01T00:00:00.000Z", "to" },
      { "limit=0", "limit" },
      { "limit=501", "limit" },
      { "limit=ten", "limit" },
      { "cursor=bm9wZQ", "cursor" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(CpsTestResponse) response = audit_get (fixture, fixture->admin->access_token,
                                                         bad[i].query);

        g_test_message ("bad filter %s", bad[i].query);
        cps_test_assert_error (response, 400, "invalid_request");
        if (bad[i].field != NULL)
          g_assert_cmpstr (cps_test_json_get_string (response, "error.details.field"), ==,
                           bad[i].field);
      }
  }

  /* Only admins read the audit log. */
  {
    g_autoptr(CpsTestResponse) again = cps_test_login_again (fixture->server, fixture->bea,
                                                             BEA_PASSWORD, NULL);
    g_autoptr(CpsTestResponse) export_denied = NULL;

    g_assert_cmpuint (again->status, ==, 200);
    add_secret (secrets, fixture->bea->access_token);
    add_secret (secrets, fixture->bea->refresh_token);
    forbidden = audit_get (fixture, fixture->bea->access_token, NULL);
    cps_test_assert_error (forbidden, 403, "forbidden");
    export_denied = cps_test_request (fixture->server, "GET", "/v1/audit/export?format=jsonl",
                                      fixture->bea->access_token, NULL);
    cps_test_assert_error (export_denied, 403, "forbidden");
    anonymous = audit_get (fixture, NULL, NULL);
    cps_test_assert_error (anonymous, 401, "unauthorized");
  }

  /* No secret anywhere in what the audit log holds, nor in the server's log. */
  g_clear_pointer (&full, cps_test_response_free);
  full = audit_get (fixture, fixture->admin->access_token, "limit=500");
  g_clear_pointer (&jsonl, cps_test_response_free);
  jsonl = export (fixture, "jsonl");
  csv = export (fixture, "csv");
  assert_no_secrets ("The audit list", full->body, full->length, secrets);
  assert_no_secrets ("The JSON Lines export", jsonl->body, jsonl->length, secrets);
  assert_no_secrets ("The CSV export", csv->body, csv->length, secrets);
  /* The search itself finds what it looks for. */
  g_assert_nonnull (strstr (jsonl->body, fixture->project));
  g_assert_nonnull (strstr (csv->body, fixture->bea_id));
  log_path = g_build_filename (fixture->server->data_dir, "server.log", NULL);
  g_file_get_contents (log_path, &log, &log_length, NULL);
  g_assert_nonnull (log);
  assert_no_secrets ("The server log", log, log_length, secrets);
}

/* The hash of an export line recomputed here, without cps_audit_chain_hash(). */
static char *
recompute_hash (const char *prev_hash, const CpsJsonNode *entry)
{
  static const char *const hashed[] = {
    "seq", "at", "action", "actor_account", "actor_device", "target_type", "target_id",
    "details",
  };
  g_autofree CpsJsonMember *members = g_new0 (CpsJsonMember, entry->n);
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *jcs = NULL, *hex = NULL;
  CpsJsonNode stripped = { 0 };
  gsize length = 0;

  stripped.type = CPS_JSON_OBJECT;
  stripped.v.members = members;
  for (guint i = 0; i < entry->n; i++)
    if (strcmp (entry->v.members[i].key, "prev_hash") != 0 &&
        strcmp (entry->v.members[i].key, "hash") != 0)
      members[stripped.n++] = entry->v.members[i];
  /* Exactly the members the contract hashes. */
  g_assert_cmpuint (stripped.n, ==, G_N_ELEMENTS (hashed));
  for (guint i = 0; i < G_N_ELEMENTS (hashed); i++)
    g_assert_nonnull (cps_json_object_get (&stripped, hashed[i]));

  jcs = cps_jcs_to_string (&stripped, &length, &error);
  g_assert_no_error (error);
  g_byte_array_append (bytes, (const guint8 *) prev_hash, strlen (prev_hash));
  g_byte_array_append (bytes, (const guint8 *) jcs, length);
  hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, bytes->data, bytes->len);
  return g_strconcat ("sha256:", hex, NULL);
}

/* Checks a whole JSON Lines export both ways; returns its hashes by seq (index 0 = seq 1). */
static GPtrArray *
verify_jsonl (const char *text, gsize length)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) hashes = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *head = NULL;
  g_autofree char *prev = g_strdup ("sha256:" "0000000000000000000000000000000000000000000000000000000000000000");
  g_auto(GStrv) lines = NULL;
  gint64 n_entries = 0;

  g_assert_cmpstr (prev, ==, CPS_AUDIT_CHAIN_GENESIS);
  g_assert_true (cps_audit_chain_verify_jsonl (text, length, problems, &n_entries, &head,
                                               &error));
  g_assert_no_error (error);
  for (guint i = 0; i < problems->len; i++)
    g_test_message ("chain problem: %s", (char *) g_ptr_array_index (problems, i));
  g_assert_cmpuint (problems->len, ==, 0);

  g_assert_true (length > 0 && text[length - 1] == '\n');
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      g_autoptr(CpsJsonDocument) doc = cps_json_document_parse_copy (lines[i], -1, NULL, &error);
      g_autofree char *computed = NULL;
      const CpsJsonNode *entry;

      g_assert_no_error (error);
      entry = cps_json_document_get_root (doc);
      g_assert_cmpint (entry_seq (entry), ==, i + 1);
      g_assert_cmpstr (entry_string (entry, "prev_hash"), ==, prev);
      computed = recompute_hash (prev, entry);
      g_assert_cmpstr (computed, ==, entry_string (entry, "hash"));
      g_assert_cmpint (cps_json_node_get_type (cps_json_object_get (entry, "details")), ==,
                       CPS_JSON_OBJECT);
      g_free (prev);
      prev = g_steal_pointer (&computed);
      g_ptr_array_add (hashes, g_strdup (prev));
    }
  g_assert_cmpint (n_entries, ==, hashes->len);
  g_assert_cmpstr (head, ==, prev);
  return g_steal_pointer (&hashes);
}

/* RFC 4180 rows (each a GPtrArray of fields). */
static GPtrArray *
parse_csv (const char *text)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  GPtrArray *row = g_ptr_array_new_with_free_func (g_free);
  GString *field = g_string_new (NULL);
  gboolean quoted = FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (quoted)
        {
          if (*p == '"' && p[1] == '"')
            g_string_append_c (field, '"'), p++;
          else if (*p == '"')
            quoted = FALSE;
          else
            g_string_append_c (field, *p);
        }
      else if (*p == '"')
        quoted = TRUE;
      else if (*p == ',')
        g_ptr_array_add (row, g_string_free (g_steal_pointer (&field), FALSE)),
          field = g_string_new (NULL);
      else if (*p == '\r' && p[1] == '\n')
        {
          p++;
          g_ptr_array_add (row, g_string_free (g_steal_pointer (&field), FALSE));
          field = g_string_new (NULL);
          g_ptr_array_add (rows, row);
          row = g_ptr_array_new_with_free_func (g_free);
        }
      else
        g_string_append_c (field, *p);
    }
  g_assert_false (quoted);
  /* Every row ends with CRLF, so nothing is left over. */
  g_assert_cmpuint (field->len, ==, 0);
  g_assert_cmpuint (row->len, ==, 0);
  g_string_free (field, TRUE);
  g_ptr_array_unref (row);
  return rows;
}

static void
test_audit_export (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestResponse) jsonl = NULL, csv = NULL, xml = NULL, last = NULL;
  g_autoptr(CpsTestResponse) exported = NULL, again = NULL, page = NULL;
  g_autoptr(GPtrArray) hashes = NULL, hashes_again = NULL, rows = NULL;
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *tampered = NULL;
  const CpsJsonNode *entries;
  guint n;

  populate (fixture);
  jsonl = export (fixture, "jsonl");
  g_assert_cmpstr (jsonl->content_type, ==, "application/x-ndjson");
  hashes = verify_jsonl (jsonl->body, jsonl->length);
  n = hashes->len;
  g_assert_cmpuint (n, >=, 10);

  /* The list shows the same chain. */
  page = audit_get (fixture, fixture->admin->access_token, "limit=500");
  entries = entries_of (page);
  g_assert_cmpuint (entries->n, ==, n + 1);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (entry_string (&entries->v.items[i], "hash"), ==,
                     g_ptr_array_index (hashes, i));

  /* The export itself is the next entry. */
  exported = audit_action (fixture, "audit.exported");
  g_assert_cmpuint (cps_test_json_get (exported, "entries")->n, ==, 1);
  g_assert_cmpint (cps_test_json_get_int (exported, "entries.0.seq"), ==, n + 1);
  g_assert_cmpstr (cps_test_json_get_string (exported, "entries.0.details.format"), ==, "jsonl");
  g_assert_cmpint (cps_test_json_get_int (exported, "entries.0.details.entries"), ==, n);
  g_assert_cmpstr (cps_test_json_get_string (exported, "entries.0.actor_account"), ==,
                   fixture->admin->account_id);
  g_assert_cmpstr (cps_test_json_get_string (exported, "entries.0.prev_hash"), ==,
                   g_ptr_array_index (hashes, n - 1));

  /* A changed line does not verify. */
  {
    const char *at = strstr (jsonl->body, "\"action\":\"login.failed\"");
    GString *copy = g_string_new_len (jsonl->body, jsonl->length);
    gint64 count = 0;

    g_assert_nonnull (at);
    g_string_overwrite (copy, at - jsonl->body, "\"action\":\"login.faile_\"");
    tampered = g_string_free (copy, FALSE);
    g_assert_true (cps_audit_chain_verify_jsonl (tampered, jsonl->length, problems, &count, NULL,
                                                 NULL));
    g_assert_cmpuint (problems->len, >, 0);
    g_assert_cmpint (count, ==, n);
  }

  /* CSV: the header and one row per entry (n, and the JSON Lines export). */
  csv = export (fixture, "csv");
  g_assert_true (g_str_has_prefix (csv->content_type, "text/csv"));
  g_assert_true (g_str_has_prefix (csv->body, CSV_HEADER "\r\n"));
  rows = parse_csv (csv->body);
  g_assert_cmpuint (rows->len, ==, 1 + n + 1);
  for (guint i = 0; i < rows->len; i++)
    {
      GPtrArray *row = g_ptr_array_index (rows, i);
      g_autofree char *seq = g_strdup_printf ("%u", i);

      g_assert_cmpuint (row->len, ==, 10);
      if (i == 0)
        continue;
      g_assert_cmpstr (g_ptr_array_index (row, 0), ==, seq);
      if (i <= n)
        g_assert_cmpstr (g_ptr_array_index (row, 9), ==, g_ptr_array_index (hashes, i - 1));
      /* details is the JSON text of an object */
      {
        g_autoptr(CpsJsonDocument) details =
          cps_json_document_parse_copy (g_ptr_array_index (row, 7), -1, NULL, NULL);

        g_assert_nonnull (details);
        g_assert_cmpint (cps_json_document_get_root (details)->type, ==, CPS_JSON_OBJECT);
      }
    }
  g_assert_cmpstr (g_ptr_array_index ((GPtrArray *) g_ptr_array_index (rows, n + 1), 2), ==,
                   "audit.exported");

  /* An unknown format is refused and recorded nowhere. */
  xml = cps_test_request (fixture->server, "GET", "/v1/audit/export?format=xml",
                          fixture->admin->access_token, NULL);
  cps_test_assert_error (xml, 400, "invalid_request");
  g_assert_cmpstr (cps_test_json_get_string (xml, "error.details.field"), ==, "format");

  /* Entries 1..n+2 now: the first export's and the CSV export's. */
  again = export (fixture, "jsonl");
  hashes_again = verify_jsonl (again->body, again->length);
  g_assert_cmpuint (hashes_again->len, ==, n + 2);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (g_ptr_array_index (hashes_again, i), ==, g_ptr_array_index (hashes, i));
  last = audit_action (fixture, "audit.exported");
  g_assert_cmpuint (cps_test_json_get (last, "entries")->n, ==, 3);
  g_assert_cmpstr (cps_test_json_get_string (last, "entries.1.details.format"), ==, "csv");
  g_assert_cmpint (cps_test_json_get_int (last, "entries.1.seq"), ==, n + 2);
  g_assert_cmpint (cps_test_json_get_int (last, "entries.2.seq"), ==, n + 3);
}

/* ----- tests: checkpoints, status, metrics -------------------------------------------------- */

static void
verify_checkpoint_signature (const char *public_key, const char *hash, const char *signature)
{
  g_autofree guchar *key = NULL, *sig = NULL;
  gsize key_len = 0, sig_len = 0;

  key = g_base64_decode (public_key, &key_len);
  sig = g_base64_decode (signature, &sig_len);
  g_assert_cmpuint (key_len, ==, crypto_sign_PUBLICKEYBYTES);
  g_assert_cmpuint (sig_len, ==, crypto_sign_BYTES);
  g_assert_cmpint (crypto_sign_verify_detached (sig, (const guchar *) hash, strlen (hash), key),
                   ==, 0);
  /* … and not over anything else. */
  g_assert_cmpint (crypto_sign_verify_detached (sig, (const guchar *) CPS_AUDIT_CHAIN_GENESIS,
                                                strlen (CPS_AUDIT_CHAIN_GENESIS), key),
                   !=, 0);
  g_assert_true (cps_audit_chain_verify_checkpoint (public_key, hash, signature));
}

static gint64
status_audit_entries (Fixture *fixture)
{
  g_autoptr(CpsTestResponse) status = cps_test_request (fixture->server, "GET",
                                                        "/v1/admin/status",
                                                        fixture->admin->access_token, NULL);

  g_assert_cmpuint (status->status, ==, 200);
  return cps_test_json_get_int (status, "audit.entries");
}

static void
test_checkpoints_and_status (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestResponse) list = NULL, made = NULL, list_after = NULL, jsonl = NULL;
  g_autoptr(CpsTestResponse) member_post = NULL, member_get = NULL, status = NULL;
  g_autoptr(CpsTestResponse) member_status = NULL, whole = NULL;
  g_autoptr(GPtrArray) hashes = NULL;
  g_autofree char *parent = NULL, *sibling = NULL;
  const CpsJsonNode *checkpoints, *entries;
  const char *public_key;
  gboolean found_100 = FALSE;
  gint64 head, pushes = 0;

  populate (fixture);

  /* Past 100 entries, one push.accepted entry per push. */
  head = status_audit_entries (fixture);
  g_assert_cmpint (head, <, 90);
  parent = g_strdup (fixture->rev_b);
  while (head < 105)
    {
      g_autofree char *doc = g_strdup_printf ("{\"project\":{\"take\":%" G_GINT64_FORMAT "}}",
                                              pushes);
      g_autofree char *revision = make_revision (fixture->bea, fixture->project, parent, doc);
      const char *list_one[2] = { revision, NULL };

      push_expect (fixture->server, fixture->bea, fixture->project, list_one, "accepted", NULL);
      g_free (parent);
      parent = g_steal_pointer (&revision);
      head++;
      pushes++;
    }
  g_assert_cmpint (status_audit_entries (fixture), ==, head);

  list = cps_test_request (fixture->server, "GET", "/v1/audit/checkpoints",
                           fixture->admin->access_token, NULL);
  g_assert_cmpuint (list->status, ==, 200);
  public_key = cps_test_json_get_string (list, "server_public_key");
  g_assert_nonnull (public_key);
  checkpoints = cps_test_json_get (list, "checkpoints");
  g_assert_cmpint (checkpoints->type, ==, CPS_JSON_ARRAY);
  for (guint i = 0; i < checkpoints->n; i++)
    if (entry_seq (&checkpoints->v.items[i]) == 100)
      found_100 = TRUE;
  g_assert_true (found_100);

  made = cps_test_request (fixture->server, "POST", "/v1/audit/checkpoints",
                           fixture->admin->access_token, NULL);
  g_assert_cmpuint (made->status, ==, 200);
  g_assert_cmpint (cps_test_json_get_int (made, "seq"), ==, head);
  g_assert_true (cps_checksum_is_valid (cps_test_json_get_string (made, "hash")));
  g_assert_nonnull (cps_test_json_get_string (made, "signature"));
  {
    g_autoptr(GDateTime) at = g_date_time_new_from_iso8601 (
      cps_test_json_get_string (made, "at"), NULL);

    g_assert_nonnull (at);
    g_assert_true (g_str_has_suffix (cps_test_json_get_string (made, "at"), "Z"));
  }

  list_after = cps_test_request (fixture->server, "GET", "/v1/audit/checkpoints",
                                 fixture->admin->access_token, NULL);
  g_assert_cmpuint (list_after->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (list_after, "server_public_key"), ==, public_key);
  checkpoints = cps_test_json_get (list_after, "checkpoints");
  g_assert_cmpuint (checkpoints->n, >=, 2);
  {
    const CpsJsonNode *newest = &checkpoints->v.items[checkpoints->n - 1];

    g_assert_cmpint (entry_seq (newest), ==, head);
    g_assert_cmpstr (entry_string (newest, "hash"), ==,
                     cps_test_json_get_string (made, "hash"));
    g_assert_cmpstr (entry_string (newest, "signature"), ==,
                     cps_test_json_get_string (made, "signature"));
  }

  /* Every checkpoint signs the chain hash at its seq, with the published key. */
  jsonl = export (fixture, "jsonl");
  hashes = verify_jsonl (jsonl->body, jsonl->length);
  g_assert_cmpuint (hashes->len, ==, head);
  for (guint i = 0; i < checkpoints->n; i++)
    {
      const CpsJsonNode *checkpoint = &checkpoints->v.items[i];
      gint64 seq = entry_seq (checkpoint);

      g_assert_cmpint (seq, >=, 1);
      g_assert_cmpint (seq, <=, hashes->len);
      g_assert_cmpstr (entry_string (checkpoint, "hash"), ==,
                       g_ptr_array_index (hashes, seq - 1));
      verify_checkpoint_signature (public_key, entry_string (checkpoint, "hash"),
                                   entry_string (checkpoint, "signature"));
    }

  member_post = cps_test_request (fixture->server, "POST", "/v1/audit/checkpoints",
                                  fixture->bea->access_token, NULL);
  cps_test_assert_error (member_post, 403, "forbidden");
  /* Reading them is for anyone signed in: that is how a client checks an export. */
  member_get = cps_test_request (fixture->server, "GET", "/v1/audit/checkpoints",
                                 fixture->bea->access_token, NULL);
  g_assert_cmpuint (member_get->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (member_get, "server_public_key"), ==, public_key);

  /* A conflict, for the status to show. */
  sibling = make_revision (fixture->admin, fixture->project, fixture->rev_b, DOC_C);
  {
    const char *list_one[2] = { sibling, NULL };

    push_expect (fixture->server, fixture->admin, fixture->project, list_one, "accepted", NULL);
  }

  status = cps_test_request (fixture->server, "GET", "/v1/admin/status",
                             fixture->admin->access_token, NULL);
  g_assert_cmpuint (status->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (status, "version"), ==, PACKAGE_VERSION);
  g_assert_cmpstr (cps_test_json_get_string (status, "storage"), ==, "sqlite");
  g_assert_cmpint (cps_test_json_get_int (status, "revisions"), ==, 2 + pushes + 1);
  g_assert_cmpint (cps_test_json_get_int (status, "conflicts_open"), ==, 1);
  g_assert_cmpint (cps_test_json_get_int (status, "devices.active"), ==, 2);
  g_assert_cmpint (cps_test_json_get_int (status, "devices.pending"), ==, 0);
  g_assert_cmpint (cps_test_json_get_int (status, "devices.revoked"), ==, 0);
  whole = audit_get (fixture, fixture->admin->access_token, "limit=500");
  entries = entries_of (whole);
  /* head, the export, the sibling's push and its conflict. */
  g_assert_cmpuint (entries->n, ==, head + 3);
  g_assert_cmpint (cps_test_json_get_int (status, "audit.entries"), ==, entries->n);
  g_assert_cmpstr (cps_test_json_get_string (status, "audit.head"), ==,
                   entry_string (&entries->v.items[entries->n - 1], "hash"));
  g_assert_cmpint (cps_test_json_get_int (status, "audit.last_checkpoint.seq"), ==, head);
  g_assert_cmpstr (cps_test_json_get_string (status, "audit.last_checkpoint.hash"), ==,
                   cps_test_json_get_string (made, "hash"));
  g_assert_cmpstr (cps_test_json_get_string (status, "audit.last_checkpoint.signature"), ==,
                   cps_test_json_get_string (made, "signature"));
  g_assert_nonnull (cps_test_json_get_string (status, "audit.last_checkpoint.at"));

  member_status = cps_test_request (fixture->server, "GET", "/v1/admin/status",
                                    fixture->bea->access_token, NULL);
  cps_test_assert_error (member_status, 403, "forbidden");
}

static void
assert_metric (const char *metrics, const char *line)
{
  g_autofree char *with_newline = g_strconcat ("\n", line, "\n", NULL);

  if (strstr (metrics, with_newline) == NULL)
    g_error ("/metrics lacks the line “%s”:\n%s", line, metrics);
}

static void
test_metrics (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestResponse) metrics = NULL, again = NULL, missing = NULL, anonymous = NULL;
  g_autofree char *project = NULL, *a = NULL, *b = NULL, *c = NULL;
  g_autofree char *x1 = NULL, *y1 = NULL, *x2 = NULL, *y2 = NULL;

  project = cps_test_create_project (fixture->server, fixture->admin, "Night shoot", FALSE);
  a = make_revision (fixture->admin, project, NULL, DOC_A);
  b = make_revision (fixture->admin, project, a, DOC_B);
  c = make_revision (fixture->admin, project, b, DOC_C);
  x1 = make_revision (fixture->admin, project, c, DOC_M);
  y1 = make_revision (fixture->admin, project, x1, DOC_A);
  x2 = make_revision (fixture->admin, project, c, DOC_B);
  y2 = make_revision (fixture->admin, project, x2, DOC_C);
  {
    const char *three[] = { a, b, c, NULL };
    const char *dup[] = { a, NULL };
    const char *orphans[] = { y1, y2, NULL };

    push_expect (fixture->server, fixture->admin, project, three, "accepted", NULL);
    push_expect (fixture->server, fixture->admin, project, dup, "duplicate", NULL);
    push_expect (fixture->server, fixture->admin, project, orphans, "rejected",
                 "unknown_parent");
  }
  missing = cps_test_request (fixture->server, "GET", "/v1/nowhere", NULL, NULL);
  cps_test_assert_error (missing, 404, "not_found");
  anonymous = cps_test_request (fixture->server, "GET", "/v1/account", NULL, NULL);
  cps_test_assert_error (anonymous, 401, "unauthorized");

  metrics = cps_test_request (fixture->server, "GET", "/metrics", NULL, NULL);
  g_assert_cmpuint (metrics->status, ==, 200);
  g_assert_true (g_str_has_prefix (metrics->content_type, "text/plain"));
  assert_metric (metrics->body, "cps_push_revisions_total{result=\"accepted\"} 3");
  assert_metric (metrics->body, "cps_push_revisions_total{result=\"rejected\"} 2");
  assert_metric (metrics->body, "cps_push_revisions_total{result=\"duplicate\"} 1");
  assert_metric (metrics->body, "cps_http_requests_total{method=\"POST\","
                                "route=\"/v1/projects/{}/revisions\",status=\"200\"} 3");
  assert_metric (metrics->body, "cps_http_requests_total{method=\"POST\","
                                "route=\"/v1/auth/login\",status=\"200\"} 1");
  assert_metric (metrics->body, "cps_http_requests_total{method=\"POST\","
                                "route=\"/v1/projects\",status=\"201\"} 1");
  assert_metric (metrics->body, "cps_http_requests_total{method=\"GET\","
                                "route=\"/v1/account\",status=\"401\"} 1");
  assert_metric (metrics->body, "cps_http_requests_total{method=\"GET\","
                                "route=\"unmatched\",status=\"404\"} 1");
  assert_metric (metrics->body, "cps_http_request_duration_seconds_count{method=\"POST\","
                                "route=\"/v1/projects/{}/revisions\",status=\"200\"} 3");
  assert_metric (metrics->body, "cps_revisions_stored 3");
  assert_metric (metrics->body, "cps_conflicts_open 0");
  assert_metric (metrics->body, "cps_devices{state=\"active\"} 1");
  /* No user content: no names, documents or ids. */
  g_assert_null (strstr (metrics->body, "Night shoot"));
  g_assert_null (strstr (metrics->body, DOC_MARKER));
  g_assert_null (strstr (metrics->body, project));
  g_assert_null (strstr (metrics->body, fixture->admin->account_id));
  g_assert_null (strstr (metrics->body, "/v1/nowhere"));

  /* Counted once it has been answered. */
  again = cps_test_request (fixture->server, "GET", "/metrics", NULL, NULL);
  assert_metric (again->body, "cps_http_requests_total{method=\"GET\","
                              "route=\"/metrics\",status=\"200\"} 1");
}

/* ----- tests: operations commands ----------------------------------------------------------- */

static gboolean
file_holds (const char *path, const char *needle)
{
  g_autofree char *data = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &data, &length, NULL))
    return FALSE;
  return contains_bytes (data, length, needle);
}

static void
copy_dir (const char *from, const char *to)
{
  g_autoptr(GDir) dir = g_dir_open (from, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  g_assert_cmpint (g_mkdir (to, 0700), ==, 0);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *src = g_build_filename (from, name, NULL);
      g_autofree char *dst = g_build_filename (to, name, NULL);
      g_autoptr(GFile) source = g_file_new_for_path (src);
      g_autoptr(GFile) target = g_file_new_for_path (dst);
      g_autoptr(GError) error = NULL;

      g_file_copy (source, target, G_FILE_COPY_NONE, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
    }
}

static void
flip_middle_byte (const char *path)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) error = NULL;
  gsize length = 0;

  g_file_get_contents (path, &data, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, >, 4096);
  data[length / 2] ^= 0x5a;
  g_file_set_contents (path, data, length, &error);
  g_assert_no_error (error);
}

static void
test_backup_and_restore (Fixture *fixture, gconstpointer data)
{
  g_autofree char *work = g_dir_make_tmp ("cps-ops-backup-XXXXXX", NULL);
  g_autofree char *out_dir = g_build_filename (work, "nightly", NULL);
  g_autofree char *bad_dir = g_build_filename (work, "damaged", NULL);
  g_autofree char *missing_dir = g_build_filename (work, "no-such-backup", NULL);
  g_autofree char *key_path = NULL, *seed = NULL, *out = NULL, *err = NULL;
  g_autofree char *manifest_text = NULL, *manifest_path = NULL;
  g_autoptr(CpsTestResponse) backups = NULL, rehearsals = NULL, checkpoints = NULL;
  g_autoptr(CpsJsonDocument) manifest = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;
  const char *data_dir;
  gboolean found_checkpoint = FALSE;
  int status;

  g_assert_nonnull (work);
  populate (fixture);
  data_dir = fixture->server->data_dir;

  /* A backup while the server runs. */
  status = command_argv ((const char *const[]) { "backup", "--data-dir", data_dir, "--to",
                                                 out_dir, NULL },
                         &out, &err);
  g_assert_cmpint (status, ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The database, the manifest and the checksums; never the secret key. */
  key_path = g_build_filename (data_dir, "server-key", NULL);
  seed = g_strstrip (read_text (key_path));
  g_assert_cmpuint (strlen (seed), >=, 40);
  for (const char *const *want = (const char *const[]) { "cps-server.db", "MANIFEST.json",
                                                         "SHA256SUMS", NULL };
       *want != NULL; want++)
    {
      g_autofree char *path = g_build_filename (out_dir, *want, NULL);

      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
    }
  dir = g_dir_open (out_dir, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (out_dir, name, NULL);

      g_assert_cmpstr (name, !=, "server-key");
      g_assert_false (g_str_has_prefix (name, ".server-key"));
      if (file_holds (path, seed))
        g_error ("%s in the backup holds the server's secret key", name);
    }
  manifest_path = g_build_filename (out_dir, "MANIFEST.json", NULL);
  manifest_text = read_text (manifest_path);
  manifest = cps_json_document_parse_copy (manifest_text, -1, NULL, NULL);
  g_assert_nonnull (manifest);
  g_assert_cmpint (cps_json_node_get_type (cps_json_object_get (
                     cps_json_document_get_root (manifest), "files")),
                   ==, CPS_JSON_ARRAY);

  status = run_tool (out_dir, (const char *const[]) { "sha256sum", "-c", "SHA256SUMS", NULL },
                     &out, &err);
  g_test_message ("sha256sum -c: %s%s", out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "cps-server.db: OK"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Never over an earlier backup. */
  status = command_argv ((const char *const[]) { "backup", "--data-dir", data_dir, "--to",
                                                 out_dir, NULL },
                         NULL, &err);
  g_assert_true (status == 1 || status == 2);
  g_assert_cmpuint (strlen (g_strstrip (err)), >, 10);
  g_clear_pointer (&err, g_free);
  status = run_tool (out_dir, (const char *const[]) { "sha256sum", "-c", "SHA256SUMS", NULL },
                     NULL, NULL);
  g_assert_cmpint (status, ==, 0);

  backups = audit_action (fixture, "backup.created");
  g_assert_cmpuint (cps_test_json_get (backups, "entries")->n, ==, 1);
  g_assert_cmpstr (cps_test_json_get_string (backups, "entries.0.details.path_basename"), ==,
                   "nightly");
  g_assert_cmpint (cps_test_json_get_int (backups, "entries.0.details.revisions"), ==, 2);

  /* A rehearsal of the good backup passes and is attested by a checkpoint. */
  status = command_argv ((const char *const[]) { "rehearse-restore", "--data-dir", data_dir,
                                                 out_dir, NULL },
                         &out, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "2 revisions verified"));
  g_clear_pointer (&out, g_free);
  rehearsals = audit_action (fixture, "restore.rehearsed");
  g_assert_cmpuint (cps_test_json_get (rehearsals, "entries")->n, ==, 1);
  g_assert_cmpstr (cps_test_json_get_string (rehearsals, "entries.0.details.result"), ==,
                   "passed");
  g_assert_cmpint (cps_test_json_get_int (rehearsals, "entries.0.details.revisions"), ==, 2);
  checkpoints = cps_test_request (fixture->server, "GET", "/v1/audit/checkpoints",
                                  fixture->admin->access_token, NULL);
  g_assert_cmpuint (checkpoints->status, ==, 200);
  {
    const CpsJsonNode *list = cps_test_json_get (checkpoints, "checkpoints");
    gint64 seq = cps_test_json_get_int (rehearsals, "entries.0.seq");

    for (guint i = 0; i < list->n; i++)
      if (entry_seq (&list->v.items[i]) == seq)
        {
          found_checkpoint = TRUE;
          g_assert_cmpstr (entry_string (&list->v.items[i], "hash"), ==,
                           cps_test_json_get_string (rehearsals, "entries.0.hash"));
          verify_checkpoint_signature (cps_test_json_get_string (checkpoints,
                                                                 "server_public_key"),
                                       entry_string (&list->v.items[i], "hash"),
                                       entry_string (&list->v.items[i], "signature"));
        }
  }
  g_assert_true (found_checkpoint);

  /* A damaged copy fails, and says so in the audit log too. */
  copy_dir (out_dir, bad_dir);
  {
    g_autofree char *db = g_build_filename (bad_dir, "cps-server.db", NULL);

    flip_middle_byte (db);
  }
  status = run_tool (bad_dir, (const char *const[]) { "sha256sum", "--quiet", "-c",
                                                      "SHA256SUMS", NULL },
                     NULL, NULL);
  g_assert_cmpint (status, !=, 0);
  status = command_argv ((const char *const[]) { "rehearse-restore", "--data-dir", data_dir,
                                                 bad_dir, NULL },
                         &out, NULL);
  g_assert_cmpint (status, ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&rehearsals, cps_test_response_free);
  rehearsals = audit_action (fixture, "restore.rehearsed");
  g_assert_cmpuint (cps_test_json_get (rehearsals, "entries")->n, ==, 2);
  g_assert_cmpstr (cps_test_json_get_string (rehearsals, "entries.1.details.result"), ==,
                   "failed");
  g_assert_cmpstr (cps_test_json_get_string (rehearsals, "entries.1.details.backup"), ==,
                   "damaged");
  g_assert_cmpint (cps_test_json_get_int (rehearsals, "entries.1.details.problems"), >, 0);

  /* A missing backup, and usage errors. */
  status = command_argv ((const char *const[]) { "rehearse-restore", "--data-dir", data_dir,
                                                 missing_dir, NULL },
                         NULL, &err);
  g_assert_true (status == 1 || status == 2);
  g_assert_cmpuint (strlen (err), >, 10);
  g_clear_pointer (&err, g_free);
  {
    const char *const *usage[] = {
      (const char *const[]) { "rehearse-restore", "--data-dir", data_dir, NULL },
      (const char *const[]) { "rehearse-restore", "--data-dir", data_dir, out_dir, bad_dir,
                              NULL },
      (const char *const[]) { "rehearse-restore", "--no-such-option", out_dir, NULL },
      (const char *const[]) { "rehearse-restore", out_dir, NULL },
      (const char *const[]) { "backup", "--data-dir", data_dir, NULL },
      (const char *const[]) { "backup", "--data-dir", data_dir, "--to", missing_dir,
                              "extra", NULL },
      (const char *const[]) { "check", "--data-dir", data_dir, "extra", NULL },
      (const char *const[]) { "check", "--frobnicate", NULL },
      (const char *const[]) { "no-such-command", NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS (usage); i++)
      {
        g_autofree char *usage_err = NULL;

        status = command_argv (usage[i], NULL, &usage_err);
        g_assert_cmpint (status, ==, 2);
        g_assert_cmpuint (strlen (usage_err), >, 10);
      }
  }
  /* Nothing of that was written anywhere. */
  g_assert_false (g_file_test (missing_dir, G_FILE_TEST_EXISTS));
  g_clear_pointer (&rehearsals, cps_test_response_free);
  rehearsals = audit_action (fixture, "restore.rehearsed");
  g_assert_cmpuint (cps_test_json_get (rehearsals, "entries")->n, ==, 2);

  /* The live chain still verifies with everything the commands appended. */
  {
    g_autoptr(CpsTestResponse) jsonl = export (fixture, "jsonl");
    g_autoptr(GPtrArray) hashes = verify_jsonl (jsonl->body, jsonl->length);

    g_assert_cmpuint (hashes->len, >, 10);
  }
  cps_test_remove_tree (work);
}

static void
sqlite_exec (const char *db_path, const char *sql, int expected_changes)
{
  sqlite3 *db = NULL;
  char *message = NULL;
  int rc;

  rc = sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READWRITE, NULL);
  g_assert_cmpint (rc, ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  rc = sqlite3_exec (db, sql, NULL, NULL, &message);
  if (rc != SQLITE_OK)
    g_error ("%s: %s", sql, message);
  if (expected_changes >= 0)
    g_assert_cmpint (sqlite3_changes (db), ==, expected_changes);
  sqlite3_close (db);
}

static void
test_check (Fixture *fixture, gconstpointer data)
{
  g_autofree char *db = NULL, *key = NULL, *out = NULL, *err = NULL, *line = NULL;
  g_autofree char *rev_a_id = NULL, *sql = NULL, *empty_config = NULL;
  const char *data_dir;
  int status;

  populate (fixture);
  data_dir = fixture->server->data_dir;
  db = g_build_filename (data_dir, "cps-server.db", NULL);
  key = g_build_filename (data_dir, "server-key", NULL);
  empty_config = g_build_filename (data_dir, "test.conf", NULL);

  /* Healthy, even while the server runs. */
  status = command_argv ((const char *const[]) { "check", "--data-dir", data_dir, NULL }, &out,
                         NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "2 revisions verified"));
  g_clear_pointer (&out, g_free);

  /* A key others may read is a problem, and serve will not start with it. */
  g_assert_cmpint (g_chmod (key, 0644), ==, 0);
  status = command_argv ((const char *const[]) { "check", "--data-dir", data_dir, NULL }, &out,
                         NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "chmod 600"));
  g_clear_pointer (&out, g_free);
  cps_test_server_stop (fixture->server, FALSE);
  status = serve_probe ((const char *const[]) { "--data-dir", data_dir, "--listen",
                                                "127.0.0.1:0", "--config", empty_config, NULL },
                        &line, &err);
  g_assert_null (line);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (err, "chmod 600"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (g_chmod (key, 0600), ==, 0);
  status = command_argv ((const char *const[]) { "check", "--data-dir", data_dir, NULL }, NULL,
                         NULL);
  g_assert_cmpint (status, ==, 0);

  /* Someone with write access to the database rewrites one audit entry. */
  sqlite_exec (db,
               "DROP TRIGGER audit_entries_no_update;"
               "UPDATE audit_entries SET details_json = '{\"reason\":\"nothing to see\"}'"
               " WHERE seq = 3;",
               1);
  status = command_argv ((const char *const[]) { "check", "--data-dir", data_dir, NULL }, &out,
                         NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "Entry 3:"));
  g_assert_null (strstr (out, "Entry 4"));
  g_clear_pointer (&out, g_free);

  /* … and one revision's document. */
  rev_a_id = revision_id (fixture->rev_a);
  sql = g_strdup_printf ("DROP TRIGGER revisions_no_update;"
                         "UPDATE revisions SET json = replace (json, '\"batteries\":2', "
                         "'\"batteries\":9') WHERE id = '%s'"
                         " AND instr (json, '\"batteries\":2') > 0;",
                         rev_a_id);
  sqlite_exec (db, sql, 1);
  status = command_argv ((const char *const[]) { "check", "--data-dir", data_dir, NULL }, &out,
                         NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, rev_a_id));
  g_assert_nonnull (strstr (out, "Entry 3:"));
  g_clear_pointer (&out, g_free);

  /* A directory without a database. */
  {
    g_autofree char *empty = g_dir_make_tmp ("cps-ops-empty-XXXXXX", NULL);

    status = command_argv ((const char *const[]) { "check", "--data-dir", empty, NULL }, NULL,
                           &err);
    g_assert_cmpint (status, ==, 1);
    g_assert_cmpuint (strlen (err), >, 10);
    g_clear_pointer (&err, g_free);
    /* check never creates one */
    {
      g_autofree char *created = g_build_filename (empty, "cps-server.db", NULL);

      g_assert_false (g_file_test (created, G_FILE_TEST_EXISTS));
    }
    cps_test_remove_tree (empty);
  }
}

/* ----- tests: transport --------------------------------------------------------------------- */

static gboolean
accept_certificate_cb (SoupMessage *msg, GTlsCertificate *certificate,
                       GTlsCertificateFlags errors, gpointer user_data)
{
  return TRUE;
}

/* One request on @session; FALSE (with @error) when no HTTP answer came. */
static gboolean
raw_request (SoupSession *session, const char *base_url, const char *method, const char *path,
             const char *token, const char *body, gboolean accept_any_certificate,
             guint *status, char **reply, GError **error)
{
  g_autofree char *url = g_strconcat (base_url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) bytes = NULL;

  if (accept_any_certificate)
    g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_certificate_cb), NULL);
  if (token != NULL)
    {
      g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    bearer);
    }
  if (body != NULL)
    {
      g_autoptr(GBytes) request = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, "application/json", request);
    }
  bytes = soup_session_send_and_read (session, msg, NULL, error);
  if (bytes == NULL)
    return FALSE;
  *status = soup_message_get_status (msg);
  if (reply != NULL)
    {
      gsize length = 0;
      const char *data = g_bytes_get_data (bytes, &length);

      *reply = g_strndup (data, length);
    }
  return TRUE;
}

static guint
port_of (const char *base_url)
{
  const char *colon = strrchr (base_url, ':');
  guint64 port = 0;

  g_assert_nonnull (colon);
  g_assert_true (g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL));
  return (guint) port;
}

static void
test_tls (void)
{
  g_autofree char *work = g_dir_make_tmp ("cps-ops-tls-XXXXXX", NULL);
  g_autofree char *cert = g_build_filename (work, "cert.pem", NULL);
  g_autofree char *key = g_build_filename (work, "key.pem", NULL);
  g_autofree char *connect = NULL, *reply = NULL, *http_url = NULL;
  g_autoptr(CpsTestServer) server = NULL;
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", 30, NULL);
  g_autoptr(SoupSession) strict = soup_session_new_with_options ("timeout", 30, NULL);
  g_autoptr(SoupSession) plain = soup_session_new_with_options ("timeout", 30, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  guint status = 0;
  int exit_status;

  if (openssl == NULL)
    {
      g_test_skip ("openssl is not installed");
      cps_test_remove_tree (work);
      return;
    }
  exit_status = run_tool (work, (const char *const[]) { "openssl", "req", "-x509", "-newkey",
                                                        "ec", "-pkeyopt",
                                                        "ec_paramgen_curve:P-256", "-nodes",
                                                        "-days", "1", "-subj", "/CN=localhost",
                                                        "-keyout", key, "-out", cert, NULL },
                          NULL, NULL);
  g_assert_cmpint (exit_status, ==, 0);

  server = cps_test_server_start (NULL, (const char *const[]) { "--tls-cert", cert,
                                                                "--tls-key", key, NULL });
  g_assert_true (g_str_has_prefix (server->base_url, "https://127.0.0.1:"));

  g_assert_true (raw_request (session, server->base_url, "GET", "/v1/health", NULL, NULL, TRUE,
                              &status, &reply, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (status, ==, 200);
  g_assert_nonnull (strstr (reply, "\"status\":\"ok\""));

  /* Without accepting the self-signed certificate there is no answer at all. */
  g_assert_false (raw_request (strict, server->base_url, "GET", "/v1/health", NULL, NULL, FALSE,
                               &status, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  /* Nor over plain HTTP on that port. */
  http_url = g_strdup_printf ("http://127.0.0.1:%u", port_of (server->base_url));
  if (raw_request (plain, http_url, "GET", "/v1/health", NULL, NULL, FALSE, &status, NULL,
                   &error))
    g_assert_cmpuint (status, !=, 200);
  g_clear_error (&error);

  /* TLS 1.3 only. */
  connect = g_strdup_printf ("127.0.0.1:%u", port_of (server->base_url));
  exit_status = run_tool (work, (const char *const[]) { "openssl", "s_client", "-connect",
                                                        connect, "-tls1_2", NULL },
                          NULL, NULL);
  g_assert_cmpint (exit_status, !=, 0);
  exit_status = run_tool (work, (const char *const[]) { "openssl", "s_client", "-connect",
                                                        connect, "-tls1_3", NULL },
                          NULL, NULL);
  g_assert_cmpint (exit_status, ==, 0);

  g_clear_pointer (&server, cps_test_server_free);
  cps_test_remove_tree (work);
}

static void
test_insecure_http (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cps-ops-insecure-XXXXXX", NULL);
  g_autofree char *config = g_build_filename (dir, "empty.conf", NULL);
  g_autofree char *line = NULL, *err = NULL;
  int status;

  g_assert_true (g_file_set_contents (config, "", 0, NULL));

  status = serve_probe ((const char *const[]) { "--data-dir", dir, "--listen", "0.0.0.0:0",
                                                "--config", config, NULL },
                        &line, &err);
  g_assert_null (line);
  g_assert_cmpint (status, !=, 0);
  g_assert_nonnull (strstr (err, "--insecure-http"));
  g_clear_pointer (&err, g_free);

  status = serve_probe ((const char *const[]) { "--data-dir", dir, "--listen", "0.0.0.0:0",
                                                "--config", config, "--insecure-http", NULL },
                        &line, &err);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "listening on http://"));
  g_assert_cmpint (status, ==, 0);

  cps_test_remove_tree (dir);
}

/* ----- tests: a graceful stop under load ---------------------------------------------------- */

typedef struct
{
  const char *base_url;
  CpsTestClient *client;
  const char *token;
  char *project;
  GPtrArray *accepted;   /* revision ids answered “accepted” in a 200 */
  char *failure;         /* (nullable) an answer no stop explains */
  char *ended;           /* how the worker's last push ended */
  gint *total;
  gint *stop;
} StormWorker;

#define STORM_BATCH 5

static gpointer
storm_worker (gpointer data)
{
  StormWorker *worker = data;
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", 60, NULL);
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions", worker->project);
  g_autofree char *parent = NULL;
  guint take = 0;

  while (!g_atomic_int_get (worker->stop))
    {
      g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GError) error = NULL;
      g_autoptr(CpsJsonDocument) doc = NULL;
      g_autofree char *body = NULL, *reply = NULL;
      const CpsJsonNode *results;
      guint status = 0;

      for (guint i = 0; i < STORM_BATCH; i++)
        {
          g_autofree char *document = g_strdup_printf ("{\"project\":{\"take\":%u}}", take++);
          char *revision = make_revision (worker->client, worker->project,
                                          batch->len > 0 ? g_ptr_array_index (batch,
                                                                              batch->len - 1)
                                                         : parent,
                                          document);

          g_ptr_array_add (batch, revision);
        }
      g_ptr_array_add (batch, NULL);
      body = push_body ((const char *const *) batch->pdata);
      g_ptr_array_remove_index (batch, batch->len - 1);

      if (!raw_request (session, worker->base_url, "POST", path, worker->token, body, FALSE,
                        &status, &reply, &error))
        {
          /* the connection went away with the server */
          worker->ended = g_strdup (error->message);
          break;
        }
      if (status == 503)
        {
          worker->ended = g_strdup ("503");   /* shutting down */
          break;
        }
      if (status != 200)
        {
          worker->failure = g_strdup_printf ("push answered %u: %s", status, reply);
          break;
        }
      doc = cps_json_document_parse_copy (reply, -1, NULL, NULL);
      results = doc != NULL ? cps_json_object_get (cps_json_document_get_root (doc), "results")
                            : NULL;
      if (cps_json_node_get_type (results) != CPS_JSON_ARRAY || results->n != batch->len)
        {
          worker->failure = g_strdup_printf ("push answered 200 with %s", reply);
          break;
        }
      for (guint i = 0; i < results->n; i++)
        {
          if (g_strcmp0 (cps_json_object_get_string (&results->v.items[i], "status"),
                         "accepted") != 0)
            {
              worker->failure = g_strdup_printf ("a revision was not accepted: %s", reply);
              return NULL;
            }
          g_ptr_array_add (worker->accepted, revision_id (g_ptr_array_index (batch, i)));
          g_atomic_int_inc (worker->total);
        }
      g_free (parent);
      parent = g_strdup (g_ptr_array_index (batch, batch->len - 1));
    }
  return NULL;
}

static void
test_sigterm_storm (Fixture *fixture, gconstpointer data)
{
  StormWorker workers[3];
  GThread *threads[G_N_ELEMENTS (workers)];
  gint total = 0, stop = 0;
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  guint checked = 0;

  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    {
      g_autofree char *name = g_strdup_printf ("Storm %u", i);

      workers[i] = (StormWorker) {
        .base_url = fixture->server->base_url,
        .client = fixture->admin,
        .token = fixture->admin->access_token,
        .project = cps_test_create_project (fixture->server, fixture->admin, name, FALSE),
        .accepted = g_ptr_array_new_with_free_func (g_free),
        .total = &total,
        .stop = &stop,
      };
    }
  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    threads[i] = g_thread_new ("storm", storm_worker, &workers[i]);

  while (g_atomic_int_get (&total) < 60 && g_get_monotonic_time () < deadline)
    g_usleep (2000);
  g_assert_cmpint (g_atomic_int_get (&total), >=, 60);

  /* SIGTERM with pushes in flight: a graceful stop exits 0 (asserted by the fixture). */
  cps_test_server_stop (fixture->server, FALSE);
  g_atomic_int_set (&stop, 1);
  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    g_thread_join (threads[i]);
  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    {
      if (workers[i].failure != NULL)
        g_error ("storm worker %u: %s", i, workers[i].failure);
    }

  /* Every revision that was answered “accepted” is there after the restart. */
  cps_test_server_restart (fixture->server);
  for (guint w = 0; w < G_N_ELEMENTS (workers); w++)
    {
      g_autofree char *project_path = g_strdup_printf ("/v1/projects/%s", workers[w].project);
      g_autoptr(CpsTestResponse) project = cps_test_request (fixture->server, "GET",
                                                             project_path,
                                                             fixture->admin->access_token,
                                                             NULL);

      g_assert_cmpuint (project->status, ==, 200);
      g_test_message ("storm worker %u: %u answered accepted, %" G_GINT64_FORMAT " stored; "
                      "ended with %s",
                      w, workers[w].accepted->len,
                      cps_test_json_get_int (project, "revision_count"),
                      workers[w].ended != NULL ? workers[w].ended : "(stop flag)");
      /* A graceful stop answers every push it commits: nothing stored goes unacknowledged. */
      g_assert_cmpint (cps_test_json_get_int (project, "revision_count"), ==,
                       workers[w].accepted->len);
      for (guint i = 0; i < workers[w].accepted->len; i++)
        {
          g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions/%s",
                                                   workers[w].project,
                                                   (char *) g_ptr_array_index (workers[w].accepted,
                                                                               i));
          g_autoptr(CpsTestResponse) revision = cps_test_request (fixture->server, "GET", path,
                                                                  fixture->admin->access_token,
                                                                  NULL);

          g_assert_cmpuint (revision->status, ==, 200);
          checked++;
        }
    }
  g_test_message ("%u accepted revisions found after the restart", checked);
  g_assert_cmpuint (checked, ==, (guint) total);

  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    {
      g_free (workers[i].project);
      g_free (workers[i].ended);
      g_free (workers[i].failure);
      g_ptr_array_unref (workers[i].accepted);
    }
}

/* ----- tests: settings file ----------------------------------------------------------------- */

static void
test_config_file (void)
{
  static const struct
  {
    const char *text;
    const char *named;
  } bad[] = {
    { "[server]\nlisten-twice = 1\n", "listen-twice" },
    { "[auth]\naccess-token-minutes = 5\n", "access-token-minutes" },
    { "[surprise]\nanything = 1\n", "surprise" },
    { "[auth]\naccess-token-seconds = soon\n", "access-token-seconds" },
    { "[auth]\naccess-token-seconds = 5\n", "access-token-seconds" },
    { "[server]\nworkers = 1000\n", "workers" },
    { "[server]\ninsecure-http = maybe\n", "insecure-http" },
    { "[limits]\nmax-push-revisions = -1\n", "max-push-revisions" },
    { "this is not a key file\n", NULL },
  };
  g_autofree char *dir = g_dir_make_tmp ("cps-ops-config-XXXXXX", NULL);
  g_autofree char *data_dir = g_build_filename (dir, "data", NULL);
  g_autofree char *config = g_build_filename (dir, "cps-server.conf", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *line = NULL, *err = NULL;
      int status;

      g_assert_true (g_file_set_contents (config, bad[i].text, -1, NULL));
      status = serve_probe ((const char *const[]) { "--data-dir", data_dir, "--listen",
                                                    "127.0.0.1:0", "--config", config, NULL },
                            &line, &err);
      g_assert_null (line);
      g_assert_cmpint (status, ==, 1);
      g_assert_cmpuint (strlen (err), >, 10);
      if (bad[i].named != NULL)
        g_assert_nonnull (strstr (err, bad[i].named));
    }

  /* A missing settings file given on purpose is an error too. */
  {
    g_autofree char *line = NULL, *err = NULL;
    g_autofree char *missing = g_build_filename (dir, "missing.conf", NULL);
    int status = serve_probe ((const char *const[]) { "--data-dir", data_dir, "--listen",
                                                      "127.0.0.1:0", "--config", missing, NULL },
                              &line, &err);

    g_assert_null (line);
    g_assert_cmpint (status, ==, 1);
    g_assert_nonnull (strstr (err, "missing.conf"));
  }

  /* A good one is applied. */
  g_assert_cmpint (g_mkdir (data_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (config, "# tokens for a test\n[auth]\n"
                                              "access-token-seconds = 120\n",
                                      -1, NULL));
  {
    g_autoptr(CpsTestServer) server = cps_test_server_start (data_dir, (const char *const[]) {
                                                               "--config", config, NULL });
    g_autofree char *body = login_body ("root", ADMIN_PASSWORD);
    g_autoptr(CpsTestResponse) login = NULL;

    cps_test_server_add_account (server, "root", ADMIN_PASSWORD, "admin");
    login = cps_test_request (server, "POST", "/v1/auth/login", NULL, body);
    g_assert_cmpuint (login->status, ==, 200);
    g_assert_cmpint (cps_test_json_get_int (login, "expires_in"), ==, 120);
  }
  cps_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (sodium_init () < 0)
    return 1;

#define ADD(name, func) \
  g_test_add ("/server/ops/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("audit-actions", test_audit_actions);
  ADD ("audit-export", test_audit_export);
  ADD ("checkpoints-and-status", test_checkpoints_and_status);
  ADD ("metrics", test_metrics);
  ADD ("backup-and-restore", test_backup_and_restore);
  ADD ("check", test_check);
  ADD ("sigterm-storm", test_sigterm_storm);
#undef ADD
  g_test_add_func ("/server/ops/tls", test_tls);
  g_test_add_func ("/server/ops/insecure-http", test_insecure_http);
  g_test_add_func ("/server/ops/config-file", test_config_file);
  return g_test_run ();
}
