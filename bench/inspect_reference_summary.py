#!/usr/bin/env python3
"""coremltools' side of the inspect benchmark: read a model into coremltools'
protobuf objects and walk them to the summary `anepilot inspect` computes:
kind, spec version and deployment target, IO with types, shapes and
flexibility, states, metadata, functions, op histogram, precision counts,
compression ops, weights (each blob reference's 64-byte header in the weight
file checked against the declared type, sizes summed) and the largest
intermediate tensors. Same work, same inputs, so the timings compare like
with like. (Until 2026-12-07 this script skipped IO shapes, metadata,
compression ops and weights; see bench/README.md.) ML Programs are covered
in full (all 13 of the shared corpus agree with `inspect`); NeuralNetwork
models only by kind, IO and layer histogram, so the benchmark uses ML
Programs.

    inspect_reference_summary.py MODEL              # once; prints the summary as JSON (whole-process runs)
    inspect_reference_summary.py MODEL --loop N     # N times in-process; prints timing JSON
"""
import argparse
import heapq
import json
import mmap
import os
import statistics
import struct
import sys
import time

from coremltools.proto import MIL_pb2, Model_pb2

BITS = {MIL_pb2.FLOAT16: 16, MIL_pb2.FLOAT32: 32, MIL_pb2.FLOAT64: 64, MIL_pb2.BFLOAT16: 16,
        MIL_pb2.INT8: 8, MIL_pb2.UINT8: 8, MIL_pb2.INT16: 16, MIL_pb2.UINT16: 16,
        MIL_pb2.INT32: 32, MIL_pb2.UINT32: 32, MIL_pb2.INT64: 64, MIL_pb2.UINT64: 64, MIL_pb2.BOOL: 8}
FP16 = (MIL_pb2.FLOAT16, MIL_pb2.BFLOAT16)
FP32 = (MIL_pb2.FLOAT32, MIL_pb2.FLOAT64)
NOT_INTEGER = FP16 + FP32 + (MIL_pb2.STRING, MIL_pb2.UNUSED_TYPE)
# The compression ops anepilot reports, with their method.
COMPRESSION = {"constexpr_affine_dequantize": "quantization", "constexpr_blockwise_shift_scale": "quantization",
               "constexpr_sparse_blockwise_shift_scale": "quantization+sparsity", "dequantize": "quantization",
               "quantize": "quantization", "constexpr_lut_to_dense": "palettization",
               "constexpr_lut_to_sparse": "palettization+sparsity", "constexpr_sparse_to_dense": "sparsity",
               "constexpr_cast": "cast"}
OPSET_TARGET = {"CoreML5": "iOS 15", "CoreML6": "iOS 16", "CoreML7": "iOS 17", "CoreML8": "iOS 18", "CoreML9": "iOS 26"}
SPEC_TARGET = {1: "iOS 11", 2: "iOS 11.2", 3: "iOS 12", 4: "iOS 13", 5: "iOS 14", 6: "iOS 15", 7: "iOS 16",
               8: "iOS 17", 9: "iOS 18", 10: "iOS 26"}
# Blob storage (weight.bin) data type codes, as MIL's blob writer numbers them.
BLOB_DTYPE = {1: MIL_pb2.FLOAT16, 2: MIL_pb2.FLOAT32, 3: MIL_pb2.UINT8, 4: MIL_pb2.INT8, 5: MIL_pb2.BFLOAT16,
              6: MIL_pb2.INT16, 7: MIL_pb2.UINT16, 8: MIL_pb2.INT4, 9: MIL_pb2.UINT1, 10: MIL_pb2.UINT2,
              11: MIL_pb2.UINT4, 12: MIL_pb2.UINT3, 13: MIL_pb2.UINT6, 14: MIL_pb2.INT32, 15: MIL_pb2.UINT32}
for _name, _bits in (("INT4", 4), ("UINT1", 1), ("UINT2", 2), ("UINT3", 3), ("UINT4", 4), ("UINT6", 6)):
    BITS[getattr(MIL_pb2, _name)] = _bits


def model_file(path):
    if os.path.isdir(path):
        with open(os.path.join(path, "Manifest.json")) as f:
            manifest = json.load(f)
        entry = manifest["itemInfoEntries"][manifest["rootModelIdentifier"]]
        return os.path.join(path, "Data", entry["path"])
    return path


def op_name(op):
    v = op.attributes.get("name")
    if v is not None and v.WhichOneof("value") == "immediateValue":
        strings = v.immediateValue.tensor.strings.values
        if strings:
            return strings[0]
    return op.outputs[0].name if op.outputs else ""


def collect_blobs(op, blobs):
    """(fileName, offset, declared tensor type) of each blob the op refers to."""
    for value in op.attributes.values():
        if value.WhichOneof("value") == "blobFileValue":
            blobs.append((value.blobFileValue.fileName, value.blobFileValue.offset, value.type.tensorType))
    for arg in op.inputs.values():
        for binding in arg.arguments:
            if binding.WhichOneof("binding") == "value" and binding.value.WhichOneof("value") == "blobFileValue":
                v = binding.value
                blobs.append((v.blobFileValue.fileName, v.blobFileValue.offset, v.type.tensorType))


def walk_block(block, fn_name, t):
    for op in block.operations:
        t["histogram"][op.type] = t["histogram"].get(op.type, 0) + 1
        if op.type in COMPRESSION:
            t["compression"][op.type] = t["compression"].get(op.type, 0) + 1
        collect_blobs(op, t["blobs"])
        weight_op = op.type == "const" or op.type.startswith("constexpr_")
        if not weight_op:
            first = next((o for o in op.outputs if o.type.WhichOneof("type") == "tensorType"), None)
            dt = first.type.tensorType.dataType if first is not None else None
            key = ("fp16" if dt in FP16 else "fp32" if dt in FP32
                   else "unknown" if dt is None or dt in NOT_INTEGER else "integer")
            t["precision"][key] += 1
            for out in op.outputs:
                tt = out.type.tensorType
                if out.type.WhichOneof("type") != "tensorType" or tt.dataType not in BITS:
                    continue
                count = 1
                for d in tt.dimensions:
                    if d.WhichOneof("dimension") != "constant":
                        count = None
                        break
                    count *= d.constant.size
                if count is None:
                    continue
                nbytes = (count * BITS[tt.dataType] + 7) // 8
                t["seq"] += 1
                item = (nbytes, -t["seq"], fn_name, op.type, out.name, [d.constant.size for d in tt.dimensions])
                largest = t["largest"]
                if len(largest) < 10:
                    heapq.heappush(largest, item + (op_name(op),))
                elif item > largest[0][:6]:
                    heapq.heapreplace(largest, item + (op_name(op),))
        for nested in op.blocks:
            walk_block(nested, fn_name, t)


def feature(f):
    """A feature description with its type, shape and shape flexibility."""
    kind = f.type.WhichOneof("Type")
    out = {"name": f.name, "type": kind, "optional": f.type.isOptional, "description": f.shortDescription}
    if kind == "multiArrayType":
        a = f.type.multiArrayType
        out.update(dtype=a.dataType, shape=list(a.shape))
        flex = a.WhichOneof("ShapeFlexibility")
        if flex == "shapeRange":
            out["ranges"] = [(r.lowerBound, r.upperBound) for r in a.shapeRange.sizeRanges]
        elif flex == "enumeratedShapes":
            out["enumerated"] = [list(e.shape) for e in a.enumeratedShapes.shapes]
    elif kind == "imageType":
        i = f.type.imageType
        out.update(width=i.width, height=i.height, color=i.colorSpace)
        flex = i.WhichOneof("SizeFlexibility")
        if flex == "imageSizeRange":
            r = i.imageSizeRange
            out["ranges"] = [(r.heightRange.lowerBound, r.heightRange.upperBound),
                             (r.widthRange.lowerBound, r.widthRange.upperBound)]
        elif flex == "enumeratedSizes":
            out["enumerated"] = [[e.height, e.width] for e in i.enumeratedSizes.sizes]
    elif kind == "dictionaryType":
        out["key"] = f.type.dictionaryType.WhichOneof("KeyType")
    elif kind == "stateType":
        a = f.type.stateType.arrayType
        out.update(dtype=a.dataType, shape=list(a.shape))
    return out


def weights(blobs, model_dir):
    """Blob count, referenced bytes and file bytes, each distinct blob's
    header checked as anepilot checks it (sentinel, data type, size, range)."""
    by_file = {}
    for name, offset, ttype in blobs:
        rel = name[len("@model_path/"):] if name.startswith("@model_path/") else name
        by_file.setdefault(os.path.normpath(os.path.join(model_dir, rel)), []).append((offset, ttype))
    info = {"blob_count": 0, "referenced_bytes": 0, "file_bytes": 0, "missing": []}
    for path, uses in sorted(by_file.items()):
        info["blob_count"] += len({o for o, _ in uses})
        if not os.path.isfile(path):
            info["missing"].append(path)
            continue
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            info["file_bytes"] += len(m)
            seen = set()
            for offset, ttype in uses:
                sentinel, code, size, data_offset = struct.unpack_from("<IIQQ", m, offset)
                if sentinel != 0xDEADBEEF or BLOB_DTYPE.get(code) != ttype.dataType:
                    raise ValueError(f"{path}: bad blob header at {offset}")
                count = 1
                for d in ttype.dimensions:
                    count *= d.constant.size
                if size != (count * BITS[ttype.dataType] + 7) // 8 or data_offset + size > len(m):
                    raise ValueError(f"{path}: blob at {offset} does not match its declared type")
                if offset not in seen:
                    seen.add(offset)
                    info["referenced_bytes"] += size
    return info


def scalar_text(value):
    tensor = value.immediateValue.tensor
    member = tensor.WhichOneof("value")
    return str(getattr(tensor, member).values[0]) if member and getattr(tensor, member).values else ""


def program_attributes(program):
    """The program's attributes as strings; a dictionary (buildInfo) becomes
    one "<attribute>.<key>" entry per pair, as anepilot's metadata has them."""
    out = {}
    for name, value in program.attributes.items():
        if value.immediateValue.WhichOneof("value") == "dictionary":
            for pair in value.immediateValue.dictionary.values:
                out[name + "." + scalar_text(pair.key)] = scalar_text(pair.value)
        else:
            out[name] = scalar_text(value)
    return out


def summarize_spec(spec, model_dir):
    kind = spec.WhichOneof("Type")
    t = {"histogram": {}, "precision": {"fp16": 0, "fp32": 0, "integer": 0, "unknown": 0}, "compression": {},
         "largest": [], "seq": 0, "blobs": []}
    functions, target = [], SPEC_TARGET.get(spec.specificationVersion, "")
    if kind == "mlProgram":
        for name, fn in spec.mlProgram.functions.items():
            before = sum(t["histogram"].values())
            walk_block(fn.block_specializations[fn.opset], name, t)
            functions.append({"name": name, "opset": fn.opset, "op_count": sum(t["histogram"].values()) - before})
            target = max(target, OPSET_TARGET.get(fn.opset, ""))
    elif kind in ("neuralNetwork", "neuralNetworkClassifier", "neuralNetworkRegressor"):
        for layer in getattr(spec, kind).layers:
            lt = layer.WhichOneof("layer")
            t["histogram"][lt] = t["histogram"].get(lt, 0) + 1
    stages = []
    if kind in ("pipeline", "pipelineClassifier", "pipelineRegressor"):
        pipeline = spec.pipeline if kind == "pipeline" else getattr(spec, kind).pipeline
        stages = [summarize_spec(m, model_dir) for m in pipeline.models]
    d = spec.description
    meta = d.metadata
    return {
        "kind": kind, "spec_version": spec.specificationVersion, "deployment": target,
        "updatable": spec.isUpdatable,
        "inputs": [feature(f) for f in d.input], "outputs": [feature(f) for f in d.output],
        "states": [feature(f) for f in d.state],
        "metadata": {"author": meta.author, "license": meta.license, "description": meta.shortDescription,
                     "version": meta.versionString, "user_defined": dict(meta.userDefined),
                     "program": program_attributes(spec.mlProgram) if kind == "mlProgram" else {}},
        "functions": functions,
        "op_count": sum(t["histogram"].values()),
        "op_histogram": sorted(t["histogram"].items(), key=lambda kv: (-kv[1], kv[0])),
        "precision": t["precision"],
        "compression": sorted(((k, COMPRESSION[k], n) for k, n in t["compression"].items()), key=lambda x: (-x[2], x[0])),
        "weights": weights(t["blobs"], model_dir),
        "largest_intermediates": [{"function": f, "op": n, "op_type": ty, "value": v, "shape": sh, "bytes": b}
                                  for b, _, f, ty, v, sh, n in sorted(t["largest"], reverse=True)],
        "stages": stages,
    }


def summarize(path):
    spec = Model_pb2.Model()
    path_to_spec = model_file(path)
    with open(path_to_spec, "rb") as f:
        spec.ParseFromString(f.read())
    # Blob paths are written relative to the folder holding the model file
    # ("@model_path/weights/weight.bin").
    summary = summarize_spec(spec, os.path.dirname(path_to_spec))
    summary["container"] = "mlpackage" if os.path.isdir(path) else "mlmodel"
    return summary


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
