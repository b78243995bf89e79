/* cps-clock.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cps-clock"

#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cps-clock.h"
#include "cps-jcs.h"
#include "cps-revision.h"

/* Largest counter that survives a round trip through a JavaScript number. */
#define MAX_COUNTER G_GUINT64_CONSTANT (9007199254740991)

typedef struct
{
  char *device_id;
  guint64 counter;
} Entry;

/* Entries are kept sorted by device id, in JCS key order, and never hold a
 * zero counter: a missing entry and a zero are the same clock. */
struct _CpsClock
{
  GArray *entries;
};

G_DEFINE_BOXED_TYPE (CpsClock, cps_clock, cps_clock_copy, cps_clock_free)

static void
entry_clear (gpointer data)
{
  g_free (((Entry *) data)->device_id);
}

static int
compare_ids (const char *a, const char *b)
{
  return cps_jcs_compare_keys (a, strlen (a), b, strlen (b));
}

/* Returns the index of @device_id, or -(insertion point) - 1. */
static int
find (const CpsClock *clock, const char *device_id)
{
  int lo = 0, hi = (int) clock->entries->len - 1;

  while (lo <= hi)
    {
      int mid = (lo + hi) / 2;
      int cmp = compare_ids (g_array_index (clock->entries, Entry, mid).device_id, device_id);

      if (cmp == 0)
        return mid;
      if (cmp < 0)
        lo = mid + 1;
      else
        hi = mid - 1;
    }
  return -lo - 1;
}

CpsClock *
cps_clock_new (void)
{
  CpsClock *clock = g_new0 (CpsClock, 1);

  clock->entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_array_set_clear_func (clock->entries, entry_clear);
  return clock;
}

CpsClock *
cps_clock_copy (const CpsClock *clock)
{
  CpsClock *copy = cps_clock_new ();

  for (guint i = 0; i < clock->entries->len; i++)
    {
      const Entry *e = &g_array_index (clock->entries, Entry, i);
      Entry c = { g_strdup (e->device_id), e->counter };
      g_array_append_val (copy->entries, c);
    }
  return copy;
}

void
cps_clock_free (CpsClock *clock)
{
  if (clock == NULL)
    return;
  g_array_unref (clock->entries);
  g_free (clock);
}

/**
 * cps_clock_new_from_json:
 * @node: an object of device UUID → positive integer
 *
 * Returns: (transfer full) (nullable): the clock, or %NULL with
 *   %CPS_REVISION_ERROR_INVALID
 */
CpsClock *
cps_clock_new_from_json (const CpsJsonNode *node, GError **error)
{
  g_autoptr (CpsClock) clock = cps_clock_new ();

  if (cps_json_node_get_type (node) != CPS_JSON_OBJECT)
    {
      g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_INVALID,
                   _("The clock must be an object of device ids and counters"));
      return NULL;
    }
  for (guint i = 0; i < node->n; i++)
    {
      const CpsJsonMember *m = &node->v.members[i];
      double value = m->value.v.number;

      if (!cps_is_uuid (m->key) || m->key_len != strlen (m->key))
        {
          g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_INVALID,
                       _("The clock names “%s”, which is not a device id (a lowercase UUID)"),
                       m->key);
          return NULL;
        }
      if (m->value.type != CPS_JSON_NUMBER || value < 1 || value > (double) MAX_COUNTER ||
          value != floor (value))
        {
          g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_INVALID,
                       _("The clock counter of device %s must be a whole number from 1 to "
                         "2⁵³ − 1"),
                       m->key);
          return NULL;
        }
      if (cps_clock_get (clock, m->key) != 0)
        {
          g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_INVALID,
                       _("The clock names device %s twice"), m->key);
          return NULL;
        }
      cps_clock_set (clock, m->key, (guint64) value);
    }
  return g_steal_pointer (&clock);
}

guint64
cps_clock_get (const CpsClock *clock, const char *device_id)
{
  int i = find (clock, device_id);

  return i >= 0 ? g_array_index (clock->entries, Entry, i).counter : 0;
}

void
cps_clock_set (CpsClock *clock, const char *device_id, guint64 counter)
{
  int i = find (clock, device_id);

  if (i >= 0)
    {
      if (counter == 0)
        g_array_remove_index (clock->entries, i);
      else
        g_array_index (clock->entries, Entry, i).counter = counter;
    }
  else if (counter != 0)
    {
      Entry e = { g_strdup (device_id), counter };
      g_array_insert_val (clock->entries, -i - 1, e);
    }
}

guint
cps_clock_get_n_devices (const CpsClock *clock)
{
  return clock->entries->len;
}

const char *
cps_clock_get_device (const CpsClock *clock, guint i)
{
  g_return_val_if_fail (i < clock->entries->len, NULL);
  return g_array_index (clock->entries, Entry, i).device_id;
}

guint64
cps_clock_sum (const CpsClock *clock)
{
  guint64 sum = 0;

  for (guint i = 0; i < clock->entries->len; i++)
    sum += g_array_index (clock->entries, Entry, i).counter;
  return sum;
}

/**
 * cps_clock_merge_into:
 *
 * Sets @clock to the pointwise maximum of itself and @other.
 */
void
cps_clock_merge_into (CpsClock *clock, const CpsClock *other)
{
  for (guint i = 0; i < other->entries->len; i++)
    {
      const Entry *e = &g_array_index (other->entries, Entry, i);
      if (e->counter > cps_clock_get (clock, e->device_id))
        cps_clock_set (clock, e->device_id, e->counter);
    }
}

CpsClock *
cps_clock_merge (const CpsClock *a, const CpsClock *b)
{
  CpsClock *merged = cps_clock_copy (a);

  cps_clock_merge_into (merged, b);
  return merged;
}

/**
 * cps_clock_next:
 * @parents: (array length=n_parents): the parents' clocks
 *
 * The clock of a new revision by @device_id: the pointwise maximum of the
 * parents' clocks with the device's own counter one higher.
 *
 * Returns: (transfer full): the new clock
 */
CpsClock *
cps_clock_next (const CpsClock *const *parents, guint n_parents, const char *device_id)
{
  CpsClock *clock = cps_clock_new ();

  for (guint i = 0; i < n_parents; i++)
    cps_clock_merge_into (clock, parents[i]);
  cps_clock_set (clock, device_id, cps_clock_get (clock, device_id) + 1);
  return clock;
}

/**
 * cps_clock_compare:
 *
 * Returns: how @a relates to @b in causal order
 */
CpsClockOrder
cps_clock_compare (const CpsClock *a, const CpsClock *b)
{
  gboolean a_greater = FALSE, b_greater = FALSE;
  guint i = 0, j = 0;

  /* One walk over both sorted lists. */
  while (i < a->entries->len || j < b->entries->len)
    {
      const Entry *ea = i < a->entries->len ? &g_array_index (a->entries, Entry, i) : NULL;
      const Entry *eb = j < b->entries->len ? &g_array_index (b->entries, Entry, j) : NULL;
      int cmp = ea == NULL ? 1 : eb == NULL ? -1 : compare_ids (ea->device_id, eb->device_id);

      if (cmp < 0)
        {
          a_greater = TRUE;
          i++;
        }
      else if (cmp > 0)
        {
          b_greater = TRUE;
          j++;
        }
      else
        {
          if (ea->counter > eb->counter)
            a_greater = TRUE;
          else if (ea->counter < eb->counter)
            b_greater = TRUE;
          i++;
          j++;
        }
    }

  if (a_greater && b_greater)
    return CPS_CLOCK_CONCURRENT;
  if (a_greater)
    return CPS_CLOCK_AFTER;
  if (b_greater)
    return CPS_CLOCK_BEFORE;
  return CPS_CLOCK_EQUAL;
}

gboolean
cps_clock_equal (const CpsClock *a, const CpsClock *b)
{
  return cps_clock_compare (a, b) == CPS_CLOCK_EQUAL;
}

/**
 * cps_clock_write_jcs:
 *
 * Appends the canonical JSON form of @clock.
 */
void
cps_clock_write_jcs (const CpsClock *clock, GString *out)
{
  g_string_append_c (out, '{');
  for (guint i = 0; i < clock->entries->len; i++)
    {
      const Entry *e = &g_array_index (clock->entries, Entry, i);

      if (i > 0)
        g_string_append_c (out, ',');
      cps_jcs_append_string (out, e->device_id, strlen (e->device_id));
      g_string_append_printf (out, ":%" G_GUINT64_FORMAT, e->counter);
    }
  g_string_append_c (out, '}');
}
