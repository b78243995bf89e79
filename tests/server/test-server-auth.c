/* test-server-auth.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Accounts, sessions, MFA and devices against a real cps-server on a loopback
 * port: every endpoint and every error code of those parts of the contract.
 */

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "cps-credentials.h"
#include "server-fixture.h"

#define ADMIN_PASSWORD "correct horse battery staple"
#define MEMBER_PASSWORD "member password 1"

typedef struct
{
  CpsTestServer *server;
  CpsTestClient *admin;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  const char *const *extra = data;

  fixture->server = cps_test_server_start (NULL, extra);
  cps_test_server_add_account (fixture->server, "admin", ADMIN_PASSWORD, "admin");
  fixture->admin = cps_test_login (fixture->server, "admin", ADMIN_PASSWORD, "Admin laptop");
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  cps_test_client_free (fixture->admin);
  cps_test_server_free (fixture->server);
}

/* Creates an account through the API as the admin. */
static void
add_account (Fixture *fixture, const char *username, const char *password, const char *role)
{
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"%s\","
                                           "\"role\":\"%s\"}",
                                           username, password, role);
  g_autoptr(CpsTestResponse) response = cps_test_request (fixture->server, "POST", "/v1/accounts",
                                                          fixture->admin->access_token, body);

  g_assert_cmpuint (response->status, ==, 201);
  g_assert_cmpstr (cps_test_json_get_string (response, "username"), ==, username);
  g_assert_cmpstr (cps_test_json_get_string (response, "role"), ==, role);
}

static char *
login_json (const char *username, const char *password, const char *extra)
{
  guint8 pk[32], sk[64];
  g_autofree char *b64 = NULL;

  crypto_sign_keypair (pk, sk);
  b64 = g_base64_encode (pk, sizeof pk);
  return g_strdup_printf ("{\"username\":\"%s\",\"password\":\"%s\",\"device\":{\"name\":\"n\","
                          "\"platform\":\"p\",\"client_version\":\"1\",\"public_key\":\"%s\"}%s%s}",
                          username, password, b64, extra != NULL ? "," : "",
                          extra != NULL ? extra : "");
}

static void
test_health_and_metrics (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestResponse) health = cps_test_request (fixture->server, "GET", "/v1/health",
                                                        NULL, NULL);
  g_autoptr(CpsTestResponse) metrics = NULL;

  g_assert_cmpuint (health->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (health, "status"), ==, "ok");
  g_assert_cmpstr (cps_test_json_get_string (health, "storage"), ==, "sqlite");
  g_assert_cmpstr (cps_test_json_get_string (health, "version"), ==, PACKAGE_VERSION);

  metrics = cps_test_request (fixture->server, "GET", "/metrics", NULL, NULL);
  g_assert_cmpuint (metrics->status, ==, 200);
  g_assert_true (g_str_has_prefix (metrics->content_type, "text/plain"));
  g_assert_nonnull (strstr (metrics->body, "cps_http_requests_total{"));
  g_assert_nonnull (strstr (metrics->body, "route=\"/v1/health\""));
  g_assert_nonnull (strstr (metrics->body, "cps_devices{state=\"active\"} 1"));
  g_assert_nonnull (strstr (metrics->body, "cps_conflicts_open 0"));
  /* No user content: not even the admin's name. */
  g_assert_null (strstr (metrics->body, "admin\""));
}

static void
test_login_shape (Fixture *fixture, gconstpointer data)
{
  g_autofree char *body = login_json ("admin", ADMIN_PASSWORD, NULL);
  g_autoptr(CpsTestResponse) response = cps_test_request (fixture->server, "POST",
                                                          "/v1/auth/login", NULL, body);

  g_assert_cmpuint (response->status, ==, 200);
  g_assert_cmpuint (strlen (cps_test_json_get_string (response, "access_token")), >=, 43);
  g_assert_cmpuint (strlen (cps_test_json_get_string (response, "refresh_token")), >=, 43);
  g_assert_cmpstr (cps_test_json_get_string (response, "access_token"), !=,
                   cps_test_json_get_string (response, "refresh_token"));
  g_assert_cmpint (cps_test_json_get_int (response, "expires_in"), ==, 900);
  g_assert_true (g_uuid_string_is_valid (cps_test_json_get_string (response, "device_id")));
  g_assert_cmpstr (cps_test_json_get_string (response, "account.username"), ==, "admin");
  g_assert_cmpstr (cps_test_json_get_string (response, "account.role"), ==, "admin");
  g_assert_cmpstr (cps_test_json_get_string (response, "account.id"), ==,
                   fixture->admin->account_id);
  /* A new key is a new device. */
  g_assert_cmpstr (cps_test_json_get_string (response, "device_id"), !=,
                   fixture->admin->device_id);
}

static void
test_login_same_key_same_device (Fixture *fixture, gconstpointer data)
{
  g_autofree char *old_access = g_strdup (fixture->admin->access_token);
  g_autoptr(CpsTestResponse) again = cps_test_login_again (fixture->server, fixture->admin,
                                                           ADMIN_PASSWORD, NULL);
  g_autoptr(CpsTestResponse) devices = NULL;

  g_assert_cmpuint (again->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (again, "device_id"), ==, fixture->admin->device_id);
  devices = cps_test_request (fixture->server, "GET", "/v1/devices", old_access, NULL);
  g_assert_cmpuint (devices->status, ==, 200);
  g_assert_nonnull (cps_test_json_get (devices, "devices.0"));
  g_assert_null (cps_test_json_get (devices, "devices.1"));
}

static void
test_login_failures (Fixture *fixture, gconstpointer data)
{
  g_autofree char *wrong = login_json ("admin", "not the password", NULL);
  g_autofree char *unknown = login_json ("nobody-here", "not the password", NULL);
  g_autoptr(CpsTestResponse) a = cps_test_request (fixture->server, "POST", "/v1/auth/login",
                                                   NULL, wrong);
  g_autoptr(CpsTestResponse) b = cps_test_request (fixture->server, "POST", "/v1/auth/login",
                                                   NULL, unknown);

  cps_test_assert_error (a, 401, "invalid_credentials");
  cps_test_assert_error (b, 401, "invalid_credentials");
  /* The same answer, word for word. */
  g_assert_cmpstr (cps_test_json_get_string (a, "error.message"), ==,
                   cps_test_json_get_string (b, "error.message"));
}

static double
time_login (Fixture *fixture, const char *username)
{
  g_autofree char *body = login_json (username, "wrong wrong wrong", NULL);
  gint64 start = g_get_monotonic_time ();
  g_autoptr(CpsTestResponse) response = cps_test_request (fixture->server, "POST",
                                                          "/v1/auth/login", NULL, body);

  g_assert_cmpuint (response->status, ==, 401);
  return (g_get_monotonic_time () - start) / 1000.0;
}

static void
test_login_timing (Fixture *fixture, gconstpointer data)
{
  double known = 0, unknown = 0;

  /* Two failures per name stay under the per-account limit of five. */
  for (int i = 0; i < 2; i++)
    {
      known += time_login (fixture, "admin");
      unknown += time_login (fixture, "ghost");
    }
  g_test_message ("known %.1f ms, unknown %.1f ms", known / 2, unknown / 2);
  /* Both pay for one Argon2id verification; neither answers in a fraction of the other. */
  g_assert_cmpfloat (unknown, >, known * 0.4);
  g_assert_cmpfloat (known, >, unknown * 0.4);
}

static void
test_rate_limit_account (Fixture *fixture, gconstpointer data)
{
  g_autofree char *wrong = login_json ("admin", "wrong password", NULL);
  g_autofree char *right = login_json ("admin", ADMIN_PASSWORD, NULL);
  g_autoptr(CpsTestResponse) limited = NULL;
  g_autoptr(CpsTestResponse) still = NULL;
  guint64 retry;

  for (int i = 0; i < 5; i++)
    {
      g_autoptr(CpsTestResponse) response = cps_test_request (fixture->server, "POST",
                                                              "/v1/auth/login", NULL, wrong);

      cps_test_assert_error (response, 401, "invalid_credentials");
    }
  limited = cps_test_request (fixture->server, "POST", "/v1/auth/login", NULL, wrong);
  cps_test_assert_error (limited, 429, "rate_limited");
  g_assert_nonnull (limited->retry_after);
  g_assert_true (g_ascii_string_to_unsigned (limited->retry_after, 10, 1, 900, &retry, NULL));
  /* Even the right password waits: the limit is on the account, not on the guess. */
  still = cps_test_request (fixture->server, "POST", "/v1/auth/login", NULL, right);
  cps_test_assert_error (still, 429, "rate_limited");
}

static void
test_rate_limit_address (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestResponse) limited = NULL;

  /* 20 failures spread over accounts (4 each) reach the per-address limit. */
  for (int i = 0; i < 20; i++)
    {
      g_autofree char *name = g_strdup_printf ("user%d", i / 4);
      g_autofree char *body = login_json (name, "wrong", NULL);
      g_autoptr(CpsTestResponse) response = cps_test_request (fixture->server, "POST",
                                                              "/v1/auth/login", NULL, body);

      cps_test_assert_error (response, 401, "invalid_credentials");
    }
  {
    g_autofree char *body = login_json ("fresh-name", "wrong", NULL);

    limited = cps_test_request (fixture->server, "POST", "/v1/auth/login", NULL, body);
  }
  cps_test_assert_error (limited, 429, "rate_limited");
  g_assert_nonnull (limited->retry_after);
}

static void
test_accounts (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestClient) member = NULL;
  g_autoptr(CpsTestResponse) self = NULL, list = NULL, forbidden = NULL, taken = NULL;
  g_autoptr(CpsTestResponse) page1 = NULL, page2 = NULL, bad_role = NULL, role = NULL;
  g_autoptr(CpsTestResponse) last_admin = NULL;
  g_autofree char *path = NULL;
  const char *cursor;

  add_account (fixture, "bea", MEMBER_PASSWORD, "member");
  add_account (fixture, "cal", MEMBER_PASSWORD, "observer");
  member = cps_test_login (fixture->server, "bea", MEMBER_PASSWORD, "Bea's laptop");

  self = cps_test_request (fixture->server, "GET", "/v1/account", member->access_token, NULL);
  g_assert_cmpuint (self->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (self, "username"), ==, "bea");
  g_assert_cmpstr (cps_test_json_get_string (self, "id"), ==, member->account_id);

  list = cps_test_request (fixture->server, "GET", "/v1/accounts", fixture->admin->access_token,
                           NULL);
  g_assert_cmpuint (list->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (list, "accounts.0.username"), ==, "admin");
  g_assert_cmpstr (cps_test_json_get_string (list, "accounts.2.username"), ==, "cal");
  g_assert_null (cps_test_json_get (list, "accounts.0.password_hash"));
  g_assert_cmpint (cps_test_json_get (list, "next_cursor")->type, ==, CPS_JSON_NULL);

  page1 = cps_test_request (fixture->server, "GET", "/v1/accounts?limit=2",
                            fixture->admin->access_token, NULL);
  cursor = cps_test_json_get_string (page1, "next_cursor");
  g_assert_nonnull (cursor);
  path = g_strdup_printf ("/v1/accounts?limit=2&cursor=%s", cursor);
  page2 = cps_test_request (fixture->server, "GET", path, fixture->admin->access_token, NULL);
  g_assert_cmpstr (cps_test_json_get_string (page2, "accounts.0.username"), ==, "cal");
  g_assert_null (cps_test_json_get (page2, "accounts.1"));

  forbidden = cps_test_request (fixture->server, "GET", "/v1/accounts", member->access_token,
                                NULL);
  cps_test_assert_error (forbidden, 403, "forbidden");

  taken = cps_test_request (fixture->server, "POST", "/v1/accounts",
                            fixture->admin->access_token,
                            "{\"username\":\"bea\",\"password\":\"another one\",\"role\":\"member\"}");
  cps_test_assert_error (taken, 409, "username_taken");

  bad_role = cps_test_request (fixture->server, "POST", "/v1/accounts",
                               fixture->admin->access_token,
                               "{\"username\":\"dan\",\"password\":\"another one\","
                               "\"role\":\"superuser\"}");
  cps_test_assert_error (bad_role, 400, "invalid_request");

  path = (g_free (path), g_strdup_printf ("/v1/accounts/%s/role", member->account_id));
  role = cps_test_request (fixture->server, "PUT", path, fixture->admin->access_token,
                           "{\"role\":\"lead\"}");
  g_assert_cmpuint (role->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (role, "role"), ==, "lead");

  path = (g_free (path), g_strdup_printf ("/v1/accounts/%s/role", fixture->admin->account_id));
  last_admin = cps_test_request (fixture->server, "PUT", path, fixture->admin->access_token,
                                 "{\"role\":\"member\"}");
  cps_test_assert_error (last_admin, 409, "last_admin");
}

static void
test_unauthorized (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestResponse) none = cps_test_request (fixture->server, "GET", "/v1/account",
                                                      NULL, NULL);
  g_autoptr(CpsTestResponse) forged = cps_test_request (fixture->server, "GET", "/v1/account",
                                                        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                                        NULL);
  g_autoptr(CpsTestResponse) refresh_as_access = cps_test_request (fixture->server, "GET",
                                                                   "/v1/account",
                                                                   fixture->admin->refresh_token,
                                                                   NULL);

  cps_test_assert_error (none, 401, "unauthorized");
  cps_test_assert_error (forged, 401, "unauthorized");
  cps_test_assert_error (refresh_as_access, 401, "unauthorized");
}

static void
test_refresh_and_reuse (Fixture *fixture, gconstpointer data)
{
  g_autofree char *old_refresh = g_strdup (fixture->admin->refresh_token);
  g_autofree char *old_access = g_strdup (fixture->admin->access_token);
  g_autofree char *body = g_strdup_printf ("{\"refresh_token\":\"%s\"}", old_refresh);
  g_autoptr(CpsTestResponse) fresh = NULL, old_use = NULL, new_use = NULL, reuse = NULL;
  g_autoptr(CpsTestResponse) after = NULL, relogin = NULL;
  const char *new_access;

  fresh = cps_test_request (fixture->server, "POST", "/v1/auth/refresh", NULL, body);
  g_assert_cmpuint (fresh->status, ==, 200);
  new_access = cps_test_json_get_string (fresh, "access_token");
  g_assert_cmpstr (new_access, !=, old_access);
  g_assert_cmpstr (cps_test_json_get_string (fresh, "refresh_token"), !=, old_refresh);
  g_assert_cmpstr (cps_test_json_get_string (fresh, "device_id"), ==, fixture->admin->device_id);

  new_use = cps_test_request (fixture->server, "GET", "/v1/account", new_access, NULL);
  g_assert_cmpuint (new_use->status, ==, 200);
  old_use = cps_test_request (fixture->server, "GET", "/v1/account", old_access, NULL);
  cps_test_assert_error (old_use, 401, "unauthorized");

  /* The old refresh token again: someone copied it. Every session of the device ends. */
  reuse = cps_test_request (fixture->server, "POST", "/v1/auth/refresh", NULL, body);
  cps_test_assert_error (reuse, 401, "token_reused");
  after = cps_test_request (fixture->server, "GET", "/v1/account", new_access, NULL);
  cps_test_assert_error (after, 401, "unauthorized");

  /* The device itself is not revoked: its owner signs in again. */
  relogin = cps_test_login_again (fixture->server, fixture->admin, ADMIN_PASSWORD, NULL);
  g_assert_cmpuint (relogin->status, ==, 200);
}

static void
test_refresh_invalid (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestResponse) unknown = NULL, missing = NULL, access = NULL;
  g_autofree char *body = g_strdup_printf ("{\"refresh_token\":\"%s\"}",
                                           fixture->admin->access_token);

  unknown = cps_test_request (fixture->server, "POST", "/v1/auth/refresh", NULL,
                              "{\"refresh_token\":\"bm90LWEtcmVhbC10b2tlbi1hdC1hbGwtbm8tbm8tbm8\"}");
  cps_test_assert_error (unknown, 401, "unauthorized");
  missing = cps_test_request (fixture->server, "POST", "/v1/auth/refresh", NULL, "{}");
  cps_test_assert_error (missing, 400, "invalid_request");
  access = cps_test_request (fixture->server, "POST", "/v1/auth/refresh", NULL, body);
  cps_test_assert_error (access, 401, "unauthorized");
}

static void
test_logout (Fixture *fixture, gconstpointer data)
{
  g_autofree char *body = g_strdup_printf ("{\"refresh_token\":\"%s\"}",
                                           fixture->admin->refresh_token);
  g_autoptr(CpsTestResponse) out = NULL, after = NULL, refresh = NULL;

  out = cps_test_request (fixture->server, "POST", "/v1/auth/logout",
                          fixture->admin->access_token, NULL);
  g_assert_cmpuint (out->status, ==, 204);
  g_assert_cmpuint (out->length, ==, 0);
  after = cps_test_request (fixture->server, "GET", "/v1/account", fixture->admin->access_token,
                            NULL);
  cps_test_assert_error (after, 401, "unauthorized");
  refresh = cps_test_request (fixture->server, "POST", "/v1/auth/refresh", NULL, body);
  g_assert_cmpuint (refresh->status, ==, 401);
}

static char *
current_code (const char *secret, gint64 offset_steps)
{
  return cps_totp_code (secret, g_get_real_time () / G_USEC_PER_SEC / 30 + offset_steps);
}

static void
test_totp (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestResponse) begin = NULL, confirm_bad = NULL, confirm = NULL, again = NULL;
  g_autoptr(CpsTestResponse) no_code = NULL, with_code = NULL, replay = NULL, bad = NULL;
  g_autoptr(CpsTestResponse) recovery = NULL, recovery_again = NULL, disable = NULL;
  g_autoptr(CpsTestResponse) plain = NULL, not_pending = NULL;
  g_autofree char *secret = NULL, *code = NULL, *body = NULL, *recovery_code = NULL;
  const CpsJsonNode *codes;

  not_pending = cps_test_request (fixture->server, "POST", "/v1/auth/totp/confirm",
                                  fixture->admin->access_token, "{\"code\":\"123456\"}");
  cps_test_assert_error (not_pending, 409, "totp_not_pending");

  begin = cps_test_request (fixture->server, "POST", "/v1/auth/totp",
                            fixture->admin->access_token, NULL);
  g_assert_cmpuint (begin->status, ==, 200);
  secret = g_strdup (cps_test_json_get_string (begin, "secret"));
  g_assert_cmpuint (strlen (secret), >=, 32); /* 160 bits in base32 */
  g_assert_true (g_str_has_prefix (cps_test_json_get_string (begin, "otpauth_uri"),
                                   "otpauth://totp/"));

  confirm_bad = cps_test_request (fixture->server, "POST", "/v1/auth/totp/confirm",
                                  fixture->admin->access_token, "{\"code\":\"000000\"}");
  cps_test_assert_error (confirm_bad, 401, "invalid_totp");

  /* The previous step: accepted within the ±1 step window. */
  code = current_code (secret, -1);
  body = g_strdup_printf ("{\"code\":\"%s\"}", code);
  confirm = cps_test_request (fixture->server, "POST", "/v1/auth/totp/confirm",
                              fixture->admin->access_token, body);
  g_assert_cmpuint (confirm->status, ==, 200);
  codes = cps_test_json_get (confirm, "recovery_codes");
  g_assert_cmpuint (codes->n, ==, 10);
  recovery_code = g_strdup (codes->v.items[0].v.string);

  again = cps_test_request (fixture->server, "POST", "/v1/auth/totp",
                            fixture->admin->access_token, NULL);
  cps_test_assert_error (again, 409, "totp_already_enabled");

  no_code = cps_test_login_again (fixture->server, fixture->admin, ADMIN_PASSWORD, NULL);
  cps_test_assert_error (no_code, 401, "mfa_required");

  /* The confirming code (step -1) can never be used again, not even for login. */
  g_free (body);
  body = g_strdup_printf ("\"totp\":\"%s\"", code);
  replay = cps_test_login_again (fixture->server, fixture->admin, ADMIN_PASSWORD, body);
  cps_test_assert_error (replay, 401, "invalid_totp");

  g_free (code);
  code = current_code (secret, 0);
  g_free (body);
  body = g_strdup_printf ("\"totp\":\"%s\"", code);
  with_code = cps_test_login_again (fixture->server, fixture->admin, ADMIN_PASSWORD, body);
  g_assert_cmpuint (with_code->status, ==, 200);

  /* TOTP replay: the same code a second time. */
  g_clear_pointer (&replay, cps_test_response_free);
  replay = cps_test_login_again (fixture->server, fixture->admin, ADMIN_PASSWORD, body);
  cps_test_assert_error (replay, 401, "invalid_totp");

  bad = cps_test_login_again (fixture->server, fixture->admin, ADMIN_PASSWORD,
                              "\"recovery_code\":\"aaaa-bbbb-cccc-dddd\"");
  cps_test_assert_error (bad, 401, "invalid_totp");

  g_free (body);
  body = g_strdup_printf ("\"recovery_code\":\"%s\"", recovery_code);
  recovery = cps_test_login_again (fixture->server, fixture->admin, ADMIN_PASSWORD, body);
  g_assert_cmpuint (recovery->status, ==, 200);
  recovery_again = cps_test_login_again (fixture->server, fixture->admin, ADMIN_PASSWORD, body);
  cps_test_assert_error (recovery_again, 401, "invalid_totp");

  /* Turning MFA off takes a fresh code (step +1 is still in the window). */
  g_free (code);
  code = current_code (secret, 1);
  g_free (body);
  body = g_strdup_printf ("{\"code\":\"%s\"}", code);
  disable = cps_test_request (fixture->server, "DELETE", "/v1/auth/totp",
                              fixture->admin->access_token, body);
  g_assert_cmpuint (disable->status, ==, 204);
  plain = cps_test_login_again (fixture->server, fixture->admin, ADMIN_PASSWORD, NULL);
  g_assert_cmpuint (plain->status, ==, 200);

  g_clear_pointer (&disable, cps_test_response_free);
  disable = cps_test_request (fixture->server, "DELETE", "/v1/auth/totp",
                              fixture->admin->access_token, body);
  cps_test_assert_error (disable, 409, "totp_not_enabled");
}

/* A stolen access token must not be enough to try every 6-digit code. */
static void
test_totp_code_limit (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestResponse) begin = NULL, limited = NULL;

  begin = cps_test_request (fixture->server, "POST", "/v1/auth/totp",
                            fixture->admin->access_token, NULL);
  g_assert_cmpuint (begin->status, ==, 200);
  for (int i = 0; i < 5; i++)
    {
      g_autoptr(CpsTestResponse) wrong = cps_test_request (fixture->server, "POST",
                                                           "/v1/auth/totp/confirm",
                                                           fixture->admin->access_token,
                                                           "{\"code\":\"000000\"}");

      cps_test_assert_error (wrong, 401, "invalid_totp");
    }
  limited = cps_test_request (fixture->server, "POST", "/v1/auth/totp/confirm",
                              fixture->admin->access_token, "{\"code\":\"000000\"}");
  cps_test_assert_error (limited, 429, "rate_limited");
  g_assert_nonnull (limited->retry_after);
}

static void
test_devices_and_revoke (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestClient) laptop = NULL, tablet = NULL, other = NULL;
  g_autoptr(CpsTestResponse) mine = NULL, all = NULL, all_denied = NULL, revoke = NULL;
  g_autoptr(CpsTestResponse) again = NULL, mid_session = NULL, relogin = NULL;
  g_autoptr(CpsTestResponse) not_owner = NULL, unknown = NULL, still = NULL;
  g_autofree char *path = NULL, *second_access = NULL;

  add_account (fixture, "bea", MEMBER_PASSWORD, "member");
  add_account (fixture, "eve", MEMBER_PASSWORD, "member");
  laptop = cps_test_login (fixture->server, "bea", MEMBER_PASSWORD, "Bea's laptop");
  tablet = cps_test_login (fixture->server, "bea", MEMBER_PASSWORD, "Bea's tablet");
  other = cps_test_login (fixture->server, "eve", MEMBER_PASSWORD, "Eve's phone");

  mine = cps_test_request (fixture->server, "GET", "/v1/devices", laptop->access_token, NULL);
  g_assert_cmpuint (mine->status, ==, 200);
  g_assert_nonnull (cps_test_json_get (mine, "devices.1"));
  g_assert_null (cps_test_json_get (mine, "devices.2"));
  g_assert_cmpstr (cps_test_json_get_string (mine, "devices.0.state"), ==, "active");
  g_assert_cmpstr (cps_test_json_get_string (mine, "devices.0.account_id"), ==,
                   laptop->account_id);
  g_assert_true (g_str_has_prefix (cps_test_json_get_string (mine, "devices.0.key_fingerprint"),
                                   "sha256:"));
  g_assert_nonnull (cps_test_json_get_string (mine, "devices.0.registered_at"));
  g_assert_nonnull (cps_test_json_get_string (mine, "devices.0.last_seen_at"));
  g_assert_cmpint (cps_test_json_get (mine, "devices.0.revoked_at")->type, ==, CPS_JSON_NULL);

  all_denied = cps_test_request (fixture->server, "GET", "/v1/devices?all=true",
                                 laptop->access_token, NULL);
  cps_test_assert_error (all_denied, 403, "forbidden");
  all = cps_test_request (fixture->server, "GET", "/v1/devices?all=true",
                          fixture->admin->access_token, NULL);
  g_assert_cmpuint (all->status, ==, 200);
  g_assert_nonnull (cps_test_json_get (all, "devices.3"));

  /* Another account cannot revoke it, nor learn that it exists. */
  path = g_strdup_printf ("/v1/devices/%s/revoke", tablet->device_id);
  not_owner = cps_test_request (fixture->server, "POST", path, other->access_token,
                                "{\"reason\":\"mine now\"}");
  cps_test_assert_error (not_owner, 404, "not_found");
  unknown = cps_test_request (fixture->server, "POST",
                              "/v1/devices/00000000-0000-4000-8000-000000000000/revoke",
                              laptop->access_token, "{}");
  cps_test_assert_error (unknown, 404, "not_found");

  /* The tablet has a second session, mid-work, when its owner revokes it from the laptop. */
  {
    g_autoptr(CpsTestResponse) second = cps_test_login_again (fixture->server, tablet,
                                                              MEMBER_PASSWORD, NULL);
    g_assert_cmpuint (second->status, ==, 200);
    second_access = g_strdup (tablet->access_token);
  }
  still = cps_test_request (fixture->server, "GET", "/v1/account", second_access, NULL);
  g_assert_cmpuint (still->status, ==, 200);

  revoke = cps_test_request (fixture->server, "POST", path, laptop->access_token,
                             "{\"reason\":\"Left in a taxi\"}");
  g_assert_cmpuint (revoke->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (revoke, "state"), ==, "revoked");
  g_assert_cmpstr (cps_test_json_get_string (revoke, "revoke_reason"), ==, "Left in a taxi");
  g_assert_cmpstr (cps_test_json_get_string (revoke, "revoked_by"), ==, laptop->account_id);
  g_assert_nonnull (cps_test_json_get_string (revoke, "revoked_at"));

  /* The very next request of that session is refused. */
  mid_session = cps_test_request (fixture->server, "GET", "/v1/account", second_access, NULL);
  cps_test_assert_error (mid_session, 401, "device_revoked");

  /* Idempotent. */
  again = cps_test_request (fixture->server, "POST", path, fixture->admin->access_token,
                            "{\"reason\":\"again\"}");
  g_assert_cmpuint (again->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (again, "revoke_reason"), ==, "Left in a taxi");

  /* Its key can never sign in again. */
  relogin = cps_test_login_again (fixture->server, tablet, MEMBER_PASSWORD, NULL);
  cps_test_assert_error (relogin, 403, "device_revoked");
}

static void
test_device_key_in_use (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestResponse) response = NULL;
  g_autofree char *username = NULL;

  add_account (fixture, "eve", MEMBER_PASSWORD, "member");
  /* Eve presents the admin's device key. */
  username = fixture->admin->username;
  fixture->admin->username = g_strdup ("eve");
  response = cps_test_login_again (fixture->server, fixture->admin, MEMBER_PASSWORD, NULL);
  g_free (fixture->admin->username);
  fixture->admin->username = g_steal_pointer (&username);
  cps_test_assert_error (response, 409, "device_key_in_use");
}

static void
test_device_approval (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cps-approval-XXXXXX", NULL);
  g_autofree char *conf = g_build_filename (dir, "cps-server.conf", NULL);
  const char *args[] = { "--config", conf, NULL };
  g_autoptr(CpsTestServer) server = NULL;
  g_autoptr(CpsTestClient) admin = NULL;
  g_autoptr(CpsTestResponse) pending = NULL, list = NULL, approve = NULL, again = NULL;
  g_autoptr(CpsTestResponse) approve_twice = NULL, devices = NULL;
  g_autofree char *body = NULL, *path = NULL;
  guint8 seed[32];
  const char *device_id = NULL;
  const CpsJsonNode *items;

  g_assert_true (g_file_set_contents (conf, "[auth]\nrequire-device-approval=true\n", -1, NULL));
  server = cps_test_server_start (dir, args);
  server->own_data_dir = TRUE;
  cps_test_server_add_account (server, "admin", ADMIN_PASSWORD, "admin");
  cps_test_server_add_account (server, "bea", MEMBER_PASSWORD, "member");
  /* Admins are trusted to enrol their own devices, or nobody could approve anything. */
  admin = cps_test_login (server, "admin", ADMIN_PASSWORD, "Admin laptop");

  {
    g_autoptr(CpsTestClient) probe = g_new0 (CpsTestClient, 1);

    randombytes_buf (seed, sizeof seed);
    memcpy (probe->seed, seed, sizeof seed);
    probe->username = g_strdup ("bea");
    pending = cps_test_login_again (server, probe, MEMBER_PASSWORD, NULL);
    cps_test_assert_error (pending, 403, "device_pending");
    g_clear_pointer (&pending, cps_test_response_free);
    pending = cps_test_login_again (server, probe, MEMBER_PASSWORD, NULL);
    cps_test_assert_error (pending, 403, "device_pending");

    list = cps_test_request (server, "GET", "/v1/devices?all=true", admin->access_token, NULL);
    items = cps_test_json_get (list, "devices");
    for (guint i = 0; i < items->n; i++)
      if (g_strcmp0 (cps_json_object_get_string (&items->v.items[i], "state"), "pending") == 0)
        device_id = cps_json_object_get_string (&items->v.items[i], "id");
    g_assert_nonnull (device_id);

    path = g_strdup_printf ("/v1/devices/%s/approve", device_id);
    approve = cps_test_request (server, "POST", path, admin->access_token, NULL);
    g_assert_cmpuint (approve->status, ==, 200);
    g_assert_cmpstr (cps_test_json_get_string (approve, "state"), ==, "active");
    approve_twice = cps_test_request (server, "POST", path, admin->access_token, NULL);
    g_assert_cmpuint (approve_twice->status, ==, 200);

    again = cps_test_login_again (server, probe, MEMBER_PASSWORD, NULL);
    g_assert_cmpuint (again->status, ==, 200);
    g_assert_cmpstr (cps_test_json_get_string (again, "device_id"), ==, device_id);

    /* Only admins approve. */
    devices = cps_test_request (server, "POST", path, probe->access_token, NULL);
    cps_test_assert_error (devices, 403, "forbidden");
  }
}

static void
test_observer_scope (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestClient) observer = NULL;
  g_autoptr(CpsTestResponse) create = NULL, read = NULL;

  add_account (fixture, "olga", MEMBER_PASSWORD, "observer");
  observer = cps_test_login (fixture->server, "olga", MEMBER_PASSWORD, "Olga's tablet");
  read = cps_test_request (fixture->server, "GET", "/v1/projects", observer->access_token, NULL);
  g_assert_cmpuint (read->status, ==, 200);
  create = cps_test_request (fixture->server, "POST", "/v1/projects", observer->access_token,
                             "{\"name\":\"Mine\",\"encrypted\":false}");
  cps_test_assert_error (create, 403, "forbidden");
}

static void
test_account_command (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cps-account-XXXXXX", NULL);
  g_autofree char *out = NULL, *err = NULL;
  int status;

  status = cps_test_server_command ("secret password\n", NULL, &err, "account", "add",
                                    "--data-dir", dir, "--username", "root", "--role", "admin",
                                    NULL);
  g_assert_cmpint (status, ==, 0);
  g_clear_pointer (&err, g_free);
  status = cps_test_server_command ("secret password\n", NULL, &err, "account", "add",
                                    "--data-dir", dir, "--username", "root", "--role", "admin",
                                    NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_cmpuint (strlen (err), >, 10);
  status = cps_test_server_command ("x\n", NULL, NULL, "account", "add", "--data-dir", dir,
                                    "--username", "x", "--role", "emperor", NULL);
  g_assert_cmpint (status, ==, 2);
  status = cps_test_server_command ("\n", NULL, NULL, "account", "add", "--data-dir", dir,
                                    "--username", "empty", "--role", "member", NULL);
  g_assert_cmpint (status, !=, 0);
  status = cps_test_server_command (NULL, NULL, NULL, "account", "frobnicate", "--data-dir", dir,
                                    NULL);
  g_assert_cmpint (status, ==, 2);

  status = cps_test_server_command ("other password\n", NULL, NULL, "account", "passwd",
                                    "--data-dir", dir, "--username", "root", NULL);
  g_assert_cmpint (status, ==, 0);
  status = cps_test_server_command ("secret password\n", NULL, NULL, "account", "add",
                                    "--data-dir", dir, "--username", "lee", "--role", "member",
                                    NULL);
  g_assert_cmpint (status, ==, 0);
  status = cps_test_server_command (NULL, NULL, NULL, "account", "role", "--data-dir", dir,
                                    "--username", "lee", "--role", "lead", NULL);
  g_assert_cmpint (status, ==, 0);
  status = cps_test_server_command (NULL, &out, NULL, "account", "list", "--data-dir", dir,
                                    NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "root"));
  g_assert_nonnull (strstr (out, "lee"));
  g_assert_nonnull (strstr (out, "lead"));
  g_assert_null (strstr (out, "argon2"));

  {
    g_autoptr(CpsTestServer) server = cps_test_server_start (dir, NULL);
    g_autoptr(CpsTestClient) root = cps_test_login (server, "root", "other password", "x");

    g_assert_nonnull (root->access_token);
    server->own_data_dir = TRUE;
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (sodium_init () < 0)
    return 1;

#define ADD(name, func) \
  g_test_add ("/server/auth/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("health-and-metrics", test_health_and_metrics);
  ADD ("login-shape", test_login_shape);
  ADD ("login-same-key-same-device", test_login_same_key_same_device);
  ADD ("login-failures", test_login_failures);
  ADD ("login-timing", test_login_timing);
  ADD ("rate-limit-account", test_rate_limit_account);
  ADD ("rate-limit-address", test_rate_limit_address);
  ADD ("accounts", test_accounts);
  ADD ("unauthorized", test_unauthorized);
  ADD ("refresh-and-reuse", test_refresh_and_reuse);
  ADD ("refresh-invalid", test_refresh_invalid);
  ADD ("logout", test_logout);
  ADD ("totp", test_totp);
  ADD ("totp-code-limit", test_totp_code_limit);
  ADD ("devices-and-revoke", test_devices_and_revoke);
  ADD ("device-key-in-use", test_device_key_in_use);
  ADD ("observer-scope", test_observer_scope);
#undef ADD
  g_test_add_func ("/server/auth/device-approval", test_device_approval);
  g_test_add_func ("/server/auth/account-command", test_account_command);
  return g_test_run ();
}
