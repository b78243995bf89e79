/* cps-merge.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Three-way merge of two JSON documents against their common ancestor
 * (DESIGN.md “Merge”): changes that do not overlap merge by themselves, the
 * others become conflict items that a person resolves one by one.
 */

#pragma once

#include <glib-object.h>

#include "cps-json.h"

G_BEGIN_DECLS

#define CPS_MERGE_ERROR (cps_merge_error_quark ())

typedef enum
{
  CPS_MERGE_ERROR_UNRESOLVED,       /* a result was asked for while conflicts are open */
  CPS_MERGE_ERROR_NO_SUCH_CONFLICT, /* no conflict with that number or path */
  CPS_MERGE_ERROR_NOT_AN_ARRAY,     /* “both” for values that are not lists on both sides */
  CPS_MERGE_ERROR_INVALID_CHOICE,   /* “edited value” without a value, or by path */
  CPS_MERGE_ERROR_INVALID_VALUE,    /* an edited value JSON cannot hold */
} CpsMergeError;

typedef enum
{
  CPS_MERGE_CHOICE_NONE,  /* not resolved */
  CPS_MERGE_CHOICE_LEFT,  /* the left side's value (absent if it removed it) */
  CPS_MERGE_CHOICE_RIGHT, /* the right side's value */
  CPS_MERGE_CHOICE_BOTH,  /* lists only: left's items, then right's not already in left */
  CPS_MERGE_CHOICE_VALUE, /* an edited value */
} CpsMergeChoice;

/**
 * CpsMergeSide:
 * @device_label: (nullable): the device that made this side's edits, as “DIT cart”
 * @time: (nullable): when, formatted for people, as “14:02”
 *
 * Who made one side's changes, for conflict summaries.
 */
typedef struct
{
  const char *device_label;
  const char *time;
} CpsMergeSide;

#define CPS_TYPE_MERGE (cps_merge_get_type ())
G_DECLARE_FINAL_TYPE (CpsMerge, cps_merge, CPS, MERGE, GObject)

GQuark cps_merge_error_quark (void);

CpsMerge *cps_merge_new (const CpsJsonNode *ancestor, const CpsJsonNode *left,
                         const CpsJsonNode *right, const CpsMergeSide *left_side,
                         const CpsMergeSide *right_side);

gboolean cps_merge_has_ancestor (CpsMerge *self);
guint cps_merge_get_n_conflicts (CpsMerge *self);
guint cps_merge_get_n_unresolved (CpsMerge *self);
gboolean cps_merge_find_conflict (CpsMerge *self, const char *path, guint *index);

const char *cps_merge_conflict_get_path (CpsMerge *self, guint i);
const char *cps_merge_conflict_get_label (CpsMerge *self, guint i);
const char *cps_merge_conflict_get_summary (CpsMerge *self, guint i);
const CpsJsonNode *cps_merge_conflict_get_ancestor (CpsMerge *self, guint i);
const CpsJsonNode *cps_merge_conflict_get_left (CpsMerge *self, guint i);
const CpsJsonNode *cps_merge_conflict_get_right (CpsMerge *self, guint i);
gboolean cps_merge_conflict_allows_both (CpsMerge *self, guint i);
CpsMergeChoice cps_merge_conflict_get_choice (CpsMerge *self, guint i);
const CpsJsonNode *cps_merge_conflict_get_edited (CpsMerge *self, guint i);

gboolean cps_merge_resolve (CpsMerge *self, guint i, CpsMergeChoice choice,
                            const CpsJsonNode *edited, GError **error);
gboolean cps_merge_resolve_path (CpsMerge *self, const char *path, CpsMergeChoice choice,
                                 GError **error);
void cps_merge_resolve_all (CpsMerge *self, CpsMergeChoice choice);

CpsJsonDocument *cps_merge_build_result (CpsMerge *self, GError **error);

gboolean cps_merge_choice_from_string (const char *text, CpsMergeChoice *choice);
const char *cps_merge_choice_to_string (CpsMergeChoice choice);

G_END_DECLS
