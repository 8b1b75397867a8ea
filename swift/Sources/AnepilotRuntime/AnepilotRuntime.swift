// Swift layer over the anepilot C API: errors become thrown AnepilotError,
// handles free themselves. Apple platforms only (see Package.swift).
import CAnepilotRuntime
import Foundation

public struct AnepilotError: Error, CustomStringConvertible {
    public let status: anepilot_status
    public let message: String
    public var description: String { "\(String(cString: anepilot_status_name(status))): \(message)" }

    static func check(_ status: anepilot_status) throws {
        if status != ANEPILOT_OK {
            throw AnepilotError(status: status, message: String(cString: anepilot_last_error_message()))
        }
    }
}

public enum ComputeUnits: Int32 {
    case cpuOnly = 0, cpuAndGPU = 1, cpuAndNeuralEngine = 2, all = 3
}

public struct RuntimeConfiguration {
    public var deviceIdentifier: String       // e.g. from sysctlbyname("hw.machine")
    public var osVersion: String              // ProcessInfo.processInfo.operatingSystemVersion
    public var osBuild: String                // sysctlbyname("kern.osversion")
    public var appVersion: String             // CFBundleShortVersionString (CFBundleVersion)
    public var stateDirectory: URL            // e.g. Application Support/anepilot
    public var policyURL: URL?
    public var chip: String?
    public var swapEnabled = true
    public var previousExit: anepilot_exit_reason = ANEPILOT_EXIT_UNKNOWN

    public init(deviceIdentifier: String, osVersion: String, osBuild: String, appVersion: String,
                stateDirectory: URL, policyURL: URL? = nil) {
        self.deviceIdentifier = deviceIdentifier
        self.osVersion = osVersion
        self.osBuild = osBuild
        self.appVersion = appVersion
        self.stateDirectory = stateDirectory
        self.policyURL = policyURL
    }
}

public final class Tensor {
    public let name: String
    public let shape: [Int64]
    public let values: [Float]
    public init(name: String, shape: [Int64], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

public final class Model: @unchecked Sendable {  // the C API is thread-safe
    let handle: OpaquePointer

    init(handle: OpaquePointer) { self.handle = handle }
    deinit { anepilot_model_release(handle) }

    public var currentUnits: ComputeUnits {
        ComputeUnits(rawValue: Int32(anepilot_model_current_units(handle).rawValue)) ?? .cpuOnly
    }

    public func predict(_ inputs: [Tensor]) throws -> [Tensor] {
        // C copies of every input, alive for the duration of the call.
        var raw = [anepilot_tensor]()
        var owned = [UnsafeMutableRawPointer]()
        defer { owned.forEach { free($0) } }
        for input in inputs {
            let name = strdup(input.name)!
            let shape = malloc(max(1, input.shape.count) * MemoryLayout<Int64>.stride)!
                .bindMemory(to: Int64.self, capacity: max(1, input.shape.count))
            shape.initialize(from: input.shape, count: input.shape.count)
            let data = malloc(max(1, input.values.count) * MemoryLayout<Float>.stride)!
                .bindMemory(to: Float.self, capacity: max(1, input.values.count))
            data.initialize(from: input.values, count: input.values.count)
            owned.append(UnsafeMutableRawPointer(name))
            owned.append(UnsafeMutableRawPointer(shape))
            owned.append(UnsafeMutableRawPointer(data))
            raw.append(anepilot_tensor(name: name, shape: shape, rank: input.shape.count,
                                       data: data, count: input.values.count))
        }
        var out: OpaquePointer?
        try AnepilotError.check(anepilot_model_predict(handle, raw, raw.count, &out))
        guard let outputs = out else { return [] }
        defer { anepilot_outputs_release(outputs) }
        var result = [Tensor]()
        for i in 0..<anepilot_outputs_count(outputs) {
            var t = anepilot_tensor()
            try AnepilotError.check(anepilot_outputs_get(outputs, i, &t))
            result.append(Tensor(name: String(cString: t.name),
                                 shape: Array(UnsafeBufferPointer(start: t.shape, count: t.rank)),
                                 values: Array(UnsafeBufferPointer(start: t.data, count: t.count))))
        }
        return result
    }
}

public final class Runtime: @unchecked Sendable {
    let handle: OpaquePointer

    public init(_ configuration: RuntimeConfiguration) throws {
        var config = anepilot_runtime_config()
        anepilot_runtime_config_init(&config)
        var handle: OpaquePointer?
        let status: anepilot_status = configuration.deviceIdentifier.withCString { device in
            configuration.osVersion.withCString { osVersion in
                configuration.osBuild.withCString { osBuild in
                    configuration.appVersion.withCString { app in
                        configuration.stateDirectory.path.withCString { state in
                            (configuration.policyURL?.path ?? "").withCString { policy in
                                (configuration.chip ?? "").withCString { chip in
                                    config.device_identifier = device
                                    config.os_version = osVersion
                                    config.os_build = osBuild
                                    config.app_version = app
                                    config.state_dir = state
                                    config.policy_path = configuration.policyURL == nil ? nil : policy
                                    config.chip = configuration.chip == nil ? nil : chip
                                    config.backend = ANEPILOT_BACKEND_COREML
                                    config.swap_enabled = configuration.swapEnabled ? 1 : 0
                                    config.last_exit_reason = configuration.previousExit
                                    return anepilot_runtime_create(&config, &handle)
                                }
                            }
                        }
                    }
                }
            }
        }
        try AnepilotError.check(status)
        self.handle = handle!
    }

    deinit { anepilot_runtime_destroy(handle) }

    /// nil when the policy loaded; else why the safe default is in use.
    public var policyProblem: String? {
        anepilot_runtime_policy_problem(handle).map { String(cString: $0) }
    }

    /// Loads a model; returns once the first configuration can serve.
    public func load(_ url: URL) throws -> Model {
        var model: OpaquePointer?
        try AnepilotError.check(anepilot_model_load(handle, url.path, &model))
        return Model(handle: model!)
    }
}
