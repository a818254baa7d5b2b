#!/usr/bin/env python3
"""Writes src/cli/explain_fields.json: the field documentation `minipod explain
pod.spec.containers` prints, for Pod and every type reachable from it.

The text is the Kubernetes API's own (the OpenAPI descriptions), taken from the
k8s-openapi crate minipod is built with (its v1_34 module), where each type is a
struct with the description as doc comments and the JSON names in its Deserialize
impl. The enum values of a field (kubectl's `enum:` lines) are not in k8s-openapi: they
come from the Go types of k8s.io/api at the same minor version (a type marked `+enum`
and its string constants), as the API server's OpenAPI generator finds them. Run it
again after upgrading k8s-openapi:

    git clone --branch v0.34.9 https://github.com/kubernetes/api /tmp/k8s-api
    python3 scripts/gen-explain-fields.py ~/.cargo/registry/src/*/k8s-openapi-0.29.0/src/v1_34 /tmp/k8s-api
"""
import json, os, re, sys

root = sys.argv[1]
go_api = sys.argv[2]
structs = {}  # rust path "crate::api::core::v1::Container" -> info

def rust_path(file):
    rel = os.path.relpath(file, root)[:-3].split(os.sep)
    return rel

for dirpath, _, files in os.walk(root):
    for f in files:
        if not f.endswith(".rs") or f == "mod.rs":
            continue
        path = os.path.join(dirpath, f)
        text = open(path).read()
        m = re.search(r"// Generated from definition (\S+)", text)
        if not m:
            continue
        lines = text.split("\n")
        # the struct
        doc, name, fields, in_struct, pending = [], None, [], False, []
        for line in lines:
            s = line.strip()
            if not in_struct:
                if s.startswith("///"):
                    doc.append(s[3:].strip())
                elif s.startswith("pub struct "):
                    name = s.split()[2].rstrip("{").strip()
                    in_struct = True
                elif s.startswith("#[") or s == "":
                    pass
                else:
                    doc = []
                continue
            if s == "}":
                break
            if s.startswith("///"):
                pending.append(s[3:].strip())
            elif s.startswith("pub "):
                fm = re.match(r"pub (\w+): (.+),$", s)
                if fm:
                    fields.append((fm.group(1), fm.group(2), "\n".join(pending).strip()))
                pending = []
        if name is None:
            continue
        keys = dict((k, j) for j, k in re.findall(r'"([^"]+)" => Field::Key_(\w+)', text))
        mod = ".".join(os.path.relpath(dirpath, root).split(os.sep))
        structs["crate::" + "::".join(os.path.relpath(dirpath, root).split(os.sep)) + "::" + name] = {
            "name": name,
            "description": "\n".join(doc).strip(),
            "fields": [(keys.get(rf, rf), ty, d) for rf, ty, d in fields if rf in keys],
        }

SCALARS = {
    "std::string::String": "string", "bool": "boolean", "i32": "integer", "i64": "integer",
    "f64": "number", "crate::ByteString": "string",
    "crate::apimachinery::pkg::apis::meta::v1::Time": "string",
    "crate::apimachinery::pkg::apis::meta::v1::MicroTime": "string",
    "crate::apimachinery::pkg::api::resource::Quantity": "Quantity",
    "crate::apimachinery::pkg::util::intstr::IntOrString": "IntOrString",
    "crate::apimachinery::pkg::apis::meta::v1::FieldsV1": "Object",
    "crate::apimachinery::pkg::runtime::RawExtension": "Object",
}

def describe(ty):
    """(kubectl type text, referenced struct path or None, required)"""
    required = True
    if ty.startswith("Option<") and ty.endswith(">"):
        ty, required = ty[7:-1], False
    def inner(t):
        if t.startswith("std::vec::Vec<"):
            text, ref = inner(t[len("std::vec::Vec<"):-1])
            return "[]" + text, ref
        if t.startswith("std::collections::BTreeMap<std::string::String, "):
            text, ref = inner(t[len("std::collections::BTreeMap<std::string::String, "):-1])
            return "map[string]" + text, ref
        if t in SCALARS:
            return SCALARS[t], None
        if t in structs:
            return structs[t]["name"], t
        return t.split("::")[-1], None
    text, ref = inner(ty)
    return text, ref, required

def unescape(text):
    """rustdoc's escapes of Markdown characters, undone (the API's text has none)."""
    return re.sub(r"\\([\[\]<>])", r"\1", text)

for st in structs.values():
    st["description"] = unescape(st["description"])
    st["fields"] = [(j, t, unescape(d)) for j, t, d in st["fields"]]

def go_enums(types_go):
    """{Go struct name: {json field name: [enum values]}} of one k8s.io/api types.go."""
    text = open(types_go).read()
    enum_types = set(re.findall(r"// \+enum\n(?://.*\n)*type (\w+) string", text))
    values = {}
    for name, ty, value in re.findall(r'^\s*(\w+)\s+(\w+)\s*=\s*"([^"]*)"', text, re.M):
        if ty in enum_types:
            values.setdefault(ty, set()).add(value)
    fields, inline = {}, {}
    for struct, body in re.findall(r"^type (\w+) struct \{\n(.*?)^\}", text, re.M | re.S):
        for ty, json_name in re.findall(r'^\s*\w+\s+\*?(\w+)\s+`json:"([^,"]+)', body, re.M):
            if ty in values:
                fields.setdefault(struct, {})[json_name] = sorted(values[ty])
        # An embedded struct (`EphemeralContainerCommon `json:",inline"``) lends its fields.
        inline[struct] = re.findall(r'^\s*(\w+)\s+`json:",inline"', body, re.M)
    for struct, embedded in inline.items():
        for e in embedded:
            fields.setdefault(struct, {}).update(fields.get(e, {}))
    return fields

enums = {}
for group in ("core/v1", "apps/v1"):
    for struct, fields in go_enums(os.path.join(go_api, group, "types.go")).items():
        enums.setdefault(struct, {}).update(fields)

out = {}
todo = ["crate::api::core::v1::Pod"]
while todo:
    path = todo.pop()
    if path in out or path not in structs:
        continue
    s = structs[path]
    fields = []
    for json_name, ty, d in s["fields"]:
        text, ref, required = describe(ty)
        if json_name == "metadata" and text == "ObjectMeta":
            # k8s-openapi makes an object's metadata a plain field for convenience;
            # the API's schema does not require it.
            required = False
        field = {"name": json_name, "type": text, "ref": ref, "required": required, "description": d}
        values = enums.get(s["name"], {}).get(json_name)
        if values and text == "string":
            field["enum"] = values
        fields.append(field)
        if ref:
            todo.append(ref)
    if path == "crate::api::core::v1::Pod":
        # apiVersion and kind come from k8s-openapi's Resource trait, not the struct.
        fields = [
            {"name": "apiVersion", "type": "string", "ref": None, "required": False,
             "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"},
            {"name": "kind", "type": "string", "ref": None, "required": False,
             "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"},
        ] + fields
    out[path] = {"name": s["name"], "description": s["description"], "fields": fields}

json.dump(out, open(os.path.join(os.path.dirname(__file__), "..", "src", "cli", "explain_fields.json"), "w"), indent=0, sort_keys=True)
print(f"{len(out)} types")
