/* cps-audit-chain.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One implementation of the audit chain hash for the server and its
 * clients, so an export verifies offline with the very code that made it.
 */

#define G_LOG_DOMAIN "cps"

#include "config.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <sodium.h>

#include "cps-audit-chain.h"
#include "cps-jcs.h"

/* Members of an entry that may be null (absent actor or target). */
static const char *const nullable_members[] = {
  "actor_account", "actor_device", "target_type", "target_id",
};

static gboolean
is_chain_field (const CpsJsonMember *member)
{
  return (member->key_len == 9 && memcmp (member->key, "prev_hash", 9) == 0) ||
         (member->key_len == 4 && memcmp (member->key, "hash", 4) == 0);
}

/**
 * cps_audit_chain_hash:
 * @prev_hash: the previous entry's hash, or %CPS_AUDIT_CHAIN_GENESIS
 * @entry: the entry as a JSON object; its `prev_hash` and `hash` members, when
 *   present, are left out
 *
 * Returns: (transfer full) (nullable): `H(prev_hash + JCS(entry))`
 */
char *
cps_audit_chain_hash (const char *prev_hash, const CpsJsonNode *entry, GError **error)
{
  g_autoptr (GString) out = NULL;
  g_autofree CpsJsonMember *members = NULL;
  CpsJsonNode stripped = { 0 };

  g_return_val_if_fail (prev_hash != NULL, NULL);
  g_return_val_if_fail (entry != NULL, NULL);

  if (cps_json_node_get_type (entry) != CPS_JSON_OBJECT)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("An audit entry must be a JSON object, not %s"),
                   cps_json_type_to_string (cps_json_node_get_type (entry)));
      return NULL;
    }

  /* A shallow copy without the chain fields: member values stay in the
   * entry's document. */
  members = g_new (CpsJsonMember, MAX (entry->n, 1));
  stripped.type = CPS_JSON_OBJECT;
  stripped.v.members = members;
  for (guint i = 0; i < entry->n; i++)
    if (!is_chain_field (&entry->v.members[i]))
      members[stripped.n++] = entry->v.members[i];

  out = g_string_sized_new (512);
  g_string_append (out, prev_hash);
  if (!cps_jcs_write (out, &stripped, error))
    return NULL;
  return cps_checksum_bytes (out->str, out->len);
}

/**
 * cps_audit_chain_verify_checkpoint:
 * @public_key_base64: the server's Ed25519 public key
 *
 * Returns: whether @signature_base64 is the server's signature of @hash
 */
gboolean
cps_audit_chain_verify_checkpoint (const char *public_key_base64, const char *hash,
                                   const char *signature_base64)
{
  g_autofree guchar *key = NULL;
  g_autofree guchar *signature = NULL;
  gsize key_len = 0;
  gsize signature_len = 0;

  if (public_key_base64 == NULL || hash == NULL || signature_base64 == NULL ||
      sodium_init () < 0)
    return FALSE;
  key = g_base64_decode (public_key_base64, &key_len);
  signature = g_base64_decode (signature_base64, &signature_len);
  if (key_len != crypto_sign_PUBLICKEYBYTES || signature_len != crypto_sign_BYTES)
    return FALSE;
  return crypto_sign_verify_detached (signature, (const guchar *) hash, strlen (hash), key) == 0;
}

static gboolean
get_seq (const CpsJsonNode *entry, gint64 *seq)
{
  const CpsJsonNode *node = cps_json_object_get (entry, "seq");
  double value;

  if (cps_json_node_get_type (node) != CPS_JSON_NUMBER)
    return FALSE;
  value = node->v.number;
  if (value < 1 || value > 9007199254740991.0 || value != (double) (gint64) value)
    return FALSE;
  *seq = (gint64) value;
  return TRUE;
}

/* Checks the members an entry must have; returns the first missing or
 * mistyped one, or NULL when the shape is right. */
static const char *
find_bad_member (const CpsJsonNode *entry)
{
  static const char *const strings[] = { "at", "action", "prev_hash", "hash" };

  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    if (cps_json_object_get_string (entry, strings[i]) == NULL)
      return strings[i];
  for (guint i = 0; i < G_N_ELEMENTS (nullable_members); i++)
    {
      CpsJsonType type = cps_json_node_get_type (cps_json_object_get (entry,
                                                                      nullable_members[i]));
      if (cps_json_object_get (entry, nullable_members[i]) == NULL ||
          (type != CPS_JSON_STRING && type != CPS_JSON_NULL))
        return nullable_members[i];
    }
  if (cps_json_node_get_type (cps_json_object_get (entry, "details")) != CPS_JSON_OBJECT)
    return "details";
  return NULL;
}

/**
 * cps_audit_chain_verify_jsonl:
 * @data: an export in JSON Lines (`GET /v1/audit/export?format=jsonl`)
 * @problems: (element-type utf8): where each problem found is appended as a
 *   sentence
 * @n_entries: (out) (optional): how many entries were read
 * @head_hash: (out) (optional) (transfer full) (nullable): the stated hash of
 *   the last entry, to compare with a signed checkpoint; %NULL when empty
 *
 * Recomputes every entry's hash and checks that each entry links to the one
 * before it and that sequence numbers follow one another. An export of the
 * whole chain starts at entry 1 with the genesis hash; an export that starts
 * later is reported as incomplete and checked from its first entry on.
 *
 * Returns: %FALSE only when @data is not text at all; what is wrong with the
 *   chain goes to @problems
 */
gboolean
cps_audit_chain_verify_jsonl (const char *data, gsize length, GPtrArray *problems,
                              gint64 *n_entries, char **head_hash, GError **error)
{
  g_autofree char *last_hash = NULL;
  gint64 last_seq = 0;
  gint64 count = 0;
  guint line_number = 0;
  const char *p = data;
  const char *end = data + length;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (problems != NULL, FALSE);

  if (length > 0 && (memchr (data, '\0', length) != NULL || !g_utf8_validate (data, length, NULL)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The audit export is not UTF-8 text; export it again as JSON Lines"));
      return FALSE;
    }

  while (p < end)
    {
      const char *eol = memchr (p, '\n', end - p);
      const char *line = p;
      gsize line_len = (eol != NULL ? eol : end) - line;
      g_autoptr (CpsJsonDocument) doc = NULL;
      g_autoptr (GError) local_error = NULL;
      g_autofree char *computed = NULL;
      const CpsJsonNode *entry;
      const char *bad;
      const char *prev_hash;
      const char *hash;
      gint64 seq;

      line_number++;
      p = eol != NULL ? eol + 1 : end;
      if (line_len > 0 && line[line_len - 1] == '\r')
        line_len--;
      if (line_len == 0)
        {
          /* Only the newline that ends the last entry may leave an empty line. */
          if (p < end)
            g_ptr_array_add (problems,
                             g_strdup_printf (_("Line %u is empty; an export has one entry on "
                                                "every line."),
                                              line_number));
          continue;
        }

      doc = cps_json_document_parse_copy (line, line_len, NULL, &local_error);
      entry = doc != NULL ? cps_json_document_get_root (doc) : NULL;
      if (entry == NULL || cps_json_node_get_type (entry) != CPS_JSON_OBJECT)
        {
          if (entry == NULL)
            g_ptr_array_add (problems, g_strdup_printf (_("Line %u is not valid JSON: %s"),
                                                        line_number, local_error->message));
          else
            g_ptr_array_add (problems,
                             g_strdup_printf (_("Line %u holds %s, not an audit entry."),
                                              line_number,
                                              cps_json_type_to_string (
                                                cps_json_node_get_type (entry))));
          g_clear_pointer (&last_hash, g_free);
          continue;
        }
      if (!get_seq (entry, &seq))
        {
          g_ptr_array_add (problems,
                           g_strdup_printf (_("Line %u has no valid “seq” number."),
                                            line_number));
          g_clear_pointer (&last_hash, g_free);
          continue;
        }
      count++;
      if ((bad = find_bad_member (entry)) != NULL)
        {
          g_ptr_array_add (problems,
                           g_strdup_printf (_("Entry %lld lacks a valid “%s” "
                                              "member."),
                                            (long long) seq, bad));
          last_seq = seq;
          g_clear_pointer (&last_hash, g_free);
          continue;
        }
      prev_hash = cps_json_object_get_string (entry, "prev_hash");
      hash = cps_json_object_get_string (entry, "hash");

      if (count == 1)
        {
          if (seq != 1)
            g_ptr_array_add (problems,
                             g_strdup_printf (_("The export starts at entry %lld"
                                                ", not 1, so the chain before it cannot be "
                                                "checked."),
                                              (long long) seq));
          else if (strcmp (prev_hash, CPS_AUDIT_CHAIN_GENESIS) != 0)
            g_ptr_array_add (problems,
                             g_strdup (_("Entry 1 does not start from the genesis hash.")));
        }
      else
        {
          if (seq != last_seq + 1)
            g_ptr_array_add (problems,
                             g_strdup_printf (_("Entry %lld follows entry %lld"
                                                "; entries are missing or out "
                                                "of order."),
                                              (long long) seq, (long long) last_seq));
          else if (last_hash != NULL && strcmp (prev_hash, last_hash) != 0)
            g_ptr_array_add (problems,
                             g_strdup_printf (_("Entry %lld does not link to "
                                                "the hash of entry %lld."),
                                              (long long) seq, (long long) last_seq));
        }

      computed = cps_audit_chain_hash (prev_hash, entry, &local_error);
      if (computed == NULL)
        g_ptr_array_add (problems,
                         g_strdup_printf (_("Entry %lld cannot be hashed: %s"),
                                          (long long) seq, local_error->message));
      else if (strcmp (computed, hash) != 0)
        g_ptr_array_add (problems,
                         g_strdup_printf (_("Entry %lld: its hash does not "
                                            "match its contents."),
                                          (long long) seq));

      last_seq = seq;
      g_free (last_hash);
      last_hash = g_strdup (hash);
    }

  if (n_entries != NULL)
    *n_entries = count;
  if (head_hash != NULL)
    *head_hash = g_steal_pointer (&last_hash);
  return TRUE;
}
