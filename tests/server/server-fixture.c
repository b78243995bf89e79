/* server-fixture.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "cps-jcs.h"
#include "cps-revision.h"
#include "server-fixture.h"
#include "cps-test-util.h"

static const char *
server_binary (void)
{
  const char *path = g_getenv ("CPS_SERVER");

  g_assert_nonnull (path);
  return path;
}

/* A test that aborts must not leave its server running. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
spawn (CpsTestServer *server)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  g_autofree char *log = g_build_filename (server->data_dir, "server.log", NULL);
  g_autofree char *empty_config = g_build_filename (server->data_dir, "test.conf", NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_ptr_array_add (argv, (gpointer) server_binary ());
  g_ptr_array_add (argv, "serve");
  g_ptr_array_add (argv, "--data-dir");
  g_ptr_array_add (argv, server->data_dir);
  g_ptr_array_add (argv, "--listen");
  g_ptr_array_add (argv, "127.0.0.1:0");
  /* Never the machine's /etc/cps-server.conf: an empty settings file unless the test brings
   * its own. */
  if (server->extra_args == NULL || !g_strv_contains ((const char *const *) server->extra_args,
                                                      "--config"))
    {
      g_ptr_array_add (argv, "--config");
      g_ptr_array_add (argv, empty_config);
      g_assert_true (g_file_set_contents (empty_config, "", 0, NULL));
    }
  for (guint i = 0; server->extra_args != NULL && server->extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, server->extra_args[i]);
  g_ptr_array_add (argv, NULL);

  server->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata,
                                                  &error);
  g_assert_no_error (error);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL || !g_str_has_prefix (line, "listening on "))
    {
      g_autofree char *errors = NULL;

      g_file_get_contents (log, &errors, NULL, NULL);
      g_error ("cps-server did not start: %s\n%s", line != NULL ? line : "(no output)",
               errors != NULL ? errors : "");
    }
  g_free (server->base_url);
  server->base_url = g_strdup (line + strlen ("listening on "));
}

CpsTestServer *
cps_test_server_start (const char *data_dir, const char *const *extra_args)
{
  CpsTestServer *server = g_new0 (CpsTestServer, 1);
  g_autoptr(GError) error = NULL;

  if (data_dir == NULL)
    {
      server->data_dir = g_dir_make_tmp ("cps-server-test-XXXXXX", &error);
      g_assert_no_error (error);
      server->own_data_dir = TRUE;
    }
  else
    server->data_dir = g_strdup (data_dir);
  server->extra_args = g_strdupv ((char **) extra_args);
  server->session = soup_session_new_with_options ("timeout", 60, "max-conns", 64,
                                                   "max-conns-per-host", 64, NULL);
  spawn (server);
  return server;
}

void
cps_test_server_stop (CpsTestServer *server, gboolean kill)
{
  g_autoptr(GError) error = NULL;

  if (server->process == NULL)
    return;
  if (kill)
    g_subprocess_force_exit (server->process);
  else
    g_subprocess_send_signal (server->process, SIGTERM);
  g_subprocess_wait (server->process, NULL, &error);
  g_assert_no_error (error);
  if (!kill)
    {
      g_assert_true (g_subprocess_get_if_exited (server->process));
      g_assert_cmpint (g_subprocess_get_exit_status (server->process), ==, 0);
    }
  g_clear_object (&server->process);
  /* Connections to the old process are dead. */
  g_clear_object (&server->session);
  server->session = soup_session_new_with_options ("timeout", 60, "max-conns", 64,
                                                   "max-conns-per-host", 64, NULL);
}

void
cps_test_server_restart (CpsTestServer *server)
{
  cps_test_server_stop (server, FALSE);
  spawn (server);
}

void
cps_test_server_free (CpsTestServer *server)
{
  if (server == NULL)
    return;
  cps_test_server_stop (server, FALSE);
  g_clear_object (&server->session);
  if (server->own_data_dir)
    cps_test_remove_tree (server->data_dir);
  g_free (server->data_dir);
  g_free (server->base_url);
  g_strfreev (server->extra_args);
  g_free (server);
}

int
cps_test_server_command (const char *stdin_text, char **out, char **err, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *stdout_text = NULL, *stderr_text = NULL;
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, (gpointer) server_binary ());
  va_start (args, err);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char *const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                 G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, stdin_text, NULL, &stdout_text, &stderr_text, &error);
  g_assert_no_error (error);
  g_test_message ("cps-server %s → %d\n%s%s", (char *) argv->pdata[1],
                  g_subprocess_get_exit_status (process), stdout_text, stderr_text);
  if (out != NULL)
    *out = g_steal_pointer (&stdout_text);
  if (err != NULL)
    *err = g_steal_pointer (&stderr_text);
  return g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
}

void
cps_test_server_add_account (CpsTestServer *server, const char *username, const char *password,
                             const char *role)
{
  g_autofree char *line = g_strconcat (password, "\n", NULL);
  int status = cps_test_server_command (line, NULL, NULL, "account", "add", "--data-dir",
                                        server->data_dir, "--username", username, "--role", role,
                                        NULL);

  g_assert_cmpint (status, ==, 0);
}

/* ----- requests ------------------------------------------------------------------------- */

CpsTestResponse *
cps_test_request_full (CpsTestServer *server, const char *method, const char *path,
                       const char *token, const void *body, gsize body_length,
                       const char *const *headers)
{
  g_autofree char *url = g_strconcat (server->base_url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) reply = NULL;
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *response_headers;
  CpsTestResponse *response = g_new0 (CpsTestResponse, 1);
  const char *value;
  gsize length;

  g_assert_nonnull (msg);
  if (token != NULL)
    {
      g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    bearer);
    }
  for (guint i = 0; headers != NULL && headers[i] != NULL && headers[i + 1] != NULL; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (msg), headers[i],
                                  headers[i + 1]);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, body_length);

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }

  reply = soup_session_send_and_read (server->session, msg, NULL, &error);
  g_assert_no_error (error);
  response->status = soup_message_get_status (msg);
  response->body = g_bytes_unref_to_data (g_steal_pointer (&reply), &length);
  response->body = g_realloc (response->body, length + 1);
  response->body[length] = '\0';
  response->length = length;

  response_headers = soup_message_get_response_headers (msg);
  if ((value = soup_message_headers_get_one (response_headers, "Retry-After")) != NULL)
    response->retry_after = g_strdup (value);
  if ((value = soup_message_headers_get_content_type (response_headers, NULL)) != NULL)
    response->content_type = g_strdup (value);
  if ((value = soup_message_headers_get_one (response_headers, "Content-Encoding")) != NULL)
    response->content_encoding = g_strdup (value);
  if (length > 0 && response->body[0] == '{')
    response->json = cps_json_document_parse_copy (response->body, length, NULL, NULL);
  return response;
}

CpsTestResponse *
cps_test_request (CpsTestServer *server, const char *method, const char *path,
                  const char *token, const char *body)
{
  return cps_test_request_full (server, method, path, token, body,
                                body != NULL ? strlen (body) : 0, NULL);
}

void
cps_test_response_free (CpsTestResponse *response)
{
  if (response == NULL)
    return;
  g_free (response->body);
  g_clear_pointer (&response->json, cps_json_document_unref);
  g_free (response->retry_after);
  g_free (response->content_type);
  g_free (response->content_encoding);
  g_free (response);
}

const CpsJsonNode *
cps_test_json_get (CpsTestResponse *response, const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);
  const CpsJsonNode *node;

  if (response->json == NULL)
    return NULL;
  node = cps_json_document_get_root (response->json);
  for (guint i = 0; node != NULL && parts[i] != NULL; i++)
    {
      if (node->type == CPS_JSON_OBJECT)
        node = cps_json_object_get (node, parts[i]);
      else if (node->type == CPS_JSON_ARRAY)
        {
          guint64 index;

          if (!g_ascii_string_to_unsigned (parts[i], 10, 0, G_MAXUINT32, &index, NULL) ||
              index >= node->n)
            return NULL;
          node = &node->v.items[index];
        }
      else
        return NULL;
    }
  return node;
}

const char *
cps_test_json_get_string (CpsTestResponse *response, const char *path)
{
  const CpsJsonNode *node = cps_test_json_get (response, path);

  return node != NULL && node->type == CPS_JSON_STRING ? node->v.string : NULL;
}

gint64
cps_test_json_get_int (CpsTestResponse *response, const char *path)
{
  const CpsJsonNode *node = cps_test_json_get (response, path);

  g_assert_nonnull (node);
  g_assert_cmpint (node->type, ==, CPS_JSON_NUMBER);
  return (gint64) node->v.number;
}

void
cps_test_assert_error (CpsTestResponse *response, guint status, const char *code)
{
  const CpsJsonNode *details;

  if (response->status != status ||
      g_strcmp0 (cps_test_json_get_string (response, "error.code"), code) != 0)
    g_test_message ("expected %u %s, got %u: %s", status, code, response->status,
                    response->body);
  g_assert_cmpuint (response->status, ==, status);
  g_assert_cmpstr (cps_test_json_get_string (response, "error.code"), ==, code);
  g_assert_nonnull (cps_test_json_get_string (response, "error.message"));
  g_assert_cmpuint (strlen (cps_test_json_get_string (response, "error.message")), >, 10);
  details = cps_test_json_get (response, "error.details");
  g_assert_nonnull (details);
  g_assert_cmpint (details->type, ==, CPS_JSON_OBJECT);
}

/* ----- clients -------------------------------------------------------------------------- */

static char *
login_body (const char *username, const char *password, const guint8 seed[32],
            const char *device_name, const char *extra)
{
  guint8 public_key[crypto_sign_PUBLICKEYBYTES], secret_key[crypto_sign_SECRETKEYBYTES];
  g_autofree char *public_b64 = NULL;
  GString *body = g_string_new ("{");

  crypto_sign_seed_keypair (public_key, secret_key, seed);
  public_b64 = g_base64_encode (public_key, sizeof public_key);
  g_string_append (body, "\"username\":");
  cps_jcs_append_string (body, username, strlen (username));
  g_string_append (body, ",\"password\":");
  cps_jcs_append_string (body, password, strlen (password));
  g_string_append (body, ",\"device\":{\"name\":");
  cps_jcs_append_string (body, device_name, strlen (device_name));
  g_string_append_printf (body, ",\"platform\":\"test\",\"client_version\":\"0.1\","
                                "\"public_key\":\"%s\"}",
                          public_b64);
  if (extra != NULL)
    g_string_append_printf (body, ",%s", extra);
  g_string_append_c (body, '}');
  sodium_memzero (secret_key, sizeof secret_key);
  return g_string_free (body, FALSE);
}

static void
client_take_tokens (CpsTestClient *client, CpsTestResponse *response)
{
  g_free (client->access_token);
  g_free (client->refresh_token);
  client->access_token = g_strdup (cps_test_json_get_string (response, "access_token"));
  client->refresh_token = g_strdup (cps_test_json_get_string (response, "refresh_token"));
  g_assert_nonnull (client->access_token);
  g_assert_nonnull (client->refresh_token);
}

CpsTestClient *
cps_test_login (CpsTestServer *server, const char *username, const char *password,
                const char *device_name)
{
  CpsTestClient *client = g_new0 (CpsTestClient, 1);
  g_autofree char *body = NULL;
  g_autoptr(CpsTestResponse) response = NULL;

  randombytes_buf (client->seed, sizeof client->seed);
  body = login_body (username, password, client->seed, device_name, NULL);
  response = cps_test_request (server, "POST", "/v1/auth/login", NULL, body);
  if (response->status != 200)
    g_test_message ("login of %s: %u %s", username, response->status, response->body);
  g_assert_cmpuint (response->status, ==, 200);

  client->username = g_strdup (username);
  client->device_id = g_strdup (cps_test_json_get_string (response, "device_id"));
  client->account_id = g_strdup (cps_test_json_get_string (response, "account.id"));
  g_assert_nonnull (client->device_id);
  client_take_tokens (client, response);
  client->key = cps_device_key_new_from_seed (client->device_id, client->seed);
  return client;
}

CpsTestResponse *
cps_test_login_again (CpsTestServer *server, CpsTestClient *client, const char *password,
                      const char *extra_json_members)
{
  g_autofree char *body = login_body (client->username, password, client->seed, "again",
                                      extra_json_members);
  CpsTestResponse *response = cps_test_request (server, "POST", "/v1/auth/login", NULL, body);

  if (response->status == 200)
    client_take_tokens (client, response);
  return response;
}

void
cps_test_client_free (CpsTestClient *client)
{
  if (client == NULL)
    return;
  g_free (client->username);
  g_free (client->account_id);
  g_free (client->device_id);
  g_free (client->access_token);
  g_free (client->refresh_token);
  g_clear_object (&client->key);
  sodium_memzero (client->seed, sizeof client->seed);
  g_free (client);
}

char *
cps_test_create_project (CpsTestServer *server, CpsTestClient *client, const char *name,
                         gboolean encrypted)
{
  g_autoptr(GString) body = g_string_new ("{\"name\":");
  g_autoptr(CpsTestResponse) response = NULL;

  cps_jcs_append_string (body, name, strlen (name));
  g_string_append_printf (body, ",\"encrypted\":%s}", encrypted ? "true" : "false");
  response = cps_test_request (server, "POST", "/v1/projects", client->access_token, body->str);
  if (response->status != 201)
    g_test_message ("create project: %u %s", response->status, response->body);
  g_assert_cmpuint (response->status, ==, 201);
  return g_strdup (cps_test_json_get_string (response, "id"));
}

char *
cps_test_make_revision (CpsTestClient *client, const char *project_id,
                        const char *const *parent_jsons, const char *document_json)
{
  g_autoptr(GPtrArray) parents = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(CpsJsonDocument) document = NULL;
  g_autoptr(CpsRevision) revision = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *now = cps_now_rfc3339 ();

  for (guint i = 0; parent_jsons != NULL && parent_jsons[i] != NULL; i++)
    {
      CpsRevision *parent = cps_revision_new_from_string (parent_jsons[i], -1, &error);

      g_assert_no_error (error);
      g_ptr_array_add (parents, parent);
    }
  document = cps_json_document_parse_copy (document_json, -1, NULL, &error);
  g_assert_no_error (error);
  revision = cps_revision_new_signed (project_id, (CpsRevision *const *) parents->pdata,
                                      parents->len, client->key, now,
                                      cps_json_document_get_root (document), FALSE, &error);
  g_assert_no_error (error);
  return cps_revision_to_json (revision, TRUE);
}
