/* test-store-crash.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Crash safety of the local store: store-writer adds revisions in a loop
 * (single ones and batches, forks, merges, snapshots) and is killed with
 * SIGKILL at a random moment, 50 times, on the same store: every fifth time
 * during its start (open, migration, set-up), otherwise 50–300 ms into its
 * work. After every kill
 * the store must pass PRAGMA integrity_check, hold every revision the writer
 * reported as committed, open as a store, and every listed snapshot must
 * match its manifest. At the end the full check finds no problem.
 */

#define G_LOG_DOMAIN "test-store-crash"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "cps.h"
#include "cps-store.h"
#include "cps-test-util.h"

#define KILLS 50
#define MIN_DELAY_MS 50
#define MAX_DELAY_MS 300
#define MAX_START_DELAY_MS 60

static char *
find_writer (void)
{
  const char *env = g_getenv ("CPS_STORE_WRITER");
  g_autofree char *self = NULL;
  g_autofree char *dir = NULL;

  if (env != NULL)
    return g_strdup (env);
  self = g_file_read_link ("/proc/self/exe", NULL);
  g_assert_nonnull (self);
  dir = g_path_get_dirname (self);
  return g_build_filename (dir, "store-writer", NULL);
}

static void
read_available (int fd, GString *out, gint64 deadline_us, gboolean *out_eof)
{
  char buffer[4096];

  for (;;)
    {
      gint64 now = g_get_monotonic_time ();
      int timeout = deadline_us < 0 ? -1 : (int) MAX (0, (deadline_us - now) / 1000);
      struct pollfd pfd = { fd, POLLIN, 0 };
      ssize_t n;
      int rc;

      if (deadline_us >= 0 && now >= deadline_us)
        return;
      rc = poll (&pfd, 1, timeout);
      if (rc < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (rc, >=, 0);
      if (rc == 0)
        return;
      n = read (fd, buffer, sizeof buffer);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      g_assert_cmpint (n, >=, 0);
      if (n == 0)
        {
          *out_eof = TRUE;
          return;
        }
      g_string_append_len (out, buffer, n);
    }
}

/* Only whole lines count: a line cut by the kill was never fully claimed. */
static guint
collect_lines (const char *text, GHashTable *committed, GPtrArray *snapshots)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines);
  guint new_ids = 0;

  for (guint i = 0; i + 1 < n; i++)
    {
      if (g_str_has_prefix (lines[i], "committed sha256:"))
        {
          if (g_hash_table_add (committed, g_strdup (lines[i] + strlen ("committed "))))
            new_ids++;
        }
      else if (g_str_equal (lines[i], "ready"))
        continue;
      else if (g_str_has_prefix (lines[i], "snapshot "))
        g_ptr_array_add (snapshots, g_strdup (lines[i] + strlen ("snapshot ")));
      else
        g_error ("unexpected line from the writer: %s", lines[i]);
    }
  return new_ids;
}

static void
check_after_kill (const char *path, GHashTable *committed)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (GPtrArray) snapshots = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  GHashTableIter iter;
  gpointer id;
  guint missing = 0;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      /* Killed before it created the store. */
      g_assert_cmpuint (g_hash_table_size (committed), ==, 0);
      return;
    }

  /* A raw connection first: it recovers the WAL as any program would. */
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
  sqlite3_finalize (stmt);

  if (g_hash_table_size (committed) > 0)
    {
      g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT 1 FROM revisions WHERE id = ?1", -1,
                                           &stmt, NULL),
                       ==, SQLITE_OK);
      g_hash_table_iter_init (&iter, committed);
      while (g_hash_table_iter_next (&iter, &id, NULL))
        {
          sqlite3_reset (stmt);
          sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
          if (sqlite3_step (stmt) != SQLITE_ROW)
            {
              g_test_message ("reported committed but missing: %s", (const char *) id);
              missing++;
            }
        }
      sqlite3_finalize (stmt);
    }
  sqlite3_close (db);
  g_assert_cmpuint (missing, ==, 0);

  /* The library opens it too (a kill before the first commit leaves an
   * empty file, which it migrates). */
  store = cps_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cps_store_count_revisions (store, NULL, NULL), >=,
                    g_hash_table_size (committed));

  /* A snapshot interrupted by the kill is never listed. */
  snapshots = cps_store_list_snapshots (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < snapshots->len; i++)
    {
      const CpsSnapshot *snapshot = g_ptr_array_index (snapshots, i);
      g_assert_true (cps_store_verify_snapshot (snapshot->path, &error));
      g_assert_no_error (error);
    }
}

static void
test_kill_writer (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *writer = find_writer ();
  g_autofree char *dir = g_dir_make_tmp ("cps-test-crash-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "store.sqlite", NULL);
  g_autoptr (GHashTable) committed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                            NULL);
  g_autoptr (GPtrArray) snapshots = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (CpsStoreCheck) check = NULL;
  gint64 started = g_get_monotonic_time ();
  guint productive_kills = 0;

  g_assert_no_error (error);
  g_assert_true (g_file_test (writer, G_FILE_TEST_IS_EXECUTABLE));

  for (guint round = 0; round < KILLS; round++)
    {
      g_autofree char *seed = g_strdup_printf ("%u", g_test_rand_int ());
      const char *argv[] = { writer, path, seed, NULL };
      g_autoptr (GString) out = g_string_new (NULL);
      gboolean during_start = round % 5 == 0;
      int delay_ms = during_start ? g_test_rand_int_range (0, MAX_START_DELAY_MS + 1)
                                  : g_test_rand_int_range (MIN_DELAY_MS, MAX_DELAY_MS + 1);
      gboolean eof = FALSE;
      GPid pid;
      int out_fd;
      int status = 0;
      guint new_ids;

      g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                                               G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, NULL,
                                               &out_fd, NULL, &error));
      g_assert_no_error (error);

      if (!during_start)
        {
          /* The delay counts from the moment the store is open. */
          gint64 give_up = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

          while (!eof && strstr (out->str, "ready\n") == NULL &&
                 g_get_monotonic_time () < give_up)
            read_available (out_fd, out, MIN (give_up, g_get_monotonic_time () + 10000), &eof);
          g_assert_nonnull (strstr (out->str, "ready\n"));
        }
      read_available (out_fd, out, g_get_monotonic_time () + delay_ms * 1000, &eof);
      g_assert_false (eof); /* the writer never stops by itself */
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
      read_available (out_fd, out, -1, &eof);
      close (out_fd);
      g_spawn_close_pid (pid);

      new_ids = collect_lines (out->str, committed, snapshots);
      if (new_ids > 0 && !during_start)
        productive_kills++;
      g_test_message ("kill %u %d ms after %s: %u new committed revisions (%u in all)",
                      round + 1, delay_ms, during_start ? "start" : "ready", new_ids,
                      g_hash_table_size (committed));
      check_after_kill (path, committed);
    }

  /* The kills after start-up must have landed in the middle of real work. */
  g_test_message ("%u of %u kills after start-up came after new commits", productive_kills,
                  KILLS - KILLS / 5);
  g_assert_cmpuint (productive_kills, >=, (KILLS - KILLS / 5) * 3 / 4);

  store = cps_store_open (path, &error);
  g_assert_no_error (error);
  check = cps_store_check (store, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < check->findings->len; i++)
    g_test_message ("finding: %s", ((CpsFinding *) g_ptr_array_index (check->findings, i))->message);
  g_assert_cmpuint (check->problems, ==, 0);
  g_assert_cmpuint (check->revisions_checked, >=, g_hash_table_size (committed));
  g_test_message ("%u kills in %.1f s: %u revisions reported committed, %u stored, "
                  "%u snapshots taken",
                  KILLS, (g_get_monotonic_time () - started) / 1e6,
                  g_hash_table_size (committed), check->revisions_checked, snapshots->len);

  g_clear_object (&store);
  cps_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store/crash/kill-writer", test_kill_writer);
  return g_test_run ();
}
