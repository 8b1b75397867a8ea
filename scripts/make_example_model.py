#!/usr/bin/env python3
"""Builds anepilot's example model: a small, realistic image ML Program.

    python3 scripts/make_example_model.py OUT.mlpackage

The model is what README's first command inspects and plans. It has the
features anepilot reports on, at a size that builds in seconds:
  - an RGB image input (256x256) and a multiarray output (a 16-channel mask),
  - a conv stem whose weights are int8, dequantized at load time by
    constexpr_affine_dequantize (what coremltools' linear quantization writes),
  - a single-head self-attention block over the 32x32 = 1024 patch tokens
    (matmul, softmax, matmul) with weights in the weight file,
  - fp16 compute (coremltools' FLOAT16 precision pass over an fp32 program,
    so an fp32 image input is cast once), iOS 16 opset, specification version 7.
Weights go to Data/com.apple.CoreML/weights/weight.bin inside the package.
Needs coremltools (tests/tooling only; anepilot itself never imports it).
"""
import argparse
import os
import shutil
import sys

import numpy as np


def build_program(mb, types, seed=0):
    rng = np.random.default_rng(seed)
    channels, size, patch = 64, 256, 8
    tokens = (size // patch) ** 2

    conv_w = rng.standard_normal((channels, 3, patch, patch)).astype(np.float32) * 0.05
    conv_scale = np.abs(conv_w).max(axis=(1, 2, 3)) / 127.0
    conv_q = np.round(conv_w / conv_scale[:, None, None, None]).astype(np.int8)
    proj = {n: (rng.standard_normal((channels, channels)) * 0.1).astype(np.float32)
            for n in ("wq", "wk", "wv", "wo")}
    head_w = (rng.standard_normal((16, channels, 1, 1)) * 0.1).astype(np.float32)

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 3, size, size), dtype=types.fp32)],
                opset_version=None)
    def prog(image):
        w = mb.constexpr_affine_dequantize(
            quantized_data=conv_q, zero_point=np.int8(0),
            scale=conv_scale.astype(np.float32), axis=0, name="stem_weight")
        x = mb.conv(x=image, weight=w, strides=[patch, patch], pad_type="valid", name="stem")
        x = mb.relu(x=x, name="stem_relu")
        seq = mb.reshape(x=x, shape=[1, channels, tokens], name="to_tokens")
        seq = mb.transpose(x=seq, perm=[0, 2, 1], name="tokens")              # [1, 1024, 64]
        q = mb.matmul(x=seq, y=proj["wq"], name="q")
        k = mb.matmul(x=seq, y=proj["wk"], name="k")
        v = mb.matmul(x=seq, y=proj["wv"], name="v")
        scores = mb.matmul(x=q, y=k, transpose_y=True, name="scores")        # [1, 1024, 1024]
        scores = mb.mul(x=scores, y=np.float32(1.0 / np.sqrt(channels)), name="scaled_scores")
        attn = mb.softmax(x=scores, axis=-1, name="attention")
        ctx = mb.matmul(x=attn, y=v, name="context")
        out = mb.matmul(x=ctx, y=proj["wo"], name="attn_out")
        seq = mb.add(x=seq, y=out, name="residual")
        x = mb.transpose(x=seq, perm=[0, 2, 1], name="from_tokens")
        x = mb.reshape(x=x, shape=[1, channels, size // patch, size // patch], name="grid")
        x = mb.conv(x=x, weight=head_w, name="head")
        return mb.sigmoid(x=x, name="mask")

    return prog


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="path of the .mlpackage to write (replaced if present)")
    args = parser.parse_args()
    if not args.out.endswith(".mlpackage"):
        parser.error("the output path must end in .mlpackage")

    import coremltools as ct
    from coremltools.converters.mil import Builder as mb
    from coremltools.converters.mil.mil import types

    prog = build_program(mb, types)
    model = ct.convert(
        prog,
        convert_to="mlprogram",
        minimum_deployment_target=ct.target.iOS16,
        compute_precision=ct.precision.FLOAT16,
        inputs=[ct.ImageType(name="image", shape=(1, 3, 256, 256),
                             color_layout=ct.colorlayout.RGB, scale=1 / 255.0)],
        skip_model_load=True,
    )
    model.author = "anepilot example (scripts/make_example_model.py)"
    model.license = "Public domain: generated from random weights"
    model.short_description = "Patch-conv stem with int8 weights, one self-attention block, mask head"
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    parent = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(parent, exist_ok=True)
    model.save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
