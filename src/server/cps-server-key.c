/* cps-server-key.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * DATA_DIR/server-key holds the base64 of the 32-byte Ed25519 seed and a
 * newline. It is written to a private temporary file and linked into place,
 * so a crash never leaves half a key and two processes starting at once end
 * up with the same key. The seed is never logged.
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
#include <sodium.h>

#include "cps-server-key.h"

#define KEY_FILE_NAME "server-key"

struct _CpsServerKey
{
  guint8 public_key[crypto_sign_PUBLICKEYBYTES];
  guint8 secret_key[crypto_sign_SECRETKEYBYTES];
  char *public_base64;
};

static CpsServerKey *
key_from_seed (const guint8 seed[crypto_sign_SEEDBYTES])
{
  CpsServerKey *key = g_new0 (CpsServerKey, 1);

  crypto_sign_seed_keypair (key->public_key, key->secret_key, seed);
  key->public_base64 = g_base64_encode (key->public_key, sizeof key->public_key);
  return key;
}

static CpsServerKey *
load_key (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autofree guchar *seed = NULL;
  gsize length = 0;
  gsize seed_len = 0;
  struct stat st;
  CpsServerKey *key;

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot read the server key %s: %s"), path, g_strerror (saved));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The server key %s is not a regular file; move it away so a new key can "
                     "be created"),
                   path);
      return NULL;
    }
  if ((st.st_mode & 077) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("The server key %s can be read or changed by other users; restrict it "
                     "with “chmod 600 %s” and start again"),
                   path, path);
      return NULL;
    }
  if (!g_file_get_contents (path, &text, &length, error))
    return NULL;
  g_strstrip (text);
  if (*text != '\0')
    seed = g_base64_decode (text, &seed_len);
  sodium_memzero (text, length);
  if (seed_len != crypto_sign_SEEDBYTES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The server key %s is damaged; restore it from a copy. A new key would "
                     "no longer verify the audit checkpoints signed so far"),
                   path);
      if (seed != NULL)
        sodium_memzero (seed, seed_len);
      return NULL;
    }
  key = key_from_seed (seed);
  sodium_memzero (seed, seed_len);
  return key;
}

/* Writes a new key; FALSE without error when another process created one first. */
static gboolean
create_key (const char *data_dir, const char *path, GError **error)
{
  g_autofree char *tmp = g_build_filename (data_dir, ".server-key.XXXXXX", NULL);
  guint8 seed[crypto_sign_SEEDBYTES];
  g_autofree char *text = NULL;
  gsize len;
  gboolean ok;
  int saved = 0;
  int fd;

  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create the server key in %s: %s"), data_dir, g_strerror (saved));
      return FALSE;
    }
  randombytes_buf (seed, sizeof seed);
  text = g_base64_encode (seed, sizeof seed);
  sodium_memzero (seed, sizeof seed);
  len = strlen (text);
  ok = write (fd, text, len) == (gssize) len && write (fd, "\n", 1) == 1 && fsync (fd) == 0;
  if (!ok)
    saved = errno;
  sodium_memzero (text, len);
  if (close (fd) != 0 && ok)
    {
      ok = FALSE;
      saved = errno;
    }
  /* link() refuses to replace an existing file: the first writer wins. */
  if (ok && link (tmp, path) != 0)
    {
      saved = errno;
      g_unlink (tmp);
      if (saved == EEXIST)
        return FALSE;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create the server key %s: %s"), path, g_strerror (saved));
      return FALSE;
    }
  g_unlink (tmp);
  if (!ok)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create the server key %s: %s"), path, g_strerror (saved));
      return FALSE;
    }

  /* Make the new name durable. */
  fd = open (data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
  g_message ("Created a new server key in %s", path);
  return TRUE;
}

/**
 * cps_server_key_load_or_create:
 * @data_dir: the server's data directory
 *
 * Loads DATA_DIR/server-key, creating it (mode 0600) when there is none. A
 * key file that others may read is refused with a sentence saying how to
 * restrict it.
 *
 * Returns: (transfer full) (nullable): the key
 */
CpsServerKey *
cps_server_key_load_or_create (const char *data_dir, GError **error)
{
  g_autofree char *path = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (data_dir != NULL, NULL);

  if (sodium_init () < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("The cryptography library could not start"));
      return NULL;
    }

  path = g_build_filename (data_dir, KEY_FILE_NAME, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      if (g_mkdir_with_parents (data_dir, 0700) != 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("Cannot create the data directory %s: %s"), data_dir,
                       g_strerror (saved));
          return NULL;
        }
      if (!create_key (data_dir, path, &local_error) && local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
  return load_key (path, error);
}

/**
 * cps_server_key_load:
 * @data_dir: the server's data directory
 *
 * Loads DATA_DIR/server-key and never creates one: commands that work on an
 * existing server (backup, rehearse-restore, account) must not replace a lost
 * key, or every checkpoint signed so far would look forged.
 *
 * Returns: (transfer full) (nullable): the key
 */
CpsServerKey *
cps_server_key_load (const char *data_dir, GError **error)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (data_dir != NULL, NULL);

  if (sodium_init () < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("The cryptography library could not start"));
      return NULL;
    }
  path = g_build_filename (data_dir, KEY_FILE_NAME, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The server key %s is missing; restore it from your copy. A new key "
                     "would no longer verify the audit checkpoints signed so far"),
                   path);
      return NULL;
    }
  return load_key (path, error);
}

void
cps_server_key_free (CpsServerKey *key)
{
  if (key == NULL)
    return;
  sodium_memzero (key->secret_key, sizeof key->secret_key);
  g_free (key->public_base64);
  g_free (key);
}

/**
 * cps_server_key_get_public_base64:
 *
 * Returns: (transfer none): the base64 of the 32-byte public key
 */
const char *
cps_server_key_get_public_base64 (CpsServerKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);
  return key->public_base64;
}

/**
 * cps_server_key_sign_base64:
 *
 * Returns: (transfer full): the base64 Ed25519 signature of @data
 */
char *
cps_server_key_sign_base64 (CpsServerKey *key, const void *data, gsize length)
{
  guint8 signature[crypto_sign_BYTES];

  g_return_val_if_fail (key != NULL, NULL);

  crypto_sign_detached (signature, NULL, data, length, key->secret_key);
  return g_base64_encode (signature, sizeof signature);
}
