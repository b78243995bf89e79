/* cps-server-key.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The server's Ed25519 key that signs audit checkpoints: created on first
 * start as DATA_DIR/server-key (mode 0600, the 32-byte seed), refused when its
 * permissions let anyone else read it.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CpsServerKey CpsServerKey;

CpsServerKey *cps_server_key_load_or_create (const char *data_dir, GError **error);
/* Loads an existing key; a missing one is an error, never replaced. */
CpsServerKey *cps_server_key_load (const char *data_dir, GError **error);
void cps_server_key_free (CpsServerKey *key);
/* base64 of the 32-byte public key */
const char *cps_server_key_get_public_base64 (CpsServerKey *key);
/* base64 Ed25519 signature over @data */
char *cps_server_key_sign_base64 (CpsServerKey *key, const void *data, gsize length);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsServerKey, cps_server_key_free)

G_END_DECLS
