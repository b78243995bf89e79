/* test-sidecar.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-sidecar"

#include "config.h"

#include <string.h>

#include "cps.h"

#define HEX "2725b617a780456f538ba7c91d12dbb50a9f9c3eb6f3ac6202425b79f450cca7"

static void
test_fixture_sums (void)
{
  g_autofree char *good_path = g_test_build_filename (G_TEST_DIST, "data", "planner", "SHA256SUMS",
                                                      NULL);
  g_autofree char *bad_path = g_test_build_filename (G_TEST_DIST, "data", "planner",
                                                     "SHA256SUMS.wrong", NULL);
  g_autoptr (GFile) good_file = g_file_new_for_path (good_path);
  g_autoptr (GFile) bad_file = g_file_new_for_path (bad_path);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsSidecar) good = cps_sidecar_load (good_file, NULL, &error);
  g_autoptr (CpsSidecar) bad = cps_sidecar_load (bad_file, NULL, &error);
  const char *backup = "cine_power_planner_backup_2025-03-01T14-05-09+01-00.json";

  g_assert_no_error (error);
  g_assert_cmpuint (cps_sidecar_get_n_entries (good), ==, 2);
  g_assert_cmpuint (cps_sidecar_get_findings (good)->len, ==, 0);
  g_assert_cmpint (cps_sidecar_check (good, backup, "sha256:" HEX), ==, CPS_SIDECAR_MATCH);
  g_assert_cmpint (cps_sidecar_check (bad, backup, "sha256:" HEX), ==, CPS_SIDECAR_MISMATCH);
  g_assert_cmpint (cps_sidecar_check (good, "other.json", "sha256:" HEX), ==,
                   CPS_SIDECAR_NOT_LISTED);
}

static void
test_formats (void)
{
  const char *text = HEX "  plain name.json\n"
                         "\\" HEX "  back\\\\slash\\nnewline.json\r\n"
                         "# a comment\n"
                         HEX "  ./dot.json\n"
                         "\n"
                         "2725B617A780456F538BA7C91D12DBB50A9F9C3EB6F3AC6202425B79F450CCA7 *upper.json\n"
                         "not a checksum line\n"
                         "0123  short.json\n"
                         HEX "  dup.json\n"
                         "0000000000000000000000000000000000000000000000000000000000000000  dup.json";
  g_autoptr (GPtrArray) findings = cps_findings_new ();
  g_autoptr (CpsSidecar) sidecar = cps_sidecar_parse (text, strlen (text), "SUMS", findings);
  const CpsFinding *f;

  g_assert_cmpstr (cps_sidecar_lookup (sidecar, "plain name.json"), ==, HEX);
  g_assert_cmpstr (cps_sidecar_lookup (sidecar, "back\\slash\nnewline.json"), ==, HEX);
  g_assert_cmpstr (cps_sidecar_lookup (sidecar, "upper.json"), ==, HEX);
  g_assert_cmpstr (cps_sidecar_lookup (sidecar, "dot.json"), ==, HEX);
  g_assert_cmpstr (cps_sidecar_lookup (sidecar, "dup.json"), ==, HEX);
  g_assert_cmpuint (findings->len, ==, 3);
  f = g_ptr_array_index (findings, 0);
  g_assert_cmpstr (f->path, ==, "SUMS:7");
  g_assert_cmpint (f->severity, ==, CPS_SEVERITY_WARNING);
  f = g_ptr_array_index (findings, 2);
  g_assert_cmpstr (f->path, ==, "SUMS:10");
  g_assert_cmpint (f->severity, ==, CPS_SEVERITY_ERROR);
  g_assert_nonnull (strstr (f->message, "listed twice"));
}

static void
test_garbage (void)
{
  static const char garbage[] = "\0\xff\xfe binary \x01\x02";
  g_autoptr (GPtrArray) findings = cps_findings_new ();
  g_autoptr (CpsSidecar) sidecar = cps_sidecar_parse (garbage, sizeof garbage - 1, "junk",
                                                      findings);

  g_assert_cmpuint (cps_sidecar_get_n_entries (sidecar), ==, 0);
  g_assert_cmpint (cps_findings_worst (findings), ==, CPS_SEVERITY_ERROR);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sidecar/fixture-sums", test_fixture_sums);
  g_test_add_func ("/sidecar/formats", test_formats);
  g_test_add_func ("/sidecar/garbage", test_garbage);

  return g_test_run ();
}
