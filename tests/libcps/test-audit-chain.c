/* test-audit-chain.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The audit chain hash and the offline verifier of JSON Lines exports, against
 * a two-entry chain whose hashes are computed here from literal JCS text.
 */

#define G_LOG_DOMAIN "test-audit-chain"

#include "config.h"

#include <string.h>
#include <gio/gio.h>
#include <sodium.h>

#include "cps-audit-chain.h"

/* Entry 1 in JCS: members sorted, no whitespace, without prev_hash and hash. */
#define JCS_1                                                                                  \
  "{\"action\":\"account.created\",\"actor_account\":null,\"actor_device\":null,"              \
  "\"at\":\"2026-03-01T13:05:09.123Z\",\"details\":{\"role\":\"admin\",\"username\":\"ann\"}," \
  "\"seq\":1,\"target_id\":\"38c2fdbb-1562-41a1-a52c-bc956d2e8a56\","                         \
  "\"target_type\":\"account\"}"
typedef struct
{
  char *hash1;
  char *hash2;
  GString *jsonl;
} Chain;

static char *
hash_of (const char *prev_hash, const char *jcs)
{
  g_autofree char *joined = g_strconcat (prev_hash, jcs, NULL);
  g_autofree char *hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, joined, -1);

  return g_strconcat ("sha256:", hex, NULL);
}

/* The export as the server writes it: the entry's members in the server's order (not JCS
 * order, and details as stored), then prev_hash and hash. */
static void
chain_init (Chain *chain)
{
  chain->hash1 = hash_of (CPS_AUDIT_CHAIN_GENESIS, JCS_1);
  /* JCS writes é as UTF-8, not as an escape. */
  chain->hash2 = hash_of (chain->hash1,
                          "{\"action\":\"login.failed\",\"actor_account\":null,"
                          "\"actor_device\":null,\"at\":\"2026-03-01T13:06:00.000Z\","
                          "\"details\":{\"reason\":\"caf\xc3\xa9 \\\"x\\\"\"},\"seq\":2,"
                          "\"target_id\":null,\"target_type\":null}");
  chain->jsonl = g_string_new (NULL);
  g_string_append_printf (chain->jsonl,
                          "{\"seq\":1,\"at\":\"2026-03-01T13:05:09.123Z\","
                          "\"action\":\"account.created\",\"actor_account\":null,"
                          "\"actor_device\":null,\"target_type\":\"account\","
                          "\"target_id\":\"38c2fdbb-1562-41a1-a52c-bc956d2e8a56\","
                          "\"details\":{\"username\": \"ann\", \"role\": \"admin\"},"
                          "\"prev_hash\":\"%s\",\"hash\":\"%s\"}\n",
                          CPS_AUDIT_CHAIN_GENESIS, chain->hash1);
  g_string_append_printf (chain->jsonl,
                          "{\"seq\":2,\"at\":\"2026-03-01T13:06:00.000Z\","
                          "\"action\":\"login.failed\",\"actor_account\":null,"
                          "\"actor_device\":null,\"target_type\":null,\"target_id\":null,"
                          "\"details\":{\"reason\":\"caf\\u00e9 \\\"x\\\"\"},"
                          "\"prev_hash\":\"%s\",\"hash\":\"%s\"}\n",
                          chain->hash1, chain->hash2);
}

static void
chain_clear (Chain *chain)
{
  g_free (chain->hash1);
  g_free (chain->hash2);
  g_string_free (chain->jsonl, TRUE);
}

static GPtrArray *
verify (const char *data, gsize length, gint64 *n, char **head)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *problems = g_ptr_array_new_with_free_func (g_free);

  g_assert_true (cps_audit_chain_verify_jsonl (data, length, problems, n, head, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < problems->len; i++)
    g_test_message ("problem: %s", (const char *) g_ptr_array_index (problems, i));
  return problems;
}

static gboolean
has_problem (GPtrArray *problems, const char *text)
{
  for (guint i = 0; i < problems->len; i++)
    if (strstr (g_ptr_array_index (problems, i), text) != NULL)
      return TRUE;
  return FALSE;
}

static void
test_hash (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) plain = NULL;
  g_autoptr (CpsJsonDocument) decorated = NULL;
  g_autofree char *expected = hash_of (CPS_AUDIT_CHAIN_GENESIS, JCS_1);
  g_autofree char *from_plain = NULL;
  g_autofree char *from_decorated = NULL;
  g_autofree char *other_prev = NULL;
  const char *with_chain_fields =
    "{ \"hash\": \"sha256:ff\", \"target_type\": \"account\", \"seq\": 1.0,"
    "  \"details\": {\"username\": \"ann\", \"role\": \"admin\"},"
    "  \"at\": \"2026-03-01T13:05:09.123Z\", \"actor_device\": null,"
    "  \"prev_hash\": \"anything\", \"action\": \"account.created\","
    "  \"target_id\": \"38c2fdbb-1562-41a1-a52c-bc956d2e8a56\", \"actor_account\": null }";

  plain = cps_json_document_parse_copy (JCS_1, -1, NULL, &error);
  g_assert_no_error (error);
  from_plain = cps_audit_chain_hash (CPS_AUDIT_CHAIN_GENESIS,
                                     cps_json_document_get_root (plain), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (from_plain, ==, expected);

  /* Member order, whitespace, number spelling and the chain fields do not matter. */
  decorated = cps_json_document_parse_copy (with_chain_fields, -1, NULL, &error);
  g_assert_no_error (error);
  from_decorated = cps_audit_chain_hash (CPS_AUDIT_CHAIN_GENESIS,
                                         cps_json_document_get_root (decorated), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (from_decorated, ==, expected);

  /* The previous hash does. */
  other_prev = cps_audit_chain_hash (expected, cps_json_document_get_root (plain), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (other_prev, !=, expected);
}

static void
test_hash_not_object (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc = cps_json_document_parse_copy ("[1]", -1, NULL, NULL);
  g_autofree char *hash = cps_audit_chain_hash (CPS_AUDIT_CHAIN_GENESIS,
                                                cps_json_document_get_root (doc), &error);

  g_assert_null (hash);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

static void
test_verify_good (void)
{
  Chain chain;
  g_autoptr (GPtrArray) problems = NULL;
  g_autoptr (GPtrArray) crlf_problems = NULL;
  g_autoptr (GPtrArray) empty_problems = NULL;
  g_autoptr (GString) crlf = NULL;
  g_autofree char *head = NULL;
  g_autofree char *empty_head = NULL;
  gint64 n = 0;

  chain_init (&chain);
  problems = verify (chain.jsonl->str, chain.jsonl->len, &n, &head);
  g_assert_cmpuint (problems->len, ==, 0);
  g_assert_cmpint (n, ==, 2);
  g_assert_cmpstr (head, ==, chain.hash2);

  /* CRLF line ends and no final newline are fine. */
  crlf = g_string_new (chain.jsonl->str);
  g_string_replace (crlf, "\n", "\r\n", 0);
  g_string_truncate (crlf, crlf->len - 2);
  crlf_problems = verify (crlf->str, crlf->len, NULL, NULL);
  g_assert_cmpuint (crlf_problems->len, ==, 0);

  /* An empty export is an empty chain. */
  empty_problems = verify ("", 0, &n, &empty_head);
  g_assert_cmpuint (empty_problems->len, ==, 0);
  g_assert_cmpint (n, ==, 0);
  g_assert_null (empty_head);

  chain_clear (&chain);
}

static void
test_verify_tampered_details (void)
{
  Chain chain;
  g_autoptr (GPtrArray) problems = NULL;

  chain_init (&chain);
  g_assert_cmpint (g_string_replace (chain.jsonl, "\"ann\"", "\"bob\"", 1), ==, 1);
  problems = verify (chain.jsonl->str, chain.jsonl->len, NULL, NULL);
  g_assert_cmpuint (problems->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (problems, 0), ==,
                   "Entry 1: its hash does not match its contents.");
  chain_clear (&chain);
}

static void
test_verify_rewritten_entry (void)
{
  Chain chain;
  g_autoptr (GPtrArray) problems = NULL;
  g_autofree char *forged = NULL;

  /* Entry 1 rewritten with a correct new hash: entry 2 no longer links to it. */
  chain_init (&chain);
  forged = hash_of (CPS_AUDIT_CHAIN_GENESIS,
                    "{\"action\":\"account.created\",\"actor_account\":null,"
                    "\"actor_device\":null,\"at\":\"2026-03-01T13:05:09.123Z\","
                    "\"details\":{\"role\":\"admin\",\"username\":\"eve\"},\"seq\":1,"
                    "\"target_id\":\"38c2fdbb-1562-41a1-a52c-bc956d2e8a56\","
                    "\"target_type\":\"account\"}");
  g_string_replace (chain.jsonl, "\"ann\"", "\"eve\"", 1);
  g_string_replace (chain.jsonl, chain.hash1, forged, 1);
  problems = verify (chain.jsonl->str, chain.jsonl->len, NULL, NULL);
  g_assert_cmpuint (problems->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (problems, 0), ==,
                   "Entry 2 does not link to the hash of entry 1.");
  chain_clear (&chain);
}

static void
test_verify_structure (void)
{
  Chain chain;
  g_autoptr (GPtrArray) genesis = NULL;
  g_autoptr (GPtrArray) partial = NULL;
  g_autoptr (GPtrArray) garbage = NULL;
  g_autoptr (GPtrArray) missing = NULL;
  g_autoptr (GString) text = NULL;
  const char *second;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) binary = g_ptr_array_new_with_free_func (g_free);

  chain_init (&chain);
  second = strchr (chain.jsonl->str, '\n') + 1;

  /* Only the second entry: the export does not start at the beginning. */
  partial = verify (second, strlen (second), NULL, NULL);
  g_assert_cmpuint (partial->len, ==, 1);
  g_assert_true (has_problem (partial, "starts at entry 2"));

  /* A first entry that does not start from the genesis hash */
  text = g_string_new (chain.jsonl->str);
  g_string_replace (text, CPS_AUDIT_CHAIN_GENESIS,
                    "sha256:1000000000000000000000000000000000000000000000000000000000000000", 1);
  genesis = verify (text->str, text->len, NULL, NULL);
  g_assert_true (has_problem (genesis, "Entry 1 does not start from the genesis hash."));

  /* A line that is not JSON, and an empty line in the middle */
  g_string_assign (text, "");
  g_string_append_len (text, chain.jsonl->str, second - chain.jsonl->str);
  g_string_append (text, "\n{\"seq\":\n");
  g_string_append (text, second);
  garbage = verify (text->str, text->len, NULL, NULL);
  g_assert_true (has_problem (garbage, "Line 2 is empty"));
  g_assert_true (has_problem (garbage, "Line 3 is not valid JSON"));

  /* An entry without its details */
  g_string_assign (text, chain.jsonl->str);
  g_string_replace (text, "\"details\":{\"reason\"", "\"detail\":{\"reason\"", 1);
  missing = verify (text->str, text->len, NULL, NULL);
  g_assert_true (has_problem (missing, "Entry 2 lacks a valid “details” member."));

  /* Not text */
  g_assert_false (cps_audit_chain_verify_jsonl ("\xff\xfe", 2, binary, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);

  chain_clear (&chain);
}

static void
test_checkpoint_signature (void)
{
  guint8 public_key[crypto_sign_PUBLICKEYBYTES];
  guint8 secret_key[crypto_sign_SECRETKEYBYTES];
  guint8 signature[crypto_sign_BYTES];
  const char *hash = "sha256:07f9ce5e4fbd2002d1bae2a4e63bf043a1062d62dd7dced988af5bd82110a5eb";
  g_autofree char *public_base64 = NULL;
  g_autofree char *signature_base64 = NULL;

  g_assert_cmpint (sodium_init (), >=, 0);
  crypto_sign_keypair (public_key, secret_key);
  crypto_sign_detached (signature, NULL, (const guchar *) hash, strlen (hash), secret_key);
  public_base64 = g_base64_encode (public_key, sizeof public_key);
  signature_base64 = g_base64_encode (signature, sizeof signature);

  g_assert_true (cps_audit_chain_verify_checkpoint (public_base64, hash, signature_base64));
  g_assert_false (cps_audit_chain_verify_checkpoint (public_base64, CPS_AUDIT_CHAIN_GENESIS,
                                                     signature_base64));
  g_assert_false (cps_audit_chain_verify_checkpoint ("AAAA", hash, signature_base64));
  g_assert_false (cps_audit_chain_verify_checkpoint (public_base64, hash, "AAAA"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/audit-chain/hash", test_hash);
  g_test_add_func ("/audit-chain/hash-not-object", test_hash_not_object);
  g_test_add_func ("/audit-chain/verify/good", test_verify_good);
  g_test_add_func ("/audit-chain/verify/tampered-details", test_verify_tampered_details);
  g_test_add_func ("/audit-chain/verify/rewritten-entry", test_verify_rewritten_entry);
  g_test_add_func ("/audit-chain/verify/structure", test_verify_structure);
  g_test_add_func ("/audit-chain/checkpoint-signature", test_checkpoint_signature);

  return g_test_run ();
}
