#!/usr/bin/env python3
"""Cross-checks `anepilot inspect --json --ops` against coremltools.

For every model folder in the shared corpus, reads the model with
coremltools' own protobuf bindings (coremltools.proto.Model_pb2) and compares
what both readers say:
  - kind (the spec's Type oneof) and specification version,
  - inputs / outputs / states: names in order, feature types, array dtypes and
    shapes, image sizes and color spaces,
  - metadata: short description, author, license, version, user-defined map,
  - ops, in program order per function (nested blocks after their parent op):
    type, name, output names, output dtypes and shapes (ML Program); layer
    kind, name and output names (NeuralNetwork),
  - pipeline stages, recursively.
Compiled models (.mlmodelc) have no coremltools reader: they are compared with
the compiler's own metadata.json where present (IO, spec version, user-defined
metadata, and for ML Programs mlProgramOperationTypeHistogram against the
op histogram); without metadata.json only a clean read or a clear refusal is
checked, and the line says so.

A model that anepilot refuses passes only when the refusal is exit code 10
(unsupported) with a message naming what is unsupported.

Prints one line per model, then "N passed, N failed"; exits 1 on any failure.
Exits 77 (ctest's skip code here) when coremltools or the corpus is missing,
unless CI=true, where that is a failure.

    crosscheck.py --anepilot build/src/cli/anepilot [--corpus DIR] [-v]
"""
import argparse
import json
import os
import subprocess
import sys

SKIP = 77

MIL_DTYPES = {
    "BOOL": "bool", "STRING": "string", "FLOAT8E4M3FN": "fp8e4m3", "FLOAT8E5M2": "fp8e5m2",
    "FLOAT16": "fp16", "FLOAT32": "fp32", "FLOAT64": "fp64", "BFLOAT16": "bf16",
    "INT8": "int8", "INT16": "int16", "INT32": "int32", "INT64": "int64", "INT4": "int4",
    "UINT8": "uint8", "UINT16": "uint16", "UINT32": "uint32", "UINT64": "uint64",
    "UINT4": "uint4", "UINT2": "uint2", "UINT1": "uint1", "UINT6": "uint6", "UINT3": "uint3",
}
ARRAY_DTYPES = {"FLOAT32": "fp32", "DOUBLE": "fp64", "INT32": "int32", "INT8": "int8",
                "FLOAT16": "fp16"}
FEATURE_KINDS = {"int64Type": "int64", "doubleType": "double", "stringType": "string",
                 "imageType": "image", "multiArrayType": "multiarray",
                 "dictionaryType": "dictionary", "sequenceType": "sequence",
                 "stateType": "state"}
# metadata.json's spelling of feature types and array dtypes.
COMPILED_KINDS = {"MultiArray": "multiarray", "Image": "image", "String": "string",
                  "Int64": "int64", "Double": "double", "Dictionary": "dictionary",
                  "Sequence": "sequence", "State": "state"}
COMPILED_DTYPES = {"Float32": "fp32", "Float16": "fp16", "Double": "fp64", "Int32": "int32",
                   "Int8": "int8"}


def fail_or_skip(message):
    if os.environ.get("CI") == "true":
        print(f"crosscheck: FAIL: {message} (required under CI=true)")
        return 1
    print(f"crosscheck: SKIP: {message}")
    return SKIP


class Mismatches:
    """Collects differences; each names the model part at fault."""

    def __init__(self):
        self.items = []

    def eq(self, where, ours, theirs):
        if ours != theirs:
            self.items.append(f"{where}: anepilot {ours!r} != coremltools {theirs!r}")

    def add(self, message):
        self.items.append(message)


# ------------------------------------------------------------- protobuf side --

def load_spec(path):
    from coremltools.proto import Model_pb2
    spec = Model_pb2.Model()
    with open(path, "rb") as f:
        spec.ParseFromString(f.read())
    return spec


def package_model_file(package):
    with open(os.path.join(package, "Manifest.json")) as f:
        manifest = json.load(f)
    root = manifest["rootModelIdentifier"]
    entry = manifest["itemInfoEntries"][root]
    return os.path.join(package, "Data", entry["path"])


# Xcode-edited packages carry a "Metadata.json" overlay (listed in the
# manifest) whose values Core ML shows instead of the spec's; anepilot applies
# it, so the reference does too.
OVERLAY_KEYS = {"MLModelAuthorKey": "author", "MLModelLicenseKey": "license",
                "MLModelDescriptionKey": "shortDescription", "MLModelVersionStringKey": "versionString"}


def apply_metadata_overlay(package, spec):
    with open(os.path.join(package, "Manifest.json")) as f:
        manifest = json.load(f)
    for entry in manifest["itemInfoEntries"].values():
        if entry.get("name") != "Metadata.json":
            continue
        path = os.path.join(package, "Data", entry["path"])
        if not os.path.exists(path):
            continue
        with open(path) as f:
            overlay = json.load(f)
        md = spec.description.metadata
        for key, field in OVERLAY_KEYS.items():
            if key in overlay:
                setattr(md, field, overlay[key])
        for key, value in overlay.get("MLModelCreatorDefinedKey", {}).items():
            md.userDefined[key] = value


def mil_value_type(vt):
    """(kind, dtype, shape) of a MIL ValueType; unknown dims as None."""
    which = vt.WhichOneof("type")
    if which == "tensorType":
        t = vt.tensorType
    elif which == "stateType" and vt.stateType.wrappedType.WhichOneof("type") == "tensorType":
        t = vt.stateType.wrappedType.tensorType
    elif which == "listType" and vt.listType.type.WhichOneof("type") == "tensorType":
        t = vt.listType.type.tensorType
    else:
        return which, None, None
    from coremltools.proto import MIL_pb2
    dtype = MIL_DTYPES.get(MIL_pb2.DataType.Name(t.dataType), "unknown")
    if t.rank < 0:
        return which, dtype, None
    shape = [d.constant.size if d.WhichOneof("dimension") == "constant" else None
             for d in t.dimensions]
    return which, dtype, shape


def mil_op_name(op):
    if "name" in op.attributes:
        strings = op.attributes["name"].immediateValue.tensor.strings.values
        if strings:
            return strings[0]
    return None


def walk_mil_block(block, function, out):
    for op in block.operations:
        outputs = []
        for o in op.outputs:
            kind, dtype, shape = mil_value_type(o.type)
            outputs.append((o.name, dtype, shape))
        out.append({"function": function, "type": op.type, "name": mil_op_name(op),
                    "outputs": outputs})
        for nested in op.blocks:
            walk_mil_block(nested, function, out)


def reference_ops(spec):
    """Ops per function name, as coremltools' protobuf has them."""
    kind = spec.WhichOneof("Type")
    if kind == "mlProgram":
        funcs = {}
        for name, fn in spec.mlProgram.functions.items():
            ops = []
            walk_mil_block(fn.block_specializations[fn.opset], name, ops)
            funcs[name] = ops
        return funcs
    nn = {"neuralNetwork": spec.neuralNetwork, "neuralNetworkClassifier": spec.neuralNetworkClassifier,
          "neuralNetworkRegressor": spec.neuralNetworkRegressor}.get(kind)
    if nn is None:
        return {}
    # Image preprocessing (scaler / mean image) comes first, one op each, as
    # anepilot's reader represents it; only the kind is known here.
    ops = [{"function": "main", "type": "preprocessing." + p.WhichOneof("preprocessor"), "name": None,
            "outputs": None} for p in nn.preprocessing]
    ops += [{"function": "main", "type": layer.WhichOneof("layer"), "name": layer.name,
             "outputs": [(o, None, None) for o in layer.output]} for layer in nn.layers]
    return {"main": ops}


def pipeline_stages(spec):
    kind = spec.WhichOneof("Type")
    if kind == "pipeline":
        return list(spec.pipeline.models)
    if kind == "pipelineClassifier":
        return list(spec.pipelineClassifier.pipeline.models)
    if kind == "pipelineRegressor":
        return list(spec.pipelineRegressor.pipeline.models)
    return []


# ------------------------------------------------------------- comparisons ----

def shape_matches(ours, theirs):
    """A coremltools unknown dim (None) matches a symbol or null on our side."""
    if theirs is None or ours is None:
        return ours == theirs
    if len(ours) != len(theirs):
        return False
    for a, b in zip(ours, theirs):
        if b is None:
            if isinstance(a, int):
                return False
        elif a != b:
            return False
    return True


def compare_features(where, ours, features, m):
    m.eq(f"{where} names", [f["name"] for f in ours], [f.name for f in features])
    for mine, theirs in zip(ours, features):
        w = f"{where} '{theirs.name}'"
        which = theirs.type.WhichOneof("Type")
        m.eq(f"{w} type", mine["type"], FEATURE_KINDS.get(which, "unknown"))
        m.eq(f"{w} optional", mine["optional"], theirs.type.isOptional)
        if which == "multiArrayType":
            from coremltools.proto import FeatureTypes_pb2
            at = theirs.type.multiArrayType
            name = FeatureTypes_pb2.ArrayFeatureType.ArrayDataType.Name(at.dataType)
            if name in ARRAY_DTYPES:
                m.eq(f"{w} dtype", mine["dtype"], ARRAY_DTYPES[name])
            if len(at.shape):
                m.eq(f"{w} shape", mine["shape"], list(at.shape))
            flex = at.WhichOneof("ShapeFlexibility")
            m.eq(f"{w} flexibility", mine["flexibility"]["kind"],
                 {"shapeRange": "range", "enumeratedShapes": "enumerated"}.get(flex, "none"))
        elif which == "imageType":
            from coremltools.proto import FeatureTypes_pb2
            it = theirs.type.imageType
            m.eq(f"{w} color space", mine["color_space"],
                 FeatureTypes_pb2.ImageFeatureType.ColorSpace.Name(it.colorSpace))
            if it.width and it.height:
                m.eq(f"{w} shape", mine["shape"], [it.height, it.width])
            flex = it.WhichOneof("SizeFlexibility")
            m.eq(f"{w} flexibility", mine["flexibility"]["kind"],
                 {"imageSizeRange": "range", "enumeratedSizes": "enumerated"}.get(flex, "none"))
        elif which == "stateType":
            from coremltools.proto import FeatureTypes_pb2
            at = theirs.type.stateType.arrayType
            m.eq(f"{w} dtype", mine["dtype"],
                 ARRAY_DTYPES.get(FeatureTypes_pb2.ArrayFeatureType.ArrayDataType.Name(at.dataType)))
            m.eq(f"{w} shape", mine["shape"], list(at.shape))


def compare_ops(ours_json, spec, m):
    reference = reference_ops(spec)
    ours = {}
    for op in ours_json.get("ops", []):
        ours.setdefault(op["function"], []).append(op)
    m.eq("function names", sorted(ours), sorted(reference))
    for fn, ref_ops in reference.items():
        mine = ours.get(fn, [])
        if len(mine) != len(ref_ops):
            m.add(f"function {fn}: anepilot has {len(mine)} ops, coremltools {len(ref_ops)}")
        for i, (a, b) in enumerate(zip(mine, ref_ops)):
            where = f"function {fn} op #{i} ({b['type']} '{b['name']}')"
            if a["type"] != b["type"] or (b["name"] is not None and a["name"] != b["name"]):
                m.add(f"{where}: anepilot has {a['type']} '{a['name']}'")
                break  # everything after is shifted; one message is enough
            if b["outputs"] is None:
                continue
            if [o["name"] for o in a["outputs"]] != [o[0] for o in b["outputs"]]:
                m.add(f"{where}: output names {[o['name'] for o in a['outputs']]} "
                      f"!= {[o[0] for o in b['outputs']]}")
                continue
            for mo, (name, dtype, shape) in zip(a["outputs"], b["outputs"]):
                if dtype is not None and mo["dtype"] != dtype:
                    m.add(f"{where} output '{name}': dtype {mo['dtype']} != {dtype}")
                if dtype is not None and not shape_matches(mo["shape"], shape):
                    m.add(f"{where} output '{name}': shape {mo['shape']} != {shape}")
            if len(m.items) > 20:
                m.add("... (stopped after 20 differences)")
                return


def compare_spec(ours, spec, m, where="model"):
    m.eq(f"{where} kind", ours["kind"], spec.WhichOneof("Type"))
    if spec.specificationVersion:
        m.eq(f"{where} spec version", ours["spec_version"], spec.specificationVersion)
    d = spec.description
    compare_features(f"{where} inputs", ours["inputs"], list(d.input), m)
    compare_features(f"{where} outputs", ours["outputs"], list(d.output), m)
    compare_features(f"{where} states", ours["states"], list(d.state), m)
    md = d.metadata
    mine = ours["metadata"]
    m.eq(f"{where} author", mine["author"], md.author)
    m.eq(f"{where} license", mine["license"], md.license)
    m.eq(f"{where} short description", mine["short_description"], md.shortDescription)
    m.eq(f"{where} version", mine["version"], md.versionString)
    m.eq(f"{where} user-defined metadata", mine["user_defined"], dict(md.userDefined))
    m.eq(f"{where} updatable", ours["updatable"], spec.isUpdatable)
    compare_ops(ours, spec, m)
    stages = pipeline_stages(spec)
    m.eq(f"{where} stage count", len(ours["stages"]), len(stages))
    for i, (mine_stage, stage_spec) in enumerate(zip(ours["stages"], stages)):
        compare_spec(mine_stage, stage_spec, m, f"{where} stage {i + 1}")


def normalise_op_type(t):
    return t.replace("_", "").lower()


def compare_compiled(ours, model_dir, m):
    """What metadata.json (written by Apple's compiler) lets us check."""
    meta_path = os.path.join(model_dir, "metadata.json")
    if not os.path.exists(meta_path):
        return "no metadata.json and no coremltools reader for espresso files: checked the read only"
    with open(meta_path) as f:
        meta = json.load(f)
    meta = meta[0] if isinstance(meta, list) else meta
    if "specificationVersion" in meta:
        m.eq("spec version", ours["spec_version"], meta["specificationVersion"])
    for key, section in (("inputSchema", "inputs"), ("outputSchema", "outputs"), ("stateSchema", "states")):
        schema = meta.get(key, [])
        m.eq(f"{section} names", [f["name"] for f in ours[section]], [f["name"] for f in schema])
        for mine, theirs in zip(ours[section], schema):
            w = f"{section} '{theirs['name']}'"
            if theirs.get("type") in COMPILED_KINDS:
                m.eq(f"{w} type", mine["type"], COMPILED_KINDS[theirs["type"]])
            if theirs.get("type") == "MultiArray" and theirs.get("dataType") in COMPILED_DTYPES:
                m.eq(f"{w} dtype", mine["dtype"], COMPILED_DTYPES[theirs["dataType"]])
    m.eq("user-defined metadata", ours["metadata"]["user_defined"], meta.get("userDefinedMetadata", {}))
    # Multifunction models list a histogram per function; the top-level one is
    # the default function's only.
    if meta.get("functions"):
        histograms = {f["name"]: f.get("mlProgramOperationTypeHistogram") for f in meta["functions"]}
    else:
        histograms = {None: meta.get("mlProgramOperationTypeHistogram")}
    if any(histograms.values()):
        for function, histogram in histograms.items():
            theirs = {}
            for key, count in (histogram or {}).items():
                op = normalise_op_type(key.split(".", 1)[-1])
                theirs[op] = theirs.get(op, 0) + count
            mine = {}
            for op in ours.get("ops", []):
                if function is None or op["function"] == function:
                    t = normalise_op_type(op["type"])
                    mine[t] = mine.get(t, 0) + 1
            where = f"function {function}: " if function else ""
            for op, count in sorted(theirs.items()):
                m.eq(f"{where}op count of {op}", mine.get(op, 0), count)
        return "compared with metadata.json (compiler's IO and per-function op histogram)"
    return "compared with metadata.json (IO and metadata; no op histogram in it)"


# ------------------------------------------------------------------ driver ----

def find_model(folder):
    found = [e for e in sorted(os.listdir(folder))
             if e.endswith((".mlmodel", ".mlpackage", ".mlmodelc"))]
    return os.path.join(folder, found[0]) if len(found) == 1 else None


def run_anepilot(binary, model):
    p = subprocess.run([binary, "inspect", "--json", "--ops", model],
                       capture_output=True, text=True, timeout=300)
    try:
        doc = json.loads(p.stdout) if p.stdout.strip() else None
    except json.JSONDecodeError as e:
        doc = {"schema": "unparseable", "error": str(e)}
    return p.returncode, doc, p.stderr.strip()


def check_model(binary, folder, verbose):
    """(passed, detail) for one corpus folder."""
    model = find_model(folder)
    if model is None:
        return False, "no single .mlmodel / .mlpackage / .mlmodelc in the folder"
    code, doc, stderr = run_anepilot(binary, model)
    if code != 0:
        if code == 10 and doc and doc.get("code") == "unsupported" and doc.get("message"):
            return True, f"refused as unsupported: {doc['message']}"
        return False, f"anepilot exit {code}: {stderr}"
    if not doc or doc.get("schema") != "anepilot.inspect" or doc.get("version") != 1:
        return False, "anepilot --json did not print an anepilot.inspect v1 document"
    m = Mismatches()
    note = "compared with coremltools protobuf"
    if model.endswith(".mlmodelc"):
        note = compare_compiled(doc, model, m)
    else:
        if model.endswith(".mlpackage"):
            spec = load_spec(package_model_file(model))
            apply_metadata_overlay(model, spec)
        else:
            spec = load_spec(model)
        compare_spec(doc, spec, m)
    if m.items:
        shown = m.items if verbose else m.items[:5]
        more = "" if verbose or len(m.items) <= 5 else f"\n    ... {len(m.items) - 5} more"
        return False, f"{len(m.items)} differences:\n    " + "\n    ".join(shown) + more
    return True, f"{doc['op_count']} ops; {note}"


def default_corpus():
    shared = os.environ.get("ANEPILOT_SHARED_DIR")
    if shared:
        return os.path.join(shared, "corpus")
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "corpus"))


def main():
    parser = argparse.ArgumentParser(description="Cross-check anepilot inspect against coremltools")
    parser.add_argument("--anepilot", required=True, help="path of the anepilot binary")
    parser.add_argument("--corpus", default=default_corpus(), help="corpus directory")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every difference")
    args = parser.parse_args()

    try:
        import coremltools.proto.Model_pb2  # noqa: F401
    except ImportError as e:
        return fail_or_skip(f"coremltools is not importable by {sys.executable} ({e})")
    if not os.path.isdir(args.corpus):
        return fail_or_skip(f"corpus not found at {args.corpus}")
    if not os.access(args.anepilot, os.X_OK):
        print(f"crosscheck: FAIL: anepilot binary not found at {args.anepilot}")
        return 1

    passed = failed = 0
    for name in sorted(os.listdir(args.corpus)):
        folder = os.path.join(args.corpus, name)
        if not os.path.isdir(folder):
            continue
        try:
            ok, detail = check_model(args.anepilot, folder, args.verbose)
        except Exception as e:  # a crash of the checker itself is a failed case
            ok, detail = False, f"crosscheck error: {type(e).__name__}: {e}"
        passed += ok
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
