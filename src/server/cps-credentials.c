/* cps-credentials.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Passwords are hashed with Argon2id at OWASP's minimum (19 MiB, t = 2, one
 * lane), tokens and recovery codes are stored only as SHA-256 hashes, and TOTP
 * follows RFC 6238 with the parameters every authenticator app supports.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <string.h>
#include <sodium.h>

#include "cps-credentials.h"

#define PASSWORD_OPSLIMIT 2
#define PASSWORD_MEMLIMIT (19 * 1024 * 1024)
#define PASSWORD_MIN_BYTES 8
#define PASSWORD_MAX_BYTES 1024

#define TOKEN_BYTES 32

#define TOTP_SECRET_BYTES 20
#define TOTP_PERIOD 30
#define TOTP_DIGITS 6
#define TOTP_ISSUER "Cine Power Sync"

#define RECOVERY_CODE_COUNT 10
#define RECOVERY_CODE_BYTES 10 /* 80 bits: 16 base32 characters */
#define RECOVERY_CODE_GROUP 4

#define SHA256_PREFIX "sha256:"

static const char base32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static GQuark
credentials_error_quark (void)
{
  return g_quark_from_static_string ("cps-credentials-error");
}

static void
ensure_sodium (void)
{
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      if (sodium_init () < 0)
        g_error ("libsodium could not be initialised");
      g_once_init_leave (&initialised, 1);
    }
}

static char *
sha256_prefixed (const void *data, gsize length)
{
  g_autofree char *hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, length);

  return g_strconcat (SHA256_PREFIX, hex, NULL);
}

/* ----- base32 (RFC 4648, no padding) ----------------------------------------------------- */

static char *
base32_encode (const guint8 *data, gsize length)
{
  GString *out = g_string_sized_new ((length * 8 + 4) / 5 + 1);
  guint32 buffer = 0;
  guint bits = 0;

  for (gsize i = 0; i < length; i++)
    {
      buffer = (buffer << 8) | data[i];
      bits += 8;
      while (bits >= 5)
        {
          bits -= 5;
          g_string_append_c (out, base32_alphabet[(buffer >> bits) & 0x1f]);
        }
    }
  if (bits > 0)
    g_string_append_c (out, base32_alphabet[(buffer << (5 - bits)) & 0x1f]);
  return g_string_free (out, FALSE);
}

/* Decodes RFC 4648 base32, case-insensitively, with or without '=' padding. Returns NULL
 * for any other character or a length no encoder produces. */
static GBytes *
base32_decode (const char *text)
{
  g_autoptr (GByteArray) out = NULL;
  gsize length;
  guint32 buffer = 0;
  guint bits = 0;

  if (text == NULL)
    return NULL;
  length = strlen (text);
  while (length > 0 && text[length - 1] == '=')
    length--;
  /* 1, 3 and 6 trailing characters cannot end a base32 text */
  if (length % 8 == 1 || length % 8 == 3 || length % 8 == 6)
    return NULL;

  out = g_byte_array_sized_new (length * 5 / 8 + 1);
  for (gsize i = 0; i < length; i++)
    {
      char c = g_ascii_toupper (text[i]);
      guint value;

      if (c >= 'A' && c <= 'Z')
        value = c - 'A';
      else if (c >= '2' && c <= '7')
        value = c - '2' + 26;
      else
        return NULL;
      buffer = (buffer << 5) | value;
      bits += 5;
      if (bits >= 8)
        {
          guint8 byte;

          bits -= 8;
          byte = (buffer >> bits) & 0xff;
          g_byte_array_append (out, &byte, 1);
        }
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* Package-internal, for tests/server/test-credentials.c (RFC 4648 and RFC 6238 vectors). */
char *_cps_base32_encode (const guint8 *data, gsize length);
GBytes *_cps_base32_decode (const char *text);
char *_cps_totp_code_digits (const char *secret_base32, gint64 step, guint digits);

char *
_cps_base32_encode (const guint8 *data, gsize length)
{
  return base32_encode (data, length);
}

GBytes *
_cps_base32_decode (const char *text)
{
  return base32_decode (text);
}

/* ----- passwords ------------------------------------------------------------------------- */

/**
 * cps_password_hash:
 *
 * Returns: (transfer full) (nullable): the crypto_pwhash_str() text of @password
 */
char *
cps_password_hash (const char *password, GError **error)
{
  char hash[crypto_pwhash_STRBYTES];

  g_return_val_if_fail (password != NULL, NULL);
  ensure_sodium ();

  if (crypto_pwhash_str_alg (hash, password, strlen (password), PASSWORD_OPSLIMIT,
                             PASSWORD_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0)
    {
      g_set_error_literal (error, credentials_error_quark (), 0,
                           "The password could not be hashed: the server is out of memory.");
      return NULL;
    }
  return g_strdup (hash);
}

gboolean
cps_password_verify (const char *hash, const char *password)
{
  if (hash == NULL || password == NULL)
    return FALSE;
  ensure_sodium ();
  return crypto_pwhash_str_verify (hash, password, strlen (password)) == 0;
}

static const char *
dummy_hash (void)
{
  static char *hash = NULL;

  if (g_once_init_enter (&hash))
    {
      guint8 random[TOKEN_BYTES];
      g_autofree char *password = NULL;
      g_autoptr (GError) error = NULL;
      char *computed;

      ensure_sodium ();
      randombytes_buf (random, sizeof random);
      password = g_base64_encode (random, sizeof random);
      computed = cps_password_hash (password, &error);
      if (computed == NULL)
        g_error ("%s", error->message);
      g_once_init_leave (&hash, computed);
    }
  return hash;
}

void
cps_password_verify_dummy (const char *password)
{
  /* The hash is of a random password nobody knows, so this never succeeds; it only spends
   * the time a real verification would. */
  (void) cps_password_verify (dummy_hash (), password != NULL ? password : "");
}

gboolean
cps_password_is_acceptable (const char *password, GError **error)
{
  gsize length = password != NULL ? strlen (password) : 0;

  if (length < PASSWORD_MIN_BYTES)
    {
      g_set_error (error, credentials_error_quark (), 0,
                   "The password is too short: use at least %d characters.",
                   PASSWORD_MIN_BYTES);
      return FALSE;
    }
  if (length > PASSWORD_MAX_BYTES)
    {
      g_set_error (error, credentials_error_quark (), 0,
                   "The password is too long: use at most %d bytes.", PASSWORD_MAX_BYTES);
      return FALSE;
    }
  if (!g_utf8_validate (password, length, NULL))
    {
      g_set_error_literal (error, credentials_error_quark (), 0,
                           "The password is not valid UTF-8 text.");
      return FALSE;
    }
  return TRUE;
}

/* ----- tokens ---------------------------------------------------------------------------- */

char *
cps_token_generate (void)
{
  guint8 random[TOKEN_BYTES];
  char text[sodium_base64_ENCODED_LEN (TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

  ensure_sodium ();
  randombytes_buf (random, sizeof random);
  sodium_bin2base64 (text, sizeof text, random, sizeof random,
                     sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero (random, sizeof random);
  return g_strdup (text);
}

char *
cps_token_hash (const char *token)
{
  g_return_val_if_fail (token != NULL, NULL);
  return sha256_prefixed (token, strlen (token));
}

/* ----- TOTP ------------------------------------------------------------------------------ */

char *
cps_totp_generate_secret (void)
{
  guint8 secret[TOTP_SECRET_BYTES];
  char *text;

  ensure_sodium ();
  randombytes_buf (secret, sizeof secret);
  text = base32_encode (secret, sizeof secret);
  sodium_memzero (secret, sizeof secret);
  return text;
}

/* RFC 4226 HOTP with HMAC-SHA1 and dynamic truncation to @digits digits. */
char *
_cps_totp_code_digits (const char *secret_base32, gint64 step, guint digits)
{
  g_autoptr (GBytes) secret = base32_decode (secret_base32);
  g_autoptr (GHmac) hmac = NULL;
  guint8 counter[8];
  guint8 digest[20];
  gsize digest_length = sizeof digest;
  guint32 binary, modulus = 1;
  guint offset;

  g_return_val_if_fail (digits >= 6 && digits <= 9, NULL);
  if (secret == NULL || g_bytes_get_size (secret) == 0 || step < 0)
    return NULL;

  for (int i = 7; i >= 0; i--)
    {
      counter[i] = step & 0xff;
      step >>= 8;
    }
  hmac = g_hmac_new (G_CHECKSUM_SHA1, g_bytes_get_data (secret, NULL), g_bytes_get_size (secret));
  g_hmac_update (hmac, counter, sizeof counter);
  g_hmac_get_digest (hmac, digest, &digest_length);

  offset = digest[19] & 0x0f;
  binary = ((guint32) (digest[offset] & 0x7f) << 24) | ((guint32) digest[offset + 1] << 16) |
           ((guint32) digest[offset + 2] << 8) | (guint32) digest[offset + 3];
  for (guint i = 0; i < digits; i++)
    modulus *= 10;
  return g_strdup_printf ("%0*u", (int) digits, binary % modulus);
}

char *
cps_totp_code (const char *secret_base32, gint64 step)
{
  return _cps_totp_code_digits (secret_base32, step, TOTP_DIGITS);
}

static gboolean
is_totp_code (const char *code)
{
  if (code == NULL || strlen (code) != TOTP_DIGITS)
    return FALSE;
  for (guint i = 0; i < TOTP_DIGITS; i++)
    if (!g_ascii_isdigit (code[i]))
      return FALSE;
  return TRUE;
}

gboolean
cps_totp_verify (const char *secret_base32, const char *code, gint64 unix_time,
                 gint64 last_step, gint64 *matched_step)
{
  gint64 now_step;

  if (!is_totp_code (code) || unix_time < 0)
    return FALSE;
  now_step = unix_time / TOTP_PERIOD;
  for (gint64 step = now_step - 1; step <= now_step + 1; step++)
    {
      g_autofree char *expected = NULL;

      if (step <= last_step || step < 0)
        continue;
      expected = cps_totp_code (secret_base32, step);
      if (expected == NULL)
        return FALSE;
      if (sodium_memcmp (expected, code, TOTP_DIGITS) == 0)
        {
          if (matched_step != NULL)
            *matched_step = step;
          return TRUE;
        }
    }
  return FALSE;
}

char *
cps_totp_uri (const char *secret_base32, const char *username)
{
  g_autofree char *issuer = g_uri_escape_string (TOTP_ISSUER, NULL, FALSE);
  g_autofree char *account = g_uri_escape_string (username, NULL, FALSE);
  g_autofree char *secret = g_uri_escape_string (secret_base32, NULL, FALSE);

  return g_strdup_printf ("otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d"
                          "&period=%d",
                          issuer, account, secret, issuer, TOTP_DIGITS, TOTP_PERIOD);
}

/* ----- recovery codes -------------------------------------------------------------------- */

GStrv
cps_recovery_codes_generate (void)
{
  GPtrArray *codes = g_ptr_array_new_full (RECOVERY_CODE_COUNT + 1, g_free);

  ensure_sodium ();
  for (guint i = 0; i < RECOVERY_CODE_COUNT; i++)
    {
      guint8 random[RECOVERY_CODE_BYTES];
      g_autofree char *plain = NULL;
      GString *code = g_string_new (NULL);

      randombytes_buf (random, sizeof random);
      plain = base32_encode (random, sizeof random);
      sodium_memzero (random, sizeof random);
      for (gsize j = 0; plain[j] != '\0'; j++)
        {
          if (j > 0 && j % RECOVERY_CODE_GROUP == 0)
            g_string_append_c (code, '-');
          g_string_append_c (code, g_ascii_tolower (plain[j]));
        }
      g_ptr_array_add (codes, g_string_free (code, FALSE));
    }
  g_ptr_array_add (codes, NULL);
  return (GStrv) g_ptr_array_free (codes, FALSE);
}

/* Lowercase, without hyphens or white space: what a person may type differently. */
static char *
normalise_recovery_code (const char *code)
{
  GString *out = g_string_new (NULL);

  for (const char *p = code; *p != '\0'; p++)
    {
      if (*p == '-' || g_ascii_isspace (*p))
        continue;
      g_string_append_c (out, g_ascii_tolower (*p));
    }
  return g_string_free (out, FALSE);
}

char *
cps_recovery_code_hash (const char *code)
{
  g_autofree char *normalised = NULL;

  g_return_val_if_fail (code != NULL, NULL);
  normalised = normalise_recovery_code (code);
  return sha256_prefixed (normalised, strlen (normalised));
}

/* ----- device keys ----------------------------------------------------------------------- */

char *
cps_key_fingerprint (const char *public_key_base64)
{
  /* 32 bytes are exactly 44 base64 characters, the last one '=' */
  static const gsize encoded_length = 44;
  guint8 key[32];
  gsize key_length = 0;
  const char *end = NULL;

  if (public_key_base64 == NULL || strlen (public_key_base64) != encoded_length ||
      public_key_base64[encoded_length - 1] != '=')
    return NULL;
  for (gsize i = 0; i < encoded_length - 1; i++)
    {
      char c = public_key_base64[i];

      if (!g_ascii_isalnum (c) && c != '+' && c != '/')
        return NULL;
    }

  ensure_sodium ();
  /* libsodium also refuses non-zero padding bits, so each key has exactly one text */
  if (sodium_base642bin (key, sizeof key, public_key_base64, encoded_length, NULL, &key_length,
                         &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      key_length != sizeof key || end != public_key_base64 + encoded_length)
    return NULL;
  return sha256_prefixed (key, sizeof key);
}

/* ----- usernames ------------------------------------------------------------------------- */

#define USERNAME_MAX_CHARS 64

gboolean
cps_username_is_valid (const char *username)
{
  gsize length = strlen (username);

  if (length == 0 || length > USERNAME_MAX_CHARS)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    {
      char c = username[i];

      if (!g_ascii_isalnum (c) && c != '.' && c != '_' && c != '@' && c != '-')
        return FALSE;
    }
  return TRUE;
}
