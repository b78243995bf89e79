/* cps-handlers-revisions.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The push and a project's revision history.
 *
 * A push is checked in two phases. Everything that costs CPU — parsing,
 * recomputing the id and the content checksum, the Ed25519 signature — runs
 * before the write transaction, spread over the cores, so writers hold the
 * lock only for lookups and inserts. Inside the transaction the checks that
 * depend on what is stored are made again against the locked state:
 * duplicates, the device's state (a revoke may land while the signatures are
 * being verified), parents and the clock rule.
 *
 * The usual body, {"revisions": [R, …]}, is not parsed as a whole: it is cut
 * into the text of each revision, and each text is parsed once, strictly, by
 * CpsRevision. Any other shape, and any text that is not JSON, goes through
 * the general path (cps_request_parse_object()), which answers exactly as for
 * every other request.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <string.h>

#include "cps-handlers.h"
#include "cps-jcs.h"
#include "cps-metrics.h"
#include "cps-project-state.h"
#include "cps-revision.h"
#include "cps-server.h"

#define MAX_AUDITED_IDS 100
/* Batches at least this long have their CPU work spread over the cores. */
#define MIN_PARALLEL_ITEMS 4

typedef enum
{
  PUSH_PENDING,
  PUSH_ACCEPTED,
  PUSH_DUPLICATE,
  PUSH_REJECTED,
} PushStatus;

typedef struct
{
  /* The revision as received: a node of the parsed body (general path), or a span of the
   * body's text (fast path). */
  const CpsJsonNode *node;
  const char *text;
  gsize text_length;
  CpsJsonDocument *doc;  /* (nullable) the text parsed, only for a malformed revision */

  const char *id;        /* (nullable) borrowed from the node, doc or revision */
  CpsRevision *revision; /* (nullable) NULL when malformed */
  GError *parse_error;
  char *json;        /* the text as stored: the revision as checked, re-serialised */
  char *header_json; /* the same without payload */
  char *clock_json;

  /* signature check */
  gboolean has_key;
  guint8 public_key[32];
  gboolean verified;
  GError *verify_error;

  PushStatus status;
  const char *code; /* static rejection code */
  char *message;
} PushItem;

/* What a push needs to know about a signing device. */
typedef struct
{
  gboolean found;
  char *state;
  gboolean may_push; /* its account is owner/editor here and its role may push */
  gboolean has_key;
  guint8 public_key[32];
} DeviceInfo;

typedef struct
{
  CpsRequest *request;
  CpsStorage *storage;
  const char *project_id;
  gboolean encrypted;
  const char *caller_device_id;
  GHashTable *devices;   /* device id → DeviceInfo, for the current phase */
  GHashTable *parents;   /* id → CpsRevision, stored parents already parsed */
  GHashTable *batch_ids; /* ids named in this batch (borrowed) */
} PushContext;

/* ----- auxiliary functions ------------------------------------------------------------------ */

static void
push_item_clear (PushItem *item)
{
  g_clear_pointer (&item->doc, cps_json_document_unref);
  g_clear_error (&item->parse_error);
  g_clear_error (&item->verify_error);
  g_clear_object (&item->revision);
  g_clear_pointer (&item->json, g_free);
  g_clear_pointer (&item->header_json, g_free);
  g_clear_pointer (&item->clock_json, g_free);
  g_clear_pointer (&item->message, g_free);
}

static void
device_info_free (DeviceInfo *info)
{
  g_free (info->state);
  g_free (info);
}

static void reject (PushItem *item, const char *code, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
reject (PushItem *item, const char *code, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_free (item->message);
  item->message = g_strdup_vprintf (format, args);
  va_end (args);
  item->code = code;
  item->status = PUSH_REJECTED;
}

static const char *
code_for_revision_error (const GError *error)
{
  if (error->domain != CPS_REVISION_ERROR)
    return "invalid_revision";
  switch ((CpsRevisionError) error->code)
    {
    case CPS_REVISION_ERROR_BAD_ID:
      return "bad_id";
    case CPS_REVISION_ERROR_CHECKSUM_MISMATCH:
      return "checksum_mismatch";
    case CPS_REVISION_ERROR_BAD_SIGNATURE:
      return "bad_signature";
    case CPS_REVISION_ERROR_BAD_CLOCK:
      return "bad_clock";
    case CPS_REVISION_ERROR_UNKNOWN_PARENT:
      return "unknown_parent";
    case CPS_REVISION_ERROR_INVALID:
    case CPS_REVISION_ERROR_BAD_PARENTS:
    default:
      return "invalid_revision";
    }
}

static void
reject_with_error (PushItem *item, const GError *error)
{
  reject (item, code_for_revision_error (error), "%s", error->message);
}

static gboolean
is_not_found (const GError *error)
{
  return g_error_matches (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
}

/* The device @device_id as the current phase sees it; NULL only when storage failed. */
static DeviceInfo *
lookup_device (PushContext *ctx, const char *device_id, GError **error)
{
  g_autoptr (CpsDeviceRecord) device = NULL;
  g_autoptr (CpsAccountRecord) account = NULL;
  g_autofree char *role = NULL;
  g_autofree guchar *key = NULL;
  g_autoptr (GError) local_error = NULL;
  DeviceInfo *info;
  gsize key_length = 0;

  info = g_hash_table_lookup (ctx->devices, device_id);
  if (info != NULL)
    return info;

  device = cps_storage_device_get (ctx->storage, device_id, &local_error);
  if (device == NULL && !is_not_found (local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  g_clear_error (&local_error);

  info = g_new0 (DeviceInfo, 1);
  g_hash_table_insert (ctx->devices, g_strdup (device_id), info);
  if (device == NULL)
    return info;

  info->found = TRUE;
  info->state = g_strdup (device->state);
  key = g_base64_decode (device->public_key, &key_length);
  if (key_length == sizeof info->public_key)
    {
      memcpy (info->public_key, key, sizeof info->public_key);
      info->has_key = TRUE;
    }

  role = cps_storage_member_get_role (ctx->storage, ctx->project_id, device->account_id,
                                      &local_error);
  if (role == NULL && !is_not_found (local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  g_clear_error (&local_error);

  account = cps_storage_account_get (ctx->storage, device->account_id, &local_error);
  if (account == NULL && !is_not_found (local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  info->may_push = _cps_project_role_can_write (role) && account != NULL
                   && (cps_scopes_for_role (account->role) & CPS_SCOPE_PUSH) != 0;
  return info;
}

/* Whether the device that signed @item may have its revision stored; rejects it if not. */
static gboolean
check_device (PushContext *ctx, PushItem *item, const DeviceInfo *info)
{
  CpsRevision *revision = item->revision;
  const char *device_id = cps_revision_get_device_id (revision);

  if (!info->found)
    {
      reject (item, "unknown_device",
              "Device %s is not registered with this server; sign revisions with a device "
              "that has logged in.",
              device_id);
      return FALSE;
    }

  /* The contract: from the revoke on, revisions the device signs are refused, whoever
   * relays them. Its created_at cannot tell work done before the revoke from a stolen key
   * that backdates, so none is accepted; revisions stored before the revoke stay. */
  if (g_strcmp0 (info->state, "revoked") == 0)
    {
      reject (item, "device_revoked", "Device %s was revoked, so revisions it signs are refused.",
              device_id);
      return FALSE;
    }
  else if (g_strcmp0 (info->state, "active") != 0)
    {
      reject (item, "forbidden",
              "Device %s is waiting for an administrator’s approval and cannot sign "
              "revisions yet.",
              device_id);
      return FALSE;
    }

  if (!info->may_push)
    {
      reject (item, "forbidden",
              "The account of device %s may not write to this project; an owner can make it "
              "an editor.",
              device_id);
      return FALSE;
    }
  return TRUE;
}

/* Whether @item's id is stored already: in this project it is a duplicate, in another one
 * it is rejected; *stop tells that the item is decided. FALSE only when storage failed. */
static gboolean
check_stored (PushContext *ctx, PushItem *item, gboolean *stop, GError **error)
{
  g_autoptr (CpsRevisionRecord) stored = NULL;
  g_autoptr (GError) local_error = NULL;

  *stop = FALSE;
  stored = cps_storage_revision_get (ctx->storage, NULL, item->id, &local_error);
  if (stored == NULL)
    {
      if (is_not_found (local_error))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  *stop = TRUE;
  if (strcmp (stored->project_id, ctx->project_id) == 0)
    {
      g_autofree char *computed = NULL;

      /* Only the same revision is a duplicate. Other content under a stored id would be
       * answered as if it were stored; it goes on to be refused as bad_id instead. */
      if (g_strcmp0 (stored->json, item->json) != 0 &&
          g_strcmp0 ((computed = cps_revision_compute_id (item->revision, NULL)), item->id) != 0)
        {
          *stop = FALSE;
          return TRUE;
        }
      item->status = PUSH_DUPLICATE;
    }
  else
    reject (item, "bad_id",
            "A revision with this id is already stored in another project; a revision "
            "belongs to one project only.");
  return TRUE;
}

/* A stored parent of this project as a CpsRevision, parsed once per push; NULL without
 * error when it is not stored in this project. */
static CpsRevision *
lookup_stored_parent (PushContext *ctx, const char *id, GError **error)
{
  g_autoptr (CpsRevisionRecord) stored = NULL;
  g_autoptr (GError) local_error = NULL;
  CpsRevision *parent;

  parent = g_hash_table_lookup (ctx->parents, id);
  if (parent != NULL)
    return parent;

  stored = cps_storage_revision_get (ctx->storage, ctx->project_id, id, &local_error);
  if (stored == NULL)
    {
      if (!is_not_found (local_error))
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  parent = cps_revision_new_from_string (stored->json, -1, &local_error);
  if (parent == NULL)
    {
      g_set_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED,
                   "Stored revision %s cannot be read back: %s", id, local_error->message);
      return NULL;
    }
  g_hash_table_insert (ctx->parents, g_strdup (id), parent);
  return parent;
}

/* ----- phase one: before the transaction ------------------------------------------------- */

/* Runs @func on every item, on this thread and on helper threads when the batch is long
 * enough. Items are claimed one at a time, so a helper that starts late (busy with another
 * push) only takes what is left; this thread waits until every item is done, never for a
 * helper to start. */
typedef void (*ItemFunc) (PushItem *item);

typedef struct
{
  gint ref_count;
  PushItem *items;
  guint n_items;
  ItemFunc func;
  gint next; /* the next item to claim */
  gint done; /* items finished */
  GMutex mutex;
  GCond cond;
} ParallelJob;

static void
parallel_job_unref (ParallelJob *job)
{
  if (!g_atomic_int_dec_and_test (&job->ref_count))
    return;
  g_mutex_clear (&job->mutex);
  g_cond_clear (&job->cond);
  g_free (job);
}

static void
parallel_job_run (ParallelJob *job)
{
  for (;;)
    {
      guint i = (guint) g_atomic_int_add (&job->next, 1);

      if (i >= job->n_items)
        break;
      job->func (&job->items[i]);
      if ((guint) g_atomic_int_add (&job->done, 1) + 1 == job->n_items)
        {
          g_mutex_lock (&job->mutex);
          g_cond_broadcast (&job->cond);
          g_mutex_unlock (&job->mutex);
        }
    }
}

static void
parallel_helper (gpointer data, gpointer user_data)
{
  ParallelJob *job = data;

  parallel_job_run (job);
  parallel_job_unref (job);
}

static GThreadPool *
get_helper_pool (guint *n_helpers)
{
  static GThreadPool *pool;
  static guint helpers;

  if (g_once_init_enter (&pool))
    {
      GThreadPool *new_pool;

      helpers = MAX (g_get_num_processors (), 2) - 1;
      new_pool = g_thread_pool_new (parallel_helper, NULL, (int) helpers, FALSE, NULL);
      g_once_init_leave (&pool, new_pool);
    }
  *n_helpers = helpers;
  return pool;
}

static void
run_parallel (PushItem *items, guint n_items, ItemFunc func)
{
  ParallelJob *job;
  GThreadPool *pool;
  guint n_helpers = 0;

  if (n_items < MIN_PARALLEL_ITEMS || (pool = get_helper_pool (&n_helpers)) == NULL)
    {
      for (guint i = 0; i < n_items; i++)
        func (&items[i]);
      return;
    }

  job = g_new0 (ParallelJob, 1);
  job->ref_count = 1;
  job->items = items;
  job->n_items = n_items;
  job->func = func;
  g_mutex_init (&job->mutex);
  g_cond_init (&job->cond);

  for (guint i = 0; i < n_helpers; i++)
    {
      g_atomic_int_inc (&job->ref_count);
      if (!g_thread_pool_push (pool, job, NULL))
        parallel_job_unref (job);
    }

  parallel_job_run (job);
  g_mutex_lock (&job->mutex);
  while ((guint) g_atomic_int_get (&job->done) < n_items)
    g_cond_wait (&job->cond, &job->mutex);
  g_mutex_unlock (&job->mutex);
  parallel_job_unref (job);
}

/* A revision is served inside other JSON (a feed page, a conflict), which a reader must
 * still be able to read within CPS_JSON_MAX_DEPTH levels: half of that is plenty for any
 * planner document. */
#define MAX_REVISION_DEPTH (CPS_JSON_MAX_DEPTH / 2)

/* Reads the revision once; CPU only, so it runs on any thread. */
static void
parse_item (PushItem *item)
{
  g_autoptr (GString) clock = NULL;
  g_autofree char *stored = NULL;
  gsize length = 0, stored_length;

  if (item->node != NULL)
    {
      item->json = cps_json_to_string (item->node, 0, &length, &item->parse_error);
      if (item->json == NULL)
        return;
    }
  else
    {
      item->json = g_strndup (item->text, item->text_length);
      length = item->text_length;
    }

  item->revision = cps_revision_new_from_string (item->json, length, &item->parse_error);
  if (item->revision == NULL)
    return;

  /* What is stored and served is the revision as it was checked, never other bytes that
   * merely parse to it. A client writes JSON.stringify's form, so the text usually is that
   * already; when it is not, a repeated member name or an unpaired surrogate (which
   * different readers resolve differently) refuses the revision. */
  stored = cps_revision_to_json (item->revision, TRUE);
  stored_length = strlen (stored);
  if (stored_length != length || memcmp (stored, item->json, length) != 0)
    {
      g_autoptr (GPtrArray) findings
          = g_ptr_array_new_with_free_func ((GDestroyNotify) cps_finding_free);
      g_autoptr (CpsJsonDocument) doc
          = cps_json_document_parse_copy (item->json, length, findings, NULL);

      if (doc == NULL || cps_findings_count (findings, CPS_SEVERITY_ERROR) > 0)
        {
          g_set_error_literal (&item->parse_error, CPS_REVISION_ERROR,
                               CPS_REVISION_ERROR_INVALID,
                               "The revision repeats a member name or holds an unpaired "
                               "surrogate; send it as JSON.stringify writes it.");
          g_clear_object (&item->revision);
          return;
        }
    }
  g_free (item->json);
  item->json = g_steal_pointer (&stored);
  /* As parsed: the stored text is the same tree, or (repeated names) it was refused above. */
  if (cps_revision_get_depth (item->revision) > MAX_REVISION_DEPTH)
    {
      g_set_error (&item->parse_error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_INVALID,
                   "The revision nests objects and arrays deeper than %d levels.",
                   MAX_REVISION_DEPTH);
      g_clear_object (&item->revision);
      return;
    }
  item->header_json = cps_revision_to_json (item->revision, FALSE);
  clock = g_string_new (NULL);
  cps_clock_write_jcs (cps_revision_get_clock (item->revision), clock);
  item->clock_json = g_string_free (g_steal_pointer (&clock), FALSE);
}

/* Recomputes the id and the content checksum and checks the signature in one pass; CPU
 * only. Without a usable key the signature cannot hold, and the device's problem is
 * reported instead (see decide_item()). */
static void
verify_item (PushItem *item)
{
  static const guint8 no_key[32] = { 0 };

  if (item->status != PUSH_PENDING)
    return;
  item->verified = cps_revision_verify (item->revision, item->has_key ? item->public_key : no_key,
                                        &item->verify_error);
}

/* The checks before the signature that need storage: the project, duplicates, the
 * device's key. Returns FALSE only when storage failed. */
static gboolean
look_up_item (PushContext *ctx, PushItem *item, GError **error)
{
  CpsRevision *revision = item->revision;
  DeviceInfo *info;
  gboolean stop;

  if (revision == NULL)
    {
      const CpsJsonNode *root
          = item->doc != NULL ? cps_json_document_get_root (item->doc) : item->node;

      item->id = cps_json_object_get_string (root, "id");
      if (item->parse_error != NULL)
        reject_with_error (item, item->parse_error);
      else
        reject (item, "invalid_revision", "The revision cannot be read.");
      return TRUE;
    }
  item->id = cps_revision_get_id (revision);

  if (strcmp (cps_revision_get_project_id (revision), ctx->project_id) != 0)
    {
      reject (item, "invalid_revision",
              "The revision belongs to project %s, not to the project it was pushed to.",
              cps_revision_get_project_id (revision));
      return TRUE;
    }

  if (!check_stored (ctx, item, &stop, error))
    return FALSE;
  if (stop)
    return TRUE;

  info = lookup_device (ctx, cps_revision_get_device_id (revision), error);
  if (info == NULL)
    return FALSE;
  item->has_key = info->has_key;
  memcpy (item->public_key, info->public_key, sizeof item->public_key);
  return TRUE;
}

/* Reports the outcome of the checks in the contract's order, then parses the stored
 * parents so the transaction only has to find them. Returns FALSE only when storage
 * failed. */
static gboolean
decide_item (PushContext *ctx, PushItem *item, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  CpsRevision *revision = item->revision;
  const GError *verify_error = item->verify_error;
  DeviceInfo *info;

  if (item->status != PUSH_PENDING)
    return TRUE;

  if (!item->verified
      && g_error_matches (verify_error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_ID))
    {
      reject_with_error (item, verify_error);
      return TRUE;
    }
  if (ctx->encrypted && !cps_revision_is_encrypted (revision))
    {
      reject (item, "invalid_revision",
              "This project is encrypted; its revisions must carry an “xchacha20poly1305” "
              "payload.");
      return TRUE;
    }
  if (!ctx->encrypted && cps_revision_is_encrypted (revision))
    {
      reject (item, "invalid_revision",
              "This project is not encrypted; its revisions must carry a payload with "
              "“enc”: “none”.");
      return TRUE;
    }
  if (!item->verified
      && !g_error_matches (verify_error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_SIGNATURE))
    {
      reject_with_error (item, verify_error);
      return TRUE;
    }

  info = lookup_device (ctx, cps_revision_get_device_id (revision), error);
  if (info == NULL)
    return FALSE;
  if (!check_device (ctx, item, info))
    return TRUE;
  if (!item->verified)
    {
      reject_with_error (item, verify_error);
      return TRUE;
    }

  for (const char *const *parent = cps_revision_get_parents (revision); *parent; parent++)
    if (!g_hash_table_contains (ctx->batch_ids, *parent)
        && lookup_stored_parent (ctx, *parent, &local_error) == NULL && local_error != NULL)
      {
        /* unreadable or failed: the transaction looks again and decides */
        g_debug ("Prefetching parent %s failed: %s", *parent, local_error->message);
        g_clear_error (&local_error);
      }
  return TRUE;
}

static gboolean
is_json_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *
skip_space (const char *p, const char *end)
{
  while (p < end && is_json_space (*p))
    p++;
  return p;
}

static gboolean
expect (const char **p, const char *end, char c)
{
  if (*p >= end || **p != c)
    return FALSE;
  (*p)++;
  return TRUE;
}

/* Cuts a body of exactly the form {"revisions": [R, …]} into the text of each R. This only
 * delimits: each text is parsed
 * strictly afterwards. FALSE when the body has any other shape. */
static gboolean
split_push_body (const char *body, gsize length, guint max, GArray *items, gboolean *too_many)
{
  static const char key[] = "\"revisions\"";
  const char *p = body;
  const char *end = body + length;

  p = skip_space (p, end);
  if (!expect (&p, end, '{'))
    return FALSE;
  p = skip_space (p, end);
  if ((gsize) (end - p) < sizeof key - 1 || memcmp (p, key, sizeof key - 1) != 0)
    return FALSE;
  p += sizeof key - 1;
  p = skip_space (p, end);
  if (!expect (&p, end, ':'))
    return FALSE;
  p = skip_space (p, end);
  if (!expect (&p, end, '['))
    return FALSE;
  p = skip_space (p, end);

  if (p < end && *p == ']')
    p++;
  else
    for (;;)
      {
        PushItem item = { 0 };
        const char *start = p;
        guint depth = 0;

        for (;;)
          {
            char c;

            if (p >= end)
              return FALSE;
            c = *p;
            if (c == '"')
              {
                for (p++; p < end && *p != '"'; p++)
                  if (*p == '\\')
                    p++;
                if (p >= end)
                  return FALSE;
                p++;
                continue;
              }
            if (depth == 0 && (c == ',' || c == ']' || is_json_space (c)))
              break;
            if (c == '{' || c == '[')
              {
                /* Read alone, a text may nest CPS_JSON_MAX_DEPTH levels; inside the body's
                 * object and array, two less. Deeper is not JSON the general path reads. */
                if (++depth > CPS_JSON_MAX_DEPTH - 2)
                  return FALSE;
              }
            else if (c == '}' || c == ']')
              {
                if (depth == 0)
                  return FALSE;
                depth--;
              }
            p++;
          }
        if (p == start)
          return FALSE;
        /* A text read alone may start with a byte order mark; inside the body it is not
         * JSON. */
        if (p - start >= 3 && memcmp (start, "\xEF\xBB\xBF", 3) == 0)
          return FALSE;

        /* Stop counting at the limit: a body of tiny items must not become millions of
         * PushItems before it is refused. */
        if (items->len == max)
          {
            *too_many = TRUE;
            return FALSE;
          }
        item.text = start;
        item.text_length = p - start;
        g_array_append_val (items, item);

        p = skip_space (p, end);
        if (p < end && *p == ',')
          {
            p++;
            p = skip_space (p, end);
            continue;
          }
        if (!expect (&p, end, ']'))
          return FALSE;
        break;
      }

  p = skip_space (p, end);
  if (!expect (&p, end, '}'))
    return FALSE;
  p = skip_space (p, end);
  return p == end;
}

/* The revisions of the push, each read once (parse_item()). Replies and returns FALSE when
 * the body is not a push. @doc keeps the general path's parsed body alive. */
static gboolean
load_items (CpsRequest *request, GArray **items_out, CpsJsonDocument **doc)
{
  g_autoptr (GArray) items = g_array_new (FALSE, TRUE, sizeof (PushItem));
  const CpsJsonNode *array = NULL;
  guint max = request->config->max_push_revisions;
  gboolean too_many = FALSE;
  gboolean split = request->body != NULL
                   && split_push_body (request->body, request->body_length, max, items,
                                       &too_many);

  if (too_many)
    goto too_large;
  if (!split)
    g_array_set_size (items, 0);
  else
    {
      gboolean all_json = TRUE;

      run_parallel ((PushItem *) items->data, items->len, parse_item);

      /* A revision that is not even JSON makes the whole body invalid: let the general
       * path answer that. */
      for (guint i = 0; i < items->len && all_json; i++)
        {
          PushItem *item = &g_array_index (items, PushItem, i);

          if (item->revision == NULL)
            {
              item->doc = cps_json_document_parse_copy (item->text, item->text_length, NULL, NULL);
              all_json = item->doc != NULL;
            }
        }
      if (all_json)
        {
          *items_out = g_steal_pointer (&items);
          return TRUE;
        }
      for (guint i = 0; i < items->len; i++)
        push_item_clear (&g_array_index (items, PushItem, i));
      g_array_set_size (items, 0);
    }

  *doc = cps_request_parse_object (request);
  if (*doc == NULL)
    return FALSE;
  if (!cps_request_get_array (request, cps_json_document_get_root (*doc), "revisions", TRUE,
                              G_MAXUINT, &array))
    return FALSE;
  if (array->n > max)
    goto too_large;

  g_array_set_size (items, array->n);
  for (guint i = 0; i < array->n; i++)
    g_array_index (items, PushItem, i).node = &array->v.items[i];
  run_parallel ((PushItem *) items->data, items->len, parse_item);
  *items_out = g_steal_pointer (&items);
  return TRUE;

too_large:
  cps_request_error (request, 413, "too_large", NULL,
                     "A push may carry at most %u revisions; split it into several pushes.", max);
  return FALSE;
}

/* Phase two, inside the write transaction: stored state, device state, parents, clock,
 * then the insert. Returns FALSE only when storage failed. */
static gboolean
commit_item (PushContext *ctx, PushItem *item, GHashTable *accepted, GError **error)
{
  CpsRevision *revision = item->revision;
  guint n_parents = cps_revision_get_n_parents (revision);
  g_autofree CpsRevision **parents = g_new0 (CpsRevision *, n_parents + 1);
  g_autoptr (GError) local_error = NULL;
  const char *const *parent_ids = cps_revision_get_parents (revision);
  CpsRevisionRecord record = { 0 };
  DeviceInfo *info;
  gboolean stop;

  if (g_hash_table_contains (accepted, item->id))
    {
      item->status = PUSH_DUPLICATE;
      return TRUE;
    }
  if (!check_stored (ctx, item, &stop, error))
    return FALSE;
  if (stop)
    return TRUE;

  info = lookup_device (ctx, cps_revision_get_device_id (revision), error);
  if (info == NULL)
    return FALSE;
  if (!check_device (ctx, item, info))
    return TRUE;

  for (guint i = 0; i < n_parents; i++)
    {
      PushItem *earlier = g_hash_table_lookup (accepted, parent_ids[i]);

      if (earlier != NULL)
        parents[i] = earlier->revision;
      else if ((parents[i] = lookup_stored_parent (ctx, parent_ids[i], error)) == NULL)
        {
          if (error != NULL && *error != NULL)
            return FALSE;
          reject (item, "unknown_parent",
                  "Parent %s is not stored in this project; push it first, or earlier in "
                  "the same batch.",
                  parent_ids[i]);
          return TRUE;
        }
    }

  if (!cps_revision_validate_clock (revision, parents, n_parents, &local_error))
    {
      reject_with_error (item, local_error);
      return TRUE;
    }

  /* The record borrows the item's strings. */
  record.id = (char *) item->id;
  record.project_id = (char *) ctx->project_id;
  record.device_id = (char *) cps_revision_get_device_id (revision);
  record.created_at = (char *) cps_revision_get_created_at (revision);
  record.checksum = (char *) cps_revision_get_checksum (revision);
  record.deleted = cps_revision_get_deleted (revision);
  record.parents = (GStrv) parent_ids;
  record.clock_sum = cps_clock_sum (cps_revision_get_clock (revision));
  record.clock_json = item->clock_json;
  record.json = item->json;
  record.header_json = item->header_json;
  if (!cps_storage_revision_insert (ctx->storage, &record, error))
    return FALSE;

  item->status = PUSH_ACCEPTED;
  g_hash_table_insert (accepted, (gpointer) item->id, item);
  return TRUE;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Sets the project's heads, conflict state, count, winner checksum and deletion after the
 * accepted revisions (in batch order) were inserted. */
static gboolean
update_project (PushContext *ctx, CpsProjectRecord *project, PushItem *items, guint n_items,
                GHashTable *accepted, guint n_accepted, GError **error)
{
  g_autoptr (GHashTable) head_set = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) heads = NULL;
  g_autoptr (GPtrArray) records
      = g_ptr_array_new_with_free_func ((GDestroyNotify) cps_revision_record_free);
  g_autofree CpsHeadInfo *infos = NULL;
  GHashTableIter iter;
  gpointer key;
  GStrv new_heads;
  int winner;

  for (guint i = 0; project->heads != NULL && project->heads[i] != NULL; i++)
    g_hash_table_add (head_set, project->heads[i]);

  /* Parents always come before their children, so a revision stops being a head exactly
   * when an accepted revision names it. */
  for (guint i = 0; i < n_items; i++)
    {
      if (items[i].status != PUSH_ACCEPTED)
        continue;
      for (const char *const *p = cps_revision_get_parents (items[i].revision); *p; p++)
        g_hash_table_remove (head_set, *p);
      g_hash_table_add (head_set, (gpointer) items[i].id);
    }

  heads = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, head_set);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (heads, key);
  g_ptr_array_sort (heads, compare_strings);

  infos = g_new0 (CpsHeadInfo, MAX (heads->len, 1));
  for (guint i = 0; i < heads->len; i++)
    {
      const char *id = g_ptr_array_index (heads, i);
      PushItem *item = g_hash_table_lookup (accepted, id);

      infos[i].id = id;
      if (item != NULL)
        {
          infos[i].clock_sum = cps_clock_sum (cps_revision_get_clock (item->revision));
          infos[i].checksum = cps_revision_get_checksum (item->revision);
          infos[i].deleted = cps_revision_get_deleted (item->revision);
        }
      else
        {
          CpsRevisionRecord *stored
              = cps_storage_revision_get (ctx->storage, ctx->project_id, id, error);
          if (stored == NULL)
            return FALSE;
          g_ptr_array_add (records, stored);
          infos[i].clock_sum = stored->clock_sum;
          infos[i].checksum = stored->checksum;
          infos[i].deleted = stored->deleted;
        }
    }
  winner = _cps_project_pick_winner (infos, heads->len);

  new_heads = g_new0 (char *, heads->len + 1);
  for (guint i = 0; i < heads->len; i++)
    new_heads[i] = g_strdup (g_ptr_array_index (heads, i));

  g_free (project->checksum);
  project->checksum = winner >= 0 ? g_strdup (infos[winner].checksum) : NULL;
  project->deleted = winner >= 0 ? infos[winner].deleted : FALSE;
  /* the strings in @heads point into the old strv or the items: free it only now */
  g_strfreev (project->heads);
  project->heads = new_heads;
  project->conflicted = heads->len > 1;
  project->revision_count += n_accepted;
  g_free (project->updated_at);
  project->updated_at = cps_now_rfc3339 ();

  return cps_storage_project_update (ctx->storage, project, error);
}

static char *
details_accepted (PushItem *items, guint n_items, guint n_accepted)
{
  CpsJsonWriter *writer = cps_json_writer_new ();
  guint written = 0;

  cps_json_writer_begin_object (writer);
  cps_json_writer_member_int (writer, "count", n_accepted);
  cps_json_writer_key (writer, "revisions");
  cps_json_writer_begin_array (writer);
  for (guint i = 0; i < n_items && written < MAX_AUDITED_IDS; i++)
    if (items[i].status == PUSH_ACCEPTED)
      {
        cps_json_writer_string (writer, items[i].id);
        written++;
      }
  cps_json_writer_end_array (writer);
  cps_json_writer_end_object (writer);
  return g_string_free (cps_json_writer_steal (writer), FALSE);
}

static char *
details_rejected (PushItem *items, guint n_items, guint n_rejected)
{
  CpsJsonWriter *writer = cps_json_writer_new ();
  g_autoptr (GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) codes = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < n_items; i++)
    if (items[i].status == PUSH_REJECTED)
      {
        guint n = GPOINTER_TO_UINT (g_hash_table_lookup (counts, items[i].code));
        g_hash_table_insert (counts, (gpointer) items[i].code, GUINT_TO_POINTER (n + 1));
      }
  g_hash_table_iter_init (&iter, counts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_ptr_array_add (codes, key);
  g_ptr_array_sort (codes, compare_strings);

  cps_json_writer_begin_object (writer);
  cps_json_writer_member_int (writer, "count", n_rejected);
  cps_json_writer_key (writer, "codes");
  cps_json_writer_begin_object (writer);
  for (guint i = 0; i < codes->len; i++)
    {
      const char *code = g_ptr_array_index (codes, i);
      cps_json_writer_member_int (writer, code,
                                  GPOINTER_TO_UINT (g_hash_table_lookup (counts, code)));
    }
  cps_json_writer_end_object (writer);
  cps_json_writer_end_object (writer);
  return g_string_free (cps_json_writer_steal (writer), FALSE);
}

static char *
details_heads (const char *const *heads)
{
  CpsJsonWriter *writer = cps_json_writer_new ();

  cps_json_writer_begin_object (writer);
  cps_json_writer_key (writer, "heads");
  cps_json_writer_strv (writer, heads);
  cps_json_writer_end_object (writer);
  return g_string_free (cps_json_writer_steal (writer), FALSE);
}

/* The transaction of a push: phase two for every pending item, the project update and the
 * audit entries. On FALSE the transaction was rolled back and nothing is stored. */
static gboolean
run_push_transaction (PushContext *ctx, PushItem *items, guint n_items,
                      CpsProjectRecord **project_out, guint *n_accepted_out, GError **error)
{
  g_autoptr (CpsProjectRecord) project = NULL;
  g_autoptr (GHashTable) accepted = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *now = NULL;
  guint old_heads, new_heads;
  guint n_accepted = 0, n_rejected = 0;

  if (!cps_storage_begin (ctx->storage, error))
    return FALSE;

  /* Fresh state: the project and devices as they are now that the lock is held. */
  g_hash_table_remove_all (ctx->devices);
  project = cps_storage_project_get (ctx->storage, ctx->project_id, error);
  if (project == NULL)
    goto failed;
  old_heads = project->heads != NULL ? g_strv_length (project->heads) : 0;

  for (guint i = 0; i < n_items; i++)
    {
      if (items[i].status == PUSH_PENDING && !commit_item (ctx, &items[i], accepted, error))
        goto failed;
      if (items[i].status == PUSH_ACCEPTED)
        n_accepted++;
      else if (items[i].status == PUSH_REJECTED)
        n_rejected++;
    }

  if (n_accepted > 0)
    {
      g_autofree char *details = details_accepted (items, n_items, n_accepted);

      if (!update_project (ctx, project, items, n_items, accepted, n_accepted, error)
          || !cps_request_audit (ctx->request, "push.accepted", "project", ctx->project_id, details,
                                 error))
        goto failed;
    }
  if (n_rejected > 0)
    {
      g_autofree char *details = details_rejected (items, n_items, n_rejected);

      if (!cps_request_audit (ctx->request, "push.rejected", "project", ctx->project_id, details,
                              error))
        goto failed;
    }

  new_heads = project->heads != NULL ? g_strv_length (project->heads) : 0;
  if (old_heads <= 1 && new_heads > 1)
    {
      g_autofree char *details = details_heads ((const char *const *) project->heads);

      if (!cps_request_audit (ctx->request, "conflict.opened", "project", ctx->project_id, details,
                              error))
        goto failed;
    }
  else if (old_heads > 1 && new_heads == 1)
    {
      g_autofree char *details = details_heads ((const char *const *) project->heads);

      if (!cps_request_audit (ctx->request, "conflict.resolved", "project", ctx->project_id,
                              details, error))
        goto failed;
    }

  /* last_sync_at at the same once-a-minute resolution as for reads: a single push then
   * writes one row less */
  if (!cps_request_sync_is_noted (ctx->request))
    {
      now = cps_now_rfc3339 ();
      if (!cps_storage_device_touch (ctx->storage, ctx->caller_device_id, now, TRUE, error))
        goto failed;
    }
  if (!cps_storage_commit (ctx->storage, error))
    goto failed;

  *project_out = g_steal_pointer (&project);
  *n_accepted_out = n_accepted;
  return TRUE;

failed:
  cps_storage_rollback (ctx->storage);
  return FALSE;
}

/* ----- POST /v1/projects/{id}/revisions ---------------------------------------------------- */

void
cps_handle_push (CpsRequest *request)
{
  g_autoptr (CpsProjectRecord) project = NULL;
  g_autoptr (CpsProjectRecord) final_project = NULL;
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (GHashTable) devices = NULL;
  g_autoptr (GHashTable) parents = NULL;
  g_autoptr (GHashTable) batch_ids = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *role = NULL;
  g_autoptr (GArray) item_array = NULL;
  PushItem *items;
  const CpsProjectRecord *shown;
  PushContext ctx = { 0 };
  CpsJsonWriter *writer;
  guint n_items;
  guint n_accepted = 0, n_rejected = 0, n_duplicate = 0, n_pending = 0;

  if (!cps_request_authenticate (request, CPS_SCOPE_PUSH))
    return;
  if (!_cps_project_open_for_caller (request, request->params[0], &project, &role))
    return;
  if (!_cps_project_role_can_write (role))
    {
      cps_request_error (request, 403, "forbidden", NULL,
                         "You may read this project but not write to it; an owner can make "
                         "you an editor.");
      return;
    }

  /* Phase one, outside the transaction: reading and the signature checks run on every
   * core; the lookups run here, on this thread's storage connection. */
  if (!load_items (request, &item_array, &doc))
    goto cleanup;
  items = (PushItem *) item_array->data;
  n_items = item_array->len;

  devices
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) device_info_free);
  parents = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  batch_ids = g_hash_table_new (g_str_hash, g_str_equal);

  ctx.request = request;
  ctx.storage = request->storage;
  ctx.project_id = project->id;
  ctx.encrypted = project->encrypted;
  ctx.caller_device_id = request->caller->device != NULL ? request->caller->device->id : "";
  ctx.devices = devices;
  ctx.parents = parents;
  ctx.batch_ids = batch_ids;

  for (guint i = 0; i < n_items; i++)
    if (items[i].revision != NULL)
      g_hash_table_add (batch_ids, (gpointer) cps_revision_get_id (items[i].revision));

  for (guint i = 0; i < n_items; i++)
    if (!look_up_item (&ctx, &items[i], &error))
      goto storage_failed;
  run_parallel (items, n_items, verify_item);
  for (guint i = 0; i < n_items; i++)
    if (!decide_item (&ctx, &items[i], &error))
      goto storage_failed;

  for (guint i = 0; i < n_items; i++)
    {
      if (items[i].status == PUSH_PENDING)
        n_pending++;
      else if (items[i].status == PUSH_REJECTED)
        n_rejected++;
    }

  /* Phase two: one write transaction for the whole batch. Rejections are audited, so a
   * batch of nothing but duplicates is the only one that needs no transaction. */
  if (n_pending > 0 || n_rejected > 0)
    {
      if (!run_push_transaction (&ctx, items, n_items, &final_project, &n_accepted, &error))
        goto storage_failed;
      shown = final_project;
    }
  else
    {
      cps_request_note_sync (request);
      shown = project;
    }

  n_rejected = 0;
  for (guint i = 0; i < n_items; i++)
    {
      if (items[i].status == PUSH_REJECTED)
        n_rejected++;
      else if (items[i].status == PUSH_DUPLICATE)
        n_duplicate++;
    }
  cps_metrics_add_push (cps_server_get_metrics (request->server), n_accepted, n_rejected,
                        n_duplicate);
  if (n_rejected > 0)
    g_message ("Push to project %s by device %s: %u accepted, %u rejected, %u duplicate",
               project->id, ctx.caller_device_id, n_accepted, n_rejected, n_duplicate);
  else
    g_debug ("Push to project %s by device %s: %u accepted, %u duplicate", project->id,
             ctx.caller_device_id, n_accepted, n_duplicate);

  writer = cps_json_writer_new ();
  cps_json_writer_begin_object (writer);
  cps_json_writer_key (writer, "results");
  cps_json_writer_begin_array (writer);
  for (guint i = 0; i < n_items; i++)
    {
      static const char *const statuses[] = { "rejected", "accepted", "duplicate", "rejected" };

      cps_json_writer_begin_object (writer);
      cps_json_writer_member_string (writer, "id", items[i].id);
      cps_json_writer_member_string (writer, "status", statuses[items[i].status]);
      if (items[i].status == PUSH_REJECTED)
        {
          cps_json_writer_key (writer, "error");
          cps_json_writer_begin_object (writer);
          cps_json_writer_member_string (writer, "code", items[i].code);
          cps_json_writer_member_string (writer, "message", items[i].message);
          cps_json_writer_end_object (writer);
        }
      cps_json_writer_end_object (writer);
    }
  cps_json_writer_end_array (writer);
  cps_json_writer_key (writer, "heads");
  cps_json_writer_strv (writer, (const char *const *) shown->heads);
  cps_json_writer_member_bool (writer, "conflicted", shown->conflicted);
  cps_json_writer_end_object (writer);
  cps_request_reply (request, 200, writer);
  goto cleanup;

storage_failed:
  cps_request_storage_error (request, error);

cleanup:
  for (guint i = 0; item_array != NULL && i < item_array->len; i++)
    push_item_clear (&g_array_index (item_array, PushItem, i));
}

/* ----- GET /v1/projects/{id}/revisions ----------------------------------------------------- */

void
cps_handle_revisions_list (CpsRequest *request)
{
  g_autoptr (CpsProjectRecord) project = NULL;
  g_autoptr (GPtrArray) revisions = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *next_cursor = NULL;
  CpsJsonWriter *writer;
  gint64 after_seq = 0;
  guint limit = 0;
  guint n;

  if (!cps_request_authenticate (request, CPS_SCOPE_READ))
    return;
  if (!_cps_project_open_for_caller (request, request->params[0], &project, NULL))
    return;
  if (!cps_request_get_limit (request, 100, &limit)
      || !cps_request_get_seq_cursor (request, "cursor", "revision", &after_seq))
    return;

  /* one more than asked tells whether there is a next page */
  revisions
      = cps_storage_revision_list (request->storage, project->id, after_seq, limit + 1, &error);
  if (revisions == NULL)
    {
      cps_request_storage_error (request, error);
      return;
    }

  n = MIN (revisions->len, limit);
  writer = cps_json_writer_new ();
  cps_json_writer_begin_object (writer);
  cps_json_writer_key (writer, "revisions");
  cps_json_writer_begin_array (writer);
  for (guint i = 0; i < n; i++)
    cps_json_writer_raw (writer,
                         ((CpsRevisionRecord *) g_ptr_array_index (revisions, i))->header_json);
  cps_json_writer_end_array (writer);
  if (revisions->len > limit && n > 0)
    {
      next_cursor = cps_cursor_encode_seq (
          "revision", ((CpsRevisionRecord *) g_ptr_array_index (revisions, n - 1))->seq);
    }
  cps_json_writer_member_string (writer, "next_cursor", next_cursor);
  cps_json_writer_end_object (writer);
  cps_request_reply (request, 200, writer);
}

/* ----- GET /v1/projects/{id}/revisions/{rev} ----------------------------------------------- */

void
cps_handle_revision_get (CpsRequest *request)
{
  g_autoptr (CpsProjectRecord) project = NULL;
  g_autoptr (CpsRevisionRecord) revision = NULL;
  g_autoptr (GError) error = NULL;
  const char *id = request->params[1];
  CpsJsonWriter *writer;

  if (!cps_request_authenticate (request, CPS_SCOPE_READ))
    return;
  if (!_cps_project_open_for_caller (request, request->params[0], &project, NULL))
    return;

  if (cps_checksum_is_valid (id))
    revision = cps_storage_revision_get (request->storage, project->id, id, &error);
  if (revision == NULL)
    {
      if (error != NULL && !is_not_found (error))
        cps_request_storage_error (request, error);
      else
        cps_request_error (request, 404, "not_found", NULL,
                           "This project has no revision with that id.");
      return;
    }

  writer = cps_json_writer_new ();
  cps_json_writer_raw (writer, revision->json);
  cps_request_reply (request, 200, writer);
}
