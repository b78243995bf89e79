/* fuzz-jcs.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libFuzzer target for the JSON reader and the RFC 8785 canonicaliser.
 *
 * Whatever the reader accepts must either canonicalise or be refused with
 * CPS_JSON_ERROR_NOT_CANONICALIZABLE (a number beyond the double range), and
 * the canonical form must be a fixed point: it parses without findings into a
 * tree equal to the original, whose canonical form is the same bytes. The
 * JSON.stringify-compatible writer must round-trip the same way.
 */

#define G_LOG_DOMAIN "fuzz-jcs"

#include "config.h"

#include "fuzz-common.h"

/* Parses text that one of our writers produced. Such text is never damaged,
 * so any finding at all is a bug in the writer or the reader. */
static CpsJsonDocument *
reparse_own_output (const char *text, gsize length, const char *what)
{
  g_autoptr (GPtrArray) findings = cps_findings_new ();
  g_autoptr (GError) error = NULL;
  CpsJsonDocument *doc;

  doc = cps_json_document_parse_copy (text, length, findings, &error);
  if (doc == NULL)
    fuzz_fail ("%s does not parse back: %s\n%.*s", what, error ? error->message : "(no error)",
               (int) MIN (length, 2000), text);
  if (findings->len > 0)
    {
      const CpsFinding *finding = g_ptr_array_index (findings, 0);
      fuzz_fail ("%s parses back with %u finding(s), first: %s: %s\n%.*s", what, findings->len,
                 finding->path ? finding->path : "", finding->message, (int) MIN (length, 2000),
                 text);
    }
  return doc;
}

static void
check_round_trip (const CpsJsonNode *root, const char *text, gsize length, const char *what)
{
  g_autoptr (CpsJsonDocument) doc = NULL;
  const CpsJsonNode *again;

  fuzz_check_text (text, length, what);
  doc = reparse_own_output (text, length, what);
  again = cps_json_document_get_root (doc);
  if (!cps_json_node_equal (root, again) || !cps_json_node_equal (again, root))
    fuzz_fail ("%s parses back into a different value:\n%.*s", what, (int) MIN (length, 2000),
               text);
}

static void
check_canonical (const CpsJsonNode *root, GPtrArray *findings)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *canonical_again = NULL;
  g_autofree char *checksum = NULL;
  g_autofree char *checksum_of_bytes = NULL;
  g_autofree char *content_checksum = NULL;
  gsize length = 0, length_again = 0;

  canonical = cps_jcs_to_string (root, &length, &error);
  if (canonical == NULL)
    {
      /* Only an out-of-range number has no canonical form, and the reader
       * must already have said so. */
      fuzz_assert (error != NULL);
      fuzz_assert (g_error_matches (error, CPS_JSON_ERROR, CPS_JSON_ERROR_NOT_CANONICALIZABLE));
      fuzz_assert (cps_findings_count (findings, CPS_SEVERITY_ERROR) > 0);
      g_clear_error (&error);
      checksum = cps_checksum_json (root, &error);
      fuzz_assert (checksum == NULL && error != NULL);
      return;
    }
  fuzz_assert (error == NULL);

  check_round_trip (root, canonical, length, "canonical form");

  /* Idempotence: canonicalising the canonical form changes nothing. */
  doc = reparse_own_output (canonical, length, "canonical form");
  canonical_again = cps_jcs_to_string (cps_json_document_get_root (doc), &length_again, &error);
  if (canonical_again == NULL)
    fuzz_fail ("the canonical form cannot be canonicalised again: %s", error->message);
  if (length != length_again || memcmp (canonical, canonical_again, length) != 0)
    fuzz_fail ("canonicalisation is not idempotent:\n first: %.*s\nsecond: %.*s",
               (int) MIN (length, 2000), canonical, (int) MIN (length_again, 2000),
               canonical_again);

  /* The JSON checksum is the checksum of exactly these bytes. */
  checksum = cps_checksum_json (root, &error);
  fuzz_assert (checksum != NULL);
  fuzz_check_checksum (checksum, "cps_checksum_json");
  checksum_of_bytes = cps_checksum_bytes (canonical, length);
  if (strcmp (checksum, checksum_of_bytes) != 0)
    fuzz_fail ("cps_checksum_json %s differs from the checksum of the canonical bytes %s", checksum,
               checksum_of_bytes);

  content_checksum = cps_checksum_content (root, &error);
  fuzz_assert (content_checksum != NULL);
  fuzz_check_checksum (content_checksum, "cps_checksum_content");
  if (cps_json_node_get_type (root) != CPS_JSON_OBJECT
      || cps_json_object_get (root, "metadata") == NULL)
    fuzz_assert (strcmp (content_checksum, checksum) == 0);
}

static void
check_stringify (const CpsJsonNode *root, guint indent)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  gsize length = 0;

  text = cps_json_to_string (root, indent, &length, &error);
  if (text == NULL)
    {
      fuzz_assert (g_error_matches (error, CPS_JSON_ERROR, CPS_JSON_ERROR_NOT_CANONICALIZABLE));
      return;
    }
  check_round_trip (root, text, length,
                    indent ? "indented JSON.stringify form" : "compact JSON.stringify form");
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_make_warnings_fatal ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GPtrArray) findings = cps_findings_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) doc = NULL;
  const CpsJsonNode *root;

  doc = cps_json_document_parse_copy ((const char *) data, size, findings, &error);
  fuzz_check_findings (findings, "reader");
  if (doc == NULL)
    {
      /* A refused input is explained by an error and a finding. */
      fuzz_assert (error != NULL && error->domain == CPS_JSON_ERROR);
      fuzz_assert (cps_findings_count (findings, CPS_SEVERITY_ERROR) > 0);
      return 0;
    }
  fuzz_assert (error == NULL);

  root = cps_json_document_get_root (doc);
  fuzz_assert (root != NULL);
  fuzz_assert (cps_json_node_equal (root, root));

  check_canonical (root, findings);
  check_stringify (root, 0);
  check_stringify (root, 2);
  return 0;
}
