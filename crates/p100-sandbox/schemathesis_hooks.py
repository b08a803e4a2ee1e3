"""schemathesis hooks for checking the sandbox against spec/p100.yaml.

The spec says its enumerations are open ("P100 adds status values without notice. Treat an
unlisted value as unknown, not as an error"), and lists in each enum only the values the docs
show. OpenAPI 3.0 cannot say "open", so a validator reads the lists as closed. The sandbox has to
answer states the docs never name (an in-flight transfer is PENDING, a failed internal transfer is
FAILED, a paid order is COMPLETED); to check its answers against the spec as the spec means
them, this hook opens the enums that only responses use. Enums used by request parameters or
bodies stay closed, so request generation and the rejection of invalid values are unchanged.

Use: PYTHONPATH=crates/p100-sandbox SCHEMATHESIS_HOOKS=schemathesis_hooks schemathesis run ...
"""

import schemathesis

SCHEMAS = "#/components/schemas/"


def _refs(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMAS):
            found.add(ref[len(SCHEMAS):])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _request_schemas(raw):
    """Names of the component schemas reachable from request parameters and bodies."""
    components = raw.get("components", {}).get("schemas", {})
    found = set()
    for item in raw.get("paths", {}).values():
        _refs(item.get("parameters", []), found)
        for method, operation in item.items():
            if not isinstance(operation, dict) or method == "parameters":
                continue
            _refs(operation.get("parameters", []), found)
            _refs(operation.get("requestBody", {}), found)
    pending = list(found)
    while pending:
        name = pending.pop()
        more = set()
        _refs(components.get(name, {}), more)
        for extra in more - found:
            found.add(extra)
            pending.append(extra)
    return found


@schemathesis.hook
def before_load_schema(context, raw_schema):
    used_by_requests = _request_schemas(raw_schema)
    for name, schema in raw_schema.get("components", {}).get("schemas", {}).items():
        if isinstance(schema, dict) and "enum" in schema and name not in used_by_requests:
            schema["x-p100-known-values"] = schema.pop("enum")
