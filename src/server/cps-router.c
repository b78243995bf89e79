/* cps-router.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The route table. A pattern is matched segment by segment; "{}" takes one
 * segment as a parameter. Parameters are percent-decoded and refused when
 * empty, longer than 128 bytes, or holding '/' or NUL, so no handler ever
 * sees a traversal or a smuggled separator.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <string.h>

#include "cps-handlers.h"
#include "cps-router.h"

#define MAX_PARAM_BYTES 128
#define MAX_SEGMENTS 8

const CpsRoute cps_routes[] = {
  { "GET", "/v1/health", cps_handle_health },
  { "GET", "/metrics", cps_handle_metrics },

  { "POST", "/v1/auth/login", cps_handle_login },
  { "POST", "/v1/auth/refresh", cps_handle_refresh },
  { "POST", "/v1/auth/logout", cps_handle_logout },
  { "POST", "/v1/auth/totp", cps_handle_totp_begin },
  { "POST", "/v1/auth/totp/confirm", cps_handle_totp_confirm },
  { "DELETE", "/v1/auth/totp", cps_handle_totp_disable },

  { "GET", "/v1/account", cps_handle_account_self },
  { "GET", "/v1/accounts", cps_handle_accounts_list },
  { "POST", "/v1/accounts", cps_handle_accounts_create },
  { "PUT", "/v1/accounts/{}/role", cps_handle_account_role },

  { "GET", "/v1/devices", cps_handle_devices_list },
  { "POST", "/v1/devices/{}/revoke", cps_handle_device_revoke },
  { "POST", "/v1/devices/{}/approve", cps_handle_device_approve },

  { "POST", "/v1/projects", cps_handle_projects_create },
  { "GET", "/v1/projects", cps_handle_projects_list },
  { "GET", "/v1/projects/{}", cps_handle_project_get },
  { "PUT", "/v1/projects/{}/members/{}", cps_handle_member_put },
  { "DELETE", "/v1/projects/{}/members/{}", cps_handle_member_delete },
  { "GET", "/v1/projects/{}/conflict", cps_handle_project_conflict },
  { "POST", "/v1/projects/{}/revisions", cps_handle_push },
  { "GET", "/v1/projects/{}/revisions", cps_handle_revisions_list },
  { "GET", "/v1/projects/{}/revisions/{}", cps_handle_revision_get },

  { "GET", "/v1/changes", cps_handle_changes },

  { "GET", "/v1/audit", cps_handle_audit_list },
  { "GET", "/v1/audit/export", cps_handle_audit_export },
  { "GET", "/v1/audit/checkpoints", cps_handle_checkpoints_list },
  { "POST", "/v1/audit/checkpoints", cps_handle_checkpoint_create },

  { "GET", "/v1/admin/status", cps_handle_admin_status },
  { NULL, NULL, NULL },
};

void
cps_route_match_clear (CpsRouteMatch *match)
{
  g_clear_pointer (&match->params, g_strfreev);
  g_clear_pointer (&match->allowed, g_free);
  match->route = NULL;
}

/* Splits "/a/b/c" into segments; FALSE for paths that cannot name a route. */
static gboolean
split_path (const char *path, char **segments, guint *n_segments)
{
  const char *p = path;
  guint n = 0;

  if (*p != '/')
    return FALSE;
  while (*p == '/')
    {
      const char *start = ++p;

      while (*p != '/' && *p != '\0')
        p++;
      if (n == MAX_SEGMENTS)
        {
          for (guint i = 0; i < n; i++)
            g_clear_pointer (&segments[i], g_free);
          return FALSE;
        }
      segments[n++] = g_strndup (start, p - start);
    }
  *n_segments = n;
  return TRUE;
}

static gboolean
pattern_matches (const char *pattern, char *const *segments, guint n_segments, GPtrArray *params)
{
  g_auto(GStrv) parts = g_strsplit (pattern + 1, "/", -1);
  guint n_parts = g_strv_length (parts);

  if (n_parts != n_segments)
    return FALSE;
  for (guint i = 0; i < n_parts; i++)
    {
      if (strcmp (parts[i], "{}") == 0)
        {
          char *value = g_uri_unescape_segment (segments[i], NULL, "/");

          if (value == NULL || *value == '\0' || strlen (value) > MAX_PARAM_BYTES ||
              !g_utf8_validate (value, -1, NULL))
            {
              g_free (value);
              return FALSE;
            }
          g_ptr_array_add (params, value);
        }
      else if (strcmp (parts[i], segments[i]) != 0)
        return FALSE;
    }
  return TRUE;
}

/**
 * cps_router_match:
 *
 * Finds the route for @method and @path. Returns TRUE with @match->route set
 * when one matches; FALSE with @match->allowed listing the methods the path
 * does accept (405), or NULL when no route has this path (404).
 */
gboolean
cps_router_match (const char *method, const char *path, CpsRouteMatch *match)
{
  char *segments[MAX_SEGMENTS] = { NULL };
  guint n_segments = 0;
  GString *allowed = NULL;
  gboolean found = FALSE;

  memset (match, 0, sizeof *match);
  if (strlen (path) > 1024 || !split_path (path, segments, &n_segments))
    goto out;

  for (const CpsRoute *route = cps_routes; route->method != NULL; route++)
    {
      g_autoptr(GPtrArray) params = g_ptr_array_new_with_free_func (g_free);

      if (!pattern_matches (route->pattern, segments, n_segments, params))
        continue;
      if (strcmp (route->method, method) == 0)
        {
          g_ptr_array_add (params, NULL);
          match->route = route;
          match->params = (char **) g_ptr_array_free (g_steal_pointer (&params), FALSE);
          found = TRUE;
          break;
        }
      if (allowed == NULL)
        allowed = g_string_new (route->method);
      else
        g_string_append_printf (allowed, ", %s", route->method);
    }

out:
  for (guint i = 0; i < n_segments; i++)
    g_free (segments[i]);
  if (!found && allowed != NULL)
    match->allowed = g_string_free (allowed, FALSE);
  else if (allowed != NULL)
    g_string_free (allowed, TRUE);
  return found;
}
