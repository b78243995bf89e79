/* cps-router.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "cps-handlers.h"

G_BEGIN_DECLS

typedef struct
{
  const CpsRoute *route;  /* (nullable) the matching route */
  char **params;          /* the route's parameters, decoded */
  char *allowed;          /* (nullable) methods the path accepts, when none matched */
} CpsRouteMatch;

gboolean cps_router_match (const char *method, const char *path, CpsRouteMatch *match);
void cps_route_match_clear (CpsRouteMatch *match);

G_END_DECLS
