/* kedge-udmd: the UDM/ARPF. `kedge-udmd --config udm.yaml` serves Nudm_UEAuthentication;
 * `kedge-udmd subscriber ...` provisions the subscriber database (also while it serves). */
#include <stdio.h>
#include <string.h>

#include "kedge/app.h"
#include "kedge/log.h"
#include "udm.h"

static const char *const extra_usage[] = {
    KEDGE_APP_PORTS_FILE_USAGE,
    "",
    "Provisioning (works while the daemon runs; never prints K or OPc):",
    "  kedge-udmd subscriber add --config FILE --supi SUPI --k-file FILE (--opc-file FILE | "
    "--op-file FILE)",
    "                            [--amf HEX] [--sqn HEX] [--rid RID] [--edge | --no-edge] [--akma]",
    "  kedge-udmd subscriber modify --config FILE --supi SUPI [--k-file F] [--opc-file F |",
    "                            --op-file F] [--amf HEX] [--rid RID] [--edge | --no-edge]",
    "  kedge-udmd subscriber show --config FILE --supi SUPI",
    "  kedge-udmd subscriber list --config FILE [--json]",
    "  kedge-udmd subscriber delete --config FILE --supi SUPI",
    "  kedge-udmd subscriber import --config FILE FILE|-   (CSV with header supi,k,opc|op",
    "                            [,amf,sqn,rid,edge,akma], or JSON lines; - is stdin)",
    "  kedge-udmd subscriber export --config FILE [--reveal]   (JSON lines, K/OPc sealed)",
    NULL,
};

const kedge_daemon_info_t udm_info = {
    .program = "kedge-udmd",
    .description = "kedge UDM/ARPF: the subscriber database (SQLite, K and OPc sealed under a "
                   "master key) and Nudm_UEAuthentication_Get (TS 29.503): 5G HE AVs for the "
                   "AUSF's 5G AKA, with the routing indicator and the edge-capable flag (edgeInd); "
                   "the AUSF's results (auth-events, the latest udm.auth_events.keep per SUPI); "
                   "its SIDF de-conceals SUCIs of protection schemes 0, 1 and 2 (TS 33.501 6.12).",
    .default_config = "/etc/kedge/udm.yaml",
    .extra_usage = extra_usage,
};

static udm_t udm;

static kedge_err_t setup(kedge_sbi_server_t *srv, void *state, char *why, size_t why_size)
{
  udm_t *u = state;
  /* the master key opens the subscriber database (its key-check record) and the SUCI keys */
  kedge_err_t err = udm_open_database(u, &u->db, why, why_size);
  if (err)
    return err;
  err = udm_suci_load(u, why, why_size);
  if (err) {
    udm_db_close(u->db);
    return err;
  }
  u->srv = srv;
  err = udm_ueau_setup(u, srv);
  if (!err)
    err = udm_auth_events_setup(u, srv);
  if (err) {
    snprintf(why, why_size, "cannot set up Nudm_UEAU: %s", kedge_strerror(err));
    kedge_work_pool_free(u->pool);
    udm_db_close(u->db);
    udm_suci_free(u);
    return err;
  }
  kedge_log_info("subscriber database %s; group commit of up to %zu SQN updates", u->database,
                 u->max_batch);
  return KEDGE_OK;
}

static void teardown(void *state)
{
  udm_t *u = state;
  kedge_work_pool_free(u->pool); /* after the loops stopped: see kedge/work.h */
  udm_db_close(u->db);
  udm_suci_free(u);
  kedge_master_key_clear(&u->master_key);
}

/* TS 29.510 ServiceName: what the NFProfile announces (docs/nrf.md) */
static const char *const udm_services[] = {"nudm-ueau", NULL};

const kedge_app_t udm_app = {
    .info = &udm_info,
    .service = "udm",
    .default_port = 8001, /* conf/udm.yaml, docs/config.md "Ports" */
    .nf_type = "UDM",
    .nf_services = udm_services,
    .read_config = udm_read_config,
    .setup = setup,
    .teardown = teardown,
    .check = udm_check,
    .reload = udm_reload,
    .state_size = sizeof(udm),
    .state = &udm,
};

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "subscriber") == 0)
    return udm_subscriber_command(&udm_app, argc - 1, argv + 1);
  return kedge_app_main(&udm_app, argc, argv);
}
