"""The measured architectures of ../shared/calibration/latency.csv, rebuilt with
coremltools' MIL builder (random fp16 weights: the planner needs shapes and
sizes, not values). Each builder returns a MIL program; build() saves it as an
.mlpackage. Layer lists follow the published architectures (torchvision's
definitions for ResNet / VGG / SqueezeNet 1.1 / MobileNet v2, Howard et al. for
MobileNet v1, Radford et al. for the Whisper encoder); batch norm is omitted
(folded into the conv by every converter).
"""
import numpy as np

import coremltools as ct
from coremltools.converters.mil import Builder as mb
from coremltools.converters.mil.mil import types

RNG = np.random.default_rng(0)


def _w(*shape):
    return (RNG.standard_normal(shape) * 0.01).astype(np.float16)


def conv(x, cin, cout, k, s=1, groups=1, act="relu"):
    x = mb.conv(x=x, weight=_w(cout, cin // groups, k, k), bias=_w(cout), strides=[s, s],
                pad_type="same", groups=groups)
    if act == "relu":
        x = mb.relu(x=x)
    elif act == "relu6":
        x = mb.clip(x=x, alpha=np.float16(0), beta=np.float16(6))
    return x


def head(x, cin, classes=1000):
    x = mb.reduce_mean(x=x, axes=[2, 3], keep_dims=False)
    return mb.linear(x=x, weight=_w(classes, cin), bias=_w(classes))


def image_program(body, size=224):
    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 3, size, size), dtype=types.fp16)],
                opset_version=ct.target.iOS16)
    def prog(image):
        return body(image)
    return prog


def mobilenet_v2(x):
    x = conv(x, 3, 32, 3, 2, act="relu6")
    cin = 32
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            y = x
            if t != 1:
                y = conv(y, cin, hidden, 1, act="relu6")
            y = conv(y, hidden, hidden, 3, stride, groups=hidden, act="relu6")
            y = conv(y, hidden, c, 1, act=None)
            x = mb.add(x=x, y=y) if stride == 1 and cin == c else y
            cin = c
    x = conv(x, 320, 1280, 1, act="relu6")
    return head(x, 1280)


def mobilenet_v1(x):
    x = conv(x, 3, 32, 3, 2)
    cin = 32
    for c, s in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
                [(1024, 2), (1024, 1)]:
        x = conv(x, cin, cin, 3, s, groups=cin)
        x = conv(x, cin, c, 1)
        cin = c
    return head(x, 1024)


def _resnet(x, blocks, bottleneck):
    x = conv(x, 3, 64, 7, 2)
    x = mb.max_pool(x=x, kernel_sizes=[3, 3], strides=[2, 2], pad_type="same")
    cin = 64
    for stage, n in enumerate(blocks):
        width = 64 * 2 ** stage
        cout = width * 4 if bottleneck else width
        for i in range(n):
            s = 2 if i == 0 and stage > 0 else 1
            if bottleneck:
                y = conv(x, cin, width, 1)
                y = conv(y, width, width, 3, s)
                y = conv(y, width, cout, 1, act=None)
            else:
                y = conv(x, cin, width, 3, s)
                y = conv(y, width, cout, 3, act=None)
            short = conv(x, cin, cout, 1, s, act=None) if (s != 1 or cin != cout) else x
            x = mb.relu(x=mb.add(x=y, y=short))
            cin = cout
    return head(x, cin)


def resnet18(x): return _resnet(x, [2, 2, 2, 2], False)
def resnet34(x): return _resnet(x, [3, 4, 6, 3], False)
def resnet50(x): return _resnet(x, [3, 4, 6, 3], True)
def resnet101(x): return _resnet(x, [3, 4, 23, 3], True)


def squeezenet(x):
    x = conv(x, 3, 64, 3, 2)
    x = mb.max_pool(x=x, kernel_sizes=[3, 3], strides=[2, 2], pad_type="valid")
    cin = 64

    def fire(x, cin, squeeze, expand):
        s = conv(x, cin, squeeze, 1)
        return mb.concat(values=[conv(s, squeeze, expand, 1), conv(s, squeeze, expand, 3)], axis=1)

    for i, (sq, ex) in enumerate([(16, 64), (16, 64), (32, 128), (32, 128), (48, 192), (48, 192),
                                  (64, 256), (64, 256)]):
        if i in (2, 4):
            x = mb.max_pool(x=x, kernel_sizes=[3, 3], strides=[2, 2], pad_type="valid")
        x = fire(x, cin, sq, ex)
        cin = 2 * ex
    x = conv(x, 512, 1000, 1)
    return mb.reduce_mean(x=x, axes=[2, 3], keep_dims=False)


def vgg16(x):
    cin = 3
    for c, n in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
        for _ in range(n):
            x = conv(x, cin, c, 3)
            cin = c
        x = mb.max_pool(x=x, kernel_sizes=[2, 2], strides=[2, 2], pad_type="valid")
    x = mb.reshape(x=x, shape=[1, 512 * 7 * 7])
    x = mb.relu(x=mb.linear(x=x, weight=_w(4096, 25088), bias=_w(4096)))
    x = mb.relu(x=mb.linear(x=x, weight=_w(4096, 4096), bias=_w(4096)))
    return mb.linear(x=x, weight=_w(1000, 4096), bias=_w(1000))


def whisper_encoder(layers, d, heads=None, tokens=1500):
    """Whisper's audio encoder: two conv stems then `layers` pre-norm blocks."""
    heads = heads or d // 64

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 80, 1, 3000), dtype=types.fp16)],
                opset_version=ct.target.iOS16)
    def prog(mel):
        x = mb.gelu(x=mb.conv(x=mel, weight=_w(d, 80, 1, 3), pad_type="same"))
        x = mb.gelu(x=mb.conv(x=x, weight=_w(d, d, 1, 3), strides=[1, 2], pad_type="same"))
        x = mb.transpose(x=mb.reshape(x=x, shape=[1, d, tokens]), perm=[0, 2, 1])
        for _ in range(layers):
            h = mb.layer_norm(x=x, axes=[-1], gamma=_w(d), beta=_w(d))
            q = mb.linear(x=h, weight=_w(d, d), bias=_w(d))
            k = mb.linear(x=h, weight=_w(d, d))
            v = mb.linear(x=h, weight=_w(d, d), bias=_w(d))
            split = lambda t: mb.transpose(x=mb.reshape(x=t, shape=[1, tokens, heads, 64]), perm=[0, 2, 1, 3])
            s = mb.matmul(x=split(q), y=split(k), transpose_y=True)
            a = mb.matmul(x=mb.softmax(x=mb.mul(x=s, y=np.float16(0.125)), axis=-1), y=split(v))
            a = mb.reshape(x=mb.transpose(x=a, perm=[0, 2, 1, 3]), shape=[1, tokens, d])
            x = mb.add(x=x, y=mb.linear(x=a, weight=_w(d, d), bias=_w(d)))
            h = mb.layer_norm(x=x, axes=[-1], gamma=_w(d), beta=_w(d))
            h = mb.gelu(x=mb.linear(x=h, weight=_w(4 * d, d), bias=_w(4 * d)))
            x = mb.add(x=x, y=mb.linear(x=h, weight=_w(d, 4 * d), bias=_w(d)))
        return mb.layer_norm(x=x, axes=[-1], gamma=_w(d), beta=_w(d))
    return prog


IMAGE_MODELS = {
    "mobilenet_v2": mobilenet_v2, "mobilenet_v1": mobilenet_v1, "resnet18": resnet18,
    "resnet34": resnet34, "resnet50": resnet50, "resnet101": resnet101, "squeezenet": squeezenet,
    "vgg16": vgg16,
}
WHISPER_MODELS = {"whisper_tiny_encoder": (4, 384), "whisper_base_encoder": (6, 512),
                  "whisper_small_encoder": (12, 768), "whisper_medium_encoder": (24, 1024)}


def build(name, path):
    if name in IMAGE_MODELS:
        prog = image_program(IMAGE_MODELS[name])
    else:
        prog = whisper_encoder(*WHISPER_MODELS[name])
    model = ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=ct.target.iOS16,
                       compute_precision=ct.precision.FLOAT16, skip_model_load=True)
    model.save(path)
