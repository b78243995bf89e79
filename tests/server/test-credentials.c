/* test-credentials.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Passwords, tokens, TOTP (RFC 6238 Appendix B), recovery codes and device key
 * fingerprints as cps-server handles them.
 */

#define G_LOG_DOMAIN "test-credentials"

#include "config.h"

#include <string.h>

#include "cps-credentials.h"

/* Package-internal functions of cps-credentials.c */
char *_cps_base32_encode (const guint8 *data, gsize length);
GBytes *_cps_base32_decode (const char *text);
char *_cps_totp_code_digits (const char *secret_base32, gint64 step, guint digits);

/* base32 of the ASCII secret "12345678901234567890" used by RFC 6238 Appendix B */
#define RFC6238_SECRET "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

static void
test_base32_vectors (void)
{
  /* RFC 4648 section 10, without padding */
  static const struct
  {
    const char *plain;
    const char *encoded;
  } vectors[] = {
    { "", "" },
    { "f", "MY" },
    { "fo", "MZXQ" },
    { "foo", "MZXW6" },
    { "foob", "MZXW6YQ" },
    { "fooba", "MZXW6YTB" },
    { "foobar", "MZXW6YTBOI" },
    { "12345678901234567890", RFC6238_SECRET },
  };

  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autofree char *encoded =
        _cps_base32_encode ((const guint8 *) vectors[i].plain, strlen (vectors[i].plain));
      g_autoptr (GBytes) decoded = _cps_base32_decode (vectors[i].encoded);
      g_autofree char *lower = g_ascii_strdown (vectors[i].encoded, -1);
      g_autoptr (GBytes) decoded_lower = _cps_base32_decode (lower);
      g_autofree char *padded = g_strconcat (vectors[i].encoded, "======", NULL);
      g_autoptr (GBytes) decoded_padded = NULL;
      gsize size;
      const char *data;

      g_assert_cmpstr (encoded, ==, vectors[i].encoded);
      g_assert_nonnull (decoded);
      data = g_bytes_get_data (decoded, &size);
      g_assert_cmpmem (data, size, vectors[i].plain, strlen (vectors[i].plain));
      g_assert_nonnull (decoded_lower);
      g_assert_true (g_bytes_equal (decoded, decoded_lower));

      padded[strlen (vectors[i].encoded) + (8 - strlen (vectors[i].encoded) % 8) % 8] = '\0';
      decoded_padded = _cps_base32_decode (padded);
      g_assert_nonnull (decoded_padded);
      g_assert_true (g_bytes_equal (decoded, decoded_padded));
    }

  g_assert_null (_cps_base32_decode ("MZXW6YT1"));   /* 1 is not in the alphabet */
  g_assert_null (_cps_base32_decode ("MZXW 6YTB"));
  g_assert_null (_cps_base32_decode ("M"));          /* no encoder ends like this */
  g_assert_null (_cps_base32_decode ("MZX"));
  g_assert_null (_cps_base32_decode ("MZXW6Y"));
}

static void
test_base32_round_trip (void)
{
  for (gsize length = 0; length < 64; length++)
    {
      g_autofree guint8 *data = g_malloc (length + 1);
      g_autofree char *encoded = NULL;
      g_autoptr (GBytes) decoded = NULL;
      gsize size;
      const guint8 *bytes;

      for (gsize i = 0; i < length; i++)
        data[i] = (guint8) g_random_int_range (0, 256);
      encoded = _cps_base32_encode (data, length);
      g_assert_cmpuint (strlen (encoded), ==, (length * 8 + 4) / 5);
      decoded = _cps_base32_decode (encoded);
      g_assert_nonnull (decoded);
      bytes = g_bytes_get_data (decoded, &size);
      g_assert_cmpmem (bytes, size, data, length);
    }
}

static void
test_totp_rfc6238 (void)
{
  static const struct
  {
    gint64 time;
    const char *code8;
  } vectors[] = {
    { 59, "94287082" },
    { 1111111109, "07081804" },
    { 1111111111, "14050471" },
    { 1234567890, "89005924" },
    { 2000000000, "69279037" },
    { G_GINT64_CONSTANT (20000000000), "65353130" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      gint64 step = vectors[i].time / 30;
      g_autofree char *code8 = _cps_totp_code_digits (RFC6238_SECRET, step, 8);
      g_autofree char *code6 = cps_totp_code (RFC6238_SECRET, step);
      gint64 matched = -1;

      g_assert_cmpstr (code8, ==, vectors[i].code8);
      g_assert_cmpstr (code6, ==, vectors[i].code8 + 2);
      g_assert_true (cps_totp_verify (RFC6238_SECRET, code6, vectors[i].time, 0, &matched));
      g_assert_cmpint (matched, ==, step);
    }
}

static void
test_totp_secret (void)
{
  g_autofree char *secret = cps_totp_generate_secret ();
  g_autofree char *other = cps_totp_generate_secret ();
  g_autoptr (GBytes) decoded = _cps_base32_decode (secret);
  g_autofree char *code = cps_totp_code (secret, 1);

  g_assert_cmpuint (strlen (secret), ==, 32);
  g_assert_cmpstr (secret, !=, other);
  g_assert_nonnull (decoded);
  g_assert_cmpuint (g_bytes_get_size (decoded), ==, 20);
  g_assert_cmpuint (strlen (code), ==, 6);
}

static void
test_totp_window (void)
{
  const char *secret = RFC6238_SECRET;
  gint64 now = 1700000000 + 7;
  gint64 step = now / 30;
  gint64 matched = -1;

  for (gint64 delta = -1; delta <= 1; delta++)
    {
      g_autofree char *code = cps_totp_code (secret, step + delta);

      matched = -1;
      g_assert_true (cps_totp_verify (secret, code, now, 0, &matched));
      g_assert_cmpint (matched, ==, step + delta);
    }

  for (gint64 delta = -2; delta <= 2; delta += 4)
    {
      g_autofree char *code = cps_totp_code (secret, step + delta);

      g_assert_false (cps_totp_verify (secret, code, now, 0, &matched));
    }
}

static void
test_totp_replay (void)
{
  const char *secret = RFC6238_SECRET;
  gint64 now = 1700000000;
  gint64 step = now / 30;
  g_autofree char *code = cps_totp_code (secret, step);
  g_autofree char *previous = cps_totp_code (secret, step - 1);
  g_autofree char *next = cps_totp_code (secret, step + 1);
  gint64 matched = -1;

  g_assert_true (cps_totp_verify (secret, code, now, 0, &matched));
  g_assert_cmpint (matched, ==, step);
  /* the same step again is refused, and so is an older one */
  g_assert_false (cps_totp_verify (secret, code, now, matched, &matched));
  g_assert_false (cps_totp_verify (secret, previous, now, step, &matched));
  /* a later step is still fine */
  g_assert_true (cps_totp_verify (secret, next, now, step, &matched));
  g_assert_cmpint (matched, ==, step + 1);
}

static void
test_totp_malformed (void)
{
  gint64 matched = 42;

  g_assert_false (cps_totp_verify (RFC6238_SECRET, "28708", 59, 0, &matched));
  g_assert_false (cps_totp_verify (RFC6238_SECRET, "2870822", 59, 0, &matched));
  g_assert_false (cps_totp_verify (RFC6238_SECRET, "28708a", 59, 0, &matched));
  g_assert_false (cps_totp_verify (RFC6238_SECRET, " 287082", 59, 0, &matched));
  g_assert_false (cps_totp_verify (RFC6238_SECRET, "", 59, 0, &matched));
  g_assert_false (cps_totp_verify (RFC6238_SECRET, NULL, 59, 0, &matched));
  g_assert_false (cps_totp_verify ("not base32!", "287082", 59, 0, &matched));
  g_assert_cmpint (matched, ==, 42);
  g_assert_null (cps_totp_code ("1", 1));
}

static void
test_totp_uri (void)
{
  g_autofree char *uri = cps_totp_uri (RFC6238_SECRET, "dit.cart@set");
  g_autofree char *spaced = cps_totp_uri (RFC6238_SECRET, "a b&c");

  g_assert_cmpstr (uri, ==,
                   "otpauth://totp/Cine%20Power%20Sync:dit.cart%40set?secret=" RFC6238_SECRET
                   "&issuer=Cine%20Power%20Sync&algorithm=SHA1&digits=6&period=30");
  g_assert_true (g_str_has_prefix (spaced, "otpauth://totp/Cine%20Power%20Sync:a%20b%26c?"));
}

static void
test_password (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hash = cps_password_hash ("correct horse battery", &error);
  g_autofree char *again = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (hash);
  g_assert_true (g_str_has_prefix (hash, "$argon2id$v=19$m=19456,t=2,p=1$"));
  g_assert_true (cps_password_verify (hash, "correct horse battery"));
  g_assert_false (cps_password_verify (hash, "correct horse batterY"));
  g_assert_false (cps_password_verify (hash, ""));
  g_assert_false (cps_password_verify ("not a hash", "correct horse battery"));
  g_assert_false (cps_password_verify (NULL, "correct horse battery"));

  /* salted: the same password hashes differently */
  again = cps_password_hash ("correct horse battery", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hash, !=, again);
  g_assert_true (cps_password_verify (again, "correct horse battery"));

  /* only spends time */
  cps_password_verify_dummy ("correct horse battery");
  cps_password_verify_dummy (NULL);
}

static void
test_password_acceptable (void)
{
  g_autofree char *long_password = g_strnfill (1025, 'x');
  g_autoptr (GError) error = NULL;

  g_assert_true (cps_password_is_acceptable ("12345678", NULL));
  g_assert_true (cps_password_is_acceptable ("Käsebrötchen", NULL));
  g_assert_false (cps_password_is_acceptable ("1234567", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (cps_password_is_acceptable ("", NULL));
  g_assert_false (cps_password_is_acceptable (NULL, NULL));
  g_assert_false (cps_password_is_acceptable (long_password, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  long_password[1024] = '\0';
  g_assert_true (cps_password_is_acceptable (long_password, NULL));
  g_assert_false (cps_password_is_acceptable ("abcdefg\xff", NULL));
}

static void
test_tokens (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < 1000; i++)
    {
      char *token = cps_token_generate ();
      g_autofree char *hash = cps_token_hash (token);
      g_autofree char *expected = NULL;

      g_assert_cmpuint (strlen (token), ==, 43);
      for (const char *p = token; *p != '\0'; p++)
        g_assert_true (g_ascii_isalnum (*p) || *p == '-' || *p == '_');

      g_assert_true (g_str_has_prefix (hash, "sha256:"));
      g_assert_cmpuint (strlen (hash), ==, 7 + 64);
      for (const char *p = hash + 7; *p != '\0'; p++)
        g_assert_true (g_ascii_isdigit (*p) || (*p >= 'a' && *p <= 'f'));
      expected = g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
      g_assert_cmpstr (hash + 7, ==, expected);

      g_assert_false (g_hash_table_contains (seen, token));
      g_hash_table_add (seen, token);
    }
}

static void
test_recovery_codes (void)
{
  g_auto (GStrv) codes = cps_recovery_codes_generate ();
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_nonnull (codes);
  g_assert_cmpuint (g_strv_length (codes), ==, 10);
  for (guint i = 0; codes[i] != NULL; i++)
    {
      const char *code = codes[i];
      g_autofree char *hash = cps_recovery_code_hash (code);
      g_autofree char *upper = g_ascii_strup (code, -1);
      g_autofree char *upper_hash = cps_recovery_code_hash (upper);
      g_auto (GStrv) groups = g_strsplit (code, "-", -1);
      g_autofree char *joined = g_strjoinv ("", groups);
      g_autofree char *joined_hash = cps_recovery_code_hash (joined);
      g_autofree char *spaced = g_strjoinv (" ", groups);
      g_autofree char *spaced_hash = cps_recovery_code_hash (spaced);
      g_autofree char *expected = NULL;

      /* 4 groups of 4 base32 characters: 80 bits */
      g_assert_cmpuint (strlen (code), ==, 19);
      g_assert_cmpuint (g_strv_length (groups), ==, 4);
      for (guint g = 0; groups[g] != NULL; g++)
        {
          g_assert_cmpuint (strlen (groups[g]), ==, 4);
          for (const char *p = groups[g]; *p != '\0'; p++)
            g_assert_true ((*p >= 'a' && *p <= 'z') || (*p >= '2' && *p <= '7'));
        }

      g_assert_true (g_str_has_prefix (hash, "sha256:"));
      expected = g_compute_checksum_for_string (G_CHECKSUM_SHA256, joined, -1);
      g_assert_cmpstr (hash + 7, ==, expected);
      g_assert_cmpstr (hash, ==, upper_hash);
      g_assert_cmpstr (hash, ==, joined_hash);
      g_assert_cmpstr (hash, ==, spaced_hash);

      g_assert_false (g_hash_table_contains (seen, code));
      g_hash_table_add (seen, (gpointer) code);
    }
}

static void
test_recovery_code_normalisation (void)
{
  g_autofree char *a = cps_recovery_code_hash ("abcd-efgh-ijkl-mnop");
  g_autofree char *b = cps_recovery_code_hash ("ABCDEFGHIJKLMNOP");
  g_autofree char *c = cps_recovery_code_hash (" AbCd-EfGh ijkl-MNOP\n");
  g_autofree char *d = cps_recovery_code_hash ("abcd-efgh-ijkl-mnoq");

  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (a, ==, c);
  g_assert_cmpstr (a, !=, d);
}

static void
test_key_fingerprint (void)
{
  guint8 key[32];
  g_autofree char *encoded = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *short_key = NULL;
  g_autofree char *long_key = NULL;
  g_autofree char *mangled = NULL;

  for (guint i = 0; i < sizeof key; i++)
    key[i] = (guint8) (i * 7 + 3);
  encoded = g_base64_encode (key, sizeof key);
  fingerprint = cps_key_fingerprint (encoded);
  expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, key, sizeof key);
  g_assert_nonnull (fingerprint);
  g_assert_true (g_str_has_prefix (fingerprint, "sha256:"));
  g_assert_cmpstr (fingerprint + 7, ==, expected);

  short_key = g_base64_encode (key, 31);
  long_key = g_base64_encode (key, 33);
  g_assert_null (cps_key_fingerprint (short_key));
  g_assert_null (cps_key_fingerprint (long_key));
  g_assert_null (cps_key_fingerprint (NULL));
  g_assert_null (cps_key_fingerprint (""));

  /* base64url, missing padding, stray characters, non-zero padding bits */
  mangled = g_strdup (encoded);
  mangled[0] = '-';
  g_assert_null (cps_key_fingerprint (mangled));
  g_free (mangled);
  mangled = g_strndup (encoded, 43);
  g_assert_null (cps_key_fingerprint (mangled));
  g_free (mangled);
  mangled = g_strdup (encoded);
  mangled[10] = ' ';
  g_assert_null (cps_key_fingerprint (mangled));
  g_free (mangled);
  mangled = g_strdup (encoded);
  mangled[43] = 'A';
  g_assert_null (cps_key_fingerprint (mangled));
  g_free (mangled);
  mangled = g_strdup (encoded);
  /* the last data character carries 4 bits and 2 zero bits: set one of the zero bits */
  {
    static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *at = strchr (alphabet, mangled[42]);

    g_assert_nonnull (at);
    mangled[42] = alphabet[(at - alphabet) | 1];
  }
  g_assert_null (cps_key_fingerprint (mangled));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/credentials/base32/vectors", test_base32_vectors);
  g_test_add_func ("/credentials/base32/round-trip", test_base32_round_trip);
  g_test_add_func ("/credentials/totp/rfc6238", test_totp_rfc6238);
  g_test_add_func ("/credentials/totp/secret", test_totp_secret);
  g_test_add_func ("/credentials/totp/window", test_totp_window);
  g_test_add_func ("/credentials/totp/replay", test_totp_replay);
  g_test_add_func ("/credentials/totp/malformed", test_totp_malformed);
  g_test_add_func ("/credentials/totp/uri", test_totp_uri);
  g_test_add_func ("/credentials/password/hash-verify", test_password);
  g_test_add_func ("/credentials/password/acceptable", test_password_acceptable);
  g_test_add_func ("/credentials/tokens", test_tokens);
  g_test_add_func ("/credentials/recovery-codes/generate", test_recovery_codes);
  g_test_add_func ("/credentials/recovery-codes/normalisation", test_recovery_code_normalisation);
  g_test_add_func ("/credentials/key-fingerprint", test_key_fingerprint);

  return g_test_run ();
}
