/* test-server-stress.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Bounded stress against a real cps-server: concurrent pushes from eight
 * clients (the DAG, heads and changes feed must agree afterwards), SIGKILL in
 * the middle of push storms (nothing acknowledged may be lost, and the audit
 * chain must still verify), and changes-feed paging across restarts.
 *
 * Each client thread has its own SoupSession: the fixture's session belongs to
 * the main thread.
 */

#include "config.h"

#include <string.h>
#include <sodium.h>

#include "cps-revision.h"
#include "server-fixture.h"

#define PASSWORD "a long enough password"

/* ----- a small thread-safe client ------------------------------------------------------- */

static SoupSession *
new_session (void)
{
  return soup_session_new_with_options ("timeout", 30, "max-conns", 4, "max-conns-per-host", 4,
                                        NULL);
}

/* One request on @session; NULL (and @error) when the connection failed. */
static CpsTestResponse *
http_request (SoupSession *session, const char *base_url, const char *method, const char *path,
              const char *token, const char *body, GError **error)
{
  g_autofree char *url = g_strconcat (base_url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) reply = NULL;
  CpsTestResponse *response;
  gsize length;

  g_assert_nonnull (msg);
  if (token != NULL)
    {
      g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    bearer);
    }
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  reply = soup_session_send_and_read (session, msg, NULL, error);
  if (reply == NULL)
    return NULL;

  response = g_new0 (CpsTestResponse, 1);
  response->status = soup_message_get_status (msg);
  response->body = g_bytes_unref_to_data (g_steal_pointer (&reply), &length);
  response->body = g_realloc (response->body, length + 1);
  response->body[length] = '\0';
  response->length = length;
  if (length > 0 && response->body[0] == '{')
    response->json = cps_json_document_parse_copy (response->body, length, NULL, NULL);
  return response;
}

static char *
revision_id (const char *json)
{
  g_autoptr(CpsRevision) revision = cps_revision_new_from_string (json, -1, NULL);

  g_assert_nonnull (revision);
  return g_strdup (cps_revision_get_id (revision));
}

static char *
push_body (GPtrArray *revisions)
{
  GString *body = g_string_new ("{\"revisions\":[");

  for (guint i = 0; i < revisions->len; i++)
    g_string_append_printf (body, "%s%s", i > 0 ? "," : "",
                            (const char *) g_ptr_array_index (revisions, i));
  g_string_append (body, "]}");
  return g_string_free (body, FALSE);
}

static void
add_member_account (CpsTestServer *server, CpsTestClient *admin, const char *username)
{
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"%s\","
                                           "\"role\":\"member\"}",
                                           username, PASSWORD);
  g_autoptr(CpsTestResponse) response = cps_test_request (server, "POST", "/v1/accounts",
                                                          admin->access_token, body);

  g_assert_cmpuint (response->status, ==, 201);
}

static void
put_editor (CpsTestServer *server, CpsTestClient *owner, const char *project,
            const char *account)
{
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/members/%s", project, account);
  g_autoptr(CpsTestResponse) response = cps_test_request (server, "PUT", path,
                                                          owner->access_token,
                                                          "{\"role\":\"editor\"}");

  g_assert_cmpuint (response->status, ==, 200);
}

/* Every revision header of @project, oldest first, paging with @limit. */
static GPtrArray *
list_revisions (CpsTestServer *server, CpsTestClient *as, const char *project, guint limit)
{
  GPtrArray *headers = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *cursor = NULL;

  for (guint page = 0; page < 10000; page++)
    {
      g_autofree char *path = NULL;
      g_autoptr(CpsTestResponse) response = NULL;
      const CpsJsonNode *revisions, *next;

      path = cursor != NULL
               ? g_strdup_printf ("/v1/projects/%s/revisions?limit=%u&cursor=%s", project, limit,
                                  cursor)
               : g_strdup_printf ("/v1/projects/%s/revisions?limit=%u", project, limit);
      response = cps_test_request (server, "GET", path, as->access_token, NULL);
      g_assert_cmpuint (response->status, ==, 200);
      revisions = cps_test_json_get (response, "revisions");
      g_assert_nonnull (revisions);
      g_assert_cmpuint (revisions->n, <=, limit);
      for (guint i = 0; i < revisions->n; i++)
        {
          g_autofree char *text = cps_json_to_string (&revisions->v.items[i], 0, NULL, NULL);

          g_assert_nonnull (text);
          g_ptr_array_add (headers, g_steal_pointer (&text));
        }
      next = cps_test_json_get (response, "next_cursor");
      g_assert_nonnull (next);
      if (next->type == CPS_JSON_NULL)
        return headers;
      g_assert_cmpint (next->type, ==, CPS_JSON_STRING);
      g_free (cursor);
      cursor = g_strdup (next->v.string);
    }
  g_assert_not_reached ();
}

typedef struct
{
  gint64 seq;
  char *project_id;
  char *revision_id;
} Change;

static void
change_free (Change *change)
{
  g_free (change->project_id);
  g_free (change->revision_id);
  g_free (change);
}

/* Reads the changes feed from *since (NULL: the start) in pages of @limit, at most
 * @max_pages pages (0: until done); *since is left at the last next token. Returns the
 * entries read. */
static GPtrArray *
read_changes (CpsTestServer *server, CpsTestClient *as, char **since, guint limit,
              guint max_pages, gboolean *done_out)
{
  GPtrArray *changes = g_ptr_array_new_with_free_func ((GDestroyNotify) change_free);
  gboolean done = FALSE;

  for (guint page = 0; (max_pages == 0 || page < max_pages) && page < 10000; page++)
    {
      g_autofree char *path = NULL;
      g_autoptr(CpsTestResponse) response = NULL;
      const CpsJsonNode *items;

      path = *since != NULL ? g_strdup_printf ("/v1/changes?since=%s&limit=%u", *since, limit)
                            : g_strdup_printf ("/v1/changes?limit=%u", limit);
      response = cps_test_request (server, "GET", path, as->access_token, NULL);
      g_assert_cmpuint (response->status, ==, 200);
      items = cps_test_json_get (response, "changes");
      g_assert_nonnull (items);
      g_assert_cmpuint (items->n, <=, limit);
      for (guint i = 0; i < items->n; i++)
        {
          const CpsJsonNode *item = &items->v.items[i];
          const CpsJsonNode *revision = cps_json_object_get (item, "revision");
          Change *change = g_new0 (Change, 1);

          change->seq = (gint64) cps_json_object_get (item, "seq")->v.number;
          change->project_id = g_strdup (cps_json_object_get_string (item, "project_id"));
          change->revision_id = g_strdup (cps_json_object_get_string (revision, "id"));
          g_assert_nonnull (change->revision_id);
          g_assert_cmpstr (change->project_id, ==,
                           cps_json_object_get_string (revision, "project_id"));
          g_ptr_array_add (changes, change);
        }
      g_free (*since);
      *since = g_strdup (cps_test_json_get_string (response, "next"));
      g_assert_nonnull (*since);
      done = cps_test_json_get (response, "done")->v.boolean;
      if (done)
        break;
    }
  if (done_out != NULL)
    *done_out = done;
  return changes;
}

static double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

/* ----- a. concurrent pushes ------------------------------------------------------------- */

#define N_WRITERS 8
#define REVISIONS_PER_WRITER 30

typedef struct
{
  guint index;
  const char *base_url;
  CpsTestClient *client;
  const char *projects[2];
  GHashTable *known;        /* id → full revision JSON */
  GPtrArray *heads[2];      /* ids, as last seen (NULL: never looked) */
  GHashTable *acked;        /* id → project index (GINT_TO_POINTER) */
  guint pushes, stale_pushes, rejected, failed;
  GString *problems;
} Writer;

/* Makes sure @writer knows the full JSON of every id in @ids. */
static gboolean
fetch_unknown (Writer *writer, SoupSession *session, guint p, GPtrArray *ids)
{
  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);
      g_autofree char *path = NULL;
      g_autoptr(CpsTestResponse) response = NULL;
      g_autoptr(GError) error = NULL;

      if (g_hash_table_contains (writer->known, id))
        continue;
      path = g_strdup_printf ("/v1/projects/%s/revisions/%s", writer->projects[p], id);
      response = http_request (session, writer->base_url, "GET", path,
                               writer->client->access_token, NULL, &error);
      if (response == NULL || response->status != 200)
        {
          g_string_append_printf (writer->problems, "GET %s: %s\n", path,
                                  response != NULL ? response->body : error->message);
          return FALSE;
        }
      g_hash_table_insert (writer->known, g_strdup (id), g_strdup (response->body));
    }
  return TRUE;
}

static GPtrArray *
ids_of (const CpsJsonNode *array)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; array != NULL && i < array->n; i++)
    g_ptr_array_add (ids, g_strdup (array->v.items[i].v.string));
  return ids;
}

static gboolean
refresh_heads (Writer *writer, SoupSession *session, guint p)
{
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s", writer->projects[p]);
  g_autoptr(GError) error = NULL;
  g_autoptr(CpsTestResponse) response = http_request (session, writer->base_url, "GET", path,
                                                      writer->client->access_token, NULL,
                                                      &error);

  if (response == NULL || response->status != 200)
    {
      g_string_append_printf (writer->problems, "GET %s: %s\n", path,
                              response != NULL ? response->body : error->message);
      return FALSE;
    }
  g_clear_pointer (&writer->heads[p], g_ptr_array_unref);
  writer->heads[p] = ids_of (cps_test_json_get (response, "heads"));
  return TRUE;
}

static gpointer
writer_thread (gpointer data)
{
  Writer *writer = data;
  g_autoptr(SoupSession) session = new_session ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (0x5eed + writer->index);
  guint remaining = REVISIONS_PER_WRITER, n = 0;

  while (remaining > 0)
    {
      guint p = g_rand_int_range (rand, 0, 2);
      guint wanted = g_rand_int_range (rand, 1, 6);
      guint batch = MIN (remaining, wanted);
      gboolean stale = writer->heads[p] != NULL && g_rand_int_range (rand, 0, 3) == 0;
      g_autoptr(GPtrArray) revisions = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GPtrArray) parents = g_ptr_array_new ();
      g_autofree char *path = NULL, *body = NULL;
      g_autoptr(CpsTestResponse) response = NULL;
      g_autoptr(GError) error = NULL;
      const CpsJsonNode *results;

      /* Mostly on the heads just read; sometimes on the ones the last push reported,
       * which others have likely moved past by now. */
      if (!stale && !refresh_heads (writer, session, p))
        {
          writer->failed++;
          break;
        }
      if (!fetch_unknown (writer, session, p, writer->heads[p]))
        {
          writer->failed++;
          break;
        }
      for (guint i = 0; i < writer->heads[p]->len; i++)
        g_ptr_array_add (parents, g_hash_table_lookup (writer->known,
                                                       g_ptr_array_index (writer->heads[p], i)));
      g_ptr_array_add (parents, NULL);

      for (guint i = 0; i < batch; i++)
        {
          g_autofree char *doc = g_strdup_printf ("{\"writer\":%u,\"n\":%u,\"project\":%u}",
                                                  writer->index, n++, p);
          const char *previous[] = { i > 0 ? g_ptr_array_index (revisions, i - 1) : NULL, NULL };
          char *revision = cps_test_make_revision (writer->client, writer->projects[p],
                                                   i > 0 ? previous
                                                         : (const char *const *) parents->pdata,
                                                   doc);

          g_ptr_array_add (revisions, revision);
          g_hash_table_insert (writer->known, revision_id (revision), g_strdup (revision));
        }

      path = g_strdup_printf ("/v1/projects/%s/revisions", writer->projects[p]);
      body = push_body (revisions);
      response = http_request (session, writer->base_url, "POST", path,
                               writer->client->access_token, body, &error);
      writer->pushes++;
      if (stale)
        writer->stale_pushes++;
      if (response == NULL || response->status != 200)
        {
          g_string_append_printf (writer->problems, "push: %s\n",
                                  response != NULL ? response->body : error->message);
          writer->failed++;
          break;
        }
      results = cps_test_json_get (response, "results");
      for (guint i = 0; results != NULL && i < results->n; i++)
        {
          const char *status = cps_json_object_get_string (&results->v.items[i], "status");
          const char *id = cps_json_object_get_string (&results->v.items[i], "id");

          if (g_strcmp0 (status, "accepted") == 0 || g_strcmp0 (status, "duplicate") == 0)
            g_hash_table_insert (writer->acked, g_strdup (id), GUINT_TO_POINTER (p));
          else
            {
              writer->rejected++;
              g_string_append_printf (writer->problems, "rejected %s: %s\n", id, response->body);
            }
        }
      g_clear_pointer (&writer->heads[p], g_ptr_array_unref);
      writer->heads[p] = ids_of (cps_test_json_get (response, "heads"));
      remaining -= batch;
    }
  return NULL;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Checks one project against everything the writers were told. */
static void
check_project (CpsTestServer *server, CpsTestClient *as, const char *project, guint p,
               GHashTable *acked)
{
  g_autoptr(GPtrArray) headers = list_revisions (server, as, project, 37);
  g_autoptr(GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) parents = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) documents = g_ptr_array_new_with_free_func (
    (GDestroyNotify) cps_json_document_unref);
  g_autoptr(GPtrArray) computed = g_ptr_array_new ();
  g_autoptr(GPtrArray) reported = NULL;
  g_autoptr(CpsTestResponse) response = NULL;
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s", project);
  GHashTableIter iter;
  gpointer key, value;
  guint expected = 0;

  for (guint i = 0; i < headers->len; i++)
    {
      CpsJsonDocument *doc = cps_json_document_parse_copy (g_ptr_array_index (headers, i), -1,
                                                           NULL, NULL);
      const CpsJsonNode *root = cps_json_document_get_root (doc);
      const CpsJsonNode *list = cps_json_object_get (root, "parents");
      const char *id = cps_json_object_get_string (root, "id");

      g_ptr_array_add (documents, doc);
      g_assert_nonnull (id);
      g_assert_cmpstr (cps_json_object_get_string (root, "project_id"), ==, project);
      /* No id twice. */
      g_assert_false (g_hash_table_contains (listed, id));
      g_hash_table_add (listed, (gpointer) id);
      /* Oldest first: every parent is listed before its child. */
      for (guint j = 0; j < list->n; j++)
        {
          g_assert_true (g_hash_table_contains (listed, list->v.items[j].v.string));
          g_hash_table_add (parents, (gpointer) list->v.items[j].v.string);
        }
    }

  /* Exactly what the writers were told: nothing acknowledged is missing, nothing else is
   * there (every push in this test was answered). */
  g_hash_table_iter_init (&iter, acked);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (GPOINTER_TO_UINT (value) == p)
      {
        expected++;
        if (!g_hash_table_contains (listed, key))
          g_error ("acknowledged revision %s is not listed", (const char *) key);
      }
  g_assert_cmpuint (headers->len, ==, expected);

  g_hash_table_iter_init (&iter, listed);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (parents, key))
      g_ptr_array_add (computed, key);
  g_ptr_array_sort (computed, compare_strings);

  response = cps_test_request (server, "GET", path, as->access_token, NULL);
  g_assert_cmpuint (response->status, ==, 200);
  g_assert_cmpint (cps_test_json_get_int (response, "revision_count"), ==, headers->len);
  reported = ids_of (cps_test_json_get (response, "heads"));
  g_ptr_array_sort (reported, compare_strings);
  g_test_message ("project %u: %u revisions, %u heads", p, headers->len, computed->len);
  g_assert_cmpuint (reported->len, ==, computed->len);
  for (guint i = 0; i < computed->len; i++)
    g_assert_cmpstr (g_ptr_array_index (reported, i), ==, g_ptr_array_index (computed, i));
  g_assert_cmpint (cps_test_json_get (response, "conflicted")->v.boolean, ==,
                   computed->len > 1);
}

/* @a and @b each push one revision on the current heads of @project. */
static void
fork_project (CpsTestServer *server, CpsTestClient *a, CpsTestClient *b, const char *project,
              GHashTable *acked)
{
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s", project);
  g_autoptr(CpsTestResponse) state = cps_test_request (server, "GET", path, a->access_token,
                                                       NULL);
  const CpsJsonNode *heads = cps_test_json_get (state, "heads");
  g_autoptr(GPtrArray) parents = g_ptr_array_new_with_free_func (g_free);
  CpsTestClient *sides[] = { a, b };

  g_assert_nonnull (heads);
  for (guint i = 0; i < heads->n; i++)
    {
      g_autofree char *revision_path = g_strdup_printf ("/v1/projects/%s/revisions/%s", project,
                                                        heads->v.items[i].v.string);
      g_autoptr(CpsTestResponse) revision = cps_test_request (server, "GET", revision_path,
                                                              a->access_token, NULL);

      g_assert_cmpuint (revision->status, ==, 200);
      g_ptr_array_add (parents, g_strdup (revision->body));
    }
  g_ptr_array_add (parents, NULL);

  g_free (path);
  path = g_strdup_printf ("/v1/projects/%s/revisions", project);
  for (guint i = 0; i < G_N_ELEMENTS (sides); i++)
    {
      g_autofree char *doc = g_strdup_printf ("{\"fork\":%u}", i);
      g_autofree char *revision = cps_test_make_revision (sides[i], project,
                                                          (const char *const *) parents->pdata,
                                                          doc);
      g_autofree char *body = g_strdup_printf ("{\"revisions\":[%s]}", revision);
      g_autoptr(CpsTestResponse) response = cps_test_request (server, "POST", path,
                                                              sides[i]->access_token, body);

      g_assert_cmpuint (response->status, ==, 200);
      g_assert_cmpstr (cps_test_json_get_string (response, "results.0.status"), ==, "accepted");
      g_hash_table_insert (acked, revision_id (revision), GUINT_TO_POINTER (0));
      if (i == 1)
        g_assert_true (cps_test_json_get (response, "conflicted")->v.boolean);
    }
}

static void
test_concurrent_pushes (void)
{
  g_autoptr(CpsTestServer) server = cps_test_server_start (NULL, NULL);
  g_autoptr(CpsTestClient) admin = NULL;
  g_autoptr(GHashTable) acked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GHashTable) fed = g_hash_table_new (g_str_hash, g_str_equal);
  char *projects[2] = { NULL, NULL };
  g_autofree char *since = NULL;
  Writer writers[N_WRITERS];
  GThread *threads[N_WRITERS];
  gint64 start = g_get_monotonic_time (), storm;
  guint pushes = 0, stale = 0;
  gint64 last_seq = 0;

  cps_test_server_add_account (server, "admin", PASSWORD, "admin");
  admin = cps_test_login (server, "admin", PASSWORD, "Admin laptop");
  projects[0] = cps_test_create_project (server, admin, "Day one", FALSE);
  projects[1] = cps_test_create_project (server, admin, "Day two", FALSE);

  memset (writers, 0, sizeof writers);
  for (guint i = 0; i < N_WRITERS; i++)
    {
      g_autofree char *name = g_strdup_printf ("writer%u", i);
      g_autofree char *device = g_strdup_printf ("Cart %u", i);

      add_member_account (server, admin, name);
      writers[i].index = i;
      writers[i].base_url = server->base_url;
      writers[i].client = cps_test_login (server, name, PASSWORD, device);
      writers[i].projects[0] = projects[0];
      writers[i].projects[1] = projects[1];
      writers[i].known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      writers[i].acked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      writers[i].problems = g_string_new (NULL);
      put_editor (server, admin, projects[0], writers[i].client->account_id);
      put_editor (server, admin, projects[1], writers[i].client->account_id);
    }
  g_test_message ("set-up: %.2f s", seconds_since (start));

  storm = g_get_monotonic_time ();
  for (guint i = 0; i < N_WRITERS; i++)
    threads[i] = g_thread_new ("writer", writer_thread, &writers[i]);
  for (guint i = 0; i < N_WRITERS; i++)
    g_thread_join (threads[i]);
  g_test_message ("%u writers × %u revisions: %.2f s", N_WRITERS, REVISIONS_PER_WRITER,
                  seconds_since (storm));

  for (guint i = 0; i < N_WRITERS; i++)
    {
      GHashTableIter iter;
      gpointer key, value;

      if (writers[i].problems->len > 0)
        g_test_message ("writer %u:\n%s", i, writers[i].problems->str);
      g_assert_cmpuint (writers[i].failed, ==, 0);
      g_assert_cmpuint (writers[i].rejected, ==, 0);
      g_assert_cmpuint (g_hash_table_size (writers[i].acked), ==, REVISIONS_PER_WRITER);
      pushes += writers[i].pushes;
      stale += writers[i].stale_pushes;
      g_hash_table_iter_init (&iter, writers[i].acked);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_hash_table_insert (acked, g_strdup (key), value);
    }
  g_test_message ("%u pushes, %u of them on stale heads", pushes, stale);
  g_assert_cmpuint (g_hash_table_size (acked), ==, N_WRITERS * REVISIONS_PER_WRITER);

  /* However the storm ended, leave project 0 forked: two writers on the same heads. */
  fork_project (server, writers[0].client, writers[1].client, projects[0], acked);

  check_project (server, admin, projects[0], 0, acked);
  check_project (server, admin, projects[1], 1, acked);

  /* The changes feed from the start: exactly the accepted set, seq strictly increasing. */
  changes = read_changes (server, admin, &since, 50, 0, NULL);
  for (guint i = 0; i < changes->len; i++)
    {
      Change *change = g_ptr_array_index (changes, i);
      gpointer p;

      g_assert_cmpint (change->seq, >, last_seq);
      last_seq = change->seq;
      g_assert_false (g_hash_table_contains (fed, change->revision_id));
      g_hash_table_add (fed, change->revision_id);
      g_assert_true (g_hash_table_lookup_extended (acked, change->revision_id, NULL, &p));
      g_assert_cmpstr (change->project_id, ==, projects[GPOINTER_TO_UINT (p)]);
    }
  g_assert_cmpuint (changes->len, ==, g_hash_table_size (acked));

  for (guint i = 0; i < N_WRITERS; i++)
    {
      cps_test_client_free (writers[i].client);
      g_hash_table_unref (writers[i].known);
      g_hash_table_unref (writers[i].acked);
      g_clear_pointer (&writers[i].heads[0], g_ptr_array_unref);
      g_clear_pointer (&writers[i].heads[1], g_ptr_array_unref);
      g_string_free (writers[i].problems, TRUE);
    }
  g_free (projects[0]);
  g_free (projects[1]);
  g_test_message ("concurrent-pushes: %.2f s in all", seconds_since (start));
}

/* ----- b. SIGKILL during push storms ---------------------------------------------------- */

#define N_ROUNDS 20
#define N_STORMERS 4
#define STORM_BATCH 10

typedef struct
{
  guint index;
  char *base_url;              /* this round's server */
  CpsTestClient *client;
  const char *project;
  char *tip;                   /* the chain's last acknowledged revision (JSON) */
  guint n;
  gint *stop;
  GPtrArray *round_acked;      /* ids acknowledged this round */
  guint pushes, acked, connection_errors, other_answers;
  GString *problems;
} Stormer;

static gpointer
stormer_thread (gpointer data)
{
  Stormer *stormer = data;
  g_autoptr(SoupSession) session = new_session ();
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions", stormer->project);

  while (!g_atomic_int_get (stormer->stop))
    {
      g_autoptr(GPtrArray) revisions = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *body = NULL;
      g_autoptr(CpsTestResponse) response = NULL;
      g_autoptr(GError) error = NULL;
      const CpsJsonNode *results;
      int last_acked = -1;

      for (guint i = 0; i < STORM_BATCH; i++)
        {
          g_autofree char *doc = g_strdup_printf ("{\"stormer\":%u,\"n\":%u}", stormer->index,
                                                  stormer->n++);
          const char *parent = i > 0 ? g_ptr_array_index (revisions, i - 1) : stormer->tip;
          const char *parents[] = { parent, NULL };

          g_ptr_array_add (revisions, cps_test_make_revision (stormer->client, stormer->project,
                                                              parent != NULL ? parents : NULL,
                                                              doc));
        }
      body = push_body (revisions);
      response = http_request (session, stormer->base_url, "POST", path,
                               stormer->client->access_token, body, &error);
      stormer->pushes++;
      if (response == NULL)
        {
          /* The server died under it: this batch is unknown, not acknowledged. */
          stormer->connection_errors++;
          break;
        }
      if (response->status != 200)
        {
          stormer->other_answers++;
          g_string_append_printf (stormer->problems, "push answered %u: %s\n", response->status,
                                  response->body);
          continue;
        }
      results = cps_test_json_get (response, "results");
      for (guint i = 0; results != NULL && i < results->n; i++)
        {
          const char *status = cps_json_object_get_string (&results->v.items[i], "status");
          const char *id = cps_json_object_get_string (&results->v.items[i], "id");

          if (g_strcmp0 (status, "accepted") == 0 || g_strcmp0 (status, "duplicate") == 0)
            {
              g_ptr_array_add (stormer->round_acked, g_strdup (id));
              stormer->acked++;
              if ((int) i == last_acked + 1)
                last_acked = i;
            }
          else
            g_string_append_printf (stormer->problems, "rejected %s: %s\n", id,
                                    response->body);
        }
      /* The chain goes on from its last acknowledged revision. */
      if (last_acked >= 0)
        {
          g_free (stormer->tip);
          stormer->tip = g_strdup (g_ptr_array_index (revisions, last_acked));
        }
    }
  return NULL;
}

static void
run_check (CpsTestServer *server, double *seconds)
{
  gint64 start = g_get_monotonic_time ();
  g_autofree char *out = NULL, *err = NULL;
  int status = cps_test_server_command (NULL, &out, &err, "check", "--data-dir",
                                        server->data_dir, NULL);

  *seconds += seconds_since (start);
  if (status != 0)
    g_test_message ("cps-server check failed:\n%s%s", out, err);
  g_assert_cmpint (status, ==, 0);
}

static void
test_sigkill_durability (void)
{
  g_autoptr(CpsTestServer) server = cps_test_server_start (NULL, NULL);
  g_autoptr(CpsTestClient) admin = NULL;
  g_autoptr(GPtrArray) all_acked = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) listed = NULL;
  g_autoptr(GHashTable) stored = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (20260301);
  g_autofree char *project = NULL;
  Stormer stormers[N_STORMERS];
  gint stop = 0;
  gint64 start = g_get_monotonic_time ();
  double check_seconds = 0, restart_seconds = 0, verify_seconds = 0;
  guint unknown = 0, total_pushes = 0;

  cps_test_server_add_account (server, "admin", PASSWORD, "admin");
  admin = cps_test_login (server, "admin", PASSWORD, "Admin laptop");
  add_member_account (server, admin, "pusher");
  memset (stormers, 0, sizeof stormers);
  for (guint i = 0; i < N_STORMERS; i++)
    {
      g_autofree char *device = g_strdup_printf ("Storm cart %u", i);

      stormers[i].index = i;
      stormers[i].client = cps_test_login (server, "pusher", PASSWORD, device);
      stormers[i].stop = &stop;
      stormers[i].round_acked = g_ptr_array_new_with_free_func (g_free);
      stormers[i].problems = g_string_new (NULL);
    }
  project = cps_test_create_project (server, stormers[0].client, "Storm", FALSE);
  for (guint i = 0; i < N_STORMERS; i++)
    stormers[i].project = project;
  g_test_message ("set-up: %.2f s", seconds_since (start));

  for (guint round = 0; round < N_ROUNDS; round++)
    {
      GThread *threads[N_STORMERS];
      guint delay_ms = g_rand_int_range (rand, 50, 301);
      guint round_acked = 0;
      gint64 t;

      /* The server runs on the same data directory since the end of the last round. */
      g_atomic_int_set (&stop, 0);
      for (guint i = 0; i < N_STORMERS; i++)
        {
          g_free (stormers[i].base_url);
          stormers[i].base_url = g_strdup (server->base_url);
          g_ptr_array_set_size (stormers[i].round_acked, 0);
          threads[i] = g_thread_new ("stormer", stormer_thread, &stormers[i]);
        }
      g_usleep (delay_ms * 1000);
      cps_test_server_stop (server, TRUE);
      g_atomic_int_set (&stop, 1);
      for (guint i = 0; i < N_STORMERS; i++)
        g_thread_join (threads[i]);

      /* Back up: everything acknowledged before the kill is there, tokens included. */
      t = g_get_monotonic_time ();
      cps_test_server_restart (server);
      restart_seconds += seconds_since (t);
      t = g_get_monotonic_time ();
      for (guint i = 0; i < N_STORMERS; i++)
        {
          g_autoptr(CpsTestResponse) account = cps_test_request (server, "GET", "/v1/account",
                                                                 stormers[i].client->access_token,
                                                                 NULL);

          g_assert_cmpuint (account->status, ==, 200);
          for (guint j = 0; j < stormers[i].round_acked->len; j++)
            {
              const char *id = g_ptr_array_index (stormers[i].round_acked, j);
              g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions/%s", project,
                                                       id);
              g_autoptr(CpsTestResponse) got = cps_test_request (server, "GET", path,
                                                                 admin->access_token, NULL);

              if (got->status != 200)
                g_error ("round %u: acknowledged revision %s is lost (%u %s)", round, id,
                         got->status, got->body);
              g_ptr_array_add (all_acked, g_strdup (id));
              round_acked++;
            }
          if (stormers[i].problems->len > 0)
            {
              g_test_message ("round %u, stormer %u:\n%s", round, i, stormers[i].problems->str);
              g_string_truncate (stormers[i].problems, 0);
            }
          unknown += stormers[i].connection_errors;
          stormers[i].connection_errors = 0;
        }
      verify_seconds += seconds_since (t);
      run_check (server, &check_seconds);
      g_test_message ("round %u: killed after %u ms, %u revisions acknowledged", round,
                      delay_ms, round_acked);
    }

  for (guint i = 0; i < N_STORMERS; i++)
    {
      total_pushes += stormers[i].pushes;
      g_assert_cmpuint (stormers[i].other_answers, ==, 0);
    }

  /* The whole history once more, paged: every acknowledged id, each once. */
  listed = list_revisions (server, admin, project, 500);
  for (guint i = 0; i < listed->len; i++)
    {
      g_autoptr(CpsJsonDocument) doc = cps_json_document_parse_copy (g_ptr_array_index (listed,
                                                                                        i),
                                                                     -1, NULL, NULL);
      const char *id = cps_json_object_get_string (cps_json_document_get_root (doc), "id");

      g_assert_false (g_hash_table_contains (stored, id));
      g_hash_table_add (stored, g_strdup (id));
    }
  for (guint i = 0; i < all_acked->len; i++)
    g_assert_true (g_hash_table_contains (stored, g_ptr_array_index (all_acked, i)));
  g_assert_cmpuint (listed->len, >=, all_acked->len);
  g_assert_cmpuint (all_acked->len, >, 0);

  g_test_message ("%u rounds: %u pushes, %u revisions acknowledged, %u stored, %u pushes cut "
                  "off by the kill",
                  N_ROUNDS, total_pushes, all_acked->len, listed->len, unknown);
  g_test_message ("restarts %.2f s, verification %.2f s, cps-server check %.2f s (%.0f ms each)",
                  restart_seconds, verify_seconds, check_seconds,
                  check_seconds * 1000 / N_ROUNDS);
  g_test_message ("sigkill-durability: %.2f s in all", seconds_since (start));

  for (guint i = 0; i < N_STORMERS; i++)
    {
      cps_test_client_free (stormers[i].client);
      g_free (stormers[i].base_url);
      g_free (stormers[i].tip);
      g_ptr_array_unref (stormers[i].round_acked);
      g_string_free (stormers[i].problems, TRUE);
    }
}

/* ----- c. changes-feed paging across restarts ------------------------------------------- */

#define PAGED_REVISIONS 250
#define PAGE_LIMIT 7

static void
test_restart_paging (void)
{
  g_autoptr(CpsTestServer) server = cps_test_server_start (NULL, NULL);
  g_autoptr(CpsTestClient) admin = NULL, reader = NULL;
  g_autoptr(GPtrArray) pushed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) read = g_ptr_array_new ();
  g_autoptr(GPtrArray) part1 = NULL, part2 = NULL, part3 = NULL, tail = NULL;
  g_autofree char *project = NULL, *tip = NULL, *since = NULL, *path = NULL;
  gint64 start = g_get_monotonic_time (), t;
  gint64 last_seq = 0;
  gboolean done = FALSE;
  GPtrArray *parts[3];

  cps_test_server_add_account (server, "admin", PASSWORD, "admin");
  admin = cps_test_login (server, "admin", PASSWORD, "Admin laptop");
  add_member_account (server, admin, "reader");
  reader = cps_test_login (server, "reader", PASSWORD, "Reader");
  project = cps_test_create_project (server, admin, "Paged", FALSE);
  put_editor (server, admin, project, reader->account_id);
  path = g_strdup_printf ("/v1/projects/%s/revisions", project);

  t = g_get_monotonic_time ();
  for (guint batch = 0; batch < PAGED_REVISIONS / 50; batch++)
    {
      g_autoptr(GPtrArray) revisions = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *body = NULL;
      g_autoptr(CpsTestResponse) response = NULL;

      for (guint i = 0; i < 50; i++)
        {
          g_autofree char *doc = g_strdup_printf ("{\"n\":%u}", batch * 50 + i);
          const char *parents[] = { tip, NULL };
          char *revision = cps_test_make_revision (admin, project, tip != NULL ? parents : NULL,
                                                   doc);

          g_ptr_array_add (revisions, revision);
          g_ptr_array_add (pushed, revision_id (revision));
          g_free (tip);
          tip = g_strdup (revision);
        }
      body = push_body (revisions);
      response = cps_test_request (server, "POST", path, admin->access_token, body);
      g_assert_cmpuint (response->status, ==, 200);
      for (guint i = 0; i < 50; i++)
        {
          g_autofree char *status_path = g_strdup_printf ("results.%u.status", i);

          g_assert_cmpstr (cps_test_json_get_string (response, status_path), ==, "accepted");
        }
    }
  g_test_message ("pushing %u revisions: %.2f s", PAGED_REVISIONS, seconds_since (t));

  /* 15 pages, a graceful restart, 15 more, a SIGKILL and a start, then the rest. */
  t = g_get_monotonic_time ();
  part1 = read_changes (server, reader, &since, PAGE_LIMIT, 15, &done);
  g_assert_false (done);
  g_assert_cmpuint (part1->len, ==, 15 * PAGE_LIMIT);
  cps_test_server_restart (server);
  part2 = read_changes (server, reader, &since, PAGE_LIMIT, 15, &done);
  g_assert_false (done);
  cps_test_server_stop (server, TRUE);
  cps_test_server_restart (server);
  part3 = read_changes (server, reader, &since, PAGE_LIMIT, 0, &done);
  g_assert_true (done);
  g_test_message ("paging %u revisions by %u across two restarts: %.2f s", PAGED_REVISIONS,
                  PAGE_LIMIT, seconds_since (t));

  parts[0] = part1;
  parts[1] = part2;
  parts[2] = part3;
  for (guint k = 0; k < 3; k++)
    for (guint i = 0; i < parts[k]->len; i++)
      {
        Change *change = g_ptr_array_index (parts[k], i);

        g_assert_cmpint (change->seq, >, last_seq);
        last_seq = change->seq;
        g_assert_cmpstr (change->project_id, ==, project);
        g_ptr_array_add (read, change->revision_id);
      }
  /* Nothing skipped, nothing repeated, in push order. */
  g_assert_cmpuint (read->len, ==, pushed->len);
  for (guint i = 0; i < pushed->len; i++)
    g_assert_cmpstr (g_ptr_array_index (read, i), ==, g_ptr_array_index (pushed, i));

  /* At the end the token stays put until something new arrives. */
  tail = read_changes (server, reader, &since, PAGE_LIMIT, 0, &done);
  g_assert_true (done);
  g_assert_cmpuint (tail->len, ==, 0);
  g_test_message ("restart-paging: %.2f s in all", seconds_since (start));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (sodium_init () < 0)
    return 1;

  g_test_add_func ("/server/stress/concurrent-pushes", test_concurrent_pushes);
  g_test_add_func ("/server/stress/sigkill-durability", test_sigkill_durability);
  g_test_add_func ("/server/stress/restart-paging", test_restart_paging);
  return g_test_run ();
}
