/* test-json.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The strict reader: what it accepts, what it refuses and how precisely it
 * says so.
 */

#define G_LOG_DOMAIN "test-json"

#include "config.h"

#include <string.h>

#include "cps.h"

typedef struct
{
  const char *input;
  gsize length; /* 0: strlen */
  CpsJsonError code;
  const char *path;
  const char *message_part;
} BadCase;

static void
test_refused (void)
{
  static const BadCase cases[] = {
    { "", 0, CPS_JSON_ERROR_EMPTY, "$", "empty" },
    { "  \n\t ", 0, CPS_JSON_ERROR_EMPTY, "$", "white space" },
    { "{\"a\": [1, 2", 0, CPS_JSON_ERROR_SYNTAX, "$.a", "truncated" },
    { "{\"a\": \"open", 0, CPS_JSON_ERROR_SYNTAX, "$.a", "never closed" },
    { "{\"a\": 1,}", 0, CPS_JSON_ERROR_SYNTAX, "$", "member name" },
    { "[1, 2,]", 0, CPS_JSON_ERROR_SYNTAX, "$[2]", "a value" },
    { "{\"a\" 1}", 0, CPS_JSON_ERROR_SYNTAX, "$", "“:”" },
    { "{\"a\": tru}", 0, CPS_JSON_ERROR_SYNTAX, "$.a", "“tru” is not a JSON value" },
    { "{\"a\": 01}", 0, CPS_JSON_ERROR_SYNTAX, "$.a", "leading zero" },
    { "{\"a\": 1.}", 0, CPS_JSON_ERROR_SYNTAX, "$.a", "decimal point" },
    { "{\"a\": 1e}", 0, CPS_JSON_ERROR_SYNTAX, "$.a", "exponent" },
    { "{\"a\": -}", 0, CPS_JSON_ERROR_SYNTAX, "$.a", "number" },
    { "{\"a\": NaN}", 0, CPS_JSON_ERROR_SYNTAX, "$.a", "a value" },
    { "{\"a\": \"\\x\"}", 0, CPS_JSON_ERROR_SYNTAX, "$.a", "Invalid escape" },
    { "{\"a\": \"\\u12G4\"}", 0, CPS_JSON_ERROR_SYNTAX, "$.a", "hexadecimal" },
    { "{\"a\": \"tab\there\"}", 0, CPS_JSON_ERROR_SYNTAX, "$.a", "control character" },
    { "{\"a\": \"nul\0here\"}", 16, CPS_JSON_ERROR_SYNTAX, "$.a", "NUL byte" },
    { "{\"a\": 1}\0", 9, CPS_JSON_ERROR_SYNTAX, "$", "after the end" },
    { "{\"a\": 1} {}", 0, CPS_JSON_ERROR_SYNTAX, "$", "after the end" },
    { "{\"a\": \"\xff\"}", 0, CPS_JSON_ERROR_ENCODING, "$.a", "UTF-8" },
    { "{\"a\": \"\xc3\x28\"}", 0, CPS_JSON_ERROR_ENCODING, "$.a", "UTF-8" },
    { "{\"a\": \"\xed\xa0\x80\"}", 0, CPS_JSON_ERROR_ENCODING, "$.a", "UTF-8" },
    { "{\"a\": \"\xc0\xaf\"}", 0, CPS_JSON_ERROR_ENCODING, "$.a", "UTF-8" },
    { "\xff{}", 0, CPS_JSON_ERROR_ENCODING, "$", "UTF-8" },
    { "{'a': 1}", 0, CPS_JSON_ERROR_SYNTAX, "$", "member name" },
    { "{\"a\": [}", 0, CPS_JSON_ERROR_SYNTAX, "$.a[0]", "a value" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GPtrArray) findings = cps_findings_new ();
      g_autoptr (GError) error = NULL;
      gsize len = cases[i].length ? cases[i].length : strlen (cases[i].input);
      g_autoptr (CpsJsonDocument) doc = cps_json_document_parse_copy (cases[i].input, len,
                                                                      findings, &error);
      const CpsFinding *finding;

      g_test_message ("case %u: %s", i, cases[i].input);
      g_assert_null (doc);
      g_assert_error (error, CPS_JSON_ERROR, (int) cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].message_part));
      g_assert_nonnull (strstr (error->message, "line "));
      g_assert_cmpuint (findings->len, ==, 1);
      finding = g_ptr_array_index (findings, 0);
      g_assert_cmpint (finding->severity, ==, CPS_SEVERITY_ERROR);
      g_assert_cmpstr (finding->path, ==, cases[i].path);
    }
}

static void
test_location (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc =
    cps_json_document_parse_copy ("{\n  \"caf\xc3\xa9\": {\n    \"x\": [1, ?]\n  }\n}", -1, NULL,
                                  &error);

  g_assert_null (doc);
  g_assert_nonnull (strstr (error->message, "line 3, column 14"));
  g_assert_nonnull (strstr (error->message, "“?”"));
}

static void
test_deep_nesting (void)
{
  g_autoptr (GString) deep = g_string_new (NULL);
  g_autoptr (GPtrArray) findings = cps_findings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (CpsJsonDocument) ok_doc = NULL;

  for (int i = 0; i < 10000; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < 10000; i++)
    g_string_append_c (deep, ']');
  doc = cps_json_document_parse_copy (deep->str, deep->len, findings, &error);
  g_assert_null (doc);
  g_assert_error (error, CPS_JSON_ERROR, CPS_JSON_ERROR_DEPTH);
  g_assert_nonnull (strstr (error->message, "512"));
  g_clear_error (&error);

  /* Exactly at the limit is fine. */
  g_string_truncate (deep, 0);
  for (int i = 0; i < CPS_JSON_MAX_DEPTH; i++)
    g_string_append (deep, "{\"a\":");
  g_string_append (deep, "1");
  for (int i = 0; i < CPS_JSON_MAX_DEPTH; i++)
    g_string_append_c (deep, '}');
  ok_doc = cps_json_document_parse_copy (deep->str, deep->len, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok_doc);
  g_assert_cmpuint (cps_json_document_get_depth (ok_doc), ==, CPS_JSON_MAX_DEPTH);
}

/* The depth is the deepest nesting anywhere, strings with brackets in them aside. */
static void
test_depth (void)
{
  static const struct
  {
    const char *json;
    guint depth;
  } cases[] = {
    { "1", 0 },
    { "\"[[{\"", 0 },
    { "[]", 1 },
    { "{}", 1 },
    { "[1, \"]]\", {}]", 2 },
    { "{\"a\": [[[]]], \"b\": {\"c\": []}}", 4 },
    { "[[[[1]]], [2], {\"x\": \"}}}}\"}]", 4 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CpsJsonDocument) doc
          = cps_json_document_parse_copy (cases[i].json, -1, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (cps_json_document_get_depth (doc), ==, cases[i].depth);
    }
}

static void
test_duplicate_keys (void)
{
  g_autoptr (GPtrArray) findings = cps_findings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc =
    cps_json_document_parse_copy ("{\"a\": 1, \"b\": {\"x\": 1, \"x\": 2}, \"a\": 3}", -1,
                                  findings, &error);
  const CpsJsonNode *root;
  g_autofree char *canonical = NULL;
  const CpsFinding *first, *second;

  g_assert_no_error (error);
  root = cps_json_document_get_root (doc);
  /* As JSON.parse: the last value wins, the key appears once. */
  g_assert_cmpuint (root->n, ==, 2);
  g_assert_cmpfloat (cps_json_object_get (root, "a")->v.number, ==, 3);
  canonical = cps_jcs_to_string (root, NULL, &error);
  g_assert_cmpstr (canonical, ==, "{\"a\":3,\"b\":{\"x\":2}}");
  g_assert_cmpuint (findings->len, ==, 2);
  first = g_ptr_array_index (findings, 0);
  second = g_ptr_array_index (findings, 1);
  g_assert_cmpstr (first->path, ==, "$.b.x");
  g_assert_cmpstr (second->path, ==, "$.a");
  g_assert_cmpint (second->severity, ==, CPS_SEVERITY_ERROR);
}

static void
test_many_keys (void)
{
  g_autoptr (GString) json = g_string_new ("{");
  g_autoptr (GPtrArray) findings = cps_findings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc = NULL;

  for (int i = 0; i < 5000; i++)
    g_string_append_printf (json, "%s\"k%d\":%d", i ? "," : "", i, i);
  g_string_append (json, ",\"k4321\":0}");
  doc = cps_json_document_parse_copy (json->str, json->len, findings, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cps_json_document_get_root (doc)->n, ==, 5000);
  g_assert_cmpuint (findings->len, ==, 1);
}

static void
test_unicode (void)
{
  g_autoptr (GPtrArray) findings = cps_findings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc =
    cps_json_document_parse_copy ("{\"\\u00e9t\\u00e9\": \"\\ud83c\\udfac \xe2\x82\xac\", "
                                  "\"nul\": \"a\\u0000b\", \"lone\": \"\\udc00\"}",
                                  -1, findings, &error);
  const CpsJsonNode *root;
  const CpsJsonNode *nul;

  g_assert_no_error (error);
  root = cps_json_document_get_root (doc);
  g_assert_cmpstr (cps_json_object_get_string (root, "\xc3\xa9t\xc3\xa9"), ==,
                   "\xf0\x9f\x8e\xac \xe2\x82\xac");
  nul = cps_json_object_get (root, "nul");
  g_assert_cmpuint (nul->n, ==, 3);
  g_assert_cmpmem (nul->v.string, 3, "a\0b", 3);
  /* An unpaired surrogate is kept as U+FFFD and reported. */
  g_assert_cmpstr (cps_json_object_get_string (root, "lone"), ==, "\xef\xbf\xbd");
  g_assert_cmpuint (findings->len, ==, 1);
  g_assert_cmpstr (((CpsFinding *) g_ptr_array_index (findings, 0))->path, ==, "$.lone");
}

static void
test_bom (void)
{
  g_autoptr (GPtrArray) findings = cps_findings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc = cps_json_document_parse_copy ("\xef\xbb\xbf{}", -1, findings,
                                                                  &error);

  g_assert_no_error (error);
  g_assert_nonnull (doc);
  g_assert_cmpuint (findings->len, ==, 1);
  g_assert_cmpint (((CpsFinding *) g_ptr_array_index (findings, 0))->severity, ==,
                   CPS_SEVERITY_WARNING);
}

static void
test_paths (void)
{
  g_autofree char *a = cps_json_path_append_key ("$.data", "project", 7);
  g_autofree char *b = cps_json_path_append_key (a, "Night Exterior", 14);
  g_autofree char *c = cps_json_path_append_index (b, 3);
  g_autofree char *d = cps_json_path_append_key (NULL, "a\"b", 3);

  g_assert_cmpstr (c, ==, "$.data.project[\"Night Exterior\"][3]");
  g_assert_cmpstr (d, ==, "$[\"a\\\"b\"]");
}

static void
test_equal (void)
{
  g_autoptr (CpsJsonDocument) a =
    cps_json_document_parse_copy ("{\"x\": [1, {\"y\": null}], \"z\": \"s\"}", -1, NULL, NULL);
  g_autoptr (CpsJsonDocument) b =
    cps_json_document_parse_copy ("{\"z\": \"s\", \"x\": [1.0, {\"y\": null}]}", -1, NULL, NULL);
  g_autoptr (CpsJsonDocument) c =
    cps_json_document_parse_copy ("{\"z\": \"s\", \"x\": [{\"y\": null}, 1]}", -1, NULL, NULL);

  g_assert_true (cps_json_node_equal (cps_json_document_get_root (a),
                                      cps_json_document_get_root (b)));
  g_assert_false (cps_json_node_equal (cps_json_document_get_root (a),
                                       cps_json_document_get_root (c)));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/json/refused", test_refused);
  g_test_add_func ("/json/location", test_location);
  g_test_add_func ("/json/deep-nesting", test_deep_nesting);
  g_test_add_func ("/json/depth", test_depth);
  g_test_add_func ("/json/duplicate-keys", test_duplicate_keys);
  g_test_add_func ("/json/many-keys", test_many_keys);
  g_test_add_func ("/json/unicode", test_unicode);
  g_test_add_func ("/json/bom", test_bom);
  g_test_add_func ("/json/paths", test_paths);
  g_test_add_func ("/json/equal", test_equal);

  return g_test_run ();
}
