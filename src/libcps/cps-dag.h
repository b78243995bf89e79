/* cps-dag.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A project's revision graph: heads, ancestry, lowest common ancestors for
 * three-way merges and the deterministic display winner.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CpsDag CpsDag;

CpsDag *cps_dag_new (void);
void cps_dag_free (CpsDag *dag);
gboolean cps_dag_add (CpsDag *dag, const char *id, const char *const *parents,
                      guint64 clock_sum);
gboolean cps_dag_contains (CpsDag *dag, const char *id);
guint cps_dag_get_size (CpsDag *dag);
GPtrArray *cps_dag_get_heads (CpsDag *dag);
gboolean cps_dag_is_ancestor (CpsDag *dag, const char *ancestor, const char *descendant);
GPtrArray *cps_dag_get_ancestors (CpsDag *dag, const char *id);
GPtrArray *cps_dag_lowest_common_ancestors (CpsDag *dag, const char *a, const char *b);
const char *cps_dag_get_display_winner (CpsDag *dag, GPtrArray *heads);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsDag, cps_dag_free)

G_END_DECLS
