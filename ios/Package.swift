// swift-tools-version:5.9
// The Citizen SDK for iOS as a Swift package.
//
// Owns: the package layout. `CitizenSDKFFI` is the Rust library (static, one slice per device and
// simulator architecture) with its C header and module map, built by `ios/build-xcframework.sh`
// into ios/build/ (gitignored). `CitizenSDK` is the uniffi-generated Swift
// (Sources/CitizenSDK/Generated, from `cargo xtask bindings`) plus the hand-written shell
// (Sources/CitizenSDK/Shell) and the privacy manifest (Sources/CitizenSDK/PrivacyInfo.xcprivacy).
// Run the script before building the package or opening it in Xcode.
//
// Tools version 5.9 keeps the Swift 5 language mode: the generated code is checked by uniffi for
// Swift 5 and 6, the shell is written for 5.
import PackageDescription

let package = Package(
    name: "CitizenSDK",
    platforms: [
        // os.Logger (OSLogSink) needs iOS 14; 15 is the oldest iOS the SDK supports.
        .iOS(.v15),
    ],
    products: [
        .library(name: "CitizenSDK", targets: ["CitizenSDK"]),
    ],
    targets: [
        .binaryTarget(
            name: "CitizenSDKFFI",
            path: "build/CitizenSDKFFI.xcframework"
        ),
        .target(
            name: "CitizenSDK",
            dependencies: ["CitizenSDKFFI"],
            path: "Sources/CitizenSDK",
            // The privacy manifest (no tracking, no collected data, the required-reason APIs the
            // Rust library calls). `.copy` keeps the file as is at the bundle's top level, where
            // Xcode's privacy report looks for it; `cargo xtask test` (ios-privacy) checks it.
            resources: [.copy("PrivacyInfo.xcprivacy")]
        ),
    ]
)
