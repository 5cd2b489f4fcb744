#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ that are generated rather than captured:
fuzz-sbi-h2 (HTTP/2 frames, RFC 9113, with HPACK literal header fields, RFC 7541 6.2.2, no
Huffman; first octet odd: the target puts the connection preface in front), the JSON bodies of
fuzz-*-bodies (first octet: which body), and the sealed record of fuzz-seal and
fuzz-store-redis-reply (Kedge = 32 x 0x22 sealed under master key 32 x 0x11 for the Kedge ID
"kedge-fuzz@5gc.mnc001.mcc001.3gppnetwork.org", AES-256-GCM as lib/crypto/seal.c; needs
python3-cryptography). Run from the tree's top: python3 fuzz/make-seeds.py"""
import json, os, struct

def frame(typ, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([typ, flags]) + struct.pack(">I", sid) + payload

def lit(name, value):
    def s(b):
        assert len(b) < 127
        return bytes([len(b)]) + b
    return b"\x00" + s(name.encode()) + s(value.encode())

def request(sid, method, path, body=None, ctype="application/json", extra=()):
    hdrs = lit(":method", method) + lit(":scheme", "https") + lit(":path", path) + \
        lit(":authority", "127.0.0.1")
    if body is not None:
        hdrs += lit("content-type", ctype) + lit("content-length", str(len(body)))
    for n, v in extra:
        hdrs += lit(n, v)
    out = frame(1, 0x4 | (0x1 if body is None else 0), sid, hdrs)
    if body is not None:
        out += frame(0, 0x1, sid, body)
    return out

SETTINGS = frame(4, 0, 0, b"")
AIR = json.dumps({"servingNetworkName": "5G:mnc001.mcc001.3gppnetwork.org",
                  "ausfInstanceId": "ausf-1",
                  "resynchronizationInfo": {"rand": "0" * 32, "auts": "1" * 28}}).encode()
seeds = {
    "gad": request(1, "POST", "/nudm-ueau/v1/imsi-001010000000001/security-information/generate-auth-data", AIR),
    "gad-suci": request(1, "POST", "/nudm-ueau/v1/suci-0-001-01-0000-0-0-0000000001/security-information/generate-auth-data", b'{"servingNetworkName":"x"}'),
    "gad-pct": request(1, "POST", "/nudm-ueau/v1/imsi%2D001010000000001/security-information/generate-auth-data?x=1", b"{}"),
    "confirm": request(1, "PUT", "/nausf-auth/v1/ue-authentications/abc/5g-aka-confirmation", b'{"resStar":"00"}'),
    "ueauth": request(1, "POST", "/nausf-auth/v1/ue-authentications", b'{"supiOrSuci":"imsi-001010000000001"}'),
    "get": request(1, "GET", "/x/a%20b/c?q=1", extra=[("accept", "application/json")]),
    "raw": request(1, "POST", "/raw", b"\x00\x01", "application/octet-stream"),
    "wrongtype": request(1, "POST", "/nausf-auth/v1/ue-authentications", b"{}", "text/plain"),
    "badjson": request(1, "POST", "/nausf-auth/v1/ue-authentications", b"{"),
    "notfound": request(1, "GET", "/nope"),
    "two": request(1, "POST", "/nausf-auth/v1/ue-authentications", b"{}") +
           request(3, "PUT", "/nausf-auth/v1/ue-authentications/abc/5g-aka-confirmation", b"{}"),
    "reset": request(1, "PUT", "/nausf-auth/v1/ue-authentications/abc/5g-aka-confirmation", b"{}") +
             frame(3, 0, 1, struct.pack(">I", 8)),
    "ping-goaway": frame(6, 0, 0, b"12345678") + frame(7, 0, 0, struct.pack(">II", 0, 0)),
    "window": frame(8, 0, 0, struct.pack(">I", 1000)) + request(1, "GET", "/x/1/2"),
}
def write(target, name, data):
    d = os.path.join("fuzz/corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

for name, body in seeds.items():
    write("fuzz-sbi-h2", name, b"\x01" + SETTINGS + body)

def js(obj):
    return json.dumps(obj).encode()

SNN = "5G:mnc001.mcc001.3gppnetwork.org"
KID = "kedge-1@5gc.mnc001.mcc001.3gppnetwork.org"
write("fuzz-udm-bodies", "supi", b"imsi-001010000000001\n" + js({"servingNetworkName": SNN, "ausfInstanceId": "a"}))
write("fuzz-udm-bodies", "suci-resync", b"suci-0-001-01-0000-0-0-0000000001\n" + AIR)
write("fuzz-udm-bodies", "nai", b"nai-user@example.com\n{}")
write("fuzz-ausf-bodies", "auth-info", b"\x00" + js({"supiOrSuci": "imsi-001010000000001", "servingNetworkName": SNN,
                                                    "resynchronizationInfo": {"rand": "0" * 32, "auts": "1" * 28}}))
write("fuzz-ausf-bodies", "confirmation", b"\x01" + js({"resStar": "a" * 32}))
write("fuzz-ausf-bodies", "key-request", b"\x02" + js({"kedgeId": KID, "ecsId": "ecs.example.com"}))
write("fuzz-ausf-bodies", "auth-info-result", b"\x03" + js({
    "authType": "5G_AKA", "supi": "imsi-001010000000001", "routingId": "0", "edgeInd": True,
    "authenticationVector": {"avType": "5G_HE_AKA", "rand": "0" * 32, "autn": "1" * 32,
                             "xresStar": "2" * 32, "kausf": "3" * 64}}))
write("fuzz-nef-bodies", "request", js({"afId": "ecs.example.com", "kedgeId": KID, "ecsId": "Ecs.Example.COM."}))
write("fuzz-ecs-bodies", "serv-prov-req", js({"eecId": "eec-1", "ueId": "msisdn-1", "acProfs": [{"acId": "ac-1"}, {"acId": ""}]}))
write("fuzz-key-answer", "rfc3339", b"\x00" + b"2026-11-27T20:58:04.123+01:00")
write("fuzz-key-answer", "retry-after", b"\x01" + b"5")
write("fuzz-key-answer", "ausf-answer", b"\x02" + js({"kedgeId": KID, "kedge": "4" * 64, "expiry": "2099-01-01T00:00:00Z"}))
write("fuzz-key-answer", "nef-answer", b"\x03" + js({"kedgeId": KID, "kedge": "4" * 64, "expiry": "2099-01-01T00:00:00.5-02:00"}))
write("fuzz-key-answer", "problem", b"\x03" + js({"status": 429, "cause": "NF_CONGESTION", "title": "t", "detail": "d",
                                                  "invalidParams": [{"param": "/kedgeId", "reason": "r"}]}))
write("fuzz-ue-bodies", "ue-auth-ctx", js({"authType": "5G_AKA", "5gAuthData": {"rand": "0" * 32, "autn": "1" * 32, "hxresStar": "2" * 32},
                                          "_links": {"5g-aka": {"href": "/nausf-auth/v1/ue-authentications/abc/5g-aka-confirmation"}}}))
write("fuzz-ue-bodies", "ue-auth-ctx-array", js({"authType": "5G_AKA", "5gAuthData": {"rand": "0" * 32, "autn": "1" * 32, "hxresStar": "2" * 32},
                                                "_links": {"5g-aka": [{"href": "https://h:1/x"}]}}))
write("fuzz-ue-bodies", "eap", js({"authType": "EAP_AKA_PRIME"}))
write("fuzz-ue-bodies", "confirmation", js({"authResult": "AUTHENTICATION_SUCCESS", "supi": "imsi-001010000000001", "kseaf": "5" * 64}))
write("fuzz-ue-bodies", "confirmation-failure", js({"authResult": "AUTHENTICATION_FAILURE"}))
# the AUSF's own forms (compact, its member order), which the UE reads without jansson
write("fuzz-ue-bodies", "ue-auth-ctx-ausf-form",
      b'{"authType":"5G_AKA","5gAuthData":{"rand":"' + b"0a" * 16 + b'","hxresStar":"' + b"1B" * 16 +
      b'","autn":"' + b"2c" * 16 + b'"},"_links":{"5g-aka":{"href":"https://127.0.0.1:8443/nausf-auth/v1/'
      b'ue-authentications/abc/5g-aka-confirmation"}}}')
write("fuzz-ue-bodies", "confirmation-ausf-form",
      b'{"authResult":"AUTHENTICATION_SUCCESS","supi":"imsi-001010000000001","kseaf":"' + b"5e" * 32 + b'"}')

try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:
    raise SystemExit("python3-cryptography missing: sealed seeds not written")
kid = b"kedge-fuzz@5gc.mnc001.mcc001.3gppnetwork.org"
nonce = bytes(range(12))
sealed = b"\x01" + nonce + AESGCM(b"\x11" * 32).encrypt(nonce, b"\x22" * 32, kid)
supi = b"imsi-001010000000001"
rec = b"\x01" + struct.pack(">q", 4102444800000) + struct.pack(">q", 1700000000000) + bytes([len(supi)]) + supi + sealed
write("fuzz-seal", "sealed", sealed)
write("fuzz-store-redis-reply", "get-record", b"$%d\r\n" % len(rec) + rec + b"\r\n")
write("fuzz-store-redis-reply", "nil", b"$-1\r\n")
write("fuzz-store-redis-reply", "int1", b":1\r\n")
write("fuzz-store-redis-reply", "error", b"-NOSCRIPT No matching script\r\n")
write("fuzz-store-redis-reply", "array", b"*2\r\n$3\r\nfoo\r\n:0\r\n")
write("fuzz-store-redis-reply", "status", b"+OK\r\n")
