/* test-storage.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The SQLite storage backend on a temporary file: every method, the schema
 * version checks, the append-only triggers, the durable change sequence,
 * backups and the integrity check.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "cps-storage.h"
#include "cps-request.h"
#include "cps-storage-sqlite-private.h"

typedef struct
{
  char *dir;
  char *path;
  CpsStorage *storage;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("cps-storage-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "server.db", NULL);
  fixture->storage = cps_storage_open ("sqlite", fixture->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->storage);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  g_clear_pointer (&fixture->storage, cps_storage_close);
  dir = g_dir_open (fixture->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (fixture->dir, name, NULL);
      g_unlink (file);
    }
  g_rmdir (fixture->dir);
  g_free (fixture->path);
  g_free (fixture->dir);
}

static void
reopen (Fixture *fixture)
{
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&fixture->storage, cps_storage_close);
  fixture->storage = cps_storage_open ("sqlite", fixture->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->storage);
}

/* Runs @sql on a separate connection; returns the SQLite result and its message. */
static int
raw_exec (const char *path, const char *sql, char **message)
{
  sqlite3 *db = NULL;
  char *errmsg = NULL;
  int rc;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  rc = sqlite3_exec (db, sql, NULL, NULL, &errmsg);
  if (message != NULL)
    *message = g_strdup (errmsg);
  sqlite3_free (errmsg);
  sqlite3_close (db);
  return rc;
}

static gint64
raw_int (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  /* other connections may be closing at the same moment */
  sqlite3_busy_timeout (db, 10000);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

/* ----- records ---------------------------------------------------------------------------- */

static void
add_account (CpsStorage *storage, const char *id, const char *username, const char *role)
{
  g_autoptr (GError) error = NULL;
  CpsAccountRecord account = {
    .id = (char *) id,
    .username = (char *) username,
    .role = (char *) role,
    .password_hash = (char *) "$argon2id$v=19$fake",
    .created_at = (char *) "2026-03-01T10:00:00.000Z",
  };

  g_assert_true (cps_storage_account_insert (storage, &account, &error));
  g_assert_no_error (error);
}

static void
add_device (CpsStorage *storage, const char *id, const char *account_id, const char *key,
            const char *state, const char *registered_at)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *fingerprint = g_strconcat ("sha256:", key, NULL);
  CpsDeviceRecord device = {
    .id = (char *) id,
    .account_id = (char *) account_id,
    .name = (char *) "Camera truck",
    .platform = (char *) "linux",
    .client_version = (char *) "0.1.0",
    .public_key = (char *) key,
    .key_fingerprint = fingerprint,
    .state = (char *) state,
    .registered_at = (char *) registered_at,
  };

  g_assert_true (cps_storage_device_insert (storage, &device, &error));
  g_assert_no_error (error);
}

static void
add_project (CpsStorage *storage, const char *id, const char *owner)
{
  g_autoptr (GError) error = NULL;
  CpsProjectRecord project = {
    .id = (char *) id,
    .name = (char *) "Feature film",
    .owner = (char *) owner,
    .encrypted = FALSE,
    .created_at = (char *) "2026-03-01T10:00:00.000Z",
    .updated_at = (char *) "2026-03-01T10:00:00.000Z",
  };

  g_assert_true (cps_storage_project_insert (storage, &project, &error));
  g_assert_no_error (error);
}

static char *
make_revision_id (guint n)
{
  return g_strdup_printf ("sha256:%064x", n);
}

/* Inserts revision number @n of @project_id with @parent (nullable); returns its seq. */
static gint64
add_revision (CpsStorage *storage, guint n, const char *project_id, const char *device_id,
              const char *parent)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = make_revision_id (n);
  g_autofree char *json = g_strdup_printf ("{\"id\":\"%s\",\"payload\":{\"n\":%u}}", id, n);
  g_autofree char *header = g_strdup_printf ("{\"id\":\"%s\"}", id);
  const char *parents[] = { parent, NULL };
  CpsRevisionRecord revision = {
    .id = id,
    .project_id = (char *) project_id,
    .device_id = (char *) device_id,
    .created_at = (char *) "2026-03-01T10:00:00.000Z",
    .checksum = (char *) "sha256:1111111111111111111111111111111111111111111111111111111111111111",
    .deleted = n % 7 == 0,
    .parents = (GStrv) parents,
    .clock_sum = n,
    .clock_json = (char *) "{}",
    .json = json,
    .header_json = header,
  };

  g_assert_true (cps_storage_revision_insert (storage, &revision, &error));
  g_assert_no_error (error);
  g_assert_cmpint (revision.seq, >, 0);
  return revision.seq;
}

static void
add_audit (CpsStorage *storage, gint64 seq, const char *at, const char *action,
           const char *actor_account, const char *actor_device)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *prev = g_strdup_printf ("sha256:%064" G_GINT64_MODIFIER "x", seq - 1);
  g_autofree char *hash = g_strdup_printf ("sha256:%064" G_GINT64_MODIFIER "x", seq);
  CpsAuditRecord entry = {
    .seq = seq,
    .at = (char *) at,
    .action = (char *) action,
    .actor_account = (char *) actor_account,
    .actor_device = (char *) actor_device,
    .target_type = (char *) "project",
    .target_id = (char *) "p",
    .details_json = (char *) "{\"n\":1}",
    .prev_hash = prev,
    .hash = hash,
  };

  g_assert_true (cps_storage_audit_insert (storage, &entry, &error));
  g_assert_no_error (error);
}

#define ACCOUNT_A "00000000-0000-4000-8000-00000000000a"
#define ACCOUNT_B "00000000-0000-4000-8000-00000000000b"
#define ACCOUNT_C "00000000-0000-4000-8000-00000000000c"
#define DEVICE_A "00000000-0000-4000-8000-0000000000da"
#define DEVICE_B "00000000-0000-4000-8000-0000000000db"
#define DEVICE_C "00000000-0000-4000-8000-0000000000dc"
#define PROJECT_1 "00000000-0000-4000-8000-000000000001"
#define PROJECT_2 "00000000-0000-4000-8000-000000000002"
#define PROJECT_3 "00000000-0000-4000-8000-000000000003"

/* ----- tests ------------------------------------------------------------------------------ */

static void
test_open (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsStorage) other = NULL;
  GStatBuf st;

  g_assert_cmpstr (cps_storage_get_backend_name (fixture->storage), ==, "sqlite");
  g_assert_cmpint (g_stat (fixture->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (raw_int (fixture->path, "PRAGMA user_version"), ==, 1);
  g_assert_cmpint (cps_storage_account_count (fixture->storage, &error), ==, 0);
  g_assert_no_error (error);

  /* A second connection to the same file, as another worker thread would have. */
  other = cps_storage_open ("sqlite", fixture->path, &error);
  g_assert_no_error (error);
  add_account (fixture->storage, ACCOUNT_A, "alice", "admin");
  g_assert_cmpint (cps_storage_account_count (other, &error), ==, 1);
  g_assert_no_error (error);

  reopen (fixture);
  g_assert_cmpint (cps_storage_account_count (fixture->storage, &error), ==, 1);
  g_assert_no_error (error);
}

static void
test_unknown_backend (void)
{
  g_autoptr (GError) error = NULL;
  CpsStorage *storage = cps_storage_open ("postgresql-9", "/nonexistent", &error);

  g_assert_null (storage);
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "postgresql-9"));
}

static void
test_newer_schema (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  CpsStorage *storage;

  g_clear_pointer (&fixture->storage, cps_storage_close);
  g_assert_cmpint (raw_exec (fixture->path, "PRAGMA user_version = 99", NULL), ==, SQLITE_OK);

  storage = cps_storage_open ("sqlite", fixture->path, &error);
  g_assert_null (storage);
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NEWER_SCHEMA);
  g_assert_nonnull (strstr (error->message, fixture->path));
  g_assert_nonnull (strstr (error->message, "99"));
  g_assert_cmpint (raw_int (fixture->path, "PRAGMA user_version"), ==, 99);
}

static void
test_not_a_database (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *garbage = g_build_filename (fixture->dir, "garbage.db", NULL);
  g_autofree char *foreign = g_build_filename (fixture->dir, "foreign.db", NULL);
  g_autofree char *contents = NULL;
  char text[4096];
  CpsStorage *storage;

  memset (text, 'x', sizeof text);
  g_assert_true (g_file_set_contents (garbage, text, sizeof text, NULL));
  storage = cps_storage_open ("sqlite", garbage, &error);
  g_assert_null (storage);
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, garbage));
  /* Left as it was. */
  g_assert_true (g_file_get_contents (garbage, &contents, NULL, NULL));
  g_assert_cmpint (memcmp (contents, text, sizeof text), ==, 0);
  g_clear_error (&error);

  g_assert_cmpint (raw_exec (foreign, "CREATE TABLE songs (title TEXT)", NULL), ==, SQLITE_OK);
  storage = cps_storage_open ("sqlite", foreign, &error);
  g_assert_null (storage);
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, foreign));
  g_clear_error (&error);

  storage = cps_storage_open ("sqlite", fixture->dir, &error);
  g_assert_null (storage);
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED);
}

static void
test_transactions (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  CpsStorage *storage = fixture->storage;

  g_assert_true (cps_storage_begin (storage, &error));
  g_assert_no_error (error);
  add_account (storage, ACCOUNT_A, "alice", "admin");
  /* Nested transactions are a programming error the backend reports. */
  g_assert_false (cps_storage_begin (storage, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED);
  g_clear_error (&error);
  cps_storage_rollback (storage);
  g_assert_cmpint (cps_storage_account_count (storage, &error), ==, 0);

  g_assert_true (cps_storage_begin (storage, &error));
  add_account (storage, ACCOUNT_A, "alice", "admin");
  g_assert_true (cps_storage_commit (storage, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cps_storage_account_count (storage, &error), ==, 1);

  /* A rollback outside a transaction does nothing. */
  cps_storage_rollback (storage);
  g_assert_cmpint (cps_storage_account_count (storage, &error), ==, 1);
  g_assert_no_error (error);
}

/* A read snapshot holds still while another connection writes; a write transaction or a
 * rollback ends it, and the writes of this connection's own transaction are seen after. */
static void
test_read_snapshot (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsStorage) other = cps_storage_open ("sqlite", fixture->path, &error);
  CpsStorage *storage = fixture->storage;

  g_assert_no_error (error);
  add_account (other, ACCOUNT_A, "alice", "admin");

  g_assert_true (cps_storage_begin_read (storage, &error));
  g_assert_true (cps_storage_begin_read (storage, &error)); /* already open: nothing to do */
  g_assert_cmpint (cps_storage_account_count (storage, &error), ==, 1);
  add_account (other, ACCOUNT_B, "bea", "member");
  g_assert_cmpint (cps_storage_account_count (storage, &error), ==, 1);
  cps_storage_rollback (storage);
  g_assert_cmpint (cps_storage_account_count (storage, &error), ==, 2);

  g_assert_true (cps_storage_begin_read (storage, &error));
  g_assert_cmpint (cps_storage_account_count (storage, &error), ==, 2);
  g_assert_true (cps_storage_begin (storage, &error));
  add_account (storage, ACCOUNT_C, "cem", "member");
  g_assert_true (cps_storage_commit (storage, &error));
  g_assert_cmpint (cps_storage_account_count (storage, &error), ==, 3);
  g_assert_cmpint (cps_storage_account_count (other, &error), ==, 3);
  g_assert_no_error (error);
}

static void
test_busy (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsStorage) other = NULL;
  gint64 start;

  if (!g_test_slow ())
    {
      g_test_skip ("waits for the 10 s busy timeout; run with -m slow");
      return;
    }

  other = cps_storage_open ("sqlite", fixture->path, &error);
  g_assert_no_error (error);
  g_assert_true (cps_storage_begin (fixture->storage, &error));
  start = g_get_monotonic_time ();
  g_assert_false (cps_storage_begin (other, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_BUSY);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 9 * G_USEC_PER_SEC);
  cps_storage_rollback (fixture->storage);
}

static void
test_accounts (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsAccountRecord) account = NULL;
  g_autoptr (GPtrArray) page = NULL;
  CpsStorage *storage = fixture->storage;
  const char *codes[] = { "sha256:c1", "sha256:c2", NULL };
  const char *new_codes[] = { "sha256:c3", NULL };
  CpsAccountRecord duplicate = {
    .id = (char *) ACCOUNT_C,
    .username = (char *) "bob",
    .role = (char *) "member",
    .password_hash = (char *) "x",
    .created_at = (char *) "2026-03-01T10:00:00.000Z",
  };

  add_account (storage, ACCOUNT_B, "bob", "member");
  add_account (storage, ACCOUNT_A, "alice", "admin");
  add_account (storage, ACCOUNT_C, "carol", "observer");
  g_assert_cmpint (cps_storage_account_count (storage, &error), ==, 3);

  account = cps_storage_account_get (storage, ACCOUNT_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (account->id, ==, ACCOUNT_A);
  g_assert_cmpstr (account->username, ==, "alice");
  g_assert_cmpstr (account->role, ==, "admin");
  g_assert_cmpstr (account->password_hash, ==, "$argon2id$v=19$fake");
  g_assert_null (account->totp_secret);
  g_assert_null (account->totp_pending);
  g_assert_cmpint (account->totp_last_step, ==, 0);
  g_assert_cmpstr (account->created_at, ==, "2026-03-01T10:00:00.000Z");

  /* Update writes role, password hash and the TOTP fields. */
  g_free (account->role);
  account->role = g_strdup ("lead");
  g_free (account->totp_secret);
  account->totp_secret = g_strdup ("JBSWY3DPEHPK3PXP");
  account->totp_last_step = 12345;
  g_assert_true (cps_storage_account_update (storage, account, &error));
  g_assert_no_error (error);
  g_clear_pointer (&account, cps_account_record_free);
  account = cps_storage_account_get_by_name (storage, "alice", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (account->id, ==, ACCOUNT_A);
  g_assert_cmpstr (account->role, ==, "lead");
  g_assert_cmpstr (account->totp_secret, ==, "JBSWY3DPEHPK3PXP");
  g_assert_cmpint (account->totp_last_step, ==, 12345);

  /* Duplicate username. */
  duplicate.id = (char *) "00000000-0000-4000-8000-0000000000ff";
  g_assert_false (cps_storage_account_insert (storage, &duplicate, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_EXISTS);
  g_clear_error (&error);

  /* Not found. */
  g_assert_null (cps_storage_account_get (storage, "nobody", &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (cps_storage_account_get_by_name (storage, "nobody", &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "nobody"));
  g_clear_error (&error);
  duplicate.id = (char *) "nobody";
  g_assert_false (cps_storage_account_update (storage, &duplicate, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Pages by username, cursor exclusive. */
  page = cps_storage_account_list (storage, NULL, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 2);
  g_assert_cmpstr (((CpsAccountRecord *) page->pdata[0])->username, ==, "alice");
  g_assert_cmpstr (((CpsAccountRecord *) page->pdata[1])->username, ==, "bob");
  g_clear_pointer (&page, g_ptr_array_unref);
  page = cps_storage_account_list (storage, "bob", 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 1);
  g_assert_cmpstr (((CpsAccountRecord *) page->pdata[0])->username, ==, "carol");
  g_clear_pointer (&page, g_ptr_array_unref);
  page = cps_storage_account_list (storage, "carol", 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 0);

  /* Recovery codes: each works once; replacing drops the old ones. */
  g_assert_true (cps_storage_recovery_codes_replace (storage, ACCOUNT_A, codes, &error));
  g_assert_no_error (error);
  g_assert_true (cps_storage_recovery_code_use (storage, ACCOUNT_A, "sha256:c1", &error));
  g_assert_no_error (error);
  g_assert_false (cps_storage_recovery_code_use (storage, ACCOUNT_A, "sha256:c1", &error));
  g_assert_no_error (error);
  g_assert_false (cps_storage_recovery_code_use (storage, ACCOUNT_B, "sha256:c2", &error));
  g_assert_no_error (error);
  g_assert_false (cps_storage_recovery_code_use (storage, ACCOUNT_A, "sha256:zz", &error));
  g_assert_no_error (error);
  g_assert_true (cps_storage_recovery_codes_replace (storage, ACCOUNT_A, new_codes, &error));
  g_assert_false (cps_storage_recovery_code_use (storage, ACCOUNT_A, "sha256:c2", &error));
  g_assert_no_error (error);
  g_assert_true (cps_storage_recovery_code_use (storage, ACCOUNT_A, "sha256:c3", &error));
  g_assert_no_error (error);
  g_assert_cmpint (raw_int (fixture->path, "SELECT count(*) FROM recovery_codes "
                                           "WHERE used_at LIKE '____-__-__T__:__:__.___Z'"),
                   ==, 1);
}

static void
test_devices (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsDeviceRecord) device = NULL;
  g_autoptr (GPtrArray) list = NULL;
  CpsStorage *storage = fixture->storage;
  gint64 active = -1, pending = -1, revoked = -1;
  CpsDeviceRecord duplicate = {
    .id = (char *) "00000000-0000-4000-8000-0000000000ff",
    .account_id = (char *) ACCOUNT_B,
    .public_key = (char *) "keyA",
    .key_fingerprint = (char *) "sha256:keyA",
    .state = (char *) "active",
    .registered_at = (char *) "2026-03-01T12:00:00.000Z",
  };

  add_account (storage, ACCOUNT_A, "alice", "admin");
  add_account (storage, ACCOUNT_B, "bob", "member");
  add_device (storage, DEVICE_B, ACCOUNT_A, "keyB", "pending", "2026-03-01T11:00:00.000Z");
  add_device (storage, DEVICE_A, ACCOUNT_A, "keyA", "active", "2026-03-01T11:00:00.000Z");
  add_device (storage, DEVICE_C, ACCOUNT_B, "keyC", "active", "2026-03-01T09:00:00.000Z");

  device = cps_storage_device_get (storage, DEVICE_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (device->id, ==, DEVICE_A);
  g_assert_cmpstr (device->account_id, ==, ACCOUNT_A);
  g_assert_cmpstr (device->name, ==, "Camera truck");
  g_assert_cmpstr (device->platform, ==, "linux");
  g_assert_cmpstr (device->client_version, ==, "0.1.0");
  g_assert_cmpstr (device->public_key, ==, "keyA");
  g_assert_cmpstr (device->key_fingerprint, ==, "sha256:keyA");
  g_assert_cmpstr (device->state, ==, "active");
  g_assert_cmpstr (device->registered_at, ==, "2026-03-01T11:00:00.000Z");
  g_assert_null (device->last_seen_at);
  g_assert_null (device->last_sync_at);
  g_assert_null (device->revoked_at);
  g_clear_pointer (&device, cps_device_record_free);

  device = cps_storage_device_get_by_key (storage, "keyC", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (device->id, ==, DEVICE_C);
  g_clear_pointer (&device, cps_device_record_free);

  /* A key is registered once over all accounts. */
  g_assert_false (cps_storage_device_insert (storage, &duplicate, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_EXISTS);
  g_clear_error (&error);

  g_assert_null (cps_storage_device_get (storage, "nope", &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (cps_storage_device_get_by_key (storage, "nope", &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Ordered by registered_at, then id. */
  list = cps_storage_device_list (storage, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmpstr (((CpsDeviceRecord *) list->pdata[0])->id, ==, DEVICE_C);
  g_assert_cmpstr (((CpsDeviceRecord *) list->pdata[1])->id, ==, DEVICE_A);
  g_assert_cmpstr (((CpsDeviceRecord *) list->pdata[2])->id, ==, DEVICE_B);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = cps_storage_device_list (storage, ACCOUNT_A, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((CpsDeviceRecord *) list->pdata[0])->id, ==, DEVICE_A);
  g_assert_cmpstr (((CpsDeviceRecord *) list->pdata[1])->id, ==, DEVICE_B);

  g_assert_true (cps_storage_device_count_states (storage, &active, &pending, &revoked, &error));
  g_assert_no_error (error);
  g_assert_cmpint (active, ==, 2);
  g_assert_cmpint (pending, ==, 1);
  g_assert_cmpint (revoked, ==, 0);

  /* Revoke. */
  device = cps_storage_device_get (storage, DEVICE_C, &error);
  g_assert_no_error (error);
  g_free (device->state);
  device->state = g_strdup ("revoked");
  device->revoked_at = g_strdup ("2026-03-02T08:00:00.000Z");
  device->revoked_by = g_strdup (ACCOUNT_A);
  device->revoke_reason = g_strdup ("Lost on set");
  g_free (device->name);
  device->name = g_strdup ("Old laptop");
  g_assert_true (cps_storage_device_update (storage, device, &error));
  g_assert_no_error (error);
  g_clear_pointer (&device, cps_device_record_free);
  device = cps_storage_device_get (storage, DEVICE_C, &error);
  g_assert_cmpstr (device->state, ==, "revoked");
  g_assert_cmpstr (device->revoked_at, ==, "2026-03-02T08:00:00.000Z");
  g_assert_cmpstr (device->revoked_by, ==, ACCOUNT_A);
  g_assert_cmpstr (device->revoke_reason, ==, "Lost on set");
  g_assert_cmpstr (device->name, ==, "Old laptop");
  g_assert_true (cps_storage_device_count_states (storage, &active, &pending, &revoked, &error));
  g_assert_cmpint (active, ==, 1);
  g_assert_cmpint (revoked, ==, 1);
  g_clear_pointer (&device, cps_device_record_free);

  /* Touch. */
  g_assert_true (
      cps_storage_device_touch (storage, DEVICE_A, "2026-03-03T01:00:00.000Z", FALSE, &error));
  g_assert_no_error (error);
  device = cps_storage_device_get (storage, DEVICE_A, &error);
  g_assert_cmpstr (device->last_seen_at, ==, "2026-03-03T01:00:00.000Z");
  g_assert_null (device->last_sync_at);
  g_clear_pointer (&device, cps_device_record_free);
  g_assert_true (
      cps_storage_device_touch (storage, DEVICE_A, "2026-03-03T02:00:00.000Z", TRUE, &error));
  device = cps_storage_device_get (storage, DEVICE_A, &error);
  g_assert_cmpstr (device->last_seen_at, ==, "2026-03-03T02:00:00.000Z");
  g_assert_cmpstr (device->last_sync_at, ==, "2026-03-03T02:00:00.000Z");
  g_assert_false (
      cps_storage_device_touch (storage, "nope", "2026-03-03T02:00:00.000Z", TRUE, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  duplicate.id = (char *) "nope";
  g_assert_false (cps_storage_device_update (storage, &duplicate, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
}

static void
add_token (CpsStorage *storage, const char *hash, CpsTokenKind kind, const char *session,
           const char *device_id, gint64 expires_at)
{
  g_autoptr (GError) error = NULL;
  CpsTokenRecord token = {
    .token_hash = (char *) hash,
    .kind = kind,
    .state = CPS_TOKEN_ACTIVE,
    .session_id = (char *) session,
    .account_id = (char *) ACCOUNT_A,
    .device_id = (char *) device_id,
    .created_at = 1000,
    .expires_at = expires_at,
  };

  g_assert_true (cps_storage_token_insert (storage, &token, &error));
  g_assert_no_error (error);
}

static CpsTokenState
token_state (CpsStorage *storage, const char *hash)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsTokenRecord) token = cps_storage_token_get (storage, hash, &error);

  g_assert_no_error (error);
  return token->state;
}

static void
test_tokens (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsTokenRecord) token = NULL;
  CpsStorage *storage = fixture->storage;

  add_account (storage, ACCOUNT_A, "alice", "admin");
  add_device (storage, DEVICE_A, ACCOUNT_A, "keyA", "active", "2026-03-01T11:00:00.000Z");
  add_device (storage, DEVICE_B, ACCOUNT_A, "keyB", "active", "2026-03-01T11:00:00.000Z");
  add_token (storage, "sha256:a1", CPS_TOKEN_ACCESS, "s1", DEVICE_A, 2000);
  add_token (storage, "sha256:r1", CPS_TOKEN_REFRESH, "s1", DEVICE_A, 9000);
  add_token (storage, "sha256:a2", CPS_TOKEN_ACCESS, "s2", DEVICE_A, 3000);
  add_token (storage, "sha256:a3", CPS_TOKEN_ACCESS, "s3", DEVICE_B, 3000);

  token = cps_storage_token_get (storage, "sha256:r1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (token->token_hash, ==, "sha256:r1");
  g_assert_cmpint (token->kind, ==, CPS_TOKEN_REFRESH);
  g_assert_cmpint (token->state, ==, CPS_TOKEN_ACTIVE);
  g_assert_cmpstr (token->session_id, ==, "s1");
  g_assert_cmpstr (token->account_id, ==, ACCOUNT_A);
  g_assert_cmpstr (token->device_id, ==, DEVICE_A);
  g_assert_cmpint (token->created_at, ==, 1000);
  g_assert_cmpint (token->expires_at, ==, 9000);

  g_assert_null (cps_storage_token_get (storage, "sha256:none", &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (cps_storage_token_set_state (storage, "sha256:none", CPS_TOKEN_REVOKED, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Same hash twice. */
  {
    CpsTokenRecord again = *token;
    g_assert_false (cps_storage_token_insert (storage, &again, &error));
    g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_EXISTS);
    g_clear_error (&error);
  }

  g_assert_true (cps_storage_token_set_state (storage, "sha256:r1", CPS_TOKEN_ROTATED, &error));
  g_assert_no_error (error);
  g_assert_cmpint (token_state (storage, "sha256:r1"), ==, CPS_TOKEN_ROTATED);

  g_assert_true (cps_storage_tokens_revoke_session (storage, "s1", &error));
  g_assert_no_error (error);
  g_assert_cmpint (token_state (storage, "sha256:a1"), ==, CPS_TOKEN_REVOKED);
  g_assert_cmpint (token_state (storage, "sha256:r1"), ==, CPS_TOKEN_REVOKED);
  g_assert_cmpint (token_state (storage, "sha256:a2"), ==, CPS_TOKEN_ACTIVE);

  g_assert_true (cps_storage_tokens_revoke_device (storage, DEVICE_A, &error));
  g_assert_no_error (error);
  g_assert_cmpint (token_state (storage, "sha256:a2"), ==, CPS_TOKEN_REVOKED);
  g_assert_cmpint (token_state (storage, "sha256:a3"), ==, CPS_TOKEN_ACTIVE);

  /* Expired at 3000 or earlier. */
  g_assert_true (cps_storage_tokens_purge_expired (storage, 3000, &error));
  g_assert_no_error (error);
  g_clear_pointer (&token, cps_token_record_free);
  token = cps_storage_token_get (storage, "sha256:a1", &error);
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  token = cps_storage_token_get (storage, "sha256:a3", &error);
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (token_state (storage, "sha256:r1"), ==, CPS_TOKEN_REVOKED);
}

static void
test_ratelimit (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  CpsStorage *storage = fixture->storage;
  gint64 oldest = -1;

  g_assert_cmpint (cps_storage_ratelimit_count (storage, "account:alice", 0, &oldest, &error), ==,
                   0);
  g_assert_no_error (error);
  g_assert_cmpint (oldest, ==, 0);

  for (gint64 at = 100000; at < 100050; at += 10)
    {
      g_assert_true (cps_storage_ratelimit_record (storage, "account:alice", at, &error));
      g_assert_no_error (error);
    }
  g_assert_true (cps_storage_ratelimit_record (storage, "address:10.0.0.1", 100000, &error));

  g_assert_cmpint (cps_storage_ratelimit_count (storage, "account:alice", 0, &oldest, &error), ==,
                   5);
  g_assert_cmpint (oldest, ==, 100000);
  g_assert_cmpint (cps_storage_ratelimit_count (storage, "account:alice", 100015, &oldest, &error),
                   ==, 3);
  g_assert_cmpint (oldest, ==, 100020);
  g_assert_cmpint (cps_storage_ratelimit_count (storage, "address:10.0.0.1", 0, NULL, &error), ==,
                   1);
  g_assert_no_error (error);

  /* A failure a day later drops what is older than a day for that key only. */
  g_assert_true (
      cps_storage_ratelimit_record (storage, "account:alice", 100000 + 86400 + 15, &error));
  g_assert_cmpint (cps_storage_ratelimit_count (storage, "account:alice", 0, &oldest, &error), ==,
                   4);
  g_assert_cmpint (oldest, ==, 100020);
  g_assert_cmpint (cps_storage_ratelimit_count (storage, "address:10.0.0.1", 0, NULL, &error), ==,
                   1);

  g_assert_true (cps_storage_ratelimit_clear (storage, "account:alice", &error));
  g_assert_no_error (error);
  g_assert_cmpint (cps_storage_ratelimit_count (storage, "account:alice", 0, &oldest, &error), ==,
                   0);
  g_assert_cmpint (oldest, ==, 0);
  g_assert_cmpint (cps_storage_ratelimit_count (storage, "address:10.0.0.1", 0, NULL, &error), ==,
                   1);
}

static CpsWrappedKeyRecord *
wrapped_key_new (gint64 epoch, const char *key)
{
  CpsWrappedKeyRecord *record = g_new0 (CpsWrappedKeyRecord, 1);

  record->account_id = g_strdup (ACCOUNT_B);
  record->key_epoch = epoch;
  record->wrapped_key = g_strdup (key);
  return record;
}

static void
test_projects (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsProjectRecord) project = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GPtrArray) keys = NULL;
  g_autofree char *role = NULL;
  CpsStorage *storage = fixture->storage;
  const char *heads[] = { "sha256:bbbb", "sha256:aaaa", NULL };

  add_account (storage, ACCOUNT_A, "alice", "admin");
  add_account (storage, ACCOUNT_B, "bob", "member");
  add_project (storage, PROJECT_2, ACCOUNT_A);
  add_project (storage, PROJECT_1, ACCOUNT_A);
  add_project (storage, PROJECT_3, ACCOUNT_B);

  project = cps_storage_project_get (storage, PROJECT_1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (project->id, ==, PROJECT_1);
  g_assert_cmpstr (project->name, ==, "Feature film");
  g_assert_cmpstr (project->owner, ==, ACCOUNT_A);
  g_assert_false (project->encrypted);
  g_assert_cmpstr (project->created_at, ==, "2026-03-01T10:00:00.000Z");
  g_assert_cmpstr (project->updated_at, ==, "2026-03-01T10:00:00.000Z");
  g_assert_nonnull (project->heads);
  g_assert_cmpuint (g_strv_length (project->heads), ==, 0);
  g_assert_false (project->conflicted);
  g_assert_cmpint (project->revision_count, ==, 0);
  g_assert_null (project->checksum);
  g_assert_false (project->deleted);

  /* Same id twice. */
  g_assert_false (cps_storage_project_insert (storage, project, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_EXISTS);
  g_clear_error (&error);

  /* Update; heads are stored sorted. */
  g_free (project->name);
  project->name = g_strdup ("Renamed");
  g_free (project->updated_at);
  project->updated_at = g_strdup ("2026-03-02T10:00:00.000Z");
  g_strfreev (project->heads);
  project->heads = g_strdupv ((char **) heads);
  project->conflicted = TRUE;
  project->revision_count = 5;
  project->checksum = g_strdup ("sha256:cccc");
  project->deleted = TRUE;
  g_assert_true (cps_storage_project_update (storage, project, &error));
  g_assert_no_error (error);
  g_clear_pointer (&project, cps_project_record_free);
  project = cps_storage_project_get (storage, PROJECT_1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (project->name, ==, "Renamed");
  g_assert_cmpstr (project->updated_at, ==, "2026-03-02T10:00:00.000Z");
  g_assert_cmpuint (g_strv_length (project->heads), ==, 2);
  g_assert_cmpstr (project->heads[0], ==, "sha256:aaaa");
  g_assert_cmpstr (project->heads[1], ==, "sha256:bbbb");
  g_assert_true (project->conflicted);
  g_assert_cmpint (project->revision_count, ==, 5);
  g_assert_cmpstr (project->checksum, ==, "sha256:cccc");
  g_assert_true (project->deleted);
  g_assert_cmpint (cps_storage_project_count_conflicted (storage, &error), ==, 1);
  g_assert_no_error (error);

  g_assert_null (cps_storage_project_get (storage, "nope", &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_free (project->id);
  project->id = g_strdup ("nope");
  g_assert_false (cps_storage_project_update (storage, project, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Members. */
  g_assert_true (cps_storage_member_put (storage, PROJECT_1, ACCOUNT_A, "owner", &error));
  g_assert_true (cps_storage_member_put (storage, PROJECT_2, ACCOUNT_A, "owner", &error));
  g_assert_true (cps_storage_member_put (storage, PROJECT_3, ACCOUNT_B, "owner", &error));
  g_assert_true (cps_storage_member_put (storage, PROJECT_1, ACCOUNT_B, "viewer", &error));
  g_assert_true (cps_storage_member_put (storage, PROJECT_1, ACCOUNT_B, "editor", &error));
  g_assert_no_error (error);
  role = cps_storage_member_get_role (storage, PROJECT_1, ACCOUNT_B, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (role, ==, "editor");
  g_clear_pointer (&role, g_free);
  role = cps_storage_member_get_role (storage, PROJECT_2, ACCOUNT_B, &error);
  g_assert_null (role);
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  list = cps_storage_member_list (storage, PROJECT_1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((CpsMemberRecord *) list->pdata[0])->account_id, ==, ACCOUNT_A);
  g_assert_cmpstr (((CpsMemberRecord *) list->pdata[0])->role, ==, "owner");
  g_assert_cmpstr (((CpsMemberRecord *) list->pdata[1])->account_id, ==, ACCOUNT_B);
  g_assert_cmpstr (((CpsMemberRecord *) list->pdata[1])->role, ==, "editor");
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Project lists: all (admins) or by membership, by id, cursor exclusive. */
  list = cps_storage_project_list (storage, NULL, NULL, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((CpsProjectRecord *) list->pdata[0])->id, ==, PROJECT_1);
  g_assert_cmpstr (((CpsProjectRecord *) list->pdata[1])->id, ==, PROJECT_2);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = cps_storage_project_list (storage, NULL, PROJECT_2, 2, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((CpsProjectRecord *) list->pdata[0])->id, ==, PROJECT_3);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = cps_storage_project_list (storage, ACCOUNT_B, NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((CpsProjectRecord *) list->pdata[0])->id, ==, PROJECT_1);
  g_assert_cmpstr (((CpsProjectRecord *) list->pdata[0])->name, ==, "Renamed");
  g_assert_cmpuint (g_strv_length (((CpsProjectRecord *) list->pdata[0])->heads), ==, 2);
  g_assert_cmpstr (((CpsProjectRecord *) list->pdata[1])->id, ==, PROJECT_3);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = cps_storage_project_list (storage, ACCOUNT_B, PROJECT_1, 1, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((CpsProjectRecord *) list->pdata[0])->id, ==, PROJECT_3);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = cps_storage_project_list (storage, ACCOUNT_C, NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Wrapped keys: put replaces. */
  keys = g_ptr_array_new_with_free_func ((GDestroyNotify) cps_wrapped_key_record_free);
  g_ptr_array_add (keys, wrapped_key_new (1, "a2V5MQ=="));
  g_ptr_array_add (keys, wrapped_key_new (2, "a2V5Mg=="));
  g_assert_true (cps_storage_keys_put (storage, PROJECT_1, ACCOUNT_B, keys, &error));
  g_assert_no_error (error);
  list = cps_storage_keys_list (storage, PROJECT_1, ACCOUNT_B, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((CpsWrappedKeyRecord *) list->pdata[0])->account_id, ==, ACCOUNT_B);
  g_assert_cmpint (((CpsWrappedKeyRecord *) list->pdata[0])->key_epoch, ==, 1);
  g_assert_cmpstr (((CpsWrappedKeyRecord *) list->pdata[0])->wrapped_key, ==, "a2V5MQ==");
  g_assert_cmpint (((CpsWrappedKeyRecord *) list->pdata[1])->key_epoch, ==, 2);
  g_clear_pointer (&list, g_ptr_array_unref);
  g_ptr_array_remove_index (keys, 0);
  g_assert_true (cps_storage_keys_put (storage, PROJECT_1, ACCOUNT_B, keys, &error));
  list = cps_storage_keys_list (storage, PROJECT_1, ACCOUNT_B, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpint (((CpsWrappedKeyRecord *) list->pdata[0])->key_epoch, ==, 2);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = cps_storage_keys_list (storage, PROJECT_1, NULL, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = cps_storage_keys_list (storage, PROJECT_1, ACCOUNT_A, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Removing a member drops the keys it held. */
  g_assert_true (cps_storage_member_delete (storage, PROJECT_1, ACCOUNT_B, &error));
  g_assert_no_error (error);
  role = cps_storage_member_get_role (storage, PROJECT_1, ACCOUNT_B, &error);
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  list = cps_storage_keys_list (storage, PROJECT_1, ACCOUNT_B, &error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);
  g_assert_false (cps_storage_member_delete (storage, PROJECT_1, ACCOUNT_B, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  list = cps_storage_project_list (storage, ACCOUNT_B, NULL, 10, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((CpsProjectRecord *) list->pdata[0])->id, ==, PROJECT_3);
}

/* Accounts A and B; A is a member of projects 1 and 2, B of 2 and 3; one device each. */
static void
add_world (CpsStorage *storage)
{
  g_autoptr (GError) error = NULL;

  add_account (storage, ACCOUNT_A, "alice", "admin");
  add_account (storage, ACCOUNT_B, "bob", "member");
  add_device (storage, DEVICE_A, ACCOUNT_A, "keyA", "active", "2026-03-01T11:00:00.000Z");
  add_device (storage, DEVICE_B, ACCOUNT_B, "keyB", "active", "2026-03-01T11:00:00.000Z");
  add_project (storage, PROJECT_1, ACCOUNT_A);
  add_project (storage, PROJECT_2, ACCOUNT_A);
  add_project (storage, PROJECT_3, ACCOUNT_B);
  g_assert_true (cps_storage_member_put (storage, PROJECT_1, ACCOUNT_A, "owner", &error));
  g_assert_true (cps_storage_member_put (storage, PROJECT_2, ACCOUNT_A, "owner", &error));
  g_assert_true (cps_storage_member_put (storage, PROJECT_2, ACCOUNT_B, "viewer", &error));
  g_assert_true (cps_storage_member_put (storage, PROJECT_3, ACCOUNT_B, "owner", &error));
  g_assert_no_error (error);
}

typedef struct
{
  GPtrArray *ids;
  guint stop_after;
} ForeachData;

static gboolean
collect_revision (const CpsRevisionRecord *revision, gpointer user_data, GError **error)
{
  ForeachData *data = user_data;

  g_assert_nonnull (revision->json);
  g_ptr_array_add (data->ids, g_strdup (revision->id));
  if (data->ids->len == data->stop_after)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Stopped after %u.", data->stop_after);
      return FALSE;
    }
  return TRUE;
}

static void
test_revisions (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsRevisionRecord) revision = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *id1 = make_revision_id (1);
  g_autofree char *id2 = make_revision_id (2);
  CpsStorage *storage = fixture->storage;
  gint64 seqs[10];
  gint64 last_seq;
  ForeachData foreach_data = { 0 };

  add_world (storage);
  g_assert_cmpint (cps_storage_revision_count (storage, &error), ==, 0);

  /* Revisions 1..9: n % 3 picks the project (1 → P2, 2 → P3, 0 → P1). */
  for (guint n = 1; n <= 9; n++)
    {
      const char *project = n % 3 == 1 ? PROJECT_2 : n % 3 == 2 ? PROJECT_3 : PROJECT_1;
      g_autofree char *parent = n > 3 ? make_revision_id (n - 3) : NULL;

      seqs[n] = add_revision (storage, n, project, n % 2 ? DEVICE_A : DEVICE_B, parent);
      if (n > 1)
        g_assert_cmpint (seqs[n], >, seqs[n - 1]);
    }
  g_assert_cmpint (cps_storage_revision_count (storage, &error), ==, 9);

  /* Duplicate id, even in another project. */
  {
    g_autofree char *json = g_strdup ("{}");
    const char *none[] = { NULL };
    CpsRevisionRecord duplicate = {
      .id = id1,
      .project_id = (char *) PROJECT_1,
      .device_id = (char *) DEVICE_A,
      .created_at = (char *) "2026-03-01T10:00:00.000Z",
      .checksum = (char *) "sha256:00",
      .parents = (GStrv) none,
      .clock_json = (char *) "{}",
      .json = json,
      .header_json = json,
    };
    g_assert_false (cps_storage_revision_insert (storage, &duplicate, &error));
    g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_EXISTS);
    g_clear_error (&error);
  }

  /* Full record, by id in any project or in its own. */
  revision = cps_storage_revision_get (storage, NULL, id1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (revision->seq, ==, seqs[1]);
  g_assert_cmpstr (revision->id, ==, id1);
  g_assert_cmpstr (revision->project_id, ==, PROJECT_2);
  g_assert_cmpstr (revision->device_id, ==, DEVICE_A);
  g_assert_cmpstr (revision->created_at, ==, "2026-03-01T10:00:00.000Z");
  g_assert_cmpstr (revision->checksum, ==,
                   "sha256:1111111111111111111111111111111111111111111111111111111111111111");
  g_assert_false (revision->deleted);
  g_assert_cmpuint (g_strv_length (revision->parents), ==, 0);
  g_assert_cmpuint (revision->clock_sum, ==, 1);
  g_assert_cmpstr (revision->clock_json, ==, "{}");
  g_assert_nonnull (strstr (revision->json, "\"payload\""));
  g_assert_null (strstr (revision->header_json, "\"payload\""));
  g_clear_pointer (&revision, cps_revision_record_free);

  {
    g_autofree char *id7 = make_revision_id (7);
    g_autofree char *id4 = make_revision_id (4);

    revision = cps_storage_revision_get (storage, PROJECT_2, id7, &error);
    g_assert_no_error (error);
    g_assert_true (revision->deleted);
    g_assert_cmpuint (g_strv_length (revision->parents), ==, 1);
    g_assert_cmpstr (revision->parents[0], ==, id4);
    g_clear_pointer (&revision, cps_revision_record_free);
  }

  g_assert_null (cps_storage_revision_get (storage, PROJECT_1, id1, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (cps_storage_revision_get (storage, NULL, "sha256:none", &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Project list: headers only, oldest first, paged by seq. */
  list = cps_storage_revision_list (storage, PROJECT_2, 0, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpint (((CpsRevisionRecord *) list->pdata[0])->seq, ==, seqs[1]);
  g_assert_cmpint (((CpsRevisionRecord *) list->pdata[1])->seq, ==, seqs[4]);
  g_assert_null (((CpsRevisionRecord *) list->pdata[0])->json);
  g_assert_nonnull (((CpsRevisionRecord *) list->pdata[0])->header_json);
  g_assert_cmpstr (((CpsRevisionRecord *) list->pdata[0])->checksum, !=, NULL);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = cps_storage_revision_list (storage, PROJECT_2, seqs[4], 2, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpint (((CpsRevisionRecord *) list->pdata[0])->seq, ==, seqs[7]);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Graph: id, parents, clock_sum. */
  list = cps_storage_revision_graph (storage, PROJECT_3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmpstr (((CpsRevisionRecord *) list->pdata[0])->id, ==, id2);
  g_assert_cmpuint (g_strv_length (((CpsRevisionRecord *) list->pdata[0])->parents), ==, 0);
  g_assert_cmpuint (((CpsRevisionRecord *) list->pdata[1])->clock_sum, ==, 5);
  g_assert_cmpuint (g_strv_length (((CpsRevisionRecord *) list->pdata[1])->parents), ==, 1);
  g_assert_cmpstr (((CpsRevisionRecord *) list->pdata[1])->parents[0], ==, id2);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Changes: everything for NULL, the member's projects otherwise, paged by seq. */
  list = cps_storage_changes_list (storage, NULL, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 9);
  for (guint i = 0; i < 9; i++)
    {
      g_assert_cmpint (((CpsRevisionRecord *) list->pdata[i])->seq, ==, seqs[i + 1]);
      g_assert_nonnull (((CpsRevisionRecord *) list->pdata[i])->json);
    }
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Alice: projects 1 and 2 → n % 3 != 2: 1, 3, 4, 6, 7, 9. */
  {
    const guint expected[] = { 1, 3, 4, 6, 7, 9 };
    gint64 after = 0;
    guint seen = 0;

    for (;;)
      {
        list = cps_storage_changes_list (storage, ACCOUNT_A, after, 4, &error);
        g_assert_no_error (error);
        if (list->len == 0)
          break;
        for (guint i = 0; i < list->len; i++)
          {
            CpsRevisionRecord *change = list->pdata[i];

            g_assert_cmpuint (seen, <, G_N_ELEMENTS (expected));
            g_assert_cmpint (change->seq, ==, seqs[expected[seen]]);
            g_assert_cmpstr (change->project_id, !=, PROJECT_3);
            g_assert_nonnull (change->json);
            seen++;
            after = change->seq;
          }
        g_clear_pointer (&list, g_ptr_array_unref);
      }
    g_clear_pointer (&list, g_ptr_array_unref);
    g_assert_cmpuint (seen, ==, G_N_ELEMENTS (expected));
  }
  /* Bob: projects 2 and 3 → n % 3 != 0. */
  list = cps_storage_changes_list (storage, ACCOUNT_B, seqs[4], 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmpint (((CpsRevisionRecord *) list->pdata[0])->seq, ==, seqs[5]);
  g_assert_cmpint (((CpsRevisionRecord *) list->pdata[1])->seq, ==, seqs[7]);
  g_assert_cmpint (((CpsRevisionRecord *) list->pdata[2])->seq, ==, seqs[8]);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = cps_storage_changes_list (storage, "00000000-0000-4000-8000-0000000000ee", 0, 100, &error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* foreach: every revision in seq order; an error stops it and is passed on. */
  foreach_data.ids = g_ptr_array_new_with_free_func (g_free);
  g_assert_true (cps_storage_revision_foreach (storage, collect_revision, &foreach_data, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (foreach_data.ids->len, ==, 9);
  g_assert_cmpstr (foreach_data.ids->pdata[0], ==, id1);
  g_assert_cmpstr (foreach_data.ids->pdata[1], ==, id2);
  g_ptr_array_set_size (foreach_data.ids, 0);
  foreach_data.stop_after = 3;
  g_assert_false (cps_storage_revision_foreach (storage, collect_revision, &foreach_data, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (foreach_data.ids->len, ==, 3);
  g_ptr_array_unref (foreach_data.ids);

  /* The sequence is durable: after a restart new revisions continue above it. */
  last_seq = seqs[9];
  reopen (fixture);
  storage = fixture->storage;
  g_assert_cmpint (cps_storage_revision_count (storage, &error), ==, 9);
  g_assert_cmpint (add_revision (storage, 10, PROJECT_1, DEVICE_A, NULL), >, last_seq);
  list = cps_storage_changes_list (storage, NULL, last_seq, 100, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* A rolled-back revision leaves no trace; numbering goes on from the last committed one. */
  g_assert_true (cps_storage_begin (storage, &error));
  last_seq = add_revision (storage, 11, PROJECT_1, DEVICE_A, NULL);
  cps_storage_rollback (storage);
  g_assert_cmpint (cps_storage_revision_count (storage, &error), ==, 10);
  g_assert_cmpint (add_revision (storage, 12, PROJECT_1, DEVICE_A, NULL), >=, last_seq);
}

static void
assert_refused (const char *path, const char *sql, const char *expected)
{
  g_autofree char *message = NULL;

  g_assert_cmpint (raw_exec (path, sql, &message), !=, SQLITE_OK);
  g_assert_nonnull (message);
  g_assert_nonnull (strstr (message, expected));
}

static void
test_append_only (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  CpsStorage *storage = fixture->storage;
  CpsCheckpointRecord checkpoint = {
    .seq = 1,
    .hash = (char *) "sha256:1",
    .at = (char *) "2026-03-01T10:00:00.000Z",
    .signature = (char *) "c2ln",
  };

  add_world (storage);
  add_revision (storage, 1, PROJECT_1, DEVICE_A, NULL);
  add_audit (storage, 1, "2026-03-01T10:00:00.000Z", "project.created", ACCOUNT_A, NULL);
  g_assert_true (cps_storage_checkpoint_insert (storage, &checkpoint, &error));
  g_assert_no_error (error);

  assert_refused (fixture->path, "UPDATE revisions SET deleted = 1", "append-only");
  assert_refused (fixture->path, "DELETE FROM revisions", "append-only");
  assert_refused (fixture->path, "UPDATE audit_entries SET action = 'x'", "append-only");
  assert_refused (fixture->path, "DELETE FROM audit_entries", "append-only");
  assert_refused (fixture->path, "UPDATE checkpoints SET hash = 'x'", "append-only");
  assert_refused (fixture->path, "DELETE FROM checkpoints", "append-only");

  g_assert_cmpint (raw_int (fixture->path, "SELECT count(*) FROM revisions"), ==, 1);
  g_assert_cmpint (raw_int (fixture->path, "SELECT count(*) FROM audit_entries"), ==, 1);
  g_assert_cmpint (raw_int (fixture->path, "SELECT count(*) FROM checkpoints"), ==, 1);
}

static void
test_audit (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (CpsCheckpointRecord) checkpoint = NULL;
  g_autofree char *hash = NULL;
  CpsStorage *storage = fixture->storage;
  CpsAuditFilter filter = { 0 };
  gint64 seq = -1;
  CpsCheckpointRecord new_checkpoint = {
    .at = (char *) "2026-03-01T12:00:00.000Z",
    .signature = (char *) "c2lnbmF0dXJl",
  };

  g_assert_true (cps_storage_audit_last (storage, &seq, &hash, &error));
  g_assert_no_error (error);
  g_assert_cmpint (seq, ==, 0);
  g_assert_null (hash);
  checkpoint = cps_storage_checkpoint_last (storage, &error);
  g_assert_no_error (error);
  g_assert_null (checkpoint);

  add_audit (storage, 1, "2026-03-01T10:00:00.000Z", "login.succeeded", ACCOUNT_A, DEVICE_A);
  add_audit (storage, 2, "2026-03-01T10:05:00.000Z", "push.accepted", ACCOUNT_A, DEVICE_A);
  add_audit (storage, 3, "2026-03-01T11:00:00.000Z", "push.accepted", ACCOUNT_B, DEVICE_B);
  add_audit (storage, 4, "2026-03-02T09:00:00.000Z", "login.failed", NULL, NULL);
  add_audit (storage, 5, "2026-03-02T10:00:00.000Z", "push.accepted", ACCOUNT_A, DEVICE_C);

  g_assert_true (cps_storage_audit_last (storage, &seq, &hash, &error));
  g_assert_cmpint (seq, ==, 5);
  g_assert_cmpstr (hash, ==,
                   "sha256:0000000000000000000000000000000000000000000000000000000000000005");

  /* The chain only grows at its end. */
  {
    CpsAuditRecord gap = {
      .seq = 7,
      .at = (char *) "2026-03-02T10:00:00.000Z",
      .action = (char *) "x.y",
      .details_json = (char *) "{}",
      .prev_hash = (char *) "sha256:5",
      .hash = (char *) "sha256:7",
    };
    g_assert_false (cps_storage_audit_insert (storage, &gap, &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
    gap.seq = 5;
    g_assert_false (cps_storage_audit_insert (storage, &gap, &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
  }

  list = cps_storage_audit_list (storage, NULL, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 5);
  {
    CpsAuditRecord *entry = list->pdata[0];
    g_assert_cmpint (entry->seq, ==, 1);
    g_assert_cmpstr (entry->at, ==, "2026-03-01T10:00:00.000Z");
    g_assert_cmpstr (entry->action, ==, "login.succeeded");
    g_assert_cmpstr (entry->actor_account, ==, ACCOUNT_A);
    g_assert_cmpstr (entry->actor_device, ==, DEVICE_A);
    g_assert_cmpstr (entry->target_type, ==, "project");
    g_assert_cmpstr (entry->target_id, ==, "p");
    g_assert_cmpstr (entry->details_json, ==, "{\"n\":1}");
    g_assert_cmpstr (entry->prev_hash, ==,
                     "sha256:0000000000000000000000000000000000000000000000000000000000000000");
    g_assert_cmpstr (entry->hash, ==,
                     "sha256:0000000000000000000000000000000000000000000000000000000000000001");
    entry = list->pdata[3];
    g_assert_null (entry->actor_account);
    g_assert_null (entry->actor_device);
  }
  g_clear_pointer (&list, g_ptr_array_unref);

  list = cps_storage_audit_list (storage, NULL, 2, 2, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpint (((CpsAuditRecord *) list->pdata[0])->seq, ==, 3);
  g_assert_cmpint (((CpsAuditRecord *) list->pdata[1])->seq, ==, 4);
  g_clear_pointer (&list, g_ptr_array_unref);

  filter.action = (char *) "push.accepted";
  list = cps_storage_audit_list (storage, &filter, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  g_clear_pointer (&list, g_ptr_array_unref);

  filter.actor_account = (char *) ACCOUNT_A;
  list = cps_storage_audit_list (storage, &filter, 0, 100, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpint (((CpsAuditRecord *) list->pdata[0])->seq, ==, 2);
  g_assert_cmpint (((CpsAuditRecord *) list->pdata[1])->seq, ==, 5);
  g_clear_pointer (&list, g_ptr_array_unref);

  filter.actor_device = (char *) DEVICE_C;
  list = cps_storage_audit_list (storage, &filter, 0, 100, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpint (((CpsAuditRecord *) list->pdata[0])->seq, ==, 5);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Time range: from inclusive, to exclusive. */
  memset (&filter, 0, sizeof filter);
  filter.from = (char *) "2026-03-01T10:05:00.000Z";
  filter.to = (char *) "2026-03-02T10:00:00.000Z";
  list = cps_storage_audit_list (storage, &filter, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmpint (((CpsAuditRecord *) list->pdata[0])->seq, ==, 2);
  g_assert_cmpint (((CpsAuditRecord *) list->pdata[2])->seq, ==, 4);
  g_clear_pointer (&list, g_ptr_array_unref);

  filter.actor_device = (char *) DEVICE_B;
  list = cps_storage_audit_list (storage, &filter, 0, 100, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpint (((CpsAuditRecord *) list->pdata[0])->seq, ==, 3);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Checkpoints: in order of insertion; the same seq may be signed again. */
  new_checkpoint.seq = 2;
  new_checkpoint.hash = (char *) "sha256:2";
  g_assert_true (cps_storage_checkpoint_insert (storage, &new_checkpoint, &error));
  new_checkpoint.seq = 5;
  new_checkpoint.hash = (char *) "sha256:5";
  g_assert_true (cps_storage_checkpoint_insert (storage, &new_checkpoint, &error));
  new_checkpoint.at = (char *) "2026-03-01T12:10:00.000Z";
  g_assert_true (cps_storage_checkpoint_insert (storage, &new_checkpoint, &error));
  g_assert_no_error (error);
  list = cps_storage_checkpoint_list (storage, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmpint (((CpsCheckpointRecord *) list->pdata[0])->seq, ==, 2);
  g_assert_cmpstr (((CpsCheckpointRecord *) list->pdata[0])->hash, ==, "sha256:2");
  g_assert_cmpstr (((CpsCheckpointRecord *) list->pdata[0])->signature, ==, "c2lnbmF0dXJl");
  g_clear_pointer (&list, g_ptr_array_unref);
  checkpoint = cps_storage_checkpoint_last (storage, &error);
  g_assert_no_error (error);
  g_assert_cmpint (checkpoint->seq, ==, 5);
  g_assert_cmpstr (checkpoint->at, ==, "2026-03-01T12:10:00.000Z");
  g_assert_cmpstr (checkpoint->hash, ==, "sha256:5");

  /* A checkpoint of an entry that does not exist. */
  new_checkpoint.seq = 99;
  g_assert_false (cps_storage_checkpoint_insert (storage, &new_checkpoint, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED);
}

static void
test_backup (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsStorage) copy = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *backup = g_build_filename (fixture->dir, "backup.db", NULL);
  g_autofree char *wal = g_strconcat (backup, "-wal", NULL);
  g_autofree char *hash = NULL;
  CpsStorage *storage = fixture->storage;
  GStatBuf st;
  gint64 seq = 0;

  add_world (storage);
  for (guint n = 1; n <= 50; n++)
    add_revision (storage, n, n % 2 ? PROJECT_1 : PROJECT_3, DEVICE_A, NULL);
  add_audit (storage, 1, "2026-03-01T10:00:00.000Z", "backup.created", ACCOUNT_A, NULL);

  g_assert_true (cps_storage_backup_to (storage, backup, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (backup, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  /* Self-contained: not in WAL mode, so the one file is the whole backup. */
  g_assert_cmpint (raw_int (backup, "SELECT count(*) FROM revisions"), ==, 50);

  /* Never over an existing file. */
  g_assert_false (cps_storage_backup_to (storage, backup, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_cmpint (raw_int (backup, "SELECT count(*) FROM revisions"), ==, 50);

  copy = cps_storage_open ("sqlite", backup, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cps_storage_revision_count (copy, &error), ==, 50);
  g_assert_cmpint (cps_storage_account_count (copy, &error), ==, 2);
  list = cps_storage_changes_list (copy, ACCOUNT_B, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 25);
  g_clear_pointer (&list, g_ptr_array_unref);
  g_assert_true (cps_storage_audit_last (copy, &seq, &hash, &error));
  g_assert_cmpint (seq, ==, 1);
  g_assert_true (cps_storage_check_integrity (copy, problems, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (problems->len, ==, 0);
  /* The copy keeps counting where the original was. */
  g_assert_cmpint (add_revision (copy, 51, PROJECT_1, DEVICE_A, NULL), ==, 51);
}

static void
test_integrity (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  CpsStorage *storage = fixture->storage;

  add_world (storage);
  g_assert_true (cps_storage_check_integrity (storage, problems, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (problems->len, ==, 0);

  /* A member row whose project is gone, written past the foreign keys. */
  g_assert_cmpint (raw_exec (fixture->path,
                             "PRAGMA foreign_keys = OFF;"
                             "INSERT INTO members VALUES ('missing-project', '" ACCOUNT_A
                             "', 'owner')",
                             NULL),
                   ==, SQLITE_OK);
  g_assert_true (cps_storage_check_integrity (storage, problems, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (problems->len, ==, 1);
  g_assert_nonnull (strstr (problems->pdata[0], "members"));
  g_assert_nonnull (strstr (problems->pdata[0], "projects"));

  /* The same through this connection is refused. */
  g_assert_false (cps_storage_member_put (storage, "missing-project", ACCOUNT_B, "owner", &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED);
}

typedef struct
{
  const char *path;
  guint thread;
  GPtrArray *seqs; /* gint64 per revision, in commit order of this thread */
} WriterData;

#define N_WRITERS 4
#define N_BATCHES 25
#define BATCH_SIZE 4

/* A worker thread with its own connection: opens (maybe creating the file at the same time
 * as the others), then commits batches of revisions. */
static gpointer
writer_thread (gpointer user_data)
{
  WriterData *data = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsStorage) storage = cps_storage_open ("sqlite", data->path, &error);

  g_assert_no_error (error);
  for (guint batch = 0; batch < N_BATCHES; batch++)
    {
      g_assert_true (cps_storage_begin (storage, &error));
      g_assert_no_error (error);
      for (guint i = 0; i < BATCH_SIZE; i++)
        {
          guint n = 1000000 * (data->thread + 1) + batch * BATCH_SIZE + i;
          gint64 seq = add_revision (storage, n, PROJECT_1, DEVICE_A, NULL);

          g_ptr_array_add (data->seqs, g_memdup2 (&seq, sizeof seq));
        }
      g_assert_true (cps_storage_commit (storage, &error));
      g_assert_no_error (error);
    }
  return NULL;
}

static gpointer
opener_thread (gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsStorage) storage = cps_storage_open ("sqlite", user_data, &error);

  g_assert_no_error (error);
  g_assert_cmpint (cps_storage_revision_count (storage, &error), ==, 0);
  g_assert_no_error (error);
  return NULL;
}

static void
test_concurrent (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) feed = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autofree char *fresh = g_build_filename (fixture->dir, "fresh.db", NULL);
  WriterData writers[N_WRITERS];
  GThread *threads[N_WRITERS];
  gint64 last = 0;

  /* Several connections opening a new file at once: one creates the schema. */
  for (guint i = 0; i < N_WRITERS; i++)
    {
      writers[i] = (WriterData){ .path = fresh, .thread = i };
      writers[i].seqs = g_ptr_array_new_with_free_func (g_free);
    }
  for (guint i = 0; i < N_WRITERS; i++)
    threads[i] = g_thread_new ("opener", opener_thread, fresh);
  for (guint i = 0; i < N_WRITERS; i++)
    g_thread_join (threads[i]);
  g_assert_cmpint (raw_int (fresh, "PRAGMA user_version"), ==, 1);
  g_clear_pointer (&fixture->storage, cps_storage_close);
  fixture->storage = cps_storage_open ("sqlite", fresh, &error);
  g_assert_no_error (error);
  add_world (fixture->storage);

  for (guint i = 0; i < N_WRITERS; i++)
    threads[i] = g_thread_new ("writer", writer_thread, &writers[i]);
  for (guint i = 0; i < N_WRITERS; i++)
    g_thread_join (threads[i]);

  /* Every revision is in the feed once, in increasing seq order, and each thread's own
   * revisions got increasing seqs. */
  feed = cps_storage_changes_list (fixture->storage, NULL, 0, 1000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (feed->len, ==, N_WRITERS * N_BATCHES * BATCH_SIZE);
  for (guint i = 0; i < feed->len; i++)
    {
      gint64 seq = ((CpsRevisionRecord *) feed->pdata[i])->seq;

      g_assert_cmpint (seq, >, last);
      last = seq;
      g_hash_table_add (seen, g_memdup2 (&seq, sizeof seq));
    }
  for (guint t = 0; t < N_WRITERS; t++)
    {
      for (guint i = 0; i < writers[t].seqs->len; i++)
        {
          gint64 *seq = writers[t].seqs->pdata[i];

          g_assert_true (g_hash_table_contains (seen, seq));
          if (i > 0)
            g_assert_cmpint (*seq, >, *(gint64 *) writers[t].seqs->pdata[i - 1]);
        }
      g_ptr_array_unref (writers[t].seqs);
    }
}

/* Inserts @count revisions of PROJECT_1 numbered from @first + 1, each carrying @filler. */
static void
insert_large_revisions (CpsStorage *storage, guint first, guint count, const char *filler)
{
  g_autoptr (GError) error = NULL;

  for (guint n = first + 1; n <= first + count; n++)
    {
      g_autofree char *id = make_revision_id (n);
      g_autofree char *json = g_strdup_printf ("{\"id\":\"%s\",\"filler\":\"%s\"}", id, filler);
      CpsRevisionRecord revision = {
        .id = id,
        .project_id = (char *) PROJECT_1,
        .device_id = (char *) DEVICE_A,
        .created_at = (char *) "2026-03-01T10:00:00.000Z",
        .checksum = (char *) "sha256:1111111111111111111111111111111111111111111111111111111111111111",
        .parents = (GStrv) (const char *[]){ NULL },
        .clock_sum = n,
        .clock_json = (char *) "{}",
        .json = json,
        .header_json = (char *) "{}",
      };

      g_assert_true (cps_storage_revision_insert (storage, &revision, &error));
      g_assert_no_error (error);
    }
}


typedef enum
{
  MEMBER_COMMITS,
  MEMBER_ROLLS_BACK, /* after reading the work of the writer before it */
  MEMBER_LOSES_TRANSACTION, /* SQLite ends the transaction under it, as after an I/O error */
} MemberEnd;

/* Holds a member inside its transaction until the test opens it. */
typedef struct
{
  GMutex mutex;
  GCond cond;
  gboolean holding;
  gboolean open;
} Gate;

typedef struct
{
  const char *path;
  Gate *gate;    /* nullable */
  guint n;       /* the revision this writer inserts */
  MemberEnd end;
  guint reads;   /* and the revision it reads first (0: none) */
  gboolean committed;
  gboolean read_found;
  gboolean reads_held;  /* cps_storage_check_reads() after its rollback */
  gboolean began_after; /* cps_storage_begin() after its rollback, before that */
  GError *error;
  GError *reads_error;
} MemberData;

static gpointer
member_thread (gpointer user_data)
{
  MemberData *data = user_data;
  g_autoptr (CpsStorage) storage = cps_storage_open ("sqlite", data->path, &data->error);
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (storage);
  g_assert_true (cps_storage_begin (storage, &data->error));
  if (data->reads > 0)
    {
      g_autofree char *id = make_revision_id (data->reads);
      g_autoptr (CpsRevisionRecord) read = cps_storage_revision_get (storage, NULL, id, &error);

      data->read_found = read != NULL;
      g_clear_error (&error);
    }
  add_revision (storage, data->n, PROJECT_1, DEVICE_A, NULL);
  if (data->gate != NULL)
    {
      g_mutex_lock (&data->gate->mutex);
      data->gate->holding = TRUE;
      g_cond_broadcast (&data->gate->cond);
      while (!data->gate->open)
        g_cond_wait (&data->gate->cond, &data->gate->mutex);
      g_mutex_unlock (&data->gate->mutex);
    }
  switch (data->end)
    {
    case MEMBER_COMMITS:
      data->committed = cps_storage_commit (storage, &data->error);
      break;
    case MEMBER_ROLLS_BACK:
      cps_storage_rollback (storage);
      /* a request whose reads may be lost writes nothing more */
      data->began_after = cps_storage_begin (storage, &error);
      if (data->began_after)
        cps_storage_rollback (storage);
      data->reads_held = cps_storage_check_reads (storage, &data->reads_error);
      break;
    case MEMBER_LOSES_TRANSACTION:
      /* behind the storage's back, on the writer connection it holds */
      g_assert_cmpint (sqlite3_exec (((CpsStorageSqlite *) storage)->db, "ROLLBACK", NULL, NULL,
                                     NULL),
                       ==, SQLITE_OK);
      data->committed = cps_storage_commit (storage, &data->error);
      break;
    }
  return NULL;
}

static void
wait_for_joining (Fixture *fixture, guint n)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  while (_cps_storage_sqlite_count_joining (fixture->storage) < n)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
}

/* Starts a writer thread per member once the fixture's storage holds the turn, and returns
 * when all of them wait for it. */
static void
start_members (Fixture *fixture, MemberData *members, GThread **threads, guint n_members)
{
  for (guint i = 0; i < n_members; i++)
    {
      members[i].path = fixture->path;
      threads[i] = g_thread_new ("member", member_thread, &members[i]);
    }
  wait_for_joining (fixture, n_members);
}

static gboolean
revision_stored (CpsStorage *storage, guint n)
{
  g_autofree char *id = make_revision_id (n);
  g_autoptr (CpsRevisionRecord) stored = NULL;
  g_autoptr (GError) error = NULL;

  stored = cps_storage_revision_get (storage, PROJECT_1, id, &error);
  if (stored == NULL)
    g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_NOT_FOUND);
  return stored != NULL;
}

#define N_MEMBERS 5

/* Writers waiting for the turn when a commit comes share its transaction and its sync: the
 * commit returns only once their work is stored too, and a writer that rolls back takes
 * only its own work out. */
static void
test_group_commit (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *filler = g_strnfill (6000, 'x');
  MemberData members[N_MEMBERS] = { { 0 } };
  GThread *threads[N_MEMBERS];

  add_world (fixture->storage);
  /* the writer connection's page cache full, as on a server that has run a while */
  g_assert_true (cps_storage_begin (fixture->storage, &error));
  insert_large_revisions (fixture->storage, 1000, 2500, filler);
  g_assert_true (cps_storage_commit (fixture->storage, &error));

  g_assert_true (cps_storage_begin (fixture->storage, &error));
  add_revision (fixture->storage, 1, PROJECT_1, DEVICE_A, NULL);
  for (guint i = 0; i < N_MEMBERS; i++)
    {
      members[i].n = 100 + i;
      members[i].end = i == 2 ? MEMBER_ROLLS_BACK : MEMBER_COMMITS;
      members[i].reads = i == 2 ? 1 : 0;
    }
  start_members (fixture, members, threads, N_MEMBERS);

  /* Every waiting writer joins before the transaction is committed, so what this commit
   * returns after is already stored: a second connection sees it before the threads end. */
  g_assert_true (cps_storage_commit (fixture->storage, &error));
  g_assert_no_error (error);
  g_assert_cmpint (raw_int (fixture->path, "SELECT count(*) FROM revisions"), ==,
                   2500 + 1 + N_MEMBERS - 1);

  for (guint i = 0; i < N_MEMBERS; i++)
    {
      g_thread_join (threads[i]);
      g_assert_no_error (members[i].error);
      if (members[i].end == MEMBER_ROLLS_BACK)
        {
          /* it read the uncommitted work before it, which was then stored */
          g_assert_true (members[i].read_found);
          g_assert_true (members[i].began_after);
          g_assert_true (members[i].reads_held);
          g_assert_no_error (members[i].reads_error);
          g_assert_false (revision_stored (fixture->storage, members[i].n));
        }
      else
        {
          g_assert_true (members[i].committed);
          g_assert_true (revision_stored (fixture->storage, members[i].n));
        }
    }
  g_assert_true (revision_stored (fixture->storage, 1));

  /* The turn is free again: a writer alone commits at once. */
  g_assert_true (cps_storage_begin (fixture->storage, &error));
  add_revision (fixture->storage, 2, PROJECT_1, DEVICE_A, NULL);
  g_assert_true (cps_storage_commit (fixture->storage, &error));
  g_assert_no_error (error);
  g_assert_cmpint (raw_int (fixture->path, "SELECT count(*) FROM revisions"), ==,
                   2500 + 1 + N_MEMBERS);
}

/* The server's answer when cps_storage_check_reads() fails: what the handler set, headers
 * and all, gives way to a storage error. */
static void
assert_retracted (GError *error)
{
  CpsRequest request = { .method = "POST", .path = "/v1/devices/x/revoke" };

  cps_request_add_header (&request, "Location", "/v1/devices/x");
  cps_request_reply_empty (&request, 204);
  g_test_expect_message ("cps-server", G_LOG_LEVEL_WARNING, "*answer withdrawn*");
  cps_request_retract (&request, error);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (request.status, ==, 500);
  g_assert_cmpstr (request.error_code, ==, "storage_error");
  g_assert_null (request.headers);
  g_assert_nonnull (strstr (request.response->str, "\"storage_error\""));
  g_string_free (request.response, TRUE);
}

/* A group whose commit fails stores nothing and tells every member, including one that
 * rolled back after reading the others' work; the next writer starts afresh. */
static void
test_group_commit_fails (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *wal = g_strconcat (fixture->path, "-wal", NULL);
  MemberData members[3] = {
    { .n = 100, .end = MEMBER_COMMITS },
    { .n = 101, .end = MEMBER_ROLLS_BACK, .reads = 1 },
    { .n = 102, .end = MEMBER_COMMITS },
  };
  GThread *threads[G_N_ELEMENTS (members)];
  struct rlimit saved, limit;
  GStatBuf st;

  add_world (fixture->storage);
  g_assert_true (cps_storage_begin (fixture->storage, &error));
  add_revision (fixture->storage, 1, PROJECT_1, DEVICE_A, NULL);
  start_members (fixture, members, threads, G_N_ELEMENTS (members));

  /* The WAL may not grow: the group's commit cannot write its frames (a full disk). */
  g_assert_cmpint (g_stat (wal, &st), ==, 0);
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  limit = saved;
  limit.rlim_cur = (rlim_t) st.st_size;
  signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);

  g_assert_false (cps_storage_commit (fixture->storage, &error));
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED);
  g_clear_error (&error);
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    g_thread_join (threads[i]);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      if (members[i].end == MEMBER_ROLLS_BACK)
        {
          g_assert_true (members[i].read_found);
          g_assert_false (members[i].began_after);
          g_assert_false (members[i].reads_held);
          g_assert_error (members[i].reads_error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED);
          assert_retracted (members[i].reads_error);
        }
      else
        {
          g_assert_false (members[i].committed);
          g_assert_error (members[i].error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED);
        }
      g_clear_error (&members[i].error);
      g_clear_error (&members[i].reads_error);
      g_assert_false (revision_stored (fixture->storage, members[i].n));
    }
  g_assert_false (revision_stored (fixture->storage, 1));

  g_assert_true (cps_storage_begin (fixture->storage, &error));
  add_revision (fixture->storage, 2, PROJECT_1, DEVICE_A, NULL);
  g_assert_true (cps_storage_commit (fixture->storage, &error));
  g_assert_no_error (error);
  g_assert_true (revision_stored (fixture->storage, 2));
  g_assert_cmpint (raw_int (fixture->path, "SELECT count(*) FROM revisions"), ==, 1);
  g_assert_cmpint (raw_int (fixture->path, "SELECT count(*) FROM pragma_integrity_check "
                                           "WHERE integrity_check != 'ok'"),
                   ==, 0);
}

static gpointer
commit_thread (gpointer user_data)
{
  Fixture *fixture = user_data;
  GError *error = NULL;

  g_assert_false (cps_storage_commit (fixture->storage, &error));
  return error;
}

/* When SQLite ends the shared transaction under a member (as after an I/O error), the work
 * of every member so far is gone and each of them is told, even with another writer
 * waiting; that writer starts a new transaction. */
static void
test_group_commit_lost (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  Gate gate = { 0 };
  MemberData lost = { .path = fixture->path, .gate = &gate, .n = 100,
                      .end = MEMBER_LOSES_TRANSACTION };
  MemberData later = { .path = fixture->path, .n = 101, .end = MEMBER_COMMITS };
  GThread *lost_thread, *later_thread, *committer;

  add_world (fixture->storage);
  g_assert_true (cps_storage_begin (fixture->storage, &error));
  add_revision (fixture->storage, 1, PROJECT_1, DEVICE_A, NULL);
  g_mutex_init (&gate.mutex);
  g_cond_init (&gate.cond);

  /* the fixture's commit hands the turn to @lost, which then holds it at the gate */
  lost_thread = g_thread_new ("lost", member_thread, &lost);
  wait_for_joining (fixture, 1);
  committer = g_thread_new ("committer", commit_thread, fixture);
  g_mutex_lock (&gate.mutex);
  while (!gate.holding)
    g_cond_wait (&gate.cond, &gate.mutex);
  g_mutex_unlock (&gate.mutex);

  /* @later waits for the turn while @lost loses the transaction and commits */
  later_thread = g_thread_new ("later", member_thread, &later);
  wait_for_joining (fixture, 1);
  g_mutex_lock (&gate.mutex);
  gate.open = TRUE;
  g_cond_broadcast (&gate.cond);
  g_mutex_unlock (&gate.mutex);

  error = g_thread_join (committer);
  g_assert_error (error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED);
  g_thread_join (lost_thread);
  g_thread_join (later_thread);
  g_mutex_clear (&gate.mutex);
  g_cond_clear (&gate.cond);

  g_assert_false (lost.committed);
  g_assert_error (lost.error, CPS_STORAGE_ERROR, CPS_STORAGE_ERROR_FAILED);
  g_clear_error (&lost.error);
  g_assert_true (later.committed);
  g_assert_no_error (later.error);
  g_assert_false (revision_stored (fixture->storage, 1));
  g_assert_false (revision_stored (fixture->storage, 100));
  g_assert_true (revision_stored (fixture->storage, 101));
  g_assert_cmpint (raw_int (fixture->path, "SELECT count(*) FROM revisions"), ==, 1);
}

typedef struct
{
  guint count;       /* revisions of the large transaction */
  gsize filler_size; /* bytes of filler each */
} LargeGroup;

static const LargeGroup many_rows = { .count = 150, .filler_size = 100 };
static const LargeGroup large_rows = { .count = 40, .filler_size = 500000 };

/* Past MAX_GROUP_CHANGES rows, or grown past the writer connection's page cache by half, a
 * transaction takes in no other writer's work: it commits alone, and the waiting writers
 * follow with a transaction of their own. */
typedef struct
{
  Fixture *fixture;
  gint returned;
} Committer;

static gpointer
committer_thread (gpointer user_data)
{
  Committer *committer = user_data;
  g_autoptr (GError) error = NULL;

  g_assert_true (cps_storage_commit (committer->fixture->storage, &error));
  g_assert_no_error (error);
  g_atomic_int_set (&committer->returned, 1);
  return NULL;
}

static void
test_group_commit_large (Fixture *fixture, gconstpointer data)
{
  const LargeGroup *large = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *filler = g_strnfill (large->filler_size, 'x');
  Gate gate = { 0 };
  MemberData members[2] = {
    { .gate = &gate, .n = 100, .end = MEMBER_COMMITS },
    { .n = 101, .end = MEMBER_COMMITS },
  };
  GThread *threads[G_N_ELEMENTS (members)], *committer_handle;
  Committer committer = { .fixture = fixture };
  gint64 deadline;

  g_mutex_init (&gate.mutex);
  g_cond_init (&gate.cond);
  add_world (fixture->storage);
  g_assert_true (cps_storage_begin (fixture->storage, &error));
  insert_large_revisions (fixture->storage, 1000, large->count, filler);
  start_members (fixture, members, threads, G_N_ELEMENTS (members));

  /* Once the gated writer holds the turn in a transaction of its own, the large commit has
   * returned; had it taken the writers in, it would wait for the gated one. */
  committer_handle = g_thread_new ("committer", committer_thread, &committer);
  g_mutex_lock (&gate.mutex);
  while (!gate.holding)
    g_cond_wait (&gate.cond, &gate.mutex);
  g_mutex_unlock (&gate.mutex);
  deadline = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  while (!g_atomic_int_get (&committer.returned))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
  g_assert_cmpint (raw_int (fixture->path, "SELECT count(*) FROM revisions"),
                   >=, large->count);

  g_mutex_lock (&gate.mutex);
  gate.open = TRUE;
  g_cond_broadcast (&gate.cond);
  g_mutex_unlock (&gate.mutex);
  g_thread_join (committer_handle);
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      g_thread_join (threads[i]);
      g_assert_no_error (members[i].error);
      g_assert_true (members[i].committed);
    }
  g_mutex_clear (&gate.mutex);
  g_cond_clear (&gate.cond);
  g_assert_cmpint (raw_int (fixture->path, "SELECT count(*) FROM revisions"), ==,
                   large->count + 2);
}

/* A transaction larger than the page cache and many times the VFS's WAL buffer: a second
 * connection then sees exactly what was committed, and the file is sound. */
static void
test_large_transaction (Fixture *fixture, gconstpointer data)
{
  enum { N = 3000 };
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsStorage) other = NULL;
  g_autofree char *filler = g_strnfill (6000, 'x');
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  add_world (fixture->storage);
  g_assert_true (cps_storage_begin (fixture->storage, &error));
  insert_large_revisions (fixture->storage, 100000, N, filler);
  /* ~20 MB written in this transaction, the WAL buffer flushed many times: all of it reads
   * back before the commit, and after it from another connection */
  for (guint n = 1; n <= N; n += 7)
    {
      g_autofree char *id = make_revision_id (100000 + n);
      g_autoptr (CpsRevisionRecord) stored
          = cps_storage_revision_get (fixture->storage, PROJECT_1, id, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (strlen (stored->json), ==, strlen (id) + 6000 + 21);
    }
  g_assert_true (cps_storage_commit (fixture->storage, &error));
  g_assert_no_error (error);

  other = cps_storage_open ("sqlite", fixture->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cps_storage_revision_count (other, &error), ==, N);
  g_assert_no_error (error);

  g_assert_cmpint (sqlite3_open (fixture->path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

static gint64
raw_exec_count (const char *path, const char *sql, const char *count_sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value = -1;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  if (sql != NULL)
    g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  if (sqlite3_prepare_v2 (db, count_sql, -1, &stmt, NULL) == SQLITE_OK
      && sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

/* A transaction too large for the page cache, rolled back; then another connection (another
 * process, say) commits; then this storage writes again. What the other connection committed
 * must be intact, in the live database and after a crash (the files copied as they are and
 * opened elsewhere): pages the rolled-back transaction had begun writing to the WAL must never
 * reach the file after it ended. */
static void
test_rollback_after_large_writes (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *filler = g_strnfill (6000, 'y');
  g_autofree char *crash_dir = g_build_filename (fixture->dir, "crash", NULL);
  g_autofree char *crash_db = g_build_filename (crash_dir, "server.db", NULL);
  const char *count_sql = "SELECT count(*) FROM ratelimit WHERE key = 'other'";
  const char *const suffixes[] = { "", "-wal" };

  add_world (fixture->storage);
  /* an empty WAL: what the large transaction writes to it starts at its beginning */
  g_assert_cmpint (raw_exec_count (fixture->path, "PRAGMA wal_checkpoint(TRUNCATE)",
                                   "SELECT 1"),
                   ==, 1);
  g_assert_true (cps_storage_begin (fixture->storage, &error));
  insert_large_revisions (fixture->storage, 200000, 2500, filler);
  cps_storage_rollback (fixture->storage);

  /* another connection, not through this storage, commits ~16 MB: over the place in the
   * WAL where the rolled-back transaction's last writes went */
  g_assert_cmpint (raw_exec_count (fixture->path,
                                   "PRAGMA wal_autocheckpoint = 0;"
                                   "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                                   "FROM c WHERE i < 4000) INSERT INTO ratelimit (key, at) "
                                   "SELECT 'other', i FROM c;"
                                   "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                                   "FROM c WHERE i < 4000) INSERT INTO ratelimit (key, at) "
                                   "SELECT hex (randomblob (2000)), i FROM c",
                                   count_sql),
                   ==, 4000);

  g_assert_true (cps_storage_begin (fixture->storage, &error));
  add_account (fixture->storage, ACCOUNT_C, "cem", "member");
  g_assert_true (cps_storage_commit (fixture->storage, &error));
  g_assert_no_error (error);

  g_assert_cmpint (raw_exec_count (fixture->path, NULL, count_sql), ==, 4000);
  g_assert_cmpint (raw_exec_count (fixture->path, NULL, "SELECT count(*) FROM ratelimit"), ==,
                   8000);
  g_assert_cmpint (raw_int (fixture->path, "SELECT count(*) FROM revisions"), ==, 0);

  g_assert_cmpint (g_mkdir (crash_dir, 0700), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *from = g_strconcat (fixture->path, suffixes[i], NULL);
      g_autofree char *to = g_strconcat (crash_db, suffixes[i], NULL);
      g_autofree char *contents = NULL;
      gsize length = 0;

      g_assert_true (g_file_get_contents (from, &contents, &length, &error));
      g_assert_true (g_file_set_contents (to, contents, (gssize) length, &error));
    }
  g_assert_cmpint (raw_exec_count (crash_db, NULL, count_sql), ==, 4000);
  g_assert_cmpint (raw_exec_count (crash_db, NULL, "SELECT count(*) FROM ratelimit"), ==, 8000);
  g_assert_cmpint (raw_exec_count (crash_db, NULL, "SELECT count(*) FROM accounts WHERE "
                                                  "username = 'cem'"),
                   ==, 1);
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (crash_db, suffixes[i], NULL);
      g_unlink (file);
    }
  {
    g_autofree char *shm = g_strconcat (crash_db, "-shm", NULL);
    g_unlink (shm);
  }
  g_rmdir (crash_dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func)                                                                            \
  g_test_add ("/storage/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("open", test_open);
  g_test_add_func ("/storage/unknown-backend", test_unknown_backend);
  ADD ("newer-schema", test_newer_schema);
  ADD ("not-a-database", test_not_a_database);
  ADD ("transactions", test_transactions);
  ADD ("read-snapshot", test_read_snapshot);
  ADD ("busy", test_busy);
  ADD ("accounts", test_accounts);
  ADD ("devices", test_devices);
  ADD ("tokens", test_tokens);
  ADD ("ratelimit", test_ratelimit);
  ADD ("projects", test_projects);
  ADD ("revisions", test_revisions);
  ADD ("large-transaction", test_large_transaction);
  ADD ("rollback-after-large-writes", test_rollback_after_large_writes);
  ADD ("append-only", test_append_only);
  ADD ("audit", test_audit);
  ADD ("backup", test_backup);
  ADD ("integrity", test_integrity);
  ADD ("concurrent", test_concurrent);
  ADD ("group-commit", test_group_commit);
  ADD ("group-commit-fails", test_group_commit_fails);
  ADD ("group-commit-lost", test_group_commit_lost);
  g_test_add ("/storage/group-commit-many-rows", Fixture, &many_rows, fixture_set_up,
              test_group_commit_large, fixture_tear_down);
  g_test_add ("/storage/group-commit-large-rows", Fixture, &large_rows, fixture_set_up,
              test_group_commit_large, fixture_tear_down);

#undef ADD

  return g_test_run ();
}
