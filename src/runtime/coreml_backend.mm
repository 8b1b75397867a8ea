// The Core ML backend (Apple platforms only; coreml_backend_stub.cc elsewhere).
// Thin by design: compile, load with a compute-unit configuration, predict
// with float32 MLMultiArrays, and describe the compute plan where the OS has
// one. Everything else (unit choice, crash guard, store, swap) is portable.
//
// Compiled with ARC (-fobjc-arc is set for this file by CMake on Apple).
// Not compiled or run on the Linux machines this project is developed on:
// see docs/runtime.md "What is tested where".
#import <CoreML/CoreML.h>
#import <Foundation/Foundation.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/coreml_backend.h"

namespace anepilot::runtime {
namespace {

std::string Describe(NSError* error) {
  if (error == nil) return "unknown Core ML error";
  NSString* text = error.localizedDescription ?: @"";
  return std::string(text.UTF8String) + " (" + std::string(error.domain.UTF8String) + " " +
         std::to_string(static_cast<long>(error.code)) + ")";
}

NSString* ToNSString(const std::string& s) { return [NSString stringWithUTF8String:s.c_str()]; }

Result<MLComputeUnits> ToMLComputeUnits(ComputeUnits u) {
  switch (u) {
    case ComputeUnits::kCpuOnly: return MLComputeUnitsCPUOnly;
    case ComputeUnits::kCpuAndGpu: return MLComputeUnitsCPUAndGPU;
    case ComputeUnits::kAll: return MLComputeUnitsAll;
    case ComputeUnits::kCpuAndNeuralEngine:
      if (@available(iOS 16.0, macOS 13.0, tvOS 16.0, watchOS 9.0, *)) return MLComputeUnitsCPUAndNeuralEngine;
      return Unsupported("cpuAndNeuralEngine needs iOS 16 / macOS 13 or later");
  }
  return InvalidArgument("unknown compute units");
}

// Reads element `flat` (row-major over the shape) of a multi-array of any
// supported element type, honouring its strides.
double ReadElement(const void* base, MLMultiArrayDataType type, const std::vector<int64_t>& shape,
                   const std::vector<int64_t>& strides, int64_t flat) {
  int64_t offset = 0;
  for (size_t d = shape.size(); d-- > 0;) {
    const int64_t index = flat % shape[d];
    flat /= shape[d];
    offset += index * strides[d];
  }
  switch (type) {
    case MLMultiArrayDataTypeFloat32: return static_cast<const float*>(base)[offset];
    case MLMultiArrayDataTypeDouble: return static_cast<const double*>(base)[offset];
    case MLMultiArrayDataTypeInt32: return static_cast<const int32_t*>(base)[offset];
    default: break;
  }
#if defined(__arm64__) || defined(__aarch64__)
  if (@available(iOS 16.0, macOS 13.0, tvOS 16.0, watchOS 9.0, *)) {
    if (type == MLMultiArrayDataTypeFloat16) return static_cast<double>(static_cast<const __fp16*>(base)[offset]);
  }
#endif
  return std::nan("");
}

Result<Tensor> ToTensor(const std::string& name, MLMultiArray* array) {
  Tensor t;
  t.name = name;
  std::vector<int64_t> strides;
  for (NSNumber* n in array.shape) t.shape.push_back(n.longLongValue);
  for (NSNumber* n in array.strides) strides.push_back(n.longLongValue);
  const int64_t count = t.ElementCount();
  t.data.resize(static_cast<size_t>(count));
  const MLMultiArrayDataType type = array.dataType;
  auto copy = [&](const void* bytes) {
    for (int64_t i = 0; i < count; ++i) {
      t.data[static_cast<size_t>(i)] = static_cast<float>(ReadElement(bytes, type, t.shape, strides, i));
    }
  };
  auto* copy_fn = &copy;  // blocks capture the pointer, not the C++ lambda
  if (@available(iOS 15.4, macOS 12.3, tvOS 15.4, watchOS 8.5, *)) {
    [array getBytesWithHandler:^(const void* bytes, NSInteger size) { (*copy_fn)(bytes); }];
  } else {
    copy(array.dataPointer);
  }
  return t;
}

Result<MLMultiArray*> ToMultiArray(const Tensor& t) {
  if (static_cast<int64_t>(t.data.size()) != t.ElementCount()) {
    return InvalidArgument("input '" + t.name + "': " + std::to_string(t.data.size()) + " values for " +
                           std::to_string(t.ElementCount()) + " elements");
  }
  NSMutableArray<NSNumber*>* shape = [NSMutableArray array];
  for (int64_t d : t.shape) [shape addObject:@(d)];
  NSError* error = nil;
  MLMultiArray* array = [[MLMultiArray alloc] initWithShape:shape dataType:MLMultiArrayDataTypeFloat32 error:&error];
  if (array == nil) return InvalidArgument("input '" + t.name + "': " + Describe(error));
  // A freshly allocated array is contiguous and row-major.
  const float* src = t.data.data();
  const size_t src_bytes = t.data.size() * sizeof(float);
  if (@available(iOS 15.4, macOS 12.3, tvOS 15.4, watchOS 8.5, *)) {
    [array getMutableBytesWithHandler:^(void* bytes, NSInteger size, NSArray<NSNumber*>* strides) {
      std::memcpy(bytes, src, std::min(static_cast<size_t>(size), src_bytes));
    }];
  } else {
    std::memcpy(array.dataPointer, src, src_bytes);
  }
  return array;
}

class CoreMLModel final : public LoadedModel {
 public:
  CoreMLModel(MLModel* model, ComputeUnits units, LoadTimings timings)
      : model_(model), units_(units), timings_(timings) {}

  Result<Tensors> Predict(const Tensors& inputs) override {
    @autoreleasepool {
      NSMutableDictionary<NSString*, MLFeatureValue*>* features = [NSMutableDictionary dictionary];
      for (const Tensor& t : inputs) {
        ANEPILOT_ASSIGN_OR_RETURN(MLMultiArray * array, ToMultiArray(t));
        features[ToNSString(t.name)] = [MLFeatureValue featureValueWithMultiArray:array];
      }
      NSError* error = nil;
      MLDictionaryFeatureProvider* provider = [[MLDictionaryFeatureProvider alloc] initWithDictionary:features
                                                                                                error:&error];
      if (provider == nil) return InvalidArgument("inputs: " + Describe(error));
      id<MLFeatureProvider> result = [model_ predictionFromFeatures:provider error:&error];
      if (result == nil) return Internal("Core ML prediction failed: " + Describe(error));
      Tensors out;
      for (NSString* name in result.featureNames) {
        MLFeatureValue* value = [result featureValueForName:name];
        if (value.type != MLFeatureTypeMultiArray) {
          return Unsupported("output '" + std::string(name.UTF8String) +
                             "' is not a multi-array; this backend returns tensors only");
        }
        ANEPILOT_ASSIGN_OR_RETURN(Tensor t, ToTensor(name.UTF8String, value.multiArrayValue));
        out.push_back(std::move(t));
      }
      return out;
    }
  }

  ComputeUnits units() const override { return units_; }
  const LoadTimings& load_timings() const override { return timings_; }

 private:
  MLModel* model_;  // strong (ARC)
  ComputeUnits units_;
  LoadTimings timings_;
};

NSString* DeviceName(id<MLComputeDeviceProtocol> device) API_AVAILABLE(ios(17.0), macos(14.0)) {
  if (device == nil) return @"none";
  if ([device isKindOfClass:[MLNeuralEngineComputeDevice class]]) return @"neural_engine";
  if ([device isKindOfClass:[MLGPUComputeDevice class]]) return @"gpu";
  if ([device isKindOfClass:[MLCPUComputeDevice class]]) return @"cpu";
  return @"unknown";
}

// JSON text: {"operations": [{"function", "type", "preferred", "supported", "cost"}]}
// for ML Programs, {"layers": [{"name", "type", "preferred", "supported"}]} for
// neural networks. Empty string when the plan cannot be loaded.
std::string ComputePlanJson(NSURL* url, MLModelConfiguration* config) API_AVAILABLE(ios(17.4), macos(14.4)) {
  __block MLComputePlan* plan = nil;
  dispatch_semaphore_t done = dispatch_semaphore_create(0);
  [MLComputePlan loadContentsOfURL:url
                     configuration:config
                 completionHandler:^(MLComputePlan* loaded, NSError* error) {
                   plan = loaded;
                   dispatch_semaphore_signal(done);
                 }];
  dispatch_semaphore_wait(done, DISPATCH_TIME_FOREVER);
  if (plan == nil) return "";
  NSMutableDictionary* root = [NSMutableDictionary dictionary];
  auto supported = [](MLComputePlanDeviceUsage* usage) {
    NSMutableArray* names = [NSMutableArray array];
    for (id<MLComputeDeviceProtocol> d in usage.supportedComputeDevices) [names addObject:DeviceName(d)];
    return names;
  };
  if (MLModelStructureProgram* program = plan.modelStructure.program) {
    NSMutableArray* ops = [NSMutableArray array];
    for (NSString* fn in program.functions) {
      for (MLModelStructureProgramOperation* op in program.functions[fn].block.operations) {
        MLComputePlanDeviceUsage* usage = [plan computeDeviceUsageForMLProgramOperation:op];
        MLComputePlanCost* cost = [plan estimatedCostOfMLProgramOperation:op];
        if (usage == nil) continue;  // constants run nowhere
        [ops addObject:@{
          @"function" : fn,
          @"type" : op.operatorName ?: @"",
          @"output" : op.outputs.count > 0 ? op.outputs[0].name : @"",
          @"preferred" : DeviceName(usage.preferredComputeDevice),
          @"supported" : supported(usage),
          @"cost" : @(cost != nil ? cost.weight : 0.0),
        }];
      }
    }
    root[@"operations"] = ops;
  } else if (MLModelStructureNeuralNetwork* nn = plan.modelStructure.neuralNetwork) {
    NSMutableArray* layers = [NSMutableArray array];
    for (MLModelStructureNeuralNetworkLayer* layer in nn.layers) {
      MLComputePlanDeviceUsage* usage = [plan computeDeviceUsageForNeuralNetworkLayer:layer];
      if (usage == nil) continue;
      [layers addObject:@{
        @"name" : layer.name ?: @"",
        @"type" : layer.type ?: @"",
        @"preferred" : DeviceName(usage.preferredComputeDevice),
        @"supported" : supported(usage),
      }];
    }
    root[@"layers"] = layers;
  }
  NSData* json = [NSJSONSerialization dataWithJSONObject:root options:NSJSONWritingSortedKeys error:nil];
  if (json == nil) return "";
  return std::string(static_cast<const char*>(json.bytes), json.length);
}

class CoreMLBackend final : public Backend {
 public:
  explicit CoreMLBackend(CoreMLBackendOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "coreml"; }

  Result<std::string> Compile(const std::string& source_path, const std::string& output_dir) override {
    @autoreleasepool {
      NSFileManager* fm = [NSFileManager defaultManager];
      if (![fm fileExistsAtPath:ToNSString(source_path)]) return NotFound(source_path + ": model not found");
      if ([fm fileExistsAtPath:ToNSString(output_dir)]) {
        return InvalidArgument(output_dir + ": compile output directory already exists");
      }
      NSError* error = nil;
      NSURL* compiled = [MLModel compileModelAtURL:[NSURL fileURLWithPath:ToNSString(source_path)] error:&error];
      if (compiled == nil) return CorruptModel(source_path + ": Core ML could not compile it: " + Describe(error));
      NSURL* dir = [NSURL fileURLWithPath:ToNSString(output_dir) isDirectory:YES];
      if (![fm createDirectoryAtURL:dir withIntermediateDirectories:YES attributes:nil error:&error]) {
        return IoError(output_dir + ": " + Describe(error));
      }
      NSString* stem = [[ToNSString(source_path) lastPathComponent] stringByDeletingPathExtension];
      NSURL* target = [dir URLByAppendingPathComponent:[stem stringByAppendingPathExtension:@"mlmodelc"]];
      // compileModelAtURL writes into a temporary directory the system may
      // clean at any time: move the result out at once.
      if (![fm moveItemAtURL:compiled toURL:target error:&error]) {
        return IoError(std::string(target.path.UTF8String) + ": cannot move the compiled model: " + Describe(error));
      }
      return std::string(target.path.UTF8String);
    }
  }

  Result<std::unique_ptr<LoadedModel>> Load(const LoadRequest& request) override {
    @autoreleasepool {
      ANEPILOT_ASSIGN_OR_RETURN(MLComputeUnits units, ToMLComputeUnits(request.units));
      NSURL* url = [NSURL fileURLWithPath:ToNSString(request.compiled_model_path) isDirectory:YES];
      if (![[NSFileManager defaultManager] fileExistsAtPath:url.path]) {
        return NotFound(request.compiled_model_path + ": compiled model not found");
      }
      MLModelConfiguration* config = [[MLModelConfiguration alloc] init];
      config.computeUnits = units;

      __block MLModel* model = nil;
      __block NSError* load_error = nil;
      dispatch_semaphore_t done = dispatch_semaphore_create(0);
      const auto start = std::chrono::steady_clock::now();
      // The asynchronous loader: Core ML specializes off the caller's queue;
      // this thread (the runtime's background loader, or Open's caller) waits.
      [MLModel loadContentsOfURL:url
                   configuration:config
               completionHandler:^(MLModel* loaded, NSError* error) {
                 model = loaded;
                 load_error = error;
                 dispatch_semaphore_signal(done);
               }];
      dispatch_semaphore_wait(done, DISPATCH_TIME_FOREVER);
      LoadTimings timings;
      timings.load_duration = std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now() - start);
      timings.cold = ToMillis(timings.load_duration) >= options_.cold_load_threshold_ms;
      if (model == nil) {
        return Internal(request.compiled_model_path + ": Core ML load with " +
                        std::string(ComputeUnitsName(request.units)) + " failed: " + Describe(load_error));
      }
      if (options_.compute_plan_sink) {
        if (@available(iOS 17.4, macOS 14.4, tvOS 17.4, watchOS 10.4, *)) {
          std::string plan = ComputePlanJson(url, config);
          if (!plan.empty()) options_.compute_plan_sink(request.compiled_model_path, plan);
        }
      }
      return std::unique_ptr<LoadedModel>(new CoreMLModel(model, request.units, timings));
    }
  }

 private:
  CoreMLBackendOptions options_;
};

}  // namespace

bool CoreMLAvailable() { return true; }

Result<std::unique_ptr<Backend>> MakeCoreMLBackend(const CoreMLBackendOptions& options) {
  return std::unique_ptr<Backend>(new CoreMLBackend(options));
}

}  // namespace anepilot::runtime
