/* cps-revision.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The exact rules (CONTRACT.md), with H(x) = "sha256:" + hex SHA-256:
 *   checksum  = H(JCS(document without "metadata"))
 *   id        = H(JCS(revision without id and signature, payload → H(JCS(payload))))
 *   signature = base64 Ed25519 over the UTF-8 bytes of id
 *   parents sorted ascending; clock = max of the parents' clocks, own counter + 1
 * A revision keeps its JSON form as parsed, so what was received is exactly
 * what is stored and forwarded.
 */

#define G_LOG_DOMAIN "cps-revision"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "cps-jcs.h"
#include "cps-revision.h"

struct _CpsRevision
{
  GObject parent_instance;

  CpsJsonDocument *json; /* the whole revision */
  const char *id;
  const char *project_id;
  GStrv parents;
  CpsClock *clock;
  const char *device_id;
  const char *created_at;
  const char *checksum;
  gboolean deleted;
  const CpsJsonNode *payload;
  const CpsJsonNode *document; /* payload.json, or NULL when encrypted */
  const char *signature;
  gboolean signed_here;   /* made by cps_revision_new_signed() in this process */
  guint8 signer_key[32];
};

G_DEFINE_FINAL_TYPE (CpsRevision, cps_revision, G_TYPE_OBJECT)

G_DEFINE_QUARK (cps-revision-error-quark, cps_revision_error)

static void
set_invalid (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
set_invalid (GError **error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_INVALID, message);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/**
 * cps_is_uuid:
 *
 * Returns: whether @text is a lowercase, hyphenated UUID
 */
gboolean
cps_is_uuid (const char *text)
{
  if (text == NULL || strlen (text) != 36)
    return FALSE;
  for (int i = 0; i < 36; i++)
    {
      char c = text[i];
      if (i == 8 || i == 13 || i == 18 || i == 23)
        {
          if (c != '-')
            return FALSE;
        }
      else if (!g_ascii_isdigit (c) && !(c >= 'a' && c <= 'f'))
        return FALSE;
    }
  return TRUE;
}

/* RFC 3339 UTC with milliseconds: 2026-03-01T13:05:09.123Z */
static gboolean
is_timestamp (const char *text)
{
  static const char pattern[] = "dddd-dd-ddTdd:dd:dd.dddZ";
  g_autoptr (GDateTime) parsed = NULL;

  if (text == NULL || strlen (text) != sizeof pattern - 1)
    return FALSE;
  for (guint i = 0; i < sizeof pattern - 1; i++)
    if (pattern[i] == 'd' ? !g_ascii_isdigit (text[i]) : text[i] != pattern[i])
      return FALSE;
  parsed = g_date_time_new_from_iso8601 (text, NULL);
  return parsed != NULL;
}

/**
 * cps_now_rfc3339:
 *
 * Returns: (transfer full): the current UTC time as the contract writes times
 */
char *
cps_now_rfc3339 (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *base = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03dZ", base, g_date_time_get_microsecond (now) / 1000);
}

static void
append_key (GString *out, const char *key)
{
  cps_jcs_append_string (out, key, strlen (key));
  g_string_append_c (out, ':');
}

/* The canonical form of the revision without id and signature and with the
 * payload replaced by its checksum; members in JCS order. */
static void
write_signed_part (GString *out, const char *checksum, const CpsClock *clock,
                   const char *created_at, gboolean deleted, const char *device_id,
                   const char *const *parents, const char *payload_checksum,
                   const char *project_id)
{
  g_string_append_c (out, '{');
  append_key (out, "checksum");
  cps_jcs_append_string (out, checksum, strlen (checksum));
  g_string_append_c (out, ',');
  append_key (out, "clock");
  cps_clock_write_jcs (clock, out);
  g_string_append_c (out, ',');
  append_key (out, "created_at");
  cps_jcs_append_string (out, created_at, strlen (created_at));
  g_string_append_c (out, ',');
  append_key (out, "deleted");
  g_string_append (out, deleted ? "true" : "false");
  g_string_append_c (out, ',');
  append_key (out, "device_id");
  cps_jcs_append_string (out, device_id, strlen (device_id));
  g_string_append_c (out, ',');
  append_key (out, "parents");
  g_string_append_c (out, '[');
  for (guint i = 0; parents[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      cps_jcs_append_string (out, parents[i], strlen (parents[i]));
    }
  g_string_append (out, "],");
  append_key (out, "payload");
  cps_jcs_append_string (out, payload_checksum, strlen (payload_checksum));
  g_string_append_c (out, ',');
  append_key (out, "project_id");
  cps_jcs_append_string (out, project_id, strlen (project_id));
  g_string_append_c (out, '}');
}

static void
cps_revision_finalize (GObject *object)
{
  CpsRevision *self = CPS_REVISION (object);

  g_clear_pointer (&self->json, cps_json_document_unref);
  g_clear_pointer (&self->parents, g_strfreev);
  g_clear_pointer (&self->clock, cps_clock_free);

  G_OBJECT_CLASS (cps_revision_parent_class)->finalize (object);
}

static void
cps_revision_class_init (CpsRevisionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cps_revision_finalize;
}

static void
cps_revision_init (CpsRevision *self)
{
}

static const char *
require_string (const CpsJsonNode *root, const char *key, GError **error)
{
  const char *value = cps_json_object_get_string (root, key);

  if (value == NULL)
    set_invalid (error, _("The revision’s “%s” is missing or not a string"), key);
  return value;
}

static gboolean
check_payload (const CpsJsonNode *payload, GError **error)
{
  const char *enc = cps_json_object_get_string (payload, "enc");

  if (cps_json_node_get_type (payload) != CPS_JSON_OBJECT || enc == NULL)
    {
      set_invalid (error, _("The revision’s payload must be an object with “enc”"));
      return FALSE;
    }

  if (g_str_equal (enc, "none"))
    {
      if (payload->n != 2 || cps_json_node_get_type (cps_json_object_get (payload, "json")) !=
                               CPS_JSON_OBJECT)
        {
          set_invalid (error, _("An unencrypted payload must be exactly {“enc”: “none”, "
                                "“json”: a project document}"));
          return FALSE;
        }
      return TRUE;
    }
  if (g_str_equal (enc, "xchacha20poly1305"))
    {
      const CpsJsonNode *epoch = cps_json_object_get (payload, "key_epoch");
      const char *nonce = cps_json_object_get_string (payload, "nonce");
      const char *ciphertext = cps_json_object_get_string (payload, "ciphertext");
      g_autofree guchar *nonce_bytes = NULL;
      gsize nonce_len = 0;

      if (payload->n != 4 || cps_json_node_get_type (epoch) != CPS_JSON_NUMBER ||
          epoch->v.number < 1 || epoch->v.number != (double) (gint64) epoch->v.number ||
          nonce == NULL || ciphertext == NULL)
        {
          set_invalid (error, _("An encrypted payload must be exactly {“enc”, “key_epoch”, "
                                "“nonce”, “ciphertext”}"));
          return FALSE;
        }
      nonce_bytes = g_base64_decode (nonce, &nonce_len);
      if (nonce_len != 24)
        {
          set_invalid (error, _("The payload’s nonce must be 24 bytes in base64"));
          return FALSE;
        }
      return TRUE;
    }
  {
    set_invalid (error, _("The payload’s encryption “%s” is not one this version knows"), enc);
    return FALSE;
  }
}

/* Reads every field of the parsed revision in @json, checking its form. */
static CpsRevision *
revision_from_document (CpsJsonDocument *json, GError **error)
{
  g_autoptr (CpsRevision) self = g_object_new (CPS_TYPE_REVISION, NULL);
  const CpsJsonNode *root = cps_json_document_get_root (json);
  const CpsJsonNode *parents, *deleted;
  static const char *const known[] = { "id", "project_id", "parents", "clock", "device_id",
                                       "created_at", "checksum", "deleted", "payload",
                                       "signature" };

  self->json = cps_json_document_ref (json);
  if (root->type != CPS_JSON_OBJECT)
    {
      set_invalid (error, _("A revision must be a JSON object"));
      return NULL;
    }
  for (guint i = 0; i < root->n; i++)
    {
      gboolean is_known = FALSE;
      for (guint k = 0; k < G_N_ELEMENTS (known); k++)
        is_known = is_known || g_strcmp0 (root->v.members[i].key, known[k]) == 0;
      if (!is_known)
        {
          set_invalid (error, _("The revision has an unknown member “%s”"),
                          root->v.members[i].key);
          return NULL;
        }
    }

  if ((self->id = require_string (root, "id", error)) == NULL ||
      (self->project_id = require_string (root, "project_id", error)) == NULL ||
      (self->device_id = require_string (root, "device_id", error)) == NULL ||
      (self->created_at = require_string (root, "created_at", error)) == NULL ||
      (self->checksum = require_string (root, "checksum", error)) == NULL ||
      (self->signature = require_string (root, "signature", error)) == NULL)
    return NULL;

  if (!cps_checksum_is_valid (self->id))
    {
      set_invalid (error, _("The revision id is not “sha256:” and 64 lowercase hex digits"));
      return NULL;
    }
  if (!cps_checksum_is_valid (self->checksum))
    {
      set_invalid (error, _("The revision checksum is not “sha256:” and 64 lowercase hex "
                            "digits"));
      return NULL;
    }
  if (!cps_is_uuid (self->project_id))
    {
      set_invalid (error, _("The project id is not a lowercase UUID"));
      return NULL;
    }
  if (!cps_is_uuid (self->device_id))
    {
      set_invalid (error, _("The device id is not a lowercase UUID"));
      return NULL;
    }
  if (!is_timestamp (self->created_at))
    {
      set_invalid (error, _("“created_at” must be an RFC 3339 UTC time with milliseconds, "
                            "such as 2026-03-01T13:05:09.123Z"));
      return NULL;
    }

  deleted = cps_json_object_get (root, "deleted");
  if (cps_json_node_get_type (deleted) != CPS_JSON_BOOLEAN)
    {
      set_invalid (error, _("“deleted” must be true or false"));
      return NULL;
    }
  self->deleted = deleted->v.boolean;

  parents = cps_json_object_get (root, "parents");
  if (cps_json_node_get_type (parents) != CPS_JSON_ARRAY)
    {
      set_invalid (error, _("“parents” must be an array of revision ids"));
      return NULL;
    }
  self->parents = g_new0 (char *, parents->n + 1);
  for (guint i = 0; i < parents->n; i++)
    {
      const char *parent = cps_json_node_get_string (&parents->v.items[i]);

      if (!cps_checksum_is_valid (parent))
        {
          set_invalid (error, _("A parent is not a revision id"));
          return NULL;
        }
      if (i > 0 && strcmp (self->parents[i - 1], parent) >= 0)
        {
          g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_PARENTS,
                       _("The parents must be sorted ascending and listed once each"));
          return NULL;
        }
      self->parents[i] = g_strdup (parent);
    }

  self->clock = cps_clock_new_from_json (cps_json_object_get (root, "clock"), error);
  if (self->clock == NULL)
    return NULL;
  if (cps_clock_get (self->clock, self->device_id) == 0)
    {
      g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_CLOCK,
                   _("The clock has no counter for the revision’s own device"));
      return NULL;
    }

  self->payload = cps_json_object_get (root, "payload");
  if (!check_payload (self->payload, error))
    return NULL;
  self->document = cps_json_object_get (self->payload, "json");

  return g_steal_pointer (&self);
}

/**
 * cps_revision_new_from_json:
 * @node: a revision as JSON
 *
 * Reads a revision, checking the form of every field (not its id,
 * signature or clock: see cps_revision_verify()).
 *
 * Returns: (transfer full) (nullable): the revision
 */
CpsRevision *
cps_revision_new_from_json (const CpsJsonNode *node, GError **error)
{
  g_autofree char *text = NULL;
  gsize length;

  text = cps_json_to_string (node, 0, &length, error);
  if (text == NULL)
    return NULL;
  return cps_revision_new_from_string (text, length, error);
}

/**
 * cps_revision_new_from_string:
 *
 * Returns: (transfer full) (nullable): the revision
 */
CpsRevision *
cps_revision_new_from_string (const char *json, gssize length, GError **error)
{
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (CpsJsonDocument) doc = cps_json_document_parse_copy (json, length, NULL,
                                                                  &parse_error);

  if (doc == NULL)
    {
      set_invalid (error, _("The revision is not valid JSON: %s"), parse_error->message);
      return NULL;
    }
  return revision_from_document (doc, error);
}

/* The checksums of an unencrypted payload and of its document's content,
 * from one canonical pass over the document: the payload is
 * {"enc":"none","json":DOC}, the content DOC without its metadata. */
static gboolean
document_checksums (const CpsJsonNode *document, char **payload_checksum,
                    char **content_checksum, GError **error)
{
  static const char prefix[] = "{\"enc\":\"none\",\"json\":";
  g_autoptr (GString) out = g_string_sized_new (4096);
  const gsize skip = sizeof prefix - 1;
  gsize start, end;

  g_string_append (out, prefix);
  if (!cps_jcs_write_document (out, document, &start, &end, error))
    return FALSE;
  g_string_append_c (out, '}');

  *payload_checksum = cps_checksum_bytes (out->str, out->len);
  /* the document alone, without the prefix and the closing brace */
  *content_checksum = cps_checksum_spliced (out->str + skip, out->len - skip - 1, start - skip,
                                            end - skip);
  return TRUE;
}

/* The id the fields call for and, for an unencrypted payload, the content
 * checksum of its document (else NULL). */
static char *
compute_id (CpsRevision *self, char **content_checksum, GError **error)
{
  g_autoptr (GString) signed_part = g_string_new (NULL);
  g_autofree char *payload_checksum = NULL;
  g_autofree char *content = NULL;

  if (self->document != NULL)
    {
      if (!document_checksums (self->document, &payload_checksum, &content, error))
        return NULL;
    }
  else if ((payload_checksum = cps_checksum_json (self->payload, error)) == NULL)
    return NULL;

  write_signed_part (signed_part, self->checksum, self->clock, self->created_at, self->deleted,
                     self->device_id, (const char *const *) self->parents, payload_checksum,
                     self->project_id);
  if (content_checksum != NULL)
    *content_checksum = g_steal_pointer (&content);
  return cps_checksum_bytes (signed_part->str, signed_part->len);
}

/**
 * cps_revision_new_signed:
 * @project_id: the project's UUID
 * @parents: (array length=n_parents): the parent revisions
 * @key: the author device's key
 * @created_at: (nullable): the time, or %NULL for now
 * @document: the plaintext project document
 *
 * Creates a revision of @document with an unencrypted payload, its clock,
 * id and signature formed by the contract's rules.
 *
 * Returns: (transfer full) (nullable): the revision
 */
CpsRevision *
cps_revision_new_signed (const char *project_id, CpsRevision *const *parents, guint n_parents,
                         CpsDeviceKey *key, const char *created_at, const CpsJsonNode *document,
                         gboolean deleted, GError **error)
{
  g_autofree char *now = created_at ? g_strdup (created_at) : cps_now_rfc3339 ();
  g_autofree const CpsClock **clocks = g_new0 (const CpsClock *, n_parents + 1);
  g_autofree const char **parent_ids = g_new0 (const char *, n_parents + 1);
  g_autoptr (CpsClock) clock = NULL;
  g_autoptr (GString) signed_part = g_string_new (NULL);
  g_autoptr (GString) full = g_string_new (NULL);
  g_autofree char *checksum = NULL;
  g_autofree char *payload_checksum = NULL;
  g_autofree char *id = NULL;
  g_autofree char *signature = NULL;
  g_autofree char *document_text = NULL;
  const char *device_id = cps_device_key_get_device_id (key);

  g_return_val_if_fail (cps_is_uuid (project_id), NULL);

  if (cps_json_node_get_type (document) != CPS_JSON_OBJECT)
    {
      set_invalid (error, _("A project document must be a JSON object"));
      return NULL;
    }

  for (guint i = 0; i < n_parents; i++)
    {
      clocks[i] = parents[i]->clock;
      parent_ids[i] = parents[i]->id;
      if (g_strcmp0 (parents[i]->project_id, project_id) != 0)
        {
          g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_PARENTS,
                       _("A parent belongs to another project"));
          return NULL;
        }
    }
  qsort (parent_ids, n_parents, sizeof (char *), compare_strings);
  for (guint i = 1; i < n_parents; i++)
    if (strcmp (parent_ids[i - 1], parent_ids[i]) == 0)
      {
        g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_PARENTS,
                     _("The same parent is named twice"));
        return NULL;
      }
  clock = cps_clock_next (clocks, n_parents, device_id);

  if (!document_checksums (document, &payload_checksum, &checksum, error))
    return NULL;

  write_signed_part (signed_part, checksum, clock, now, deleted, device_id, parent_ids,
                     payload_checksum, project_id);
  id = cps_checksum_bytes (signed_part->str, signed_part->len);
  signature = cps_device_key_sign_base64 (key, id, strlen (id));

  /* The stored form, in the contract's member order. */
  document_text = cps_json_to_string (document, 0, NULL, error);
  if (document_text == NULL)
    return NULL;
  g_string_append (full, "{\"id\":\"");
  g_string_append (full, id);
  g_string_append (full, "\",\"project_id\":\"");
  g_string_append (full, project_id);
  g_string_append (full, "\",\"parents\":[");
  for (guint i = 0; i < n_parents; i++)
    g_string_append_printf (full, "%s\"%s\"", i ? "," : "", parent_ids[i]);
  g_string_append (full, "],\"clock\":");
  cps_clock_write_jcs (clock, full);
  g_string_append_printf (full,
                          ",\"device_id\":\"%s\",\"created_at\":\"%s\",\"checksum\":\"%s\","
                          "\"deleted\":%s,\"payload\":{\"enc\":\"none\",\"json\":",
                          device_id, now, checksum, deleted ? "true" : "false");
  g_string_append (full, document_text);
  g_string_append_printf (full, "},\"signature\":\"%s\"}", signature);

  {
    CpsRevision *revision = cps_revision_new_from_string (full->str, full->len, error);

    if (revision != NULL)
      {
        revision->signed_here = TRUE;
        memcpy (revision->signer_key, cps_device_key_get_public_key (key), 32);
      }
    return revision;
  }
}

const char *
cps_revision_get_id (CpsRevision *self)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), NULL);
  return self->id;
}

const char *
cps_revision_get_project_id (CpsRevision *self)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), NULL);
  return self->project_id;
}

/**
 * cps_revision_get_parents:
 *
 * Returns: (transfer none): the parent ids, sorted, %NULL-terminated
 */
const char *const *
cps_revision_get_parents (CpsRevision *self)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), NULL);
  return (const char *const *) self->parents;
}

guint
cps_revision_get_n_parents (CpsRevision *self)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), 0);
  return g_strv_length (self->parents);
}

const CpsClock *
cps_revision_get_clock (CpsRevision *self)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), NULL);
  return self->clock;
}

const char *
cps_revision_get_device_id (CpsRevision *self)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), NULL);
  return self->device_id;
}

const char *
cps_revision_get_created_at (CpsRevision *self)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), NULL);
  return self->created_at;
}

const char *
cps_revision_get_checksum (CpsRevision *self)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), NULL);
  return self->checksum;
}

gboolean
cps_revision_get_deleted (CpsRevision *self)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), FALSE);
  return self->deleted;
}

const char *
cps_revision_get_signature (CpsRevision *self)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), NULL);
  return self->signature;
}

gboolean
cps_revision_is_encrypted (CpsRevision *self)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), FALSE);
  return self->document == NULL;
}

/**
 * cps_revision_get_document:
 *
 * Returns: (nullable): the plaintext project document, or %NULL when the
 *   payload is encrypted
 */
const CpsJsonNode *
cps_revision_get_document (CpsRevision *self)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), NULL);
  return self->document;
}

const CpsJsonNode *
cps_revision_get_payload (CpsRevision *self)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), NULL);
  return self->payload;
}

/**
 * cps_revision_get_depth:
 *
 * Returns: how deeply the revision's JSON nests objects and arrays (the
 *   revision object itself is level 1)
 */
guint
cps_revision_get_depth (CpsRevision *self)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), 0);
  return cps_json_document_get_depth (self->json);
}

/**
 * cps_revision_to_json:
 * @with_payload: %FALSE for a header (the contract's history lists)
 *
 * Returns: (transfer full): the revision as compact JSON
 */
char *
cps_revision_to_json (CpsRevision *self, gboolean with_payload)
{
  const CpsJsonNode *root;
  CpsJsonNode header;
  g_autofree CpsJsonMember *members = NULL;
  guint n = 0;

  g_return_val_if_fail (CPS_IS_REVISION (self), NULL);

  root = cps_json_document_get_root (self->json);
  if (with_payload)
    return cps_json_to_string (root, 0, NULL, NULL);

  members = g_new (CpsJsonMember, root->n);
  for (guint i = 0; i < root->n; i++)
    if (strcmp (root->v.members[i].key, "payload") != 0)
      members[n++] = root->v.members[i];
  header = *root;
  header.n = n;
  header.v.members = members;
  return cps_json_to_string (&header, 0, NULL, NULL);
}

/**
 * cps_revision_compute_id:
 *
 * Returns: (transfer full) (nullable): the id the revision's fields call for
 */
char *
cps_revision_compute_id (CpsRevision *self, GError **error)
{
  g_return_val_if_fail (CPS_IS_REVISION (self), NULL);
  return compute_id (self, NULL, error);
}

/**
 * cps_revision_verify:
 * @public_key: the Ed25519 public key of the author device
 *
 * Checks the id, the checksum of an unencrypted document and the signature.
 *
 * Returns: %TRUE when all hold; otherwise the first broken rule, as a
 *   specific #CpsRevisionError
 */
gboolean
cps_revision_verify (CpsRevision *self, const guint8 public_key[32], GError **error)
{
  g_autofree char *id = NULL;
  g_autofree char *checksum = NULL;

  g_return_val_if_fail (CPS_IS_REVISION (self), FALSE);

  /* A revision this process signed was formed by these very rules. */
  if (self->signed_here && memcmp (self->signer_key, public_key, 32) == 0)
    return TRUE;

  id = compute_id (self, &checksum, error);
  if (id == NULL)
    return FALSE;
  if (strcmp (id, self->id) != 0)
    {
      g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_ID,
                   _("The revision id does not match its content (expected %s); the revision "
                     "was altered or built wrongly"),
                   id);
      return FALSE;
    }
  if (checksum != NULL)
    {
      if (strcmp (checksum, self->checksum) != 0)
        {
          g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_CHECKSUM_MISMATCH,
                       _("The document’s checksum is %s, not the %s the revision states"),
                       checksum, self->checksum);
          return FALSE;
        }
    }
  if (!cps_signature_verify_base64 (public_key, self->id, strlen (self->id), self->signature))
    {
      g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_SIGNATURE,
                   _("The signature is not a valid signature of the id by device %s"),
                   self->device_id);
      return FALSE;
    }
  return TRUE;
}

/**
 * cps_revision_validate_clock:
 * @parents: (array length=n_parents): the revision's parents, in any order
 *
 * Checks that @parents are exactly the revision's parents, of the same
 * project, and that its clock follows from theirs.
 */
gboolean
cps_revision_validate_clock (CpsRevision *self, CpsRevision *const *parents, guint n_parents,
                             GError **error)
{
  g_autofree const CpsClock **clocks = g_new0 (const CpsClock *, n_parents + 1);
  g_autoptr (CpsClock) expected = NULL;

  g_return_val_if_fail (CPS_IS_REVISION (self), FALSE);

  if (n_parents != g_strv_length (self->parents))
    {
      g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_UNKNOWN_PARENT,
                   _("The revision names %u parents but %u were given"),
                   g_strv_length (self->parents), n_parents);
      return FALSE;
    }
  for (guint i = 0; i < n_parents; i++)
    {
      if (!g_strv_contains ((const char *const *) self->parents, parents[i]->id))
        {
          g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_UNKNOWN_PARENT,
                       _("%s is not a parent of this revision"), parents[i]->id);
          return FALSE;
        }
      if (strcmp (parents[i]->project_id, self->project_id) != 0)
        {
          g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_PARENTS,
                       _("Parent %s belongs to another project"), parents[i]->id);
          return FALSE;
        }
      clocks[i] = parents[i]->clock;
    }

  expected = cps_clock_next (clocks, n_parents, self->device_id);
  if (!cps_clock_equal (expected, self->clock))
    {
      g_autoptr (GString) want = g_string_new (NULL);
      g_autoptr (GString) got = g_string_new (NULL);

      cps_clock_write_jcs (expected, want);
      cps_clock_write_jcs (self->clock, got);
      g_set_error (error, CPS_REVISION_ERROR, CPS_REVISION_ERROR_BAD_CLOCK,
                   _("The clock is %s but its parents call for %s"), got->str, want->str);
      return FALSE;
    }
  return TRUE;
}
