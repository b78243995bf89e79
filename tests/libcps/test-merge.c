/* test-merge.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Three-way JSON merge: a table of cases (ancestor, left, right → conflicts
 * and the result once they are resolved), the resolutions, the summaries, and
 * properties over random trees.
 *
 * JSON in this file is written with single quotes, which q() turns into
 * double quotes, so that the cases stay readable.
 */

#define G_LOG_DOMAIN "test-merge"

#include "config.h"

#include <math.h>
#include <string.h>

#include "cps.h"
#include "cps-merge.h"

/* Helpers */

static char *
q (const char *text)
{
  char *out = g_strdup (text);

  for (char *p = out; *p != '\0'; p++)
    if (*p == '\'')
      *p = '"';
  return out;
}

static CpsJsonDocument *
parse (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json = q (text);
  CpsJsonDocument *doc = cps_json_document_parse_copy (json, -1, NULL, &error);

  if (doc == NULL)
    g_error ("cannot parse test JSON %s: %s", json, error->message);
  return doc;
}

static CpsJsonNode *
root (CpsJsonDocument *doc)
{
  return doc != NULL ? cps_json_document_get_root (doc) : NULL;
}

static char *
canonical (const CpsJsonNode *node)
{
  g_autoptr (GError) error = NULL;
  char *text = cps_jcs_to_string (node, NULL, &error);

  g_assert_no_error (error);
  return text;
}

static char *
canonical_text (const char *text)
{
  g_autoptr (CpsJsonDocument) doc = parse (text);

  return canonical (root (doc));
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* A form in which every array is compared as a multiset (its items sorted by
 * their own normal form) and every object's members are sorted. */
static void
normalize_into (GString *out, const CpsJsonNode *node)
{
  g_autoptr (GPtrArray) parts = NULL;

  if (node->type != CPS_JSON_ARRAY && node->type != CPS_JSON_OBJECT)
    {
      g_autofree char *text = canonical (node);
      g_string_append (out, text);
      return;
    }

  parts = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < node->n; i++)
    {
      GString *part = g_string_new (NULL);

      if (node->type == CPS_JSON_ARRAY)
        normalize_into (part, &node->v.items[i]);
      else
        {
          cps_jcs_append_string (part, node->v.members[i].key, node->v.members[i].key_len);
          g_string_append_c (part, ':');
          normalize_into (part, &node->v.members[i].value);
        }
      g_ptr_array_add (parts, g_string_free (part, FALSE));
    }
  g_ptr_array_sort (parts, compare_strings);

  g_string_append_c (out, node->type == CPS_JSON_ARRAY ? '[' : '{');
  for (guint i = 0; i < parts->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append (out, g_ptr_array_index (parts, i));
    }
  g_string_append_c (out, node->type == CPS_JSON_ARRAY ? ']' : '}');
}

static char *
normalized (const CpsJsonNode *node)
{
  GString *out = g_string_new (NULL);

  normalize_into (out, node);
  return g_string_free (out, FALSE);
}

static char *
conflict_paths (CpsMerge *merge)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < cps_merge_get_n_conflicts (merge); i++)
    {
      if (i > 0)
        g_string_append_c (out, '\n');
      g_string_append (out, cps_merge_conflict_get_path (merge, i));
    }
  return g_string_free (out, FALSE);
}

static char *
build_canonical (CpsMerge *merge)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) result = cps_merge_build_result (merge, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  return canonical (root (result));
}

static gboolean
same_value (const CpsJsonNode *a, const CpsJsonNode *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return cps_json_node_equal (a, b);
}

/* What every merge must satisfy, whatever its inputs. */
static void
check_conflicts_sane (CpsMerge *merge)
{
  g_autoptr (GHashTable) paths = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_cmpuint (cps_merge_get_n_unresolved (merge), <=, cps_merge_get_n_conflicts (merge));
  for (guint i = 0; i < cps_merge_get_n_conflicts (merge); i++)
    {
      const char *path = cps_merge_conflict_get_path (merge, i);
      const char *summary = cps_merge_conflict_get_summary (merge, i);
      const CpsJsonNode *left = cps_merge_conflict_get_left (merge, i);
      const CpsJsonNode *right = cps_merge_conflict_get_right (merge, i);
      guint found = G_MAXUINT;

      g_assert_true (g_str_has_prefix (path, "$"));
      g_assert_true (g_hash_table_add (paths, (gpointer) path));
      g_assert_true (cps_merge_find_conflict (merge, path, &found));
      g_assert_cmpuint (found, ==, i);
      g_assert_true (g_utf8_validate (summary, -1, NULL));
      g_assert_true (g_utf8_validate (cps_merge_conflict_get_label (merge, i), -1, NULL));
      g_assert_cmpstr (summary, !=, "");
      /* Only values that differ conflict. */
      g_assert_false (same_value (left, right));
      g_assert_cmpint (cps_merge_conflict_allows_both (merge, i), ==,
                       left != NULL && right != NULL && left->type == CPS_JSON_ARRAY &&
                         right->type == CPS_JSON_ARRAY);
    }
}

/* The table */

typedef struct
{
  const char *name;
  const char *ancestor; /* NULL: no common ancestor */
  const char *left;
  const char *right;
  const char *conflicts; /* their paths, one per line, or NULL for none */
  CpsMergeChoice choice; /* for resolve_all(); NONE stands for LEFT */
  const char *expected;  /* the result once resolved */
} MergeCase;

#define C1 "{'id':'c1','name':'Jo Doe','phone':'1','email':'jo@example.invalid'}"
#define C1_PHONE2 "{'id':'c1','name':'Jo Doe','phone':'2','email':'jo@example.invalid'}"
#define C1_PHONE3 "{'id':'c1','name':'Jo Doe','phone':'3','email':'jo@example.invalid'}"
#define C1_MAIL "{'id':'c1','name':'Jo Doe','phone':'1','email':'jo@new.invalid'}"
#define C1_BOTH "{'id':'c1','name':'Jo Doe','phone':'2','email':'jo@new.invalid'}"
#define C2 "{'id':'c2','name':'Sam Roe','phone':'5'}"
#define C2_EDIT "{'id':'c2','name':'Sam Roe','phone':'6'}"
#define C3 "{'id':'c3','name':'Kim Poe'}"
#define F1 "{'username':'Alex','date':'2025-03-05','runtime':'1:45'}"
#define F2 "{'username':'Kim','date':'2025-03-06','runtime':'2:10'}"
#define F3 "{'username':'Sam','date':'2025-03-07','runtime':'0:55'}"

static const MergeCase merge_cases[] = {
  /* Scalars in one object */
  { "unchanged", "{'x':1,'y':'a'}", "{'x':1,'y':'a'}", "{'x':1,'y':'a'}", NULL, 0,
    "{'x':1,'y':'a'}" },
  { "left-edit", "{'x':1,'y':2}", "{'x':5,'y':2}", "{'x':1,'y':2}", NULL, 0, "{'x':5,'y':2}" },
  { "right-edit", "{'x':1,'y':2}", "{'x':1,'y':2}", "{'x':1,'y':7}", NULL, 0, "{'x':1,'y':7}" },
  { "disjoint-edits", "{'x':1,'y':2}", "{'x':5,'y':2}", "{'x':1,'y':7}", NULL, 0,
    "{'x':5,'y':7}" },
  { "identical-edits", "{'x':1}", "{'x':3}", "{'x':3}", NULL, 0, "{'x':3}" },
  { "both-edit-take-left", "{'x':1,'k':0}", "{'x':2,'k':0}", "{'x':3,'k':1}", "$.x",
    CPS_MERGE_CHOICE_LEFT, "{'x':2,'k':1}" },
  { "both-edit-take-right", "{'x':1,'k':0}", "{'x':2,'k':0}", "{'x':3,'k':1}", "$.x",
    CPS_MERGE_CHOICE_RIGHT, "{'x':3,'k':1}" },
  { "booleans", "{'e':true,'f':false}", "{'e':false,'f':false}", "{'e':true,'f':false}", NULL, 0,
    "{'e':false,'f':false}" },

  /* Members added and removed */
  { "added-left", "{}", "{'n':1}", "{}", NULL, 0, "{'n':1}" },
  { "added-right", "{'a':0}", "{'a':0}", "{'a':0,'n':{'m':[1]}}", NULL, 0,
    "{'a':0,'n':{'m':[1]}}" },
  { "added-both-same", "{'a':0}", "{'a':1,'n':[1,2]}", "{'a':0,'n':[1,2]}", NULL, 0,
    "{'a':1,'n':[1,2]}" },
  { "added-both-different", "{'a':0}", "{'a':0,'n':'a'}", "{'a':1,'n':'b'}", "$.n", 0,
    "{'a':1,'n':'a'}" },
  { "deleted-left", "{'x':1,'y':2}", "{'y':2}", "{'x':1,'y':2}", NULL, 0, "{'y':2}" },
  { "deleted-right", "{'x':1,'y':2}", "{'x':1,'y':2}", "{'x':1}", NULL, 0, "{'x':1}" },
  { "deleted-both", "{'x':1,'y':2}", "{'y':2,'z':1}", "{'y':3}", NULL, 0, "{'y':3,'z':1}" },
  { "edit-vs-delete-left", "{'x':1,'k':0}", "{'x':2,'k':0}", "{'k':0}", "$.x",
    CPS_MERGE_CHOICE_LEFT, "{'x':2,'k':0}" },
  { "edit-vs-delete-right", "{'x':1,'k':0}", "{'x':2,'k':0}", "{'k':0}", "$.x",
    CPS_MERGE_CHOICE_RIGHT, "{'k':0}" },
  { "delete-vs-edit", "{'x':1}", "{}", "{'x':5}", "$.x", CPS_MERGE_CHOICE_LEFT, "{}" },
  { "null-vs-delete", "{'x':1}", "{'x':null}", "{}", "$.x", CPS_MERGE_CHOICE_LEFT,
    "{'x':null}" },
  { "null-one-side", "{'x':1}", "{'x':null}", "{'x':1}", NULL, 0, "{'x':null}" },
  { "emptied-vs-delete", "{'x':{'a':1}}", "{'x':{}}", "{}", "$.x", CPS_MERGE_CHOICE_LEFT,
    "{'x':{}}" },

  /* Nested objects */
  { "nested-disjoint", "{'a':{'b':{'c':1,'d':1}}}", "{'a':{'b':{'c':2,'d':1}}}",
    "{'a':{'b':{'c':1,'d':3}}}", NULL, 0, "{'a':{'b':{'c':2,'d':3}}}" },
  { "nested-conflict", "{'a':{'b':{'c':1}},'e':0}", "{'a':{'b':{'c':2}},'e':0}",
    "{'a':{'b':{'c':3}},'e':1}", "$.a.b.c", CPS_MERGE_CHOICE_LEFT,
    "{'a':{'b':{'c':2}},'e':1}" },
  { "nested-delete-vs-edit-inside", "{'a':{'b':1,'c':1},'z':0}", "{'z':0}",
    "{'a':{'b':2,'c':1},'z':0}", "$.a", CPS_MERGE_CHOICE_RIGHT,
    "{'a':{'b':2,'c':1},'z':0}" },
  { "nested-delete-vs-unchanged", "{'a':{'b':1},'z':1}", "{'z':1}", "{'a':{'b':1},'z':2}", NULL,
    0, "{'z':2}" },
  { "nested-added-both", "{}", "{'o':{'p':1,'q':1}}", "{'o':{'p':1,'r':1}}", NULL, 0,
    "{'o':{'p':1,'q':1,'r':1}}" },
  { "several-conflicts-in-order",
    "{'camera':'A','battery':'B','projectInfo':{'projectName':'P','people':[{'name':'Alex',"
    "'phone':'1'}]}}",
    "{'camera':'A2','battery':'B2','projectInfo':{'projectName':'P','people':[{'name':'Alex',"
    "'phone':'2'}]}}",
    "{'camera':'A','battery':'B3','projectInfo':{'projectName':'P3','people':[{'name':'Alex',"
    "'phone':'3'}]}}",
    "$.battery\n$.projectInfo.people[name='Alex'].phone", CPS_MERGE_CHOICE_RIGHT,
    "{'camera':'A2','battery':'B3','projectInfo':{'projectName':'P3','people':[{'name':'Alex',"
    "'phone':'3'}]}}" },

  /* Types */
  { "type-change-one-side", "{'x':{'y':1}}", "{'x':'flat'}", "{'x':{'y':1}}", NULL, 0,
    "{'x':'flat'}" },
  { "type-change-vs-edit", "{'x':{'y':1}}", "{'x':'flat'}", "{'x':{'y':2}}", "$.x",
    CPS_MERGE_CHOICE_RIGHT, "{'x':{'y':2}}" },
  { "type-change-both", "{'x':null}", "{'x':[1]}", "{'x':{'a':1}}", "$.x", CPS_MERGE_CHOICE_LEFT,
    "{'x':[1]}" },
  { "number-vs-string", "{'x':1}", "{'x':'1'}", "{'x':2}", "$.x", CPS_MERGE_CHOICE_LEFT,
    "{'x':'1'}" },
  { "root-type-change", "{'x':1}", "[1]", "{'x':2}", "$", CPS_MERGE_CHOICE_RIGHT, "{'x':2}" },

  /* Numbers are compared as numbers */
  { "number-spelling-unchanged", "{'x':1,'y':2.5}", "{'x':1.0,'y':2.50}", "{'x':1,'y':3}", NULL,
    0, "{'x':1,'y':3}" },
  { "number-spelling-same-edit", "{'x':1}", "{'x':1e2}", "{'x':100.0}", NULL, 0, "{'x':100}" },
  { "number-negative-zero", "{'x':0,'y':0}", "{'x':-0,'y':0}", "{'x':0,'y':4}", NULL, 0,
    "{'x':0,'y':4}" },

  /* Member names */
  { "unicode-keys-disjoint", "{'ключ':1,'日本語':'a','é':true}",
    "{'ключ':2,'日本語':'a','é':true}", "{'ключ':1,'日本語':'b','é':true,'🎬':0}", NULL, 0,
    "{'ключ':2,'日本語':'b','é':true,'🎬':0}" },
  { "unicode-key-conflict", "{'ключ':1,'é':{'ü':1}}", "{'ключ':2,'é':{'ü':2}}",
    "{'ключ':3,'é':{'ü':3}}", "$['ключ']\n$['é']['ü']", CPS_MERGE_CHOICE_RIGHT,
    "{'ключ':3,'é':{'ü':3}}" },
  { "odd-keys", "{'a b':1,'x\\'y':1,'':1,'_ok$1':1}", "{'a b':2,'x\\'y':2,'':2,'_ok$1':2}",
    "{'a b':3,'x\\'y':3,'':3,'_ok$1':3}", "$['a b']\n$['x\\'y']\n$['']\n$._ok$1",
    CPS_MERGE_CHOICE_LEFT, "{'a b':2,'x\\'y':2,'':2,'_ok$1':2}" },

  /* No common ancestor, and an ancestor that is JSON null */
  { "no-ancestor-identical", NULL, "{'x':1,'y':[1,2]}", "{'y':[1,2],'x':1}", NULL, 0,
    "{'x':1,'y':[1,2]}" },
  { "no-ancestor-differs", NULL, "{'x':1,'y':1,'l':1}", "{'x':2,'y':1,'r':1}",
    "$.x\n$.l\n$.r", CPS_MERGE_CHOICE_LEFT, "{'x':1,'y':1,'l':1}" },
  { "no-ancestor-nested", NULL, "{'a':{'b':1,'c':1}}", "{'a':{'b':1,'c':2}}", "$.a.c",
    CPS_MERGE_CHOICE_RIGHT, "{'a':{'b':1,'c':2}}" },
  { "no-ancestor-named", NULL, "{'contacts':[{'id':'c1','p':1},{'id':'c2'}]}",
    "{'contacts':[{'id':'c1','p':2}]}", "$.contacts[id='c1'].p\n$.contacts[id='c2']",
    CPS_MERGE_CHOICE_RIGHT, "{'contacts':[{'id':'c1','p':2}]}" },
  { "no-ancestor-feedback-as-list", NULL, "{'feedback':[" F1 "]}", "{'feedback':[" F2 "]}",
    "$.feedback", CPS_MERGE_CHOICE_LEFT, "{'feedback':[" F1 "]}" },
  { "null-ancestor-value", "null", "{'x':1}", "{'y':2}", NULL, 0, "{'x':1,'y':2}" },

  /* Arrays compared as values */
  { "strings-one-side", "{'lenses':['A','B']}", "{'lenses':['A','B','C']}",
    "{'lenses':['A','B']}", NULL, 0, "{'lenses':['A','B','C']}" },
  { "strings-both", "{'lenses':['A']}", "{'lenses':['A','B']}", "{'lenses':['A','C']}",
    "$.lenses", CPS_MERGE_CHOICE_LEFT, "{'lenses':['A','B']}" },
  { "strings-same-edit", "{'lenses':['A']}", "{'lenses':['A','B']}", "{'lenses':['A','B']}",
    NULL, 0, "{'lenses':['A','B']}" },
  { "mixed-array", "{'v':[1,'a',null]}", "{'v':[1,'a']}", "{'v':[1,'a',null,true]}", "$.v",
    CPS_MERGE_CHOICE_RIGHT, "{'v':[1,'a',null,true]}" },
  { "duplicate-ids-are-values", "{'xs':[{'id':1},{'id':1}]}",
    "{'xs':[{'id':1},{'id':1},{'id':2}]}", "{'xs':[{'id':1}]}", "$.xs", CPS_MERGE_CHOICE_LEFT,
    "{'xs':[{'id':1},{'id':1},{'id':2}]}" },
  { "objects-without-keys-are-values", "{'xs':[{'a':1}]}", "{'xs':[{'a':2}]}",
    "{'xs':[{'a':1},{'a':3}]}", "$.xs", CPS_MERGE_CHOICE_RIGHT, "{'xs':[{'a':1},{'a':3}]}" },

  /* Arrays of named things */
  { "named-reorder-left-edit-right", "{'contacts':[" C1 "," C2 "," C3 "]}",
    "{'contacts':[" C3 "," C1 "," C2 "]}", "{'contacts':[" C1 "," C2_EDIT "," C3 "]}", NULL, 0,
    "{'contacts':[" C3 "," C1 "," C2_EDIT "]}" },
  { "named-reordered-both", "{'contacts':[" C1 "," C2 "," C3 "]}",
    "{'contacts':[" C3 "," C2 "," C1 "]}", "{'contacts':[" C2 "," C1 "," C3 "]}", NULL, 0,
    "{'contacts':[" C3 "," C2 "," C1 "]}" },
  { "named-reordered-and-edited-both", "{'contacts':[" C1 "," C2 "," C3 "]}",
    "{'contacts':[" C3 "," C2 "," C1_PHONE2 "]}", "{'contacts':[" C2_EDIT "," C1_MAIL "," C3 "]}",
    NULL, 0, "{'contacts':[" C3 "," C2_EDIT "," C1_BOTH "]}" },
  { "named-same-field", "{'contacts':[" C1 "," C2 "]}", "{'contacts':[" C1_PHONE2 "," C2 "]}",
    "{'contacts':[" C1_PHONE3 "," C2_EDIT "]}", "$.contacts[id='c1'].phone",
    CPS_MERGE_CHOICE_LEFT, "{'contacts':[" C1_PHONE2 "," C2_EDIT "]}" },
  { "named-added-both-different-ids", "{'contacts':[" C1 "]}", "{'contacts':[" C1 "," C2 "]}",
    "{'contacts':[" C3 "," C1 "]}", NULL, 0, "{'contacts':[" C1 "," C2 "," C3 "]}" },
  { "named-added-both-same", "{'contacts':[" C1 "]}", "{'contacts':[" C1 "," C2 "]}",
    "{'contacts':[" C1_PHONE2 "," C2 "]}", NULL, 0, "{'contacts':[" C1_PHONE2 "," C2 "]}" },
  { "named-added-both-different", "{'contacts':[" C1 "]}",
    "{'contacts':[" C1 ",{'id':'c2','p':1,'q':1}]}",
    "{'contacts':[" C1_PHONE2 ",{'id':'c2','p':2,'s':1}]}", "$.contacts[id='c2'].p",
    CPS_MERGE_CHOICE_LEFT, "{'contacts':[" C1_PHONE2 ",{'id':'c2','p':1,'q':1,'s':1}]}" },
  { "named-deleted-left", "{'contacts':[" C1 "," C2 "]}", "{'contacts':[" C2 "]}",
    "{'contacts':[" C1 "," C2 "," C3 "]}", NULL, 0, "{'contacts':[" C2 "," C3 "]}" },
  { "named-deleted-both", "{'contacts':[" C1 "," C2 "," C3 "]}", "{'contacts':[" C2 "," C3 "]}",
    "{'contacts':[" C2_EDIT "]}", NULL, 0, "{'contacts':[" C2_EDIT "]}" },
  { "named-deleted-left-edited-right", "{'contacts':[" C1 "," C2 "]}", "{'contacts':[" C2 "]}",
    "{'contacts':[" C1_PHONE2 "," C2 "]}", "$.contacts[id='c1']", CPS_MERGE_CHOICE_RIGHT,
    "{'contacts':[" C2 "," C1_PHONE2 "]}" },
  { "people-by-name", "{'projectInfo':{'people':[{'name':'Alex','phone':'1'},{'name':'Kim'}]}}",
    "{'projectInfo':{'people':[{'name':'Alex','phone':'2'},{'name':'Kim','role':'DIT'}]}}",
    "{'projectInfo':{'people':[{'name':'Kim'},{'name':'Alex','phone':'3'},{'name':'Sam'}]}}",
    "$.projectInfo.people[name='Alex'].phone", CPS_MERGE_CHOICE_LEFT,
    "{'projectInfo':{'people':[{'name':'Alex','phone':'2'},{'name':'Kim','role':'DIT'},"
    "{'name':'Sam'}]}}" },
  { "rules-nested-items",
    "{'autoGearRules':[{'id':'r1','label':'Rain','add':[{'id':'i1','quantity':1},{'id':'i2',"
    "'quantity':1}]}]}",
    "{'autoGearRules':[{'id':'r1','label':'Rain','add':[{'id':'i1','quantity':2},{'id':'i2',"
    "'quantity':1},{'id':'i3','quantity':1}]}]}",
    "{'autoGearRules':[{'id':'r1','label':'Rain kit','add':[{'id':'i1','quantity':1},{'id':'i2',"
    "'quantity':3}]},{'id':'r2','label':'Night'}]}",
    NULL, 0,
    "{'autoGearRules':[{'id':'r1','label':'Rain kit','add':[{'id':'i1','quantity':2},{'id':'i2',"
    "'quantity':3},{'id':'i3','quantity':1}]},{'id':'r2','label':'Night'}]}" },
  { "rules-scenarios", "{'autoGearRules':[{'id':'r1','scenarios':['Rain']}]}",
    "{'autoGearRules':[{'id':'r1','scenarios':['Rain','Night']}]}",
    "{'autoGearRules':[{'id':'r1','scenarios':['Snow']}]}",
    "$.autoGearRules[id='r1'].scenarios", CPS_MERGE_CHOICE_RIGHT,
    "{'autoGearRules':[{'id':'r1','scenarios':['Snow']}]}" },
  { "keyed-by-label", "{'presets':[{'label':'A','v':1},{'label':'B','v':1}]}",
    "{'presets':[{'label':'A','v':2},{'label':'B','v':1}]}",
    "{'presets':[{'label':'A','v':3},{'label':'B','v':4}]}", "$.presets[label='A'].v",
    CPS_MERGE_CHOICE_LEFT, "{'presets':[{'label':'A','v':2},{'label':'B','v':4}]}" },
  { "numeric-ids", "{'xs':[{'id':7,'v':1},{'id':8,'v':1}]}",
    "{'xs':[{'id':7.0,'v':2},{'id':8,'v':1}]}", "{'xs':[{'id':7,'v':3},{'id':9,'v':1}]}",
    "$.xs[id=7].v", CPS_MERGE_CHOICE_LEFT, "{'xs':[{'id':7,'v':2},{'id':9,'v':1}]}" },
  { "numeric-ids-negative-zero", "{'xs':[{'id':0,'v':1}]}", "{'xs':[{'id':-0,'v':2}]}",
    "{'xs':[{'id':0,'v':3},{'id':1}]}", "$.xs[id=0].v", CPS_MERGE_CHOICE_LEFT,
    "{'xs':[{'id':0,'v':2},{'id':1}]}" },
  { "feedback-by-content", "{'feedback':[" F1 "]}", "{'feedback':[" F1 "," F2 "]}",
    "{'feedback':[" F3 "," F1 "]}", NULL, 0, "{'feedback':[" F1 "," F2 "," F3 "]}" },
  { "feedback-members-reordered", "{'feedback':[" F1 "]}", "{'feedback':[" F1 "," F2 "]}",
    "{'feedback':[{'runtime':'1:45','username':'Alex','date':'2025-03-05'}," F3 "]}", NULL, 0,
    "{'feedback':[" F1 "," F2 "," F3 "]}" },
  { "feedback-delete-and-add", "{'feedback':[" F1 "," F2 "]}", "{'feedback':[" F2 "]}",
    "{'feedback':[" F1 "," F2 "," F3 "]}", NULL, 0, "{'feedback':[" F2 "," F3 "]}" },
  { "feedback-duplicates", "{'feedback':[" F1 "," F1 "]}", "{'feedback':[" F1 "]}",
    "{'feedback':[" F1 "," F1 "," F2 "]}", NULL, 0, "{'feedback':[" F1 "," F2 "]}" },
  { "people-without-unique-names",
    "{'projectInfo':{'people':[{'name':'Alex','role':'DoP'},{'name':'Alex','role':'Gaffer'}]}}",
    "{'projectInfo':{'people':[{'name':'Alex','role':'DoP'},{'name':'Alex','role':'Gaffer'},"
    "{'name':'Kim'}]}}",
    "{'projectInfo':{'people':[{'name':'Alex','role':'DoP'}]}}", NULL, 0,
    "{'projectInfo':{'people':[{'name':'Alex','role':'DoP'},{'name':'Kim'}]}}" },
};

static void
run_case (gconstpointer data)
{
  const MergeCase *mc = data;
  CpsMergeChoice choice = mc->choice == CPS_MERGE_CHOICE_NONE ? CPS_MERGE_CHOICE_LEFT : mc->choice;
  CpsMergeChoice other = choice == CPS_MERGE_CHOICE_LEFT ? CPS_MERGE_CHOICE_RIGHT
                                                         : CPS_MERGE_CHOICE_LEFT;
  g_autoptr (CpsJsonDocument) ancestor = mc->ancestor ? parse (mc->ancestor) : NULL;
  g_autoptr (CpsJsonDocument) left = parse (mc->left);
  g_autoptr (CpsJsonDocument) right = parse (mc->right);
  g_autoptr (CpsMerge) merge = cps_merge_new (root (ancestor), root (left), root (right), NULL,
                                              NULL);
  g_autoptr (CpsMerge) mirror = cps_merge_new (root (ancestor), root (right), root (left), NULL,
                                               NULL);
  g_autofree char *expected_paths = mc->conflicts ? q (mc->conflicts) : g_strdup ("");
  g_autofree char *paths = conflict_paths (merge);
  g_autofree char *expected = canonical_text (mc->expected);
  g_autofree char *result = NULL;
  g_autofree char *mirror_result = NULL;
  g_autoptr (CpsJsonDocument) result_doc = NULL;
  g_autoptr (CpsJsonDocument) mirror_doc = NULL;
  g_autofree char *normal = NULL;
  g_autofree char *mirror_normal = NULL;

  g_assert_cmpstr (paths, ==, expected_paths);
  g_assert_cmpint (cps_merge_has_ancestor (merge), ==, mc->ancestor != NULL);
  check_conflicts_sane (merge);

  /* The same conflicts, seen from the other side. */
  g_assert_cmpuint (cps_merge_get_n_conflicts (mirror), ==, cps_merge_get_n_conflicts (merge));
  for (guint i = 0; i < cps_merge_get_n_conflicts (merge); i++)
    g_assert_true (cps_merge_find_conflict (mirror, cps_merge_conflict_get_path (merge, i), NULL));

  cps_merge_resolve_all (merge, choice);
  g_assert_cmpuint (cps_merge_get_n_unresolved (merge), ==, 0);
  result = build_canonical (merge);
  g_assert_cmpstr (result, ==, expected);

  /* Taking the same side from the mirrored merge gives the same values; only
   * the order of named items may differ, as left's order wins. */
  cps_merge_resolve_all (mirror, other);
  result_doc = cps_merge_build_result (merge, NULL);
  mirror_doc = cps_merge_build_result (mirror, NULL);
  g_assert_nonnull (result_doc);
  g_assert_nonnull (mirror_doc);
  normal = normalized (root (result_doc));
  mirror_normal = normalized (root (mirror_doc));
  g_assert_cmpstr (normal, ==, mirror_normal);

  /* Building again gives the same. */
  mirror_result = build_canonical (merge);
  g_assert_cmpstr (mirror_result, ==, result);
}

/* Resolutions */

static CpsMerge *
merge_texts (const char *ancestor, const char *left, const char *right, CpsJsonDocument **docs)
{
  docs[0] = ancestor ? parse (ancestor) : NULL;
  docs[1] = parse (left);
  docs[2] = parse (right);
  return cps_merge_new (root (docs[0]), root (docs[1]), root (docs[2]), NULL, NULL);
}

static void
free_docs (CpsJsonDocument **docs)
{
  for (guint i = 0; i < 3; i++)
    g_clear_pointer (&docs[i], cps_json_document_unref);
}

static void
assert_result (CpsMerge *merge, const char *expected_text)
{
  g_autofree char *expected = canonical_text (expected_text);
  g_autofree char *result = build_canonical (merge);

  g_assert_cmpstr (result, ==, expected);
}

static void
test_both (void)
{
  CpsJsonDocument *docs[3];
  g_autoptr (CpsMerge) merge =
    merge_texts ("{'lenses':['A'],'codec':'X'}", "{'lenses':['A','B','A'],'codec':'Y'}",
                 "{'lenses':['C','B','A','D','C'],'codec':'Z'}", docs);
  g_autoptr (GError) error = NULL;
  guint lenses;

  g_assert_cmpuint (cps_merge_get_n_conflicts (merge), ==, 2);
  g_assert_true (cps_merge_find_conflict (merge, "$.lenses", &lenses));
  g_assert_true (cps_merge_conflict_allows_both (merge, lenses));
  g_assert_false (cps_merge_conflict_allows_both (merge, 1 - lenses));

  g_assert_true (cps_merge_resolve (merge, lenses, CPS_MERGE_CHOICE_BOTH, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cps_merge_conflict_get_choice (merge, lenses), ==, CPS_MERGE_CHOICE_BOTH);

  /* “Both” is for lists only, and says what to do instead. */
  g_assert_false (cps_merge_resolve (merge, 1 - lenses, CPS_MERGE_CHOICE_BOTH, NULL, &error));
  g_assert_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_NOT_AN_ARRAY);
  g_assert_nonnull (strstr (error->message, "$.codec"));
  g_assert_nonnull (strstr (error->message, "“codec”"));
  g_assert_cmpint (cps_merge_conflict_get_choice (merge, 1 - lenses), ==, CPS_MERGE_CHOICE_NONE);
  g_clear_error (&error);

  g_assert_true (cps_merge_resolve_path (merge, "$.codec", CPS_MERGE_CHOICE_RIGHT, &error));
  /* Left's items in left's order, then right's that left does not have, in
   * right's order; right's own repeats stay. */
  assert_result (merge, "{'lenses':['A','B','A','C','D','C'],'codec':'Z'}");
  free_docs (docs);
}

static void
test_both_large (void)
{
  g_autoptr (GString) anc = g_string_new ("{'v':[");
  g_autoptr (GString) left = g_string_new ("{'v':[");
  g_autoptr (GString) right = g_string_new ("{'v':[");
  CpsJsonDocument *docs[3];
  g_autoptr (CpsMerge) merge = NULL;
  g_autoptr (CpsJsonDocument) result = NULL;
  const CpsJsonNode *v;
  guint n_objects = 0;

  /* Long lists take the hashed path; the outcome must be the same. */
  for (guint i = 0; i < 200; i++)
    {
      g_string_append_printf (anc, "%s%u", i ? "," : "", i);
      g_string_append_printf (left, "%s%u", i ? "," : "", i * 2);
      g_string_append_printf (right, "%s{'n':%u}", i ? "," : "", i % 150);
    }
  g_string_append (anc, "]}");
  g_string_append (left, ",{'n':3}]}");
  g_string_append (right, ",398.0]}");

  merge = merge_texts (anc->str, left->str, right->str, docs);
  g_assert_cmpuint (cps_merge_get_n_conflicts (merge), ==, 1);
  g_assert_true (cps_merge_resolve (merge, 0, CPS_MERGE_CHOICE_BOTH, NULL, NULL));
  result = cps_merge_build_result (merge, NULL);
  g_assert_nonnull (result);
  v = cps_json_object_get (root (result), "v");
  g_assert_nonnull (v);

  /* Left's 200 numbers and {"n":3}, then right's objects but the two equal
   * to {"n":3}; 398 is in left already. */
  g_assert_cmpuint (v->n, ==, 201 + 198);
  for (guint i = 0; i < v->n; i++)
    if (v->v.items[i].type == CPS_JSON_OBJECT)
      n_objects++;
  g_assert_cmpuint (n_objects, ==, 199);
  g_assert_cmpfloat (v->v.items[199].v.number, ==, 398);
  g_assert_cmpfloat (cps_json_object_get (&v->v.items[201], "n")->v.number, ==, 0);
  g_assert_cmpfloat (cps_json_object_get (&v->v.items[204], "n")->v.number, ==, 4);
  free_docs (docs);
}

static void
test_value (void)
{
  CpsJsonDocument *docs[3];
  g_autoptr (CpsMerge) merge = merge_texts ("{'camera':'A','info':{'n':1}}",
                                            "{'camera':'B','info':{'n':2}}",
                                            "{'camera':'C','info':{'n':3}}", docs);
  g_autoptr (GError) error = NULL;
  CpsJsonDocument *edited = parse ("{'edited':['B','C'],'note':'ü'}");

  g_assert_cmpuint (cps_merge_get_n_conflicts (merge), ==, 2);
  g_assert_true (cps_merge_resolve (merge, 0, CPS_MERGE_CHOICE_VALUE, root (edited), &error));
  g_assert_no_error (error);
  /* The value is copied: the document it came from may go. */
  cps_json_document_unref (edited);
  g_assert_nonnull (cps_merge_conflict_get_edited (merge, 0));
  g_assert_cmpint (cps_merge_conflict_get_choice (merge, 0), ==, CPS_MERGE_CHOICE_VALUE);

  /* An edited value is needed, and by path it cannot be given. */
  g_assert_false (cps_merge_resolve (merge, 1, CPS_MERGE_CHOICE_VALUE, NULL, &error));
  g_assert_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_INVALID_CHOICE);
  g_clear_error (&error);
  g_assert_false (cps_merge_resolve_path (merge, "$.info.n", CPS_MERGE_CHOICE_VALUE, &error));
  g_assert_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_INVALID_CHOICE);
  g_clear_error (&error);

  {
    g_autoptr (CpsJsonDocument) seven = parse ("7.0");
    g_assert_true (cps_merge_resolve (merge, 1, CPS_MERGE_CHOICE_VALUE, root (seven), &error));
  }
  assert_result (merge, "{'camera':{'edited':['B','C'],'note':'ü'},'info':{'n':7}}");

  /* A choice can be changed. */
  g_assert_true (cps_merge_resolve (merge, 0, CPS_MERGE_CHOICE_LEFT, NULL, &error));
  g_assert_null (cps_merge_conflict_get_edited (merge, 0));
  assert_result (merge, "{'camera':'B','info':{'n':7}}");
  free_docs (docs);
}

static void
test_value_refused (void)
{
  CpsJsonDocument *docs[3];
  g_autoptr (CpsMerge) merge = merge_texts ("{'x':1}", "{'x':2}", "{'x':3}", docs);
  g_autoptr (CpsJsonDocument) scratch = cps_json_document_new_derived (NULL);
  g_autoptr (GError) error = NULL;
  CpsJsonMember *members = cps_json_document_alloc_members (scratch, 2);
  CpsJsonNode object = { 0 };
  CpsJsonNode number = { 0 };

  /* Built by hand: JSON cannot hold a member twice, or an infinite number. */
  members[0].key = "dup";
  members[0].key_len = 3;
  members[1].key = "dup";
  members[1].key_len = 3;
  object.type = CPS_JSON_OBJECT;
  object.n = 2;
  object.v.members = members;
  g_assert_false (cps_merge_resolve (merge, 0, CPS_MERGE_CHOICE_VALUE, &object, &error));
  g_assert_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "dup"));
  g_clear_error (&error);

  number.type = CPS_JSON_NUMBER;
  number.v.number = INFINITY;
  g_assert_false (cps_merge_resolve (merge, 0, CPS_MERGE_CHOICE_VALUE, &number, &error));
  g_assert_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_INVALID_VALUE);
  g_assert_cmpuint (cps_merge_get_n_unresolved (merge), ==, 1);
  free_docs (docs);
}

static void
test_resolve_path (void)
{
  CpsJsonDocument *docs[3];
  g_autoptr (CpsMerge) merge =
    merge_texts ("{'contacts':[" C1 "],'ключ':0,'battery':'A'}",
                 "{'contacts':[" C1_PHONE2 "],'ключ':1,'battery':'B'}",
                 "{'contacts':[" C1_PHONE3 "],'ключ':2,'battery':'C'}", docs);
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (cps_merge_get_n_conflicts (merge), ==, 3);
  g_assert_true (cps_merge_resolve_path (merge, "$.contacts[id=\"c1\"].phone",
                                         CPS_MERGE_CHOICE_RIGHT, &error));
  g_assert_true (cps_merge_resolve_path (merge, "$[\"ключ\"]", CPS_MERGE_CHOICE_LEFT, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (cps_merge_get_n_unresolved (merge), ==, 1);

  g_assert_false (cps_merge_resolve_path (merge, "$.camera", CPS_MERGE_CHOICE_LEFT, &error));
  g_assert_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_NO_SUCH_CONFLICT);
  g_assert_nonnull (strstr (error->message, "$.camera"));
  g_clear_error (&error);

  g_assert_false (cps_merge_resolve (merge, 3, CPS_MERGE_CHOICE_LEFT, NULL, &error));
  g_assert_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_NO_SUCH_CONFLICT);
  g_clear_error (&error);

  g_assert_true (cps_merge_resolve_path (merge, "$.battery", CPS_MERGE_CHOICE_LEFT, &error));
  assert_result (merge, "{'contacts':[" C1_PHONE3 "],'ключ':1,'battery':'B'}");
  free_docs (docs);
}

static void
n_unresolved_notified_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  guint *count = user_data;

  (*count)++;
}

static void
test_resolve_all_and_unresolved (void)
{
  CpsJsonDocument *docs[3];
  g_autoptr (CpsMerge) merge = merge_texts ("{'a':0,'b':0,'c':0}", "{'a':1,'b':1,'c':1}",
                                            "{'a':2,'b':2,'c':2}", docs);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) result = NULL;
  guint notified = 0;
  guint n;

  g_signal_connect (merge, "notify::n-unresolved", G_CALLBACK (n_unresolved_notified_cb),
                    &notified);

  result = cps_merge_build_result (merge, &error);
  g_assert_null (result);
  g_assert_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_UNRESOLVED);
  g_assert_nonnull (strstr (error->message, "3 conflicts"));
  g_assert_nonnull (strstr (error->message, "$.a"));
  g_clear_error (&error);

  g_assert_true (cps_merge_resolve (merge, 0, CPS_MERGE_CHOICE_RIGHT, NULL, &error));
  g_assert_cmpuint (notified, ==, 1);
  result = cps_merge_build_result (merge, &error);
  g_assert_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_UNRESOLVED);
  g_assert_nonnull (strstr (error->message, "$.b"));
  g_clear_error (&error);

  /* resolve_all() leaves choices already made alone. */
  cps_merge_resolve_all (merge, CPS_MERGE_CHOICE_LEFT);
  g_assert_cmpuint (notified, ==, 2);
  g_object_get (merge, "n-unresolved", &n, NULL);
  g_assert_cmpuint (n, ==, 0);
  assert_result (merge, "{'a':2,'b':1,'c':1}");

  /* Undoing a choice makes the result unavailable again. */
  g_assert_true (cps_merge_resolve (merge, 2, CPS_MERGE_CHOICE_NONE, NULL, &error));
  g_assert_cmpuint (cps_merge_get_n_unresolved (merge), ==, 1);
  result = cps_merge_build_result (merge, &error);
  g_assert_null (result);
  g_assert_error (error, CPS_MERGE_ERROR, CPS_MERGE_ERROR_UNRESOLVED);
  g_assert_nonnull (strstr (error->message, "1 conflict is"));
  g_assert_nonnull (strstr (error->message, "$.c"));
  free_docs (docs);
}

static void
test_key_order (void)
{
  CpsJsonDocument *docs[3];
  g_autoptr (CpsMerge) merge = merge_texts ("{'a':1,'b':1,'c':1,'gone':1}",
                                            "{'c':1,'a':2,'b':1,'l':1,'gone':1}",
                                            "{'r1':1,'b':1,'a':1,'c':2,'r2':1}", docs);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsJsonDocument) result = cps_merge_build_result (merge, &error);
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  text = cps_json_to_string (root (result), 0, NULL, NULL);
  /* Left's order, then the members only right has, in right's order. */
  g_assert_cmpstr (text, ==, "{\"c\":2,\"a\":2,\"b\":1,\"l\":1,\"r1\":1,\"r2\":1}");
  free_docs (docs);
}

static void
test_result_independent (void)
{
  CpsJsonDocument *docs[3];
  CpsMerge *merge = merge_texts ("{'s':'ancestor','o':{'k':[1,2]},'c':[" C1 "]}",
                                 "{'s':'left side text','o':{'k':[1,2,3]},'c':[" C1_PHONE2 "]}",
                                 "{'s':'ancestor','o':{'k':[1,2],'n':'new'},'c':[" C1_MAIL
                                 "," C2 "]}",
                                 docs);
  g_autoptr (CpsJsonDocument) result = cps_merge_build_result (merge, NULL);
  g_autofree char *expected = canonical_text (
    "{'s':'left side text','o':{'k':[1,2,3],'n':'new'},'c':[" C1_BOTH "," C2 "]}");
  g_autofree char *text = NULL;

  g_assert_nonnull (result);

  /* The result outlives the merge and its inputs. */
  g_object_unref (merge);
  free_docs (docs);
  text = canonical (root (result));
  g_assert_cmpstr (text, ==, expected);
}

static void
test_large_objects (void)
{
  g_autoptr (GString) anc = g_string_new ("{");
  g_autoptr (GString) left = g_string_new ("{");
  g_autoptr (GString) right = g_string_new ("{");
  g_autoptr (GString) expected = g_string_new ("{");
  CpsJsonDocument *docs[3];
  g_autoptr (CpsMerge) merge = NULL;

  /* Enough members for the hashed look-ups, in different orders. */
  for (guint i = 0; i < 100; i++)
    {
      guint rev = 99 - i;

      g_string_append_printf (anc, "%s'k%u':%u", i ? "," : "", i, i);
      g_string_append_printf (left, "%s'k%u':%u", i ? "," : "", rev, rev % 10 == 0 ? 1000 : rev);
      g_string_append_printf (right, "%s'k%u':%u", i ? "," : "", i, i % 7 == 1 ? 2000 : i);
      g_string_append_printf (expected, "%s'k%u':%u", i ? "," : "", i,
                              i % 10 == 0 ? 1000 : i % 7 == 1 ? 2000 : i);
    }
  g_string_append (anc, "}");
  g_string_append (left, "}");
  g_string_append (right, "}");
  g_string_append (expected, "}");

  merge = merge_texts (anc->str, left->str, right->str, docs);
  /* Both sides changed only k50 (a multiple of 10 that is 1 modulo 7). */
  g_assert_cmpuint (cps_merge_get_n_conflicts (merge), ==, 1);
  g_assert_cmpstr (cps_merge_conflict_get_path (merge, 0), ==, "$.k50");
  g_assert_true (cps_merge_resolve (merge, 0, CPS_MERGE_CHOICE_LEFT, NULL, NULL));
  assert_result (merge, expected->str);
  free_docs (docs);
}

static void
test_choice_strings (void)
{
  CpsMergeChoice choice = CPS_MERGE_CHOICE_NONE;

  g_assert_true (cps_merge_choice_from_string ("left", &choice));
  g_assert_cmpint (choice, ==, CPS_MERGE_CHOICE_LEFT);
  g_assert_true (cps_merge_choice_from_string ("right", &choice));
  g_assert_cmpint (choice, ==, CPS_MERGE_CHOICE_RIGHT);
  g_assert_true (cps_merge_choice_from_string ("both", &choice));
  g_assert_cmpint (choice, ==, CPS_MERGE_CHOICE_BOTH);
  g_assert_false (cps_merge_choice_from_string ("Left", &choice));
  g_assert_false (cps_merge_choice_from_string ("value", &choice));
  g_assert_false (cps_merge_choice_from_string ("", &choice));
  for (CpsMergeChoice c = CPS_MERGE_CHOICE_LEFT; c <= CPS_MERGE_CHOICE_BOTH; c++)
    {
      g_assert_true (cps_merge_choice_from_string (cps_merge_choice_to_string (c), &choice));
      g_assert_cmpint (choice, ==, c);
    }
  g_assert_cmpstr (cps_merge_choice_to_string (CPS_MERGE_CHOICE_VALUE), ==, "value");
  g_assert_cmpstr (cps_merge_choice_to_string (CPS_MERGE_CHOICE_NONE), ==, "none");
}

/* Summaries */

static const CpsMergeSide dit_cart = { "DIT cart", "14:02" };
static const CpsMergeSide camera_truck = { "Camera truck", "14:05" };

static CpsMerge *
merge_with_sides (const char *ancestor, const char *left, const char *right,
                  CpsJsonDocument **docs, const CpsMergeSide *left_side,
                  const CpsMergeSide *right_side)
{
  docs[0] = ancestor ? parse (ancestor) : NULL;
  docs[1] = parse (left);
  docs[2] = parse (right);
  return cps_merge_new (root (docs[0]), root (docs[1]), root (docs[2]), left_side, right_side);
}

static void
assert_summary (const char *ancestor, const char *left, const char *right, const char *label,
                const char *summary)
{
  CpsJsonDocument *docs[3];
  g_autoptr (CpsMerge) merge = merge_with_sides (ancestor, left, right, docs, &dit_cart,
                                                 &camera_truck);

  g_assert_cmpuint (cps_merge_get_n_conflicts (merge), ==, 1);
  g_assert_cmpstr (cps_merge_conflict_get_label (merge, 0), ==, label);
  g_assert_cmpstr (cps_merge_conflict_get_summary (merge, 0), ==, summary);
  free_docs (docs);
}

static void
test_summaries (void)
{
  /* The issue's own example. */
  assert_summary ("{'battery':'Example 150Wh V-Mount'}", "{'battery':'X'}", "{'battery':'Y'}",
                  "Battery",
                  "Battery: “X” (DIT cart, 14:02) vs “Y” (Camera truck, 14:05)");
  assert_summary ("{'projectInfo':{'projectName':'A'}}", "{'projectInfo':{'projectName':'B'}}",
                  "{'projectInfo':{'projectName':'C'}}", "Project name",
                  "Project name: “B” (DIT cart, 14:02) vs “C” (Camera truck, 14:05)");
  assert_summary ("{'projectInfo':{'people':[{'name':'Alex','phone':'1'}]}}",
                  "{'projectInfo':{'people':[{'name':'Alex','phone':'2'}]}}",
                  "{'projectInfo':{'people':[{'name':'Alex','phone':'3'}]}}",
                  "Crew › Alex › Phone",
                  "Crew › Alex › Phone: “2” (DIT cart, 14:02) vs “3” (Camera truck, 14:05)");
  /* Contacts are matched by id but named by their name. */
  assert_summary ("{'contacts':[" C1 "]}", "{'contacts':[" C1_PHONE2 "]}",
                  "{'contacts':[" C1_PHONE3 "]}", "Contacts › Jo Doe › Phone",
                  "Contacts › Jo Doe › Phone: “2” (DIT cart, 14:02) vs “3” (Camera truck, "
                  "14:05)");
  /* An edit against a removal, and objects described. */
  assert_summary ("{'contacts':[" C1 "," C2 "]}", "{'contacts':[" C2 "]}",
                  "{'contacts':[" C1_PHONE2 "," C2 "]}", "Contacts › Jo Doe",
                  "Contacts › Jo Doe: removed (DIT cart, 14:02) vs an object with 4 fields "
                  "(Camera truck, 14:05)");
  assert_summary ("{'powerSelection':{'battery':'A'}}", "{'powerSelection':{'battery':'B'}}",
                  "{'powerSelection':{}}", "Power selection › Battery",
                  "Power selection › Battery: “B” (DIT cart, 14:02) vs removed (Camera truck, "
                  "14:05)");
  /* Lists: short ones inline, long ones counted. */
  assert_summary ("{'motors':['A']}", "{'motors':['A','B']}", "{'motors':[]}", "Lens motors",
                  "Lens motors: “A”, “B” (DIT cart, 14:02) vs an empty list (Camera truck, "
                  "14:05)");
  assert_summary ("{'projectInfo':{'lenses':[]}}",
                  "{'projectInfo':{'lenses':['Example Prime 35mm','Example Prime 50mm',"
                  "'Example Prime 85mm']}}",
                  "{'projectInfo':{'lenses':['Zoom']}}", "Lenses",
                  "Lenses: a list of 3 items (DIT cart, 14:02) vs “Zoom” (Camera truck, 14:05)");
  /* Long text is shortened; line breaks do not break the line. */
  assert_summary ("{'gearList':'<h2>'}",
                  "{'gearList':'<h2>Gear List: Night Exterior</h2><table class=\\'gear\\'>'}",
                  "{'gearList':'a\\nb'}", "Gear list",
                  "Gear list: “<h2>Gear List: Night Exterior</h2><tabl…” (DIT cart, 14:02) vs "
                  "“a b” (Camera truck, 14:05)");
  /* Other scalars, unknown members, and something not there on one side. */
  assert_summary ("{'foo':{'bar':1}}", "{'foo':{'bar':2.5}}", "{'foo':{'bar':null}}",
                  "foo › bar",
                  "foo › bar: 2.5 (DIT cart, 14:02) vs empty (Camera truck, 14:05)");
  assert_summary ("{'autoGearRules':[{'id':'r1','label':'Rain kit','enabled':true}]}",
                  "{'autoGearRules':[{'id':'r1','label':'Rain kit','enabled':false}]}",
                  "{'autoGearRules':[{'id':'r1','label':'Rain kit','enabled':'maybe'}]}",
                  "Auto-gear rules › Rain kit › Enabled",
                  "Auto-gear rules › Rain kit › Enabled: no (DIT cart, 14:02) vs “maybe” (Camera "
                  "truck, 14:05)");
  assert_summary ("{'x':0}", "{'x':{'a':1}}", "{'x':false}", "x",
                  "x: an object with 1 field (DIT cart, 14:02) vs no (Camera truck, 14:05)");
  assert_summary ("{'y':0}", "{'y':{}}", "{'y':[]}", "y",
                  "y: an empty object (DIT cart, 14:02) vs an empty list (Camera truck, 14:05)");
  assert_summary (NULL, "{'camera':'A'}", "{}", "Camera",
                  "Camera: “A” (DIT cart, 14:02) vs not there (Camera truck, 14:05)");
  assert_summary ("{'camera':'A'}", "[]", "{'camera':'B'}", "The whole project",
                  "The whole project: an empty list (DIT cart, 14:02) vs an object with 1 field "
                  "(Camera truck, 14:05)");
}

static void
test_summary_sides (void)
{
  CpsJsonDocument *docs[3];
  const CpsMergeSide device_only = { "DIT cart", NULL };
  const CpsMergeSide time_only = { "", "14:05" };
  g_autoptr (CpsMerge) merge = merge_with_sides ("{'camera':'A'}", "{'camera':'B'}",
                                                 "{'camera':'C'}", docs, NULL, NULL);
  g_autoptr (CpsMerge) partial = NULL;

  g_assert_cmpstr (cps_merge_conflict_get_summary (merge, 0), ==,
                   "Camera: “B” (left side) vs “C” (right side)");
  free_docs (docs);

  partial = merge_with_sides ("{'camera':'A'}", "{'camera':'B'}", "{'camera':'C'}", docs,
                              &device_only, &time_only);
  g_assert_cmpstr (cps_merge_conflict_get_summary (partial, 0), ==,
                   "Camera: “B” (DIT cart) vs “C” (14:05)");
  free_docs (docs);
}

/* Random trees */

typedef struct _Tree Tree;
struct _Tree
{
  CpsJsonType type;
  gboolean boolean;
  double number;
  char *string;
  GPtrArray *keys;     /* char *, objects */
  GPtrArray *children; /* Tree *, arrays and objects */
  gboolean keyed;      /* an array of objects with unique ids */
};

static guint id_counter;

static const char *const random_keys[] = {
  "a", "b", "c", "camera", "battery", "name", "label", "ключ", "日本", "a b", "x\"y", "é", "k1",
  "k2", "k3",
};

static const char *const random_strings[] = {
  "", "A", "B", "é", "日本", "a\"b", "line\nbreak", "Example 150Wh V-Mount", "\\",
};

static void
tree_free (Tree *tree)
{
  if (tree == NULL)
    return;
  g_free (tree->string);
  g_clear_pointer (&tree->keys, g_ptr_array_unref);
  g_clear_pointer (&tree->children, g_ptr_array_unref);
  g_free (tree);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Tree, tree_free)

static Tree *
tree_new (CpsJsonType type)
{
  Tree *tree = g_new0 (Tree, 1);

  tree->type = type;
  if (type == CPS_JSON_OBJECT || type == CPS_JSON_ARRAY)
    tree->children = g_ptr_array_new_with_free_func ((GDestroyNotify) tree_free);
  if (type == CPS_JSON_OBJECT)
    tree->keys = g_ptr_array_new_with_free_func (g_free);
  return tree;
}

static Tree *
tree_copy (const Tree *tree)
{
  Tree *copy = tree_new (tree->type);

  copy->boolean = tree->boolean;
  copy->number = tree->number;
  copy->string = g_strdup (tree->string);
  copy->keyed = tree->keyed;
  for (guint i = 0; tree->children != NULL && i < tree->children->len; i++)
    {
      g_ptr_array_add (copy->children, tree_copy (g_ptr_array_index (tree->children, i)));
      if (tree->keys != NULL)
        g_ptr_array_add (copy->keys, g_strdup (g_ptr_array_index (tree->keys, i)));
    }
  return copy;
}

static void
tree_add (Tree *object, const char *key, Tree *child)
{
  g_ptr_array_add (object->keys, g_strdup (key));
  g_ptr_array_add (object->children, child);
}

static void
tree_write (GString *out, const Tree *tree)
{
  char buf[32];

  switch (tree->type)
    {
    case CPS_JSON_NULL:
      g_string_append (out, "null");
      break;
    case CPS_JSON_BOOLEAN:
      g_string_append (out, tree->boolean ? "true" : "false");
      break;
    case CPS_JSON_NUMBER:
      cps_jcs_format_number (tree->number, buf);
      g_string_append (out, buf);
      break;
    case CPS_JSON_STRING:
      cps_jcs_append_string (out, tree->string, strlen (tree->string));
      break;
    case CPS_JSON_ARRAY:
    case CPS_JSON_OBJECT:
      g_string_append_c (out, tree->type == CPS_JSON_ARRAY ? '[' : '{');
      for (guint i = 0; i < tree->children->len; i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          if (tree->type == CPS_JSON_OBJECT)
            {
              const char *key = g_ptr_array_index (tree->keys, i);
              cps_jcs_append_string (out, key, strlen (key));
              g_string_append_c (out, ':');
            }
          tree_write (out, g_ptr_array_index (tree->children, i));
        }
      g_string_append_c (out, tree->type == CPS_JSON_ARRAY ? ']' : '}');
      break;
    default:
      g_assert_not_reached ();
    }
}

static char *
tree_to_json (const Tree *tree)
{
  GString *out = g_string_new (NULL);

  tree_write (out, tree);
  return g_string_free (out, FALSE);
}

/* Parses several trees as one document, an array of them: every document
 * costs a memory arena, and the property tests make thousands. */
static CpsJsonDocument *
trees_to_document (const Tree *const *trees, guint n)
{
  GString *json = g_string_new ("[");
  g_autoptr (GError) error = NULL;
  CpsJsonDocument *doc;

  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (json, ',');
      tree_write (json, trees[i]);
    }
  g_string_append_c (json, ']');
  doc = cps_json_document_parse_copy (json->str, json->len, NULL, &error);
  g_string_free (json, TRUE);
  g_assert_no_error (error);
  return doc;
}

static const CpsJsonNode *
item (CpsJsonDocument *doc, guint i)
{
  return &cps_json_document_get_root (doc)->v.items[i];
}

/* JSON equality: members in any order, numbers as numbers. */
static gboolean
tree_equal (const Tree *a, const Tree *b)
{
  if (a->type != b->type)
    return FALSE;
  switch (a->type)
    {
    case CPS_JSON_NULL:
      return TRUE;
    case CPS_JSON_BOOLEAN:
      return a->boolean == b->boolean;
    case CPS_JSON_NUMBER:
      return a->number == b->number;
    case CPS_JSON_STRING:
      return strcmp (a->string, b->string) == 0;
    case CPS_JSON_ARRAY:
      if (a->children->len != b->children->len)
        return FALSE;
      for (guint i = 0; i < a->children->len; i++)
        if (!tree_equal (a->children->pdata[i], b->children->pdata[i]))
          return FALSE;
      return TRUE;
    case CPS_JSON_OBJECT:
      if (a->children->len != b->children->len)
        return FALSE;
      for (guint i = 0; i < a->children->len; i++)
        {
          gboolean found = FALSE;

          for (guint j = 0; j < b->children->len && !found; j++)
            if (strcmp (a->keys->pdata[i], b->keys->pdata[j]) == 0)
              {
                if (!tree_equal (a->children->pdata[i], b->children->pdata[j]))
                  return FALSE;
                found = TRUE;
              }
          if (!found)
            return FALSE;
        }
      return TRUE;
    default:
      g_assert_not_reached ();
    }
}

static Tree *
random_scalar (void)
{
  Tree *tree;
  guint n;

  switch (g_test_rand_int_range (0, 4))
    {
    case 0:
      return tree_new (CPS_JSON_NULL);
    case 1:
      tree = tree_new (CPS_JSON_BOOLEAN);
      tree->boolean = g_test_rand_bit ();
      return tree;
    case 2:
      tree = tree_new (CPS_JSON_NUMBER);
      tree->number = g_test_rand_int_range (-3, 40) / (g_test_rand_bit () ? 1.0 : 4.0);
      return tree;
    default:
      tree = tree_new (CPS_JSON_STRING);
      n = g_test_rand_int_range (0, G_N_ELEMENTS (random_strings));
      tree->string = g_strdup (random_strings[n]);
      return tree;
    }
}

static Tree *random_tree (guint depth);

static void
add_random_members (Tree *object, guint depth, guint max)
{
  guint n = g_test_rand_int_range (0, max + 1);

  for (guint i = 0; i < n; i++)
    {
      const char *key = random_keys[g_test_rand_int_range (0, G_N_ELEMENTS (random_keys))];
      gboolean taken = FALSE;

      for (guint k = 0; k < object->keys->len; k++)
        taken |= strcmp (g_ptr_array_index (object->keys, k), key) == 0;
      if (!taken)
        tree_add (object, key, random_tree (depth + 1));
    }
}

static Tree *
random_item (const char *prefix, guint depth)
{
  Tree *item = tree_new (CPS_JSON_OBJECT);
  Tree *id = tree_new (CPS_JSON_STRING);

  id->string = g_strdup_printf ("%s-%u", prefix, ++id_counter);
  tree_add (item, "id", id);
  add_random_members (item, depth + 1, 3);
  return item;
}

static Tree *
random_tree (guint depth)
{
  Tree *tree;
  guint n;

  if (depth >= 4)
    return random_scalar ();

  switch (g_test_rand_int_range (0, 10))
    {
    case 0:
    case 1:
    case 2:
      return random_scalar ();
    case 3:
      tree = tree_new (CPS_JSON_ARRAY);
      n = g_test_rand_int_range (0, 4);
      for (guint i = 0; i < n; i++)
        g_ptr_array_add (tree->children, random_scalar ());
      return tree;
    case 4:
    case 5:
    case 6:
      tree = tree_new (CPS_JSON_OBJECT);
      add_random_members (tree, depth, 5);
      return tree;
    case 7:
    case 8:
      tree = tree_new (CPS_JSON_ARRAY);
      tree->keyed = TRUE;
      n = g_test_rand_int_range (0, 5);
      for (guint i = 0; i < n; i++)
        g_ptr_array_add (tree->children, random_item ("A", depth));
      return tree;
    default:
      /* Objects without ids: compared as a whole. */
      tree = tree_new (CPS_JSON_ARRAY);
      n = g_test_rand_int_range (1, 3);
      for (guint i = 0; i < n; i++)
        {
          Tree *item = tree_new (CPS_JSON_OBJECT);
          tree_add (item, "v", random_scalar ());
          g_ptr_array_add (tree->children, item);
        }
      return tree;
    }
}

/* A changed copy of @tree: small edits, or something else entirely. */
static Tree *
mutate (const Tree *tree, guint depth)
{
  Tree *copy;

  if (g_test_rand_int_range (0, 3) == 0)
    return random_tree (depth);

  copy = tree_copy (tree);
  switch (copy->type)
    {
    case CPS_JSON_BOOLEAN:
      copy->boolean = !copy->boolean;
      break;
    case CPS_JSON_NUMBER:
      copy->number += 1;
      break;
    case CPS_JSON_STRING:
      {
        char *longer = g_strconcat (copy->string, "!", NULL);
        g_free (copy->string);
        copy->string = longer;
        break;
      }
    case CPS_JSON_ARRAY:
      if (copy->keyed)
        g_ptr_array_add (copy->children, random_item ("M", depth));
      else
        g_ptr_array_add (copy->children, random_scalar ());
      break;
    case CPS_JSON_OBJECT:
      if (copy->children->len > 0 && g_test_rand_bit ())
        {
          guint i = g_test_rand_int_range (0, copy->children->len);
          g_ptr_array_remove_index (copy->keys, i);
          g_ptr_array_remove_index (copy->children, i);
        }
      else
        add_random_members (copy, depth, 2);
      break;
    default:
      tree_free (copy);
      return random_tree (depth);
    }
  return copy;
}

static void split_changes (const Tree *anc, guint depth, gboolean protect_id, Tree **left,
                           Tree **right, Tree **expected);

/* Left and right each change members of their own; expected has both. */
static void
split_object (const Tree *anc, guint depth, gboolean protect_id, Tree **left, Tree **right,
              Tree **expected)
{
  Tree *l = tree_new (CPS_JSON_OBJECT);
  Tree *r = tree_new (CPS_JSON_OBJECT);
  Tree *e = tree_new (CPS_JSON_OBJECT);
  guint adds;

  for (guint i = 0; i < anc->children->len; i++)
    {
      const char *key = g_ptr_array_index (anc->keys, i);
      const Tree *child = g_ptr_array_index (anc->children, i);
      guint d = g_test_rand_int_range (0, 10);

      if (protect_id && strcmp (key, "id") == 0)
        {
          tree_add (l, key, tree_copy (child));
          tree_add (r, key, tree_copy (child));
          tree_add (e, key, tree_copy (child));
        }
      else if (d == 0)
        tree_add (r, key, tree_copy (child)); /* removed on the left */
      else if (d == 1)
        tree_add (l, key, tree_copy (child)); /* removed on the right */
      else
        {
          Tree *lc, *rc, *ec;

          split_changes (child, depth + 1, FALSE, &lc, &rc, &ec);
          tree_add (l, key, lc);
          tree_add (r, key, rc);
          tree_add (e, key, ec);
        }
    }

  adds = g_test_rand_int_range (0, 2);
  for (guint i = 0; i < adds; i++)
    {
      g_autofree char *key = g_strdup_printf ("L%u", ++id_counter);
      Tree *value = random_tree (depth + 1);

      tree_add (e, key, tree_copy (value));
      tree_add (l, key, value);
    }
  adds = g_test_rand_int_range (0, 2);
  for (guint i = 0; i < adds; i++)
    {
      g_autofree char *key = g_strdup_printf ("R%u", ++id_counter);
      Tree *value = random_tree (depth + 1);

      tree_add (e, key, tree_copy (value));
      tree_add (r, key, value);
    }

  *left = l;
  *right = r;
  *expected = e;
}

static void
insert_randomly (GPtrArray *items, Tree *item)
{
  g_ptr_array_insert (items, g_test_rand_int_range (0, items->len + 1), item);
}

/* Left and right each change, remove or add items of their own; the result
 * has left's items in left's order, then right's additions in right's. */
static void
split_keyed_array (const Tree *anc, guint depth, Tree **left, Tree **right, Tree **expected)
{
  Tree *l = tree_new (CPS_JSON_ARRAY);
  Tree *r = tree_new (CPS_JSON_ARRAY);
  Tree *e = tree_new (CPS_JSON_ARRAY);
  g_autoptr (GPtrArray) expected_of_left = g_ptr_array_new (); /* parallel to l's items */
  guint adds;

  l->keyed = r->keyed = e->keyed = TRUE;
  for (guint i = 0; i < anc->children->len; i++)
    {
      const Tree *item = g_ptr_array_index (anc->children, i);
      guint d = g_test_rand_int_range (0, 10);

      if (d == 0)
        g_ptr_array_add (r->children, tree_copy (item));
      else if (d == 1)
        {
          g_ptr_array_add (l->children, tree_copy (item));
          g_ptr_array_add (expected_of_left, NULL);
        }
      else
        {
          Tree *lc, *rc, *ec;

          split_changes (item, depth + 1, TRUE, &lc, &rc, &ec);
          g_ptr_array_add (l->children, lc);
          g_ptr_array_add (r->children, rc);
          g_ptr_array_add (expected_of_left, ec);
        }
    }

  /* Left may reorder its items. */
  if (g_test_rand_int_range (0, 4) == 0 && l->children->len > 1)
    for (guint i = l->children->len - 1; i > 0; i--)
      {
        guint j = g_test_rand_int_range (0, i + 1);
        gpointer t = l->children->pdata[i];

        l->children->pdata[i] = l->children->pdata[j];
        l->children->pdata[j] = t;
        t = expected_of_left->pdata[i];
        expected_of_left->pdata[i] = expected_of_left->pdata[j];
        expected_of_left->pdata[j] = t;
      }

  adds = g_test_rand_int_range (0, 3);
  for (guint i = 0; i < adds; i++)
    {
      Tree *item = random_item ("L", depth);
      guint at = g_test_rand_int_range (0, l->children->len + 1);

      g_ptr_array_insert (l->children, at, item);
      g_ptr_array_insert (expected_of_left, at, tree_copy (item));
    }
  for (guint i = 0; i < expected_of_left->len; i++)
    if (expected_of_left->pdata[i] != NULL)
      g_ptr_array_add (e->children, expected_of_left->pdata[i]);

  /* Right's additions go after left's items, in right's order. */
  adds = g_test_rand_int_range (0, 3);
  {
    g_autoptr (GPtrArray) added = g_ptr_array_new ();

    for (guint i = 0; i < adds; i++)
      {
        Tree *item = random_item ("R", depth);
        insert_randomly (r->children, item);
      }
    for (guint i = 0; i < r->children->len; i++)
      {
        Tree *item = g_ptr_array_index (r->children, i);
        Tree *id = g_ptr_array_index (item->children, 0);

        if (g_str_has_prefix (id->string, "R-"))
          g_ptr_array_add (e->children, tree_copy (item));
      }
  }

  *left = l;
  *right = r;
  *expected = e;
}

static void
split_changes (const Tree *anc, guint depth, gboolean protect_id, Tree **left, Tree **right,
               Tree **expected)
{
  guint d = g_test_rand_int_range (0, 100);
  gboolean splittable = anc->type == CPS_JSON_OBJECT || (anc->type == CPS_JSON_ARRAY && anc->keyed);

  if (protect_id)
    {
      /* An item of a named list: its id stays. */
      split_object (anc, depth, TRUE, left, right, expected);
    }
  else if (splittable && d < 50)
    {
      if (anc->type == CPS_JSON_OBJECT)
        split_object (anc, depth, FALSE, left, right, expected);
      else
        split_keyed_array (anc, depth, left, right, expected);
    }
  else if (d < 70)
    {
      *left = tree_copy (anc);
      *right = tree_copy (anc);
      *expected = tree_copy (anc);
      return;
    }
  else if (d < 85)
    {
      *left = mutate (anc, depth);
      *right = tree_copy (anc);
      *expected = tree_copy (*left);
      return;
    }
  else
    {
      *left = tree_copy (anc);
      *right = mutate (anc, depth);
      *expected = tree_copy (*right);
      return;
    }

  /* Where one side changed nothing, the other side's value is the result,
   * its order included. */
  if (tree_equal (*left, anc))
    {
      tree_free (*expected);
      *expected = tree_copy (*right);
    }
  else if (tree_equal (*right, anc))
    {
      tree_free (*expected);
      *expected = tree_copy (*left);
    }
}

static Tree *
random_root (void)
{
  Tree *tree = tree_new (CPS_JSON_OBJECT);

  add_random_members (tree, 0, 6);
  return tree;
}

static void
dump_failure (const char *what, const Tree *anc, const Tree *left, const Tree *right)
{
  g_autofree char *a = anc ? tree_to_json (anc) : g_strdup ("(none)");
  g_autofree char *l = tree_to_json (left);
  g_autofree char *r = tree_to_json (right);

  g_test_message ("%s\nancestor: %s\nleft:     %s\nright:    %s", what, a, l, r);
}

static void
test_property_identities (void)
{
  guint iterations = g_test_thorough () ? 20000 : 1000;

  for (guint it = 0; it < iterations; it++)
    {
      g_autoptr (Tree) a = random_root ();
      g_autoptr (Tree) b = g_test_rand_bit () ? mutate (a, 0) : random_root ();
      const Tree *trees[] = { a, b };
      g_autoptr (CpsJsonDocument) doc = trees_to_document (trees, 2);
      const CpsJsonNode *na = item (doc, 0);
      const CpsJsonNode *nb = item (doc, 1);
      g_autofree char *expected = canonical (nb);
      const CpsJsonNode *triples[][3] = {
        { na, na, nb },
        { na, nb, na },
        { na, nb, nb },
        { NULL, nb, nb },
      };

      for (guint t = 0; t < G_N_ELEMENTS (triples); t++)
        {
          g_autoptr (CpsMerge) merge = cps_merge_new (triples[t][0], triples[t][1], triples[t][2],
                                                      NULL, NULL);
          g_autofree char *result = NULL;

          if (cps_merge_get_n_conflicts (merge) != 0)
            dump_failure ("identity merge has conflicts", a, b, b);
          g_assert_cmpuint (cps_merge_get_n_conflicts (merge), ==, 0);
          result = build_canonical (merge);
          g_assert_cmpstr (result, ==, expected);
        }
    }
}

static void
test_property_disjoint (void)
{
  guint iterations = g_test_thorough () ? 20000 : 2000;

  for (guint it = 0; it < iterations; it++)
    {
      g_autoptr (Tree) anc = random_root ();
      Tree *l, *r, *e;
      g_autoptr (Tree) left = NULL;
      g_autoptr (Tree) right = NULL;
      g_autoptr (Tree) expected_tree = NULL;
      g_autoptr (CpsJsonDocument) doc = NULL;
      g_autoptr (CpsMerge) merge = NULL;
      g_autofree char *expected = NULL;
      g_autofree char *result = NULL;

      split_object (anc, 0, FALSE, &l, &r, &e);
      left = l;
      right = r;
      expected_tree = e;
      if (tree_equal (left, anc))
        {
          g_clear_pointer (&expected_tree, tree_free);
          expected_tree = tree_copy (right);
        }
      {
        const Tree *trees[] = { anc, left, right, expected_tree };
        doc = trees_to_document (trees, 4);
      }
      expected = canonical (item (doc, 3));

      merge = cps_merge_new (item (doc, 0), item (doc, 1), item (doc, 2), NULL, NULL);
      if (cps_merge_get_n_conflicts (merge) != 0)
        dump_failure (cps_merge_conflict_get_path (merge, 0), anc, left, right);
      g_assert_cmpuint (cps_merge_get_n_conflicts (merge), ==, 0);
      cps_merge_resolve_all (merge, CPS_MERGE_CHOICE_LEFT);
      result = build_canonical (merge);
      if (g_strcmp0 (result, expected) != 0)
        dump_failure ("disjoint merge differs from the union", anc, left, right);
      g_assert_cmpstr (result, ==, expected);
    }
}

static Tree *
random_edit (const Tree *anc)
{
  Tree *l, *r, *e;

  split_object (anc, 0, FALSE, &l, &r, &e);
  tree_free (r);
  tree_free (e);
  return l;
}

static void
test_property_random_triples (void)
{
  guint iterations = g_test_thorough () ? 20000 : 2000;
  gint64 start = g_get_monotonic_time ();

  for (guint it = 0; it < iterations; it++)
    {
      g_autoptr (Tree) anc = random_root ();
      g_autoptr (Tree) left = g_test_rand_int_range (0, 5) ? random_edit (anc) : random_root ();
      g_autoptr (Tree) right = g_test_rand_int_range (0, 5) ? random_edit (anc) : random_root ();
      gboolean with_ancestor = g_test_rand_int_range (0, 5) != 0;
      const Tree *trees[] = { anc, left, right };
      g_autoptr (CpsJsonDocument) doc = trees_to_document (trees, 3);
      const CpsJsonNode *ancestor = with_ancestor ? item (doc, 0) : NULL;
      g_autoptr (CpsMerge) merge = cps_merge_new (ancestor, item (doc, 1), item (doc, 2),
                                                  &dit_cart, &camera_truck);
      g_autoptr (CpsMerge) mirror = cps_merge_new (ancestor, item (doc, 2), item (doc, 1), NULL,
                                                   NULL);
      g_autoptr (CpsJsonDocument) result = NULL;
      g_autoptr (CpsJsonDocument) mirror_result = NULL;
      g_autofree char *normal = NULL;
      g_autofree char *mirror_normal = NULL;

      check_conflicts_sane (merge);
      check_conflicts_sane (mirror);
      g_assert_cmpuint (cps_merge_get_n_conflicts (mirror), ==, cps_merge_get_n_conflicts (merge));
      for (guint i = 0; i < cps_merge_get_n_conflicts (merge); i++)
        {
          guint j;

          g_assert_true (cps_merge_find_conflict (mirror, cps_merge_conflict_get_path (merge, i),
                                                  &j));
          g_assert_true (same_value (cps_merge_conflict_get_left (merge, i),
                                     cps_merge_conflict_get_right (mirror, j)));
          g_assert_true (same_value (cps_merge_conflict_get_ancestor (merge, i),
                                     cps_merge_conflict_get_ancestor (mirror, j)));
          if (cps_merge_conflict_allows_both (merge, i))
            g_assert_true (cps_merge_resolve (merge, i, CPS_MERGE_CHOICE_BOTH, NULL, NULL));
        }

      /* Any choice builds a valid document. */
      cps_merge_resolve_all (merge, CPS_MERGE_CHOICE_RIGHT);
      result = cps_merge_build_result (merge, NULL);
      g_assert_nonnull (result);
      g_free (canonical (root (result)));
      g_clear_pointer (&result, cps_json_document_unref);

      /* Left from one is right from the other: the same values, up to the
       * order of named items. */
      for (guint i = 0; i < cps_merge_get_n_conflicts (merge); i++)
        g_assert_true (cps_merge_resolve (merge, i, CPS_MERGE_CHOICE_NONE, NULL, NULL));
      cps_merge_resolve_all (merge, CPS_MERGE_CHOICE_LEFT);
      cps_merge_resolve_all (mirror, CPS_MERGE_CHOICE_RIGHT);
      result = cps_merge_build_result (merge, NULL);
      mirror_result = cps_merge_build_result (mirror, NULL);
      g_assert_nonnull (result);
      g_assert_nonnull (mirror_result);
      normal = normalized (root (result));
      mirror_normal = normalized (root (mirror_result));
      if (g_strcmp0 (normal, mirror_normal) != 0)
        dump_failure ("mirrored merges differ", with_ancestor ? anc : NULL, left, right);
      g_assert_cmpstr (normal, ==, mirror_normal);
    }

  g_test_message ("%u random triples in %.0f ms", iterations,
                  (g_get_monotonic_time () - start) / 1000.0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (merge_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/merge/case/%s", merge_cases[i].name);
      g_test_add_data_func (path, &merge_cases[i], run_case);
    }
  g_test_add_func ("/merge/both", test_both);
  g_test_add_func ("/merge/both-large", test_both_large);
  g_test_add_func ("/merge/value", test_value);
  g_test_add_func ("/merge/value-refused", test_value_refused);
  g_test_add_func ("/merge/resolve-path", test_resolve_path);
  g_test_add_func ("/merge/resolve-all-and-unresolved", test_resolve_all_and_unresolved);
  g_test_add_func ("/merge/key-order", test_key_order);
  g_test_add_func ("/merge/result-independent", test_result_independent);
  g_test_add_func ("/merge/large-objects", test_large_objects);
  g_test_add_func ("/merge/choice-strings", test_choice_strings);
  g_test_add_func ("/merge/summaries", test_summaries);
  g_test_add_func ("/merge/summary-sides", test_summary_sides);
  g_test_add_func ("/merge/property/identities", test_property_identities);
  g_test_add_func ("/merge/property/disjoint", test_property_disjoint);
  g_test_add_func ("/merge/property/random-triples", test_property_random_triples);

  return g_test_run ();
}
