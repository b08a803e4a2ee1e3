#!/usr/bin/env python3
"""Validates every documented example in the P100 facts against the spec's schema for it.

For each operation, `x-p100-source.facts` names the facts entries ("file#title") whose examples
belong to it; for each webhook in `x-webhooks`, the same field does. Examples are found by key:
  request_body.example                      -> the request body schema   (must pass)
  request_body.example_old_github           -> the request body schema   (older edition: reported)
  responses[].example / example_old_github  -> success schema (2xx) or Error
  errors[].example                          -> Error
  examples[].payload (webhooks)             -> the webhook's schema
  guide `examples` maps under "Error Handling" -> Error
Any other key containing "example" is listed as not checked, with the reason (partial, curl text...).

Usage: check_examples.py [--spec spec/p100.yaml] [--facts DIR] [--only OPID_OR_KIND ...] [-v]
Exit status 1 when any checked example fails (older-edition request examples only warn).
"""
import argparse, json, pathlib, sys
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker

ROOT = pathlib.Path(__file__).resolve().parents[2]
ap = argparse.ArgumentParser()
ap.add_argument("--spec", default=str(ROOT / "spec" / "p100.yaml"))
ap.add_argument("--facts", default=str(ROOT / "tests" / "facts"))
ap.add_argument("--only", nargs="*")
ap.add_argument("-v", action="store_true")
args = ap.parse_args()

spec = yaml.safe_load(pathlib.Path(args.spec).read_text())
# Statuses are open sets (`x-extensible-enum`), which a validator does not check. Documented
# examples must use a known value, though: check them against the lists as if they were closed.
for schema in spec.get("components", {}).get("schemas", {}).values():
    if isinstance(schema, dict) and "x-extensible-enum" in schema:
        schema["enum"] = schema["x-extensible-enum"]
facts_dir = pathlib.Path(args.facts)
entries = {}
for f in sorted(facts_dir.glob("*.yaml")):
    if f.name == "catalog.yaml":
        continue
    for e in yaml.safe_load(f.read_text()) or []:
        entries.setdefault(f"{f.name}#{e['title']}", e)

failures, warnings, unchecked, checked = [], [], [], 0

def schema_ref(ref):
    return {"$ref": ref, "components": spec["components"]}

def validate(label, schema, value, must=True):
    global checked
    checked += 1
    v = OAS30Validator(schema, format_checker=oas30_format_checker)
    errs = sorted(v.iter_errors(value), key=lambda e: list(e.absolute_path))
    if errs:
        msg = f"{label}: " + "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errs[:5])
        (failures if must else warnings).append(msg)
    elif args.v:
        print(f"ok   {label}")

def body_schema(content):
    s = (content or {}).get("application/json", {}).get("schema")
    return schema_ref(s["$ref"]) if s and "$ref" in s else s

def resolve_response(resp):
    if "$ref" in resp:
        name = resp["$ref"].split("/")[-1]
        resp = spec["components"]["responses"][name]
    return resp

ERROR = schema_ref("#/components/schemas/Error")

def walk_unchecked(prefix, node, known):
    if isinstance(node, dict):
        for k, v in node.items():
            path = f"{prefix}.{k}"
            if "example" in k and path not in known:
                if v not in (None, [], {}, ""):  # an empty slot documents nothing
                    unchecked.append(path)
            else:
                walk_unchecked(path, v, known)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk_unchecked(f"{prefix}[{i}]", v, known)

def check_operation(opid, op):
    src = op.get("x-p100-source") or {}
    req = body_schema((op.get("requestBody") or {}).get("content"))
    succ = None
    for code, resp in (op.get("responses") or {}).items():
        if str(code).startswith("2"):
            succ = body_schema(resolve_response(resp).get("content"))
    for ref in src.get("facts", []):
        e = entries.get(ref)
        if e is None:
            failures.append(f"{opid}: x-p100-source.facts names {ref!r}, which is not a facts entry")
            continue
        known = set()
        rb = e.get("request_body") or {}
        for key, must in (("example", True), ("example_old_github", False)):
            if isinstance(rb, dict) and rb.get(key) is not None and isinstance(rb.get(key), (dict, list)):
                known.add(f"{ref}.request_body.{key}")
                if req is None:
                    failures.append(f"{opid}: {ref} has a request example but the operation has no JSON body")
                elif rb.get("example_truncated") is True and isinstance(rb[key], dict):
                    # The docs cut the example off: the fields it shows must be right, the ones
                    # after the cut cannot be missing from it.
                    target = req
                    if "$ref" in target:
                        target = spec["components"]["schemas"][target["$ref"].split("/")[-1]]
                    shown = dict(target, components=spec["components"],
                                 required=[f for f in target.get("required", []) if f in rb[key]])
                    validate(f"{opid} request <- {ref} ({key}, cut off in the docs)", shown, rb[key], must)
                else:
                    validate(f"{opid} request <- {ref} ({key})", req, rb[key], must)
        for i, r in enumerate(e.get("responses") or []):
            # A response whose status the docs did not show is the page's success response.
            status = str(r.get("status") or "2xx (status not shown)")
            for key in ("example", "example_old_github"):
                if isinstance(r, dict) and isinstance(r.get(key), (dict, list)):
                    known.add(f"{ref}.responses[{i}].{key}")
                    if status.startswith("2"):
                        if succ is None:
                            failures.append(f"{opid}: {ref} has a {status} example but no success body schema")
                        else:
                            validate(f"{opid} {status} <- {ref} ({key})", succ, r[key])
                    else:
                        validate(f"{opid} {status} error <- {ref} ({key})", ERROR, r[key])
        for i, er in enumerate(e.get("errors") or []):
            if isinstance(er, dict) and isinstance(er.get("example"), dict):
                known.add(f"{ref}.errors[{i}].example")
                validate(f"{opid} error {er.get('code')} <- {ref}", ERROR, er["example"])
        walk_unchecked(ref, e, known)

def check_webhook(kind, item):
    post = item.get("post") or {}
    src = post.get("x-p100-source") or item.get("x-p100-source") or {}
    schema = body_schema((post.get("requestBody") or {}).get("content"))
    if schema is None:
        failures.append(f"webhook {kind}: no application/json schema")
        return
    for ref in src.get("facts", []):
        e = entries.get(ref)
        if e is None:
            failures.append(f"webhook {kind}: x-p100-source.facts names {ref!r}, which is not a facts entry")
            continue
        known = set()
        for i, ex in enumerate(e.get("examples") or []):
            # Current pages: {name, source, payload}; the legacy pages list bare payloads.
            payload = ex.get("payload") if isinstance(ex, dict) and "payload" in ex else ex
            if not isinstance(payload, dict):
                continue
            if any(k.startswith("_truncated") for k in payload):
                unchecked.append(f"{ref}.examples[{i}] (cut off in the docs)")
                continue
            known.add(f"{ref}.examples")
            label = ex.get("name", i) if "payload" in ex else i
            validate(f"webhook {kind} <- {ref} ({label})", schema, payload)
        walk_unchecked(ref, e, known)

for path, item in (spec.get("paths") or {}).items():
    for method, op in item.items():
        if method in ("get", "post", "put", "patch", "delete") and isinstance(op, dict):
            opid = op.get("operationId")
            if args.only and opid not in args.only:
                continue
            check_operation(opid, op)
for kind, item in (spec.get("x-webhooks") or {}).items():
    if args.only and kind not in args.only:
        continue
    check_webhook(kind, item)

# The error-handling guide's examples are Error bodies.
if not args.only:
    for ref, e in entries.items():
        if e.get("title") == "Error Handling" and isinstance(e.get("examples"), dict):
            for name, ex in e["examples"].items():
                validate(f"Error <- {ref} ({name})", ERROR, ex)

for u in unchecked:
    print(f"not checked: {u}")
for w in warnings:
    print(f"WARN (older edition request) {w}")
for f in failures:
    print(f"FAIL {f}")
print(f"{checked} examples checked, {len(failures)} failed, {len(warnings)} older-edition warnings, {len(unchecked)} example fields not checked")
sys.exit(1 if failures else 0)
