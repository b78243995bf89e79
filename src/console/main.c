/* main.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cps-console"

#include "config.h"

#include <glib/gi18n.h>

#include "cps-application.h"
#include "cps.h"

int
main (int argc, char *argv[])
{
  g_autoptr (CpsApplication) application = NULL;

  cps_init_i18n ();
  g_set_application_name (_("Cine Power Sync"));

  application = cps_application_new ();
  return g_application_run (G_APPLICATION (application), argc, argv);
}
