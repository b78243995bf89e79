/* merge.c — bench-merge
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Three-way merge of two divergent ~1 MB project documents against their
 * common ancestor: cps_merge_new() + cps_merge_resolve_all() +
 * cps_merge_build_result(), best of N runs, against the target of 20 ms.
 * The same run measures a baseline, canonicalising both sides with
 * cps_jcs_to_string(), so that the figure can be compared across machines.
 *
 * The documents are generated here, deterministically, in the shape of a
 * planner project bundle (PLANNER-FORMATS.md): device selections, a large
 * gear list, project information with a crew of 400, 1,500 contacts, 300
 * auto-gear rules with their items and 200 runtime feedback reports. Each
 * side edits, adds, removes and reorders entries of its own all over the
 * document, and some edits overlap, so the merge has conflicts to resolve.
 * The generator knows how many; the benchmark checks the merge finds exactly
 * those and that the result holds what it should.
 *
 *   bench-merge [--runs N] [--json]
 *
 * The exit status is 0 unless the benchmark could not run (1): the figures
 * are informational.
 */

#define G_LOG_DOMAIN "bench-merge"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cps.h"
#include "cps-merge.h"

#define TARGET_MS 20.0

#define N_CONTACTS 1500
#define N_PEOPLE 400
#define N_RULES 300
#define N_FEEDBACK 200
#define N_LENSES 40
#define N_POSITIONS 30
#define GEAR_ROWS 1000

typedef enum
{
  ANCESTOR,
  LEFT,
  RIGHT,
} Side;

static const char *const side_names[] = { "ancestor", "left", "right" };

static void G_GNUC_NORETURN
fail (const char *what, const char *detail)
{
  fprintf (stderr, "bench-merge: %s: %s\n", what, detail);
  exit (1);
}

static void
append_string (GString *out, const char *text)
{
  cps_jcs_append_string (out, text, strlen (text));
}

static void
append_member (GString *out, const char *key, const char *value)
{
  append_string (out, key);
  g_string_append_c (out, ':');
  append_string (out, value);
}

/* What each side does, entry by entry. A conflict is expected wherever both
 * sides touch the same value differently, or one removes what the other
 * edits. */

static gboolean
contact_deleted (Side side, guint i)
{
  return (side == LEFT && i % 101 == 5) || (side == RIGHT && i % 89 == 7);
}

static gboolean
contact_conflicts (guint i)
{
  gboolean l_del = i % 101 == 5, r_del = i % 89 == 7;
  gboolean l_phone = i % 13 == 0, r_phone = i % 97 == 0, r_email = i % 17 == 0;

  if (l_del && r_del)
    return FALSE;
  if (l_del)
    return r_phone || r_email;
  if (r_del)
    return l_phone;
  return l_phone && r_phone;
}

static void
write_contact (GString *out, Side side, guint i)
{
  g_autofree char *id = g_strdup_printf ("contact-%04u", i);
  g_autofree char *name = g_strdup_printf ("Crew Contact %u Ærøskøbing", i);
  g_autofree char *phone = NULL;
  g_autofree char *email = NULL;

  if (side == LEFT && i % 13 == 0)
    phone = g_strdup_printf ("+49 30 L%06u", i);
  else if (side == RIGHT && i % 97 == 0)
    phone = g_strdup_printf ("+49 30 R%06u", i);
  else
    phone = g_strdup_printf ("+49 30 %07u", i * 7919 % 10000000);
  if (side == RIGHT && i % 17 == 0)
    email = g_strdup_printf ("contact%u@new.example.invalid", i);
  else
    email = g_strdup_printf ("contact%u@example.invalid", i);

  g_string_append_c (out, '{');
  append_member (out, "id", id);
  g_string_append_c (out, ',');
  append_member (out, "name", name);
  g_string_append_c (out, ',');
  append_member (out, "role", i % 3 == 0 ? "Gaffer" : i % 3 == 1 ? "1st AC" : "DIT");
  g_string_append_c (out, ',');
  append_member (out, "phone", phone);
  g_string_append_c (out, ',');
  append_member (out, "email", email);
  g_string_append_c (out, ',');
  append_member (out, "website", "https://example.invalid/crew");
  g_string_append_c (out, ',');
  append_member (out, "notes", i % 5 == 0 ? "Prefers \"early\" call times\nand text messages" : "");
  g_string_append_c (out, '}');
}

static guint
write_contacts (GString *out, Side side)
{
  guint conflicts = 0;
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  gboolean first = TRUE;

  for (guint i = 0; i < N_CONTACTS; i++)
    {
      g_array_append_val (order, i);
      conflicts += contact_conflicts (i);
    }
  /* Left moves a block of contacts to the front. */
  if (side == LEFT)
    for (guint i = 0; i < 100; i++)
      {
        guint a = g_array_index (order, guint, i);
        g_array_index (order, guint, i) = g_array_index (order, guint, 700 + i);
        g_array_index (order, guint, 700 + i) = a;
      }

  g_string_append (out, "\"contacts\":[");
  for (guint k = 0; k < order->len; k++)
    {
      guint i = g_array_index (order, guint, k);

      if (contact_deleted (side, i))
        continue;
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      write_contact (out, side, i);
    }
  /* Each side adds its own. */
  for (guint i = 0; side != ANCESTOR && i < (side == LEFT ? 20u : 25u); i++)
    {
      g_autofree char *id = g_strdup_printf ("contact-%s%02u", side == LEFT ? "L" : "R", i);

      g_string_append (out, ",{");
      append_member (out, "id", id);
      g_string_append (out, ",");
      append_member (out, "name", id);
      g_string_append (out, ",\"phone\":\"\"}");
    }
  g_string_append_c (out, ']');
  return conflicts;
}

static guint
write_people (GString *out, Side side)
{
  guint conflicts = 0;

  g_string_append (out, "\"people\":[");
  for (guint k = 0; k < N_PEOPLE; k++)
    {
      /* Left lists the crew in reverse. */
      guint i = side == LEFT ? N_PEOPLE - 1 - k : k;
      g_autofree char *name = g_strdup_printf ("Alex Example %03u", i);
      g_autofree char *phone = NULL;
      const char *role = "DoP";

      if (side == LEFT && i % 9 == 0)
        phone = g_strdup_printf ("+44 20 L%05u", i);
      else if (side == RIGHT && i % 90 == 0)
        phone = g_strdup_printf ("+44 20 R%05u", i);
      else
        phone = g_strdup_printf ("+44 20 %06u", i * 31);
      if (side == RIGHT && i % 10 == 0)
        role = "Camera Operator";
      /* Both sides change the phone number of every 90th. */
      conflicts += i % 90 == 0;

      g_string_append_printf (out, "%s{", k ? "," : "");
      append_member (out, "name", name);
      g_string_append_c (out, ',');
      append_member (out, "role", role);
      g_string_append_c (out, ',');
      append_member (out, "phone", phone);
      g_string_append (out, ",\"email\":\"crew@example.invalid\"}");
    }
  g_string_append_c (out, ']');
  return conflicts;
}

static void
write_rule (GString *out, Side side, guint i)
{
  static const char *const lists[] = {
    "mattebox", "cameraHandle", "viewfinderExtension", "deliveryResolution",
    "videoDistribution", "camera", "ownGear", "monitor", "tripodHeadBrand", "tripodBowl",
    "tripodTypes", "tripodSpreader", "crewPresent", "crewAbsent", "wireless", "motors",
    "controllers", "distance",
  };
  g_autofree char *id = g_strdup_printf ("rule-5b0c2a8e-0000-4000-8000-%012u", i);
  g_autofree char *label = NULL;

  if (i % 50 == 0 && side != ANCESTOR)
    label = g_strdup_printf ("Rain kit %u (%s)", i, side_names[side]);
  else
    label = g_strdup_printf ("Rain kit %u", i);

  g_string_append_c (out, '{');
  append_member (out, "id", id);
  g_string_append_c (out, ',');
  append_member (out, "label", label);
  g_string_append_printf (out, ",\"always\":false,\"scenarioLogic\":\"all\",\"scenarioPrimary\":"
                               "\"\",\"scenarioMultiplier\":1,\"scenarios\":[\"Rain Machine\","
                               "\"Scenario %u\"]",
                          i % 12);
  for (gsize k = 0; k < G_N_ELEMENTS (lists); k++)
    {
      g_string_append_printf (out, ",\"%s\":[]", lists[k]);
      g_string_append_printf (out, ",\"%sLogic\":\"all\"", lists[k]);
    }
  g_string_append (out, ",\"cameraWeight\":null,\"shootingDays\":null,\"conditionLogic\":{}");
  g_string_append (out, ",\"add\":[");
  for (guint k = 0; k < 3; k++)
    {
      guint quantity = (side == RIGHT && i % 7 == 0 && k == 1) ? 9 : k + 1;

      g_string_append_printf (out,
                              "%s{\"id\":\"item-%u-%u\",\"name\":\"Sample Rain Cover %u\","
                              "\"category\":\"Rigging\",\"quantity\":%u,\"screenSize\":\"\","
                              "\"selectorType\":\"none\",\"selectorDefault\":\"\","
                              "\"selectorEnabled\":false,\"selectorContext\":\"\",\"notes\":\"\","
                              "\"contextNotes\":[],\"ownGearId\":\"\",\"ownGearLabel\":\"\"}",
                              k ? "," : "", i, k, k, quantity);
    }
  g_string_append_printf (out, "],\"remove\":[],\"enabled\":%s}",
                          (side == LEFT && i % 11 == 0) ? "false" : "true");
}

static guint
write_rules (GString *out, Side side)
{
  guint conflicts = 0;
  gboolean first = TRUE;

  g_string_append (out, "\"autoGearRules\":[");
  for (guint i = 0; i < N_RULES; i++)
    {
      gboolean l_del = i % 97 == 3;

      conflicts += l_del ? (i % 7 == 0 || i % 50 == 0) : i % 50 == 0;
      if (side == LEFT && l_del)
        continue;
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      write_rule (out, side, i);
    }
  for (guint i = 0; side == RIGHT && i < 5; i++)
    {
      g_string_append_c (out, ',');
      write_rule (out, ANCESTOR, N_RULES + i);
    }
  g_string_append_c (out, ']');
  return conflicts;
}

static void
write_feedback (GString *out, Side side)
{
  gboolean first = TRUE;
  guint extra = side == LEFT ? 5 : side == RIGHT ? 7 : 0;

  g_string_append (out, "\"feedback\":[");
  for (guint i = 0; i < N_FEEDBACK + extra; i++)
    {
      guint n = i < N_FEEDBACK ? i : (side == LEFT ? 1000 : 2000) + i;

      if (side == LEFT && i < N_FEEDBACK && i % 50 == 1)
        continue;
      g_string_append_printf (out,
                              "%s{\"username\":\"Alex Example\",\"date\":\"2025-03-%02u\","
                              "\"location\":\"Sample City\",\"camera\":\"Example Cinema Camera "
                              "X1\",\"batteryPlate\":\"V-Mount\",\"lensMount\":\"LPL\","
                              "\"resolution\":\"4.5K\",\"codec\":\"ProRes 4444 XQ\","
                              "\"sensorMode\":\"\",\"framerate\":\"25\",\"cameraWifi\":\"Off\","
                              "\"firmware\":\"\",\"battery\":\"Example 150Wh V-Mount\","
                              "\"batteryAge\":\"1 year\",\"wirelessVideo\":\"\",\"monitor\":"
                              "\"Example 7in Monitor\",\"temperature\":\"%u\",\"runtime\":"
                              "\"1:%02u\",\"batteriesPerDay\":\"8\",\"report\":%u}",
                              first ? "" : ",", n % 28 + 1, n % 30, n % 60, n);
      first = FALSE;
    }
  g_string_append_c (out, ']');
}

static guint
write_document (GString *out, Side side)
{
  guint conflicts = 0;

  g_string_append_c (out, '{');
  g_string_append (out, "\"setupName\":\"Night Exterior\",");
  g_string_append_printf (out, "\"camera\":\"%s\",",
                          side == ANCESTOR ? "Example Cinema Camera X1"
                          : side == LEFT   ? "Example Cinema Camera X2"
                                           : "Example Cinema Camera LF");
  conflicts++;
  g_string_append_printf (out, "\"monitor\":\"%s\",",
                          side == RIGHT ? "Example 5in Monitor" : "Example 7in Monitor");
  g_string_append (out, "\"video\":\"Example Wireless TX\",\"cage\":\"Example Cage\","
                        "\"motors\":[\"Example Lens Motor\"],\"controllers\":[\"Example Hand "
                        "Unit\"],\"distance\":\"Example LiDAR\",\"batteryPlate\":\"V-Mount\",");
  g_string_append_printf (out, "\"battery\":\"%s\",\"batteryHotswap\":\"\",",
                          side == LEFT ? "Example 98Wh V-Mount" : "Example 150Wh V-Mount");
  g_string_append (out, "\"powerSelection\":{\"batteryPlate\":\"V-Mount\",\"battery\":"
                        "\"Example 150Wh V-Mount\",\"batteryHotswap\":\"\"},");

  g_string_append (out, "\"diagramPositions\":{");
  for (guint i = 0; i < N_POSITIONS; i++)
    g_string_append_printf (out, "%s\"node%u\":{\"x\":%u,\"y\":%u}", i ? "," : "", i,
                            i * 40 + (side == LEFT && i % 3 == 0 ? 5 : 0),
                            120 + (side == RIGHT && i % 4 == 1 ? 7 : 0));
  g_string_append (out, "},");

  g_string_append (out, "\"gearSelectors\":{\"gearListCageSelect\":\"Example Cage\","
                        "\"gearListFilterSelect\":[]},"
                        "\"gearListAndProjectRequirementsGenerated\":true,");
  g_string_append_printf (out, "\"projectHtml\":\"<h2>Project Requirements</h2><p>Night "
                               "Exterior - Sample Pictures Ltd.%s</p>\",",
                          side == RIGHT ? " (revised)" : "");

  g_string_append (out, "\"gearList\":\"<h2>Gear List: Night Exterior</h2><table "
                        "class=\\\"gear-table\\\"><tbody>");
  for (guint i = 0; i < GEAR_ROWS; i++)
    g_string_append_printf (out, "<tr><td>%ux Example Item %u</td><td>Rigging</td></tr>",
                            (side == LEFT && i == GEAR_ROWS / 2) ? 9 : i % 4 + 1, i);
  g_string_append (out, "</tbody></table>\",");

  g_string_append (out, "\"projectInfo\":{\"projectName\":\"Night Exterior\","
                        "\"productionCompany\":\"Sample Pictures Ltd.\","
                        "\"rentalHouse\":\"Sample Rental Co.\",");
  conflicts += write_people (out, side);
  g_string_append (out, ",\"prepDays\":[\"2025-03-03 to 2025-03-04\"],\"shootingDays\":["
                        "\"2025-03-05 to 2025-03-07\"],\"deliveryResolution\":\"UHD\","
                        "\"codec\":\"ProRes 4444 XQ\",\"lenses\":[");
  for (guint i = 0; i < N_LENSES; i++)
    g_string_append_printf (out, "%s\"Example Prime %umm\"", i ? "," : "", 14 + i * 5);
  if (side != ANCESTOR)
    g_string_append_printf (out, ",\"Example Zoom (%s)\"", side_names[side]);
  conflicts++;
  g_string_append (out, "]},");

  write_feedback (out, side);
  g_string_append_c (out, ',');
  conflicts += write_rules (out, side);
  g_string_append_c (out, ',');
  conflicts += write_contacts (out, side);
  g_string_append (out, ",\"metadata\":{\"type\":\"camera-power-planner/project-bundle\","
                        "\"version\":\"1.0.53\",\"generator\":\"Camera Power Planner\"}}");
  return conflicts;
}

static CpsJsonDocument *
generate (Side side, gsize *size, guint *conflicts)
{
  g_autoptr (GString) text = g_string_sized_new (1200 * 1000);
  g_autoptr (GError) error = NULL;
  CpsJsonDocument *doc;

  *conflicts = write_document (text, side);
  *size = text->len;
  doc = cps_json_document_parse_copy (text->str, text->len, NULL, &error);
  if (doc == NULL)
    fail ("the generated document does not parse", error->message);
  return doc;
}

static guint
count_items (const CpsJsonNode *root, const char *key)
{
  const CpsJsonNode *array = cps_json_object_get (root, key);

  return array != NULL && array->type == CPS_JSON_ARRAY ? array->n : 0;
}

/* What the result must hold, from the generator's rules. */
static void
check_result (CpsJsonDocument *result)
{
  const CpsJsonNode *root = cps_json_document_get_root (result);
  guint contacts = 0, rules = 0, feedback = 0;
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;

  for (guint i = 0; i < N_CONTACTS; i++)
    {
      gboolean l_del = i % 101 == 5, r_del = i % 89 == 7, l_edit = i % 13 == 0;

      /* Left's removals stand (resolving left), right's where left did not
       * edit the contact. */
      if (l_del || (r_del && !l_edit))
        continue;
      contacts++;
    }
  contacts += 20 + 25;
  for (guint i = 0; i < N_RULES; i++)
    rules += i % 97 != 3;
  rules += 5;
  for (guint i = 0; i < N_FEEDBACK; i++)
    feedback += i % 50 != 1;
  feedback += 5 + 7;

  if (count_items (root, "contacts") != contacts)
    fail ("wrong result", "the merged contacts are not the expected ones");
  if (count_items (root, "autoGearRules") != rules)
    fail ("wrong result", "the merged auto-gear rules are not the expected ones");
  if (count_items (root, "feedback") != feedback)
    fail ("wrong result", "the merged feedback reports are not the expected ones");
  if (g_strcmp0 (cps_json_object_get_string (root, "monitor"), "Example 5in Monitor") != 0 ||
      g_strcmp0 (cps_json_object_get_string (root, "battery"), "Example 98Wh V-Mount") != 0 ||
      g_strcmp0 (cps_json_object_get_string (root, "camera"), "Example Cinema Camera X2") != 0)
    fail ("wrong result", "the merged device selections are not the expected ones");
  canonical = cps_jcs_to_string (root, NULL, &error);
  if (canonical == NULL)
    fail ("the result cannot be canonicalised", error->message);
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  g_autoptr (GArray) sorted = g_array_copy (values);

  g_array_sort (sorted, compare_doubles);
  return g_array_index (sorted, double, sorted->len / 2);
}

static double
best (GArray *values)
{
  double min = G_MAXDOUBLE;

  for (guint i = 0; i < values->len; i++)
    min = MIN (min, g_array_index (values, double, i));
  return min;
}

int
main (int argc, char **argv)
{
  int runs = 20;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Timed runs of each (default 20)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Also print the figures as JSON", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- time the three-way merge");
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) ancestor = NULL;
  g_autoptr (CpsJsonDocument) left = NULL;
  g_autoptr (CpsJsonDocument) right = NULL;
  g_autoptr (GArray) merge_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) new_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) build_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) jcs_ms = g_array_new (FALSE, FALSE, sizeof (double));
  gsize sizes[3];
  guint expected_conflicts = 0, n_conflicts = 0, ignored;
  double best_merge, best_jcs;
  const char *verdict;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    fail ("bad arguments", error->message);
  if (runs < 1)
    fail ("bad arguments", "--runs must be at least 1");

  ancestor = generate (ANCESTOR, &sizes[0], &ignored);
  left = generate (LEFT, &sizes[1], &expected_conflicts);
  right = generate (RIGHT, &sizes[2], &ignored);

  /* One untimed round, which also checks the merge does what it should. */
  {
    const CpsMergeSide left_side = { "DIT cart", "14:02" };
    const CpsMergeSide right_side = { "Camera truck", "14:05" };
    g_autoptr (CpsMerge) merge = cps_merge_new (cps_json_document_get_root (ancestor),
                                                cps_json_document_get_root (left),
                                                cps_json_document_get_root (right), &left_side,
                                                &right_side);
    g_autoptr (CpsJsonDocument) result = NULL;

    n_conflicts = cps_merge_get_n_conflicts (merge);
    if (n_conflicts != expected_conflicts)
      {
        g_autofree char *detail = g_strdup_printf ("%u conflicts, expected %u", n_conflicts,
                                                   expected_conflicts);
        fail ("wrong conflicts", detail);
      }
    for (guint i = 0; i < n_conflicts; i++)
      if (cps_merge_conflict_get_summary (merge, i) == NULL)
        fail ("wrong conflicts", "a conflict has no summary");
    cps_merge_resolve_all (merge, CPS_MERGE_CHOICE_LEFT);
    result = cps_merge_build_result (merge, &error);
    if (result == NULL)
      fail ("no result", error->message);
    check_result (result);
  }

  /* Interleaved, so that both see the same machine state. */
  for (int run = 0; run < runs; run++)
    {
      gint64 t0, t1, t2, t3;
      double ms;

      {
        g_autoptr (CpsMerge) merge = NULL;
        g_autoptr (CpsJsonDocument) result = NULL;

        t0 = g_get_monotonic_time ();
        merge = cps_merge_new (cps_json_document_get_root (ancestor),
                               cps_json_document_get_root (left),
                               cps_json_document_get_root (right), NULL, NULL);
        t1 = g_get_monotonic_time ();
        cps_merge_resolve_all (merge, CPS_MERGE_CHOICE_LEFT);
        result = cps_merge_build_result (merge, NULL);
        t2 = g_get_monotonic_time ();
        if (result == NULL)
          fail ("no result", "the timed merge gave none");
      }
      ms = (t2 - t0) / 1000.0;
      g_array_append_val (merge_ms, ms);
      ms = (t1 - t0) / 1000.0;
      g_array_append_val (new_ms, ms);
      ms = (t2 - t1) / 1000.0;
      g_array_append_val (build_ms, ms);

      {
        g_autofree char *a = NULL;
        g_autofree char *b = NULL;

        t2 = g_get_monotonic_time ();
        a = cps_jcs_to_string (cps_json_document_get_root (left), NULL, NULL);
        b = cps_jcs_to_string (cps_json_document_get_root (right), NULL, NULL);
        t3 = g_get_monotonic_time ();
        if (a == NULL || b == NULL)
          fail ("baseline", "a side cannot be canonicalised");
      }
      ms = (t3 - t2) / 1000.0;
      g_array_append_val (jcs_ms, ms);
    }

  best_merge = best (merge_ms);
  best_jcs = best (jcs_ms);
  verdict = best_merge <= TARGET_MS ? "PASS" : "FAIL";

  printf ("three-way merge benchmark\n");
  printf ("  documents  ancestor %.2f MB, left %.2f MB, right %.2f MB (generated, untimed)\n",
          sizes[0] / 1e6, sizes[1] / 1e6, sizes[2] / 1e6);
  printf ("             %u contacts, a crew of %u, %u auto-gear rules, %u feedback reports\n",
          N_CONTACTS, N_PEOPLE, N_RULES, N_FEEDBACK);
  printf ("  conflicts  %u (as the generator expects), resolved with resolve_all (left);\n"
          "             the result checked once, untimed\n",
          n_conflicts);
  printf ("  method     best of %d interleaved runs each\n", runs);
  printf ("\n");
  printf ("                                          best       median\n");
  printf ("  merge: new + resolve_all + build   %8.3f ms  %8.3f ms\n", best_merge,
          median (merge_ms));
  printf ("    cps_merge_new                    %8.3f ms  %8.3f ms\n", best (new_ms),
          median (new_ms));
  printf ("    resolve_all + build_result       %8.3f ms  %8.3f ms\n", best (build_ms),
          median (build_ms));
  printf ("  baseline: cps_jcs_to_string of\n"
          "    left and right                   %8.3f ms  %8.3f ms\n",
          best_jcs, median (jcs_ms));
  printf ("\n");
  printf ("  merge                %8.3f ms    target <= %.0f ms   %s\n", best_merge, TARGET_MS,
          verdict);
  printf ("  merge / baseline     %8.2f\n", best_merge / best_jcs);

  if (json)
    printf ("{\"merge_ms\":%.3f,\"merge_median_ms\":%.3f,\"new_ms\":%.3f,\"build_ms\":%.3f,"
            "\"baseline_jcs_ms\":%.3f,\"ratio\":%.3f,\"target_ms\":%.1f,\"conflicts\":%u,"
            "\"sizes\":[%" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT "],"
            "\"verdict\":\"%s\"}\n",
            best_merge, median (merge_ms), best (new_ms), best (build_ms), best_jcs,
            best_merge / best_jcs, TARGET_MS, n_conflicts, sizes[0], sizes[1], sizes[2],
            verdict);
  return 0;
}
