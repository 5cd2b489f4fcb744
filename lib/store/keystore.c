/* The key store's front (kedge/keystore.h): URIs, options, checking and sealing calls,
 * handing results back. The backends are memory.c, sqlite.c and redis.c. */
#include "store.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "kedge/log.h"

struct ks_deferred {
  LIST_ENTRY(ks_deferred) link; /* in ks->deferred */
  kedge_keystore_t *ks;
  struct event *ev;
  ks_call_t call;
  kedge_err_t err;
  bool has_row;
  ks_row_t row;
};

void ks_why(char *why, size_t why_size, const char *fmt, ...)
{
  if (!why || !why_size)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, why_size, fmt, ap);
  va_end(ap);
  /* one line, whatever a library said */
  for (char *p = why; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
}

/* ---- URIs ---- */

static const char uri_forms[] = "sqlite:PATH, redis://HOST:PORT[/DB] or memory:";

/* What is wrong with a redis:// URI, after the URI itself (which never holds a password:
 * those are refused before anything is echoed). */
static const char need_host[] = "needs a host: redis://HOST:PORT[/DB]",
                  need_port[] = "needs a port: redis://HOST:PORT[/DB]",
                  bad_port[] = "the port must be a number from 1 to 65535",
                  bad_db[] = "after the port, only /DB with a database number",
                  bad_v6[] = "an IPv6 host goes in brackets: redis://[ADDR]:PORT",
                  bad_host[] = "the host has a character outside [A-Za-z0-9.-]";

static const char *curlu_problem(CURLUcode rc, const char *rest)
{
  switch (rc) {
  case CURLUE_BAD_IPV6:
    return bad_v6;
  case CURLUE_BAD_PORT_NUMBER: {
    if (rest[0] == '[') /* "[::1]6379" */
      return bad_v6;
    /* "host:abc" has no port, "host:6379x" a bad one */
    const char *colon = strchr(rest, ':');
    return colon && isdigit((unsigned char)colon[1]) ? bad_port : need_port;
  }
  case CURLUE_NO_HOST:
    return need_host;
  case CURLUE_BAD_PATH:
    return bad_db;
  default:
    return bad_host;
  }
}

/* The database number (Redis SELECT) of the path: "/" or "/" and decimal digits. */
static bool db_number(const char *path, const char *uri, int *db)
{
  *db = 0;
  if (!strcmp(path, "/")) /* CURLU says "/" for no path too: a "/" the text ends with is empty */
    return uri[strlen(uri) - 1] != '/';
  if (path[0] != '/' || !path[1] || strspn(path + 1, "0123456789") != strlen(path + 1))
    return false;
  errno = 0;
  long n = strtol(path + 1, NULL, 10);
  if (errno || n > INT_MAX)
    return false;
  *db = (int)n;
  return true;
}

/* redis://HOST:PORT[/DB] read with libcurl's URL API. CURLU normalises some text that kedge
 * refuses (a percent-encoded host, an empty host before a number, a trailing "/"): those are
 * told apart on the text, so that the accepted forms stay what they were. */
static const char *redis_problem(CURLU *h, const char *uri, const char *rest, ks_uri_t *u)
{
  if (rest[0] == '/' || rest[0] == ':')
    return need_host;
  if (memchr(rest, '%', strcspn(rest, "/?#")))
    return bad_host;
  CURLUcode rc = curl_url_set(h, CURLUPART_URL, uri, CURLU_NON_SUPPORT_SCHEME);
  if (rc)
    return curlu_problem(rc, rest);
  char *host = NULL, *port = NULL, *path = NULL, *query = NULL, *fragment = NULL, *zone = NULL;
  curl_url_get(h, CURLUPART_HOST, &host, 0);
  curl_url_get(h, CURLUPART_PORT, &port, 0);
  curl_url_get(h, CURLUPART_PATH, &path, 0);
  curl_url_get(h, CURLUPART_QUERY, &query, 0);
  curl_url_get(h, CURLUPART_FRAGMENT, &fragment, 0);
  curl_url_get(h, CURLUPART_ZONEID, &zone, 0);
  const char *problem = NULL;
  const char *name = host ? host : "";
  size_t len = strlen(name);
  if (rest[0] == '[') { /* CURLU keeps the brackets: the address goes without them */
    name++;
    len = len >= 2 ? len - 2 : 0;
  }
  if (len == 0 || len >= sizeof(u->host))
    problem = need_host;
  else if (zone ||
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-:_") < len)
    problem = bad_host;
  else if (!port)
    problem = rest[0] == '[' ? bad_v6 : need_port;
  else if (atoi(port) < 1 || query || fragment)
    problem = bad_port;
  else if (!path || !db_number(path, uri, &u->db))
    problem = bad_db;
  if (!problem) {
    memcpy(u->host, name, len);
    u->host[len] = '\0';
    u->port = atoi(port);
  }
  curl_free(host);
  curl_free(port);
  curl_free(path);
  curl_free(query);
  curl_free(fragment);
  curl_free(zone);
  return problem;
}

static kedge_err_t parse_redis(const char *uri, const char *rest, ks_uri_t *u, char *why,
                               size_t why_size)
{
  if (strchr(rest, '@')) {
    /* not echoed: it may hold a password */
    ks_why(why, why_size,
           "key store redis://...: no credentials in the URI: give the Redis user and password as "
           "options");
    return KEDGE_ERR_CONFIG;
  }
  CURLU *h = curl_url();
  if (!h) {
    ks_why(why, why_size, "key store URI: out of memory");
    return KEDGE_ERR_NOMEM;
  }
  const char *problem = redis_problem(h, uri, rest, u);
  curl_url_cleanup(h);
  if (problem) {
    ks_why(why, why_size, "key store \"%s\": %s", uri, problem);
    return KEDGE_ERR_CONFIG;
  }
  u->be = &ks_redis_backend;
  return KEDGE_OK;
}

kedge_err_t ks_parse_uri(const char *uri, ks_uri_t *u, char *why, size_t why_size)
{
  memset(u, 0, sizeof(*u));
  if (!uri || !*uri) {
    ks_why(why, why_size, "no key store URI: use %s", uri_forms);
    return KEDGE_ERR_CONFIG;
  }
  if (strlen(uri) > 4096) {
    ks_why(why, why_size, "key store URI longer than 4096 characters");
    return KEDGE_ERR_CONFIG;
  }
  if (strncmp(uri, "memory:", 7) == 0) {
    if (uri[7]) {
      ks_why(why, why_size, "key store \"%s\": memory: takes nothing after the colon", uri);
      return KEDGE_ERR_CONFIG;
    }
    u->be = &ks_memory_backend;
    return KEDGE_OK;
  }
  if (strncmp(uri, "sqlite:", 7) == 0) {
    u->path = uri + 7;
    if (!*u->path) {
      ks_why(why, why_size, "key store \"%s\": needs a path: sqlite:/var/lib/kedge/ausf-keys.db",
             uri);
      return KEDGE_ERR_CONFIG;
    }
    if (strncmp(u->path, "//", 2) == 0) {
      ks_why(why, why_size,
             "key store \"%s\": sqlite:PATH takes a file path, not //host: sqlite:/var/lib/...",
             uri);
      return KEDGE_ERR_CONFIG;
    }
    u->be = &ks_sqlite_backend;
    return KEDGE_OK;
  }
  if (strncmp(uri, "redis://", 8) == 0)
    return parse_redis(uri, uri + 8, u, why, why_size);
  /* Only the scheme is echoed: the rest may hold a password. */
  int scheme = (int)strcspn(uri, ":");
  if (scheme > 16)
    scheme = 16;
  if (strncmp(uri, "rediss://", 9) == 0) {
    ks_why(why, why_size,
           "rediss: not supported (hiredis 0.14 has no TLS): use redis://HOST:PORT on loopback or "
           "a private network");
    return KEDGE_ERR_CONFIG;
  }
  ks_why(why, why_size, "unknown kind of key store \"%.*s\": use %s", scheme, uri, uri_forms);
  return KEDGE_ERR_CONFIG;
}

kedge_err_t kedge_keystore_uri_check(const char *uri, char *why, size_t why_size)
{
  ks_uri_t u;
  return ks_parse_uri(uri, &u, why, why_size);
}

/* ---- open and close ---- */

static unsigned or_default(unsigned v, unsigned def)
{
  return v ? v : def;
}

kedge_err_t kedge_keystore_open(const char *uri, const kedge_master_key_t *mk,
                                struct event_base *base, const kedge_keystore_options_t *opts,
                                kedge_keystore_t **out, char *why, size_t why_size)
{
  if (why && why_size)
    why[0] = '\0';
  if (!mk || !base || !out) {
    ks_why(why, why_size, "kedge_keystore_open: missing argument");
    return KEDGE_ERR_INVALID_ARG;
  }
  *out = NULL;
  ks_uri_t u;
  kedge_err_t err = ks_parse_uri(uri, &u, why, why_size);
  if (err)
    return err;
  kedge_keystore_options_t o = {0};
  if (opts)
    o = *opts;
  o.connect_timeout_ms = or_default(o.connect_timeout_ms, 1000);
  o.op_timeout_ms = or_default(o.op_timeout_ms, 1000);
  o.reconnect_min_ms = or_default(o.reconnect_min_ms, 100);
  o.reconnect_max_ms = or_default(o.reconnect_max_ms, 5000);
  o.purge_interval_ms = or_default(o.purge_interval_ms, 60000);
  o.max_pending = or_default(o.max_pending, 10000);
  o.max_batch = or_default(o.max_batch, 512);
  o.wal_checkpoint_pages = or_default(o.wal_checkpoint_pages, 8192);
  if (o.reconnect_max_ms < o.reconnect_min_ms)
    o.reconnect_max_ms = o.reconnect_min_ms;
  if (o.max_batch > 65536) {
    ks_why(why, why_size, "%s: max_batch above 65536", uri);
    return KEDGE_ERR_CONFIG;
  }
  if (o.wal_checkpoint_pages > 1000000) {
    ks_why(why, why_size, "%s: wal_checkpoint_pages above 1000000", uri);
    return KEDGE_ERR_CONFIG;
  }
  if (o.redis_user && !o.redis_password) {
    ks_why(why, why_size, "%s: a Redis user needs a password", uri);
    return KEDGE_ERR_CONFIG;
  }

  kedge_keystore_t *ks = calloc(1, sizeof(*ks));
  if (!ks)
    return KEDGE_ERR_NOMEM;
  ks->be = u.be;
  ks->base = base;
  ks->mk = *mk;
  ks->opts = o;
  if ((err = kedge_unsealer_new(&ks->mk, &ks->unsealer)) ||
      (err = kedge_sealer_new(&ks->mk, &ks->sealer)))
    ks_why(why, why_size, "%s: cannot set up sealing: %s", uri, kedge_strerror(err));
  else
    err = u.be->open(ks, &u, uri, why, why_size);
  /* Pointers into the caller's strings are not kept: the backend copied what it needs. */
  ks->opts.redis_user = NULL;
  ks->opts.redis_password = NULL;
  if (err) {
    kedge_unsealer_free(ks->unsealer);
    kedge_sealer_free(ks->sealer);
    kedge_master_key_clear(&ks->mk);
    free(ks);
    return err;
  }
  *out = ks;
  return KEDGE_OK;
}

const char *kedge_keystore_backend(const kedge_keystore_t *ks)
{
  return ks ? ks->be->name : "";
}

size_t kedge_keystore_pending(const kedge_keystore_t *ks)
{
  return ks ? ks->pending : 0;
}

static void deferred_free(ks_deferred_t *d)
{
  event_free(d->ev);
  OPENSSL_cleanse(d, sizeof(*d));
  free(d);
}

void kedge_keystore_close(kedge_keystore_t *ks)
{
  if (!ks)
    return;
  ks->be->close(ks);
  ks_deferred_t *d;
  while ((d = LIST_FIRST(&ks->deferred))) {
    LIST_REMOVE(d, link);
    deferred_free(d);
  }
  kedge_unsealer_free(ks->unsealer);
  kedge_sealer_free(ks->sealer);
  kedge_master_key_clear(&ks->mk);
  free(ks);
}

/* ---- results ---- */

static void log_unseal_failure(kedge_keystore_t *ks, const char *kedge_id)
{
  if (ks->unseal_failure_logged)
    return;
  ks->unseal_failure_logged = true;
  kedge_log_warn("keystore %s: the record of Kedge ID %s does not open under this master key "
                 "(another key, or altered): treated as absent; further ones are not logged",
                 ks->be->name, kedge_id);
}

void ks_deliver(kedge_keystore_t *ks, const ks_call_t *call, kedge_err_t err, const ks_row_t *row)
{
  ks->pending--;
  if (call->kind != KS_GET) {
    if (call->done)
      call->done(err, call->arg);
    return;
  }
  kedge_keystore_record_t rec;
  memset(&rec, 0, sizeof(rec));
  if (!err && row->expiry_ms <= kedge_wall_ms())
    err = KEDGE_ERR_NOT_FOUND; /* expired while queued: never returned (issue 5) */
  if (!err) {
    uint8_t plain[KEDGE_SEAL_MAX_PLAINTEXT];
    size_t len = 0;
    kedge_err_t e = kedge_unsealer_open(ks->unsealer, row->kedge_id, strlen(row->kedge_id),
                                        row->sealed, row->sealed_len, plain, &len);
    if (e || len != KEDGE_KEY_LEN) {
      log_unseal_failure(ks, row->kedge_id);
      err = KEDGE_ERR_NOT_FOUND;
    } else {
      memcpy(rec.kedge, plain, KEDGE_KEY_LEN);
      memcpy(rec.kedge_id, row->kedge_id, sizeof(rec.kedge_id));
      memcpy(rec.supi, row->supi, sizeof(rec.supi));
      rec.expiry_ms = row->expiry_ms;
      rec.created_ms = row->created_ms;
    }
    OPENSSL_cleanse(plain, sizeof(plain));
  }
  call->got(err, err ? NULL : &rec, call->arg);
  OPENSSL_cleanse(&rec, sizeof(rec));
}

static void deferred_run(evutil_socket_t fd, short what, void *p)
{
  ks_deferred_t *d = p;
  kedge_keystore_t *ks = d->ks;
  LIST_REMOVE(d, link);
  ks_call_t call = d->call;
  kedge_err_t err = d->err;
  ks_row_t row;
  if (d->has_row)
    row = d->row;
  bool has_row = d->has_row;
  deferred_free(d);
  ks_deliver(ks, &call, err, has_row ? &row : NULL);
  if (has_row)
    OPENSSL_cleanse(&row, sizeof(row));
}

kedge_err_t ks_defer(kedge_keystore_t *ks, const ks_call_t *call, kedge_err_t err,
                     const ks_row_t *row)
{
  if (call->kind == KS_GET && !err && !row)
    err = KEDGE_ERR_NOT_FOUND;
  ks_deferred_t *d = calloc(1, sizeof(*d));
  if (!d)
    return KEDGE_ERR_NOMEM;
  d->ev = event_new(ks->base, -1, 0, deferred_run, d);
  if (!d->ev) {
    free(d);
    return KEDGE_ERR_NOMEM;
  }
  d->ks = ks;
  d->call = *call;
  d->err = err;
  if (row) {
    d->row = *row;
    d->has_row = true;
  }
  LIST_INSERT_HEAD(&ks->deferred, d, link);
  event_active(d->ev, EV_TIMEOUT, 0);
  return KEDGE_OK;
}

/* ---- calls ---- */

static kedge_err_t submit(kedge_keystore_t *ks, const ks_call_t *call, const ks_row_t *row)
{
  kedge_err_t err = ks->pending >= ks->opts.max_pending ? ks_defer(ks, call, KEDGE_ERR_BUSY, NULL)
                                                        : ks->be->submit(ks, call, row);
  if (!err)
    ks->pending++;
  return err;
}

/* The row's key columns from a Kedge ID's text (len <= KEDGE_ID_MAX) and its parse. */
static void row_of_kedge_id(const char *text, size_t len, const kedge_id_t *id, ks_row_t *row)
{
  memcpy(row->kedge_id, text, len);
  row->kedge_id[len] = '\0';
  memcpy(row->tid, id->tid, KEDGE_TID_LEN);
  memcpy(row->rid, id->rid, sizeof(row->rid));
  memcpy(row->home, id->home.mcc, 3); /* MCC || MNC, 3 digits each (the realm's grammar) */
  memcpy(row->home + 3, id->home.mnc, 3);
  row->home[6] = '\0';
}

static kedge_err_t parse_kedge_id(const char *text, ks_row_t *row)
{
  if (!text)
    return KEDGE_ERR_INVALID_ARG;
  size_t len = strnlen(text, KEDGE_ID_MAX + 1);
  kedge_id_t id;
  if (len > KEDGE_ID_MAX || kedge_id_parse(text, len, &id, NULL) != KEDGE_OK)
    return KEDGE_ERR_BAD_KEDGE_ID;
  row_of_kedge_id(text, len, &id, row);
  return KEDGE_OK;
}

static kedge_err_t check_supi(const char *text, ks_row_t *row)
{
  if (!text)
    return KEDGE_ERR_INVALID_ARG;
  kedge_supi_t supi;
  if (strnlen(text, KEDGE_SUPI_MAX + 1) > KEDGE_SUPI_MAX || kedge_supi_parse(text, &supi))
    return KEDGE_ERR_BAD_SUPI;
  memcpy(row->supi, supi.value, supi.len + 1);
  return KEDGE_OK;
}

kedge_err_t kedge_keystore_put(kedge_keystore_t *ks, const kedge_keystore_record_t *rec,
                               kedge_keystore_done_fn done, void *arg)
{
  if (!ks || !rec || !done || rec->expiry_ms <= 0 || rec->created_ms < 0)
    return KEDGE_ERR_INVALID_ARG;
  ks_row_t row;
  memset(&row, 0, sizeof(row));
  kedge_err_t err;
  if ((err = parse_kedge_id(rec->kedge_id, &row)) || (err = check_supi(rec->supi, &row)))
    return err;
  row.expiry_ms = rec->expiry_ms;
  row.created_ms = rec->created_ms ? rec->created_ms : kedge_wall_ms();
  /* Sealed here, on the caller's thread: past this point only ciphertext travels (to the
   * writer thread, into Redis). Additional data: the Kedge ID (issue 5). */
  if ((err = kedge_sealer_seal(ks->sealer, row.kedge_id, strlen(row.kedge_id), rec->kedge,
                               KEDGE_KEY_LEN, row.sealed, &row.sealed_len)))
    return err;
  ks_call_t call = {.kind = KS_PUT, .done = done, .arg = arg};
  return submit(ks, &call, &row);
}

kedge_err_t kedge_keystore_get(kedge_keystore_t *ks, const char *kedge_id,
                               kedge_keystore_get_fn got, void *arg)
{
  if (!ks || !got)
    return KEDGE_ERR_INVALID_ARG;
  ks_row_t row;
  memset(&row, 0, sizeof(row));
  kedge_err_t err = parse_kedge_id(kedge_id, &row);
  if (err)
    return err;
  ks_call_t call = {.kind = KS_GET, .got = got, .arg = arg};
  return submit(ks, &call, &row);
}

kedge_err_t kedge_keystore_get_parsed(kedge_keystore_t *ks, const char *kedge_id,
                                      const kedge_id_t *id, kedge_keystore_get_fn got, void *arg)
{
  if (!ks || !got || !kedge_id || !id)
    return KEDGE_ERR_INVALID_ARG;
  size_t len = strnlen(kedge_id, KEDGE_ID_MAX + 1);
  if (len > KEDGE_ID_MAX)
    return KEDGE_ERR_BAD_KEDGE_ID;
  ks_row_t row;
  memset(&row, 0, sizeof(row));
  row_of_kedge_id(kedge_id, len, id, &row);
  ks_call_t call = {.kind = KS_GET, .got = got, .arg = arg};
  return submit(ks, &call, &row);
}

kedge_err_t kedge_keystore_delete_supi(kedge_keystore_t *ks, const char *supi,
                                       kedge_keystore_done_fn done, void *arg)
{
  if (!ks || !done)
    return KEDGE_ERR_INVALID_ARG;
  ks_row_t row;
  memset(&row, 0, sizeof(row));
  kedge_err_t err = check_supi(supi, &row);
  if (err)
    return err;
  ks_call_t call = {.kind = KS_DELETE_SUPI, .done = done, .arg = arg};
  return submit(ks, &call, &row);
}

kedge_err_t kedge_keystore_delete_key(kedge_keystore_t *ks, const char *supi, const char *kedge_id,
                                      kedge_keystore_done_fn done, void *arg)
{
  if (!ks || !done)
    return KEDGE_ERR_INVALID_ARG;
  ks_row_t row;
  memset(&row, 0, sizeof(row));
  kedge_err_t err;
  if ((err = check_supi(supi, &row)) || (err = parse_kedge_id(kedge_id, &row)))
    return err;
  ks_call_t call = {.kind = KS_DELETE_SUPI, .done = done, .arg = arg};
  return submit(ks, &call, &row);
}

kedge_err_t kedge_keystore_purge(kedge_keystore_t *ks, kedge_keystore_done_fn done, void *arg)
{
  if (!ks || !done)
    return KEDGE_ERR_INVALID_ARG;
  ks_row_t row;
  memset(&row, 0, sizeof(row));
  ks_call_t call = {.kind = KS_PURGE, .done = done, .arg = arg};
  return submit(ks, &call, &row);
}
