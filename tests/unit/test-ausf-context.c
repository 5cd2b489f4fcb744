/* The AUSF's context tables (daemons/ausf/context.c): AKA contexts are taken at most once and
 * refused beyond max_contexts (503 upstream); confirmed authentications (ausf_ctx_put, kept for
 * DELETE .../5g-aka-confirmation) keep their id and push out the oldest when full. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "context.h"
#include "kedge/time.h"

static ausf_auth_ctx_t ctx_for(const char *supi, const char *id)
{
  ausf_auth_ctx_t c;
  memset(&c, 0, sizeof(c));
  snprintf(c.supi, sizeof(c.supi), "%s", supi);
  if (id)
    snprintf(c.id, sizeof(c.id), "%s", id);
  c.expiry_ms = kedge_now_ms() + 60000;
  return c;
}

static void test_add_take_once_and_bounded(void **state)
{
  ausf_ctx_table_t *t = NULL;
  assert_int_equal(ausf_ctx_table_new(2, &t), KEDGE_OK);
  ausf_auth_ctx_t a = ctx_for("imsi-001010000000001", NULL), b = a, c = a, out;
  assert_int_equal(ausf_ctx_add(t, &a), KEDGE_OK);
  assert_int_equal(strlen(a.id), AUSF_CTX_ID_LEN);
  assert_int_equal(ausf_ctx_add(t, &b), KEDGE_OK);
  assert_string_not_equal(a.id, b.id);                   /* random, never an index */
  assert_int_equal(ausf_ctx_add(t, &c), KEDGE_ERR_BUSY); /* pending contexts: refused */
  assert_int_equal(ausf_ctx_take(t, a.id, &out), KEDGE_OK);
  assert_string_equal(out.supi, "imsi-001010000000001");
  assert_int_equal(ausf_ctx_take(t, a.id, &out), KEDGE_ERR_NOT_FOUND); /* once */
  ausf_ctx_table_free(t);
}

static void test_put_keeps_id_and_evicts_oldest(void **state)
{
  ausf_ctx_table_t *t = NULL;
  assert_int_equal(ausf_ctx_table_new(2, &t), KEDGE_OK);
  const char *ids[3] = {"00000000000000000000000000000001", "00000000000000000000000000000002",
                        "00000000000000000000000000000003"};
  for (int i = 0; i < 3; i++) {
    ausf_auth_ctx_t c = ctx_for("imsi-001010000000002", ids[i]);
    snprintf(c.kedge_id, sizeof(c.kedge_id), "kid-%d", i);
    assert_int_equal(ausf_ctx_put(t, &c), KEDGE_OK); /* never refused */
  }
  assert_int_equal(ausf_ctx_count(t), 2);
  ausf_auth_ctx_t out;
  assert_int_equal(ausf_ctx_take(t, ids[0], &out), KEDGE_ERR_NOT_FOUND); /* the oldest went */
  assert_int_equal(ausf_ctx_take(t, ids[2], &out), KEDGE_OK);
  assert_string_equal(out.kedge_id, "kid-2");
  assert_int_equal(ausf_ctx_take(t, ids[1], &out), KEDGE_OK);
  assert_int_equal(ausf_ctx_count(t), 0);
  ausf_ctx_table_free(t);
}

/* Context expiry: an expired context is never taken, even before the purge timer ran; the
 * purge drops exactly the expired ones, oldest first, and stops at the first live one. */
static void test_expiry_and_purge(void **state)
{
  ausf_ctx_table_t *t = NULL;
  assert_int_equal(ausf_ctx_table_new(8, &t), KEDGE_OK);
  ausf_auth_ctx_t old1 = ctx_for("imsi-001010000000003", NULL), old2 = old1, live = old1, out;
  old1.expiry_ms = old2.expiry_ms = kedge_now_ms() - 1;
  assert_int_equal(ausf_ctx_add(t, &old1), KEDGE_OK);
  assert_int_equal(ausf_ctx_add(t, &old2), KEDGE_OK);
  assert_int_equal(ausf_ctx_add(t, &live), KEDGE_OK);
  assert_int_equal(ausf_ctx_take(t, old1.id, &out), KEDGE_ERR_NOT_FOUND); /* expired */
  assert_int_equal(ausf_ctx_count(t), 2); /* ... and gone with the take */
  assert_int_equal(ausf_ctx_purge(t), 1);
  assert_int_equal(ausf_ctx_count(t), 1);
  assert_int_equal(ausf_ctx_purge(t), 0);
  assert_int_equal(ausf_ctx_take(t, old2.id, &out), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(ausf_ctx_take(t, live.id, &out), KEDGE_OK);
  assert_int_equal(ausf_ctx_purge(t), 0); /* empty */
  ausf_ctx_table_free(t);
}

/* context.c keeps entries packed (strings back to back, the secrets only when not zero): what
 * comes out of a take is the context that went in, field by field, at the strings' maxima too. */
static void fill(char *s, size_t size, char c)
{
  memset(s, c, size - 1);
  s[size - 1] = '\0';
}

/* A context with every padding octet zero (as unpack() leaves them), compared whole. */
static void ctx_init(ausf_auth_ctx_t *c, const char *supi, const char *id)
{
  memset(c, 0, sizeof(*c));
  snprintf(c->supi, sizeof(c->supi), "%s", supi);
  snprintf(c->id, sizeof(c->id), "%s", id);
  c->expiry_ms = kedge_now_ms() + 60000;
}

static void test_packed_round_trip(void **state)
{
  ausf_ctx_table_t *t = NULL;
  assert_int_equal(ausf_ctx_table_new(4, &t), KEDGE_OK);
  ausf_auth_ctx_t full, kept, out;
  ctx_init(&full, "x", "0123456789abcdef0123456789abcdef");
  fill(full.supi, sizeof(full.supi), 's');
  fill(full.snn, sizeof(full.snn), 'n');
  fill(full.consumer, sizeof(full.consumer), 'c');
  fill(full.routing_id, sizeof(full.routing_id), '7');
  fill(full.kedge_id, sizeof(full.kedge_id), 'k');
  fill(full.auth_event_id, sizeof(full.auth_event_id), 'e');
  fill(full.udm_root, sizeof(full.udm_root), 'u');
  full.edge_ind = full.akma_registered = true;
  for (size_t i = 0; i < sizeof(full.xres_star); i++)
    full.xres_star[i] = (uint8_t)(i + 1);
  for (size_t i = 0; i < sizeof(full.kausf); i++)
    full.kausf[i] = (uint8_t)(0xa0 + i);
  assert_int_equal(ausf_ctx_put(t, &full), KEDGE_OK);
  memset(&out, 0x55, sizeof(out));
  assert_int_equal(ausf_ctx_take(t, full.id, &out), KEDGE_OK);
  assert_memory_equal(&out, &full, sizeof(out));

  /* a confirmed authentication: no XRES*, no KAUSF, short strings, the other flags */
  ctx_init(&kept, "imsi-001010000000001", "fedcba9876543210fedcba9876543210");
  snprintf(kept.kedge_id, sizeof(kept.kedge_id), "%s", "0.abc@5gc.mnc001.mcc001.3gppnetwork.org");
  snprintf(kept.routing_id, sizeof(kept.routing_id), "%s", "");
  kept.akma_ind = kept.rid_from_udm = true;
  assert_int_equal(ausf_ctx_put(t, &kept), KEDGE_OK);
  memset(&out, 0x55, sizeof(out));
  assert_int_equal(ausf_ctx_take(t, kept.id, &out), KEDGE_OK);
  assert_memory_equal(&out, &kept, sizeof(out));
  ausf_ctx_table_free(t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add_take_once_and_bounded),
      cmocka_unit_test(test_put_keeps_id_and_evicts_oldest),
      cmocka_unit_test(test_expiry_and_purge),
      cmocka_unit_test(test_packed_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
