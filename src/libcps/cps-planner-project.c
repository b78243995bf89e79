/* cps-planner-project.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cps-planner-project"

#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>

#include "cps-jcs.h"
#include "cps-planner-project.h"

struct _CpsPlannerProject
{
  GObject parent_instance;

  char *name;
  char *source_name;
  CpsJsonDocument *document;
  char *content_checksum;
  GListStore *auto_backups;
  GPtrArray *findings;
  GDateTime *backup_time;
};

G_DEFINE_FINAL_TYPE (CpsPlannerProject, cps_planner_project, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_NAME,
  PROP_CONTENT_CHECKSUM,
  PROP_AUTO_BACKUP_COUNT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
append_value (GString *out, const CpsJsonNode *node)
{
  switch (cps_json_node_get_type (node))
    {
    case CPS_JSON_STRING:
      g_string_append (out, node->v.string);
      break;
    case CPS_JSON_NUMBER:
      {
        char buf[32];
        /* Out-of-range numbers have a finding already; show nothing. */
        if (isfinite (node->v.number) && cps_jcs_format_number (node->v.number, buf) > 0)
          g_string_append (out, buf);
      }
      break;
    case CPS_JSON_BOOLEAN:
      g_string_append (out, node->v.boolean ? _("yes") : _("no"));
      break;
    case CPS_JSON_ARRAY:
      for (guint i = 0; i < node->n; i++)
        {
          gsize before = out->len;
          if (i > 0)
            g_string_append (out, ", ");
          append_value (out, &node->v.items[i]);
          if (out->len == before + (i > 0 ? 2 : 0))
            g_string_truncate (out, before);
        }
      break;
    case CPS_JSON_OBJECT:
      {
        /* Named things, such as lens selections, show their name. */
        const char *name = cps_json_object_get_string (node, "name");
        if (name == NULL)
          name = cps_json_object_get_string (node, "label");
        if (name != NULL)
          g_string_append (out, name);
      }
      break;
    case CPS_JSON_NULL:
    default:
      break;
    }
}

static void
add_item (GPtrArray *items, const char *section, const char *label, const CpsJsonNode *node)
{
  g_autoptr (GString) value = g_string_new (NULL);
  CpsSummaryItem *item;

  if (node == NULL)
    return;
  append_value (value, node);
  g_strstrip (value->str);
  if (value->str[0] == '\0')
    return;

  item = g_new0 (CpsSummaryItem, 1);
  item->section = section;
  item->label = label;
  item->value = g_strdup (value->str);
  g_ptr_array_add (items, item);
}

static void
cps_planner_project_finalize (GObject *object)
{
  CpsPlannerProject *self = CPS_PLANNER_PROJECT (object);

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->source_name, g_free);
  g_clear_pointer (&self->document, cps_json_document_unref);
  g_clear_pointer (&self->content_checksum, g_free);
  g_clear_object (&self->auto_backups);
  g_clear_pointer (&self->findings, g_ptr_array_unref);
  g_clear_pointer (&self->backup_time, g_date_time_unref);

  G_OBJECT_CLASS (cps_planner_project_parent_class)->finalize (object);
}

static void
cps_planner_project_get_property (GObject *object, guint prop_id, GValue *value,
                                  GParamSpec *pspec)
{
  CpsPlannerProject *self = CPS_PLANNER_PROJECT (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_CONTENT_CHECKSUM:
      g_value_set_string (value, self->content_checksum);
      break;
    case PROP_AUTO_BACKUP_COUNT:
      g_value_set_uint (value, cps_planner_project_get_auto_backup_count (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cps_planner_project_class_init (CpsPlannerProjectClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = cps_planner_project_finalize;
  object_class->get_property = cps_planner_project_get_property;

  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CONTENT_CHECKSUM] =
    g_param_spec_string ("content-checksum", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_AUTO_BACKUP_COUNT] =
    g_param_spec_uint ("auto-backup-count", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cps_planner_project_init (CpsPlannerProject *self)
{
  self->auto_backups = g_list_store_new (CPS_TYPE_PLANNER_PROJECT);
  self->findings = cps_findings_new ();
}

/**
 * cps_planner_project_new:
 * @name: the project name
 * @document: the project document, in the planner's bundle shape
 * @source_name: the display name of the file it came from
 *
 * Computes the content checksum at once; a document without a canonical
 * form gets an error finding instead.
 *
 * Returns: (transfer full): a new project
 */
CpsPlannerProject *
cps_planner_project_new (const char *name, CpsJsonDocument *document, const char *source_name)
{
  CpsPlannerProject *self = g_object_new (CPS_TYPE_PLANNER_PROJECT, NULL);
  g_autoptr (GError) error = NULL;

  self->name = g_strdup (name);
  self->source_name = g_strdup (source_name);
  self->document = cps_json_document_ref (document);
  self->content_checksum = cps_checksum_content (cps_json_document_get_root (document), &error);
  if (self->content_checksum == NULL)
    cps_findings_add (self->findings, CPS_SEVERITY_ERROR, NULL,
                      _("The project has no content checksum: %s"), error->message);
  return self;
}

const char *
cps_planner_project_get_name (CpsPlannerProject *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_PROJECT (self), NULL);
  return self->name;
}

const char *
cps_planner_project_get_source_name (CpsPlannerProject *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_PROJECT (self), NULL);
  return self->source_name;
}

/**
 * cps_planner_project_get_document:
 *
 * Returns: (transfer none): the document holding the project
 */
CpsJsonDocument *
cps_planner_project_get_document (CpsPlannerProject *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_PROJECT (self), NULL);
  return self->document;
}

/**
 * cps_planner_project_get_root:
 *
 * Returns: (transfer none): the project document's root object
 */
const CpsJsonNode *
cps_planner_project_get_root (CpsPlannerProject *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_PROJECT (self), NULL);
  return cps_json_document_get_root (self->document);
}

/**
 * cps_planner_project_get_content_checksum:
 *
 * Returns: (nullable): the content checksum, or %NULL when the document has
 *   no canonical form (see the project's findings)
 */
const char *
cps_planner_project_get_content_checksum (CpsPlannerProject *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_PROJECT (self), NULL);
  return self->content_checksum;
}

/**
 * cps_planner_project_get_auto_backups:
 *
 * Returns: (transfer none): the planner's automatic safety copies of this
 *   project, oldest first
 */
GListModel *
cps_planner_project_get_auto_backups (CpsPlannerProject *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_PROJECT (self), NULL);
  return G_LIST_MODEL (self->auto_backups);
}

guint
cps_planner_project_get_auto_backup_count (CpsPlannerProject *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_PROJECT (self), 0);
  return g_list_model_get_n_items (G_LIST_MODEL (self->auto_backups));
}

/**
 * cps_planner_project_get_findings:
 *
 * Returns: (transfer none) (element-type CpsFinding): problems in this project
 */
GPtrArray *
cps_planner_project_get_findings (CpsPlannerProject *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_PROJECT (self), NULL);
  return self->findings;
}

CpsSeverity
cps_planner_project_get_status (CpsPlannerProject *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_PROJECT (self), CPS_SEVERITY_ERROR);
  return cps_findings_worst (self->findings);
}

/**
 * cps_planner_project_get_backup_time:
 *
 * Returns: (transfer none) (nullable): when an auto-backup was taken, as its
 *   name says (planner local time), or %NULL for a project
 */
GDateTime *
cps_planner_project_get_backup_time (CpsPlannerProject *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_PROJECT (self), NULL);
  return self->backup_time;
}

gboolean
cps_planner_project_is_auto_backup (CpsPlannerProject *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_PROJECT (self), FALSE);
  return g_str_has_prefix (self->name, "auto-backup-");
}

void
cps_planner_project_add_finding (CpsPlannerProject *self, CpsSeverity severity,
                                 const char *path, const char *message)
{
  g_return_if_fail (CPS_IS_PLANNER_PROJECT (self));
  g_ptr_array_add (self->findings, cps_finding_new (severity, path, message));
}

void
_cps_planner_project_add_auto_backup (CpsPlannerProject *self, CpsPlannerProject *backup)
{
  g_list_store_append (self->auto_backups, backup);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AUTO_BACKUP_COUNT]);
}

void
_cps_planner_project_set_backup_time (CpsPlannerProject *self, GDateTime *time)
{
  g_clear_pointer (&self->backup_time, g_date_time_unref);
  self->backup_time = time ? g_date_time_ref (time) : NULL;
}

void
cps_summary_item_free (CpsSummaryItem *item)
{
  if (item == NULL)
    return;
  g_free (item->value);
  g_free (item);
}

/**
 * cps_planner_project_summarize:
 *
 * What a camera crew looks for first, in the planner's own terms: the
 * camera, monitor, battery and plate, wireless video, FIZ, project
 * information and crew. Empty fields are left out.
 *
 * Returns: (transfer full) (element-type CpsSummaryItem): the summary
 */
GPtrArray *
cps_planner_project_summarize (CpsPlannerProject *self)
{
  GPtrArray *items = g_ptr_array_new_with_free_func ((GDestroyNotify) cps_summary_item_free);
  const CpsJsonNode *root;
  const CpsJsonNode *info;
  const CpsJsonNode *power;
  const CpsJsonNode *people;
  const char *section;

  g_return_val_if_fail (CPS_IS_PLANNER_PROJECT (self), items);

  root = cps_json_document_get_root (self->document);
  info = cps_json_object_get (root, "projectInfo");
  power = cps_json_object_get (root, "powerSelection");

  section = _("Camera");
  add_item (items, section, _("Camera"), cps_json_object_get (root, "camera"));
  add_item (items, section, _("Cage"), cps_json_object_get (root, "cage"));
  add_item (items, section, _("Sensor mode"), cps_json_object_get (info, "sensorMode"));
  add_item (items, section, _("Recording resolution"),
            cps_json_object_get (info, "recordingResolution"));
  add_item (items, section, _("Codec"), cps_json_object_get (info, "codec"));
  add_item (items, section, _("Lenses"), cps_json_object_get (info, "lenses"));

  section = _("Monitor");
  add_item (items, section, _("Monitor"), cps_json_object_get (root, "monitor"));

  section = _("Battery and plate");
  add_item (items, section, _("Battery plate"),
            cps_json_object_get (root, "batteryPlate") ?: cps_json_object_get (power,
                                                                             "batteryPlate"));
  add_item (items, section, _("Battery"),
            cps_json_object_get (root, "battery") ?: cps_json_object_get (power, "battery"));
  add_item (items, section, _("Hot-swap"),
            cps_json_object_get (root, "batteryHotswap")
              ?: cps_json_object_get (power, "batteryHotswap"));

  section = _("Wireless video");
  add_item (items, section, _("Transmitter"), cps_json_object_get (root, "video"));

  section = _("FIZ");
  add_item (items, section, _("Lens motors"), cps_json_object_get (root, "motors"));
  add_item (items, section, _("Controllers"), cps_json_object_get (root, "controllers"));
  add_item (items, section, _("Distance sensor"), cps_json_object_get (root, "distance"));

  section = _("Project");
  add_item (items, section, _("Project name"), cps_json_object_get (info, "projectName"));
  add_item (items, section, _("Production company"),
            cps_json_object_get (info, "productionCompany"));
  add_item (items, section, _("Rental house"), cps_json_object_get (info, "rentalHouse"));
  add_item (items, section, _("Prep days"), cps_json_object_get (info, "prepDays"));
  add_item (items, section, _("Shooting days"), cps_json_object_get (info, "shootingDays"));
  add_item (items, section, _("Delivery resolution"),
            cps_json_object_get (info, "deliveryResolution"));
  add_item (items, section, _("Aspect ratio"), cps_json_object_get (info, "aspectRatio"));
  add_item (items, section, _("Frame rate"), cps_json_object_get (info, "baseFrameRate"));
  add_item (items, section, _("Scenarios"), cps_json_object_get (info, "requiredScenarios"));

  section = _("Crew");
  people = cps_json_object_get (info, "people");
  for (guint i = 0; cps_json_node_get_type (people) == CPS_JSON_ARRAY && i < people->n; i++)
    {
      const CpsJsonNode *person = &people->v.items[i];
      const char *name = cps_json_object_get_string (person, "name");
      const char *role = cps_json_object_get_string (person, "role");
      CpsSummaryItem *item;

      if (name == NULL || *name == '\0')
        continue;
      item = g_new0 (CpsSummaryItem, 1);
      item->section = section;
      item->label = _("Crew member");
      /* Translators: a crew member's name and role, e.g. “Alex Example (DoP)” */
      item->value = (role != NULL && *role != '\0') ? g_strdup_printf (_("%s (%s)"), name, role)
                                                   : g_strdup (name);
      g_ptr_array_add (items, item);
    }

  return items;
}

/**
 * cps_planner_project_to_bundle:
 * @length: (out) (optional): the length of the result
 *
 * Writes the project as the planner writes a project bundle
 * (`JSON.stringify (x, null, 2)`, no trailing newline), which the planner
 * can import.
 *
 * Returns: (transfer full) (nullable): the bundle text
 */
char *
cps_planner_project_to_bundle (CpsPlannerProject *self, gsize *length, GError **error)
{
  g_return_val_if_fail (CPS_IS_PLANNER_PROJECT (self), NULL);
  return cps_json_to_string (cps_json_document_get_root (self->document), 2, length, error);
}
