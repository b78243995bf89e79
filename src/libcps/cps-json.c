/* cps-json.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The reader parses in place: the document owns the buffer it was given,
 * strings are unescaped inside it and terminated where their closing quote
 * was. Unescaping only ever shrinks a string, so this is safe, and a 100 MB
 * backup costs little more than its own size.
 */

#define G_LOG_DOMAIN "cps-json"

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cps-json.h"

/* Blocks start small, for the many tiny documents of revisions and tests,
 * and double up to a size that suits 100 MB backups. */
#define ARENA_FIRST_BLOCK (4 * 1024)
#define ARENA_MAX_BLOCK (256 * 1024)

typedef struct _ArenaBlock ArenaBlock;
struct _ArenaBlock
{
  ArenaBlock *next;
  gsize used;
  gsize size;
  /* data follows, 16-byte aligned */
  char data[] G_GNUC_MAY_ALIAS;
};

struct _CpsJsonDocument
{
  gatomicrefcount ref_count;
  char *data;
  gsize length;
  GDestroyNotify free_data;
  ArenaBlock *blocks;
  gsize next_block_size;
  CpsJsonNode root;
  guint depth;      /* how deeply the parsed text nests objects and arrays */
  GPtrArray *bases; /* documents whose nodes this one borrows */
};

typedef struct
{
  const char *key; /* NULL for an array index */
  gsize key_len;
  guint index;
} PathSegment;

typedef struct
{
  CpsJsonDocument *doc;
  char *start;
  char *p;
  char *end;
  GPtrArray *findings;
  GArray *items;   /* scratch stack of CpsJsonNode */
  GArray *members; /* scratch stack of CpsJsonMember */
  PathSegment path[CPS_JSON_MAX_DEPTH + 1];
  guint depth;
  GError **error;
  gboolean failed;
} Parser;

G_DEFINE_QUARK (cps-json-error-quark, cps_json_error)

static gboolean parse_value (Parser *parser, CpsJsonNode *out);

/* Arena */

static gpointer
arena_alloc (CpsJsonDocument *doc, gsize size)
{
  ArenaBlock *block = doc->blocks;
  gpointer ret;

  size = (size + 15) & ~(gsize) 15;
  if (block == NULL || block->size - block->used < size)
    {
      gsize block_size = MAX (doc->next_block_size, size);

      doc->next_block_size = MIN (doc->next_block_size * 2, ARENA_MAX_BLOCK);

      block = g_malloc (sizeof (ArenaBlock) + block_size + 16);
      block->used = (16 - (GPOINTER_TO_SIZE (block->data) & 15)) & 15;
      block->size = block_size + 16;
      block->next = doc->blocks;
      doc->blocks = block;
    }
  ret = block->data + block->used;
  block->used += size;
  return ret;
}

static void
arena_free (CpsJsonDocument *doc)
{
  ArenaBlock *block = doc->blocks;

  while (block != NULL)
    {
      ArenaBlock *next = block->next;
      g_free (block);
      block = next;
    }
  doc->blocks = NULL;
}

/* Paths */

static gboolean
key_is_identifier (const char *key, gsize len)
{
  if (len == 0 || g_ascii_isdigit (key[0]))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (key[i]) && key[i] != '_' && key[i] != '$')
      return FALSE;
  return TRUE;
}

static void
append_path_key (GString *path, const char *key, gsize len)
{
  if (key_is_identifier (key, len))
    {
      g_string_append_c (path, '.');
      g_string_append_len (path, key, len);
      return;
    }

  g_string_append (path, "[\"");
  for (gsize i = 0; i < len; i++)
    {
      guchar c = key[i];
      if (c == '"' || c == '\\')
        g_string_append_c (path, '\\');
      if (c < 0x20)
        g_string_append_printf (path, "\\u%04x", c);
      else
        g_string_append_c (path, c);
    }
  g_string_append (path, "\"]");
}

/**
 * cps_json_path_append_key:
 * @path: (nullable): a path such as `$.data`, or %NULL for the root
 *
 * Returns: (transfer full): @path extended by one member name
 */
char *
cps_json_path_append_key (const char *path, const char *key, gsize key_len)
{
  GString *out = g_string_new (path ? path : "$");

  append_path_key (out, key, key_len);
  return g_string_free (out, FALSE);
}

/**
 * cps_json_path_append_index:
 *
 * Returns: (transfer full): @path extended by one array index
 */
char *
cps_json_path_append_index (const char *path, guint index)
{
  return g_strdup_printf ("%s[%u]", path ? path : "$", index);
}

static char *
parser_path (Parser *parser)
{
  GString *out = g_string_new ("$");

  for (guint i = 0; i < parser->depth; i++)
    {
      const PathSegment *seg = &parser->path[i];
      if (seg->key != NULL)
        append_path_key (out, seg->key, seg->key_len);
      else
        g_string_append_printf (out, "[%u]", seg->index);
    }
  return g_string_free (out, FALSE);
}

static void
locate (const char *start, const char *at, guint *line, guint *column)
{
  *line = 1;
  *column = 1;
  for (const char *p = start; p < at; p++)
    {
      if (*p == '\n')
        {
          (*line)++;
          *column = 1;
        }
      else if (((guchar) *p & 0xC0) != 0x80)
        (*column)++;
    }
}

static gboolean
fail (Parser *parser, CpsJsonError code, const char *at, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

static gboolean
fail (Parser *parser, CpsJsonError code, const char *at, const char *format, ...)
{
  g_autofree char *what = NULL;
  g_autofree char *path = NULL;
  g_autofree char *message = NULL;
  guint line, column;
  va_list args;

  if (parser->failed)
    return FALSE;
  parser->failed = TRUE;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);

  /* Running out of input is the commonest damage: say so plainly. */
  if (at >= parser->end && code == CPS_JSON_ERROR_SYNTAX)
    {
      g_free (what);
      what = g_strdup (_("The file ends before the JSON is complete; it is probably truncated"));
    }

  locate (parser->start, at, &line, &column);
  path = parser_path (parser);
  /* Translators: the first %s is a sentence describing a JSON syntax problem */
  message = g_strdup_printf (_("%s at line %u, column %u (byte %lu)."), what, line, column,
                             (unsigned long) (at - parser->start));
  cps_findings_add (parser->findings, CPS_SEVERITY_ERROR, path, "%s", message);
  g_set_error_literal (parser->error, CPS_JSON_ERROR, code, message);
  return FALSE;
}

static void
warn (Parser *parser, CpsSeverity severity, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
warn (Parser *parser, CpsSeverity severity, const char *format, ...)
{
  g_autofree char *path = NULL;
  g_autofree char *message = NULL;
  va_list args;

  if (parser->findings == NULL)
    return;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  path = parser_path (parser);
  g_ptr_array_add (parser->findings, cps_finding_new (severity, path, message));
}

static char *
describe_byte (const char *p, const char *end)
{
  guchar c;

  if (p >= end)
    return g_strdup (_("end of file"));
  c = *p;
  if (c == 0)
    return g_strdup (_("a NUL byte"));
  if (c < 0x20 || c >= 0x7F)
    return g_strdup_printf (_("byte 0x%02X"), c);
  /* Translators: a character quoted in an error message */
  return g_strdup_printf (_("“%c”"), c);
}

/* Lexing */

static inline void
skip_whitespace (Parser *parser)
{
  char *p = parser->p;

  while (p < parser->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
    p++;
  parser->p = p;
}

static gboolean
expect_literal (Parser *parser, const char *literal, gsize len)
{
  if ((gsize) (parser->end - parser->p) < len || memcmp (parser->p, literal, len) != 0)
    {
      int word = 0;

      while (parser->p + word < parser->end && word < 16 && g_ascii_isalnum (parser->p[word]))
        word++;
      return fail (parser, CPS_JSON_ERROR_SYNTAX, parser->p,
                   _("“%.*s” is not a JSON value; true, false and null are written in full and "
                     "in lower case"),
                   word, parser->p);
    }
  parser->p += len;
  return TRUE;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static int
read_hex4 (const char *p, const char *end)
{
  int value = 0;

  if (end - p < 4)
    return -1;
  for (int i = 0; i < 4; i++)
    {
      int h = hex_value (p[i]);
      if (h < 0)
        return -1;
      value = (value << 4) | h;
    }
  return value;
}

/* Returns the length of a valid UTF-8 sequence at @p (a byte >= 0x80), or 0. */
static gsize
utf8_sequence_length (const guchar *p, const guchar *end)
{
  guchar c = p[0];
  gsize len;
  gunichar cp;

  if (c >= 0xC2 && c <= 0xDF)
    len = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF)
    len = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4)
    len = 4, cp = c & 0x07;
  else
    return 0;

  if ((gsize) (end - p) < len)
    return 0;
  for (gsize i = 1; i < len; i++)
    {
      if ((p[i] & 0xC0) != 0x80)
        return 0;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

static char *
write_utf8 (char *w, gunichar cp)
{
  return w + g_unichar_to_utf8 (cp, w);
}

/* Parses the string at parser->p (on its opening quote), unescaping in place. */
static gboolean
parse_string (Parser *parser, const char **out, guint32 *out_len)
{
  char *r = parser->p + 1;
  char *w = r;
  char *begin = r;
  char *end = parser->end;

  for (;;)
    {
      guchar c;

      /* Fast path: plain ASCII needs no work but a copy, and none at all before
       * the first escape. */
      if (w == r)
        {
          while (r < end && (guchar) *r >= 0x20 && *r != '"' && *r != '\\' && (guchar) *r < 0x80)
            r++;
          w = r;
        }
      else
        {
          while (r < end && (guchar) *r >= 0x20 && *r != '"' && *r != '\\' && (guchar) *r < 0x80)
            *w++ = *r++;
        }

      if (r >= end)
        return fail (parser, CPS_JSON_ERROR_SYNTAX, parser->p,
                     _("The string starting here is never closed"));

      c = *r;
      if (c == '"')
        break;

      if (c >= 0x80)
        {
          gsize len = utf8_sequence_length ((const guchar *) r, (const guchar *) end);
          if (len == 0)
            return fail (parser, CPS_JSON_ERROR_ENCODING, r,
                         _("Invalid UTF-8 byte 0x%02X in a string; the file is damaged or not "
                           "saved as UTF-8"),
                         c);
          if (w != r)
            memmove (w, r, len);
          w += len;
          r += len;
          continue;
        }

      if (c < 0x20)
        {
          if (c == 0)
            return fail (parser, CPS_JSON_ERROR_SYNTAX, r,
                         _("A NUL byte inside a string; the file is damaged"));
          return fail (parser, CPS_JSON_ERROR_SYNTAX, r,
                       _("Unescaped control character 0x%02X inside a string"), c);
        }

      /* Backslash escape */
      if (r + 1 >= end)
        return fail (parser, CPS_JSON_ERROR_SYNTAX, r, _("The string ends inside an escape"));
      switch (r[1])
        {
        case '"':
        case '\\':
        case '/':
          *w++ = r[1];
          r += 2;
          break;
        case 'b':
          *w++ = '\b';
          r += 2;
          break;
        case 'f':
          *w++ = '\f';
          r += 2;
          break;
        case 'n':
          *w++ = '\n';
          r += 2;
          break;
        case 'r':
          *w++ = '\r';
          r += 2;
          break;
        case 't':
          *w++ = '\t';
          r += 2;
          break;
        case 'u':
          {
            int unit = read_hex4 (r + 2, end);
            gunichar cp;

            if (unit < 0)
              return fail (parser, CPS_JSON_ERROR_SYNTAX, r,
                           _("“\\u” must be followed by four hexadecimal digits"));
            r += 6;
            cp = unit;
            if (unit >= 0xD800 && unit <= 0xDBFF)
              {
                int low = (end - r >= 6 && r[0] == '\\' && r[1] == 'u') ? read_hex4 (r + 2, end)
                                                                          : -1;
                if (low >= 0xDC00 && low <= 0xDFFF)
                  {
                    cp = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    r += 6;
                  }
                else
                  {
                    warn (parser, CPS_SEVERITY_ERROR,
                          _("The string holds an unpaired UTF-16 surrogate (\\u%04X); it was "
                            "read as U+FFFD and cannot be checksummed exactly"),
                          unit);
                    cp = 0xFFFD;
                  }
              }
            else if (unit >= 0xDC00 && unit <= 0xDFFF)
              {
                warn (parser, CPS_SEVERITY_ERROR,
                      _("The string holds an unpaired UTF-16 surrogate (\\u%04X); it was read "
                        "as U+FFFD and cannot be checksummed exactly"),
                      unit);
                cp = 0xFFFD;
              }
            w = write_utf8 (w, cp);
          }
          break;
        default:
          {
            g_autofree char *got = describe_byte (r + 1, end);
            return fail (parser, CPS_JSON_ERROR_SYNTAX, r,
                         _("Invalid escape “\\” followed by %s in a string"), got);
          }
        }
    }

  /* r is on the closing quote; w <= r, so terminating at w is safe. */
  *w = '\0';
  *out = begin;
  *out_len = (guint32) (w - begin);
  parser->p = r + 1;
  return TRUE;
}

static gboolean
parse_number (Parser *parser, CpsJsonNode *out)
{
  char *start = parser->p;
  char *p = start;
  char *end = parser->end;
  gboolean is_integer = TRUE;
  char stack_buf[64];
  g_autofree char *heap_buf = NULL;
  char *buf;
  gsize len;
  double value;

  if (p < end && *p == '-')
    p++;
  if (p >= end || !g_ascii_isdigit (*p))
    {
      g_autofree char *got = describe_byte (p, end);
      return fail (parser, CPS_JSON_ERROR_SYNTAX, p, _("Unexpected %s in a number"), got);
    }
  if (*p == '0')
    {
      p++;
      if (p < end && g_ascii_isdigit (*p))
        return fail (parser, CPS_JSON_ERROR_SYNTAX, start,
                     _("A number may not start with a leading zero"));
    }
  else
    while (p < end && g_ascii_isdigit (*p))
      p++;

  if (p < end && *p == '.')
    {
      is_integer = FALSE;
      p++;
      if (p >= end || !g_ascii_isdigit (*p))
        return fail (parser, CPS_JSON_ERROR_SYNTAX, p,
                     _("A decimal point must be followed by a digit"));
      while (p < end && g_ascii_isdigit (*p))
        p++;
    }
  if (p < end && (*p == 'e' || *p == 'E'))
    {
      is_integer = FALSE;
      p++;
      if (p < end && (*p == '+' || *p == '-'))
        p++;
      if (p >= end || !g_ascii_isdigit (*p))
        return fail (parser, CPS_JSON_ERROR_SYNTAX, p,
                     _("An exponent must be followed by a digit"));
      while (p < end && g_ascii_isdigit (*p))
        p++;
    }

  len = p - start;
  parser->p = p;
  out->type = CPS_JSON_NUMBER;

  /* Up to 15 digits are exact in a double: no need for strtod. */
  if (is_integer && len <= 15)
    {
      gint64 v = 0;
      const char *q = start + (*start == '-');
      for (; q < p; q++)
        v = v * 10 + (*q - '0');
      out->v.number = (*start == '-') ? -(double) v : (double) v;
      return TRUE;
    }

  buf = len < sizeof stack_buf ? stack_buf : (heap_buf = g_malloc (len + 1));
  memcpy (buf, start, len);
  buf[len] = '\0';
  errno = 0;
  value = g_ascii_strtod (buf, NULL);
  if (isinf (value))
    {
      warn (parser, CPS_SEVERITY_ERROR,
            _("The number %.*s is too large for a double; the planner reads it as Infinity and "
              "it has no canonical form"),
            (int) MIN (len, 40), start);
    }
  out->v.number = value;
  return TRUE;
}

static guint
hash_key (const char *key, gsize len)
{
  guint h = 5381;
  for (gsize i = 0; i < len; i++)
    h = (h << 5) + h + (guchar) key[i];
  return h;
}

static gboolean
keys_equal (const CpsJsonMember *a, const CpsJsonMember *b)
{
  return a->key_len == b->key_len && memcmp (a->key, b->key, a->key_len) == 0;
}

/* JSON.parse keeps the first position and the last value of a repeated key;
 * we do the same so checksums match, and report it. Returns the new count. */
static guint
resolve_duplicate_keys (Parser *parser, CpsJsonMember *members, guint n)
{
  g_autofree guint *table = NULL;
  g_autofree gboolean *drop = NULL;
  guint size, ndrop = 0, j = 0;

  if (n < 2)
    return n;

  size = 1;
  while (size < n * 2)
    size <<= 1;
  table = g_new (guint, size);
  memset (table, 0xff, size * sizeof (guint));

  for (guint i = 0; i < n; i++)
    {
      guint slot = hash_key (members[i].key, members[i].key_len) & (size - 1);

      while (table[slot] != G_MAXUINT)
        {
          guint first = table[slot];
          if (keys_equal (&members[first], &members[i]))
            {
              g_autofree char *path = parser_path (parser);
              g_autofree char *where = cps_json_path_append_key (path, members[i].key,
                                                                 members[i].key_len);
              cps_findings_add (parser->findings, CPS_SEVERITY_ERROR, where,
                                _("The key appears more than once in this object; like the "
                                  "planner, the last value is used"));
              members[first].value = members[i].value;
              if (drop == NULL)
                drop = g_new0 (gboolean, n);
              drop[i] = TRUE;
              ndrop++;
              break;
            }
          slot = (slot + 1) & (size - 1);
        }
      if (drop == NULL || !drop[i])
        table[slot] = i;
    }

  if (ndrop == 0)
    return n;
  for (guint i = 0; i < n; i++)
    if (!drop[i])
      members[j++] = members[i];
  return j;
}

static gboolean
parse_object (Parser *parser, CpsJsonNode *out)
{
  guint base = parser->members->len;
  guint n;
  PathSegment *seg = &parser->path[parser->depth];

  parser->p++; /* { */
  skip_whitespace (parser);
  if (parser->p < parser->end && *parser->p == '}')
    {
      parser->p++;
      out->type = CPS_JSON_OBJECT;
      out->n = 0;
      out->v.members = NULL;
      return TRUE;
    }

  for (;;)
    {
      CpsJsonMember member;

      skip_whitespace (parser);
      if (parser->p >= parser->end || *parser->p != '"')
        {
          g_autofree char *got = describe_byte (parser->p, parser->end);
          return fail (parser, CPS_JSON_ERROR_SYNTAX, parser->p,
                       _("Unexpected %s; a member name in double quotes was expected"), got);
        }
      if (!parse_string (parser, &member.key, &member.key_len))
        return FALSE;

      skip_whitespace (parser);
      if (parser->p >= parser->end || *parser->p != ':')
        {
          g_autofree char *got = describe_byte (parser->p, parser->end);
          return fail (parser, CPS_JSON_ERROR_SYNTAX, parser->p,
                       _("Unexpected %s; “:” was expected after a member name"), got);
        }
      parser->p++;

      seg->key = member.key;
      seg->key_len = member.key_len;
      parser->depth++;
      if (!parse_value (parser, &member.value))
        return FALSE;
      parser->depth--;
      g_array_append_val (parser->members, member);

      skip_whitespace (parser);
      if (parser->p < parser->end && *parser->p == ',')
        {
          parser->p++;
          continue;
        }
      if (parser->p < parser->end && *parser->p == '}')
        {
          parser->p++;
          break;
        }
      {
        g_autofree char *got = describe_byte (parser->p, parser->end);
        return fail (parser, CPS_JSON_ERROR_SYNTAX, parser->p,
                     _("Unexpected %s; “,” or “}” was expected in an object"), got);
      }
    }

  n = parser->members->len - base;
  n = resolve_duplicate_keys (parser, &g_array_index (parser->members, CpsJsonMember, base), n);
  out->type = CPS_JSON_OBJECT;
  out->n = n;
  out->v.members = arena_alloc (parser->doc, n * sizeof (CpsJsonMember));
  memcpy (out->v.members, &g_array_index (parser->members, CpsJsonMember, base),
          n * sizeof (CpsJsonMember));
  g_array_set_size (parser->members, base);
  return TRUE;
}

static gboolean
parse_array (Parser *parser, CpsJsonNode *out)
{
  guint base = parser->items->len;
  guint n;
  guint index = 0;
  PathSegment *seg = &parser->path[parser->depth];

  parser->p++; /* [ */
  skip_whitespace (parser);
  if (parser->p < parser->end && *parser->p == ']')
    {
      parser->p++;
      out->type = CPS_JSON_ARRAY;
      out->n = 0;
      out->v.items = NULL;
      return TRUE;
    }

  for (;;)
    {
      CpsJsonNode item;

      seg->key = NULL;
      seg->index = index++;
      parser->depth++;
      if (!parse_value (parser, &item))
        return FALSE;
      parser->depth--;
      g_array_append_val (parser->items, item);

      skip_whitespace (parser);
      if (parser->p < parser->end && *parser->p == ',')
        {
          parser->p++;
          continue;
        }
      if (parser->p < parser->end && *parser->p == ']')
        {
          parser->p++;
          break;
        }
      {
        g_autofree char *got = describe_byte (parser->p, parser->end);
        return fail (parser, CPS_JSON_ERROR_SYNTAX, parser->p,
                     _("Unexpected %s; “,” or “]” was expected in an array"), got);
      }
    }

  n = parser->items->len - base;
  out->type = CPS_JSON_ARRAY;
  out->n = n;
  out->v.items = arena_alloc (parser->doc, n * sizeof (CpsJsonNode));
  memcpy (out->v.items, &g_array_index (parser->items, CpsJsonNode, base),
          n * sizeof (CpsJsonNode));
  g_array_set_size (parser->items, base);
  return TRUE;
}

static gboolean
parse_value (Parser *parser, CpsJsonNode *out)
{
  skip_whitespace (parser);
  if (parser->p >= parser->end)
    return fail (parser, CPS_JSON_ERROR_SYNTAX, parser->p,
                 _("The file ends where a value was expected; it is probably truncated"));

  memset (out, 0, sizeof *out);
  switch (*parser->p)
    {
    case '{':
    case '[':
      if (parser->depth >= CPS_JSON_MAX_DEPTH)
        return fail (parser, CPS_JSON_ERROR_DEPTH, parser->p,
                     _("Objects and arrays are nested more than %d levels deep"),
                     CPS_JSON_MAX_DEPTH);
      parser->doc->depth = MAX (parser->doc->depth, parser->depth + 1);
      return *parser->p == '{' ? parse_object (parser, out) : parse_array (parser, out);
    case '"':
      out->type = CPS_JSON_STRING;
      return parse_string (parser, &out->v.string, &out->n);
    case 't':
      out->type = CPS_JSON_BOOLEAN;
      out->v.boolean = TRUE;
      return expect_literal (parser, "true", 4);
    case 'f':
      out->type = CPS_JSON_BOOLEAN;
      out->v.boolean = FALSE;
      return expect_literal (parser, "false", 5);
    case 'n':
      out->type = CPS_JSON_NULL;
      return expect_literal (parser, "null", 4);
    case '-':
    case '0' ... '9':
      return parse_number (parser, out);
    default:
      {
        g_autofree char *got = NULL;
        guchar c = *parser->p;

        if (c >= 0x80 && utf8_sequence_length ((const guchar *) parser->p,
                                                (const guchar *) parser->end) == 0)
          return fail (parser, CPS_JSON_ERROR_ENCODING, parser->p,
                       _("Invalid UTF-8 byte 0x%02X; the file is damaged or not saved as "
                         "UTF-8"),
                       c);
        got = describe_byte (parser->p, parser->end);
        return fail (parser, CPS_JSON_ERROR_SYNTAX, parser->p,
                     _("Unexpected %s; a value (string, number, object, array, true, false or "
                       "null) was expected"),
                     got);
      }
    }
}

static CpsJsonDocument *
document_new (char *data, gsize length, GDestroyNotify free_data)
{
  CpsJsonDocument *doc = g_new0 (CpsJsonDocument, 1);

  g_atomic_ref_count_init (&doc->ref_count);
  doc->data = data;
  doc->length = length;
  doc->free_data = free_data;
  doc->next_block_size = ARENA_FIRST_BLOCK;
  doc->root.type = CPS_JSON_NULL;
  return doc;
}

/**
 * cps_json_document_parse:
 * @data: (transfer full): the bytes to parse; they are modified in place
 * @length: number of bytes
 * @free_data: (nullable): frees @data with the document
 * @findings: (nullable): receives findings, the fatal one included
 * @error: receives the fatal problem, if any
 *
 * Parses one JSON text strictly (RFC 8259, UTF-8). Problems that still
 * leave a usable tree (duplicate keys, numbers out of range, unpaired
 * surrogates, a byte order mark) are added to @findings; problems that do not
 * are added to @findings as well and returned in @error.
 *
 * Returns: (transfer full) (nullable): the document, or %NULL
 */
CpsJsonDocument *
cps_json_document_parse (char *data, gsize length, GDestroyNotify free_data,
                         GPtrArray *findings, GError **error)
{
  g_autoptr (CpsJsonDocument) doc = document_new (data, length, free_data);
  Parser parser = { 0 };
  gboolean ok;

  parser.doc = doc;
  parser.start = data;
  parser.p = data;
  parser.end = data + length;
  parser.findings = findings;
  parser.error = error;

  if (length >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
    {
      warn (&parser, CPS_SEVERITY_WARNING,
            _("The file starts with a byte order mark, which the planner never writes"));
      parser.p += 3;
    }

  skip_whitespace (&parser);
  if (parser.p >= parser.end)
    {
      fail (&parser, CPS_JSON_ERROR_EMPTY, parser.p,
            length == 0 ? _("The file is empty") : _("The file holds only white space"));
      return NULL;
    }

  parser.items = g_array_sized_new (FALSE, FALSE, sizeof (CpsJsonNode), 256);
  parser.members = g_array_sized_new (FALSE, FALSE, sizeof (CpsJsonMember), 256);
  ok = parse_value (&parser, &doc->root);
  g_array_unref (parser.items);
  g_array_unref (parser.members);
  if (!ok)
    return NULL;

  skip_whitespace (&parser);
  if (parser.p < parser.end)
    {
      g_autofree char *got = describe_byte (parser.p, parser.end);
      parser.depth = 0;
      fail (&parser, CPS_JSON_ERROR_SYNTAX, parser.p,
            _("Unexpected %s after the end of the JSON value"), got);
      return NULL;
    }

  return g_steal_pointer (&doc);
}

/**
 * cps_json_document_parse_copy:
 * @length: the length, or -1 when @data is NUL-terminated
 *
 * Like cps_json_document_parse(), on a copy of @data.
 *
 * Returns: (transfer full) (nullable): the document, or %NULL
 */
CpsJsonDocument *
cps_json_document_parse_copy (const char *data, gssize length, GPtrArray *findings,
                              GError **error)
{
  gsize len = length < 0 ? strlen (data) : (gsize) length;
  char *copy = g_malloc (len + 1);

  memcpy (copy, data, len);
  copy[len] = '\0';
  return cps_json_document_parse (copy, len, g_free, findings, error);
}

/**
 * cps_json_document_new_derived:
 * @base: (nullable): a document whose nodes the new one may reference
 *
 * Creates an empty document for building a tree that may share subtrees
 * with @base without copying them.
 *
 * Returns: (transfer full): a new document with a null root
 */
CpsJsonDocument *
cps_json_document_new_derived (CpsJsonDocument *base)
{
  CpsJsonDocument *doc = document_new (NULL, 0, NULL);

  doc->bases = g_ptr_array_new_with_free_func ((GDestroyNotify) cps_json_document_unref);
  if (base != NULL)
    g_ptr_array_add (doc->bases, cps_json_document_ref (base));
  return doc;
}

/**
 * cps_json_document_get_depth:
 *
 * Returns: how deeply the parsed text nests objects and arrays: 0 for a
 *   scalar, 1 for an object or array of scalars; 0 for a document that was
 *   built rather than parsed
 */
guint
cps_json_document_get_depth (CpsJsonDocument *doc)
{
  return doc->depth;
}

CpsJsonDocument *
cps_json_document_ref (CpsJsonDocument *doc)
{
  g_return_val_if_fail (doc != NULL, NULL);
  g_atomic_ref_count_inc (&doc->ref_count);
  return doc;
}

void
cps_json_document_unref (CpsJsonDocument *doc)
{
  if (doc == NULL || !g_atomic_ref_count_dec (&doc->ref_count))
    return;
  arena_free (doc);
  if (doc->free_data != NULL)
    doc->free_data (doc->data);
  g_clear_pointer (&doc->bases, g_ptr_array_unref);
  g_free (doc);
}

/**
 * cps_json_document_get_root:
 *
 * Returns: (transfer none): the root node
 */
CpsJsonNode *
cps_json_document_get_root (CpsJsonDocument *doc)
{
  return &doc->root;
}

void
cps_json_document_set_root (CpsJsonDocument *doc, const CpsJsonNode *root)
{
  doc->root = *root;
}

/**
 * cps_json_document_alloc_members:
 *
 * Returns: (transfer none): @n zeroed members living as long as @doc
 */
CpsJsonMember *
cps_json_document_alloc_members (CpsJsonDocument *doc, guint n)
{
  CpsJsonMember *members = arena_alloc (doc, MAX (n, 1) * sizeof (CpsJsonMember));

  memset (members, 0, MAX (n, 1) * sizeof (CpsJsonMember));
  return members;
}

/**
 * cps_json_document_alloc_items:
 *
 * Returns: (transfer none): @n zeroed nodes living as long as @doc
 */
CpsJsonNode *
cps_json_document_alloc_items (CpsJsonDocument *doc, guint n)
{
  CpsJsonNode *items = arena_alloc (doc, MAX (n, 1) * sizeof (CpsJsonNode));

  memset (items, 0, MAX (n, 1) * sizeof (CpsJsonNode));
  return items;
}

/**
 * cps_json_document_intern:
 *
 * Returns: (transfer none): a NUL-terminated copy of @str living as long as @doc
 */
const char *
cps_json_document_intern (CpsJsonDocument *doc, const char *str, gssize len)
{
  gsize n = len < 0 ? strlen (str) : (gsize) len;
  char *copy = arena_alloc (doc, n + 1);

  memcpy (copy, str, n);
  copy[n] = '\0';
  return copy;
}

void
cps_json_node_init_string (CpsJsonNode *node, CpsJsonDocument *doc, const char *str)
{
  memset (node, 0, sizeof *node);
  node->type = CPS_JSON_STRING;
  node->v.string = cps_json_document_intern (doc, str, -1);
  node->n = strlen (str);
}

void
cps_json_node_init_boolean (CpsJsonNode *node, gboolean value)
{
  memset (node, 0, sizeof *node);
  node->type = CPS_JSON_BOOLEAN;
  node->v.boolean = !!value;
}

/**
 * cps_json_object_get:
 * @object: (nullable): a node
 *
 * Returns: (transfer none) (nullable): the value of member @key, or %NULL
 *   when @object is not an object or has no such member
 */
const CpsJsonNode *
cps_json_object_get (const CpsJsonNode *object, const char *key)
{
  gsize len;

  if (object == NULL || object->type != CPS_JSON_OBJECT)
    return NULL;
  len = strlen (key);
  for (guint i = 0; i < object->n; i++)
    {
      const CpsJsonMember *m = &object->v.members[i];
      if (m->key_len == len && memcmp (m->key, key, len) == 0)
        return &m->value;
    }
  return NULL;
}

/**
 * cps_json_node_get_string:
 *
 * Returns: (nullable): the string, or %NULL when @node is not a string
 */
const char *
cps_json_node_get_string (const CpsJsonNode *node)
{
  return (node != NULL && node->type == CPS_JSON_STRING) ? node->v.string : NULL;
}

const char *
cps_json_object_get_string (const CpsJsonNode *object, const char *key)
{
  return cps_json_node_get_string (cps_json_object_get (object, key));
}

static int
compare_member_keys (gconstpointer pa, gconstpointer pb)
{
  const CpsJsonMember *a = *(const CpsJsonMember *const *) pa;
  const CpsJsonMember *b = *(const CpsJsonMember *const *) pb;
  int cmp = memcmp (a->key, b->key, MIN (a->key_len, b->key_len));

  return cmp != 0 ? cmp : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

/* Large objects are compared in key order, so hostile input with members in
 * opposite orders costs n log n, not n². Keys are unique after parsing. */
static gboolean
objects_equal_sorted (const CpsJsonNode *a, const CpsJsonNode *b)
{
  g_autofree const CpsJsonMember **sa = g_new (const CpsJsonMember *, a->n);
  g_autofree const CpsJsonMember **sb = g_new (const CpsJsonMember *, b->n);

  for (guint i = 0; i < a->n; i++)
    {
      sa[i] = &a->v.members[i];
      sb[i] = &b->v.members[i];
    }
  qsort (sa, a->n, sizeof *sa, compare_member_keys);
  qsort (sb, b->n, sizeof *sb, compare_member_keys);
  for (guint i = 0; i < a->n; i++)
    if (!keys_equal (sa[i], sb[i]) || !cps_json_node_equal (&sa[i]->value, &sb[i]->value))
      return FALSE;
  return TRUE;
}

/**
 * cps_json_node_equal:
 *
 * Compares two values as JSON values: objects regardless of member order,
 * numbers as doubles.
 */
gboolean
cps_json_node_equal (const CpsJsonNode *a, const CpsJsonNode *b)
{
  if (a->type != b->type)
    return FALSE;

  switch ((CpsJsonType) a->type)
    {
    case CPS_JSON_NULL:
      return TRUE;
    case CPS_JSON_BOOLEAN:
      return a->v.boolean == b->v.boolean;
    case CPS_JSON_NUMBER:
      return a->v.number == b->v.number;
    case CPS_JSON_STRING:
      return a->n == b->n && memcmp (a->v.string, b->v.string, a->n) == 0;
    case CPS_JSON_ARRAY:
      if (a->n != b->n)
        return FALSE;
      for (guint i = 0; i < a->n; i++)
        if (!cps_json_node_equal (&a->v.items[i], &b->v.items[i]))
          return FALSE;
      return TRUE;
    case CPS_JSON_OBJECT:
      if (a->n != b->n)
        return FALSE;
      if (a->n > 32)
        return objects_equal_sorted (a, b);
      for (guint i = 0; i < a->n; i++)
        {
          const CpsJsonMember *ma = &a->v.members[i];
          const CpsJsonMember *mb = NULL;

          if (i < b->n && keys_equal (ma, &b->v.members[i]))
            mb = &b->v.members[i];
          for (guint j = 0; mb == NULL && j < b->n; j++)
            if (keys_equal (ma, &b->v.members[j]))
              mb = &b->v.members[j];
          if (mb == NULL || !cps_json_node_equal (&ma->value, &mb->value))
            return FALSE;
        }
      return TRUE;
    default:
      return FALSE;
    }
}

/**
 * cps_json_type_to_string:
 *
 * Returns: a translated name of the type, for messages
 */
const char *
cps_json_type_to_string (CpsJsonType type)
{
  switch (type)
    {
    case CPS_JSON_NULL:
      return _("null");
    case CPS_JSON_BOOLEAN:
      return _("a boolean");
    case CPS_JSON_NUMBER:
      return _("a number");
    case CPS_JSON_STRING:
      return _("a string");
    case CPS_JSON_ARRAY:
      return _("an array");
    case CPS_JSON_OBJECT:
      return _("an object");
    default:
      return _("an unknown value");
    }
}
