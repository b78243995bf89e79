/* cps-device-key.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The secret is the 32-byte Ed25519 seed; the key pair is derived from it.
 * It is stored with the device id as `{"device_id": …, "seed": base64}` in
 * the Secret Service, or, when none answers (headless machines, CI), in a
 * file only its owner can read. The seed is never logged.
 */

#define G_LOG_DOMAIN "cps-device-key"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <sodium.h>

#include "cps-device-key.h"
#include "cps-json.h"
#include "cps-revision.h"

#define KEY_FILE_NAME "device-key.json"

struct _CpsDeviceKey
{
  GObject parent_instance;

  char *device_id;
  guint8 public_key[crypto_sign_PUBLICKEYBYTES];
  guint8 secret_key[crypto_sign_SECRETKEYBYTES];
  CpsDeviceKeyStorage storage;
};

G_DEFINE_FINAL_TYPE (CpsDeviceKey, cps_device_key, G_TYPE_OBJECT)

static const SecretSchema *
get_schema (void)
{
  static const SecretSchema schema = {
    "org.cinepowerplanner.Sync.DeviceKey",
    SECRET_SCHEMA_NONE,
    {
      { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    },
  };
  return &schema;
}

static gboolean
ensure_sodium (GError **error)
{
  if (sodium_init () < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("The cryptography library could not start"));
      return FALSE;
    }
  return TRUE;
}

static CpsDeviceKey *
key_from_seed (const char *device_id, const guint8 seed[32], CpsDeviceKeyStorage storage)
{
  CpsDeviceKey *self = g_object_new (CPS_TYPE_DEVICE_KEY, NULL);

  self->device_id = g_strdup (device_id);
  crypto_sign_seed_keypair (self->public_key, self->secret_key, seed);
  self->storage = storage;
  return self;
}

static char *
serialize_secret (const char *device_id, const guint8 seed[32])
{
  g_autofree char *seed64 = g_base64_encode (seed, 32);
  char *text = g_strdup_printf ("{\"device_id\":\"%s\",\"seed\":\"%s\"}", device_id, seed64);

  sodium_memzero (seed64, strlen (seed64));
  return text;
}

/* Reads what serialize_secret() wrote; anything else is refused. */
static CpsDeviceKey *
parse_secret (const char *text, CpsDeviceKeyStorage storage, const char *where, GError **error)
{
  g_autoptr (CpsJsonDocument) doc = cps_json_document_parse_copy (text, -1, NULL, NULL);
  const CpsJsonNode *root = doc ? cps_json_document_get_root (doc) : NULL;
  const char *device_id = cps_json_object_get_string (root, "device_id");
  const char *seed64 = cps_json_object_get_string (root, "seed");
  g_autofree guchar *seed = NULL;
  gsize seed_len = 0;
  CpsDeviceKey *key;

  if (seed64 != NULL)
    seed = g_base64_decode (seed64, &seed_len);
  if (device_id == NULL || !cps_is_uuid (device_id) || seed_len != 32)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The device key in %s is damaged; move it away to create a new device "
                     "identity"),
                   where);
      if (seed != NULL)
        sodium_memzero (seed, seed_len);
      return NULL;
    }
  key = key_from_seed (device_id, seed, storage);
  sodium_memzero (seed, seed_len);
  return key;
}

static CpsDeviceKey *
load_from_secret_service (gboolean *available, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  char *secret;
  CpsDeviceKey *key;

  *available = FALSE;
  secret = secret_password_lookup_sync (get_schema (), cancellable, &local_error, "kind",
                                        "device-key", NULL);
  if (local_error != NULL)
    {
      g_debug ("Secret Service unavailable: %s", local_error->message);
      return NULL;
    }
  *available = TRUE;
  if (secret == NULL)
    return NULL;
  key = parse_secret (secret, CPS_DEVICE_KEY_STORAGE_SECRET_SERVICE, _("the keyring"), error);
  secret_password_free (secret);
  return key;
}

static gboolean
store_in_secret_service (const char *device_id, const guint8 seed[32], GCancellable *cancellable,
                         GError **error)
{
  g_autofree char *secret = serialize_secret (device_id, seed);
  gboolean ok = secret_password_store_sync (get_schema (), SECRET_COLLECTION_DEFAULT,
                                            _("Cine Power Sync device key"), secret, cancellable,
                                            error, "kind", "device-key", NULL);

  sodium_memzero (secret, strlen (secret));
  return ok;
}

static CpsDeviceKey *
load_from_file (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize length;
  struct stat st;
  CpsDeviceKey *key;

  if (g_lstat (path, &st) != 0)
    return NULL;
  if (!S_ISREG (st.st_mode) || st.st_uid != geteuid ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("The device key file %s is not a regular file owned by you; it was not "
                     "used. Remove it to create a new device identity."),
                   path);
      return NULL;
    }
  if ((st.st_mode & 077) != 0 && g_chmod (path, 0600) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("The device key file %s can be read by others and its permissions cannot "
                     "be fixed"),
                   path);
      return NULL;
    }
  if (!g_file_get_contents (path, &text, &length, error))
    return NULL;
  key = parse_secret (text, CPS_DEVICE_KEY_STORAGE_FILE, path, error);
  sodium_memzero (text, length);
  return key;
}

static gboolean
store_in_file (const char *dir, const char *path, const char *device_id, const guint8 seed[32],
               GError **error)
{
  g_autofree char *text = serialize_secret (device_id, seed);
  g_autofree char *tmp = g_strconcat (path, ".XXXXXX", NULL);
  int fd;
  gsize len = strlen (text);
  gboolean ok;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create %s: %s"), dir, g_strerror (saved));
      return FALSE;
    }
  fd = g_mkstemp_full (tmp, O_WRONLY, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot write the device key to %s: %s"), dir, g_strerror (saved));
      return FALSE;
    }
  ok = write (fd, text, len) == (gssize) len && fsync (fd) == 0;
  ok = close (fd) == 0 && ok;
  sodium_memzero (text, len);
  if (!ok || g_rename (tmp, path) != 0)
    {
      int saved = errno;
      g_unlink (tmp);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot write the device key to %s: %s"), path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static void
cps_device_key_finalize (GObject *object)
{
  CpsDeviceKey *self = CPS_DEVICE_KEY (object);

  sodium_memzero (self->secret_key, sizeof self->secret_key);
  g_clear_pointer (&self->device_id, g_free);

  G_OBJECT_CLASS (cps_device_key_parent_class)->finalize (object);
}

static void
cps_device_key_class_init (CpsDeviceKeyClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cps_device_key_finalize;
}

static void
cps_device_key_init (CpsDeviceKey *self)
{
}

/**
 * cps_device_key_load_or_create:
 * @fallback_dir: (nullable): where the key file goes without a Secret
 *   Service; %NULL for the user data dir
 *
 * Loads this device's identity, creating it on first use: from the Secret
 * Service when one answers, otherwise from a 0600 file in @fallback_dir,
 * with a message saying so.
 *
 * Returns: (transfer full) (nullable): the key
 */
CpsDeviceKey *
cps_device_key_load_or_create (const char *fallback_dir, GCancellable *cancellable,
                               GError **error)
{
  g_autofree char *dir = fallback_dir ? g_strdup (fallback_dir)
                                      : g_build_filename (g_get_user_data_dir (),
                                                          "cine-power-sync", NULL);
  g_autofree char *path = g_build_filename (dir, KEY_FILE_NAME, NULL);
  g_autoptr (GError) local_error = NULL;
  CpsDeviceKey *key;
  gboolean available;
  guint8 seed[32];
  g_autofree char *device_id = NULL;

  if (!ensure_sodium (error))
    return NULL;

  key = load_from_secret_service (&available, cancellable, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (key != NULL)
    return key;

  /* A file written before a keyring was available stays authoritative, so
   * the device keeps its identity. */
  key = load_from_file (path, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (key != NULL)
    return key;

  device_id = g_uuid_string_random ();
  randombytes_buf (seed, sizeof seed);
  if (available && store_in_secret_service (device_id, seed, cancellable, &local_error))
    key = key_from_seed (device_id, seed, CPS_DEVICE_KEY_STORAGE_SECRET_SERVICE);
  else
    {
      if (local_error != NULL)
        g_debug ("Storing in the Secret Service failed: %s", local_error->message);
      if (store_in_file (dir, path, device_id, seed, error))
        {
          g_message (_("No Secret Service is available, so this device’s signing key is kept "
                       "in %s, readable only by you"),
                     path);
          key = key_from_seed (device_id, seed, CPS_DEVICE_KEY_STORAGE_FILE);
        }
    }
  sodium_memzero (seed, sizeof seed);
  return key;
}

/**
 * cps_device_key_new_ephemeral:
 * @device_id: (nullable): the device id, or %NULL for a new one
 *
 * A key that lives in memory only, for tests and rehearsals.
 *
 * Returns: (transfer full): the key
 */
CpsDeviceKey *
cps_device_key_new_ephemeral (const char *device_id)
{
  guint8 seed[32];
  g_autofree char *id = device_id ? g_strdup (device_id) : g_uuid_string_random ();
  CpsDeviceKey *key;

  if (!ensure_sodium (NULL))
    g_error ("libsodium failed to initialise");
  randombytes_buf (seed, sizeof seed);
  key = key_from_seed (id, seed, CPS_DEVICE_KEY_STORAGE_MEMORY);
  sodium_memzero (seed, sizeof seed);
  return key;
}

/**
 * cps_device_key_new_from_seed:
 *
 * A key derived from a known seed, for test vectors.
 *
 * Returns: (transfer full): the key
 */
CpsDeviceKey *
cps_device_key_new_from_seed (const char *device_id, const guint8 seed[32])
{
  if (!ensure_sodium (NULL))
    g_error ("libsodium failed to initialise");
  return key_from_seed (device_id, seed, CPS_DEVICE_KEY_STORAGE_MEMORY);
}

const char *
cps_device_key_get_device_id (CpsDeviceKey *self)
{
  g_return_val_if_fail (CPS_IS_DEVICE_KEY (self), NULL);
  return self->device_id;
}

/**
 * cps_device_key_get_public_key:
 *
 * Returns: (array fixed-size=32): the Ed25519 public key
 */
const guint8 *
cps_device_key_get_public_key (CpsDeviceKey *self)
{
  g_return_val_if_fail (CPS_IS_DEVICE_KEY (self), NULL);
  return self->public_key;
}

char *
cps_device_key_dup_public_key_base64 (CpsDeviceKey *self)
{
  g_return_val_if_fail (CPS_IS_DEVICE_KEY (self), NULL);
  return g_base64_encode (self->public_key, sizeof self->public_key);
}

/**
 * cps_device_key_dup_fingerprint:
 *
 * Returns: (transfer full): `sha256:` and the first 16 hex digits of the
 *   public key's SHA-256, to compare keys by eye
 */
char *
cps_device_key_dup_fingerprint (CpsDeviceKey *self)
{
  g_autofree char *hex = NULL;

  g_return_val_if_fail (CPS_IS_DEVICE_KEY (self), NULL);
  hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, self->public_key,
                                     sizeof self->public_key);
  return g_strdup_printf ("sha256:%.16s", hex);
}

CpsDeviceKeyStorage
cps_device_key_get_storage (CpsDeviceKey *self)
{
  g_return_val_if_fail (CPS_IS_DEVICE_KEY (self), CPS_DEVICE_KEY_STORAGE_MEMORY);
  return self->storage;
}

/**
 * cps_device_key_sign_base64:
 *
 * Returns: (transfer full): the base64 Ed25519 signature of the bytes
 */
char *
cps_device_key_sign_base64 (CpsDeviceKey *self, const void *data, gsize length)
{
  guint8 signature[crypto_sign_BYTES];

  g_return_val_if_fail (CPS_IS_DEVICE_KEY (self), NULL);
  crypto_sign_detached (signature, NULL, data, length, self->secret_key);
  return g_base64_encode (signature, sizeof signature);
}

/**
 * cps_signature_verify_base64:
 *
 * Returns: whether @signature_base64 is a valid Ed25519 signature of the
 *   bytes by @public_key
 */
gboolean
cps_signature_verify_base64 (const guint8 public_key[32], const void *data, gsize length,
                             const char *signature_base64)
{
  g_autofree guchar *signature = NULL;
  gsize signature_len = 0;

  if (signature_base64 == NULL || strlen (signature_base64) != 88 || !ensure_sodium (NULL))
    return FALSE;
  signature = g_base64_decode (signature_base64, &signature_len);
  if (signature_len != crypto_sign_BYTES)
    return FALSE;
  /* g_base64_decode() skips stray characters; only the canonical text of
   * the signature is accepted, so one signature has one spelling. */
  {
    g_autofree char *canonical = g_base64_encode (signature, signature_len);
    if (strcmp (canonical, signature_base64) != 0)
      return FALSE;
  }
  return crypto_sign_verify_detached (signature, data, length, public_key) == 0;
}
