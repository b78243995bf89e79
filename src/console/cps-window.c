/* cps-window.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The console's main window: a table with one row per project in every
 * opened planner file (or per file, when it holds no project) and a detail
 * pane for the selected row. Files load one after another in worker threads;
 * the window owns the cancellable and cancels it when it closes.
 */

#define G_LOG_DOMAIN "cps-window"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "cps-project-item.h"
#include "cps-window.h"

#define MAX_RECENT_FILES 10
/* Loads that finish quicker than this never show the progress bar. */
#define LOADING_REVEAL_DELAY_MS 150

struct _CpsWindow
{
  AdwApplicationWindow parent_instance;

  /* Template widgets */
  AdwToastOverlay *toast_overlay;
  AdwWindowTitle *window_title;
  GtkRevealer *loading_revealer;
  GtkSpinner *loading_spinner;
  GtkLabel *loading_label;
  GtkLabel *loading_detail_label;
  GtkProgressBar *loading_progress;
  GtkStack *main_stack;
  GtkPaned *paned;
  GtkColumnView *column_view;
  CpsProjectView *project_view;
  GtkRevealer *drop_revealer;
  GMenu *recent_section;

  /* Owned */
  GSettings *settings;
  GListStore *items;
  GtkSortListModel *sort_model;
  GtkSingleSelection *selection;
  GCancellable *cancellable;
  GQueue pending; /* GFile *, waiting to load */
  GFile *current; /* loading now */
  guint n_done;   /* in this batch */
  guint n_batch;
  guint reveal_source;
  gboolean loading;
  gboolean paned_placed;
  GtkNativeDialog *chooser;
};

typedef struct
{
  CpsWindow *self;
  GFile *location;
  GCancellable *cancellable;
} LoadData;

static void load_next (CpsWindow *self);

G_DEFINE_FINAL_TYPE (CpsWindow, cps_window, ADW_TYPE_APPLICATION_WINDOW)

enum
{
  PROP_0,
  PROP_LOADING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
load_data_free (LoadData *data)
{
  g_clear_object (&data->self);
  g_clear_object (&data->location);
  g_clear_object (&data->cancellable);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LoadData, load_data_free)

static char *
escape_mnemonics (const char *text)
{
  g_autoptr (GString) escaped = g_string_new (text);

  g_string_replace (escaped, "_", "__", 0);
  return g_string_free (g_steal_pointer (&escaped), FALSE);
}

static gboolean
reveal_loading_cb (gpointer user_data)
{
  CpsWindow *self = user_data;

  self->reveal_source = 0;
  gtk_revealer_set_reveal_child (self->loading_revealer, self->current != NULL);
  return G_SOURCE_REMOVE;
}

static void
update_loading (CpsWindow *self)
{
  gboolean loading = self->current != NULL;

  gtk_spinner_set_spinning (self->loading_spinner, loading);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-loading", loading);

  if (loading)
    {
      g_autofree char *label = NULL;
      g_autofree char *name = g_file_get_basename (self->current);

      label = g_strdup_printf (ngettext ("Loading %u of %u file…", "Loading %u of %u files…",
                                         self->n_batch),
                               self->n_done + 1, self->n_batch);
      gtk_label_set_text (self->loading_label, label);
      gtk_label_set_text (self->loading_detail_label, name);
      gtk_progress_bar_set_fraction (self->loading_progress,
                                     (double) self->n_done / MAX (self->n_batch, 1));
      if (!gtk_revealer_get_reveal_child (self->loading_revealer) && self->reveal_source == 0)
        self->reveal_source = g_timeout_add (LOADING_REVEAL_DELAY_MS, reveal_loading_cb, self);
    }
  else
    {
      g_clear_handle_id (&self->reveal_source, g_source_remove);
      gtk_revealer_set_reveal_child (self->loading_revealer, FALSE);
    }

  if (loading != self->loading)
    {
      self->loading = loading;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
    }
}

static void
update_title (CpsWindow *self)
{
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (self->items));
  guint n_files = 0;
  guint n_projects = 0;
  GFile *previous = NULL;

  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr (CpsProjectItem) item = g_list_model_get_item (G_LIST_MODEL (self->items), i);
      GFile *location = cps_project_item_get_location (item);

      /* A file's rows are always next to each other in the store. */
      if (previous == NULL || !g_file_equal (previous, location))
        n_files++;
      previous = location;
      if (cps_project_item_get_project (item) != NULL)
        n_projects++;
    }

  if (n_items == 0)
    {
      adw_window_title_set_subtitle (self->window_title, NULL);
      gtk_stack_set_visible_child_name (self->main_stack, "empty");
    }
  else
    {
      g_autofree char *files = g_strdup_printf (ngettext ("%u file", "%u files", n_files),
                                                n_files);
      g_autofree char *projects =
        g_strdup_printf (ngettext ("%u project", "%u projects", n_projects), n_projects);
      /* Translators: e.g. “5 files · 4 projects” */
      g_autofree char *subtitle = g_strdup_printf (_("%s · %s"), files, projects);

      adw_window_title_set_subtitle (self->window_title, subtitle);
      gtk_stack_set_visible_child_name (self->main_stack, "content");
    }
}

static void
update_recent_menu (CpsWindow *self)
{
  g_auto (GStrv) uris = NULL;
  g_autoptr (GMenu) submenu = NULL;
  g_autoptr (GMenu) files_section = NULL;
  g_autoptr (GMenu) clear_section = NULL;
  g_autoptr (GHashTable) seen = NULL;
  g_autoptr (GHashTable) duplicates = NULL;

  g_menu_remove_all (self->recent_section);
  if (self->settings == NULL)
    return;

  uris = g_settings_get_strv (self->settings, "recent-files");
  if (uris[0] == NULL)
    return;

  /* Two exports of the same project in different folders share a name. */
  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  duplicates = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; uris[i] != NULL; i++)
    {
      g_autoptr (GFile) file = g_file_new_for_uri (uris[i]);
      char *name = g_file_get_basename (file);

      if (name == NULL)
        continue;
      if (g_hash_table_contains (seen, name))
        g_hash_table_add (duplicates, g_strdup (name));
      g_hash_table_add (seen, name);
    }

  files_section = g_menu_new ();
  for (guint i = 0; uris[i] != NULL; i++)
    {
      g_autoptr (GFile) file = g_file_new_for_uri (uris[i]);
      g_autofree char *name = g_file_get_basename (file);
      g_autofree char *label = NULL;
      g_autoptr (GMenuItem) item = NULL;

      if (name == NULL)
        continue;
      if (g_hash_table_contains (duplicates, name))
        {
          g_autoptr (GFile) parent = g_file_get_parent (file);
          g_autofree char *folder = parent ? g_file_get_basename (parent) : NULL;
          /* Translators: a file name and the folder it is in */
          g_autofree char *both = g_strdup_printf (_("%s (%s)"), name, folder ? folder : "/");
          label = escape_mnemonics (both);
        }
      else
        {
          label = escape_mnemonics (name);
        }
      item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target (item, "win.open-recent", "s", uris[i]);
      g_menu_append_item (files_section, item);
    }

  clear_section = g_menu_new ();
  g_menu_append (clear_section, _("_Clear List"), "win.clear-recent");

  submenu = g_menu_new ();
  g_menu_append_section (submenu, NULL, G_MENU_MODEL (files_section));
  g_menu_append_section (submenu, NULL, G_MENU_MODEL (clear_section));
  g_menu_append_submenu (self->recent_section, _("Open _Recent"), G_MENU_MODEL (submenu));
}

static void
change_recent (CpsWindow *self, GFile *location, gboolean add)
{
  g_autofree char *uri = g_file_get_uri (location);
  g_auto (GStrv) old = NULL;
  g_autoptr (GStrvBuilder) builder = NULL;
  g_auto (GStrv) uris = NULL;
  guint n = 0;

  if (self->settings == NULL)
    return;

  old = g_settings_get_strv (self->settings, "recent-files");
  builder = g_strv_builder_new ();
  if (add)
    {
      g_strv_builder_add (builder, uri);
      n++;
    }
  for (guint i = 0; old[i] != NULL && n < MAX_RECENT_FILES; i++)
    {
      if (g_strcmp0 (old[i], uri) == 0)
        continue;
      g_strv_builder_add (builder, old[i]);
      n++;
    }
  uris = g_strv_builder_end (builder);

  if (!g_strv_equal ((const char *const *) uris, (const char *const *) old))
    g_settings_set_strv (self->settings, "recent-files", (const char *const *) uris);
}

static void
show_error_toast (CpsWindow *self, GFile *location, const GError *error)
{
  g_autofree char *uri = g_file_get_uri (location);
  g_autofree char *title = NULL;
  AdwToast *toast;

  /* Toast titles are markup. The reader's messages name the file. */
  title = g_markup_escape_text (error->message, -1);
  toast = adw_toast_new (title);
  adw_toast_set_button_label (toast, _("_Details"));
  adw_toast_set_action_name (toast, "win.show-file");
  adw_toast_set_action_target_value (toast, g_variant_new_string (uri));
  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static guint
find_rows (CpsWindow *self, GFile *location, guint *n_found)
{
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (self->items));
  guint position = n_items;

  *n_found = 0;
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr (CpsProjectItem) item = g_list_model_get_item (G_LIST_MODEL (self->items), i);

      if (g_file_equal (cps_project_item_get_location (item), location))
        {
          if (*n_found == 0)
            position = i;
          (*n_found)++;
        }
      else if (*n_found > 0)
        {
          break;
        }
    }
  return position;
}

static void
append_project_rows (GPtrArray *rows, GFile *location, CpsPlannerFile *file, GListModel *model)
{
  guint n = model != NULL ? g_list_model_get_n_items (model) : 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CpsPlannerProject) project = g_list_model_get_item (model, i);
      g_ptr_array_add (rows, cps_project_item_new (location, file, project));
    }
}

/* Puts the rows of a freshly loaded file where the file's old rows were, so
 * that opening a file again refreshes it instead of adding it twice. */
static void
show_file (CpsWindow *self, GFile *location, CpsPlannerFile *file, const GError *error)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_object_unref);
  guint n_removed;
  guint position = find_rows (self, location, &n_removed);

  if (file == NULL)
    {
      g_ptr_array_add (rows, cps_project_item_new_for_error (location, error));
    }
  else
    {
      append_project_rows (rows, location, file, cps_planner_file_get_projects (file));
      /* Auto-backups of projects that no longer exist are projects too. */
      append_project_rows (rows, location, file, cps_planner_file_get_orphan_backups (file));
      if (rows->len == 0)
        g_ptr_array_add (rows, cps_project_item_new (location, file, NULL));
    }

  g_list_store_splice (self->items, position, n_removed, rows->pdata, rows->len);
}

static void
file_loaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (LoadData) data = user_data;
  CpsWindow *self = data->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsPlannerFile) file = cps_planner_file_load_finish (result, &error);

  /* Cancelling already reset the queue; whatever came back is dropped. */
  if (g_cancellable_is_cancelled (data->cancellable))
    return;

  show_file (self, data->location, file, error);
  if (file != NULL)
    {
      change_recent (self, data->location, TRUE);
    }
  else
    {
      show_error_toast (self, data->location, error);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        change_recent (self, data->location, FALSE);
    }

  g_clear_object (&self->current);
  self->n_done++;
  load_next (self);
}

static void
load_next (CpsWindow *self)
{
  GFile *next = g_queue_pop_head (&self->pending);
  LoadData *data;

  if (next == NULL)
    {
      self->n_done = 0;
      self->n_batch = 0;
      update_loading (self);
      return;
    }

  self->current = next;
  if (self->cancellable == NULL)
    self->cancellable = g_cancellable_new ();

  data = g_new0 (LoadData, 1);
  data->self = g_object_ref (self);
  data->location = g_object_ref (next);
  data->cancellable = g_object_ref (self->cancellable);
  cps_planner_file_load_async (next, self->cancellable, file_loaded_cb, data);

  update_loading (self);
}

static void
select_location (CpsWindow *self, GFile *location)
{
  GListModel *model = G_LIST_MODEL (self->selection);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CpsProjectItem) item = g_list_model_get_item (model, i);

      if (g_file_equal (cps_project_item_get_location (item), location))
        {
          gtk_single_selection_set_selected (self->selection, i);
          gtk_widget_activate_action (GTK_WIDGET (self->column_view), "list.scroll-to-item", "u",
                                      i);
          return;
        }
    }
}

/* Cells */

static GtkWidget *
create_cell_label (float xalign, PangoEllipsizeMode ellipsize)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), xalign);
  gtk_label_set_ellipsize (GTK_LABEL (label), ellipsize);
  gtk_label_set_single_line_mode (GTK_LABEL (label), TRUE);
  return label;
}

static void
setup_name_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, CpsWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *icon = gtk_image_new ();

  gtk_widget_add_css_class (icon, "dim-label");
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), create_cell_label (0.0, PANGO_ELLIPSIZE_END));
  gtk_list_item_set_child (list_item, box);
}

static void
bind_name_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, CpsWindow *self)
{
  CpsProjectItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkWidget *icon = gtk_widget_get_first_child (box);
  GtkWidget *label = gtk_widget_get_next_sibling (icon);
  const char *icon_name;
  const char *kind;

  if (cps_project_item_get_project (item) != NULL
      && cps_planner_project_is_auto_backup (cps_project_item_get_project (item)))
    {
      icon_name = "document-open-recent-symbolic";
      kind = _("Automatic backup of a project that is not in the file");
    }
  else if (cps_project_item_get_project (item) != NULL)
    {
      icon_name = "camera-video-symbolic";
      kind = _("Project");
    }
  else if (cps_project_item_is_readable (item))
    {
      icon_name = "text-x-generic-symbolic";
      kind = _("File without projects");
    }
  else
    {
      icon_name = "action-unavailable-symbolic";
      kind = _("Unreadable file");
    }
  gtk_image_set_from_icon_name (GTK_IMAGE (icon), icon_name);
  gtk_widget_set_tooltip_text (icon, kind);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL, kind, -1);
  gtk_label_set_text (GTK_LABEL (label), cps_project_item_get_name (item));
  gtk_widget_set_tooltip_text (label, cps_project_item_get_name (item));
}

static void
setup_source_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                      CpsWindow *self)
{
  gtk_list_item_set_child (list_item, create_cell_label (0.0, PANGO_ELLIPSIZE_MIDDLE));
}

static void
bind_source_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, CpsWindow *self)
{
  CpsProjectItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *label = gtk_list_item_get_child (list_item);
  g_autofree char *path = g_file_get_parse_name (cps_project_item_get_location (item));

  gtk_label_set_text (GTK_LABEL (label), cps_project_item_get_source_name (item));
  gtk_widget_set_tooltip_text (label, path);
}

static void
setup_kind_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, CpsWindow *self)
{
  gtk_list_item_set_child (list_item, create_cell_label (0.0, PANGO_ELLIPSIZE_END));
}

static void
bind_kind_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, CpsWindow *self)
{
  CpsProjectItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *label = gtk_list_item_get_child (list_item);
  const char *kind = cps_project_item_get_kind_label (item);

  gtk_label_set_text (GTK_LABEL (label), *kind != '\0' ? kind : "—");
  gtk_widget_set_tooltip_text (label, *kind != '\0' ? kind : NULL);
}

static void
setup_checksum_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                        CpsWindow *self)
{
  GtkWidget *inscription = gtk_inscription_new (NULL);

  gtk_inscription_set_text_overflow (GTK_INSCRIPTION (inscription),
                                     GTK_INSCRIPTION_OVERFLOW_ELLIPSIZE_MIDDLE);
  gtk_inscription_set_min_chars (GTK_INSCRIPTION (inscription), 12);
  gtk_inscription_set_nat_chars (GTK_INSCRIPTION (inscription), 24);
  gtk_widget_add_css_class (inscription, "monospace");
  gtk_list_item_set_child (list_item, inscription);
}

static void
bind_checksum_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                       CpsWindow *self)
{
  CpsProjectItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *inscription = gtk_list_item_get_child (list_item);
  const char *checksum = cps_project_item_get_checksum (item);

  /* Every checksum is SHA-256: the cell keeps its width for the digits. */
  if (checksum != NULL && g_str_has_prefix (checksum, "sha256:"))
    gtk_inscription_set_text (GTK_INSCRIPTION (inscription), checksum + strlen ("sha256:"));
  else
    gtk_inscription_set_text (GTK_INSCRIPTION (inscription), checksum ? checksum : "—");
  gtk_widget_set_tooltip_text (inscription, checksum);
  if (checksum != NULL)
    gtk_widget_remove_css_class (inscription, "dim-label");
  else
    gtk_widget_add_css_class (inscription, "dim-label");
}

static void
setup_backups_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                       CpsWindow *self)
{
  GtkWidget *label = create_cell_label (1.0, PANGO_ELLIPSIZE_NONE);

  gtk_widget_add_css_class (label, "numeric");
  gtk_list_item_set_child (list_item, label);
}

static void
bind_backups_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                      CpsWindow *self)
{
  CpsProjectItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *label = gtk_list_item_get_child (list_item);
  guint count = cps_project_item_get_auto_backup_count (item);
  g_autofree char *text = NULL;

  if (cps_project_item_get_project (item) == NULL)
    {
      gtk_label_set_text (GTK_LABEL (label), "—");
      gtk_widget_add_css_class (label, "dim-label");
      return;
    }
  text = g_strdup_printf ("%u", count);
  gtk_label_set_text (GTK_LABEL (label), text);
  if (count == 0)
    gtk_widget_add_css_class (label, "dim-label");
  else
    gtk_widget_remove_css_class (label, "dim-label");
}

static void
setup_status_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                      CpsWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *icon = gtk_image_new ();

  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL, "", -1);
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), create_cell_label (0.0, PANGO_ELLIPSIZE_END));
  gtk_widget_add_css_class (box, "status-cell");
  gtk_list_item_set_child (list_item, box);
}

static void
bind_status_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, CpsWindow *self)
{
  CpsProjectItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkWidget *icon = gtk_widget_get_first_child (box);
  GtkWidget *label = gtk_widget_get_next_sibling (icon);
  g_autofree char *status = cps_project_item_dup_status_label (item);
  g_autofree char *description = cps_project_item_dup_status_description (item);

  gtk_image_set_from_icon_name (GTK_IMAGE (icon), cps_project_item_get_status_icon_name (item));
  gtk_label_set_text (GTK_LABEL (label), status);
  gtk_widget_set_tooltip_text (box, description);
  gtk_widget_add_css_class (icon, cps_project_item_get_status_style_class (item));
}

static void
unbind_status_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                       CpsWindow *self)
{
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkWidget *icon = gtk_widget_get_first_child (box);

  gtk_widget_remove_css_class (icon, "error");
  gtk_widget_remove_css_class (icon, "warning");
  gtk_widget_remove_css_class (icon, "success");
}

/* Signal callbacks */

/* The table gets most of the first width the window has; after that the
 * divider stays where the user puts it. */
static void
paned_max_position_changed_cb (CpsWindow *self)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self->paned));

  if (self->paned_placed || width <= 0)
    return;
  self->paned_placed = TRUE;
  gtk_paned_set_position (self->paned, (int) (width * 0.64));
}

static void
column_view_activated_cb (GtkColumnView *column_view, guint position, CpsWindow *self)
{
  gtk_widget_child_focus (GTK_WIDGET (self->project_view), GTK_DIR_TAB_FORWARD);
}

static void
selected_item_changed_cb (CpsWindow *self)
{
  cps_project_view_set_item (self->project_view,
                             gtk_single_selection_get_selected_item (self->selection));
}

static void
items_changed_cb (CpsWindow *self)
{
  update_title (self);
}

static void
recent_files_changed_cb (CpsWindow *self)
{
  update_recent_menu (self);
}

static GdkDragAction
drop_entered_cb (GtkDropTarget *target, double x, double y, CpsWindow *self)
{
  gtk_revealer_set_reveal_child (self->drop_revealer, TRUE);
  return GDK_ACTION_COPY;
}

static void
drop_left_cb (GtkDropTarget *target, CpsWindow *self)
{
  gtk_revealer_set_reveal_child (self->drop_revealer, FALSE);
}

static gboolean
drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, CpsWindow *self)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new ();
  GSList *list;

  gtk_revealer_set_reveal_child (self->drop_revealer, FALSE);
  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;

  list = gdk_file_list_get_files (g_value_get_boxed (value));
  for (GSList *l = list; l != NULL; l = l->next)
    g_ptr_array_add (files, l->data);
  g_slist_free (list);

  if (files->len == 0)
    return FALSE;
  cps_window_open_files (self, (GFile **) files->pdata, files->len);
  return TRUE;
}

static void
chooser_response_cb (GtkNativeDialog *chooser, int response, CpsWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GListModel) model = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (chooser));
      g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
      guint n = g_list_model_get_n_items (model);

      for (guint i = 0; i < n; i++)
        g_ptr_array_add (files, g_list_model_get_item (model, i));
      cps_window_open_files (self, (GFile **) files->pdata, files->len);
    }

  gtk_native_dialog_destroy (chooser);
  g_clear_object (&self->chooser);
}

/* Actions */

static void
open_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CpsWindow *self = CPS_WINDOW (widget);
  GtkFileChooserNative *native;
  g_autoptr (GtkFileFilter) planner_filter = gtk_file_filter_new ();
  g_autoptr (GtkFileFilter) all_filter = gtk_file_filter_new ();

  if (self->chooser != NULL)
    {
      gtk_native_dialog_show (self->chooser);
      return;
    }

  native = gtk_file_chooser_native_new (_("Open Planner Files"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  self->chooser = GTK_NATIVE_DIALOG (native);
  gtk_native_dialog_set_modal (self->chooser, TRUE);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (native), TRUE);

  gtk_file_filter_set_name (planner_filter, _("Planner Files (JSON)"));
  gtk_file_filter_add_mime_type (planner_filter, "application/json");
  gtk_file_filter_add_suffix (planner_filter, "json");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), planner_filter);
  gtk_file_filter_set_name (all_filter, _("All Files"));
  gtk_file_filter_add_pattern (all_filter, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), all_filter);
  gtk_file_chooser_set_filter (GTK_FILE_CHOOSER (native), planner_filter);

  /* Start where the last file came from: exports usually sit together. */
  if (self->settings != NULL)
    {
      g_auto (GStrv) uris = g_settings_get_strv (self->settings, "recent-files");

      if (uris[0] != NULL)
        {
          g_autoptr (GFile) last = g_file_new_for_uri (uris[0]);
          g_autoptr (GFile) folder = g_file_get_parent (last);

          if (folder != NULL && g_file_query_exists (folder, NULL))
            gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (native), folder, NULL);
        }
    }

  g_signal_connect_object (native, "response", G_CALLBACK (chooser_response_cb), self, 0);
  gtk_native_dialog_show (self->chooser);
}

static void
open_recent_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CpsWindow *self = CPS_WINDOW (widget);
  g_autoptr (GFile) file = g_file_new_for_uri (g_variant_get_string (parameter, NULL));

  cps_window_open_files (self, &file, 1);
}

static void
clear_recent_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CpsWindow *self = CPS_WINDOW (widget);

  if (self->settings != NULL)
    g_settings_reset (self->settings, "recent-files");
}

static void
cancel_loading_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  cps_window_cancel_loading (CPS_WINDOW (widget));
}

static void
show_file_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CpsWindow *self = CPS_WINDOW (widget);
  g_autoptr (GFile) location = g_file_new_for_uri (g_variant_get_string (parameter, NULL));

  select_location (self, location);
  cps_project_view_set_page (self->project_view, "problems");
}

static void
show_page_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CpsWindow *self = CPS_WINDOW (widget);

  cps_project_view_set_page (self->project_view, g_variant_get_string (parameter, NULL));
}

/* Class */

static gboolean
cps_window_close_request (GtkWindow *window)
{
  CpsWindow *self = CPS_WINDOW (window);

  if (self->settings != NULL)
    {
      int width, height;
      gboolean maximized = gtk_window_is_maximized (window);

      gtk_window_get_default_size (window, &width, &height);
      g_settings_delay (self->settings);
      g_settings_set_boolean (self->settings, "window-maximized", maximized);
      if (!maximized && width > 0 && height > 0)
        {
          g_settings_set_int (self->settings, "window-width", width);
          g_settings_set_int (self->settings, "window-height", height);
        }
      g_settings_apply (self->settings);
    }

  cps_window_cancel_loading (self);

  return GTK_WINDOW_CLASS (cps_window_parent_class)->close_request (window);
}

/* GtkWindow:application is set after construction, so settings are picked
 * up when it is. */
static void
application_changed_cb (CpsWindow *self)
{
  GtkApplication *application = gtk_window_get_application (GTK_WINDOW (self));
  GSettings *settings;

  if (self->settings != NULL || !CPS_IS_APPLICATION (application))
    return;
  settings = cps_application_get_settings (CPS_APPLICATION (application));
  if (settings == NULL)
    return;

  self->settings = g_object_ref (settings);
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
  g_signal_connect_object (self->settings, "changed::recent-files",
                           G_CALLBACK (recent_files_changed_cb), self, G_CONNECT_SWAPPED);
  update_recent_menu (self);
}

static void
cps_window_dispose (GObject *object)
{
  CpsWindow *self = CPS_WINDOW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_queue_clear_full (&self->pending, g_object_unref);
  g_clear_object (&self->current);
  g_clear_handle_id (&self->reveal_source, g_source_remove);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);

  /* The column view lets go of the model while the template is disposed. */
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  if (self->items != NULL)
    g_signal_handlers_disconnect_by_data (self->items, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), CPS_TYPE_WINDOW);

  g_clear_object (&self->selection);
  g_clear_object (&self->sort_model);
  g_clear_object (&self->items);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (cps_window_parent_class)->dispose (object);
}

static void
cps_window_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CpsWindow *self = CPS_WINDOW (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, cps_window_get_loading (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
add_page_binding (GtkWidgetClass *widget_class, guint keyval, const char *page)
{
  gtk_widget_class_add_binding_action (widget_class, keyval, GDK_ALT_MASK, "win.show-page", "s",
                                       page);
}

static void
cps_window_class_init (CpsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = cps_window_dispose;
  object_class->get_property = cps_window_get_property;
  window_class->close_request = cps_window_close_request;

  /**
   * CpsWindow:loading:
   *
   * Whether files are being loaded.
   */
  properties[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (CPS_TYPE_PROJECT_ITEM);
  g_type_ensure (CPS_TYPE_PROJECT_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/cinepowerplanner/Sync/cps-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, loading_revealer);
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, loading_label);
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, loading_detail_label);
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, loading_progress);
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, paned);
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, column_view);
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, project_view);
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, drop_revealer);
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, recent_section);
  gtk_widget_class_bind_template_callback (widget_class, column_view_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, paned_max_position_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, setup_name_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, bind_name_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, setup_source_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, bind_source_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, setup_kind_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, bind_kind_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, setup_checksum_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, bind_checksum_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, setup_backups_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, bind_backups_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, setup_status_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, bind_status_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, unbind_status_cell_cb);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "win.open-recent", "s", open_recent_action);
  gtk_widget_class_install_action (widget_class, "win.clear-recent", NULL, clear_recent_action);
  gtk_widget_class_install_action (widget_class, "win.cancel-loading", NULL,
                                   cancel_loading_action);
  gtk_widget_class_install_action (widget_class, "win.show-file", "s", show_file_action);
  gtk_widget_class_install_action (widget_class, "win.show-page", "s", show_page_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.cancel-loading",
                                       NULL);
  add_page_binding (widget_class, GDK_KEY_1, "summary");
  add_page_binding (widget_class, GDK_KEY_2, "problems");
  add_page_binding (widget_class, GDK_KEY_3, "raw");
  add_page_binding (widget_class, GDK_KEY_4, "backups");
}

static void
cps_window_init (CpsWindow *self)
{
  GtkDropTarget *target;

  gtk_widget_init_template (GTK_WIDGET (self));
  g_queue_init (&self->pending);

  self->items = g_list_store_new (CPS_TYPE_PROJECT_ITEM);
  g_signal_connect_object (self->items, "items-changed", G_CALLBACK (items_changed_cb), self,
                           G_CONNECT_SWAPPED);
  self->sort_model =
    gtk_sort_list_model_new (g_object_ref (G_LIST_MODEL (self->items)),
                             g_object_ref (gtk_column_view_get_sorter (self->column_view)));
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->sort_model)));
  g_signal_connect_object (self->selection, "notify::selected-item",
                           G_CALLBACK (selected_item_changed_cb), self, G_CONNECT_SWAPPED);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));

  target = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect_object (target, "enter", G_CALLBACK (drop_entered_cb), self, 0);
  g_signal_connect_object (target, "leave", G_CALLBACK (drop_left_cb), self, 0);
  g_signal_connect_object (target, "drop", G_CALLBACK (drop_cb), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));

  g_signal_connect (self, "notify::application", G_CALLBACK (application_changed_cb), NULL);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-loading", FALSE);
  update_title (self);
}

/* Public API */

/**
 * cps_window_new:
 * @application: the application
 *
 * Returns: (transfer full): a new main window
 */
CpsWindow *
cps_window_new (CpsApplication *application)
{
  g_return_val_if_fail (CPS_IS_APPLICATION (application), NULL);

  return g_object_new (CPS_TYPE_WINDOW, "application", application, NULL);
}

/**
 * cps_window_open_files:
 * @files: (array length=n_files): files to open
 * @n_files: how many
 *
 * Queues @files for loading, one after another in a worker thread. A file
 * already shown is read again and its rows replaced. Files that cannot be
 * read at all get a row saying why.
 */
void
cps_window_open_files (CpsWindow *self, GFile **files, guint n_files)
{
  g_return_if_fail (CPS_IS_WINDOW (self));
  g_return_if_fail (files != NULL || n_files == 0);

  for (guint i = 0; i < n_files; i++)
    {
      gboolean queued = self->current != NULL && g_file_equal (self->current, files[i]);

      for (GList *l = self->pending.head; l != NULL && !queued; l = l->next)
        queued = g_file_equal (l->data, files[i]);
      if (queued)
        continue;

      g_queue_push_tail (&self->pending, g_object_ref (files[i]));
      self->n_batch++;
    }

  if (self->current == NULL)
    load_next (self);
  else
    update_loading (self);
}

/**
 * cps_window_get_loading:
 *
 * Returns: whether files are being loaded
 */
gboolean
cps_window_get_loading (CpsWindow *self)
{
  g_return_val_if_fail (CPS_IS_WINDOW (self), FALSE);
  return self->current != NULL;
}

/**
 * cps_window_cancel_loading:
 *
 * Stops loading: the file being read is dropped, and files still waiting
 * are not read. Rows already shown stay.
 */
void
cps_window_cancel_loading (CpsWindow *self)
{
  g_return_if_fail (CPS_IS_WINDOW (self));

  if (self->current == NULL)
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_queue_clear_full (&self->pending, g_object_unref);
  g_clear_object (&self->current);
  self->n_done = 0;
  self->n_batch = 0;
  update_loading (self);
}

/**
 * cps_window_get_rows:
 *
 * The rows as the table shows them, in display order (sorted as the user
 * chose), as a #GtkSingleSelection of #CpsProjectItem.
 *
 * Returns: (transfer none): the table's model
 */
GListModel *
cps_window_get_rows (CpsWindow *self)
{
  g_return_val_if_fail (CPS_IS_WINDOW (self), NULL);
  return G_LIST_MODEL (self->selection);
}

/**
 * cps_window_get_project_view:
 *
 * Returns: (transfer none): the detail pane
 */
CpsProjectView *
cps_window_get_project_view (CpsWindow *self)
{
  g_return_val_if_fail (CPS_IS_WINDOW (self), NULL);
  return self->project_view;
}
