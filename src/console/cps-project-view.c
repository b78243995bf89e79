/* cps-project-view.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The detail pane: what the selected row holds, in four pages (a summary in
 * the planner's own terms, the problems with their JSON paths, the raw JSON,
 * and the project's automatic backups or, for a local project, its revision
 * history, read from the store in a worker thread).
 */

#define G_LOG_DOMAIN "cps-project-view"

#include "config.h"

#include <math.h>
#include <string.h>

#include <adwaita.h>
#include <glib/gi18n.h>

#include "cps-format.h"
#include "cps-selection.h"
#include "cps-project-view.h"
#include "cps-store.h"

/* More than this in a GtkTextView makes scrolling sluggish; the CLI shows
 * the whole document. */
#define RAW_JSON_MAX_BYTES (4 * 1024 * 1024)
#define SUMMARY_MAX_PROBLEMS 3
/* A badly damaged file can have thousands of findings; rows cost widgets. */
#define PROBLEMS_MAX_ROWS 500

struct _CpsProjectView
{
  GtkWidget parent_instance;

  /* Template widgets */
  GtkStack *stack;
  GtkLabel *title_label;
  GtkLabel *subtitle_label;
  GtkWidget *status_box;
  GtkStackSwitcher *switcher;
  GtkImage *status_image;
  GtkLabel *status_label;
  GtkStack *view_stack;
  GtkStackPage *problems_page;
  GtkStackPage *backups_page;
  GtkBox *summary_box;
  GtkStack *problems_stack;
  AdwStatusPage *problems_status_page;
  GtkBox *problems_box;
  GtkStack *raw_stack;
  AdwStatusPage *raw_status_page;
  GtkRevealer *raw_note_revealer;
  GtkLabel *raw_note_label;
  GtkTextView *raw_view;
  GtkStack *backups_stack;
  AdwStatusPage *backups_status_page;
  GtkBox *backups_box;
  GtkStackPage *history_page;
  GtkStack *history_stack;
  AdwStatusPage *history_status_page;
  GtkListView *history_view;

  /* Owned */
  CpsProjectItem *item;
  gboolean raw_loaded;
  GListStore *revisions; /* CpsRevision, newest first */
  GtkMultiSelection *revision_selection;
  GCancellable *history_cancellable;
};

typedef struct
{
  char *store_path;
  char *project_id;
} HistoryData;

G_DEFINE_FINAL_TYPE (CpsProjectView, cps_project_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_ITEM,
  PROP_N_SELECTED_REVISIONS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
history_data_free (HistoryData *data)
{
  g_free (data->store_path);
  g_free (data->project_id);
  g_free (data);
}

static void
clear_box (GtkBox *box)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (box))) != NULL)
    gtk_box_remove (box, child);
}

static const char *
severity_icon_name (CpsSeverity severity)
{
  switch (severity)
    {
    case CPS_SEVERITY_ERROR:
      return "dialog-error-symbolic";
    case CPS_SEVERITY_WARNING:
      return "dialog-warning-symbolic";
    case CPS_SEVERITY_INFO:
    default:
      return "dialog-information-symbolic";
    }
}

static const char *
severity_style_class (CpsSeverity severity)
{
  switch (severity)
    {
    case CPS_SEVERITY_ERROR:
      return "error";
    case CPS_SEVERITY_WARNING:
      return "warning";
    case CPS_SEVERITY_INFO:
    default:
      return "accent";
    }
}

static int
compare_findings (gconstpointer a, gconstpointer b)
{
  const CpsFinding *fa = *(const CpsFinding *const *) a;
  const CpsFinding *fb = *(const CpsFinding *const *) b;

  /* Worst first; the sort is stable, so the reader's order stays within. */
  return (int) fb->severity - (int) fa->severity;
}

static GtkWidget *
create_value_label (const char *value, const char *style_class)
{
  GtkWidget *label = gtk_label_new (value);

  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (label, "value-label");
  if (style_class != NULL)
    gtk_widget_add_css_class (label, style_class);
  return label;
}

/* A “label: value” row; the labels have one width, so values line up. */
static GtkWidget *
add_value_row (AdwPreferencesGroup *group, const char *title, const char *value,
               const char *style_class)
{
  GtkWidget *row = adw_preferences_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 18);
  GtkWidget *title_label = gtk_label_new (title);
  GtkWidget *value_label;

  if (value == NULL || *value == '\0')
    value_label = create_value_label (_("Not recorded"), "dim-label");
  else
    value_label = create_value_label (value, style_class);

  gtk_label_set_xalign (GTK_LABEL (title_label), 0.0);
  gtk_label_set_wrap (GTK_LABEL (title_label), TRUE);
  gtk_label_set_width_chars (GTK_LABEL (title_label), 18);
  gtk_label_set_max_width_chars (GTK_LABEL (title_label), 18);
  gtk_widget_add_css_class (title_label, "dim-label");
  gtk_accessible_update_relation (GTK_ACCESSIBLE (value_label), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                  title_label, NULL, -1);

  gtk_widget_set_valign (title_label, GTK_ALIGN_BASELINE);
  gtk_widget_set_valign (value_label, GTK_ALIGN_BASELINE);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 10);
  gtk_widget_set_margin_bottom (box, 10);
  gtk_box_append (GTK_BOX (box), title_label);
  gtk_box_append (GTK_BOX (box), value_label);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_add_css_class (row, "property-row");
  adw_preferences_group_add (group, row);
  return row;
}

static AdwPreferencesGroup *
add_group (GtkBox *box, const char *title, const char *description)
{
  GtkWidget *group = adw_preferences_group_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  if (description != NULL)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), description);
  gtk_box_append (box, group);
  return ADW_PREFERENCES_GROUP (group);
}

static GtkWidget *
create_finding_row (const CpsFinding *finding)
{
  GtkWidget *row = adw_preferences_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *text_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *icon = gtk_image_new_from_icon_name (severity_icon_name (finding->severity));
  GtkWidget *message = gtk_label_new (finding->message);
  const char *severity = cps_severity_to_label (finding->severity);

  gtk_widget_add_css_class (icon, severity_style_class (finding->severity));
  gtk_widget_set_valign (icon, GTK_ALIGN_START);
  gtk_widget_set_tooltip_text (icon, severity);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL, severity,
                                  -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  finding->message, -1);
  gtk_box_append (GTK_BOX (box), icon);

  gtk_label_set_wrap (GTK_LABEL (message), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (message), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (message), 0.0);
  gtk_label_set_selectable (GTK_LABEL (message), TRUE);
  gtk_widget_set_hexpand (message, TRUE);
  gtk_box_append (GTK_BOX (text_box), message);

  if (finding->path != NULL && *finding->path != '\0')
    {
      GtkWidget *path = gtk_label_new (finding->path);

      gtk_label_set_wrap (GTK_LABEL (path), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (path), PANGO_WRAP_CHAR);
      gtk_label_set_xalign (GTK_LABEL (path), 0.0);
      gtk_label_set_selectable (GTK_LABEL (path), TRUE);
      gtk_widget_add_css_class (path, "monospace");
      gtk_widget_add_css_class (path, "caption");
      gtk_widget_add_css_class (path, "dim-label");
      gtk_widget_set_tooltip_text (path, _("Where in the JSON document"));
      gtk_box_append (GTK_BOX (text_box), path);
    }

  gtk_box_append (GTK_BOX (box), text_box);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 10);
  gtk_widget_set_margin_bottom (box, 10);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), finding->message);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_add_css_class (row, "finding-row");
  return row;
}

/* Adds up to @limit of the @n findings from @findings starting at @start,
 * worst first. */
static guint
add_finding_rows (AdwPreferencesGroup *group, GPtrArray *findings, guint start, guint n,
                  guint limit)
{
  g_autoptr (GPtrArray) sorted = g_ptr_array_new ();
  guint added = 0;

  for (guint i = start; i < start + n && i < findings->len; i++)
    g_ptr_array_add (sorted, g_ptr_array_index (findings, i));
  g_ptr_array_sort (sorted, compare_findings);

  for (guint i = 0; i < sorted->len && added < limit; i++, added++)
    adw_preferences_group_add (group, create_finding_row (g_ptr_array_index (sorted, i)));
  return added;
}

static void
add_rest_note (AdwPreferencesGroup *group, guint n, guint shown)
{
  g_autofree char *text = NULL;
  GtkWidget *row;

  if (shown >= n)
    return;
  text = g_strdup_printf (ngettext ("%u more problem is not shown here; “cps inspect” lists "
                                    "every one.",
                                    "%u more problems are not shown here; “cps inspect” lists "
                                    "every one.",
                                    n - shown),
                          n - shown);
  row = adw_action_row_new ();
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), text);
  gtk_widget_add_css_class (row, "dim-label");
  adw_preferences_group_add (group, row);
}

/* “sha256:0123…” as its first @n hex digits. */
static char *
short_id (const char *id, guint n)
{
  if (id == NULL)
    return NULL;
  if (g_str_has_prefix (id, CPS_CHECKSUM_PREFIX))
    id += strlen (CPS_CHECKSUM_PREFIX);
  return g_strndup (id, n);
}

static char *
format_json_value (const CpsJsonNode *node)
{
  char buf[32];

  switch (cps_json_node_get_type (node))
    {
    case CPS_JSON_STRING:
      return g_strdup (node->v.string);
    case CPS_JSON_NUMBER:
      /* Out-of-range numbers carry a finding already; show nothing. */
      if (isfinite (node->v.number) && cps_jcs_format_number (node->v.number, buf) > 0)
        return g_strdup (buf);
      return NULL;
    case CPS_JSON_BOOLEAN:
      return g_strdup (node->v.boolean ? _("Yes") : _("No"));
    case CPS_JSON_ARRAY:
      return g_strdup_printf ("%u", node->n);
    case CPS_JSON_OBJECT:
    case CPS_JSON_NULL:
    default:
      return NULL;
    }
}

static void
add_json_row (AdwPreferencesGroup *group, const char *title, const CpsJsonNode *node)
{
  g_autofree char *value = format_json_value (node);

  if (value != NULL && *value != '\0')
    add_value_row (group, title, value, NULL);
}

/* Files without projects still say something in the planner's terms. */
static void
add_file_contents_group (CpsProjectView *self, CpsPlannerFile *file)
{
  CpsJsonDocument *document = cps_planner_file_get_document (file);
  const CpsJsonNode *root = document ? cps_json_document_get_root (document) : NULL;
  const CpsJsonNode *summary;
  const CpsJsonNode *baseline;
  AdwPreferencesGroup *group;

  if (cps_json_node_get_type (root) != CPS_JSON_OBJECT)
    return;

  switch (cps_planner_file_get_kind (file))
    {
    case CPS_PLANNER_KIND_AUTO_GEAR_RULES:
      group = add_group (self->summary_box, _("Auto-Gear Rules"), NULL);
      add_json_row (group, _("Rules"), cps_json_object_get (root, "rules"));
      add_json_row (group, _("Monitor defaults"), cps_json_object_get (root, "monitorDefaults"));
      break;

    case CPS_PLANNER_KIND_AUTO_GEAR_PRESETS:
      group = add_group (self->summary_box, _("Auto-Gear Presets"), NULL);
      add_json_row (group, _("Presets"), cps_json_object_get (root, "presets"));
      add_json_row (group, _("Active preset"), cps_json_object_get (root, "activePresetId"));
      add_json_row (group, _("Automatic preset"), cps_json_object_get (root, "autoPresetId"));
      break;

    case CPS_PLANNER_KIND_VERSION_LOG:
      group = add_group (self->summary_box, _("Version Comparison"), NULL);
      baseline = cps_json_object_get (root, "baseline");
      summary = cps_json_object_get (root, "summary");
      add_json_row (group, _("Baseline"), cps_json_object_get (baseline, "label"));
      add_json_row (group, _("App version"), cps_json_object_get (root, "appVersion"));
      add_json_row (group, _("Differences"), cps_json_object_get (summary, "totalDifferences"));
      /* Translators: counts of differences in a version comparison log */
      add_json_row (group, C_("differences", "Added"), cps_json_object_get (summary, "added"));
      add_json_row (group, C_("differences", "Removed"),
                    cps_json_object_get (summary, "removed"));
      add_json_row (group, C_("differences", "Changed"),
                    cps_json_object_get (summary, "updated"));
      add_json_row (group, _("Note"), cps_json_object_get (root, "note"));
      break;

    case CPS_PLANNER_KIND_DIAGNOSTICS_LOG:
      group = add_group (self->summary_box, _("Diagnostics Log"), NULL);
      add_json_row (group, _("App version"), cps_json_object_get (root, "appVersion"));
      add_json_row (group, _("Exported"), cps_json_object_get (root, "exportedAt"));
      add_json_row (group, _("Log entries"), cps_json_object_get (root, "history"));
      break;

    case CPS_PLANNER_KIND_FULL_BACKUP:
    case CPS_PLANNER_KIND_PROJECT_BUNDLE:
    case CPS_PLANNER_KIND_UNKNOWN:
    default:
      break;
    }
}

/* Errors and warnings come first on the summary; notes last. */
static void
add_problems_preview (CpsProjectView *self, CpsProjectItem *item, gboolean notes)
{
  GPtrArray *findings = cps_project_item_get_findings (item);
  g_autofree char *description = NULL;
  AdwPreferencesGroup *group;
  guint shown;

  if (findings->len == 0)
    return;
  if (notes != (cps_project_item_get_status (item) == CPS_SEVERITY_INFO))
    return;

  description = cps_project_item_dup_status_description (item);
  group = add_group (self->summary_box, notes ? _("Notes") : _("Problems"), description);
  shown = add_finding_rows (group, findings, 0, findings->len, SUMMARY_MAX_PROBLEMS);

  if (shown < findings->len)
    {
      GtkWidget *button = gtk_button_new_with_mnemonic (_("Show _All"));

      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "view.show-page");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", "problems");
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (button, "flat");
      adw_preferences_group_set_header_suffix (group, button);
    }
}

static void
add_planner_summary (CpsProjectView *self, CpsPlannerProject *project)
{
  g_autoptr (GPtrArray) items = cps_planner_project_summarize (project);
  AdwPreferencesGroup *group = NULL;
  const char *section = NULL;

  for (guint i = 0; i < items->len; i++)
    {
      const CpsSummaryItem *item = g_ptr_array_index (items, i);

      if (group == NULL || g_strcmp0 (section, item->section) != 0)
        {
          section = item->section;
          group = add_group (self->summary_box, section, NULL);
        }
      add_value_row (group, item->label, item->value, NULL);
    }
}

static void
add_integrity_group (CpsProjectView *self, CpsProjectItem *item)
{
  CpsPlannerProject *project = cps_project_item_get_project (item);
  CpsPlannerFile *file = cps_project_item_get_file (item);
  AdwPreferencesGroup *group;

  group = add_group (self->summary_box, _("Integrity"),
                     project != NULL
                       ? _("The content checksum stays the same across exports of an unchanged "
                           "project; the file checksum covers the file’s exact bytes.")
                       : _("The file checksum covers the file’s exact bytes."));

  if (project != NULL)
    {
      g_autofree char *count = NULL;
      GDateTime *time = cps_planner_project_get_backup_time (project);

      add_value_row (group, _("Content checksum"),
                     cps_planner_project_get_content_checksum (project), "monospace");
      count = g_strdup_printf ("%u", cps_planner_project_get_auto_backup_count (project));
      add_value_row (group, _("Auto-backups"), count, "numeric");
      if (time != NULL)
        {
          g_autofree char *when = cps_format_date_time (time);
          add_value_row (group, _("Auto-backup taken"), when, NULL);
        }
    }
  add_value_row (group, _("File checksum"), file ? cps_planner_file_get_checksum (file) : NULL,
                 "monospace");
}

/* A local project: its place in the store and its display winner. */
static void
add_local_integrity_group (CpsProjectView *self, CpsProjectItem *item)
{
  const CpsStoreProject *project = cps_project_item_get_store_project (item);
  CpsRevision *revision = cps_project_item_get_revision (item);
  g_autofree char *revisions = g_strdup_printf ("%u", project->revision_count);
  g_autofree char *heads = g_strdup_printf ("%u", g_strv_length (project->heads));
  AdwPreferencesGroup *group;

  group = add_group (self->summary_box, _("Integrity"),
                     _("Every change is a signed revision that is never altered. The shown "
                       "revision is the display winner: the newest of the project’s heads."));
  add_value_row (group, _("Content checksum"), project->checksum, "monospace");
  add_value_row (group, _("Shown revision"), revision ? cps_revision_get_id (revision) : NULL,
                 "monospace");
  if (revision != NULL)
    {
      g_autofree char *when = cps_format_rfc3339 (cps_revision_get_created_at (revision));
      add_value_row (group, _("Saved"), when, NULL);
      add_value_row (group, _("By device"), cps_revision_get_device_id (revision), "monospace");
    }
  add_value_row (group, _("Revisions"), revisions, "numeric");
  add_value_row (group, _("Heads"), heads, "numeric");
}

static void
add_store_group (CpsProjectView *self, CpsProjectItem *item)
{
  const CpsStoreProject *project = cps_project_item_get_store_project (item);
  g_autofree char *path = g_file_get_parse_name (cps_project_item_get_location (item));
  AdwPreferencesGroup *group;

  group = add_group (self->summary_box, _("Local Store"), NULL);
  if (project != NULL)
    {
      g_autofree char *added = cps_format_rfc3339 (project->created_at);
      g_autofree char *changed = cps_format_rfc3339 (project->updated_at);

      add_value_row (group, _("Project ID"), project->id, "monospace");
      /* Translators: when the project was added to the local store */
      add_value_row (group, C_("date", "Added"), added, NULL);
      add_value_row (group, _("Last changed"), changed, NULL);
    }
  add_value_row (group, _("Store file"), path, NULL);
}

static void
add_file_group (CpsProjectView *self, CpsProjectItem *item)
{
  CpsPlannerFile *file = cps_project_item_get_file (item);
  GFile *location = cps_project_item_get_location (item);
  g_autoptr (GFile) parent = g_file_get_parent (location);
  AdwPreferencesGroup *group;

  group = add_group (self->summary_box, _("File"), NULL);
  add_value_row (group, _("Name"), cps_project_item_get_source_name (item), NULL);
  if (parent != NULL)
    {
      g_autofree char *folder = g_file_get_parse_name (parent);
      add_value_row (group, _("Folder"), folder, NULL);
    }
  if (file == NULL)
    return;

  add_value_row (group, _("Kind"), cps_planner_kind_to_label (cps_planner_file_get_kind (file)),
                 NULL);
  add_value_row (group, _("Planner version"), cps_planner_file_get_version (file), NULL);
  add_value_row (group, _("Created"), cps_planner_file_get_created_at (file), NULL);
  {
    g_autofree char *size =
      g_format_size_full (cps_planner_file_get_size (file), G_FORMAT_SIZE_LONG_FORMAT);
    add_value_row (group, _("Size"), size, NULL);
  }
}

static void
update_summary (CpsProjectView *self)
{
  CpsProjectItem *item = self->item;
  CpsPlannerProject *project = cps_project_item_get_project (item);
  CpsPlannerFile *file = cps_project_item_get_file (item);

  clear_box (self->summary_box);

  add_problems_preview (self, item, FALSE);
  if (project != NULL)
    add_planner_summary (self, project);
  else if (file != NULL)
    add_file_contents_group (self, file);
  if (cps_project_item_is_local (item))
    {
      if (cps_project_item_get_store_project (item) != NULL)
        add_local_integrity_group (self, item);
      add_store_group (self, item);
    }
  else
    {
      if (file != NULL)
        add_integrity_group (self, item);
      add_file_group (self, item);
    }
  add_problems_preview (self, item, TRUE);
}

static void
update_problems (CpsProjectView *self)
{
  CpsProjectItem *item = self->item;
  GPtrArray *findings = cps_project_item_get_findings (item);
  guint n_file = cps_project_item_get_n_file_findings (item);
  guint n_own = findings->len - n_file;
  guint n_attention;

  clear_box (self->problems_box);

  if (n_own > 0)
    {
      AdwPreferencesGroup *group = add_group (
        self->problems_box,
        cps_project_item_is_local (item) && cps_project_item_get_store_project (item) == NULL
          ? _("In the Local Store")
          : _("In This Project"),
        NULL);
      add_rest_note (group, n_own, add_finding_rows (group, findings, 0, n_own, PROBLEMS_MAX_ROWS));
    }
  if (n_file > 0)
    {
      AdwPreferencesGroup *group;

      if (cps_project_item_get_project (item) != NULL)
        group = add_group (self->problems_box, _("In the Whole File"),
                           _("These concern the file the project was read from."));
      else
        group = add_group (self->problems_box, _("In This File"), NULL);
      add_rest_note (group, n_file,
                     add_finding_rows (group, findings, n_own, n_file, PROBLEMS_MAX_ROWS));
    }

  adw_status_page_set_description (self->problems_status_page,
                                   cps_project_item_is_local (item)
                                     ? _("Nothing in this local project needs attention.")
                                     : _("The file reads as the planner wrote it."));
  gtk_stack_set_visible_child_name (self->problems_stack, findings->len > 0 ? "list" : "none");

  n_attention = cps_project_item_count (item, CPS_SEVERITY_ERROR)
                + cps_project_item_count (item, CPS_SEVERITY_WARNING);
  /* Notes alone do not call for attention. */
  gtk_stack_page_set_needs_attention (self->problems_page, n_attention > 0);
  if (n_attention > 0)
    {
      /* Translators: the title of the problems page with how many there are */
      g_autofree char *title = g_strdup_printf (_("_Problems (%u)"), n_attention);
      gtk_stack_page_set_title (self->problems_page, title);
    }
  else
    {
      gtk_stack_page_set_title (self->problems_page, _("_Problems"));
    }
}

static GtkWidget *
create_backup_row (CpsPlannerProject *backup)
{
  GtkWidget *row = adw_action_row_new ();
  GDateTime *time = cps_planner_project_get_backup_time (backup);
  const char *checksum = cps_planner_project_get_content_checksum (backup);
  CpsSeverity status = cps_planner_project_get_status (backup);
  GPtrArray *findings = cps_planner_project_get_findings (backup);
  GtkWidget *label;

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  if (time != NULL)
    {
      g_autofree char *when = cps_format_date_time (time);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), when);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), cps_planner_project_get_name (backup));
    }
  else
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     cps_planner_project_get_name (backup));
    }

  if (findings != NULL && findings->len > 0 && status != CPS_SEVERITY_INFO)
    {
      GtkWidget *icon = gtk_image_new_from_icon_name (severity_icon_name (status));
      const CpsFinding *first = g_ptr_array_index (findings, 0);

      gtk_widget_add_css_class (icon, severity_style_class (status));
      gtk_widget_set_tooltip_text (icon, first->message);
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      cps_severity_to_label (status), -1);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
    }

  label = create_value_label (checksum != NULL ? checksum : _("No checksum"),
                              checksum != NULL ? "monospace" : "dim-label");
  gtk_label_set_wrap (GTK_LABEL (label), FALSE);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 24);
  gtk_widget_add_css_class (label, "caption");
  if (checksum != NULL)
    gtk_widget_set_tooltip_text (label, checksum);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  return row;
}

static void
update_backups (CpsProjectView *self)
{
  CpsPlannerProject *project = cps_project_item_get_project (self->item);
  GListModel *backups = project ? cps_planner_project_get_auto_backups (project) : NULL;
  guint n = backups ? g_list_model_get_n_items (backups) : 0;
  AdwPreferencesGroup *group;

  clear_box (self->backups_box);

  if (n == 0)
    {
      adw_status_page_set_description (
        self->backups_status_page,
        project != NULL ? _("This file holds no automatic safety copies of the project.")
                        : _("Automatic backups belong to projects, and this file holds none."));
      gtk_stack_set_visible_child_name (self->backups_stack, "none");
      return;
    }

  group = add_group (self->backups_box, _("Automatic Backups"),
                     _("Safety copies the planner saved by itself, oldest first, with their "
                       "content checksums."));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CpsPlannerProject) backup = g_list_model_get_item (backups, i);
      adw_preferences_group_add (group, create_backup_row (backup));
    }
  gtk_stack_set_visible_child_name (self->backups_stack, "list");
}

/* History */

/* Object data on a listed revision: its device's recorded name. */
#define DEVICE_NAME_KEY "cps-device-name"

static void
history_thread (GTask *task, gpointer source_object, gpointer task_data,
                GCancellable *cancellable)
{
  HistoryData *data = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsStore) store = cps_store_open (data->store_path, &error);
  g_autoptr (GPtrArray) revisions = NULL;

  if (store != NULL)
    revisions = cps_store_list_revisions (store, data->project_id, &error);
  if (revisions == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* The devices' recorded names, looked up here while the store is open;
   * the revisions are not shared with the main thread yet. */
  {
    g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);

    for (guint i = 0; i < revisions->len; i++)
      {
        CpsRevision *revision = g_ptr_array_index (revisions, i);
        const char *device_id = cps_revision_get_device_id (revision);
        const char *name;

        if (!g_hash_table_contains (names, device_id))
          g_hash_table_insert (names, (gpointer) device_id,
                               cps_store_dup_device_name (store, device_id));
        name = g_hash_table_lookup (names, device_id);
        if (name != NULL && *name != '\0')
          g_object_set_data_full (G_OBJECT (revision), DEVICE_NAME_KEY, g_strdup (name), g_free);
      }
  }

  /* Newest first. */
  for (guint i = 0, j = revisions->len; i + 1 < j; i++, j--)
    {
      gpointer revision = revisions->pdata[i];
      revisions->pdata[i] = revisions->pdata[j - 1];
      revisions->pdata[j - 1] = revision;
    }
  g_task_return_pointer (task, g_steal_pointer (&revisions), (GDestroyNotify) g_ptr_array_unref);
}

static void
history_loaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CpsProjectView *self = CPS_PROJECT_VIEW (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) revisions = g_task_propagate_pointer (G_TASK (result), &error);

  /* Another row was selected meanwhile. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->history_cancellable);
  if (revisions == NULL)
    {
      adw_status_page_set_title (self->history_status_page, _("History Not Available"));
      adw_status_page_set_description (self->history_status_page, error->message);
      gtk_stack_set_visible_child_name (self->history_stack, "none");
      return;
    }
  if (revisions->len == 0)
    {
      adw_status_page_set_title (self->history_status_page, _("No Revisions"));
      adw_status_page_set_description (self->history_status_page,
                                       _("Nothing has been saved in this project yet."));
      gtk_stack_set_visible_child_name (self->history_stack, "none");
      return;
    }
  g_list_store_splice (self->revisions, 0,
                       g_list_model_get_n_items (G_LIST_MODEL (self->revisions)),
                       revisions->pdata, revisions->len);
  gtk_stack_set_visible_child_name (self->history_stack, "list");
}

static void
update_history (CpsProjectView *self)
{
  const CpsStoreProject *project = NULL;
  g_autoptr (GTask) task = NULL;
  HistoryData *data;

  if (self->history_cancellable != NULL)
    g_cancellable_cancel (self->history_cancellable);
  g_clear_object (&self->history_cancellable);
  g_list_store_remove_all (self->revisions);

  if (self->item != NULL)
    project = cps_project_item_get_store_project (self->item);
  if (project == NULL)
    return;

  gtk_stack_set_visible_child_name (self->history_stack, "loading");
  self->history_cancellable = g_cancellable_new ();
  data = g_new0 (HistoryData, 1);
  data->store_path = g_file_get_path (cps_project_item_get_location (self->item));
  data->project_id = g_strdup (project->id);

  task = g_task_new (self, self->history_cancellable, history_loaded_cb, NULL);
  g_task_set_source_tag (task, update_history);
  g_task_set_task_data (task, data, (GDestroyNotify) history_data_free);
  g_task_run_in_thread (task, history_thread);
}

static gboolean
is_head (CpsProjectView *self, CpsRevision *revision)
{
  const CpsStoreProject *project = cps_project_item_get_store_project (self->item);

  return project != NULL && project->heads != NULL
         && g_strv_contains ((const char *const *) project->heads,
                             cps_revision_get_id (revision));
}

static GtkWidget *
create_tag (const char *text, const char *style_class, const char *tooltip)
{
  GtkWidget *tag = gtk_label_new (text);

  gtk_widget_add_css_class (tag, "history-tag");
  gtk_widget_add_css_class (tag, style_class);
  gtk_widget_set_tooltip_text (tag, tooltip);
  gtk_widget_set_valign (tag, GTK_ALIGN_CENTER);
  return tag;
}

/* A caption (“Device”) and its value, in monospace. */
static GtkWidget *
add_history_field (GtkBox *box, const char *caption)
{
  GtkWidget *title = gtk_label_new (caption);
  GtkWidget *value = gtk_label_new (NULL);

  gtk_widget_add_css_class (title, "dim-label");
  gtk_widget_add_css_class (title, "caption");
  gtk_widget_add_css_class (value, "monospace");
  gtk_widget_add_css_class (value, "caption");
  gtk_label_set_single_line_mode (GTK_LABEL (value), TRUE);
  gtk_label_set_ellipsize (GTK_LABEL (value), PANGO_ELLIPSIZE_END);
  gtk_widget_set_margin_end (value, 8);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (value), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                  title, NULL, -1);
  gtk_box_append (box, title);
  gtk_box_append (box, value);
  return value;
}

/* A revision in two lines: when, with its markers; then who, what and what
 * it builds on. */
static void
setup_revision_row_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                       CpsProjectView *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 3);
  GtkWidget *first = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *second = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *time = gtk_label_new (NULL);
  GtkWidget *tags = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);

  gtk_label_set_xalign (GTK_LABEL (time), 0.0);
  gtk_widget_add_css_class (time, "heading");
  gtk_widget_add_css_class (time, "numeric");
  gtk_box_append (GTK_BOX (first), time);
  gtk_box_append (GTK_BOX (first), tags);
  gtk_box_append (GTK_BOX (box), first);

  /* Translators: in a revision's line of the history, the device that saved it */
  g_object_set_data (G_OBJECT (box), "device", add_history_field (GTK_BOX (second), _("Device")));
  /* Translators: in a revision's line of the history, its content checksum */
  g_object_set_data (G_OBJECT (box), "content", add_history_field (GTK_BOX (second), _("Content")));
  /* Translators: in a revision's line of the history, the revisions it builds on */
  g_object_set_data (G_OBJECT (box), "parents", add_history_field (GTK_BOX (second), _("Parents")));
  gtk_box_append (GTK_BOX (box), second);

  g_object_set_data (G_OBJECT (box), "time", time);
  g_object_set_data (G_OBJECT (box), "tags", tags);
  gtk_widget_add_css_class (box, "history-row");
  gtk_list_item_set_child (list_item, box);
}

static void
bind_revision_row_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                      CpsProjectView *self)
{
  CpsRevision *revision = gtk_list_item_get_item (list_item);
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkLabel *time = g_object_get_data (G_OBJECT (box), "time");
  GtkBox *tags = g_object_get_data (G_OBJECT (box), "tags");
  GtkLabel *device = g_object_get_data (G_OBJECT (box), "device");
  GtkLabel *content = g_object_get_data (G_OBJECT (box), "content");
  GtkLabel *parents_label = g_object_get_data (G_OBJECT (box), "parents");
  CpsRevision *winner = cps_project_item_get_revision (self->item);
  const CpsStoreProject *project = cps_project_item_get_store_project (self->item);
  const char *const *parents = cps_revision_get_parents (revision);
  const char *device_id = cps_revision_get_device_id (revision);
  const char *checksum = cps_revision_get_checksum (revision);
  g_autofree char *when = cps_format_rfc3339 (cps_revision_get_created_at (revision));
  /* Translators: the tooltip of a revision's time: its id and its exact time */
  g_autofree char *time_tooltip = g_strdup_printf (_("Revision %s\nSaved %s"),
                                                   cps_revision_get_id (revision),
                                                   cps_revision_get_created_at (revision));
  const char *device_name = g_object_get_data (G_OBJECT (revision), DEVICE_NAME_KEY);
  g_autofree char *short_device = device_name ? g_strdup (device_name) : g_strndup (device_id, 8);
  g_autofree char *short_checksum = short_id (checksum, 12);
  g_autoptr (GString) shown = g_string_new (NULL);
  g_autoptr (GString) tooltip = g_string_new (NULL);

  gtk_label_set_text (time, when);
  gtk_widget_set_tooltip_text (GTK_WIDGET (time), time_tooltip);
  gtk_label_set_text (device, short_device);
  gtk_widget_set_tooltip_text (GTK_WIDGET (device), device_id);
  gtk_label_set_text (content, short_checksum);
  gtk_widget_set_tooltip_text (GTK_WIDGET (content), checksum);

  for (guint i = 0; parents != NULL && parents[i] != NULL; i++)
    {
      g_autofree char *id = short_id (parents[i], 8);

      if (i > 0)
        {
          g_string_append (shown, " ");
          g_string_append_c (tooltip, '\n');
        }
      g_string_append (shown, id);
      g_string_append (tooltip, parents[i]);
    }
  if (shown->len == 0)
    {
      /* Translators: the parents of a project's first revision */
      gtk_label_set_text (parents_label, C_("parents", "None"));
      gtk_widget_set_tooltip_text (GTK_WIDGET (parents_label), _("The project’s first revision"));
    }
  else
    {
      gtk_label_set_text (parents_label, shown->str);
      gtk_widget_set_tooltip_text (GTK_WIDGET (parents_label), tooltip->str);
    }

  clear_box (tags);
  if (is_head (self, revision))
    gtk_box_append (tags, create_tag (C_("revision", "Head"), "accent",
                                      _("No revision builds on this one yet")));
  if (project != NULL && project->conflicted && winner != NULL
      && g_str_equal (cps_revision_get_id (winner), cps_revision_get_id (revision)))
    gtk_box_append (tags, create_tag (C_("revision", "Shown"), "success",
                                      _("The display winner: what the summary shows")));
  if (cps_revision_get_deleted (revision))
    gtk_box_append (tags, create_tag (C_("revision", "Deleted"), "error",
                                      _("This revision deletes the project")));
}

static void
revision_selection_changed_cb (CpsProjectView *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SELECTED_REVISIONS]);
}

static void
load_raw_json (CpsProjectView *self)
{
  const CpsJsonNode *root;
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->raw_view);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GString) note = g_string_new (NULL);
  gsize length = 0;

  if (self->raw_loaded || self->item == NULL)
    return;
  self->raw_loaded = TRUE;

  root = cps_project_item_get_root (self->item);
  if (root == NULL)
    {
      gtk_text_buffer_set_text (buffer, "", 0);
      const char *description;

      if (cps_project_item_get_store_project (self->item) != NULL)
        description = _("The local project has no readable revision to show.");
      else if (cps_project_item_is_local (self->item))
        description = _("The local store could not be opened.");
      else if (cps_project_item_is_readable (self->item))
        description = _("The file is not valid JSON, so there is no document to show. The "
                        "Problems page says where it breaks.");
      else
        description = _("The file could not be read.");
      adw_status_page_set_description (self->raw_status_page, description);
      gtk_stack_set_visible_child_name (self->raw_stack, "none");
      return;
    }

  text = cps_json_to_string (root, 2, &length, &error);
  if (text == NULL)
    {
      gtk_text_buffer_set_text (buffer, "", 0);
      adw_status_page_set_description (self->raw_status_page, error->message);
      gtk_stack_set_visible_child_name (self->raw_stack, "none");
      return;
    }

  if (cps_project_item_get_store_project (self->item) != NULL)
    {
      const CpsStoreProject *project = cps_project_item_get_store_project (self->item);
      CpsRevision *revision = cps_project_item_get_revision (self->item);
      g_autofree char *id = short_id (cps_revision_get_id (revision), 12);

      if (project->conflicted)
        g_string_append_printf (note,
                                ngettext ("Revision %s, the display winner of the project’s %u "
                                          "head.",
                                          "Revision %s, the display winner of the project’s %u "
                                          "heads.",
                                          g_strv_length (project->heads)),
                                id, g_strv_length (project->heads));
      else
        g_string_append_printf (note, _("Revision %s, the project’s latest."), id);
    }
  else if (cps_project_item_get_project (self->item) != NULL
           && cps_planner_file_get_kind (cps_project_item_get_file (self->item))
                == CPS_PLANNER_KIND_FULL_BACKUP)
    g_string_append (note, _("The project as a project bundle, derived from the full backup: "
                             "every key of its setup and project entries, unchanged."));

  if (length > RAW_JSON_MAX_BYTES)
    {
      const char *end = g_utf8_find_prev_char (text, text + RAW_JSON_MAX_BYTES + 1);
      g_autofree char *shown = g_format_size (RAW_JSON_MAX_BYTES);
      g_autofree char *total = g_format_size (length);

      length = end != NULL ? (gsize) (end - text) : RAW_JSON_MAX_BYTES;
      if (note->len > 0)
        g_string_append_c (note, ' ');
      /* Translators: e.g. “Showing the first 4.2 MB of 120.0 MB; …” */
      g_string_append_printf (note,
                              _("Showing the first %s of %s; “cps inspect” prints it all."),
                              shown, total);
    }

  gtk_text_buffer_set_text (buffer, text, length);
  gtk_label_set_text (self->raw_note_label, note->str);
  gtk_revealer_set_reveal_child (self->raw_note_revealer, note->len > 0);
  gtk_stack_set_visible_child_name (self->raw_stack, "text");
}

static void
update_header (CpsProjectView *self)
{
  CpsProjectItem *item = self->item;
  g_autofree char *status = cps_project_item_dup_status_label (item);
  g_autofree char *description = cps_project_item_dup_status_description (item);
  const char *kind = cps_project_item_get_kind_label (item);
  g_autofree char *subtitle = NULL;

  gtk_label_set_text (self->title_label, cps_project_item_get_name (item));

  if (cps_project_item_get_store_project (item) != NULL)
    {
      guint n = cps_project_item_get_revision_count (item);
      /* Translators: the subtitle of a local project */
      subtitle = g_strdup_printf (ngettext ("Local project · %u revision",
                                            "Local project · %u revisions", n),
                                  n);
    }
  else if (cps_project_item_is_local (item))
    subtitle = g_strdup (_("Local store · Could not be opened"));
  else if (cps_project_item_get_project (item) != NULL)
    /* Translators: the kind of file and its name, e.g. “Full backup · backup.json” */
    subtitle = g_strdup_printf (_("%s · %s"), kind, cps_project_item_get_source_name (item));
  else if (cps_project_item_is_readable (item))
    subtitle = g_strdup (kind);
  else
    subtitle = g_strdup (_("Could not be read"));
  gtk_label_set_text (self->subtitle_label, subtitle);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->subtitle_label), subtitle);

  gtk_image_set_from_icon_name (self->status_image, cps_project_item_get_status_icon_name (item));
  gtk_label_set_text (self->status_label, status);
  gtk_widget_set_tooltip_text (self->status_box, description);
  gtk_widget_remove_css_class (self->status_box, "error");
  gtk_widget_remove_css_class (self->status_box, "warning");
  gtk_widget_remove_css_class (self->status_box, "success");
  gtk_widget_remove_css_class (self->status_box, "dim-label");
  gtk_widget_add_css_class (self->status_box, cps_project_item_get_status_style_class (item));
}

static void
show_page_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CpsProjectView *self = CPS_PROJECT_VIEW (widget);

  cps_project_view_set_page (self, g_variant_get_string (parameter, NULL));
}

static void
visible_page_changed_cb (CpsProjectView *self)
{
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->view_stack), "raw") == 0)
    load_raw_json (self);
}

static void
cps_project_view_dispose (GObject *object)
{
  CpsProjectView *self = CPS_PROJECT_VIEW (object);

  if (self->history_cancellable != NULL)
    g_cancellable_cancel (self->history_cancellable);
  g_clear_object (&self->history_cancellable);
  if (self->revision_selection != NULL)
    g_signal_handlers_disconnect_by_data (self->revision_selection, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), CPS_TYPE_PROJECT_VIEW);
  g_clear_object (&self->revision_selection);
  g_clear_object (&self->revisions);
  g_clear_object (&self->item);

  G_OBJECT_CLASS (cps_project_view_parent_class)->dispose (object);
}

static void
cps_project_view_get_property (GObject *object, guint prop_id, GValue *value,
                               GParamSpec *pspec)
{
  CpsProjectView *self = CPS_PROJECT_VIEW (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      g_value_set_object (value, self->item);
      break;
    case PROP_N_SELECTED_REVISIONS:
      g_value_set_uint (value, cps_project_view_get_n_selected_revisions (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cps_project_view_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  CpsProjectView *self = CPS_PROJECT_VIEW (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      cps_project_view_set_item (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cps_project_view_class_init (CpsProjectViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cps_project_view_dispose;
  object_class->get_property = cps_project_view_get_property;
  object_class->set_property = cps_project_view_set_property;

  properties[PROP_ITEM] =
    g_param_spec_object ("item", NULL, NULL, CPS_TYPE_PROJECT_ITEM,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * CpsProjectView:n-selected-revisions:
   *
   * How many revisions are selected in the history (two can be compared).
   */
  properties[PROP_N_SELECTED_REVISIONS] =
    g_param_spec_uint ("n-selected-revisions", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/cinepowerplanner/Sync/cps-project-view.ui");
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, stack);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, title_label);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, status_box);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, status_image);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, status_label);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, switcher);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, view_stack);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, problems_page);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, backups_page);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, summary_box);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, problems_stack);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, problems_status_page);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, problems_box);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, raw_stack);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, raw_status_page);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, raw_note_revealer);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, raw_note_label);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, raw_view);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, backups_stack);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, backups_status_page);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, backups_box);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, history_page);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, history_stack);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, history_status_page);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, history_view);
  gtk_widget_class_bind_template_callback (widget_class, visible_page_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, setup_revision_row_cb);
  gtk_widget_class_bind_template_callback (widget_class, bind_revision_row_cb);

  gtk_widget_class_install_action (widget_class, "view.show-page", "s", show_page_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "cps-project-view");
}

static void
cps_project_view_init (CpsProjectView *self)
{
  GtkLayoutManager *layout;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->revisions = g_list_store_new (CPS_TYPE_REVISION);
  self->revision_selection =
    gtk_multi_selection_new (g_object_ref (G_LIST_MODEL (self->revisions)));
  g_signal_connect_object (self->revision_selection, "selection-changed",
                           G_CALLBACK (revision_selection_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->revision_selection, "items-changed",
                           G_CALLBACK (revision_selection_changed_cb), self, G_CONNECT_SWAPPED);
  gtk_list_view_set_model (self->history_view, GTK_SELECTION_MODEL (self->revision_selection));

  /* Equal-width tabs would make the pane needlessly wide. */
  layout = gtk_widget_get_layout_manager (GTK_WIDGET (self->switcher));
  if (GTK_IS_BOX_LAYOUT (layout))
    gtk_box_layout_set_homogeneous (GTK_BOX_LAYOUT (layout), FALSE);
}

GtkWidget *
cps_project_view_new (void)
{
  return g_object_new (CPS_TYPE_PROJECT_VIEW, NULL);
}

/**
 * cps_project_view_get_item:
 *
 * Returns: (transfer none) (nullable): the row shown
 */
CpsProjectItem *
cps_project_view_get_item (CpsProjectView *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_VIEW (self), NULL);
  return self->item;
}

/**
 * cps_project_view_set_item:
 * @item: (nullable): the row to show, or %NULL for none
 */
void
cps_project_view_set_item (CpsProjectView *self, CpsProjectItem *item)
{
  g_return_if_fail (CPS_IS_PROJECT_VIEW (self));
  g_return_if_fail (item == NULL || CPS_IS_PROJECT_ITEM (item));

  if (!g_set_object (&self->item, item))
    return;

  self->raw_loaded = FALSE;
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->raw_view), "", 0);

  if (item == NULL)
    {
      clear_box (self->summary_box);
      clear_box (self->problems_box);
      clear_box (self->backups_box);
      update_history (self);
      gtk_stack_set_visible_child_name (self->stack, "none");
    }
  else
    {
      gboolean local = cps_project_item_get_store_project (item) != NULL;
      const char *page = gtk_stack_get_visible_child_name (self->view_stack);

      /* A local project has a history instead of automatic backups. */
      gtk_stack_page_set_visible (self->backups_page, !cps_project_item_is_local (item));
      gtk_stack_page_set_visible (self->history_page, local);
      if ((g_strcmp0 (page, "history") == 0 && !local)
          || (g_strcmp0 (page, "backups") == 0 && cps_project_item_is_local (item)))
        gtk_stack_set_visible_child_name (self->view_stack, "summary");

      update_header (self);
      update_summary (self);
      update_problems (self);
      update_backups (self);
      update_history (self);
      visible_page_changed_cb (self);
      gtk_stack_set_visible_child_name (self->stack, "item");
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEM]);
}

/**
 * cps_project_view_get_page:
 *
 * Returns: the name of the page shown: “summary”, “problems”, “raw”,
 *   “backups” or “history”
 */
const char *
cps_project_view_get_page (CpsProjectView *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_VIEW (self), NULL);
  return gtk_stack_get_visible_child_name (self->view_stack);
}

void
cps_project_view_set_page (CpsProjectView *self, const char *page)
{
  GtkWidget *child;

  g_return_if_fail (CPS_IS_PROJECT_VIEW (self));
  g_return_if_fail (page != NULL);

  child = gtk_stack_get_child_by_name (self->view_stack, page);
  if (child == NULL)
    {
      g_warning ("No page named “%s” in the project view", page);
      return;
    }
  /* The fourth page is the backups of a file's project, or the history of a
   * local project: asking for one shows whichever there is. */
  if (!gtk_stack_page_get_visible (gtk_stack_get_page (self->view_stack, child)))
    {
      if (g_str_equal (page, "backups"))
        page = "history";
      else if (g_str_equal (page, "history"))
        page = "backups";
      else
        return;
      child = gtk_stack_get_child_by_name (self->view_stack, page);
      if (!gtk_stack_page_get_visible (gtk_stack_get_page (self->view_stack, child)))
        return;
    }
  gtk_stack_set_visible_child_name (self->view_stack, page);
}

/**
 * cps_project_view_get_history:
 *
 * Returns: (transfer none): the revisions of the local project shown, newest
 *   first, as a #GtkMultiSelection of #CpsRevision; empty for other rows and
 *   while loading
 */
GListModel *
cps_project_view_get_history (CpsProjectView *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_VIEW (self), NULL);
  return G_LIST_MODEL (self->revision_selection);
}

/**
 * cps_project_view_get_history_loading:
 *
 * Returns: whether the history is being read from the local store
 */
gboolean
cps_project_view_get_history_loading (CpsProjectView *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_VIEW (self), FALSE);
  return self->history_cancellable != NULL;
}

guint
cps_project_view_get_n_selected_revisions (CpsProjectView *self)
{
  g_autoptr (GtkBitset) selected = NULL;

  g_return_val_if_fail (CPS_IS_PROJECT_VIEW (self), 0);
  if (self->revision_selection == NULL)
    return 0;
  selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->revision_selection));
  return (guint) gtk_bitset_get_size (selected);
}

/**
 * cps_project_view_dup_selected_revisions:
 *
 * Returns: (transfer container) (element-type CpsRevision): the revisions
 *   selected in the history, newest first
 */
GPtrArray *
cps_project_view_dup_selected_revisions (CpsProjectView *self)
{
  g_return_val_if_fail (CPS_IS_PROJECT_VIEW (self), NULL);

  if (self->revision_selection == NULL)
    return g_ptr_array_new_with_free_func (g_object_unref);
  return cps_selection_dup_items (GTK_SELECTION_MODEL (self->revision_selection));
}
