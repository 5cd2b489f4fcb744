/* The UDM's subscriber database: provisioning, K/OPc sealed at rest, durable SQN advance and
 * resynchronisation, CSV import (all or nothing, errors with file:line), AuthEvents (the latest
 * N per SUPI, removal, gone with the subscriber). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "kedge/hex.h"
#include "kedge/sqn.h"
#include "subscriber_db.h"
#include "testutil.h"
#include "udm.h"

static char dir[64], db_path[128];
static kedge_master_key_t mk;

static int setup(void **state)
{
  strcpy(dir, "/tmp/kedge-test-udm-XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  snprintf(db_path, sizeof(db_path), "%s/udm.sqlite", dir);
  memset(mk.key, 0x5a, sizeof(mk.key));
  return 0;
}

static int teardown(void **state)
{
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  return system(cmd);
}

static udm_db_t *open_db(const char *path)
{
  udm_db_t *db;
  char why[256] = "";
  if (udm_db_open(path, &mk, &db, why, sizeof(why)) != KEDGE_OK)
    fail_msg("open: %s", why);
  return db;
}

static void provision(udm_db_t *db, const char *supi, const char *sqn)
{
  udm_subscriber_text_t t = {.supi = supi,
                             .k = "465b5ce8b199b49faa5f0a2ee238a6bc",
                             .op = "cdc202d5123e20f62b6d676ac72cb318",
                             .sqn = sqn,
                             .rid = "12",
                             .edge = "true"};
  udm_subscriber_t sub;
  const char *field, *why;
  assert_int_equal(udm_subscriber_from_text(&t, &sub, &field, &why), KEDGE_OK);
  assert_int_equal(udm_db_add(db, &sub), KEDGE_OK);
  assert_int_equal(udm_db_add(db, &sub), KEDGE_ERR_EXISTS);
}

static int count_rows(const udm_subscriber_t *sub, void *arg)
{
  (*(int *)arg)++;
  return 0;
}

static void test_provision_and_read(void **state)
{
  udm_db_t *db = open_db(db_path);
  provision(db, "imsi-001010000000001", "ff9bb4d0b606");
  provision(db, "nai-alice@edge.example.org", NULL);
  udm_subscriber_t sub;
  assert_int_equal(udm_db_get(db, "imsi-001010000000001", &sub), KEDGE_OK);
  assert_string_equal(sub.routing_indicator, "12");
  assert_true(sub.edge_capable);
  assert_true(sub.sqn == 0xff9bb4d0b606ULL);
  const uint8_t zero[16] = {0}, amf[2] = {0x80, 0x00};
  assert_memory_equal(sub.cred.k, zero, 16); /* get never returns K */
  assert_memory_equal(sub.amf, amf, 2);

  /* OP was converted to OPc (TS 35.208 set 1) */
  assert_int_equal(udm_db_get_credentials(db, "imsi-001010000000001", &sub), KEDGE_OK);
  uint8_t opc[16];
  kedge_hex_decode("cd63cb71954a9f4e48a5994e37a02baf", opc, 16);
  assert_memory_equal(sub.cred.opc, opc, 16);

  int rows = 0;
  assert_int_equal(udm_db_list(db, count_rows, &rows), KEDGE_OK);
  assert_int_equal(rows, 2);
  assert_int_equal(udm_db_delete(db, "nai-alice@edge.example.org"), KEDGE_OK);
  assert_int_equal(udm_db_delete(db, "nai-alice@edge.example.org"), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(udm_db_get(db, "imsi-999990000000001", &sub), KEDGE_ERR_NOT_FOUND);
  udm_db_close(db);

  struct stat st;
  assert_int_equal(stat(db_path, &st), 0);
  assert_int_equal(st.st_mode & 077, 0);
}

static void test_keys_sealed_at_rest(void **state)
{
  /* Neither K nor OPc appears in the file; another master key cannot open them. */
  FILE *f = fopen(db_path, "rb");
  assert_non_null(f);
  static uint8_t data[1 << 20];
  size_t n = fread(data, 1, sizeof(data), f);
  fclose(f);
  uint8_t k[16], opc[16];
  kedge_hex_decode("465b5ce8b199b49faa5f0a2ee238a6bc", k, 16);
  kedge_hex_decode("cd63cb71954a9f4e48a5994e37a02baf", opc, 16);
  for (size_t i = 0; i + 16 <= n; i++) {
    assert_false(memcmp(data + i, k, 16) == 0);
    assert_false(memcmp(data + i, opc, 16) == 0);
  }
  /* Another master key does not open the database at all (its key-check record), rather
   * than opening it and failing every AKA later (issue 11 item 3). */
  kedge_master_key_t other;
  memset(other.key, 0x5b, sizeof(other.key));
  udm_db_t *db = NULL;
  char why[256] = "";
  assert_int_equal(udm_db_open(db_path, &other, &db, why, sizeof(why)), KEDGE_ERR_MAC_FAILURE);
  assert_null(db);
  assert_non_null(strstr(why, "the master key does not open this subscriber database"));
  assert_int_equal(udm_db_check_key(db_path, &other, why, sizeof(why)), KEDGE_ERR_MAC_FAILURE);
  assert_int_equal(udm_db_check_key(db_path, &mk, why, sizeof(why)), KEDGE_OK);
  char missing[300];
  snprintf(missing, sizeof(missing), "%s.absent", db_path);
  assert_int_equal(udm_db_check_key(missing, &other, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(access(missing, F_OK), -1); /* the check creates nothing */
}

static int key_check_rows(const char *path)
{
  sqlite3 *sql = NULL;
  sqlite3_stmt *st = NULL;
  int n = -1;
  if (sqlite3_open(path, &sql) == SQLITE_OK &&
      sqlite3_prepare_v2(sql, "SELECT count(*) FROM key_check", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(sql);
  return n;
}

static void test_key_check_added_to_old_database(void **state)
{
  /* A database written before the key-check record existed: a wrong key is still refused (a
   * subscriber's K does not open), the right one opens it and the record is written then. */
  char path[300];
  snprintf(path, sizeof(path), "%s/old.sqlite", dir);
  udm_db_t *db = open_db(path);
  provision(db, "imsi-001010000000007", NULL);
  udm_db_close(db);
  assert_int_equal(key_check_rows(path), 1);
  sqlite3 *sql = NULL;
  assert_int_equal(sqlite3_open(path, &sql), SQLITE_OK);
  assert_int_equal(sqlite3_exec(sql, "DROP TABLE key_check", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(sql);

  kedge_master_key_t other;
  memset(other.key, 0x5b, sizeof(other.key));
  char why[256] = "";
  assert_int_equal(udm_db_check_key(path, &other, why, sizeof(why)), KEDGE_ERR_MAC_FAILURE);
  assert_int_equal(udm_db_open(path, &other, &db, why, sizeof(why)), KEDGE_ERR_MAC_FAILURE);
  assert_int_equal(key_check_rows(path), -1); /* nothing written for a wrong key */
  db = open_db(path);
  udm_db_close(db);
  assert_int_equal(key_check_rows(path), 1);
  assert_int_equal(udm_db_open(path, &other, &db, why, sizeof(why)), KEDGE_ERR_MAC_FAILURE);
}

static void test_sqn_advances_durably(void **state)
{
  udm_db_t *db = open_db(db_path);
  udm_subscriber_t sub;
  assert_int_equal(udm_db_next_sqn(db, "imsi-001010000000001", NULL, &sub), KEDGE_OK);
  assert_true(sub.sqn == 0xff9bb4d0b607ULL);
  assert_int_equal(udm_db_next_sqn(db, "imsi-001010000000001", NULL, &sub), KEDGE_OK);
  assert_true(sub.sqn == 0xff9bb4d0b608ULL);
  udm_db_close(db);
  db = open_db(db_path); /* another process would see the same */
  assert_int_equal(udm_db_get(db, "imsi-001010000000001", &sub), KEDGE_OK);
  assert_true(sub.sqn == 0xff9bb4d0b608ULL);
  /* resynchronisation continues from SQNms + 1, even below the stored value */
  const uint64_t sqn_ms = 0x1000;
  assert_int_equal(udm_db_next_sqn(db, "imsi-001010000000001", &sqn_ms, &sub), KEDGE_OK);
  assert_true(sub.sqn == 0x1001);
  assert_int_equal(udm_db_next_sqn(db, "imsi-001010000000001", NULL, &sub), KEDGE_OK);
  assert_true(sub.sqn == 0x1002);
  const uint64_t max = KEDGE_SQN_MAX;
  assert_int_equal(udm_db_next_sqn(db, "imsi-001010000000001", &max, &sub),
                   KEDGE_ERR_SQN_EXHAUSTED);
  assert_int_equal(udm_db_get(db, "imsi-001010000000001", &sub), KEDGE_OK);
  assert_true(sub.sqn == 0x1002); /* a failed advance changes nothing */
  assert_int_equal(udm_db_next_sqn(db, "imsi-000000000000000", NULL, &sub), KEDGE_ERR_NOT_FOUND);
  udm_db_close(db);
}

static void write_csv(const char *name, const char *text, char *path, size_t size)
{
  snprintf(path, size, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void expect_import_error(udm_db_t *db, const char *text, const char *needle)
{
  char path[128], why[256] = "";
  size_t count = 0;
  write_csv("bad.csv", text, path, sizeof(path));
  assert_int_not_equal(udm_db_import_csv(db, path, &count, why, sizeof(why)), KEDGE_OK);
  if (!strstr(why, needle))
    fail_msg("import error '%s' does not mention '%s'", why, needle);
  assert_null(strstr(why, "465b5ce8")); /* never a key */
}

static void test_import_csv(void **state)
{
  char path[128], why[256] = "";
  size_t count = 0;
  char csv[16384] = "supi,k,opc,amf,sqn,rid,edge\n";
  for (int i = 0; i < 100; i++)
    snprintf(csv + strlen(csv), sizeof(csv) - strlen(csv),
             "imsi-0010120000%05d,465b5ce8b199b49faa5f0a2ee238a6bc,"
             "cd63cb71954a9f4e48a5994e37a02baf,8000,000000000000,%d,%s\r\n",
             i, i % 10, i % 2 ? "false" : "true");
  write_csv("good.csv", csv, path, sizeof(path));
  udm_db_t *db = open_db(db_path);
  if (udm_db_import_csv(db, path, &count, why, sizeof(why)) != KEDGE_OK)
    fail_msg("import: %s", why);
  assert_int_equal(count, 100);
  udm_subscriber_t sub;
  assert_int_equal(udm_db_get(db, "imsi-001012000000007", &sub), KEDGE_OK);
  assert_string_equal(sub.routing_indicator, "7");
  assert_false(sub.edge_capable);

  const char *k = "465b5ce8b199b49faa5f0a2ee238a6bc";
  char text[512];
  snprintf(text, sizeof(text), "supi,k,opc\nimsi-001019000000001,%s,%s\nimsi-0010,%s,%s\n", k, k, k,
           k);
  expect_import_error(db, text, "bad.csv:3: supi");
  snprintf(text, sizeof(text), "supi,k,opc\nimsi-001019000000001,%.31s,%s\n", k, k);
  expect_import_error(db, text, "bad.csv:2: k: odd number of hex digits");
  snprintf(text, sizeof(text), "supi,k,op,sqn\nimsi-001019000000001,%s,%s,01\n", k, k);
  expect_import_error(db, text, "bad.csv:2: sqn");
  snprintf(text, sizeof(text), "supi,k,opc,rid\nimsi-001019000000001,%s,%s,12345\n", k, k);
  expect_import_error(db, text, "bad.csv:2: rid");
  snprintf(text, sizeof(text), "supi,k,opc\nimsi-001019000000001,%s\n", k);
  expect_import_error(db, text, "bad.csv:2: 2 fields");
  expect_import_error(db, "supi,key,opc\n", "column 'key'");
  expect_import_error(db, "supi,k\n", "header needs");
  expect_import_error(db, "", "empty file");
  snprintf(text, sizeof(text), "supi,k,opc\nimsi-001012000000001,%s,%s\n", k, k);
  expect_import_error(db, text, "already provisioned");
  /* all or nothing: the good first line of a failed file was not kept */
  assert_int_equal(udm_db_get(db, "imsi-001019000000001", &sub), KEDGE_ERR_NOT_FOUND);
  assert_int_not_equal(udm_db_import_csv(db, "/nonexistent.csv", &count, why, sizeof(why)),
                       KEDGE_OK);
  udm_db_close(db);
}

static void test_text_fields(void **state)
{
  udm_subscriber_t sub;
  const char *field, *why;
  udm_subscriber_text_t t = {.supi = "imsi-001010000000001",
                             .k = "465b5ce8b199b49faa5f0a2ee238a6bc",
                             .opc = "cd63cb71954a9f4e48a5994e37a02baf"};
  assert_int_equal(udm_subscriber_from_text(&t, &sub, &field, &why), KEDGE_OK);
  assert_string_equal(sub.routing_indicator, "0"); /* defaults */
  assert_true(sub.edge_capable);
  assert_true(sub.sqn == 0);
  t.op = t.opc;
  assert_int_not_equal(udm_subscriber_from_text(&t, &sub, &field, &why), KEDGE_OK);
  assert_string_equal(field, "opc");
  t.op = NULL;
  t.amf = "80000";
  assert_int_not_equal(udm_subscriber_from_text(&t, &sub, &field, &why), KEDGE_OK);
  assert_string_equal(field, "amf");
  t.amf = NULL;
  t.edge = "maybe";
  assert_int_not_equal(udm_subscriber_from_text(&t, &sub, &field, &why), KEDGE_OK);
  assert_string_equal(field, "edge");
}

typedef struct events_seen {
  int n;
  char ids[8][UDM_AUTH_EVENT_ID_LEN + 1];
  bool removed[8];
} events_seen_t;

static int collect_event(const udm_auth_event_t *ev, void *arg)
{
  events_seen_t *seen = arg;
  if (seen->n < 8) {
    memcpy(seen->ids[seen->n], ev->id, sizeof(seen->ids[0]));
    seen->removed[seen->n] = ev->removed_at[0] != '\0';
  }
  seen->n++;
  return 0;
}

static void test_auth_events(void **state)
{
  char path[160];
  snprintf(path, sizeof(path), "%s/events.sqlite", dir);
  udm_db_t *db = open_db(path);
  provision(db, "imsi-001010000000001", NULL);
  udm_auth_event_t ev = {.supi = "imsi-001010000000001",
                         .nf_instance_id = "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                         .success = true,
                         .time_stamp = "2026-12-06T10:00:00Z",
                         .auth_type = "5G_AKA",
                         .serving_network_name = "5G:mnc001.mcc001.3gppnetwork.org"};
  for (int i = 0; i < 5; i++) { /* keep 3: the two oldest go */
    snprintf(ev.id, sizeof(ev.id), "%032x", i);
    ev.success = i != 3;
    assert_int_equal(udm_db_add_auth_event(db, &ev, 3), KEDGE_OK);
  }
  events_seen_t seen = {0};
  assert_int_equal(udm_db_list_auth_events(db, "imsi-001010000000001", collect_event, &seen),
                   KEDGE_OK);
  assert_int_equal(seen.n, 3);
  assert_string_equal(seen.ids[0], "00000000000000000000000000000002"); /* oldest first */
  assert_string_equal(seen.ids[2], "00000000000000000000000000000004");

  /* removal: once; unknown ids and trimmed ones are not found */
  assert_int_equal(udm_db_remove_auth_event(db, ev.supi, seen.ids[1], "2026-12-06T11:00:00Z"),
                   KEDGE_OK);
  assert_int_equal(udm_db_remove_auth_event(db, ev.supi, seen.ids[1], "2026-12-06T11:00:01Z"),
                   KEDGE_ERR_NOT_FOUND);
  assert_int_equal(udm_db_remove_auth_event(db, ev.supi, "00000000000000000000000000000000",
                                            "2026-12-06T11:00:00Z"),
                   KEDGE_ERR_NOT_FOUND);
  assert_int_equal(
      udm_db_remove_auth_event(db, "imsi-001010000000009", seen.ids[2], "2026-12-06T11:00:00Z"),
      KEDGE_ERR_NOT_FOUND);
  memset(&seen, 0, sizeof(seen));
  udm_db_list_auth_events(db, "imsi-001010000000001", collect_event, &seen);
  assert_false(seen.removed[0]);
  assert_true(seen.removed[1]);

  /* an unknown SUPI has no events to keep */
  strcpy(ev.supi, "imsi-001010000000009");
  assert_int_equal(udm_db_add_auth_event(db, &ev, 3), KEDGE_ERR_NOT_FOUND);

  /* the subscriber's deletion takes its events, and they are durable across a reopen */
  udm_db_close(db);
  db = open_db(path);
  memset(&seen, 0, sizeof(seen));
  udm_db_list_auth_events(db, "imsi-001010000000001", collect_event, &seen);
  assert_int_equal(seen.n, 3);
  assert_int_equal(udm_db_delete(db, "imsi-001010000000001"), KEDGE_OK);
  memset(&seen, 0, sizeof(seen));
  udm_db_list_auth_events(db, "imsi-001010000000001", collect_event, &seen);
  assert_int_equal(seen.n, 0);
  udm_db_close(db);
}

static int count_row(void *arg, int n, char **values, char **names)
{
  (*(int *)arg)++;
  return 0;
}

/* A database from before auth_event_by_supi (its events kept by the old trim): it opens, gets
 * the index (what lets the trim walk a SUPI's events newest first, without a sort), loses the
 * old unique (supi, id) index, and keeps the same latest events. */
static void test_auth_events_old_database(void **state)
{
  char path[160];
  snprintf(path, sizeof(path), "%s/events-old.sqlite", dir);
  udm_db_t *db = open_db(path);
  provision(db, "imsi-001010000000001", NULL);
  udm_db_close(db);
  sqlite3 *sql = NULL;
  assert_int_equal(sqlite3_open(path, &sql), SQLITE_OK);
  assert_int_equal(sqlite3_exec(sql,
                                "DROP INDEX auth_event_by_supi;"
                                "CREATE UNIQUE INDEX auth_event_supi ON auth_event (supi, id);"
                                "INSERT INTO auth_event (supi, id, nf_instance_id, success,"
                                " time_stamp, auth_type, serving_network_name) VALUES"
                                " ('imsi-001010000000001', 'a1', 'n', 1, 't', '5G_AKA', 's'),"
                                " ('imsi-001010000000001', 'a2', 'n', 1, 't', '5G_AKA', 's'),"
                                " ('imsi-001010000000001', 'a3', 'n', 1, 't', '5G_AKA', 's')",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(sql);

  db = open_db(path);
  udm_auth_event_t ev = {.supi = "imsi-001010000000001",
                         .id = "00000000000000000000000000000004",
                         .nf_instance_id = "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                         .success = true,
                         .time_stamp = "2026-12-06T10:00:00Z",
                         .auth_type = "5G_AKA",
                         .serving_network_name = "5G:mnc001.mcc001.3gppnetwork.org"};
  assert_int_equal(udm_db_add_auth_event(db, &ev, 2), KEDGE_OK); /* a1, a2 go */
  events_seen_t seen = {0};
  udm_db_list_auth_events(db, "imsi-001010000000001", collect_event, &seen);
  assert_int_equal(seen.n, 2);
  assert_string_equal(seen.ids[0], "a3");
  assert_string_equal(seen.ids[1], ev.id);
  udm_db_close(db);

  int indexes = 0;
  assert_int_equal(sqlite3_open(path, &sql), SQLITE_OK);
  assert_int_equal(sqlite3_exec(sql,
                                "SELECT name FROM sqlite_master WHERE type = 'index'"
                                " AND name = 'auth_event_by_supi'",
                                count_row, &indexes, NULL),
                   SQLITE_OK);
  assert_int_equal(indexes, 1);
  /* the unique (supi, id) index of before is gone (the fifth round's schema) */
  indexes = 0;
  assert_int_equal(sqlite3_exec(sql,
                                "SELECT name FROM sqlite_master WHERE type = 'index'"
                                " AND name = 'auth_event_supi'",
                                count_row, &indexes, NULL),
                   SQLITE_OK);
  sqlite3_close(sql);
  assert_int_equal(indexes, 0);
}

/* udm_db_modify binds the insert's columns without the SQN (TS 33.102 C.3: the next vector goes
 * on from the last SQN used): every other column changes, the SQN stays, K and OPc as given. */
static void test_modify_keeps_sqn(void **state)
{
  udm_db_t *db = open_db(db_path);
  provision(db, "imsi-001010000000077", "000000000042");
  udm_subscriber_t sub;
  assert_int_equal(udm_db_get_credentials(db, "imsi-001010000000077", &sub), KEDGE_OK);
  memset(sub.cred.k, 0xa5, sizeof(sub.cred.k));
  memset(sub.cred.opc, 0x3c, sizeof(sub.cred.opc));
  sub.amf[0] = 0x90;
  sub.sqn = 7; /* not written */
  snprintf(sub.routing_indicator, sizeof(sub.routing_indicator), "%s", "77");
  sub.edge_capable = false;
  sub.akma = true;
  assert_int_equal(udm_db_modify(db, &sub), KEDGE_OK);
  udm_subscriber_t got;
  assert_int_equal(udm_db_get_credentials(db, "imsi-001010000000077", &got), KEDGE_OK);
  assert_memory_equal(got.cred.k, sub.cred.k, sizeof(sub.cred.k));
  assert_memory_equal(got.cred.opc, sub.cred.opc, sizeof(sub.cred.opc));
  assert_memory_equal(got.amf, sub.amf, 2);
  assert_true(got.sqn == 0x42);
  assert_string_equal(got.routing_indicator, "77");
  assert_false(got.edge_capable);
  assert_true(got.akma);
  snprintf(sub.supi, sizeof(sub.supi), "%s", "imsi-001010000000078");
  assert_int_equal(udm_db_modify(db, &sub), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(udm_db_delete(db, "imsi-001010000000077"), KEDGE_OK);
  udm_db_close(db);
}

/* udm_check_snn (TS 24.501 9.12.1 serving network name, 5G:mnc<MNC>.mcc<MCC>.3gppnetwork.org,
 * three digits each): compared in place since the fifth round; every position of it refused
 * when wrong. */
static void test_snn_check(void **state)
{
  (void)state;
  static const char *const good[] = {"5G:mnc001.mcc001.3gppnetwork.org",
                                     "5G:mnc999.mcc310.3gppnetwork.org"};
  static const char *const bad[] = {
      "",
      "5G:mnc01.mcc001.3gppnetwork.org",    /* MNC of 2 digits */
      "5G:mnc001.mcc001.3gppnetwork.orgX",  /* trailing */
      "5G:mnc001.mcc001.3gppnetwork.or",    /* short */
      "5g:mnc001.mcc001.3gppnetwork.org",   /* prefix case */
      "5G:mnc0a1.mcc001.3gppnetwork.org",   /* letter in MNC */
      "5G:mnc001.mcc0 1.3gppnetwork.org",   /* space in MCC */
      "5G:mnc001xmcc001.3gppnetwork.org",   /* separator */
      "5G:mnc001.mcc001x3gppnetwork.org",   /* separator */
      "5G:mnc001.mcc001.3gppnetwork.orh",   /* suffix */
      "5G:mnc+01.mcc001.3gppnetwork.org",   /* sign (what sscanf's %u took) */
      "5G:mnc001.mcc001.3gppnetwork.org\n", /* escaped text, not a newline */
  };
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    json_t *v = json_string(good[i]);
    assert_null(udm_check_snn(v));
    json_decref(v);
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    json_t *v = json_string(bad[i]);
    const char *why = udm_check_snn(v);
    if (!why)
      fail_msg("accepted: \"%s\"", bad[i]);
    json_decref(v);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_provision_and_read),
      cmocka_unit_test(test_snn_check),
      cmocka_unit_test(test_keys_sealed_at_rest),
      cmocka_unit_test(test_key_check_added_to_old_database),
      cmocka_unit_test(test_sqn_advances_durably),
      cmocka_unit_test(test_modify_keeps_sqn),
      cmocka_unit_test(test_import_csv),
      cmocka_unit_test(test_text_fields),
      cmocka_unit_test(test_auth_events),
      cmocka_unit_test(test_auth_events_old_database),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
