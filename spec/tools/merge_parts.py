#!/usr/bin/env python3
"""Authoring aid: joins spec/parts/*.yaml into one OpenAPI file, keeping comments.

Each part has top-level keys `paths:`, `schemas:` and optionally `x-webhooks:` (bodies indented by
two spaces). 00-header.yaml is copied first as is. Duplicate keys anywhere are an error.
Usage: merge_parts.py [--out FILE]   (default: spec/p100.yaml)
"""
import pathlib, re, sys, yaml

root = pathlib.Path(__file__).resolve().parents[1]
out = pathlib.Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else root / "p100.yaml"
parts = sorted((root / "parts").glob("*.yaml"))
header = (root / "parts" / "00-header.yaml").read_text()
sections = {"paths": [], "x-webhooks": [], "schemas": []}
for p in parts:
    if p.name == "00-header.yaml":
        continue
    current = None
    for line in p.read_text().splitlines():
        m = re.match(r"^([A-Za-z][\w-]*):\s*(\{\})?\s*$", line)
        if m:
            current = m.group(1)
            if current not in sections:
                sys.exit(f"{p.name}: unexpected top-level key {current}")
            continue
        if current is None:
            if line.strip() and not line.startswith("#"):
                sys.exit(f"{p.name}: content before the first top-level key: {line!r}")
            continue
        sections[current].append(line)

def block(lines, extra=0):
    pad = " " * extra
    return "\n".join((pad + l) if l.strip() else "" for l in lines).rstrip() + "\n"

text = header.rstrip() + "\n"
text += "paths:\n" + (block(sections["paths"]) if sections["paths"] else "  {}\n")
text += "x-webhooks:\n" + (block(sections["x-webhooks"]) if sections["x-webhooks"] else "  {}\n")
text += """components:
  securitySchemes:
    ApiKey:
      type: apiKey
      in: header
      name: x-api-key
      description: The partner's API key (staging and production keys differ). Lowercase header name.
  responses:
    Error:
      description: |
        Any error. HTTP 400 for validation (`P403`) and business errors (including `P500` and
        `P501`), 401 when the key is missing (`xo1`), wrong (`xo2`) or the IP is not allowed
        (`xo3`), 404 for some unknown ids.
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
  schemas:
"""
text += block(sections["schemas"], 2)

class DupLoader(yaml.SafeLoader):
    pass
def no_dups(loader, node, deep=False):
    seen = set()
    for k, _ in node.value:
        key = loader.construct_object(k, deep=deep)
        if key in seen:
            raise SystemExit(f"duplicate key {key!r} at line {k.start_mark.line + 1} of the merged file")
        seen.add(key)
    return loader.construct_mapping(node, deep)
DupLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, no_dups)
yaml.load(text, Loader=DupLoader)
out.write_text(text)
print(f"wrote {out} ({len(text.splitlines())} lines)")
