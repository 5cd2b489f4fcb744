#!/usr/bin/python3
"""The bad-input table (issue 12): every file in tests/badinput/cases/ is one bad input to one
real daemon and the answer it must get; after each case a good request to the same daemon must
still succeed (it is still serving and lost nothing). The daemons are started once, for all
cases: kedge-udmd, kedge-ausfd (edge keys in SQLite) and kedge-ecsd (keys from that AUSF), each
a separate process on 127.0.0.1 with certificates from `kedge pki`; one UE registers first
(kedge-ue) so that a real Kedge ID and key exist.

A case file is lines of `field: value` ('#' lines are comments; the first one is the title):
  target:  udm | ausf | ecs                 the daemon (and the good request that follows)
  HTTP over mutual TLS (curl --http2):
    as:      CERT                            client certificate ($T/pki/CERT.crt); `none`: no
                                             certificate; `rogue`: one from another CA
    method, path, header (repeatable), body  the request; body is one line of text
    body-repeat: N TEXT                      the body is TEXT N times (size limits)
    header-repeat: N NAME                    a header NAME with N octets of value
    status, cause                            the answer: HTTP status and ProblemDetails cause
    param:   POINTER                         an invalidParams entry that must be named
    contains: TEXT                           text the body must hold
  TLS handshakes (openssl s_client):
    tls:     ARGS                            s_client arguments after -connect
    alert:   NAME                            the TLS alert the daemon must send (RFC 8446 6)
    handshake: ok                            the handshake must complete instead
  EDGE-4 through kedge-eec (TLS 1.3 PSK, then HTTP/2):
    eec:     ARGS                            kedge-eec provision arguments after --ecs
    body:    TEXT                            sent as is (--request-file) instead of the
                                             ECSServProvReq kedge-eec would build
    exit:    N, stderr: TEXT                 its exit status and a text of its error line
  pending: REASON                            the expected answer is what issue 12 asks of
                                             another change that is not on main yet: the case
                                             runs and is reported, a mismatch does not fail.
Placeholders: {SUPI} {SNN} {KID} (the registered UE's Kedge ID) {KIDOTHER} (its TID under
another realm) {KEY} {BADKEY} (its key, every digit changed) {T} (the test directory, with
pki/, kedge.key and bad.key) {X:N} (N times 'x'). In a body, \\xHH is one raw octet.
Bodies with application/problem+json are checked against 3GPP's ProblemDetails schema
(tests/util/openapi_check.py, TS 29.571), others against the operation's schema when the case
names it (schema: FILE.yaml PATH METHOD).

Usage: run.py BUILD_DIR [CASE_NAME_SUBSTRING]   exit 0 all passed, 1 failures, 77 skipped.
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OPENAPI_CHECK = os.path.join(HERE, "..", "util", "openapi_check.py")
K = "465b5ce8b199b49faa5f0a2ee238a6bc"
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
SNN = "5G:mnc001.mcc001.3gppnetwork.org"
GOOD_SUPI = "imsi-001010000000001"   # the UE that registers: its key must survive every case
PROBE_SUPI = "imsi-001010000000002"  # the good requests to the UDM and the AUSF
ALERTS = {  # RFC 8446 6.2
    "unexpected_message": 10, "handshake_failure": 40, "bad_certificate": 42,
    "certificate_unknown": 46, "illegal_parameter": 47, "unknown_ca": 48, "decode_error": 50,
    "decrypt_error": 51, "protocol_version": 70, "insufficient_security": 71,
    "internal_error": 80, "missing_extension": 109, "unrecognized_name": 112,
    "certificate_required": 116, "no_application_protocol": 120,
}


class Failed(Exception):
    pass


class Bed:
    """The daemons and what the cases need of them."""

    def __init__(self, build):
        self.bin = os.path.join(os.path.abspath(build), "bin")
        self.t = tempfile.mkdtemp(prefix="kedge-badinput-")
        self.procs = {}
        self.ports = {}
        self.vars = {"SNN": SNN, "SUPI": GOOD_SUPI, "T": self.t}

    def run(self, *argv, check=True, **kw):
        r = subprocess.run(list(argv), capture_output=True, text=True, timeout=30, **kw)
        if check and r.returncode != 0:
            raise Failed("%s: exit %d: %s" % (" ".join(argv[:3]), r.returncode, r.stderr.strip()))
        return r

    def write(self, name, text, mode=0o600):
        path = os.path.join(self.t, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def start(self, name, prog, conf):
        ports = os.path.join(self.t, name + ".ports")
        log = open(os.path.join(self.t, name + ".log"), "a")
        p = subprocess.Popen([os.path.join(self.bin, prog), "--config", conf, "--ports-file", ports],
                             stdout=subprocess.DEVNULL, stderr=log)
        self.procs[name] = p
        for _ in range(200):
            if os.path.exists(ports) and os.path.getsize(ports) > 0:
                with open(ports) as f:
                    self.ports[name] = int(re.search(r"^port=(\d+)", f.read(), re.M).group(1))
                return
            if p.poll() is not None:
                break
            time.sleep(0.05)
        raise Failed("%s did not start: %s" % (prog, self.log(name)))

    def log(self, name):
        with open(os.path.join(self.t, name + ".log")) as f:
            return f.read()[-2000:]

    def alive(self, name):
        return self.procs[name].poll() is None

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()

    def set_up(self):
        t = self.t
        self.run(os.path.join(self.bin, "kedge"), "pki", "init", t + "/pki")
        # a second CA: certificates kedge's daemons must not trust
        self.run(os.path.join(self.bin, "kedge"), "pki", "init", t + "/rogue")
        shutil.copy(t + "/rogue/ausf.crt", t + "/pki/rogue.crt")
        shutil.copy(t + "/rogue/ausf.key", t + "/pki/rogue.key")
        self.run(os.path.join(self.bin, "kedge"), "master-key", t + "/udm.key")
        self.run(os.path.join(self.bin, "kedge"), "master-key", t + "/ausf.key")
        pki = "{cert: %s/pki/%%s.crt, key: %s/pki/%%s.key, ca: %s/pki/ca.crt}" % (t, t, t)
        udm = self.write("udm.yaml", """log: {level: warn}
sbi: {port: 0, tls: %s, metrics: {enabled: false}}
udm: {database: %s/udm.sqlite, master_key: %s/udm.key, allowed_consumers: [ausf.kedge.test]}
""" % (pki % ("udm", "udm"), t, t))
        csv = self.write("subscribers.csv", "supi,k,opc,amf,sqn,rid,edge\n" + "".join(
            "%s,%s,%s,8000,000000000010,12,true\n" % (s, K, OPC) for s in (GOOD_SUPI, PROBE_SUPI)))
        self.run(os.path.join(self.bin, "kedge-udmd"), "subscriber", "import", "--config", udm, csv)
        self.start("udm", "kedge-udmd", udm)
        ausf = self.write("ausf.yaml", """log: {level: warn}
sbi: {port: 0, tls: %s, metrics: {enabled: false}}
udm: {uri: "https://127.0.0.1:%d", timeout: 2s}
ue_authentication:
  allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["%s"]}]
edge: {enabled: true, key_lifetime: 24h, home_network: {mcc: "001", mnc: "01"}, master_key: %s/ausf.key}
keystore: "sqlite:%s/ausf-keys.sqlite"
keyrequest:
  allowed_consumers:
    - {name: ecs.kedge.test, profiles: [kedge]}
    - {name: nef.kedge.test, profiles: [kedge, bound]}
  relays: [nef.kedge.test]
""" % (pki % ("ausf", "ausf"), self.ports["udm"], SNN, t, t))
        self.start("ausf", "kedge-ausfd", ausf)
        ecs = self.write("ecs.yaml", """log: {level: warn}
sbi: {port: 0, limits: {handshake_timeout: 3s}, metrics: {enabled: false}}
key_source:
  type: ausf
  uri: https://127.0.0.1:%d
  tls: {ca: %s/pki/ca.crt, cert: %s/pki/ecs.crt, key: %s/pki/ecs.key}
  timeout: 2s
  rate_limit: {per_address: 1000, per_address_burst: 1000}
service_provisioning:
  allowed_eec_ids: ["*"]
  allowed_ac_ids: [ac.video]
  edns:
    - dnn: edge.example
      eess:
        - {ees_id: ees-video, uri: "https://ees-video.example:8443", ac_ids: [ac.video]}
""" % (self.ports["ausf"], t, t, t))
        self.start("ecs", "kedge-ecsd", ecs)
        # one UE registers: its Kedge ID and key exist at the AUSF from now on
        ue = self.write("ue.yaml", """usim:
  supi: %s
  k: %s
  opc: %s
  routing_indicator: "12"
  home_network: {mcc: "001", mnc: "01"}
  sqn_file: %s/ue.sqn
ausf: {uri: "https://127.0.0.1:%d", ca: %s/pki/ca.crt, cert: %s/pki/seaf.crt, key: %s/pki/seaf.key}
""" % (GOOD_SUPI, K, OPC, t, self.ports["ausf"], t, t, t))
        out = json.loads(self.run(os.path.join(self.bin, "kedge-ue"), "register", "--config", ue,
                                  "--json").stdout)
        self.vars["KID"] = out["kedgeId"]
        status, _, body = self.curl("ecs", "ausf", "POST", "/nausf-auth/v1/kedge-keys/retrieve",
                                    ["content-type: application/json"],
                                    json.dumps({"kedgeId": out["kedgeId"]}))
        if status != 200:
            raise Failed("key retrieve after registration: %d %s" % (status, body))
        self.vars["KEY"] = json.loads(body)["kedge"]
        self.vars["BADKEY"] = self.vars["KEY"].translate(str.maketrans("0123456789abcdef",
                                                                       "123456789abcdef0"))
        self.write("kedge.key", self.vars["KEY"] + "\n")
        self.write("bad.key", self.vars["BADKEY"] + "\n")
        # the registered TID under another home network (MCC 002): another Kedge ID (SPEC.md 2)
        self.vars["KIDOTHER"] = self.vars["KID"].replace(".mcc001.", ".mcc002.")

    # ---- clients ----

    def curl(self, cert, daemon, method, path, headers, body, extra=()):
        t = self.t
        argv = ["curl", "-s", "--http2", "--max-time", "10", "--cacert", t + "/pki/ca.crt",
                "-o", t + "/body", "-D", t + "/headers", "-w", "%{http_code}", "-X", method]
        if cert != "none":
            argv += ["--cert", "%s/pki/%s.crt" % (t, cert), "--key", "%s/pki/%s.key" % (t, cert)]
        for h in headers:
            argv += ["-H", h]
        if body is not None:
            with open(t + "/request", "wb") as f:
                f.write(octets(body))
            argv += ["--data-binary", "@" + t + "/request"]
        argv += list(extra)
        argv.append("https://127.0.0.1:%d%s" % (self.ports[daemon], path))
        r = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=30)
        with open(t + "/body", "rb") as f:
            out = f.read().decode(errors="replace")
        with open(t + "/headers") as f:
            hdrs = f.read()
        return int(r.stdout or 0), hdrs, out

    def s_client(self, daemon, args):
        argv = ["timeout", "10", "openssl", "s_client", "-connect",
                "127.0.0.1:%d" % self.ports[daemon]] + args
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace", timeout=30)
        return r.stdout + r.stderr

    def eec(self, args):
        argv = [os.path.join(self.bin, "kedge-eec"), "provision", "--ecs",
                "127.0.0.1:%d" % self.ports["ecs"], "--timeout", "5"] + args
        return subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=30)

    # ---- the good request after each case ----

    def good(self, daemon):
        if daemon == "udm":
            status, _, body = self.curl(
                "ausf", "udm", "POST",
                "/nudm-ueau/v1/%s/security-information/generate-auth-data" % PROBE_SUPI,
                ["content-type: application/json"],
                json.dumps({"servingNetworkName": SNN, "ausfInstanceId": "badinput"}))
            if status != 200 or '"avType":"5G_HE_AKA"' not in body:
                raise Failed("good request to the UDM: %d %s" % (status, body))
        elif daemon == "ausf":
            status, _, body = self.curl("seaf", "ausf", "POST", "/nausf-auth/v1/ue-authentications",
                                        ["content-type: application/json"],
                                        json.dumps({"supiOrSuci": PROBE_SUPI,
                                                    "servingNetworkName": SNN}))
            if status != 201 or "5gAuthData" not in body:
                raise Failed("good request to the AUSF: %d %s" % (status, body))
            status, _, body = self.curl("ecs", "ausf", "POST", "/nausf-auth/v1/kedge-keys/retrieve",
                                        ["content-type: application/json"],
                                        json.dumps({"kedgeId": self.vars["KID"]}))
            if status != 200 or json.loads(body).get("kedge") != self.vars["KEY"]:
                raise Failed("the registered key after the case: %d %s" % (status, body))
        elif daemon == "ecs":
            r = self.eec(["--kedge-id", self.vars["KID"], "--key-file", self.t + "/kedge.key",
                          "--eec-id", "eec-good", "--json"])
            if r.returncode != 0 or "ednCnfgInfo" not in r.stdout:
                raise Failed("good EDGE-4 request through the ECS: exit %d %s" %
                             (r.returncode, r.stderr.strip()))
        for name in self.procs:
            if not self.alive(name):
                raise Failed("kedge-%sd died: %s" % (name, self.log(name)))


def octets(text):
    """A body as sent: UTF-8, where \\xHH (backslash, x, two hex digits) is one raw octet."""
    return re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), text.encode())


def expand(text, bed):
    text = re.sub(r"\{X:(\d+)\}", lambda m: "x" * int(m.group(1)), text)
    for k, v in bed.vars.items():
        text = text.replace("{%s}" % k, v)
    return text


def parse_case(path):
    case = {"header": [], "title": None, "file": os.path.basename(path)}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                if case["title"] is None:
                    case["title"] = line.lstrip("# ").strip()
                continue
            if not line.strip():
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise Failed("%s: not `field: value`: %s" % (path, line))
            key, value = key.strip(), value.strip() if key.strip() != "body" else value[1:]
            if key == "header":
                case["header"].append(value)
            elif key in case:
                raise Failed("%s: %s given twice" % (path, key))
            else:
                case[key] = value
    if case.get("target") not in ("udm", "ausf", "ecs"):
        raise Failed("%s: target must be udm, ausf or ecs" % path)
    return case


def schema_check(args, body, t):
    with open(t + "/schema-body", "w") as f:
        f.write(body)
    r = subprocess.run(["/usr/bin/python3", OPENAPI_CHECK] + args + [t + "/schema-body"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode == 77:
        return "skipped"
    if r.returncode != 0:
        raise Failed("3GPP schema %s: %s" % (" ".join(args), r.stderr.strip()))
    return "checked"


def run_http(case, bed, stats):
    body = None
    if "body" in case:
        body = expand(case["body"], bed)
    if "body-repeat" in case:
        n, _, text = case["body-repeat"].partition(" ")
        body = expand(text, bed) * int(n)
    headers = [expand(h, bed) for h in case["header"]]
    if "header-repeat" in case:
        n, _, name = case["header-repeat"].partition(" ")
        headers.append("%s: %s" % (name, "v" * int(n)))
    status, hdrs, out = bed.curl(case.get("as", "ausf"), case["target"], case.get("method", "POST"),
                                 expand(case["path"], bed), headers, body)
    want = int(case["status"])
    if status != want:
        raise Failed("status %d, want %d: %s" % (status, want, out[:300]))
    ctype = re.search(r"^content-type: *([^\r\n;]*)", hdrs, re.I | re.M)
    ctype = ctype.group(1).strip().lower() if ctype else ""
    if "cause" in case:
        if ctype != "application/problem+json":
            raise Failed("content-type %r, want application/problem+json" % ctype)
        problem = json.loads(out)
        if problem.get("cause") != case["cause"] or problem.get("status", want) != want:
            raise Failed("cause %s (status %s), want %s: %s" %
                         (problem.get("cause"), problem.get("status"), case["cause"], out[:300]))
        if "param" in case and case["param"] not in [p.get("param") for p in
                                                     problem.get("invalidParams", [])]:
            raise Failed("invalidParams lacks %s: %s" % (case["param"], out[:300]))
    if "contains" in case and expand(case["contains"], bed) not in out:
        raise Failed("body lacks %r: %s" % (case["contains"], out[:300]))
    if ctype == "application/problem+json":
        stats[schema_check(["schema", "TS29571_CommonData.yaml", "ProblemDetails"], out, bed.t)] += 1
    elif "schema" in case:
        kind = "response"
        args = case["schema"].split() + [str(status)]
        stats[schema_check([kind] + args, out, bed.t)] += 1


def run_tls(case, bed):
    args = expand(case["tls"], bed).split()
    # TLS 1.3: a client certificate is judged after the client's Finished; -ign_eof keeps
    # s_client reading until the server's alert and close instead of leaving at once
    out = bed.s_client(case["target"], args + ([] if case.get("handshake") == "ok" else ["-ign_eof"]))
    if case.get("handshake") == "ok":
        if "Cipher is TLS_" not in out or "Cipher is (NONE)" in out:
            raise Failed("handshake did not complete: %s" % alert_lines(out))
        return
    want = ALERTS[case["alert"]]
    got = re.findall(r"alert number (\d+)", out)
    if str(want) not in got:
        raise Failed("alert %s (%d) not seen; got %s: %s" %
                     (case["alert"], want, got or "none", alert_lines(out)))


def alert_lines(out):
    return " | ".join(l.strip() for l in out.splitlines()
                      if re.search(r"alert|error|Cipher is", l, re.I))[:400]


def run_eec(case, bed):
    args = [expand(a, bed) for a in split_args(case["eec"])]
    if "body" in case:
        with open(bed.t + "/eec-request", "wb") as f:
            f.write(octets(expand(case["body"], bed)))
        args += ["--request-file", bed.t + "/eec-request"]
    r = bed.eec(args)
    if r.returncode != int(case["exit"]):
        raise Failed("kedge-eec exit %d, want %s: %s" % (r.returncode, case["exit"], r.stderr.strip()))
    if "stderr" in case and case["stderr"] not in r.stderr:
        raise Failed("kedge-eec said %r, want %r" % (r.stderr.strip(), case["stderr"]))


def split_args(text):
    """Shell-like words: '...' quotes a word (may be empty), \\xHH is an octet."""
    words = re.findall(r"'([^']*)'|(\S+)", text)
    return [re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), q or w)
            for q, w in words]


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    for tool in ("curl", "openssl"):
        if not shutil.which(tool):
            print("skip: %s not installed (scripts/deps.sh installs it)" % tool)
            return 77
    files = sorted(glob.glob(os.path.join(HERE, "cases", "*.case")))
    if len(sys.argv) > 2:
        files = [f for f in files if sys.argv[2] in os.path.basename(f)]
    cases = [parse_case(f) for f in files]
    bed = Bed(sys.argv[1])
    fails, pending_ok, pending_open = 0, 0, 0
    stats = {"checked": 0, "skipped": 0}
    try:
        bed.set_up()
        for name in ("udm", "ausf", "ecs"):
            bed.good(name)
        for case in cases:
            title = "%s: %s" % (case["file"], case["title"])
            try:
                if "tls" in case:
                    run_tls(case, bed)
                elif "eec" in case:
                    run_eec(case, bed)
                else:
                    run_http(case, bed, stats)
                verdict = None
            except (Failed, ValueError, KeyError) as e:
                verdict = str(e) or repr(e)
            try:
                bed.good(case["target"])
            except Failed as e:
                verdict = (verdict + "; " if verdict else "") + "then: " + str(e)
                case.pop("pending", None)  # a daemon that stops serving is never pending
            if verdict is None:
                if "pending" in case:
                    pending_ok += 1
                    print("ok: %s (pending no more: %s; remove the pending line)" %
                          (title, case["pending"]))
                else:
                    print("ok: %s" % title)
            elif "pending" in case:
                pending_open += 1
                print("pending: %s: %s (%s)" % (title, verdict, case["pending"]))
            else:
                fails += 1
                print("FAIL: %s: %s" % (title, verdict))
    except Failed as e:
        print("FAIL: set-up: %s" % e)
        fails += 1
    finally:
        bed.stop()
        if fails and os.environ.get("KEEP_LOGS"):
            print("logs kept in %s" % bed.t)
        else:
            shutil.rmtree(bed.t, ignore_errors=True)
    print("%d cases: %d failed, %d pending (waiting for another change), %d pending now pass; "
          "%d bodies checked against 3GPP schemas, %d unchecked (no OpenAPI folder)" %
          (len(cases), fails, pending_open, pending_ok, stats["checked"], stats["skipped"]))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
