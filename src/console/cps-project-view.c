/* cps-project-view.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The detail pane: what the selected row holds, in four pages (a summary in
 * the planner's own terms, the problems with their JSON paths, the raw JSON
 * and the project's automatic backups).
 */

#define G_LOG_DOMAIN "cps-project-view"

#include "config.h"

#include <math.h>

#include <adwaita.h>
#include <glib/gi18n.h>

#include "cps-project-view.h"

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
  GtkBox *problems_box;
  GtkStack *raw_stack;
  AdwStatusPage *raw_status_page;
  GtkRevealer *raw_note_revealer;
  GtkLabel *raw_note_label;
  GtkTextView *raw_view;
  GtkStack *backups_stack;
  AdwStatusPage *backups_status_page;
  GtkBox *backups_box;

  /* Owned */
  CpsProjectItem *item;
  gboolean raw_loaded;
};

G_DEFINE_FINAL_TYPE (CpsProjectView, cps_project_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_ITEM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

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

static char *
format_time (GDateTime *time)
{
  /* Translators: how the time of an automatic backup is shown, see
   * g_date_time_format(). xgettext: no-c-format */
  return g_date_time_format (time, _("%Y-%m-%d %H:%M:%S"));
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
      add_json_row (group, _("Added"), cps_json_object_get (summary, "added"));
      add_json_row (group, _("Removed"), cps_json_object_get (summary, "removed"));
      add_json_row (group, _("Changed"), cps_json_object_get (summary, "updated"));
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
          g_autofree char *when = format_time (time);
          add_value_row (group, _("Auto-backup taken"), when, NULL);
        }
    }
  add_value_row (group, _("File checksum"), file ? cps_planner_file_get_checksum (file) : NULL,
                 "monospace");
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
  if (file != NULL)
    add_integrity_group (self, item);
  add_file_group (self, item);
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
      AdwPreferencesGroup *group = add_group (self->problems_box, _("In This Project"), NULL);
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
      g_autofree char *when = format_time (time);
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
      adw_status_page_set_description (
        self->raw_status_page,
        cps_project_item_is_readable (self->item)
          ? _("The file is not valid JSON, so there is no document to show. The Problems page "
              "says where it breaks.")
          : _("The file could not be read."));
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

  if (cps_project_item_get_project (self->item) != NULL
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

  if (cps_project_item_get_project (item) != NULL)
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

  gtk_widget_dispose_template (GTK_WIDGET (self), CPS_TYPE_PROJECT_VIEW);
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
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, problems_box);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, raw_stack);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, raw_status_page);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, raw_note_revealer);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, raw_note_label);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, raw_view);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, backups_stack);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, backups_status_page);
  gtk_widget_class_bind_template_child (widget_class, CpsProjectView, backups_box);
  gtk_widget_class_bind_template_callback (widget_class, visible_page_changed_cb);

  gtk_widget_class_install_action (widget_class, "view.show-page", "s", show_page_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "cps-project-view");
}

static void
cps_project_view_init (CpsProjectView *self)
{
  GtkLayoutManager *layout;

  gtk_widget_init_template (GTK_WIDGET (self));

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
      gtk_stack_set_visible_child_name (self->stack, "none");
    }
  else
    {
      update_header (self);
      update_summary (self);
      update_problems (self);
      update_backups (self);
      visible_page_changed_cb (self);
      gtk_stack_set_visible_child_name (self->stack, "item");
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEM]);
}

/**
 * cps_project_view_get_page:
 *
 * Returns: the name of the page shown: “summary”, “problems”, “raw” or
 *   “backups”
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
  g_return_if_fail (CPS_IS_PROJECT_VIEW (self));
  g_return_if_fail (page != NULL);

  if (gtk_stack_get_child_by_name (self->view_stack, page) == NULL)
    {
      g_warning ("No page named “%s” in the project view", page);
      return;
    }
  gtk_stack_set_visible_child_name (self->view_stack, page);
}
