/* Provisioning input for the subscriber database: text fields and CSV import. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "kedge/hex.h"
#include "kedge/milenage.h"
#include "kedge/sqn.h"
#include "subscriber_db.h"

static kedge_err_t field_error(const char **field, const char **why, const char *f, const char *w)
{
  *field = f;
  *why = w;
  return KEDGE_ERR_INVALID_ARG;
}

static const char *hex_reason(const char *text, size_t octets)
{
  size_t n = strlen(text);
  if (n % 2)
    return "odd number of hex digits";
  uint8_t tmp[16];
  kedge_err_t err = octets <= sizeof(tmp) ? kedge_hex_decode(text, tmp, octets) : KEDGE_ERR_BAD_LENGTH;
  OPENSSL_cleanse(tmp, sizeof(tmp));
  if (err == KEDGE_ERR_BAD_HEX)
    return "not a hex string";
  if (octets == 16)
    return "expected 32 hex digits (16 octets)";
  if (octets == 6)
    return "expected 12 hex digits (6 octets)";
  return "expected 4 hex digits (2 octets)";
}

kedge_err_t udm_subscriber_from_text(const udm_subscriber_text_t *in, udm_subscriber_t *sub,
                                     const char **field, const char **why)
{
  memset(sub, 0, sizeof(*sub));
  kedge_supi_t supi;
  if (!in->supi || kedge_supi_parse(in->supi, &supi))
    return field_error(field, why, "supi", "expected imsi-<5 to 15 digits> or nai-<user>@<realm>");
  memcpy(sub->supi, supi.value, supi.len + 1);

  if (!in->k || kedge_hex_decode(in->k, sub->cred.k, 16))
    return field_error(field, why, "k", in->k ? hex_reason(in->k, 16) : "required");
  if (!!in->opc == !!in->op)
    return field_error(field, why, "opc", "give exactly one of opc and op");
  if (in->opc && kedge_hex_decode(in->opc, sub->cred.opc, 16))
    return field_error(field, why, "opc", hex_reason(in->opc, 16));
  if (in->op) {
    uint8_t op[16];
    kedge_err_t err = kedge_hex_decode(in->op, op, 16);
    if (!err)
      err = kedge_milenage_opc(sub->cred.k, op, sub->cred.opc); /* TS 35.206 4.1 */
    OPENSSL_cleanse(op, sizeof(op));
    if (err)
      return field_error(field, why, "op", hex_reason(in->op, 16));
  }

  const char *amf = in->amf && *in->amf ? in->amf : "8000";
  if (kedge_hex_decode(amf, sub->amf, 2))
    return field_error(field, why, "amf", hex_reason(amf, 2));

  if (in->sqn && *in->sqn) {
    uint8_t sqn[6];
    if (kedge_hex_decode(in->sqn, sqn, 6))
      return field_error(field, why, "sqn", hex_reason(in->sqn, 6));
    sub->sqn = kedge_sqn_from_bytes(sqn);
  }

  const char *rid = in->rid && *in->rid ? in->rid : "0";
  if (kedge_rid_check(rid))
    return field_error(field, why, "rid", "routing indicator must be 1 to 4 decimal digits");
  memcpy(sub->routing_indicator, rid, strlen(rid) + 1);

  sub->edge_capable = true;
  if (in->edge && *in->edge) {
    if (!strcmp(in->edge, "1") || !strcmp(in->edge, "true") || !strcmp(in->edge, "yes"))
      sub->edge_capable = true;
    else if (!strcmp(in->edge, "0") || !strcmp(in->edge, "false") || !strcmp(in->edge, "no"))
      sub->edge_capable = false;
    else
      return field_error(field, why, "edge", "expected true or false");
  }
  sub->akma = false;
  if (in->akma && *in->akma) {
    if (!strcmp(in->akma, "1") || !strcmp(in->akma, "true") || !strcmp(in->akma, "yes"))
      sub->akma = true;
    else if (strcmp(in->akma, "0") && strcmp(in->akma, "false") && strcmp(in->akma, "no"))
      return field_error(field, why, "akma", "expected true or false");
  }
  return KEDGE_OK;
}

enum { COL_SUPI, COL_K, COL_OPC, COL_OP, COL_AMF, COL_SQN, COL_RID, COL_EDGE, COL_AKMA, N_COLS };
static const char *const col_names[N_COLS] = {"supi", "k",   "opc",  "op",  "amf",
                                              "sqn",  "rid", "edge", "akma"};

#define CSV_LINE_MAX 1024
#define CSV_FIELDS_MAX 16

/* Splits a line at commas in place (no quoting: no provisioned value contains a comma). */
static int split(char *line, char **fields)
{
  int n = 0;
  for (char *p = line;; p++) {
    if (n == CSV_FIELDS_MAX)
      return -1;
    fields[n++] = p;
    p += strcspn(p, ",");
    if (*p != ',')
      break;
    *p = '\0';
  }
  return n;
}

static void trim_eol(char *line)
{
  line[strcspn(line, "\r\n")] = '\0';
}

kedge_err_t udm_db_import_csv(udm_db_t *db, const char *path, size_t *count, char *why,
                              size_t why_size)
{
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(why, why_size, "%s: %s", path, strerror(errno));
    return KEDGE_ERR_IO;
  }
  char line[CSV_LINE_MAX + 2];
  char *fields[CSV_FIELDS_MAX];
  int col_of[N_COLS];
  for (int i = 0; i < N_COLS; i++)
    col_of[i] = -1;
  kedge_err_t err = KEDGE_OK;
  size_t lineno = 0, n = 0;
  int n_header = 0;

  if (!fgets(line, sizeof(line), f)) {
    snprintf(why, why_size, "%s:1: empty file (expected a header such as supi,k,opc,amf,sqn,rid,edge)", path);
    fclose(f);
    return KEDGE_ERR_CONFIG;
  }
  lineno = 1;
  trim_eol(line);
  n_header = split(line, fields);
  for (int i = 0; i < n_header && !err; i++) {
    int c = 0;
    while (c < N_COLS && strcmp(fields[i], col_names[c]))
      c++;
    if (c == N_COLS || col_of[c] >= 0) {
      snprintf(why, why_size, "%s:1: column '%.40s': %s", path, fields[i],
               c == N_COLS ? "unknown (known: supi,k,opc,op,amf,sqn,rid,edge,akma)" : "given twice");
      err = KEDGE_ERR_CONFIG;
    } else {
      col_of[c] = i;
    }
  }
  if (!err && (n_header < 0 || col_of[COL_SUPI] < 0 || col_of[COL_K] < 0 ||
               (col_of[COL_OPC] < 0) == (col_of[COL_OP] < 0))) {
    snprintf(why, why_size, "%s:1: header needs supi, k and one of opc or op", path);
    err = KEDGE_ERR_CONFIG;
  }
  if (!err && (err = udm_db_begin(db)))
    snprintf(why, why_size, "%s: cannot start a transaction", path);

  while (!err && fgets(line, sizeof(line), f)) {
    lineno++;
    if (!strchr(line, '\n') && !feof(f)) {
      snprintf(why, why_size, "%s:%zu: line longer than %d characters", path, lineno, CSV_LINE_MAX);
      err = KEDGE_ERR_CONFIG;
      break;
    }
    trim_eol(line);
    if (!line[0])
      continue;
    int nf = split(line, fields);
    if (nf != n_header) {
      snprintf(why, why_size, "%s:%zu: %d fields, the header has %d", path, lineno, nf, n_header);
      err = KEDGE_ERR_CONFIG;
      break;
    }
    const char *v[N_COLS] = {0};
    for (int c = 0; c < N_COLS; c++)
      v[c] = col_of[c] >= 0 ? fields[col_of[c]] : NULL;
    udm_subscriber_text_t text = {v[COL_SUPI], v[COL_K],   v[COL_OPC], v[COL_OP],
                                  v[COL_AMF],  v[COL_SQN], v[COL_RID], v[COL_EDGE],
                                  v[COL_AKMA]};
    udm_subscriber_t sub;
    const char *field = NULL, *reason = NULL;
    if (udm_subscriber_from_text(&text, &sub, &field, &reason)) {
      snprintf(why, why_size, "%s:%zu: %s: %s", path, lineno, field, reason);
      err = KEDGE_ERR_CONFIG;
    } else if ((err = udm_db_add(db, &sub))) {
      snprintf(why, why_size, "%s:%zu: %s: %s", path, lineno, sub.supi,
               err == KEDGE_ERR_EXISTS ? "already provisioned" : kedge_strerror(err));
    } else {
      n++;
    }
    OPENSSL_cleanse(&sub, sizeof(sub));
  }
  OPENSSL_cleanse(line, sizeof(line));
  fclose(f);
  if (!err && (err = udm_db_commit(db)))
    snprintf(why, why_size, "%s: cannot commit", path);
  if (err) {
    udm_db_rollback(db);
    return err;
  }
  *count = n;
  return KEDGE_OK;
}
