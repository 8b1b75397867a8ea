#!/usr/bin/env python3
"""Fit the planner's free latency constants (data/cost_model.json) on the
public measurements in ../shared/calibration/latency.csv and report the error
on rows held out of the fit.

  python3 tools/calibrate.py --anepilot build/src/cli/anepilot [--write] [--report-only]

1. Rebuilds the measured architectures with coremltools' MIL builder into
   <build>/calibration (never committed): see tools/calibration/architectures.py.
2. Maps each usable latency.csv row (inference_ms of a rebuilt architecture on a
   device in data/devices.json, with a stated compute-unit option) to a
   prediction of `anepilot plan --json`.
3. Fits per-unit efficiency scales and per-op / per-segment overheads by
   coordinate search on log error, on the training models only.
   Rows timed through Vision are skipped (they include Vision's preprocessing).
4. Reports, on the held-out models (ResNet50, ResNet34): how often the predicted best option is the
   measured best, the median relative latency error; and the load-time error on
   the whisper encoder load rows (load constants are not fitted here: they come
   from other evidence, see the file's provenance).
--write saves the fitted constants (with the metrics in "fitted_on").
"""
import argparse
import copy
import csv
import json
import math
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "calibration"))

MODEL_NAMES = {
    "MobileNet_V2": "mobilenet_v2", "MobileNetV2": "mobilenet_v2", "MobileNetv2-1.0": "mobilenet_v2",
    "ResNet50": "resnet50", "ResNet50_V1": "resnet50", "SqueezeNet": "squeezenet",
    "MobileNet (v1)": "mobilenet_v1", "ResNet101_V1": "resnet101", "ResNet18_V1": "resnet18",
    "ResNet34_V1": "resnet34", "VGG16": "vgg16",
}
HELD_OUT = {"resnet50", "resnet34"}
LOAD_ROWS = {  # latency.csv model -> rebuilt encoder
    "whisper tiny encoder": "whisper_tiny_encoder", "whisper base encoder": "whisper_base_encoder",
    "whisper small encoder": "whisper_small_encoder", "whisper medium encoder": "whisper_medium_encoder",
}


def units_of(text):
    t = text.upper()
    if t.startswith("CPU_ONLY"):
        return "cpuOnly"
    if t.startswith("CPU_AND_GPU"):
        return "cpuAndGPU"
    if t.startswith("CPU_AND_NE") or t.startswith("ANE (CPU_AND_NE"):
        return "cpuAndNeuralEngine"
    if t.startswith("ALL") or t.startswith("DEFAULT (ALL)"):
        return "all"
    return None


def value_of(text):
    try:
        if "-" in text.strip()[1:]:
            lo, hi = text.split("-", 1)
            return (float(lo) + float(hi)) / 2
        return float(text)
    except ValueError:
        return None


def device_ids(devices_json):
    d = json.load(open(devices_json))
    ids = {dev["name"].lower(): dev["identifier"] for dev in d["devices"]}
    chip_rep = {}
    for dev in d["devices"]:
        chip_rep.setdefault(dev["chip"].lower(), dev["identifier"])
    return ids, chip_rep


def load_rows(csv_path, devices_json):
    names, chips = device_ids(devices_json)
    latency, loads = [], []
    for r in csv.DictReader(open(csv_path)):
        v = value_of(r["value"])
        if v is None:
            continue
        dev = names.get(r["device"].lower())
        if dev is None and r["device"].startswith("MacBook Pro (") or r["device"].startswith("Mac ("):
            dev = chips.get(r["chip"].lower())
        units = units_of(r["compute_units"])
        # Rows timed through Vision include its image preprocessing (a fixed
        # ~10-15 ms that Core ML's own latency does not have): not comparable.
        if "vision" in r["compute_units"].lower():
            continue
        if r["metric"] == "inference_ms" and r["model"] in MODEL_NAMES and dev and units:
            latency.append({"model": MODEL_NAMES[r["model"]], "device": dev, "units": units, "ms": v,
                            "source": r["source_url"]})
        if r["metric"] in ("load_warm_s", "load_cold_s") and r["model"] in LOAD_ROWS and dev:
            loads.append({"model": LOAD_ROWS[r["model"]], "device": dev, "units": units or "all",
                          "metric": r["metric"], "s": v, "source": r["source_url"]})
    return latency, loads


def group(rows):
    """Median of repeated measurements of the same (model, device, units)."""
    g = {}
    for r in rows:
        g.setdefault((r["model"], r["device"], r["units"]), []).append(r["ms"])
    return {k: statistics.median(v) for k, v in g.items()}


class Predictor:
    def __init__(self, anepilot, model_dir, work):
        self.anepilot, self.model_dir, self.work = anepilot, model_dir, work

    def plan(self, cost_model, model, devices):
        path = os.path.join(self.work, "candidate.json")
        json.dump(cost_model, open(path, "w"))
        out = subprocess.run([self.anepilot, "plan", os.path.join(self.model_dir, model + ".mlpackage"),
                              "--devices", ",".join(sorted(devices)), "--json", "--cost-model", path],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"anepilot plan {model}: {out.stderr}")
        return {d["identifier"]: d["options"] for d in json.loads(out.stdout)["devices"]}

    def latencies(self, cost_model, keys):
        by_model = {}
        for m, dev, _ in keys:
            by_model.setdefault(m, set()).add(dev)
        pred = {}
        for m, devs in by_model.items():
            plans = self.plan(cost_model, m, devs)
            for dev, options in plans.items():
                for u, o in options.items():
                    pred[(m, dev, u)] = o["latency_ms"]
        return pred


def loss(pred, measured):
    errs = [math.log(pred[k] / v) ** 2 for k, v in measured.items() if k in pred and pred[k] > 0]
    return sum(errs) / max(1, len(errs))


# The fitted knobs: (path in the JSON, kind). "scale" multiplies every
# efficiency of a unit; the others multiply one number.
KNOBS = [("cpu", "scale"), ("gpu", "scale"), ("ane", "scale"),
         ("cpu.op_overhead_us", "value"), ("gpu.op_overhead_us", "value"), ("ane.op_overhead_us", "value"),
         ("gpu.segment_dispatch_us", "value"), ("ane.segment_dispatch_us", "value")]


def apply(cm, knob, factor):
    cm = copy.deepcopy(cm)
    path, kind = knob
    if kind == "scale":
        eff = cm[path]["efficiency"]
        for k in eff:
            eff[k] = min(1.0, max(1e-6, eff[k] * factor))
    else:
        a, b = path.split(".")
        cm[a][b] = cm[a][b] * factor
    return cm


def fit(pred, cm, measured, rounds):
    best = loss(pred.latencies(cm, measured), measured)
    for rnd in range(rounds):
        for knob in KNOBS:
            for f in (0.25, 0.5, 0.7, 1.4, 2.0, 4.0):
                cand = apply(cm, knob, f)
                l = loss(pred.latencies(cand, measured), measured)
                if l < best - 1e-9:
                    best, cm = l, cand
        print(f"  round {rnd + 1}: mean squared log error {best:.3f}", file=sys.stderr)
    return cm, best


def metrics(pred_lat, measured):
    rel = [abs(pred_lat[k] - v) / v for k, v in measured.items() if k in pred_lat]
    best_total = best_right = 0
    per_md = {}
    for (m, d, u), v in measured.items():
        per_md.setdefault((m, d), {})[u] = v
    for (m, d), opts in per_md.items():
        if len(opts) < 2:
            continue
        best_total += 1
        measured_best = min(opts, key=opts.get)
        predicted_best = min(opts, key=lambda u: pred_lat.get((m, d, u), float("inf")))
        best_right += measured_best == predicted_best
    return {"rows": len(rel), "median_relative_error": statistics.median(rel) if rel else None,
            "best_unit_right": best_right, "best_unit_cases": best_total}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anepilot", default=os.path.join(ROOT, "build", "src", "cli", "anepilot"))
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "calibration"))
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--cost-model", default=os.path.join(ROOT, "data", "cost_model.json"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--write", action="store_true", help="write the fitted constants to --cost-model")
    ap.add_argument("--report-only", action="store_true", help="no fit: report the current constants")
    ap.add_argument("--skip-load", action="store_true", help="do not build the whisper encoders")
    args = ap.parse_args()

    os.makedirs(args.build_dir, exist_ok=True)
    latency, loads = load_rows(os.path.join(args.shared, "calibration", "latency.csv"),
                               os.path.join(ROOT, "data", "devices.json"))
    needed = sorted({r["model"] for r in latency} | ({r["model"] for r in loads} if not args.skip_load else set()))
    import architectures
    for name in needed:
        path = os.path.join(args.build_dir, name + ".mlpackage")
        if not os.path.exists(path):
            print(f"building {name} ...", file=sys.stderr)
            architectures.build(name, path)

    measured = group(latency)
    train = {k: v for k, v in measured.items() if k[0] not in HELD_OUT}
    test = {k: v for k, v in measured.items() if k[0] in HELD_OUT}
    print(f"rows: {len(latency)} latency rows -> {len(measured)} (model, device, option) groups; "
          f"train {len(train)} (models {sorted({k[0] for k in train})}), "
          f"held out {len(test)} (models {sorted(HELD_OUT)})")

    pred = Predictor(args.anepilot, args.build_dir, args.build_dir)
    cm = json.load(open(args.cost_model))
    if not args.report_only:
        cm, l = fit(pred, cm, train, args.rounds)
    train_m = metrics(pred.latencies(cm, train), train)
    test_m = metrics(pred.latencies(cm, test), test)
    report = {"train": train_m, "held_out": test_m}

    if loads and not args.skip_load:
        errs = []
        for r in loads:
            plans = pred.plan(cm, r["model"], {r["device"]})
            o = plans[r["device"]][r["units"]]
            p = (o["warm_load_ms"] if r["metric"] == "load_warm_s" else o["cold_load_ms"]) / 1e3
            errs.append(abs(p - r["s"]) / r["s"])
            print(f"  load {r['model']} on {r['device']} {r['units']} {r['metric']}: predicted {p:.3f} s, "
                  f"measured {r['s']} s", file=sys.stderr)
        report["load"] = {"rows": len(errs), "median_relative_error": statistics.median(errs)}

    print(json.dumps(report, indent=2))
    if args.write and not args.report_only:
        cm["fitted_on"] = (
            f"tools/calibrate.py on shared/calibration/latency.csv: {len(train)} training groups "
            f"(models {sorted({k[0] for k in train})}); held out {sorted(HELD_OUT)}: best unit right "
            f"{test_m['best_unit_right']}/{test_m['best_unit_cases']}, median relative latency error "
            f"{test_m['median_relative_error']:.2f}"
            + (f"; load rows median relative error {report['load']['median_relative_error']:.2f}"
               if "load" in report else ""))
        with open(args.cost_model, "w") as f:
            json.dump(cm, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
