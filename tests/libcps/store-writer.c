/* store-writer.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The writer that test-store-crash kills: it adds signed revisions to a store
 * for ever, one at a time or in batches inside cps_store_begin()/commit(),
 * with forks, merges and now and then a snapshot. After each transaction's
 * commit has returned, it prints `committed <id>` for every revision of that
 * transaction, and flushes, so that whatever it printed must survive a
 * SIGKILL at any moment. It prints `ready` once the store is open.
 *
 *   store-writer STORE SEED [COUNT]
 */

#define G_LOG_DOMAIN "store-writer"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cps.h"
#include "cps-revision.h"
#include "cps-store.h"

static const char *const projects[] = {
  "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
  "11111111-2222-4333-8444-555555555555",
  "22222222-3333-4444-8555-666666666666",
  "33333333-4444-4555-8666-777777777777",
};

static CpsDeviceKey *keys[2];

static void
die (const char *what, GError *error)
{
  fprintf (stderr, "store-writer: %s: %s\n", what, error ? error->message : "failed");
  exit (1);
}

static CpsDeviceKey *
key_with_seed (const char *device_id, guint8 fill)
{
  guint8 seed[32];

  memset (seed, fill, sizeof seed);
  return cps_device_key_new_from_seed (device_id, seed);
}

static void
set_up (CpsStore *store)
{
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (!cps_store_add_device (store, cps_device_key_get_device_id (keys[i]),
                               cps_device_key_get_public_key (keys[i]), "writer", &error))
      die ("add device", error);

  for (guint i = 0; i < G_N_ELEMENTS (projects); i++)
    {
      g_autoptr (CpsStoreProject) project = cps_store_get_project (store, projects[i], &error);
      g_autofree char *name = NULL;

      if (project != NULL)
        continue;
      if (!g_error_matches (error, CPS_STORE_ERROR, CPS_STORE_ERROR_NOT_FOUND))
        die ("find project", error);
      g_clear_error (&error);
      name = g_strdup_printf ("Crash test %u", i);
      if (!cps_store_add_project (store, projects[i], name, &error))
        die ("add project", error);
    }
}

/* A planner-like document of 0.5–8 KB. */
static CpsJsonDocument *
make_document (GRand *rand, guint64 serial)
{
  g_autoptr (GString) json = g_string_new (NULL);
  guint size = g_rand_int_range (rand, 512, 8 * 1024);
  g_autoptr (GError) error = NULL;
  CpsJsonDocument *doc;

  g_string_append_printf (json,
                          "{\"metadata\":{\"type\":\"camera-power-planner/project-bundle\"},"
                          "\"project\":{\"serial\":%" G_GUINT64_FORMAT ",\"gearList\":\"",
                          serial);
  while (json->len < size)
    g_string_append_printf (json, "<li>%08x Bebob V150micro</li>", g_rand_int (rand));
  g_string_append (json, "\"}}");
  doc = cps_json_document_parse_copy (json->str, json->len, NULL, &error);
  if (doc == NULL)
    die ("document", error);
  return doc;
}

/* The next revision of a random project: on all its heads (a merge when
 * there are several), or now and then beside its head, making a fork. */
static CpsRevision *
make_next (CpsStore *store, GRand *rand, guint64 serial)
{
  const char *project_id = projects[g_rand_int_range (rand, 0, G_N_ELEMENTS (projects))];
  CpsDeviceKey *key = keys[g_rand_int_range (rand, 0, G_N_ELEMENTS (keys))];
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) heads = cps_store_get_heads (store, project_id, &error);
  g_autoptr (GPtrArray) parents = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (CpsJsonDocument) doc = make_document (rand, serial);
  CpsRevision *revision;

  if (heads == NULL)
    die ("heads", error);
  if (heads->len == 1 && g_rand_int_range (rand, 0, 100) < 15)
    {
      /* A sibling of the head: the same parents. */
      CpsRevision *head = g_ptr_array_index (heads, 0);
      const char *const *ids = cps_revision_get_parents (head);

      for (guint i = 0; ids[i] != NULL; i++)
        {
          CpsRevision *parent = cps_store_get_revision (store, ids[i], &error);
          if (parent == NULL)
            die ("parent", error);
          g_ptr_array_add (parents, parent);
        }
    }
  else
    for (guint i = 0; i < heads->len; i++)
      g_ptr_array_add (parents, g_object_ref (g_ptr_array_index (heads, i)));

  revision = cps_revision_new_signed (project_id, (CpsRevision *const *) parents->pdata,
                                      parents->len, key, NULL, cps_json_document_get_root (doc),
                                      FALSE, &error);
  if (revision == NULL)
    die ("sign", error);
  return revision;
}

static void
report (GPtrArray *ids)
{
  for (guint i = 0; i < ids->len; i++)
    fprintf (stdout, "committed %s\n", (const char *) g_ptr_array_index (ids, i));
  fflush (stdout);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpsStore) store = NULL;
  g_autoptr (GRand) rand = NULL;
  guint64 count = G_MAXUINT64;
  guint64 serial = 0;

  if (argc < 3)
    {
      fprintf (stderr, "usage: store-writer STORE SEED [COUNT]\n");
      return 2;
    }
  rand = g_rand_new_with_seed ((guint32) g_ascii_strtoull (argv[2], NULL, 10));
  if (argc > 3)
    count = g_ascii_strtoull (argv[3], NULL, 10);
  keys[0] = key_with_seed ("0a1b2c3d-0000-4000-8000-00000000000a", 1);
  keys[1] = key_with_seed ("0a1b2c3d-0000-4000-8000-00000000000b", 2);

  store = cps_store_open (argv[1], &error);
  if (store == NULL)
    die ("open", error);
  cps_store_set_snapshot_limit (store, 3);
  set_up (store);
  fprintf (stdout, "ready\n");
  fflush (stdout);
  serial = (guint64) g_rand_int (rand) << 20;

  for (guint64 n = 0; n < count; n++)
    {
      g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
      int what = g_rand_int_range (rand, 0, 100);

      if (what < 2)
        {
          g_autoptr (CpsSnapshot) snapshot = cps_store_snapshot (store, "crash-test", &error);
          if (snapshot == NULL)
            die ("snapshot", error);
          fprintf (stdout, "snapshot %s\n", snapshot->path);
          fflush (stdout);
        }
      else if (what < 30)
        {
          guint batch = g_rand_int_range (rand, 2, 7);

          if (!cps_store_begin (store, &error))
            die ("begin", error);
          for (guint i = 0; i < batch; i++)
            {
              g_autoptr (CpsRevision) revision = make_next (store, rand, serial++);
              if (!cps_store_add_revision (store, revision, NULL, &error))
                die ("add in batch", error);
              g_ptr_array_add (ids, g_strdup (cps_revision_get_id (revision)));
            }
          if (!cps_store_commit (store, &error))
            die ("commit", error);
          report (ids);
        }
      else
        {
          g_autoptr (CpsRevision) revision = make_next (store, rand, serial++);
          if (!cps_store_add_revision (store, revision, NULL, &error))
            die ("add", error);
          g_ptr_array_add (ids, g_strdup (cps_revision_get_id (revision)));
          report (ids);
        }
    }

  g_clear_object (&keys[0]);
  g_clear_object (&keys[1]);
  return 0;
}
