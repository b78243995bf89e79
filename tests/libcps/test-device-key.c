/* test-device-key.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Device identities. Run plainly (no session bus), the key must land in a
 * 0600 file; run by with-keyring.sh with CPS_TEST_KEYRING=1, in the Secret
 * Service and nowhere on disk.
 */

#define G_LOG_DOMAIN "test-device-key"

#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "cps.h"
#include "cps-device-key.h"

static gboolean with_keyring;

static void
test_load_or_create (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cps-key-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "device-key.json", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsDeviceKey) first = NULL;
  g_autoptr (CpsDeviceKey) second = NULL;
  g_autofree char *signature = NULL;

  if (!with_keyring)
    g_test_expect_message ("cps-device-key", G_LOG_LEVEL_MESSAGE, "*No Secret Service*");
  first = cps_device_key_load_or_create (dir, NULL, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_nonnull (first);
  g_assert_true (cps_is_uuid (cps_device_key_get_device_id (first)));

  if (with_keyring)
    {
      g_assert_cmpint (cps_device_key_get_storage (first), ==,
                       CPS_DEVICE_KEY_STORAGE_SECRET_SERVICE);
      g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
    }
  else
    {
      struct stat st;

      g_assert_cmpint (cps_device_key_get_storage (first), ==, CPS_DEVICE_KEY_STORAGE_FILE);
      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_cmpint (st.st_mode & 0777, ==, 0600);
    }

  /* The same identity comes back. */
  second = cps_device_key_load_or_create (dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cps_device_key_get_device_id (second), ==,
                   cps_device_key_get_device_id (first));
  g_assert_cmpmem (cps_device_key_get_public_key (second), 32,
                   cps_device_key_get_public_key (first), 32);
  signature = cps_device_key_sign_base64 (second, "id", 2);
  g_assert_true (cps_signature_verify_base64 (cps_device_key_get_public_key (first), "id", 2,
                                              signature));
  g_assert_false (cps_signature_verify_base64 (cps_device_key_get_public_key (first), "iD", 2,
                                               signature));
  g_remove (path);
  g_rmdir (dir);
}

static void
test_file_permissions (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cps-key-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "device-key.json", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsDeviceKey) key = NULL;
  struct stat st;

  /* A readable-by-others key file is tightened before use. */
  {
    g_autoptr (CpsDeviceKey) made = NULL;
    g_test_expect_message ("cps-device-key", G_LOG_LEVEL_MESSAGE, "*No Secret Service*");
    made = cps_device_key_load_or_create (dir, NULL, &error);
    g_test_assert_expected_messages ();
    g_assert_no_error (error);
  }
  g_chmod (path, 0644);
  key = cps_device_key_load_or_create (dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_clear_object (&key);

  /* A damaged key file is refused, not silently replaced. */
  g_file_set_contents (path, "{\"device_id\":\"x\"}", -1, NULL);
  key = cps_device_key_load_or_create (dir, NULL, &error);
  g_assert_null (key);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "damaged"));
  g_remove (path);
  g_rmdir (dir);
}

static void
test_fingerprint (void)
{
  guint8 seed[32] = { 0 };
  g_autoptr (CpsDeviceKey) key = cps_device_key_new_from_seed (
    "00000000-0000-4000-8000-000000000001", seed);
  g_autofree char *public64 = cps_device_key_dup_public_key_base64 (key);
  g_autofree char *fingerprint = cps_device_key_dup_fingerprint (key);

  /* The Ed25519 public key of the all-zero seed, as libsodium and every
   * other implementation derive it. */
  g_assert_cmpstr (public64, ==, "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=");
  g_assert_true (g_str_has_prefix (fingerprint, "sha256:"));
  g_assert_cmpuint (strlen (fingerprint), ==, 7 + 16);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  with_keyring = g_strcmp0 (g_getenv ("CPS_TEST_KEYRING"), "1") == 0;

  g_test_add_func ("/device-key/load-or-create", test_load_or_create);
  if (!with_keyring)
    {
      g_test_add_func ("/device-key/file-permissions", test_file_permissions);
      g_test_add_func ("/device-key/fingerprint", test_fingerprint);
    }
  return g_test_run ();
}
