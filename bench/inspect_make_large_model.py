#!/usr/bin/env python3
"""Writes a large ML Program package for the inspect benchmark.

    python3 bench/inspect_make_large_model.py OUT.mlpackage [--ops 200000]

The program is a stack of transformer-like blocks, 9 ops each, in the form
coremltools writes (named ops, typed outputs with static shapes, fp16):

    w = const (fp16[32, 32], in weights/weight.bin)   b = const (fp16[32], immediate)
    y = linear(x, w, b)   y = add(y, x)   y = relu(y)
    s = const (fp16 scalar)   y = mul(y, s)   shape = const (int32[3])   x = reshape(y, shape)

The protobuf is built directly with coremltools.proto (the MIL builder would
take minutes for 200k ops) and the weights written with coremltools' own blob
writer, so the package is one coremltools itself reads. Not committed: the
benchmark script generates it into the build tree.
"""
import argparse
import json
import os
import shutil
import sys
import uuid

import numpy as np

OPS_PER_BLOCK = 9
TOKENS, CHANNELS = 256, 32


def tensor_type(vt, dtype, shape):
    vt.tensorType.dataType = dtype
    vt.tensorType.rank = len(shape)
    for d in shape:
        vt.tensorType.dimensions.add().constant.size = d


def set_name(op, name, MIL):
    v = op.attributes["name"]
    v.type.tensorType.dataType = MIL.STRING
    v.immediateValue.tensor.strings.values.append(name)


def add_output(op, name, dtype, shape):
    out = op.outputs.add()
    out.name = name
    tensor_type(out.type, dtype, shape)


def bind(op, param, value_name):
    op.inputs[param].arguments.add().name = value_name


def add_const(block, name, dtype, shape, MIL, raw=None, blob=None):
    op = block.operations.add()
    op.type = "const"
    set_name(op, name, MIL)
    add_output(op, name, dtype, shape)
    val = op.attributes["val"]
    tensor_type(val.type, dtype, shape)
    if blob is not None:
        val.blobFileValue.fileName = "@model_path/weights/weight.bin"
        val.blobFileValue.offset = blob
    elif dtype == MIL.INT32:
        val.immediateValue.tensor.ints.values.extend(raw)
    else:
        val.immediateValue.tensor.bytes.values = raw
    return name


def add_op(block, op_type, name, inputs, MIL, shape):
    op = block.operations.add()
    op.type = op_type
    set_name(op, name, MIL)
    for param, value in inputs.items():
        bind(op, param, value)
    add_output(op, name, MIL.FLOAT16, shape)
    return name


def build(out_dir, total_ops):
    from coremltools.proto import Model_pb2, MIL_pb2 as MIL, FeatureTypes_pb2 as FT
    from coremltools.libmilstoragepython import _BlobStorageWriter

    blocks = max(1, total_ops // OPS_PER_BLOCK)
    data_dir = os.path.join(out_dir, "Data", "com.apple.CoreML")
    os.makedirs(os.path.join(data_dir, "weights"))
    writer = _BlobStorageWriter(os.path.join(data_dir, "weights", "weight.bin"))
    rng = np.random.default_rng(0)

    model = Model_pb2.Model()
    model.specificationVersion = 7
    for feature, name in ((model.description.input.add(), "x"), (model.description.output.add(), "y")):
        feature.name = name
        feature.type.multiArrayType.dataType = FT.ArrayFeatureType.FLOAT16
        feature.type.multiArrayType.shape.extend([1, TOKENS, CHANNELS])
    model.description.metadata.userDefined["com.github.apple.coremltools.version"] = "9.0"
    model.description.metadata.userDefined["com.github.apple.coremltools.source"] = \
        "anepilot bench/inspect_make_large_model.py"

    program = model.mlProgram
    program.version = 1
    fn = program.functions["main"]
    fn.opset = "CoreML6"
    arg = fn.inputs.add()
    arg.name = "x"
    tensor_type(arg.type, MIL.FLOAT16, [1, TOKENS, CHANNELS])
    block = fn.block_specializations["CoreML6"]

    act = [1, TOKENS, CHANNELS]
    bias = rng.standard_normal(CHANNELS).astype(np.float16).tobytes()
    scale = np.float16(0.5).tobytes()
    x = "x"
    for i in range(blocks):
        weights = (rng.standard_normal((CHANNELS, CHANNELS)) * 0.1).astype(np.float16)
        offset = writer.write_fp16_data(weights.view(np.uint16).ravel())
        w = add_const(block, f"blk{i}_w", MIL.FLOAT16, [CHANNELS, CHANNELS], MIL, blob=offset)
        b = add_const(block, f"blk{i}_b", MIL.FLOAT16, [CHANNELS], MIL, raw=bias)
        y = add_op(block, "linear", f"blk{i}_linear", {"x": x, "weight": w, "bias": b}, MIL, act)
        y = add_op(block, "add", f"blk{i}_residual", {"x": y, "y": x}, MIL, act)
        y = add_op(block, "relu", f"blk{i}_relu", {"x": y}, MIL, act)
        s = add_const(block, f"blk{i}_s", MIL.FLOAT16, [], MIL, raw=scale)
        y = add_op(block, "mul", f"blk{i}_scaled", {"x": y, "y": s}, MIL, act)
        shp = add_const(block, f"blk{i}_shape", MIL.INT32, [3], MIL, raw=act)
        x = add_op(block, "reshape", f"blk{i}_out", {"x": y, "shape": shp}, MIL, act)
    block.outputs.append(x)
    # The model's output is named y: rename the last value.
    last = block.operations[len(block.operations) - 1]
    last.outputs[0].name = "y"
    block.outputs[0] = "y"
    del writer

    model_path = os.path.join(data_dir, "model.mlmodel")
    with open(model_path, "wb") as f:
        f.write(model.SerializeToString())
    model_id, weights_id = str(uuid.uuid4()).upper(), str(uuid.uuid4()).upper()
    manifest = {
        "fileFormatVersion": "1.0.0",
        "itemInfoEntries": {
            model_id: {"author": "com.apple.CoreML", "description": "CoreML Model Specification",
                       "name": "model.mlmodel", "path": "com.apple.CoreML/model.mlmodel"},
            weights_id: {"author": "com.apple.CoreML", "description": "CoreML Model Weights",
                         "name": "weights", "path": "com.apple.CoreML/weights"},
        },
        "rootModelIdentifier": model_id,
    }
    with open(os.path.join(out_dir, "Manifest.json"), "w") as f:
        json.dump(manifest, f, indent=4)
    return blocks * OPS_PER_BLOCK


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help=".mlpackage to write (replaced if present)")
    parser.add_argument("--ops", type=int, default=200000, help="number of ops (rounded to blocks of 9)")
    args = parser.parse_args()
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    ops = build(args.out, args.ops)
    print(f"wrote {args.out}: {ops} ops")
    return 0


if __name__ == "__main__":
    sys.exit(main())
