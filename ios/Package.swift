// swift-tools-version:5.9
// The rider SDK for Swift: the generated UniFFI bindings (ChauffeurSDK, over the Rust library's C
// interface) and ChauffeurKit, the Swift layer an app uses. The generated targets live in
// Generated/ (never committed): scripts/swift-test.sh fills it on Linux, ios/build-xcframework.sh
// on a Mac. When Generated/ChauffeurRust.xcframework exists (the Mac build), the Rust library
// comes from it; otherwise from libchauffeur_ffi.so found by the linker (-L, as
// scripts/swift-test.sh passes).
import Foundation
import PackageDescription

let xcframework = "Generated/ChauffeurRust.xcframework"
let hasXCFramework = FileManager.default.fileExists(
  atPath: Context.packageDirectory + "/" + xcframework
)

let rustTargets: [Target] =
  hasXCFramework
  ? [.binaryTarget(name: "ChauffeurRust", path: xcframework)]
  : [
    .target(
      name: "ChauffeurFFI",
      path: "Generated/ChauffeurFFI",
      linkerSettings: [.linkedLibrary("chauffeur_ffi")]
    ),
    .target(name: "ChauffeurCoreFFI", path: "Generated/ChauffeurCoreFFI"),
  ]
let rustDependencies: [Target.Dependency] =
  hasXCFramework ? ["ChauffeurRust"] : ["ChauffeurFFI", "ChauffeurCoreFFI"]

let package = Package(
  name: "Chauffeur",
  platforms: [.iOS(.v17), .macOS(.v14)],
  products: [
    .library(name: "ChauffeurKit", targets: ["ChauffeurKit"])
  ],
  targets: rustTargets + [
    .target(name: "ChauffeurSDK", dependencies: rustDependencies, path: "Generated/ChauffeurSDK"),
    .target(name: "ChauffeurKit", dependencies: ["ChauffeurSDK"]),
    .testTarget(name: "ChauffeurKitTests", dependencies: ["ChauffeurKit"]),
    .executableTarget(name: "ChauffeurBench", dependencies: ["ChauffeurKit"], path: "Bench"),
  ]
)
