/* cps-diff-window.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A read-only comparison of two documents: two rows of the table (files or
 * local projects) or two revisions of a local project. It is the merge of
 * the two without a common ancestor, as `cps diff` does it, so that every
 * difference is a conflict item with the same planner-aware label and path.
 * The comparison runs in a worker thread; closing the window cancels it.
 */

#define G_LOG_DOMAIN "cps-diff-window"

#include "config.h"

#include <glib/gi18n.h>

#include "cps-diff-window.h"

/* Rows cost widgets; `cps diff` lists every difference. */
#define MAX_ROWS 500
/* A value longer than this is cut in the view (a whole gear list in HTML). */
#define VALUE_MAX_BYTES 2048

struct _CpsDiffWindow
{
  AdwWindow parent_instance;

  /* Template widgets */
  AdwWindowTitle *window_title;
  GtkImage *left_icon;
  GtkLabel *left_title;
  GtkLabel *left_subtitle;
  GtkImage *right_icon;
  GtkLabel *right_title;
  GtkLabel *right_subtitle;
  GtkStack *stack;
  GtkSpinner *spinner;
  AdwStatusPage *same_page;
  GtkListBox *list_box;
  GtkLabel *rest_label;

  /* Owned */
  CpsDiffSide *left;
  CpsDiffSide *right;
  CpsMerge *merge;
  GCancellable *cancellable;
};

typedef struct
{
  CpsDiffSide *left;
  CpsDiffSide *right;
} DiffData;

G_DEFINE_FINAL_TYPE (CpsDiffWindow, cps_diff_window, ADW_TYPE_WINDOW)

enum
{
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
diff_data_free (DiffData *data)
{
  g_clear_pointer (&data->left, cps_diff_side_free);
  g_clear_pointer (&data->right, cps_diff_side_free);
  g_free (data);
}

/* “Night Exterior.json · 2025-03-01 14:05:09” */
static char *
dup_side_subtitle (const CpsDiffSide *side)
{
  if (side->source != NULL && side->time != NULL && g_strcmp0 (side->source, side->title) != 0)
    /* Translators: where one side of a comparison comes from, and when it was saved */
    return g_strdup_printf (_("%s · %s"), side->source, side->time);
  if (side->time != NULL)
    return g_strdup (side->time);
  return g_strdup (side->source);
}

static void
show_side (const CpsDiffSide *side, GtkImage *icon, GtkLabel *title, GtkLabel *subtitle)
{
  g_autofree char *text = dup_side_subtitle (side);

  gtk_image_set_from_icon_name (icon, side->icon_name);
  gtk_label_set_text (title, side->title);
  gtk_widget_set_tooltip_text (GTK_WIDGET (title), side->title);
  gtk_label_set_text (subtitle, text);
  gtk_widget_set_visible (GTK_WIDGET (subtitle), text != NULL && *text != '\0');
}

/* A value as compact JSON, cut when it is long. */
static GtkWidget *
create_value (const CpsJsonNode *value, GtkWidget *side_label, const char *style_class)
{
  g_autoptr (PangoAttrList) no_hyphens = pango_attr_list_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *label;
  g_autofree char *text = NULL;
  gsize length = 0;

  gtk_widget_add_css_class (box, "diff-value");
  gtk_widget_add_css_class (box, style_class);
  pango_attr_list_insert (no_hyphens, pango_attr_insert_hyphens_new (FALSE));

  if (value != NULL)
    text = cps_json_to_string (value, 0, &length, NULL);
  if (text == NULL)
    {
      /* Translators: in a comparison, for a value one side does not have */
      label = gtk_label_new (_("Not there"));
      gtk_widget_add_css_class (label, "diff-absent");
      gtk_widget_add_css_class (label, "dim-label");
    }
  else
    {
      gsize shown = length;

      if (length > VALUE_MAX_BYTES)
        {
          const char *end = g_utf8_find_prev_char (text, text + VALUE_MAX_BYTES + 1);
          shown = end != NULL ? (gsize) (end - text) : VALUE_MAX_BYTES;
        }
      label = gtk_label_new (NULL);
      if (shown < length)
        {
          g_autofree char *cut = g_strndup (text, shown);
          g_autofree char *part = g_format_size (shown);
          g_autofree char *whole = g_format_size (length);
          /* Translators: e.g. “Showing the first 2.0 kB of 14.3 kB; “cps diff --json” shows
           * it all.” */
          g_autofree char *note_text = g_strdup_printf (
            _("Showing the first %s of %s; “cps diff --json” shows it all."), part, whole);
          GtkWidget *note = gtk_label_new (note_text);

          gtk_label_set_text (GTK_LABEL (label), cut);
          gtk_label_set_wrap (GTK_LABEL (note), TRUE);
          gtk_label_set_xalign (GTK_LABEL (note), 0.0);
          gtk_widget_add_css_class (note, "caption");
          gtk_widget_add_css_class (note, "dim-label");
          gtk_box_append (GTK_BOX (box), label);
          gtk_box_append (GTK_BOX (box), note);
        }
      else
        {
          gtk_label_set_text (GTK_LABEL (label), text);
        }
      gtk_label_set_selectable (GTK_LABEL (label), TRUE);
      gtk_widget_add_css_class (label, "monospace");
    }

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  /* A hyphen added where JSON breaks would read as part of the value. */
  gtk_label_set_attributes (GTK_LABEL (label), no_hyphens);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_widget_set_valign (label, GTK_ALIGN_START);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (label), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                  side_label, NULL, -1);
  if (gtk_widget_get_parent (label) == NULL)
    gtk_box_prepend (GTK_BOX (box), label);
  return box;
}

static GtkWidget *
create_difference_row (CpsDiffWindow *self, guint i)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *values = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *label = gtk_label_new (cps_merge_conflict_get_label (self->merge, i));
  GtkWidget *path = gtk_label_new (cps_merge_conflict_get_path (self->merge, i));

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (label, "heading");
  gtk_box_append (GTK_BOX (top), label);

  gtk_label_set_xalign (GTK_LABEL (path), 1.0);
  gtk_label_set_wrap (GTK_LABEL (path), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (path), PANGO_WRAP_CHAR);
  gtk_label_set_selectable (GTK_LABEL (path), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (path), 48);
  gtk_widget_set_valign (path, GTK_ALIGN_BASELINE);
  gtk_widget_set_valign (label, GTK_ALIGN_BASELINE);
  gtk_widget_add_css_class (path, "monospace");
  gtk_widget_add_css_class (path, "caption");
  gtk_widget_add_css_class (path, "dim-label");
  gtk_widget_set_tooltip_text (path, _("Where in the JSON document"));
  gtk_box_append (GTK_BOX (top), path);

  gtk_box_set_homogeneous (GTK_BOX (values), TRUE);
  gtk_box_append (GTK_BOX (values), create_value (cps_merge_conflict_get_left (self->merge, i),
                                                  GTK_WIDGET (self->left_title), "left"));
  gtk_box_append (GTK_BOX (values), create_value (cps_merge_conflict_get_right (self->merge, i),
                                                  GTK_WIDGET (self->right_title), "right"));

  gtk_box_append (GTK_BOX (box), top);
  gtk_box_append (GTK_BOX (box), values);
  gtk_widget_add_css_class (box, "diff-row");
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  /* The planner-aware sentence says it all for screen readers. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  cps_merge_conflict_get_summary (self->merge, i), -1);
  return row;
}

static void
show_differences (CpsDiffWindow *self)
{
  guint n = cps_merge_get_n_conflicts (self->merge);
  g_autofree char *subtitle = NULL;

  if (n == 0)
    {
      adw_window_title_set_subtitle (self->window_title, _("No differences"));
      gtk_stack_set_visible_child_name (self->stack, "same");
      return;
    }

  for (guint i = 0; i < n && i < MAX_ROWS; i++)
    gtk_list_box_append (self->list_box, create_difference_row (self, i));
  if (n > MAX_ROWS)
    {
      g_autofree char *rest =
        g_strdup_printf (ngettext ("%u more difference is not shown here; “cps diff” lists "
                                   "every one.",
                                   "%u more differences are not shown here; “cps diff” lists "
                                   "every one.",
                                   n - MAX_ROWS),
                         n - MAX_ROWS);
      gtk_label_set_text (self->rest_label, rest);
      gtk_widget_set_visible (GTK_WIDGET (self->rest_label), TRUE);
    }

  subtitle = g_strdup_printf (ngettext ("%u difference", "%u differences", n), n);
  adw_window_title_set_subtitle (self->window_title, subtitle);
  gtk_stack_set_visible_child_name (self->stack, "list");
}

static void
diff_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  DiffData *data = task_data;
  CpsMergeSide left = { data->left->title, data->left->time };
  CpsMergeSide right = { data->right->title, data->right->time };

  g_task_return_pointer (task, cps_merge_new (NULL, data->left->root, data->right->root, &left,
                                              &right),
                         g_object_unref);
}

static void
diff_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CpsDiffWindow *self = CPS_DIFF_WINDOW (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsMerge) merge = g_task_propagate_pointer (G_TASK (result), &error);

  /* Closed meanwhile. */
  if (merge == NULL)
    return;

  g_clear_object (&self->cancellable);
  self->merge = g_steal_pointer (&merge);
  gtk_spinner_stop (self->spinner);
  show_differences (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
start_comparing (CpsDiffWindow *self)
{
  g_autoptr (GTask) task = NULL;
  DiffData *data = g_new0 (DiffData, 1);

  data->left = cps_diff_side_copy (self->left);
  data->right = cps_diff_side_copy (self->right);
  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, diff_done_cb, NULL);
  g_task_set_source_tag (task, start_comparing);
  g_task_set_task_data (task, data, (GDestroyNotify) diff_data_free);
  g_task_run_in_thread (task, diff_thread);
  gtk_stack_set_visible_child_name (self->stack, "busy");
}

static void
cps_diff_window_dispose (GObject *object)
{
  CpsDiffWindow *self = CPS_DIFF_WINDOW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), CPS_TYPE_DIFF_WINDOW);
  g_clear_object (&self->merge);
  g_clear_pointer (&self->left, cps_diff_side_free);
  g_clear_pointer (&self->right, cps_diff_side_free);

  G_OBJECT_CLASS (cps_diff_window_parent_class)->dispose (object);
}

static void
cps_diff_window_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CpsDiffWindow *self = CPS_DIFF_WINDOW (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, cps_diff_window_get_busy (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cps_diff_window_class_init (CpsDiffWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cps_diff_window_dispose;
  object_class->get_property = cps_diff_window_get_property;

  /**
   * CpsDiffWindow:busy:
   *
   * Whether the two sides are still being compared.
   */
  properties[PROP_BUSY] = g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/cinepowerplanner/Sync/cps-diff-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CpsDiffWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, CpsDiffWindow, left_icon);
  gtk_widget_class_bind_template_child (widget_class, CpsDiffWindow, left_title);
  gtk_widget_class_bind_template_child (widget_class, CpsDiffWindow, left_subtitle);
  gtk_widget_class_bind_template_child (widget_class, CpsDiffWindow, right_icon);
  gtk_widget_class_bind_template_child (widget_class, CpsDiffWindow, right_title);
  gtk_widget_class_bind_template_child (widget_class, CpsDiffWindow, right_subtitle);
  gtk_widget_class_bind_template_child (widget_class, CpsDiffWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, CpsDiffWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, CpsDiffWindow, same_page);
  gtk_widget_class_bind_template_child (widget_class, CpsDiffWindow, list_box);
  gtk_widget_class_bind_template_child (widget_class, CpsDiffWindow, rest_label);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close",
                                       NULL);
}

static void
cps_diff_window_init (CpsDiffWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/* Public API */

/**
 * cps_diff_side_new:
 * @owner: keeps @root alive
 * @root: the document to compare
 *
 * Returns: (transfer full): a side of a comparison
 */
CpsDiffSide *
cps_diff_side_new (const char *title, const char *source, const char *time,
                   const char *icon_name, GObject *owner, const CpsJsonNode *root)
{
  CpsDiffSide *side;

  g_return_val_if_fail (title != NULL, NULL);
  g_return_val_if_fail (G_IS_OBJECT (owner), NULL);
  g_return_val_if_fail (root != NULL, NULL);

  side = g_new0 (CpsDiffSide, 1);
  side->title = g_strdup (title);
  side->source = g_strdup (source);
  side->time = g_strdup (time);
  side->icon_name = g_strdup (icon_name ? icon_name : "text-x-generic-symbolic");
  side->owner = g_object_ref (owner);
  side->root = root;
  return side;
}

CpsDiffSide *
cps_diff_side_copy (const CpsDiffSide *side)
{
  g_return_val_if_fail (side != NULL, NULL);
  return cps_diff_side_new (side->title, side->source, side->time, side->icon_name, side->owner,
                            side->root);
}

void
cps_diff_side_free (CpsDiffSide *side)
{
  if (side == NULL)
    return;
  g_free (side->title);
  g_free (side->source);
  g_free (side->time);
  g_free (side->icon_name);
  g_clear_object (&side->owner);
  g_free (side);
}

/**
 * cps_diff_window_new:
 * @parent: the window it belongs to
 * @left: (transfer full): the side shown on the left
 * @right: (transfer full): the side shown on the right
 *
 * Returns: (transfer none): a new window comparing @left and @right, which
 *   starts comparing them at once
 */
CpsDiffWindow *
cps_diff_window_new (GtkWindow *parent, CpsDiffSide *left, CpsDiffSide *right)
{
  CpsDiffWindow *self;
  g_autofree char *title = NULL;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (left != NULL && right != NULL, NULL);

  self = g_object_new (CPS_TYPE_DIFF_WINDOW,
                       "transient-for", parent,
                       "destroy-with-parent", TRUE,
                       "application", parent ? gtk_window_get_application (parent) : NULL,
                       NULL);
  self->left = left;
  self->right = right;

  /* Translators: the title of a comparison window, the two sides */
  title = g_strdup_printf (_("%s ↔ %s"), left->title, right->title);
  gtk_window_set_title (GTK_WINDOW (self), title);
  show_side (left, self->left_icon, self->left_title, self->left_subtitle);
  show_side (right, self->right_icon, self->right_title, self->right_subtitle);

  start_comparing (self);
  return self;
}

/**
 * cps_diff_window_get_busy:
 *
 * Returns: whether the two sides are still being compared
 */
gboolean
cps_diff_window_get_busy (CpsDiffWindow *self)
{
  g_return_val_if_fail (CPS_IS_DIFF_WINDOW (self), FALSE);
  return self->merge == NULL;
}

/**
 * cps_diff_window_get_n_differences:
 *
 * Returns: how many differences there are, 0 while comparing
 */
guint
cps_diff_window_get_n_differences (CpsDiffWindow *self)
{
  g_return_val_if_fail (CPS_IS_DIFF_WINDOW (self), 0);
  return self->merge != NULL ? cps_merge_get_n_conflicts (self->merge) : 0;
}

/**
 * cps_diff_window_get_merge:
 *
 * Returns: (transfer none) (nullable): the comparison, once it is done
 */
CpsMerge *
cps_diff_window_get_merge (CpsDiffWindow *self)
{
  g_return_val_if_fail (CPS_IS_DIFF_WINDOW (self), NULL);
  return self->merge;
}

const CpsDiffSide *
cps_diff_window_get_left (CpsDiffWindow *self)
{
  g_return_val_if_fail (CPS_IS_DIFF_WINDOW (self), NULL);
  return self->left;
}

const CpsDiffSide *
cps_diff_window_get_right (CpsDiffWindow *self)
{
  g_return_val_if_fail (CPS_IS_DIFF_WINDOW (self), NULL);
  return self->right;
}
