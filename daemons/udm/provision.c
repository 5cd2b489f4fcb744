/* Provisioning input for the subscriber database: text fields and CSV import. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <jansson.h>

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
  kedge_err_t err =
      octets <= sizeof(tmp) ? kedge_hex_decode(text, tmp, octets) : KEDGE_ERR_BAD_LENGTH;
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

#define CSV_RECORD_MAX 1024
#define CSV_FIELDS_MAX 16
#define JSONL_LINE_MAX 4096

/* An input being read: a file or stdin, and where we are in it for the error line. */
typedef struct input {
  FILE *f;
  const char *name; /* the path, or "stdin" */
  size_t line;      /* physical line being read (1-based) */
  size_t record;    /* the line where the current record starts: the one errors name */
} input_t;

/* One RFC 4180 record: fields separated by commas, a field in double quotes may hold commas,
 * CR, LF and "" for a quote; records end at CRLF or LF (LF alone accepted, as spreadsheets
 * write both). The fields are written NUL-terminated into buf. Returns the number of fields,
 * 0 at the end of the input, -1 with *err on a malformed or too long record. */
static int csv_record(input_t *in, char *buf, size_t cap, char **fields, const char **err)
{
  int n = 0, c;
  size_t len = 0;
  bool quoted = false, was_quoted = false, any = false;
  fields[n++] = buf;
  in->line++;
  in->record = in->line;
  while ((c = getc_unlocked(in->f)) != EOF) {
    any = true;
    if (quoted) {
      if (c == '"') {
        int d = getc_unlocked(in->f);
        if (d == '"') {
          c = '"';
        } else {
          quoted = false;
          if (d != EOF)
            ungetc(d, in->f);
          continue;
        }
      } else if (c == '\n') {
        in->line++;
      }
    } else if (c == '"') {
      if (was_quoted || len > (size_t)(fields[n - 1] - buf)) {
        *err = "a quote inside an unquoted field (RFC 4180: quote the whole field, double the "
               "quote)";
        return -1;
      }
      quoted = was_quoted = true;
      continue;
    } else if (c == ',') {
      if (n == CSV_FIELDS_MAX || len + 1 >= cap) {
        *err = n == CSV_FIELDS_MAX ? "too many fields" : "record too long";
        return -1;
      }
      buf[len++] = '\0';
      fields[n++] = buf + len;
      was_quoted = false;
      continue;
    } else if (c == '\r') {
      int d = getc_unlocked(in->f);
      if (d != '\n' && d != EOF)
        ungetc(d, in->f);
      break;
    } else if (c == '\n') {
      break;
    } else if (was_quoted) {
      *err = "characters after a closing quote";
      return -1;
    }
    if (len + 1 >= cap) {
      *err = "record too long";
      return -1;
    }
    buf[len++] = (char)c;
  }
  if (quoted) {
    *err = "a quoted field is not closed";
    return -1;
  }
  if (!any)
    return 0;
  buf[len] = '\0';
  return n;
}

/* A UTF-8 byte order mark at the start (spreadsheets write one) is skipped. */
static void skip_bom(FILE *f)
{
  int a = getc(f);
  if (a == 0xef) {
    int b = getc(f), c = getc(f);
    if (b == 0xbb && c == 0xbf)
      return;
    if (c != EOF)
      ungetc(c, f); /* one pushback only is guaranteed: a file starting so is not CSV anyway */
    return;
  }
  if (a != EOF)
    ungetc(a, f);
}

/* Adds one parsed record; on error why gets "NAME:LINE: ..." */
static kedge_err_t add_record(udm_db_t *db, input_t *in, const udm_subscriber_text_t *text,
                              const udm_sealed_t *sealed, char *why, size_t why_size)
{
  udm_subscriber_t sub;
  const char *field = NULL, *reason = NULL;
  kedge_err_t err = KEDGE_OK;
  udm_subscriber_text_t t = *text;
  if (sealed) { /* K and OPc come sealed: the text carries placeholders for the checks */
    t.k = "00000000000000000000000000000000";
    t.opc = "00000000000000000000000000000000";
    t.op = NULL;
  }
  if (udm_subscriber_from_text(&t, &sub, &field, &reason)) {
    snprintf(why, why_size, "%s:%zu: %s: %s", in->name, in->record, field, reason);
    err = KEDGE_ERR_CONFIG;
  } else if ((err = sealed ? udm_db_add_sealed(db, &sub, sealed) : udm_db_add(db, &sub))) {
    snprintf(why, why_size, "%s:%zu: %s: %s", in->name, in->record, sub.supi,
             err == KEDGE_ERR_EXISTS        ? "already provisioned"
             : err == KEDGE_ERR_MAC_FAILURE ? "k_sealed/opc_sealed do not open under this master "
                                              "key for this SUPI"
                                            : kedge_strerror(err));
    if (err == KEDGE_ERR_MAC_FAILURE || err == KEDGE_ERR_BAD_LENGTH)
      err = KEDGE_ERR_CONFIG;
  }
  OPENSSL_cleanse(&sub, sizeof(sub));
  return err;
}

static kedge_err_t import_csv(udm_db_t *db, input_t *in, size_t *count, char *why, size_t why_size)
{
  char buf[CSV_RECORD_MAX + 2];
  char *fields[CSV_FIELDS_MAX];
  int col_of[N_COLS];
  for (int i = 0; i < N_COLS; i++)
    col_of[i] = -1;
  const char *perr = NULL;
  int n_header = csv_record(in, buf, sizeof(buf), fields, &perr);
  if (n_header <= 0) {
    snprintf(why, why_size, "%s:1: %s", in->name,
             n_header == 0 ? "empty file (expected a header such as supi,k,opc,amf,sqn,rid,edge)"
                           : perr);
    return KEDGE_ERR_CONFIG;
  }
  for (int i = 0; i < n_header; i++) {
    int c = 0;
    while (c < N_COLS && strcmp(fields[i], col_names[c]))
      c++;
    if (c == N_COLS || col_of[c] >= 0) {
      snprintf(why, why_size, "%s:1: column '%.40s': %s", in->name, fields[i],
               c == N_COLS ? "unknown (known: supi,k,opc,op,amf,sqn,rid,edge,akma)"
                           : "given twice");
      return KEDGE_ERR_CONFIG;
    }
    col_of[c] = i;
  }
  if (col_of[COL_SUPI] < 0 || col_of[COL_K] < 0 || (col_of[COL_OPC] < 0) == (col_of[COL_OP] < 0)) {
    snprintf(why, why_size, "%s:1: header needs supi, k and one of opc or op", in->name);
    return KEDGE_ERR_CONFIG;
  }
  kedge_err_t err = KEDGE_OK;
  int nf;
  while (!err && (nf = csv_record(in, buf, sizeof(buf), fields, &perr)) != 0) {
    if (nf < 0) {
      snprintf(why, why_size, "%s:%zu: %s", in->name, in->record, perr);
      err = KEDGE_ERR_CONFIG;
      break;
    }
    if (nf == 1 && !fields[0][0])
      continue; /* an empty line */
    if (nf != n_header) {
      snprintf(why, why_size, "%s:%zu: %d fields, the header has %d", in->name, in->record, nf,
               n_header);
      err = KEDGE_ERR_CONFIG;
      break;
    }
    const char *v[N_COLS] = {0};
    for (int c = 0; c < N_COLS; c++)
      v[c] = col_of[c] >= 0 ? fields[col_of[c]] : NULL;
    udm_subscriber_text_t text = {v[COL_SUPI], v[COL_K],   v[COL_OPC],  v[COL_OP],  v[COL_AMF],
                                  v[COL_SQN],  v[COL_RID], v[COL_EDGE], v[COL_AKMA]};
    if (!(err = add_record(db, in, &text, NULL, why, why_size)))
      (*count)++;
  }
  OPENSSL_cleanse(buf, sizeof(buf));
  return err;
}

/* A hex member holding a sealed value (an export's k_sealed, opc_sealed). */
static bool sealed_hex(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
  size_t n = strlen(hex);
  if (n % 2 || n / 2 > cap || n / 2 < KEDGE_SEAL_OVERHEAD)
    return false;
  *len = n / 2;
  return kedge_hex_decode(hex, out, n / 2) == KEDGE_OK;
}

/* JSON lines, one object a line: the members of the CSV header ("edge" may be a boolean), or
 * k_sealed and opc_sealed from `kedge-udmd subscriber export` instead of k and opc. */
static kedge_err_t import_jsonl(udm_db_t *db, input_t *in, size_t *count, char *why,
                                size_t why_size)
{
  char line[JSONL_LINE_MAX + 2];
  kedge_err_t err = KEDGE_OK;
  static const char *const sealed_names[] = {"k_sealed", "opc_sealed"};
  while (!err && fgets(line, sizeof(line), in->f)) {
    in->record = ++in->line;
    if (!strchr(line, '\n') && !feof(in->f)) {
      snprintf(why, why_size, "%s:%zu: line longer than %d characters", in->name, in->line,
               JSONL_LINE_MAX);
      err = KEDGE_ERR_CONFIG;
      break;
    }
    size_t i = strspn(line, " \t\r\n");
    if (!line[i])
      continue;
    json_error_t jerr;
    json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
    const char *v[N_COLS] = {0}, *sv[2] = {0};
    if (!json_is_object(o)) {
      snprintf(why, why_size, "%s:%zu: not a JSON object%s%s", in->name, in->line, o ? "" : ": ",
               o ? "" : jerr.text);
      err = KEDGE_ERR_CONFIG;
    }
    const char *key;
    json_t *val;
    json_object_foreach(err ? NULL : o, key, val)
    {
      int c = 0;
      while (c < N_COLS && strcmp(key, col_names[c]))
        c++;
      int s = c < N_COLS                      ? -1
              : !strcmp(key, sealed_names[0]) ? 0
              : !strcmp(key, sealed_names[1]) ? 1
                                              : -2;
      const char *text = json_is_string(val) ? json_string_value(val)
                         : (c == COL_EDGE || c == COL_AKMA) && json_is_boolean(val)
                             ? (json_is_true(val) ? "true" : "false")
                             : NULL;
      if (s == -2 || !text) {
        snprintf(why, why_size, "%s:%zu: %.40s: %s", in->name, in->line, key,
                 s == -2 ? "unknown member (known: supi,k,opc,op,amf,sqn,rid,edge,akma,"
                           "k_sealed,opc_sealed)"
                         : "must be a string");
        err = KEDGE_ERR_CONFIG;
        break;
      }
      if (s >= 0)
        sv[s] = text;
      else
        v[c] = text;
    }
    udm_sealed_t sealed;
    bool use_sealed = !err && (sv[0] || sv[1]);
    if (use_sealed && (!sv[0] || !sv[1] || v[COL_K] || v[COL_OPC] || v[COL_OP] ||
                       !sealed_hex(sv[0], sealed.k, sizeof(sealed.k), &sealed.k_len) ||
                       !sealed_hex(sv[1], sealed.opc, sizeof(sealed.opc), &sealed.opc_len))) {
      snprintf(why, why_size,
               "%s:%zu: k_sealed and opc_sealed go together, as hex, instead of "
               "k, opc and op",
               in->name, in->line);
      err = KEDGE_ERR_CONFIG;
    }
    if (!err) {
      udm_subscriber_text_t text = {v[COL_SUPI], v[COL_K],   v[COL_OPC],  v[COL_OP],  v[COL_AMF],
                                    v[COL_SQN],  v[COL_RID], v[COL_EDGE], v[COL_AKMA]};
      if (!(err = add_record(db, in, &text, use_sealed ? &sealed : NULL, why, why_size)))
        (*count)++;
    }
    json_decref(o); /* jansson wipes on free (kedge_json_wipe_on_free) */
    OPENSSL_cleanse(line, sizeof(line));
  }
  return err;
}

kedge_err_t udm_db_import_csv(udm_db_t *db, const char *path, size_t *count, char *why,
                              size_t why_size)
{
  bool use_stdin = !strcmp(path, "-");
  input_t in = {.f = use_stdin ? stdin : fopen(path, "r"), .name = use_stdin ? "stdin" : path};
  if (!in.f) {
    snprintf(why, why_size, "%s: %s", path, strerror(errno));
    return KEDGE_ERR_IO;
  }
  size_t n = 0;
  kedge_err_t err = udm_db_begin(db);
  if (err)
    snprintf(why, why_size, "%s: cannot start a transaction", in.name);
  if (!err) {
    skip_bom(in.f);
    int first = getc(in.f);
    while (first == ' ' || first == '\t' || first == '\r' || first == '\n') {
      if (first == '\n')
        in.line++;
      first = getc(in.f);
    }
    if (first != EOF)
      ungetc(first, in.f);
    err = first == '{' ? import_jsonl(db, &in, &n, why, why_size)
                       : import_csv(db, &in, &n, why, why_size);
  }
  if (!use_stdin)
    fclose(in.f);
  if (!err && (err = udm_db_commit(db)))
    snprintf(why, why_size, "%s: cannot commit", in.name);
  if (err) {
    udm_db_rollback(db);
    return err;
  }
  *count = n;
  return KEDGE_OK;
}
