/* cps-field-labels.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A label is composed from a path's segments: each member name is looked up
 * by its pattern (the member names from the root, “[]” standing for any array
 * item: `projectInfo.people[].phone`), each array item is shown by its name,
 * and the pieces are joined: “Crew › Alex Example › Phone”.
 */

#define G_LOG_DOMAIN "cps-field-labels"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "cps-field-labels.h"

typedef struct
{
  const char *pattern;
  const char *label;
  gboolean group; /* shown only when nothing more specific follows */
} FieldLabel;

/* The fields of a project bundle (PLANNER-FORMATS.md), as the planner's own
 * interface names them. */
static const FieldLabel field_labels[] = {
  { "setupName", N_("Setup name"), FALSE },
  { "camera", N_("Camera"), FALSE },
  { "monitor", N_("Monitor"), FALSE },
  { "video", N_("Wireless video"), FALSE },
  { "cage", N_("Cage"), FALSE },
  { "motors", N_("Lens motors"), FALSE },
  { "controllers", N_("Controllers"), FALSE },
  { "distance", N_("Distance sensor"), FALSE },
  { "batteryPlate", N_("Battery plate"), FALSE },
  { "battery", N_("Battery"), FALSE },
  { "batteryHotswap", N_("Hot-swap battery"), FALSE },
  { "powerSelection", N_("Power selection"), FALSE },
  { "diagramPositions", N_("Diagram layout"), FALSE },
  { "gearSelectors", N_("Gear list selections"), FALSE },
  { "gearListAndProjectRequirementsGenerated", N_("Gear list generated"), FALSE },
  { "projectHtml", N_("Project requirements"), FALSE },
  { "gearList", N_("Gear list"), FALSE },
  { "ownedGearMarkers", N_("Owned gear markers"), FALSE },
  { "changedDevices", N_("Changed devices"), FALSE },
  { "feedback", N_("Runtime feedback"), FALSE },
  { "autoGearRules", N_("Auto-gear rules"), FALSE },
  { "autoGearRules[].label", N_("Name"), FALSE },
  { "autoGearRules[].enabled", N_("Enabled"), FALSE },
  { "autoGearRules[].always", N_("Always active"), FALSE },
  { "autoGearRules[].scenarios", N_("Scenarios"), FALSE },
  { "autoGearRules[].add", N_("Items to add"), FALSE },
  { "autoGearRules[].remove", N_("Items to remove"), FALSE },
  { "autoGearCoverage", N_("Auto-gear coverage"), FALSE },
  { "contacts", N_("Contacts"), FALSE },
  { "contacts[].name", N_("Name"), FALSE },
  { "contacts[].role", N_("Role"), FALSE },
  { "contacts[].phone", N_("Phone"), FALSE },
  { "contacts[].email", N_("Email"), FALSE },
  { "contacts[].website", N_("Website"), FALSE },
  { "contacts[].notes", N_("Notes"), FALSE },
  { "metadata", N_("Export details"), FALSE },
  { "projectInfo", N_("Project information"), TRUE },
  { "projectInfo.projectName", N_("Project name"), FALSE },
  { "projectInfo.productionCompany", N_("Production company"), FALSE },
  { "projectInfo.productionCompanyAddress", N_("Production company address"), FALSE },
  { "projectInfo.productionCompanyStreet", N_("Production company street"), FALSE },
  { "projectInfo.productionCompanyCity", N_("Production company city"), FALSE },
  { "projectInfo.productionCompanyPostalCode", N_("Production company postal code"), FALSE },
  { "projectInfo.productionCompanyCountry", N_("Production company country"), FALSE },
  { "projectInfo.rentalHouse", N_("Rental house"), FALSE },
  { "projectInfo.people", N_("Crew"), FALSE },
  { "projectInfo.people[].name", N_("Name"), FALSE },
  { "projectInfo.people[].role", N_("Role"), FALSE },
  { "projectInfo.people[].phone", N_("Phone"), FALSE },
  { "projectInfo.people[].email", N_("Email"), FALSE },
  { "projectInfo.people[].website", N_("Website"), FALSE },
  { "projectInfo.prepDays", N_("Prep days"), FALSE },
  { "projectInfo.shootingDays", N_("Shooting days"), FALSE },
  { "projectInfo.deliveryResolution", N_("Delivery resolution"), FALSE },
  { "projectInfo.recordingResolution", N_("Recording resolution"), FALSE },
  { "projectInfo.aspectRatio", N_("Aspect ratio"), FALSE },
  { "projectInfo.codec", N_("Codec"), FALSE },
  { "projectInfo.baseFrameRate", N_("Frame rate"), FALSE },
  { "projectInfo.sensorMode", N_("Sensor mode"), FALSE },
  { "projectInfo.lenses", N_("Lenses"), FALSE },
  { "projectInfo.lensSelections", N_("Lens selections"), FALSE },
  { "projectInfo.requiredScenarios", N_("Scenarios"), FALSE },
  { "projectInfo.mattebox", N_("Matte box"), FALSE },
  { "projectInfo.cameraHandle", N_("Camera handle"), FALSE },
  { "projectInfo.viewfinderExtension", N_("Viewfinder extension"), FALSE },
  { "projectInfo.videoDistribution", N_("Video distribution"), FALSE },
  { "projectInfo.monitoringConfiguration", N_("Monitoring configuration"), FALSE },
  { "projectInfo.tripodHeadBrand", N_("Tripod head"), FALSE },
  { "projectInfo.tripodBowl", N_("Tripod bowl"), FALSE },
  { "projectInfo.tripodTypes", N_("Tripod types"), FALSE },
  { "projectInfo.tripodSpreader", N_("Tripod spreader"), FALSE },
  { "projectInfo.filter", N_("Filters"), FALSE },
  { "projectInfo.userButtons", N_("User buttons"), FALSE },
};

/* Members of these objects are named after the device slots above. */
static const char *const slot_containers[] = { "powerSelection", "diagramPositions" };

typedef struct
{
  char *text;
  gboolean group;
} Piece;

struct _CpsFieldLabel
{
  GString *pattern;
  GArray *pieces; /* Piece */
  gboolean in_slot_container;
};

static const FieldLabel *
find_label (const char *pattern)
{
  for (gsize i = 0; i < G_N_ELEMENTS (field_labels); i++)
    if (strcmp (field_labels[i].pattern, pattern) == 0)
      return &field_labels[i];
  return NULL;
}

static void
clear_piece (gpointer data)
{
  Piece *piece = data;

  g_free (piece->text);
}

/**
 * cps_field_label_lookup:
 * @pattern: member names from the root joined by dots, `[]` standing for an
 *   array item, as `projectInfo.people[].phone`
 *
 * Returns: (nullable): the translated label of the field, or %NULL when the
 *   table has none
 */
const char *
cps_field_label_lookup (const char *pattern)
{
  const FieldLabel *found;

  g_return_val_if_fail (pattern != NULL, NULL);

  found = find_label (pattern);
  return found != NULL ? _(found->label) : NULL;
}

/**
 * cps_field_label_new:
 *
 * Starts composing the label of a path at the document's root; push its
 * segments in order.
 *
 * Returns: (transfer full): a new label builder
 */
CpsFieldLabel *
cps_field_label_new (void)
{
  CpsFieldLabel *label = g_new0 (CpsFieldLabel, 1);

  label->pattern = g_string_new (NULL);
  label->pieces = g_array_new (FALSE, FALSE, sizeof (Piece));
  g_array_set_clear_func (label->pieces, clear_piece);
  return label;
}

void
cps_field_label_free (CpsFieldLabel *label)
{
  if (label == NULL)
    return;
  g_string_free (label->pattern, TRUE);
  g_array_unref (label->pieces);
  g_free (label);
}

/**
 * cps_field_label_push_key:
 *
 * Adds an object member to the path.
 */
void
cps_field_label_push_key (CpsFieldLabel *label, const char *key, gsize key_len)
{
  g_autofree char *name = g_utf8_make_valid (key, key_len);
  const FieldLabel *found;
  Piece piece = { 0 };
  gboolean was_slot_container = label->in_slot_container;

  if (label->pattern->len > 0)
    g_string_append_c (label->pattern, '.');
  g_string_append_len (label->pattern, key, key_len);

  found = find_label (label->pattern->str);
  if (found == NULL && was_slot_container)
    found = find_label (name);
  if (found != NULL)
    {
      piece.text = g_strdup (_(found->label));
      piece.group = found->group;
    }
  else
    piece.text = g_steal_pointer (&name);
  g_array_append_val (label->pieces, piece);

  label->in_slot_container = FALSE;
  if (label->pieces->len == 1)
    for (gsize i = 0; i < G_N_ELEMENTS (slot_containers); i++)
      if (strcmp (label->pattern->str, slot_containers[i]) == 0)
        label->in_slot_container = TRUE;
}

/**
 * cps_field_label_push_item:
 * @display_name: how the item is shown: its name, or its key's value
 *
 * Adds an array item to the path.
 */
void
cps_field_label_push_item (CpsFieldLabel *label, const char *display_name)
{
  Piece piece = { 0 };

  g_string_append (label->pattern, "[]");
  piece.text = g_strdup (display_name);
  g_array_append_val (label->pieces, piece);
  label->in_slot_container = FALSE;
}

/**
 * cps_field_label_get_pattern:
 *
 * Returns: the pattern of the path pushed so far, as `projectInfo.people[]`
 */
const char *
cps_field_label_get_pattern (CpsFieldLabel *label)
{
  return label->pattern->str;
}

/**
 * cps_field_label_to_string:
 *
 * Returns: (transfer full): the translated label, as “Crew › Alex › Phone”;
 *   “The whole project” for the root
 */
char *
cps_field_label_to_string (CpsFieldLabel *label)
{
  GString *out = g_string_new (NULL);

  if (label->pieces->len == 0)
    {
      g_string_append (out, _("The whole project"));
      return g_string_free (out, FALSE);
    }

  for (guint i = 0; i < label->pieces->len; i++)
    {
      const Piece *piece = &g_array_index (label->pieces, Piece, i);

      if (piece->group && i + 1 < label->pieces->len)
        continue;
      if (out->len > 0)
        /* Translators: joins the parts of a field's name, as in “Crew › Alex › Phone” */
        g_string_append (out, C_ ("field path", " › "));
      g_string_append (out, piece->text);
    }
  return g_string_free (out, FALSE);
}
