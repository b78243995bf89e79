/* cps-credentials.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Secrets handled by the server: Argon2id password hashes, opaque 256-bit
 * tokens (only their hashes are stored), TOTP (RFC 6238: SHA-1, 6 digits,
 * 30 s steps, ±1 step) with 160-bit secrets, and single-use recovery codes
 * (stored hashed); also the form a username must have.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Argon2id with at least OWASP's 19 MiB, t = 2 (crypto_pwhash_str). */
char *cps_password_hash (const char *password, GError **error);
gboolean cps_password_verify (const char *hash, const char *password);
/* Spends the same effort as a real verification, for unknown users. */
void cps_password_verify_dummy (const char *password);
/* Passwords: 8 … 1024 bytes of UTF-8. */
gboolean cps_password_is_acceptable (const char *password, GError **error);

/* 32 random bytes as base64url without padding (43 characters). */
char *cps_token_generate (void);
/* "sha256:" + hex of the token's bytes: what storage keeps and looks up. */
char *cps_token_hash (const char *token);

/* A fresh 160-bit secret as RFC 4648 base32 without padding (32 characters). */
char *cps_totp_generate_secret (void);
/* The code for time step @step (unix_time / 30). */
char *cps_totp_code (const char *secret_base32, gint64 step);
/* Checks @code against steps now-1 … now+1 that are greater than @last_step; on success
 * sets @matched_step (store it as the account's totp_last_step so it is never accepted
 * again). */
gboolean cps_totp_verify (const char *secret_base32, const char *code, gint64 unix_time,
                          gint64 last_step, gint64 *matched_step);
char *cps_totp_uri (const char *secret_base32, const char *username);

/* Ten codes of 80 bits, like "k7f3-9q2x-m4p8-a2cd". */
GStrv cps_recovery_codes_generate (void);
char *cps_recovery_code_hash (const char *code);

/* "sha256:" + hex of the raw 32-byte key; NULL when @public_key_base64 is not one. */
char *cps_key_fingerprint (const char *public_key_base64);

/* Usernames: 1 … 64 ASCII letters, digits, '.', '_', '@' and '-'. */
gboolean cps_username_is_valid (const char *username);

G_END_DECLS
