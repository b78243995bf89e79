/* cps-audit.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The audit chain on top of storage. The hash itself is libcps's
 * cps_audit_chain_hash(), the one clients use to verify an export.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "cps-audit-chain.h"
#include "cps-audit.h"
#include "cps-json-writer.h"
#include "cps-revision.h"

#define VERIFY_PAGE 500

G_STATIC_ASSERT (sizeof CPS_AUDIT_GENESIS_HASH == sizeof CPS_AUDIT_CHAIN_GENESIS);

/* The entry's members that the hash covers, in the writer's order. */
static void
write_hashed_members (CpsJsonWriter *writer, const CpsAuditRecord *entry)
{
  cps_json_writer_member_int (writer, "seq", entry->seq);
  cps_json_writer_member_string (writer, "at", entry->at);
  cps_json_writer_member_string (writer, "action", entry->action);
  cps_json_writer_member_string (writer, "actor_account", entry->actor_account);
  cps_json_writer_member_string (writer, "actor_device", entry->actor_device);
  cps_json_writer_member_string (writer, "target_type", entry->target_type);
  cps_json_writer_member_string (writer, "target_id", entry->target_id);
  cps_json_writer_member_raw (writer, "details",
                              entry->details_json != NULL ? entry->details_json : "{}");
}

static CpsAuditRecord *
audit_record_copy (const CpsAuditRecord *entry)
{
  CpsAuditRecord *copy = g_new0 (CpsAuditRecord, 1);

  copy->seq = entry->seq;
  copy->at = g_strdup (entry->at);
  copy->action = g_strdup (entry->action);
  copy->actor_account = g_strdup (entry->actor_account);
  copy->actor_device = g_strdup (entry->actor_device);
  copy->target_type = g_strdup (entry->target_type);
  copy->target_id = g_strdup (entry->target_id);
  copy->details_json = g_strdup (entry->details_json);
  copy->prev_hash = g_strdup (entry->prev_hash);
  copy->hash = g_strdup (entry->hash);
  return copy;
}

static CpsCheckpointRecord *
checkpoint_copy (const CpsCheckpointRecord *checkpoint)
{
  CpsCheckpointRecord *copy = g_new0 (CpsCheckpointRecord, 1);

  copy->seq = checkpoint->seq;
  copy->hash = g_strdup (checkpoint->hash);
  copy->at = g_strdup (checkpoint->at);
  copy->signature = g_strdup (checkpoint->signature);
  return copy;
}

static CpsCheckpointRecord *
sign_checkpoint (CpsServerKey *key, gint64 seq, const char *hash)
{
  CpsCheckpointRecord *checkpoint = g_new0 (CpsCheckpointRecord, 1);

  checkpoint->seq = seq;
  checkpoint->hash = g_strdup (hash);
  checkpoint->at = cps_now_rfc3339 ();
  checkpoint->signature = cps_server_key_sign_base64 (key, hash, strlen (hash));
  return checkpoint;
}

/**
 * cps_audit_compute_hash:
 *
 * Returns: (transfer full) (nullable): the chain hash of @entry from its
 *   prev_hash and contents
 */
char *
cps_audit_compute_hash (const CpsAuditRecord *entry, GError **error)
{
  g_autoptr (CpsJsonWriter) writer = cps_json_writer_new ();
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (GError) local_error = NULL;
  const CpsJsonNode *root;
  const char *text;

  g_return_val_if_fail (entry != NULL, NULL);
  g_return_val_if_fail (entry->prev_hash != NULL, NULL);

  cps_json_writer_begin_object (writer);
  write_hashed_members (writer, entry);
  cps_json_writer_end_object (writer);
  text = cps_json_writer_peek (writer);

  doc = cps_json_document_parse_copy (text, -1, NULL, &local_error);
  if (doc == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The details of audit entry %lld are not valid JSON: %s"),
                   (long long) entry->seq, local_error->message);
      return NULL;
    }
  root = cps_json_document_get_root (doc);
  if (cps_json_node_get_type (cps_json_object_get (root, "details")) != CPS_JSON_OBJECT)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The details of audit entry %lld are not a JSON object"),
                   (long long) entry->seq);
      return NULL;
    }
  return cps_audit_chain_hash (entry->prev_hash, root, error);
}

/**
 * cps_audit_append:
 * @key: (nullable): signs a checkpoint when the new seq is a multiple of
 *   %CPS_AUDIT_CHECKPOINT_EVERY
 * @details_json: (nullable): a JSON object text; %NULL for `{}`
 * @out: (out) (optional) (transfer full): the new entry
 *
 * Appends an entry inside the caller's write transaction.
 */
gboolean
cps_audit_append (CpsStorage *storage, CpsServerKey *key, const char *action,
                  const char *actor_account, const char *actor_device, const char *target_type,
                  const char *target_id, const char *details_json, CpsAuditRecord **out,
                  GError **error)
{
  g_autofree char *last_hash = NULL;
  g_autofree char *at = NULL;
  g_autofree char *hash = NULL;
  CpsAuditRecord entry = { 0 };
  gint64 last_seq = 0;

  g_return_val_if_fail (storage != NULL, FALSE);
  g_return_val_if_fail (action != NULL, FALSE);

  if (!cps_storage_audit_last (storage, &last_seq, &last_hash, error))
    return FALSE;

  at = cps_now_rfc3339 ();
  entry.seq = last_seq + 1;
  entry.at = at;
  entry.action = (char *) action;
  entry.actor_account = (char *) actor_account;
  entry.actor_device = (char *) actor_device;
  entry.target_type = (char *) target_type;
  entry.target_id = (char *) target_id;
  entry.details_json = (char *) (details_json != NULL ? details_json : "{}");
  entry.prev_hash = last_hash != NULL ? last_hash : (char *) CPS_AUDIT_GENESIS_HASH;

  hash = cps_audit_compute_hash (&entry, error);
  if (hash == NULL)
    return FALSE;
  entry.hash = hash;

  if (!cps_storage_audit_insert (storage, &entry, error))
    return FALSE;

  if (key != NULL && entry.seq % CPS_AUDIT_CHECKPOINT_EVERY == 0)
    {
      g_autoptr (CpsCheckpointRecord) checkpoint = sign_checkpoint (key, entry.seq, hash);

      if (!cps_storage_checkpoint_insert (storage, checkpoint, error))
        return FALSE;
    }

  if (out != NULL)
    *out = audit_record_copy (&entry);
  return TRUE;
}

/**
 * cps_audit_checkpoint:
 * @in_transaction: whether the caller holds a write transaction already
 *
 * Signs the chain head. When the newest checkpoint already attests the head,
 * that checkpoint is returned instead of signing the same hash again.
 *
 * Returns: (transfer full) (nullable): the checkpoint; %NULL without error
 *   when the chain is empty
 */
CpsCheckpointRecord *
cps_audit_checkpoint (CpsStorage *storage, CpsServerKey *key, gboolean in_transaction,
                      GError **error)
{
  g_autoptr (CpsCheckpointRecord) last = NULL;
  g_autoptr (CpsCheckpointRecord) checkpoint = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *head = NULL;
  gint64 seq = 0;

  g_return_val_if_fail (storage != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  if (!in_transaction && !cps_storage_begin (storage, error))
    return NULL;

  if (!cps_storage_audit_last (storage, &seq, &head, &local_error))
    goto fail;
  if (seq == 0 || head == NULL)
    {
      if (!in_transaction)
        cps_storage_rollback (storage);
      return NULL;
    }

  last = cps_storage_checkpoint_last (storage, &local_error);
  if (local_error != NULL)
    goto fail;
  if (last != NULL && last->seq == seq)
    checkpoint = checkpoint_copy (last);
  else
    {
      checkpoint = sign_checkpoint (key, seq, head);
      if (!cps_storage_checkpoint_insert (storage, checkpoint, &local_error))
        goto fail;
    }

  if (!in_transaction && !cps_storage_commit (storage, &local_error))
    goto fail;
  return g_steal_pointer (&checkpoint);

fail:
  if (!in_transaction)
    cps_storage_rollback (storage);
  g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

static void
add_problem (GPtrArray *problems, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
add_problem (GPtrArray *problems, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (problems, g_strdup_vprintf (format, args));
  va_end (args);
}

static void
check_checkpoint (const CpsCheckpointRecord *checkpoint, const CpsAuditRecord *entry,
                  const char *public_key_base64, GPtrArray *problems)
{
  if (g_strcmp0 (checkpoint->hash, entry->hash) != 0)
    add_problem (problems,
                 _("Checkpoint %lld: the hash it signed is not the hash of "
                   "entry %lld."),
                 (long long) checkpoint->seq, (long long) entry->seq);
  if (public_key_base64 != NULL &&
      !cps_audit_chain_verify_checkpoint (public_key_base64, checkpoint->hash,
                                          checkpoint->signature))
    add_problem (problems,
                 _("Checkpoint %lld: its signature does not verify with the "
                   "server key."),
                 (long long) checkpoint->seq);
}

static int
compare_checkpoints (gconstpointer a, gconstpointer b)
{
  const CpsCheckpointRecord *ca = a;
  const CpsCheckpointRecord *cb = b;

  return ca->seq < cb->seq ? -1 : ca->seq > cb->seq;
}

/**
 * cps_audit_verify_chain:
 * @public_key_base64: (nullable): the server key that signed the
 *   checkpoints; %NULL checks checkpoint hashes but not their signatures
 * @problems: (element-type utf8): where each problem is appended as a sentence
 * @n_entries: (out) (optional): how many entries were checked
 *
 * Re-verifies every entry's hash, the links between entries, that sequence
 * numbers follow one another from 1, and every checkpoint.
 *
 * Returns: %FALSE only when storage failed
 */
gboolean
cps_audit_verify_chain (CpsStorage *storage, const char *public_key_base64, GPtrArray *problems,
                        gint64 *n_entries, GError **error)
{
  g_autoptr (GPtrArray) checkpoints = NULL;
  g_autoptr (GHashTable) by_seq = NULL;
  g_autofree char *prev_hash = g_strdup (CPS_AUDIT_GENESIS_HASH);
  CpsAuditFilter filter = { 0 };
  gint64 expected = 1;
  gint64 count = 0;

  g_return_val_if_fail (storage != NULL, FALSE);
  g_return_val_if_fail (problems != NULL, FALSE);

  checkpoints = cps_storage_checkpoint_list (storage, error);
  if (checkpoints == NULL)
    return FALSE;
  by_seq = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (guint i = 0; i < checkpoints->len; i++)
    {
      CpsCheckpointRecord *checkpoint = g_ptr_array_index (checkpoints, i);

      if (g_hash_table_contains (by_seq, &checkpoint->seq))
        add_problem (problems,
                     _("Checkpoint %lld is recorded more than once."),
                     (long long) checkpoint->seq);
      g_hash_table_insert (by_seq, &checkpoint->seq, checkpoint);
    }

  for (;;)
    {
      g_autoptr (GPtrArray) page = NULL;

      page = cps_storage_audit_list (storage, &filter, expected - 1, VERIFY_PAGE, error);
      if (page == NULL)
        return FALSE;

      for (guint i = 0; i < page->len; i++)
        {
          CpsAuditRecord *entry = g_ptr_array_index (page, i);
          g_autoptr (GError) local_error = NULL;
          g_autofree char *computed = NULL;
          CpsCheckpointRecord *checkpoint;

          count++;
          if (entry->seq != expected)
            add_problem (problems,
                         _("Entry %lld follows entry %lld"
                           "; entries are missing or out of order."),
                         (long long) entry->seq, (long long) (expected - 1));
          else if (g_strcmp0 (entry->prev_hash, prev_hash) != 0)
            {
              if (entry->seq == 1)
                add_problem (problems, _("Entry 1 does not start from the genesis hash."));
              else
                add_problem (problems,
                             _("Entry %lld does not link to the hash of "
                               "entry %lld."),
                             (long long) entry->seq, (long long) (entry->seq - 1));
            }

          if (entry->prev_hash == NULL || entry->hash == NULL)
            add_problem (problems,
                         _("Entry %lld lacks its chain hashes."), (long long) entry->seq);
          else if ((computed = cps_audit_compute_hash (entry, &local_error)) == NULL)
            add_problem (problems, _("Entry %lld cannot be hashed: %s"),
                         (long long) entry->seq, local_error->message);
          else if (strcmp (computed, entry->hash) != 0)
            add_problem (problems,
                         _("Entry %lld: its hash does not match its "
                           "contents."),
                         (long long) entry->seq);

          checkpoint = g_hash_table_lookup (by_seq, &entry->seq);
          if (checkpoint != NULL)
            {
              check_checkpoint (checkpoint, entry, public_key_base64, problems);
              g_hash_table_remove (by_seq, &entry->seq);
            }

          g_free (prev_hash);
          prev_hash = g_strdup (entry->hash);
          /* Carry on from where the chain really is, so one gap is one problem. */
          expected = MAX (expected, entry->seq) + 1;
        }

      if (page->len < VERIFY_PAGE)
        break;
    }

  /* What is left points past the chain or into a gap. */
  {
    g_autoptr (GList) orphans = g_list_sort (g_hash_table_get_values (by_seq),
                                             compare_checkpoints);

    for (GList *l = orphans; l != NULL; l = l->next)
      {
        CpsCheckpointRecord *checkpoint = l->data;

        add_problem (problems,
                     _("Checkpoint %lld signs an entry that is not in the "
                       "chain."),
                     (long long) checkpoint->seq);
      }
  }

  if (n_entries != NULL)
    *n_entries = count;
  return TRUE;
}

/**
 * cps_audit_write_entry_json:
 *
 * Appends @entry as one JSON object with its chain fields, as the API and
 * the JSON Lines export show it.
 */
void
cps_audit_write_entry_json (const CpsAuditRecord *entry, GString *out)
{
  g_autoptr (CpsJsonWriter) writer = cps_json_writer_new ();

  cps_json_writer_begin_object (writer);
  write_hashed_members (writer, entry);
  cps_json_writer_member_string (writer, "prev_hash", entry->prev_hash);
  cps_json_writer_member_string (writer, "hash", entry->hash);
  cps_json_writer_end_object (writer);
  g_string_append (out, cps_json_writer_peek (writer));
}
