/* The AUSF's edge-key step alone (daemons/ausf/edge.c, SPEC.md 0 step 2 and SPEC.md 2): with
 * its completion callback it runs without the Nausf handler, the AKMA step or a network, on
 * a memory: key store. Known answers from tests/vectors/kedge.txt; the edge.derive decisions
 * of SPEC.md 7; and the two causes of a 503 (SYSTEM_FAILURE before the store,
 * KEY_STORE_UNAVAILABLE from it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <openssl/rand.h>

#include "ausf.h"
#include "kedge/work.h"
#include "vectors.h"

typedef struct fixture {
  struct event_base *base;
  kedge_master_key_t mk;
  kedge_keystore_t *ks;
  ausf_t ausf;
  /* the vector kedge-1 */
  uint8_t kausf[32], kedge[32];
  char supi[KEDGE_SUPI_MAX + 1], rid[KEDGE_RID_MAX + 1], kedge_id[KEDGE_ID_MAX + 1];
  /* what the completion saw, last call first */
  int calls;
  kedge_err_t err;
  const char *cause;
  ausf_confirmation_t *seen[4];
  kedge_err_t errs[4];
  const char *causes[4];
} fixture_t;

static fixture_t *current;

static void done(ausf_confirmation_t *c, kedge_err_t err, const char *cause)
{
  assert_ptr_equal(c->ausf, &current->ausf);
  if (current->calls < 4) {
    current->seen[current->calls] = c;
    current->errs[current->calls] = err;
    current->causes[current->calls] = cause;
  }
  current->calls++;
  current->err = err;
  /* the edge step's end: what confirmation_free does with the KAUSF key it may have set up */
  kedge_kdf_key_free(c->kausf_key);
  c->kausf_key = NULL;
  current->cause = cause;
}

static kedge_keystore_t *open_memory(fixture_t *f, unsigned max_pending)
{
  kedge_keystore_options_t opts = {.max_pending = max_pending};
  kedge_keystore_t *ks = NULL;
  char why[256];
  assert_int_equal(kedge_keystore_open("memory:", &f->mk, f->base, &opts, &ks, why, sizeof(why)),
                   KEDGE_OK);
  return ks;
}

static int setup(void **state)
{
  fixture_t *f = calloc(1, sizeof(*f));
  if (!f || kedge_work_threads_init() || !(f->base = event_base_new()) ||
      RAND_bytes(f->mk.key, sizeof(f->mk.key)) != 1)
    return -1;
  char *v = vec_load("kedge.txt");
  char mcc[8], mnc[8];
  vec_hex(v, "[kedge-1]", "KAUSF", f->kausf, 32);
  vec_hex(v, "[kedge-1]", "Kedge", f->kedge, 32);
  vec_text(v, "[kedge-1]", "SUPI", f->supi, sizeof(f->supi));
  vec_text(v, "[kedge-1]", "RID", f->rid, sizeof(f->rid));
  vec_text(v, "[kedge-1]", "MCC", mcc, sizeof(mcc));
  vec_text(v, "[kedge-1]", "MNC", mnc, sizeof(mnc));
  vec_text(v, "[kedge-1]", "Kedge ID", f->kedge_id, sizeof(f->kedge_id));
  free(v);
  if (kedge_plmn_parse(mcc, mnc, &f->ausf.home_network) != KEDGE_OK)
    return -1;
  f->ausf.edge_enabled = true;
  f->ausf.edge_derive = AUSF_DERIVE_ALWAYS;
  f->ausf.key_lifetime_ms = 3600000;
  f->ks = open_memory(f, 0);
  current = f;
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_close(f->ks);
  event_base_free(f->base);
  free(f);
  return 0;
}

/* A successful confirmation of the vector's subscriber. */
static ausf_confirmation_t confirmation_of(fixture_t *f, bool edge_ind)
{
  ausf_confirmation_t c;
  memset(&c, 0, sizeof(c));
  c.ausf = &f->ausf;
  c.success = true;
  snprintf(c.ctx.supi, sizeof(c.ctx.supi), "%s", f->supi);
  snprintf(c.ctx.routing_id, sizeof(c.ctx.routing_id), "%s", f->rid);
  memcpy(c.ctx.kausf, f->kausf, sizeof(f->kausf));
  c.ctx.edge_ind = edge_ind;
  return c;
}

static void run_until_done(fixture_t *f, int calls)
{
  for (int i = 0; i < 1000 && f->calls < calls; i++)
    event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
  assert_int_equal(f->calls, calls);
}

typedef struct got {
  int calls;
  kedge_err_t err;
  kedge_keystore_record_t rec;
} got_t;

static void got_cb(kedge_err_t err, const kedge_keystore_record_t *rec, void *arg)
{
  got_t *g = arg;
  g->calls++;
  g->err = err;
  if (rec)
    g->rec = *rec;
}

static kedge_err_t lookup(fixture_t *f, const char *kedge_id, got_t *g)
{
  memset(g, 0, sizeof(*g));
  assert_int_equal(kedge_keystore_get(f->ks, kedge_id, got_cb, g), KEDGE_OK);
  for (int i = 0; i < 1000 && !g->calls; i++)
    event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
  assert_int_equal(g->calls, 1);
  return g->err;
}

static void stores_the_vector_key(void **state)
{
  fixture_t *f = *state;
  ausf_confirmation_t c = confirmation_of(f, false);
  ausf_edge_on_success(&c, f->ks, done);
  assert_int_equal(f->calls, 0); /* the store answers later, on the loop */
  run_until_done(f, 1);
  assert_int_equal(f->err, KEDGE_OK);
  assert_null(f->cause);
  assert_string_equal(c.ctx.kedge_id, f->kedge_id); /* kept for a later DELETE */
  got_t g;
  assert_int_equal(lookup(f, f->kedge_id, &g), KEDGE_OK);
  assert_memory_equal(g.rec.kedge, f->kedge, 32);
  assert_string_equal(g.rec.supi, f->supi);
  assert_int_equal(g.rec.expiry_ms - g.rec.created_ms, f->ausf.key_lifetime_ms);
}

static void derive_decisions(void **state)
{
  fixture_t *f = *state;
  /* SPEC.md 7: edge off, derive never, or udm-flag without the UDM's flag: no key, no store
   * call, and the answer goes on at once */
  struct {
    bool enabled;
    ausf_edge_derive_t derive;
    bool edge_ind, stored;
  } cases[] = {
      {false, AUSF_DERIVE_ALWAYS, true, false},
      {true, AUSF_DERIVE_NEVER, true, false},
      {true, AUSF_DERIVE_UDM_FLAG, false, false},
      {true, AUSF_DERIVE_UDM_FLAG, true, true},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    f->calls = 0;
    f->ausf.edge_enabled = cases[i].enabled;
    f->ausf.edge_derive = cases[i].derive;
    ausf_confirmation_t c = confirmation_of(f, cases[i].edge_ind);
    ausf_edge_on_success(&c, cases[i].stored ? f->ks : NULL, done);
    if (!cases[i].stored)
      assert_int_equal(f->calls, 1); /* synchronously: nothing to wait for */
    run_until_done(f, 1);
    assert_int_equal(f->err, KEDGE_OK);
    got_t g;
    assert_int_equal(lookup(f, f->kedge_id, &g), cases[i].stored ? KEDGE_OK : KEDGE_ERR_NOT_FOUND);
    assert_int_equal(c.ctx.kedge_id[0] != '\0', cases[i].stored);
  }
}

static void failures_have_their_cause(void **state)
{
  fixture_t *f = *state;
  /* before the store: a SUPI the derivation refuses */
  ausf_confirmation_t c = confirmation_of(f, false);
  snprintf(c.ctx.supi, sizeof(c.ctx.supi), "imsi-12");
  ausf_edge_on_success(&c, f->ks, done);
  run_until_done(f, 1);
  assert_int_not_equal(f->err, KEDGE_OK);
  assert_string_equal(f->cause, "SYSTEM_FAILURE");

  /* from the store: a handle with room for one call, given two */
  kedge_keystore_close(f->ks);
  f->ks = open_memory(f, 1);
  f->calls = 0;
  ausf_confirmation_t a = confirmation_of(f, false), b = confirmation_of(f, false);
  ausf_edge_on_success(&a, f->ks, done);
  ausf_edge_on_success(&b, f->ks, done);
  run_until_done(f, 2);
  /* the first is stored, the second refused (KEDGE_ERR_BUSY), in whichever order they end */
  for (int i = 0; i < 2; i++) {
    if (f->seen[i] == &a) {
      assert_int_equal(f->errs[i], KEDGE_OK);
      assert_null(f->causes[i]);
    } else {
      assert_ptr_equal(f->seen[i], &b);
      assert_int_equal(f->errs[i], KEDGE_ERR_BUSY);
      assert_string_equal(f->causes[i], "KEY_STORE_UNAVAILABLE");
    }
  }
  assert_ptr_not_equal(f->seen[0], f->seen[1]);
  assert_string_equal(a.ctx.kedge_id, f->kedge_id);
  assert_string_equal(b.ctx.kedge_id, ""); /* nothing for a DELETE to find */
  got_t g;
  assert_int_equal(lookup(f, f->kedge_id, &g), KEDGE_OK);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(stores_the_vector_key, setup, teardown),
      cmocka_unit_test_setup_teardown(derive_decisions, setup, teardown),
      cmocka_unit_test_setup_teardown(failures_have_their_cause, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
