/* test-server-sync.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Projects, members, pushes (every rejection code), conflicts, history and the
 * changes feed against a real cps-server, including paging resumed across a
 * restart.
 */

#include "config.h"

#include <string.h>
#include <sodium.h>

#include "cps-jcs.h"
#include "cps-revision.h"
#include "server-fixture.h"

#define PASSWORD "a long enough password"
#define DOC_A "{\"project\":{\"name\":\"Night shoot\",\"batteries\":2}}"
#define DOC_B "{\"project\":{\"name\":\"Night shoot\",\"batteries\":3}}"
#define DOC_C "{\"project\":{\"name\":\"Night shoot\",\"batteries\":4}}"
#define DOC_M "{\"project\":{\"name\":\"Night shoot\",\"batteries\":5}}"

typedef struct
{
  CpsTestServer *server;
  CpsTestClient *admin;
  CpsTestClient *bea;   /* member, editor of the project */
  CpsTestClient *cal;   /* member, not in the project */
  char *project;
} Fixture;

static void
add_account (Fixture *fixture, const char *username, const char *role)
{
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"%s\","
                                           "\"role\":\"%s\"}",
                                           username, PASSWORD, role);
  g_autoptr(CpsTestResponse) response = cps_test_request (fixture->server, "POST", "/v1/accounts",
                                                          fixture->admin->access_token, body);

  g_assert_cmpuint (response->status, ==, 201);
}

static void
put_member (Fixture *fixture, CpsTestClient *as, const char *project, const char *account,
            const char *role, guint expected)
{
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/members/%s", project, account);
  g_autofree char *body = g_strdup_printf ("{\"role\":\"%s\"}", role);
  g_autoptr(CpsTestResponse) response = cps_test_request (fixture->server, "PUT", path,
                                                          as->access_token, body);

  if (response->status != expected)
    g_test_message ("%s", response->body);
  g_assert_cmpuint (response->status, ==, expected);
}

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  fixture->server = cps_test_server_start (NULL, NULL);
  cps_test_server_add_account (fixture->server, "admin", PASSWORD, "admin");
  fixture->admin = cps_test_login (fixture->server, "admin", PASSWORD, "Admin laptop");
  add_account (fixture, "bea", "member");
  add_account (fixture, "cal", "member");
  fixture->bea = cps_test_login (fixture->server, "bea", PASSWORD, "DIT cart");
  fixture->cal = cps_test_login (fixture->server, "cal", PASSWORD, "Camera truck");
  fixture->project = cps_test_create_project (fixture->server, fixture->admin, "Night shoot",
                                              FALSE);
  put_member (fixture, fixture->admin, fixture->project, fixture->bea->account_id, "editor", 200);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_free (fixture->project);
  cps_test_client_free (fixture->admin);
  cps_test_client_free (fixture->bea);
  cps_test_client_free (fixture->cal);
  cps_test_server_free (fixture->server);
}

static CpsTestResponse *
push (Fixture *fixture, CpsTestClient *as, const char *project, const char *const *revisions)
{
  g_autoptr(GString) body = g_string_new ("{\"revisions\":[");
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions", project);

  for (guint i = 0; revisions[i] != NULL; i++)
    g_string_append_printf (body, "%s%s", i > 0 ? "," : "", revisions[i]);
  g_string_append (body, "]}");
  return cps_test_request (fixture->server, "POST", path, as->access_token, body->str);
}

static void
assert_result (CpsTestResponse *response, guint index, const char *status, const char *code)
{
  g_autofree char *status_path = g_strdup_printf ("results.%u.status", index);
  g_autofree char *code_path = g_strdup_printf ("results.%u.error.code", index);
  g_autofree char *message_path = g_strdup_printf ("results.%u.error.message", index);

  if (response->status != 200 ||
      g_strcmp0 (cps_test_json_get_string (response, status_path), status) != 0 ||
      g_strcmp0 (cps_test_json_get_string (response, code_path), code) != 0)
    g_test_message ("result %u: %s", index, response->body);
  g_assert_cmpuint (response->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (response, status_path), ==, status);
  g_assert_cmpstr (cps_test_json_get_string (response, code_path), ==, code);
  if (code != NULL)
    g_assert_nonnull (cps_test_json_get_string (response, message_path));
}

/* A revision from its parts, with a correct id and signature for whatever the parts say. */
static char *
make_custom (CpsTestClient *client, const char *project, const char *parents_json,
             const char *clock_json, const char *checksum, const char *payload_json)
{
  g_autofree char *zero_sig = NULL;
  g_autofree char *draft = NULL, *now = cps_now_rfc3339 (), *id = NULL, *sig = NULL;
  g_autoptr(CpsRevision) revision = NULL;
  g_autoptr(GError) error = NULL;
  guint8 zeros[64] = { 0 };

  zero_sig = g_base64_encode (zeros, sizeof zeros);
  draft = g_strdup_printf ("{\"id\":\"sha256:%064d\",\"project_id\":\"%s\",\"parents\":%s,"
                           "\"clock\":%s,\"device_id\":\"%s\",\"created_at\":\"%s\","
                           "\"checksum\":\"%s\",\"deleted\":false,\"payload\":%s,"
                           "\"signature\":\"%s\"}",
                           0, project, parents_json, clock_json, client->device_id, now,
                           checksum, payload_json, zero_sig);
  revision = cps_revision_new_from_string (draft, -1, &error);
  g_assert_no_error (error);
  id = cps_revision_compute_id (revision, &error);
  g_assert_no_error (error);
  sig = cps_device_key_sign_base64 (client->key, id, strlen (id));
  return g_strdup_printf ("{\"id\":\"%s\",\"project_id\":\"%s\",\"parents\":%s,"
                          "\"clock\":%s,\"device_id\":\"%s\",\"created_at\":\"%s\","
                          "\"checksum\":\"%s\",\"deleted\":false,\"payload\":%s,"
                          "\"signature\":\"%s\"}",
                          id, project, parents_json, clock_json, client->device_id, now,
                          checksum, payload_json, sig);
}

static char *
content_checksum (const char *document)
{
  g_autoptr(CpsJsonDocument) doc = cps_json_document_parse_copy (document, -1, NULL, NULL);

  return cps_checksum_content (cps_json_document_get_root (doc), NULL);
}

static char *
revision_id (const char *json)
{
  g_autoptr(CpsRevision) revision = cps_revision_new_from_string (json, -1, NULL);

  return g_strdup (cps_revision_get_id (revision));
}

static void
test_projects (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestResponse) get = NULL, list = NULL, hidden = NULL, exists = NULL;
  g_autoptr(CpsTestResponse) page1 = NULL, page2 = NULL, bad_cursor = NULL, bad_limit = NULL;
  g_autoptr(CpsTestResponse) removed = NULL, gone = NULL, last_owner = NULL, malformed = NULL;
  g_autofree char *path = NULL, *body = NULL;
  g_autofree char *p2 = NULL, *p3 = NULL;
  const char *cursor;

  path = g_strdup_printf ("/v1/projects/%s", fixture->project);
  get = cps_test_request (fixture->server, "GET", path, fixture->bea->access_token, NULL);
  g_assert_cmpuint (get->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (get, "id"), ==, fixture->project);
  g_assert_cmpstr (cps_test_json_get_string (get, "name"), ==, "Night shoot");
  g_assert_cmpstr (cps_test_json_get_string (get, "owner"), ==, fixture->admin->account_id);
  g_assert_false (cps_test_json_get (get, "encrypted")->v.boolean);
  g_assert_false (cps_test_json_get (get, "conflicted")->v.boolean);
  g_assert_false (cps_test_json_get (get, "deleted")->v.boolean);
  g_assert_cmpint (cps_test_json_get_int (get, "revision_count"), ==, 0);
  g_assert_cmpint (cps_test_json_get (get, "heads")->n, ==, 0);
  g_assert_cmpint (cps_test_json_get (get, "checksum")->type, ==, CPS_JSON_NULL);
  g_assert_nonnull (cps_test_json_get_string (get, "created_at"));
  g_assert_cmpint (cps_test_json_get (get, "members")->n, ==, 2);
  g_assert_nonnull (cps_test_json_get (get, "keys"));

  /* Cal is not a member: the project does not exist for him. */
  hidden = cps_test_request (fixture->server, "GET", path, fixture->cal->access_token, NULL);
  cps_test_assert_error (hidden, 404, "not_found");
  malformed = cps_test_request (fixture->server, "GET", "/v1/projects/..%2F..%2Fetc",
                                fixture->cal->access_token, NULL);
  /* A parameter that decodes to “..” segments never reaches a handler. */
  cps_test_assert_error (malformed, 400, "invalid_request");

  body = g_strdup_printf ("{\"id\":\"%s\",\"name\":\"Again\",\"encrypted\":false}",
                          fixture->project);
  exists = cps_test_request (fixture->server, "POST", "/v1/projects",
                             fixture->admin->access_token, body);
  cps_test_assert_error (exists, 409, "project_exists");

  p2 = cps_test_create_project (fixture->server, fixture->bea, "Day two", FALSE);
  p3 = cps_test_create_project (fixture->server, fixture->bea, "Day three", TRUE);
  list = cps_test_request (fixture->server, "GET", "/v1/projects", fixture->bea->access_token,
                           NULL);
  g_assert_cmpuint (list->status, ==, 200);
  g_assert_nonnull (cps_test_json_get (list, "projects.2"));
  g_assert_null (cps_test_json_get (list, "projects.3"));
  g_assert_cmpint (cps_test_json_get (list, "next_cursor")->type, ==, CPS_JSON_NULL);

  page1 = cps_test_request (fixture->server, "GET", "/v1/projects?limit=2",
                            fixture->bea->access_token, NULL);
  g_assert_nonnull (cps_test_json_get (page1, "projects.1"));
  cursor = cps_test_json_get_string (page1, "next_cursor");
  g_assert_nonnull (cursor);
  g_free (path);
  path = g_strdup_printf ("/v1/projects?limit=2&cursor=%s", cursor);
  page2 = cps_test_request (fixture->server, "GET", path, fixture->bea->access_token, NULL);
  g_assert_nonnull (cps_test_json_get (page2, "projects.0"));
  g_assert_null (cps_test_json_get (page2, "projects.1"));
  g_assert_cmpint (cps_test_json_get (page2, "next_cursor")->type, ==, CPS_JSON_NULL);
  g_assert_cmpstr (cps_test_json_get_string (page2, "projects.0.id"), !=,
                   cps_test_json_get_string (page1, "projects.0.id"));
  g_assert_cmpstr (cps_test_json_get_string (page2, "projects.0.id"), !=,
                   cps_test_json_get_string (page1, "projects.1.id"));

  bad_cursor = cps_test_request (fixture->server, "GET", "/v1/projects?cursor=bm9wZQ",
                                 fixture->bea->access_token, NULL);
  cps_test_assert_error (bad_cursor, 400, "invalid_request");
  bad_limit = cps_test_request (fixture->server, "GET", "/v1/projects?limit=501",
                                fixture->bea->access_token, NULL);
  cps_test_assert_error (bad_limit, 400, "invalid_request");

  /* Members: Bea (editor) may not add people; the owner removes her. */
  put_member (fixture, fixture->bea, fixture->project, fixture->cal->account_id, "viewer", 403);
  g_free (path);
  path = g_strdup_printf ("/v1/projects/%s/members/%s", fixture->project,
                          fixture->bea->account_id);
  removed = cps_test_request (fixture->server, "DELETE", path, fixture->admin->access_token, NULL);
  g_assert_cmpuint (removed->status, ==, 204);
  g_free (path);
  path = g_strdup_printf ("/v1/projects/%s", fixture->project);
  gone = cps_test_request (fixture->server, "GET", path, fixture->bea->access_token, NULL);
  cps_test_assert_error (gone, 404, "not_found");

  g_free (path);
  path = g_strdup_printf ("/v1/projects/%s/members/%s", p2, fixture->bea->account_id);
  last_owner = cps_test_request (fixture->server, "DELETE", path, fixture->bea->access_token,
                                 NULL);
  cps_test_assert_error (last_owner, 409, "last_owner");
}

static void
test_push_and_history (Fixture *fixture, gconstpointer data)
{
  g_autofree char *r1 = cps_test_make_revision (fixture->bea, fixture->project, NULL, DOC_A);
  const char *parents1[] = { r1, NULL };
  g_autofree char *r2 = cps_test_make_revision (fixture->bea, fixture->project, parents1, DOC_B);
  const char *batch[] = { r1, r2, NULL };
  g_autoptr(CpsTestResponse) first = NULL, again = NULL, project = NULL, list = NULL;
  g_autoptr(CpsTestResponse) page = NULL, one = NULL, missing = NULL, bad = NULL;
  g_autofree char *id1 = revision_id (r1), *id2 = revision_id (r2);
  g_autofree char *path = NULL, *checksum = content_checksum (DOC_B);
  const char *cursor;

  first = push (fixture, fixture->bea, fixture->project, batch);
  assert_result (first, 0, "accepted", NULL);
  assert_result (first, 1, "accepted", NULL);
  g_assert_cmpstr (cps_test_json_get_string (first, "results.1.id"), ==, id2);
  g_assert_cmpstr (cps_test_json_get_string (first, "heads.0"), ==, id2);
  g_assert_null (cps_test_json_get (first, "heads.1"));
  g_assert_false (cps_test_json_get (first, "conflicted")->v.boolean);

  /* Retrying is always safe. */
  again = push (fixture, fixture->bea, fixture->project, batch);
  assert_result (again, 0, "duplicate", NULL);
  assert_result (again, 1, "duplicate", NULL);

  path = g_strdup_printf ("/v1/projects/%s", fixture->project);
  project = cps_test_request (fixture->server, "GET", path, fixture->bea->access_token, NULL);
  g_assert_cmpint (cps_test_json_get_int (project, "revision_count"), ==, 2);
  g_assert_cmpstr (cps_test_json_get_string (project, "checksum"), ==, checksum);

  g_free (path);
  path = g_strdup_printf ("/v1/projects/%s/revisions", fixture->project);
  list = cps_test_request (fixture->server, "GET", path, fixture->bea->access_token, NULL);
  g_assert_cmpuint (list->status, ==, 200);
  g_assert_cmpstr (cps_test_json_get_string (list, "revisions.0.id"), ==, id1);
  g_assert_cmpstr (cps_test_json_get_string (list, "revisions.1.id"), ==, id2);
  g_assert_null (cps_test_json_get (list, "revisions.0.payload"));
  g_assert_nonnull (cps_test_json_get_string (list, "revisions.0.signature"));

  g_free (path);
  path = g_strdup_printf ("/v1/projects/%s/revisions?limit=1", fixture->project);
  page = cps_test_request (fixture->server, "GET", path, fixture->bea->access_token, NULL);
  cursor = cps_test_json_get_string (page, "next_cursor");
  g_assert_nonnull (cursor);
  g_free (path);
  path = g_strdup_printf ("/v1/projects/%s/revisions?limit=1&cursor=%s", fixture->project, cursor);
  g_clear_pointer (&page, cps_test_response_free);
  page = cps_test_request (fixture->server, "GET", path, fixture->bea->access_token, NULL);
  g_assert_cmpstr (cps_test_json_get_string (page, "revisions.0.id"), ==, id2);

  g_free (path);
  path = g_strdup_printf ("/v1/projects/%s/revisions/%s", fixture->project, id1);
  one = cps_test_request (fixture->server, "GET", path, fixture->bea->access_token, NULL);
  g_assert_cmpuint (one->status, ==, 200);
  g_assert_cmpstr (one->body, ==, r1);

  g_free (path);
  path = g_strdup_printf ("/v1/projects/%s/revisions/sha256:%064d", fixture->project, 7);
  missing = cps_test_request (fixture->server, "GET", path, fixture->bea->access_token, NULL);
  cps_test_assert_error (missing, 404, "not_found");
  g_free (path);
  path = g_strdup_printf ("/v1/projects/%s/revisions/%s", fixture->project, id1);
  bad = cps_test_request (fixture->server, "GET", path, fixture->cal->access_token, NULL);
  cps_test_assert_error (bad, 404, "not_found");
}

static void
test_push_rejections (Fixture *fixture, gconstpointer data)
{
  g_autofree char *r1 = cps_test_make_revision (fixture->bea, fixture->project, NULL, DOC_A);
  const char *parents1[] = { r1, NULL };
  g_autofree char *orphan = cps_test_make_revision (fixture->bea, fixture->project, parents1,
                                                    DOC_B);
  g_autofree char *checksum_a = content_checksum (DOC_A);
  g_autofree char *bad_id = NULL, *bad_sig = NULL, *bad_clock = NULL, *bad_sum = NULL;
  g_autofree char *wrong_project = NULL, *unknown_dev = NULL, *encrypted = NULL;
  g_autofree char *clock = NULL, *good = NULL;
  g_autoptr(CpsTestResponse) response = NULL;
  g_autoptr(CpsTestClient) stranger = g_new0 (CpsTestClient, 1);
  const char *bad_batch[8];
  char *p;

  /* bad_id: the content changed after signing. */
  bad_id = g_strdup (r1);
  p = strstr (bad_id, "\"batteries\":2");
  g_assert_nonnull (p);
  p[strlen ("\"batteries\":")] = '7';

  /* bad_signature: one character of the signature changed. */
  bad_sig = g_strdup (r1);
  p = strstr (bad_sig, "\"signature\":\"") + strlen ("\"signature\":\"");
  *p = *p == 'A' ? 'B' : 'A';

  /* bad_clock: a first revision must count 1 for its device. */
  clock = g_strdup_printf ("{\"%s\":2}", fixture->bea->device_id);
  bad_clock = make_custom (fixture->bea, fixture->project, "[]", clock, checksum_a,
                           "{\"enc\":\"none\",\"json\":" DOC_A "}");

  /* checksum_mismatch: the stated checksum is not the document's. */
  g_free (clock);
  clock = g_strdup_printf ("{\"%s\":1}", fixture->bea->device_id);
  bad_sum = make_custom (fixture->bea, fixture->project, "[]", clock,
                         "sha256:1111111111111111111111111111111111111111111111111111111111111111",
                         "{\"enc\":\"none\",\"json\":" DOC_A "}");

  /* invalid_revision: an encrypted payload in an unencrypted project. */
  encrypted = make_custom (fixture->bea, fixture->project, "[]", clock, checksum_a,
                           "{\"enc\":\"xchacha20poly1305\",\"key_epoch\":1,"
                           "\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
                           "\"ciphertext\":\"AAAA\"}");

  /* unknown_device: signed by a key the server never saw. */
  stranger->device_id = g_uuid_string_random ();
  randombytes_buf (stranger->seed, 32);
  stranger->key = cps_device_key_new_from_seed (stranger->device_id, stranger->seed);
  unknown_dev = cps_test_make_revision (stranger, fixture->project, NULL, DOC_A);

  bad_batch[0] = orphan;
  bad_batch[1] = bad_id;
  bad_batch[2] = bad_sig;
  bad_batch[3] = bad_clock;
  bad_batch[4] = bad_sum;
  bad_batch[5] = encrypted;
  bad_batch[6] = unknown_dev;
  bad_batch[7] = NULL;
  response = push (fixture, fixture->bea, fixture->project, bad_batch);
  assert_result (response, 0, "rejected", "unknown_parent");
  assert_result (response, 1, "rejected", "bad_id");
  assert_result (response, 2, "rejected", "bad_signature");
  assert_result (response, 3, "rejected", "bad_clock");
  assert_result (response, 4, "rejected", "checksum_mismatch");
  assert_result (response, 5, "rejected", "invalid_revision");
  assert_result (response, 6, "rejected", "unknown_device");
  g_assert_cmpint (cps_test_json_get (response, "heads")->n, ==, 0);

  /* A revision of another project in this project's push. */
  {
    g_autofree char *other = cps_test_create_project (fixture->server, fixture->bea, "Other",
                                                      FALSE);
    const char *one[2] = { NULL, NULL };

    wrong_project = cps_test_make_revision (fixture->bea, other, NULL, DOC_A);
    one[0] = wrong_project;
    g_clear_pointer (&response, cps_test_response_free);
    response = push (fixture, fixture->bea, fixture->project, one);
    assert_result (response, 0, "rejected", "invalid_revision");
  }

  /* Nothing a rejected revision carried was stored. */
  {
    g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions", fixture->project);
    g_autoptr(CpsTestResponse) list = cps_test_request (fixture->server, "GET", path,
                                                        fixture->bea->access_token, NULL);

    g_assert_null (cps_test_json_get (list, "revisions.0"));
  }

  /* A good one after all that. */
  {
    const char *one[] = { r1, NULL };

    g_clear_pointer (&response, cps_test_response_free);
    response = push (fixture, fixture->bea, fixture->project, one);
    assert_result (response, 0, "accepted", NULL);
  }
  (void) good;
}

static void
test_push_permissions (Fixture *fixture, gconstpointer data)
{
  g_autofree char *by_cal = cps_test_make_revision (fixture->cal, fixture->project, NULL, DOC_A);
  g_autofree char *by_bea = cps_test_make_revision (fixture->bea, fixture->project, NULL, DOC_A);
  const char *cal_batch[] = { by_cal, NULL };
  const char *bea_batch[] = { by_bea, NULL };
  g_autoptr(CpsTestResponse) outsider = NULL, viewer = NULL, relayed = NULL, too_many = NULL;
  g_autoptr(CpsTestResponse) no_project = NULL, not_array = NULL;
  g_autoptr(GString) big = g_string_new ("{\"revisions\":[");
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions", fixture->project);

  /* Cal is not a member: the project is not there for him. */
  outsider = push (fixture, fixture->cal, fixture->project, cal_batch);
  cps_test_assert_error (outsider, 404, "not_found");

  /* As a viewer he sees it but cannot push. */
  put_member (fixture, fixture->admin, fixture->project, fixture->cal->account_id, "viewer", 200);
  viewer = push (fixture, fixture->cal, fixture->project, cal_batch);
  cps_test_assert_error (viewer, 403, "forbidden");

  /* Bea relays a revision Cal's device signed: his account has no write access. */
  relayed = push (fixture, fixture->bea, fixture->project, cal_batch);
  assert_result (relayed, 0, "rejected", "forbidden");

  for (int i = 0; i < 101; i++)
    g_string_append_printf (big, "%s%s", i > 0 ? "," : "", by_bea);
  g_string_append (big, "]}");
  too_many = cps_test_request (fixture->server, "POST", path, fixture->bea->access_token,
                               big->str);
  cps_test_assert_error (too_many, 413, "too_large");

  not_array = cps_test_request (fixture->server, "POST", path, fixture->bea->access_token,
                                "{\"revisions\":{}}");
  cps_test_assert_error (not_array, 400, "invalid_request");

  no_project = push (fixture, fixture->bea, "00000000-0000-4000-8000-000000000001", bea_batch);
  cps_test_assert_error (no_project, 404, "not_found");
}

static void
test_conflict_and_merge (Fixture *fixture, gconstpointer data)
{
  g_autofree char *base = cps_test_make_revision (fixture->bea, fixture->project, NULL, DOC_A);
  const char *on_base[] = { base, NULL };
  g_autofree char *left = cps_test_make_revision (fixture->bea, fixture->project, on_base, DOC_B);
  g_autofree char *right = cps_test_make_revision (fixture->admin, fixture->project, on_base,
                                                   DOC_C);
  const char *heads[] = { left, right, NULL };
  g_autofree char *merge = cps_test_make_revision (fixture->bea, fixture->project, heads, DOC_M);
  const char *first[] = { base, left, NULL };
  const char *second[] = { right, NULL };
  const char *third[] = { merge, NULL };
  g_autoptr(CpsTestResponse) a = NULL, b = NULL, conflict = NULL, c = NULL, after = NULL;
  g_autoptr(CpsTestResponse) clean = NULL, metrics = NULL;
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/conflict", fixture->project);
  g_autofree char *base_id = revision_id (base), *merge_id = revision_id (merge);

  a = push (fixture, fixture->bea, fixture->project, first);
  assert_result (a, 1, "accepted", NULL);
  b = push (fixture, fixture->admin, fixture->project, second);
  assert_result (b, 0, "accepted", NULL);
  g_assert_true (cps_test_json_get (b, "conflicted")->v.boolean);
  g_assert_cmpint (cps_test_json_get (b, "heads")->n, ==, 2);

  conflict = cps_test_request (fixture->server, "GET", path, fixture->bea->access_token, NULL);
  g_assert_cmpuint (conflict->status, ==, 200);
  g_assert_cmpint (cps_test_json_get (conflict, "heads")->n, ==, 2);
  g_assert_nonnull (cps_test_json_get (conflict, "heads.0.payload.json"));
  g_assert_cmpstr (cps_test_json_get_string (conflict, "ancestor.id"), ==, base_id);

  metrics = cps_test_request (fixture->server, "GET", "/metrics", NULL, NULL);
  g_assert_nonnull (strstr (metrics->body, "cps_conflicts_open 1"));

  c = push (fixture, fixture->bea, fixture->project, third);
  assert_result (c, 0, "accepted", NULL);
  g_assert_false (cps_test_json_get (c, "conflicted")->v.boolean);
  g_assert_cmpstr (cps_test_json_get_string (c, "heads.0"), ==, merge_id);

  after = cps_test_request (fixture->server, "GET", path, fixture->bea->access_token, NULL);
  g_assert_cmpint (cps_test_json_get (after, "heads")->n, ==, 1);
  g_assert_cmpint (cps_test_json_get (after, "ancestor")->type, ==, CPS_JSON_NULL);

  /* Both sides were kept: four revisions. */
  g_free (path);
  path = g_strdup_printf ("/v1/projects/%s", fixture->project);
  clean = cps_test_request (fixture->server, "GET", path, fixture->bea->access_token, NULL);
  g_assert_cmpint (cps_test_json_get_int (clean, "revision_count"), ==, 4);
  g_assert_false (cps_test_json_get (clean, "conflicted")->v.boolean);
}

static void
test_revoked_device_revisions (Fixture *fixture, gconstpointer data)
{
  g_autoptr(CpsTestClient) tablet = cps_test_login (fixture->server, "bea", PASSWORD, "Tablet");
  g_autofree char *before = cps_test_make_revision (tablet, fixture->project, NULL, DOC_A);
  g_autofree char *after = NULL;
  g_autofree char *path = g_strdup_printf ("/v1/devices/%s/revoke", tablet->device_id);
  g_autoptr(CpsTestResponse) revoke = NULL, pushed = NULL, own = NULL;
  const char *batch[3] = { NULL, NULL, NULL };

  g_usleep (5000);
  revoke = cps_test_request (fixture->server, "POST", path, fixture->bea->access_token,
                             "{\"reason\":\"stolen\"}");
  g_assert_cmpuint (revoke->status, ==, 200);
  g_usleep (5000);
  after = cps_test_make_revision (tablet, fixture->project, NULL, DOC_B);

  /* From the revoke on, nothing the device signed is accepted, whoever relays it: its clock
   * cannot prove that a revision was made before (a stolen key would simply backdate). */
  batch[0] = before;
  batch[1] = after;
  pushed = push (fixture, fixture->bea, fixture->project, batch);
  assert_result (pushed, 0, "rejected", "device_revoked");
  assert_result (pushed, 1, "rejected", "device_revoked");

  own = push (fixture, tablet, fixture->project, batch);
  cps_test_assert_error (own, 401, "device_revoked");
}

static void
test_encrypted_project (Fixture *fixture, gconstpointer data)
{
  g_autofree char *project = NULL, *clock = NULL, *rev = NULL, *plain = NULL, *path = NULL;
  g_autofree char *body = NULL;
  g_autoptr(CpsTestResponse) created = NULL, pushed = NULL, get = NULL;
  const char *batch[3] = { NULL, NULL, NULL };

  body = g_strdup_printf ("{\"name\":\"Secret\",\"encrypted\":true,\"keys\":[{\"account_id\":"
                          "\"%s\",\"key_epoch\":1,\"wrapped_key\":\"d3JhcHBlZA==\"}]}",
                          fixture->bea->account_id);
  created = cps_test_request (fixture->server, "POST", "/v1/projects",
                              fixture->bea->access_token, body);
  g_assert_cmpuint (created->status, ==, 201);
  g_assert_true (cps_test_json_get (created, "encrypted")->v.boolean);
  project = g_strdup (cps_test_json_get_string (created, "id"));

  clock = g_strdup_printf ("{\"%s\":1}", fixture->bea->device_id);
  /* The server cannot see the document: the checksum is the client's word. */
  rev = make_custom (fixture->bea, project, "[]", clock,
                     "sha256:2222222222222222222222222222222222222222222222222222222222222222",
                     "{\"enc\":\"xchacha20poly1305\",\"key_epoch\":1,"
                     "\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"ciphertext\":\"AAAA\"}");
  plain = cps_test_make_revision (fixture->bea, project, NULL, DOC_A);
  batch[0] = rev;
  batch[1] = plain;
  pushed = push (fixture, fixture->bea, project, batch);
  assert_result (pushed, 0, "accepted", NULL);
  assert_result (pushed, 1, "rejected", "invalid_revision");

  path = g_strdup_printf ("/v1/projects/%s", project);
  get = cps_test_request (fixture->server, "GET", path, fixture->bea->access_token, NULL);
  g_assert_cmpint (cps_test_json_get_int (get, "keys.0.key_epoch"), ==, 1);
  g_assert_cmpstr (cps_test_json_get_string (get, "keys.0.wrapped_key"), ==, "d3JhcHBlZA==");
}

/* Reads the whole feed from @since in pages of @limit; returns the revision ids in order. */
static GPtrArray *
read_feed (CpsTestServer *server, CpsTestClient *client, char **since, guint limit)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  gint64 last_seq = 0;

  for (int round = 0; round < 1000; round++)
    {
      g_autofree char *path = NULL;
      g_autoptr(CpsTestResponse) page = NULL;
      const CpsJsonNode *changes;
      gboolean done;

      path = *since != NULL ? g_strdup_printf ("/v1/changes?since=%s&limit=%u", *since, limit)
                            : g_strdup_printf ("/v1/changes?limit=%u", limit);
      page = cps_test_request (server, "GET", path, client->access_token, NULL);
      g_assert_cmpuint (page->status, ==, 200);
      changes = cps_test_json_get (page, "changes");
      g_assert_cmpuint (changes->n, <=, limit);
      for (guint i = 0; i < changes->n; i++)
        {
          const CpsJsonNode *change = &changes->v.items[i];
          const CpsJsonNode *seq = cps_json_object_get (change, "seq");
          const CpsJsonNode *revision = cps_json_object_get (change, "revision");

          g_assert_cmpfloat (seq->v.number, >, last_seq);
          last_seq = (gint64) seq->v.number;
          g_assert_nonnull (cps_json_object_get (revision, "payload"));
          g_assert_cmpstr (cps_json_object_get_string (change, "project_id"), ==,
                           cps_json_object_get_string (revision, "project_id"));
          g_ptr_array_add (ids, g_strdup (cps_json_object_get_string (revision, "id")));
        }
      g_free (*since);
      *since = g_strdup (cps_test_json_get_string (page, "next"));
      g_assert_nonnull (*since);
      done = cps_test_json_get (page, "done")->v.boolean;
      if (done)
        break;
    }
  return ids;
}

static void
test_changes_feed (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) first = NULL, second = NULL, cal_view = NULL, empty = NULL;
  g_autofree char *since = NULL, *cal_since = NULL, *prev = NULL;
  g_autofree char *other = cps_test_create_project (fixture->server, fixture->admin, "Private",
                                                    FALSE);
  g_autoptr(CpsTestResponse) bad = NULL;

  prev = cps_test_make_revision (fixture->bea, fixture->project, NULL, DOC_A);
  for (int i = 0; i < 7; i++)
    {
      g_autofree char *doc = g_strdup_printf ("{\"n\":%d}", i);
      const char *parents[] = { prev, NULL };
      char *next = i == 0 ? g_strdup (prev)
                          : cps_test_make_revision (fixture->bea, fixture->project, parents, doc);
      const char *batch[] = { next, NULL };
      g_autoptr(CpsTestResponse) response = push (fixture, fixture->bea, fixture->project, batch);

      assert_result (response, 0, "accepted", NULL);
      g_ptr_array_add (all, revision_id (next));
      g_free (prev);
      prev = next;
    }
  {
    g_autofree char *hidden = cps_test_make_revision (fixture->admin, other, NULL, DOC_A);
    const char *batch[] = { hidden, NULL };
    g_autoptr(CpsTestResponse) response = push (fixture, fixture->admin, other, batch);

    assert_result (response, 0, "accepted", NULL);
  }

  /* Pages of 3: 3 + 3 + 1, in push order, nothing of the project Bea cannot see. */
  first = read_feed (fixture->server, fixture->bea, &since, 3);
  g_assert_cmpuint (first->len, ==, 7);
  for (guint i = 0; i < 7; i++)
    g_assert_cmpstr (g_ptr_array_index (first, i), ==, g_ptr_array_index (all, i));

  /* Cal is in no project. */
  cal_view = read_feed (fixture->server, fixture->cal, &cal_since, 10);
  g_assert_cmpuint (cal_view->len, ==, 0);

  /* The server restarts; reading on from the token neither skips nor repeats. */
  cps_test_server_restart (fixture->server);
  {
    const char *parents[] = { prev, NULL };
    g_autofree char *later = cps_test_make_revision (fixture->bea, fixture->project, parents,
                                                     DOC_C);
    const char *batch[] = { later, NULL };
    g_autoptr(CpsTestResponse) response = push (fixture, fixture->bea, fixture->project, batch);

    assert_result (response, 0, "accepted", NULL);
    second = read_feed (fixture->server, fixture->bea, &since, 3);
    g_assert_cmpuint (second->len, ==, 1);
    g_assert_cmpstr (g_ptr_array_index (second, 0), ==, cps_test_json_get_string (response,
                                                                                  "results.0.id"));
  }
  /* At the end: an empty page that says so, with a token to come back with. */
  empty = read_feed (fixture->server, fixture->bea, &since, 3);
  g_assert_cmpuint (empty->len, ==, 0);

  bad = cps_test_request (fixture->server, "GET", "/v1/changes?since=garbage%00",
                          fixture->bea->access_token, NULL);
  cps_test_assert_error (bad, 400, "invalid_request");
}

/* A revision with a second "payload" in front: its signature covers the last one, which a
 * JSON.parse reader would take, while a reader keeping the first would see other content.
 * It must be refused, never stored as sent. */
static void
test_ambiguous_revision (Fixture *fixture, gconstpointer data)
{
  g_autofree char *r1 = cps_test_make_revision (fixture->bea, fixture->project, NULL, DOC_A);
  g_autofree char *planted = g_strconcat ("{\"payload\":{\"enc\":\"none\",\"json\":"
                                          "{\"evil\":true}},",
                                          r1 + 1, NULL);
  const char *bad[] = { planted, NULL };
  const char *good[] = { r1, NULL };
  g_autoptr(CpsTestResponse) refused = NULL, accepted = NULL, stored = NULL;
  g_autofree char *id = revision_id (r1);
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions/%s", fixture->project, id);

  refused = push (fixture, fixture->bea, fixture->project, bad);
  assert_result (refused, 0, "rejected", "invalid_revision");
  accepted = push (fixture, fixture->bea, fixture->project, good);
  assert_result (accepted, 0, "accepted", NULL);
  stored = cps_test_request (fixture->server, "GET", path, fixture->bea->access_token, NULL);
  g_assert_cmpstr (stored->body, ==, r1);
  g_assert_null (strstr (stored->body, "evil"));
}

/* Served inside a feed page, a revision nested nearly 512 levels deep would make the page
 * unreadable for every member; the server takes at most 256. */
static void
test_deep_revision (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GString) document = g_string_new ("{\"a\":");
  g_autofree char *deep = NULL;
  const char *batch[] = { NULL, NULL };
  g_autoptr(CpsTestResponse) response = NULL;

  for (int i = 0; i < 300; i++)
    g_string_append_c (document, '[');
  for (int i = 0; i < 300; i++)
    g_string_append_c (document, ']');
  g_string_append_c (document, '}');
  deep = cps_test_make_revision (fixture->bea, fixture->project, NULL, document->str);
  batch[0] = deep;
  response = push (fixture, fixture->bea, fixture->project, batch);
  assert_result (response, 0, "rejected", "invalid_revision");
}

static void
test_gzip (Fixture *fixture, gconstpointer data)
{
  g_autofree char *r1 = cps_test_make_revision (fixture->bea, fixture->project, NULL, DOC_A);
  g_autofree char *body = g_strdup_printf ("{\"revisions\":[%s]}", r1);
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions", fixture->project);
  g_autoptr(GZlibCompressor) compressor = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP,
                                                                 6);
  guint8 compressed[8192];
  gsize read = 0, written = 0;
  const char *headers[] = { "Content-Encoding", "gzip", NULL };
  const char *accept[] = { "Accept-Encoding", "gzip", NULL };
  g_autoptr(CpsTestResponse) pushed = NULL, listed = NULL;

  g_assert_cmpint (g_converter_convert (G_CONVERTER (compressor), body, strlen (body), compressed,
                                        sizeof compressed, G_CONVERTER_INPUT_AT_END, &read,
                                        &written, NULL),
                   ==, G_CONVERTER_FINISHED);
  pushed = cps_test_request_full (fixture->server, "POST", path, fixture->bea->access_token,
                                  compressed, written, headers);
  assert_result (pushed, 0, "accepted", NULL);

  /* libsoup decodes gzip transparently, so the header tells whether it was used. */
  listed = cps_test_request_full (fixture->server, "GET", "/v1/changes",
                                  fixture->bea->access_token, NULL, 0, accept);
  g_assert_cmpuint (listed->status, ==, 200);
  g_assert_nonnull (cps_test_json_get (listed, "changes.0.revision"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (sodium_init () < 0)
    return 1;

#define ADD(name, func) \
  g_test_add ("/server/sync/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("projects", test_projects);
  ADD ("push-and-history", test_push_and_history);
  ADD ("push-rejections", test_push_rejections);
  ADD ("push-permissions", test_push_permissions);
  ADD ("conflict-and-merge", test_conflict_and_merge);
  ADD ("revoked-device-revisions", test_revoked_device_revisions);
  ADD ("encrypted-project", test_encrypted_project);
  ADD ("changes-feed", test_changes_feed);
  ADD ("ambiguous-revision", test_ambiguous_revision);
  ADD ("deep-revision", test_deep_revision);
  ADD ("gzip", test_gzip);
#undef ADD
  return g_test_run ();
}
