/* cli-run.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Running the built `cps` ($CPS) from tests and keeping what it printed.
 */

#pragma once

#include <gio/gio.h>

typedef struct
{
  int status;
  char *out;
  char *err;
} Run;

static inline void
run_clear (Run *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* Runs cps with @args (NULL-terminated) through @launcher, which may set
 * an environment. */
static inline void
run_cps_valist (GSubprocessLauncher *launcher, Run *run, va_list args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  const char *arg;

  g_ptr_array_add (argv, (gpointer) g_getenv ("CPS"));
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
  g_test_message ("status %d\nstdout:\n%s\nstderr:\n%s", run->status, run->out, run->err);
}

static inline GSubprocessLauncher *
run_launcher_new (void)
{
  return g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                    G_SUBPROCESS_FLAGS_STDERR_PIPE);
}
