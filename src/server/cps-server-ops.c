/* cps-server-ops.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The operations subcommands (CONTRACT.md “Running the server”):
 *
 *   cps-server backup --data-dir DIR --to OUT_DIR
 *   cps-server rehearse-restore --data-dir DIR BACKUP_DIR
 *   cps-server check --data-dir DIR
 *
 * A backup directory holds cps-server.db (a consistent online copy), the
 * server's public key (server-key.pub; never the secret seed), MANIFEST.json
 * and SHA256SUMS in `sha256sum -c` format. A rehearsal restores the copy into
 * a scratch directory, re-verifies every revision and the audit chain there,
 * and records its result in the live server's audit chain under a fresh
 * checkpoint, so the result is attested by the server key.
 *
 * Exit status: 0 all is well, 1 a problem was found or the command failed,
 * 2 usage error.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "cps-audit.h"
#include "cps-jcs.h"
#include "cps-json-writer.h"
#include "cps-revision.h"
#include "cps-server-commands.h"
#include "cps-server-config.h"
#include "cps-server-key.h"
#include "cps-storage.h"

#define DEFAULT_CONFIG_PATH "/etc/cps-server.conf"
#define BACKUP_FORMAT "cps-server-backup/1"
#define BACKUP_DATABASE "cps-server.db"
#define BACKUP_PUBLIC_KEY "server-key.pub"
#define BACKUP_MANIFEST "MANIFEST.json"
#define BACKUP_SUMS "SHA256SUMS"
#define SERVER_KEY_NAME "server-key"

enum
{
  EXIT_OK = 0,
  EXIT_PROBLEM = 1,
  EXIT_USAGE = 2,
};

typedef struct
{
  GHashTable *device_keys;  /* device id → GBytes of its 32-byte public key */
  GPtrArray *problems;
  gint64 checked;
} RevisionCheck;

/* ----- auxiliary functions ------------------------------------------------------------------ */

static int
usage_error (GOptionContext *context, const char *message)
{
  return cps_server_command_usage_error (context, "cps-server", message);
}

/* Parses the command line: the subcommand's own @entries, then the --config every one
 * takes. */
static gboolean
parse_options (GOptionContext *context, const GOptionEntry *entries, const char *summary,
               char **config_path, int *argc, char ***argv, GError **error)
{
  const GOptionEntry config_entries[] = {
    { "config", 0, 0, G_OPTION_ARG_FILENAME, config_path,
      N_("Settings file (default /etc/cps-server.conf when it exists)"), N_("FILE") },
    { NULL },
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  return cps_server_command_parse (context, config_entries, summary, argc, argv, error);
}

static int
fail (const char *message)
{
  g_printerr ("cps-server: %s\n", message);
  return EXIT_PROBLEM;
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
print_problems (GPtrArray *problems, guint from)
{
  for (guint i = from; i < problems->len; i++)
    g_print ("  - %s\n", (const char *) g_ptr_array_index (problems, i));
}

/* The settings as serve reads them (so the same storage is found), with --data-dir on top.
 * When they cannot be read, or name no data directory, says so and returns NULL with the
 * exit status in *status. */
static CpsServerConfig *
load_config (GOptionContext *context, const char *config_path, const char *data_dir,
             int *status)
{
  g_autoptr (CpsServerConfig) config = cps_server_config_new_defaults ();
  g_autoptr (GError) error = NULL;

  if (!cps_server_config_load_file (config, config_path != NULL ? config_path
                                                                : DEFAULT_CONFIG_PATH,
                                    config_path != NULL, &error))
    {
      *status = fail (error->message);
      return NULL;
    }
  if (data_dir != NULL)
    {
      g_free (config->data_dir);
      config->data_dir = g_strdup (data_dir);
    }
  if (config->data_dir == NULL)
    {
      *status = usage_error (context, _("Give the data directory with --data-dir DIR."));
      return NULL;
    }
  return g_steal_pointer (&config);
}

/* The live server's storage; never creates a database where there was none. */
static CpsStorage *
open_live_storage (const CpsServerConfig *config, GError **error)
{
  g_autofree char *path = cps_server_config_dup_database_path (config);

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("There is no server database in %s; check --data-dir"), config->data_dir);
      return NULL;
    }
  return cps_storage_open (config->storage, path, error);
}

static gboolean
fsync_path (const char *path, gboolean directory, GError **error)
{
  int fd = open (path, (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  int saved;

  if (fd >= 0 && fsync (fd) == 0)
    {
      close (fd);
      return TRUE;
    }
  saved = errno;
  if (fd >= 0)
    close (fd);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
               _("Cannot flush %s to disk: %s"), path, g_strerror (saved));
  return FALSE;
}

/* Writes a new file (never replacing one) and flushes it to disk. */
static gboolean
write_new_file (const char *path, const char *data, gsize length, GError **error)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  gsize done = 0;
  int saved = 0;

  if (fd < 0)
    {
      saved = errno;
      goto fail;
    }
  while (done < length)
    {
      gssize n = write (fd, data + done, length - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          saved = errno;
          close (fd);
          goto fail;
        }
      done += n;
    }
  if (fsync (fd) != 0)
    {
      saved = errno;
      close (fd);
      goto fail;
    }
  if (close (fd) != 0)
    {
      saved = errno;
      goto fail;
    }
  return TRUE;

fail:
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("Cannot write %s: %s"),
               path, g_strerror (saved));
  return FALSE;
}

/* The lowercase hex SHA-256 and the size of a file. */
static char *
hash_file (const char *path, gint64 *size, GError **error)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buffer = g_malloc (64 * 1024);
  gint64 total = 0;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  int saved;

  if (fd < 0)
    goto fail;
  for (;;)
    {
      gssize n = read (fd, buffer, 64 * 1024);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          saved = errno;
          close (fd);
          errno = saved;
          goto fail;
        }
      if (n == 0)
        break;
      g_checksum_update (checksum, buffer, n);
      total += n;
    }
  close (fd);
  if (size != NULL)
    *size = total;
  return g_strdup (g_checksum_get_string (checksum));

fail:
  saved = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("Cannot read %s: %s"), path,
               g_strerror (saved));
  return NULL;
}

/* Removes a directory this program made and the plain files in it. */
static void
remove_scratch_dir (const char *dir)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_unlink (path) != 0)
        g_warning ("Could not remove %s: %s", path, g_strerror (errno));
    }
  if (g_rmdir (dir) != 0)
    g_warning ("Could not remove %s: %s", dir, g_strerror (errno));
}

/* Every device's public key, read before iterating revisions so the iteration is the only
 * statement running on the connection. */
static GHashTable *
load_device_keys (CpsStorage *storage, GPtrArray *problems, GError **error)
{
  g_autoptr (GHashTable) keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                       (GDestroyNotify) g_bytes_unref);
  g_autoptr (GPtrArray) devices = cps_storage_device_list (storage, NULL, error);

  if (devices == NULL)
    return NULL;
  for (guint i = 0; i < devices->len; i++)
    {
      const CpsDeviceRecord *device = g_ptr_array_index (devices, i);
      gsize len = 0;
      guchar *raw = device->public_key != NULL ? g_base64_decode (device->public_key, &len)
                                               : NULL;

      if (len != CPS_DEVICE_KEY_PUBLIC_BYTES)
        {
          add_problem (problems, _("Device %s has no valid public key."), device->id);
          g_free (raw);
          continue;
        }
      g_hash_table_insert (keys, g_strdup (device->id), g_bytes_new_take (raw, len));
    }
  return g_steal_pointer (&keys);
}

static gboolean
check_revision_cb (const CpsRevisionRecord *record, gpointer user_data, GError **error)
{
  RevisionCheck *check = user_data;
  g_autoptr (CpsRevision) revision = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *id = NULL;
  const CpsJsonNode *document;
  const char *stated_id;
  GBytes *key;

  check->checked++;
  if (record->json == NULL)
    {
      add_problem (check->problems, _("Revision %s: its stored JSON is missing."), record->id);
      return TRUE;
    }
  revision = cps_revision_new_from_string (record->json, -1, &local_error);
  if (revision == NULL)
    {
      add_problem (check->problems, _("Revision %s cannot be read: %s"), record->id,
                   local_error->message);
      return TRUE;
    }

  stated_id = cps_revision_get_id (revision);
  if (g_strcmp0 (stated_id, record->id) != 0)
    add_problem (check->problems, _("Revision %s is stored under the id %s."), stated_id,
                 record->id);
  if (g_strcmp0 (cps_revision_get_project_id (revision), record->project_id) != 0)
    add_problem (check->problems, _("Revision %s is stored in project %s but names project %s."),
                 stated_id, record->project_id, cps_revision_get_project_id (revision));

  id = cps_revision_compute_id (revision, &local_error);
  if (id == NULL)
    {
      add_problem (check->problems, _("Revision %s: its id cannot be computed: %s"), stated_id,
                   local_error->message);
      return TRUE;
    }
  if (strcmp (id, stated_id) != 0)
    add_problem (check->problems, _("Revision %s: its id does not match its contents."),
                 stated_id);

  document = cps_revision_get_document (revision);
  if (document != NULL)
    {
      g_autofree char *checksum = cps_checksum_content (document, &local_error);

      if (checksum == NULL)
        add_problem (check->problems, _("Revision %s: its document cannot be checksummed: %s"),
                     stated_id, local_error->message);
      else if (strcmp (checksum, cps_revision_get_checksum (revision)) != 0)
        add_problem (check->problems,
                     _("Revision %s: its document does not match its checksum."), stated_id);
    }

  key = g_hash_table_lookup (check->device_keys, cps_revision_get_device_id (revision));
  if (key == NULL)
    add_problem (check->problems,
                 _("Revision %s was signed by device %s, which is not registered."), stated_id,
                 cps_revision_get_device_id (revision));
  else if (!cps_signature_verify_base64 (g_bytes_get_data (key, NULL), stated_id,
                                         strlen (stated_id),
                                         cps_revision_get_signature (revision)))
    add_problem (check->problems,
                 _("Revision %s: its signature does not verify with the key of device %s."),
                 stated_id, cps_revision_get_device_id (revision));
  return TRUE;
}

/* Re-verifies every stored revision; FALSE only when storage failed. */
static gboolean
check_revisions (CpsStorage *storage, GPtrArray *problems, gint64 *checked, GError **error)
{
  g_autoptr (GHashTable) keys = load_device_keys (storage, problems, error);
  RevisionCheck check = { keys, problems, 0 };

  if (keys == NULL)
    return FALSE;
  if (!cps_storage_revision_foreach (storage, check_revision_cb, &check, error))
    return FALSE;
  *checked = check.checked;
  return TRUE;
}

/* Appends an operations entry to the live chain, signing a checkpoint right after it when
 * @checkpoint is not NULL. */
static gboolean
record_in_audit (CpsStorage *storage, CpsServerKey *key, const char *action,
                 const char *details_json, CpsAuditRecord **entry,
                 CpsCheckpointRecord **checkpoint, GError **error)
{
  if (!cps_storage_begin (storage, error))
    return FALSE;
  if (!cps_audit_append (storage, key, action, NULL, NULL, NULL, NULL, details_json, entry,
                         error))
    goto fail;
  if (checkpoint != NULL &&
      (*checkpoint = cps_audit_checkpoint (storage, key, TRUE, error)) == NULL)
    goto fail;
  if (!cps_storage_commit (storage, error))
    goto fail;
  return TRUE;

fail:
  cps_storage_rollback (storage);
  if (entry != NULL)
    g_clear_pointer (entry, cps_audit_record_free);
  if (checkpoint != NULL)
    g_clear_pointer (checkpoint, cps_checkpoint_record_free);
  return FALSE;
}

static char *
read_public_key (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autofree guchar *raw = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  g_strstrip (text);
  if (*text != '\0')
    raw = g_base64_decode (text, &len);
  if (len != CPS_DEVICE_KEY_PUBLIC_BYTES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s does not hold a base64 Ed25519 public key"), path);
      return NULL;
    }
  return g_steal_pointer (&text);
}

/* ----- backup ------------------------------------------------------------------------------- */

typedef struct
{
  const char *name;
  char *sha256;
  gint64 bytes;
} BackupFile;

static gboolean
prepare_output_dir (const char *dir, GError **error)
{
  if (g_file_test (dir, G_FILE_TEST_EXISTS))
    {
      g_autoptr (GDir) handle = NULL;

      if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                       _("%s exists and is not a directory; give a new directory with --to"),
                       dir);
          return FALSE;
        }
      handle = g_dir_open (dir, 0, error);
      if (handle == NULL)
        return FALSE;
      if (g_dir_read_name (handle) != NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                       _("%s is not empty; give a new or empty directory with --to so no "
                         "earlier backup is overwritten"),
                       dir);
          return FALSE;
        }
      return TRUE;
    }
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create %s: %s"), dir, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* The counts the manifest records, read from the copy itself. */
static gboolean
describe_copy (const char *backend, const char *path, gint64 *revisions, gint64 *audit_seq,
               char **audit_hash, GError **error)
{
  g_autoptr (CpsStorage) copy = cps_storage_open (backend, path, error);

  if (copy == NULL)
    return FALSE;
  *revisions = cps_storage_revision_count (copy, error);
  if (*revisions < 0)
    return FALSE;
  return cps_storage_audit_last (copy, audit_seq, audit_hash, error);
}

static char *
build_manifest (const char *backend, BackupFile *files, guint n_files, gint64 revisions,
                gint64 audit_seq, const char *audit_hash)
{
  g_autoptr (CpsJsonWriter) writer = cps_json_writer_new ();
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autofree char *created_at = cps_now_rfc3339 ();
  g_autofree char *pretty = NULL;
  GString *text;

  cps_json_writer_begin_object (writer);
  cps_json_writer_member_string (writer, "format", BACKUP_FORMAT);
  cps_json_writer_member_string (writer, "created_at", created_at);
  cps_json_writer_member_string (writer, "storage", backend);
  cps_json_writer_key (writer, "files");
  cps_json_writer_begin_array (writer);
  for (guint i = 0; i < n_files; i++)
    {
      cps_json_writer_begin_object (writer);
      cps_json_writer_member_string (writer, "name", files[i].name);
      cps_json_writer_member_int (writer, "bytes", files[i].bytes);
      cps_json_writer_member_string (writer, "sha256", files[i].sha256);
      cps_json_writer_end_object (writer);
    }
  cps_json_writer_end_array (writer);
  cps_json_writer_member_int (writer, "revisions", revisions);
  cps_json_writer_key (writer, "audit_head");
  cps_json_writer_begin_object (writer);
  cps_json_writer_member_int (writer, "seq", audit_seq);
  cps_json_writer_member_string (writer, "hash", audit_hash);
  cps_json_writer_end_object (writer);
  cps_json_writer_end_object (writer);

  /* Indented for people reading it; the writer's output is valid JSON by construction. */
  doc = cps_json_document_parse_copy (cps_json_writer_peek (writer), -1, NULL, NULL);
  if (doc != NULL)
    pretty = cps_json_to_string (cps_json_document_get_root (doc), 2, NULL, NULL);
  if (pretty != NULL)
    return g_strconcat (pretty, "\n", NULL);
  text = cps_json_writer_steal (g_steal_pointer (&writer));
  g_string_append_c (text, '\n');
  return g_string_free (text, FALSE);
}

/**
 * cps_server_backup_main:
 *
 * `cps-server backup --data-dir DIR --to OUT_DIR`
 */
int
cps_server_backup_main (int argc, char **argv)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *out_dir = NULL;
  g_autofree char *config_path = NULL;
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
      N_("Data directory of the server to back up"), N_("DIR") },
    { "to", 0, 0, G_OPTION_ARG_FILENAME, &out_dir,
      N_("New or empty directory to write the backup to"), N_("OUT_DIR") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsServerConfig) config = NULL;
  g_autoptr (CpsStorage) storage = NULL;
  g_autoptr (CpsServerKey) key = NULL;
  g_autoptr (CpsJsonWriter) details = NULL;
  g_autoptr (GString) details_text = NULL;
  g_autoptr (GString) sums = NULL;
  g_autoptr (CpsAuditRecord) entry = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *manifest_path = NULL;
  g_autofree char *sums_path = NULL;
  g_autofree char *key_text = NULL;
  g_autofree char *manifest = NULL;
  g_autofree char *audit_hash = NULL;
  g_autofree char *basename = NULL;
  g_autofree char *manifest_sha256 = NULL;
  BackupFile files[2] = { { BACKUP_DATABASE, NULL, 0 }, { BACKUP_PUBLIC_KEY, NULL, 0 } };
  gint64 revisions = 0;
  gint64 audit_seq = 0;
  gboolean created = FALSE;
  int status;

  if (!parse_options (context, entries,
                      _("Make a consistent backup of the server’s storage with a checksum "
                        "manifest."),
                      &config_path, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc > 1)
    return usage_error (context, _("backup takes no arguments besides its options."));
  if (out_dir == NULL)
    return usage_error (context, _("Give the directory to write the backup to with --to OUT_DIR."));
  if ((config = load_config (context, config_path, data_dir, &status)) == NULL)
    return status;

  storage = open_live_storage (config, &error);
  if (storage == NULL)
    return fail (error->message);
  key = cps_server_key_load (config->data_dir, &error);
  if (key == NULL)
    return fail (error->message);

  created = !g_file_test (out_dir, G_FILE_TEST_EXISTS);
  if (!prepare_output_dir (out_dir, &error))
    return fail (error->message);

  db_path = g_build_filename (out_dir, BACKUP_DATABASE, NULL);
  key_path = g_build_filename (out_dir, BACKUP_PUBLIC_KEY, NULL);
  manifest_path = g_build_filename (out_dir, BACKUP_MANIFEST, NULL);
  sums_path = g_build_filename (out_dir, BACKUP_SUMS, NULL);

  if (!cps_storage_backup_to (storage, db_path, &error) ||
      !describe_copy (config->storage, db_path, &revisions, &audit_seq, &audit_hash, &error))
    goto fail;

  key_text = g_strconcat (cps_server_key_get_public_base64 (key), "\n", NULL);
  if (!write_new_file (key_path, key_text, strlen (key_text), &error))
    goto fail;

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (out_dir, files[i].name, NULL);

      files[i].sha256 = hash_file (path, &files[i].bytes, &error);
      if (files[i].sha256 == NULL)
        goto fail;
    }

  manifest = build_manifest (config->storage, files, G_N_ELEMENTS (files), revisions, audit_seq,
                             audit_hash);
  if (!write_new_file (manifest_path, manifest, strlen (manifest), &error))
    goto fail;
  manifest_sha256 = hash_file (manifest_path, NULL, &error);
  if (manifest_sha256 == NULL)
    goto fail;

  sums = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    g_string_append_printf (sums, "%s  %s\n", files[i].sha256, files[i].name);
  g_string_append_printf (sums, "%s  %s\n", manifest_sha256, BACKUP_MANIFEST);
  if (!write_new_file (sums_path, sums->str, sums->len, &error) ||
      !fsync_path (db_path, FALSE, &error) || !fsync_path (out_dir, TRUE, &error))
    goto fail;

  basename = g_path_get_basename (out_dir);
  details = cps_json_writer_new ();
  cps_json_writer_begin_object (details);
  cps_json_writer_member_string (details, "path_basename", basename);
  cps_json_writer_member_int (details, "revisions", revisions);
  cps_json_writer_member_int (details, "audit_seq", audit_seq);
  cps_json_writer_end_object (details);
  details_text = cps_json_writer_steal (g_steal_pointer (&details));
  if (!record_in_audit (storage, key, "backup.created", details_text->str, &entry, NULL,
                        &error))
    {
      g_printerr ("cps-server: %s\n",
                  _("The backup is complete, but recording it in the audit log failed:"));
      return fail (error->message);
    }

  g_print (_("Backup written to %s\n"), out_dir);
  g_print (g_dngettext (NULL, "  %lld revision\n", "  %lld revisions\n", revisions),
           (long long) revisions);
  g_print (_("  audit log up to entry %lld\n"), (long long) audit_seq);
  g_print (_("  recorded as audit entry %lld\n"), (long long) entry->seq);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    g_free (files[i].sha256);
  return EXIT_OK;

fail:
  g_printerr ("cps-server: %s\n", error->message);
  /* Leave no half backup that could be mistaken for a good one. */
  for (const char *const *name = (const char *const[]) { BACKUP_SUMS, BACKUP_MANIFEST,
                                                        BACKUP_PUBLIC_KEY, BACKUP_DATABASE,
                                                        BACKUP_DATABASE "-wal",
                                                        BACKUP_DATABASE "-shm",
                                                        BACKUP_DATABASE "-journal", NULL };
       *name != NULL; name++)
    {
      g_autofree char *path = g_build_filename (out_dir, *name, NULL);
      g_unlink (path);
    }
  if (created)
    g_rmdir (out_dir);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    g_free (files[i].sha256);
  return EXIT_PROBLEM;
}

/* ----- rehearse-restore --------------------------------------------------------------------- */

static gboolean
is_plain_name (const char *name)
{
  return *name != '\0' && strchr (name, '/') == NULL && strcmp (name, ".") != 0 &&
         strcmp (name, "..") != 0;
}

static gboolean
is_sha256_hex (const char *text)
{
  if (strlen (text) != 64)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

/* Checks every file SHA256SUMS lists; the three a backup needs must be among them. */
static void
verify_sums (const char *backup_dir, GPtrArray *problems)
{
  static const char *const required[] = { BACKUP_DATABASE, BACKUP_PUBLIC_KEY, BACKUP_MANIFEST };
  g_autofree char *path = g_build_filename (backup_dir, BACKUP_SUMS, NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) listed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, &error))
    {
      add_problem (problems, _("The checksum list cannot be read: %s"), error->message);
      return;
    }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *file_path = NULL;
      g_autofree char *actual = NULL;
      g_autoptr (GError) local_error = NULL;
      const char *line = lines[i];
      const char *name;

      if (*line == '\0')
        continue;
      /* "<hex>  <name>" (text mode) or "<hex> *<name>" (binary mode) */
      if (strlen (line) < 67 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*'))
        {
          add_problem (problems, _("Line %u of %s is not “checksum  name”."), i + 1,
                       BACKUP_SUMS);
          continue;
        }
      name = line + 66;
      {
        g_autofree char *hex = g_strndup (line, 64);

        if (!is_sha256_hex (hex) || !is_plain_name (name))
          {
            add_problem (problems, _("Line %u of %s is not “checksum  name”."), i + 1,
                         BACKUP_SUMS);
            continue;
          }
        g_hash_table_add (listed, g_strdup (name));
        file_path = g_build_filename (backup_dir, name, NULL);
        actual = hash_file (file_path, NULL, &local_error);
        if (actual == NULL)
          add_problem (problems, _("%s is listed in %s but cannot be read: %s"), name,
                       BACKUP_SUMS, local_error->message);
        else if (strcmp (actual, hex) != 0)
          add_problem (problems, _("%s does not match its checksum; the file was changed or "
                                   "damaged."),
                       name);
      }
    }
  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    if (!g_hash_table_contains (listed, required[i]))
      add_problem (problems, _("%s does not list %s."), BACKUP_SUMS, required[i]);
}

typedef struct
{
  char *storage;
  gint64 revisions;
  gint64 audit_seq;
  char *audit_hash;
} Manifest;

static void
manifest_clear (Manifest *manifest)
{
  g_clear_pointer (&manifest->storage, g_free);
  g_clear_pointer (&manifest->audit_hash, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Manifest, manifest_clear)

static gboolean
get_int (const CpsJsonNode *object, const char *key, gint64 *out)
{
  const CpsJsonNode *node = cps_json_object_get (object, key);

  if (cps_json_node_get_type (node) != CPS_JSON_NUMBER || node->v.number < 0 ||
      node->v.number > 9007199254740991.0 || node->v.number != (double) (gint64) node->v.number)
    return FALSE;
  *out = (gint64) node->v.number;
  return TRUE;
}

/* Reads MANIFEST.json and checks the files it describes; FALSE when it is unusable. */
static gboolean
read_manifest (const char *backup_dir, Manifest *manifest, char **manifest_sha256,
               GPtrArray *problems)
{
  g_autofree char *path = g_build_filename (backup_dir, BACKUP_MANIFEST, NULL);
  g_autofree char *text = NULL;
  gsize length = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc = NULL;
  const CpsJsonNode *root;
  const CpsJsonNode *files;
  const CpsJsonNode *head;
  const char *format;

  if (!g_file_get_contents (path, &text, &length, &error))
    {
      add_problem (problems, _("The manifest cannot be read: %s"), error->message);
      return FALSE;
    }
  *manifest_sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) text,
                                                  length);
  doc = cps_json_document_parse_copy (text, length, NULL, &error);
  if (doc == NULL)
    {
      add_problem (problems, _("The manifest is not valid JSON: %s"), error->message);
      return FALSE;
    }
  root = cps_json_document_get_root (doc);
  format = cps_json_object_get_string (root, "format");
  if (g_strcmp0 (format, BACKUP_FORMAT) != 0)
    {
      add_problem (problems, _("The manifest is not in the %s format this version reads."),
                   BACKUP_FORMAT);
      return FALSE;
    }
  manifest->storage = g_strdup (cps_json_object_get_string (root, "storage"));
  head = cps_json_object_get (root, "audit_head");
  files = cps_json_object_get (root, "files");
  if (manifest->storage == NULL || !get_int (root, "revisions", &manifest->revisions) ||
      cps_json_node_get_type (head) != CPS_JSON_OBJECT ||
      !get_int (head, "seq", &manifest->audit_seq) ||
      cps_json_node_get_type (files) != CPS_JSON_ARRAY)
    {
      add_problem (problems, _("The manifest lacks some of its fields."));
      return FALSE;
    }
  manifest->audit_hash = g_strdup (cps_json_object_get_string (head, "hash"));

  for (guint i = 0; i < files->n; i++)
    {
      const CpsJsonNode *file = &files->v.items[i];
      const char *name = cps_json_object_get_string (file, "name");
      const char *sha256 = cps_json_object_get_string (file, "sha256");
      g_autofree char *file_path = NULL;
      g_autofree char *actual = NULL;
      g_autoptr (GError) local_error = NULL;
      gint64 bytes = 0;
      gint64 actual_bytes = 0;

      if (name == NULL || sha256 == NULL || !get_int (file, "bytes", &bytes) ||
          !is_plain_name (name))
        {
          add_problem (problems, _("File %u of the manifest is not described properly."), i + 1);
          continue;
        }
      file_path = g_build_filename (backup_dir, name, NULL);
      actual = hash_file (file_path, &actual_bytes, &local_error);
      if (actual == NULL)
        add_problem (problems, _("%s is listed in the manifest but cannot be read: %s"), name,
                     local_error->message);
      else if (actual_bytes != bytes || strcmp (actual, sha256) != 0)
        add_problem (problems, _("%s is not the file the manifest describes (size or checksum "
                                 "differ)."),
                     name);
    }
  return TRUE;
}

/* Copies the backup's database into a scratch directory and verifies everything there. */
static void
rehearse (const char *backup_dir, const Manifest *manifest, const char *public_key,
          GPtrArray *problems, gint64 *revisions_checked, gint64 *audit_entries)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *scratch = g_dir_make_tmp ("cps-rehearse-XXXXXX", &error);
  g_autofree char *source_path = g_build_filename (backup_dir, BACKUP_DATABASE, NULL);
  g_autofree char *scratch_path = NULL;
  g_autoptr (GFile) source = NULL;
  g_autoptr (GFile) target = NULL;
  g_autofree char *head = NULL;
  CpsStorage *storage = NULL;
  gint64 revisions;
  gint64 seq = 0;

  if (scratch == NULL)
    {
      add_problem (problems, _("No scratch directory for the restore: %s"), error->message);
      return;
    }
  scratch_path = g_build_filename (scratch, BACKUP_DATABASE, NULL);
  source = g_file_new_for_path (source_path);
  target = g_file_new_for_path (scratch_path);
  if (!g_file_copy (source, target, G_FILE_COPY_NONE, NULL, NULL, NULL, &error))
    {
      add_problem (problems, _("The database cannot be copied for the restore: %s"),
                   error->message);
      goto out;
    }

  storage = cps_storage_open (manifest->storage != NULL ? manifest->storage : "sqlite",
                              scratch_path, &error);
  if (storage == NULL)
    {
      add_problem (problems, _("The restored database cannot be opened: %s"), error->message);
      goto out;
    }

  if (!cps_storage_check_integrity (storage, problems, &error) ||
      !check_revisions (storage, problems, revisions_checked, &error) ||
      !cps_audit_verify_chain (storage, public_key, problems, audit_entries, &error))
    {
      add_problem (problems, _("The restored database cannot be read: %s"), error->message);
      goto out;
    }
  if (public_key == NULL)
    add_problem (problems, _("The checkpoint signatures cannot be checked without the "
                             "server’s public key."));

  revisions = cps_storage_revision_count (storage, &error);
  if (revisions < 0 || !cps_storage_audit_last (storage, &seq, &head, &error))
    {
      add_problem (problems, _("The restored database cannot be read: %s"), error->message);
      goto out;
    }
  if (manifest->storage != NULL && revisions != manifest->revisions)
    add_problem (problems, _("The restored database holds %lld revisions; the manifest says "
                             "%lld."),
                 (long long) revisions, (long long) manifest->revisions);
  if (manifest->storage != NULL &&
      (seq != manifest->audit_seq || g_strcmp0 (head, manifest->audit_hash) != 0))
    add_problem (problems, _("The restored audit log ends at entry %lld, not at the head the "
                             "manifest records (entry %lld)."),
                 (long long) seq, (long long) manifest->audit_seq);

out:
  g_clear_pointer (&storage, cps_storage_close);
  remove_scratch_dir (scratch);
}

/**
 * cps_server_rehearse_restore_main:
 *
 * `cps-server rehearse-restore --data-dir DIR BACKUP_DIR`
 */
int
cps_server_rehearse_restore_main (int argc, char **argv)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *config_path = NULL;
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
      N_("Data directory of the server whose audit log records the rehearsal"), N_("DIR") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_("BACKUP_DIR"));
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsServerConfig) config = NULL;
  g_autoptr (CpsStorage) live = NULL;
  g_autoptr (CpsServerKey) key = NULL;
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (CpsJsonWriter) details = NULL;
  g_autoptr (GString) details_text = NULL;
  g_autoptr (CpsAuditRecord) entry = NULL;
  g_autoptr (CpsCheckpointRecord) checkpoint = NULL;
  g_auto (Manifest) manifest = { 0 };
  g_autofree char *manifest_sha256 = NULL;
  g_autofree char *public_key = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *basename = NULL;
  const char *backup_dir;
  gint64 revisions_checked = 0;
  gint64 audit_entries = 0;
  gboolean passed;
  int status;

  if (!parse_options (context, entries,
                      _("Restore a backup into a scratch copy, verify every revision and the "
                        "audit chain there, and record the result in the server’s audit log."),
                      &config_path, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc != 2)
    return usage_error (context, _("Give exactly one backup directory."));
  backup_dir = argv[1];
  if ((config = load_config (context, config_path, data_dir, &status)) == NULL)
    return status;
  if (!g_file_test (backup_dir, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *message = g_strdup_printf (_("%s is not a directory; give the directory "
                                                    "that cps-server backup wrote."),
                                                  backup_dir);
      return fail (message);
    }

  /* The live chain must be able to record the result before any work is done. */
  live = open_live_storage (config, &error);
  if (live == NULL)
    return fail (error->message);
  key = cps_server_key_load (config->data_dir, &error);
  if (key == NULL)
    return fail (error->message);

  g_print (_("Rehearsing a restore of %s\n"), backup_dir);
  verify_sums (backup_dir, problems);
  if (read_manifest (backup_dir, &manifest, &manifest_sha256, problems))
    {
      key_path = g_build_filename (backup_dir, BACKUP_PUBLIC_KEY, NULL);
      public_key = read_public_key (key_path, &error);
      if (public_key == NULL)
        {
          add_problem (problems, _("The server’s public key cannot be read: %s"),
                       error->message);
          g_clear_error (&error);
        }
      rehearse (backup_dir, &manifest, public_key, problems, &revisions_checked,
                &audit_entries);
    }
  passed = problems->len == 0;

  g_print (g_dngettext (NULL, "  %lld revision verified\n", "  %lld revisions verified\n",
                        revisions_checked),
           (long long) revisions_checked);
  g_print (g_dngettext (NULL, "  %lld audit entry verified\n", "  %lld audit entries verified\n",
                        audit_entries),
           (long long) audit_entries);
  if (!passed)
    {
      g_print (g_dngettext (NULL, "  %u problem:\n", "  %u problems:\n", problems->len),
               problems->len);
      print_problems (problems, 0);
    }
  g_print ("%s\n", passed ? _("Result: passed") : _("Result: failed"));

  basename = g_path_get_basename (backup_dir);
  details = cps_json_writer_new ();
  cps_json_writer_begin_object (details);
  cps_json_writer_member_string (details, "backup", basename);
  cps_json_writer_member_string (details, "result", passed ? "passed" : "failed");
  cps_json_writer_member_int (details, "revisions", revisions_checked);
  cps_json_writer_member_int (details, "audit_entries", audit_entries);
  cps_json_writer_member_int (details, "problems", problems->len);
  cps_json_writer_member_string (details, "manifest_sha256", manifest_sha256);
  cps_json_writer_end_object (details);
  details_text = cps_json_writer_steal (g_steal_pointer (&details));
  if (!record_in_audit (live, key, "restore.rehearsed", details_text->str, &entry, &checkpoint,
                        &error))
    {
      g_printerr ("cps-server: %s\n",
                  _("Recording the rehearsal in the audit log failed:"));
      return fail (error->message);
    }
  g_print (_("Recorded as audit entry %lld, signed in the checkpoint at entry %lld\n"),
           (long long) entry->seq, (long long) checkpoint->seq);

  return passed ? EXIT_OK : EXIT_PROBLEM;
}

/* ----- check -------------------------------------------------------------------------------- */

/**
 * cps_server_check_main:
 *
 * `cps-server check --data-dir DIR`
 */
int
cps_server_check_main (int argc, char **argv)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *config_path = NULL;
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
      N_("Data directory of the server to check"), N_("DIR") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsServerConfig) config = NULL;
  g_autoptr (CpsStorage) storage = NULL;
  g_autoptr (CpsServerKey) key = NULL;
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) checkpoints = NULL;
  g_autofree char *key_path = NULL;
  gint64 revisions_checked = 0;
  gint64 audit_entries = 0;
  guint first;
  int status;

  if (!parse_options (context, entries,
                      _("Check the storage, every revision, the audit chain and its "
                        "checkpoints, and the server key’s permissions."),
                      &config_path, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc > 1)
    return usage_error (context, _("check takes no arguments besides its options."));
  if ((config = load_config (context, config_path, data_dir, &status)) == NULL)
    return status;

  storage = open_live_storage (config, &error);
  if (storage == NULL)
    return fail (error->message);

  /* The key is only read here: creating one would make every checkpoint look forged. */
  g_print (_("Server key:\n"));
  first = problems->len;
  key_path = g_build_filename (config->data_dir, SERVER_KEY_NAME, NULL);
  checkpoints = cps_storage_checkpoint_list (storage, &error);
  if (checkpoints == NULL)
    return fail (error->message);
  if (g_file_test (key_path, G_FILE_TEST_EXISTS))
    {
      key = cps_server_key_load (config->data_dir, &error);
      if (key == NULL)
        {
          add_problem (problems, "%s", error->message);
          g_clear_error (&error);
        }
    }
  else if (checkpoints->len > 0)
    add_problem (problems, _("The server key %s is missing, so the audit checkpoints cannot be "
                             "verified; restore it from a copy."),
                 key_path);
  print_problems (problems, first);
  if (problems->len == first)
    g_print ("  %s\n", _("ok"));

  g_print (_("Storage integrity:\n"));
  first = problems->len;
  if (!cps_storage_check_integrity (storage, problems, &error))
    return fail (error->message);
  print_problems (problems, first);
  if (problems->len == first)
    g_print ("  %s\n", _("ok"));

  g_print (_("Revisions:\n"));
  first = problems->len;
  if (!check_revisions (storage, problems, &revisions_checked, &error))
    return fail (error->message);
  print_problems (problems, first);
  g_print (g_dngettext (NULL, "  %lld revision verified\n", "  %lld revisions verified\n",
                        revisions_checked),
           (long long) revisions_checked);

  g_print (_("Audit chain:\n"));
  first = problems->len;
  if (!cps_audit_verify_chain (storage,
                               key != NULL ? cps_server_key_get_public_base64 (key) : NULL,
                               problems, &audit_entries, &error))
    return fail (error->message);
  print_problems (problems, first);
  g_print (g_dngettext (NULL, "  %lld entry verified", "  %lld entries verified",
                        audit_entries),
           (long long) audit_entries);
  g_print (g_dngettext (NULL, ", %u checkpoint\n", ", %u checkpoints\n", checkpoints->len),
           checkpoints->len);

  if (problems->len > 0)
    {
      g_print (g_dngettext (NULL, "Result: %u problem found\n", "Result: %u problems found\n",
                            problems->len),
               problems->len);
      return EXIT_PROBLEM;
    }
  g_print ("%s\n", _("Result: all is well"));
  return EXIT_OK;
}
