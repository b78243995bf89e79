/* server.c — bench-server
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * cps-server under load, over real HTTP/1.1 on loopback, at 1, 8 and 32
 * concurrent clients (one keep-alive connection and one device each):
 *
 *   push    batches of 100 signed revisions of ~2 KB documents, each batch
 *           verified and committed durably before its answer;
 *   single  one revision per push: round-trip latency p50/p99;
 *   pull    GET /v1/changes?limit=500 over everything stored, the feed
 *           shared between the readers;
 *   health  GET /v1/health under the same concurrency: the framework's
 *           ceiling (routing, a worker thread, one cheap read, the answer).
 *
 * In the same run, in this process, the raw floor: the same pre-signed
 * revisions parsed, Ed25519-verified (cps_revision_verify()) and inserted with
 * the server's own SQLite storage (cps_storage_revision_insert()) into a fresh
 * database, in transactions of 100 with synchronous=FULL — once on one thread
 * and once with the parsing and verifying spread over every core, as the
 * server does. All revisions are signed before anything is timed: signing is
 * the client's cost, not the server's.
 *
 * The server is `cps-server serve` in a temporary data directory with its
 * default number of workers. After the pushes (100,000 revisions by default)
 * and again at the end, the server's VmRSS and VmHWM are read from /proc.
 * Every phase reports the CPU time the server and this process used, so that
 * it is visible when the client, which shares the cores, limits a figure.
 *
 *   bench-server [--server PATH] [--levels 1,8,32] [--stored N] [--singles N]
 *                [--health N] [--client raw|soup] [--keep] [--server-arg ARG …]
 *                [--perf PHASE:CLIENTS [--perf-output FILE]]
 */

#define G_LOG_DOMAIN "bench-server"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "cps-clock.h"
#include "cps-device-key.h"
#include "cps-jcs.h"
#include "cps-request.h"
#include "cps-revision.h"
#include "cps-storage.h"
#include "server-fixture.h"
#include "cps-test-util.h"

#define TARGET_PUSH_PER_S 17000.0
#define TARGET_PULL_PER_S 25000.0
#define TARGET_SINGLE_P99_MS 2.0
#define TARGET_RSS_MIB 64.0

#define BATCH_SIZE 100
#define PAGE_SIZE 500
#define DOCUMENT_BYTES 2048
#define MAX_CLIENTS 256
#define PASSWORD "a long bench passphrase for the crew account"

/* ----- failing ---------------------------------------------------------------------------- */

static CpsTestServer *the_server;
static gboolean keep_data;
static char *profile_phase; /* --perf PHASE:CLIENTS */
static char *profile_output;

/* Stops the server, shows the end of its log and exits: the benchmark could not run. */
static void G_GNUC_NORETURN G_GNUC_PRINTF (1, 2) fail (const char *format, ...)
{
  static GMutex lock;
  va_list args;

  g_mutex_lock (&lock); /* one thread reports; the others wait for exit() */
  fflush (stdout);
  fputs ("bench-server: ", stderr);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);

  if (the_server != NULL && the_server->data_dir != NULL)
    {
      g_autofree char *log_path = g_build_filename (the_server->data_dir, "server.log", NULL);
      g_autofree char *log = NULL;
      gsize length = 0;

      if (the_server->process != NULL)
        {
          g_subprocess_force_exit (the_server->process);
          g_subprocess_wait (the_server->process, NULL, NULL);
        }
      if (g_file_get_contents (log_path, &log, &length, NULL) && length > 0)
        fprintf (stderr, "--- end of %s ---\n%s\n", log_path,
                 log + (length > 4000 ? length - 4000 : 0));
      if (!keep_data)
        cps_test_remove_tree (the_server->data_dir);
    }
  exit (1);
}

/* ----- small helpers ---------------------------------------------------------------------- */

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* @value rounded, with thousands separators, in @buf. */
static const char *
grouped (char buf[32], double value)
{
  char digits[32];
  int n, out = 0;

  n = g_snprintf (digits, sizeof digits, "%.0f", value);
  for (int i = 0; i < n; i++)
    {
      if (i > 0 && digits[i - 1] != '-' && (n - i) % 3 == 0)
        buf[out++] = ',';
      buf[out++] = digits[i];
    }
  buf[out] = '\0';
  return buf;
}

/* memmem() without _GNU_SOURCE. */
static const char *
find_bytes (const void *haystack, gsize length, const char *needle, gsize needle_length)
{
  const char *p = haystack;
  const char *end = p + length;

  while ((gsize) (end - p) >= needle_length
         && (p = memchr (p, needle[0], end - p - needle_length + 1)) != NULL)
    {
      if (memcmp (p, needle, needle_length) == 0)
        return p;
      p++;
    }
  return NULL;
}

static guint
count_occurrences (const char *haystack, gsize length, const char *needle)
{
  gsize needle_length = strlen (needle);
  const char *p = haystack;
  const char *end = haystack + length;
  guint n = 0;

  while ((p = find_bytes (p, end - p, needle, needle_length)) != NULL)
    {
      n++;
      p += needle_length;
    }
  return n;
}

/* CPU time of the calling thread, in ns: a cost that other processes on the machine do not
 * inflate. */
static gint64
thread_cpu_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static double
process_cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec
         + usage.ru_stime.tv_usec / 1e6;
}

/* utime + stime of every thread of process @pid, from /proc/PID/stat. */
static double
server_cpu_seconds (const char *pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", pid);
  g_autofree char *contents = NULL;
  g_auto (GStrv) fields = NULL;
  const char *p;

  if (!g_file_get_contents (path, &contents, NULL, NULL) || (p = strrchr (contents, ')')) == NULL)
    return 0;
  /* after "pid (comm) ": state is field 3, utime 14 and stime 15 */
  fields = g_strsplit (p + 2, " ", 0);
  if (g_strv_length (fields) < 13)
    return 0;
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL))
         / sysconf (_SC_CLK_TCK);
}

/* Busy CPU time of the whole machine (every process, every core), from /proc/stat. */
static double
machine_cpu_seconds (void)
{
  g_autofree char *contents = NULL;
  guint64 user, nice, system, idle, iowait, irq, softirq, steal;

  if (!g_file_get_contents ("/proc/stat", &contents, NULL, NULL)
      || sscanf (contents,
                 "cpu %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                 " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                 " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                 &user, &nice, &system, &idle, &iowait, &irq, &softirq, &steal)
             != 8)
    return 0;
  return (double) (user + nice + system + irq + softirq + steal) / sysconf (_SC_CLK_TCK);
}

typedef struct
{
  gint64 rss, hwm, anon, file, shmem; /* KiB */
} Memory;

/* VmRSS, VmHWM and the parts of VmRSS of process @pid. */
static gboolean
server_memory (const char *pid, Memory *memory)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", pid);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  memory->rss = memory->hwm = memory->anon = memory->file = memory->shmem = -1;
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  lines = g_strsplit (contents, "\n", 0);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "VmRSS:"))
        memory->rss = g_ascii_strtoll (lines[i] + 6, NULL, 10);
      else if (g_str_has_prefix (lines[i], "VmHWM:"))
        memory->hwm = g_ascii_strtoll (lines[i] + 6, NULL, 10);
      else if (g_str_has_prefix (lines[i], "RssAnon:"))
        memory->anon = g_ascii_strtoll (lines[i] + 8, NULL, 10);
      else if (g_str_has_prefix (lines[i], "RssFile:"))
        memory->file = g_ascii_strtoll (lines[i] + 8, NULL, 10);
      else if (g_str_has_prefix (lines[i], "RssShmem:"))
        memory->shmem = g_ascii_strtoll (lines[i] + 9, NULL, 10);
    }
  return memory->rss >= 0 && memory->hwm >= 0;
}

/* ----- documents and revisions ------------------------------------------------------------ */

static const char *const cameras[] = {
  "ARRI Alexa 35",
  "ARRI Alexa Mini LF",
  "Sony Venice 2",
  "RED V-Raptor XL 8K VV",
  "Canon EOS C500 Mark II",
  "Blackmagic URSA Mini Pro 12K",
  "Sony FX9",
  "ARRI Amira",
};
static const char *const monitors[] = {
  "SmallHD Cine 7",   "SmallHD Ultra 7", "Atomos Shogun 7", "Flanders Scientific DM241",
  "TVLogic F-7H mk2", "SmallHD Indie 7",
};
static const char *const videos[] = {
  "Teradek Bolt 6 XT 750", "Teradek Bolt 4K LT 750", "Vaxis Storm 3000",
  "Hollyland Mars 4K",     "DJI Transmission",
};
static const char *const cages[] = {
  "ARRI CCP-1 Camera Cage",
  "Tilta Camera Cage for RED V-Raptor",
  "Wooden Camera Elite Cage",
  "SmallRig FX9 Cage",
  "",
};
static const char *const motors[] = {
  "ARRI cforce mini RF", "ARRI cforce mini", "ARRI cforce plus",
  "Tilta Nucleus-M",     "Preston DM2X",     "DJI Focus Pro Motor",
};
static const char *const controllers[] = {
  "ARRI Hi-5", "ARRI WCU-4", "Preston FIZ 4", "Tilta Nucleus-M Hand Wheel", "ARRI RIA-1",
};
static const char *const batteries[] = {
  "Bebob B290cine", "Bebob V290RM-Cine",     "Core SWX Helix Max 360",
  "IDX Imicro-150", "Anton Bauer Titon 240", "Bebob A-Mount 150",
};
static const char *const plates[] = { "B-Mount", "V-Mount", "Gold Mount" };
static const char *const first_names[] = {
  "Zoë",    "Jürgen", "Inès",  "Mateo", "Giulia", "Søren", "Aoife",
  "Łukasz", "Noémie", "Kenji", "Amara", "Björn",  "Chloé", "Dário",
};
static const char *const last_names[] = {
  "Müller",   "García",   "Lefèvre", "Rossi",  "Nakamura", "O'Brien",
  "Kowalski", "Andersen", "Dubois",  "Haddad", "Ng",       "Sørensen",
};
static const char *const roles[] = {
  "DoP",
  "1st AC",
  "2nd AC",
  "DIT",
  "Gaffer",
  "Key Grip",
  "Steadicam Operator",
  "Video Operator",
  "Best Boy Electric",
  "Data Wrangler",
};
static const char *const gear[] = {
  "Cooke S4/i 32mm",
  "Zeiss Supreme Prime 50mm",
  "ARRI Signature Prime 75mm",
  "Angénieux Optimo 24-290",
  "ARRI LMB 4x5 Matte Box",
  "Filter ND 0.6 \"Rota-Pola\"",
  "Sachtler Video 20 S2 Tripod",
  "Sandbag 10 kg",
  "Apple Box Set",
  "Follow Focus Whip",
  "SDI Cable 3 m",
  "D-Tap to LEMO 2-pin Cable",
  "Bebob VS2 Quad Charger",
  "Monitor Arm 7\"",
  "Easyrig Vario 5",
  "Ronin 2 Gimbal",
  "Hi-Hat",
  "Baby Legs",
  "Slider 120 cm",
  "Wireless Focus Receiver",
  "Teradek Serv Pro",
  "CFexpress Type B 1 TB",
  "Codex Compact Drive 1 TB",
  "Lens Cleaning Kit",
  "Rain Cover \"Camera Condom\"",
};

#define PICK(rand, array) ((array)[g_rand_int_range ((rand), 0, G_N_ELEMENTS (array))])

static void
member_string (GString *out, const char *key, const char *value, gboolean comma)
{
  if (comma)
    g_string_append_c (out, ',');
  cps_jcs_append_string (out, key, strlen (key));
  g_string_append_c (out, ':');
  cps_jcs_append_string (out, value, strlen (value));
}

/* A planner project bundle (PLANNER-FORMATS.md) of about DOCUMENT_BYTES bytes, varied by
 * @rand; @serial makes each one distinct. */
static GString *
make_document (GRand *rand, const char *project_name, guint serial)
{
  GString *doc = g_string_sized_new (DOCUMENT_BYTES + 256);
  g_autofree char *setup_name = g_strdup_printf ("%s – take %u", project_name, serial);
  const char *plate = PICK (rand, plates);
  const char *battery = PICK (rand, batteries);
  char buf[128];
  guint n, gear_start;

  g_string_append_c (doc, '{');
  member_string (doc, "setupName", setup_name, FALSE);
  member_string (doc, "camera", PICK (rand, cameras), TRUE);
  member_string (doc, "monitor", PICK (rand, monitors), TRUE);
  member_string (doc, "video", PICK (rand, videos), TRUE);
  member_string (doc, "cage", PICK (rand, cages), TRUE);
  g_string_append (doc, ",\"motors\":[");
  n = g_rand_int_range (rand, 0, 4);
  for (guint i = 0; i < n; i++)
    {
      const char *motor = PICK (rand, motors);
      if (i > 0)
        g_string_append_c (doc, ',');
      cps_jcs_append_string (doc, motor, strlen (motor));
    }
  g_string_append (doc, "],\"controllers\":[");
  n = g_rand_int_range (rand, 0, 3);
  for (guint i = 0; i < n; i++)
    {
      const char *controller = PICK (rand, controllers);
      if (i > 0)
        g_string_append_c (doc, ',');
      cps_jcs_append_string (doc, controller, strlen (controller));
    }
  g_string_append_c (doc, ']');
  member_string (doc, "distance", g_rand_boolean (rand) ? "ARRI UDM-1" : "", TRUE);
  member_string (doc, "batteryPlate", plate, TRUE);
  member_string (doc, "battery", battery, TRUE);
  member_string (doc, "batteryHotswap", g_rand_boolean (rand) ? "Bebob Hotswap Plate" : "", TRUE);
  g_string_append (doc, ",\"powerSelection\":{");
  member_string (doc, "batteryPlate", plate, FALSE);
  member_string (doc, "battery", battery, TRUE);
  g_string_append (doc, "},\"projectInfo\":{");
  member_string (doc, "projectName", project_name, FALSE);
  member_string (doc, "productionCompany", "Nordlicht Filmproduktion GmbH", TRUE);
  member_string (doc, "rentalHouse",
                 g_rand_boolean (rand) ? "Ludwig Kameraverleih" : "CineRent Lyon", TRUE);
  member_string (doc, "deliveryResolution", g_rand_boolean (rand) ? "4K UHD" : "2K DCI", TRUE);
  member_string (doc, "aspectRatio", g_rand_boolean (rand) ? "2.39:1" : "1.85:1", TRUE);
  g_snprintf (buf, sizeof buf, "2026-%02d-%02d to 2026-%02d-%02d", g_rand_int_range (rand, 1, 13),
              g_rand_int_range (rand, 1, 15), g_rand_int_range (rand, 1, 13),
              g_rand_int_range (rand, 15, 29));
  member_string (doc, "shootingDays", buf, TRUE);
  g_string_append (doc, ",\"crew\":[");
  n = g_rand_int_range (rand, 3, 7);
  for (guint i = 0; i < n; i++)
    {
      const char *first = PICK (rand, first_names);
      const char *last = PICK (rand, last_names);
      g_autofree char *name = g_strdup_printf ("%s %s", first, last);
      g_autofree char *email = g_strdup_printf ("crew%u.%u@example.org", serial % 97, i);

      if (i > 0)
        g_string_append_c (doc, ',');
      g_string_append_c (doc, '{');
      member_string (doc, "name", name, FALSE);
      member_string (doc, "role", PICK (rand, roles), TRUE);
      g_snprintf (buf, sizeof buf, "+49 30 555 %04d", g_rand_int_range (rand, 0, 10000));
      member_string (doc, "phone", buf, TRUE);
      member_string (doc, "email", email, TRUE);
      g_string_append_c (doc, '}');
    }
  g_string_append (doc, "]},\"feedback\":[");
  n = g_rand_int_range (rand, 1, 4);
  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (doc, ',');
      g_string_append_printf (doc,
                              "{\"runtime\":\"%u:%02u\",\"batteries\":%u,\"temperature\":"
                              "\"%d °C\",\"charge\":\"%u%%\"}",
                              g_rand_int_range (rand, 1, 4), g_rand_int_range (rand, 0, 60),
                              g_rand_int_range (rand, 2, 12), g_rand_int_range (rand, -5, 35),
                              g_rand_int_range (rand, 5, 100));
    }
  g_string_append_printf (doc, "],\"revision\":%u,\"gearList\":", serial);

  /* The gear list takes the rest of the size. */
  {
    g_autoptr (GString) html = g_string_new ("<table class=\"gear-table\">");

    gear_start = doc->len;
    while (gear_start + html->len + 64 < DOCUMENT_BYTES)
      g_string_append_printf (html, "<tr><td>%ux %s</td></tr>", g_rand_int_range (rand, 1, 5),
                              PICK (rand, gear));
    g_string_append (html, "</table>");
    cps_jcs_append_string (doc, html->str, html->len);
  }
  g_string_append_c (doc, '}');
  return doc;
}

typedef struct
{
  CpsTestClient *login; /* device key and tokens */
  char *authorization;  /* "Bearer …" */
  struct _Http *http;
} BenchClient;

typedef struct
{
  GBytes *bytes; /* {"revisions": [...]} */
  guint n_revisions;
} Body;

static void
body_clear (Body *body)
{
  g_clear_pointer (&body->bytes, g_bytes_unref);
}

/* One chain of revisions in one project, signed by one device, cut into push bodies. */
typedef struct
{
  BenchClient *client;
  char *project_id;
  char *project_name;
  guint n_revisions;
  guint per_body;
  guint32 seed;
  gboolean keep_texts;

  GArray *bodies;   /* Body */
  GPtrArray *texts; /* (nullable) the revisions, when @keep_texts */
  guint64 document_bytes;
  guint64 revision_bytes;
  char *error;
} Chain;

static void
chain_free (Chain *chain)
{
  g_free (chain->project_id);
  g_free (chain->project_name);
  g_clear_pointer (&chain->bodies, g_array_unref);
  g_clear_pointer (&chain->texts, g_ptr_array_unref);
  g_free (chain->error);
  g_free (chain);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Chain, chain_free)

static void
generate_chain (gpointer data, gpointer user_data)
{
  Chain *chain = data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (chain->seed);
  g_autoptr (CpsRevision) parent = NULL;
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) body = NULL;
  guint in_body = 0;

  chain->bodies = g_array_new (FALSE, TRUE, sizeof (Body));
  g_array_set_clear_func (chain->bodies, (GDestroyNotify) body_clear);

  for (guint i = 0; i < chain->n_revisions; i++)
    {
      g_autoptr (GString) text = make_document (rand, chain->project_name, i + 1);
      g_autoptr (CpsJsonDocument) document = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *now = cps_now_rfc3339 ();
      CpsRevision *revision;
      char *json;

      document = cps_json_document_parse_copy (text->str, text->len, NULL, &error);
      if (document == NULL)
        {
          chain->error = g_strdup_printf ("a generated document is not JSON: %s", error->message);
          return;
        }
      revision = cps_revision_new_signed (chain->project_id, parent != NULL ? &parent : NULL,
                                          parent != NULL ? 1 : 0, chain->client->login->key, now,
                                          cps_json_document_get_root (document), FALSE, &error);
      if (revision == NULL)
        {
          chain->error = g_strdup_printf ("could not sign a revision: %s", error->message);
          return;
        }
      g_clear_object (&parent);
      parent = revision;

      json = cps_revision_to_json (revision, TRUE);
      chain->document_bytes += text->len;
      chain->revision_bytes += strlen (json);

      if (body == NULL)
        body = g_string_sized_new (chain->per_body * 2800 + 32);
      g_string_append (body, in_body == 0 ? "{\"revisions\":[" : ",");
      g_string_append (body, json);
      in_body++;
      if (in_body == chain->per_body || i + 1 == chain->n_revisions)
        {
          Body entry = { 0 };

          g_string_append (body, "]}");
          entry.n_revisions = in_body;
          entry.bytes = g_string_free_to_bytes (g_steal_pointer (&body));
          g_array_append_val (chain->bodies, entry);
          in_body = 0;
        }
      if (chain->keep_texts)
        g_ptr_array_add (texts, json);
      else
        g_free (json);
    }
  if (chain->keep_texts)
    chain->texts = g_steal_pointer (&texts);
}

/* Generates every chain, on every core. */
static void
generate_chains (GPtrArray *chains)
{
  g_autoptr (GError) error = NULL;
  GThreadPool *pool;

  pool = g_thread_pool_new (generate_chain, NULL, (int) g_get_num_processors (), FALSE, &error);
  if (pool == NULL)
    fail ("could not start threads: %s", error->message);
  for (guint i = 0; i < chains->len; i++)
    g_thread_pool_push (pool, g_ptr_array_index (chains, i), NULL);
  g_thread_pool_free (pool, FALSE, TRUE);

  for (guint i = 0; i < chains->len; i++)
    {
      Chain *chain = g_ptr_array_index (chains, i);
      if (chain->error != NULL)
        fail ("%s", chain->error);
    }
}

/* ----- HTTP clients ----------------------------------------------------------------------- */

typedef enum
{
  CLIENT_RAW,  /* HTTP/1.1 by hand over a blocking GSocket: the least client CPU */
  CLIENT_SOUP, /* libsoup's SoupSession, synchronous API */
} ClientKind;

typedef struct _Http
{
  ClientKind kind;
  GSocketAddress *address; /* borrowed */
  const char *host;        /* borrowed: the Host header */
  const char *base_url;    /* borrowed */

  /* raw */
  GSocket *socket;
  GByteArray *in; /* bytes received; the last response at the front */
  gsize consumed; /* bytes of @in the last response took */
  GByteArray *dechunked;
  GString *head;
  guint reconnects;

  /* soup */
  SoupSession *session;
  GBytes *reply;

  /* the last response */
  guint status;
  const char *body;
  gsize body_length;
} Http;

static Http *
http_new (ClientKind kind, GSocketAddress *address, const char *host, const char *base_url)
{
  Http *http = g_new0 (Http, 1);

  http->kind = kind;
  http->address = address;
  http->host = host;
  http->base_url = base_url;
  http->in = g_byte_array_sized_new (256 * 1024);
  http->dechunked = g_byte_array_new ();
  http->head = g_string_sized_new (512);
  if (kind == CLIENT_SOUP)
    http->session = soup_session_new_with_options ("timeout", 120, "max-conns-per-host", 2, NULL);
  return http;
}

static void
http_free (Http *http)
{
  g_clear_object (&http->socket);
  g_byte_array_unref (http->in);
  g_byte_array_unref (http->dechunked);
  g_string_free (http->head, TRUE);
  g_clear_pointer (&http->reply, g_bytes_unref);
  g_clear_object (&http->session);
  g_free (http);
}

static gboolean
raw_connect (Http *http, GError **error)
{
  g_clear_object (&http->socket);
  http->socket
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (http->socket == NULL)
    return FALSE;
  /* The head and the body go out in one sendmsg(); no Nagle delay on small requests. */
  g_socket_set_option (http->socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  if (!g_socket_connect (http->socket, http->address, NULL, error))
    {
      g_clear_object (&http->socket);
      return FALSE;
    }
  g_byte_array_set_size (http->in, 0);
  http->consumed = 0;
  return TRUE;
}

static gboolean
raw_send (Http *http, const void *body, gsize body_length, GError **error)
{
  GOutputVector vectors[2] = {
    { http->head->str, http->head->len },
    { body, body_length },
  };
  guint first = 0;

  while (first < G_N_ELEMENTS (vectors))
    {
      gssize sent = g_socket_send_message (http->socket, NULL, vectors + first,
                                           G_N_ELEMENTS (vectors) - first, NULL, 0,
                                           G_SOCKET_MSG_NONE, NULL, error);
      if (sent < 0)
        return FALSE;
      while (first < G_N_ELEMENTS (vectors) && (gsize) sent >= vectors[first].size)
        {
          sent -= vectors[first].size;
          first++;
        }
      if (first < G_N_ELEMENTS (vectors))
        {
          vectors[first].buffer = (const char *) vectors[first].buffer + sent;
          vectors[first].size -= sent;
        }
    }
  return TRUE;
}

/* Reads more bytes into http->in; FALSE at the end of the stream or on an error. */
static gboolean
raw_fill (Http *http, GError **error)
{
  guint old = http->in->len;
  gsize want = MAX (256 * 1024, old / 2);
  gssize n;

  g_byte_array_set_size (http->in, old + want);
  n = g_socket_receive (http->socket, (char *) http->in->data + old, want, NULL, error);
  g_byte_array_set_size (http->in, old + MAX (n, 0));
  if (n == 0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                 "the server closed the connection");
  return n > 0;
}

static gboolean
raw_read_response (Http *http, GError **error)
{
  const char *data;
  const char *end_of_head = NULL;
  gsize head_length;
  gint64 content_length = -1;
  gboolean chunked = FALSE;
  g_auto (GStrv) lines = NULL;
  g_autofree char *head = NULL;

  if (http->consumed > 0)
    {
      g_byte_array_remove_range (http->in, 0, http->consumed);
      http->consumed = 0;
    }
  while ((end_of_head = find_bytes (http->in->data, http->in->len, "\r\n\r\n", 4)) == NULL)
    if (!raw_fill (http, error))
      return FALSE;

  data = (const char *) http->in->data;
  head_length = end_of_head - data + 4;
  head = g_strndup (data, end_of_head - data);
  lines = g_strsplit (head, "\r\n", 0);
  if (sscanf (lines[0], "HTTP/1.%*d %u", &http->status) != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad status line “%s”", lines[0]);
      return FALSE;
    }
  for (guint i = 1; lines[i] != NULL; i++)
    {
      if (g_ascii_strncasecmp (lines[i], "Content-Length:", 15) == 0)
        content_length = g_ascii_strtoll (lines[i] + 15, NULL, 10);
      else if (g_ascii_strncasecmp (lines[i], "Transfer-Encoding:", 18) == 0
               && strstr (lines[i] + 18, "chunked") != NULL)
        chunked = TRUE;
    }

  if (content_length >= 0)
    {
      while (http->in->len < head_length + content_length)
        if (!raw_fill (http, error))
          return FALSE;
      http->body = (const char *) http->in->data + head_length;
      http->body_length = content_length;
      http->consumed = head_length + content_length;
      return TRUE;
    }
  if (chunked)
    {
      gsize p = head_length;

      g_byte_array_set_size (http->dechunked, 0);
      for (;;)
        {
          const char *line_end;
          guint64 size;

          while ((line_end = find_bytes (http->in->data + p, http->in->len - p, "\r\n", 2)) == NULL)
            if (!raw_fill (http, error))
              return FALSE;
          size = g_ascii_strtoull ((const char *) http->in->data + p, NULL, 16);
          p = (const guint8 *) line_end - http->in->data + 2;
          while (http->in->len < p + size + 2)
            if (!raw_fill (http, error))
              return FALSE;
          if (size == 0)
            {
              p += 2; /* no trailers from this server */
              break;
            }
          g_byte_array_append (http->dechunked, http->in->data + p, size);
          p += size + 2;
        }
      http->body = (const char *) http->dechunked->data;
      http->body_length = http->dechunked->len;
      http->consumed = p;
      return TRUE;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "a response without Content-Length or chunked encoding");
  return FALSE;
}

static gboolean
raw_request (Http *http, const char *method, const char *path, const char *authorization,
             const void *body, gsize body_length, GError **error)
{
  g_string_printf (http->head, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, http->host);
  if (authorization != NULL)
    g_string_append_printf (http->head, "Authorization: %s\r\n", authorization);
  if (body != NULL)
    g_string_append_printf (
        http->head, "Content-Type: application/json\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n",
        body_length);
  g_string_append (http->head, "\r\n");

  for (guint attempt = 0;; attempt++)
    {
      g_autoptr (GError) local_error = NULL;

      if (http->socket == NULL && !raw_connect (http, error))
        return FALSE;
      if (raw_send (http, body, body_length, &local_error)
          && raw_read_response (http, &local_error))
        return TRUE;
      /* A kept-alive connection the server closed: once more on a new one (pushes are
       * idempotent; a duplicate would show in the counts). */
      if (attempt > 0 || http->in->len > 0)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      http->reconnects++;
      g_clear_object (&http->socket);
    }
}

static gboolean
soup_request (Http *http, const char *method, const char *path, const char *authorization,
              const void *body, gsize body_length, GError **error)
{
  g_autofree char *url = g_strconcat (http->base_url, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);

  g_clear_pointer (&http->reply, g_bytes_unref);
  if (authorization != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                  authorization);
  if (body != NULL)
    {
      g_autoptr (GBytes) bytes = g_bytes_new_static (body, body_length);
      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  http->reply = soup_session_send_and_read (http->session, msg, NULL, error);
  if (http->reply == NULL)
    return FALSE;
  http->status = soup_message_get_status (msg);
  http->body = g_bytes_get_data (http->reply, &http->body_length);
  return TRUE;
}

/* One request; the answer is in http->status, http->body until the next one. */
static void
http_request (Http *http, const char *method, const char *path, const char *authorization,
              const void *body, gsize body_length)
{
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (http->kind == CLIENT_RAW)
    ok = raw_request (http, method, path, authorization, body, body_length, &error);
  else
    ok = soup_request (http, method, path, authorization, body, body_length, &error);
  if (!ok)
    fail ("%s %s: %s", method, path, error->message);
}

static void
expect_status (Http *http, guint status, const char *what)
{
  if (http->status != status)
    fail ("%s: HTTP %u, expected %u: %.*s", what, http->status, status,
          (int) MIN (http->body_length, 600), http->body != NULL ? http->body : "");
}

/* ----- phases ----------------------------------------------------------------------------- */

typedef struct _Phase Phase;
typedef struct _Worker Worker;
typedef void (*WorkFunc) (Worker *worker);

struct _Worker
{
  Phase *phase;
  BenchClient *client;
  GArray *bodies; /* (nullable) Body: push and single */
  char *path;     /* push: the project's revisions path */
  guint count;    /* health: requests; pull: revisions to read */
  char *since;    /* pull: where this reader starts (NULL: the beginning) */

  GArray *latencies; /* gint64 ns per request */
  guint64 items;     /* revisions (push, pull) or requests (health, single) */
  guint64 bytes;
};

struct _Phase
{
  const char *name; /* "health", "push", "single", "pull" */
  WorkFunc func;
  guint n_workers;
  Worker *workers;
  GMutex mutex;
  GCond cond;
  guint ready;
  gboolean go;
};

typedef struct
{
  gboolean ran;
  guint clients;
  guint64 requests;
  guint64 items;
  guint64 bytes;
  double seconds;
  double p50_ms, p99_ms, max_ms;
  double server_cpu; /* seconds */
  double client_cpu;
  double other_cpu; /* every other process of the machine */
} PhaseResult;

static void
time_request (Worker *worker, const char *method, const char *path, const void *body,
              gsize body_length)
{
  gint64 start = now_ns ();
  gint64 elapsed;

  http_request (worker->client->http, method, path, worker->client->authorization, body,
                body_length);
  elapsed = now_ns () - start;
  g_array_append_val (worker->latencies, elapsed);
}

static void
health_work (Worker *worker)
{
  for (guint i = 0; i < worker->count; i++)
    {
      time_request (worker, "GET", "/v1/health", NULL, 0);
      expect_status (worker->client->http, 200, "GET /v1/health");
      worker->items++;
    }
}

static void
push_work (Worker *worker)
{
  Http *http = worker->client->http;

  for (guint i = 0; i < worker->bodies->len; i++)
    {
      const Body *body = &g_array_index (worker->bodies, Body, i);
      gsize length;
      const void *data = g_bytes_get_data (body->bytes, &length);
      guint accepted;

      time_request (worker, "POST", worker->path, data, length);
      expect_status (http, 200, worker->path);
      accepted = count_occurrences (http->body, http->body_length, "\"status\":\"accepted\"");
      if (accepted != body->n_revisions)
        fail ("a push of %u revisions had %u accepted: %.*s", body->n_revisions, accepted,
              (int) MIN (http->body_length, 800), http->body);
      worker->items += accepted;
      worker->bytes += length;
    }
}

/* The "next" token at the end of a changes page, or NULL. */
static char *
find_next (const char *body, gsize length)
{
  static const char key[] = "\"next\":\"";
  gsize tail = MIN (length, 512);
  const char *start = body + length - tail;
  const char *p = NULL, *q;

  for (const char *found = start;
       (found = find_bytes (found, body + length - found, key, sizeof key - 1)) != NULL;
       found += sizeof key - 1)
    p = found;
  if (p == NULL)
    return NULL;
  p += sizeof key - 1;
  q = memchr (p, '"', body + length - p);
  return q != NULL ? g_strndup (p, q - p) : NULL;
}

static void
pull_work (Worker *worker)
{
  Http *http = worker->client->http;
  g_autofree char *since = g_strdup (worker->since);
  guint remaining = worker->count;

  while (remaining > 0)
    {
      guint limit = MIN (PAGE_SIZE, remaining);
      g_autofree char *path = NULL;
      guint n;

      path = since != NULL ? g_strdup_printf ("/v1/changes?since=%s&limit=%u", since, limit)
                           : g_strdup_printf ("/v1/changes?limit=%u", limit);
      time_request (worker, "GET", path, NULL, 0);
      expect_status (http, 200, "GET /v1/changes");
      n = count_occurrences (http->body, http->body_length, "{\"seq\":");
      if (n == 0 || n > limit)
        fail ("a changes page of limit %u had %u entries (%u still to read)", limit, n, remaining);
      g_free (since);
      since = find_next (http->body, http->body_length);
      if (since == NULL)
        fail ("a changes page without “next”");
      remaining -= n;
      worker->items += n;
      worker->bytes += http->body_length;
    }
}

static gpointer
worker_thread (gpointer data)
{
  Worker *worker = data;
  Phase *phase = worker->phase;

  /* A live connection before the clock starts. */
  http_request (worker->client->http, "GET", "/v1/health", NULL, NULL, 0);
  expect_status (worker->client->http, 200, "GET /v1/health");

  g_mutex_lock (&phase->mutex);
  phase->ready++;
  g_cond_broadcast (&phase->cond);
  while (!phase->go)
    g_cond_wait (&phase->cond, &phase->mutex);
  g_mutex_unlock (&phase->mutex);

  phase->func (worker);
  return NULL;
}

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted nanoseconds, in ms. */
static double
percentile_ms (GArray *sorted, double p)
{
  guint rank;

  if (sorted->len == 0)
    return 0;
  rank = (guint) ceil (p * sorted->len);
  rank = CLAMP (rank, 1, sorted->len);
  return g_array_index (sorted, gint64, rank - 1) / 1e6;
}

/* Runs @phase's workers together from one starting signal; fills @result. */
static void
run_phase (Phase *phase, const char *server_pid, PhaseResult *result)
{
  g_autofree GThread **threads = g_new0 (GThread *, phase->n_workers);
  g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GSubprocess) perf = NULL;
  double server_cpu, client_cpu, machine_cpu;
  char label[64];
  gint64 start;

  g_mutex_init (&phase->mutex);
  g_cond_init (&phase->cond);
  for (guint i = 0; i < phase->n_workers; i++)
    {
      Worker *worker = &phase->workers[i];

      worker->phase = phase;
      worker->latencies = g_array_sized_new (FALSE, FALSE, sizeof (gint64), 1024);
      threads[i] = g_thread_new ("bench-client", worker_thread, worker);
    }

  g_snprintf (label, sizeof label, "%s:%u", phase->name, phase->n_workers);
  if (profile_phase != NULL && strcmp (profile_phase, label) == 0)
    {
      g_autoptr (GError) error = NULL;

      perf = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, "perf", "record", "-F",
                               "999", "--call-graph", "dwarf,16384", "-p", server_pid, "-o",
                               profile_output, NULL);
      if (perf == NULL)
        fail ("could not run perf: %s", error->message);
      g_usleep (1500 * 1000); /* perf attaches */
    }

  g_mutex_lock (&phase->mutex);
  while (phase->ready < phase->n_workers)
    g_cond_wait (&phase->cond, &phase->mutex);
  server_cpu = server_cpu_seconds (server_pid);
  client_cpu = process_cpu_seconds ();
  machine_cpu = machine_cpu_seconds ();
  start = now_ns ();
  phase->go = TRUE;
  g_cond_broadcast (&phase->cond);
  g_mutex_unlock (&phase->mutex);

  for (guint i = 0; i < phase->n_workers; i++)
    g_thread_join (threads[i]);
  if (perf != NULL)
    {
      g_subprocess_send_signal (perf, SIGINT);
      g_subprocess_wait (perf, NULL, NULL);
      printf ("  (perf profile of the server during %s written to %s)\n", label, profile_output);
    }

  memset (result, 0, sizeof *result);
  result->ran = TRUE;
  result->seconds = (now_ns () - start) / 1e9;
  result->server_cpu = server_cpu_seconds (server_pid) - server_cpu;
  result->client_cpu = process_cpu_seconds () - client_cpu;
  result->other_cpu
      = MAX (0, machine_cpu_seconds () - machine_cpu - result->server_cpu - result->client_cpu);
  result->clients = phase->n_workers;
  for (guint i = 0; i < phase->n_workers; i++)
    {
      Worker *worker = &phase->workers[i];

      g_array_append_vals (all, worker->latencies->data, worker->latencies->len);
      result->requests += worker->latencies->len;
      result->items += worker->items;
      result->bytes += worker->bytes;
      g_array_unref (worker->latencies);
    }
  g_array_sort (all, compare_gint64);
  result->p50_ms = percentile_ms (all, 0.50);
  result->p99_ms = percentile_ms (all, 0.99);
  result->max_ms = percentile_ms (all, 1.0);
  g_mutex_clear (&phase->mutex);
  g_cond_clear (&phase->cond);
}

/* The database and its WAL on disk: the WAL must not grow without end under load. */
static void
print_database_files (void)
{
  g_autofree char *db = g_build_filename (the_server->data_dir, "cps-server.db", NULL);
  g_autofree char *wal = g_strconcat (db, "-wal", NULL);
  GStatBuf db_stat = { 0 }, wal_stat = { 0 };

  g_stat (db, &db_stat);
  g_stat (wal, &wal_stat);
  printf ("database files: cps-server.db %.1f MiB, WAL %.1f MiB\n\n",
          db_stat.st_size / 1048576.0, wal_stat.st_size / 1048576.0);
}

static void
print_phase (const char *name, const char *unit, const PhaseResult *r, const char *latency_of)
{
  char a[32], b[32];
  guint cores = g_get_num_processors ();

  printf ("  %-7s %2u client%s %9s %-9s in %6.2f s = %8s %s/s   %s p50 %6.2f  p99 %6.2f  "
          "max %6.2f ms   CPU of %u cores: server %3.0f%%, bench %3.0f%%, others %3.0f%%\n",
          name, r->clients, r->clients == 1 ? " " : "s", grouped (a, r->items), unit, r->seconds,
          grouped (b, r->items / r->seconds), unit, latency_of, r->p50_ms, r->p99_ms, r->max_ms,
          cores, 100 * r->server_cpu / (r->seconds * cores),
          100 * r->client_cpu / (r->seconds * cores), 100 * r->other_cpu / (r->seconds * cores));
  fflush (stdout);
}

/* ----- the raw floor ---------------------------------------------------------------------- */

typedef struct
{
  const char *text;         /* borrowed */
  const guint8 *public_key; /* borrowed */
  CpsRevision *revision;
  char *header_json;
  char *clock_json;
  char *error;
} FloorItem;

static void
floor_item_clear (FloorItem *item)
{
  g_clear_object (&item->revision);
  g_clear_pointer (&item->header_json, g_free);
  g_clear_pointer (&item->clock_json, g_free);
  g_clear_pointer (&item->error, g_free);
}

/* What the server computes per revision before storing it: parse, verify (id, content
 * checksum, Ed25519 signature), the header and the clock as stored. */
static void
floor_item_prepare (FloorItem *item)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) clock = g_string_new (NULL);

  item->revision = cps_revision_new_from_string (item->text, -1, &error);
  if (item->revision == NULL || !cps_revision_verify (item->revision, item->public_key, &error))
    {
      item->error = g_strdup (error->message);
      return;
    }
  item->header_json = cps_revision_to_json (item->revision, FALSE);
  cps_clock_write_jcs (cps_revision_get_clock (item->revision), clock);
  item->clock_json = g_string_free (g_steal_pointer (&clock), FALSE);
}

/* A parallel for over floor items: this thread and helpers claim items one at a time. */
typedef struct
{
  gint ref_count;
  FloorItem *items;
  guint n_items;
  gint next;
  gint done;
  GMutex mutex;
  GCond cond;
} FloorJob;

static void
floor_job_unref (FloorJob *job)
{
  if (!g_atomic_int_dec_and_test (&job->ref_count))
    return;
  g_mutex_clear (&job->mutex);
  g_cond_clear (&job->cond);
  g_free (job);
}

static void
floor_job_run (FloorJob *job)
{
  for (;;)
    {
      guint i = (guint) g_atomic_int_add (&job->next, 1);

      if (i >= job->n_items)
        break;
      floor_item_prepare (&job->items[i]);
      if ((guint) g_atomic_int_add (&job->done, 1) + 1 == job->n_items)
        {
          g_mutex_lock (&job->mutex);
          g_cond_broadcast (&job->cond);
          g_mutex_unlock (&job->mutex);
        }
    }
}

static void
floor_helper (gpointer data, gpointer user_data)
{
  floor_job_run (data);
  floor_job_unref (data);
}

/* Starts @items on the helpers; floor_job_finish() joins in and waits for the last one. */
static FloorJob *
floor_job_start (FloorItem *items, guint n_items, GThreadPool *helpers)
{
  FloorJob *job = g_new0 (FloorJob, 1);
  guint n_helpers = (guint) g_thread_pool_get_max_threads (helpers);

  job->ref_count = 1;
  job->items = items;
  job->n_items = n_items;
  g_mutex_init (&job->mutex);
  g_cond_init (&job->cond);
  for (guint i = 0; i < n_helpers; i++)
    {
      g_atomic_int_inc (&job->ref_count);
      g_thread_pool_push (helpers, job, NULL);
    }
  return job;
}

static void
floor_job_finish (FloorJob *job)
{
  floor_job_run (job);
  g_mutex_lock (&job->mutex);
  while ((guint) g_atomic_int_get (&job->done) < job->n_items)
    g_cond_wait (&job->cond, &job->mutex);
  g_mutex_unlock (&job->mutex);
  floor_job_unref (job);
}

typedef struct
{
  guint threads;
  guint64 revisions;
  double seconds;
  double cpu;
  double prepare_seconds; /* parse + verify (+ header, clock) */
  double insert_seconds;  /* BEGIN + inserts */
  double commit_seconds;  /* COMMIT: the WAL write and fsync */
  double other_cpu;       /* every other process of the machine */
} FloorResult;

/* A fresh database with the server's schema holding the account, devices and projects the
 * revisions refer to. */
static CpsStorage *
floor_open (const char *path, const char *account_id, GPtrArray *clients, GPtrArray *chains)
{
  g_autoptr (CpsStorage) storage = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *now = cps_now_rfc3339 ();
  CpsAccountRecord account = { 0 };
  char *no_heads[] = { NULL };

  storage = cps_storage_open ("sqlite", path, &error);
  if (storage == NULL)
    fail ("raw floor: %s", error->message);
  if (!cps_storage_begin (storage, &error))
    fail ("raw floor: %s", error->message);

  account.id = (char *) account_id;
  account.username = (char *) "crew";
  account.role = (char *) "member";
  account.password_hash = (char *) "-";
  account.created_at = now;
  if (!cps_storage_account_insert (storage, &account, &error))
    fail ("raw floor: %s", error->message);

  for (guint i = 0; i < clients->len; i++)
    {
      BenchClient *client = g_ptr_array_index (clients, i);
      g_autofree char *public_key = cps_device_key_dup_public_key_base64 (client->login->key);
      g_autofree char *fingerprint = cps_device_key_dup_fingerprint (client->login->key);
      CpsDeviceRecord device = { 0 };

      device.id = client->login->device_id;
      device.account_id = (char *) account_id;
      device.name = (char *) "bench";
      device.public_key = public_key;
      device.key_fingerprint = fingerprint;
      device.state = (char *) "active";
      device.registered_at = now;
      if (!cps_storage_device_insert (storage, &device, &error))
        fail ("raw floor: %s", error->message);
    }

  for (guint i = 0; i < chains->len; i++)
    {
      Chain *chain = g_ptr_array_index (chains, i);
      CpsProjectRecord project = { 0 };

      project.id = chain->project_id;
      project.name = chain->project_name;
      project.owner = (char *) account_id;
      project.created_at = now;
      project.updated_at = now;
      project.heads = no_heads;
      if (!cps_storage_project_insert (storage, &project, &error)
          || !cps_storage_member_put (storage, chain->project_id, account_id, "owner", &error))
        fail ("raw floor: %s", error->message);
    }
  if (!cps_storage_commit (storage, &error))
    fail ("raw floor: %s", error->message);
  return g_steal_pointer (&storage);
}

typedef enum
{
  FLOOR_ONE_THREAD, /* everything on this thread */
  FLOOR_ALL_CORES,  /* a batch's parse and verify spread over every core, then its insert */
  FLOOR_OVERLAPPED, /* as FLOOR_ALL_CORES, and the next batch is verified during a commit */
} FloorMode;

typedef struct
{
  const char *const *texts; /* borrowed */
  const guint8 *public_key; /* borrowed */
  guint n;
} FloorBatch;

/* Inserts the prepared @items in one transaction and commits it. */
static void
floor_store (CpsStorage *storage, FloorItem *items, guint n, FloorResult *result)
{
  g_autoptr (GError) error = NULL;
  gint64 t0 = now_ns (), t1;

  if (!cps_storage_begin (storage, &error))
    fail ("raw floor: %s", error->message);
  for (guint i = 0; i < n; i++)
    {
      CpsRevision *revision = items[i].revision;
      CpsRevisionRecord record = { 0 };

      if (items[i].error != NULL)
        fail ("raw floor: a revision does not verify: %s", items[i].error);
      record.id = (char *) cps_revision_get_id (revision);
      record.project_id = (char *) cps_revision_get_project_id (revision);
      record.device_id = (char *) cps_revision_get_device_id (revision);
      record.created_at = (char *) cps_revision_get_created_at (revision);
      record.checksum = (char *) cps_revision_get_checksum (revision);
      record.deleted = cps_revision_get_deleted (revision);
      record.parents = (GStrv) cps_revision_get_parents (revision);
      record.clock_sum = cps_clock_sum (cps_revision_get_clock (revision));
      record.clock_json = items[i].clock_json;
      record.json = (char *) items[i].text;
      record.header_json = items[i].header_json;
      if (!cps_storage_revision_insert (storage, &record, &error))
        fail ("raw floor: %s", error->message);
    }
  t1 = now_ns ();
  result->insert_seconds += (t1 - t0) / 1e9;
  if (!cps_storage_commit (storage, &error))
    fail ("raw floor: %s", error->message);
  /* what the server does after each answer: copy the WAL back once it is long */
  cps_storage_idle (storage);
  result->commit_seconds += (now_ns () - t1) / 1e9;
  for (guint i = 0; i < n; i++)
    floor_item_clear (&items[i]);
  result->revisions += n;
}

static void
floor_fill (FloorItem *items, const FloorBatch *batch)
{
  memset (items, 0, sizeof (FloorItem) * BATCH_SIZE);
  for (guint i = 0; i < batch->n; i++)
    {
      items[i].text = batch->texts[i];
      items[i].public_key = batch->public_key;
    }
}

/* Parses, verifies and inserts every revision of @chains in transactions of BATCH_SIZE, the
 * way @mode says. */
static void
run_floor (const char *dir, const char *account_id, GPtrArray *clients, GPtrArray *chains,
           FloorMode mode, FloorResult *result)
{
  static const char *const names[] = { "floor.db", "floor-parallel.db", "floor-overlapped.db" };
  g_autofree char *path = g_build_filename (dir, names[mode], NULL);
  g_autoptr (CpsStorage) storage = floor_open (path, account_id, clients, chains);
  g_autoptr (GArray) batches = g_array_new (FALSE, FALSE, sizeof (FloorBatch));
  g_autoptr (GError) error = NULL;
  GThreadPool *helpers = NULL;
  FloorItem items[2][BATCH_SIZE];
  FloorJob *next = NULL;
  double cpu, machine_cpu;
  gint64 start, t0;

  for (guint c = 0; c < chains->len; c++)
    {
      Chain *chain = g_ptr_array_index (chains, c);

      for (guint first = 0; first < chain->texts->len; first += BATCH_SIZE)
        {
          FloorBatch batch;

          batch.texts = (const char *const *) chain->texts->pdata + first;
          batch.public_key = cps_device_key_get_public_key (chain->client->login->key);
          batch.n = MIN (BATCH_SIZE, chain->texts->len - first);
          g_array_append_val (batches, batch);
        }
    }

  memset (result, 0, sizeof *result);
  result->threads = 1;
  if (mode != FLOOR_ONE_THREAD && g_get_num_processors () > 1)
    {
      helpers
          = g_thread_pool_new (floor_helper, NULL, (int) g_get_num_processors () - 1, TRUE, &error);
      if (helpers == NULL)
        fail ("could not start threads: %s", error->message);
      result->threads = g_get_num_processors ();
    }
  else
    mode = FLOOR_ONE_THREAD;

  cpu = process_cpu_seconds ();
  machine_cpu = machine_cpu_seconds ();
  start = now_ns ();
  for (guint b = 0; b < batches->len; b++)
    {
      const FloorBatch *batch = &g_array_index (batches, FloorBatch, b);
      FloorItem *current = items[b % 2];

      t0 = now_ns ();
      if (mode == FLOOR_ONE_THREAD)
        {
          floor_fill (current, batch);
          for (guint i = 0; i < batch->n; i++)
            floor_item_prepare (&current[i]);
        }
      else
        {
          /* overlapped: this batch was started during the previous commit */
          if (next == NULL)
            {
              floor_fill (current, batch);
              next = floor_job_start (current, batch->n, helpers);
            }
          floor_job_finish (g_steal_pointer (&next));
          if (mode == FLOOR_OVERLAPPED && b + 1 < batches->len)
            {
              FloorItem *following = items[(b + 1) % 2];

              floor_fill (following, &g_array_index (batches, FloorBatch, b + 1));
              next = floor_job_start (following, g_array_index (batches, FloorBatch, b + 1).n,
                                      helpers);
            }
        }
      result->prepare_seconds += (now_ns () - t0) / 1e9;
      floor_store (storage, current, batch->n, result);
    }
  result->seconds = (now_ns () - start) / 1e9;
  result->cpu = process_cpu_seconds () - cpu;
  result->other_cpu = MAX (0, machine_cpu_seconds () - machine_cpu - result->cpu);
  if (helpers != NULL)
    g_thread_pool_free (helpers, FALSE, TRUE);
}

/* The single push's floor: every revision of @chains read, verified, inserted and committed
 * on its own, one after the other; fills @latencies (sorted nanoseconds) and @result. */
static void
run_single_floor (const char *dir, const char *account_id, GPtrArray *clients, GPtrArray *chains,
                  GArray *latencies, FloorResult *result)
{
  g_autofree char *path = g_build_filename (dir, "floor-single.db", NULL);
  g_autoptr (CpsStorage) storage = floor_open (path, account_id, clients, chains);
  FloorItem item;
  double cpu, machine_cpu;
  gint64 start, t0;

  memset (result, 0, sizeof *result);
  result->threads = 1;
  cpu = process_cpu_seconds ();
  machine_cpu = machine_cpu_seconds ();
  start = now_ns ();
  for (guint c = 0; c < chains->len; c++)
    {
      Chain *chain = g_ptr_array_index (chains, c);

      for (guint i = 0; i < chain->texts->len; i++)
        {
          gint64 took;

          t0 = now_ns ();
          memset (&item, 0, sizeof item);
          item.text = g_ptr_array_index (chain->texts, i);
          item.public_key = cps_device_key_get_public_key (chain->client->login->key);
          floor_item_prepare (&item);
          result->prepare_seconds += (now_ns () - t0) / 1e9;
          floor_store (storage, &item, 1, result);
          took = now_ns () - t0;
          g_array_append_val (latencies, took);
        }
    }
  result->seconds = (now_ns () - start) / 1e9;
  result->cpu = process_cpu_seconds () - cpu;
  result->other_cpu = MAX (0, machine_cpu_seconds () - machine_cpu - result->cpu);
  g_array_sort (latencies, compare_gint64);
}

/* The part of the floor no server can avoid: one Ed25519 verification per revision, in
 * microseconds of CPU time. */
static double
measure_verify_us (Chain *chain)
{
  g_autoptr (CpsRevision) revision = NULL;
  const guint8 *public_key = cps_device_key_get_public_key (chain->client->login->key);
  const char *id, *signature;
  guint n = 2000;
  gint64 start;

  revision = cps_revision_new_from_string (g_ptr_array_index (chain->texts, 0), -1, NULL);
  if (revision == NULL)
    fail ("a generated revision cannot be read back");
  id = cps_revision_get_id (revision);
  signature = cps_revision_get_signature (revision);
  start = thread_cpu_ns ();
  for (guint i = 0; i < n; i++)
    if (!cps_signature_verify_base64 (public_key, id, strlen (id), signature))
      fail ("a generated revision's signature does not verify");
  return (thread_cpu_ns () - start) / 1e3 / n;
}

/* ----- the benchmark ---------------------------------------------------------------------- */

typedef struct
{
  guint clients;
  PhaseResult health, push, single, pull;
} LevelResult;

typedef struct
{
  CpsTestServer *server;
  char *pid;
  ClientKind kind;
  GSocketAddress *address;
  char *host;
  GPtrArray *clients; /* BenchClient */
  char *account_id;
  guint64 stored; /* revisions the server holds */
  guint64 document_bytes, revision_bytes, generated;
  double generate_seconds;
} Bench;

static void
bench_client_free (BenchClient *client)
{
  cps_test_client_free (client->login);
  g_free (client->authorization);
  http_free (client->http);
  g_free (client);
}

static Chain *
new_chain (Bench *bench, BenchClient *client, guint level, guint index, const char *kind,
           guint n_revisions, guint per_body, gboolean keep_texts)
{
  Chain *chain = g_new0 (Chain, 1);

  chain->client = client;
  chain->project_name
      = g_strdup_printf ("Bench %s · %u clients · device %u", kind, level, index + 1);
  chain->project_id
      = cps_test_create_project (bench->server, client->login, chain->project_name, FALSE);
  chain->n_revisions = n_revisions;
  chain->per_body = per_body;
  chain->seed = g_str_hash (chain->project_name);
  chain->keep_texts = keep_texts;
  return chain;
}

static void
count_generated (Bench *bench, GPtrArray *chains)
{
  for (guint i = 0; i < chains->len; i++)
    {
      Chain *chain = g_ptr_array_index (chains, i);

      bench->document_bytes += chain->document_bytes;
      bench->revision_bytes += chain->revision_bytes;
      bench->generated += chain->n_revisions;
    }
}

static void
run_pushes (Bench *bench, const char *name, GPtrArray *chains, PhaseResult *result)
{
  g_autofree Worker *workers = g_new0 (Worker, chains->len);
  Phase phase = { 0 };

  for (guint i = 0; i < chains->len; i++)
    {
      Chain *chain = g_ptr_array_index (chains, i);

      workers[i].client = chain->client;
      workers[i].bodies = chain->bodies;
      workers[i].path = g_strdup_printf ("/v1/projects/%s/revisions", chain->project_id);
    }
  phase.name = name;
  phase.func = push_work;
  phase.n_workers = chains->len;
  phase.workers = workers;
  run_phase (&phase, bench->pid, result);
  for (guint i = 0; i < chains->len; i++)
    g_free (workers[i].path);
  bench->stored += result->items;
}

static void
run_health (Bench *bench, guint level, guint total, PhaseResult *result)
{
  g_autofree Worker *workers = g_new0 (Worker, level);
  Phase phase = { 0 };

  for (guint i = 0; i < level; i++)
    {
      workers[i].client = g_ptr_array_index (bench->clients, i);
      workers[i].count = total / level + (i < total % level ? 1 : 0);
    }
  phase.name = "health";
  phase.func = health_work;
  phase.n_workers = level;
  phase.workers = workers;
  run_phase (&phase, bench->pid, result);
}

/* @level readers share the feed: reader i reads the i-th slice of the sequence, starting
 * from the "since" token a client that had read up to there would hold. */
static void
run_pull (Bench *bench, guint level, PhaseResult *result)
{
  g_autofree Worker *workers = g_new0 (Worker, level);
  Phase phase = { 0 };
  guint64 start = 0;

  for (guint i = 0; i < level; i++)
    {
      guint64 share = bench->stored / level + (i < bench->stored % level ? 1 : 0);

      workers[i].client = g_ptr_array_index (bench->clients, i);
      workers[i].count = (guint) share;
      if (start > 0)
        {
          char value[32];

          g_snprintf (value, sizeof value, "%" G_GUINT64_FORMAT, start);
          workers[i].since = cps_cursor_encode ("changes", value);
        }
      start += share;
    }
  phase.name = "pull";
  phase.func = pull_work;
  phase.n_workers = level;
  phase.workers = workers;
  run_phase (&phase, bench->pid, result);
  for (guint i = 0; i < level; i++)
    g_free (workers[i].since);
}

/* One page read and parsed strictly, to check that the counting in pull_work() matches the
 * feed's real shape. */
static void
check_feed_shape (Bench *bench)
{
  BenchClient *client = g_ptr_array_index (bench->clients, 0);
  Http *http = client->http;
  g_autoptr (CpsJsonDocument) doc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *next = NULL;
  const CpsJsonNode *changes;
  guint counted;

  http_request (http, "GET", "/v1/changes?limit=7", client->authorization, NULL, 0);
  expect_status (http, 200, "GET /v1/changes");
  doc = cps_json_document_parse_copy (http->body, http->body_length, NULL, &error);
  if (doc == NULL)
    fail ("the changes feed is not JSON: %s", error->message);
  changes = cps_json_object_get (cps_json_document_get_root (doc), "changes");
  counted = count_occurrences (http->body, http->body_length, "{\"seq\":");
  next = find_next (http->body, http->body_length);
  if (changes == NULL || changes->type != CPS_JSON_ARRAY || changes->n != 7 || counted != 7
      || g_strcmp0 (next, cps_json_object_get_string (cps_json_document_get_root (doc), "next"))
             != 0)
    fail ("the changes feed does not have the shape this benchmark counts: %.*s",
          (int) MIN (http->body_length, 400), http->body);
}

static void
print_ratio_row (const char *label, const LevelResult *levels, guint n_levels,
                 double (*value) (const LevelResult *level, gpointer data), gpointer data,
                 const char *format)
{
  printf ("  %-44s", label);
  for (guint i = 0; i < n_levels; i++)
    {
      double v = value (&levels[i], data);
      char cell[32];

      if (isnan (v))
        g_snprintf (cell, sizeof cell, "–");
      else
        g_snprintf (cell, sizeof cell, format, v);
      printf (" %14s", cell);
    }
  printf ("\n");
}

static double
rate_of (const PhaseResult *r)
{
  return r->ran && r->seconds > 0 ? r->items / r->seconds : NAN;
}

static double
requests_rate_of (const PhaseResult *r)
{
  return r->ran && r->seconds > 0 ? r->requests / r->seconds : NAN;
}

static double
value_push_rate (const LevelResult *l, gpointer data)
{
  return rate_of (&l->push);
}

static double
value_push_floor (const LevelResult *l, gpointer data)
{
  return rate_of (&l->push) / *(double *) data;
}

static double
value_pull_rate (const LevelResult *l, gpointer data)
{
  return rate_of (&l->pull);
}

static double
value_pull_push (const LevelResult *l, gpointer data)
{
  return rate_of (&l->pull) / rate_of (&l->push);
}

static double
value_single_p50 (const LevelResult *l, gpointer data)
{
  return l->single.ran ? l->single.p50_ms : NAN;
}

static double
value_single_p99 (const LevelResult *l, gpointer data)
{
  return l->single.ran ? l->single.p99_ms : NAN;
}

static double
value_single_rate (const LevelResult *l, gpointer data)
{
  return rate_of (&l->single);
}

static double
value_health_rate (const LevelResult *l, gpointer data)
{
  return rate_of (&l->health);
}

static double
value_health_p99 (const LevelResult *l, gpointer data)
{
  return l->health.ran ? l->health.p99_ms : NAN;
}

static double
value_single_health_p99 (const LevelResult *l, gpointer data)
{
  return value_single_p99 (l, NULL) / value_health_p99 (l, NULL);
}

static double
value_single_health_rate (const LevelResult *l, gpointer data)
{
  return requests_rate_of (&l->single) / requests_rate_of (&l->health);
}

static double
value_push_health_rate (const LevelResult *l, gpointer data)
{
  return requests_rate_of (&l->push) / requests_rate_of (&l->health);
}

static double
value_pull_health_rate (const LevelResult *l, gpointer data)
{
  return requests_rate_of (&l->pull) / requests_rate_of (&l->health);
}

static double
cpu_share (const PhaseResult *r, gboolean server)
{
  if (!r->ran || r->seconds <= 0)
    return NAN;
  return 100 * (server ? r->server_cpu : r->client_cpu) / (r->seconds * g_get_num_processors ());
}

static double
value_push_server_cpu (const LevelResult *l, gpointer data)
{
  return cpu_share (&l->push, TRUE);
}

static double
value_push_client_cpu (const LevelResult *l, gpointer data)
{
  return cpu_share (&l->push, FALSE);
}

static double
value_pull_client_cpu (const LevelResult *l, gpointer data)
{
  return cpu_share (&l->pull, FALSE);
}

static double
value_health_client_cpu (const LevelResult *l, gpointer data)
{
  return cpu_share (&l->health, FALSE);
}

static double
value_single_server_cpu (const LevelResult *l, gpointer data)
{
  return cpu_share (&l->single, TRUE);
}

/* CPU time per item (revision or request) in µs: costs that other load on the machine
 * hardly changes, unlike rates. */
static double
cpu_per_item_us (const PhaseResult *r, gboolean server)
{
  if (!r->ran || r->items == 0)
    return NAN;
  return 1e6 * (server ? r->server_cpu : r->client_cpu) / r->items;
}

static double
value_push_server_us (const LevelResult *l, gpointer data)
{
  return cpu_per_item_us (&l->push, TRUE);
}

static double
value_push_capacity (const LevelResult *l, gpointer data)
{
  return g_get_num_processors () * 1e6 / cpu_per_item_us (&l->push, TRUE);
}

static double
value_pull_server_us (const LevelResult *l, gpointer data)
{
  return cpu_per_item_us (&l->pull, TRUE);
}

static double
value_single_server_us (const LevelResult *l, gpointer data)
{
  return cpu_per_item_us (&l->single, TRUE);
}

static double
value_health_server_us (const LevelResult *l, gpointer data)
{
  return cpu_per_item_us (&l->health, TRUE);
}

static double
value_health_client_us (const LevelResult *l, gpointer data)
{
  return cpu_per_item_us (&l->health, FALSE);
}

static void
ignore_print (const char *text)
{
}

static gboolean
parse_levels (const char *text, guint *levels, guint *n_levels)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", 0);

  *n_levels = 0;
  for (guint i = 0; parts[i] != NULL; i++)
    {
      guint64 value;

      if (*n_levels == 8
          || !g_ascii_string_to_unsigned (g_strstrip (parts[i]), 10, 1, MAX_CLIENTS, &value, NULL))
        return FALSE;
      levels[(*n_levels)++] = (guint) value;
    }
  return *n_levels > 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *server_path = NULL;
  g_autofree char *levels_text = NULL;
  g_autofree char *client_text = NULL;
  g_autofree char *floor_dir = NULL;
  g_autoptr (GUri) uri = NULL;
  g_auto (GStrv) server_args = NULL;
  gint stored = 100000, singles = 2000, health = 20000;
  guint levels[8], n_levels = 0, max_level = 0;
  LevelResult results[8];
  FloorResult floor_one = { 0 }, floor_all = { 0 }, floor_overlapped = { 0 }, floor_single = { 0 };
  double single_floor_p99 = NAN;
  Memory after_push = { 0 }, at_end = { 0 };
  Bench bench = { 0 };
  double best_push = 0, best_pull = 0, floor_rate, overlapped_rate, verify_us = NAN;
  guint best_push_level = 0, best_pull_level = 0;
  gboolean keep = FALSE;
  GPrintFunc old_print;
  char a[32], b[32], c[32];
  gint64 start;
  GOptionEntry entries[]
      = { { "server", 0, 0, G_OPTION_ARG_FILENAME, &server_path,
            "The cps-server to run (default: $CPS_SERVER)", "PATH" },
          { "levels", 0, 0, G_OPTION_ARG_STRING, &levels_text,
            "Concurrent clients of each round (default: 1,8,32)", "N,N,…" },
          { "stored", 0, 0, G_OPTION_ARG_INT, &stored,
            "Revisions pushed in batches, shared by the rounds (default: 100000)", "N" },
          { "singles", 0, 0, G_OPTION_ARG_INT, &singles,
            "Single-revision pushes per round (default: 2000)", "N" },
          { "health", 0, 0, G_OPTION_ARG_INT, &health,
            "GET /v1/health requests per round (default: 20000)", "N" },
          { "client", 0, 0, G_OPTION_ARG_STRING, &client_text,
            "HTTP client: raw (HTTP/1.1 over a socket) or soup (SoupSession)", "raw|soup" },
          { "keep", 0, 0, G_OPTION_ARG_NONE, &keep, "Keep the data directory", NULL },
          { "server-arg", 0, 0, G_OPTION_ARG_STRING_ARRAY, &server_args,
            "One more argument for cps-server serve, e.g. --server-arg=--workers=8 (repeatable)",
            "ARG" },
          { "perf", 0, 0, G_OPTION_ARG_STRING, &profile_phase,
            "Profile the server with perf record during one phase (health, push, single or pull) "
            "of one round, e.g. push:8",
            "PHASE:CLIENTS" },
          { "perf-output", 0, 0, G_OPTION_ARG_FILENAME, &profile_output,
            "Where --perf writes (default: perf-server.data)", "FILE" },
          { NULL } };

  setvbuf (stdout, NULL, _IOLBF, 0); /* progress shows as it happens, also in a file */
  context = g_option_context_new ("— cps-server push, pull and latency under load");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "bench-server: %s\n", error->message);
      return 2;
    }
  if (!parse_levels (levels_text != NULL ? levels_text : "1,8,32", levels, &n_levels) || stored < 0
      || singles < 0 || health < 0)
    {
      fprintf (stderr,
               "bench-server: --levels takes up to 8 counts between 1 and %d, and "
               "--stored, --singles and --health take counts.\n",
               MAX_CLIENTS);
      return 2;
    }
  if (client_text == NULL || strcmp (client_text, "raw") == 0)
    bench.kind = CLIENT_RAW;
  else if (strcmp (client_text, "soup") == 0)
    bench.kind = CLIENT_SOUP;
  else
    {
      fprintf (stderr, "bench-server: --client is raw or soup.\n");
      return 2;
    }
  if (profile_output == NULL)
    profile_output = g_strdup ("perf-server.data");
  if (server_path != NULL)
    g_setenv ("CPS_SERVER", server_path, TRUE);
  if (g_getenv ("CPS_SERVER") == NULL)
    {
      fprintf (stderr, "bench-server: give the cps-server to run with --server PATH (or set "
                       "CPS_SERVER).\n");
      return 2;
    }
  if (sodium_init () < 0)
    fail ("libsodium could not start");
  for (guint i = 0; i < n_levels; i++)
    max_level = MAX (max_level, levels[i]);
  keep_data = keep;

  /* ----- setup: server, account, devices ----- */
  printf ("bench-server: %s, %u cores, %s client\n", g_getenv ("CPS_SERVER"),
          g_get_num_processors (),
          bench.kind == CLIENT_RAW ? "raw HTTP/1.1 (blocking GSocket)" : "libsoup SoupSession");
  bench.server = the_server = cps_test_server_start (NULL, (const char *const *) server_args);
  bench.pid = g_strdup (g_subprocess_get_identifier (bench.server->process));
  uri = g_uri_parse (bench.server->base_url, G_URI_FLAGS_NONE, &error);
  if (uri == NULL)
    fail ("%s: %s", bench.server->base_url, error->message);
  bench.address
      = g_inet_socket_address_new_from_string (g_uri_get_host (uri), g_uri_get_port (uri));
  bench.host = g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri));
  printf ("server: pid %s at %s, data in %s\n", bench.pid, bench.server->base_url,
          bench.server->data_dir);
  {
    g_autofree char *load = NULL;

    if (g_file_get_contents ("/proc/loadavg", &load, NULL, NULL))
      printf ("machine load average before the run: %.*s (every figure assumes the cores are "
              "otherwise idle; see “others” below)\n",
              (int) strcspn (load, " "), load);
  }

  /* the fixture reports the command's output with g_test_message() */
  old_print = g_set_print_handler (ignore_print);
  cps_test_server_add_account (bench.server, "crew", PASSWORD, "member");
  g_set_print_handler (old_print);
  bench.clients = g_ptr_array_new_with_free_func ((GDestroyNotify) bench_client_free);
  for (guint i = 0; i < max_level; i++)
    {
      BenchClient *client = g_new0 (BenchClient, 1);
      g_autofree char *name = g_strdup_printf ("Bench device %u", i + 1);

      client->login = cps_test_login (bench.server, "crew", PASSWORD, name);
      client->authorization = g_strconcat ("Bearer ", client->login->access_token, NULL);
      client->http = http_new (bench.kind, bench.address, bench.host, bench.server->base_url);
      g_ptr_array_add (bench.clients, client);
    }
  bench.account_id
      = g_strdup (((BenchClient *) g_ptr_array_index (bench.clients, 0))->login->account_id);
  printf ("setup: account “crew” (member), %u devices logged in\n\n", max_level);

  /* ----- rounds ----- */
  for (guint l = 0; l < n_levels; l++)
    {
      guint level = levels[l];
      guint share = (guint) stored / n_levels + (l < (guint) stored % n_levels ? 1 : 0);
      g_autoptr (GPtrArray) batch_chains
          = g_ptr_array_new_with_free_func ((GDestroyNotify) chain_free);
      g_autoptr (GPtrArray) single_chains
          = g_ptr_array_new_with_free_func ((GDestroyNotify) chain_free);
      g_autoptr (GPtrArray) all_chains = g_ptr_array_new ();
      LevelResult *result = &results[l];

      memset (result, 0, sizeof *result);
      result->clients = level;
      start = now_ns ();
      for (guint i = 0; i < level; i++)
        {
          BenchClient *client = g_ptr_array_index (bench.clients, i);
          guint n_batch = share / level + (i < share % level ? 1 : 0);
          guint n_single = (guint) singles / level + (i < (guint) singles % level ? 1 : 0);

          if (n_batch > 0)
            g_ptr_array_add (batch_chains, new_chain (&bench, client, level, i, "batches", n_batch,
                                                      BATCH_SIZE, l == 0));
          if (n_single > 0)
            g_ptr_array_add (single_chains,
                             new_chain (&bench, client, level, i, "single", n_single, 1, l == 0));
        }
      g_ptr_array_extend (all_chains, batch_chains, NULL, NULL);
      g_ptr_array_extend (all_chains, single_chains, NULL, NULL);
      generate_chains (all_chains);
      count_generated (&bench, all_chains);
      bench.generate_seconds += (now_ns () - start) / 1e9;
      printf ("round of %u client%s (%s + %s revisions signed in %.1f s, untimed)\n", level,
              level == 1 ? "" : "s", grouped (a, share), grouped (b, singles),
              (now_ns () - start) / 1e9);

      /* The floor, once, on the first round's batch revisions, before the server has them. */
      if (l == 0 && batch_chains->len > 0)
        {
          floor_dir = g_dir_make_tmp ("cps-bench-floor-XXXXXX", &error);
          if (floor_dir == NULL)
            fail ("%s", error->message);
          run_floor (floor_dir, bench.account_id, bench.clients, batch_chains, FLOOR_ONE_THREAD,
                     &floor_one);
          run_floor (floor_dir, bench.account_id, bench.clients, batch_chains, FLOOR_ALL_CORES,
                     &floor_all);
          run_floor (floor_dir, bench.account_id, bench.clients, batch_chains, FLOOR_OVERLAPPED,
                     &floor_overlapped);
          printf ("  floor   in process: parse + verify + insert, transactions of %u, "
                  "synchronous=FULL, WAL checkpoints as in the server\n",
                  BATCH_SIZE);
          printf ("          1 thread:   %8s revisions in %5.2f s = %8s revisions/s "
                  "(parse + verify %.2f s, insert %.2f s, commit %.2f s; others used %.0f%% "
                  "of the cores)\n",
                  grouped (a, floor_one.revisions), floor_one.seconds,
                  grouped (b, floor_one.revisions / floor_one.seconds), floor_one.prepare_seconds,
                  floor_one.insert_seconds, floor_one.commit_seconds,
                  100 * floor_one.other_cpu / (floor_one.seconds * g_get_num_processors ()));
          printf ("          %u threads:  %8s revisions in %5.2f s = %8s revisions/s "
                  "(parse + verify %.2f s, insert %.2f s, commit %.2f s; CPU %.0f%% of %u "
                  "cores, others %.0f%%)\n",
                  floor_all.threads, grouped (a, floor_all.revisions), floor_all.seconds,
                  grouped (b, floor_all.revisions / floor_all.seconds), floor_all.prepare_seconds,
                  floor_all.insert_seconds, floor_all.commit_seconds,
                  100 * floor_all.cpu / (floor_all.seconds * g_get_num_processors ()),
                  g_get_num_processors (),
                  100 * floor_all.other_cpu / (floor_all.seconds * g_get_num_processors ()));
          printf ("          %u threads, the next batch verified during each commit: %8s "
                  "revisions in %5.2f s = %8s revisions/s (waiting for parse + verify %.2f s, "
                  "insert %.2f s, commit %.2f s; CPU %.0f%%, others %.0f%%)\n",
                  floor_overlapped.threads, grouped (a, floor_overlapped.revisions),
                  floor_overlapped.seconds,
                  grouped (b, floor_overlapped.revisions / floor_overlapped.seconds),
                  floor_overlapped.prepare_seconds, floor_overlapped.insert_seconds,
                  floor_overlapped.commit_seconds,
                  100 * floor_overlapped.cpu / (floor_overlapped.seconds * g_get_num_processors ()),
                  100 * floor_overlapped.other_cpu
                      / (floor_overlapped.seconds * g_get_num_processors ()));
          verify_us = measure_verify_us (g_ptr_array_index (batch_chains, 0));
          printf ("          CPU per revision: %.0f µs on 1 thread, %.0f µs on %u threads, "
                  "%.0f µs overlapped\n",
                  1e6 * floor_one.cpu / floor_one.revisions,
                  1e6 * floor_all.cpu / floor_all.revisions, floor_all.threads,
                  1e6 * floor_overlapped.cpu / floor_overlapped.revisions);
          printf ("          Ed25519 verify alone: %.1f µs of CPU per revision, so at most "
                  "%s revisions/s on %u cores before anything else\n",
                  verify_us, grouped (a, 1e6 / verify_us * g_get_num_processors ()),
                  g_get_num_processors ());
          if (single_chains->len > 0)
            {
              g_autoptr (GArray) latencies = g_array_new (FALSE, FALSE, sizeof (gint64));

              run_single_floor (floor_dir, bench.account_id, bench.clients, single_chains,
                                latencies, &floor_single);
              single_floor_p99 = percentile_ms (latencies, 0.99);
              printf (
                  "          single:     %8s revisions one by one, a transaction each: "
                  "p50 %.2f  p99 %.2f  max %.2f ms (parse + verify %.2f s, insert %.2f s, "
                  "commit %.2f s; others used %.0f%% of the cores)\n",
                  grouped (a, floor_single.revisions), percentile_ms (latencies, 0.50),
                  single_floor_p99, percentile_ms (latencies, 1.0), floor_single.prepare_seconds,
                  floor_single.insert_seconds, floor_single.commit_seconds,
                  100 * floor_single.other_cpu / (floor_single.seconds * g_get_num_processors ()));
            }
          cps_test_remove_tree (floor_dir);
        }
      for (guint i = 0; i < all_chains->len; i++)
        g_clear_pointer (&((Chain *) g_ptr_array_index (all_chains, i))->texts, g_ptr_array_unref);

      if (health > 0)
        {
          run_health (&bench, level, (guint) health, &result->health);
          print_phase ("health", "requests", &result->health, "request");
        }
      if (batch_chains->len > 0)
        {
          run_pushes (&bench, "push", batch_chains, &result->push);
          print_phase ("push", "revisions", &result->push, "batch  ");
        }
      if (single_chains->len > 0)
        {
          run_pushes (&bench, "single", single_chains, &result->single);
          print_phase ("single", "pushes", &result->single, "push   ");
        }
      printf ("\n");
    }

  server_memory (bench.pid, &after_push);
  printf ("server memory with %s revisions stored: VmRSS %.1f MiB (anonymous %.1f, files %.1f, "
          "shared %.1f), VmHWM %.1f MiB\n",
          grouped (a, bench.stored), after_push.rss / 1024.0, after_push.anon / 1024.0,
          after_push.file / 1024.0, after_push.shmem / 1024.0, after_push.hwm / 1024.0);
  print_database_files ();

  /* ----- pulls ----- */
  if (bench.stored > 0)
    {
      check_feed_shape (&bench);
      printf ("pull of all %s revisions through GET /v1/changes (limit %u), shared by the "
              "readers\n",
              grouped (a, bench.stored), PAGE_SIZE);
      for (guint l = 0; l < n_levels; l++)
        {
          run_pull (&bench, MIN (levels[l], (guint) bench.stored), &results[l].pull);
          print_phase ("pull", "revisions", &results[l].pull, "page   ");
        }
      printf ("\n");
    }
  server_memory (bench.pid, &at_end);
  printf ("server memory after the pulls: VmRSS %.1f MiB (anonymous %.1f, files %.1f, shared "
          "%.1f), VmHWM %.1f MiB\n\n",
          at_end.rss / 1024.0, at_end.anon / 1024.0, at_end.file / 1024.0, at_end.shmem / 1024.0,
          at_end.hwm / 1024.0);

  /* ----- summary ----- */
  floor_rate = floor_all.revisions > 0 ? floor_all.revisions / floor_all.seconds : NAN;
  overlapped_rate = floor_overlapped.revisions > 0
                        ? floor_overlapped.revisions / floor_overlapped.seconds
                        : NAN;
  printf ("documents: %s bytes on average; revisions as pushed: %s bytes on average; "
          "signing took %.1f s (untimed)\n",
          grouped (a, bench.document_bytes / (double) MAX (bench.generated, 1)),
          grouped (b, bench.revision_bytes / (double) MAX (bench.generated, 1)),
          bench.generate_seconds);
  printf ("\n  %-44s", "clients");
  for (guint l = 0; l < n_levels; l++)
    printf (" %14u", levels[l]);
  printf ("\n");
  print_ratio_row ("push, revisions/s", results, n_levels, value_push_rate, NULL, "%.0f");
  print_ratio_row ("pull, revisions/s", results, n_levels, value_pull_rate, NULL, "%.0f");
  print_ratio_row ("single push, p50 ms", results, n_levels, value_single_p50, NULL, "%.2f");
  print_ratio_row ("single push, p99 ms", results, n_levels, value_single_p99, NULL, "%.2f");
  print_ratio_row ("single push, pushes/s", results, n_levels, value_single_rate, NULL, "%.0f");
  print_ratio_row ("health, requests/s", results, n_levels, value_health_rate, NULL, "%.0f");
  print_ratio_row ("health, p99 ms", results, n_levels, value_health_p99, NULL, "%.2f");
  print_ratio_row ("push ÷ raw floor (all cores)", results, n_levels, value_push_floor, &floor_rate,
                   "%.2f");
  print_ratio_row ("push ÷ raw floor (overlapped)", results, n_levels, value_push_floor,
                   &overlapped_rate, "%.2f");
  print_ratio_row ("pull ÷ push, revisions/s", results, n_levels, value_pull_push, NULL, "%.2f");
  print_ratio_row ("single push p99 ÷ health p99", results, n_levels, value_single_health_p99, NULL,
                   "%.1f");
  print_ratio_row ("single pushes/s ÷ health requests/s", results, n_levels,
                   value_single_health_rate, NULL, "%.3f");
  print_ratio_row ("push requests/s ÷ health requests/s", results, n_levels, value_push_health_rate,
                   NULL, "%.4f");
  print_ratio_row ("pull requests/s ÷ health requests/s", results, n_levels, value_pull_health_rate,
                   NULL, "%.4f");
  print_ratio_row ("server CPU in push, % of all cores", results, n_levels, value_push_server_cpu,
                   NULL, "%.0f%%");
  print_ratio_row ("bench CPU in push, % of all cores", results, n_levels, value_push_client_cpu,
                   NULL, "%.0f%%");
  print_ratio_row ("server CPU in single push, % of all cores", results, n_levels,
                   value_single_server_cpu, NULL, "%.0f%%");
  print_ratio_row ("bench CPU in pull, % of all cores", results, n_levels, value_pull_client_cpu,
                   NULL, "%.0f%%");
  print_ratio_row ("bench CPU in health, % of all cores", results, n_levels,
                   value_health_client_cpu, NULL, "%.0f%%");
  print_ratio_row ("server CPU per pushed revision, µs", results, n_levels, value_push_server_us,
                   NULL, "%.0f");
  print_ratio_row ("  so push if CPU-bound on idle cores, rev/s", results, n_levels,
                   value_push_capacity, NULL, "%.0f");
  print_ratio_row ("server CPU per pulled revision, µs", results, n_levels, value_pull_server_us,
                   NULL, "%.1f");
  print_ratio_row ("server CPU per single push, µs", results, n_levels, value_single_server_us,
                   NULL, "%.0f");
  print_ratio_row ("server CPU per health request, µs", results, n_levels, value_health_server_us,
                   NULL, "%.0f");
  print_ratio_row ("bench CPU per health request, µs", results, n_levels, value_health_client_us,
                   NULL, "%.0f");
  printf ("  raw floor: %s revisions/s on 1 thread, %s on %u threads, %s overlapped\n",
          grouped (a, floor_one.revisions / MAX (floor_one.seconds, 1e-9)), grouped (b, floor_rate),
          floor_all.threads, grouped (c, overlapped_rate));
  if (!isnan (overlapped_rate))
    printf ("  the push target is %.2f × the overlapped raw floor of this machine\n",
            TARGET_PUSH_PER_S / overlapped_rate);
  if (!isnan (single_floor_p99))
    printf ("  single-revision floor p99 %.2f ms: the single-push target leaves %.2f ms for HTTP "
            "and the contract's checks\n",
            single_floor_p99, TARGET_SINGLE_P99_MS - single_floor_p99);

  for (guint l = 0; l < n_levels; l++)
    {
      double push = rate_of (&results[l].push), pull = rate_of (&results[l].pull);

      if (!isnan (push) && push > best_push)
        {
          best_push = push;
          best_push_level = levels[l];
        }
      if (!isnan (pull) && pull > best_pull)
        {
          best_pull = pull;
          best_pull_level = levels[l];
        }
    }

  printf ("\n  %-52s %-26s %s\n", "target", "measured", "verdict");
  g_snprintf (c, sizeof c, "%s (%u clients)", grouped (a, best_push), best_push_level);
  printf ("  %-52s %-26s %s\n", "push ≥ 17,000 revisions/s (best round)", c,
          best_push >= TARGET_PUSH_PER_S ? "PASS" : "FAIL");
  g_snprintf (c, sizeof c, "%s (%u clients)", grouped (a, best_pull), best_pull_level);
  printf ("  %-52s %-26s %s\n", "pull ≥ 25,000 revisions/s (best round)", c,
          best_pull >= TARGET_PULL_PER_S ? "PASS" : "FAIL");
  for (guint l = 0; l < n_levels; l++)
    if (levels[l] == 1 && results[l].single.ran)
      {
        g_snprintf (c, sizeof c, "%.2f ms", results[l].single.p99_ms);
        printf ("  %-52s %-26s %s\n", "single push p99 ≤ 2 ms (1 client)", c,
                results[l].single.p99_ms <= TARGET_SINGLE_P99_MS ? "PASS" : "FAIL");
      }
  {
    gint64 rss = MAX (after_push.rss, at_end.rss);
    g_autofree char *label
        = g_strdup_printf ("server RSS ≤ 64 MiB, %s revisions stored", grouped (a, bench.stored));

    g_snprintf (c, sizeof c, "%.1f MiB", rss / 1024.0);
    printf ("  %-52s %-26s %s\n", label, c,
            bench.stored >= 100000 && rss / 1024.0 <= TARGET_RSS_MIB
                ? "PASS"
                : (bench.stored < 100000 ? "n/a (fewer stored)" : "FAIL"));
    printf ("  (VmRSS %.1f MiB after the pushes, %.1f MiB after the pulls; peak VmHWM %.1f MiB)\n",
            after_push.rss / 1024.0, at_end.rss / 1024.0, at_end.hwm / 1024.0);
  }
  {
    guint reconnects = 0;

    for (guint i = 0; i < bench.clients->len; i++)
      reconnects += ((BenchClient *) g_ptr_array_index (bench.clients, i))->http->reconnects;
    if (reconnects > 0)
      printf ("  (%u kept-alive connections were closed by the server and opened again)\n",
              reconnects);
  }

  /* ----- cleanup ----- */
  if (keep)
    {
      bench.server->own_data_dir = FALSE;
      printf ("\ndata kept in %s\n", bench.server->data_dir);
    }
  g_clear_pointer (&bench.clients, g_ptr_array_unref);
  the_server = NULL;
  cps_test_server_free (bench.server);
  g_clear_object (&bench.address);
  g_free (bench.host);
  g_free (bench.pid);
  g_free (bench.account_id);
  return 0;
}
