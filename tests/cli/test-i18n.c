/* test-i18n.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs `cps` in each of the planner's languages and checks that it speaks
 * them: the catalogues are built, found and used. Locales are compiled into
 * a temporary directory with localedef, so nothing is installed system-wide.
 */

#define G_LOG_DOMAIN "test-i18n"

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "cps.h"

static char *locpath;

/* The translation of @msgid in po/LANG.po, read directly from the file. */
static char *
read_translation (const char *lang, const char *msgid)
{
  g_autofree char *po = g_strdup_printf ("%s.po", lang);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "po", po, NULL);
  g_autofree char *contents = NULL;
  g_autofree char *needle = g_strdup_printf ("\nmsgid \"%s\"\nmsgstr \"", msgid);
  const char *start, *end;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  start = strstr (contents, needle);
  g_assert_nonnull (start);
  start += strlen (needle);
  end = strchr (start, '"');
  g_assert_nonnull (end);
  return g_strndup (start, end - start);
}

static void
compile_locale (const char *locale)
{
  g_autofree char *target = g_build_filename (locpath, locale, NULL);
  g_autofree char *input = g_strndup (locale, strchr (locale, '.') - locale);
  const char *argv[] = { "localedef", "-i", input, "-f", "UTF-8", target, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status;

  if (g_file_test (target, G_FILE_TEST_IS_DIR))
    return;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                NULL, NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("localedef %s failed (is Debian's “locales” package installed?): %s", locale, err);
}

static void
test_language (gconstpointer data)
{
  const char *lang = data;
  g_autofree char *locale = g_strdup_printf ("%s_%s.UTF-8", lang,
                                             g_str_equal (lang, "de")   ? "DE"
                                             : g_str_equal (lang, "es") ? "ES"
                                             : g_str_equal (lang, "fr") ? "FR"
                                                                        : "IT");
  g_autofree char *expected = read_translation (lang, "Commands:");
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;

  compile_locale (locale);
  g_assert_cmpstr (expected, !=, "");
  g_assert_cmpstr (expected, !=, "Commands:");

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_setenv (launcher, "LOCPATH", locpath, TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", locale, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "LANGUAGE");
  g_subprocess_launcher_setenv (launcher, "CPS_LOCALEDIR", g_getenv ("CPS_LOCALEDIR"), TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("CPS"), "--help", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("%s", out);
  g_assert_nonnull (strstr (out, expected));
  g_assert_null (strstr (out, "\nCommands:\n"));
}

int
main (int argc, char **argv)
{
  static const char *const langs[] = { "de", "es", "fr", "it" };
  int ret;

  g_test_init (&argc, &argv, NULL);
  locpath = g_build_filename (g_getenv ("G_TEST_BUILDDIR"), "locales", NULL);
  g_mkdir_with_parents (locpath, 0755);

  for (guint i = 0; i < G_N_ELEMENTS (langs); i++)
    {
      g_autofree char *name = g_strdup_printf ("/i18n/cps-help/%s", langs[i]);
      g_test_add_data_func (name, langs[i], test_language);
    }

  ret = g_test_run ();
  g_free (locpath);
  return ret;
}
