/* cps-planner-file.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads any file the planner writes, recognising it by content, with the
 * same tolerance as the planner's own restore (PLANNER-FORMATS.md). Every
 * problem becomes a finding; only a file that cannot be read at all is an
 * error. How projects are derived from a full backup is documented in
 * docs/planner-derivation.md.
 */

#define G_LOG_DOMAIN "cps-planner-file"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "cps-jcs.h"
#include "cps-planner-file.h"

struct _CpsPlannerFile
{
  GObject parent_instance;

  GFile *file;
  char *display_name;
  CpsPlannerKind kind;
  char *version;
  char *created_at;
  char *checksum;
  guint64 size;
  CpsJsonDocument *document;
  GListStore *projects;
  GHashTable *projects_by_name; /* name → CpsPlannerProject, borrowed from projects */
  GListStore *orphan_backups;
  GPtrArray *findings;
};

G_DEFINE_FINAL_TYPE (CpsPlannerFile, cps_planner_file, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_DISPLAY_NAME,
  PROP_KIND,
  PROP_CHECKSUM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The planner's one-letter aliases for bundle keys (PLANNER-FORMATS.md). */
static const struct
{
  char alias;
  const char *key;
} bundle_aliases[] = {
  { 's', "setupName" },       { 'c', "camera" },
  { 'm', "monitor" },         { 'v', "video" },
  { 'g', "cage" },            { 'o', "motors" },
  { 'r', "controllers" },     { 'd', "distance" },
  { 'p', "batteryPlate" },    { 'b', "battery" },
  { 'h', "batteryHotswap" },  { 'w', "powerSelection" },
  { 'i', "projectInfo" },     { 'q', "projectHtml" },
  { 'e', "gearSelectors" },   { 'l', "gearList" },
  { 'u', "ownedGearMarkers" }, { 'x', "changedDevices" },
  { 'f', "feedback" },        { 'a', "autoGearRules" },
  { 'z', "autoGearCoverage" }, { 'y', "diagramPositions" },
  { 't', "metadata" },        { 'n', "contacts" },
};

typedef enum
{
  EXPECT_STRING = 1 << CPS_JSON_STRING,
  EXPECT_ARRAY = 1 << CPS_JSON_ARRAY,
  EXPECT_OBJECT = 1 << CPS_JSON_OBJECT,
  EXPECT_BOOLEAN = 1 << CPS_JSON_BOOLEAN,
  EXPECT_NUMBER = 1 << CPS_JSON_NUMBER,
  EXPECT_NULL = 1 << CPS_JSON_NULL,
} Expect;

/* The types the planner writes for the fields of a project, in a bundle
 * and in the setup and project entries of a backup. */
static const struct
{
  const char *key;
  Expect expect;
} project_fields[] = {
  { "setupName", EXPECT_STRING },
  { "camera", EXPECT_STRING | EXPECT_NULL },
  { "monitor", EXPECT_STRING | EXPECT_NULL },
  { "video", EXPECT_STRING | EXPECT_NULL },
  { "cage", EXPECT_STRING | EXPECT_NULL },
  { "motors", EXPECT_ARRAY },
  { "controllers", EXPECT_ARRAY },
  { "distance", EXPECT_STRING | EXPECT_NULL },
  { "batteryPlate", EXPECT_STRING | EXPECT_NULL },
  { "battery", EXPECT_STRING | EXPECT_NULL },
  { "batteryHotswap", EXPECT_STRING | EXPECT_NULL },
  { "powerSelection", EXPECT_OBJECT | EXPECT_NULL },
  { "diagramPositions", EXPECT_OBJECT | EXPECT_NULL },
  { "gearSelectors", EXPECT_OBJECT | EXPECT_NULL },
  { "gearListAndProjectRequirementsGenerated", EXPECT_BOOLEAN },
  { "projectHtml", EXPECT_STRING | EXPECT_NULL },
  { "gearList", EXPECT_STRING | EXPECT_OBJECT | EXPECT_NULL },
  { "ownedGearMarkers", EXPECT_ARRAY },
  { "projectInfo", EXPECT_OBJECT | EXPECT_NULL },
  { "feedback", EXPECT_ARRAY | EXPECT_OBJECT },
  { "autoGearRules", EXPECT_ARRAY },
  { "autoGearCoverage", EXPECT_OBJECT | EXPECT_NULL },
  { "contacts", EXPECT_ARRAY },
  { "metadata", EXPECT_OBJECT },
};

/* Backup data sections and their types. */
static const struct
{
  const char *key;
  Expect expect;
} backup_fields[] = {
  { "devices", EXPECT_OBJECT | EXPECT_NULL },
  { "setups", EXPECT_OBJECT },
  { "session", EXPECT_OBJECT | EXPECT_NULL },
  { "feedback", EXPECT_OBJECT | EXPECT_NULL },
  { "project", EXPECT_OBJECT | EXPECT_ARRAY },
  { "projects", EXPECT_OBJECT | EXPECT_ARRAY },
  { "favorites", EXPECT_OBJECT | EXPECT_NULL },
  { "contacts", EXPECT_ARRAY },
  { "ownGear", EXPECT_ARRAY },
  { "userProfile", EXPECT_OBJECT | EXPECT_NULL },
  { "autoGearRules", EXPECT_ARRAY },
  { "autoGearBackups", EXPECT_ARRAY },
  { "autoGearPresets", EXPECT_ARRAY },
  { "autoGearMonitorDefaults", EXPECT_OBJECT },
  { "fullBackupHistory", EXPECT_ARRAY },
  { "preferences", EXPECT_OBJECT | EXPECT_NULL },
  { "documentationTracker", EXPECT_OBJECT | EXPECT_NULL },
};

/* Root-level keys of legacy backups that hold planner data directly. */
static const char *const legacy_data_keys[] = {
  "setups", "project", "projects", "devices", "session", "feedback", "favorites", "contacts",
};

static const char *const settings_keys[] = {
  "settings", "localStorage", "storage", "storedSettings", "values", "entries",
};

static const char *const data_keys[] = { "data", "payload", "plannerData", "allData" };

/* Kinds */

/**
 * cps_planner_kind_to_string:
 *
 * Returns: the stable, untranslated identifier used in JSON output
 */
const char *
cps_planner_kind_to_string (CpsPlannerKind kind)
{
  switch (kind)
    {
    case CPS_PLANNER_KIND_FULL_BACKUP:
      return "full-backup";
    case CPS_PLANNER_KIND_PROJECT_BUNDLE:
      return "project-bundle";
    case CPS_PLANNER_KIND_AUTO_GEAR_RULES:
      return "auto-gear-rules";
    case CPS_PLANNER_KIND_AUTO_GEAR_PRESETS:
      return "auto-gear-presets";
    case CPS_PLANNER_KIND_VERSION_LOG:
      return "version-log";
    case CPS_PLANNER_KIND_DIAGNOSTICS_LOG:
      return "diagnostics-log";
    case CPS_PLANNER_KIND_UNKNOWN:
    default:
      return "unknown";
    }
}

/**
 * cps_planner_kind_to_label:
 *
 * Returns: the translated name of the kind, for people
 */
const char *
cps_planner_kind_to_label (CpsPlannerKind kind)
{
  switch (kind)
    {
    case CPS_PLANNER_KIND_FULL_BACKUP:
      return _("Full backup");
    case CPS_PLANNER_KIND_PROJECT_BUNDLE:
      return _("Project bundle");
    case CPS_PLANNER_KIND_AUTO_GEAR_RULES:
      return _("Auto-gear rules");
    case CPS_PLANNER_KIND_AUTO_GEAR_PRESETS:
      return _("Auto-gear presets");
    case CPS_PLANNER_KIND_VERSION_LOG:
      return _("Version comparison log");
    case CPS_PLANNER_KIND_DIAGNOSTICS_LOG:
      return _("Diagnostics log");
    case CPS_PLANNER_KIND_UNKNOWN:
    default:
      return _("Unknown");
    }
}

/* Helpers */

static const char *
json_type_name (const CpsJsonNode *node)
{
  return cps_json_type_to_string (cps_json_node_get_type (node));
}

static gboolean
is_empty (const CpsJsonNode *node)
{
  switch (cps_json_node_get_type (node))
    {
    case CPS_JSON_NULL:
      return TRUE;
    case CPS_JSON_OBJECT:
    case CPS_JSON_ARRAY:
    case CPS_JSON_STRING:
      return node->n == 0;
    default:
      return FALSE;
    }
}

static const char *
expect_to_string (Expect expect)
{
  if (expect & EXPECT_STRING)
    return _("a string");
  if (expect & EXPECT_ARRAY)
    return _("an array");
  if (expect & EXPECT_OBJECT)
    return _("an object");
  if (expect & EXPECT_BOOLEAN)
    return _("a boolean");
  return _("a number");
}

static gboolean
check_type (GPtrArray *findings, const char *parent_path, const char *key,
            const CpsJsonNode *node, Expect expect, CpsSeverity severity)
{
  g_autofree char *path = NULL;

  if (node == NULL || (expect & (1 << cps_json_node_get_type (node))))
    return TRUE;

  path = cps_json_path_append_key (parent_path, key, strlen (key));
  cps_findings_add (findings, severity, path,
                    _("“%s” should be %s but is %s; the planner cannot use this value. "
                      "Re-export it from the planner or correct it."),
                    key, expect_to_string (expect), json_type_name (node));
  return FALSE;
}

static void
check_project_fields (GPtrArray *findings, const char *path, const CpsJsonNode *object)
{
  const CpsJsonNode *info;

  for (guint i = 0; i < G_N_ELEMENTS (project_fields); i++)
    check_type (findings, path, project_fields[i].key,
                cps_json_object_get (object, project_fields[i].key), project_fields[i].expect,
                CPS_SEVERITY_WARNING);

  info = cps_json_object_get (object, "projectInfo");
  if (cps_json_node_get_type (info) == CPS_JSON_OBJECT)
    {
      g_autofree char *info_path = cps_json_path_append_key (path, "projectInfo", 11);
      check_type (findings, info_path, "people", cps_json_object_get (info, "people"),
                  EXPECT_ARRAY, CPS_SEVERITY_WARNING);
      check_type (findings, info_path, "projectName", cps_json_object_get (info, "projectName"),
                  EXPECT_STRING, CPS_SEVERITY_WARNING);
    }
}

static gboolean
is_iso8601 (const char *text)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_iso8601 (text, NULL);

  return time != NULL;
}

/* Returns the RFC 3339 UTC time with milliseconds for an ISO 8601 time. */
static char *
to_utc_millis (const char *iso)
{
  g_autoptr (GDateTime) time = NULL;
  g_autoptr (GDateTime) utc = NULL;
  g_autofree char *base = NULL;

  if (iso == NULL)
    return NULL;
  time = g_date_time_new_from_iso8601 (iso, NULL);
  if (time == NULL)
    return NULL;
  utc = g_date_time_to_utc (time);
  base = g_date_time_format (utc, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", base, g_date_time_get_microsecond (utc) / 1000);
}

/* File-level state */

static void
set_kind (CpsPlannerFile *self, CpsPlannerKind kind)
{
  self->kind = kind;
}

static void
take_string (char **field, const char *value)
{
  if (value != NULL && *field == NULL)
    *field = g_strdup (value);
}

static void
add_project (CpsPlannerFile *self, CpsPlannerProject *project)
{
  g_list_store_append (self->projects, project);
  g_hash_table_insert (self->projects_by_name, (gpointer) cps_planner_project_get_name (project),
                       project);
}

/* Auto-backups */

typedef struct
{
  gboolean before_delete;
  GDateTime *time;
  char *rest; /* what follows the timestamp: the project name, maybe with -copy-N */
} BackupName;

static void
backup_name_clear (BackupName *name)
{
  g_clear_pointer (&name->time, g_date_time_unref);
  g_clear_pointer (&name->rest, g_free);
}

static gboolean
parse_digits (const char **p, guint count, int *out)
{
  int value = 0;

  for (guint i = 0; i < count; i++)
    {
      if (!g_ascii_isdigit ((*p)[i]))
        return FALSE;
      value = value * 10 + ((*p)[i] - '0');
    }
  *p += count;
  *out = value;
  return TRUE;
}

/* auto-backup-[before-delete-]YYYY-MM-DD-HH-MM[-SS][-<rest>] */
static gboolean
parse_backup_name (const char *name, BackupName *out)
{
  const char *p;
  int year, month, day, hour, minute, second = 0;

  memset (out, 0, sizeof *out);
  if (!g_str_has_prefix (name, "auto-backup-"))
    return FALSE;
  p = name + strlen ("auto-backup-");
  if (g_str_has_prefix (p, "before-delete-"))
    {
      out->before_delete = TRUE;
      p += strlen ("before-delete-");
    }

  if (!parse_digits (&p, 4, &year) || *p++ != '-' || !parse_digits (&p, 2, &month) ||
      *p++ != '-' || !parse_digits (&p, 2, &day) || *p++ != '-' || !parse_digits (&p, 2, &hour) ||
      *p++ != '-' || !parse_digits (&p, 2, &minute))
    return FALSE;
  if (p[0] == '-' && g_ascii_isdigit (p[1]) && g_ascii_isdigit (p[2]) &&
      (p[3] == '-' || p[3] == '\0'))
    {
      p++;
      parse_digits (&p, 2, &second);
    }

  if (*p != '-' && *p != '\0')
    return FALSE;
  out->time = g_date_time_new_local (year, month, day, hour, minute, second);
  if (out->time == NULL)
    return FALSE;
  if (*p == '-')
    out->rest = g_strdup (p + 1);
  return TRUE;
}

/* The project an auto-backup belongs to: its rest, or its rest without a
 * trailing -copy-N the planner adds on clashes. */
static CpsPlannerProject *
find_backup_owner (CpsPlannerFile *self, const char *rest)
{
  CpsPlannerProject *owner;
  const char *copy;

  if (rest == NULL)
    return NULL;
  owner = cps_planner_file_find_project (self, rest);
  if (owner != NULL)
    return owner;

  copy = g_strrstr (rest, "-copy-");
  if (copy != NULL && copy[6] != '\0' && strspn (copy + 6, "0123456789") == strlen (copy + 6))
    {
      g_autofree char *base = g_strndup (rest, copy - rest);
      return cps_planner_file_find_project (self, base);
    }
  return NULL;
}

/* Full backups */

typedef struct
{
  const CpsJsonNode *node;
  char *path;
} Located;

static void
located_clear (Located *located)
{
  g_clear_pointer (&located->path, g_free);
}

/* Finds a data section the way the planner's restore merges them: the
 * first of data, payload, plannerData, allData that has it, then the root. */
static gboolean
find_data_section (const CpsJsonNode *root, const char *key, Located *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (data_keys); i++)
    {
      const CpsJsonNode *container = cps_json_object_get (root, data_keys[i]);
      const CpsJsonNode *value = cps_json_object_get (container, key);

      if (value != NULL)
        {
          g_autofree char *container_path =
            cps_json_path_append_key (NULL, data_keys[i], strlen (data_keys[i]));
          out->node = value;
          out->path = cps_json_path_append_key (container_path, key, strlen (key));
          return TRUE;
        }
    }

  {
    const CpsJsonNode *value = cps_json_object_get (root, key);
    if (value != NULL)
      {
        out->node = value;
        out->path = cps_json_path_append_key (NULL, key, strlen (key));
        return TRUE;
      }
  }
  return FALSE;
}

/* A map of name → entry from an object, or from the legacy array form
 * [{name, project}]. Returns a hash table of name → const CpsJsonNode*. */
static GHashTable *
collect_entries (GPtrArray *findings, const Located *section, const char *value_key)
{
  GHashTable *entries = g_hash_table_new (g_str_hash, g_str_equal);

  if (section->node == NULL)
    return entries;

  if (section->node->type == CPS_JSON_OBJECT)
    {
      for (guint i = 0; i < section->node->n; i++)
        {
          const CpsJsonMember *m = &section->node->v.members[i];
          if (m->key_len != strlen (m->key))
            {
              g_autofree char *path = cps_json_path_append_key (section->path, m->key,
                                                                m->key_len);
              cps_findings_add (findings, CPS_SEVERITY_ERROR, path,
                                _("A project name holds a NUL character; the project is "
                                  "skipped"));
              continue;
            }
          g_hash_table_insert (entries, (gpointer) m->key, (gpointer) &m->value);
        }
    }
  else if (section->node->type == CPS_JSON_ARRAY && value_key != NULL)
    {
      for (guint i = 0; i < section->node->n; i++)
        {
          const CpsJsonNode *item = &section->node->v.items[i];
          const char *name = cps_json_object_get_string (item, "name");
          const CpsJsonNode *value = cps_json_object_get (item, value_key);

          if (name == NULL || value == NULL)
            {
              g_autofree char *path = cps_json_path_append_index (section->path, i);
              cps_findings_add (findings, CPS_SEVERITY_WARNING, path,
                                _("This entry has no “name” or no “%s”; the planner skips it"),
                                value_key);
              continue;
            }
          g_hash_table_insert (entries, (gpointer) name, (gpointer) value);
        }
    }
  return entries;
}

static gint
find_member (const CpsJsonMember *members, guint n, const CpsJsonMember *key)
{
  for (guint i = 0; i < n; i++)
    if (members[i].key_len == key->key_len && memcmp (members[i].key, key->key, key->key_len) == 0)
      return i;
  return -1;
}

/* Looks @key up through @index (key → position + 1) when there is one, so
 * hostile entries with many thousands of keys cost linear time. Keys with an
 * embedded NUL are not indexed and fall back to a scan. */
static gint
find_merged (GHashTable *index, const CpsJsonMember *members, guint n, const CpsJsonMember *key)
{
  if (index != NULL && strlen (key->key) == key->key_len)
    return GPOINTER_TO_INT (g_hash_table_lookup (index, key->key)) - 1;
  return find_member (members, n, key);
}

/* Members the derived document writes itself; an entry's own member of
 * that name is kept aside so that no key appears twice. */
static gboolean
is_reserved_key (const CpsJsonMember *m)
{
  static const char *const reserved[] = { "setupName", "metadata", "x-cps-setup",
                                          "x-cps-project" };

  for (guint i = 0; i < G_N_ELEMENTS (reserved); i++)
    if (m->key_len == strlen (reserved[i]) && strcmp (m->key, reserved[i]) == 0)
      return TRUE;
  return FALSE;
}

static void
set_object_member (CpsJsonMember *member, CpsJsonDocument *doc, const char *key,
                   const CpsJsonMember *members, guint n)
{
  CpsJsonMember *copy = cps_json_document_alloc_members (doc, n);

  memcpy (copy, members, n * sizeof (CpsJsonMember));
  member->key = key;
  member->key_len = strlen (key);
  member->value.type = CPS_JSON_OBJECT;
  member->value.n = n;
  member->value.v.members = copy;
}

/* Builds the project document for @name from its setup and project entries
 * (docs/planner-derivation.md). Subtrees are shared with the backup. */
static CpsJsonDocument *
derive_document (CpsPlannerFile *self, const char *name, const CpsJsonNode *setup,
                 const CpsJsonNode *project)
{
  CpsJsonDocument *doc = cps_json_document_new_derived (self->document);
  guint setup_n = cps_json_node_get_type (setup) == CPS_JSON_OBJECT ? setup->n : 0;
  guint project_n = cps_json_node_get_type (project) == CPS_JSON_OBJECT ? project->n : 0;
  g_autofree CpsJsonMember *merged = g_new0 (CpsJsonMember, setup_n + project_n + 1);
  g_autofree CpsJsonMember *setup_kept = g_new0 (CpsJsonMember, setup_n + 1);
  g_autofree CpsJsonMember *project_kept = g_new0 (CpsJsonMember, project_n + 1);
  guint n = 0, n_setup = 0, n_setup_kept = 0, n_project_kept = 0, n_out = 0;
  g_autoptr (GHashTable) index = NULL;
  CpsJsonMember *members;
  CpsJsonMember *meta;
  CpsJsonNode root = { 0 };
  g_autofree char *exported_at = to_utc_millis (self->created_at);

  /* The setup's members first; a setupName or metadata of its own would
   * clash with the ones written below, so those are kept aside. */
  for (guint i = 0; i < setup_n; i++)
    {
      const CpsJsonMember *m = &setup->v.members[i];
      if (is_reserved_key (m))
        setup_kept[n_setup_kept++] = *m;
      else
        merged[n++] = *m;
    }
  n_setup = n;
  if (n_setup > 32 && project_n > 0)
    {
      index = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint i = 0; i < n_setup; i++)
        if (strlen (merged[i].key) == merged[i].key_len)
          g_hash_table_insert (index, (gpointer) merged[i].key, GINT_TO_POINTER (i + 1));
    }

  /* Then the project entry's: new keys are appended, differing values win
   * and the setup's value is kept under x-cps-setup. */
  for (guint i = 0; i < project_n; i++)
    {
      const CpsJsonMember *m = &project->v.members[i];
      gint existing;

      if (is_reserved_key (m))
        {
          project_kept[n_project_kept++] = *m;
          continue;
        }
      existing = find_merged (index, merged, n_setup, m);
      if (existing < 0)
        merged[n++] = *m;
      else if (!cps_json_node_equal (&merged[existing].value, &m->value))
        {
          setup_kept[n_setup_kept++] = merged[existing];
          merged[existing].value = m->value;
        }
    }

  members = cps_json_document_alloc_members (doc, n + 4);
  members[n_out].key = "setupName";
  members[n_out].key_len = 9;
  cps_json_node_init_string (&members[n_out].value, doc, name);
  n_out++;
  memcpy (members + n_out, merged, n * sizeof (CpsJsonMember));
  n_out += n;
  if (n_setup_kept > 0)
    set_object_member (&members[n_out++], doc, "x-cps-setup", setup_kept, n_setup_kept);
  if (n_project_kept > 0)
    set_object_member (&members[n_out++], doc, "x-cps-project", project_kept, n_project_kept);

  meta = cps_json_document_alloc_members (doc, 6);
  meta[0].key = "type";
  meta[0].key_len = 4;
  cps_json_node_init_string (&meta[0].value, doc, CPS_BUNDLE_TYPE);
  meta[1].key = "includesAutoGearRules";
  meta[1].key_len = 21;
  cps_json_node_init_boolean (&meta[1].value,
                              cps_json_object_get (project, "autoGearRules") != NULL ||
                                cps_json_object_get (setup, "autoGearRules") != NULL);
  meta[2].key = "includesOwnedGearMarkers";
  meta[2].key_len = 24;
  cps_json_node_init_boolean (&meta[2].value, FALSE);
  meta[3].key = "version";
  meta[3].key_len = 7;
  cps_json_node_init_string (&meta[3].value, doc, self->version ? self->version : "");
  meta[4].key = "exportedAt";
  meta[4].key_len = 10;
  cps_json_node_init_string (&meta[4].value, doc, exported_at ? exported_at : "");
  meta[5].key = "generator";
  meta[5].key_len = 9;
  cps_json_node_init_string (&meta[5].value, doc, "Camera Power Planner");

  members[n_out].key = "metadata";
  members[n_out].key_len = 8;
  members[n_out].value.type = CPS_JSON_OBJECT;
  members[n_out].value.n = 6;
  members[n_out].value.v.members = meta;
  n_out++;

  root.type = CPS_JSON_OBJECT;
  root.n = n_out;
  root.v.members = members;
  cps_json_document_set_root (doc, &root);
  return doc;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static CpsPlannerProject *
make_project (CpsPlannerFile *self, const char *name, const CpsJsonNode *setup,
              const char *setup_path, const CpsJsonNode *project, const char *project_path)
{
  g_autoptr (CpsJsonDocument) doc = derive_document (self, name, setup, project);
  CpsPlannerProject *result = cps_planner_project_new (name, doc, self->display_name);
  GPtrArray *findings = cps_planner_project_get_findings (result);

  if (setup != NULL && setup->type != CPS_JSON_OBJECT)
    cps_findings_add (findings, CPS_SEVERITY_ERROR, setup_path,
                      _("The setup should be an object but is %s; its device selections are "
                        "lost"),
                      json_type_name (setup));
  else if (setup != NULL)
    check_project_fields (findings, setup_path, setup);

  if (project != NULL && project->type != CPS_JSON_OBJECT)
    cps_findings_add (findings, CPS_SEVERITY_ERROR, project_path,
                      _("The project entry should be an object but is %s; its gear list and "
                        "project details are lost"),
                      json_type_name (project));
  else if (project != NULL)
    check_project_fields (findings, project_path, project);

  return result;
}

static void
analyse_full_backup (CpsPlannerFile *self, const CpsJsonNode *root)
{
  Located setups_section = { 0 }, projects_section = { 0 }, session = { 0 };
  g_autoptr (GHashTable) setups = NULL;
  g_autoptr (GHashTable) projects = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autoptr (GPtrArray) backups = g_ptr_array_new ();
  gboolean settings_empty = TRUE, data_empty = TRUE;
  const CpsJsonNode *diagnostics;

  set_kind (self, CPS_PLANNER_KIND_FULL_BACKUP);
  take_string (&self->version, cps_json_object_get_string (root, "version"));
  take_string (&self->version, cps_json_object_get_string (root, "appVersion"));
  take_string (&self->version, cps_json_object_get_string (root, "applicationVersion"));
  take_string (&self->created_at, cps_json_object_get_string (root, "generatedAt"));
  if (self->version == NULL)
    cps_findings_add (self->findings, CPS_SEVERITY_INFO, "$.version",
                      _("The backup does not say which planner version wrote it"));
  if (self->created_at != NULL && !is_iso8601 (self->created_at))
    cps_findings_add (self->findings, CPS_SEVERITY_WARNING, "$.generatedAt",
                      _("“generatedAt” is not a valid ISO 8601 time"));
  else if (self->created_at == NULL)
    cps_findings_add (self->findings, CPS_SEVERITY_INFO, "$.generatedAt",
                      _("The backup does not say when it was written"));

  for (guint i = 0; i < G_N_ELEMENTS (settings_keys); i++)
    {
      const CpsJsonNode *settings = cps_json_object_get (root, settings_keys[i]);
      if (settings == NULL)
        continue;
      if (settings->type == CPS_JSON_STRING || settings->type == CPS_JSON_OBJECT ||
          settings->type == CPS_JSON_ARRAY)
        settings_empty = settings_empty && is_empty (settings);
      else if (settings->type != CPS_JSON_NULL)
        {
          g_autofree char *path = cps_json_path_append_key (NULL, settings_keys[i],
                                                            strlen (settings_keys[i]));
          cps_findings_add (self->findings, CPS_SEVERITY_WARNING, path,
                            _("The settings should be an object but are %s; the planner "
                              "ignores them"),
                            json_type_name (settings));
        }
    }

  for (guint i = 0; i < G_N_ELEMENTS (data_keys); i++)
    {
      const CpsJsonNode *data = cps_json_object_get (root, data_keys[i]);
      if (data == NULL)
        continue;
      if (data->type != CPS_JSON_OBJECT)
        {
          g_autofree char *path = cps_json_path_append_key (NULL, data_keys[i],
                                                            strlen (data_keys[i]));
          cps_findings_add (self->findings, CPS_SEVERITY_ERROR, path,
                            _("The planner data should be an object but is %s; no projects "
                              "can be read from it"),
                            json_type_name (data));
          continue;
        }
      data_empty = data_empty && is_empty (data);
    }
  for (guint i = 0; i < G_N_ELEMENTS (legacy_data_keys); i++)
    if (!is_empty (cps_json_object_get (root, legacy_data_keys[i])))
      data_empty = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (backup_fields); i++)
    {
      Located section = { 0 };
      if (find_data_section (root, backup_fields[i].key, &section) &&
          !(backup_fields[i].expect & (1 << section.node->type)))
        cps_findings_add (self->findings, CPS_SEVERITY_WARNING, section.path,
                          _("“%s” should be %s but is %s; the planner ignores it on restore"),
                          backup_fields[i].key, expect_to_string (backup_fields[i].expect),
                          json_type_name (section.node));
      located_clear (&section);
    }

  find_data_section (root, "session", &session);
  if (settings_empty && data_empty && is_empty (session.node) &&
      is_empty (cps_json_object_get (root, "sessionStorage")))
    cps_findings_add (self->findings, CPS_SEVERITY_ERROR, NULL,
                      _("The backup holds no settings, no session and no data; the planner "
                        "refuses to restore it"));
  located_clear (&session);

  diagnostics = cps_json_object_get (root, "diagnostics");
  if (diagnostics != NULL && diagnostics->type != CPS_JSON_ARRAY)
    check_type (self->findings, NULL, "diagnostics", diagnostics, EXPECT_ARRAY,
                CPS_SEVERITY_WARNING);
  for (guint i = 0; diagnostics && diagnostics->type == CPS_JSON_ARRAY && i < diagnostics->n; i++)
    {
      const CpsJsonNode *entry = &diagnostics->v.items[i];
      const char *section = cps_json_object_get_string (entry, "section");
      const char *status = cps_json_object_get_string (entry, "status");
      const char *message = cps_json_object_get_string (entry, "message");
      g_autofree char *path = cps_json_path_append_index ("$.diagnostics", i);
      CpsSeverity severity = CPS_SEVERITY_INFO;

      if (section == NULL || status == NULL)
        {
          cps_findings_add (self->findings, CPS_SEVERITY_WARNING, path,
                            _("A diagnostics entry lacks its section or status"));
          continue;
        }
      if (g_str_equal (status, "error") || g_str_equal (status, "invalid") ||
          g_str_equal (status, "missing"))
        severity = CPS_SEVERITY_WARNING;
      if (message != NULL)
        cps_findings_add (self->findings, severity, path,
                          _("When writing this backup the planner reported section “%s” as "
                            "%s: %s"),
                          section, status, message);
      else
        cps_findings_add (self->findings, severity, path,
                          _("When writing this backup the planner reported section “%s” as %s"),
                          section, status);
    }

  /* Projects: the union of data.project (or its alias projects) and
   * data.setups, auto-backups set aside. */
  if (!find_data_section (root, "project", &projects_section))
    find_data_section (root, "projects", &projects_section);
  find_data_section (root, "setups", &setups_section);
  projects = collect_entries (self->findings, &projects_section, "project");
  setups = collect_entries (self->findings, &setups_section, NULL);

  {
    GHashTableIter iter;
    gpointer key;
    g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

    g_hash_table_iter_init (&iter, projects);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      if (g_hash_table_add (seen, key))
        g_ptr_array_add (g_str_has_prefix (key, "auto-backup-") ? backups : names, key);
    g_hash_table_iter_init (&iter, setups);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      if (g_hash_table_add (seen, key))
        g_ptr_array_add (g_str_has_prefix (key, "auto-backup-") ? backups : names, key);
  }
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_sort (backups, compare_names);

  for (guint pass = 0; pass < 2; pass++)
    {
      GPtrArray *list = pass == 0 ? names : backups;

      for (guint i = 0; i < list->len; i++)
        {
          const char *name = g_ptr_array_index (list, i);
          const CpsJsonNode *setup = g_hash_table_lookup (setups, name);
          const CpsJsonNode *project = g_hash_table_lookup (projects, name);
          g_autofree char *setup_path =
            setup ? cps_json_path_append_key (setups_section.path, name, strlen (name)) : NULL;
          g_autofree char *project_path =
            project ? cps_json_path_append_key (projects_section.path, name, strlen (name))
                    : NULL;
          g_autoptr (CpsPlannerProject) item =
            make_project (self, name, setup, setup_path, project, project_path);
          BackupName backup_name;

          if (pass == 0)
            {
              if (setup == NULL)
                cps_planner_project_add_finding (
                  item, CPS_SEVERITY_INFO, project_path,
                  _("The project has no saved setup; its device selections are empty"));
              else if (project == NULL)
                cps_planner_project_add_finding (
                  item, CPS_SEVERITY_INFO, setup_path,
                  _("The setup has no project entry; it has no gear list or project details"));
              add_project (self, item);
              continue;
            }

          if (parse_backup_name (name, &backup_name))
            {
              CpsPlannerProject *owner = find_backup_owner (self, backup_name.rest);

              _cps_planner_project_set_backup_time (item, backup_name.time);
              if (owner != NULL)
                _cps_planner_project_add_auto_backup (owner, item);
              else
                g_list_store_append (self->orphan_backups, item);
              backup_name_clear (&backup_name);
            }
          else
            {
              cps_planner_project_add_finding (
                item, CPS_SEVERITY_INFO, project_path ? project_path : setup_path,
                _("The name looks like an auto-backup but has no valid time stamp"));
              g_list_store_append (self->orphan_backups, item);
            }
        }
    }

  located_clear (&setups_section);
  located_clear (&projects_section);
}

/* Project bundles */

static CpsJsonDocument *
expand_aliases (CpsPlannerFile *self, const CpsJsonNode *root, gboolean *expanded)
{
  CpsJsonDocument *doc;
  CpsJsonMember *members;
  CpsJsonNode new_root = { 0 };

  *expanded = FALSE;
  for (guint i = 0; i < root->n && !*expanded; i++)
    if (root->v.members[i].key_len == 1)
      for (guint a = 0; a < G_N_ELEMENTS (bundle_aliases); a++)
        if (root->v.members[i].key[0] == bundle_aliases[a].alias &&
            cps_json_object_get (root, bundle_aliases[a].key) == NULL)
          *expanded = TRUE;
  if (!*expanded)
    return cps_json_document_ref (self->document);

  doc = cps_json_document_new_derived (self->document);
  members = cps_json_document_alloc_members (doc, root->n);
  for (guint i = 0; i < root->n; i++)
    {
      members[i] = root->v.members[i];
      if (members[i].key_len != 1)
        continue;
      for (guint a = 0; a < G_N_ELEMENTS (bundle_aliases); a++)
        if (members[i].key[0] == bundle_aliases[a].alias &&
            cps_json_object_get (root, bundle_aliases[a].key) == NULL)
          {
            members[i].key = bundle_aliases[a].key;
            members[i].key_len = strlen (bundle_aliases[a].key);
            break;
          }
    }
  new_root.type = CPS_JSON_OBJECT;
  new_root.n = root->n;
  new_root.v.members = members;
  cps_json_document_set_root (doc, &new_root);
  return doc;
}

static void
analyse_bundle (CpsPlannerFile *self, const CpsJsonNode *root)
{
  gboolean expanded;
  g_autoptr (CpsJsonDocument) doc = expand_aliases (self, root, &expanded);
  const CpsJsonNode *bundle = cps_json_document_get_root (doc);
  const CpsJsonNode *metadata = cps_json_object_get (bundle, "metadata");
  const char *name = cps_json_object_get_string (bundle, "setupName");
  g_autoptr (CpsPlannerProject) project = NULL;
  GPtrArray *findings;

  set_kind (self, CPS_PLANNER_KIND_PROJECT_BUNDLE);
  take_string (&self->version, cps_json_object_get_string (metadata, "version"));
  take_string (&self->created_at, cps_json_object_get_string (metadata, "exportedAt"));

  if (name == NULL || *name == '\0')
    name = cps_json_object_get_string (cps_json_object_get (bundle, "projectInfo"),
                                       "projectName");
  if (name == NULL || *name == '\0')
    name = self->display_name;

  project = cps_planner_project_new (name, doc, self->display_name);
  findings = cps_planner_project_get_findings (project);
  if (expanded)
    cps_findings_add (findings, CPS_SEVERITY_INFO, NULL,
                      _("The bundle uses the planner’s one-letter short keys; they were read "
                        "as the full names"));
  if (cps_json_object_get_string (bundle, "setupName") == NULL)
    cps_findings_add (findings, CPS_SEVERITY_WARNING, "$.setupName",
                      _("The bundle has no project name (“setupName”); the planner asks for "
                        "one on import"));
  if (metadata == NULL)
    cps_findings_add (findings, CPS_SEVERITY_WARNING, "$.metadata",
                      _("The bundle has no “metadata”; the planner still imports it, but "
                        "where it came from is unknown"));
  else if (metadata->type == CPS_JSON_OBJECT &&
           g_strcmp0 (cps_json_object_get_string (metadata, "type"), CPS_BUNDLE_TYPE) != 0)
    cps_findings_add (findings, CPS_SEVERITY_WARNING, "$.metadata.type",
                      _("The bundle’s type is not “%s”"), CPS_BUNDLE_TYPE);
  check_project_fields (findings, NULL, bundle);

  add_project (self, project);
}

/* Other exports */

static void
check_array_of_objects (GPtrArray *findings, const CpsJsonNode *root, const char *key,
                        CpsSeverity severity, const char *what)
{
  const CpsJsonNode *list = cps_json_object_get (root, key);
  g_autofree char *path = cps_json_path_append_key (NULL, key, strlen (key));

  if (list == NULL)
    {
      cps_findings_add (findings, severity, path, _("The file has no “%s” list of %s"), key,
                        what);
      return;
    }
  if (!check_type (findings, NULL, key, list, EXPECT_ARRAY, severity))
    return;
  for (guint i = 0; i < list->n; i++)
    if (list->v.items[i].type != CPS_JSON_OBJECT)
      {
        g_autofree char *item_path = cps_json_path_append_index (path, i);
        cps_findings_add (findings, CPS_SEVERITY_WARNING, item_path,
                          _("Each entry should be an object but this one is %s; the planner "
                            "skips it"),
                          json_type_name (&list->v.items[i]));
      }
}

static void
analyse_rules (CpsPlannerFile *self, const CpsJsonNode *root)
{
  const CpsJsonNode *rules = cps_json_object_get (root, "rules");

  set_kind (self, CPS_PLANNER_KIND_AUTO_GEAR_RULES);
  take_string (&self->version, cps_json_object_get_string (root, "version"));
  take_string (&self->created_at, cps_json_object_get_string (root, "createdAt"));
  check_array_of_objects (self->findings, root, "rules", CPS_SEVERITY_ERROR, _("rules"));
  for (guint i = 0; cps_json_node_get_type (rules) == CPS_JSON_ARRAY && i < rules->n; i++)
    {
      const CpsJsonNode *rule = &rules->v.items[i];
      g_autofree char *path = cps_json_path_append_index ("$.rules", i);

      if (rule->type == CPS_JSON_OBJECT && cps_json_object_get_string (rule, "id") == NULL)
        cps_findings_add (self->findings, CPS_SEVERITY_WARNING, path,
                          _("The rule has no “id”; the planner gives it a new one on import"));
    }
  check_type (self->findings, NULL, "monitorDefaults",
              cps_json_object_get (root, "monitorDefaults"), EXPECT_OBJECT, CPS_SEVERITY_WARNING);
}

static void
analyse_presets (CpsPlannerFile *self, const CpsJsonNode *root)
{
  set_kind (self, CPS_PLANNER_KIND_AUTO_GEAR_PRESETS);
  take_string (&self->version, cps_json_object_get_string (root, "version"));
  take_string (&self->created_at, cps_json_object_get_string (root, "createdAt"));
  check_array_of_objects (self->findings, root, "presets", CPS_SEVERITY_ERROR, _("presets"));
}

static void
analyse_version_log (CpsPlannerFile *self, const CpsJsonNode *root)
{
  const CpsJsonNode *differences = cps_json_object_get (root, "differences");
  const CpsJsonNode *summary = cps_json_object_get (root, "summary");
  const CpsJsonNode *total = cps_json_object_get (summary, "totalDifferences");

  set_kind (self, CPS_PLANNER_KIND_VERSION_LOG);
  take_string (&self->version, cps_json_object_get_string (root, "appVersion"));
  take_string (&self->created_at, cps_json_object_get_string (root, "createdAt"));
  check_array_of_objects (self->findings, root, "differences", CPS_SEVERITY_ERROR,
                          _("differences"));
  check_type (self->findings, NULL, "baseline", cps_json_object_get (root, "baseline"),
              EXPECT_OBJECT, CPS_SEVERITY_WARNING);
  check_type (self->findings, NULL, "comparison", cps_json_object_get (root, "comparison"),
              EXPECT_OBJECT, CPS_SEVERITY_WARNING);
  if (cps_json_node_get_type (differences) == CPS_JSON_ARRAY &&
      cps_json_node_get_type (total) == CPS_JSON_NUMBER && total->v.number != differences->n)
    cps_findings_add (self->findings, CPS_SEVERITY_WARNING, "$.summary.totalDifferences",
                      _("The summary counts %g differences but the log lists %u"),
                      total->v.number, differences->n);
}

static void
analyse_diagnostics_log (CpsPlannerFile *self, const CpsJsonNode *root)
{
  const CpsJsonNode *history = cps_json_object_get (root, "history");
  const CpsJsonNode *length = cps_json_object_get (root, "historyLength");

  set_kind (self, CPS_PLANNER_KIND_DIAGNOSTICS_LOG);
  take_string (&self->version, cps_json_object_get_string (root, "appVersion"));
  take_string (&self->created_at, cps_json_object_get_string (root, "exportedAt"));
  check_array_of_objects (self->findings, root, "history", CPS_SEVERITY_ERROR,
                          _("log entries"));
  if (cps_json_node_get_type (history) == CPS_JSON_ARRAY &&
      cps_json_node_get_type (length) == CPS_JSON_NUMBER && length->v.number != history->n)
    cps_findings_add (self->findings, CPS_SEVERITY_INFO, "$.historyLength",
                      _("The log says it holds %g entries but lists %u; the planner exports "
                        "only the entries matching its filters"),
                      length->v.number, history->n);
}

static gboolean
looks_like_bundle (const CpsJsonNode *root)
{
  const CpsJsonNode *metadata = cps_json_object_get (root, "metadata");

  if (metadata == NULL)
    metadata = cps_json_object_get (root, "t");
  if (g_strcmp0 (cps_json_object_get_string (metadata, "type"), CPS_BUNDLE_TYPE) == 0)
    return TRUE;
  return cps_json_object_get (root, "setupName") != NULL ||
         cps_json_node_get_type (cps_json_object_get (root, "s")) == CPS_JSON_STRING;
}

static gboolean
looks_like_backup (const CpsJsonNode *root)
{
  for (guint i = 0; i < G_N_ELEMENTS (data_keys); i++)
    if (cps_json_object_get (root, data_keys[i]) != NULL)
      return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (legacy_data_keys); i++)
    if (cps_json_object_get (root, legacy_data_keys[i]) != NULL)
      return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (settings_keys); i++)
    if (cps_json_object_get (root, settings_keys[i]) != NULL)
      return TRUE;
  return cps_json_object_get (root, "generatedAt") != NULL;
}

static void
analyse (CpsPlannerFile *self, char *data, gsize length, GDestroyNotify free_data)
{
  g_autoptr (GError) error = NULL;
  const CpsJsonNode *root;
  const char *type;

  /* Hashed before parsing, which rewrites strings in place, so the checksum
   * is of exactly the bytes that were analysed. */
  self->size = length;
  self->checksum = cps_checksum_bytes (data, length);

  self->document = cps_json_document_parse (data, length, free_data, self->findings, &error);
  if (self->document == NULL)
    return;

  root = cps_json_document_get_root (self->document);
  if (root->type != CPS_JSON_OBJECT)
    {
      cps_findings_add (self->findings, CPS_SEVERITY_ERROR, "$",
                        _("The file holds %s, but every planner export is a JSON object"),
                        json_type_name (root));
      return;
    }

  type = cps_json_object_get_string (root, "type");
  if (g_strcmp0 (type, "camera-power-planner/auto-gear-rules") == 0)
    analyse_rules (self, root);
  else if (g_strcmp0 (type, "camera-power-planner/auto-gear-presets") == 0)
    analyse_presets (self, root);
  else if (g_strcmp0 (type, "cine-power-planner-version-log") == 0)
    analyse_version_log (self, root);
  else if (looks_like_bundle (root))
    analyse_bundle (self, root);
  else if (cps_json_object_get (root, "history") != NULL &&
           (cps_json_object_get (root, "exportedAt") != NULL ||
            cps_json_object_get (root, "historyLength") != NULL))
    analyse_diagnostics_log (self, root);
  else if (looks_like_backup (root))
    analyse_full_backup (self, root);
  else if (type != NULL)
    cps_findings_add (self->findings, CPS_SEVERITY_ERROR, "$.type",
                      _("The file is JSON of type “%s”, which the planner does not write"),
                      type);
  else
    cps_findings_add (self->findings, CPS_SEVERITY_ERROR, "$",
                      _("The file is JSON, but not a backup, project bundle, rules, version "
                        "log or diagnostics log written by the planner"));
}

/* GObject */

static void
cps_planner_file_finalize (GObject *object)
{
  CpsPlannerFile *self = CPS_PLANNER_FILE (object);

  g_clear_object (&self->file);
  g_clear_pointer (&self->display_name, g_free);
  g_clear_pointer (&self->version, g_free);
  g_clear_pointer (&self->created_at, g_free);
  g_clear_pointer (&self->checksum, g_free);
  g_clear_pointer (&self->projects_by_name, g_hash_table_unref);
  g_clear_object (&self->projects);
  g_clear_object (&self->orphan_backups);
  g_clear_pointer (&self->document, cps_json_document_unref);
  g_clear_pointer (&self->findings, g_ptr_array_unref);

  G_OBJECT_CLASS (cps_planner_file_parent_class)->finalize (object);
}

static void
cps_planner_file_get_property (GObject *object, guint prop_id, GValue *value,
                               GParamSpec *pspec)
{
  CpsPlannerFile *self = CPS_PLANNER_FILE (object);

  switch (prop_id)
    {
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;
    case PROP_KIND:
      g_value_set_int (value, self->kind);
      break;
    case PROP_CHECKSUM:
      g_value_set_string (value, self->checksum);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cps_planner_file_class_init (CpsPlannerFileClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = cps_planner_file_finalize;
  object_class->get_property = cps_planner_file_get_property;

  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_KIND] = g_param_spec_int ("kind", NULL, NULL, 0, G_MAXINT, 0,
                                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CHECKSUM] = g_param_spec_string ("checksum", NULL, NULL, NULL,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cps_planner_file_init (CpsPlannerFile *self)
{
  self->projects = g_list_store_new (CPS_TYPE_PLANNER_PROJECT);
  self->projects_by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->orphan_backups = g_list_store_new (CPS_TYPE_PLANNER_PROJECT);
  self->findings = cps_findings_new ();
}

/* Loading */

static void
set_read_error (GError **error, const GError *cause, const char *name)
{
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _("“%s” does not exist; check the file name and folder"), name);
  else if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 _("You do not have permission to read “%s”; ask its owner or copy it "
                   "somewhere you can read"),
                 name);
  else
    g_set_error (error, cause->domain, cause->code, _("Cannot read “%s”: %s"), name,
                 cause->message);
}

/**
 * cps_planner_file_load:
 * @file: the file to read
 * @cancellable: (nullable): a cancellable
 *
 * Reads and analyses @file. Damage inside the file is reported as findings
 * (see cps_planner_file_get_findings()); @error is set only when the file
 * cannot be read at all.
 *
 * Returns: (transfer full) (nullable): the analysed file, or %NULL on error
 */
CpsPlannerFile *
cps_planner_file_load (GFile *file, GCancellable *cancellable, GError **error)
{
  g_autoptr (CpsPlannerFile) self = NULL;
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *name = NULL;
  char *data = NULL;
  gsize length = 0;
  guint64 size;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  name = g_file_get_parse_name (file);
  info = g_file_query_info (file,
                            G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_SIZE ","
                            G_FILE_ATTRIBUTE_STANDARD_DISPLAY_NAME,
                            G_FILE_QUERY_INFO_NONE, cancellable, &local_error);
  if (info == NULL)
    {
      set_read_error (error, local_error, name);
      return NULL;
    }
  if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY,
                   _("“%s” is a folder, not a planner file; open the JSON files inside it"),
                   name);
      return NULL;
    }
  if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   _("“%s” is not a regular file"), name);
      return NULL;
    }
  size = g_file_info_get_size (info);
  if (size > CPS_PLANNER_MAX_FILE_SIZE)
    {
      g_autofree char *limit = g_format_size (CPS_PLANNER_MAX_FILE_SIZE);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   _("“%s” is larger than %s, far more than any planner export; it was not "
                     "read"),
                   name, limit);
      return NULL;
    }

  self = g_object_new (CPS_TYPE_PLANNER_FILE, NULL);
  self->file = g_object_ref (file);
  self->display_name = g_strdup (g_file_info_get_display_name (info));

  if (!g_file_load_contents (file, cancellable, &data, &length, NULL, &local_error))
    {
      set_read_error (error, local_error, name);
      return NULL;
    }

  analyse (self, data, length, g_free);
  return g_steal_pointer (&self);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  CpsPlannerFile *file = cps_planner_file_load (task_data, cancellable, &error);

  if (file == NULL)
    g_task_return_error (task, error);
  else if (g_task_return_error_if_cancelled (task))
    g_object_unref (file);
  else
    g_task_return_pointer (task, file, g_object_unref);
}

/**
 * cps_planner_file_load_async:
 *
 * Reads and analyses @file in a worker thread.
 */
void
cps_planner_file_load_async (GFile *file, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, cps_planner_file_load_async);
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_task_run_in_thread (task, load_thread);
}

/**
 * cps_planner_file_load_finish:
 *
 * Returns: (transfer full) (nullable): the analysed file
 */
CpsPlannerFile *
cps_planner_file_load_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * cps_planner_file_new_from_data:
 * @display_name: a name to show for the data
 * @data: the bytes; copied
 *
 * Returns: (transfer full): the analysed data
 */
CpsPlannerFile *
cps_planner_file_new_from_data (const char *display_name, const char *data, gsize length)
{
  CpsPlannerFile *self = g_object_new (CPS_TYPE_PLANNER_FILE, NULL);
  char *copy = g_malloc (length + 1);

  memcpy (copy, data, length);
  copy[length] = '\0';
  self->display_name = g_strdup (display_name);
  analyse (self, copy, length, g_free);
  return self;
}

/* Accessors */

/**
 * cps_planner_file_get_file:
 *
 * Returns: (transfer none) (nullable): the file, if it was loaded from one
 */
GFile *
cps_planner_file_get_file (CpsPlannerFile *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_FILE (self), NULL);
  return self->file;
}

const char *
cps_planner_file_get_display_name (CpsPlannerFile *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_FILE (self), NULL);
  return self->display_name;
}

CpsPlannerKind
cps_planner_file_get_kind (CpsPlannerFile *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_FILE (self), CPS_PLANNER_KIND_UNKNOWN);
  return self->kind;
}

/**
 * cps_planner_file_get_version:
 *
 * Returns: (nullable): the planner version that wrote the file
 */
const char *
cps_planner_file_get_version (CpsPlannerFile *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_FILE (self), NULL);
  return self->version;
}

/**
 * cps_planner_file_get_created_at:
 *
 * Returns: (nullable): when the file was written, as the file says
 */
const char *
cps_planner_file_get_created_at (CpsPlannerFile *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_FILE (self), NULL);
  return self->created_at;
}

/**
 * cps_planner_file_get_checksum:
 *
 * Returns: the `sha256:` checksum of the file's bytes
 */
const char *
cps_planner_file_get_checksum (CpsPlannerFile *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_FILE (self), NULL);
  return self->checksum;
}

guint64
cps_planner_file_get_size (CpsPlannerFile *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_FILE (self), 0);
  return self->size;
}

/**
 * cps_planner_file_get_document:
 *
 * Returns: (transfer none) (nullable): the parsed JSON, or %NULL if it did not parse
 */
CpsJsonDocument *
cps_planner_file_get_document (CpsPlannerFile *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_FILE (self), NULL);
  return self->document;
}

/**
 * cps_planner_file_get_projects:
 *
 * Returns: (transfer none): the projects in the file, by name
 */
GListModel *
cps_planner_file_get_projects (CpsPlannerFile *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_FILE (self), NULL);
  return G_LIST_MODEL (self->projects);
}

/**
 * cps_planner_file_get_orphan_backups:
 *
 * Returns: (transfer none): auto-backups whose project is not in the file
 */
GListModel *
cps_planner_file_get_orphan_backups (CpsPlannerFile *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_FILE (self), NULL);
  return G_LIST_MODEL (self->orphan_backups);
}

/**
 * cps_planner_file_get_findings:
 *
 * Returns: (transfer none) (element-type CpsFinding): problems of the file
 *   itself; each project has its own (cps_planner_project_get_findings())
 */
GPtrArray *
cps_planner_file_get_findings (CpsPlannerFile *self)
{
  g_return_val_if_fail (CPS_IS_PLANNER_FILE (self), NULL);
  return self->findings;
}

/**
 * cps_planner_file_get_status:
 *
 * Returns: the worst severity among the file's findings and its projects'
 */
CpsSeverity
cps_planner_file_get_status (CpsPlannerFile *self)
{
  CpsSeverity worst;
  guint n;

  g_return_val_if_fail (CPS_IS_PLANNER_FILE (self), CPS_SEVERITY_ERROR);

  worst = cps_findings_worst (self->findings);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->projects));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CpsPlannerProject) project = g_list_model_get_item (G_LIST_MODEL (self->projects),
                                                                    i);
      worst = MAX (worst, cps_planner_project_get_status (project));
    }
  return worst;
}

/**
 * cps_planner_file_find_project:
 *
 * Returns: (transfer none) (nullable): the project called @name
 */
CpsPlannerProject *
cps_planner_file_find_project (CpsPlannerFile *self, const char *name)
{
  g_return_val_if_fail (CPS_IS_PLANNER_FILE (self), NULL);

  return name != NULL ? g_hash_table_lookup (self->projects_by_name, name) : NULL;
}
