/* cps-dag.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cps-dag"

#include "config.h"

#include <string.h>

#include "cps-dag.h"

typedef struct
{
  char *id;
  GPtrArray *parents;  /* Node*, borrowed */
  guint n_children;
  guint64 clock_sum;
  guint mark;          /* for walks: the walk number that last saw it */
  guint mark2;
} Node;

struct _CpsDag
{
  GHashTable *nodes; /* id → Node* */
  guint walk;
};

static void
node_free (Node *node)
{
  g_free (node->id);
  g_ptr_array_unref (node->parents);
  g_free (node);
}

CpsDag *
cps_dag_new (void)
{
  CpsDag *dag = g_new0 (CpsDag, 1);

  dag->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) node_free);
  return dag;
}

void
cps_dag_free (CpsDag *dag)
{
  if (dag == NULL)
    return;
  g_hash_table_unref (dag->nodes);
  g_free (dag);
}

/**
 * cps_dag_add:
 * @parents: %NULL-terminated parent ids, all already in the graph
 *
 * Returns: %FALSE when @id is already present or a parent is unknown
 */
gboolean
cps_dag_add (CpsDag *dag, const char *id, const char *const *parents, guint64 clock_sum)
{
  Node *node;

  if (g_hash_table_contains (dag->nodes, id))
    return FALSE;
  for (guint i = 0; parents != NULL && parents[i] != NULL; i++)
    if (!g_hash_table_contains (dag->nodes, parents[i]))
      return FALSE;

  node = g_new0 (Node, 1);
  node->id = g_strdup (id);
  node->parents = g_ptr_array_new ();
  node->clock_sum = clock_sum;
  for (guint i = 0; parents != NULL && parents[i] != NULL; i++)
    {
      Node *parent = g_hash_table_lookup (dag->nodes, parents[i]);
      g_ptr_array_add (node->parents, parent);
      parent->n_children++;
    }
  g_hash_table_insert (dag->nodes, node->id, node);
  return TRUE;
}

gboolean
cps_dag_contains (CpsDag *dag, const char *id)
{
  return g_hash_table_contains (dag->nodes, id);
}

guint
cps_dag_get_size (CpsDag *dag)
{
  return g_hash_table_size (dag->nodes);
}

static int
compare_ids (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/**
 * cps_dag_get_heads:
 *
 * Returns: (transfer container) (element-type utf8): the revisions without
 *   children, sorted; the strings belong to the graph
 */
GPtrArray *
cps_dag_get_heads (CpsDag *dag)
{
  GPtrArray *heads = g_ptr_array_new ();
  GHashTableIter iter;
  Node *node;

  g_hash_table_iter_init (&iter, dag->nodes);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &node))
    if (node->n_children == 0)
      g_ptr_array_add (heads, node->id);
  g_ptr_array_sort (heads, compare_ids);
  return heads;
}

/* Marks @start and all its ancestors with the current walk number in the
 * field at @offset, iteratively (histories can be long). */
static void
mark_ancestors (CpsDag *dag, Node *start, gsize offset)
{
  g_autoptr (GPtrArray) stack = g_ptr_array_new ();

  g_ptr_array_add (stack, start);
  while (stack->len > 0)
    {
      Node *node = g_ptr_array_steal_index_fast (stack, stack->len - 1);
      guint *mark = G_STRUCT_MEMBER_P (node, offset);

      if (*mark == dag->walk)
        continue;
      *mark = dag->walk;
      for (guint i = 0; i < node->parents->len; i++)
        g_ptr_array_add (stack, g_ptr_array_index (node->parents, i));
    }
}

/**
 * cps_dag_is_ancestor:
 *
 * Returns: whether @ancestor is @descendant or one of its ancestors
 */
gboolean
cps_dag_is_ancestor (CpsDag *dag, const char *ancestor, const char *descendant)
{
  Node *a = g_hash_table_lookup (dag->nodes, ancestor);
  Node *d = g_hash_table_lookup (dag->nodes, descendant);

  if (a == NULL || d == NULL)
    return FALSE;
  dag->walk++;
  mark_ancestors (dag, d, G_STRUCT_OFFSET (Node, mark));
  return a->mark == dag->walk;
}

/**
 * cps_dag_get_ancestors:
 *
 * Returns: (transfer container) (element-type utf8): @id and all its
 *   ancestors, sorted
 */
GPtrArray *
cps_dag_get_ancestors (CpsDag *dag, const char *id)
{
  GPtrArray *result = g_ptr_array_new ();
  Node *start = g_hash_table_lookup (dag->nodes, id);
  GHashTableIter iter;
  Node *node;

  if (start == NULL)
    return result;
  dag->walk++;
  mark_ancestors (dag, start, G_STRUCT_OFFSET (Node, mark));
  g_hash_table_iter_init (&iter, dag->nodes);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &node))
    if (node->mark == dag->walk)
      g_ptr_array_add (result, node->id);
  g_ptr_array_sort (result, compare_ids);
  return result;
}

/**
 * cps_dag_lowest_common_ancestors:
 *
 * The common ancestors of @a and @b that are not ancestors of another
 * common ancestor. Criss-cross histories have several; a linear one has
 * one; unrelated roots have none.
 *
 * Returns: (transfer container) (element-type utf8): the ids, sorted
 */
GPtrArray *
cps_dag_lowest_common_ancestors (CpsDag *dag, const char *a, const char *b)
{
  GPtrArray *result = g_ptr_array_new ();
  g_autoptr (GPtrArray) common = g_ptr_array_new ();
  Node *na = g_hash_table_lookup (dag->nodes, a);
  Node *nb = g_hash_table_lookup (dag->nodes, b);
  GHashTableIter iter;
  Node *node;
  guint common_walk;

  if (na == NULL || nb == NULL)
    return result;

  dag->walk++;
  mark_ancestors (dag, na, G_STRUCT_OFFSET (Node, mark));
  common_walk = dag->walk;
  mark_ancestors (dag, nb, G_STRUCT_OFFSET (Node, mark2));
  g_hash_table_iter_init (&iter, dag->nodes);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &node))
    if (node->mark == common_walk && node->mark2 == common_walk)
      g_ptr_array_add (common, node);

  /* A common ancestor is lowest when no other common ancestor descends
   * from it: mark the strict ancestors of every common ancestor. */
  dag->walk++;
  for (guint i = 0; i < common->len; i++)
    {
      Node *c = g_ptr_array_index (common, i);
      for (guint j = 0; j < c->parents->len; j++)
        mark_ancestors (dag, g_ptr_array_index (c->parents, j), G_STRUCT_OFFSET (Node, mark));
    }
  for (guint i = 0; i < common->len; i++)
    {
      Node *c = g_ptr_array_index (common, i);
      if (c->mark != dag->walk)
        g_ptr_array_add (result, c->id);
    }
  g_ptr_array_sort (result, compare_ids);
  return result;
}

/**
 * cps_dag_get_display_winner:
 * @heads: (element-type utf8): head ids
 *
 * The head shown when a project is in conflict: the largest clock sum, then
 * the highest id. It never decides what is kept.
 *
 * Returns: (nullable): the winner, owned by the graph
 */
const char *
cps_dag_get_display_winner (CpsDag *dag, GPtrArray *heads)
{
  Node *best = NULL;

  for (guint i = 0; i < heads->len; i++)
    {
      Node *node = g_hash_table_lookup (dag->nodes, g_ptr_array_index (heads, i));
      if (node == NULL)
        continue;
      if (best == NULL || node->clock_sum > best->clock_sum ||
          (node->clock_sum == best->clock_sum && strcmp (node->id, best->id) > 0))
        best = node;
    }
  return best ? best->id : NULL;
}
