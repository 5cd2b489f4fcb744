#!/usr/bin/python3
"""Validates a JSON body against 3GPP's own OpenAPI files (the folder ../shared/ref/openapi, where
every $ref resolves), so that a field kedge sends or accepts that drifts from 3GPP fails a test.

  openapi_check.py [--dir DIR] request  FILE.yaml PATH METHOD            [BODY]
  openapi_check.py [--dir DIR] response FILE.yaml PATH METHOD STATUS     [BODY]
  openapi_check.py [--dir DIR] schema   FILE.yaml SCHEMA                 [BODY]
  openapi_check.py [--dir DIR] query    FILE.yaml PATH METHOD            [QUERY]
  openapi_check.py [--dir DIR] --where

PATH is the path template as the OpenAPI file writes it (e.g. /{supi}/auth-events), METHOD is
lower or upper case, STATUS the response code ('default' is used when the code is not listed).
BODY is a file of JSON ('-' or nothing: standard input). The schema for request and response is
the operation's application/json (or application/problem+json) content, so a test never picks the
schema by hand. OpenAPI 3.0's `nullable` is turned into JSON Schema's null type; formats are
checked where jsonschema has a checker (date-time needs no extra package in jsonschema 4).

For query, QUERY is a JSON object of the request's query parameters, decoded ({"name": "value"}):
each must be a parameter of the operation, the required ones present, and each value valid
against its parameter's schema (a `content` parameter is parsed as JSON first; an array of
style form, explode false is split at commas; an integer or number is converted).

Exit status: 0 valid, 1 invalid (one line per error on stderr, with the JSON path), 2 usage or
unknown path/method/status/schema, 77 no OpenAPI folder (the test then reports itself skipped).
The folder: --dir, else $KEDGE_OPENAPI_DIR, else shared/ref/openapi beside the checkout or
beside a folder above it.
"""
import json
import os
import pickle
import sys
import tempfile
import urllib.parse

import jsonschema
import yaml

SKIP = 77


def openapi_dir(argv):
    if len(argv) > 1 and argv[0] == "--dir":
        return argv[1], argv[2:]
    env = os.environ.get("KEDGE_OPENAPI_DIR")
    if env:
        return env, argv
    # shared/ref/openapi next to the checkout, or next to any folder above it (a worktree)
    here = os.path.dirname(os.path.abspath(__file__))
    start = os.path.normpath(os.path.join(here, "..", ".."))
    d = start
    while True:
        candidate = os.path.join(os.path.dirname(d), "shared", "ref", "openapi")
        if os.path.isdir(candidate) or os.path.dirname(d) == d:
            break
        d = os.path.dirname(d)
    if not os.path.isdir(candidate):
        candidate = os.path.join(os.path.dirname(start), "shared", "ref", "openapi")
    return candidate, argv


def nullable_to_null(node):
    """OpenAPI 3.0 `nullable: true` as JSON Schema: the null type, or a null alternative."""
    if isinstance(node, list):
        return [nullable_to_null(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: nullable_to_null(v) for k, v in node.items()}
    if out.pop("nullable", False) is True:
        if "enum" in out and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "type" not in out:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


class Specs:
    def __init__(self, folder):
        self.folder = folder
        self.docs = {}

    def load(self, name):
        if name not in self.docs:
            path = os.path.join(self.folder, name)
            self.docs[name] = self.cached(path) or self.parse(path)
        return self.docs[name]

    @staticmethod
    def parse(path):
        with open(path, encoding="utf-8") as f:
            doc = nullable_to_null(yaml.safe_load(f))
        Specs.store(path, doc)
        return doc

    # Parsing the big files (TS29571_CommonData.yaml) is most of a run: the parsed form is kept
    # in a per-user cache, keyed by the file's path, size and mtime.
    @staticmethod
    def cache_path(path):
        st = os.stat(path)
        key = "%s-%d-%d" % (os.path.abspath(path).replace("/", "_"), st.st_size, st.st_mtime_ns)
        return os.path.join(tempfile.gettempdir(), "kedge-openapi-cache-%d" % os.getuid(),
                            key + ".pickle")

    @staticmethod
    def cached(path):
        try:
            target = Specs.cache_path(path)
            st = os.stat(os.path.dirname(target))
            if st.st_uid != os.getuid() or st.st_mode & 0o077:
                return None  # a pickle is code: only from our own private folder
            with open(target, "rb") as f:
                return pickle.load(f)
        except (OSError, pickle.PickleError, EOFError):
            return None

    @staticmethod
    def store(path, doc):
        target = Specs.cache_path(path)
        try:
            os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
            tmp = "%s.%d" % (target, os.getpid())
            with open(tmp, "wb") as f:
                pickle.dump(doc, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)  # readers never see half a file
        except OSError:
            pass  # no cache: just slower

    def uri(self, name):
        return "file://" + urllib.parse.quote(os.path.join(os.path.abspath(self.folder), name))

    def resolve_handler(self, uri):
        path = urllib.parse.unquote(urllib.parse.urlparse(uri).path)
        return self.load(os.path.basename(path))

    def deref(self, name, node):
        """Follows a local or cross-file $ref of an OpenAPI object (response, requestBody)."""
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            file_part, _, pointer = ref.partition("#")
            if file_part:
                name = os.path.basename(file_part)
            node = self.load(name)
            for part in pointer.strip("/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return name, node


def body_schema(content):
    for media in ("application/json", "application/problem+json"):
        if media in content and "schema" in content[media]:
            return content[media]["schema"]
    for media, value in content.items():
        if media.endswith("json") and "schema" in value:
            return value["schema"]
    return None


def query_schema(specs, name, op, query):
    """The query (decoded strings) as a JSON instance of the operation's query parameters, and
    the schema that instance must satisfy (an object: one property per parameter)."""
    props, required, instance = {}, [], {}
    for param in op.get("parameters", []):
        _, param = specs.deref(name, param)
        if param.get("in") != "query":
            continue
        pname = param["name"]
        if param.get("required"):
            required.append(pname)
        schema = param.get("schema")
        as_json = "content" in param
        if as_json:
            schema = body_schema(param["content"])
        props[pname] = schema
        if pname not in query:
            continue
        value = query[pname]
        kind = schema.get("type") if isinstance(schema, dict) else None
        try:
            if as_json:
                value = json.loads(value)
            elif kind == "array" and not param.get("explode", True):
                value = value.split(",")
            elif kind == "integer":
                value = int(value)
            elif kind == "number":
                value = float(value)
        except ValueError:
            pass  # left a string: the schema says why it is wrong
        instance[pname] = value
    for pname in query:
        if pname not in props:
            instance[pname] = query[pname]
    return {"type": "object", "properties": props, "required": required,
            "additionalProperties": False}, instance


def usage(msg):
    print("openapi_check: " + msg, file=sys.stderr)
    sys.exit(2)


def main(argv):
    folder, argv = openapi_dir(argv)
    if argv and argv[0] == "--where":
        print(folder)
        return 0 if os.path.isdir(folder) else SKIP
    if not os.path.isdir(folder):
        print("openapi_check: no OpenAPI folder at %s (set KEDGE_OPENAPI_DIR)" % folder,
              file=sys.stderr)
        return SKIP
    if len(argv) < 3:
        usage("usage: request|response|schema FILE.yaml ... [BODY]")
    mode, name = argv[0], argv[1]
    specs = Specs(folder)
    try:
        doc = specs.load(name)
    except OSError as e:
        usage("%s: %s" % (name, e.strerror))
    rest = argv[2:]
    if mode == "schema":
        schema_name, rest = rest[0], rest[1:]
        if schema_name not in doc.get("components", {}).get("schemas", {}):
            usage("%s: no schema %s" % (name, schema_name))
        schema = {"$ref": "#/components/schemas/" + schema_name}
    elif mode == "query":
        if len(rest) < 2:
            usage("query needs PATH METHOD")
        path, method = rest[0], rest[1].lower()
        op = doc.get("paths", {}).get(path, {}).get(method)
        if op is None:
            usage("%s: no operation %s %s" % (name, method.upper(), path))
        rest = rest[2:]
    elif mode in ("request", "response"):
        need = 2 if mode == "request" else 3
        if len(rest) < need:
            usage("%s needs PATH METHOD%s" % (mode, "" if mode == "request" else " STATUS"))
        path, method = rest[0], rest[1].lower()
        op = doc.get("paths", {}).get(path, {}).get(method)
        if op is None:
            usage("%s: no operation %s %s" % (name, method.upper(), path))
        if mode == "request":
            where, body = specs.deref(name, op.get("requestBody"))
            schema = body_schema((body or {}).get("content", {}))
            rest = rest[2:]
        else:
            status = rest[2]
            responses = op.get("responses", {})
            resp = responses.get(status, responses.get(status[0] + "XX", responses.get("default")))
            if resp is None:
                usage("%s: %s %s has no response %s" % (name, method.upper(), path, status))
            where, resp = specs.deref(name, resp)
            schema = body_schema(resp.get("content", {}))
            rest = rest[3:]
        if schema is None:
            usage("%s: %s %s has no JSON body there" % (name, method.upper(), path))
        name = where  # the file the schema was written in: its $refs are relative to it
    else:
        usage("unknown mode %s" % mode)

    src = rest[0] if rest else "-"
    try:
        text = sys.stdin.read() if src == "-" else open(src, encoding="utf-8").read()
        instance = json.loads(text)
    except (OSError, ValueError) as e:
        print("openapi_check: body is not JSON: %s" % e, file=sys.stderr)
        return 1
    if mode == "query":
        if not isinstance(instance, dict) or not all(isinstance(v, str) for v in instance.values()):
            print("openapi_check: QUERY must be a JSON object of strings", file=sys.stderr)
            return 1
        schema, instance = query_schema(specs, name, op, instance)
    resolver = jsonschema.RefResolver(specs.uri(name), specs.load(name),
                                      handlers={"file": specs.resolve_handler})
    validator = jsonschema.Draft7Validator(schema, resolver=resolver,
                                           format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    for e in errors:
        where_in = "/".join(str(p) for p in e.absolute_path) or "(body)"
        print("openapi_check: %s %s: %s: %s" % (name, mode, where_in, e.message), file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
