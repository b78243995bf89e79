/* cps-device-key.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A device's identity: a UUID and an Ed25519 key pair. The secret half lives
 * in the Secret Service, or where there is none, in a 0600 file.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CPS_DEVICE_KEY_PUBLIC_BYTES 32
#define CPS_DEVICE_KEY_SIGNATURE_BYTES 64

typedef enum
{
  CPS_DEVICE_KEY_STORAGE_SECRET_SERVICE,
  CPS_DEVICE_KEY_STORAGE_FILE,
  CPS_DEVICE_KEY_STORAGE_MEMORY,
} CpsDeviceKeyStorage;

#define CPS_TYPE_DEVICE_KEY (cps_device_key_get_type ())
G_DECLARE_FINAL_TYPE (CpsDeviceKey, cps_device_key, CPS, DEVICE_KEY, GObject)

CpsDeviceKey *cps_device_key_load_or_create (const char *fallback_dir, GCancellable *cancellable,
                                             GError **error);
CpsDeviceKey *cps_device_key_new_ephemeral (const char *device_id);
CpsDeviceKey *cps_device_key_new_from_seed (const char *device_id, const guint8 seed[32]);

const char *cps_device_key_get_device_id (CpsDeviceKey *self);
const guint8 *cps_device_key_get_public_key (CpsDeviceKey *self);
char *cps_device_key_dup_public_key_base64 (CpsDeviceKey *self);
char *cps_device_key_dup_fingerprint (CpsDeviceKey *self);
CpsDeviceKeyStorage cps_device_key_get_storage (CpsDeviceKey *self);
char *cps_device_key_sign_base64 (CpsDeviceKey *self, const void *data, gsize length);

gboolean cps_signature_verify_base64 (const guint8 public_key[32], const void *data,
                                      gsize length, const char *signature_base64);

G_END_DECLS
