#!/bin/sh
# make demo. Until the daemons land (UDM, AUSF, NEF, ECS, UE agent: see README.md "Status"),
# the demo shows the key chain of the mission computed by `kedge derive` on the known-answer
# inputs of tests/vectors, step by step, and says what is not there yet.
set -eu
build=${1:-build}
kedge="$build/bin/kedge"
[ -x "$kedge" ] || { echo "demo: $kedge is missing: run make first" >&2; exit 1; }

say() { printf '\n== %s\n' "$*"; }
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }
# Keys are never shown: only the first 8 hex digits of their SHA-256 fingerprint.
fp() { printf '%s' "$1" | sha256sum | cut -c1-8; }

say "Step 0: 5G AKA (TS 33.501 6.1.3.2) for imsi-001010000000001 in PLMN 001/01"
echo "   USIM credentials: TS 35.208 test set 1; RAND, SQN and AMF from the same set"
aka=$("$kedge" derive aka --k 465b5ce8b199b49faa5f0a2ee238a6bc \
  --opc cd63cb71954a9f4e48a5994e37a02baf --rand 23553cbe9637a89d218ae64dae47bf35 \
  --sqn ff9bb4d0b607 --amf b9b9 --mcc 001 --mnc 01 --supi imsi-001010000000001)
echo "   UDM: 5G HE AV with AUTN $(echo "$aka" | field autn)"
echo "   AUSF: HXRES* $(echo "$aka" | field hxresStar) sent to the SEAF"
kausf=$(echo "$aka" | field kausf)
echo "   UE and AUSF now share KAUSF (fingerprint sha256:$(fp "$kausf"))"

say "Steps 1-2: UE and AUSF derive Kedge and Kedge ID (SPEC.md 2)"
edge=$("$kedge" derive kedge --kausf "$kausf" --supi imsi-001010000000001 --mcc 001 --mnc 01 \
  --rid 0 --ecs-id ecs.example.com)
kedge_id=$(echo "$edge" | field kedgeId)
echo "   Kedge ID: $kedge_id"
echo "   Kedge:    fingerprint sha256:$(fp "$(echo "$edge" | field kedge)") (32 octets, the TLS PSK)"
echo "   K_ECS for ecs.example.com (profile bound): fingerprint sha256:$(fp "$(echo "$edge" | field kEcs)")"

say "Step 4 (ECS side): the ECS checks the PSK identity before any key request"
"$kedge" derive parse-id "$kedge_id"
if "$kedge" derive parse-id "0.${kedge_id#0.}x" 2>/dev/null; then
  echo "demo: a malformed Kedge ID was accepted" >&2
  exit 1
fi
echo "   a malformed identity is refused: $("$kedge" derive parse-id "0.${kedge_id#0.}x" 2>&1 || true)"

say "Not there yet"
echo "   the UDM, AUSF, NEF and ECS daemons, the UE key agent and the EEC: steps 3 and 5-7 run"
echo "   for real once they land (README.md lists the status of each part)."
