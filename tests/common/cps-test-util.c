/* cps-test-util.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cps-test"

#include <glib/gstdio.h>

#include "cps-test-util.h"

/**
 * cps_test_remove_tree:
 * @path: a file or directory
 *
 * Removes @path and, for a directory, everything in it. Symbolic links are removed, never
 * followed. Failures are ignored: it cleans up after a test.
 */
void
cps_test_remove_tree (const char *path)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR) || g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_remove (path);
      return;
    }
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      cps_test_remove_tree (child);
    }
  g_rmdir (path);
}
