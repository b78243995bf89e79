/* cps-application.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cps-application"

#include "config.h"

#include <glib/gi18n.h>

#include "cps-application.h"
#include "cps-window.h"

struct _CpsApplication
{
  AdwApplication parent_instance;

  /* Owned */
  GSettings *settings; /* NULL when the schema is not installed */
};

G_DEFINE_FINAL_TYPE (CpsApplication, cps_application, ADW_TYPE_APPLICATION)

#define HELP_URI "help:cine-power-sync"
#define HELP_PAGE_PATH HELPDIR "/C/cine-power-sync/index.page"

static CpsWindow *
get_window (CpsApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (CPS_IS_WINDOW (window))
    return CPS_WINDOW (window);
  /* A comparison window may be the active one: use the main window behind it. */
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (CPS_IS_WINDOW (l->data))
      return CPS_WINDOW (l->data);
  return cps_window_new (self);
}

static void
show_help_missing (GtkWindow *parent)
{
  GtkWidget *dialog;
  GtkWidget *path;

  dialog = adw_message_dialog_new (parent, _("Help Viewer Not Installed"), NULL);
  if (g_file_test (HELP_PAGE_PATH, G_FILE_TEST_EXISTS))
    adw_message_dialog_set_body (
      ADW_MESSAGE_DIALOG (dialog),
      _("The help pages are shown by “yelp”, which is not installed. Install it from your "
        "distribution, or open the pages in a text editor, starting here:"));
  else
    adw_message_dialog_set_body (
      ADW_MESSAGE_DIALOG (dialog),
      _("The help pages are shown by “yelp”, which is not installed. The pages are not "
        "installed either; once they are, the first one will be here:"));

  path = gtk_label_new (HELP_PAGE_PATH);
  gtk_label_set_selectable (GTK_LABEL (path), TRUE);
  gtk_label_set_wrap (GTK_LABEL (path), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (path), PANGO_WRAP_CHAR);
  gtk_widget_add_css_class (path, "monospace");
  gtk_widget_set_name (path, "help-path");
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), path);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "close");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "close");
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
quit_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  CpsApplication *self = user_data;
  g_autoptr (GList) windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));

  /* Closing, not destroying, so that windows save their size and stop
   * loading. */
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);
  g_application_quit (G_APPLICATION (self));
}

static void
about_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  CpsApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  const char *developers[] = { _("The Cine Power Sync contributors"), NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", parent,
                        "modal", TRUE,
                        "application-name", _("Cine Power Sync"),
                        "application-icon", APP_ID,
                        "developer-name", _("The Cine Power Sync contributors"),
                        "developers", developers,
                        "version", PACKAGE_VERSION,
                        "comments", _("Check and browse Cine Power Planner backups and project "
                                      "bundles: every project with its content checksum, its "
                                      "automatic backups and a clear list of problems. Import "
                                      "them into the local store, where every change is kept "
                                      "as a signed revision, and compare any two."),
                        "copyright", _("© 2025 The Cine Power Sync contributors"),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        /* Translators: put your names here, one per line */
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
help_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  CpsApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  g_autofree char *yelp = g_find_program_in_path ("yelp");

  if (yelp != NULL)
    gtk_show_uri (parent, HELP_URI, GDK_CURRENT_TIME);
  else
    show_help_missing (parent);
}

static const GActionEntry app_actions[] = {
  { "quit", quit_action, NULL, NULL, NULL },
  { "about", about_action, NULL, NULL, NULL },
  { "help", help_action, NULL, NULL, NULL },
};

static void
cps_application_startup (GApplication *application)
{
  CpsApplication *self = CPS_APPLICATION (application);
  GtkApplication *gtk_application = GTK_APPLICATION (application);
  GSettingsSchemaSource *source;
  g_autoptr (GSettingsSchema) schema = NULL;

  G_APPLICATION_CLASS (cps_application_parent_class)->startup (application);

  gtk_window_set_default_icon_name (APP_ID);

  /* Running from the build tree without the schema still works, it just
   * forgets recent files and the window size. */
  source = g_settings_schema_source_get_default ();
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema != NULL)
    self->settings = g_settings_new (APP_ID);
  else
    g_message ("GSettings schema %s is not installed; settings will not be kept", APP_ID);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  gtk_application_set_accels_for_action (gtk_application, "app.quit",
                                         (const char *[]) { "<Control>q", NULL });
  gtk_application_set_accels_for_action (gtk_application, "app.help",
                                         (const char *[]) { "F1", NULL });
  gtk_application_set_accels_for_action (gtk_application, "win.open",
                                         (const char *[]) { "<Control>o", NULL });
  gtk_application_set_accels_for_action (gtk_application, "win.import",
                                         (const char *[]) { "<Control>i", NULL });
  gtk_application_set_accels_for_action (gtk_application, "win.compare",
                                         (const char *[]) { "<Control>d", NULL });
  gtk_application_set_accels_for_action (gtk_application, "win.reload",
                                         (const char *[]) { "F5", NULL });
}

static void
cps_application_activate (GApplication *application)
{
  gtk_window_present (GTK_WINDOW (get_window (CPS_APPLICATION (application))));
}

static void
cps_application_open (GApplication *application, GFile **files, int n_files, const char *hint)
{
  CpsWindow *window = get_window (CPS_APPLICATION (application));

  cps_window_open_files (window, files, (guint) n_files);
  gtk_window_present (GTK_WINDOW (window));
}

static int
cps_application_handle_local_options (GApplication *application, GVariantDict *options)
{
  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("cps-console %s\n", PACKAGE_VERSION);
      return 0;
    }
  return -1;
}

static void
cps_application_dispose (GObject *object)
{
  CpsApplication *self = CPS_APPLICATION (object);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (cps_application_parent_class)->dispose (object);
}

static void
cps_application_class_init (CpsApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *application_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = cps_application_dispose;
  application_class->startup = cps_application_startup;
  application_class->activate = cps_application_activate;
  application_class->open = cps_application_open;
  application_class->handle_local_options = cps_application_handle_local_options;
}

static void
cps_application_init (CpsApplication *self)
{
  const GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, _("Show the version and exit"), NULL },
    { NULL },
  };

  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  /* Translators: what goes on the command line after the options */
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[FILE…]"));
  g_application_set_option_context_summary (
    G_APPLICATION (self),
    _("Open Cine Power Planner backups, project bundles, auto-gear rules and logs, and see "
      "every project with its content checksum, its automatic backups and its problems."));
}

/**
 * cps_application_new:
 *
 * Returns: (transfer full): the console application
 */
CpsApplication *
cps_application_new (void)
{
  return g_object_new (CPS_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/org/cinepowerplanner/Sync",
                       NULL);
}

/**
 * cps_application_get_settings:
 *
 * Returns: (transfer none) (nullable): the console's settings, or %NULL
 *   when the schema is not installed
 */
GSettings *
cps_application_get_settings (CpsApplication *self)
{
  g_return_val_if_fail (CPS_IS_APPLICATION (self), NULL);
  return self->settings;
}
