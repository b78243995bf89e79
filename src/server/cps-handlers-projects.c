/* cps-handlers-projects.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Projects, their members and wrapped keys, and the conflict view a client
 * needs for a three-way merge.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <string.h>

#include "cps-dag.h"
#include "cps-handlers.h"
#include "cps-project-state.h"
#include "cps-revision.h"

#define MAX_PROJECT_NAME_CHARS 200
#define MAX_WRAPPED_KEYS 100
#define MAX_WRAPPED_KEY_LENGTH 1024

/* ----- auxiliary functions ------------------------------------------------------------------ */

static char *
field_details (const char *field)
{
  CpsJsonWriter *writer = cps_json_writer_new ();

  cps_json_writer_begin_object (writer);
  cps_json_writer_member_string (writer, "field", field);
  cps_json_writer_end_object (writer);
  return g_string_free (cps_json_writer_steal (writer), FALSE);
}

static char *
account_details (const char *field, const char *account_id)
{
  CpsJsonWriter *writer = cps_json_writer_new ();

  cps_json_writer_begin_object (writer);
  if (field != NULL)
    cps_json_writer_member_string (writer, "field", field);
  cps_json_writer_member_string (writer, "account_id", account_id);
  cps_json_writer_end_object (writer);
  return g_string_free (cps_json_writer_steal (writer), FALSE);
}

static gboolean
reply_invalid_field (CpsRequest *request, const char *field, const char *message)
{
  g_autofree char *details = field_details (field);

  return cps_request_error (request, 400, "invalid_request", details, "%s", message);
}

/* Standard base64 with padding, as the contract writes binary values. */
static gboolean
is_base64 (const char *text)
{
  gsize len = strlen (text);

  if (len == 0 || len % 4 != 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];

      if (c == '=')
        {
          /* only as the last one or two characters */
          if (i < len - 2 || (i == len - 2 && text[len - 1] != '='))
            return FALSE;
        }
      else if (!g_ascii_isalnum (c) && c != '+' && c != '/')
        return FALSE;
    }
  return TRUE;
}

static int
compare_keys (gconstpointer a, gconstpointer b)
{
  const CpsWrappedKeyRecord *ka = *(const CpsWrappedKeyRecord *const *) a;
  const CpsWrappedKeyRecord *kb = *(const CpsWrappedKeyRecord *const *) b;
  int cmp = strcmp (ka->account_id, kb->account_id);

  if (cmp != 0)
    return cmp;
  return (ka->key_epoch > kb->key_epoch) - (ka->key_epoch < kb->key_epoch);
}

/* Reads an array of wrapped keys [{"account_id", "key_epoch", "wrapped_key"}]. When
 * @account_id is set every key is for that account: an item may omit "account_id" but not
 * name another. The result is sorted by account, then epoch; each (account, epoch) appears
 * once. Replies 400 and returns FALSE on bad input. */
static gboolean
read_wrapped_keys (CpsRequest *request, const CpsJsonNode *array, const char *field,
                   const char *account_id, GPtrArray **out)
{
  g_autoptr (GPtrArray) keys
      = g_ptr_array_new_with_free_func ((GDestroyNotify) cps_wrapped_key_record_free);

  for (guint i = 0; i < array->n; i++)
    {
      const CpsJsonNode *item = &array->v.items[i];
      const char *item_account = NULL;
      const char *wrapped = NULL;
      gint64 epoch = 0;
      CpsWrappedKeyRecord *key;

      if (cps_json_node_get_type (item) != CPS_JSON_OBJECT)
        return reply_invalid_field (request, field,
                                    "Each wrapped key must be an object with “account_id”, "
                                    "“key_epoch” and “wrapped_key”.");
      if (!cps_request_get_string (request, item, "account_id", account_id == NULL, 36,
                                   &item_account)
          || !cps_request_get_int (request, item, "key_epoch", TRUE, 1, G_MAXINT32, &epoch)
          || !cps_request_get_string (request, item, "wrapped_key", TRUE, MAX_WRAPPED_KEY_LENGTH,
                                      &wrapped))
        return FALSE;

      if (item_account == NULL)
        item_account = account_id;
      if (!cps_is_uuid (item_account))
        return reply_invalid_field (request, "account_id",
                                    "A wrapped key’s “account_id” must be a lowercase, "
                                    "hyphenated UUID.");
      if (account_id != NULL && strcmp (item_account, account_id) != 0)
        return reply_invalid_field (request, "account_id",
                                    "Every wrapped key must be for the account in the address.");
      if (strlen (wrapped) > MAX_WRAPPED_KEY_LENGTH || !is_base64 (wrapped))
        return reply_invalid_field (request, "wrapped_key",
                                    "A “wrapped_key” must be standard base64 of at most 1024 "
                                    "characters.");

      key = g_new0 (CpsWrappedKeyRecord, 1);
      key->account_id = g_strdup (item_account);
      key->key_epoch = epoch;
      key->wrapped_key = g_strdup (wrapped);
      g_ptr_array_add (keys, key);
    }

  g_ptr_array_sort (keys, compare_keys);
  for (guint i = 1; i < keys->len; i++)
    if (compare_keys (&keys->pdata[i - 1], &keys->pdata[i]) == 0)
      return reply_invalid_field (request, field,
                                  "Each account may have only one wrapped key per key epoch.");

  *out = g_steal_pointer (&keys);
  return TRUE;
}

/* Stores @keys (sorted by account) with one keys_put per account. */
static gboolean
put_keys_by_account (CpsStorage *storage, const char *project_id, GPtrArray *keys, GError **error)
{
  guint start = 0;

  while (start < keys->len)
    {
      const CpsWrappedKeyRecord *first = g_ptr_array_index (keys, start);
      g_autoptr (GPtrArray) group = g_ptr_array_new (); /* borrowed records */
      guint end = start;

      while (end < keys->len
             && strcmp (((CpsWrappedKeyRecord *) g_ptr_array_index (keys, end))->account_id,
                        first->account_id)
                    == 0)
        g_ptr_array_add (group, g_ptr_array_index (keys, end++));
      if (!cps_storage_keys_put (storage, project_id, first->account_id, group, error))
        return FALSE;
      start = end;
    }
  return TRUE;
}

static gboolean
is_blank (const char *text)
{
  for (; *text; text++)
    if (!g_ascii_isspace (*text))
      return FALSE;
  return TRUE;
}

/* Replies with the project and its members after a change (outside the transaction). */
static void
reply_project_detail (CpsRequest *request, guint status, const CpsProjectRecord *project)
{
  CpsJsonWriter *writer = cps_json_writer_new ();
  g_autoptr (GError) error = NULL;

  if (!_cps_project_write_detail (writer, request->storage, project, request->caller->account->id,
                                  &error))
    {
      cps_json_writer_free (writer);
      cps_request_storage_error (request, error);
      return;
    }
  cps_request_reply (request, status, writer);
}

static gint64
count_owners (GPtrArray *members)
{
  gint64 owners = 0;

  for (guint i = 0; i < members->len; i++)
    {
      const CpsMemberRecord *member = g_ptr_array_index (members, i);

      if (g_strcmp0 (member->role, "owner") == 0)
        owners++;
    }
  return owners;
}

/* Inside the transaction: whether the project has another owner besides the one about to
 * go. Replies 409 last_owner (or a storage error), rolled back, and returns FALSE if not. */
static gboolean
check_not_last_owner (CpsRequest *request, const char *project_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) members = cps_storage_member_list (request->storage, project_id, &error);

  if (members == NULL)
    {
      cps_request_abort (request, error);
      return FALSE;
    }
  if (count_owners (members) > 1)
    return TRUE;
  cps_storage_rollback (request->storage);
  cps_request_error (request, 409, "last_owner", NULL,
                     "This is the project’s last owner; make another member an owner first.");
  return FALSE;
}

/* Whether the caller may manage the members of a project: its owners and admins. Replies
 * 403 otherwise. */
static gboolean
check_may_manage (CpsRequest *request, const char *role)
{
  if (g_strcmp0 (role, "owner") == 0 || (request->caller->scopes & CPS_SCOPE_ADMIN) != 0)
    return TRUE;
  return cps_request_error (request, 403, "forbidden", NULL,
                            "Only the project’s owners or an administrator can change its "
                            "members.");
}

/* ----- POST /v1/projects ------------------------------------------------------------------- */

void
cps_handle_projects_create (CpsRequest *request)
{
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (GPtrArray) keys = NULL;
  g_autoptr (CpsProjectRecord) existing = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *generated_id = NULL;
  g_autofree char *now = NULL;
  g_autofree char *created_details = NULL;
  g_autofree char *member_details = NULL;
  const CpsJsonNode *root;
  const CpsJsonNode *keys_node = NULL;
  const char *id = NULL;
  const char *name = NULL;
  const char *account_id;
  gboolean encrypted = FALSE;
  char *no_heads[] = { NULL };
  CpsProjectRecord project = { 0 };

  if (!cps_request_authenticate (request, CPS_SCOPE_PUSH))
    return;
  doc = cps_request_parse_object (request);
  if (doc == NULL)
    return;
  root = cps_json_document_get_root (doc);

  if (!cps_request_get_string (request, root, "id", FALSE, 36, &id)
      || !cps_request_get_string (request, root, "name", TRUE, MAX_PROJECT_NAME_CHARS * 4, &name)
      || !cps_request_get_bool (request, root, "encrypted", TRUE, &encrypted)
      || !cps_request_get_array (request, root, "keys", FALSE, MAX_WRAPPED_KEYS, &keys_node))
    return;

  if (id != NULL && !cps_is_uuid (id))
    {
      reply_invalid_field (request, "id",
                           "The project id must be a lowercase, hyphenated UUID, or left out.");
      return;
    }
  if (g_utf8_strlen (name, -1) > MAX_PROJECT_NAME_CHARS || is_blank (name))
    {
      reply_invalid_field (request, "name",
                           "The project name must have between 1 and 200 characters.");
      return;
    }
  if (keys_node != NULL && !read_wrapped_keys (request, keys_node, "keys", NULL, &keys))
    return;

  if (id == NULL)
    id = generated_id = g_uuid_string_random ();
  account_id = request->caller->account->id;
  now = cps_now_rfc3339 ();

  project.id = (char *) id;
  project.name = (char *) name;
  project.owner = (char *) account_id;
  project.encrypted = encrypted;
  project.created_at = now;
  project.updated_at = now;
  project.heads = no_heads;
  project.conflicted = FALSE;
  project.revision_count = 0;
  project.checksum = NULL;
  project.deleted = FALSE;

  if (!cps_storage_begin (request->storage, &error))
    {
      cps_request_storage_error (request, error);
      return;
    }

  existing = cps_storage_project_get (request->storage, id, &error);
  if (existing != NULL)
    {
      cps_storage_rollback (request->storage);
      cps_request_error (request, 409, "project_exists", NULL,
                         "A project with this id already exists; choose another id or leave "
                         "it out.");
      return;
    }
  if (!g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
    {
      cps_request_abort (request, error);
      return;
    }
  g_clear_error (&error);

  for (guint i = 0; keys != NULL && i < keys->len; i++)
    {
      const CpsWrappedKeyRecord *key = g_ptr_array_index (keys, i);
      g_autoptr (CpsAccountRecord) account = NULL;

      if (i > 0
          && strcmp (key->account_id,
                     ((CpsWrappedKeyRecord *) g_ptr_array_index (keys, i - 1))->account_id)
                 == 0)
        continue;
      account = cps_storage_account_get (request->storage, key->account_id, &error);
      if (account == NULL)
        {
          if (g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
            {
              g_autofree char *details = account_details ("keys", key->account_id);

              cps_storage_rollback (request->storage);
              cps_request_error (request, 400, "invalid_request", details,
                                 "A wrapped key is for account %s, which does not exist.",
                                 key->account_id);
              return;
            }
          cps_request_abort (request, error);
          return;
        }
    }

  if (!cps_storage_project_insert (request->storage, &project, &error))
    {
      if (g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_EXISTS))
        {
          cps_storage_rollback (request->storage);
          cps_request_error (request, 409, "project_exists", NULL,
                             "A project with this id already exists; choose another id or "
                             "leave it out.");
          return;
        }
      cps_request_abort (request, error);
      return;
    }

  {
    CpsJsonWriter *writer = cps_json_writer_new ();

    cps_json_writer_begin_object (writer);
    cps_json_writer_member_string (writer, "name", name);
    cps_json_writer_member_bool (writer, "encrypted", encrypted);
    cps_json_writer_end_object (writer);
    created_details = g_string_free (cps_json_writer_steal (writer), FALSE);
  }
  member_details = _cps_details_member (account_id, "owner");

  if (!cps_storage_member_put (request->storage, id, account_id, "owner", &error)
      || (keys != NULL && !put_keys_by_account (request->storage, id, keys, &error))
      || !cps_request_audit (request, "project.created", "project", id, created_details, &error)
      || !cps_request_audit (request, "member.added", "project", id, member_details, &error))
    {
      cps_request_abort (request, error);
      return;
    }
  if (!cps_storage_commit (request->storage, &error))
    {
      cps_request_abort (request, error);
      return;
    }

  g_message ("Project %s created by account %s", id, account_id);

  {
    CpsJsonWriter *writer = cps_json_writer_new ();

    _cps_project_write (writer, &project);
    cps_request_reply (request, 201, writer);
  }
}

/* ----- GET /v1/projects -------------------------------------------------------------------- */

void
cps_handle_projects_list (CpsRequest *request)
{
  g_autoptr (GPtrArray) projects = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *cursor = NULL;
  g_autofree char *next_cursor = NULL;
  const char *member_account;
  CpsJsonWriter *writer;
  guint limit = 0;
  guint n;

  if (!cps_request_authenticate (request, CPS_SCOPE_READ))
    return;
  if (!cps_request_get_limit (request, 100, &limit)
      || !cps_request_get_cursor (request, "project", &cursor))
    return;

  member_account
      = (request->caller->scopes & CPS_SCOPE_ADMIN) != 0 ? NULL : request->caller->account->id;
  /* one more than asked tells whether there is a next page */
  projects = cps_storage_project_list (request->storage, member_account, cursor, limit + 1, &error);
  if (projects == NULL)
    {
      cps_request_storage_error (request, error);
      return;
    }

  n = MIN (projects->len, limit);
  writer = cps_json_writer_new ();
  cps_json_writer_begin_object (writer);
  cps_json_writer_key (writer, "projects");
  cps_json_writer_begin_array (writer);
  for (guint i = 0; i < n; i++)
    _cps_project_write (writer, g_ptr_array_index (projects, i));
  cps_json_writer_end_array (writer);
  if (projects->len > limit && n > 0)
    next_cursor = cps_cursor_encode (
        "project", ((CpsProjectRecord *) g_ptr_array_index (projects, n - 1))->id);
  cps_json_writer_member_string (writer, "next_cursor", next_cursor);
  cps_json_writer_end_object (writer);
  cps_request_reply (request, 200, writer);
}

/* ----- GET /v1/projects/{id} --------------------------------------------------------------- */

void
cps_handle_project_get (CpsRequest *request)
{
  g_autoptr (CpsProjectRecord) project = NULL;

  if (!cps_request_authenticate (request, CPS_SCOPE_READ))
    return;
  if (!_cps_project_open_for_caller (request, request->params[0], &project, NULL))
    return;
  reply_project_detail (request, 200, project);
}

/* ----- PUT /v1/projects/{id}/members/{account_id} ------------------------------------------ */

static gboolean
reply_no_such_account (CpsRequest *request, const char *account_id)
{
  g_autofree char *details = account_details (NULL, account_id);

  return cps_request_error (request, 404, "not_found", details,
                            "There is no account with this id; check the account id.");
}

void
cps_handle_member_put (CpsRequest *request)
{
  g_autoptr (CpsProjectRecord) project = NULL;
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (CpsAccountRecord) account = NULL;
  g_autoptr (GPtrArray) keys = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *caller_role = NULL;
  g_autofree char *current_role = NULL;
  g_autofree char *details = NULL;
  const CpsJsonNode *root;
  const CpsJsonNode *keys_node = NULL;
  const char *target = request->params[1];
  const char *role = NULL;

  if (!cps_request_authenticate (request, CPS_SCOPE_READ))
    return;
  if (!_cps_project_open_for_caller (request, request->params[0], &project, &caller_role))
    return;
  if (!check_may_manage (request, caller_role))
    return;
  if (!cps_is_uuid (target))
    {
      reply_no_such_account (request, target);
      return;
    }

  doc = cps_request_parse_object (request);
  if (doc == NULL)
    return;
  root = cps_json_document_get_root (doc);
  if (!cps_request_get_string (request, root, "role", TRUE, 16, &role)
      || !cps_request_get_array (request, root, "wrapped_keys", FALSE, MAX_WRAPPED_KEYS,
                                 &keys_node))
    return;
  if (!_cps_project_role_is_valid (role))
    {
      reply_invalid_field (request, "role",
                           "The member role must be “owner”, “editor” or “viewer”.");
      return;
    }
  if (keys_node != NULL && !read_wrapped_keys (request, keys_node, "wrapped_keys", target, &keys))
    return;

  if (!cps_storage_begin (request->storage, &error))
    {
      cps_request_storage_error (request, error);
      return;
    }

  account = cps_storage_account_get (request->storage, target, &error);
  if (account == NULL)
    {
      if (g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
        {
          cps_storage_rollback (request->storage);
          reply_no_such_account (request, target);
          return;
        }
      cps_request_abort (request, error);
      return;
    }

  current_role = cps_storage_member_get_role (request->storage, project->id, target, &error);
  if (current_role == NULL)
    {
      if (!g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
        {
          cps_request_abort (request, error);
          return;
        }
      g_clear_error (&error);
    }

  /* Demoting the only owner would leave nobody able to manage the project. */
  if (g_strcmp0 (current_role, "owner") == 0 && strcmp (role, "owner") != 0
      && !check_not_last_owner (request, project->id))
    return;

  details = _cps_details_member (target, role);
  if (!cps_storage_member_put (request->storage, project->id, target, role, &error)
      || (keys != NULL
          && !cps_storage_keys_put (request->storage, project->id, target, keys, &error))
      || !cps_request_audit (request, "member.added", "project", project->id, details, &error)
      || !cps_storage_commit (request->storage, &error))
    {
      cps_request_abort (request, error);
      return;
    }

  g_message ("Account %s is now %s of project %s", target, role, project->id);
  reply_project_detail (request, 200, project);
}

/* ----- DELETE /v1/projects/{id}/members/{account_id} --------------------------------------- */

void
cps_handle_member_delete (CpsRequest *request)
{
  g_autoptr (CpsProjectRecord) project = NULL;
  g_autoptr (GPtrArray) no_keys = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *caller_role = NULL;
  g_autofree char *current_role = NULL;
  g_autofree char *details = NULL;
  const char *target = request->params[1];

  if (!cps_request_authenticate (request, CPS_SCOPE_READ))
    return;
  if (!_cps_project_open_for_caller (request, request->params[0], &project, &caller_role))
    return;
  if (!check_may_manage (request, caller_role))
    return;
  if (!cps_is_uuid (target))
    {
      g_autofree char *not_member = account_details (NULL, target);

      cps_request_error (request, 404, "not_found", not_member,
                         "This account is not a member of the project.");
      return;
    }

  if (!cps_storage_begin (request->storage, &error))
    {
      cps_request_storage_error (request, error);
      return;
    }

  current_role = cps_storage_member_get_role (request->storage, project->id, target, &error);
  if (current_role == NULL)
    {
      if (g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND))
        {
          g_autofree char *not_member = account_details (NULL, target);

          cps_storage_rollback (request->storage);
          cps_request_error (request, 404, "not_found", not_member,
                             "This account is not a member of the project.");
          return;
        }
      cps_request_abort (request, error);
      return;
    }

  if (strcmp (current_role, "owner") == 0 && !check_not_last_owner (request, project->id))
    return;

  /* A former member keeps no wrapped keys of the project. */
  details = _cps_details_member (target, current_role);
  if (!cps_storage_member_delete (request->storage, project->id, target, &error)
      || !cps_storage_keys_put (request->storage, project->id, target, no_keys, &error)
      || !cps_request_audit (request, "member.removed", "project", project->id, details, &error)
      || !cps_storage_commit (request->storage, &error))
    {
      cps_request_abort (request, error);
      return;
    }

  g_message ("Account %s removed from project %s", target, project->id);
  cps_request_reply_empty (request, 204);
}

/* ----- GET /v1/projects/{id}/conflict ------------------------------------------------------ */

/* Adds every revision of @graph to @dag. Storage lists them by seq, so parents come first;
 * the loop still copes with any order. */
static CpsDag *
build_dag (GPtrArray *graph)
{
  CpsDag *dag = cps_dag_new ();
  g_autoptr (GPtrArray) pending = g_ptr_array_sized_new (graph->len); /* borrowed */

  for (guint i = 0; i < graph->len; i++)
    g_ptr_array_add (pending, g_ptr_array_index (graph, i));

  while (pending->len > 0)
    {
      g_autoptr (GPtrArray) later = g_ptr_array_new ();

      for (guint i = 0; i < pending->len; i++)
        {
          const CpsRevisionRecord *record = g_ptr_array_index (pending, i);

          if (!cps_dag_add (dag, record->id, (const char *const *) record->parents,
                            record->clock_sum)
              && !cps_dag_contains (dag, record->id))
            g_ptr_array_add (later, (gpointer) record);
        }
      if (later->len == pending->len)
        {
          g_warning ("%u revisions name parents that are not stored; the conflict view "
                     "leaves them out",
                     later->len);
          break;
        }
      g_ptr_array_unref (pending);
      pending = g_steal_pointer (&later);
    }
  return dag;
}

/* The ancestor offered for a merge of @heads. For two heads it is their lowest common
 * ancestor. For more, it is folded: the LCA of the first two heads, then the LCA of that
 * with the next head, and so on. A criss-cross history can have several lowest common
 * ancestors; then the one with the largest clock sum (then the highest id, as for the
 * display winner) is taken, so every client is offered the same base. NULL when the
 * heads share no ancestor. */
static const char *
pick_merge_ancestor (CpsDag *dag, GPtrArray *heads, GHashTable *clock_sums)
{
  const char *current;

  if (heads->len < 2)
    return NULL;

  current = g_ptr_array_index (heads, 0);
  for (guint i = 1; i < heads->len && current != NULL; i++)
    {
      g_autoptr (GPtrArray) lcas
          = cps_dag_lowest_common_ancestors (dag, current, g_ptr_array_index (heads, i));
      g_autofree CpsHeadInfo *infos = g_new0 (CpsHeadInfo, MAX (lcas->len, 1));
      int best;

      for (guint j = 0; j < lcas->len; j++)
        {
          guint64 *sum = g_hash_table_lookup (clock_sums, g_ptr_array_index (lcas, j));

          infos[j].id = g_ptr_array_index (lcas, j);
          infos[j].clock_sum = sum != NULL ? *sum : 0;
        }
      best = _cps_project_pick_winner (infos, lcas->len);
      current = best >= 0 ? infos[best].id : NULL;
    }
  return current;
}

static gboolean
write_stored_revision (CpsRequest *request, CpsJsonWriter *writer, const char *project_id,
                       const char *id, GError **error)
{
  g_autoptr (CpsRevisionRecord) record
      = cps_storage_revision_get (request->storage, project_id, id, error);

  if (record == NULL)
    return FALSE;
  cps_json_writer_raw (writer, record->json);
  return TRUE;
}

void
cps_handle_project_conflict (CpsRequest *request)
{
  g_autoptr (CpsProjectRecord) project = NULL;
  g_autoptr (GPtrArray) graph = NULL;
  g_autoptr (CpsDag) dag = NULL;
  g_autoptr (GPtrArray) heads = NULL;
  g_autoptr (GHashTable) clock_sums = NULL;
  g_autoptr (GError) error = NULL;
  const char *ancestor;
  CpsJsonWriter *writer;

  if (!cps_request_authenticate (request, CPS_SCOPE_READ))
    return;
  if (!_cps_project_open_for_caller (request, request->params[0], &project, NULL))
    return;

  graph = cps_storage_revision_graph (request->storage, project->id, &error);
  if (graph == NULL)
    {
      cps_request_storage_error (request, error);
      return;
    }

  clock_sums = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < graph->len; i++)
    {
      CpsRevisionRecord *record = g_ptr_array_index (graph, i);

      g_hash_table_insert (clock_sums, record->id, &record->clock_sum);
    }

  /* The heads come from the same read of the graph as the ancestor, so the two agree even
   * when a push lands in between. */
  dag = build_dag (graph);
  heads = cps_dag_get_heads (dag);
  ancestor = pick_merge_ancestor (dag, heads, clock_sums);

  writer = cps_json_writer_new ();
  cps_json_writer_begin_object (writer);
  cps_json_writer_key (writer, "heads");
  cps_json_writer_begin_array (writer);
  for (guint i = 0; i < heads->len; i++)
    if (!write_stored_revision (request, writer, project->id, g_ptr_array_index (heads, i), &error))
      goto failed;
  cps_json_writer_end_array (writer);
  cps_json_writer_key (writer, "ancestor");
  if (ancestor == NULL)
    cps_json_writer_null (writer);
  else if (!write_stored_revision (request, writer, project->id, ancestor, &error))
    goto failed;
  cps_json_writer_end_object (writer);
  cps_request_reply (request, 200, writer);
  return;

failed:
  cps_json_writer_free (writer);
  cps_request_storage_error (request, error);
}
