/* test-revision.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Revisions by the contract's exact rules, vector clocks and the revision
 * DAG, the latter two as property tests over thousands of random histories.
 */

#define G_LOG_DOMAIN "test-revision"

#include "config.h"

#include <string.h>
#include <sodium.h>

#include "cps.h"
#include "cps-dag.h"
#include "cps-revision.h"

#define PROJECT "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
#define DEVICE_A "0a1b2c3d-0000-4000-8000-00000000000a"
#define DEVICE_B "0a1b2c3d-0000-4000-8000-00000000000b"

static CpsDeviceKey *
key_with_seed (const char *device_id, guint8 fill)
{
  guint8 seed[32];

  memset (seed, fill, sizeof seed);
  return cps_device_key_new_from_seed (device_id, seed);
}

static CpsJsonDocument *
parse (const char *json)
{
  g_autoptr (GError) error = NULL;
  CpsJsonDocument *doc = cps_json_document_parse_copy (json, -1, NULL, &error);

  g_assert_no_error (error);
  return doc;
}

static char *
sha256 (const char *text)
{
  return cps_checksum_bytes (text, strlen (text));
}

/* The id and checksum rules, applied by hand: every canonical string below
 * is written out literally, as a JavaScript client would produce it. */
static void
test_id_by_hand (void)
{
  g_autoptr (CpsDeviceKey) key = key_with_seed (DEVICE_A, 7);
  g_autoptr (CpsJsonDocument) doc = parse (
    "{\"setupName\":\"Night\",\"camera\":\"Cam X\",\"motors\":[\"M1\"],\"n\":1.50,"
    "\"metadata\":{\"exportedAt\":\"2025-03-01T13:05:09.000Z\"}}");
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsRevision) rev = cps_revision_new_signed (
    PROJECT, NULL, 0, key, "2026-03-01T13:05:09.123Z", cps_json_document_get_root (doc), FALSE,
    &error);
  const char *content = "{\"camera\":\"Cam X\",\"motors\":[\"M1\"],\"n\":1.5,\"setupName\":\"Night\"}";
  const char *payload_jcs = "{\"enc\":\"none\",\"json\":{\"camera\":\"Cam X\",\"metadata\":"
                            "{\"exportedAt\":\"2025-03-01T13:05:09.000Z\"},\"motors\":[\"M1\"],"
                            "\"n\":1.5,\"setupName\":\"Night\"}}";
  g_autofree char *checksum = sha256 (content);
  g_autofree char *payload_checksum = sha256 (payload_jcs);
  g_autofree char *signed_part = g_strdup_printf (
    "{\"checksum\":\"%s\",\"clock\":{\"" DEVICE_A "\":1},\"created_at\":\"2026-03-01T13:05:09.123Z\","
    "\"deleted\":false,\"device_id\":\"" DEVICE_A "\",\"parents\":[],\"payload\":\"%s\","
    "\"project_id\":\"" PROJECT "\"}",
    checksum, payload_checksum);
  g_autofree char *id = sha256 (signed_part);
  g_autofree guchar *signature = NULL;
  gsize signature_len;

  g_assert_no_error (error);
  g_assert_cmpstr (cps_revision_get_checksum (rev), ==, checksum);
  g_assert_cmpstr (cps_revision_get_id (rev), ==, id);
  g_assert_cmpuint (cps_clock_get (cps_revision_get_clock (rev), DEVICE_A), ==, 1);

  /* The signature is plain Ed25519 over the UTF-8 bytes of the id. */
  signature = g_base64_decode (cps_revision_get_signature (rev), &signature_len);
  g_assert_cmpuint (signature_len, ==, 64);
  g_assert_cmpint (crypto_sign_verify_detached (signature, (const guchar *) id, strlen (id),
                                                cps_device_key_get_public_key (key)),
                   ==, 0);
  g_assert_true (cps_revision_verify (rev, cps_device_key_get_public_key (key), &error));
  g_assert_no_error (error);

  /* A second revision on top: parents sorted, clock incremented. */
  {
    g_autoptr (CpsRevision) child = cps_revision_new_signed (
      PROJECT, &rev, 1, key, "2026-03-01T13:06:00.000Z", cps_json_document_get_root (doc), TRUE,
      &error);
    g_autofree char *child_part = g_strdup_printf (
      "{\"checksum\":\"%s\",\"clock\":{\"" DEVICE_A "\":2},\"created_at\":\"2026-03-01T13:06:00.000Z\","
      "\"deleted\":true,\"device_id\":\"" DEVICE_A "\",\"parents\":[\"%s\"],\"payload\":\"%s\","
      "\"project_id\":\"" PROJECT "\"}",
      checksum, id, payload_checksum);
    g_autofree char *child_id = sha256 (child_part);

    g_assert_no_error (error);
    g_assert_cmpstr (cps_revision_get_id (child), ==, child_id);
    g_assert_true (cps_revision_validate_clock (child, &rev, 1, &error));
    g_assert_no_error (error);
  }
}

static void
test_round_trip (void)
{
  g_autoptr (CpsDeviceKey) key = cps_device_key_new_ephemeral (NULL);
  g_autoptr (CpsJsonDocument) doc = parse ("{\"setupName\":\"Ünïcode ✓\",\"x\":[1e21,-0]}");
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsRevision) rev = cps_revision_new_signed (
    PROJECT, NULL, 0, key, NULL, cps_json_document_get_root (doc), FALSE, &error);
  g_autofree char *json = cps_revision_to_json (rev, TRUE);
  g_autofree char *header = cps_revision_to_json (rev, FALSE);
  g_autoptr (CpsRevision) again = cps_revision_new_from_string (json, -1, &error);

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (json, "{\"id\":\"sha256:"));
  g_assert_null (strstr (header, "\"payload\""));
  g_assert_nonnull (strstr (header, "\"signature\""));
  g_assert_cmpstr (cps_revision_get_id (again), ==, cps_revision_get_id (rev));
  g_assert_true (cps_revision_verify (again, cps_device_key_get_public_key (key), &error));
  g_assert_no_error (error);
}

/* Replaces the first occurrence of @from in @text. */
static char *
replace (const char *text, const char *from, const char *to)
{
  const char *at = strstr (text, from);

  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int) (at - text), text, to, at + strlen (from));
}

static void
test_tampering (void)
{
  g_autoptr (CpsDeviceKey) key = cps_device_key_new_ephemeral (DEVICE_A);
  g_autoptr (CpsDeviceKey) other = cps_device_key_new_ephemeral (DEVICE_A);
  g_autoptr (CpsJsonDocument) doc = parse ("{\"setupName\":\"P\",\"battery\":\"X\"}");
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsRevision) rev = cps_revision_new_signed (
    PROJECT, NULL, 0, key, "2026-03-01T13:05:09.123Z", cps_json_document_get_root (doc), FALSE,
    &error);
  g_autofree char *json = cps_revision_to_json (rev, TRUE);
  const guint8 *pk = cps_device_key_get_public_key (key);
  struct
  {
    const char *from, *to;
    int code;
  } cases[] = {
    /* the document changed, checksum and id kept: the id no longer matches */
    { "\"battery\":\"X\"", "\"battery\":\"Y\"", CPS_REVISION_ERROR_BAD_ID },
    { "\"deleted\":false", "\"deleted\":true", CPS_REVISION_ERROR_BAD_ID },
    { "2026-03-01T13:05:09.123Z", "2026-03-01T13:05:09.124Z", CPS_REVISION_ERROR_BAD_ID },
    { "\"" DEVICE_A "\":1", "\"" DEVICE_A "\":2", CPS_REVISION_ERROR_BAD_ID },
  };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *bad = replace (json, cases[i].from, cases[i].to);
      g_autoptr (CpsRevision) tampered = cps_revision_new_from_string (bad, -1, &error);

      g_assert_no_error (error);
      g_assert_false (cps_revision_verify (tampered, pk, &error));
      g_assert_error (error, CPS_REVISION_ERROR, cases[i].code);
      g_clear_error (&error);
    }

  /* Signed by another key */
  g_assert_false (cps_revision_verify (rev, cps_device_key_get_public_key (other), &error));
  g_assert_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);

  /* A checksum that is not the document's, with an id computed to match:
   * only the checksum rule catches it. */
  {
    g_autofree char *wrong = replace (json, cps_revision_get_checksum (rev),
                                      "sha256:0000000000000000000000000000000000000000000000000000000000000000");
    g_autoptr (CpsRevision) tampered = cps_revision_new_from_string (wrong, -1, &error);
    g_autofree char *new_id = cps_revision_compute_id (tampered, &error);
    g_autofree char *fixed = replace (wrong, cps_revision_get_id (rev), new_id);
    g_autoptr (CpsRevision) rebuilt = cps_revision_new_from_string (fixed, -1, &error);

    g_assert_no_error (error);
    g_assert_false (cps_revision_verify (rebuilt, pk, &error));
    g_assert_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_CHECKSUM_MISMATCH);
    g_clear_error (&error);
  }

  /* A signature with an extra character that base64 decoding would skip */
  {
    g_autofree char *sig = g_strdup_printf ("\"%s\"", cps_revision_get_signature (rev));
    g_autofree char *sig2 = g_strdup_printf ("\" %s\"", cps_revision_get_signature (rev));
    g_autofree char *bad = replace (json, sig, sig2);
    g_autoptr (CpsRevision) tampered = cps_revision_new_from_string (bad, -1, &error);

    g_assert_no_error (error);
    g_assert_false (cps_revision_verify (tampered, pk, &error));
    g_assert_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_SIGNATURE);
  }
}

static void
test_malformed (void)
{
  static const struct
  {
    const char *json;
    int code;
    const char *part;
  } cases[] = {
    { "[]", CPS_REVISION_ERROR_INVALID, "JSON object" },
    { "{", CPS_REVISION_ERROR_INVALID, "not valid JSON" },
    { "{\"id\":1}", CPS_REVISION_ERROR_INVALID, "“id”" },
    { "{\"id\":\"sha256:00\",\"project_id\":\"" PROJECT "\",\"device_id\":\"" DEVICE_A
      "\",\"created_at\":\"2026-03-01T13:05:09.123Z\",\"checksum\":\"c\",\"signature\":\"s\"}",
      CPS_REVISION_ERROR_INVALID, "revision id" },
    { "{\"evil\":1}", CPS_REVISION_ERROR_INVALID, "unknown member" },
  };
  g_autoptr (CpsDeviceKey) key = cps_device_key_new_ephemeral (DEVICE_A);
  g_autoptr (CpsJsonDocument) doc = parse ("{\"setupName\":\"P\"}");
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsRevision) rev = cps_revision_new_signed (
    PROJECT, NULL, 0, key, "2026-03-01T13:05:09.123Z", cps_json_document_get_root (doc), FALSE,
    &error);
  g_autofree char *json = cps_revision_to_json (rev, TRUE);
  struct
  {
    const char *from, *to;
    int code;
    const char *part;
  } field_cases[] = {
    { PROJECT, "6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B", CPS_REVISION_ERROR_INVALID, "project id" },
    { "\"device_id\":\"" DEVICE_A, "\"device_id\":\"device-a", CPS_REVISION_ERROR_INVALID,
      "device id" },
    { "2026-03-01T13:05:09.123Z", "2026-03-01 13:05:09", CPS_REVISION_ERROR_INVALID,
      "RFC 3339" },
    { "\"deleted\":false", "\"deleted\":0", CPS_REVISION_ERROR_INVALID, "true or false" },
    { "\"parents\":[]", "\"parents\":{}", CPS_REVISION_ERROR_INVALID, "parents" },
    { "\"parents\":[]", "\"parents\":[\"x\"]", CPS_REVISION_ERROR_INVALID, "parent" },
    { "\"parents\":[]",
      "\"parents\":[\"sha256:1111111111111111111111111111111111111111111111111111111111111111\","
      "\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"]",
      CPS_REVISION_ERROR_BAD_PARENTS, "sorted" },
    { "\"" DEVICE_A "\":1", "\"" DEVICE_A "\":0", CPS_REVISION_ERROR_INVALID, "whole number" },
    { "\"" DEVICE_A "\":1", "\"" DEVICE_A "\":1.5", CPS_REVISION_ERROR_INVALID, "whole number" },
    { "\"" DEVICE_A "\":1", "\"" DEVICE_B "\":1", CPS_REVISION_ERROR_BAD_CLOCK, "own device" },
    { "\"clock\":{", "\"clock\":{\"nope\":1,", CPS_REVISION_ERROR_INVALID, "not a device id" },
    { "\"enc\":\"none\"", "\"enc\":\"rot13\"", CPS_REVISION_ERROR_INVALID, "rot13" },
    { "\"json\":{", "\"json\":[{", CPS_REVISION_ERROR_INVALID, "unencrypted payload" },
  };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (CpsRevision) bad = cps_revision_new_from_string (cases[i].json, -1, &error);
      g_assert_null (bad);
      g_assert_error (error, CPS_REVISION_ERROR, cases[i].code);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].part));
      g_clear_error (&error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (field_cases); i++)
    {
      g_autofree char *text = replace (json, field_cases[i].from, field_cases[i].to);
      g_autoptr (CpsRevision) bad = NULL;

      /* Keep the JSON valid where the replacement opened a bracket. */
      if (g_str_has_suffix (field_cases[i].to, "[{"))
        {
          g_autofree char *tmp = replace (text, "}},\"signature\"", "}]},\"signature\"");
          g_free (text);
          text = g_steal_pointer (&tmp);
        }
      bad = cps_revision_new_from_string (text, -1, &error);
      g_test_message ("case %u: %s", i, error ? error->message : "(accepted)");
      g_assert_null (bad);
      g_assert_error (error, CPS_REVISION_ERROR, field_cases[i].code);
      g_assert_nonnull (strstr (error->message, field_cases[i].part));
      g_clear_error (&error);
    }
}

static void
test_clock_rule (void)
{
  g_autoptr (CpsDeviceKey) a = cps_device_key_new_ephemeral (DEVICE_A);
  g_autoptr (CpsDeviceKey) b = cps_device_key_new_ephemeral (DEVICE_B);
  g_autoptr (CpsJsonDocument) doc = parse ("{\"setupName\":\"P\"}");
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsRevision) root = cps_revision_new_signed (PROJECT, NULL, 0, a, NULL,
                                                          cps_json_document_get_root (doc),
                                                          FALSE, &error);
  g_autoptr (CpsRevision) left = cps_revision_new_signed (PROJECT, &root, 1, a, NULL,
                                                          cps_json_document_get_root (doc),
                                                          FALSE, &error);
  g_autoptr (CpsRevision) right = cps_revision_new_signed (PROJECT, &root, 1, b, NULL,
                                                           cps_json_document_get_root (doc),
                                                           FALSE, &error);
  CpsRevision *heads[] = { right, left };
  g_autoptr (CpsRevision) merge = cps_revision_new_signed (PROJECT, heads, 2, b, NULL,
                                                           cps_json_document_get_root (doc),
                                                           FALSE, &error);
  const CpsClock *clock;

  g_assert_no_error (error);
  g_assert_cmpint (cps_clock_compare (cps_revision_get_clock (left),
                                      cps_revision_get_clock (right)),
                   ==, CPS_CLOCK_CONCURRENT);
  clock = cps_revision_get_clock (merge);
  g_assert_cmpuint (cps_clock_get (clock, DEVICE_A), ==, 2);
  g_assert_cmpuint (cps_clock_get (clock, DEVICE_B), ==, 2);
  g_assert_cmpuint (cps_revision_get_n_parents (merge), ==, 2);
  g_assert_cmpint (strcmp (cps_revision_get_parents (merge)[0],
                           cps_revision_get_parents (merge)[1]),
                   <, 0);
  g_assert_true (cps_revision_validate_clock (merge, heads, 2, &error));
  g_assert_no_error (error);

  /* Validated against the wrong parents */
  g_assert_false (cps_revision_validate_clock (merge, &left, 1, &error));
  g_assert_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_UNKNOWN_PARENT);
  g_clear_error (&error);
  {
    CpsRevision *wrong[] = { root, left };
    g_assert_false (cps_revision_validate_clock (merge, wrong, 2, &error));
    g_assert_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_UNKNOWN_PARENT);
    g_clear_error (&error);
  }
  /* A clock that skipped a step */
  {
    g_autofree char *json = cps_revision_to_json (left, TRUE);
    g_autofree char *bad = replace (json, "\"" DEVICE_A "\":2", "\"" DEVICE_A "\":3");
    g_autoptr (CpsRevision) skipped = cps_revision_new_from_string (bad, -1, &error);

    g_assert_no_error (error);
    g_assert_false (cps_revision_validate_clock (skipped, &root, 1, &error));
    g_assert_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_CLOCK);
  }
}

/* Vector clocks over random values */

static const char *const devices[] = {
  "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002",
  "00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000004",
};

static CpsClock *
random_clock (void)
{
  CpsClock *clock = cps_clock_new ();

  for (guint i = 0; i < G_N_ELEMENTS (devices); i++)
    if (g_test_rand_int_range (0, 3) > 0)
      cps_clock_set (clock, devices[i], g_test_rand_int_range (0, 4));
  return clock;
}

static void
test_clock_properties (void)
{
  for (guint iter = 0; iter < 5000; iter++)
    {
      g_autoptr (CpsClock) a = random_clock ();
      g_autoptr (CpsClock) b = random_clock ();
      g_autoptr (CpsClock) c = random_clock ();
      g_autoptr (CpsClock) ab = cps_clock_merge (a, b);
      g_autoptr (CpsClock) ba = cps_clock_merge (b, a);
      g_autoptr (CpsClock) ab_c = cps_clock_merge (ab, c);
      g_autoptr (CpsClock) bc = cps_clock_merge (b, c);
      g_autoptr (CpsClock) a_bc = cps_clock_merge (a, bc);
      g_autoptr (CpsClock) aa = cps_clock_merge (a, a);
      const CpsClock *parents[] = { a, b };
      g_autoptr (CpsClock) next = cps_clock_next (parents, 2, devices[iter % 4]);
      CpsClockOrder order = cps_clock_compare (a, b);
      CpsClockOrder reverse = cps_clock_compare (b, a);
      gboolean le = TRUE, ge = TRUE;

      /* merge is commutative, associative and idempotent */
      g_assert_true (cps_clock_equal (ab, ba));
      g_assert_true (cps_clock_equal (ab_c, a_bc));
      g_assert_true (cps_clock_equal (aa, a));
      /* the merge is an upper bound of both */
      g_assert_true (cps_clock_compare (a, ab) == CPS_CLOCK_BEFORE ||
                     cps_clock_compare (a, ab) == CPS_CLOCK_EQUAL);
      /* a new revision comes strictly after its parents */
      g_assert_cmpint (cps_clock_compare (a, next), ==, CPS_CLOCK_BEFORE);
      g_assert_cmpint (cps_clock_compare (b, next), ==, CPS_CLOCK_BEFORE);
      g_assert_cmpuint (cps_clock_sum (next), ==, cps_clock_sum (ab) + 1);
      /* compare agrees with a pointwise oracle and is antisymmetric */
      for (guint i = 0; i < G_N_ELEMENTS (devices); i++)
        {
          le = le && cps_clock_get (a, devices[i]) <= cps_clock_get (b, devices[i]);
          ge = ge && cps_clock_get (a, devices[i]) >= cps_clock_get (b, devices[i]);
        }
      g_assert_cmpint (order, ==,
                       le && ge ? CPS_CLOCK_EQUAL
                       : le     ? CPS_CLOCK_BEFORE
                       : ge     ? CPS_CLOCK_AFTER
                                : CPS_CLOCK_CONCURRENT);
      g_assert_cmpint (reverse, ==,
                       order == CPS_CLOCK_BEFORE  ? CPS_CLOCK_AFTER
                       : order == CPS_CLOCK_AFTER ? CPS_CLOCK_BEFORE
                                                  : order);
    }
}

/* The DAG against a brute-force oracle */

static void
test_dag_properties (void)
{
  for (guint history = 0; history < 3000; history++)
    {
      g_autoptr (CpsDag) dag = cps_dag_new ();
      guint n = g_test_rand_int_range (1, 40);
      g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
      /* ancestors[i][j]: j is i or an ancestor of i */
      g_autofree gboolean *anc = g_new0 (gboolean, n * n);
      g_autofree gboolean *has_child = g_new0 (gboolean, n);

      for (guint i = 0; i < n; i++)
        {
          g_autoptr (GPtrArray) parents = g_ptr_array_new ();
          guint n_parents = i == 0 ? 0 : g_test_rand_int_range (i < 3 ? 0 : 1, MIN (i, 3) + 1);

          g_ptr_array_add (ids, g_strdup_printf ("sha256:%064x", i * 7919 + history));
          anc[i * n + i] = TRUE;
          for (guint k = 0; k < n_parents; k++)
            {
              guint p = g_test_rand_int_range (0, i);
              if (g_ptr_array_find_with_equal_func (parents, ids->pdata[p], g_str_equal, NULL))
                continue;
              g_ptr_array_add (parents, ids->pdata[p]);
              has_child[p] = TRUE;
              for (guint j = 0; j < n; j++)
                anc[i * n + j] = anc[i * n + j] || anc[p * n + j];
            }
          g_ptr_array_add (parents, NULL);
          g_assert_true (cps_dag_add (dag, ids->pdata[i], (const char *const *) parents->pdata,
                                      g_test_rand_int_range (0, 5)));
        }
      g_assert_false (cps_dag_add (dag, ids->pdata[0], NULL, 0));

      /* heads */
      {
        g_autoptr (GPtrArray) heads = cps_dag_get_heads (dag);
        guint expected = 0;
        for (guint i = 0; i < n; i++)
          expected += !has_child[i];
        g_assert_cmpuint (heads->len, ==, expected);
        g_assert_nonnull (cps_dag_get_display_winner (dag, heads));
      }

      /* is_ancestor and lowest common ancestors, for random pairs */
      for (guint q = 0; q < 20; q++)
        {
          guint a = g_test_rand_int_range (0, n), b = g_test_rand_int_range (0, n);
          g_autoptr (GPtrArray) lca = cps_dag_lowest_common_ancestors (dag, ids->pdata[a],
                                                                       ids->pdata[b]);
          guint expected = 0;

          g_assert_cmpint (cps_dag_is_ancestor (dag, ids->pdata[b], ids->pdata[a]), ==,
                           anc[a * n + b]);
          for (guint c = 0; c < n; c++)
            {
              gboolean common = anc[a * n + c] && anc[b * n + c];
              gboolean lowest = common;

              /* not lowest if another common ancestor descends from c */
              for (guint d = 0; lowest && d < n; d++)
                if (d != c && anc[a * n + d] && anc[b * n + d] && anc[d * n + c])
                  lowest = FALSE;
              if (lowest)
                {
                  expected++;
                  g_assert_true (g_ptr_array_find_with_equal_func (lca, ids->pdata[c],
                                                                   g_str_equal, NULL));
                }
            }
          g_assert_cmpuint (lca->len, ==, expected);
        }
    }
}

static void
test_display_winner (void)
{
  g_autoptr (CpsDag) dag = cps_dag_new ();
  const char *root[] = { NULL };
  const char *parents[] = { "sha256:a0", NULL };
  g_autoptr (GPtrArray) heads = NULL;

  cps_dag_add (dag, "sha256:a0", root, 1);
  cps_dag_add (dag, "sha256:b1", parents, 3);
  cps_dag_add (dag, "sha256:b2", parents, 3);
  cps_dag_add (dag, "sha256:c9", parents, 2);
  heads = cps_dag_get_heads (dag);
  g_assert_cmpuint (heads->len, ==, 3);
  /* largest clock sum, then highest id */
  g_assert_cmpstr (cps_dag_get_display_winner (dag, heads), ==, "sha256:b2");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/revision/id-by-hand", test_id_by_hand);
  g_test_add_func ("/revision/round-trip", test_round_trip);
  g_test_add_func ("/revision/tampering", test_tampering);
  g_test_add_func ("/revision/malformed", test_malformed);
  g_test_add_func ("/revision/clock-rule", test_clock_rule);
  g_test_add_func ("/clock/properties", test_clock_properties);
  g_test_add_func ("/dag/properties", test_dag_properties);
  g_test_add_func ("/dag/display-winner", test_display_winner);

  return g_test_run ();
}
