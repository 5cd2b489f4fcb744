#!/bin/sh
# The schema checker the integration tests use (tests/util/openapi_check.py) accepts bodies that
# 3GPP's OpenAPI files allow and refuses ones they do not: picked by operation and status (with a
# response $ref into TS29571_CommonData.yaml), by schema name, with `nullable` and a cross-file
# $ref. Skipped (exit 77) when the OpenAPI folder is not next to the repository.
# Usage: sh test-openapi-check.sh BUILD_DIR
BUILD=${1:?usage: test-openapi-check.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
if ! dir=$(/usr/bin/python3 "$OPENAPI_CHECK" --where); then
  echo "skip: no OpenAPI folder at $dir"
  exit 77
fi
refuses() {
  d=$1
  shift
  if /usr/bin/python3 "$OPENAPI_CHECK" "$@" 2>"$T/err"; then fail "$d: accepted"; else
    [ $? -eq 1 ] && grep -q 'openapi_check: ' "$T/err" && ok "$d: refused" || fail "$d: $(cat "$T/err")"
  fi
}
UEAU=TS29503_Nudm_UEAU.yaml
good='{"nfInstanceId":"3fa85f64-5717-4562-b3fc-2c963f66afa6","success":true,"timeStamp":"2026-12-06T10:00:00Z","authType":"5G_AKA","servingNetworkName":"5G:mnc001.mcc001.3gppnetwork.org"}'
echo "$good" | schema_ok "AuthEvent request" request $UEAU '/{supi}/auth-events' POST
echo '{"nfInstanceId":"3fa85f64-5717-4562-b3fc-2c963f66afa6","success":"yes","authType":"5G_AKA"}' |
  refuses "AuthEvent with a string for success and no timeStamp" request $UEAU '/{supi}/auth-events' POST
echo '{"status":404,"cause":"USER_NOT_FOUND"}' |
  schema_ok "ProblemDetails 404 via TS29571 responses" response $UEAU '/{supi}/auth-events' POST 404
echo '{"status":"404"}' | refuses "ProblemDetails with a string status" response $UEAU '/{supi}/auth-events' POST 404
echo '{"authType":"5G_AKA","_links":{"5g-aka":{"href":"https://a/x"}},"5gAuthData":{"rand":"00112233445566778899aabbccddeeff","hxresStar":"00112233445566778899aabbccddeeff","autn":"00112233445566778899aabbccddeeff"}}' |
  schema_ok "UEAuthenticationCtx (201)" response TS29509_Nausf_UEAuthentication.yaml /ue-authentications POST 201
echo '{"authType":"5G_AKA","_links":{},"5gAuthData":{"rand":"zz"}}' |
  refuses "UEAuthenticationCtx with a bad RAND" response TS29509_Nausf_UEAuthentication.yaml /ue-authentications POST 201
echo '{"supiOrSuci":"imsi-001010000000001"}' | refuses "AuthenticationInfo without servingNetworkName" schema TS29509_Nausf_UEAuthentication.yaml AuthenticationInfo
echo 'not json' | refuses "a body that is not JSON" schema TS29509_Nausf_UEAuthentication.yaml AuthenticationInfo
if /usr/bin/python3 "$OPENAPI_CHECK" request $UEAU /nowhere POST </dev/null 2>/dev/null; then fail "unknown path accepted"; else
  [ $? -eq 2 ] && ok "unknown path: usage error" || fail "unknown path: wrong exit"; fi
finish
