/* cps-window.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The console's main window: a table with one row per project in every
 * opened planner file (or per file, when it holds no project), then one per
 * project of the local store, and a detail pane for the selected row. Files
 * load one after another in worker threads; the store is read, and files are
 * imported into it, in another, one operation at a time, each opening its
 * own connection to the store. The window owns the cancellables and cancels
 * them when it closes.
 */

#define G_LOG_DOMAIN "cps-window"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "cps-diff-window.h"
#include "cps-import.h"
#include "cps-project-item.h"
#include "cps-store.h"
#include "cps-format.h"
#include "cps-selection.h"
#include "cps-window.h"

#define MAX_RECENT_FILES 10
/* Loads that finish quicker than this never show the progress bar. */
#define LOADING_REVEAL_DELAY_MS 150

typedef enum
{
  STORE_IDLE,
  STORE_READING,
  STORE_IMPORTING,
} StoreState;

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
  GtkStack *detail_stack;
  CpsProjectView *project_view;
  AdwStatusPage *multiple_page;
  GtkRevealer *drop_revealer;
  GMenu *recent_section;

  /* Owned */
  GSettings *settings;
  GListStore *file_items;  /* CpsProjectItem, rows of opened files */
  GListStore *store_items; /* CpsProjectItem, rows of the local store */
  GtkFlattenListModel *items;
  GtkSortListModel *sort_model;
  GtkMultiSelection *selection;
  GCancellable *cancellable;
  GQueue pending; /* GFile *, waiting to load */
  GFile *current; /* loading now */
  guint n_done;   /* in this batch */
  guint n_batch;
  guint reveal_source;
  gboolean loading;
  gboolean paned_placed;
  GtkNativeDialog *chooser;

  /* The local store: one operation at a time */
  StoreState store_state;
  GCancellable *store_cancellable;
  CpsDeviceKey *device_key; /* loaded by the first import */
  guint store_done;         /* progress of the running operation */
  guint store_total;
  guint store_file;         /* importing: which file, of how many */
  guint store_n_files;
  char *store_progress_name;
  gboolean key_storage_told;
  GPtrArray *store_toasts; /* AdwToast, shown for the last operation */
  gboolean closing;
  gboolean splicing;
};

typedef struct
{
  CpsWindow *self;
  GFile *location;
  GCancellable *cancellable;
} LoadData;

/* What a store operation runs on, in its worker thread */
typedef struct
{
  CpsWindow *self;
  GCancellable *cancellable;
  GMainContext *context;
  char *store_path;
  GPtrArray *files; /* CpsPlannerFile to import, NULL to only read the store */
  CpsDeviceKey *key;
  guint file;      /* the file being imported, for progress */
} StoreData;

/* What it brings back */
typedef struct
{
  GPtrArray *rows;     /* CpsProjectItem for the store's rows */
  GPtrArray *imported; /* CpsImportedProject of every imported file */
  GPtrArray *errors;   /* char *, one per file that could not be imported */
  CpsDeviceKey *key;
  guint n_files_imported;
} StoreResult;

/* A progress report from the worker thread */
typedef struct
{
  CpsWindow *self;
  GCancellable *cancellable;
  guint file;
  guint n_files;
  guint done;
  guint total;
  char *name;
} StoreProgress;

static void load_next (CpsWindow *self);
static void update_actions (CpsWindow *self);
static void update_detail (CpsWindow *self);
static void start_store_operation (CpsWindow *self, GPtrArray *files);

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

static void
store_data_free (StoreData *data)
{
  g_clear_object (&data->self);
  g_clear_object (&data->cancellable);
  g_clear_pointer (&data->context, g_main_context_unref);
  g_clear_pointer (&data->store_path, g_free);
  g_clear_pointer (&data->files, g_ptr_array_unref);
  g_clear_object (&data->key);
  g_free (data);
}

static void
store_result_free (StoreResult *result)
{
  g_clear_pointer (&result->rows, g_ptr_array_unref);
  g_clear_pointer (&result->imported, g_ptr_array_unref);
  g_clear_pointer (&result->errors, g_ptr_array_unref);
  g_clear_object (&result->key);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreResult, store_result_free)

static void
store_progress_free (StoreProgress *progress)
{
  g_clear_object (&progress->self);
  g_clear_object (&progress->cancellable);
  g_clear_pointer (&progress->name, g_free);
  g_free (progress);
}

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
  gtk_revealer_set_reveal_child (self->loading_revealer, cps_window_get_loading (self));
  return G_SOURCE_REMOVE;
}

static void
update_loading (CpsWindow *self)
{
  gboolean loading = self->current != NULL || self->store_state != STORE_IDLE;

  gtk_spinner_set_spinning (self->loading_spinner, loading);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-loading", loading);

  if (self->current != NULL)
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
    }
  else if (self->store_state == STORE_IMPORTING)
    {
      g_autofree char *label = NULL;
      double part = self->store_total > 0 ? (double) self->store_done / self->store_total : 0.0;

      label = g_strdup_printf (ngettext ("Importing %u of %u file into the local store…",
                                         "Importing %u of %u files into the local store…",
                                         self->store_n_files),
                               MIN (self->store_file + 1, self->store_n_files),
                               self->store_n_files);
      gtk_label_set_text (self->loading_label, label);
      gtk_label_set_text (self->loading_detail_label,
                          self->store_progress_name ? self->store_progress_name : "");
      gtk_progress_bar_set_fraction (self->loading_progress,
                                     (self->store_file + part) / MAX (self->store_n_files, 1));
    }
  else if (self->store_state == STORE_READING)
    {
      gtk_label_set_text (self->loading_label, _("Reading the local store…"));
      gtk_label_set_text (self->loading_detail_label,
                          self->store_progress_name ? self->store_progress_name : "");
      gtk_progress_bar_set_fraction (self->loading_progress,
                                     (double) self->store_done / MAX (self->store_total, 1));
    }

  if (loading)
    {
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
  guint n_file_items = g_list_model_get_n_items (G_LIST_MODEL (self->file_items));
  guint n_store_items = g_list_model_get_n_items (G_LIST_MODEL (self->store_items));
  guint n_files = 0;
  guint n_projects = 0;
  guint n_local = 0;
  GFile *previous = NULL;

  for (guint i = 0; i < n_file_items; i++)
    {
      g_autoptr (CpsProjectItem) item = g_list_model_get_item (G_LIST_MODEL (self->file_items), i);
      GFile *location = cps_project_item_get_location (item);

      /* A file's rows are always next to each other in the store. */
      if (previous == NULL || !g_file_equal (previous, location))
        n_files++;
      previous = location;
      if (cps_project_item_get_project (item) != NULL)
        n_projects++;
    }
  for (guint i = 0; i < n_store_items; i++)
    {
      g_autoptr (CpsProjectItem) item = g_list_model_get_item (G_LIST_MODEL (self->store_items), i);

      if (cps_project_item_get_store_project (item) != NULL)
        n_local++;
    }

  if (n_file_items + n_store_items == 0)
    {
      adw_window_title_set_subtitle (self->window_title, NULL);
      gtk_stack_set_visible_child_name (self->main_stack, "empty");
    }
  else
    {
      g_autofree char *subtitle = NULL;

      if (n_file_items > 0)
        {
          g_autofree char *files = g_strdup_printf (ngettext ("%u file", "%u files", n_files),
                                                    n_files);
          g_autofree char *projects =
            g_strdup_printf (ngettext ("%u project", "%u projects", n_projects), n_projects);
          /* Translators: e.g. “5 files · 4 projects” */
          subtitle = g_strdup_printf (_("%s · %s"), files, projects);
        }
      if (n_store_items > 0)
        {
          g_autofree char *local = NULL;

          if (n_local > 0)
            local = g_strdup_printf (ngettext ("%u local project", "%u local projects", n_local),
                                     n_local);
          else
            local = g_strdup (_("Local store unavailable"));
          if (subtitle != NULL)
            {
              g_autofree char *files = g_steal_pointer (&subtitle);
              subtitle = g_strdup_printf (_("%s · %s"), files, local);
            }
          else
            {
              subtitle = g_steal_pointer (&local);
            }
        }

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
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (self->file_items));
  guint position = n_items;

  *n_found = 0;
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr (CpsProjectItem) item = g_list_model_get_item (G_LIST_MODEL (self->file_items), i);

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

/* The keys of the selected rows, to select them again once they have been
 * read again. */
static GHashTable *
dup_selected_keys (CpsWindow *self)
{
  GHashTable *keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GtkBitset) selected =
    gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  GtkBitsetIter iter;
  guint position;

  for (gboolean more = gtk_bitset_iter_init_first (&iter, selected, &position); more;
       more = gtk_bitset_iter_next (&iter, &position))
    {
      g_autoptr (CpsProjectItem) item =
        g_list_model_get_item (G_LIST_MODEL (self->selection), position);
      g_hash_table_add (keys, cps_project_item_dup_key (item));
    }
  return keys;
}

static void
select_keys (CpsWindow *self, GHashTable *keys)
{
  GListModel *model = G_LIST_MODEL (self->selection);
  guint n = g_list_model_get_n_items (model);
  g_autoptr (GtkBitset) selected = gtk_bitset_new_empty ();
  g_autoptr (GtkBitset) mask = NULL;

  if (g_hash_table_size (keys) == 0)
    return;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CpsProjectItem) item = g_list_model_get_item (model, i);
      g_autofree char *key = cps_project_item_dup_key (item);

      if (g_hash_table_contains (keys, key))
        gtk_bitset_add (selected, i);
    }
  /* The rows are gone: whatever is selected now stays. */
  if (gtk_bitset_is_empty (selected))
    return;
  mask = gtk_bitset_new_range (0, n);
  gtk_selection_model_set_selection (GTK_SELECTION_MODEL (self->selection), selected, mask);
}

/* Replaces rows of @list, keeping the selection on rows read again. */
static void
splice_rows (CpsWindow *self, GListStore *list, guint position, guint n_removed, GPtrArray *rows)
{
  g_autoptr (GHashTable) keys = dup_selected_keys (self);
  GtkSelectionModel *model = GTK_SELECTION_MODEL (self->selection);
  g_autoptr (GtkBitset) selected = NULL;

  self->splicing = TRUE;
  g_list_store_splice (list, position, n_removed, rows->pdata, rows->len);
  self->splicing = FALSE;

  select_keys (self, keys);
  selected = gtk_selection_model_get_selection (model);
  if (gtk_bitset_is_empty (selected) && g_list_model_get_n_items (G_LIST_MODEL (model)) > 0)
    gtk_selection_model_select_item (model, 0, TRUE);
  update_detail (self);
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

  splice_rows (self, self->file_items, position, n_removed, rows);
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

/* The local store */

static gboolean
report_store_progress_cb (gpointer user_data)
{
  StoreProgress *progress = user_data;
  CpsWindow *self = progress->self;

  /* A report from an operation that has been cancelled since. */
  if (progress->cancellable != self->store_cancellable)
    return G_SOURCE_REMOVE;

  self->store_file = progress->file;
  self->store_n_files = progress->n_files;
  self->store_done = progress->done;
  self->store_total = progress->total;
  g_free (self->store_progress_name);
  self->store_progress_name = g_steal_pointer (&progress->name);
  update_loading (self);
  return G_SOURCE_REMOVE;
}

/* Called in the worker thread. */
static void
report_store_progress (StoreData *data, guint done, guint total, const char *name)
{
  StoreProgress *progress = g_new0 (StoreProgress, 1);

  progress->self = g_object_ref (data->self);
  progress->cancellable = g_object_ref (data->cancellable);
  progress->file = data->file;
  progress->n_files = data->files ? data->files->len : 0;
  progress->done = done;
  progress->total = total;
  progress->name = g_strdup (name);
  g_main_context_invoke_full (data->context, G_PRIORITY_DEFAULT, report_store_progress_cb,
                              progress, (GDestroyNotify) store_progress_free);
}

static void
import_progress_cb (guint done, guint total, const char *name, gpointer user_data)
{
  report_store_progress (user_data, done, total, name);
}

/* Reads every project of the store as a row, in the worker thread. A store
 * that does not exist yet has no rows; one that cannot be opened has one
 * row saying why. */
static GPtrArray *
read_store_rows (StoreData *data, CpsStore *store, GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (CpsStore) opened = NULL;
  g_autoptr (GPtrArray) projects = NULL;
  g_autoptr (GError) local_error = NULL;

  if (store == NULL)
    {
      /* Only reading: do not create an empty store as a side effect. */
      if (!g_file_test (data->store_path, G_FILE_TEST_EXISTS))
        return g_steal_pointer (&rows);
      store = opened = cps_store_open (data->store_path, &local_error);
    }
  if (store != NULL)
    projects = cps_store_list_projects (store, &local_error);
  if (projects == NULL)
    {
      g_ptr_array_add (rows, cps_project_item_new_for_store_error (data->store_path, local_error));
      return g_steal_pointer (&rows);
    }

  for (guint i = 0; i < projects->len; i++)
    {
      const CpsStoreProject *project = g_ptr_array_index (projects, i);
      g_autoptr (CpsRevision) winner = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      if (project->revision_count > 0)
        {
          winner = cps_store_get_display_winner (store, project->id, &local_error);
          if (winner == NULL)
            {
              g_clear_pointer (&rows, g_ptr_array_unref);
              rows = g_ptr_array_new_with_free_func (g_object_unref);
              g_ptr_array_add (rows, cps_project_item_new_for_store_error (data->store_path,
                                                                           local_error));
              return g_steal_pointer (&rows);
            }
        }
      g_ptr_array_add (rows, cps_project_item_new_for_store_project (data->store_path, project,
                                                                     winner));
      if (data->files == NULL)
        report_store_progress (data, i + 1, projects->len, project->name);
    }
  return g_steal_pointer (&rows);
}

static void
store_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  StoreData *data = task_data;
  g_autoptr (StoreResult) result = g_new0 (StoreResult, 1);
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (GError) error = NULL;

  if (data->files != NULL)
    {
      result->imported =
        g_ptr_array_new_with_free_func ((GDestroyNotify) cps_imported_project_free);
      result->errors = g_ptr_array_new_with_free_func (g_free);

      /* Loading the key may wait for the Secret Service. */
      if (data->key == NULL)
        data->key = cps_device_key_load_or_create (NULL, cancellable, &error);
      if (data->key == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      result->key = g_object_ref (data->key);

      store = cps_store_open (data->store_path, &error);
      if (store == NULL)
        {
          g_ptr_array_add (result->errors, g_strdup (error->message));
          g_clear_error (&error);
        }

      for (guint i = 0; store != NULL && i < data->files->len; i++)
        {
          CpsPlannerFile *file = g_ptr_array_index (data->files, i);
          g_autoptr (GPtrArray) imported = NULL;

          data->file = i;
          report_store_progress (data, 0, 1, cps_planner_file_get_display_name (file));
          /* Each file is one transaction: it lands whole or not at all. */
          imported = cps_store_import_file (store, data->key, file, import_progress_cb, data,
                                            cancellable, &error);
          if (imported == NULL)
            {
              if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                {
                  g_task_return_error (task, g_steal_pointer (&error));
                  return;
                }
              g_ptr_array_add (result->errors,
                               /* Translators: a file name and why it could not be imported */
                               g_strdup_printf (_("Nothing was imported from “%s”: %s"),
                                                cps_planner_file_get_display_name (file),
                                                error->message));
              g_clear_error (&error);
              continue;
            }
          result->n_files_imported++;
          for (guint j = 0; j < imported->len; j++)
            g_ptr_array_add (result->imported, g_steal_pointer (&imported->pdata[j]));
        }
    }

  result->rows = read_store_rows (data, store, cancellable, &error);
  if (result->rows == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&result), (GDestroyNotify) store_result_free);
}

static void
store_toast_dismissed_cb (AdwToast *toast, CpsWindow *self)
{
  if (self->store_toasts != NULL)
    g_ptr_array_remove (self->store_toasts, toast);
}

/* A new result replaces what the last operation said, rather than waiting
 * behind it. */
static void
dismiss_store_toasts (CpsWindow *self)
{
  g_autoptr (GPtrArray) toasts = g_ptr_array_new_with_free_func (g_object_unref);

  /* Dismissing removes a toast from the list. Newest first: libadwaita 1.2
   * crashes when a toast that became current by a dismissal is dismissed
   * right away, and the newest are still queued. */
  for (guint i = 0; i < self->store_toasts->len; i++)
    g_ptr_array_add (toasts, g_object_ref (g_ptr_array_index (self->store_toasts, i)));
  for (guint i = toasts->len; i > 0; i--)
    adw_toast_dismiss (g_ptr_array_index (toasts, i - 1));
}

static void
add_store_toast (CpsWindow *self, const char *text, guint timeout)
{
  g_autofree char *title = g_markup_escape_text (text, -1);
  AdwToast *toast = adw_toast_new (title);

  adw_toast_set_timeout (toast, timeout);
  g_ptr_array_add (self->store_toasts, g_object_ref (toast));
  g_signal_connect_object (toast, "dismissed", G_CALLBACK (store_toast_dismissed_cb), self, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
show_import_summary (CpsWindow *self, StoreResult *result)
{
  guint counts[CPS_IMPORT_SKIPPED + 1] = { 0 };
  g_autofree char *title = NULL;

  for (guint i = 0; i < result->errors->len; i++)
    add_store_toast (self, g_ptr_array_index (result->errors, i), 10);
  if (result->n_files_imported == 0)
    return;

  for (guint i = 0; i < result->imported->len; i++)
    {
      const CpsImportedProject *imported = g_ptr_array_index (result->imported, i);
      counts[imported->outcome]++;
    }
  if (counts[CPS_IMPORT_SKIPPED] > 0)
    /* Translators: counts of projects after an import into the local store */
    title = g_strdup_printf (_("Imported: %u new, %u updated, %u unchanged, %u skipped"),
                             counts[CPS_IMPORT_ADDED], counts[CPS_IMPORT_UPDATED],
                             counts[CPS_IMPORT_UNCHANGED], counts[CPS_IMPORT_SKIPPED]);
  else
    /* Translators: counts of projects after an import into the local store */
    title = g_strdup_printf (_("Imported: %u new, %u updated, %u unchanged"),
                             counts[CPS_IMPORT_ADDED], counts[CPS_IMPORT_UPDATED],
                             counts[CPS_IMPORT_UNCHANGED]);
  add_store_toast (self, title, 6);

  /* Said once: where the key is kept matters to whoever owns the machine. */
  if (result->key != NULL && !self->key_storage_told
      && cps_device_key_get_storage (result->key) == CPS_DEVICE_KEY_STORAGE_FILE)
    {
      self->key_storage_told = TRUE;
      add_store_toast (self,
                       _("No Secret Service is available, so this device’s signing key is kept "
                         "in a file readable only by you"),
                       10);
    }
}

static void
store_operation_done_cb (GObject *source, GAsyncResult *async_result, gpointer user_data)
{
  CpsWindow *self = CPS_WINDOW (source);
  GTask *task = G_TASK (async_result);
  StoreData *data = g_task_get_task_data (task);
  gboolean importing = data->files != NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (StoreResult) result = g_task_propagate_pointer (task, &error);

  /* Cancelled by the user or by closing: the operation was forgotten then.
   * An import may have committed some files before it stopped. */
  if (data->cancellable != self->store_cancellable)
    {
      if (importing && !self->closing && self->store_state == STORE_IDLE)
        start_store_operation (self, NULL);
      return;
    }

  g_clear_object (&self->store_cancellable);
  self->store_state = STORE_IDLE;
  g_clear_pointer (&self->store_progress_name, g_free);
  self->store_done = self->store_total = 0;
  self->store_file = self->store_n_files = 0;

  dismiss_store_toasts (self);
  if (result == NULL)
    add_store_toast (self, error->message, 10);
  else
    {
      splice_rows (self, self->store_items, 0,
                   g_list_model_get_n_items (G_LIST_MODEL (self->store_items)), result->rows);
      if (result->key != NULL)
        g_set_object (&self->device_key, result->key);
      if (importing)
        show_import_summary (self, result);
    }

  update_loading (self);
  update_actions (self);
}

/* Reads the store again, after importing @files when there are any. */
static void
start_store_operation (CpsWindow *self, GPtrArray *files)
{
  g_autoptr (GTask) task = NULL;
  StoreData *data;

  g_return_if_fail (self->store_state == STORE_IDLE);

  self->store_cancellable = g_cancellable_new ();
  self->store_state = files != NULL ? STORE_IMPORTING : STORE_READING;
  self->store_file = 0;
  self->store_n_files = files != NULL ? files->len : 0;
  self->store_done = self->store_total = 0;

  data = g_new0 (StoreData, 1);
  data->self = g_object_ref (self);
  data->cancellable = g_object_ref (self->store_cancellable);
  data->context = g_main_context_ref_thread_default ();
  /* Read here: the environment is not for worker threads. */
  data->store_path = cps_store_default_path ();
  data->files = files != NULL ? g_ptr_array_ref (files) : NULL;
  data->key = self->device_key ? g_object_ref (self->device_key) : NULL;

  task = g_task_new (self, self->store_cancellable, store_operation_done_cb, NULL);
  g_task_set_source_tag (task, start_store_operation);
  g_task_set_task_data (task, data, (GDestroyNotify) store_data_free);
  /* The result is checked by hand, so that a cancelled import still
   * reloads. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_run_in_thread (task, store_thread);

  update_loading (self);
  update_actions (self);
}

/* The planner files behind @items that can go into the store, each once, in
 * order: those with projects, and those that are not JSON at all, so that
 * importing them says why it cannot. Rules and logs are not projects. */
static GPtrArray *
collect_files (GPtrArray *items)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < items->len; i++)
    {
      CpsPlannerFile *file = cps_project_item_get_file (g_ptr_array_index (items, i));

      if (file == NULL || g_ptr_array_find (files, file, NULL))
        continue;
      if (g_list_model_get_n_items (cps_planner_file_get_projects (file)) == 0
          && cps_planner_file_get_document (file) != NULL)
        continue;
      g_ptr_array_add (files, g_object_ref (file));
    }
  return files;
}

static GPtrArray *
dup_file_items (CpsWindow *self)
{
  GListModel *model = G_LIST_MODEL (self->file_items);
  GPtrArray *items = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    g_ptr_array_add (items, g_list_model_get_item (model, i));
  return items;
}

/* Comparing */

/* One side of a comparison: a row of the table. */
static CpsDiffSide *
create_item_side (CpsProjectItem *item)
{
  CpsRevision *revision = cps_project_item_get_revision (item);
  CpsPlannerProject *project = cps_project_item_get_project (item);
  CpsPlannerFile *file = cps_project_item_get_file (item);
  const CpsJsonNode *root = cps_project_item_get_root (item);

  if (root == NULL)
    return NULL;

  if (cps_project_item_is_local (item) && revision != NULL)
    {
      g_autofree char *title = NULL;
      g_autofree char *time = cps_format_rfc3339 (cps_revision_get_created_at (revision));

      /* Translators: a local project and the short id of one of its revisions */
      title = g_strdup_printf (_("%s @ %.12s"), cps_project_item_get_name (item),
                               cps_revision_get_id (revision) + strlen (CPS_CHECKSUM_PREFIX));
      /* The revision's own document: the row shows the same content. */
      return cps_diff_side_new (title, _("Local store"), time, "drive-harddisk-symbolic",
                                G_OBJECT (revision), cps_revision_get_document (revision));
    }
  else
    {
      g_autofree char *time = NULL;
      GDateTime *backup_time = project ? cps_planner_project_get_backup_time (project) : NULL;
      const char *source = cps_project_item_get_source_name (item);
      const char *title = cps_project_item_get_name (item);

      if (backup_time != NULL)
        time = cps_format_date_time (backup_time);
      else if (file != NULL)
        time = cps_format_rfc3339 (cps_planner_file_get_created_at (file));
      /* A bundle's one project is the file: name the file. */
      if (g_strcmp0 (title, source) == 0 || (file != NULL && cps_planner_file_get_kind (file)
                                                              == CPS_PLANNER_KIND_PROJECT_BUNDLE))
        title = source;
      return cps_diff_side_new (title, source, time, "text-x-generic-symbolic",
                                project ? G_OBJECT (project) : G_OBJECT (file), root);
    }
}

static CpsDiffSide *
create_revision_side (CpsProjectItem *item, CpsRevision *revision)
{
  g_autofree char *title = NULL;
  g_autofree char *time = cps_format_rfc3339 (cps_revision_get_created_at (revision));

  if (cps_revision_get_document (revision) == NULL)
    return NULL;
  title = g_strdup_printf (_("%s @ %.12s"), cps_project_item_get_name (item),
                           cps_revision_get_id (revision) + strlen (CPS_CHECKSUM_PREFIX));
  return cps_diff_side_new (title, _("Local store"), time, "drive-harddisk-symbolic",
                            G_OBJECT (revision), cps_revision_get_document (revision));
}

/* What win.compare would compare: two rows, or two revisions of the one
 * row shown. */
static gboolean
get_compare_sides (CpsWindow *self, CpsDiffSide **left, CpsDiffSide **right)
{
  g_autoptr (GPtrArray) items = cps_window_dup_selected_items (self);
  g_autoptr (GPtrArray) revisions = NULL;

  if (items->len == 2)
    {
      if (cps_project_item_get_root (g_ptr_array_index (items, 0)) == NULL
          || cps_project_item_get_root (g_ptr_array_index (items, 1)) == NULL)
        return FALSE;
      if (left == NULL)
        return TRUE;
      *left = create_item_side (g_ptr_array_index (items, 0));
      *right = create_item_side (g_ptr_array_index (items, 1));
      return TRUE;
    }

  if (items->len != 1)
    return FALSE;
  revisions = cps_project_view_dup_selected_revisions (self->project_view);
  if (revisions->len != 2)
    return FALSE;
  if (cps_revision_get_document (g_ptr_array_index (revisions, 0)) == NULL
      || cps_revision_get_document (g_ptr_array_index (revisions, 1)) == NULL)
    return FALSE;
  if (left == NULL)
    return TRUE;
  /* The history is newest first: older on the left. */
  *left = create_revision_side (g_ptr_array_index (items, 0), g_ptr_array_index (revisions, 1));
  *right = create_revision_side (g_ptr_array_index (items, 0), g_ptr_array_index (revisions, 0));
  return TRUE;
}

static void
update_actions (CpsWindow *self)
{
  g_autoptr (GPtrArray) selected = cps_window_dup_selected_items (self);
  g_autoptr (GPtrArray) all = dup_file_items (self);
  g_autoptr (GPtrArray) selected_files = collect_files (selected);
  g_autoptr (GPtrArray) all_files = collect_files (all);
  gboolean idle = self->store_state == STORE_IDLE;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.reload", idle);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.import",
                                 idle && selected_files->len > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.import-all", idle && all_files->len > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.compare",
                                 get_compare_sides (self, NULL, NULL));
}

static void
select_location (CpsWindow *self, GFile *location)
{
  GListModel *model = G_LIST_MODEL (self->selection);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CpsProjectItem) item = g_list_model_get_item (model, i);

      if (!cps_project_item_is_local (item)
          && g_file_equal (cps_project_item_get_location (item), location))
        {
          gtk_selection_model_select_item (GTK_SELECTION_MODEL (self->selection), i, TRUE);
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

  if (cps_project_item_get_store_project (item) != NULL)
    {
      icon_name = "drive-harddisk-symbolic";
      kind = _("Project in the local store");
    }
  else if (cps_project_item_is_local (item))
    {
      icon_name = "action-unavailable-symbolic";
      kind = _("Local store that could not be opened");
    }
  else if (cps_project_item_get_project (item) != NULL
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

/* A number, or a dash where the column does not apply to the row. */
static void
set_count_label (GtkWidget *label, gboolean applies, guint count)
{
  g_autofree char *text = NULL;

  if (!applies)
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

/* The Auto-Backups and Revisions columns: right-aligned numbers. */
static void
setup_count_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
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

  if (cps_project_item_get_project (item) == NULL || cps_project_item_is_local (item))
    set_count_label (label, FALSE, 0);
  else
    set_count_label (label, TRUE, cps_project_item_get_auto_backup_count (item));
}

static void
bind_revisions_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                        CpsWindow *self)
{
  CpsProjectItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *label = gtk_list_item_get_child (list_item);

  set_count_label (label, cps_project_item_get_store_project (item) != NULL,
                   cps_project_item_get_revision_count (item));
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
  gtk_widget_remove_css_class (icon, "dim-label");
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
  gtk_paned_set_position (self->paned, (int) (width * 0.66));
}

static void
column_view_activated_cb (GtkColumnView *column_view, guint position, CpsWindow *self)
{
  gtk_widget_child_focus (GTK_WIDGET (self->project_view), GTK_DIR_TAB_FORWARD);
}

/* One row selected: its details. Two or more: what can be done with them. */
static void
update_detail (CpsWindow *self)
{
  g_autoptr (GPtrArray) items = cps_window_dup_selected_items (self);

  if (items->len <= 1)
    {
      cps_project_view_set_item (self->project_view,
                                 items->len == 1 ? g_ptr_array_index (items, 0) : NULL);
      gtk_stack_set_visible_child_name (self->detail_stack, "item");
    }
  else
    {
      g_autofree char *title = g_strdup_printf (ngettext ("%u Row Selected", "%u Rows Selected",
                                                          items->len),
                                                items->len);

      cps_project_view_set_item (self->project_view, NULL);
      adw_status_page_set_title (self->multiple_page, title);
      adw_status_page_set_description (
        self->multiple_page,
        items->len == 2 ? _("Compare the two to see every difference between them.")
                        : _("Select two rows to compare them."));
      gtk_stack_set_visible_child_name (self->detail_stack, "multiple");
    }
  update_actions (self);
}

static void
selection_changed_cb (CpsWindow *self)
{
  update_detail (self);
}

static void
rows_changed_cb (CpsWindow *self)
{
  GtkSelectionModel *model = GTK_SELECTION_MODEL (self->selection);
  g_autoptr (GtkBitset) selected = gtk_selection_model_get_selection (model);

  update_title (self);
  /* Rows read again are selected again once they are all in. */
  if (self->splicing)
    return;
  /* Like a single selection, a table with rows always shows one. */
  if (gtk_bitset_is_empty (selected) && g_list_model_get_n_items (G_LIST_MODEL (model)) > 0)
    gtk_selection_model_select_item (model, 0, TRUE);
  update_detail (self);
}

static void
revision_selection_changed_cb (CpsWindow *self)
{
  update_actions (self);
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

static void
reload_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CpsWindow *self = CPS_WINDOW (widget);

  if (self->store_state == STORE_IDLE)
    start_store_operation (self, NULL);
}

static void
import_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CpsWindow *self = CPS_WINDOW (widget);
  g_autoptr (GPtrArray) items = NULL;
  g_autoptr (GPtrArray) files = NULL;

  if (self->store_state != STORE_IDLE)
    return;
  if (g_str_equal (action_name, "win.import-all"))
    items = dup_file_items (self);
  else
    items = cps_window_dup_selected_items (self);
  files = collect_files (items);
  if (files->len > 0)
    start_store_operation (self, files);
}

static void
compare_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CpsWindow *self = CPS_WINDOW (widget);
  CpsDiffSide *left = NULL;
  CpsDiffSide *right = NULL;
  CpsDiffWindow *diff;

  if (!get_compare_sides (self, &left, &right) || left == NULL || right == NULL)
    {
      g_clear_pointer (&left, cps_diff_side_free);
      g_clear_pointer (&right, cps_diff_side_free);
      return;
    }
  diff = cps_diff_window_new (GTK_WINDOW (self), left, right);
  gtk_window_present (GTK_WINDOW (diff));
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

  self->closing = TRUE;
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

  self->closing = TRUE;
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->store_cancellable != NULL)
    g_cancellable_cancel (self->store_cancellable);
  g_clear_object (&self->store_cancellable);
  self->store_state = STORE_IDLE;
  g_clear_pointer (&self->store_progress_name, g_free);
  g_clear_object (&self->device_key);
  g_queue_clear_full (&self->pending, g_object_unref);
  g_clear_object (&self->current);
  g_clear_handle_id (&self->reveal_source, g_source_remove);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);

  /* The column view lets go of the model while the template is disposed. */
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  if (self->project_view != NULL)
    g_signal_handlers_disconnect_by_data (self->project_view, self);
  /* The toast overlay dismisses its toasts as it goes. */
  for (guint i = 0; self->store_toasts != NULL && i < self->store_toasts->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->store_toasts, i), self);
  gtk_widget_dispose_template (GTK_WIDGET (self), CPS_TYPE_WINDOW);

  g_clear_object (&self->selection);
  g_clear_object (&self->sort_model);
  g_clear_object (&self->items);
  g_clear_object (&self->file_items);
  g_clear_object (&self->store_items);
  g_clear_pointer (&self->store_toasts, g_ptr_array_unref);
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
   * Whether files are being loaded, or the local store read or imported
   * into.
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
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, detail_stack);
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, project_view);
  gtk_widget_class_bind_template_child (widget_class, CpsWindow, multiple_page);
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
  gtk_widget_class_bind_template_callback (widget_class, setup_count_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, bind_backups_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, bind_revisions_cell_cb);
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
  gtk_widget_class_install_action (widget_class, "win.reload", NULL, reload_action);
  gtk_widget_class_install_action (widget_class, "win.import", NULL, import_action);
  gtk_widget_class_install_action (widget_class, "win.import-all", NULL, import_action);
  gtk_widget_class_install_action (widget_class, "win.compare", NULL, compare_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.cancel-loading",
                                       NULL);
  add_page_binding (widget_class, GDK_KEY_1, "summary");
  add_page_binding (widget_class, GDK_KEY_2, "problems");
  add_page_binding (widget_class, GDK_KEY_3, "raw");
  /* Automatic backups for a file's project, the history for a local one. */
  add_page_binding (widget_class, GDK_KEY_4, "backups");
}

static void
cps_window_init (CpsWindow *self)
{
  GtkDropTarget *target;
  GListStore *sources;

  gtk_widget_init_template (GTK_WIDGET (self));
  g_queue_init (&self->pending);
  self->store_toasts = g_ptr_array_new_with_free_func (g_object_unref);

  /* Opened files first, then the local store. */
  self->file_items = g_list_store_new (CPS_TYPE_PROJECT_ITEM);
  self->store_items = g_list_store_new (CPS_TYPE_PROJECT_ITEM);
  sources = g_list_store_new (G_TYPE_LIST_MODEL);
  g_list_store_append (sources, self->file_items);
  g_list_store_append (sources, self->store_items);
  self->items = gtk_flatten_list_model_new (G_LIST_MODEL (sources));
  self->sort_model =
    gtk_sort_list_model_new (g_object_ref (G_LIST_MODEL (self->items)),
                             g_object_ref (gtk_column_view_get_sorter (self->column_view)));
  self->selection = gtk_multi_selection_new (g_object_ref (G_LIST_MODEL (self->sort_model)));
  g_signal_connect_object (self->selection, "items-changed", G_CALLBACK (rows_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->selection, "selection-changed",
                           G_CALLBACK (selection_changed_cb), self, G_CONNECT_SWAPPED);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));
  g_signal_connect_object (self->project_view, "notify::n-selected-revisions",
                           G_CALLBACK (revision_selection_changed_cb), self, G_CONNECT_SWAPPED);

  target = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect_object (target, "enter", G_CALLBACK (drop_entered_cb), self, 0);
  g_signal_connect_object (target, "leave", G_CALLBACK (drop_left_cb), self, 0);
  g_signal_connect_object (target, "drop", G_CALLBACK (drop_cb), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));

  g_signal_connect (self, "notify::application", G_CALLBACK (application_changed_cb), NULL);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-loading", FALSE);
  update_title (self);
  update_actions (self);

  start_store_operation (self, NULL);
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
 * Returns: whether files are being loaded, or the local store read or
 *   imported into
 */
gboolean
cps_window_get_loading (CpsWindow *self)
{
  g_return_val_if_fail (CPS_IS_WINDOW (self), FALSE);
  return self->current != NULL || self->store_state != STORE_IDLE;
}

/**
 * cps_window_cancel_loading:
 *
 * Stops loading: the file being read is dropped, and files still waiting
 * are not read. Rows already shown stay. An import into the local store
 * stops too; the files it imported before stay imported.
 */
void
cps_window_cancel_loading (CpsWindow *self)
{
  g_return_if_fail (CPS_IS_WINDOW (self));

  if (self->current == NULL && self->store_state == STORE_IDLE)
    return;

  if (self->current != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
      g_queue_clear_full (&self->pending, g_object_unref);
      g_clear_object (&self->current);
      self->n_done = 0;
      self->n_batch = 0;
    }
  if (self->store_state != STORE_IDLE)
    {
      /* Files imported before stay: each is its own transaction. */
      g_cancellable_cancel (self->store_cancellable);
      g_clear_object (&self->store_cancellable);
      self->store_state = STORE_IDLE;
      g_clear_pointer (&self->store_progress_name, g_free);
      update_actions (self);
    }
  update_loading (self);
}

/**
 * cps_window_get_rows:
 *
 * The rows as the table shows them, in display order (sorted as the user
 * chose), as a #GtkMultiSelection of #CpsProjectItem.
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
 * cps_window_dup_selected_items:
 *
 * Returns: (transfer container) (element-type CpsProjectItem): the selected
 *   rows, in display order
 */
GPtrArray *
cps_window_dup_selected_items (CpsWindow *self)
{
  g_return_val_if_fail (CPS_IS_WINDOW (self), NULL);

  if (self->selection == NULL)
    return g_ptr_array_new_with_free_func (g_object_unref);
  return cps_selection_dup_items (GTK_SELECTION_MODEL (self->selection));
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
