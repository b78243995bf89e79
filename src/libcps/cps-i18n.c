/* cps-i18n.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cps"

#include "config.h"

#include <locale.h>
#include <glib/gi18n-lib.h>

#include "cps.h"

/**
 * cps_init_i18n:
 *
 * Binds the message catalogue. Programs call it once, first thing in main().
 * `CPS_LOCALEDIR` overrides the installed location, for running from the
 * build tree.
 */
void
cps_init_i18n (void)
{
  const char *localedir = g_getenv ("CPS_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}
