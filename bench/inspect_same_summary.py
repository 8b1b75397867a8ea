#!/usr/bin/env python3
"""Checks that the two sides of the inspect benchmark computed the same
summary, so that their timings compare the same work:

    inspect_same_summary.py ANEPILOT_JSON REFERENCE_JSON   # exit 1 and say what differs

ANEPILOT_JSON is `anepilot inspect --json MODEL`; REFERENCE_JSON is
inspect_reference_summary.py MODEL (coremltools' protobuf objects).
"""
import json
import sys


def comparable(a, r):
    """(field, anepilot's value, coremltools' value) for each summary field."""
    w = a["weights"]
    p = a["precision"]
    yield "kind", a["kind"], r["kind"]
    yield "spec version", a["spec_version"], r["spec_version"]
    yield "deployment target", a["deployment_target"]["ios"], r["deployment"]
    yield "inputs", [f["name"] for f in a["inputs"]], [f["name"] for f in r["inputs"]]
    yield "outputs", [f["name"] for f in a["outputs"]], [f["name"] for f in r["outputs"]]
    yield "states", [f["name"] for f in a["states"]], [f["name"] for f in r["states"]]
    yield "functions", [(f["name"], f["opset"], f["op_count"]) for f in a["functions"]], \
        [(f["name"], f["opset"], f["op_count"]) for f in r["functions"]]
    yield "op count", a["op_count"], r["op_count"]
    yield "op histogram", [(h["type"], h["count"]) for h in a["op_histogram"]], \
        [tuple(h) for h in r["op_histogram"]]
    yield "precision", [p["fp16_ops"], p["fp32_ops"], p["integer_ops"], p["unknown_ops"]], \
        [r["precision"][k] for k in ("fp16", "fp32", "integer", "unknown")]
    yield "compression", [(c["type"], c["count"]) for c in a["compression"]], \
        [(t, n) for t, _, n in r["compression"]]
    yield "blob references", w["blob_count"], r["weights"]["blob_count"]
    yield "referenced weight bytes", w["referenced_bytes"], r["weights"]["referenced_bytes"]
    yield "weight file bytes", w["file_bytes"], r["weights"]["file_bytes"]
    yield "largest intermediates", [(t["op"], t["value"], t["shape"], t["bytes"]) for t in a["largest_intermediates"]], \
        [(t["op"], t["value"], t["shape"], t["bytes"]) for t in r["largest_intermediates"]]
    user = a["metadata"].get("user_defined", {})
    yield "user-defined metadata", sorted(user.items()), sorted(r["metadata"]["user_defined"].items())


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        a = json.load(f)
    with open(sys.argv[2]) as f:
        r = json.load(f)
    differ = [(name, x, y) for name, x, y in comparable(a, r) if x != y]
    for name, x, y in differ:
        print(f"inspect_same_summary: {name} differ: anepilot {str(x)[:200]} vs coremltools {str(y)[:200]}",
              file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
