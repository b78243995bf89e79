/* cps-store-snapshot.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Snapshots of the local store, taken with SQLite's online backup API into
 * `<store dir>/snapshots/<UTC time>-<reason>.sqlite`. Each has two manifests
 * beside it: `<name>.sha256` (sha256sum format) and `<name>.json` (time,
 * reason, schema version, counts, size, checksum). A snapshot is written as
 * `<name>.part` and renamed only once it and its manifests are on disk, so a
 * crash never leaves a snapshot that looks complete but is not. Restoring
 * checks the snapshot against its manifest and SQLite's integrity check before
 * anything is touched, and always snapshots the live store first.
 */

#define G_LOG_DOMAIN "cps-store"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "cps-jcs.h"
#include "cps-store-private.h"

#define SNAPSHOT_SUFFIX ".sqlite"
#define PART_SUFFIX ".part"
#define MANIFEST_FORMAT "cine-power-sync/store-snapshot"
/* A `.part` file older than this was left by a crash, not by a snapshot in
 * progress in another program. */
#define STALE_PART_SECONDS (10 * 60)

/* Helpers */

char *
_cps_store_checksum_file (const char *path, gint64 *out_size, GError **error)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buffer = g_malloc (1 << 16);
  gint64 size = 0;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, CPS_STORE_ERROR,
                   saved_errno == ENOENT ? CPS_STORE_ERROR_NOT_FOUND : CPS_STORE_ERROR_IO,
                   _("Could not read “%s”: %s"), path, g_strerror (saved_errno));
      return NULL;
    }
  for (;;)
    {
      gssize n = read (fd, buffer, 1 << 16);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          close (fd);
          g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO, _("Could not read “%s”: %s"),
                       path, g_strerror (saved_errno));
          return NULL;
        }
      if (n == 0)
        break;
      g_checksum_update (checksum, buffer, n);
      size += n;
    }
  close (fd);
  if (out_size != NULL)
    *out_size = size;
  return g_strconcat (CPS_CHECKSUM_PREFIX, g_checksum_get_string (checksum), NULL);
}

/*
 * Copies the whole of @source into @dest with the online backup API: a
 * consistent copy even while other programs write to @source.
 */
gboolean
_cps_store_backup (sqlite3 *source, sqlite3 *dest, const char *source_path,
                   const char *dest_path, GError **error)
{
  sqlite3_backup *backup = sqlite3_backup_init (dest, "main", source, "main");
  int rc;

  if (backup == NULL)
    {
      _cps_store_set_sqlite_error (error, dest, sqlite3_errcode (dest), dest_path,
                                   _("Could not start copying the store"));
      return FALSE;
    }
  for (guint attempt = 0;; attempt++)
    {
      rc = sqlite3_backup_step (backup, -1);
      if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && attempt < 500)
        {
          sqlite3_sleep (20);
          continue;
        }
      break;
    }
  sqlite3_backup_finish (backup);
  if (rc != SQLITE_DONE)
    {
      int code = sqlite3_errcode (dest);
      /* A damaged source shows as an error of the source. */
      if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
        g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT,
                     _("“%s” is damaged and cannot be copied (%s)"), source_path,
                     sqlite3_errstr (rc));
      else
        _cps_store_set_sqlite_error (error, code != SQLITE_OK ? dest : NULL,
                                     code != SQLITE_OK ? code : rc, dest_path,
                                     _("Could not copy the store"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
fsync_dir (const char *dir)
{
  int fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = fsync (fd) == 0;
  close (fd);
  return ok;
}

static char *
snapshot_dir_for (const char *store_path)
{
  g_autofree char *dir = g_path_get_dirname (store_path);

  return g_build_filename (dir, "snapshots", NULL);
}

/* Opens a snapshot for reading without ever writing next to it. */
static sqlite3 *
open_snapshot_readonly (const char *path, GError **error)
{
  g_autofree char *uri = NULL;
  g_autofree char *with_options = NULL;
  g_autofree char *absolute = NULL;

  absolute = g_canonicalize_filename (path, NULL);
  uri = g_filename_to_uri (absolute, NULL, error);
  if (uri == NULL)
    return NULL;
  with_options = g_strconcat (uri, "?immutable=1", NULL);
  return _cps_store_open_connection (with_options, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, error);
}

static char *
sanitize_reason (const char *reason)
{
  GString *out = g_string_new (NULL);

  for (const char *p = reason ? reason : ""; *p != '\0' && out->len < 40; p++)
    {
      char c = g_ascii_tolower (*p);
      g_string_append_c (out, g_ascii_isalnum (c) || c == '-' || c == '_' ? c : '-');
    }
  if (out->len == 0)
    g_string_append (out, "manual");
  return g_string_free (out, FALSE);
}

/* Parses `<64 hex>  <name>` (the first line of a .sha256 manifest). */
static char *
read_sha256_manifest (const char *snapshot_path, GError **error)
{
  g_autofree char *manifest = g_strconcat (snapshot_path, ".sha256", NULL);
  g_autofree char *text = NULL;
  g_autofree char *base = g_path_get_basename (snapshot_path);
  gsize length = 0;
  const char *name;

  if (!g_file_get_contents (manifest, &text, &length, NULL))
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("The snapshot “%s” has no checksum manifest (%s), so it cannot be checked "
                     "and was not used. Nothing was changed; choose another snapshot."),
                   snapshot_path, manifest);
      return NULL;
    }
  for (int i = 0; i < 64; i++)
    if ((gsize) i >= length || !g_ascii_isxdigit (text[i]))
      goto bad;
  name = text + 64;
  if (length < 66 || name[0] != ' ' || (name[1] != ' ' && name[1] != '*'))
    goto bad;
  name += 2;
  if (strncmp (name, base, strlen (base)) != 0 ||
      (name[strlen (base)] != '\n' && name[strlen (base)] != '\0'))
    goto bad;
  text[64] = '\0';
  {
    g_autofree char *hex = g_ascii_strdown (text, 64);
    return g_strconcat (CPS_CHECKSUM_PREFIX, hex, NULL);
  }

bad:
  g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT,
               _("The checksum manifest “%s” is damaged (it should hold one sha256sum line for "
                 "%s), so the snapshot was not used. Nothing was changed; choose another "
                 "snapshot."),
               manifest, base);
  return NULL;
}

/* Reads the JSON manifest; a missing or unreadable one gives NULL. */
static CpsJsonDocument *
read_json_manifest (const char *snapshot_path)
{
  g_autofree char *manifest = g_strconcat (snapshot_path, ".json", NULL);
  g_autofree char *text = NULL;
  gsize length = 0;
  CpsJsonDocument *doc;

  if (!g_file_get_contents (manifest, &text, &length, NULL))
    return NULL;
  doc = cps_json_document_parse_copy (text, length, NULL, NULL);
  if (doc != NULL && cps_json_node_get_type (cps_json_document_get_root (doc)) != CPS_JSON_OBJECT)
    g_clear_pointer (&doc, cps_json_document_unref);
  return doc;
}

static CpsSnapshot *
read_snapshot_info (const char *path)
{
  g_autoptr (CpsJsonDocument) manifest = read_json_manifest (path);
  CpsSnapshot *snapshot = g_new0 (CpsSnapshot, 1);
  GStatBuf st;

  snapshot->path = g_strdup (path);
  snapshot->size = g_stat (path, &st) == 0 ? (gint64) st.st_size : -1;
  snapshot->checksum = read_sha256_manifest (path, NULL);
  if (manifest != NULL)
    {
      const CpsJsonNode *root = cps_json_document_get_root (manifest);
      snapshot->created_at = g_strdup (cps_json_object_get_string (root, "created_at"));
      snapshot->reason = g_strdup (cps_json_object_get_string (root, "reason"));
    }
  return snapshot;
}

static int
compare_snapshots_newest_first (gconstpointer a, gconstpointer b)
{
  const CpsSnapshot *sa = *(const CpsSnapshot *const *) a;
  const CpsSnapshot *sb = *(const CpsSnapshot *const *) b;
  g_autofree char *base_a = g_path_get_basename (sa->path);
  g_autofree char *base_b = g_path_get_basename (sb->path);

  /* Names start with the UTC time, so they sort by time. */
  return strcmp (base_b, base_a);
}

static GPtrArray *
list_snapshots_in (const char *dir_path, GError **error)
{
  g_autoptr (GPtrArray) snapshots = g_ptr_array_new_with_free_func (
    (GDestroyNotify) cps_snapshot_free);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, &local_error);
  const char *name;

  if (dir == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&snapshots);
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO,
                   _("Could not list the snapshots in “%s”: %s"), dir_path,
                   local_error->message);
      return NULL;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;

      if (!g_str_has_suffix (name, SNAPSHOT_SUFFIX))
        continue;
      path = g_build_filename (dir_path, name, NULL);
      g_ptr_array_add (snapshots, read_snapshot_info (path));
    }
  g_ptr_array_sort (snapshots, compare_snapshots_newest_first);
  return g_steal_pointer (&snapshots);
}

static void
remove_snapshot_files (const char *path)
{
  g_autofree char *sha = g_strconcat (path, ".sha256", NULL);
  g_autofree char *json = g_strconcat (path, ".json", NULL);

  /* The data first: a snapshot without manifests is never used. */
  if (g_unlink (path) != 0 && errno != ENOENT)
    g_warning ("Could not remove the old snapshot %s: %s", path, g_strerror (errno));
  g_unlink (sha);
  g_unlink (json);
}

/* Removes what a crash can leave behind: old `.part` files and manifests
 * whose snapshot is gone. */
static void
remove_leftovers (const char *dir_path)
{
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      g_autofree char *data_path = NULL;
      GStatBuf st;

      if (g_stat (path, &st) != 0 || now - (gint64) st.st_mtime < STALE_PART_SECONDS)
        continue;
      if (g_str_has_suffix (name, PART_SUFFIX))
        {
          g_unlink (path);
          continue;
        }
      if (g_str_has_suffix (name, SNAPSHOT_SUFFIX ".sha256"))
        data_path = g_strndup (path, strlen (path) - strlen (".sha256"));
      else if (g_str_has_suffix (name, SNAPSHOT_SUFFIX ".json"))
        data_path = g_strndup (path, strlen (path) - strlen (".json"));
      if (data_path != NULL && !g_file_test (data_path, G_FILE_TEST_EXISTS))
        {
          g_autofree char *part = g_strconcat (data_path, PART_SUFFIX, NULL);
          if (!g_file_test (part, G_FILE_TEST_EXISTS))
            g_unlink (path);
        }
    }
}

static void
rotate (CpsStore *self, const char *dir_path, const char *keep)
{
  g_autoptr (GPtrArray) snapshots = list_snapshots_in (dir_path, NULL);
  guint kept = 0;

  if (snapshots == NULL)
    return;
  for (guint i = 0; i < snapshots->len; i++)
    {
      const CpsSnapshot *snapshot = g_ptr_array_index (snapshots, i);
      g_autofree char *canonical = g_canonicalize_filename (snapshot->path, NULL);

      if (kept < self->snapshot_limit || g_strcmp0 (canonical, keep) == 0)
        {
          kept++;
          continue;
        }
      g_debug ("Rotating out snapshot %s", snapshot->path);
      remove_snapshot_files (snapshot->path);
    }
}

static gboolean
write_file_durably (const char *path, const char *text, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!g_file_set_contents_full (path, text, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &local_error))
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO, _("Could not write “%s”: %s"),
                   path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

static gint64
count_rows (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 count = -1;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    count = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return count;
}

static void
append_json_string_member (GString *out, const char *key, const char *value)
{
  if (out->len > 1)
    g_string_append_c (out, ',');
  cps_jcs_append_string (out, key, strlen (key));
  g_string_append_c (out, ':');
  cps_jcs_append_string (out, value, strlen (value));
}

static void
append_json_int_member (GString *out, const char *key, gint64 value)
{
  if (out->len > 1)
    g_string_append_c (out, ',');
  cps_jcs_append_string (out, key, strlen (key));
  g_string_append_printf (out, ":%" G_GINT64_FORMAT, value);
}

/* The snapshot itself. @keep is never rotated out (the one being restored). */
static CpsSnapshot *
take_snapshot (CpsStore *self, const char *reason, const char *keep, GError **error)
{
  g_autofree char *dir_path = snapshot_dir_for (self->path);
  g_autofree char *safe_reason = sanitize_reason (reason);
  g_autofree char *created_at = cps_now_rfc3339 ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = NULL;
  g_autofree char *path = NULL;
  g_autofree char *part = NULL;
  g_autofree char *base = NULL;
  g_autofree char *checksum = NULL;
  g_autofree char *sha_text = NULL;
  g_autofree char *sha_path = NULL;
  g_autofree char *json_path = NULL;
  g_autoptr (GString) manifest = g_string_new ("{");
  g_autoptr (CpsSnapshot) snapshot = NULL;
  sqlite3 *dest = NULL;
  gint64 revisions, projects, size = 0;
  int version = 0;

  if (self->in_transaction || !sqlite3_get_autocommit (self->db))
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("A snapshot cannot be taken while a transaction is open"));
      return NULL;
    }
  if (g_mkdir_with_parents (dir_path, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO,
                   _("Could not create the snapshot folder “%s”: %s"), dir_path,
                   g_strerror (saved_errno));
      return NULL;
    }
  remove_leftovers (dir_path);

  {
    g_autofree char *seconds = g_date_time_format (now, "%Y-%m-%dT%H%M%S");
    stamp = g_strdup_printf ("%s.%03dZ", seconds, g_date_time_get_microsecond (now) / 1000);
  }
  for (guint n = 1;; n++)
    {
      g_autofree char *name = n == 1 ? g_strdup_printf ("%s-%s" SNAPSHOT_SUFFIX, stamp,
                                                        safe_reason)
                                     : g_strdup_printf ("%s-%s-%u" SNAPSHOT_SUFFIX, stamp,
                                                        safe_reason, n);
      g_free (path);
      g_free (part);
      path = g_build_filename (dir_path, name, NULL);
      part = g_strconcat (path, PART_SUFFIX, NULL);
      if (!g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (part, G_FILE_TEST_EXISTS))
        break;
    }
  base = g_path_get_basename (path);

  dest = _cps_store_open_connection (part, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error);
  if (dest == NULL)
    return NULL;
  if (!_cps_store_backup (self->db, dest, self->path, part, error) ||
      !_cps_store_exec (dest, "PRAGMA journal_mode = DELETE", part, error) ||
      !_cps_store_exec (dest, "PRAGMA synchronous = FULL", part, error))
    {
      sqlite3_close (dest);
      g_unlink (part);
      return NULL;
    }
  _cps_store_read_schema_version (dest, &version);
  revisions = count_rows (dest, "SELECT count (*) FROM revisions");
  projects = count_rows (dest, "SELECT count (*) FROM projects");
  if (sqlite3_close (dest) != SQLITE_OK)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO,
                   _("Could not finish writing the snapshot “%s”"), part);
      g_unlink (part);
      return NULL;
    }
  {
    /* SQLite synced its commit; sync the header rewrite of journal_mode too. */
    int fd = g_open (part, O_RDONLY | O_CLOEXEC, 0);
    if (fd >= 0)
      {
        fsync (fd);
        close (fd);
      }
  }

  g_chmod (part, 0600);
  checksum = _cps_store_checksum_file (part, &size, error);
  if (checksum == NULL)
    {
      g_unlink (part);
      return NULL;
    }

  sha_path = g_strconcat (path, ".sha256", NULL);
  json_path = g_strconcat (path, ".json", NULL);
  sha_text = g_strdup_printf ("%s  %s\n", checksum + strlen (CPS_CHECKSUM_PREFIX), base);
  append_json_string_member (manifest, "format", MANIFEST_FORMAT);
  append_json_string_member (manifest, "created_at", created_at);
  append_json_string_member (manifest, "reason", safe_reason);
  append_json_string_member (manifest, "store", self->path);
  append_json_string_member (manifest, "file", base);
  append_json_int_member (manifest, "schema_version", version);
  append_json_int_member (manifest, "project_count", projects);
  append_json_int_member (manifest, "revision_count", revisions);
  append_json_int_member (manifest, "size", size);
  append_json_string_member (manifest, "checksum", checksum);
  g_string_append (manifest, "}\n");

  if (!write_file_durably (sha_path, sha_text, error) ||
      !write_file_durably (json_path, manifest->str, error))
    {
      g_unlink (part);
      g_unlink (sha_path);
      g_unlink (json_path);
      return NULL;
    }
  if (g_rename (part, path) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO,
                   _("Could not move the snapshot into place as “%s”: %s"), path,
                   g_strerror (saved_errno));
      g_unlink (part);
      g_unlink (sha_path);
      g_unlink (json_path);
      return NULL;
    }
  fsync_dir (dir_path);

  snapshot = g_new0 (CpsSnapshot, 1);
  snapshot->path = g_steal_pointer (&path);
  snapshot->created_at = g_steal_pointer (&created_at);
  snapshot->reason = g_steal_pointer (&safe_reason);
  snapshot->checksum = g_steal_pointer (&checksum);
  snapshot->size = size;

  {
    g_autofree char *newest = g_canonicalize_filename (snapshot->path, NULL);
    rotate (self, dir_path, keep != NULL ? keep : newest);
  }
  g_debug ("Snapshot %s taken (%" G_GINT64_FORMAT " revisions)", snapshot->path, revisions);
  return g_steal_pointer (&snapshot);
}

/* Public API */

/**
 * cps_store_set_snapshot_limit:
 * @limit: how many snapshots rotation keeps (at least 1)
 */
void
cps_store_set_snapshot_limit (CpsStore *self, guint limit)
{
  g_return_if_fail (CPS_IS_STORE (self));
  self->snapshot_limit = MAX (limit, 1);
}

guint
cps_store_get_snapshot_limit (CpsStore *self)
{
  g_return_val_if_fail (CPS_IS_STORE (self), 0);
  return self->snapshot_limit;
}

/**
 * cps_store_get_snapshot_dir:
 *
 * Returns: (transfer full): `<store dir>/snapshots`
 */
char *
cps_store_get_snapshot_dir (CpsStore *self)
{
  g_return_val_if_fail (CPS_IS_STORE (self), NULL);
  return snapshot_dir_for (self->path);
}

/**
 * cps_store_snapshot:
 * @reason: (nullable): why (`manual`, `before-sync`, …); part of the file name
 *
 * Copies the store, consistently, into a new snapshot with its manifests,
 * then removes the oldest snapshots beyond the limit.
 *
 * Returns: (transfer full) (nullable): the new snapshot
 */
CpsSnapshot *
cps_store_snapshot (CpsStore *self, const char *reason, GError **error)
{
  g_return_val_if_fail (CPS_IS_STORE (self), NULL);
  return take_snapshot (self, reason, NULL, error);
}

/**
 * cps_store_list_snapshots:
 *
 * Returns: (transfer full) (element-type CpsSnapshot): the snapshots, newest
 *   first
 */
GPtrArray *
cps_store_list_snapshots (CpsStore *self, GError **error)
{
  g_return_val_if_fail (CPS_IS_STORE (self), NULL);
  return cps_store_list_snapshots_for_path (self->path, error);
}

/**
 * cps_store_list_snapshots_for_path:
 * @store_path: a store file, which need not open (it may be damaged)
 *
 * Returns: (transfer full) (element-type CpsSnapshot): its snapshots, newest
 *   first
 */
GPtrArray *
cps_store_list_snapshots_for_path (const char *store_path, GError **error)
{
  g_autofree char *dir_path = NULL;

  g_return_val_if_fail (store_path != NULL, NULL);

  dir_path = snapshot_dir_for (store_path);
  return list_snapshots_in (dir_path, error);
}

/**
 * cps_store_verify_snapshot:
 *
 * Checks a snapshot without changing anything: its size and checksum against
 * its manifests, its schema version, and SQLite's integrity check.
 *
 * Returns: %TRUE when it can be restored; otherwise an error that says why
 *   (%CPS_STORE_ERROR_CORRUPT for a damaged snapshot)
 */
gboolean
cps_store_verify_snapshot (const char *snapshot_path, GError **error)
{
  g_autoptr (CpsJsonDocument) manifest = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *actual = NULL;
  g_autofree char *problem = NULL;
  gint64 size = 0;
  sqlite3 *db;
  int version = 0;
  int rc;

  g_return_val_if_fail (snapshot_path != NULL, FALSE);

  if (!g_file_test (snapshot_path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND,
                   _("There is no snapshot “%s”. Run `cps backup --list` to see the "
                     "snapshots."),
                   snapshot_path);
      return FALSE;
    }
  expected = read_sha256_manifest (snapshot_path, error);
  if (expected == NULL)
    return FALSE;
  actual = _cps_store_checksum_file (snapshot_path, &size, error);
  if (actual == NULL)
    return FALSE;

  manifest = read_json_manifest (snapshot_path);
  if (manifest != NULL)
    {
      const CpsJsonNode *stated = cps_json_object_get (cps_json_document_get_root (manifest),
                                                       "size");

      if (cps_json_node_get_type (stated) == CPS_JSON_NUMBER && stated->v.number != (double) size)
        {
          g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT,
                       _("The snapshot “%s” is damaged: it is %.0f bytes long but was %.0f "
                         "bytes when it was taken (truncated or overwritten). It was not "
                         "restored and nothing was changed; choose another snapshot."),
                       snapshot_path, (double) size, stated->v.number);
          return FALSE;
        }
    }
  if (strcmp (expected, actual) != 0)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT,
                   _("The snapshot “%s” is damaged: its checksum is %s, but its manifest "
                     "says %s. It was not restored and nothing was changed; choose another "
                     "snapshot."),
                   snapshot_path, actual, expected);
      return FALSE;
    }

  db = open_snapshot_readonly (snapshot_path, error);
  if (db == NULL)
    return FALSE;
  rc = _cps_store_read_schema_version (db, &version);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT,
                   _("The snapshot “%s” is not a readable store (%s). It was not restored and "
                     "nothing was changed; choose another snapshot."),
                   snapshot_path, sqlite3_errmsg (db));
      sqlite3_close (db);
      return FALSE;
    }
  if (version > CPS_STORE_SCHEMA_VERSION)
    {
      sqlite3_close (db);
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NEWER_SCHEMA,
                   _("The snapshot “%s” was taken by a newer version of Cine Power Sync (store "
                     "schema %d; this version reads up to %d). Nothing was changed."),
                   snapshot_path, version, CPS_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  if (!_cps_store_quick_check (db, "integrity_check", &problem))
    {
      sqlite3_close (db);
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT,
                   _("The snapshot “%s” fails SQLite’s integrity check (%s). It was not "
                     "restored and nothing was changed; choose another snapshot."),
                   snapshot_path, problem);
      return FALSE;
    }
  sqlite3_close (db);
  return TRUE;
}

/**
 * cps_store_restore:
 * @snapshot_path: a snapshot file (with its `.sha256` manifest beside it)
 *
 * Replaces the store's content with a snapshot's. The snapshot is verified
 * first (cps_store_verify_snapshot()); a damaged one is refused and nothing
 * changes. Then the live store is snapshotted (reason `before-restore`), and
 * only then replaced, in one step, through the backup API.
 */
gboolean
cps_store_restore (CpsStore *self, const char *snapshot_path, GError **error)
{
  g_autoptr (CpsSnapshot) before = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *problem = NULL;
  g_autofree char *keep = NULL;
  sqlite3 *source;

  g_return_val_if_fail (CPS_IS_STORE (self), FALSE);
  g_return_val_if_fail (snapshot_path != NULL, FALSE);

  if (self->in_transaction)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_INVALID,
                   _("A snapshot cannot be restored while a transaction is open"));
      return FALSE;
    }
  if (!cps_store_verify_snapshot (snapshot_path, error))
    return FALSE;

  keep = g_canonicalize_filename (snapshot_path, NULL);
  before = take_snapshot (self, "before-restore", keep, &local_error);
  if (before == NULL)
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO,
                   _("Could not snapshot the store before restoring, so nothing was restored: "
                     "%s"),
                   local_error->message);
      return FALSE;
    }

  source = open_snapshot_readonly (snapshot_path, error);
  if (source == NULL)
    return FALSE;
  /* Statements would hold the old schema; cached revisions are of the old
   * content. */
  _cps_store_forget_cached (self);
  if (!_cps_store_backup (source, self->db, snapshot_path, self->path, error))
    {
      sqlite3_close (source);
      g_prefix_error (error, _("The store was not changed (its snapshot is “%s”): "),
                      before->path);
      return FALSE;
    }
  sqlite3_close (source);

  if (!_cps_store_migrate (self->db, self->path, error))
    return FALSE;
  if (!_cps_store_quick_check (self->db, "quick_check", &problem))
    {
      g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT,
                   _("The restored store fails SQLite’s check (%s); the store before the "
                     "restore is in “%s”"),
                   problem, before->path);
      return FALSE;
    }
  return TRUE;
}

/**
 * cps_store_restore_damaged:
 * @store_path: a store that cannot be opened (or does not exist)
 * @snapshot_path: a snapshot to restore
 * @out_moved_aside: (out) (optional) (nullable): where the old file was moved
 *
 * For a store too damaged to open: verifies the snapshot, moves the damaged
 * file (with its WAL) aside as `<store>.damaged-<UTC time>` rather than
 * deleting it, and puts the snapshot's content in its place.
 */
gboolean
cps_store_restore_damaged (const char *store_path, const char *snapshot_path,
                           char **out_moved_aside, GError **error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%dT%H%M%SZ");
  g_autofree char *aside = NULL;
  g_autofree char *wal = g_strconcat (store_path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (store_path, "-shm", NULL);
  g_autofree char *journal = g_strconcat (store_path, "-journal", NULL);
  g_autoptr (CpsStore) reopened = NULL;
  sqlite3 *source, *dest;

  g_return_val_if_fail (store_path != NULL && snapshot_path != NULL, FALSE);

  if (out_moved_aside != NULL)
    *out_moved_aside = NULL;
  if (!cps_store_verify_snapshot (snapshot_path, error))
    return FALSE;

  if (g_file_test (store_path, G_FILE_TEST_EXISTS))
    {
      aside = g_strdup_printf ("%s.damaged-%s", store_path, stamp);
      if (g_rename (store_path, aside) != 0)
        {
          int saved_errno = errno;
          g_set_error (error, CPS_STORE_ERROR, CPS_STORE_ERROR_IO,
                       _("Could not move the damaged store “%s” aside: %s. Nothing was "
                         "changed."),
                       store_path, g_strerror (saved_errno));
          return FALSE;
        }
      if (g_file_test (wal, G_FILE_TEST_EXISTS))
        {
          g_autofree char *aside_wal = g_strconcat (aside, "-wal", NULL);
          g_rename (wal, aside_wal);
        }
      if (g_file_test (journal, G_FILE_TEST_EXISTS))
        {
          g_autofree char *aside_journal = g_strconcat (aside, "-journal", NULL);
          g_rename (journal, aside_journal);
        }
      g_unlink (shm);
    }

  source = open_snapshot_readonly (snapshot_path, error);
  if (source == NULL)
    return FALSE;
  dest = _cps_store_open_connection (store_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                     error);
  if (dest == NULL)
    {
      sqlite3_close (source);
      return FALSE;
    }
  if (!_cps_store_backup (source, dest, snapshot_path, store_path, error) ||
      !_cps_store_exec (dest, "PRAGMA journal_mode = WAL", store_path, error))
    {
      sqlite3_close (source);
      sqlite3_close (dest);
      return FALSE;
    }
  sqlite3_close (source);
  sqlite3_close (dest);

  reopened = cps_store_open (store_path, error);
  if (reopened == NULL)
    return FALSE;
  if (out_moved_aside != NULL)
    *out_moved_aside = g_steal_pointer (&aside);
  return TRUE;
}
