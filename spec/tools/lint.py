#!/usr/bin/env python3
"""Authoring aid: checks a spec file against spec/CONVENTIONS.md and the catalog.
Usage: lint.py SPEC [--partial]   (--partial: do not require every catalog operation/webhook)"""
import json
import pathlib, sys, yaml
ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = yaml.safe_load(pathlib.Path(sys.argv[1]).read_text())
partial = "--partial" in sys.argv
cat = yaml.safe_load((ROOT / "tests" / "facts" / "catalog.yaml").read_text())
problems = []
def walk(node, path):
    if isinstance(node, dict):
        if node.get("type") == "number" and not path.startswith(("/components/schemas/DecimalNumber", "/components/schemas/DecimalString")):
            problems.append(f"{path}: type number (use DecimalNumber/DecimalString or integer)")
        for key in ("enum", "x-extensible-enum"):
            if key in node and not (path.startswith("/components/schemas/") and path.count("/") == 3):
                problems.append(f"{path}: inline {key} (make it a named component)")
        if node.get("additionalProperties") is False:
            problems.append(f"{path}: additionalProperties false")
        for k, v in node.items():
            walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, f"{path}/{i}")
walk(spec, "")
ops = {}
for p, item in (spec.get("paths") or {}).items():
    for m, op in item.items():
        if m in ("get", "post", "put", "patch", "delete"):
            ops[op.get("operationId")] = (m.upper(), p, op)
for c in cat["operations"]:
    oid = c["operation_id"]
    if oid not in ops:
        if not partial: problems.append(f"missing operation {oid}")
        continue
    m, p, op = ops[oid]
    if (m, p) != (c["method"], c["path"]): problems.append(f"{oid}: {m} {p} differs from catalog {c['method']} {c['path']} (explain in x-p100-source.note)")
    if op.get("tags") != [c["tag"]]: problems.append(f"{oid}: tags {op.get('tags')} != [{c['tag']}]")
    if op.get("x-p100-confidence") != c["confidence"]: problems.append(f"{oid}: x-p100-confidence != {c['confidence']}")
    src = op.get("x-p100-source")
    if not isinstance(src, dict) or not src.get("facts"): problems.append(f"{oid}: x-p100-source.facts missing")
    rs = op.get("responses", {})
    if "default" in rs: problems.append(f"{oid}: default response")
    if rs.get("4XX", {}).get("$ref") != "#/components/responses/Error" or rs.get("5XX", {}).get("$ref") != "#/components/responses/Error":
        problems.append(f"{oid}: 4XX/5XX must $ref components/responses/Error")
    succ = [k for k in rs if str(k).startswith("2")]
    # Several 2xx codes are allowed (a code the docs never showed may be declared with its likely
    # alternative) when they share one body: progenitor needs one success type.
    bodies = {json.dumps(rs[k].get("content"), sort_keys=True) for k in succ}
    if not succ: problems.append(f"{oid}: no success response")
    elif len(bodies) != 1: problems.append(f"{oid}: success responses {succ} have different bodies")
extra = set(ops) - {c["operation_id"] for c in cat["operations"]}
if extra: problems.append(f"operations not in the catalog: {sorted(extra)}")
kinds = {w["kind"] for w in cat["webhooks"]}
have = set((spec.get("x-webhooks") or {}).keys())
if not partial and kinds - have: problems.append(f"missing webhooks: {sorted(kinds - have)}")
if have - kinds: problems.append(f"webhooks not in the catalog: {sorted(have - kinds)}")
# dangling refs
schemas = set((spec.get("components") or {}).get("schemas", {}).keys())
def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/components/schemas/"):
                yield v.split("/")[-1]
            else: yield from refs(v)
    elif isinstance(node, list):
        for v in node: yield from refs(v)
for r in set(refs(spec)) - schemas:
    problems.append(f"dangling $ref to schema {r}")
# Value sets: `enum` (closed) for what requests may carry, `x-extensible-enum` (open) for what only
# P100 sends, so that clients generated in other languages accept a status P100 adds.
components = (spec.get("components") or {}).get("schemas", {})
in_requests = set()
for item in (spec.get("paths") or {}).values():
    in_requests |= set(refs(item.get("parameters", [])))
    for m, op in item.items():
        if isinstance(op, dict) and m != "parameters":
            in_requests |= set(refs(op.get("parameters", []))) | set(refs(op.get("requestBody", {})))
pending = list(in_requests)
while pending:
    for r in set(refs(components.get(pending.pop(), {}))) - in_requests:
        in_requests.add(r); pending.append(r)
for name, schema in components.items():
    if not isinstance(schema, dict): continue
    if "enum" in schema and "x-extensible-enum" in schema:
        problems.append(f"/components/schemas/{name}: both enum and x-extensible-enum")
    elif "enum" in schema and name not in in_requests:
        problems.append(f"/components/schemas/{name}: only P100 sends it: use x-extensible-enum (open), not enum")
    elif "x-extensible-enum" in schema and name in in_requests:
        problems.append(f"/components/schemas/{name}: requests carry it: use enum (what P100 accepts)")
for pr in problems: print("LINT", pr)
print(f"{len(ops)} operations, {len(have)} webhooks, {len(schemas)} schemas, {len(problems)} problems")
sys.exit(1 if problems else 0)
