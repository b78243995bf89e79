/* cps.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The one header programs include to use libcps.
 */

#pragma once

#include "cps-audit-chain.h"
#include "cps-clock.h"
#include "cps-dag.h"
#include "cps-device-key.h"
#include "cps-field-labels.h"
#include "cps-finding.h"
#include "cps-jcs.h"
#include "cps-json.h"
#include "cps-merge.h"
#include "cps-planner-file.h"
#include "cps-planner-project.h"
#include "cps-revision.h"
#include "cps-sidecar.h"

G_BEGIN_DECLS

void cps_init_i18n (void);

G_END_DECLS
