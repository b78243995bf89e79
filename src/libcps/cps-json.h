/* cps-json.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A strict, fast JSON reader producing an immutable tree. It exists because
 * canonical checksums need exactly what a JavaScript engine would read (every
 * number as an IEEE double, duplicate keys resolved as JSON.parse does), and
 * because a damaged file must yield a finding with its path, not an abort.
 */

#pragma once

#include <glib.h>

#include "cps-finding.h"

G_BEGIN_DECLS

#define CPS_JSON_ERROR (cps_json_error_quark ())
#define CPS_JSON_MAX_DEPTH 512

typedef enum
{
  CPS_JSON_ERROR_EMPTY,
  CPS_JSON_ERROR_SYNTAX,
  CPS_JSON_ERROR_ENCODING,
  CPS_JSON_ERROR_DEPTH,
  CPS_JSON_ERROR_NOT_CANONICALIZABLE,
} CpsJsonError;

typedef enum
{
  CPS_JSON_NULL,
  CPS_JSON_BOOLEAN,
  CPS_JSON_NUMBER,
  CPS_JSON_STRING,
  CPS_JSON_ARRAY,
  CPS_JSON_OBJECT,
} CpsJsonType;

typedef struct _CpsJsonNode CpsJsonNode;
typedef struct _CpsJsonMember CpsJsonMember;
typedef struct _CpsJsonDocument CpsJsonDocument;

/* Nodes are plain structs owned by their document's arena; a node stays valid
 * as long as the document holding it (or deriving from it) is alive. */
struct _CpsJsonNode
{
  guint8 type;
  guint32 n; /* string length in bytes, or number of items/members */
  union
  {
    gboolean boolean;
    double number;
    const char *string; /* NUL-terminated; may also hold \u0000, so use n */
    CpsJsonNode *items;
    CpsJsonMember *members;
  } v;
};

struct _CpsJsonMember
{
  const char *key; /* NUL-terminated */
  guint32 key_len;
  CpsJsonNode value;
};

GQuark cps_json_error_quark (void);

CpsJsonDocument *cps_json_document_parse (char *data, gsize length, GDestroyNotify free_data,
                                          GPtrArray *findings, GError **error);
CpsJsonDocument *cps_json_document_parse_copy (const char *data, gssize length,
                                               GPtrArray *findings, GError **error);
CpsJsonDocument *cps_json_document_new_derived (CpsJsonDocument *base);
CpsJsonDocument *cps_json_document_ref (CpsJsonDocument *doc);
void cps_json_document_unref (CpsJsonDocument *doc);
CpsJsonNode *cps_json_document_get_root (CpsJsonDocument *doc);
guint cps_json_document_get_depth (CpsJsonDocument *doc);
void cps_json_document_set_root (CpsJsonDocument *doc, const CpsJsonNode *root);

CpsJsonMember *cps_json_document_alloc_members (CpsJsonDocument *doc, guint n);
CpsJsonNode *cps_json_document_alloc_items (CpsJsonDocument *doc, guint n);
const char *cps_json_document_intern (CpsJsonDocument *doc, const char *str, gssize len);

void cps_json_node_init_string (CpsJsonNode *node, CpsJsonDocument *doc, const char *str);
void cps_json_node_init_boolean (CpsJsonNode *node, gboolean value);

static inline CpsJsonType
cps_json_node_get_type (const CpsJsonNode *node)
{
  return node ? (CpsJsonType) node->type : CPS_JSON_NULL;
}

const CpsJsonNode *cps_json_object_get (const CpsJsonNode *object, const char *key);
const char *cps_json_object_get_string (const CpsJsonNode *object, const char *key);
const char *cps_json_node_get_string (const CpsJsonNode *node);
gboolean cps_json_node_equal (const CpsJsonNode *a, const CpsJsonNode *b);
const char *cps_json_type_to_string (CpsJsonType type);

char *cps_json_path_append_key (const char *path, const char *key, gsize key_len);
char *cps_json_path_append_index (const char *path, guint index);

char *cps_json_to_string (const CpsJsonNode *node, guint indent, gsize *length, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsJsonDocument, cps_json_document_unref)

G_END_DECLS
