/* cps-merge.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The merge walks the three trees once, in cps_merge_new(), and records a
 * plan: a tree that borrows every subtree it takes unchanged from the inputs
 * and holds a placeholder where a conflict's resolution will go. Building the
 * result copies the plan into a new document, filling in each placeholder
 * with the chosen value (or dropping it when the choice is “removed”), so
 * resolutions can change and a result be built any number of times.
 *
 * The rules, for one slot (an object member or a matched array item) whose
 * values are A (ancestor), L (left) and R (right), any of them absent:
 *   L = R                      take L (unchanged, or the same change on both sides)
 *   A = L                      take R (only right changed it; absent: removed)
 *   A = R                      take L
 *   L, R objects               merge member by member
 *   L, R arrays of named
 *     things                   match items by id/name/label and merge item by item
 *   otherwise                  a conflict
 * Without a common ancestor, A is unknown and only the first rule and the
 * recursion apply, so everything that differs is a conflict.
 */

#define G_LOG_DOMAIN "cps-merge"

#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cps-field-labels.h"
#include "cps-jcs.h"
#include "cps-merge.h"

/* The type of a plan node standing for conflict number node->n. It never
 * leaves this file: results are built from the plan by copy_node(). */
#define PLAN_CONFLICT 0xC0

/* Values longer than this many characters are shortened in summaries. */
#define SUMMARY_VALUE_CHARS 40

/* When “both” is chosen for lists whose lengths multiply to more than this,
 * right's items are looked up in a hash of left's, not compared pairwise. */
#define UNION_PAIRWISE_LIMIT 4096

typedef struct
{
  char *path;
  char *label;
  char *summary; /* made on first request */
  const CpsJsonNode *ancestor;
  const CpsJsonNode *left;
  const CpsJsonNode *right;
  const CpsJsonNode *edited; /* in the scratch document */
  CpsMergeChoice choice;
  gboolean allows_both;
} Conflict;

struct _CpsMerge
{
  GObject parent_instance;

  /* Owned */
  CpsJsonDocument *scratch; /* the plan's containers and edited values */
  GArray *conflicts;        /* Conflict */
  GHashTable *by_path;      /* path → index + 1 */
  char *left_device;
  char *left_time;
  char *right_device;
  char *right_time;

  /* Borrowed: the plan takes subtrees from the inputs */
  CpsJsonNode plan;

  gboolean has_ancestor;
  guint n_unresolved;
};

/* Where the walk is: one segment per object member or array item. */
typedef struct
{
  const char *key; /* a member's name, or NULL for an array item */
  guint32 key_len;
  const char *field;     /* the member items are matched by, NULL for by content */
  const CpsJsonNode *id; /* that member's value */
  const CpsJsonNode *item;
  guint index;
} Segment;

typedef struct
{
  CpsMerge *self;
  GArray *segments; /* Segment */
} Walk;

/* An object's members by name. Small objects are searched; large ones get a
 * hash table the first time a name is not where the hint says. */
typedef struct
{
  const CpsJsonNode *object;
  GHashTable *index; /* CpsJsonMember * → itself */
} MemberIndex;

/* The key of an item matched by content: the item itself, and which
 * occurrence of that content it is. It starts with a node of type
 * CONTENT_KEY so that it can stand where a key node does. */
#define CONTENT_KEY 0xC1

typedef struct
{
  CpsJsonNode tag;
  guint hash;
  guint occurrence;
  const CpsJsonNode *item;
} ContentKey;

/* An array's items by their key: the value of their id/name/label member, or
 * (for named things with no usable key) their content. */
typedef struct
{
  const CpsJsonNode **keys; /* one per item */
  GHashTable *index;        /* key node → item index + 1 */
  ContentKey *content;      /* the keys, when matching by content */
} ItemIndex;

static const char *const key_fields[] = { "id", "name", "label" };

/* Arrays the planner keeps named things in; when their items have no unique
 * key they are matched by content, so entries added on both sides are all
 * kept. */
static const char *const named_arrays[] = {
  "contacts",
  "projectInfo.people",
  "autoGearRules",
  "feedback",
};

static gboolean merge_slot (Walk *walk, const CpsJsonNode *a, const CpsJsonNode *l,
                            const CpsJsonNode *r, CpsJsonNode *out);
static gboolean copy_node (CpsMerge *self, CpsJsonDocument *doc, const CpsJsonNode *src,
                           CpsJsonNode *dst);

G_DEFINE_FINAL_TYPE (CpsMerge, cps_merge, G_TYPE_OBJECT)

G_DEFINE_QUARK (cps-merge-error-quark, cps_merge_error)

enum
{
  PROP_0,
  PROP_N_CONFLICTS,
  PROP_N_UNRESOLVED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Values */

static gboolean
values_equal (const CpsJsonNode *a, const CpsJsonNode *b)
{
  if (a == b)
    return TRUE;
  if (a == NULL || b == NULL)
    return FALSE;
  return cps_json_node_equal (a, b);
}

static gboolean
take (const CpsJsonNode *value, CpsJsonNode *out)
{
  if (value == NULL)
    return FALSE;
  *out = *value;
  return TRUE;
}

static gboolean
member_keys_equal (const CpsJsonMember *a, const CpsJsonMember *b)
{
  return a->key_len == b->key_len && memcmp (a->key, b->key, a->key_len) == 0;
}

static guint
hash_bytes (const char *data, gsize len)
{
  guint32 h = 2166136261u;

  for (gsize i = 0; i < len; i++)
    h = (h ^ (guchar) data[i]) * 16777619u;
  return h;
}

static guint
member_hash (gconstpointer p)
{
  const CpsJsonMember *m = p;

  return hash_bytes (m->key, m->key_len);
}

static gboolean
member_equal (gconstpointer a, gconstpointer b)
{
  return member_keys_equal (a, b);
}

static const CpsJsonNode *
member_index_get (MemberIndex *mi, const CpsJsonMember *probe, guint hint)
{
  const CpsJsonNode *object = mi->object;
  const CpsJsonMember *found;

  if (object == NULL)
    return NULL;
  if (hint < object->n && member_keys_equal (&object->v.members[hint], probe))
    return &object->v.members[hint].value;
  if (object->n <= 16)
    {
      for (guint i = 0; i < object->n; i++)
        if (member_keys_equal (&object->v.members[i], probe))
          return &object->v.members[i].value;
      return NULL;
    }
  if (mi->index == NULL)
    {
      mi->index = g_hash_table_new (member_hash, member_equal);
      for (guint i = 0; i < object->n; i++)
        g_hash_table_insert (mi->index, &object->v.members[i], &object->v.members[i]);
    }
  found = g_hash_table_lookup (mi->index, probe);
  return found != NULL ? &found->value : NULL;
}

static void
member_index_clear (MemberIndex *mi)
{
  g_clear_pointer (&mi->index, g_hash_table_unref);
}

static guint
hash_number (double number)
{
  guint64 bits;

  /* Equal numbers hash alike: 0 and -0 are one number. */
  if (number == 0)
    number = 0;
  memcpy (&bits, &number, sizeof bits);
  bits ^= bits >> 33;
  bits *= 0xff51afd7ed558ccdull;
  bits ^= bits >> 33;
  return (guint) bits;
}

/* A hash of a value consistent with cps_json_node_equal(): members in any
 * order, numbers as numbers. */
static guint
hash_value (const CpsJsonNode *node)
{
  guint h;

  switch (node->type)
    {
    case CPS_JSON_NULL:
      return 0x3c6ef372u;
    case CPS_JSON_BOOLEAN:
      return node->v.boolean ? 0xa54ff53au : 0x510e527fu;
    case CPS_JSON_NUMBER:
      return hash_number (node->v.number);
    case CPS_JSON_STRING:
      return hash_bytes (node->v.string, node->n);
    case CPS_JSON_ARRAY:
      h = 0x9b05688cu;
      for (guint i = 0; i < node->n; i++)
        h = h * 31 + hash_value (&node->v.items[i]);
      return h;
    case CPS_JSON_OBJECT:
      h = 0x1f83d9abu;
      for (guint i = 0; i < node->n; i++)
        {
          const CpsJsonMember *m = &node->v.members[i];
          h += (hash_bytes (m->key, m->key_len) * 0x9e3779b1u) ^ hash_value (&m->value);
        }
      return h;
    default:
      return 0;
    }
}

/* Item keys are strings, finite numbers (1 and 1.0 being the same key) or
 * content keys. */
static guint
key_node_hash (gconstpointer p)
{
  const CpsJsonNode *node = p;

  switch (node->type)
    {
    case CPS_JSON_STRING:
      return hash_bytes (node->v.string, node->n);
    case CONTENT_KEY:
      {
        const ContentKey *key = p;
        return key->hash ^ (key->occurrence * 0x9e3779b9u);
      }
    default:
      return hash_number (node->v.number);
    }
}

static gboolean
key_node_equal (gconstpointer pa, gconstpointer pb)
{
  const CpsJsonNode *a = pa;
  const CpsJsonNode *b = pb;

  if (a->type != b->type)
    return FALSE;
  switch (a->type)
    {
    case CPS_JSON_STRING:
      return a->n == b->n && memcmp (a->v.string, b->v.string, a->n) == 0;
    case CONTENT_KEY:
      {
        const ContentKey *ka = pa;
        const ContentKey *kb = pb;
        return ka->hash == kb->hash && ka->occurrence == kb->occurrence &&
               cps_json_node_equal (ka->item, kb->item);
      }
    default:
      return a->v.number == b->v.number;
    }
}

/* The same, regardless of the occurrence: for counting them. */
static guint
content_hash (gconstpointer p)
{
  return ((const ContentKey *) p)->hash;
}

static gboolean
content_equal (gconstpointer pa, gconstpointer pb)
{
  const ContentKey *a = pa;
  const ContentKey *b = pb;

  return a->hash == b->hash && cps_json_node_equal (a->item, b->item);
}

static void
item_index_clear (ItemIndex *ix)
{
  g_clear_pointer (&ix->keys, g_free);
  g_clear_pointer (&ix->index, g_hash_table_unref);
  g_clear_pointer (&ix->content, g_free);
}

static gboolean
item_index_add (ItemIndex *ix, guint i, const CpsJsonNode *key)
{
  if (g_hash_table_contains (ix->index, key))
    return FALSE;
  ix->keys[i] = key;
  g_hash_table_insert (ix->index, (gpointer) key, GUINT_TO_POINTER (i + 1));
  return TRUE;
}

static gboolean
item_index_build_by_field (ItemIndex *ix, const CpsJsonNode *array, const char *field)
{
  ix->keys = g_new (const CpsJsonNode *, MAX (array->n, 1));
  ix->index = g_hash_table_new (key_node_hash, key_node_equal);
  for (guint i = 0; i < array->n; i++)
    {
      const CpsJsonNode *key = cps_json_object_get (&array->v.items[i], field);

      if (key == NULL ||
          !(key->type == CPS_JSON_STRING ||
            (key->type == CPS_JSON_NUMBER && isfinite (key->v.number))) ||
          !item_index_add (ix, i, key))
        {
          item_index_clear (ix);
          return FALSE;
        }
    }
  return TRUE;
}

/* Identical entries are told apart by their occurrence: the second copy of an
 * entry on one side matches the second copy on the other. */
static gboolean
item_index_build_by_content (ItemIndex *ix, const CpsJsonNode *array)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (content_hash, content_equal);

  ix->keys = g_new (const CpsJsonNode *, MAX (array->n, 1));
  ix->index = g_hash_table_new (key_node_hash, key_node_equal);
  ix->content = g_new0 (ContentKey, MAX (array->n, 1));
  for (guint i = 0; i < array->n; i++)
    {
      ContentKey *key = &ix->content[i];

      if (array->v.items[i].type != CPS_JSON_OBJECT)
        {
          item_index_clear (ix);
          return FALSE;
        }
      key->tag.type = CONTENT_KEY;
      key->item = &array->v.items[i];
      key->hash = hash_value (key->item);
      key->occurrence = GPOINTER_TO_UINT (g_hash_table_lookup (seen, key));
      g_hash_table_insert (seen, key, GUINT_TO_POINTER (key->occurrence + 1));
      if (!item_index_add (ix, i, &key->tag))
        {
          item_index_clear (ix);
          return FALSE;
        }
    }
  return TRUE;
}

static guint
item_index_lookup (ItemIndex *ix, const CpsJsonNode *key)
{
  return ix->index != NULL ? GPOINTER_TO_UINT (g_hash_table_lookup (ix->index, key)) : 0;
}

/* Paths and labels */

static void
append_key_value (GString *out, const CpsJsonNode *value)
{
  char buf[32];

  if (value->type == CPS_JSON_STRING)
    cps_jcs_append_string (out, value->v.string, value->n);
  else if (value->type == CPS_JSON_NUMBER && isfinite (value->v.number))
    {
      cps_jcs_format_number (value->v.number, buf);
      g_string_append (out, buf);
    }
}

static char *
render_path (Walk *walk)
{
  GString *out = g_string_new ("$");

  for (guint i = 0; i < walk->segments->len; i++)
    {
      const Segment *seg = &g_array_index (walk->segments, Segment, i);

      if (seg->key != NULL)
        {
          g_autofree char *next = cps_json_path_append_key (out->str, seg->key, seg->key_len);
          g_string_assign (out, next);
        }
      else if (seg->field != NULL)
        {
          g_string_append_printf (out, "[%s=", seg->field);
          append_key_value (out, seg->id);
          g_string_append_c (out, ']');
        }
      else
        g_string_append_printf (out, "[%u]", seg->index);
    }
  return g_string_free (out, FALSE);
}

static char *
render_pattern (Walk *walk)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < walk->segments->len; i++)
    {
      const Segment *seg = &g_array_index (walk->segments, Segment, i);

      if (seg->key == NULL)
        g_string_append (out, "[]");
      else
        {
          if (out->len > 0)
            g_string_append_c (out, '.');
          g_string_append_len (out, seg->key, seg->key_len);
        }
    }
  return g_string_free (out, FALSE);
}

/* How an array item is named in a label: by its name, else by its key. */
static char *
item_display_name (const Segment *seg)
{
  static const char *const name_fields[] = { "name", "label", "title" };
  GString *out;

  for (gsize i = 0; i < G_N_ELEMENTS (name_fields); i++)
    {
      const CpsJsonNode *name = cps_json_object_get (seg->item, name_fields[i]);

      if (name != NULL && name->type == CPS_JSON_STRING && name->n > 0)
        return g_utf8_make_valid (name->v.string, name->n);
    }
  if (seg->id != NULL && seg->id->type == CPS_JSON_STRING)
    return g_utf8_make_valid (seg->id->v.string, seg->id->n);

  out = g_string_new (NULL);
  if (seg->id != NULL)
    append_key_value (out, seg->id);
  else
    g_string_append_printf (out, "[%u]", seg->index);
  return g_string_free (out, FALSE);
}

static char *
render_label (Walk *walk)
{
  g_autoptr (CpsFieldLabel) label = cps_field_label_new ();

  for (guint i = 0; i < walk->segments->len; i++)
    {
      const Segment *seg = &g_array_index (walk->segments, Segment, i);

      if (seg->key != NULL)
        cps_field_label_push_key (label, seg->key, seg->key_len);
      else
        {
          g_autofree char *name = item_display_name (seg);
          cps_field_label_push_item (label, name);
        }
    }
  return cps_field_label_to_string (label);
}

static void
push_key (Walk *walk, const CpsJsonMember *member)
{
  Segment seg = { 0 };

  seg.key = member->key;
  seg.key_len = member->key_len;
  g_array_append_val (walk->segments, seg);
}

static void
push_item (Walk *walk, const char *field, const CpsJsonNode *id, const CpsJsonNode *item,
           guint index)
{
  Segment seg = { 0 };

  seg.field = field;
  seg.id = field != NULL ? id : NULL;
  seg.item = item;
  seg.index = index;
  g_array_append_val (walk->segments, seg);
}

static void
pop (Walk *walk)
{
  g_array_set_size (walk->segments, walk->segments->len - 1);
}

/* The walk */

static void
add_conflict (Walk *walk, const CpsJsonNode *a, const CpsJsonNode *l, const CpsJsonNode *r,
              CpsJsonNode *out)
{
  CpsMerge *self = walk->self;
  Conflict conflict = { 0 };

  conflict.path = render_path (walk);
  conflict.label = render_label (walk);
  conflict.ancestor = a;
  conflict.left = l;
  conflict.right = r;
  conflict.allows_both = l != NULL && r != NULL && l->type == CPS_JSON_ARRAY &&
                         r->type == CPS_JSON_ARRAY;

  memset (out, 0, sizeof *out);
  out->type = PLAN_CONFLICT;
  out->n = self->conflicts->len;
  g_array_append_val (self->conflicts, conflict);
}

static void
merge_object (Walk *walk, const CpsJsonNode *a, const CpsJsonNode *l, const CpsJsonNode *r,
              CpsJsonNode *out)
{
  MemberIndex ai = { a, NULL };
  MemberIndex li = { l, NULL };
  MemberIndex ri = { r, NULL };
  g_autoptr (GArray) members = g_array_sized_new (FALSE, FALSE, sizeof (CpsJsonMember),
                                                  l->n + r->n);

  for (guint i = 0; i < l->n; i++)
    {
      const CpsJsonMember *m = &l->v.members[i];
      CpsJsonMember merged = { m->key, m->key_len, { 0 } };

      push_key (walk, m);
      if (merge_slot (walk, member_index_get (&ai, m, i), &m->value, member_index_get (&ri, m, i),
                      &merged.value))
        g_array_append_val (members, merged);
      pop (walk);
    }

  /* Members only the right side has, in its order. */
  for (guint j = 0; j < r->n; j++)
    {
      const CpsJsonMember *m = &r->v.members[j];
      CpsJsonMember merged = { m->key, m->key_len, { 0 } };

      if (member_index_get (&li, m, j) != NULL)
        continue;
      push_key (walk, m);
      if (merge_slot (walk, member_index_get (&ai, m, j), NULL, &m->value, &merged.value))
        g_array_append_val (members, merged);
      pop (walk);
    }

  member_index_clear (&ai);
  member_index_clear (&li);
  member_index_clear (&ri);

  memset (out, 0, sizeof *out);
  out->type = CPS_JSON_OBJECT;
  out->n = members->len;
  out->v.members = cps_json_document_alloc_members (walk->self->scratch, members->len);
  memcpy (out->v.members, members->data, members->len * sizeof (CpsJsonMember));
}

static gboolean
is_named_array (Walk *walk)
{
  g_autofree char *pattern = render_pattern (walk);

  for (gsize i = 0; i < G_N_ELEMENTS (named_arrays); i++)
    if (strcmp (pattern, named_arrays[i]) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
all_objects (const CpsJsonNode *array)
{
  if (array == NULL)
    return TRUE;
  for (guint i = 0; i < array->n; i++)
    if (array->v.items[i].type != CPS_JSON_OBJECT)
      return FALSE;
  return TRUE;
}

/* Chooses how the items of the three arrays are matched, if they can be:
 * the first of id, name, label that every item of each array has, with a
 * value unique within its array; failing that, for the planner's named
 * arrays, by content. Returns FALSE for arrays compared as whole values. */
static gboolean
index_arrays (Walk *walk, const CpsJsonNode *a, const CpsJsonNode *l, const CpsJsonNode *r,
              ItemIndex ix[3], const char **field)
{
  const CpsJsonNode *arrays[3] = { a, l, r };

  if (!all_objects (a) || !all_objects (l) || !all_objects (r))
    return FALSE;

  for (gsize f = 0; f < G_N_ELEMENTS (key_fields); f++)
    {
      gboolean ok = TRUE;

      for (guint k = 0; k < 3 && ok; k++)
        if (arrays[k] != NULL)
          ok = item_index_build_by_field (&ix[k], arrays[k], key_fields[f]);
      if (ok)
        {
          *field = key_fields[f];
          return TRUE;
        }
      for (guint k = 0; k < 3; k++)
        item_index_clear (&ix[k]);
    }

  /* Without an ancestor, matching by content could only ever say “this entry
   * is on one side only”; the whole list as one conflict says the same and
   * offers to keep both. */
  if (!walk->self->has_ancestor || !is_named_array (walk))
    return FALSE;

  for (guint k = 0; k < 3; k++)
    if (arrays[k] != NULL && !item_index_build_by_content (&ix[k], arrays[k]))
      {
        for (guint c = 0; c < 3; c++)
          item_index_clear (&ix[c]);
        return FALSE;
      }
  *field = NULL;
  return TRUE;
}

static gboolean
merge_named_array (Walk *walk, const CpsJsonNode *a, const CpsJsonNode *l, const CpsJsonNode *r,
                   CpsJsonNode *out)
{
  ItemIndex ix[3] = { { 0 } };
  const char *field = NULL;
  g_autoptr (GArray) items = NULL;

  if (!index_arrays (walk, a, l, r, ix, &field))
    return FALSE;

  items = g_array_sized_new (FALSE, FALSE, sizeof (CpsJsonNode), l->n + r->n);

  /* Left's items in left's order… */
  for (guint i = 0; i < l->n; i++)
    {
      const CpsJsonNode *key = ix[1].keys[i];
      guint ai = item_index_lookup (&ix[0], key);
      guint ri = item_index_lookup (&ix[2], key);
      CpsJsonNode merged;

      push_item (walk, field, key, &l->v.items[i], i);
      if (merge_slot (walk, ai ? &a->v.items[ai - 1] : NULL, &l->v.items[i],
                      ri ? &r->v.items[ri - 1] : NULL, &merged))
        g_array_append_val (items, merged);
      pop (walk);
    }

  /* …then those only the right side has, in right's order. */
  for (guint j = 0; j < r->n; j++)
    {
      const CpsJsonNode *key = ix[2].keys[j];
      guint ai;
      CpsJsonNode merged;

      if (item_index_lookup (&ix[1], key) != 0)
        continue;
      ai = item_index_lookup (&ix[0], key);
      push_item (walk, field, key, &r->v.items[j], j);
      if (merge_slot (walk, ai ? &a->v.items[ai - 1] : NULL, NULL, &r->v.items[j], &merged))
        g_array_append_val (items, merged);
      pop (walk);
    }

  for (guint k = 0; k < 3; k++)
    item_index_clear (&ix[k]);

  memset (out, 0, sizeof *out);
  out->type = CPS_JSON_ARRAY;
  out->n = items->len;
  out->v.items = cps_json_document_alloc_items (walk->self->scratch, items->len);
  memcpy (out->v.items, items->data, items->len * sizeof (CpsJsonNode));
  return TRUE;
}

/* Decides one slot. Returns FALSE when the slot is absent from the result. */
static gboolean
merge_slot (Walk *walk, const CpsJsonNode *a, const CpsJsonNode *l, const CpsJsonNode *r,
            CpsJsonNode *out)
{
  if (values_equal (l, r))
    return take (l, out);
  if (walk->self->has_ancestor)
    {
      if (values_equal (a, l))
        return take (r, out);
      if (values_equal (a, r))
        return take (l, out);
    }

  if (l != NULL && r != NULL && l->type == r->type)
    {
      if (l->type == CPS_JSON_OBJECT)
        {
          merge_object (walk, (a != NULL && a->type == CPS_JSON_OBJECT) ? a : NULL, l, r, out);
          return TRUE;
        }
      if (l->type == CPS_JSON_ARRAY &&
          merge_named_array (walk, (a != NULL && a->type == CPS_JSON_ARRAY) ? a : NULL, l, r, out))
        return TRUE;
    }

  add_conflict (walk, a, l, r, out);
  return TRUE;
}

/* Building results */

static gboolean
array_contains (const CpsJsonNode *array, const CpsJsonNode *value)
{
  for (guint i = 0; i < array->n; i++)
    if (cps_json_node_equal (&array->v.items[i], value))
      return TRUE;
  return FALSE;
}

static guint
value_hash (gconstpointer p)
{
  return hash_value (p);
}

static gboolean
value_equal (gconstpointer a, gconstpointer b)
{
  return cps_json_node_equal (a, b);
}

/* Left's items, then right's items that left does not have. */
static void
copy_union (CpsMerge *self, CpsJsonDocument *doc, const CpsJsonNode *left,
            const CpsJsonNode *right, CpsJsonNode *dst)
{
  g_autoptr (GHashTable) in_left = NULL;
  CpsJsonNode *items = cps_json_document_alloc_items (doc, left->n + right->n);
  guint n = 0;

  if ((gsize) left->n * right->n > UNION_PAIRWISE_LIMIT)
    {
      in_left = g_hash_table_new (value_hash, value_equal);
      for (guint i = 0; i < left->n; i++)
        g_hash_table_add (in_left, &left->v.items[i]);
    }

  for (guint i = 0; i < left->n; i++)
    copy_node (self, doc, &left->v.items[i], &items[n++]);
  for (guint j = 0; j < right->n; j++)
    {
      const CpsJsonNode *item = &right->v.items[j];
      gboolean present = in_left != NULL ? g_hash_table_contains (in_left, item)
                                         : array_contains (left, item);

      if (!present)
        copy_node (self, doc, item, &items[n++]);
    }

  memset (dst, 0, sizeof *dst);
  dst->type = CPS_JSON_ARRAY;
  dst->n = n;
  dst->v.items = items;
}

static gboolean
copy_resolution (CpsMerge *self, CpsJsonDocument *doc, const Conflict *conflict,
                 CpsJsonNode *dst)
{
  switch (conflict->choice)
    {
    case CPS_MERGE_CHOICE_LEFT:
      return conflict->left != NULL && copy_node (self, doc, conflict->left, dst);
    case CPS_MERGE_CHOICE_RIGHT:
      return conflict->right != NULL && copy_node (self, doc, conflict->right, dst);
    case CPS_MERGE_CHOICE_BOTH:
      copy_union (self, doc, conflict->left, conflict->right, dst);
      return TRUE;
    case CPS_MERGE_CHOICE_VALUE:
      return copy_node (self, doc, conflict->edited, dst);
    case CPS_MERGE_CHOICE_NONE:
    default:
      g_return_val_if_reached (FALSE);
    }
}

/* Copies @src into @doc, resolving the plan's placeholders when @self is
 * given. Returns FALSE when the value is absent (a removal was chosen). */
static gboolean
copy_node (CpsMerge *self, CpsJsonDocument *doc, const CpsJsonNode *src, CpsJsonNode *dst)
{
  memset (dst, 0, sizeof *dst);
  switch (src->type)
    {
    case PLAN_CONFLICT:
      g_return_val_if_fail (self != NULL && src->n < self->conflicts->len, FALSE);
      return copy_resolution (self, doc, &g_array_index (self->conflicts, Conflict, src->n), dst);

    case CPS_JSON_STRING:
      dst->type = CPS_JSON_STRING;
      dst->n = src->n;
      dst->v.string = cps_json_document_intern (doc, src->v.string, src->n);
      return TRUE;

    case CPS_JSON_ARRAY:
      {
        CpsJsonNode *items = cps_json_document_alloc_items (doc, src->n);
        guint n = 0;

        for (guint i = 0; i < src->n; i++)
          if (copy_node (self, doc, &src->v.items[i], &items[n]))
            n++;
        dst->type = CPS_JSON_ARRAY;
        dst->n = n;
        dst->v.items = items;
        return TRUE;
      }

    case CPS_JSON_OBJECT:
      {
        CpsJsonMember *members = cps_json_document_alloc_members (doc, src->n);
        guint n = 0;

        for (guint i = 0; i < src->n; i++)
          {
            const CpsJsonMember *m = &src->v.members[i];

            if (copy_node (self, doc, &m->value, &members[n].value))
              {
                members[n].key = cps_json_document_intern (doc, m->key, m->key_len);
                members[n].key_len = m->key_len;
                n++;
              }
          }
        dst->type = CPS_JSON_OBJECT;
        dst->n = n;
        dst->v.members = members;
        return TRUE;
      }

    default:
      *dst = *src;
      return TRUE;
    }
}

/* Checks that an edited value is one JSON can hold: known types, finite
 * numbers, unique member names, bounded depth. */
static gboolean
check_value (const CpsJsonNode *node, guint depth, GError **error)
{
  if (depth > CPS_JSON_MAX_DEPTH)
    {
      g_set_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_INVALID_VALUE,
                   _("The edited value is nested more than %d levels deep"), CPS_JSON_MAX_DEPTH);
      return FALSE;
    }

  switch (node->type)
    {
    case CPS_JSON_NULL:
    case CPS_JSON_BOOLEAN:
    case CPS_JSON_STRING:
      return TRUE;
    case CPS_JSON_NUMBER:
      if (!isfinite (node->v.number))
        {
          g_set_error_literal (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_INVALID_VALUE,
                               _("The edited value holds a number too large for JSON"));
          return FALSE;
        }
      return TRUE;
    case CPS_JSON_ARRAY:
      for (guint i = 0; i < node->n; i++)
        if (!check_value (&node->v.items[i], depth + 1, error))
          return FALSE;
      return TRUE;
    case CPS_JSON_OBJECT:
      {
        g_autoptr (GHashTable) names = g_hash_table_new (member_hash, member_equal);

        for (guint i = 0; i < node->n; i++)
          {
            const CpsJsonMember *m = &node->v.members[i];

            if (!g_hash_table_add (names, (gpointer) m))
              {
                g_autofree char *name = g_utf8_make_valid (m->key, m->key_len);
                g_set_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_INVALID_VALUE,
                             _("The edited value has the member “%s” twice"), name);
                return FALSE;
              }
            if (!check_value (&m->value, depth + 1, error))
              return FALSE;
          }
        return TRUE;
      }
    default:
      g_set_error_literal (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_INVALID_VALUE,
                           _("The edited value is not a JSON value"));
      return FALSE;
    }
}

/* Summaries */

static char *
shorten (const char *text, gsize len)
{
  g_autofree char *valid = g_utf8_make_valid (text, len);
  GString *out = g_string_new (NULL);
  guint chars = 0;
  const char *p = valid;

  while (*p != '\0')
    {
      gunichar c = g_utf8_get_char (p);

      if (chars == SUMMARY_VALUE_CHARS - 1 && g_utf8_strlen (p, -1) > 1)
        {
          g_string_append (out, "…");
          break;
        }
      if (c < 0x20 || c == 0x7F)
        g_string_append_c (out, ' ');
      else
        g_string_append_unichar (out, c);
      chars++;
      p = g_utf8_next_char (p);
    }
  return g_string_free (out, FALSE);
}

static void
free_gstring (GString *string)
{
  g_string_free (string, TRUE);
}

static char *
describe_scalar (const CpsJsonNode *value)
{
  char buf[32];

  switch (value->type)
    {
    case CPS_JSON_NULL:
      return g_strdup (_("empty"));
    case CPS_JSON_BOOLEAN:
      return g_strdup (value->v.boolean ? _("yes") : _("no"));
    case CPS_JSON_NUMBER:
      if (isfinite (value->v.number))
        cps_jcs_format_number (value->v.number, buf);
      else
        g_ascii_dtostr (buf, sizeof buf, value->v.number);
      return g_strdup (buf);
    case CPS_JSON_STRING:
      {
        g_autofree char *text = shorten (value->v.string, value->n);
        /* Translators: a text value quoted in a merge conflict summary */
        return g_strdup_printf (_("“%s”"), text);
      }
    default:
      return NULL;
    }
}

static char *
describe_value (const CpsJsonNode *value, gboolean ancestor_present)
{
  if (value == NULL)
    return g_strdup (ancestor_present ? _("removed") : _("not there"));

  if (value->type == CPS_JSON_ARRAY)
    {
      g_autoptr (GString) inline_text = NULL;

      if (value->n == 0)
        return g_strdup (_("an empty list"));

      /* A short list of short values is shown as it is. */
      inline_text = g_string_new (NULL);
      for (guint i = 0; i < value->n && inline_text != NULL; i++)
        {
          g_autofree char *item = describe_scalar (&value->v.items[i]);

          if (item == NULL)
            g_clear_pointer (&inline_text, free_gstring);
          else
            {
              if (i > 0)
                /* Translators: separates the items of a short list, as in “A”, “B” */
                g_string_append (inline_text, C_ ("list", ", "));
              g_string_append (inline_text, item);
              if (g_utf8_strlen (inline_text->str, -1) > SUMMARY_VALUE_CHARS + 2)
                g_clear_pointer (&inline_text, free_gstring);
            }
        }
      if (inline_text != NULL)
        return g_string_free (g_steal_pointer (&inline_text), FALSE);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "a list of %u item",
                                           "a list of %u items", value->n),
                              value->n);
    }

  if (value->type == CPS_JSON_OBJECT)
    {
      if (value->n == 0)
        return g_strdup (_("an empty object"));
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "an object with %u field",
                                           "an object with %u fields", value->n),
                              value->n);
    }

  return describe_scalar (value);
}

static char *
describe_side (const char *device, const char *time, gboolean left)
{
  if (device != NULL && time != NULL)
    /* Translators: which device made one side of a merge conflict, and when,
     * as in “DIT cart, 14:02” */
    return g_strdup_printf (C_ ("merge side", "%1$s, %2$s"), device, time);
  if (device != NULL)
    return g_strdup (device);
  if (time != NULL)
    return g_strdup (time);
  return g_strdup (left ? _("left side") : _("right side"));
}

static char *
make_summary (CpsMerge *self, const Conflict *conflict)
{
  gboolean ancestor_present = self->has_ancestor && conflict->ancestor != NULL;
  g_autofree char *left = describe_value (conflict->left, ancestor_present);
  g_autofree char *right = describe_value (conflict->right, ancestor_present);
  g_autofree char *left_side = describe_side (self->left_device, self->left_time, TRUE);
  g_autofree char *right_side = describe_side (self->right_device, self->right_time, FALSE);

  /* Translators: a merge conflict: the field, then each side's value with the
   * device that made it and when, as in “Battery: “X” (DIT cart, 14:02) vs
   * “Y” (Camera truck, 14:05)”. A value may also read “removed” or
   * “a list of 3 items”. */
  return g_strdup_printf (_("%1$s: %2$s (%3$s) vs %4$s (%5$s)"), conflict->label, left,
                          left_side, right, right_side);
}

/* Object */

static void
clear_conflict (gpointer data)
{
  Conflict *conflict = data;

  g_free (conflict->path);
  g_free (conflict->label);
  g_free (conflict->summary);
}

static Conflict *
get_conflict (CpsMerge *self, guint i)
{
  g_return_val_if_fail (CPS_IS_MERGE (self), NULL);
  g_return_val_if_fail (i < self->conflicts->len, NULL);
  return &g_array_index (self->conflicts, Conflict, i);
}

static char *
nullable_strdup (const char *text)
{
  return (text != NULL && *text != '\0') ? g_strdup (text) : NULL;
}

static void
cps_merge_finalize (GObject *object)
{
  CpsMerge *self = CPS_MERGE (object);

  g_clear_pointer (&self->conflicts, g_array_unref);
  g_clear_pointer (&self->by_path, g_hash_table_unref);
  g_clear_pointer (&self->scratch, cps_json_document_unref);
  g_free (self->left_device);
  g_free (self->left_time);
  g_free (self->right_device);
  g_free (self->right_time);

  G_OBJECT_CLASS (cps_merge_parent_class)->finalize (object);
}

static void
cps_merge_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CpsMerge *self = CPS_MERGE (object);

  switch (prop_id)
    {
    case PROP_N_CONFLICTS:
      g_value_set_uint (value, self->conflicts->len);
      break;
    case PROP_N_UNRESOLVED:
      g_value_set_uint (value, self->n_unresolved);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cps_merge_class_init (CpsMergeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = cps_merge_finalize;
  object_class->get_property = cps_merge_get_property;

  properties[PROP_N_CONFLICTS] =
    g_param_spec_uint ("n-conflicts", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_UNRESOLVED] =
    g_param_spec_uint ("n-unresolved", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cps_merge_init (CpsMerge *self)
{
  self->scratch = cps_json_document_new_derived (NULL);
  self->conflicts = g_array_new (FALSE, FALSE, sizeof (Conflict));
  g_array_set_clear_func (self->conflicts, clear_conflict);
  self->by_path = g_hash_table_new (g_str_hash, g_str_equal);
}

static void
set_choice (CpsMerge *self, Conflict *conflict, CpsMergeChoice choice, const CpsJsonNode *edited)
{
  guint before = self->n_unresolved;

  if (conflict->choice == CPS_MERGE_CHOICE_NONE && choice != CPS_MERGE_CHOICE_NONE)
    self->n_unresolved--;
  else if (conflict->choice != CPS_MERGE_CHOICE_NONE && choice == CPS_MERGE_CHOICE_NONE)
    self->n_unresolved++;
  conflict->choice = choice;
  conflict->edited = edited;
  if (self->n_unresolved != before)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_UNRESOLVED]);
}

/* Public API */

/**
 * cps_merge_new:
 * @ancestor: (nullable): the common ancestor, or %NULL when the two sides have
 *   none, in which case everything that differs between them is a conflict
 * @left: one side, whose order wins where both sides keep an order
 * @right: the other side
 * @left_side: (nullable): who made the left side, for summaries
 * @right_side: (nullable): who made the right side
 *
 * Merges @left and @right against @ancestor. Changes that do not overlap are
 * merged at once; the others are conflicts, each to be resolved before
 * cps_merge_build_result() gives a result.
 *
 * The merge borrows the three trees: they must outlive it. The results it
 * builds are documents of their own.
 *
 * Returns: (transfer full): the merge
 */
CpsMerge *
cps_merge_new (const CpsJsonNode *ancestor, const CpsJsonNode *left, const CpsJsonNode *right,
               const CpsMergeSide *left_side, const CpsMergeSide *right_side)
{
  CpsMerge *self;
  Walk walk;

  g_return_val_if_fail (left != NULL, NULL);
  g_return_val_if_fail (right != NULL, NULL);

  self = g_object_new (CPS_TYPE_MERGE, NULL);
  self->has_ancestor = ancestor != NULL;
  if (left_side != NULL)
    {
      self->left_device = nullable_strdup (left_side->device_label);
      self->left_time = nullable_strdup (left_side->time);
    }
  if (right_side != NULL)
    {
      self->right_device = nullable_strdup (right_side->device_label);
      self->right_time = nullable_strdup (right_side->time);
    }

  walk.self = self;
  walk.segments = g_array_new (FALSE, FALSE, sizeof (Segment));
  /* Both sides are present, so the root always is. */
  merge_slot (&walk, ancestor, left, right, &self->plan);
  g_array_unref (walk.segments);

  self->n_unresolved = self->conflicts->len;
  for (guint i = 0; i < self->conflicts->len; i++)
    {
      const Conflict *conflict = &g_array_index (self->conflicts, Conflict, i);

      if (!g_hash_table_contains (self->by_path, conflict->path))
        g_hash_table_insert (self->by_path, conflict->path, GUINT_TO_POINTER (i + 1));
    }
  return self;
}

/**
 * cps_merge_has_ancestor:
 *
 * Returns: whether the merge had a common ancestor
 */
gboolean
cps_merge_has_ancestor (CpsMerge *self)
{
  g_return_val_if_fail (CPS_IS_MERGE (self), FALSE);
  return self->has_ancestor;
}

guint
cps_merge_get_n_conflicts (CpsMerge *self)
{
  g_return_val_if_fail (CPS_IS_MERGE (self), 0);
  return self->conflicts->len;
}

/**
 * cps_merge_get_n_unresolved:
 *
 * Returns: how many conflicts have no choice yet
 */
guint
cps_merge_get_n_unresolved (CpsMerge *self)
{
  g_return_val_if_fail (CPS_IS_MERGE (self), 0);
  return self->n_unresolved;
}

/**
 * cps_merge_find_conflict:
 * @path: a conflict's path, as cps_merge_conflict_get_path() gives it
 * @index: (out) (optional): receives the conflict's index
 *
 * Returns: whether a conflict has that path
 */
gboolean
cps_merge_find_conflict (CpsMerge *self, const char *path, guint *index)
{
  guint found;

  g_return_val_if_fail (CPS_IS_MERGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  found = GPOINTER_TO_UINT (g_hash_table_lookup (self->by_path, path));
  if (found == 0)
    return FALSE;
  if (index != NULL)
    *index = found - 1;
  return TRUE;
}

/**
 * cps_merge_conflict_get_path:
 *
 * Returns: where conflict @i is, as `$.projectInfo.people[name="Alex"].phone`:
 *   members as in cps_json_path_append_key(), named items as
 *   `[field=JSON value]` like the planner's version log
 */
const char *
cps_merge_conflict_get_path (CpsMerge *self, guint i)
{
  Conflict *conflict = get_conflict (self, i);

  return conflict != NULL ? conflict->path : NULL;
}

/**
 * cps_merge_conflict_get_label:
 *
 * Returns: the translated name of the field in conflict, as “Crew › Alex › Phone”
 */
const char *
cps_merge_conflict_get_label (CpsMerge *self, guint i)
{
  Conflict *conflict = get_conflict (self, i);

  return conflict != NULL ? conflict->label : NULL;
}

/**
 * cps_merge_conflict_get_summary:
 *
 * Returns: one translated line describing conflict @i, as
 *   “Battery: “X” (DIT cart, 14:02) vs “Y” (Camera truck, 14:05)”
 */
const char *
cps_merge_conflict_get_summary (CpsMerge *self, guint i)
{
  Conflict *conflict = get_conflict (self, i);

  if (conflict == NULL)
    return NULL;
  if (conflict->summary == NULL)
    conflict->summary = make_summary (self, conflict);
  return conflict->summary;
}

/**
 * cps_merge_conflict_get_ancestor:
 *
 * Returns: (nullable): the ancestor's value, or %NULL where it had none (or
 *   there is no ancestor)
 */
const CpsJsonNode *
cps_merge_conflict_get_ancestor (CpsMerge *self, guint i)
{
  Conflict *conflict = get_conflict (self, i);

  return conflict != NULL ? conflict->ancestor : NULL;
}

/**
 * cps_merge_conflict_get_left:
 *
 * Returns: (nullable): the left side's value, or %NULL where it has none
 *   (removed, or never there)
 */
const CpsJsonNode *
cps_merge_conflict_get_left (CpsMerge *self, guint i)
{
  Conflict *conflict = get_conflict (self, i);

  return conflict != NULL ? conflict->left : NULL;
}

/**
 * cps_merge_conflict_get_right:
 *
 * Returns: (nullable): the right side's value, or %NULL where it has none
 */
const CpsJsonNode *
cps_merge_conflict_get_right (CpsMerge *self, guint i)
{
  Conflict *conflict = get_conflict (self, i);

  return conflict != NULL ? conflict->right : NULL;
}

/**
 * cps_merge_conflict_allows_both:
 *
 * Returns: whether %CPS_MERGE_CHOICE_BOTH can resolve conflict @i: both
 *   sides' values are lists
 */
gboolean
cps_merge_conflict_allows_both (CpsMerge *self, guint i)
{
  Conflict *conflict = get_conflict (self, i);

  return conflict != NULL && conflict->allows_both;
}

CpsMergeChoice
cps_merge_conflict_get_choice (CpsMerge *self, guint i)
{
  Conflict *conflict = get_conflict (self, i);

  return conflict != NULL ? conflict->choice : CPS_MERGE_CHOICE_NONE;
}

/**
 * cps_merge_conflict_get_edited:
 *
 * Returns: (nullable): the edited value chosen for conflict @i, if
 *   %CPS_MERGE_CHOICE_VALUE was chosen; it lives as long as the merge
 */
const CpsJsonNode *
cps_merge_conflict_get_edited (CpsMerge *self, guint i)
{
  Conflict *conflict = get_conflict (self, i);

  return conflict != NULL ? conflict->edited : NULL;
}

/**
 * cps_merge_resolve:
 * @i: the conflict's index
 * @choice: how to resolve it; %CPS_MERGE_CHOICE_NONE undoes a choice
 * @edited: (nullable): the value, for %CPS_MERGE_CHOICE_VALUE; it is copied
 *
 * Returns: whether the choice could be made
 */
gboolean
cps_merge_resolve (CpsMerge *self, guint i, CpsMergeChoice choice, const CpsJsonNode *edited,
                   GError **error)
{
  Conflict *conflict;
  CpsJsonNode *copy = NULL;

  g_return_val_if_fail (CPS_IS_MERGE (self), FALSE);
  g_return_val_if_fail (choice <= CPS_MERGE_CHOICE_VALUE, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (i >= self->conflicts->len)
    {
      g_set_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_NO_SUCH_CONFLICT,
                   g_dngettext (GETTEXT_PACKAGE,
                                "There is no conflict number %u; this merge has %u conflict",
                                "There is no conflict number %u; this merge has %u conflicts",
                                self->conflicts->len),
                   i, self->conflicts->len);
      return FALSE;
    }
  conflict = &g_array_index (self->conflicts, Conflict, i);

  switch (choice)
    {
    case CPS_MERGE_CHOICE_BOTH:
      if (!conflict->allows_both)
        {
          g_set_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_NOT_AN_ARRAY,
                       _("“%s” (%s) is not a list on both sides, so both cannot be kept; choose "
                         "left, right or an edited value"),
                       conflict->label, conflict->path);
          return FALSE;
        }
      break;
    case CPS_MERGE_CHOICE_VALUE:
      if (edited == NULL)
        {
          g_set_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_INVALID_CHOICE,
                       _("No edited value was given for “%s” (%s)"), conflict->label,
                       conflict->path);
          return FALSE;
        }
      if (!check_value (edited, 0, error))
        return FALSE;
      copy = cps_json_document_alloc_items (self->scratch, 1);
      copy_node (NULL, self->scratch, edited, copy);
      break;
    case CPS_MERGE_CHOICE_NONE:
    case CPS_MERGE_CHOICE_LEFT:
    case CPS_MERGE_CHOICE_RIGHT:
    default:
      break;
    }

  set_choice (self, conflict, choice, copy);
  return TRUE;
}

/**
 * cps_merge_resolve_path:
 * @path: a conflict's path, as cps_merge_conflict_get_path() gives it
 * @choice: left, right, both or none; an edited value needs cps_merge_resolve()
 *
 * Returns: whether the choice could be made
 */
gboolean
cps_merge_resolve_path (CpsMerge *self, const char *path, CpsMergeChoice choice, GError **error)
{
  guint i;

  g_return_val_if_fail (CPS_IS_MERGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!cps_merge_find_conflict (self, path, &i))
    {
      g_set_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_NO_SUCH_CONFLICT,
                   _("There is no conflict at %s; the merge lists every conflict with its path"),
                   path);
      return FALSE;
    }
  if (choice == CPS_MERGE_CHOICE_VALUE)
    {
      g_set_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_INVALID_CHOICE,
                   _("An edited value for %s must be given with the value itself; by path, "
                     "choose left, right or both"),
                   path);
      return FALSE;
    }
  return cps_merge_resolve (self, i, choice, NULL, error);
}

/**
 * cps_merge_resolve_all:
 * @choice: %CPS_MERGE_CHOICE_LEFT or %CPS_MERGE_CHOICE_RIGHT
 *
 * Resolves every conflict that has no choice yet with @choice; choices made
 * before stay.
 */
void
cps_merge_resolve_all (CpsMerge *self, CpsMergeChoice choice)
{
  g_return_if_fail (CPS_IS_MERGE (self));
  g_return_if_fail (choice == CPS_MERGE_CHOICE_LEFT || choice == CPS_MERGE_CHOICE_RIGHT);

  g_object_freeze_notify (G_OBJECT (self));
  for (guint i = 0; i < self->conflicts->len; i++)
    {
      Conflict *conflict = &g_array_index (self->conflicts, Conflict, i);

      if (conflict->choice == CPS_MERGE_CHOICE_NONE)
        set_choice (self, conflict, choice, NULL);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * cps_merge_build_result:
 *
 * Builds the merged document with the choices made so far. Members keep
 * left's order, followed by those only right has; so do named items.
 *
 * Returns: (transfer full) (nullable): a new document that shares nothing
 *   with the inputs, or %NULL with %CPS_MERGE_ERROR_UNRESOLVED while a
 *   conflict has no choice
 */
CpsJsonDocument *
cps_merge_build_result (CpsMerge *self, GError **error)
{
  g_autoptr (CpsJsonDocument) doc = NULL;
  CpsJsonNode root;

  g_return_val_if_fail (CPS_IS_MERGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->n_unresolved > 0)
    {
      const char *first = "$";

      for (guint i = self->conflicts->len; i-- > 0;)
        if (g_array_index (self->conflicts, Conflict, i).choice == CPS_MERGE_CHOICE_NONE)
          first = g_array_index (self->conflicts, Conflict, i).path;
      g_set_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_UNRESOLVED,
                   g_dngettext (GETTEXT_PACKAGE,
                                "%u conflict is not resolved yet, at %s; choose a value for it",
                                "%u conflicts are not resolved yet, the first at %s; choose a "
                                "value for each",
                                self->n_unresolved),
                   self->n_unresolved, first);
      return NULL;
    }

  doc = cps_json_document_new_derived (NULL);
  if (!copy_node (self, doc, &self->plan, &root))
    {
      memset (&root, 0, sizeof root);
      root.type = CPS_JSON_NULL;
    }
  cps_json_document_set_root (doc, &root);
  return g_steal_pointer (&doc);
}

/**
 * cps_merge_choice_from_string:
 * @text: “left”, “right” or “both”, as the command line takes them
 * @choice: (out): receives the choice
 *
 * Returns: whether @text names a choice
 */
gboolean
cps_merge_choice_from_string (const char *text, CpsMergeChoice *choice)
{
  static const struct
  {
    const char *name;
    CpsMergeChoice choice;
  } names[] = {
    { "left", CPS_MERGE_CHOICE_LEFT },
    { "right", CPS_MERGE_CHOICE_RIGHT },
    { "both", CPS_MERGE_CHOICE_BOTH },
  };

  g_return_val_if_fail (text != NULL, FALSE);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (text, names[i].name) == 0)
      {
        if (choice != NULL)
          *choice = names[i].choice;
        return TRUE;
      }
  return FALSE;
}

/**
 * cps_merge_choice_to_string:
 *
 * Returns: the choice's untranslated name: none, left, right, both or value
 */
const char *
cps_merge_choice_to_string (CpsMergeChoice choice)
{
  switch (choice)
    {
    case CPS_MERGE_CHOICE_LEFT:
      return "left";
    case CPS_MERGE_CHOICE_RIGHT:
      return "right";
    case CPS_MERGE_CHOICE_BOTH:
      return "both";
    case CPS_MERGE_CHOICE_VALUE:
      return "value";
    case CPS_MERGE_CHOICE_NONE:
    default:
      return "none";
    }
}
