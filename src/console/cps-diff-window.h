/* cps-diff-window.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "cps.h"
#include "cps-merge.h"

G_BEGIN_DECLS

/**
 * CpsDiffSide:
 * @title: what people call it: a file name, or “Project @ 1a2b3c4d5e6f”
 * @source: (nullable): where it comes from: a file name, “Local store”
 * @time: (nullable): when it was saved, formatted for people
 * @icon_name: an icon for where it comes from
 * @owner: keeps @root alive
 * @root: the document compared
 *
 * One side of a comparison.
 */
typedef struct
{
  char *title;
  char *source;
  char *time;
  char *icon_name;
  GObject *owner;
  const CpsJsonNode *root;
} CpsDiffSide;

CpsDiffSide *cps_diff_side_new (const char *title, const char *source, const char *time,
                                const char *icon_name, GObject *owner, const CpsJsonNode *root);
CpsDiffSide *cps_diff_side_copy (const CpsDiffSide *side);
void cps_diff_side_free (CpsDiffSide *side);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsDiffSide, cps_diff_side_free)

#define CPS_TYPE_DIFF_WINDOW (cps_diff_window_get_type ())
G_DECLARE_FINAL_TYPE (CpsDiffWindow, cps_diff_window, CPS, DIFF_WINDOW, AdwWindow)

CpsDiffWindow *cps_diff_window_new (GtkWindow *parent, CpsDiffSide *left, CpsDiffSide *right);
gboolean cps_diff_window_get_busy (CpsDiffWindow *self);
guint cps_diff_window_get_n_differences (CpsDiffWindow *self);
CpsMerge *cps_diff_window_get_merge (CpsDiffWindow *self);
const CpsDiffSide *cps_diff_window_get_left (CpsDiffWindow *self);
const CpsDiffSide *cps_diff_window_get_right (CpsDiffWindow *self);

G_END_DECLS
