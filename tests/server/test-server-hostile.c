/* test-server-hostile.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Hostile requests against one real cps-server: malformed and oversized bodies,
 * wrong types in every field, bombs, traversal, injection, forged revisions and
 * stolen or replayed tokens. Each must get a 4xx in the contract's error shape
 * (or, inside a push, a per-revision rejection), and the server must still
 * answer GET /v1/health afterwards.
 *
 * One server serves the whole program: it is started in main() before
 * g_test_run() and stopped after it.
 */

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "cps-jcs.h"
#include "cps-revision.h"
#include "server-fixture.h"

#define PASSWORD "a long enough password"
#define DOC_A "{\"project\":{\"name\":\"Night shoot\",\"batteries\":2}}"
#define DOC_B "{\"project\":{\"name\":\"Night shoot\",\"batteries\":3}}"
#define MiB (1024 * 1024)

/* ----- the world every case runs in ----------------------------------------------------- */

typedef struct
{
  CpsTestServer *server;
  char *config_dir;
  guint16 port;
  CpsTestClient *admin;
  CpsTestClient *bea;     /* member, editor of project */
  CpsTestClient *cal;     /* member, in no project */
  CpsTestClient *spare;   /* Bea's second device: the target of revoke cases */
  char *project;          /* the admin's, Bea edits it; holds two revisions */
  char *private_project;  /* the admin's alone */
  char *rev_json;         /* the first stored revision */
  char *rev_id;
  gint64 revision_count;
  char *projects_cursor;  /* a next_cursor of GET /v1/projects */
  char *revisions_cursor; /* a next_cursor of GET /v1/projects/{id}/revisions */
  char *changes_next;     /* a next token of GET /v1/changes */
} World;

static World w;

typedef enum
{
  AS_NONE,
  AS_ADMIN,
  AS_BEA,
  AS_CAL,
} As;

static const char *
token_of (As as)
{
  switch (as)
    {
    case AS_ADMIN:
      return w.admin->access_token;
    case AS_BEA:
      return w.bea->access_token;
    case AS_CAL:
      return w.cal->access_token;
    case AS_NONE:
    default:
      return NULL;
    }
}

static char *
random_public_key (void)
{
  guint8 pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

  crypto_sign_keypair (pk, sk);
  sodium_memzero (sk, sizeof sk);
  return g_base64_encode (pk, sizeof pk);
}

/* Replaces the {placeholders} of a template with the world's ids and tokens. */
static char *
expand (const char *template)
{
  GString *text;
  g_autofree char *pk = NULL;

  if (template == NULL)
    return NULL;
  text = g_string_new (template);
  g_string_replace (text, "{project}", w.project, 0);
  g_string_replace (text, "{private}", w.private_project, 0);
  g_string_replace (text, "{rev_id}", w.rev_id, 0);
  g_string_replace (text, "{bea_account}", w.bea->account_id, 0);
  g_string_replace (text, "{cal_account}", w.cal->account_id, 0);
  g_string_replace (text, "{bea_device}", w.bea->device_id, 0);
  g_string_replace (text, "{cal_device}", w.cal->device_id, 0);
  g_string_replace (text, "{spare_device}", w.spare->device_id, 0);
  g_string_replace (text, "{bea_access}", w.bea->access_token, 0);
  g_string_replace (text, "{bea_refresh}", w.bea->refresh_token, 0);
  g_string_replace (text, "{projects_cursor}", w.projects_cursor, 0);
  g_string_replace (text, "{revisions_cursor}", w.revisions_cursor, 0);
  g_string_replace (text, "{changes_next}", w.changes_next, 0);
  if (strstr (text->str, "{pk}") != NULL)
    {
      pk = random_public_key ();
      g_string_replace (text, "{pk}", pk, 0);
    }
  return g_string_free (text, FALSE);
}

static void
assert_still_healthy (void)
{
  g_autoptr(CpsTestResponse) health = cps_test_request (w.server, "GET", "/v1/health", NULL,
                                                        NULL);

  g_assert_cmpuint (health->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (health, "status"), ==, "ok");
}

/* The contract's error shape with the exact code, and details.field when @field is set. */
static void
assert_error (CpsTestResponse *response, guint status, const char *code, const char *field)
{
  cps_test_assert_error (response, status, code);
  if (field != NULL)
    {
      if (g_strcmp0 (cps_test_json_get_string (response, "error.details.field"), field) != 0)
        g_test_message ("expected details.field %s: %s", field, response->body);
      g_assert_cmpstr (cps_test_json_get_string (response, "error.details.field"), ==, field);
    }
}

/* ----- raw HTTP over a socket ----------------------------------------------------------- */

static GSocketConnection *
raw_connect (void)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;

  g_socket_client_set_timeout (client, 30);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", w.port, NULL, &error);
  g_assert_no_error (error);
  return connection;
}

static void
raw_write (GSocketConnection *connection, const void *data, gsize length)
{
  g_autoptr(GError) error = NULL;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  g_output_stream_write_all (out, data, length, NULL, NULL, &error);
  g_assert_no_error (error);
}

static const char *
find_header (const char *headers, const char *name, gsize *length)
{
  gsize name_length = strlen (name);

  for (const char *line = headers; line != NULL && *line != '\0';)
    {
      const char *end = strstr (line, "\r\n");

      if (end == NULL)
        end = line + strlen (line);
      if ((gsize) (end - line) > name_length && line[name_length] == ':' &&
          g_ascii_strncasecmp (line, name, name_length) == 0)
        {
          const char *value = line + name_length + 1;

          while (*value == ' ')
            value++;
          *length = end - value;
          return value;
        }
      line = *end != '\0' ? end + 2 : end;
    }
  return NULL;
}

/* Reads one response (status line, headers, a Content-Length body) from @connection. */
static CpsTestResponse *
raw_read_response (GSocketConnection *connection, char **out_headers)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  g_autoptr(GByteArray) data = g_byte_array_new ();
  CpsTestResponse *response = g_new0 (CpsTestResponse, 1);
  g_autoptr(GError) error = NULL;
  const char *head_end = NULL, *value;
  gsize head_length = 0, body_length = 0, value_length;
  gssize content_length = -1;
  g_autofree char *head = NULL;
  guint8 buffer[16384];

  for (;;)
    {
      gssize n = g_input_stream_read (in, buffer, sizeof buffer, NULL, &error);

      if (n < 0)
        g_error ("reading the raw response failed after %u bytes: %s", data->len,
                 error->message);
      g_byte_array_append (data, buffer, n);
      if (head_end == NULL)
        {
          g_byte_array_append (data, (const guint8 *) "", 1);
          head_end = strstr ((const char *) data->data, "\r\n\r\n");
          g_byte_array_set_size (data, data->len - 1);
          if (head_end != NULL)
            {
              head_length = head_end - (const char *) data->data;
              head = g_strndup ((const char *) data->data, head_length);
              value = find_header (head, "Content-Length", &value_length);
              if (value != NULL)
                {
                  g_autofree char *number = g_strndup (value, value_length);

                  content_length = g_ascii_strtoll (number, NULL, 10);
                }
            }
        }
      if (head != NULL)
        body_length = data->len - head_length - 4;
      if (n == 0 || (content_length >= 0 && body_length >= (gsize) content_length))
        break;
    }

  g_assert_nonnull (head);
  g_assert_true (g_str_has_prefix (head, "HTTP/1.1 ") || g_str_has_prefix (head, "HTTP/1.0 "));
  response->status = (guint) g_ascii_strtoull (head + 9, NULL, 10);
  if (content_length >= 0)
    body_length = MIN (body_length, (gsize) content_length);
  response->body = g_strndup ((const char *) data->data + head_length + 4, body_length);
  response->length = body_length;
  if ((value = find_header (head, "Content-Type", &value_length)) != NULL)
    response->content_type = g_strndup (value, value_length);
  if (body_length > 0 && response->body[0] == '{')
    response->json = cps_json_document_parse_copy (response->body, body_length, NULL, NULL);
  if (out_headers != NULL)
    *out_headers = g_steal_pointer (&head);
  return response;
}

/* Sends @request (any bytes) and reads the answer. */
static CpsTestResponse *
raw_request (const void *request, gsize length, char **out_headers)
{
  g_autoptr(GSocketConnection) connection = raw_connect ();

  raw_write (connection, request, length);
  return raw_read_response (connection, out_headers);
}

static CpsTestResponse *
raw_get (const char *method, const char *path)
{
  g_autofree char *text = g_strdup_printf ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           "Authorization: Bearer %s\r\n"
                                           "Connection: close\r\n\r\n",
                                           method, path, w.admin->access_token);

  return raw_request (text, strlen (text), NULL);
}

/* ----- revisions ------------------------------------------------------------------------ */

/* @json with member @field replaced by the JSON text @value (NULL removes it). */
static char *
with_member (const char *json, const char *field, const char *value)
{
  g_autoptr(CpsJsonDocument) doc = cps_json_document_parse_copy (json, -1, NULL, NULL);
  const CpsJsonNode *root = cps_json_document_get_root (doc);
  GString *out = g_string_new ("{");
  gboolean found = FALSE, first = TRUE;

  g_assert_cmpint (root->type, ==, CPS_JSON_OBJECT);
  for (guint i = 0; i < root->n; i++)
    {
      const CpsJsonMember *member = &root->v.members[i];
      g_autofree char *text = NULL;

      if (strcmp (member->key, field) == 0)
        {
          found = TRUE;
          if (value == NULL)
            continue;
        }
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      cps_jcs_append_string (out, member->key, member->key_len);
      g_string_append_c (out, ':');
      if (strcmp (member->key, field) == 0)
        g_string_append (out, value);
      else
        {
          text = cps_json_to_string (&member->value, 0, NULL, NULL);
          g_assert_nonnull (text);
          g_string_append (out, text);
        }
    }
  g_string_append_c (out, '}');
  g_assert_true (found);
  return g_string_free (out, FALSE);
}

static char *
revision_id (const char *json)
{
  g_autoptr(CpsRevision) revision = cps_revision_new_from_string (json, -1, NULL);

  g_assert_nonnull (revision);
  return g_strdup (cps_revision_get_id (revision));
}

static CpsTestResponse *
push_text (As as, const char *project, const char *revisions_json)
{
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions", project);
  g_autofree char *body = g_strdup_printf ("{\"revisions\":[%s]}", revisions_json);

  return cps_test_request (w.server, "POST", path, token_of (as), body);
}

static gint64
project_revision_count (void)
{
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s", w.project);
  g_autoptr(CpsTestResponse) project = cps_test_request (w.server, "GET", path,
                                                         w.admin->access_token, NULL);

  g_assert_cmpuint (project->status, ==, 200);
  return cps_test_json_get_int (project, "revision_count");
}

/* A push answered 200 with the single revision rejected as @code, and nothing stored. */
static void
assert_rejected (CpsTestResponse *response, const char *code)
{
  if (response->status != 200 ||
      g_strcmp0 (cps_test_json_get_string (response, "results.0.status"), "rejected") != 0 ||
      g_strcmp0 (cps_test_json_get_string (response, "results.0.error.code"), code) != 0)
    g_test_message ("expected a rejection %s: %u %s", code, response->status, response->body);
  g_assert_cmpuint (response->status, ==, 200);
  g_assert_null (cps_test_json_get (response, "results.1"));
  g_assert_cmpstr (cps_test_json_get_string (response, "results.0.status"), ==, "rejected");
  g_assert_cmpstr (cps_test_json_get_string (response, "results.0.error.code"), ==, code);
  g_assert_nonnull (cps_test_json_get_string (response, "results.0.error.message"));
  g_assert_nonnull (cps_test_json_get (response, "heads"));
  g_assert_cmpint (project_revision_count (), ==, w.revision_count);
}

/* ----- table 1: one request, one expected error ----------------------------------------- */

typedef struct
{
  const char *name;
  const char *method;
  const char *path;       /* template */
  As as;
  const char *body;       /* template; NULL: no body; "": an empty body */
  guint status;
  const char *code;
  const char *field;      /* expected error.details.field, or NULL */
  const char *header;     /* (nullable) an extra request header … */
  const char *value;      /* … and its value (template) */
} Row;

#define LOGIN_DEVICE "\"device\":{\"name\":\"n\",\"platform\":\"p\",\"client_version\":\"1\"," \
                     "\"public_key\":\"{pk}\"}"
#define LOGIN(members) "{\"username\":\"bea\",\"password\":\"" PASSWORD "\"," members "}"
#define LOGIN_WITH_DEVICE(device) \
  "{\"username\":\"bea\",\"password\":\"" PASSWORD "\",\"device\":" device "}"
#define KEY(members) "{\"name\":\"k\",\"encrypted\":true,\"keys\":[{" members "}]}"

static const Row rows[] = {
  /* Malformed JSON. */
  { "json-truncated", "POST", "/v1/projects", AS_ADMIN, "{\"name\":\"x\",\"encrypted\":fal",
    400, "invalid_request", NULL, NULL, NULL },
  { "json-truncated-string", "POST", "/v1/projects", AS_ADMIN, "{\"name\":\"x", 400,
    "invalid_request", NULL, NULL, NULL },
  { "json-trailing-garbage", "POST", "/v1/projects", AS_ADMIN,
    "{\"name\":\"x\",\"encrypted\":false} {\"more\":1}", 400, "invalid_request", NULL, NULL, NULL },
  { "json-trailing-comma", "POST", "/v1/projects", AS_ADMIN,
    "{\"name\":\"x\",\"encrypted\":false,}", 400, "invalid_request", NULL, NULL, NULL },
  { "json-single-quotes", "POST", "/v1/projects", AS_ADMIN,
    "{'name':'x','encrypted':false}", 400, "invalid_request", NULL, NULL, NULL },
  { "json-nan", "POST", "/v1/projects", AS_ADMIN, "{\"name\":\"x\",\"encrypted\":NaN}", 400,
    "invalid_request", NULL, NULL, NULL },
  { "json-infinity", "POST", "/v1/auth/login", AS_NONE,
    "{\"username\":\"bea\",\"password\":Infinity}", 400, "invalid_request", NULL, NULL, NULL },
  { "json-block-comment", "POST", "/v1/projects", AS_ADMIN,
    "{\"name\":\"x\", /* c */ \"encrypted\":false}", 400, "invalid_request", NULL, NULL, NULL },
  { "json-line-comment", "POST", "/v1/projects", AS_ADMIN,
    "{\"name\":\"x\", // c\n\"encrypted\":false}", 400, "invalid_request", NULL, NULL, NULL },
  { "json-bare-string", "POST", "/v1/projects", AS_ADMIN, "\"Night shoot\"", 400,
    "invalid_request", NULL, NULL, NULL },
  { "json-bare-array", "POST", "/v1/projects", AS_ADMIN,
    "[{\"name\":\"x\",\"encrypted\":false}]", 400, "invalid_request", NULL, NULL, NULL },
  { "json-bare-number", "POST", "/v1/projects", AS_ADMIN, "42", 400, "invalid_request", NULL, NULL,
    NULL },
  { "json-bare-null", "POST", "/v1/auth/refresh", AS_NONE, "null", 400, "invalid_request", NULL,
    NULL, NULL },
  { "json-empty-body", "POST", "/v1/projects", AS_ADMIN, "", 400, "invalid_request", NULL, NULL,
    NULL },
  { "json-whitespace-body", "POST", "/v1/auth/login", AS_NONE, " \n\t ", 400,
    "invalid_request", NULL, NULL, NULL },
  /* A repeated member name is ambiguous (readers differ on which value counts): refused. */
  { "json-duplicate-keys", "POST", "/v1/projects", AS_ADMIN,
    "{\"name\":\"x\",\"encrypted\":false,\"encrypted\":\"false\"}", 400, "invalid_request",
    NULL, NULL, NULL },
  { "json-truncated-login", "POST", "/v1/auth/login", AS_NONE,
    "{\"username\":\"bea\",\"password\":", 400, "invalid_request", NULL, NULL, NULL },
  { "json-truncated-push", "POST", "/v1/projects/{project}/revisions", AS_BEA,
    "{\"revisions\":[{\"id\":", 400, "invalid_request", NULL, NULL, NULL },
  { "json-bare-array-refresh", "POST", "/v1/auth/refresh", AS_NONE, "[\"token\"]", 400,
    "invalid_request", NULL, NULL, NULL },

  /* Wrong types at every field of the login. */
  { "login-username-number", "POST", "/v1/auth/login", AS_NONE,
    "{\"username\":42,\"password\":\"" PASSWORD "\"," LOGIN_DEVICE "}", 400, "invalid_request",
    "username", NULL, NULL },
  { "login-username-missing", "POST", "/v1/auth/login", AS_NONE,
    "{\"password\":\"" PASSWORD "\"," LOGIN_DEVICE "}", 400, "invalid_request", "username", NULL,
    NULL },
  { "login-password-array", "POST", "/v1/auth/login", AS_NONE,
    "{\"username\":\"bea\",\"password\":[\"" PASSWORD "\"]," LOGIN_DEVICE "}", 400,
    "invalid_request", "password", NULL, NULL },
  { "login-password-null", "POST", "/v1/auth/login", AS_NONE,
    "{\"username\":\"bea\",\"password\":null," LOGIN_DEVICE "}", 400, "invalid_request",
    "password", NULL, NULL },
  { "login-totp-number", "POST", "/v1/auth/login", AS_NONE,
    LOGIN ("\"totp\":123456," LOGIN_DEVICE), 400, "invalid_request", "totp", NULL, NULL },
  { "login-totp-letters", "POST", "/v1/auth/login", AS_NONE,
    LOGIN ("\"totp\":\"abcdef\"," LOGIN_DEVICE), 400, "invalid_request", "totp", NULL, NULL },
  { "login-recovery-code-object", "POST", "/v1/auth/login", AS_NONE,
    LOGIN ("\"recovery_code\":{\"code\":\"x\"}," LOGIN_DEVICE), 400, "invalid_request",
    "recovery_code", NULL, NULL },
  { "login-device-string", "POST", "/v1/auth/login", AS_NONE,
    LOGIN_WITH_DEVICE ("\"laptop\""), 400, "invalid_request", "device", NULL, NULL },
  { "login-device-array", "POST", "/v1/auth/login", AS_NONE, LOGIN_WITH_DEVICE ("[]"), 400,
    "invalid_request", "device", NULL, NULL },
  { "login-device-missing", "POST", "/v1/auth/login", AS_NONE,
    "{\"username\":\"bea\",\"password\":\"" PASSWORD "\"}", 400, "invalid_request", "device", NULL,
    NULL },
  { "login-device-name-number", "POST", "/v1/auth/login", AS_NONE,
    LOGIN_WITH_DEVICE ("{\"name\":7,\"platform\":\"p\",\"client_version\":\"1\","
                       "\"public_key\":\"{pk}\"}"),
    400, "invalid_request", NULL, NULL, NULL },
  { "login-device-name-empty", "POST", "/v1/auth/login", AS_NONE,
    LOGIN_WITH_DEVICE ("{\"name\":\"\",\"platform\":\"p\",\"client_version\":\"1\","
                       "\"public_key\":\"{pk}\"}"),
    400, "invalid_request", "device.name", NULL, NULL },
  { "login-device-platform-bool", "POST", "/v1/auth/login", AS_NONE,
    LOGIN_WITH_DEVICE ("{\"name\":\"n\",\"platform\":true,\"client_version\":\"1\","
                       "\"public_key\":\"{pk}\"}"),
    400, "invalid_request", NULL, NULL, NULL },
  { "login-device-client-version-null", "POST", "/v1/auth/login", AS_NONE,
    LOGIN_WITH_DEVICE ("{\"name\":\"n\",\"platform\":\"p\",\"client_version\":null,"
                       "\"public_key\":\"{pk}\"}"),
    400, "invalid_request", NULL, NULL, NULL },
  { "login-device-public-key-number", "POST", "/v1/auth/login", AS_NONE,
    LOGIN_WITH_DEVICE ("{\"name\":\"n\",\"platform\":\"p\",\"client_version\":\"1\","
                       "\"public_key\":12345}"),
    400, "invalid_request", NULL, NULL, NULL },
  { "login-device-public-key-not-base64", "POST", "/v1/auth/login", AS_NONE,
    LOGIN_WITH_DEVICE ("{\"name\":\"n\",\"platform\":\"p\",\"client_version\":\"1\","
                       "\"public_key\":\"not base64 at all!\"}"),
    400, "invalid_request", "device.public_key", NULL, NULL },
  { "login-device-public-key-short", "POST", "/v1/auth/login", AS_NONE,
    LOGIN_WITH_DEVICE ("{\"name\":\"n\",\"platform\":\"p\",\"client_version\":\"1\","
                       "\"public_key\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}"),
    400, "invalid_request", "device.public_key", NULL, NULL },

  /* Wrong types at every field of POST /v1/projects. */
  { "project-id-number", "POST", "/v1/projects", AS_ADMIN,
    "{\"id\":42,\"name\":\"x\",\"encrypted\":false}", 400, "invalid_request", "id", NULL, NULL },
  { "project-id-not-uuid", "POST", "/v1/projects", AS_ADMIN,
    "{\"id\":\"../../etc/passwd\",\"name\":\"x\",\"encrypted\":false}", 400, "invalid_request",
    "id", NULL, NULL },
  { "project-id-uppercase-uuid", "POST", "/v1/projects", AS_ADMIN,
    "{\"id\":\"0A2B3C4D-0000-4000-8000-000000000001\",\"name\":\"x\",\"encrypted\":false}", 400,
    "invalid_request", "id", NULL, NULL },
  { "project-name-object", "POST", "/v1/projects", AS_ADMIN,
    "{\"name\":{\"en\":\"x\"},\"encrypted\":false}", 400, "invalid_request", "name", NULL, NULL },
  { "project-name-missing", "POST", "/v1/projects", AS_ADMIN, "{\"encrypted\":false}", 400,
    "invalid_request", "name", NULL, NULL },
  { "project-encrypted-string", "POST", "/v1/projects", AS_ADMIN,
    "{\"name\":\"x\",\"encrypted\":\"true\"}", 400, "invalid_request", "encrypted", NULL, NULL },
  { "project-encrypted-number", "POST", "/v1/projects", AS_ADMIN,
    "{\"name\":\"x\",\"encrypted\":1}", 400, "invalid_request", "encrypted", NULL, NULL },
  { "project-keys-object", "POST", "/v1/projects", AS_ADMIN,
    "{\"name\":\"x\",\"encrypted\":true,\"keys\":{}}", 400, "invalid_request", "keys", NULL, NULL },
  { "project-keys-item-number", "POST", "/v1/projects", AS_ADMIN,
    "{\"name\":\"x\",\"encrypted\":true,\"keys\":[1]}", 400, "invalid_request", "keys", NULL,
    NULL },
  { "project-key-account-id-number", "POST", "/v1/projects", AS_ADMIN,
    KEY ("\"account_id\":7,\"key_epoch\":1,\"wrapped_key\":\"AAAA\""), 400, "invalid_request",
    "account_id", NULL, NULL },
  { "project-key-account-id-not-uuid", "POST", "/v1/projects", AS_ADMIN,
    KEY ("\"account_id\":\"bea\",\"key_epoch\":1,\"wrapped_key\":\"AAAA\""), 400,
    "invalid_request", "account_id", NULL, NULL },
  { "project-key-epoch-string", "POST", "/v1/projects", AS_ADMIN,
    KEY ("\"account_id\":\"{bea_account}\",\"key_epoch\":\"1\",\"wrapped_key\":\"AAAA\""), 400,
    "invalid_request", "key_epoch", NULL, NULL },
  { "project-key-epoch-zero", "POST", "/v1/projects", AS_ADMIN,
    KEY ("\"account_id\":\"{bea_account}\",\"key_epoch\":0,\"wrapped_key\":\"AAAA\""), 400,
    "invalid_request", "key_epoch", NULL, NULL },
  { "project-key-epoch-fraction", "POST", "/v1/projects", AS_ADMIN,
    KEY ("\"account_id\":\"{bea_account}\",\"key_epoch\":1.5,\"wrapped_key\":\"AAAA\""), 400,
    "invalid_request", "key_epoch", NULL, NULL },
  { "project-key-wrapped-number", "POST", "/v1/projects", AS_ADMIN,
    KEY ("\"account_id\":\"{bea_account}\",\"key_epoch\":1,\"wrapped_key\":1234"), 400,
    "invalid_request", "wrapped_key", NULL, NULL },
  { "project-key-wrapped-not-base64", "POST", "/v1/projects", AS_ADMIN,
    KEY ("\"account_id\":\"{bea_account}\",\"key_epoch\":1,\"wrapped_key\":\"%%%\""), 400,
    "invalid_request", "wrapped_key", NULL, NULL },

  /* Push bodies that are not a push at all (per-revision problems are table 3). */
  { "push-revisions-object", "POST", "/v1/projects/{project}/revisions", AS_BEA,
    "{\"revisions\":{}}", 400, "invalid_request", "revisions", NULL, NULL },
  { "push-revisions-string", "POST", "/v1/projects/{project}/revisions", AS_BEA,
    "{\"revisions\":\"all of them\"}", 400, "invalid_request", "revisions", NULL, NULL },
  { "push-revisions-missing", "POST", "/v1/projects/{project}/revisions", AS_BEA, "{}", 400,
    "invalid_request", "revisions", NULL, NULL },

  /* Account creation. */
  { "account-username-number", "POST", "/v1/accounts", AS_ADMIN,
    "{\"username\":1,\"password\":\"" PASSWORD "\",\"role\":\"member\"}", 400,
    "invalid_request", "username", NULL, NULL },
  { "account-username-spaces", "POST", "/v1/accounts", AS_ADMIN,
    "{\"username\":\"a b\",\"password\":\"" PASSWORD "\",\"role\":\"member\"}", 400,
    "invalid_request", "username", NULL, NULL },
  { "account-password-bool", "POST", "/v1/accounts", AS_ADMIN,
    "{\"username\":\"dee\",\"password\":true,\"role\":\"member\"}", 400, "invalid_request",
    "password", NULL, NULL },
  { "account-password-missing", "POST", "/v1/accounts", AS_ADMIN,
    "{\"username\":\"dee\",\"role\":\"member\"}", 400, "invalid_request", "password", NULL, NULL },
  { "account-role-array", "POST", "/v1/accounts", AS_ADMIN,
    "{\"username\":\"dee\",\"password\":\"" PASSWORD "\",\"role\":[\"admin\"]}", 400,
    "invalid_request", "role", NULL, NULL },
  { "account-role-unknown", "POST", "/v1/accounts", AS_ADMIN,
    "{\"username\":\"dee\",\"password\":\"" PASSWORD "\",\"role\":\"emperor\"}", 400,
    "invalid_request", "role", NULL, NULL },

  /* Member put. */
  { "member-role-number", "PUT", "/v1/projects/{project}/members/{cal_account}", AS_ADMIN,
    "{\"role\":3}", 400, "invalid_request", "role", NULL, NULL },
  { "member-role-unknown", "PUT", "/v1/projects/{project}/members/{cal_account}", AS_ADMIN,
    "{\"role\":\"god\"}", 400, "invalid_request", "role", NULL, NULL },
  { "member-wrapped-keys-string", "PUT", "/v1/projects/{project}/members/{cal_account}",
    AS_ADMIN, "{\"role\":\"viewer\",\"wrapped_keys\":\"AAAA\"}", 400, "invalid_request",
    "wrapped_keys", NULL, NULL },
  { "member-wrapped-keys-item-number", "PUT", "/v1/projects/{project}/members/{cal_account}",
    AS_ADMIN, "{\"role\":\"viewer\",\"wrapped_keys\":[1]}", 400, "invalid_request",
    "wrapped_keys", NULL, NULL },
  { "member-target-not-uuid", "PUT", "/v1/projects/{project}/members/not-an-account",
    AS_ADMIN, "{\"role\":\"viewer\"}", 404, "not_found", NULL, NULL, NULL },

  /* Revoke reason (the target is Bea's spare device, which must survive all of them). */
  { "revoke-reason-number", "POST", "/v1/devices/{spare_device}/revoke", AS_BEA,
    "{\"reason\":404}", 400, "invalid_request", "reason", NULL, NULL },
  { "revoke-reason-array", "POST", "/v1/devices/{spare_device}/revoke", AS_BEA,
    "{\"reason\":[\"stolen\"]}", 400, "invalid_request", "reason", NULL, NULL },
  { "revoke-body-bare-string", "POST", "/v1/devices/{spare_device}/revoke", AS_BEA,
    "\"stolen\"", 400, "invalid_request", NULL, NULL, NULL },

  /* Refresh. */
  { "refresh-token-number", "POST", "/v1/auth/refresh", AS_NONE, "{\"refresh_token\":1}", 400,
    "invalid_request", "refresh_token", NULL, NULL },
  { "refresh-token-object", "POST", "/v1/auth/refresh", AS_NONE,
    "{\"refresh_token\":{\"value\":\"x\"}}", 400, "invalid_request", "refresh_token", NULL, NULL },
  { "refresh-token-missing", "POST", "/v1/auth/refresh", AS_NONE, "{}", 400,
    "invalid_request", "refresh_token", NULL, NULL },
  { "refresh-token-unknown", "POST", "/v1/auth/refresh", AS_NONE,
    "{\"refresh_token\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", 401,
    "unauthorized", NULL, NULL, NULL },
  { "refresh-with-access-token", "POST", "/v1/auth/refresh", AS_NONE,
    "{\"refresh_token\":\"{bea_access}\"}", 401, "unauthorized", NULL, NULL, NULL },

  /* SQL metacharacters everywhere a value reaches storage. */
  { "sql-login-username", "POST", "/v1/auth/login", AS_NONE,
    "{\"username\":\"' OR 1=1 --\",\"password\":\"x\"," LOGIN_DEVICE "}", 401,
    "invalid_credentials", NULL, NULL, NULL },
  { "sql-login-username-comment", "POST", "/v1/auth/login", AS_NONE,
    "{\"username\":\"admin'--\",\"password\":\"x\"," LOGIN_DEVICE "}", 401,
    "invalid_credentials", NULL, NULL, NULL },
  { "sql-login-password", "POST", "/v1/auth/login", AS_NONE,
    "{\"username\":\"admin\",\"password\":\"' OR '1'='1\"," LOGIN_DEVICE "}", 401,
    "invalid_credentials", NULL, NULL, NULL },
  { "sql-login-drop-table", "POST", "/v1/auth/login", AS_NONE,
    "{\"username\":\"\\\"; DROP TABLE accounts; --\",\"password\":\"x\"," LOGIN_DEVICE "}", 401,
    "invalid_credentials", NULL, NULL, NULL },
  { "sql-account-username", "POST", "/v1/accounts", AS_ADMIN,
    "{\"username\":\"\\\"; DROP TABLE accounts; --\",\"password\":\"" PASSWORD "\","
    "\"role\":\"member\"}",
    400, "invalid_request", "username", NULL, NULL },
  { "sql-project-id", "POST", "/v1/projects", AS_ADMIN,
    "{\"id\":\"' OR 1=1 --\",\"name\":\"x\",\"encrypted\":false}", 400, "invalid_request",
    "id", NULL, NULL },
  { "sql-query-cursor", "GET", "/v1/projects?cursor=%27%20OR%201%3D1%20--", AS_BEA, NULL, 400,
    "invalid_request", "cursor", NULL, NULL },
  { "sql-query-limit", "GET", "/v1/projects?limit=1%20OR%201%3D1", AS_BEA, NULL, 400,
    "invalid_request", "limit", NULL, NULL },
  { "sql-query-since", "GET", "/v1/changes?since=%27%3B%20DROP%20TABLE%20revisions%3B%20--",
    AS_BEA, NULL, 400, "invalid_request", "since", NULL, NULL },
  { "sql-query-audit-actor", "GET", "/v1/audit?actor=%27%20OR%201%3D1%20--", AS_ADMIN, NULL,
    400, "invalid_request", "actor", NULL, NULL },
  { "sql-query-audit-action", "GET", "/v1/audit?action=x%27%3B%20DELETE%20FROM%20audit%3B",
    AS_ADMIN, NULL, 400, "invalid_request", "action", NULL, NULL },
  { "sql-path-project", "GET", "/v1/projects/%27%20OR%201%3D1%20--", AS_ADMIN, NULL, 404,
    "not_found", NULL, NULL, NULL },
  { "sql-path-revision", "GET", "/v1/projects/{project}/revisions/%27%20OR%20%271%27%3D%271",
    AS_ADMIN, NULL, 404, "not_found", NULL, NULL, NULL },

  /* Unknown routes. */
  { "route-unknown", "GET", "/v1/nothing", AS_ADMIN, NULL, 404, "not_found", NULL, NULL, NULL },
  { "route-other-version", "GET", "/v2/health", AS_NONE, NULL, 404, "not_found", NULL, NULL, NULL },
  { "route-root", "GET", "/", AS_NONE, NULL, 404, "not_found", NULL, NULL, NULL },
  { "route-trailing-slash", "GET", "/v1/health/", AS_NONE, NULL, 404, "not_found", NULL, NULL,
    NULL },
  { "route-too-deep", "GET", "/v1/projects/{project}/revisions/{rev_id}/extra/more", AS_ADMIN,
    NULL, 404, "not_found", NULL, NULL, NULL },
  { "route-unknown-below-project", "GET", "/v1/projects/{project}/secrets", AS_ADMIN, NULL, 404,
    "not_found", NULL, NULL, NULL },

  /* Bad limits and cursors. */
  { "limit-zero", "GET", "/v1/projects?limit=0", AS_BEA, NULL, 400, "invalid_request",
    "limit", NULL, NULL },
  { "limit-negative", "GET", "/v1/projects?limit=-1", AS_BEA, NULL, 400, "invalid_request",
    "limit", NULL, NULL },
  { "limit-huge", "GET", "/v1/projects?limit=99999999999", AS_BEA, NULL, 400,
    "invalid_request", "limit", NULL, NULL },
  { "limit-over-page-size", "GET", "/v1/projects/{project}/revisions?limit=501", AS_BEA, NULL,
    400, "invalid_request", "limit", NULL, NULL },
  { "limit-not-a-number", "GET", "/v1/changes?limit=ten", AS_BEA, NULL, 400,
    "invalid_request", "limit", NULL, NULL },
  { "limit-empty", "GET", "/v1/accounts?limit=", AS_ADMIN, NULL, 400, "invalid_request",
    "limit", NULL, NULL },
  { "cursor-garbage", "GET", "/v1/projects?cursor=garbage!!", AS_BEA, NULL, 400,
    "invalid_request", "cursor", NULL, NULL },
  { "cursor-too-long", "GET",
    "/v1/projects?cursor="
    "cHJvamVjdDp4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4"
    "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4"
    "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4"
    "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4"
    "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4"
    "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4"
    "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4",
    AS_BEA, NULL, 400, "invalid_request", "cursor", NULL, NULL },
  { "cursor-of-projects-on-revisions", "GET",
    "/v1/projects/{project}/revisions?cursor={projects_cursor}", AS_ADMIN, NULL, 400,
    "invalid_request", "cursor", NULL, NULL },
  { "cursor-of-changes-on-projects", "GET", "/v1/projects?cursor={changes_next}", AS_ADMIN,
    NULL, 400, "invalid_request", "cursor", NULL, NULL },
  { "cursor-of-revisions-on-changes", "GET", "/v1/changes?since={revisions_cursor}", AS_BEA,
    NULL, 400, "invalid_request", "since", NULL, NULL },
  { "cursor-of-revisions-on-accounts", "GET", "/v1/accounts?cursor={revisions_cursor}",
    AS_ADMIN, NULL, 400, "invalid_request", "cursor", NULL, NULL },
  { "cursor-of-revisions-on-audit", "GET", "/v1/audit?cursor={revisions_cursor}", AS_ADMIN,
    NULL, 400, "invalid_request", "cursor", NULL, NULL },

  /* Other people's things. */
  { "token-other-user-device-revoke", "POST", "/v1/devices/{cal_device}/revoke", AS_BEA,
    "{\"reason\":\"mine now\"}", 404, "not_found", NULL, NULL, NULL },
  { "token-other-user-project", "GET", "/v1/projects/{private}", AS_BEA, NULL, 404,
    "not_found", NULL, NULL, NULL },
  { "token-other-user-revisions", "GET", "/v1/projects/{private}/revisions", AS_BEA, NULL, 404,
    "not_found", NULL, NULL, NULL },
  { "token-other-user-conflict", "GET", "/v1/projects/{private}/conflict", AS_BEA, NULL, 404,
    "not_found", NULL, NULL, NULL },
  { "token-other-user-push", "POST", "/v1/projects/{private}/revisions", AS_BEA,
    "{\"revisions\":[]}", 404, "not_found", NULL, NULL, NULL },
  { "token-other-user-revision", "GET", "/v1/projects/{project}/revisions/{rev_id}", AS_CAL,
    NULL, 404, "not_found", NULL, NULL, NULL },
  { "token-editor-adds-member", "PUT", "/v1/projects/{project}/members/{cal_account}", AS_BEA,
    "{\"role\":\"owner\"}", 403, "forbidden", NULL, NULL, NULL },
  { "token-member-lists-accounts", "GET", "/v1/accounts", AS_BEA, NULL, 403, "forbidden", NULL,
    NULL, NULL },
  { "token-member-reads-audit", "GET", "/v1/audit", AS_BEA, NULL, 403, "forbidden", NULL, NULL,
    NULL },
  { "token-member-creates-account", "POST", "/v1/accounts", AS_BEA,
    "{\"username\":\"mallory\",\"password\":\"" PASSWORD "\",\"role\":\"admin\"}", 403,
    "forbidden", NULL, NULL, NULL },

  /* Broken or borrowed credentials. */
  { "token-missing", "GET", "/v1/account", AS_NONE, NULL, 401, "unauthorized", NULL, NULL, NULL },
  { "token-refresh-as-access", "GET", "/v1/account", AS_NONE, NULL, 401, "unauthorized", NULL,
    "Authorization", "Bearer {bea_refresh}" },
  { "token-illegal-characters", "GET", "/v1/account", AS_NONE, NULL, 401, "unauthorized", NULL,
    "Authorization", "Bearer abc$%^&*()<>;'\"def\\ghijklmnop" },
  { "token-too-short", "GET", "/v1/account", AS_NONE, NULL, 401, "unauthorized", NULL,
    "Authorization", "Bearer abc" },
  { "token-unknown", "GET", "/v1/account", AS_NONE, NULL, 401, "unauthorized", NULL,
    "Authorization", "Bearer Zm9yZ2VkLXRva2VuLXRoYXQtbG9va3MtcmVhbC0xMjM0NQ" },
  { "token-empty-bearer", "GET", "/v1/account", AS_NONE, NULL, 401, "unauthorized", NULL,
    "Authorization", "Bearer" },
  { "token-basic-auth", "GET", "/v1/account", AS_NONE, NULL, 401, "unauthorized", NULL,
    "Authorization", "Basic YWRtaW46YSBsb25nIGVub3VnaCBwYXNzd29yZA==" },
  { "token-two-tokens", "GET", "/v1/account", AS_NONE, NULL, 401, "unauthorized", NULL,
    "Authorization", "Bearer {bea_access} {bea_access}" },
};

static void
run_row (gconstpointer data)
{
  const Row *row = data;
  g_autofree char *path = expand (row->path);
  g_autofree char *body = expand (row->body);
  g_autofree char *value = expand (row->value);
  const char *headers[] = { row->header, value, NULL };
  g_autoptr(CpsTestResponse) response = NULL;

  response = cps_test_request_full (w.server, row->method, path, token_of (row->as), body,
                                    body != NULL ? strlen (body) : 0,
                                    row->header != NULL ? headers : NULL);
  assert_error (response, row->status, row->code, row->field);
  assert_still_healthy ();
}

/* ----- table 2: wrong methods, with the Allow header ------------------------------------ */

typedef struct
{
  const char *name;
  const char *method;
  const char *path;
  const char *allow;
} MethodRow;

static const MethodRow method_rows[] = {
  { "method-delete-health", "DELETE", "/v1/health", "GET" },
  { "method-get-login", "GET", "/v1/auth/login", "POST" },
  { "method-patch-projects", "PATCH", "/v1/projects", "POST, GET" },
  { "method-put-revisions", "PUT", "/v1/projects/{project}/revisions", "POST, GET" },
  { "method-get-revoke", "GET", "/v1/devices/{bea_device}/revoke", "POST" },
  { "method-post-changes", "POST", "/v1/changes", "GET" },
};

static void
run_method_row (gconstpointer data)
{
  const MethodRow *row = data;
  g_autofree char *path = expand (row->path);
  g_autofree char *request = NULL, *headers = NULL, *allow = NULL;
  g_autoptr(CpsTestResponse) response = NULL;
  const char *value;
  gsize length;

  request = g_strdup_printf ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                             "Content-Length: 2\r\nConnection: close\r\n\r\n{}",
                             row->method, path, w.admin->access_token);
  response = raw_request (request, strlen (request), &headers);
  assert_error (response, 405, "method_not_allowed", NULL);
  value = find_header (headers, "Allow", &length);
  g_assert_nonnull (value);
  allow = g_strndup (value, length);
  g_assert_cmpstr (allow, ==, row->allow);
  assert_still_healthy ();
}

/* ----- table 3: per-revision rejections inside a push ----------------------------------- */

typedef struct
{
  const char *name;
  const char *field;   /* NULL: @value is the whole revision */
  const char *value;   /* JSON text; NULL removes @field */
  const char *code;
} PushRow;

static const PushRow push_rows[] = {
  { "push-revision-number", NULL, "42", "invalid_revision" },
  { "push-revision-string", NULL, "\"sha256:0000\"", "invalid_revision" },
  { "push-revision-array", NULL, "[]", "invalid_revision" },
  { "push-revision-null", NULL, "null", "invalid_revision" },
  { "push-revision-empty-object", NULL, "{}", "invalid_revision" },
  { "push-revision-id-number", "id", "42", "invalid_revision" },
  { "push-revision-id-missing", "id", NULL, "invalid_revision" },
  { "push-revision-project-id-number", "project_id", "42", "invalid_revision" },
  { "push-revision-parents-string", "parents", "\"sha256:00\"", "invalid_revision" },
  { "push-revision-parents-numbers", "parents", "[1,2]", "invalid_revision" },
  { "push-revision-clock-array", "clock", "[1]", "invalid_revision" },
  { "push-revision-clock-string-count", "clock", "{\"{bea_device}\":\"1\"}",
    "invalid_revision" },
  { "push-revision-device-id-number", "device_id", "7", "invalid_revision" },
  { "push-revision-created-at-number", "created_at", "1700000000", "invalid_revision" },
  { "push-revision-created-at-garbage", "created_at", "\"yesterday\"", "invalid_revision" },
  { "push-revision-checksum-bool", "checksum", "true", "invalid_revision" },
  { "push-revision-deleted-string", "deleted", "\"no\"", "invalid_revision" },
  { "push-revision-payload-string", "payload", "\"{}\"", "invalid_revision" },
  { "push-revision-payload-unknown-enc", "payload", "{\"enc\":\"rot13\",\"json\":{}}",
    "invalid_revision" },
  { "push-revision-signature-number", "signature", "12", "invalid_revision" },
  { "push-revision-signature-missing", "signature", NULL, "invalid_revision" },
  { "push-revision-extra-member", "deleted", "false,\"evil\":true", "invalid_revision" },
  /* Forged ids and signatures. */
  { "forged-id", "id",
    "\"sha256:1111111111111111111111111111111111111111111111111111111111111111\"", "bad_id" },
  { "forged-signature", "signature",
    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
    "\"",
    "bad_signature" },
};

static void
run_push_row (gconstpointer data)
{
  const PushRow *row = data;
  g_autofree char *valid = cps_test_make_revision (w.bea, w.project, NULL, DOC_B);
  g_autofree char *value = expand (row->value);
  g_autofree char *revision = NULL;
  g_autoptr(CpsTestResponse) response = NULL;

  revision = row->field == NULL ? g_strdup (value) : with_member (valid, row->field, value);
  response = push_text (AS_BEA, w.project, revision);
  assert_rejected (response, row->code);
  assert_still_healthy ();
}

/* ----- special cases -------------------------------------------------------------------- */

static CpsTestResponse *
post_bytes (const char *path, As as, const void *body, gsize length, const char *encoding)
{
  const char *headers[] = { "Content-Encoding", encoding, NULL };

  return cps_test_request_full (w.server, "POST", path, token_of (as), body, length,
                                encoding != NULL ? headers : NULL);
}

static void
test_oversized_body (void)
{
  gsize length = 4 * MiB + 1;
  g_autofree char *body = g_malloc (length);
  g_autoptr(CpsTestResponse) response = NULL;

  memset (body, ' ', length);
  body[0] = '{';
  body[length - 1] = '}';
  response = post_bytes ("/v1/projects", AS_ADMIN, body, length, NULL);
  assert_error (response, 413, "too_large", NULL);
}

static void
test_oversized_body_expect_continue (void)
{
  g_autofree char *request = NULL;
  g_autoptr(CpsTestResponse) response = NULL;

  /* The answer comes before a single byte of the body. */
  request = g_strdup_printf ("POST /v1/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                             "Content-Length: 1073741824\r\nExpect: 100-continue\r\n\r\n",
                             w.admin->access_token);
  response = raw_request (request, strlen (request), NULL);
  assert_error (response, 413, "too_large", NULL);
}

static gint64
server_rss_kib (void)
{
  const char *pid = g_subprocess_get_identifier (w.server->process);
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", pid);
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents (path, &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  g_assert_nonnull (line);
  return g_ascii_strtoll (line + strlen ("VmRSS:"), NULL, 10);
}

static void
test_oversized_body_not_buffered (void)
{
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(CpsTestResponse) response = NULL;
  g_autofree char *request = NULL;
  g_autofree guint8 *chunk = g_malloc0 (MiB);
  gint64 before, after;
  const guint n_mib = 64;

  if (g_subprocess_get_identifier (w.server->process) == NULL ||
      !g_file_test ("/proc/self/status", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("needs /proc to read the server's memory use");
      return;
    }
  /* A client that sends what it declares: the server must not hold it in memory. */
  before = server_rss_kib ();
  request = g_strdup_printf ("POST /v1/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Authorization: Bearer %s\r\nContent-Length: %u\r\n"
                             "Connection: close\r\n\r\n",
                             w.admin->access_token, n_mib * MiB);
  connection = raw_connect ();
  raw_write (connection, request, strlen (request));
  for (guint i = 0; i < n_mib; i++)
    raw_write (connection, chunk, MiB);
  response = raw_read_response (connection, NULL);
  after = server_rss_kib ();
  g_test_message ("server RSS %" G_GINT64_FORMAT " KiB before, %" G_GINT64_FORMAT
                  " KiB after a %u MiB body",
                  before, after, n_mib);
  assert_error (response, 413, "too_large", NULL);
  g_assert_cmpint (after - before, <, 16 * 1024);
  assert_still_healthy ();
}

static GBytes *
gzip_bytes (const void *data, gsize length)
{
  g_autoptr(GZlibCompressor) compressor = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP,
                                                                 9);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint8 buffer[65536];
  gsize consumed = 0;

  for (;;)
    {
      gsize read = 0, written = 0;
      g_autoptr(GError) error = NULL;
      GConverterResult result = g_converter_convert (G_CONVERTER (compressor),
                                                     (const guint8 *) data + consumed,
                                                     length - consumed, buffer, sizeof buffer,
                                                     G_CONVERTER_INPUT_AT_END, &read, &written,
                                                     &error);

      g_assert_no_error (error);
      consumed += read;
      g_byte_array_append (out, buffer, written);
      if (result == G_CONVERTER_FINISHED)
        break;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static void
test_gzip_bomb (void)
{
  gsize length = 5 * MiB;
  g_autofree char *plain = g_malloc (length);
  g_autoptr(GBytes) bomb = NULL;
  g_autoptr(CpsTestResponse) response = NULL;
  gsize size;
  gconstpointer data;

  /* A valid JSON text once inflated, so only its size can be the problem. */
  memset (plain, ' ', length);
  memcpy (plain, "{\"name\":\"x\",\"encrypted\":false}", 30);
  bomb = gzip_bytes (plain, length);
  data = g_bytes_get_data (bomb, &size);
  g_test_message ("%" G_GSIZE_FORMAT " bytes of gzip inflate to %" G_GSIZE_FORMAT, size, length);
  g_assert_cmpuint (size, <, 64 * 1024);
  response = post_bytes ("/v1/projects", AS_ADMIN, data, size, "gzip");
  assert_error (response, 413, "too_large", NULL);
}

static void
test_gzip_invalid (void)
{
  static const guint8 garbage[] = { 0x1f, 0x8b, 0x08, 0x00, 'n', 'o', 't', ' ', 'g', 'z', 'i',
                                    'p', 0xff, 0x00, 0x13 };
  g_autoptr(CpsTestResponse) response = post_bytes ("/v1/projects", AS_ADMIN, garbage,
                                                    sizeof garbage, "gzip");

  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_gzip_truncated (void)
{
  const char *plain = "{\"name\":\"Truncated\",\"encrypted\":false}";
  g_autoptr(GBytes) full = gzip_bytes (plain, strlen (plain));
  gsize size;
  gconstpointer data = g_bytes_get_data (full, &size);
  g_autoptr(CpsTestResponse) response = post_bytes ("/v1/projects", AS_ADMIN, data, size / 2,
                                                    "gzip");

  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_gzip_plain_body (void)
{
  /* Marked gzip, but plain JSON. */
  const char *plain = "{\"name\":\"x\",\"encrypted\":false}";
  g_autoptr(CpsTestResponse) response = post_bytes ("/v1/projects", AS_ADMIN, plain,
                                                    strlen (plain), "gzip");

  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_encoding_br (void)
{
  const char *body = "{\"name\":\"x\",\"encrypted\":false}";
  g_autoptr(CpsTestResponse) response = post_bytes ("/v1/projects", AS_ADMIN, body,
                                                    strlen (body), "br");

  assert_error (response, 415, "unsupported_encoding", NULL);
}

static void
test_encoding_deflate (void)
{
  const char *body = "{\"name\":\"x\",\"encrypted\":false}";
  g_autoptr(CpsTestResponse) response = post_bytes ("/v1/projects", AS_ADMIN, body,
                                                    strlen (body), "deflate");

  assert_error (response, 415, "unsupported_encoding", NULL);
}

static void
test_chunked_body (void)
{
  g_autofree char *request = NULL;
  g_autoptr(CpsTestResponse) response = NULL;
  const char *body = "{\"name\":\"x\",\"encrypted\":false}";

  /* libsoup always sets Content-Length itself, so this one is written by hand. */
  request = g_strdup_printf ("POST /v1/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                             "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                             "%zx\r\n%s\r\n0\r\n\r\n",
                             w.admin->access_token, strlen (body), body);
  response = raw_request (request, strlen (request), NULL);
  assert_error (response, 411, "length_required", NULL);
}

static void
test_invalid_utf8 (void)
{
  const char body[] = "{\"name\":\"caf\xc3\x28\",\"encrypted\":false}";
  g_autoptr(CpsTestResponse) response = post_bytes ("/v1/projects", AS_ADMIN, body,
                                                    sizeof body - 1, NULL);

  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_invalid_utf8_overlong (void)
{
  /* An overlong “/”: a classic way to smuggle separators past naive checks. */
  const char body[] = "{\"username\":\"..\xc0\xaf..\",\"password\":\"x\"}";
  g_autoptr(CpsTestResponse) response = post_bytes ("/v1/auth/login", AS_NONE, body,
                                                    sizeof body - 1, NULL);

  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_nul_byte_in_body (void)
{
  const char body[] = "{\"name\":\"x\",\0\"encrypted\":false}";
  g_autoptr(CpsTestResponse) response = post_bytes ("/v1/projects", AS_ADMIN, body,
                                                    sizeof body - 1, NULL);

  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_nul_byte_in_string (void)
{
  const char body[] = "{\"name\":\"Night\0shoot\",\"encrypted\":false}";
  g_autoptr(CpsTestResponse) response = post_bytes ("/v1/projects", AS_ADMIN, body,
                                                    sizeof body - 1, NULL);

  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_escaped_nul_username (void)
{
  g_autofree char *pk = random_public_key ();
  g_autofree char *body = NULL;
  g_autoptr(CpsTestResponse) response = NULL;

  /* "bea\u0000admin": a C string compare would see "bea". */
  body = g_strdup_printf ("{\"username\":\"bea\\u0000admin\",\"password\":\"%s\","
                          "\"device\":{\"name\":\"n\",\"platform\":\"p\",\"client_version\":"
                          "\"1\",\"public_key\":\"%s\"}}",
                          PASSWORD, pk);
  response = cps_test_request (w.server, "POST", "/v1/auth/login", NULL, body);
  assert_error (response, 400, "invalid_request", "username");
}

static void
test_escaped_nul_project_name (void)
{
  g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "POST", "/v1/projects",
                                                          w.admin->access_token,
                                                          "{\"name\":\"a\\u0000b\","
                                                          "\"encrypted\":false}");

  assert_error (response, 400, "invalid_request", "name");
}

static void
test_huge_keys_array (void)
{
  GString *body = g_string_new ("{\"name\":\"Keys\",\"encrypted\":true,\"keys\":[");
  g_autoptr(CpsTestResponse) response = NULL;

  for (guint i = 0; i < 100000; i++)
    g_string_append (body, i > 0 ? ",{}" : "{}");
  g_string_append (body, "]}");
  response = cps_test_request (w.server, "POST", "/v1/projects", w.admin->access_token,
                               body->str);
  g_string_free (body, TRUE);
  assert_error (response, 413, "too_large", "keys");
}

static void
test_huge_revisions_array (void)
{
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions", w.project);
  GString *body = g_string_new ("{\"revisions\":[");
  g_autoptr(CpsTestResponse) response = NULL;

  for (guint i = 0; i < 10000; i++)
    g_string_append (body, i > 0 ? ",{}" : "{}");
  g_string_append (body, "]}");
  response = cps_test_request (w.server, "POST", path, w.bea->access_token, body->str);
  g_string_free (body, TRUE);
  assert_error (response, 413, "too_large", NULL);
  g_assert_cmpint (project_revision_count (), ==, w.revision_count);
}

static void
test_huge_revisions_real (void)
{
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions", w.project);
  g_autofree char *one = cps_test_make_revision (w.bea, w.project, NULL, DOC_B);
  GString *body = g_string_new ("{\"revisions\":[");
  g_autoptr(CpsTestResponse) response = NULL;

  /* 101 real revisions: one over the push limit; none of them is stored. */
  for (guint i = 0; i < 101; i++)
    g_string_append_printf (body, "%s%s", i > 0 ? "," : "", one);
  g_string_append (body, "]}");
  response = cps_test_request (w.server, "POST", path, w.bea->access_token, body->str);
  g_string_free (body, TRUE);
  assert_error (response, 413, "too_large", NULL);
  g_assert_cmpint (project_revision_count (), ==, w.revision_count);
}

static char *
deep_nesting (const char *prefix, guint depth, const char *suffix)
{
  GString *text = g_string_new (prefix);

  for (guint i = 0; i < depth; i++)
    g_string_append (text, "{\"a\":[");
  g_string_append (text, "1");
  for (guint i = 0; i < depth; i++)
    g_string_append (text, "]}");
  g_string_append (text, suffix);
  return g_string_free (text, FALSE);
}

static void
test_nesting_10000 (void)
{
  g_autofree char *body = deep_nesting ("{\"name\":\"x\",\"encrypted\":false,\"deep\":", 5000,
                                        "}");
  g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "POST", "/v1/projects",
                                                          w.admin->access_token, body);

  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_nesting_10000_arrays (void)
{
  GString *body = g_string_new (NULL);
  g_autoptr(CpsTestResponse) response = NULL;

  for (guint i = 0; i < 10000; i++)
    g_string_append_c (body, '[');
  for (guint i = 0; i < 10000; i++)
    g_string_append_c (body, ']');
  response = cps_test_request (w.server, "POST", "/v1/auth/login", NULL, body->str);
  g_string_free (body, TRUE);
  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_nesting_10000_push (void)
{
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions", w.project);
  g_autofree char *body = deep_nesting ("{\"revisions\":[", 5000, "]}");
  g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "POST", path,
                                                          w.bea->access_token, body);

  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_nesting_in_revision_payload (void)
{
  g_autofree char *valid = cps_test_make_revision (w.bea, w.project, NULL, DOC_B);
  g_autofree char *deep = deep_nesting ("{\"enc\":\"none\",\"json\":", 600, "}");
  g_autofree char *revision = with_member (valid, "payload", deep);
  g_autoptr(CpsTestResponse) response = push_text (AS_BEA, w.project, revision);

  /* Deeper than the reader allows: the body as a whole is refused. */
  assert_error (response, 400, "invalid_request", NULL);
  g_assert_cmpint (project_revision_count (), ==, w.revision_count);
}

/* Signed and readable, but nested deeper than a feed page could carry: refused by itself. */
static void
test_nesting_signed_revision (void)
{
  /* two levels per step: 281 in the document, 284 in the revision */
  g_autofree char *deep = deep_nesting ("{\"deep\":", 140, "}");
  g_autofree char *revision = cps_test_make_revision (w.bea, w.project, NULL, deep);
  g_autoptr(CpsTestResponse) response = push_text (AS_BEA, w.project, revision);

  assert_rejected (response, "invalid_revision");
  g_assert_nonnull (strstr (cps_test_json_get_string (response, "results.0.error.message"),
                            "deeper than 256"));
}

static char *
long_string (gsize length, char c)
{
  char *text = g_malloc (length + 1);

  memset (text, c, length);
  text[length] = '\0';
  return text;
}

static void
test_long_username (void)
{
  g_autofree char *name = long_string (MiB, 'a');
  g_autofree char *pk = random_public_key ();
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"x\","
                                           "\"device\":{\"name\":\"n\",\"platform\":\"p\","
                                           "\"client_version\":\"1\",\"public_key\":\"%s\"}}",
                                           name, pk);
  g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "POST", "/v1/auth/login",
                                                          NULL, body);

  assert_error (response, 400, "invalid_request", "username");
}

static void
test_long_password (void)
{
  g_autofree char *password = long_string (MiB, 'p');
  g_autofree char *pk = random_public_key ();
  g_autofree char *body = g_strdup_printf ("{\"username\":\"bea\",\"password\":\"%s\","
                                           "\"device\":{\"name\":\"n\",\"platform\":\"p\","
                                           "\"client_version\":\"1\",\"public_key\":\"%s\"}}",
                                           password, pk);
  g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "POST", "/v1/auth/login",
                                                          NULL, body);

  /* Refused before any Argon2id work on a megabyte. */
  assert_error (response, 400, "invalid_request", "password");
}

static void
test_long_project_name (void)
{
  g_autofree char *name = long_string (MiB, 'n');
  g_autofree char *body = g_strdup_printf ("{\"name\":\"%s\",\"encrypted\":false}", name);
  g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "POST", "/v1/projects",
                                                          w.admin->access_token, body);

  assert_error (response, 400, "invalid_request", "name");
}

static void
test_long_device_name (void)
{
  g_autofree char *name = long_string (MiB, 'd');
  g_autofree char *pk = random_public_key ();
  g_autofree char *body = g_strdup_printf ("{\"username\":\"bea\",\"password\":\"%s\","
                                           "\"device\":{\"name\":\"%s\",\"platform\":\"p\","
                                           "\"client_version\":\"1\",\"public_key\":\"%s\"}}",
                                           PASSWORD, name, pk);
  g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "POST", "/v1/auth/login",
                                                          NULL, body);

  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_path_traversal_encoded (void)
{
  g_autoptr(CpsTestResponse) response = raw_get ("GET", "/v1/projects/..%2f..%2fetc%2fpasswd");

  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_path_traversal_dots (void)
{
  g_autoptr(CpsTestResponse) response = raw_get ("GET", "/v1/projects/%2e%2e");

  assert_error (response, 404, "not_found", NULL);
}

static void
test_path_traversal_plain (void)
{
  g_autoptr(CpsTestResponse) response = raw_get ("GET", "/v1/projects/../../../etc/passwd");

  assert_error (response, 404, "not_found", NULL);
}

static void
test_path_traversal_backslash (void)
{
  g_autoptr(CpsTestResponse) response = raw_get ("GET", "/v1/projects/..%5c..%5cetc%5cpasswd");

  assert_error (response, 404, "not_found", NULL);
}

static void
test_path_nul (void)
{
  g_autoptr(CpsTestResponse) response = raw_get ("GET", "/v1/projects/abc%00def");

  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_path_nul_revision (void)
{
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions/%s%%00.json", w.project,
                                           w.rev_id);
  g_autoptr(CpsTestResponse) response = raw_get ("GET", path);

  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_path_nul_route (void)
{
  g_autoptr(CpsTestResponse) response = raw_get ("GET", "/v1/health%00");

  assert_error (response, 400, "invalid_request", NULL);
}

static void
test_path_long_segment (void)
{
  g_autofree char *segment = long_string (2000, 'x');
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s", segment);
  g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "GET", path,
                                                          w.admin->access_token, NULL);

  assert_error (response, 404, "not_found", NULL);
}

static void
test_query_too_long (void)
{
  g_autofree char *value = long_string (5000, 'q');
  g_autofree char *path = g_strdup_printf ("/v1/projects?limit=1&x=%s", value);
  g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "GET", path,
                                                          w.bea->access_token, NULL);

  assert_error (response, 414, "too_large", NULL);
}

static void
test_authorization_10kb (void)
{
  g_autofree char *token = long_string (10 * 1024, 'A');
  g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "GET", "/v1/account",
                                                          token, NULL);

  assert_error (response, 401, "unauthorized", NULL);
}

static void
test_sql_project_name_literal (void)
{
  const char *name = "Robert'); DROP TABLE projects; --";
  g_autofree char *id = cps_test_create_project (w.server, w.admin, name, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s", id);
  g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "GET", path,
                                                          w.admin->access_token, NULL);
  g_autoptr(CpsTestResponse) others = NULL;

  /* Stored as the text it is, and every other project is still there. */
  g_assert_cmpuint (response->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (response, "name"), ==, name);
  g_free (path);
  path = g_strdup_printf ("/v1/projects/%s", w.project);
  others = cps_test_request (w.server, "GET", path, w.admin->access_token, NULL);
  g_assert_cmpuint (others->status, ==, 200);
}

static void
test_sql_accounts_still_work (void)
{
  g_autoptr(CpsTestClient) again = cps_test_login (w.server, "bea", PASSWORD, "After SQL");
  g_autoptr(CpsTestResponse) accounts = cps_test_request (w.server, "GET", "/v1/accounts",
                                                          w.admin->access_token, NULL);
  g_autoptr(CpsTestResponse) wrong = NULL;
  const CpsJsonNode *list;
  guint found = 0;

  /* The injection attempts above neither dropped nor widened anything. */
  g_assert_cmpstr (again->account_id, ==, w.bea->account_id);
  g_assert_cmpuint (accounts->status, ==, 200);
  list = cps_test_json_get (accounts, "accounts");
  g_assert_nonnull (list);
  g_assert_cmpuint (list->n, ==, 3);
  for (guint i = 0; i < list->n; i++)
    {
      const char *name = cps_json_object_get_string (&list->v.items[i], "username");

      if (g_strcmp0 (name, "admin") == 0 || g_strcmp0 (name, "bea") == 0 ||
          g_strcmp0 (name, "cal") == 0)
        found++;
    }
  g_assert_cmpuint (found, ==, 3);

  wrong = cps_test_login_again (w.server, again, "' OR '1'='1", NULL);
  assert_error (wrong, 401, "invalid_credentials", NULL);
}

static void
test_forged_signature_other_key (void)
{
  g_autofree char *valid = cps_test_make_revision (w.bea, w.project, NULL, DOC_B);
  g_autofree char *id = revision_id (valid);
  g_autofree char *signature = cps_device_key_sign_base64 (w.cal->key, id, strlen (id));
  g_autofree char *quoted = g_strdup_printf ("\"%s\"", signature);
  g_autofree char *forged = with_member (valid, "signature", quoted);
  g_autoptr(CpsTestResponse) response = push_text (AS_BEA, w.project, forged);

  /* Cal's valid signature over the right id, but the revision names Bea's device. */
  assert_rejected (response, "bad_signature");
}

static void
test_forged_device_claim (void)
{
  g_autofree char *valid = cps_test_make_revision (w.bea, w.project, NULL, DOC_B);
  g_autofree char *clock = g_strdup_printf ("{\"%s\":1}", w.admin->device_id);
  g_autofree char *device = g_strdup_printf ("\"%s\"", w.admin->device_id);
  g_autofree char *claimed = NULL, *id = NULL, *signature = NULL, *quoted_id = NULL;
  g_autofree char *quoted_signature = NULL, *with_id = NULL, *forged = NULL;
  g_autoptr(CpsRevision) draft = NULL;
  g_autoptr(CpsTestResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *step = NULL;

  /* Bea's device claims to be the admin's: a correct id, signed with Bea's key. */
  step = with_member (valid, "device_id", device);
  claimed = with_member (step, "clock", clock);
  draft = cps_revision_new_from_string (claimed, -1, &error);
  g_assert_no_error (error);
  id = cps_revision_compute_id (draft, &error);
  g_assert_no_error (error);
  signature = cps_device_key_sign_base64 (w.bea->key, id, strlen (id));
  quoted_id = g_strdup_printf ("\"%s\"", id);
  quoted_signature = g_strdup_printf ("\"%s\"", signature);
  with_id = with_member (claimed, "id", quoted_id);
  forged = with_member (with_id, "signature", quoted_signature);
  response = push_text (AS_BEA, w.project, forged);
  assert_rejected (response, "bad_signature");
}

static void
test_forged_id_with_valid_signature (void)
{
  g_autofree char *valid = cps_test_make_revision (w.bea, w.project, NULL, DOC_B);
  g_autofree char *other = cps_test_make_revision (w.bea, w.project, NULL, DOC_A);
  g_autofree char *other_id = revision_id (other);
  g_autofree char *signature = cps_device_key_sign_base64 (w.bea->key, other_id,
                                                           strlen (other_id));
  g_autofree char *quoted_id = g_strdup_printf ("\"%s\"", other_id);
  g_autofree char *quoted_signature = g_strdup_printf ("\"%s\"", signature);
  g_autofree char *step = with_member (valid, "id", quoted_id);
  g_autofree char *forged = with_member (step, "signature", quoted_signature);
  g_autoptr(CpsTestResponse) response = push_text (AS_BEA, w.project, forged);

  /* A real signature over a real id, borrowed for other content. */
  assert_rejected (response, "bad_id");
}

static void
test_forged_stored_id_other_content (void)
{
  g_autofree char *valid = cps_test_make_revision (w.bea, w.project, NULL, DOC_B);
  g_autofree char *quoted_id = g_strdup_printf ("\"%s\"", w.rev_id);
  g_autofree char *forged = with_member (valid, "id", quoted_id);
  g_autoptr(CpsTestResponse) response = push_text (AS_BEA, w.project, forged);
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions/%s", w.project, w.rev_id);
  g_autoptr(CpsTestResponse) stored = NULL;

  /* Claiming a stored revision's id must not be mistaken for a harmless duplicate. */
  if (g_strcmp0 (cps_test_json_get_string (response, "results.0.status"), "duplicate") == 0)
    g_test_message ("a different revision under a stored id was answered duplicate");
  assert_rejected (response, "bad_id");
  stored = cps_test_request (w.server, "GET", path, w.admin->access_token, NULL);
  g_assert_cmpuint (stored->status, ==, 200);
  g_assert_cmpstr (stored->body, ==, w.rev_json);
}

static void
test_replay_after_logout (void)
{
  g_autoptr(CpsTestClient) session = cps_test_login (w.server, "bea", PASSWORD, "Logout");
  g_autoptr(CpsTestResponse) logout = NULL, replay = NULL, refresh = NULL;
  g_autofree char *body = NULL;

  logout = cps_test_request (w.server, "POST", "/v1/auth/logout", session->access_token, NULL);
  g_assert_cmpuint (logout->status, ==, 204);
  replay = cps_test_request (w.server, "GET", "/v1/account", session->access_token, NULL);
  assert_error (replay, 401, "unauthorized", NULL);
  body = g_strdup_printf ("{\"refresh_token\":\"%s\"}", session->refresh_token);
  refresh = cps_test_request (w.server, "POST", "/v1/auth/refresh", NULL, body);
  assert_error (refresh, 401, "unauthorized", NULL);
}

static void
test_replay_rotated_refresh (void)
{
  g_autoptr(CpsTestClient) session = cps_test_login (w.server, "bea", PASSWORD, "Rotation");
  g_autofree char *old_body = g_strdup_printf ("{\"refresh_token\":\"%s\"}",
                                               session->refresh_token);
  g_autoptr(CpsTestResponse) rotated = NULL, replay = NULL, after = NULL;
  const char *new_access;

  rotated = cps_test_request (w.server, "POST", "/v1/auth/refresh", NULL, old_body);
  g_assert_cmpuint (rotated->status, ==, 200);
  new_access = cps_test_json_get_string (rotated, "access_token");
  g_assert_nonnull (new_access);

  replay = cps_test_request (w.server, "POST", "/v1/auth/refresh", NULL, old_body);
  assert_error (replay, 401, "token_reused", NULL);
  /* Reuse ends every session of that device, the thief's and the owner's. */
  after = cps_test_request (w.server, "GET", "/v1/account", new_access, NULL);
  assert_error (after, 401, "unauthorized", NULL);
}

static void
test_spare_device_survived (void)
{
  g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "GET", "/v1/account",
                                                          w.spare->access_token, NULL);

  /* None of the malformed revoke requests revoked anything. */
  g_assert_cmpuint (response->status, ==, 200);
}

typedef struct
{
  const char *name;
  GTestFunc func;
} Special;

static const Special specials[] = {
  { "oversized-body", test_oversized_body },
  { "oversized-body-expect-continue", test_oversized_body_expect_continue },
  { "oversized-body-not-buffered", test_oversized_body_not_buffered },
  { "gzip-bomb", test_gzip_bomb },
  { "gzip-invalid", test_gzip_invalid },
  { "gzip-truncated", test_gzip_truncated },
  { "gzip-plain-body", test_gzip_plain_body },
  { "encoding-br", test_encoding_br },
  { "encoding-deflate", test_encoding_deflate },
  { "chunked-body", test_chunked_body },
  { "invalid-utf8", test_invalid_utf8 },
  { "invalid-utf8-overlong", test_invalid_utf8_overlong },
  { "nul-byte-in-body", test_nul_byte_in_body },
  { "nul-byte-in-string", test_nul_byte_in_string },
  { "escaped-nul-username", test_escaped_nul_username },
  { "escaped-nul-project-name", test_escaped_nul_project_name },
  { "huge-keys-array", test_huge_keys_array },
  { "huge-revisions-array", test_huge_revisions_array },
  { "huge-revisions-real", test_huge_revisions_real },
  { "nesting-10000", test_nesting_10000 },
  { "nesting-10000-arrays", test_nesting_10000_arrays },
  { "nesting-10000-push", test_nesting_10000_push },
  { "nesting-in-revision-payload", test_nesting_in_revision_payload },
  { "nesting-signed-revision", test_nesting_signed_revision },
  { "long-username", test_long_username },
  { "long-password", test_long_password },
  { "long-project-name", test_long_project_name },
  { "long-device-name", test_long_device_name },
  { "path-traversal-encoded", test_path_traversal_encoded },
  { "path-traversal-dots", test_path_traversal_dots },
  { "path-traversal-plain", test_path_traversal_plain },
  { "path-traversal-backslash", test_path_traversal_backslash },
  { "path-nul", test_path_nul },
  { "path-nul-revision", test_path_nul_revision },
  { "path-nul-route", test_path_nul_route },
  { "path-long-segment", test_path_long_segment },
  { "query-too-long", test_query_too_long },
  { "authorization-10kb", test_authorization_10kb },
  { "sql-project-name-literal", test_sql_project_name_literal },
  { "forged-signature-other-key", test_forged_signature_other_key },
  { "forged-device-claim", test_forged_device_claim },
  { "forged-id-with-valid-signature", test_forged_id_with_valid_signature },
  { "forged-stored-id-other-content", test_forged_stored_id_other_content },
  { "replay-after-logout", test_replay_after_logout },
  { "replay-rotated-refresh", test_replay_rotated_refresh },
  /* Last: these look back at what all the others did. */
  { "sql-accounts-still-work", test_sql_accounts_still_work },
  { "spare-device-survived", test_spare_device_survived },
};

static void
run_special (gconstpointer data)
{
  const Special *special = data;

  special->func ();
  if (!g_test_failed ())
    assert_still_healthy ();
}

/* ----- the world ------------------------------------------------------------------------ */

static void
add_account (const char *username)
{
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"%s\","
                                           "\"role\":\"member\"}",
                                           username, PASSWORD);
  g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "POST", "/v1/accounts",
                                                          w.admin->access_token, body);

  g_assert_cmpuint (response->status, ==, 201);
}

static char *
get_token (CpsTestClient *as, const char *path, const char *member)
{
  g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "GET", path,
                                                          as->access_token, NULL);

  g_assert_cmpuint (response->status, ==, 200);
  g_assert_nonnull (cps_test_json_get_string (response, member));
  return g_strdup (cps_test_json_get_string (response, member));
}

static void
world_set_up (void)
{
  g_autofree char *config = NULL;
  g_autofree char *path = NULL, *body = NULL, *r2 = NULL;
  g_autoptr(GError) error = NULL;
  const char *args[3] = { "--config", NULL, NULL };
  const char *colon;

  /* Failed sign-ins are part of the attack; the rate limits have their own tests. */
  w.config_dir = g_dir_make_tmp ("cps-hostile-XXXXXX", &error);
  g_assert_no_error (error);
  config = g_build_filename (w.config_dir, "cps-server.conf", NULL);
  g_assert_true (g_file_set_contents (config,
                                      "[auth]\nlogin-max-per-account=1000\n"
                                      "login-max-per-address=100000\n",
                                      -1, NULL));
  args[1] = config;
  w.server = cps_test_server_start (NULL, args);
  colon = strrchr (w.server->base_url, ':');
  g_assert_nonnull (colon);
  w.port = (guint16) g_ascii_strtoull (colon + 1, NULL, 10);

  cps_test_server_add_account (w.server, "admin", PASSWORD, "admin");
  w.admin = cps_test_login (w.server, "admin", PASSWORD, "Admin laptop");
  add_account ("bea");
  add_account ("cal");
  w.bea = cps_test_login (w.server, "bea", PASSWORD, "DIT cart");
  w.cal = cps_test_login (w.server, "cal", PASSWORD, "Camera truck");
  w.spare = cps_test_login (w.server, "bea", PASSWORD, "Spare tablet");

  w.project = cps_test_create_project (w.server, w.admin, "Night shoot", FALSE);
  w.private_project = cps_test_create_project (w.server, w.admin, "Private", FALSE);
  path = g_strdup_printf ("/v1/projects/%s/members/%s", w.project, w.bea->account_id);
  {
    g_autoptr(CpsTestResponse) response = cps_test_request (w.server, "PUT", path,
                                                            w.admin->access_token,
                                                            "{\"role\":\"editor\"}");

    g_assert_cmpuint (response->status, ==, 200);
  }

  w.rev_json = cps_test_make_revision (w.bea, w.project, NULL, DOC_A);
  w.rev_id = revision_id (w.rev_json);
  {
    const char *parents[] = { w.rev_json, NULL };
    g_autofree char *both = NULL;
    g_autoptr(CpsTestResponse) response = NULL;

    r2 = cps_test_make_revision (w.bea, w.project, parents, DOC_B);
    both = g_strdup_printf ("%s,%s", w.rev_json, r2);
    response = push_text (AS_BEA, w.project, both);
    g_assert_cmpuint (response->status, ==, 200);
    g_assert_cmpstr (cps_test_json_get_string (response, "results.1.status"), ==, "accepted");
  }
  w.revision_count = project_revision_count ();
  g_assert_cmpint (w.revision_count, ==, 2);

  w.projects_cursor = get_token (w.admin, "/v1/projects?limit=1", "next_cursor");
  g_free (path);
  path = g_strdup_printf ("/v1/projects/%s/revisions?limit=1", w.project);
  w.revisions_cursor = get_token (w.bea, path, "next_cursor");
  w.changes_next = get_token (w.bea, "/v1/changes?limit=1", "next");
}

static void
world_tear_down (void)
{
  g_autofree char *config = g_build_filename (w.config_dir, "cps-server.conf", NULL);

  cps_test_client_free (w.admin);
  cps_test_client_free (w.bea);
  cps_test_client_free (w.cal);
  cps_test_client_free (w.spare);
  cps_test_server_free (w.server);
  g_remove (config);
  g_rmdir (w.config_dir);
  g_free (w.config_dir);
  g_free (w.project);
  g_free (w.private_project);
  g_free (w.rev_json);
  g_free (w.rev_id);
  g_free (w.projects_cursor);
  g_free (w.revisions_cursor);
  g_free (w.changes_next);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  if (sodium_init () < 0)
    return 1;

  world_set_up ();

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autofree char *name = g_strconcat ("/server/hostile/", rows[i].name, NULL);

      g_test_add_data_func (name, &rows[i], run_row);
    }
  for (guint i = 0; i < G_N_ELEMENTS (method_rows); i++)
    {
      g_autofree char *name = g_strconcat ("/server/hostile/", method_rows[i].name, NULL);

      g_test_add_data_func (name, &method_rows[i], run_method_row);
    }
  for (guint i = 0; i < G_N_ELEMENTS (push_rows); i++)
    {
      g_autofree char *name = g_strconcat ("/server/hostile/", push_rows[i].name, NULL);

      g_test_add_data_func (name, &push_rows[i], run_push_row);
    }
  for (guint i = 0; i < G_N_ELEMENTS (specials); i++)
    {
      g_autofree char *name = g_strconcat ("/server/hostile/", specials[i].name, NULL);

      g_test_add_data_func (name, &specials[i], run_special);
    }

  status = g_test_run ();
  world_tear_down ();
  return status;
}
