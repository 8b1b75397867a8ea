// swift-tools-version:5.9
// AnepilotRuntime: the anepilot on-device runtime for Swift apps.
//
// Builds only on Apple platforms (iOS 15+, macOS 12+): it links Core ML. The C
// and C++ core is built by CMake into AnepilotRuntime.xcframework first (see
// docs/runtime.md, "Swift package"); this manifest wraps that binary and adds a
// small Swift layer over the C API (include/anepilot/runtime.h).
import PackageDescription

let package = Package(
    name: "AnepilotRuntime",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "AnepilotRuntime", targets: ["AnepilotRuntime"]),
    ],
    targets: [
        // The static library + C headers + module map "CAnepilotRuntime".
        .binaryTarget(name: "CAnepilotRuntime", path: "build-apple/AnepilotRuntime.xcframework"),
        .target(
            name: "AnepilotRuntime",
            dependencies: ["CAnepilotRuntime"],
            path: "swift/Sources/AnepilotRuntime",
            linkerSettings: [
                .linkedFramework("CoreML"),
                .linkedFramework("Foundation"),
                .linkedLibrary("c++"),
            ]
        ),
    ],
    cxxLanguageStandard: .cxx20
)
