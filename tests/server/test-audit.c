/* test-audit.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The audit chain on real SQLite storage: hashes exactly as CONTRACT.md
 * “Audit” defines them, checkpoints, tampering found by verification and by
 * the JSON Lines verifier clients use; the server key; the metrics
 * exposition; and, with CPS_SERVER set, the backup, rehearse-restore and
 * check subcommands end to end.
 */

#define G_LOG_DOMAIN "test-audit"

#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "cps-audit-chain.h"
#include "cps-audit.h"
#include "cps-clock.h"
#include "cps-device-key.h"
#include "cps-jcs.h"
#include "cps-metrics.h"
#include "cps-revision.h"
#include "cps-server-key.h"
#include "cps-storage.h"
#include "cps-test-util.h"

typedef struct
{
  char *dir;
  char *db_path;
  CpsStorage *storage;
  CpsServerKey *key;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("test-audit-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->db_path = g_build_filename (fixture->dir, "cps-server.db", NULL);
  fixture->storage = cps_storage_open ("sqlite", fixture->db_path, &error);
  g_assert_no_error (error);
  fixture->key = cps_server_key_load_or_create (fixture->dir, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_clear_pointer (&fixture->storage, cps_storage_close);
  g_clear_pointer (&fixture->key, cps_server_key_free);
  cps_test_remove_tree (fixture->dir);
  g_free (fixture->db_path);
  g_free (fixture->dir);
}

/* Appends @n entries, a few per transaction as handlers do. */
static void
append_entries (Fixture *fixture, guint n)
{
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *details = g_strdup_printf ("{\"n\":%u,\"note\":\"entry \\u00e9 %u\"}",
                                                  i, i);
      const char *action = i % 2 ? "login.succeeded" : "push.accepted";
      const char *device = i % 3 ? NULL : "0b3d9a4e-5c62-4f0e-8f6d-2a9e4c1b7d55";

      if (i % 7 == 0)
        {
          if (i > 0)
            {
              cps_storage_commit (fixture->storage, &error);
              g_assert_no_error (error);
            }
          cps_storage_begin (fixture->storage, &error);
          g_assert_no_error (error);
        }
      cps_audit_append (fixture->storage, fixture->key, action,
                        "6f1c1a8e-1d7b-4a43-9a5e-0d4c2f7f3a10", device, "project",
                        "2f0e9c1d-8a7b-4c6d-9e5f-1a2b3c4d5e6f", details, NULL, &error);
      g_assert_no_error (error);
    }
  cps_storage_commit (fixture->storage, &error);
  g_assert_no_error (error);
}

static GPtrArray *
verify (Fixture *fixture, const char *public_key, gint64 *n_entries)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *problems = g_ptr_array_new_with_free_func (g_free);

  g_assert_true (cps_audit_verify_chain (fixture->storage, public_key, problems, n_entries,
                                         &error));
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

/* Runs SQL on the database behind storage's back, as an attacker with file access would. */
static void
tamper (Fixture *fixture, const char *sql)
{
  sqlite3 *db = NULL;
  char *message = NULL;

  g_clear_pointer (&fixture->storage, cps_storage_close);
  g_assert_cmpint (sqlite3_open (fixture->db_path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("tampering failed: %s", message);
  sqlite3_close (db);

  {
    g_autoptr (GError) error = NULL;

    fixture->storage = cps_storage_open ("sqlite", fixture->db_path, &error);
    g_assert_no_error (error);
  }
}

static GString *
export_jsonl (Fixture *fixture)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  CpsAuditFilter filter = { 0 };
  GString *out = g_string_new (NULL);

  entries = cps_storage_audit_list (fixture->storage, &filter, 0, 10000, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < entries->len; i++)
    {
      cps_audit_write_entry_json (g_ptr_array_index (entries, i), out);
      g_string_append_c (out, '\n');
    }
  return out;
}

/* ----- the chain ---------------------------------------------------------------------------- */

/* The first hash, computed here from the contract's words with literal JCS. */
static void
test_chain_contract_hash (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsAuditRecord) first = NULL;
  g_autoptr (CpsAuditRecord) second = NULL;
  g_autofree char *jcs = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *hex = NULL;

  cps_storage_begin (fixture->storage, &error);
  g_assert_no_error (error);
  cps_audit_append (fixture->storage, fixture->key, "account.created", NULL, NULL, "account",
                    "38c2fdbb-1562-41a1-a52c-bc956d2e8a56",
                    "{\"username\": \"ann\", \"role\": \"admin\"}", &first, &error);
  g_assert_no_error (error);
  cps_audit_append (fixture->storage, fixture->key, "login.failed", NULL, NULL, NULL, NULL, NULL,
                    &second, &error);
  g_assert_no_error (error);
  cps_storage_commit (fixture->storage, &error);
  g_assert_no_error (error);

  g_assert_cmpint (first->seq, ==, 1);
  g_assert_cmpstr (first->prev_hash, ==, CPS_AUDIT_GENESIS_HASH);
  jcs = g_strdup_printf ("%s{\"action\":\"account.created\",\"actor_account\":null,"
                         "\"actor_device\":null,\"at\":\"%s\",\"details\":{\"role\":\"admin\","
                         "\"username\":\"ann\"},\"seq\":1,\"target_id\":"
                         "\"38c2fdbb-1562-41a1-a52c-bc956d2e8a56\",\"target_type\":\"account\"}",
                         CPS_AUDIT_GENESIS_HASH, first->at);
  hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, jcs, -1);
  expected = g_strconcat ("sha256:", hex, NULL);
  g_assert_cmpstr (first->hash, ==, expected);

  g_clear_pointer (&jcs, g_free);
  g_clear_pointer (&hex, g_free);
  g_clear_pointer (&expected, g_free);
  g_assert_cmpint (second->seq, ==, 2);
  g_assert_cmpstr (second->prev_hash, ==, first->hash);
  g_assert_cmpstr (second->details_json, ==, "{}");
  jcs = g_strdup_printf ("%s{\"action\":\"login.failed\",\"actor_account\":null,"
                         "\"actor_device\":null,\"at\":\"%s\",\"details\":{},\"seq\":2,"
                         "\"target_id\":null,\"target_type\":null}",
                         first->hash, second->at);
  hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, jcs, -1);
  expected = g_strconcat ("sha256:", hex, NULL);
  g_assert_cmpstr (second->hash, ==, expected);

  /* What storage returns hashes the same. */
  {
    g_autofree char *head = NULL;
    gint64 seq = 0;

    cps_storage_audit_last (fixture->storage, &seq, &head, &error);
    g_assert_no_error (error);
    g_assert_cmpint (seq, ==, 2);
    g_assert_cmpstr (head, ==, expected);
  }
}

static void
test_chain_verify_and_checkpoints (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) problems = NULL;
  g_autoptr (GPtrArray) checkpoints = NULL;
  g_autoptr (GPtrArray) page = NULL;
  const char *public_key = cps_server_key_get_public_base64 (fixture->key);
  CpsAuditFilter filter = { 0 };
  gint64 n = 0;

  append_entries (fixture, 250);
  problems = verify (fixture, public_key, &n);
  g_assert_cmpuint (problems->len, ==, 0);
  g_assert_cmpint (n, ==, 250);

  /* A checkpoint at every multiple of 100, made by the append itself. */
  checkpoints = cps_storage_checkpoint_list (fixture->storage, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (checkpoints->len, ==, 2);
  page = cps_storage_audit_list (fixture->storage, &filter, 0, 300, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < checkpoints->len; i++)
    {
      const CpsCheckpointRecord *checkpoint = g_ptr_array_index (checkpoints, i);
      const CpsAuditRecord *entry = g_ptr_array_index (page, checkpoint->seq - 1);

      g_assert_cmpint (checkpoint->seq, ==, 100 * (i + 1));
      g_assert_cmpstr (checkpoint->hash, ==, entry->hash);
      g_assert_true (cps_audit_chain_verify_checkpoint (public_key, checkpoint->hash,
                                                        checkpoint->signature));
      g_assert_false (cps_audit_chain_verify_checkpoint (public_key, entry->prev_hash,
                                                         checkpoint->signature));
    }
}

static void
test_chain_checkpoint_on_request (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsCheckpointRecord) none = NULL;
  g_autoptr (CpsCheckpointRecord) made = NULL;
  g_autoptr (CpsCheckpointRecord) again = NULL;
  g_autoptr (GPtrArray) checkpoints = NULL;
  g_autofree char *head = NULL;
  gint64 seq = 0;

  none = cps_audit_checkpoint (fixture->storage, fixture->key, FALSE, &error);
  g_assert_no_error (error);
  g_assert_null (none);

  append_entries (fixture, 3);
  made = cps_audit_checkpoint (fixture->storage, fixture->key, FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (made);
  cps_storage_audit_last (fixture->storage, &seq, &head, &error);
  g_assert_no_error (error);
  g_assert_cmpint (made->seq, ==, 3);
  g_assert_cmpstr (made->hash, ==, head);
  g_assert_true (cps_audit_chain_verify_checkpoint (
    cps_server_key_get_public_base64 (fixture->key), made->hash, made->signature));

  /* Nothing new: the same checkpoint, not a second signature of the same head. */
  again = cps_audit_checkpoint (fixture->storage, fixture->key, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (again->seq, ==, made->seq);
  g_assert_cmpstr (again->signature, ==, made->signature);
  checkpoints = cps_storage_checkpoint_list (fixture->storage, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (checkpoints->len, ==, 1);
}

static void
test_chain_details_must_be_object (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *head = NULL;
  gint64 seq = 0;

  cps_storage_begin (fixture->storage, &error);
  g_assert_no_error (error);
  g_assert_false (cps_audit_append (fixture->storage, fixture->key, "report.generated", NULL,
                                    NULL, NULL, NULL, "[1]", NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (cps_audit_append (fixture->storage, fixture->key, "report.generated", NULL,
                                    NULL, NULL, NULL, "{\"a\":", NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  cps_storage_rollback (fixture->storage);

  cps_storage_audit_last (fixture->storage, &seq, &head, &error);
  g_assert_no_error (error);
  g_assert_cmpint (seq, ==, 0);
  g_assert_null (head);
}

static void
test_chain_tampered_entry (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GPtrArray) problems = NULL;
  const char *public_key = cps_server_key_get_public_base64 (fixture->key);

  append_entries (fixture, 20);
  tamper (fixture, "DROP TRIGGER audit_entries_no_update;"
                   "UPDATE audit_entries SET details_json = '{\"n\":999}' WHERE seq = 5;");
  problems = verify (fixture, public_key, NULL);
  g_assert_cmpuint (problems->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (problems, 0), ==,
                   "Entry 5: its hash does not match its contents.");
}

static void
test_chain_rewritten_hash (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GPtrArray) problems = NULL;
  const char *public_key = cps_server_key_get_public_base64 (fixture->key);

  /* Rewriting an entry and its hash breaks the link from the next one. */
  append_entries (fixture, 20);
  tamper (fixture, "DROP TRIGGER audit_entries_no_update;"
                   "UPDATE audit_entries SET action = 'login.failed',"
                   " hash = 'sha256:11111111111111111111111111111111"
                   "11111111111111111111111111111111'"
                   " WHERE seq = 8;");
  problems = verify (fixture, public_key, NULL);
  g_assert_true (has_problem (problems, "Entry 8: its hash does not match its contents."));
  g_assert_true (has_problem (problems, "Entry 9 does not link to the hash of entry 8."));
}

static void
test_chain_missing_entry (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GPtrArray) problems = NULL;
  gint64 n = 0;

  append_entries (fixture, 12);
  tamper (fixture, "DROP TRIGGER audit_entries_no_delete;"
                   "DELETE FROM audit_entries WHERE seq = 6;");
  problems = verify (fixture, cps_server_key_get_public_base64 (fixture->key), &n);
  g_assert_cmpint (n, ==, 11);
  g_assert_true (has_problem (problems, "Entry 7 follows entry 5"));
}

static void
test_chain_forged_checkpoint (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) problems = NULL;
  g_autoptr (GPtrArray) other_problems = NULL;
  g_autoptr (CpsServerKey) other = NULL;
  g_autofree char *other_dir = g_dir_make_tmp ("test-audit-key-XXXXXX", &error);

  g_assert_no_error (error);
  append_entries (fixture, 100);

  /* Another key does not verify the real checkpoint. */
  other = cps_server_key_load_or_create (other_dir, &error);
  g_assert_no_error (error);
  other_problems = verify (fixture, cps_server_key_get_public_base64 (other), NULL);
  g_assert_cmpuint (other_problems->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (other_problems, 0), ==,
                   "Checkpoint 100: its signature does not verify with the server key.");
  cps_test_remove_tree (other_dir);

  /* A checkpoint moved to another hash is caught twice over. */
  tamper (fixture, "DROP TRIGGER checkpoints_no_update;"
                   "UPDATE checkpoints SET hash ="
                   " (SELECT hash FROM audit_entries WHERE seq = 99);");
  problems = verify (fixture, cps_server_key_get_public_base64 (fixture->key), NULL);
  g_assert_true (has_problem (problems, "Checkpoint 100: the hash it signed is not the hash of "
                                        "entry 100."));
  g_assert_true (has_problem (problems, "Checkpoint 100: its signature does not verify"));
}

/* ----- the JSON Lines verifier clients use -------------------------------------------------- */

static void
test_jsonl_export_verifies (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) jsonl = NULL;
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *head = NULL;
  g_autofree char *stored_head = NULL;
  gint64 n = 0;
  gint64 seq = 0;

  append_entries (fixture, 30);
  jsonl = export_jsonl (fixture);
  g_assert_true (cps_audit_chain_verify_jsonl (jsonl->str, jsonl->len, problems, &n, &head,
                                               &error));
  g_assert_no_error (error);
  g_assert_cmpuint (problems->len, ==, 0);
  g_assert_cmpint (n, ==, 30);
  cps_storage_audit_last (fixture->storage, &seq, &stored_head, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (head, ==, stored_head);
}

static void
test_jsonl_export_tampered (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) jsonl = NULL;
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) dropped_problems = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = NULL;
  g_autofree char *without_third = NULL;
  char *at;

  append_entries (fixture, 10);
  jsonl = export_jsonl (fixture);

  /* Entry 4's note changes by one character. */
  at = strstr (jsonl->str, "entry \\u00e9 3\"");
  g_assert_nonnull (at);
  at[strlen ("entry \\u00e9 ")] = '4';
  g_assert_true (cps_audit_chain_verify_jsonl (jsonl->str, jsonl->len, problems, NULL, NULL,
                                               &error));
  g_assert_no_error (error);
  g_assert_cmpuint (problems->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (problems, 0), ==,
                   "Entry 4: its hash does not match its contents.");

  /* Dropping a line is found too. */
  g_string_free (jsonl, TRUE);
  jsonl = export_jsonl (fixture);
  lines = g_strsplit (jsonl->str, "\n", -1);
  g_free (lines[2]);
  lines[2] = g_strdup ("");
  without_third = g_strjoinv ("\n", lines);
  {
    /* The empty line is removed entirely, so it is a gap, not a blank. */
    g_autoptr (GString) joined = g_string_new (without_third);

    g_string_replace (joined, "\n\n", "\n", 1);
    g_assert_true (cps_audit_chain_verify_jsonl (joined->str, joined->len, dropped_problems,
                                                 NULL, NULL, &error));
  }
  g_assert_no_error (error);
  g_assert_true (has_problem (dropped_problems, "Entry 4 follows entry 2"));

  /* Not text at all */
  g_clear_pointer (&problems, g_ptr_array_unref);
  problems = g_ptr_array_new_with_free_func (g_free);
  g_assert_false (cps_audit_chain_verify_jsonl ("{\"seq\":1}\0x", 11, problems, NULL, NULL,
                                                &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

/* ----- server key --------------------------------------------------------------------------- */

static void
test_server_key (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-audit-key-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "server-key", NULL);
  g_autoptr (CpsServerKey) key = NULL;
  g_autoptr (CpsServerKey) again = NULL;
  g_autoptr (CpsServerKey) refused = NULL;
  g_autofree char *signature = NULL;
  g_autofree char *text = NULL;
  struct stat st;

  g_assert_no_error (error);
  key = cps_server_key_load_or_create (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpuint (strlen (cps_server_key_get_public_base64 (key)), ==, 44);

  /* The file holds the seed: the same key comes back. */
  again = cps_server_key_load_or_create (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cps_server_key_get_public_base64 (again),
                   ==, cps_server_key_get_public_base64 (key));
  signature = cps_server_key_sign_base64 (key, "sha256:abc", 10);
  g_assert_true (cps_audit_chain_verify_checkpoint (cps_server_key_get_public_base64 (again),
                                                    "sha256:abc", signature));
  g_assert_false (cps_audit_chain_verify_checkpoint (cps_server_key_get_public_base64 (again),
                                                     "sha256:abd", signature));

  /* Readable by the group: refused, with how to fix it. */
  g_assert_cmpint (g_chmod (path, 0640), ==, 0);
  refused = cps_server_key_load_or_create (dir, &error);
  g_assert_null (refused);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_nonnull (strstr (error->message, "chmod 600"));
  g_clear_error (&error);

  /* Damaged: refused, never silently replaced. */
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  g_assert_true (g_file_set_contents (path, "not a key\n", -1, &error));
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  refused = cps_server_key_load_or_create (dir, &error);
  g_assert_null (refused);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "not a key\n");

  cps_test_remove_tree (dir);
}

/* ----- metrics ------------------------------------------------------------------------------ */

static void
test_metrics (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  CpsMetrics *metrics = cps_metrics_new ();
  GString *text;

  append_entries (fixture, 4);
  cps_metrics_observe_request (metrics, "GET", "/v1/projects/{id}", 200, 0.0004);
  cps_metrics_observe_request (metrics, "GET", "/v1/projects/{id}", 200, 0.003);
  cps_metrics_observe_request (metrics, "GET", "/v1/projects/{id}", 404, 0.2);
  cps_metrics_observe_request (metrics, "POST", "/odd\"route\\\n", 500, 7.0);
  cps_metrics_add_push (metrics, 5, 2, 1);

  text = cps_metrics_render (metrics, fixture->storage, &error);
  g_assert_no_error (error);
  g_test_message ("%s", text->str);

  g_assert_nonnull (strstr (text->str, "# TYPE cps_http_requests_total counter\n"));
  g_assert_nonnull (strstr (text->str, "# HELP cps_http_requests_total "));
  g_assert_nonnull (strstr (text->str, "cps_http_requests_total{method=\"GET\","
                                       "route=\"/v1/projects/{id}\",status=\"200\"} 2\n"));
  g_assert_nonnull (strstr (text->str, "cps_http_requests_total{method=\"GET\","
                                       "route=\"/v1/projects/{id}\",status=\"404\"} 1\n"));
  /* Buckets are cumulative per status, +Inf counts everything. */
  g_assert_nonnull (strstr (text->str, "cps_http_request_duration_seconds_bucket{method=\"GET\","
                                       "route=\"/v1/projects/{id}\",status=\"200\",le=\"0.0005\"} 1\n"));
  g_assert_nonnull (strstr (text->str, "cps_http_request_duration_seconds_bucket{method=\"GET\","
                                       "route=\"/v1/projects/{id}\",status=\"200\",le=\"0.005\"} 2\n"));
  g_assert_nonnull (strstr (text->str, "cps_http_request_duration_seconds_bucket{method=\"GET\","
                                       "route=\"/v1/projects/{id}\",status=\"200\",le=\"+Inf\"} 2\n"));
  g_assert_nonnull (strstr (text->str, "cps_http_request_duration_seconds_bucket{method=\"GET\","
                                       "route=\"/v1/projects/{id}\",status=\"404\",le=\"0.1\"} 0\n"));
  g_assert_nonnull (strstr (text->str, "cps_http_request_duration_seconds_count{method=\"GET\","
                                       "route=\"/v1/projects/{id}\",status=\"200\"} 2\n"));
  g_assert_nonnull (strstr (text->str, "cps_http_request_duration_seconds_count{method=\"GET\","
                                       "route=\"/v1/projects/{id}\",status=\"404\"} 1\n"));
  g_assert_nonnull (strstr (text->str, "route=\"/odd\\\"route\\\\\\n\",status=\"500\",le=\"2.5\"} 0\n"));
  g_assert_nonnull (strstr (text->str, "route=\"/odd\\\"route\\\\\\n\",status=\"500\",le=\"+Inf\"} 1\n"));
  g_assert_nonnull (strstr (text->str, "cps_push_revisions_total{result=\"accepted\"} 5\n"));
  g_assert_nonnull (strstr (text->str, "cps_push_revisions_total{result=\"rejected\"} 2\n"));
  g_assert_nonnull (strstr (text->str, "cps_push_revisions_total{result=\"duplicate\"} 1\n"));
  g_assert_nonnull (strstr (text->str, "cps_conflicts_open 0\n"));
  g_assert_nonnull (strstr (text->str, "cps_devices{state=\"active\"} 0\n"));
  g_assert_nonnull (strstr (text->str, "cps_revisions_stored 0\n"));
  g_assert_nonnull (strstr (text->str, "cps_audit_entries 4\n"));
  g_string_free (text, TRUE);
  cps_metrics_free (metrics);
}

/* Several threads counting at once lose nothing. */
static gpointer
observe_thread (gpointer data)
{
  for (guint i = 0; i < 1000; i++)
    cps_metrics_observe_request (data, "GET", "/v1/health", 200, 0.001);
  return NULL;
}

static void
test_metrics_threads (void)
{
  CpsMetrics *metrics = cps_metrics_new ();
  GThread *threads[4];
  GString *text;

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("observe", observe_thread, metrics);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  text = cps_metrics_render (metrics, NULL, NULL);
  g_assert_nonnull (strstr (text->str, "cps_http_requests_total{method=\"GET\","
                                       "route=\"/v1/health\",status=\"200\"} 4000\n"));
  g_string_free (text, TRUE);
  cps_metrics_free (metrics);
}

/* ----- the operations subcommands ----------------------------------------------------------- */

#define ACCOUNT_ID "38c2fdbb-1562-41a1-a52c-bc956d2e8a56"
#define DEVICE_ID "0b3d9a4e-5c62-4f0e-8f6d-2a9e4c1b7d55"
#define PROJECT_ID "2f0e9c1d-8a7b-4c6d-9e5f-1a2b3c4d5e6f"

static void
store_revision (CpsStorage *storage, CpsRevision *revision)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) clock = g_string_new (NULL);
  g_autofree char *json = cps_revision_to_json (revision, TRUE);
  g_autofree char *header = cps_revision_to_json (revision, FALSE);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) parents = NULL;
  CpsRevisionRecord record = { 0 };

  for (guint i = 0; i < cps_revision_get_n_parents (revision); i++)
    g_strv_builder_add (builder, cps_revision_get_parents (revision)[i]);
  parents = g_strv_builder_end (builder);
  cps_clock_write_jcs (cps_revision_get_clock (revision), clock);

  record.id = (char *) cps_revision_get_id (revision);
  record.project_id = (char *) cps_revision_get_project_id (revision);
  record.device_id = (char *) cps_revision_get_device_id (revision);
  record.created_at = (char *) cps_revision_get_created_at (revision);
  record.checksum = (char *) cps_revision_get_checksum (revision);
  record.deleted = cps_revision_get_deleted (revision);
  record.parents = parents;
  record.clock_sum = cps_clock_sum (cps_revision_get_clock (revision));
  record.clock_json = clock->str;
  record.json = json;
  record.header_json = header;
  cps_storage_revision_insert (storage, &record, &error);
  g_assert_no_error (error);
}

/* A server data directory with an account, a device, a project of three revisions and a
 * few audit entries. */
static void
populate (Fixture *fixture)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsDeviceKey) device_key = cps_device_key_new_ephemeral (DEVICE_ID);
  g_autofree char *public_key = cps_device_key_dup_public_key_base64 (device_key);
  g_autofree char *fingerprint = cps_device_key_dup_fingerprint (device_key);
  g_autofree char *now = cps_now_rfc3339 ();
  CpsAccountRecord account = { 0 };
  CpsDeviceRecord device = { 0 };
  CpsProjectRecord project = { 0 };
  CpsRevision *previous = NULL;

  account.id = (char *) ACCOUNT_ID;
  account.username = (char *) "ann";
  account.role = (char *) "admin";
  account.password_hash = (char *) "$argon2id$v=19$m=19456,t=2,p=1$placeholder$placeholder";
  account.created_at = now;
  device.id = (char *) DEVICE_ID;
  device.account_id = (char *) ACCOUNT_ID;
  device.name = (char *) "Laptop";
  device.platform = (char *) "linux";
  device.client_version = (char *) "0.1.0";
  device.public_key = public_key;
  device.key_fingerprint = fingerprint;
  device.state = (char *) "active";
  device.registered_at = now;
  project.id = (char *) PROJECT_ID;
  project.name = (char *) "Stage A";
  project.owner = (char *) ACCOUNT_ID;
  project.created_at = now;
  project.updated_at = now;

  cps_storage_begin (fixture->storage, &error);
  g_assert_no_error (error);
  cps_storage_account_insert (fixture->storage, &account, &error);
  g_assert_no_error (error);
  cps_storage_device_insert (fixture->storage, &device, &error);
  g_assert_no_error (error);
  cps_storage_project_insert (fixture->storage, &project, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *text = g_strdup_printf ("{\"name\":\"Stage A\",\"loads\":[%u,%u],"
                                               "\"metadata\":{\"saved\":%u}}",
                                               i, i + 1, i);
      g_autoptr (CpsJsonDocument) doc = cps_json_document_parse_copy (text, -1, NULL, &error);
      CpsRevision *revision;

      g_assert_no_error (error);
      revision = cps_revision_new_signed (PROJECT_ID, previous ? &previous : NULL,
                                          previous ? 1 : 0, device_key, now,
                                          cps_json_document_get_root (doc), FALSE, &error);
      g_assert_no_error (error);
      store_revision (fixture->storage, revision);
      g_clear_object (&previous);
      previous = revision;
    }
  g_clear_object (&previous);

  cps_audit_append (fixture->storage, fixture->key, "account.created", NULL, NULL, "account",
                    ACCOUNT_ID, "{\"username\":\"ann\",\"role\":\"admin\"}", NULL, &error);
  g_assert_no_error (error);
  cps_audit_append (fixture->storage, fixture->key, "push.accepted", ACCOUNT_ID, DEVICE_ID,
                    "project", PROJECT_ID, "{\"revisions\":3}", NULL, &error);
  g_assert_no_error (error);
  cps_storage_commit (fixture->storage, &error);
  g_assert_no_error (error);
}

/* Runs $CPS_SERVER with the arguments (NULL-terminated) and returns its exit status;
 * @output (nullable) gets what it printed, replacing what it held. */
static int
run_server (Fixture *fixture, char **output, ...)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *config = g_build_filename (fixture->dir, "empty.conf", NULL);
  const char *arg;
  int status = 0;
  va_list args;

  /* An empty settings file keeps /etc/cps-server.conf out of the test. */
  if (!g_file_test (config, G_FILE_TEST_EXISTS))
    g_assert_true (g_file_set_contents (config, "", 0, NULL));

  g_ptr_array_add (argv, g_strdup (g_getenv ("CPS_SERVER")));
  va_start (args, output);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (args);
  g_ptr_array_add (argv, g_strdup ("--config"));
  g_ptr_array_add (argv, g_strdup (config));
  g_ptr_array_add (argv, NULL);

  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  g_test_message ("%s:\n%s%s", (const char *) argv->pdata[1], out, err);
  if (output != NULL)
    {
      g_free (*output);
      *output = g_strconcat (out, err, NULL);
    }
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
test_ops_backup_rehearse_check (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsStorage) copy = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autofree char *backup = NULL;
  g_autofree char *output = NULL;
  g_autofree char *manifest = NULL;
  g_autofree char *sums = NULL;
  g_autofree char *public_key = NULL;
  g_autofree char *tampered = NULL;
  g_autofree char *db = NULL;
  g_autoptr (CpsCheckpointRecord) checkpoint = NULL;
  CpsAuditFilter filter = { 0 };
  const CpsAuditRecord *last;

  if (g_getenv ("CPS_SERVER") == NULL)
    {
      g_test_skip ("CPS_SERVER is not set");
      return;
    }
  populate (fixture);
  g_clear_pointer (&fixture->storage, cps_storage_close);

  backup = g_build_filename (fixture->dir, "backups", "first", NULL);
  g_assert_cmpint (run_server (fixture, NULL, "backup", "--data-dir", fixture->dir, "--to",
                               backup, NULL), ==, 0);
  manifest = g_build_filename (backup, "MANIFEST.json", NULL);
  sums = g_build_filename (backup, "SHA256SUMS", NULL);
  public_key = g_build_filename (backup, "server-key.pub", NULL);
  db = g_build_filename (backup, "cps-server.db", NULL);
  g_assert_true (g_file_test (manifest, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (sums, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (public_key, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (db, G_FILE_TEST_IS_REGULAR));
  {
    g_autofree char *key_text = NULL;

    g_assert_true (g_file_get_contents (public_key, &key_text, NULL, NULL));
    g_assert_cmpstr (g_strstrip (key_text), ==, cps_server_key_get_public_base64 (fixture->key));
  }

  /* A second backup into the same directory is refused. */
  g_assert_cmpint (run_server (fixture, NULL, "backup", "--data-dir", fixture->dir, "--to",
                               backup, NULL), ==, 1);
  /* Usage errors */
  g_assert_cmpint (run_server (fixture, NULL, "backup", "--data-dir", fixture->dir, NULL), ==, 2);
  g_assert_cmpint (run_server (fixture, NULL, "rehearse-restore", "--data-dir", fixture->dir,
                               NULL), ==, 2);

  g_assert_cmpint (run_server (fixture, &output, "rehearse-restore", "--data-dir", fixture->dir,
                               backup, NULL), ==, 0);
  g_assert_nonnull (strstr (output, "3 revisions verified"));
  g_assert_cmpint (run_server (fixture, &output, "check", "--data-dir", fixture->dir, NULL), ==,
                   0);

  /* The live chain records the backup and the rehearsal, the latter under a checkpoint. */
  fixture->storage = cps_storage_open ("sqlite", fixture->db_path, &error);
  g_assert_no_error (error);
  entries = cps_storage_audit_list (fixture->storage, &filter, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 4);
  g_assert_cmpstr (((CpsAuditRecord *) g_ptr_array_index (entries, 2))->action, ==,
                   "backup.created");
  last = g_ptr_array_index (entries, 3);
  g_assert_cmpstr (last->action, ==, "restore.rehearsed");
  g_assert_nonnull (strstr (last->details_json, "\"result\":\"passed\""));
  g_assert_nonnull (strstr (last->details_json, "\"revisions\":3"));
  g_assert_nonnull (strstr (last->details_json, "\"problems\":0"));
  checkpoint = cps_storage_checkpoint_last (fixture->storage, &error);
  g_assert_no_error (error);
  g_assert_nonnull (checkpoint);
  g_assert_cmpint (checkpoint->seq, ==, last->seq);
  g_assert_cmpstr (checkpoint->hash, ==, last->hash);

  /* A revision changed in the backup's database: the rehearsal fails (checksums, and the
   * revision's id, checksum and signature in the restored copy). */
  {
    sqlite3 *handle = NULL;

    g_assert_cmpint (sqlite3_open (db, &handle), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_exec (handle,
                                   "DROP TRIGGER revisions_no_update;"
                                   "UPDATE revisions SET json = replace (json, '\"loads\":[1,2]',"
                                   " '\"loads\":[1,9]') WHERE seq = 2;",
                                   NULL, NULL, NULL),
                     ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_changes (handle), ==, 1);
    sqlite3_close (handle);
  }
  g_assert_cmpint (run_server (fixture, &output, "rehearse-restore", "--data-dir", fixture->dir,
                               backup, NULL), ==, 1);
  g_assert_nonnull (strstr (output, "does not match its checksum"));
  g_assert_nonnull (strstr (output, "its id does not match its contents"));
  g_assert_nonnull (strstr (output, "Result: failed"));

  /* The same change in the live database: check finds it. */
  tamper (fixture, "DROP TRIGGER revisions_no_update;"
                   "UPDATE revisions SET json = replace (json, '\"loads\":[1,2]',"
                   " '\"loads\":[1,9]') WHERE seq = 2;");
  g_clear_pointer (&fixture->storage, cps_storage_close);
  g_assert_cmpint (run_server (fixture, &output, "check", "--data-dir", fixture->dir, NULL), ==,
                   1);
  g_assert_nonnull (strstr (output, "its id does not match its contents"));
  g_assert_nonnull (strstr (output, "its document does not match its checksum"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/audit/chain/contract-hash", test_chain_contract_hash);
  ADD ("/audit/chain/verify-and-checkpoints", test_chain_verify_and_checkpoints);
  ADD ("/audit/chain/checkpoint-on-request", test_chain_checkpoint_on_request);
  ADD ("/audit/chain/details-must-be-object", test_chain_details_must_be_object);
  ADD ("/audit/chain/tampered-entry", test_chain_tampered_entry);
  ADD ("/audit/chain/rewritten-hash", test_chain_rewritten_hash);
  ADD ("/audit/chain/missing-entry", test_chain_missing_entry);
  ADD ("/audit/chain/forged-checkpoint", test_chain_forged_checkpoint);
  ADD ("/audit/jsonl/export-verifies", test_jsonl_export_verifies);
  ADD ("/audit/jsonl/export-tampered", test_jsonl_export_tampered);
  ADD ("/audit/metrics/render", test_metrics);
  ADD ("/audit/ops/backup-rehearse-check", test_ops_backup_rehearse_check);
  g_test_add_func ("/audit/server-key", test_server_key);
  g_test_add_func ("/audit/metrics/threads", test_metrics_threads);

  return g_test_run ();
}
