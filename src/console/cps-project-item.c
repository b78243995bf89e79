/* cps-project-item.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One row of the console's project table: a project found in a planner file,
 * or a planner file itself when it holds no project (rules, logs, a damaged
 * or unreadable file), so that its problems stay visible; or a project of the
 * local store, shown as its display winner, or the store itself when it
 * cannot be opened.
 */

#define G_LOG_DOMAIN "cps-project-item"

#include "config.h"

#include <glib/gi18n.h>

#include "cps-project-item.h"

struct _CpsProjectItem
{
  GObject parent_instance;

  /* Owned */
  GFile *location;            /* the planner file, or the store file */
  CpsPlannerFile *file;       /* NULL when the file could not be read, and for the store */
  CpsPlannerProject *project; /* NULL for a row standing for the whole file */
  CpsStoreProject *store_project; /* for local projects */
  CpsRevision *revision;      /* a local project's display winner, when it has one */
  char *name;
  char *source_name;
  char *error_message;
  GError *store_error;     /* why the store could not be opened */
  GPtrArray *own_findings; /* the read error, or a local project's state */
  GPtrArray *findings;     /* borrowed pointers: the project's, then the file's */
  guint n_file_findings;
  gboolean local;          /* a row of the local store */
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
  PROP_REVISION_COUNT,
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

  /* A local project has no file around it: its state is its own. */
  if (self->local)
    {
      for (guint i = 0; self->own_findings != NULL && i < self->own_findings->len; i++)
        g_ptr_array_add (self->findings, g_ptr_array_index (self->own_findings, i));
      return;
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
  g_clear_object (&self->revision);
  g_clear_pointer (&self->store_project, cps_store_project_free);
  g_clear_error (&self->store_error);
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
    case PROP_REVISION_COUNT:
      g_value_set_uint (value, cps_project_item_get_revision_count (self));
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
  properties[PROP_REVISION_COUNT] =
    g_param_spec_uint ("revision-count", NULL, NULL, 0, G_MAXUINT, 0,
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

/* The display winner's document as a planner project, so that the summary,
 * the raw JSON and the diff read it the way they read a file's projects. */
static CpsPlannerProject *
wrap_revision (const char *name, CpsRevision *revision, GError **error)
{
  g_autoptr (CpsJsonDocument) document = NULL;
  g_autofree char *text = NULL;
  gsize length = 0;

  text = cps_json_to_string (cps_revision_get_document (revision), 0, &length, error);
  if (text == NULL)
    return NULL;
  document = cps_json_document_parse_copy (text, (gssize) length, NULL, error);
  if (document == NULL)
    return NULL;
  return cps_planner_project_new (name, document, _("Local store"));
}

/**
 * cps_project_item_new_for_store_project:
 * @store_path: the local store file
 * @project: a project of the store
 * @winner: (nullable): its display winner, %NULL when it has no revision
 *
 * Reads the winner's document, so call it where slow work may run (a worker
 * thread).
 *
 * Returns: (transfer full): a new row item for a local project
 */
CpsProjectItem *
cps_project_item_new_for_store_project (const char *store_path, const CpsStoreProject *project,
                                        CpsRevision *winner)
{
  CpsProjectItem *self;
  guint n_heads;

  g_return_val_if_fail (store_path != NULL, NULL);
  g_return_val_if_fail (project != NULL, NULL);
  g_return_val_if_fail (winner == NULL || CPS_IS_REVISION (winner), NULL);

  self = g_object_new (CPS_TYPE_PROJECT_ITEM, NULL);
  self->local = TRUE;
  self->location = g_file_new_for_path (store_path);
  self->store_project = cps_store_project_copy (project);
  self->revision = winner ? g_object_ref (winner) : NULL;
  self->name = g_strdup (project->name);
  self->source_name = g_strdup (_("Local store"));
  self->own_findings = cps_findings_new ();

  n_heads = project->heads != NULL ? g_strv_length (project->heads) : 0;
  if (project->conflicted)
    cps_findings_add (self->own_findings, CPS_SEVERITY_WARNING, NULL,
                      ngettext ("The project has %u head: edits made side by side wait to be "
                                "merged. The summary shows the display winner.",
                                "The project has %u heads: edits made side by side wait to be "
                                "merged. The summary shows the display winner.",
                                n_heads),
                      n_heads);

  if (winner == NULL)
    {
      cps_findings_add (self->own_findings, CPS_SEVERITY_INFO, NULL, "%s",
                        _("The project has no revisions yet."));
    }
  else if (cps_revision_get_document (winner) == NULL)
    {
      cps_findings_add (self->own_findings, CPS_SEVERITY_INFO, NULL, "%s",
                        _("The shown revision is encrypted, so its content cannot be shown "
                          "here."));
    }
  else
    {
      g_autoptr (GError) error = NULL;

      self->project = wrap_revision (project->name, winner, &error);
      if (self->project == NULL)
        cps_findings_add (self->own_findings, CPS_SEVERITY_ERROR, NULL,
                          _("The shown revision cannot be read: %s"), error->message);
    }

  collect_findings (self);
  return self;
}

/**
 * cps_project_item_new_for_store_error:
 * @store_path: the local store file
 * @error: why it could not be opened
 *
 * Returns: (transfer full): a row item standing for a local store that could
 *   not be opened (damaged, or written by a newer version)
 */
CpsProjectItem *
cps_project_item_new_for_store_error (const char *store_path, const GError *error)
{
  CpsProjectItem *self;

  g_return_val_if_fail (store_path != NULL, NULL);
  g_return_val_if_fail (error != NULL, NULL);

  self = g_object_new (CPS_TYPE_PROJECT_ITEM, NULL);
  self->local = TRUE;
  self->location = g_file_new_for_path (store_path);
  self->name = g_file_get_basename (self->location);
  self->source_name = g_strdup (_("Local store"));
  self->error_message = g_strdup (error->message);
  self->store_error = g_error_copy (error);

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
 * Returns: the translated kind of the file (or “Local project”), or an empty
 *   string when the file or the store could not be read
 */
const char *
cps_project_item_get_kind_label (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);
  if (self->store_project != NULL)
    return _("Local project");
  if (self->file == NULL)
    return "";
  return cps_planner_kind_to_label (cps_planner_file_get_kind (self->file));
}

/**
 * cps_project_item_get_checksum:
 *
 * Returns: (nullable): the project's content checksum (a local project's
 *   display winner's), %NULL for a file row or a project without a
 *   canonical form
 */
const char *
cps_project_item_get_checksum (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);
  if (self->local)
    return self->store_project != NULL ? self->store_project->checksum : NULL;
  if (self->project == NULL)
    return NULL;
  return cps_planner_project_get_content_checksum (self->project);
}

guint
cps_project_item_get_auto_backup_count (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), 0);
  if (self->project == NULL || self->local)
    return 0;
  return cps_planner_project_get_auto_backup_count (self->project);
}

/**
 * cps_project_item_get_revision_count:
 *
 * Returns: how many revisions a local project has; 0 for other rows
 */
guint
cps_project_item_get_revision_count (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), 0);
  return self->store_project != NULL ? self->store_project->revision_count : 0;
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

/**
 * cps_project_item_is_readable:
 *
 * Returns: whether the file (or the local store) could be read
 */
gboolean
cps_project_item_is_readable (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), FALSE);
  return self->file != NULL || self->store_project != NULL;
}

/**
 * cps_project_item_is_local:
 *
 * Returns: whether the row comes from the local store rather than a file
 */
gboolean
cps_project_item_is_local (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), FALSE);
  return self->local;
}

/**
 * cps_project_item_get_store_project:
 *
 * Returns: (transfer none) (nullable): the local project, or %NULL for file
 *   rows and for a store that could not be opened
 */
const CpsStoreProject *
cps_project_item_get_store_project (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);
  return self->store_project;
}

/**
 * cps_project_item_get_revision:
 *
 * Returns: (transfer none) (nullable): a local project's display winner
 */
CpsRevision *
cps_project_item_get_revision (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);
  return self->revision;
}

/**
 * cps_project_item_get_store_error:
 *
 * Returns: (transfer none) (nullable): why the local store could not be
 *   opened, for the row that stands for it
 */
const GError *
cps_project_item_get_store_error (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);
  return self->store_error;
}

/**
 * cps_project_item_dup_key:
 *
 * A key that stays the same when the row is read again (a file opened again,
 * the store reloaded), to keep it selected.
 *
 * Returns: (transfer full): the row's key
 */
char *
cps_project_item_dup_key (CpsProjectItem *self)
{
  g_autofree char *uri = NULL;

  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);

  if (self->store_project != NULL)
    return g_strconcat ("store\x1f", self->store_project->id, NULL);
  uri = g_file_get_uri (self->location);
  if (self->local)
    return g_strconcat ("store-error\x1f", uri, NULL);
  return g_strconcat (uri, "\x1f",
                      self->project ? cps_planner_project_get_name (self->project) : "", NULL);
}

/* A local project in a state that is not a problem but is worth a word. */
static gboolean
is_plain_deleted (CpsProjectItem *self)
{
  return self->store_project != NULL && self->store_project->deleted
         && !self->store_project->conflicted
         && cps_project_item_count (self, CPS_SEVERITY_ERROR) == 0;
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
 *   “2 warnings”, “1 error” or “Unreadable”; for local projects also
 *   “Conflict: 2 heads” or “Deleted”, and for the store “Damaged” or
 *   “Newer version”
 */
char *
cps_project_item_dup_status_label (CpsProjectItem *self)
{
  guint n;

  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);

  if (self->store_error != NULL)
    {
      if (g_error_matches (self->store_error, CPS_STORE_ERROR, CPS_STORE_ERROR_CORRUPT))
        return g_strdup (C_("status", "Damaged"));
      if (g_error_matches (self->store_error, CPS_STORE_ERROR, CPS_STORE_ERROR_NEWER_SCHEMA))
        return g_strdup (C_("status", "Newer version"));
      return g_strdup (_("Unreadable"));
    }
  if (!cps_project_item_is_readable (self))
    return g_strdup (_("Unreadable"));
  n = cps_project_item_count (self, CPS_SEVERITY_ERROR);
  if (n > 0)
    return g_strdup_printf (ngettext ("%u error", "%u errors", n), n);
  if (self->store_project != NULL && self->store_project->conflicted)
    {
      n = g_strv_length (self->store_project->heads);
      /* Translators: the status of a local project with edits to merge */
      return g_strdup_printf (ngettext ("Conflict: %u head", "Conflict: %u heads", n), n);
    }
  if (is_plain_deleted (self))
    /* Translators: the status of a local project that was deleted */
    return g_strdup (C_("status", "Deleted"));
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

  if (self->store_error != NULL)
    return g_strdup (_("The local store could not be opened"));
  if (!cps_project_item_is_readable (self))
    return g_strdup (_("The file could not be read"));
  if (self->store_project != NULL && self->store_project->conflicted
      && cps_project_item_count (self, CPS_SEVERITY_ERROR) == 0)
    {
      guint n = g_strv_length (self->store_project->heads);
      return g_strdup_printf (ngettext ("%u head waits to be merged",
                                        "%u heads wait to be merged", n),
                              n);
    }
  if (is_plain_deleted (self))
    return g_strdup (_("Deleted; its history is kept"));

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

  if (is_plain_deleted (self))
    return "user-trash-symbolic";
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
 *   “warning” or “success”, or “dim-label” for a deleted local project
 */
const char *
cps_project_item_get_status_style_class (CpsProjectItem *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_ITEM (self), NULL);

  if (is_plain_deleted (self))
    return "dim-label";
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
