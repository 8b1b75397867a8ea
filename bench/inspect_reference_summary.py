#!/usr/bin/env python3
"""coremltools' side of the inspect benchmark: read a model into coremltools'
protobuf objects and walk them to the summary `anepilot inspect` computes
(kind, IO, functions, op histogram, precision counts, largest intermediate
tensors). Same work, same inputs, so the timings compare like with like.

    inspect_reference_summary.py MODEL              # once; prints the summary as JSON (whole-process runs)
    inspect_reference_summary.py MODEL --loop N     # N times in-process; prints timing JSON
"""
import argparse
import heapq
import json
import os
import statistics
import sys
import time

from coremltools.proto import MIL_pb2, Model_pb2

BITS = {MIL_pb2.FLOAT16: 16, MIL_pb2.FLOAT32: 32, MIL_pb2.FLOAT64: 64, MIL_pb2.BFLOAT16: 16,
        MIL_pb2.INT8: 8, MIL_pb2.UINT8: 8, MIL_pb2.INT16: 16, MIL_pb2.UINT16: 16,
        MIL_pb2.INT32: 32, MIL_pb2.UINT32: 32, MIL_pb2.INT64: 64, MIL_pb2.UINT64: 64, MIL_pb2.BOOL: 8}
FP16 = (MIL_pb2.FLOAT16, MIL_pb2.BFLOAT16)
FP32 = (MIL_pb2.FLOAT32, MIL_pb2.FLOAT64)


def model_file(path):
    if os.path.isdir(path):
        with open(os.path.join(path, "Manifest.json")) as f:
            manifest = json.load(f)
        entry = manifest["itemInfoEntries"][manifest["rootModelIdentifier"]]
        return os.path.join(path, "Data", entry["path"])
    return path


def walk_block(block, fn_name, histogram, precision, largest, seq):
    for op in block.operations:
        histogram[op.type] = histogram.get(op.type, 0) + 1
        weight_op = op.type == "const" or op.type.startswith("constexpr_")
        if not weight_op:
            first = next((o for o in op.outputs if o.type.WhichOneof("type") == "tensorType"), None)
            dt = first.type.tensorType.dataType if first is not None else None
            key = "fp16" if dt in FP16 else "fp32" if dt in FP32 else "other"
            precision[key] += 1
            for out in op.outputs:
                t = out.type.tensorType
                if out.type.WhichOneof("type") != "tensorType" or t.dataType not in BITS:
                    continue
                count = 1
                for d in t.dimensions:
                    if d.WhichOneof("dimension") != "constant":
                        count = None
                        break
                    count *= d.constant.size
                if count is None:
                    continue
                nbytes = (count * BITS[t.dataType] + 7) // 8
                seq[0] += 1
                item = (nbytes, -seq[0], fn_name, op.type, out.name, list(d.constant.size for d in t.dimensions))
                if len(largest) < 10:
                    heapq.heappush(largest, item)
                elif item > largest[0]:
                    heapq.heapreplace(largest, item)
        for nested in op.blocks:
            walk_block(nested, fn_name, histogram, precision, largest, seq)


def summarize(path):
    spec = Model_pb2.Model()
    with open(model_file(path), "rb") as f:
        spec.ParseFromString(f.read())
    kind = spec.WhichOneof("Type")
    histogram, precision, largest, seq = {}, {"fp16": 0, "fp32": 0, "other": 0}, [], [0]
    functions = []
    if kind == "mlProgram":
        for name, fn in spec.mlProgram.functions.items():
            before = sum(histogram.values())
            walk_block(fn.block_specializations[fn.opset], name, histogram, precision, largest, seq)
            functions.append({"name": name, "opset": fn.opset, "op_count": sum(histogram.values()) - before})
    elif kind in ("neuralNetwork", "neuralNetworkClassifier", "neuralNetworkRegressor"):
        for layer in getattr(spec, kind).layers:
            t = layer.WhichOneof("layer")
            histogram[t] = histogram.get(t, 0) + 1
    io = [{"name": f.name, "type": f.type.WhichOneof("Type")}
          for f in list(spec.description.input) + list(spec.description.output)]
    return {
        "kind": kind, "spec_version": spec.specificationVersion, "io": io, "functions": functions,
        "op_count": sum(histogram.values()),
        "op_histogram": sorted(histogram.items(), key=lambda kv: (-kv[1], kv[0])),
        "precision": precision,
        "largest_intermediates": [{"function": f, "op_type": t, "value": v, "shape": s, "bytes": b}
                                  for b, _, f, t, v, s in sorted(largest, reverse=True)],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--loop", type=int, default=0, help="time N in-process runs instead")
    args = parser.parse_args()
    if not args.loop:
        json.dump(summarize(args.model), sys.stdout)
        print()
        return 0
    times, cpu, ops = [], [], 0
    for _ in range(args.loop):
        t0, c0 = time.perf_counter(), time.process_time()
        ops = summarize(args.model)["op_count"]
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    print(json.dumps({"model": args.model, "ops": ops, "iterations": args.loop,
                      "median_ms": round(statistics.median(times), 3), "min_ms": round(min(times), 3),
                      "cpu_median_ms": round(statistics.median(cpu), 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
