/* kedge-ecsd: the Edge Configuration Server with TLS 1.3 external-PSK authentication of EECs
 * (SPEC.md 4). */
#include <stdio.h>

#include "ecs.h"
#include "kedge/app.h"
#include "kedge/log.h"

static const char *const extra_usage[] = {
    KEDGE_APP_PORTS_FILE_USAGE,
    "                         (and \"revocation_port=N\" with revocation.enabled)", NULL};

static const kedge_daemon_info_t info = {
    .program = "kedge-ecsd",
    .description =
        "kedge ECS: authenticates EECs with TLS 1.3 and an external PSK (identity: Kedge ID; "
        "key: Kedge, or K_ECS in profile bound), fetching the key from the AUSF "
        "(Nausf_UEAuthentication_keyrequest) or the NEF while the handshake waits, and answers "
        "ECS service provisioning requests (TS 24.558, EDGE-4) inside the tunnel.",
    .default_config = "/etc/kedge/ecs.yaml",
    .extra_usage = extra_usage,
};

static ecs_t ecs;

static kedge_err_t setup(kedge_sbi_server_t *srv, void *state, char *why, size_t why_size)
{
  ecs_t *e = state;
  kedge_err_t err = ecs_setup(e, srv, why, why_size);
  if (err)
    return err;
  kedge_log_info("profile %s%s%s; keys from the %s (%zu route%s); key cache %zu for %lld ms; "
                 "psk_ke %s",
                 ecs_profile_name(e->profile), e->profile != ECS_PROFILE_KEDGE ? ", ECS ID " : "",
                 e->profile != ECS_PROFILE_KEDGE ? e->ecs_id : "", ecs_source_name(e), e->routes.n,
                 e->routes.n == 1 ? "" : "s", e->key_cache_size, (long long)e->key_cache_ttl_ms,
                 e->allow_psk_ke ? "allowed" : "refused");
  return KEDGE_OK;
}

static void teardown(void *state)
{
  ecs_teardown(state);
}

int main(int argc, char **argv)
{
  const kedge_app_t app = {
      .info = &info,
      .service = "ecs",
      .default_port = 8443, /* conf/ecs.yaml, docs/config.md "Ports" */
      .nf_type = "AF",      /* the ECS asks as an application function (TS 29.510 NFType) */
      .read_config = ecs_read_config,
      .setup = setup,
      .teardown = teardown,
      .check = ecs_check,
      .state_size = sizeof(ecs),
      .own_tls = true, /* TLS 1.3 with external PSKs, its own (psk_handshake.c) */
      .extra_port_name = "revocation_port",
      .extra_port = ecs_revocation_port,
      .state = &ecs,
  };
  return kedge_app_main(&app, argc, argv);
}
