/* cps-project-item.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One row of the console's project table: a project found in a planner file,
 * or a planner file itself when it holds no project (rules, logs, a damaged
 * or unreadable file), so that its problems stay visible.
 */

#define G_LOG_DOMAIN "cps-project-item"

#include "config.h"

#include <glib/gi18n.h>

#include "cps-project-item.h"

struct _CpsProjectItem
{
  GObject parent_instance;

  /* Owned */
  GFile *location;
  CpsPlannerFile *file;       /* NULL when the file could not be read */
  CpsPlannerProject *project; /* NULL for a row standing for the whole file */
  char *name;
  char *source_name;
  char *error_message;
  GPtrArray *own_findings; /* the read error, when there is one */
  GPtrArray *findings;     /* borrowed pointers: the project's, then the file's */
  guint n_file_findings;
};

G_DEFINE_FINAL_TYPE (CpsProjectItem, cps_project_item, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_NAME,
  PROP_SOURCE_NAME,
  PROP_KIND_LABEL,
  PROP_CHECKSUM,
  PROP_AUTO_BACKUP_COUNT,
  PROP_STATUS_RANK,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
findings_contain (GPtrArray *findings, guint n, const CpsFinding *finding)
{
  for (guint i = 0; i < n; i++)
    {
      const CpsFinding *other = g_ptr_array_index (findings, i);

      if (other == finding
          || (other->severity == finding->severity
              && g_strcmp0 (other->path, finding->path) == 0
              && g_strcmp0 (other->message, finding->message) == 0))
        return TRUE;
    }
  return FALSE;
}

/* A project row shows the project's own problems and those of the file
 * around it: a damaged backup makes every project in it suspect. */
static void
collect_findings (CpsProjectItem *self)
{
  GPtrArray *source;
  guint n_project = 0;

  if (self->project != NULL)
    {
      source = cps_planner_project_get_findings (self->project);
      for (guint i = 0; source != NULL && i < source->len; i++)
        g_ptr_array_add (self->findings, g_ptr_array_index (source, i));
      n_project = self->findings->len;
    }

  source = self->file != NULL ? cps_planner_file_get_findings (self->file) : self->own_findings;
  for (guint i = 0; source != NULL && i < source->len; i++)
    {
      CpsFinding *finding = g_ptr_array_index (source, i);

      if (findings_contain (self->findings, n_project, finding))
        continue;
      g_ptr_array_add (self->findings, finding);
      self->n_file_findings++;
    }
}

static guint
get_status_rank (CpsProjectItem *self)
{
  guint n_errors = cps_project_item_count (self, CPS_SEVERITY_ERROR);
  guint n_warnings = cps_project_item_count (self, CPS_SEVERITY_WARNING);

  if (n_errors > 0)
    return 2000000 + MIN (n_errors, 999999);
  if (n_warnings > 0)
    return 1000000 + MIN (n_warnings, 999999);
  return 0;
}

static void
cps_project_item_finalize (GObject *object)
{
  CpsProjectItem *self = CPS_PROJECT_ITEM (object);

  /* The borrowed findings point into the file and project: drop them first. */
  g_clear_pointer (&self->findings, g_ptr_array_unref);
  g_clear_pointer (&self->own_findings, g_ptr_array_unref);
  g_clear_object (&self->project);
  g_clear_object (&self->file);
  g_clear_object (&self->location);
  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->source_name, g_free);
  g_clear_pointer (&self->error_message, g_free);

  G_OBJECT_CLASS (cps_project_item_parent_class)->finalize (object);
}

static void
cps_project_item_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CpsProjectItem *self = CPS_PROJECT_ITEM (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_SOURCE_NAME:
      g_value_set_string (value, self->source_name);
      break;
    case PROP_KIND_LABEL:
      g_value_set_string (value, cps_project_item_get_kind_label (self));
      break;
    case PROP_CHECKSUM:
      g_value_set_string (value, cps_project_item_get_checksum (self));
      break;
    case PROP_AUTO_BACKUP_COUNT:
      g_value_set_uint (value, cps_project_item_get_auto_backup_count (self));
      break;
    case PROP_STATUS_RANK:
      g_value_set_uint (value, get_status_rank (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cps_project_item_class_init (CpsProjectItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = cps_project_item_finalize;
  object_class->get_property = cps_project_item_get_property;

  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SOURCE_NAME] = g_param_spec_string ("source-name", NULL, NULL, NULL,
                                                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_KIND_LABEL] = g_param_spec_string ("kind-label", NULL, NULL, NULL,
                                                     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CHECKSUM] = g_param_spec_string ("checksum", NULL, NULL, NULL,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_AUTO_BACKUP_COUNT] =
    g_param_spec_uint ("auto-backup-count", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * CpsProjectItem:status-rank:
   *
   * Orders rows by how bad they are: fine first, then warnings, then errors,
   * each by count. Only meant for sorting.
   */
  properties[PROP_STATUS_RANK] = g_param_spec_uint ("status-rank", NULL, NULL, 0, G_MAXUINT, 0,
                                                    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cps_project_item_init (CpsProjectItem *self)
{
  self->findings = g_ptr_array_new ();
}

/**
 * cps_project_item_new:
 * @location: where the file was opened from
 * @file: the loaded planner file
 * @project: (nullable): a project of @file, or %NULL for a row standing for
 *   the whole file
 *
 * Returns: (transfer full): a new row item
 */
CpsProjectItem *
cps_project_item_new (GFile *location, CpsPlannerFile *file, CpsPlannerProject *project)
{
  CpsProjectItem *self;
  const char *display_name;

  g_return_val_if_fail (G_IS_FILE (location), NULL);
  g_return_val_if_fail (CPS_IS_PLANNER_FILE (file), NULL);
  g_return_val_if_fail (project == NULL || CPS_IS_PLANNER_PROJECT (project), NULL);

  self = g_object_new (CPS_TYPE_PROJECT_ITEM, NULL);
  self->location = g_object_ref (location);
  self->file = g_object_ref (file);
  self->project = project ? g_object_ref (project) : NULL;

  display_name = cps_planner_file_get_display_name (file);
  if (display_name != NULL)
    self->source_name = g_strdup (display_name);
  else
    self->source_name = g_file_get_basename (location);

  if (project != NULL)
    self->name = g_strdup (cps_planner_project_get_name (project));
  else
    self->name = g_strdup (self->source_name);

  collect_findings (self);
  return self;
}

/**
 * cps_project_item_new_for_error:
 * @location: the file that could not be read
 * @error: why
 *
 * Returns: (transfer full): a row item for a file that could not be read
 */
CpsProjectItem *
cps_project_item_new_for_error (GFile *location, const GError *error)
{
  CpsProjectItem *self;
  g_autofree char *parse_name = NULL;

  g_return_val_if_fail (G_IS_FILE (location), NULL);
  g_return_val_if_fail (error != NULL, NULL);

  self = g_object_new (CPS_TYPE_PROJECT_ITEM, NULL);
  self->location = g_object_ref (location);
  self->source_name = g_file_get_basename (location);
  if (self->source_name == NULL || self->source_name[0] == '\0')
    {
      g_free (self->source_name);
      self->source_name = g_file_get_parse_name (location);
    }
  self->name = g_strdup (self->source_name);
  self->error_message = g_strdup (error->message);

  self->own_findings = cps_findings_new ();
  cps_findings_add (self->own_findings, CPS_SEVERITY_ERROR, NULL, "%s", error->message);

  collect_findings (self);
  return self;
}

/**
 * cps_project_item_get_location:
 *
 * Returns: (transfer none): where the file was opened from
 */
GFile *
cps_project_item_get_location (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);
  return self->location;
}

/**
 * cps_project_item_get_file:
 *
 * Returns: (transfer none) (nullable): the planner file, or %NULL when it
 *   could not be read
 */
CpsPlannerFile *
cps_project_item_get_file (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);
  return self->file;
}

/**
 * cps_project_item_get_project:
 *
 * Returns: (transfer none) (nullable): the project, or %NULL for a row that
 *   stands for a whole file
 */
CpsPlannerProject *
cps_project_item_get_project (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);
  return self->project;
}

const char *
cps_project_item_get_name (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);
  return self->name;
}

const char *
cps_project_item_get_source_name (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);
  return self->source_name;
}

/**
 * cps_project_item_get_kind_label:
 *
 * Returns: the translated kind of the file, or an empty string when the
 *   file could not be read
 */
const char *
cps_project_item_get_kind_label (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);
  if (self->file == NULL)
    return "";
  return cps_planner_kind_to_label (cps_planner_file_get_kind (self->file));
}

/**
 * cps_project_item_get_checksum:
 *
 * Returns: (nullable): the project's content checksum, %NULL for a file row
 *   or a project without a canonical form
 */
const char *
cps_project_item_get_checksum (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);
  if (self->project == NULL)
    return NULL;
  return cps_planner_project_get_content_checksum (self->project);
}

guint
cps_project_item_get_auto_backup_count (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), 0);
  if (self->project == NULL)
    return 0;
  return cps_planner_project_get_auto_backup_count (self->project);
}

/**
 * cps_project_item_get_findings:
 *
 * The project's own findings come first, then those of the whole file
 * (see cps_project_item_get_n_file_findings()).
 *
 * Returns: (transfer none) (element-type CpsFinding): every problem that
 *   concerns this row
 */
GPtrArray *
cps_project_item_get_findings (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);
  return self->findings;
}

/**
 * cps_project_item_get_n_file_findings:
 *
 * Returns: how many of the findings, at the end of the list, are about the
 *   whole file rather than the project
 */
guint
cps_project_item_get_n_file_findings (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), 0);
  return self->n_file_findings;
}

/**
 * cps_project_item_get_error_message:
 *
 * Returns: (nullable): why the file could not be read at all, or %NULL
 */
const char *
cps_project_item_get_error_message (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);
  return self->error_message;
}

gboolean
cps_project_item_is_readable (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), FALSE);
  return self->file != NULL;
}

guint
cps_project_item_count (CpsProjectItem *self, CpsSeverity severity)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), 0);
  return cps_findings_count (self->findings, severity);
}

/**
 * cps_project_item_get_status:
 *
 * Returns: %CPS_SEVERITY_ERROR or %CPS_SEVERITY_WARNING when there are such
 *   findings, otherwise %CPS_SEVERITY_INFO, which means fine
 */
CpsSeverity
cps_project_item_get_status (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), CPS_SEVERITY_ERROR);
  if (cps_project_item_count (self, CPS_SEVERITY_ERROR) > 0)
    return CPS_SEVERITY_ERROR;
  if (cps_project_item_count (self, CPS_SEVERITY_WARNING) > 0)
    return CPS_SEVERITY_WARNING;
  return CPS_SEVERITY_INFO;
}

/**
 * cps_project_item_dup_status_label:
 *
 * Returns: (transfer full): a short status for the table: “OK”,
 *   “2 warnings”, “1 error” or “Unreadable”
 */
char *
cps_project_item_dup_status_label (CpsProjectItem *self)
{
  guint n;

  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);

  if (self->file == NULL)
    return g_strdup (_("Unreadable"));
  n = cps_project_item_count (self, CPS_SEVERITY_ERROR);
  if (n > 0)
    return g_strdup_printf (ngettext ("%u error", "%u errors", n), n);
  n = cps_project_item_count (self, CPS_SEVERITY_WARNING);
  if (n > 0)
    return g_strdup_printf (ngettext ("%u warning", "%u warnings", n), n);
  /* Translators: the status of a project without problems */
  return g_strdup (C_("status", "OK"));
}

/**
 * cps_project_item_dup_status_description:
 *
 * Returns: (transfer full): a sentence with every count, for tooltips and
 *   screen readers
 */
char *
cps_project_item_dup_status_description (CpsProjectItem *self)
{
  guint n_errors, n_warnings, n_notes;
  g_autoptr (GPtrArray) parts = NULL;

  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);

  if (self->file == NULL)
    return g_strdup (_("The file could not be read"));

  n_errors = cps_project_item_count (self, CPS_SEVERITY_ERROR);
  n_warnings = cps_project_item_count (self, CPS_SEVERITY_WARNING);
  n_notes = cps_project_item_count (self, CPS_SEVERITY_INFO);
  if (n_errors == 0 && n_warnings == 0 && n_notes == 0)
    return g_strdup (_("No problems found"));

  parts = g_ptr_array_new_with_free_func (g_free);
  if (n_errors > 0)
    g_ptr_array_add (parts, g_strdup_printf (ngettext ("%u error", "%u errors", n_errors),
                                             n_errors));
  if (n_warnings > 0)
    g_ptr_array_add (parts, g_strdup_printf (ngettext ("%u warning", "%u warnings", n_warnings),
                                             n_warnings));
  if (n_notes > 0)
    g_ptr_array_add (parts, g_strdup_printf (ngettext ("%u note", "%u notes", n_notes),
                                             n_notes));
  g_ptr_array_add (parts, NULL);
  /* Translators: the separator between counts, as in “1 error, 2 notes” */
  return g_strjoinv (_(", "), (char **) parts->pdata);
}

const char *
cps_project_item_get_status_icon_name (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);

  switch (cps_project_item_get_status (self))
    {
    case CPS_SEVERITY_ERROR:
      return "dialog-error-symbolic";
    case CPS_SEVERITY_WARNING:
      return "dialog-warning-symbolic";
    case CPS_SEVERITY_INFO:
    default:
      return "emblem-ok-symbolic";
    }
}

/**
 * cps_project_item_get_status_style_class:
 *
 * Returns: the libadwaita style class that colours the status: “error”,
 *   “warning” or “success”
 */
const char *
cps_project_item_get_status_style_class (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);

  switch (cps_project_item_get_status (self))
    {
    case CPS_SEVERITY_ERROR:
      return "error";
    case CPS_SEVERITY_WARNING:
      return "warning";
    case CPS_SEVERITY_INFO:
    default:
      return "success";
    }
}

/**
 * cps_project_item_get_root:
 *
 * Returns: (transfer none) (nullable): the project document's root, or the
 *   whole file's for a file row; %NULL when there is no JSON to show
 */
const CpsJsonNode *
cps_project_item_get_root (CpsProjectItem *self)
{
  CpsJsonDocument *document;

  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);

  if (self->project != NULL)
    return cps_planner_project_get_root (self->project);
  if (self->file == NULL)
    return NULL;
  document = cps_planner_file_get_document (self->file);
  return document != NULL ? cps_json_document_get_root (document) : NULL;
}
