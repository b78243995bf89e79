/* cps-application.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define CPS_TYPE_APPLICATION (cps_application_get_type ())
G_DECLARE_FINAL_TYPE (CpsApplication, cps_application, CPS, APPLICATION, AdwApplication)

CpsApplication *cps_application_new (void);
GSettings *cps_application_get_settings (CpsApplication *self);

G_END_DECLS
