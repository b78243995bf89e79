/* test-console.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The console's main window, for real, under Xvfb: it opens the shared
 * planner fixtures, damaged files and folders, and local stores prepared with
 * the library, and is checked through what it shows (its rows and the
 * widgets of its detail pane and of its comparison windows). Writes
 * screenshots to the build directory (console-screenshot.png,
 * console-store-screenshot.png, console-diff-screenshot.png); with
 * CPS_EXTRA_SCREENSHOTS=1 in the environment the other views are saved too.
 *
 * HOME, the XDG directories and CPS_STORE point into a temporary directory,
 * so the real store and device key are never touched.
 */

#define G_LOG_DOMAIN "test-console"

#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "cps-application.h"
#include "cps-diff-window.h"
#include "cps-import.h"
#include "cps-project-item.h"
#include "cps-store.h"
#include "cps-window.h"
#include "cps-test-util.h"

#define LOAD_TIMEOUT_S 60

static CpsApplication *application;
static char *home_dir;

static const char *fixture_names[] = {
  "cine_power_planner_backup_2025-03-01T14-05-09+01-00.json",
  "Night Exterior.json",
  "2025-03-01T14-05-09+01-00 auto gear rules.json",
  "cine-power-planner-version-log-2025-03-01T14-05-09+01-00.json",
  "cine-power-planner-log-v1.0.53-2025-03-01T13-05-09-000Z.json",
};

#define BACKUP_NAME fixture_names[0]
#define BUNDLE_NAME fixture_names[1]
#define RULES_NAME fixture_names[2]
#define VERSION_LOG_NAME fixture_names[3]
#define DIAGNOSTICS_LOG_NAME fixture_names[4]

/* Helpers */

static GFile *
fixture_file (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", "planner", name,
                                                 NULL);
  return g_file_new_for_path (path);
}

static GPtrArray *
fixture_files (void)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < G_N_ELEMENTS (fixture_names); i++)
    g_ptr_array_add (files, fixture_file (fixture_names[i]));
  return files;
}

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until nothing is pending. */
static void
flush_main_context (void)
{
  while (g_main_context_pending (NULL))
    g_main_context_iteration (NULL, FALSE);
}

/* Runs the main loop for @ms milliseconds, so that frames get drawn. */
static void
run_main_loop_for (guint ms)
{
  gboolean done = FALSE;
  guint id = g_timeout_add (ms, timeout_cb, &done);

  while (!done)
    g_main_context_iteration (NULL, TRUE);
  (void) id;
}

static void
wait_for_loading (CpsWindow *window)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (LOAD_TIMEOUT_S, timeout_cb, &timed_out);

  while (cps_window_get_loading (window) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("The window was still loading after %d seconds", LOAD_TIMEOUT_S);
  g_source_remove (id);
  flush_main_context ();
}

static CpsWindow *
create_window (void)
{
  CpsWindow *window = cps_window_new (application);

  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));
  run_main_loop_for (50);
  return window;
}

/* Destroys @window and checks that nothing keeps it alive: a load still
 * running holds it only until its cancelled result comes back. */
static void
destroy_window (CpsWindow *window)
{
  gboolean timed_out = FALSE;
  guint id;

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_destroy (GTK_WINDOW (window));

  id = g_timeout_add_seconds (LOAD_TIMEOUT_S, timeout_cb, &timed_out);
  while (window != NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("The window was not finalized after it was destroyed");
  g_source_remove (id);
  flush_main_context ();
}

static CpsWindow *
create_window_with_fixtures (void)
{
  CpsWindow *window = create_window ();
  g_autoptr (GPtrArray) files = fixture_files ();

  cps_window_open_files (window, (GFile **) files->pdata, files->len);
  g_assert_true (cps_window_get_loading (window));
  wait_for_loading (window);
  return window;
}

static CpsProjectItem *
find_row (CpsWindow *window, const char *source_name, const char *name, guint *position)
{
  GListModel *rows = cps_window_get_rows (window);

  for (guint i = 0; i < g_list_model_get_n_items (rows); i++)
    {
      g_autoptr (CpsProjectItem) item = g_list_model_get_item (rows, i);

      if (g_str_equal (cps_project_item_get_source_name (item), source_name)
          && g_str_equal (cps_project_item_get_name (item), name))
        {
          if (position != NULL)
            *position = i;
          return item;
        }
    }
  return NULL;
}

static guint
count_rows_of (CpsWindow *window, const char *source_name)
{
  GListModel *rows = cps_window_get_rows (window);
  guint n = 0;

  for (guint i = 0; i < g_list_model_get_n_items (rows); i++)
    {
      g_autoptr (CpsProjectItem) item = g_list_model_get_item (rows, i);

      if (g_str_equal (cps_project_item_get_source_name (item), source_name))
        n++;
    }
  return n;
}

static GtkWidget *
find_widget (GtkWidget *root, gboolean (*match) (GtkWidget *, gconstpointer), gconstpointer data)
{
  if (match (root, data))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, match, data);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_label_with_text (GtkWidget *widget, gconstpointer text)
{
  if (GTK_IS_LABEL (widget))
    return g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0;
  if (GTK_IS_INSCRIPTION (widget))
    return g_strcmp0 (gtk_inscription_get_text (GTK_INSCRIPTION (widget)), text) == 0;
  return FALSE;
}

static gboolean
is_label_containing (GtkWidget *widget, gconstpointer text)
{
  return GTK_IS_LABEL (widget) && strstr (gtk_label_get_text (GTK_LABEL (widget)), text) != NULL;
}

static gboolean
is_of_type (GtkWidget *widget, gconstpointer type)
{
  return G_TYPE_CHECK_INSTANCE_TYPE (widget, GPOINTER_TO_SIZE (type));
}

static gboolean
is_mapped_label_with_text (GtkWidget *widget, gconstpointer text)
{
  return is_label_with_text (widget, text) && gtk_widget_get_mapped (widget);
}

/* A label showing exactly @text that is on screen (not on a hidden page). */
static GtkWidget *
find_mapped_label (GtkWidget *root, const char *text)
{
  return find_widget (root, is_mapped_label_with_text, text);
}

static gboolean
is_primary_menu_button (GtkWidget *widget, gconstpointer data)
{
  return GTK_IS_MENU_BUTTON (widget) && gtk_menu_button_get_primary (GTK_MENU_BUTTON (widget));
}

static gboolean
is_cancel_button (GtkWidget *widget, gconstpointer data)
{
  return GTK_IS_BUTTON (widget)
         && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)),
                       "win.cancel-loading") == 0;
}

static GtkWidget *
find_cancel_button (CpsWindow *window)
{
  GtkWidget *button = find_widget (GTK_WIDGET (window), is_cancel_button, NULL);

  g_assert_nonnull (button);
  return button;
}

static void
select_row (CpsWindow *window, guint position)
{
  GtkSelectionModel *selection = GTK_SELECTION_MODEL (cps_window_get_rows (window));

  gtk_selection_model_select_item (selection, position, TRUE);
  run_main_loop_for (50);
}

typedef struct
{
  GtkWidget *widget;
  GskRenderNode *node;
} Capture;

/* A widget's last render node only exists between a frame being painted and
 * the next change, so it is taken right after a paint. */
static void
after_paint_cb (GdkFrameClock *clock, Capture *capture)
{
  g_autoptr (GdkPaintable) paintable = NULL;
  g_autoptr (GtkSnapshot) snapshot = NULL;

  if (capture->node != NULL)
    return;
  paintable = gtk_widget_paintable_new (capture->widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, gtk_widget_get_width (capture->widget),
                          gtk_widget_get_height (capture->widget));
  capture->node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
}

static void
save_screenshot (GtkWidget *widget, const char *path)
{
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
  Capture capture = { widget, NULL };
  g_autoptr (GdkTexture) texture = NULL;
  gboolean timed_out = FALSE;
  guint timeout_id;
  gulong handler;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  g_assert_nonnull (renderer);
  g_assert_nonnull (clock);
  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);

  handler = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), &capture);
  timeout_id = g_timeout_add_seconds (10, timeout_cb, &timed_out);
  while (capture.node == NULL && !timed_out)
    {
      gtk_widget_queue_draw (widget);
      g_main_context_iteration (NULL, TRUE);
    }
  g_signal_handler_disconnect (clock, handler);
  if (!timed_out)
    g_source_remove (timeout_id);
  g_assert_nonnull (capture.node);

  texture = gsk_renderer_render_texture (renderer, capture.node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  gsk_render_node_unref (capture.node);
  g_assert_nonnull (texture);
  g_assert_true (gdk_texture_save_to_png (texture, path));
}

/* With CPS_EXTRA_SCREENSHOTS set, the other views are saved next to the
 * main screenshot too, for reviewing the design. */
static void
save_extra_screenshot (CpsWindow *window, const char *name)
{
  g_autofree char *file_name = NULL;
  g_autofree char *path = NULL;

  if (g_getenv ("CPS_EXTRA_SCREENSHOTS") == NULL)
    return;
  file_name = g_strdup_printf ("console-screenshot-%s.png", name);
  path = g_test_build_filename (G_TEST_BUILT, file_name, NULL);
  run_main_loop_for (300);
  save_screenshot (GTK_WIDGET (window), path);
}

/* Tests */

static void
test_accels (void)
{
  struct
  {
    const char *action;
    const char *accel;
  } expected[] = {
    { "win.open", "<Control>o" },
    { "app.quit", "<Control>q" },
    { "app.help", "F1" },
    /* Set by GtkApplication only when it finds gtk/help-overlay.ui at the
     * resource base path. */
    { "win.show-help-overlay", "<Control>question" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_auto (GStrv) accels =
        gtk_application_get_accels_for_action (GTK_APPLICATION (application),
                                               expected[i].action);

      g_test_message ("%s", expected[i].action);
      g_assert_true (g_strv_contains ((const char *const *) accels, expected[i].accel));
    }

  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (application), "about"));
  {
    struct
    {
      const char *action;
      const char *accel;
    } store_accels[] = {
      { "win.import", "<Control>i" },
      { "win.compare", "<Control>d" },
      { "win.reload", "F5" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (store_accels); i++)
      {
        g_auto (GStrv) accels =
          gtk_application_get_accels_for_action (GTK_APPLICATION (application),
                                                 store_accels[i].action);
        g_test_message ("%s", store_accels[i].action);
        g_assert_true (g_strv_contains ((const char *const *) accels, store_accels[i].accel));
      }
  }
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (application), "help"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (application), "quit"));
}

static void
test_empty_state (void)
{
  CpsWindow *window = create_window ();
  GtkWidget *title;

  g_assert_cmpuint (g_list_model_get_n_items (cps_window_get_rows (window)), ==, 0);
  title = find_mapped_label (GTK_WIDGET (window), "Open Planner Backups and Project Bundles");
  g_assert_nonnull (title);
  save_extra_screenshot (window, "empty");
  g_assert_false (cps_window_get_loading (window));
  g_assert_false (gtk_widget_get_sensitive (find_cancel_button (window)));

  destroy_window (window);
}

static void
test_fixture_rows (void)
{
  CpsWindow *window = create_window_with_fixtures ();
  GListModel *rows = cps_window_get_rows (window);
  const char *backup_projects[] = { "Car Rig Test", "Night Exterior", "Studio Interview" };
  const struct
  {
    const char *file;
    CpsPlannerKind kind;
  } file_rows[] = {
    { RULES_NAME, CPS_PLANNER_KIND_AUTO_GEAR_RULES },
    { VERSION_LOG_NAME, CPS_PLANNER_KIND_VERSION_LOG },
    { DIAGNOSTICS_LOG_NAME, CPS_PLANNER_KIND_DIAGNOSTICS_LOG },
  };
  CpsProjectItem *item;
  GtkWidget *column_view;

  /* 3 projects in the backup, 1 in the bundle, 1 row for each other file. */
  g_assert_cmpuint (g_list_model_get_n_items (rows), ==, 7);
  g_assert_cmpuint (count_rows_of (window, BACKUP_NAME), ==, 3);

  for (guint i = 0; i < G_N_ELEMENTS (backup_projects); i++)
    {
      g_autofree char *status = NULL;

      item = find_row (window, BACKUP_NAME, backup_projects[i], NULL);
      g_assert_nonnull (item);
      g_assert_nonnull (cps_project_item_get_project (item));
      g_assert_cmpstr (cps_project_item_get_kind_label (item), ==,
                       cps_planner_kind_to_label (CPS_PLANNER_KIND_FULL_BACKUP));
      g_assert_true (cps_checksum_is_valid (cps_project_item_get_checksum (item)));
      /* The fixture is intact: at most notes (the planner's own diagnostics). */
      g_assert_cmpuint (cps_project_item_count (item, CPS_SEVERITY_ERROR), ==, 0);
      g_assert_cmpuint (cps_project_item_count (item, CPS_SEVERITY_WARNING), ==, 0);
      g_assert_cmpint (cps_project_item_get_status (item), ==, CPS_SEVERITY_INFO);
      status = cps_project_item_dup_status_label (item);
      g_assert_cmpstr (status, ==, "OK");
    }

  /* The backup's “recovered” diagnostics entry shows on its projects. */
  item = find_row (window, BACKUP_NAME, "Night Exterior", NULL);
  g_assert_cmpuint (cps_project_item_get_n_file_findings (item), >=, 1);

  item = find_row (window, BUNDLE_NAME, "Night Exterior", NULL);
  g_assert_nonnull (item);
  g_assert_nonnull (cps_project_item_get_project (item));
  g_assert_cmpstr (cps_project_item_get_kind_label (item), ==,
                   cps_planner_kind_to_label (CPS_PLANNER_KIND_PROJECT_BUNDLE));
  g_assert_true (cps_checksum_is_valid (cps_project_item_get_checksum (item)));
  g_assert_cmpint (cps_project_item_get_status (item), ==, CPS_SEVERITY_INFO);

  for (guint i = 0; i < G_N_ELEMENTS (file_rows); i++)
    {
      g_autofree char *status = NULL;

      g_test_message ("%s", file_rows[i].file);
      g_assert_cmpuint (count_rows_of (window, file_rows[i].file), ==, 1);
      item = find_row (window, file_rows[i].file, file_rows[i].file, NULL);
      g_assert_nonnull (item);
      g_assert_null (cps_project_item_get_project (item));
      g_assert_null (cps_project_item_get_checksum (item));
      g_assert_cmpuint (cps_project_item_get_auto_backup_count (item), ==, 0);
      g_assert_cmpstr (cps_project_item_get_kind_label (item), ==,
                       cps_planner_kind_to_label (file_rows[i].kind));
      g_assert_cmpuint (cps_project_item_count (item, CPS_SEVERITY_ERROR), ==, 0);
      status = cps_project_item_dup_status_label (item);
      g_assert_cmpstr (status, !=, "Unreadable");
    }

  /* The table shows them: the cells are drawn. */
  column_view = find_widget (GTK_WIDGET (window), is_of_type,
                             GSIZE_TO_POINTER (GTK_TYPE_COLUMN_VIEW));
  g_assert_nonnull (column_view);
  g_assert_nonnull (find_mapped_label (column_view, "Studio Interview"));
  g_assert_nonnull (find_mapped_label (column_view, RULES_NAME));
  item = find_row (window, BUNDLE_NAME, "Night Exterior", NULL);
  g_assert_true (g_str_has_prefix (cps_project_item_get_checksum (item), "sha256:"));
  g_assert_nonnull (find_mapped_label (column_view,
                                       cps_project_item_get_checksum (item) + strlen ("sha256:")));
  g_assert_nonnull (find_mapped_label (column_view, "Full backup"));

  destroy_window (window);
}

static void
test_sorting (void)
{
  CpsWindow *window = create_window_with_fixtures ();
  GListModel *rows = cps_window_get_rows (window);
  GtkColumnView *column_view = GTK_COLUMN_VIEW (
    find_widget (GTK_WIDGET (window), is_of_type, GSIZE_TO_POINTER (GTK_TYPE_COLUMN_VIEW)));
  GListModel *columns = gtk_column_view_get_columns (column_view);
  g_autoptr (GtkColumnViewColumn) name_column = g_list_model_get_item (columns, 0);
  guint n = g_list_model_get_n_items (rows);

  g_assert_cmpstr (gtk_column_view_column_get_title (name_column), ==, "Name");

  gtk_column_view_sort_by_column (column_view, name_column, GTK_SORT_DESCENDING);
  flush_main_context ();
  g_assert_cmpuint (g_list_model_get_n_items (rows), ==, n);
  for (guint i = 1; i < n; i++)
    {
      g_autoptr (CpsProjectItem) a = g_list_model_get_item (rows, i - 1);
      g_autoptr (CpsProjectItem) b = g_list_model_get_item (rows, i);
      g_autofree char *fa = g_utf8_casefold (cps_project_item_get_name (a), -1);
      g_autofree char *fb = g_utf8_casefold (cps_project_item_get_name (b), -1);
      g_autofree char *ka = g_utf8_collate_key (fa, -1);
      g_autofree char *kb = g_utf8_collate_key (fb, -1);

      /* Descending, the way GtkStringSorter compares. */
      g_assert_cmpint (strcmp (ka, kb), >=, 0);
    }
  {
    g_autoptr (CpsProjectItem) first = g_list_model_get_item (rows, 0);
    g_assert_cmpstr (cps_project_item_get_name (first), ==, "Studio Interview");
  }

  destroy_window (window);
}

static void
test_detail_pane (void)
{
  CpsWindow *window = create_window_with_fixtures ();
  CpsProjectView *view = cps_window_get_project_view (window);
  GtkTextView *text_view;
  GtkTextIter start, end;
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;
  CpsProjectItem *item;
  guint position = 0;

  item = find_row (window, BACKUP_NAME, "Night Exterior", &position);
  g_assert_nonnull (item);
  select_row (window, position);
  g_assert_true (cps_project_view_get_item (view) == item);
  g_assert_cmpstr (cps_project_view_get_page (view), ==, "summary");

  /* The planner-aware summary, on screen. */
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), "Example Cinema Camera X1"));
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), "Example 7in Monitor"));
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), "Example Wireless TX"));
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), "Alex Example (DoP)"));
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), cps_project_item_get_checksum (item)));
  g_assert_nonnull (find_mapped_label (
    GTK_WIDGET (view), cps_planner_file_get_checksum (cps_project_item_get_file (item))));

  /* Raw JSON: the project document as the library writes it. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "raw"));
  flush_main_context ();
  g_assert_cmpstr (cps_project_view_get_page (view), ==, "raw");
  text_view = GTK_TEXT_VIEW (
    find_widget (GTK_WIDGET (view), is_of_type, GSIZE_TO_POINTER (GTK_TYPE_TEXT_VIEW)));
  g_assert_nonnull (text_view);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (text_view)));
  gtk_text_buffer_get_bounds (gtk_text_view_get_buffer (text_view), &start, &end);
  text = gtk_text_iter_get_text (&start, &end);
  expected = cps_json_to_string (cps_project_item_get_root (item), 2, NULL, NULL);
  g_assert_nonnull (expected);
  g_assert_cmpstr (text, ==, expected);
  g_assert_nonnull (strstr (text, "\"camera\": \"Example Cinema Camera X1\""));

  /* Another row while on the raw page: the text follows. */
  item = find_row (window, BUNDLE_NAME, "Night Exterior", &position);
  select_row (window, position);
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&expected, g_free);
  gtk_text_buffer_get_bounds (gtk_text_view_get_buffer (text_view), &start, &end);
  text = gtk_text_iter_get_text (&start, &end);
  expected = cps_json_to_string (cps_project_item_get_root (item), 2, NULL, NULL);
  g_assert_cmpstr (text, ==, expected);

  /* A file without projects: the planner-aware file summary. */
  item = find_row (window, VERSION_LOG_NAME, VERSION_LOG_NAME, &position);
  select_row (window, position);
  cps_project_view_set_page (view, "summary");
  run_main_loop_for (50);
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), "Version Comparison"));

  destroy_window (window);
}

static GFile *
write_temp_file (const char *dir, const char *name, const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return g_file_new_for_path (path);
}

static void
remove_temp_dir (const char *dir)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_remove (path);
    }
  g_rmdir (dir);
}

static void
test_damaged_file (void)
{
  CpsWindow *window = create_window ();
  CpsProjectView *view = cps_window_get_project_view (window);
  g_autofree char *dir = g_dir_make_tmp ("cps-console-XXXXXX", NULL);
  g_autoptr (GFile) file = NULL;
  CpsProjectItem *item;
  GPtrArray *findings;
  const CpsFinding *error_finding = NULL;
  guint position = 0;

  g_assert_nonnull (dir);
  /* A bundle cut off in the middle of a string, as a failed copy leaves it. */
  file = write_temp_file (dir, "Truncated.json",
                          "{\n  \"setupName\": \"Truncated\",\n  \"camera\": \"Example Cin");
  cps_window_open_files (window, &file, 1);
  wait_for_loading (window);

  g_assert_cmpuint (g_list_model_get_n_items (cps_window_get_rows (window)), ==, 1);
  item = find_row (window, "Truncated.json", "Truncated.json", &position);
  g_assert_nonnull (item);
  g_assert_true (cps_project_item_is_readable (item));
  g_assert_cmpint (cps_project_item_get_status (item), ==, CPS_SEVERITY_ERROR);

  findings = cps_project_item_get_findings (item);
  for (guint i = 0; i < findings->len && error_finding == NULL; i++)
    {
      const CpsFinding *finding = g_ptr_array_index (findings, i);
      if (finding->severity == CPS_SEVERITY_ERROR)
        error_finding = finding;
    }
  if (error_finding == NULL)
    g_error ("The truncated file has no error finding");
  g_assert_cmpstr (error_finding->message, !=, "");

  /* The finding is shown inline, with its path. */
  select_row (window, position);
  save_extra_screenshot (window, "damaged");
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), error_finding->message));
  if (error_finding->path != NULL)
    g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), error_finding->path));
  cps_project_view_set_page (view, "problems");
  run_main_loop_for (50);
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), error_finding->message));

  destroy_window (window);
  remove_temp_dir (dir);
}

static void
test_auto_backups (void)
{
  CpsWindow *window = create_window ();
  CpsProjectView *view = cps_window_get_project_view (window);
  g_autofree char *dir = g_dir_make_tmp ("cps-console-XXXXXX", NULL);
  g_autoptr (GFile) file = NULL;
  CpsProjectItem *item;
  GListModel *backups;
  guint position = 0;

  /* Two safety copies of Alpha, one of a project deleted since. */
  file = write_temp_file (
    dir, "backup.json",
    "{\"version\":\"1.0.53\",\"generatedAt\":\"2025-03-01T14:05:09+01:00\","
    "\"settings\":{\"language\":\"en\"},\"sessionStorage\":{},\"data\":{"
    "\"setups\":{\"Alpha\":{\"camera\":\"Cam A\",\"battery\":\"B1\"},"
    "\"auto-backup-2025-03-01-12-00-Alpha\":{\"camera\":\"Cam A\",\"battery\":\"B0\"},"
    "\"auto-backup-2025-03-01-13-30-15-Alpha\":{\"camera\":\"Cam A\",\"battery\":\"B0.5\"},"
    "\"auto-backup-2025-02-28-09-00-Gone\":{\"camera\":\"Cam G\"}},"
    "\"project\":{"
    "\"Alpha\":{\"gearList\":\"<h2>A</h2>\",\"projectInfo\":{\"projectName\":\"Alpha\"}},"
    "\"auto-backup-2025-03-01-12-00-Alpha\":{\"gearList\":\"<h2>A0</h2>\",\"projectInfo\":null},"
    "\"auto-backup-2025-03-01-13-30-15-Alpha\":{\"gearList\":\"<h2>A1</h2>\",\"projectInfo\":null},"
    "\"auto-backup-2025-02-28-09-00-Gone\":{\"gearList\":\"\",\"projectInfo\":null}}}}");
  cps_window_open_files (window, &file, 1);
  wait_for_loading (window);

  /* Alpha with its two copies; the orphaned copy still gets a row. */
  g_assert_cmpuint (g_list_model_get_n_items (cps_window_get_rows (window)), ==, 2);
  item = find_row (window, "backup.json", "Alpha", &position);
  g_assert_nonnull (item);
  g_assert_cmpuint (cps_project_item_get_auto_backup_count (item), ==, 2);
  g_assert_nonnull (find_row (window, "backup.json", "auto-backup-2025-02-28-09-00-Gone", NULL));

  select_row (window, position);
  cps_project_view_set_page (view, "backups");
  run_main_loop_for (50);
  backups = cps_planner_project_get_auto_backups (cps_project_item_get_project (item));
  for (guint i = 0; i < g_list_model_get_n_items (backups); i++)
    {
      g_autoptr (CpsPlannerProject) backup = g_list_model_get_item (backups, i);

      g_assert_nonnull (find_mapped_label (GTK_WIDGET (view),
                                           cps_planner_project_get_name (backup)));
      g_assert_nonnull (find_mapped_label (GTK_WIDGET (view),
                                           cps_planner_project_get_content_checksum (backup)));
    }
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), "2025-03-01 13:30:15"));

  save_extra_screenshot (window, "auto-backups");

  destroy_window (window);
  remove_temp_dir (dir);
}

static GtkDropTarget *
find_drop_target (GtkWidget *widget)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_DROP_TARGET (controller))
        return GTK_DROP_TARGET (controller);
    }
  return NULL;
}

static void
test_dropped_folder (void)
{
  CpsWindow *window = create_window ();
  g_autofree char *dir = g_dir_make_tmp ("cps-console-XXXXXX", NULL);
  g_autoptr (GFile) folder = g_file_new_for_path (dir);
  g_autoptr (GFile) bundle = fixture_file (BUNDLE_NAME);
  g_autofree char *folder_name = g_file_get_basename (folder);
  GtkDropTarget *target = find_drop_target (GTK_WIDGET (window));
  g_auto (GValue) value = G_VALUE_INIT;
  GSList *list = NULL;
  gboolean accepted = FALSE;
  CpsProjectItem *item;
  g_autofree char *status = NULL;

  g_assert_nonnull (target);
  g_assert_true (gdk_content_formats_contain_gtype (gtk_drop_target_get_formats (target),
                                                    GDK_TYPE_FILE_LIST));

  /* A folder dropped together with a good file. */
  list = g_slist_append (list, folder);
  list = g_slist_append (list, bundle);
  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, gdk_file_list_new_from_list (list));
  g_slist_free (list);
  g_signal_emit_by_name (target, "drop", &value, 10.0, 10.0, &accepted);
  g_assert_true (accepted);
  wait_for_loading (window);

  g_assert_cmpuint (g_list_model_get_n_items (cps_window_get_rows (window)), ==, 2);
  item = find_row (window, folder_name, folder_name, NULL);
  g_assert_nonnull (item);
  g_assert_false (cps_project_item_is_readable (item));
  g_assert_null (cps_project_item_get_file (item));
  g_assert_cmpint (cps_project_item_get_status (item), ==, CPS_SEVERITY_ERROR);
  g_assert_nonnull (cps_project_item_get_error_message (item));
  g_assert_cmpuint (cps_project_item_get_findings (item)->len, ==, 1);
  status = cps_project_item_dup_status_label (item);
  g_assert_cmpstr (status, ==, "Unreadable");
  g_assert_nonnull (find_row (window, BUNDLE_NAME, "Night Exterior", NULL));
  select_row (window, 0);
  save_extra_screenshot (window, "unreadable");

  destroy_window (window);
  g_rmdir (dir);
}

static void
test_missing_file_and_recent (void)
{
  GSettings *settings = cps_application_get_settings (application);
  CpsWindow *window;
  g_autoptr (GPtrArray) files = fixture_files ();
  g_autofree char *dir = g_dir_make_tmp ("cps-console-XXXXXX", NULL);
  g_autofree char *missing_path = g_build_filename (dir, "gone.json", NULL);
  g_autoptr (GFile) missing = g_file_new_for_path (missing_path);
  g_autofree char *missing_uri = g_file_get_uri (missing);
  g_autofree char *last_uri = NULL;
  g_auto (GStrv) recent = NULL;
  CpsProjectItem *item;

  g_assert_nonnull (settings);
  g_settings_reset (settings, "recent-files");
  g_settings_set_strv (settings, "recent-files", (const char *const[]) { missing_uri, NULL });

  window = create_window ();
  cps_window_open_files (window, (GFile **) files->pdata, files->len);
  wait_for_loading (window);

  /* Newest first, each once. */
  recent = g_settings_get_strv (settings, "recent-files");
  g_assert_cmpuint (g_strv_length (recent), ==, files->len + 1);
  last_uri = g_file_get_uri (files->pdata[files->len - 1]);
  g_assert_cmpstr (recent[0], ==, last_uri);
  g_assert_cmpstr (recent[files->len], ==, missing_uri);
  g_clear_pointer (&recent, g_strfreev);

  /* The primary menu offers them, names as they are (not as mnemonics). */
  {
    GtkMenuButton *button =
      GTK_MENU_BUTTON (find_widget (GTK_WIDGET (window), is_primary_menu_button, NULL));
    GMenuModel *menu = gtk_menu_button_get_menu_model (button);
    GMenuModel *recent_section = g_menu_model_get_item_link (menu, 1, G_MENU_LINK_SECTION);
    GMenuModel *submenu = g_menu_model_get_item_link (recent_section, 0, G_MENU_LINK_SUBMENU);
    GMenuModel *files_section = g_menu_model_get_item_link (submenu, 0, G_MENU_LINK_SECTION);
    g_autofree char *label = NULL;
    g_autofree char *target = NULL;

    g_assert_cmpint (g_menu_model_get_n_items (files_section), ==, files->len + 1);
    g_assert_true (g_menu_model_get_item_attribute (files_section, files->len - 1,
                                                    G_MENU_ATTRIBUTE_LABEL, "s", &label));
    /* The backup, opened first: its underscores are doubled. */
    g_assert_cmpstr (label, ==,
                     "cine__power__planner__backup__2025-03-01T14-05-09+01-00.json");
    g_assert_true (g_menu_model_get_item_attribute (files_section, files->len - 1,
                                                    G_MENU_ATTRIBUTE_TARGET, "s", &target));
    {
      g_autofree char *backup_uri = g_file_get_uri (files->pdata[0]);
      g_assert_cmpstr (target, ==, backup_uri);
    }
    g_object_unref (files_section);
    g_object_unref (submenu);
    g_object_unref (recent_section);
  }

  /* Opening it again does not add rows or duplicate entries. */
  cps_window_open_files (window, (GFile **) files->pdata, 1);
  wait_for_loading (window);
  g_assert_cmpuint (g_list_model_get_n_items (cps_window_get_rows (window)), ==, 7);
  recent = g_settings_get_strv (settings, "recent-files");
  g_assert_cmpuint (g_strv_length (recent), ==, files->len + 1);
  g_clear_pointer (&recent, g_strfreev);

  /* A recent file that has gone: an error row, and it leaves the list. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-recent", "s",
                                             missing_uri));
  wait_for_loading (window);
  item = find_row (window, "gone.json", "gone.json", NULL);
  g_assert_nonnull (item);
  g_assert_false (cps_project_item_is_readable (item));
  recent = g_settings_get_strv (settings, "recent-files");
  g_assert_false (g_strv_contains ((const char *const *) recent, missing_uri));
  g_assert_cmpuint (g_strv_length (recent), ==, files->len);

  /* At most ten. */
  for (guint i = 0; i < 12; i++)
    {
      g_autofree char *name = g_strdup_printf ("copy-%02u.json", i);
      g_autoptr (GFile) copy = write_temp_file (dir, name, "{\"type\": \"unknown\"}");
      cps_window_open_files (window, &copy, 1);
    }
  wait_for_loading (window);
  g_clear_pointer (&recent, g_strfreev);
  recent = g_settings_get_strv (settings, "recent-files");
  g_assert_cmpuint (g_strv_length (recent), ==, 10);
  g_assert_true (g_str_has_suffix (recent[0], "copy-11.json"));

  destroy_window (window);
  g_settings_reset (settings, "recent-files");
  remove_temp_dir (dir);
}

static void
test_open_dialog (void)
{
  CpsWindow *window = create_window ();
  GListModel *toplevels = gtk_window_get_toplevels ();
  GtkWindow *dialog = NULL;
  g_autoptr (GListModel) filters = NULL;
  GtkFileFilter *filter;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open", NULL));
  run_main_loop_for (100);

  /* Without a portal, GtkFileChooserNative shows GTK's own dialog. */
  for (guint i = 0; i < g_list_model_get_n_items (toplevels) && dialog == NULL; i++)
    {
      g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, i);

      if (GTK_IS_FILE_CHOOSER (toplevel) && gtk_widget_get_visible (GTK_WIDGET (toplevel)))
        dialog = toplevel;
    }
  if (dialog == NULL)
    {
      g_test_skip ("The file chooser went through a portal");
      destroy_window (window);
      return;
    }

  g_assert_true (gtk_window_get_transient_for (dialog) == GTK_WINDOW (window));
  g_assert_true (gtk_file_chooser_get_select_multiple (GTK_FILE_CHOOSER (dialog)));
  filters = gtk_file_chooser_get_filters (GTK_FILE_CHOOSER (dialog));
  g_assert_cmpuint (g_list_model_get_n_items (filters), ==, 2);
  filter = gtk_file_chooser_get_filter (GTK_FILE_CHOOSER (dialog));
  g_assert_cmpstr (gtk_file_filter_get_name (filter), ==, "Planner Files (JSON)");

  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  run_main_loop_for (50);
  g_assert_cmpuint (g_list_model_get_n_items (cps_window_get_rows (window)), ==, 0);

  destroy_window (window);
}

static void
test_cancel_loading (void)
{
  CpsWindow *window = create_window ();
  g_autoptr (GPtrArray) files = fixture_files ();

  cps_window_open_files (window, (GFile **) files->pdata, files->len);
  g_assert_true (cps_window_get_loading (window));
  g_assert_true (gtk_widget_get_sensitive (find_cancel_button (window)));
  /* Nothing has come back yet: the main loop has not run. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.cancel-loading", NULL));
  g_assert_false (cps_window_get_loading (window));
  g_assert_false (gtk_widget_get_sensitive (find_cancel_button (window)));

  /* Whatever the worker thread still returns is dropped. */
  run_main_loop_for (500);
  g_assert_cmpuint (g_list_model_get_n_items (cps_window_get_rows (window)), ==, 0);

  /* And loading works again afterwards. */
  cps_window_open_files (window, (GFile **) files->pdata, 2);
  wait_for_loading (window);
  g_assert_cmpuint (g_list_model_get_n_items (cps_window_get_rows (window)), ==, 4);

  destroy_window (window);
}

static void
test_window_size (void)
{
  GSettings *settings = cps_application_get_settings (application);
  CpsWindow *window;
  int width, height;

  g_settings_set_int (settings, "window-width", 900);
  g_settings_set_int (settings, "window-height", 640);
  g_settings_set_boolean (settings, "window-maximized", FALSE);

  window = cps_window_new (application);
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 900);
  g_assert_cmpint (height, ==, 640);

  gtk_window_present (GTK_WINDOW (window));
  run_main_loop_for (50);
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 700);
  gtk_window_close (GTK_WINDOW (window));
  flush_main_context ();

  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 1000);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 700);
  g_settings_reset (settings, "window-width");
  g_settings_reset (settings, "window-height");
}

static void
test_help_without_yelp (void)
{
  g_autofree char *yelp = g_find_program_in_path ("yelp");
  CpsWindow *window;
  GtkWindow *dialog = NULL;
  GListModel *toplevels = NULL;
  GtkWidget *path;

  if (yelp != NULL)
    {
      g_test_skip ("yelp is installed, so F1 opens it instead of the message");
      return;
    }

  window = create_window ();
  g_action_group_activate_action (G_ACTION_GROUP (application), "help", NULL);
  run_main_loop_for (50);

  toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels) && dialog == NULL; i++)
    {
      g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (toplevel))
        dialog = toplevel;
    }
  g_assert_nonnull (dialog);
  g_assert_true (gtk_window_get_transient_for (dialog) == GTK_WINDOW (window));
  path = find_widget (GTK_WIDGET (dialog), is_label_containing,
                      HELPDIR "/C/cine-power-sync/index.page");
  g_assert_nonnull (path);

  gtk_window_destroy (dialog);
  destroy_window (window);
}

static void
test_about (void)
{
  CpsWindow *window = create_window ();
  GListModel *toplevels = NULL;
  GtkWindow *about = NULL;

  g_action_group_activate_action (G_ACTION_GROUP (application), "about", NULL);
  run_main_loop_for (50);
  toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels) && about == NULL; i++)
    {
      g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, i);

      if (ADW_IS_ABOUT_WINDOW (toplevel))
        about = toplevel;
    }
  g_assert_nonnull (about);
  g_assert_cmpstr (adw_about_window_get_version (ADW_ABOUT_WINDOW (about)), ==, PACKAGE_VERSION);
  g_assert_cmpint (adw_about_window_get_license_type (ADW_ABOUT_WINDOW (about)), ==,
                   GTK_LICENSE_GPL_3_0);

  gtk_window_destroy (about);
  destroy_window (window);
}


/* The local store */

static char *
dup_store_dir (void)
{
  return g_path_get_dirname (g_getenv ("CPS_STORE"));
}

/* The store and its snapshots go; the next window finds none. */
static void
remove_store (void)
{
  g_autofree char *dir = dup_store_dir ();

  cps_test_remove_tree (dir);
  g_assert_false (g_file_test (g_getenv ("CPS_STORE"), G_FILE_TEST_EXISTS));
}

static CpsStore *
open_test_store (void)
{
  g_autoptr (GError) error = NULL;
  CpsStore *store = cps_store_open (g_getenv ("CPS_STORE"), &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

static void
import_fixture (CpsStore *store, CpsDeviceKey *key, const char *name)
{
  g_autoptr (GFile) location = fixture_file (name);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsPlannerFile) file = cps_planner_file_load (location, NULL, &error);
  g_autoptr (GPtrArray) imported = NULL;

  g_assert_no_error (error);
  imported = cps_store_import_file (store, key, file, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (imported);
}

/* A copy of @revision's document with one value replaced. */
static CpsJsonDocument *
edit_document (CpsRevision *revision, const char *old_text, const char *new_text)
{
  g_autofree char *text = cps_json_to_string (cps_revision_get_document (revision), 0, NULL, NULL);
  g_autoptr (GString) edited = g_string_new (text);
  g_autoptr (GError) error = NULL;
  CpsJsonDocument *document;

  g_assert_cmpuint (g_string_replace (edited, old_text, new_text, 0), >, 0);
  document = cps_json_document_parse_copy (edited->str, (gssize) edited->len, NULL, &error);
  g_assert_no_error (error);
  return document;
}

static CpsRevision *
add_revision (CpsStore *store, CpsDeviceKey *key, CpsRevision *parent, const char *created_at,
              const CpsJsonNode *document, gboolean deleted)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsRevision) revision = NULL;

  revision = cps_revision_new_signed (cps_revision_get_project_id (parent), &parent, 1, key,
                                      created_at, document, deleted, &error);
  g_assert_no_error (error);
  cps_store_add_revision (store, revision, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&revision);
}

/* @minutes after now, as revisions write times. */
static char *
dup_time_from_now (int minutes)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) time = g_date_time_add_minutes (now, minutes);

  return g_date_time_format (time, "%Y-%m-%dT%H:%M:%S.000Z");
}

/* The backup's three projects; Night Exterior edited on two devices at
 * once (two heads), Car Rig Test deleted since. */
static void
prepare_store (void)
{
  g_autoptr (CpsStore) store = open_test_store ();
  g_autoptr (CpsDeviceKey) cart = cps_device_key_new_ephemeral (NULL);
  g_autoptr (CpsDeviceKey) truck = cps_device_key_new_ephemeral (NULL);
  g_autoptr (CpsStoreProject) night = NULL;
  g_autoptr (CpsStoreProject) car = NULL;
  g_autoptr (CpsRevision) night_first = NULL;
  g_autoptr (CpsRevision) car_first = NULL;
  g_autoptr (CpsJsonDocument) on_cart = NULL;
  g_autoptr (CpsJsonDocument) on_truck = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *at_cart = dup_time_from_now (2);
  g_autofree char *at_truck = dup_time_from_now (5);
  g_autofree char *at_deletion = dup_time_from_now (9);

  import_fixture (store, cart, BACKUP_NAME);
  cps_store_add_device (store, cps_device_key_get_device_id (truck),
                        cps_device_key_get_public_key (truck), "Camera truck", &error);
  g_assert_no_error (error);

  night = cps_store_find_project (store, "Night Exterior", &error);
  g_assert_no_error (error);
  night_first = cps_store_get_display_winner (store, night->id, &error);
  g_assert_no_error (error);
  on_cart = edit_document (night_first, "Example 150Wh V-Mount", "Example 98Wh V-Mount");
  on_truck = edit_document (night_first, "Example 150Wh V-Mount", "Example 290Wh V-Mount");
  g_object_unref (add_revision (store, cart, night_first, at_cart,
                                cps_json_document_get_root (on_cart), FALSE));
  g_object_unref (add_revision (store, truck, night_first, at_truck,
                                cps_json_document_get_root (on_truck), FALSE));

  car = cps_store_find_project (store, "Car Rig Test", &error);
  g_assert_no_error (error);
  car_first = cps_store_get_display_winner (store, car->id, &error);
  g_assert_no_error (error);
  g_object_unref (add_revision (store, cart, car_first, at_deletion,
                                cps_revision_get_document (car_first), TRUE));
}

static CpsProjectItem *
find_local_row (CpsWindow *window, const char *name, guint *position)
{
  return find_row (window, "Local store", name, position);
}

static guint
count_local_rows (CpsWindow *window)
{
  GListModel *rows = cps_window_get_rows (window);
  guint n = 0;

  for (guint i = 0; i < g_list_model_get_n_items (rows); i++)
    {
      g_autoptr (CpsProjectItem) item = g_list_model_get_item (rows, i);

      if (cps_project_item_is_local (item))
        n++;
    }
  return n;
}

static void
wait_for_history (CpsProjectView *view)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (LOAD_TIMEOUT_S, timeout_cb, &timed_out);

  while (cps_project_view_get_history_loading (view) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("The history was still loading after %d seconds", LOAD_TIMEOUT_S);
  g_source_remove (id);
  run_main_loop_for (100);
}

static gboolean
is_mapped_scrolled_window (GtkWidget *widget, gconstpointer data)
{
  return GTK_IS_SCROLLED_WINDOW (widget) && gtk_widget_get_mapped (widget);
}

static gboolean
is_button_for_action (GtkWidget *widget, gconstpointer name)
{
  return GTK_IS_BUTTON (widget)
         && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), name) == 0;
}

/* Whether @name is enabled, as its button in the header bar shows it. */
static gboolean
action_enabled (CpsWindow *window, const char *name)
{
  GtkWidget *button = find_widget (GTK_WIDGET (window), is_button_for_action, name);

  g_assert_nonnull (button);
  return gtk_widget_get_sensitive (button);
}

static CpsDiffWindow *
wait_for_diff_window (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  CpsDiffWindow *diff = NULL;
  gboolean timed_out = FALSE;
  guint id;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels) && diff == NULL; i++)
    {
      g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, i);

      if (CPS_IS_DIFF_WINDOW (toplevel) && gtk_widget_get_visible (GTK_WIDGET (toplevel)))
        diff = CPS_DIFF_WINDOW (toplevel);
    }
  g_assert_nonnull (diff);

  id = g_timeout_add_seconds (LOAD_TIMEOUT_S, timeout_cb, &timed_out);
  while (cps_diff_window_get_busy (diff) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("The comparison was still running after %d seconds", LOAD_TIMEOUT_S);
  g_source_remove (id);
  run_main_loop_for (200);
  return diff;
}

static guint
count_mapped_labels (GtkWidget *root, const char *text)
{
  guint n = is_mapped_label_with_text (root, text) ? 1 : 0;

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += count_mapped_labels (child, text);
  return n;
}

static gboolean
is_mapped_label_containing (GtkWidget *widget, gconstpointer text)
{
  return is_label_containing (widget, text) && gtk_widget_get_mapped (widget);
}

static char *
short_hex (const char *id, guint n)
{
  g_assert_true (g_str_has_prefix (id, "sha256:"));
  return g_strndup (id + strlen ("sha256:"), n);
}

static char *
local_time (const char *rfc3339)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_iso8601 (rfc3339, NULL);
  g_autoptr (GDateTime) local = g_date_time_to_local (time);

  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
}

static void
test_store_rows (void)
{
  CpsWindow *window;
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (GPtrArray) projects = NULL;
  g_autoptr (GError) error = NULL;
  GtkWidget *column_view;
  CpsProjectItem *item;

  remove_store ();
  prepare_store ();
  store = open_test_store ();
  projects = cps_store_list_projects (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (projects->len, ==, 3);

  window = create_window ();
  wait_for_loading (window);

  /* The store's projects, and nothing else: no file is open. */
  g_assert_cmpuint (g_list_model_get_n_items (cps_window_get_rows (window)), ==, 3);
  g_assert_cmpuint (count_local_rows (window), ==, 3);
  for (guint i = 0; i < projects->len; i++)
    {
      const CpsStoreProject *project = g_ptr_array_index (projects, i);

      g_test_message ("%s", project->name);
      item = find_local_row (window, project->name, NULL);
      g_assert_nonnull (item);
      g_assert_true (cps_project_item_is_local (item));
      g_assert_true (cps_project_item_is_readable (item));
      g_assert_null (cps_project_item_get_file (item));
      g_assert_cmpstr (cps_project_item_get_store_project (item)->id, ==, project->id);
      g_assert_cmpstr (cps_project_item_get_kind_label (item), ==, "Local project");
      g_assert_cmpstr (cps_project_item_get_checksum (item), ==, project->checksum);
      g_assert_cmpuint (cps_project_item_get_revision_count (item), ==, project->revision_count);
      g_assert_cmpuint (cps_project_item_get_auto_backup_count (item), ==, 0);
    }

  item = find_local_row (window, "Night Exterior", NULL);
  {
    g_autofree char *status = cps_project_item_dup_status_label (item);
    g_autoptr (CpsRevision) winner = NULL;

    g_assert_cmpstr (status, ==, "Conflict: 2 heads");
    g_assert_cmpint (cps_project_item_get_status (item), ==, CPS_SEVERITY_WARNING);
    g_assert_cmpuint (cps_project_item_get_revision_count (item), ==, 3);
    winner = cps_store_get_display_winner (
      store, cps_project_item_get_store_project (item)->id, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (cps_revision_get_id (cps_project_item_get_revision (item)), ==,
                     cps_revision_get_id (winner));
    /* The summary's project is the winner's document: the same checksum. */
    g_assert_cmpstr (cps_planner_project_get_content_checksum (cps_project_item_get_project (item)),
                     ==, cps_revision_get_checksum (winner));
  }
  item = find_local_row (window, "Car Rig Test", NULL);
  {
    g_autofree char *status = cps_project_item_dup_status_label (item);
    g_assert_cmpstr (status, ==, "Deleted");
    g_assert_cmpuint (cps_project_item_get_revision_count (item), ==, 2);
  }
  item = find_local_row (window, "Studio Interview", NULL);
  {
    g_autofree char *status = cps_project_item_dup_status_label (item);
    g_assert_cmpstr (status, ==, "OK");
  }

  /* The table shows them. */
  column_view = find_widget (GTK_WIDGET (window), is_of_type,
                             GSIZE_TO_POINTER (GTK_TYPE_COLUMN_VIEW));
  g_assert_nonnull (find_mapped_label (column_view, "Source"));
  g_assert_nonnull (find_mapped_label (column_view, "Revisions"));
  g_assert_cmpuint (count_mapped_labels (column_view, "Local store"), ==, 3);
  g_assert_cmpuint (count_mapped_labels (column_view, "Local project"), ==, 3);
  g_assert_nonnull (find_mapped_label (column_view, "Conflict: 2 heads"));
  g_assert_nonnull (find_mapped_label (column_view, "Deleted"));
  g_assert_nonnull (find_mapped_label (column_view,
                                       cps_project_item_get_checksum (item) + strlen ("sha256:")));
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (window), "3 local projects"));

  /* Files opened next to them: their rows come first. */
  {
    g_autoptr (GFile) bundle = fixture_file (BUNDLE_NAME);
    g_autoptr (CpsProjectItem) first = NULL;

    cps_window_open_files (window, &bundle, 1);
    wait_for_loading (window);
    g_assert_cmpuint (g_list_model_get_n_items (cps_window_get_rows (window)), ==, 4);
    first = g_list_model_get_item (cps_window_get_rows (window), 0);
    g_assert_false (cps_project_item_is_local (first));
    g_assert_cmpstr (cps_project_item_get_source_name (first), ==, BUNDLE_NAME);
    g_assert_nonnull (
      find_mapped_label (GTK_WIDGET (window), "1 file · 1 project · 3 local projects"));
  }

  destroy_window (window);
  remove_store ();
}

static void
test_store_history (void)
{
  CpsWindow *window;
  CpsProjectView *view;
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (GPtrArray) revisions = NULL;
  g_autoptr (GError) error = NULL;
  GListModel *history;
  CpsProjectItem *item;
  CpsRevision *winner;
  CpsDiffWindow *diff;
  guint position = 0;

  remove_store ();
  prepare_store ();
  store = open_test_store ();

  window = create_window ();
  view = cps_window_get_project_view (window);
  wait_for_loading (window);

  item = find_local_row (window, "Night Exterior", &position);
  g_assert_nonnull (item);
  select_row (window, position);
  g_assert_true (cps_project_view_get_item (view) == item);
  winner = cps_project_item_get_revision (item);

  /* The summary and the raw JSON show the display winner. */
  g_assert_nonnull (find_mapped_label (
    GTK_WIDGET (view), cps_json_object_get_string (cps_revision_get_document (winner), "battery")));
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), cps_revision_get_id (winner)));
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), "Conflict: 2 heads"));
  cps_project_view_set_page (view, "raw");
  run_main_loop_for (50);
  {
    GtkTextView *text_view = GTK_TEXT_VIEW (
      find_widget (GTK_WIDGET (view), is_of_type, GSIZE_TO_POINTER (GTK_TYPE_TEXT_VIEW)));
    GtkTextIter start, end;
    g_autofree char *text = NULL;
    g_autofree char *expected = cps_json_to_string (cps_revision_get_document (winner), 2, NULL,
                                                    NULL);

    gtk_text_buffer_get_bounds (gtk_text_view_get_buffer (text_view), &start, &end);
    text = gtk_text_iter_get_text (&start, &end);
    g_assert_cmpstr (text, ==, expected);
  }

  /* Its place in the store, at the end of the summary. */
  cps_project_view_set_page (view, "summary");
  run_main_loop_for (50);
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (view),
                                       cps_project_item_get_store_project (item)->id));
  if (g_getenv ("CPS_EXTRA_SCREENSHOTS") != NULL)
    {
      GtkWidget *scrolled = find_widget (GTK_WIDGET (view), is_mapped_scrolled_window, NULL);
      GtkAdjustment *adjustment =
        gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));

      gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment));
      save_extra_screenshot (window, "local-summary-end");
    }

  /* The history: newest first, with its heads and the winner marked. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s",
                                             "backups"));
  wait_for_history (view);
  g_assert_cmpstr (cps_project_view_get_page (view), ==, "history");
  history = cps_project_view_get_history (view);
  revisions = cps_store_list_revisions (store, cps_project_item_get_store_project (item)->id,
                                        &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (history), ==, 3);
  for (guint i = 0; i < revisions->len; i++)
    {
      g_autoptr (CpsRevision) shown = g_list_model_get_item (history, revisions->len - 1 - i);
      CpsRevision *stored = g_ptr_array_index (revisions, i);
      g_autofree char *time = local_time (cps_revision_get_created_at (stored));
      /* a device is shown by its recorded name, else by the start of its id */
      g_autofree char *name = cps_store_dup_device_name (store, cps_revision_get_device_id (stored));
      g_autofree char *device = name && *name ? g_strdup (name)
                                              : g_strndup (cps_revision_get_device_id (stored), 8);
      g_autofree char *checksum = short_hex (cps_revision_get_checksum (stored), 12);

      g_assert_cmpstr (cps_revision_get_id (shown), ==, cps_revision_get_id (stored));
      g_test_message ("%s %s %s", time, device, checksum);
      g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), time));
      g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), device));
      g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), checksum));
    }
  {
    g_autofree char *first = short_hex (cps_revision_get_id (g_ptr_array_index (revisions, 0)), 8);

    /* Both edits build on the first revision, which has no parent. */
    g_assert_cmpuint (count_mapped_labels (GTK_WIDGET (view), first), ==, 2);
    g_assert_cmpuint (count_mapped_labels (GTK_WIDGET (view), "None"), ==, 1);
  }
  g_assert_cmpuint (count_mapped_labels (GTK_WIDGET (view), "Head"), ==, 2);
  g_assert_cmpuint (count_mapped_labels (GTK_WIDGET (view), "Shown"), ==, 1);
  save_extra_screenshot (window, "history");

  /* Two revisions selected: compared, older on the left. */
  g_assert_false (action_enabled (window, "win.compare"));
  gtk_selection_model_select_item (GTK_SELECTION_MODEL (history), 0, TRUE);
  gtk_selection_model_select_item (GTK_SELECTION_MODEL (history), 2, FALSE);
  run_main_loop_for (50);
  g_assert_cmpuint (cps_project_view_get_n_selected_revisions (view), ==, 2);
  g_assert_true (action_enabled (window, "win.compare"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.compare", NULL));
  diff = wait_for_diff_window ();
  {
    g_autoptr (CpsRevision) newest = g_list_model_get_item (history, 0);
    g_autoptr (CpsRevision) oldest = g_list_model_get_item (history, 2);
    g_autofree char *newest_id = short_hex (cps_revision_get_id (newest), 12);
    g_autofree char *oldest_id = short_hex (cps_revision_get_id (oldest), 12);
    g_autofree char *left_title = g_strdup_printf ("Night Exterior @ %s", oldest_id);
    g_autofree char *right_title = g_strdup_printf ("Night Exterior @ %s", newest_id);
    g_autofree char *new_battery = g_strdup_printf (
      "\"%s\"", cps_json_object_get_string (cps_revision_get_document (newest), "battery"));

    g_assert_cmpstr (cps_diff_window_get_left (diff)->title, ==, left_title);
    g_assert_cmpstr (cps_diff_window_get_right (diff)->title, ==, right_title);
    g_assert_nonnull (find_mapped_label (GTK_WIDGET (diff), left_title));
    g_assert_nonnull (find_mapped_label (GTK_WIDGET (diff), right_title));
    /* The battery, in the setup and in the power selection, and the gear
     * list that names it. */
    g_assert_cmpuint (cps_diff_window_get_n_differences (diff), ==, 3);
    g_assert_nonnull (find_mapped_label (GTK_WIDGET (diff), "$.battery"));
    g_assert_nonnull (find_mapped_label (GTK_WIDGET (diff), "\"Example 150Wh V-Mount\""));
    g_assert_nonnull (find_mapped_label (GTK_WIDGET (diff), new_battery));
  }
  gtk_window_destroy (GTK_WINDOW (diff));

  /* A deletion is marked as one. */
  item = find_local_row (window, "Car Rig Test", &position);
  select_row (window, position);
  wait_for_history (view);
  g_assert_cmpstr (cps_project_view_get_page (view), ==, "history");
  g_assert_cmpuint (g_list_model_get_n_items (cps_project_view_get_history (view)), ==, 2);
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (view), "Deleted"));

  /* A file's project has automatic backups instead. */
  {
    g_autoptr (GFile) bundle = fixture_file (BUNDLE_NAME);

    cps_window_open_files (window, &bundle, 1);
    wait_for_loading (window);
    find_row (window, BUNDLE_NAME, "Night Exterior", &position);
    select_row (window, position);
    g_assert_cmpstr (cps_project_view_get_page (view), ==, "summary");
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s",
                                               "history"));
    g_assert_cmpstr (cps_project_view_get_page (view), ==, "backups");
    g_assert_cmpuint (g_list_model_get_n_items (cps_project_view_get_history (view)), ==, 0);
  }

  destroy_window (window);
  remove_store ();
}

static guint
count_store_revisions (void)
{
  g_autoptr (CpsStore) store = open_test_store ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) revisions = cps_store_list_revisions (store, NULL, &error);

  g_assert_no_error (error);
  return revisions->len;
}

static void
wait_for_toast (CpsWindow *window, const char *text)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (10, timeout_cb, &timed_out);

  while (find_widget (GTK_WIDGET (window), is_mapped_label_containing, text) == NULL
         && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("No toast saying “%s”", text);
  g_source_remove (id);
}

static void
test_import (void)
{
  CpsWindow *window;
  g_autoptr (GFile) backup = fixture_file (BACKUP_NAME);
  g_autoptr (GFile) bundle = fixture_file (BUNDLE_NAME);
  g_autofree char *dir = g_dir_make_tmp ("cps-console-XXXXXX", NULL);
  g_autoptr (GFile) truncated = NULL;
  CpsProjectItem *item;
  guint position = 0;

  remove_store ();
  window = create_window ();
  g_assert_false (action_enabled (window, "win.import"));
  cps_window_open_files (window, &backup, 1);
  wait_for_loading (window);
  g_assert_cmpuint (count_local_rows (window), ==, 0);

  /* The selected row's file goes into the store: three new projects. */
  find_row (window, BACKUP_NAME, "Studio Interview", &position);
  select_row (window, position);
  g_assert_true (action_enabled (window, "win.import"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.import", NULL));
  g_assert_true (cps_window_get_loading (window));
  wait_for_loading (window);
  wait_for_toast (window, "Imported: 3 new, 0 updated, 0 unchanged");
  g_assert_cmpuint (count_local_rows (window), ==, 3);
  g_assert_cmpuint (g_list_model_get_n_items (cps_window_get_rows (window)), ==, 6);
  g_assert_cmpuint (count_store_revisions (), ==, 3);
  item = find_local_row (window, "Studio Interview", NULL);
  g_assert_nonnull (item);
  g_assert_cmpstr (cps_project_item_get_checksum (item), ==,
                   cps_project_item_get_checksum (find_row (window, BACKUP_NAME,
                                                            "Studio Interview", NULL)));
  /* The file's row stays selected. */
  {
    g_autoptr (GPtrArray) selected = cps_window_dup_selected_items (window);
    g_assert_cmpuint (selected->len, ==, 1);
    g_assert_cmpstr (cps_project_item_get_source_name (g_ptr_array_index (selected, 0)), ==,
                     BACKUP_NAME);
  }

  /* Again: nothing changes. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.import", NULL));
  wait_for_loading (window);
  wait_for_toast (window, "Imported: 0 new, 0 updated, 3 unchanged");
  g_assert_cmpuint (count_local_rows (window), ==, 3);
  g_assert_cmpuint (count_store_revisions (), ==, 3);

  /* Every opened file: the bundle is a new revision of Night Exterior. */
  cps_window_open_files (window, &bundle, 1);
  wait_for_loading (window);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.import-all", NULL));
  wait_for_loading (window);
  wait_for_toast (window, "Imported: 0 new, 1 updated, 3 unchanged");
  g_assert_cmpuint (count_store_revisions (), ==, 4);
  item = find_local_row (window, "Night Exterior", NULL);
  g_assert_cmpuint (cps_project_item_get_revision_count (item), ==, 2);
  g_assert_cmpstr (cps_project_item_get_checksum (item), ==,
                   cps_project_item_get_checksum (find_row (window, BUNDLE_NAME,
                                                            "Night Exterior", NULL)));

  /* Auto-gear rules are not a project: nothing to import. */
  {
    g_autoptr (GFile) rules = fixture_file (RULES_NAME);

    cps_window_open_files (window, &rules, 1);
    wait_for_loading (window);
    find_row (window, RULES_NAME, RULES_NAME, &position);
    select_row (window, position);
    g_assert_false (action_enabled (window, "win.import"));
  }

  /* A file that is not JSON: nothing imported, the store as it was. */
  truncated = write_temp_file (dir, "Truncated.json",
                               "{\n  \"setupName\": \"Truncated\",\n  \"camera\": \"Example Cin");
  cps_window_open_files (window, &truncated, 1);
  wait_for_loading (window);
  find_row (window, "Truncated.json", "Truncated.json", &position);
  select_row (window, position);
  g_assert_true (action_enabled (window, "win.import"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.import", NULL));
  wait_for_loading (window);
  wait_for_toast (window, "Nothing was imported from “Truncated.json”");
  g_assert_cmpuint (count_store_revisions (), ==, 4);
  g_assert_cmpuint (count_local_rows (window), ==, 3);

  destroy_window (window);
  remove_store ();
  remove_temp_dir (dir);
}

static void
test_cancel_import (void)
{
  CpsWindow *window;
  g_autoptr (GFile) backup = fixture_file (BACKUP_NAME);
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (GPtrArray) projects = NULL;
  g_autoptr (GError) error = NULL;

  remove_store ();
  window = create_window ();
  cps_window_open_files (window, &backup, 1);
  wait_for_loading (window);

  /* Cancelled at once: the window stops waiting for it ... */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.import-all", NULL));
  g_assert_true (cps_window_get_loading (window));
  g_assert_true (gtk_widget_get_sensitive (find_cancel_button (window)));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.cancel-loading", NULL));
  g_assert_false (cps_window_get_loading (window));
  g_assert_false (action_enabled (window, "win.compare"));

  /* ... and once the worker has stopped, the store is read again: the rows
   * are what the store holds, whether the file got in or not. */
  run_main_loop_for (500);
  wait_for_loading (window);
  store = open_test_store ();
  projects = cps_store_list_projects (store, &error);
  g_assert_no_error (error);
  g_test_message ("%u projects imported before the cancellation took effect", projects->len);
  g_assert_true (projects->len == 0 || projects->len == 3);
  g_assert_cmpuint (count_local_rows (window), ==, projects->len);

  /* Importing works again afterwards. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.import-all", NULL));
  wait_for_loading (window);
  g_assert_cmpuint (count_local_rows (window), ==, 3);

  destroy_window (window);
  remove_store ();
}

static void
write_newer_store (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE t (x); PRAGMA user_version = 99;", NULL, NULL,
                                 NULL),
                   ==, SQLITE_OK);
  sqlite3_close (db);
}

static void
test_damaged_store (void)
{
  const char *path = g_getenv ("CPS_STORE");
  g_autofree char *dir = dup_store_dir ();
  g_autofree char *after = NULL;
  gsize after_length = 0;
  g_autoptr (GFile) bundle = fixture_file (BUNDLE_NAME);
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  guint8 bytes[8192];
  CpsWindow *window;
  CpsProjectView *view;
  CpsProjectItem *item;
  guint position = 0;

  remove_store ();
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  for (guint i = 0; i < sizeof bytes; i++)
    bytes[i] = (guint8) g_rand_int_range (rand, 0, 256);
  g_assert_true (g_file_set_contents (path, (const char *) bytes, sizeof bytes, NULL));

  /* One row saying what is wrong; no dialog. */
  window = create_window ();
  view = cps_window_get_project_view (window);
  wait_for_loading (window);
  g_assert_cmpuint (g_list_model_get_n_items (cps_window_get_rows (window)), ==, 1);
  item = find_local_row (window, "store.sqlite", &position);
  g_assert_nonnull (item);
  g_assert_true (cps_project_item_is_local (item));
  g_assert_false (cps_project_item_is_readable (item));
  g_assert_null (cps_project_item_get_store_project (item));
  g_assert_nonnull (cps_project_item_get_store_error (item));
  g_assert_cmpint (cps_project_item_get_status (item), ==, CPS_SEVERITY_ERROR);
  g_assert_cmpstr (cps_project_item_get_error_message (item), !=, "");
  g_test_message ("%s", cps_project_item_get_error_message (item));
  {
    g_autofree char *status = cps_project_item_dup_status_label (item);
    g_assert_cmpstr (status, ==, "Damaged");
  }
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (window), "Damaged"));
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (window), "Local store unavailable"));
  /* The row is selected: its message is on screen. */
  g_assert_true (cps_project_view_get_item (view) == item);
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (view),
                                       cps_project_item_get_error_message (item)));
  save_extra_screenshot (window, "damaged-store");

  /* Importing into it fails and leaves it as it is. */
  cps_window_open_files (window, &bundle, 1);
  wait_for_loading (window);
  find_row (window, BUNDLE_NAME, "Night Exterior", &position);
  select_row (window, position);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.import", NULL));
  wait_for_loading (window);
  wait_for_toast (window, cps_project_item_get_error_message (
                            find_local_row (window, "store.sqlite", NULL)));
  g_assert_true (g_file_get_contents (path, &after, &after_length, NULL));
  g_assert_cmpmem (after, after_length, bytes, sizeof bytes);
  g_assert_cmpuint (count_local_rows (window), ==, 1);

  /* A store from a newer version: refused, and said so. */
  remove_store ();
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  write_newer_store (path);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.reload", NULL));
  wait_for_loading (window);
  item = find_local_row (window, "store.sqlite", NULL);
  g_assert_nonnull (item);
  g_assert_true (g_error_matches (cps_project_item_get_store_error (item), CPS_STORE_ERROR,
                                  CPS_STORE_ERROR_NEWER_SCHEMA));
  {
    g_autofree char *status = cps_project_item_dup_status_label (item);
    g_assert_cmpstr (status, ==, "Newer version");
  }

  /* No store at all: no rows, and none is created by looking. */
  remove_store ();
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.reload", NULL));
  wait_for_loading (window);
  g_assert_cmpuint (count_local_rows (window), ==, 0);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  destroy_window (window);
  remove_store ();
}

static void
select_rows (CpsWindow *window, const guint *positions, guint n)
{
  GtkSelectionModel *selection = GTK_SELECTION_MODEL (cps_window_get_rows (window));

  for (guint i = 0; i < n; i++)
    gtk_selection_model_select_item (selection, positions[i], i == 0);
  run_main_loop_for (50);
}

static void
test_compare_rows (void)
{
  const char *paths[] = { "$.projectHtml", "$.feedback", "$.autoGearCoverage", "$.contacts" };
  g_autofree char *screenshot = g_test_build_filename (G_TEST_BUILT,
                                                       "console-diff-screenshot.png", NULL);
  g_autoptr (GFile) bundle = fixture_file (BUNDLE_NAME);
  g_autoptr (GFile) backup = fixture_file (BACKUP_NAME);
  CpsWindow *window;
  CpsDiffWindow *diff;
  CpsProjectItem *local;
  guint positions[3];

  remove_store ();
  {
    g_autoptr (CpsStore) store = open_test_store ();
    g_autoptr (CpsDeviceKey) key = cps_device_key_new_ephemeral (NULL);
    import_fixture (store, key, BACKUP_NAME);
  }

  window = create_window ();
  cps_window_open_files (window, &bundle, 1);
  wait_for_loading (window);
  g_assert_false (action_enabled (window, "win.compare"));

  /* The bundle against the project the backup put in the store. */
  g_assert_nonnull (find_row (window, BUNDLE_NAME, "Night Exterior", &positions[0]));
  local = find_local_row (window, "Night Exterior", &positions[1]);
  g_assert_nonnull (local);
  select_rows (window, positions, 2);
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (window), "2 Rows Selected"));
  g_assert_true (action_enabled (window, "win.compare"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.compare", NULL));
  diff = wait_for_diff_window ();

  g_assert_cmpuint (cps_diff_window_get_n_differences (diff), ==, 4);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    g_assert_nonnull (find_mapped_label (GTK_WIDGET (diff), paths[i]));
  /* The store's copy has none of them. */
  g_assert_cmpuint (count_mapped_labels (GTK_WIDGET (diff), "Not there"), ==, 4);
  g_assert_cmpstr (cps_diff_window_get_left (diff)->title, ==, BUNDLE_NAME);
  {
    g_autofree char *id = short_hex (cps_revision_get_id (cps_project_item_get_revision (local)),
                                     12);
    g_autofree char *title = g_strdup_printf ("Night Exterior @ %s", id);

    g_assert_cmpstr (cps_diff_window_get_right (diff)->title, ==, title);
    g_assert_nonnull (find_mapped_label (GTK_WIDGET (diff), title));
  }
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (diff), BUNDLE_NAME));
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (diff), "4 differences"));
  save_screenshot (GTK_WIDGET (diff), screenshot);
  g_test_message ("Screenshot: %s", screenshot);
  gtk_window_destroy (GTK_WINDOW (diff));

  /* The same content on both sides. */
  cps_window_open_files (window, &backup, 1);
  wait_for_loading (window);
  g_assert_nonnull (find_row (window, BACKUP_NAME, "Night Exterior", &positions[0]));
  find_local_row (window, "Night Exterior", &positions[1]);
  select_rows (window, positions, 2);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.compare", NULL));
  diff = wait_for_diff_window ();
  g_assert_cmpuint (cps_diff_window_get_n_differences (diff), ==, 0);
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (diff), "No Differences"));
  save_extra_screenshot (window, "multiple");
  gtk_window_destroy (GTK_WINDOW (diff));

  /* Three rows: nothing to compare. */
  find_row (window, BUNDLE_NAME, "Night Exterior", &positions[2]);
  select_rows (window, positions, 3);
  g_assert_nonnull (find_mapped_label (GTK_WIDGET (window), "3 Rows Selected"));
  g_assert_false (action_enabled (window, "win.compare"));

  destroy_window (window);
  remove_store ();
}

static void
test_store_screenshot (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_BUILT, "console-store-screenshot.png",
                                                 NULL);
  CpsWindow *window;
  guint position = 0;

  remove_store ();
  prepare_store ();
  window = create_window_with_fixtures ();
  g_assert_cmpuint (count_local_rows (window), ==, 3);
  g_assert_nonnull (find_local_row (window, "Night Exterior", &position));
  select_row (window, position);
  gtk_widget_grab_focus (GTK_WIDGET (window));
  run_main_loop_for (400);

  save_screenshot (GTK_WIDGET (window), path);
  g_test_message ("Screenshot: %s", path);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  destroy_window (window);
  remove_store ();
}

static void
test_screenshot (void)
{
  CpsWindow *window = create_window_with_fixtures ();
  g_autofree char *path = g_test_build_filename (G_TEST_BUILT, "console-screenshot.png", NULL);
  guint position = 0;

  g_assert_nonnull (find_row (window, BACKUP_NAME, "Night Exterior", &position));
  select_row (window, position);
  gtk_widget_grab_focus (GTK_WIDGET (window));
  run_main_loop_for (400);

  save_screenshot (GTK_WIDGET (window), path);
  g_test_message ("Screenshot: %s", path);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  cps_project_view_set_page (cps_window_get_project_view (window), "raw");
  save_extra_screenshot (window, "raw-json");

  destroy_window (window);
}

static void
test_no_display (void)
{
  g_test_skip ("No display: run the console tests under Xvfb");
}

int
main (int argc, char *argv[])
{
  g_autoptr (GError) error = NULL;
  g_autofree char *store_path = NULL;
  g_autofree char *data_dir = NULL;
  int status;

  /* Before anything reads them: the console must not touch the real home,
   * its store or its device key. */
  home_dir = g_dir_make_tmp ("cps-console-home-XXXXXX", NULL);
  g_assert_nonnull (home_dir);
  data_dir = g_build_filename (home_dir, "data", NULL);
  store_path = g_build_filename (home_dir, "store", "store.sqlite", NULL);
  g_setenv ("HOME", home_dir, TRUE);
  g_setenv ("XDG_DATA_HOME", data_dir, TRUE);
  g_setenv ("XDG_CONFIG_HOME", home_dir, TRUE);
  g_setenv ("XDG_CACHE_HOME", home_dir, TRUE);
  g_setenv ("CPS_STORE", store_path, TRUE);
  /* Importing creates this device's key: never in the user's keyring. */
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", "disabled:", TRUE);

  g_test_init (&argc, &argv, NULL);

  if (!gtk_init_check ())
    {
      g_test_add_func ("/console/no-display", test_no_display);
      status = g_test_run ();
      cps_test_remove_tree (home_dir);
      return status;
    }

  application = cps_application_new ();
  g_application_set_flags (G_APPLICATION (application),
                           g_application_get_flags (G_APPLICATION (application))
                             | G_APPLICATION_NON_UNIQUE);
  if (!g_application_register (G_APPLICATION (application), NULL, &error))
    g_error ("Cannot register the application: %s", error->message);
  /* Tests need the schema, unlike the program. */
  g_assert_nonnull (cps_application_get_settings (application));

  g_test_add_func ("/console/accels", test_accels);
  g_test_add_func ("/console/empty-state", test_empty_state);
  g_test_add_func ("/console/fixture-rows", test_fixture_rows);
  g_test_add_func ("/console/sorting", test_sorting);
  g_test_add_func ("/console/detail-pane", test_detail_pane);
  g_test_add_func ("/console/damaged-file", test_damaged_file);
  g_test_add_func ("/console/auto-backups", test_auto_backups);
  g_test_add_func ("/console/dropped-folder", test_dropped_folder);
  g_test_add_func ("/console/missing-file-and-recent", test_missing_file_and_recent);
  g_test_add_func ("/console/open-dialog", test_open_dialog);
  g_test_add_func ("/console/cancel-loading", test_cancel_loading);
  g_test_add_func ("/console/window-size", test_window_size);
  g_test_add_func ("/console/help-without-yelp", test_help_without_yelp);
  g_test_add_func ("/console/about", test_about);
  g_test_add_func ("/console/store-rows", test_store_rows);
  g_test_add_func ("/console/store-history", test_store_history);
  g_test_add_func ("/console/import", test_import);
  g_test_add_func ("/console/cancel-import", test_cancel_import);
  g_test_add_func ("/console/damaged-store", test_damaged_store);
  g_test_add_func ("/console/compare-rows", test_compare_rows);
  g_test_add_func ("/console/store-screenshot", test_store_screenshot);
  g_test_add_func ("/console/screenshot", test_screenshot);

  status = g_test_run ();
  g_clear_object (&application);
  cps_test_remove_tree (home_dir);
  g_free (home_dir);
  return status;
}
