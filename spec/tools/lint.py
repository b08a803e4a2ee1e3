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
# The money schemas: one JSON type where the editions agree, a union where they do not, each
# marked `x-p100-decimal: true` (what generators and readers key on to keep amounts exact).
DECIMALS = ("DecimalNumber", "DecimalString", "DecimalNumberOrString", "DecimalStringOrNumber")
for d in DECIMALS:
    if ((spec.get("components") or {}).get("schemas") or {}).get(d, {}).get("x-p100-decimal") is not True:
        problems.append(f"/components/schemas/{d}: a money schema needs x-p100-decimal: true")
def walk(node, path):
    if isinstance(node, dict):
        if node.get("type") == "number" and not any(path == f"/components/schemas/{d}" or path.startswith(f"/components/schemas/{d}/") for d in DECIMALS):
            problems.append(f"{path}: type number (use DecimalNumber/DecimalString or integer)")
        if node.get("type") == "object" and not node.get("properties") and "additionalProperties" not in node:
            problems.append(f"{path}: an object with no properties: list its fields, or say additionalProperties: true (an open object)")
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
    # P100's 401 is plain text (`Access Denied. xoN`), documented as such on every operation.
    if rs.get("401", {}).get("$ref") != "#/components/responses/AccessDenied":
        problems.append(f"{oid}: 401 must $ref components/responses/AccessDenied (plain text)")
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

# Behaviour extensions (spec/CONVENTIONS.md, "Behaviour"): effects, waiters, the error registry,
# status classes and the delivery schedule, each in the one place the SDKs read it from.
import re
EFFECTS = {"read", "lock", "moves-money", "changes-state"}
ERROR_CLASSES = {"accepted", "validation", "not-found", "business", "transient", "internal", "auth"}
STATUS_CLASSES = {"succeeded", "failed", "in-progress", "state"}
op_by_id = {}
for path, item in (spec.get("paths") or {}).items():
    for m, op in item.items():
        if isinstance(op, dict) and "operationId" in op:
            op_by_id[op["operationId"]] = (m, path, op)
def schema_of(ref_holder):
    r = (ref_holder or {}).get("$ref", "")
    return components.get(r.rsplit("/", 1)[-1]) if r.startswith("#/components/schemas/") else None
for oid, (m, path, op) in op_by_id.items():
    effect = op.get("x-p100-effect")
    if effect not in EFFECTS:
        problems.append(f"{oid}: x-p100-effect {effect!r} is not one of {sorted(EFFECTS)}")
    elif m == "get" and effect not in {"read", "lock"}:
        problems.append(f"{oid}: a GET must be read or lock, not {effect}")
    waiter = op.get("x-p100-waiter")
    succ = {c: r for c, r in op.get("responses", {}).items() if str(c).startswith("2")}
    if waiter is None:
        if any((r or {}).get("links") for r in succ.values()):
            problems.append(f"{oid}: links on a success response without x-p100-waiter")
        continue
    if effect not in {"moves-money", "changes-state"}:
        problems.append(f"{oid}: x-p100-waiter on a {effect} operation")
    link = waiter.get("link")
    for code, r in succ.items():
        l = ((r or {}).get("links") or {}).get(link)
        if not l:
            problems.append(f"{oid}: response {code} has no links.{link} (x-p100-waiter.link)")
            continue
        target = op_by_id.get(l.get("operationId"))
        if not target:
            problems.append(f"{oid}: link {link} names unknown operation {l.get('operationId')}")
            continue
        tparams = {p["name"] for p in target[2].get("parameters", []) if p.get("in") == "path"}
        params = l.get("parameters") or {}
        if set(params) != tparams:
            problems.append(f"{oid}: link {link} sets {sorted(params)}, {l['operationId']} takes {sorted(tparams)}")
        for name, expr in params.items():
            mm = re.fullmatch(r"\$(response|request)\.body#/(\w+)", str(expr))
            if not mm:
                problems.append(f"{oid}: link parameter {name}: {expr!r} is not $response.body#/field or $request.body#/field")
                continue
            if mm.group(1) == "response":
                body = schema_of(r.get("content", {}).get("application/json", {}).get("schema"))
            else:
                body = schema_of(op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema"))
            if not body or mm.group(2) not in (body.get("properties") or {}):
                problems.append(f"{oid}: link parameter {name}: the {mm.group(1)} body has no field {mm.group(2)}")
        if target[2].get("x-p100-effect") != "read":
            problems.append(f"{oid}: waiter operation {l['operationId']} is not a read")
        details = schema_of(target[2]["responses"]["200"]["content"]["application/json"]["schema"])
        statuses = waiter.get("status")
        for field in statuses if isinstance(statuses, list) else [statuses]:
            prop = (details or {}).get("properties", {}).get(field)
            if prop is None:
                problems.append(f"{oid}: waiter status field {field!r} is not a property of the details answer")
                continue
            ref = prop.get("$ref") or next((a["$ref"] for a in prop.get("allOf", []) if "$ref" in a), "")
            if "x-p100-status-classes" not in (components.get(ref.rsplit("/", 1)[-1]) or {}):
                problems.append(f"{oid}: waiter status field {field!r} has no status schema with x-p100-status-classes")
        err = waiter.get("error")
        if err is not None and err not in (details or {}).get("properties", {}):
            problems.append(f"{oid}: waiter error field {err!r} is not a property of the details answer")
for name, schema in components.items():
    classes = schema.get("x-p100-status-classes") if isinstance(schema, dict) else None
    known = schema.get("x-extensible-enum") or schema.get("enum") or [] if isinstance(schema, dict) else []
    if name.endswith("Status") and schema.get("type") == "string" and classes is None:
        problems.append(f"/components/schemas/{name}: a status schema without x-p100-status-classes")
    if classes is None: continue
    for v in known:
        c = classes.get(v)
        if not c: problems.append(f"/components/schemas/{name}: value {v} has no class")
        elif c.get("knowledge") != "documented":
            problems.append(f"/components/schemas/{name}: listed value {v} must be knowledge: documented")
    for v, c in classes.items():
        if (c or {}).get("class") not in STATUS_CLASSES:
            problems.append(f"/components/schemas/{name}: {v}: class {(c or {}).get('class')!r} not in {sorted(STATUS_CLASSES)}")
        if v not in known and (c or {}).get("knowledge") != "inferred":
            problems.append(f"/components/schemas/{name}: {v} is not a listed value, so its knowledge must be inferred")
registry = spec.get("x-p100-errors") or {}
codes = registry.get("codes") or {}
if not codes: problems.append("x-p100-errors.codes: missing")
ids = set()
for code, e in codes.items():
    at = f"x-p100-errors.codes.{code}"
    if not re.fullmatch(r"P\d{3}", str(code)): problems.append(f"{at}: not a P-code")
    for key in ("identifier", "http", "class", "facts", "description"):
        if key not in e: problems.append(f"{at}: {key} missing")
    if e.get("class") not in ERROR_CLASSES: problems.append(f"{at}: class {e.get('class')!r} not in {sorted(ERROR_CLASSES)}")
    if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", str(e.get("identifier"))): problems.append(f"{at}: identifier not kebab-case")
    if e.get("identifier") in ids: problems.append(f"{at}: identifier {e.get('identifier')} used twice")
    ids.add(e.get("identifier"))
    if not ("title" in e or "errorName" in e): problems.append(f"{at}: neither title nor errorName: the docs must show one")
    for k in e.get("inferred", []):
        if k not in e: problems.append(f"{at}: inferred names {k}, which the entry lacks")
    if not re.fullmatch(r"[\w-]+\.yaml#.+", str(e.get("facts"))): problems.append(f"{at}: facts is not file.yaml#title")
auth = registry.get("auth") or {}
if auth.get("http") != 401 or not auth.get("reasons"): problems.append("x-p100-errors.auth: needs http 401 and reasons")
for code, e in (registry.get("undocumented") or {}).items():
    if str(e.get("code", "")).startswith("P"): problems.append(f"x-p100-errors.undocumented.{code}: its code must not look like a P-code")
schedule = (spec.get("x-p100-delivery-schedule") or {}).get("retry-delays-seconds")
if not (isinstance(schedule, list) and schedule and all(isinstance(s, int) and s > 0 for s in schedule)):
    problems.append("x-p100-delivery-schedule.retry-delays-seconds: a list of positive integers is required")
# Named open value sets that fields keep as plain strings (`x-p100-value-set`): currencies and
# networks. Every field or parameter named like one says which set documents it, the set is an
# open component with a spelling, and every example on such a field is one of its values.
VALUE_SET_FIELDS = {"currency": "Currency", "currencyFrom": "Currency", "currencyTo": "Currency",
                    "cryptocurrency": "Currency", "destinationCurrency": "Currency", "network": "Network"}
def value_set_fields(node, path):
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            for field, sub in props.items():
                if isinstance(sub, dict):
                    yield f"{path}/properties/{field}", field, sub
        if "name" in node and node.get("in") in ("query", "path") and isinstance(node.get("schema"), dict):
            yield f"{path}/schema", node["name"], node["schema"]
        for k, v in node.items():
            yield from value_set_fields(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node): yield from value_set_fields(v, f"{path}/{i}")
for name in set(VALUE_SET_FIELDS.values()):
    vs = components.get(name)
    if not isinstance(vs, dict) or not vs.get("x-extensible-enum"):
        problems.append(f"/components/schemas/{name}: the value set must be a component with x-extensible-enum (open)")
    elif vs.get("x-p100-spelling") != "lowercase" or any(v != v.lower() for v in vs["x-extensible-enum"]):
        problems.append(f"/components/schemas/{name}: x-p100-spelling: lowercase, and every listed value lowercase")
for name, schema in components.items():
    described = schema.get("x-p100-values") if isinstance(schema, dict) else None
    if described is not None:
        listed = schema.get("x-extensible-enum") or schema.get("enum") or []
        if sorted(described) != sorted(listed):
            problems.append(f"/components/schemas/{name}: x-p100-values must describe exactly the listed values")
for at, field, sub in value_set_fields(spec, "#"):
    named = sub.get("x-p100-value-set")
    if named is None:
        if field in VALUE_SET_FIELDS and sub.get("type") == "string":
            problems.append(f"{at}: a {VALUE_SET_FIELDS[field]} field without x-p100-value-set: {VALUE_SET_FIELDS[field]}")
        continue
    vs = components.get(named)
    if sub.get("type") != "string" or not isinstance(vs, dict) or not vs.get("x-extensible-enum"):
        problems.append(f"{at}: x-p100-value-set {named!r} needs type: string and an open value set component")
        continue
    if "example" in sub and str(sub["example"]).lower() not in vs["x-extensible-enum"]:
        problems.append(f"{at}: example {sub['example']!r} is not a {named} value")
# Names that generate cleanly in Python, TypeScript and Java: no property named like its schema
# (a Python class `NetworkFee` with a property `network_fee` clashes under mypy; Java and C#
# refuse a member named like its class), and no word reserved in one of those languages.
RESERVED = set("""False None True and as assert async await break case catch class const continue
debugger def default del delete do elif else enum except export extends false final finally for
from function global goto if implements import in instanceof interface is lambda let new nonlocal
not null or package pass private protected public raise return static super switch this throw
throws try typeof var void while with yield abstract boolean byte char double float int long
native short strictfp synchronized transient volatile""".split())
norm = lambda s: re.sub(r"[^a-z0-9]", "", s.lower())
def named_properties(node, path):
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            yield path, node["properties"]
        for k, v in node.items(): yield from named_properties(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node): yield from named_properties(v, f"{path}/{i}")
for name, schema in components.items():
    if name in RESERVED or norm(name) in {norm(r) for r in RESERVED}:
        problems.append(f"/components/schemas/{name}: a reserved word in Python, TypeScript or Java")
    for at, props in named_properties(schema, f"/components/schemas/{name}"):
        for prop in props:
            if at == f"/components/schemas/{name}" and norm(prop) == norm(name):
                problems.append(f"{at}/properties/{prop}: named like its schema (the generated class and its property clash)")
            if prop in RESERVED:
                problems.append(f"{at}/properties/{prop}: a reserved word in Python, TypeScript or Java")
for item in (spec.get("paths") or {}).values():
    for m, op in item.items():
        if isinstance(op, dict) and m != "parameters":
            for prm in op.get("parameters", []):
                if prm.get("name") in RESERVED:
                    problems.append(f"{op.get('operationId')}: parameter {prm['name']} is a reserved word in Python, TypeScript or Java")
# One id, one format: the id a create answers (a link's `$response.body#/field`) has the format
# of the details parameter it fills, so a generated client passes it on without converting.
for oid, (m, path, op) in op_by_id.items():
    for code, r in op.get("responses", {}).items():
        for lname, l in ((r or {}).get("links") or {}).items():
            target = op_by_id.get(l.get("operationId"))
            body = schema_of(((r.get("content") or {}).get("application/json") or {}).get("schema"))
            if not target or not body: continue
            tparams = {p["name"]: p.get("schema", {}) for p in target[2].get("parameters", []) if p.get("in") == "path"}
            for pname, expr in (l.get("parameters") or {}).items():
                mm = re.fullmatch(r"\$response\.body#/(\w+)", str(expr))
                if not mm or pname not in tparams: continue
                field = (body.get("properties") or {}).get(mm.group(1), {})
                if (field.get("type"), field.get("format")) != (tparams[pname].get("type"), tparams[pname].get("format")):
                    problems.append(f"{oid}: link {lname}: the answer's {mm.group(1)} is {field.get('type')}/{field.get('format')}, "
                                    f"{l['operationId']}'s {pname} is {tparams[pname].get('type')}/{tparams[pname].get('format')}: one id, one format")
for pr in problems: print("LINT", pr)
print(f"{len(ops)} operations, {len(have)} webhooks, {len(schemas)} schemas, {len(problems)} problems")
sys.exit(1 if problems else 0)
