/* cps-project-state.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the project, revision and changes handlers share: finding a project the
 * caller may see, writing the contract's project JSON, member roles, and the
 * heads and display winner of a project after a push.
 */

#pragma once

#include "cps-request.h"

G_BEGIN_DECLS

/* Looks up @project_id for the authenticated caller. A malformed id, a missing project and
 * a project the caller is no member of (unless an admin) all reply 404 not_found, so
 * existence is never revealed; a storage failure replies 500. @role gets the caller's
 * member role, or NULL when an admin reads a project they are no member of. */
gboolean _cps_project_open_for_caller (CpsRequest *request, const char *project_id,
                                       CpsProjectRecord **project, char **role);

/* Whether a member role may push (owner or editor). */
gboolean _cps_project_role_can_write (const char *role);
/* Whether @role is one of owner, editor, viewer. */
gboolean _cps_project_role_is_valid (const char *role);

/* Writes the members of the contract's project object into the object the writer has
 * open ({"id", "name", "owner", "encrypted", "created_at", "updated_at", "heads",
 * "conflicted", "revision_count", "checksum", "deleted"}). */
void _cps_project_write_fields (CpsJsonWriter *writer, const CpsProjectRecord *project);
/* The whole project object. */
void _cps_project_write (CpsJsonWriter *writer, const CpsProjectRecord *project);
/* The project object plus "members" and the wrapped "keys" of @account_id. */
gboolean _cps_project_write_detail (CpsJsonWriter *writer, CpsStorage *storage,
                                    const CpsProjectRecord *project, const char *account_id,
                                    GError **error);

/* One revision as the display winner sees it. */
typedef struct
{
  const char *id;
  guint64 clock_sum;
  const char *checksum;
  gboolean deleted;
} CpsHeadInfo;

/* The display winner among heads: the largest clock sum, then the highest id (the rule of
 * cps_dag_get_display_winner()). Returns the index in @heads, or -1 when @n_heads is 0. */
int _cps_project_pick_winner (const CpsHeadInfo *heads, guint n_heads);

/* Small JSON text builders for audit details. */
char *_cps_details_member (const char *account_id, const char *role);

G_END_DECLS
