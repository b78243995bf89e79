/* demo-seed.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * cps-demo-seed: fills a running cps-server with the demo projects for
 * `build-aux/dev run`. A developer tool, not installed and not translated.
 *
 *   cps-demo-seed --url http://127.0.0.1:PORT --username NAME --password-file FILE FILE.json…
 *
 * Two devices of the account sign in, each with its own new Ed25519 key: “DIT cart” and
 * “Camera truck”. Every project of the full backups and project bundles given becomes one
 * unencrypted server project (projects of the same name in several files are one project,
 * each differing version a revision on top of the last). Then both devices edit every
 * project, in turns of three: the first project is left conflicted with two heads, the
 * second is conflicted and merged back, the third gets the edits one after the other.
 *
 * Exit status: 0 every project was seeded (files without projects and damaged files are
 * skipped with a note), 1 a file could not be read or the server refused something,
 * 2 usage error.
 */

#define G_LOG_DOMAIN "cps-demo-seed"

#include "config.h"

#include <locale.h>
#include <string.h>
#include <libsoup/soup.h>
#include <sodium.h>

#include "cps-device-key.h"
#include "cps-jcs.h"
#include "cps-json.h"
#include "cps-planner-file.h"
#include "cps-planner-project.h"
#include "cps-revision.h"

#define SEED_ERROR (g_quark_from_static_string ("cps-demo-seed-error"))
#define MAX_PASSWORD_BYTES 1024

typedef enum
{
  SEED_CONFLICTED, /* both devices edit the same head, left open */
  SEED_MERGED,     /* both devices edit the same head, then a merge of both */
  SEED_LINEAR,     /* one edit after the other */
} SeedShape;

typedef struct
{
  const char *name;
  char *device_id;
  char *access_token;
  CpsDeviceKey *key;
} Device;

typedef struct
{
  char *name;
  GPtrArray *versions; /* (element-type CpsPlannerProject): differing contents, in file order */
} DemoProject;

typedef struct
{
  SoupSession *session;
  char *base_url;
} Client;

static void
device_clear (Device *device)
{
  g_clear_pointer (&device->device_id, g_free);
  if (device->access_token != NULL)
    sodium_memzero (device->access_token, strlen (device->access_token));
  g_clear_pointer (&device->access_token, g_free);
  g_clear_object (&device->key);
}

static void
demo_project_free (DemoProject *project)
{
  g_free (project->name);
  g_ptr_array_unref (project->versions);
  g_free (project);
}

/* ----- HTTP ----------------------------------------------------------------------------- */

/* Sends one request and returns its JSON answer when the status is @expected; otherwise an
 * error that quotes the server's error code and message. */
static CpsJsonDocument *
request_json (Client *client, const char *method, const char *path, const char *token,
              const char *body, guint expected, GError **error)
{
  g_autofree char *url = g_strconcat (client->base_url, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (CpsJsonDocument) json = NULL;
  const CpsJsonNode *failure;
  gconstpointer data;
  gsize length;
  guint status;

  if (msg == NULL)
    {
      g_set_error (error, SEED_ERROR, 0, "“%s” is not a valid server address.", url);
      return NULL;
    }
  if (token != NULL)
    {
      g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    bearer);
    }
  if (body != NULL)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }

  reply = soup_session_send_and_read (client->session, msg, NULL, error);
  if (reply == NULL)
    {
      g_prefix_error (error, "%s %s: ", method, path);
      return NULL;
    }
  status = soup_message_get_status (msg);
  data = g_bytes_get_data (reply, &length);
  if (length > 0)
    json = cps_json_document_parse_copy (data, length, NULL, NULL);

  if (status == expected && json != NULL)
    return g_steal_pointer (&json);

  failure = json != NULL ? cps_json_object_get (cps_json_document_get_root (json), "error") : NULL;
  if (failure != NULL)
    g_set_error (error, SEED_ERROR, 0, "%s %s: the server answered %u %s: %s", method, path, status,
                 cps_json_object_get_string (failure, "code") ?: "(no code)",
                 cps_json_object_get_string (failure, "message") ?: "(no message)");
  else
    g_set_error (error, SEED_ERROR, 0,
                 "%s %s: the server answered %u %s without the expected JSON; is %s a "
                 "cps-server?",
                 method, path, status, soup_message_get_reason_phrase (msg) ?: "",
                 client->base_url);
  return NULL;
}

static char *
login_body (const char *username, const char *password, CpsDeviceKey *key, const char *device_name)
{
  g_autofree char *public_key = cps_device_key_dup_public_key_base64 (key);
  GString *body = g_string_new ("{\"username\":");

  cps_jcs_append_string (body, username, strlen (username));
  g_string_append (body, ",\"password\":");
  cps_jcs_append_string (body, password, strlen (password));
  g_string_append (body, ",\"device\":{\"name\":");
  cps_jcs_append_string (body, device_name, strlen (device_name));
  g_string_append (body, ",\"platform\":\"cps-demo-seed\",\"client_version\":");
  cps_jcs_append_string (body, PACKAGE_VERSION, strlen (PACKAGE_VERSION));
  g_string_append (body, ",\"public_key\":");
  cps_jcs_append_string (body, public_key, strlen (public_key));
  g_string_append (body, "}}");
  return g_string_free (body, FALSE);
}

/* Signs in as a new device with a new random key: the server registers the key and names
 * the device; revisions signed with the key then verify as that device's. */
static gboolean
device_login (Client *client, Device *device, const char *username, const char *password,
              GError **error)
{
  guint8 seed[32];
  g_autoptr (CpsDeviceKey) provisional = NULL;
  g_autoptr (CpsJsonDocument) answer = NULL;
  char *body;
  const CpsJsonNode *root;
  const char *device_id, *access_token;

  randombytes_buf (seed, sizeof seed);
  /* The key's device id is only known after the login; the public key is the same. */
  provisional = cps_device_key_new_from_seed ("00000000-0000-0000-0000-000000000000", seed);
  body = login_body (username, password, provisional, device->name);
  answer = request_json (client, "POST", "/v1/auth/login", NULL, body, 200, error);
  sodium_memzero (body, strlen (body));
  g_free (body);
  if (answer == NULL)
    {
      sodium_memzero (seed, sizeof seed);
      g_prefix_error (error, "Signing in as “%s” from “%s” failed: ", username, device->name);
      return FALSE;
    }

  root = cps_json_document_get_root (answer);
  device_id = cps_json_object_get_string (root, "device_id");
  access_token = cps_json_object_get_string (root, "access_token");
  if (device_id == NULL || !cps_is_uuid (device_id) || access_token == NULL)
    {
      sodium_memzero (seed, sizeof seed);
      g_set_error (error, SEED_ERROR, 0,
                   "The server's answer to signing in from “%s” has no device id or token.",
                   device->name);
      return FALSE;
    }
  device->device_id = g_strdup (device_id);
  device->access_token = g_strdup (access_token);
  device->key = cps_device_key_new_from_seed (device_id, seed);
  sodium_memzero (seed, sizeof seed);
  return TRUE;
}

static char *
create_project (Client *client, Device *device, const char *name, GError **error)
{
  g_autoptr (GString) body = g_string_new ("{\"name\":");
  g_autoptr (CpsJsonDocument) answer = NULL;
  const char *id;

  cps_jcs_append_string (body, name, strlen (name));
  g_string_append (body, ",\"encrypted\":false}");
  answer
      = request_json (client, "POST", "/v1/projects", device->access_token, body->str, 201, error);
  if (answer == NULL)
    return NULL;
  id = cps_json_object_get_string (cps_json_document_get_root (answer), "id");
  if (id == NULL || !cps_is_uuid (id))
    {
      g_set_error (error, SEED_ERROR, 0, "The server created “%s” but answered without its id.",
                   name);
      return NULL;
    }
  return g_strdup (id);
}

/* Pushes @revisions in one batch, all signed by @device; every one must be accepted. */
static gboolean
push (Client *client, Device *device, const char *project_id, CpsRevision *const *revisions,
      guint n_revisions, GError **error)
{
  g_autoptr (GString) body = g_string_new ("{\"revisions\":[");
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s/revisions", project_id);
  g_autoptr (CpsJsonDocument) answer = NULL;
  const CpsJsonNode *results;

  for (guint i = 0; i < n_revisions; i++)
    {
      g_autofree char *json = cps_revision_to_json (revisions[i], TRUE);

      if (i > 0)
        g_string_append_c (body, ',');
      g_string_append (body, json);
    }
  g_string_append (body, "]}");

  answer = request_json (client, "POST", path, device->access_token, body->str, 200, error);
  if (answer == NULL)
    return FALSE;
  results = cps_json_object_get (cps_json_document_get_root (answer), "results");
  if (cps_json_node_get_type (results) != CPS_JSON_ARRAY || results->n != n_revisions)
    {
      g_set_error (error, SEED_ERROR, 0, "The server's answer to a push has no results list.");
      return FALSE;
    }
  for (guint i = 0; i < results->n; i++)
    {
      const CpsJsonNode *result = &results->v.items[i];
      const char *status = cps_json_object_get_string (result, "status");
      const CpsJsonNode *failure = cps_json_object_get (result, "error");

      if (g_strcmp0 (status, "accepted") != 0 && g_strcmp0 (status, "duplicate") != 0)
        {
          g_set_error (error, SEED_ERROR, 0, "The server rejected revision %s from “%s”: %s: %s",
                       cps_revision_get_id (revisions[i]), device->name,
                       cps_json_object_get_string (failure, "code") ?: "(no code)",
                       cps_json_object_get_string (failure, "message") ?: "(no message)");
          return FALSE;
        }
    }
  return TRUE;
}

static CpsRevision *
sign (Device *device, const char *project_id, CpsRevision *const *parents, guint n_parents,
      const CpsJsonNode *document, GError **error)
{
  return cps_revision_new_signed (project_id, parents, n_parents, device->key, NULL, document,
                                  FALSE, error);
}

/* ----- edits ---------------------------------------------------------------------------- */

/* A document like @document (living in @base) whose projectInfo has the string members
 * @pairs (key, value, …, NULL) set: changed where present, appended where not. */
static CpsJsonDocument *
edit_project_info (CpsJsonDocument *base, const CpsJsonNode *document, const char *const *pairs)
{
  CpsJsonDocument *doc = cps_json_document_new_derived (base);
  const CpsJsonNode *info = cps_json_object_get (document, "projectInfo");
  guint info_n = cps_json_node_get_type (info) == CPS_JSON_OBJECT ? info->n : 0;
  guint n_pairs = g_strv_length ((char **) pairs) / 2;
  guint root_n = cps_json_node_get_type (document) == CPS_JSON_OBJECT ? document->n : 0;
  CpsJsonMember *info_members = cps_json_document_alloc_members (doc, info_n + n_pairs);
  CpsJsonMember *root_members = cps_json_document_alloc_members (doc, root_n + 1);
  guint n_info = info_n, n_root = 0;
  gboolean replaced = FALSE;
  CpsJsonNode new_info = { 0 }, root = { 0 };

  if (info_n > 0)
    memcpy (info_members, info->v.members, info_n * sizeof (CpsJsonMember));
  for (guint p = 0; p < n_pairs; p++)
    {
      const char *key = pairs[2 * p], *value = pairs[2 * p + 1];
      CpsJsonMember *target = NULL;

      for (guint i = 0; i < n_info && target == NULL; i++)
        if (info_members[i].key_len == strlen (key) && strcmp (info_members[i].key, key) == 0)
          target = &info_members[i];
      if (target == NULL)
        {
          target = &info_members[n_info++];
          target->key = cps_json_document_intern (doc, key, -1);
          target->key_len = strlen (key);
        }
      cps_json_node_init_string (&target->value, doc, value);
    }
  new_info.type = CPS_JSON_OBJECT;
  new_info.n = n_info;
  new_info.v.members = info_members;

  for (guint i = 0; i < root_n; i++)
    {
      const CpsJsonMember *m = &document->v.members[i];

      root_members[n_root] = *m;
      if (m->key_len == strlen ("projectInfo") && strcmp (m->key, "projectInfo") == 0)
        {
          /* JSON.parse keeps the last of duplicate keys: give every copy the new value. */
          root_members[n_root].value = new_info;
          replaced = TRUE;
        }
      n_root++;
    }
  if (!replaced)
    {
      root_members[n_root].key = "projectInfo";
      root_members[n_root].key_len = strlen ("projectInfo");
      root_members[n_root].value = new_info;
      n_root++;
    }
  root.type = CPS_JSON_OBJECT;
  root.n = n_root;
  root.v.members = root_members;
  cps_json_document_set_root (doc, &root);
  return doc;
}

static const char *
info_string (const CpsJsonNode *document, const char *key)
{
  return cps_json_object_get_string (cps_json_object_get (document, "projectInfo"), key);
}

/* Small, plausible edits in the planner's own fields, each different from what is there. */
static const char *
dit_codec (const CpsJsonNode *document)
{
  return g_strcmp0 (info_string (document, "codec"), "ProRes 422 HQ") == 0 ? "ProRes 4444"
                                                                           : "ProRes 422 HQ";
}

static const char *
truck_codec (const CpsJsonNode *document)
{
  return g_strcmp0 (info_string (document, "codec"), "ARRIRAW") == 0 ? "X-OCN ST" : "ARRIRAW";
}

static char *
truck_rental_house (const CpsJsonNode *document)
{
  const char *house = info_string (document, "rentalHouse");

  return g_strdup_printf ("%s (camera truck 2)",
                          house != NULL && *house != '\0' ? house : "Sample Rental Co.");
}

/* ----- seeding -------------------------------------------------------------------------- */

typedef struct
{
  guint revisions;
  guint heads;
  gboolean conflicted;
} ProjectState;

static gboolean
get_project_state (Client *client, Device *device, const char *project_id, ProjectState *state,
                   GError **error)
{
  g_autofree char *path = g_strdup_printf ("/v1/projects/%s", project_id);
  g_autoptr (CpsJsonDocument) answer
      = request_json (client, "GET", path, device->access_token, NULL, 200, error);
  const CpsJsonNode *root, *count, *heads, *conflicted;

  if (answer == NULL)
    return FALSE;
  root = cps_json_document_get_root (answer);
  count = cps_json_object_get (root, "revision_count");
  heads = cps_json_object_get (root, "heads");
  conflicted = cps_json_object_get (root, "conflicted");
  if (cps_json_node_get_type (count) != CPS_JSON_NUMBER
      || cps_json_node_get_type (heads) != CPS_JSON_ARRAY
      || cps_json_node_get_type (conflicted) != CPS_JSON_BOOLEAN)
    {
      g_set_error (error, SEED_ERROR, 0, "The server's description of project %s is incomplete.",
                   project_id);
      return FALSE;
    }
  state->revisions = (guint) count->v.number;
  state->heads = heads->n;
  state->conflicted = conflicted->v.boolean;
  return TRUE;
}

static gboolean
seed_project (Client *client, Device *dit, Device *truck, DemoProject *project, SeedShape shape,
              GError **error)
{
  g_autofree char *project_id = NULL;
  g_autoptr (GPtrArray) history = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (CpsJsonDocument) dit_doc = NULL, truck_doc = NULL, merged_doc = NULL;
  g_autoptr (CpsRevision) dit_revision = NULL, truck_revision = NULL, merge_revision = NULL;
  g_autofree char *rental_house = NULL;
  CpsPlannerProject *last;
  const CpsJsonNode *head_document;
  CpsRevision *head;
  const char *codec;
  ProjectState state;

  project_id = create_project (client, dit, project->name, error);
  if (project_id == NULL)
    return FALSE;

  /* The planner's own versions, oldest first, as the DIT cart imported them. */
  for (guint i = 0; i < project->versions->len; i++)
    {
      CpsPlannerProject *version = g_ptr_array_index (project->versions, i);
      CpsRevision *parent = history->len > 0 ? g_ptr_array_index (history, history->len - 1) : NULL;
      CpsRevision *revision
          = sign (dit, project_id, parent != NULL ? &parent : NULL, parent != NULL ? 1 : 0,
                  cps_planner_project_get_root (version), error);

      if (revision == NULL)
        return FALSE;
      g_ptr_array_add (history, revision);
    }
  if (!push (client, dit, project_id, (CpsRevision *const *) history->pdata, history->len, error))
    return FALSE;

  last = g_ptr_array_index (project->versions, project->versions->len - 1);
  head = g_ptr_array_index (history, history->len - 1);
  head_document = cps_planner_project_get_root (last);

  /* The DIT cart changes the codec. */
  codec = dit_codec (head_document);
  dit_doc = edit_project_info (cps_planner_project_get_document (last), head_document,
                               (const char *const[]){ "codec", codec, NULL });
  dit_revision = sign (dit, project_id, &head, 1, cps_json_document_get_root (dit_doc), error);
  if (dit_revision == NULL || !push (client, dit, project_id, &dit_revision, 1, error))
    return FALSE;

  /* The camera truck notes its rental house: on the same head (a conflict) or after the
   * DIT cart's edit (a line). When the conflict stays open it changes the codec too, so
   * the two heads disagree on one field. */
  rental_house = truck_rental_house (head_document);
  if (shape == SEED_LINEAR)
    {
      truck_doc = edit_project_info (dit_doc, cps_json_document_get_root (dit_doc),
                                     (const char *const[]){ "rentalHouse", rental_house, NULL });
      truck_revision = sign (truck, project_id, &dit_revision, 1,
                             cps_json_document_get_root (truck_doc), error);
    }
  else
    {
      const char *const conflicting[]
          = { "rentalHouse", rental_house, "codec", truck_codec (head_document), NULL };
      const char *const separate[] = { "rentalHouse", rental_house, NULL };

      truck_doc = edit_project_info (cps_planner_project_get_document (last), head_document,
                                     shape == SEED_CONFLICTED ? conflicting : separate);
      truck_revision
          = sign (truck, project_id, &head, 1, cps_json_document_get_root (truck_doc), error);
    }
  if (truck_revision == NULL || !push (client, truck, project_id, &truck_revision, 1, error))
    return FALSE;

  /* Merged back on the DIT cart: both edits kept. */
  if (shape == SEED_MERGED)
    {
      CpsRevision *parents[] = { dit_revision, truck_revision };

      merged_doc = edit_project_info (dit_doc, cps_json_document_get_root (dit_doc),
                                      (const char *const[]){ "rentalHouse", rental_house, NULL });
      merge_revision = sign (dit, project_id, parents, G_N_ELEMENTS (parents),
                             cps_json_document_get_root (merged_doc), error);
      if (merge_revision == NULL || !push (client, dit, project_id, &merge_revision, 1, error))
        return FALSE;
    }

  if (!get_project_state (client, dit, project_id, &state, error))
    return FALSE;
  g_print ("%s: %u revision%s, %u head%s, %s\n", project->name, state.revisions,
           state.revisions == 1 ? "" : "s", state.heads, state.heads == 1 ? "" : "s",
           state.conflicted       ? "conflicted"
           : shape == SEED_MERGED ? "merged"
                                  : "linear");
  return TRUE;
}

/* ----- files ---------------------------------------------------------------------------- */

static DemoProject *
find_project (GPtrArray *projects, const char *name)
{
  for (guint i = 0; i < projects->len; i++)
    {
      DemoProject *project = g_ptr_array_index (projects, i);

      if (g_str_equal (project->name, name))
        return project;
    }
  return NULL;
}

static const char *
first_error (GPtrArray *findings)
{
  for (guint i = 0; findings != NULL && i < findings->len; i++)
    {
      CpsFinding *finding = g_ptr_array_index (findings, i);

      if (finding->severity == CPS_SEVERITY_ERROR)
        return finding->message;
    }
  return "it has errors";
}

/* Adds the projects of one file to @projects. FALSE when the file could not be read at all;
 * files without projects and damaged files are skipped with a note. */
static gboolean
collect_file (const char *path, GPtrArray *projects)
{
  g_autoptr (GFile) file = g_file_new_for_commandline_arg (path);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsPlannerFile) planner_file = cps_planner_file_load (file, NULL, &error);
  CpsPlannerKind kind;
  GListModel *list;

  if (planner_file == NULL)
    {
      g_printerr ("cps-demo-seed: %s could not be read: %s\n", path, error->message);
      return FALSE;
    }
  /* A damaged file is often of no known kind: say why first. */
  if (cps_planner_file_get_document (planner_file) == NULL
      || cps_planner_file_get_status (planner_file) == CPS_SEVERITY_ERROR)
    {
      g_printerr ("note: skipped %s: it is damaged: %s\n", path,
                  first_error (cps_planner_file_get_findings (planner_file)));
      return TRUE;
    }
  kind = cps_planner_file_get_kind (planner_file);
  if (kind != CPS_PLANNER_KIND_FULL_BACKUP && kind != CPS_PLANNER_KIND_PROJECT_BUNDLE)
    {
      g_printerr ("note: skipped %s: it holds no projects (%s)\n", path,
                  cps_planner_kind_to_string (kind));
      return TRUE;
    }

  list = cps_planner_file_get_projects (planner_file);
  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr (CpsPlannerProject) item = g_list_model_get_item (list, i);
      const char *name = cps_planner_project_get_name (item);
      const char *checksum = cps_planner_project_get_content_checksum (item);
      DemoProject *project;
      CpsPlannerProject *latest;

      if (checksum == NULL || cps_planner_project_get_status (item) == CPS_SEVERITY_ERROR)
        {
          g_printerr ("note: skipped project “%s” of %s: it is damaged: %s\n", name, path,
                      first_error (cps_planner_project_get_findings (item)));
          continue;
        }
      project = find_project (projects, name);
      if (project == NULL)
        {
          project = g_new0 (DemoProject, 1);
          project->name = g_strdup (name);
          project->versions = g_ptr_array_new_with_free_func (g_object_unref);
          g_ptr_array_add (projects, project);
        }
      /* The same content in a later file is no new version. */
      latest = project->versions->len > 0
                   ? g_ptr_array_index (project->versions, project->versions->len - 1)
                   : NULL;
      if (latest == NULL
          || g_strcmp0 (cps_planner_project_get_content_checksum (latest), checksum) != 0)
        g_ptr_array_add (project->versions, g_object_ref (item));
    }
  return TRUE;
}

/* The password is the file's first line. */
static char *
read_password (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length;
  char *end;
  char *password;

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  end = memchr (contents, '\n', length);
  if (end != NULL)
    length = end - contents;
  if (length > 0 && contents[length - 1] == '\r')
    length--;
  if (length == 0 || length > MAX_PASSWORD_BYTES || memchr (contents, '\0', length) != NULL)
    {
      sodium_memzero (contents, strlen (contents));
      g_set_error (error, SEED_ERROR, 0,
                   "%s must hold the password on its first line (1 to %d bytes).", path,
                   MAX_PASSWORD_BYTES);
      return NULL;
    }
  password = g_strndup (contents, length);
  sodium_memzero (contents, strlen (contents));
  return password;
}

static int
usage_error (GOptionContext *context, const char *message)
{
  g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

  g_printerr ("cps-demo-seed: %s\n\n%s", message, help);
  return 2;
}

int
main (int argc, char **argv)
{
  g_autofree char *url = NULL, *username = NULL, *password_file = NULL;
  g_auto (GStrv) files = NULL;
  const GOptionEntry entries[] = {
    { "url", 0, 0, G_OPTION_ARG_STRING, &url, "Address of the running cps-server",
      "http://HOST:PORT" },
    { "username", 0, 0, G_OPTION_ARG_STRING, &username, "Account to sign in with", "NAME" },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
      "File whose first line is the account's password", "FILE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("FILE.json…");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) projects = NULL;
  g_autoptr (GUri) uri = NULL;
  Client client = { 0 };
  Device dit = { .name = "DIT cart" }, truck = { .name = "Camera truck" };
  char *password = NULL;
  gboolean ok = TRUE;
  guint n_seeded = 0, n_conflicted = 0;

  setlocale (LC_ALL, "");
  g_option_context_set_summary (context, "Fills a running cps-server with the projects of planner "
                                         "files, edited from two devices, for the demo.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (url == NULL || username == NULL || password_file == NULL)
    return usage_error (context, "--url, --username and --password-file are required.");
  if (files == NULL || files[0] == NULL)
    return usage_error (context, "Give at least one planner file.");
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL
      || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0
          && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0))
    return usage_error (context, "--url must be an http:// or https:// address.");
  if (sodium_init () < 0)
    {
      g_printerr ("cps-demo-seed: libsodium could not be initialised.\n");
      return 1;
    }
  if ((password = read_password (password_file, &error)) == NULL)
    {
      g_printerr ("cps-demo-seed: %s\n", error->message);
      return 2;
    }

  projects = g_ptr_array_new_with_free_func ((GDestroyNotify) demo_project_free);
  for (guint i = 0; files[i] != NULL; i++)
    ok &= collect_file (files[i], projects);

  client.base_url = g_strdup (url);
  while (g_str_has_suffix (client.base_url, "/"))
    client.base_url[strlen (client.base_url) - 1] = '\0';
  client.session = soup_session_new_with_options ("timeout", 60, NULL);

  if (projects->len == 0)
    {
      g_printerr ("cps-demo-seed: none of the files holds a project that could be seeded.\n");
      ok = FALSE;
    }
  else if (!device_login (&client, &dit, username, password, &error)
           || !device_login (&client, &truck, username, password, &error))
    {
      g_printerr ("cps-demo-seed: %s\n", error->message);
      ok = FALSE;
    }
  else
    {
      for (guint i = 0; i < projects->len; i++)
        {
          DemoProject *project = g_ptr_array_index (projects, i);
          SeedShape shape = (SeedShape) (i % 3);

          if (!seed_project (&client, &dit, &truck, project, shape, &error))
            {
              g_printerr ("cps-demo-seed: “%s” was not seeded completely: %s\n", project->name,
                          error->message);
              g_clear_error (&error);
              ok = FALSE;
              continue;
            }
          n_seeded++;
          if (shape == SEED_CONFLICTED)
            n_conflicted++;
        }
      g_print ("Seeded %u of %u project%s (%u left conflicted) as “%s” from the devices “%s” "
               "and “%s”.\n",
               n_seeded, projects->len, projects->len == 1 ? "" : "s", n_conflicted, username,
               dit.name, truck.name);
    }

  sodium_memzero (password, strlen (password));
  g_free (password);
  device_clear (&dit);
  device_clear (&truck);
  g_clear_object (&client.session);
  g_free (client.base_url);
  return ok ? 0 : 1;
}
