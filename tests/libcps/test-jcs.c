/* test-jcs.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RFC 8785 canonicalisation: the RFC's own examples, its number table
 * (Appendix B), and 20,000 doubles formatted by Node.js.
 */

#define G_LOG_DOMAIN "test-jcs"

#include "config.h"

#include <math.h>
#include <string.h>

#include "cps.h"

static char *
canonicalize (const char *json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc = cps_json_document_parse_copy (json, -1, NULL, &error);
  char *out;

  g_assert_no_error (error);
  g_assert_nonnull (doc);
  out = cps_jcs_to_string (cps_json_document_get_root (doc), NULL, &error);
  g_assert_no_error (error);
  return out;
}

static void
assert_canonical (const char *json, const char *expected)
{
  g_autofree char *out = canonicalize (json);
  g_assert_cmpstr (out, ==, expected);
}

/* RFC 8785 §3.2.2 */
static void
test_rfc_example (void)
{
  assert_canonical (
    "{\n"
    "  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
    "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
    "  \"literals\": [null, true, false]\n"
    "}",
    "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
    "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

/* RFC 8785 §3.2.3: keys sort by UTF-16 code units, so the emoji (a
 * surrogate pair starting 0xD83D) comes before U+FB33. */
static void
test_rfc_sorting (void)
{
  assert_canonical ("{\n"
                    "  \"\\u20ac\": \"Euro Sign\",\n"
                    "  \"\\r\": \"Carriage Return\",\n"
                    "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
                    "  \"1\": \"One\",\n"
                    "  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n"
                    "  \"\\u0080\": \"Control\",\n"
                    "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n"
                    "}",
                    "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
                    "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
                    "\"\xe2\x82\xac\":\"Euro Sign\","
                    "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
                    "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

static void
test_nested_sorting (void)
{
  assert_canonical ("{\"b\":[{\"z\":1,\"a\":2}],\"a\":{\"y\":{},\"x\":[]}}",
                    "{\"a\":{\"x\":[],\"y\":{}},\"b\":[{\"a\":2,\"z\":1}]}");
  /* Sorting compares code units, not bytes: U+10000 sorts before U+E000. */
  g_assert_cmpint (cps_jcs_compare_keys ("\xf0\x90\x80\x80", 4, "\xee\x80\x80", 3), <, 0);
  g_assert_cmpint (cps_jcs_compare_keys ("a", 1, "ab", 2), <, 0);
  g_assert_cmpint (cps_jcs_compare_keys ("ab", 2, "ab", 2), ==, 0);
  g_assert_cmpint (cps_jcs_compare_keys ("\xf0\x9f\x98\x81", 4, "\xf0\x9f\x98\x80", 4), >, 0);
}

static double
double_from_hex (const char *hex)
{
  guint64 bits = g_ascii_strtoull (hex, NULL, 16);
  double value;

  memcpy (&value, &bits, sizeof value);
  return value;
}

/* RFC 8785 Appendix B */
static void
test_rfc_numbers (void)
{
  static const struct
  {
    const char *hex;
    const char *expected;
  } cases[] = {
    { "0000000000000000", "0" },
    { "8000000000000000", "0" },
    { "0000000000000001", "5e-324" },
    { "8000000000000001", "-5e-324" },
    { "7fefffffffffffff", "1.7976931348623157e+308" },
    { "ffefffffffffffff", "-1.7976931348623157e+308" },
    { "4340000000000000", "9007199254740992" },
    { "c340000000000000", "-9007199254740992" },
    { "4430000000000000", "295147905179352830000" },
    { "44b52d02c7e14af5", "9.999999999999997e+22" },
    { "44b52d02c7e14af6", "1e+23" },
    { "44b52d02c7e14af7", "1.0000000000000001e+23" },
    { "444b1ae4d6e2ef4e", "999999999999999700000" },
    { "444b1ae4d6e2ef4f", "999999999999999900000" },
    { "444b1ae4d6e2ef50", "1e+21" },
    { "3eb0c6f7a0b5ed8c", "9.999999999999997e-7" },
    { "3eb0c6f7a0b5ed8d", "0.000001" },
    { "41b3de4355555553", "333333333.3333332" },
    { "41b3de4355555554", "333333333.33333325" },
    { "41b3de4355555555", "333333333.3333333" },
    { "41b3de4355555556", "333333333.3333334" },
    { "41b3de4355555557", "333333333.33333343" },
    { "becbf647612f3696", "-0.0000033333333333333333" },
    { "43143ff3c1cb0959", "1424953923781206.2" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char buf[32];
      cps_jcs_format_number (double_from_hex (cases[i].hex), buf);
      g_assert_cmpstr (buf, ==, cases[i].expected);
    }
}

/* The values the foundation issue names, read from JSON text. */
static void
test_numbers_as_written (void)
{
  assert_canonical ("[1e21, 1e-7, -0, 5e-324, 9007199254740993, 0.30000000000000004, 1E+2]",
                    "[1e+21,1e-7,0,5e-324,9007199254740992,0.30000000000000004,100]");
  assert_canonical ("[0.1, 0.2, 1.5e300, 123456789012345678901234567890, -1e-400]",
                    "[0.1,0.2,1.5e+300,1.2345678901234568e+29,0]");
  {
    char buf[32];
    cps_jcs_format_number (0.1 + 0.2, buf);
    g_assert_cmpstr (buf, ==, "0.30000000000000004");
    cps_jcs_format_number (1e21, buf);
    g_assert_cmpstr (buf, ==, "1e+21");
    cps_jcs_format_number (1e20, buf);
    g_assert_cmpstr (buf, ==, "100000000000000000000");
    cps_jcs_format_number (-1e-7, buf);
    g_assert_cmpstr (buf, ==, "-1e-7");
  }
}

static void
test_node_numbers (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "jcs-numbers.txt", NULL);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) error = NULL;
  guint checked = 0;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char buf[32];
      const char *space;

      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      space = strchr (lines[i], ' ');
      g_assert_nonnull (space);
      cps_jcs_format_number (double_from_hex (lines[i]), buf);
      if (strcmp (buf, space + 1) != 0)
        g_error ("%s: expected %s, formatted %s", lines[i], space + 1, buf);
      checked++;
    }
  g_assert_cmpuint (checked, >, 19000);
}

static void
test_string_escaping (void)
{
  /* Only the characters JSON requires are escaped; U+007F, U+2028 and
   * non-BMP characters are written as UTF-8. */
  assert_canonical ("\"\\u0000\\u001f\\u007f\\u2028\\ud83c\\udfa5\\b\\f\\t\"",
                    "\"\\u0000\\u001f\x7f\xe2\x80\xa8\xf0\x9f\x8e\xa5\\b\\f\\t\"");
  assert_canonical ("\"caf\xc3\xa9 \\\"quoted\\\" back\\\\slash\"",
                    "\"caf\xc3\xa9 \\\"quoted\\\" back\\\\slash\"");
}

static void
test_non_finite_refused (void)
{
  g_autoptr (GPtrArray) findings = cps_findings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc = cps_json_document_parse_copy ("{\"a\": 1e400}", -1, findings,
                                                                  &error);
  g_autofree char *out = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (doc);
  g_assert_cmpuint (findings->len, ==, 1);
  out = cps_jcs_to_string (cps_json_document_get_root (doc), NULL, &error);
  g_assert_null (out);
  g_assert_error (error, CPS_JSON_ERROR, CPS_JSON_ERROR_NOT_CANONICALIZABLE);
}

static void
test_checksums (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) a =
    cps_json_document_parse_copy ("{\"b\": 1, \"metadata\": {\"exportedAt\": \"x\"}, \"a\": [1.0]}",
                                  -1, NULL, &error);
  g_autoptr (CpsJsonDocument) b =
    cps_json_document_parse_copy ("{\"a\":[1],\"b\":1.0,\"metadata\":{\"exportedAt\":\"y\"}}", -1,
                                  NULL, &error);
  g_autofree char *sum_a = cps_checksum_content (cps_json_document_get_root (a), &error);
  g_autofree char *sum_b = cps_checksum_content (cps_json_document_get_root (b), &error);
  g_autofree char *full_a = cps_checksum_json (cps_json_document_get_root (a), &error);
  g_autofree char *full_b = cps_checksum_json (cps_json_document_get_root (b), &error);
  g_autofree char *empty = cps_checksum_bytes ("", 0);
  g_autofree char *expected = NULL;

  g_assert_no_error (error);
  /* Metadata is left out of the content checksum, nothing else is. */
  g_assert_cmpstr (sum_a, ==, sum_b);
  g_assert_cmpstr (full_a, !=, full_b);
  /* sha256 of {"a":[1],"b":1} */
  expected = cps_checksum_bytes ("{\"a\":[1],\"b\":1}", 15);
  g_assert_cmpstr (sum_a, ==, expected);
  g_assert_cmpstr (empty, ==,
                   "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  g_assert_true (cps_checksum_is_valid (empty));
  g_assert_false (cps_checksum_is_valid ("sha256:E3B0"));
  g_assert_false (cps_checksum_is_valid ("md5:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"));
}

/* Nettle's SHA-256 against GChecksum's, over every length around the 64-byte block
 * boundaries and with spans cut out anywhere. */
static void
test_checksum_spliced (void)
{
  guint8 data[300];

  for (gsize i = 0; i < sizeof data; i++)
    data[i] = (guint8) (i * 131 + 7);

  for (gsize length = 0; length <= sizeof data; length++)
    {
      g_autofree char *ours = cps_checksum_bytes (data, length);
      g_autofree char *glib = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, length);

      g_assert_true (g_str_has_prefix (ours, CPS_CHECKSUM_PREFIX));
      g_assert_cmpstr (ours + strlen (CPS_CHECKSUM_PREFIX), ==, glib);
      g_assert_true (cps_checksum_is_valid (ours));
    }

  for (gsize start = 0; start <= 130; start += 13)
    for (gsize end = start; end <= 200; end += 17)
      {
        g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
        g_autofree char *ours = cps_checksum_spliced (data, 200, start, end);

        g_checksum_update (checksum, data, start);
        g_checksum_update (checksum, data + end, 200 - end);
        g_assert_cmpstr (ours + strlen (CPS_CHECKSUM_PREFIX), ==,
                         g_checksum_get_string (checksum));
      }
}

static void
test_stringify_compatible (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc =
    cps_json_document_parse_copy ("{\"z\":[1,{\"b\":null}],\"a\":{},\"e\":[]}", -1, NULL, &error);
  g_autofree char *pretty = cps_json_to_string (cps_json_document_get_root (doc), 2, NULL,
                                                &error);
  g_autofree char *compact = cps_json_to_string (cps_json_document_get_root (doc), 0, NULL,
                                                 &error);

  g_assert_no_error (error);
  /* What JSON.stringify (x, null, 2) writes, member order kept. */
  g_assert_cmpstr (pretty, ==,
                   "{\n  \"z\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n"
                   "  \"a\": {},\n  \"e\": []\n}");
  g_assert_cmpstr (compact, ==, "{\"z\":[1,{\"b\":null}],\"a\":{},\"e\":[]}");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/jcs/rfc-example", test_rfc_example);
  g_test_add_func ("/jcs/rfc-sorting", test_rfc_sorting);
  g_test_add_func ("/jcs/nested-sorting", test_nested_sorting);
  g_test_add_func ("/jcs/rfc-numbers", test_rfc_numbers);
  g_test_add_func ("/jcs/numbers-as-written", test_numbers_as_written);
  g_test_add_func ("/jcs/node-numbers", test_node_numbers);
  g_test_add_func ("/jcs/string-escaping", test_string_escaping);
  g_test_add_func ("/jcs/non-finite-refused", test_non_finite_refused);
  g_test_add_func ("/jcs/checksums", test_checksums);
  g_test_add_func ("/jcs/checksum-spliced", test_checksum_spliced);
  g_test_add_func ("/jcs/stringify-compatible", test_stringify_compatible);

  return g_test_run ();
}
