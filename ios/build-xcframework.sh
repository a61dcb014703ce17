#!/usr/bin/env bash
# Builds ios/build/CitizenSDKFFI.xcframework, the Rust half of the CitizenSDK Swift package.
#
# Owns: the Apple-platform Rust build (device + both simulator architectures), merging the
# simulator slices, and packaging them with the generated C header and module map. Does not own the
# bindings (`cargo xtask bindings` writes them; this script calls it first) nor the Swift package
# (ios/Package.swift).
#
# Runs on macOS with Xcode and rustup. Once per machine:
#   rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios
# Then, from anywhere:
#   ios/build-xcframework.sh            # release build (what apps ship)
#   PROFILE=dev ios/build-xcframework.sh  # faster, unoptimised
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PROFILE="${PROFILE:-release}"
# cargo writes the "dev" profile to target/<triple>/debug.
if [[ "$PROFILE" == "dev" ]]; then PROFILE_DIR=debug; else PROFILE_DIR="$PROFILE"; fi
LIB=libcitizen_ffi.a
BUILD="$ROOT/ios/build"
export IPHONEOS_DEPLOYMENT_TARGET=15.0

if [[ "$(uname)" != "Darwin" ]] || ! command -v xcodebuild >/dev/null; then
  echo "build-xcframework.sh needs macOS with Xcode (xcodebuild, lipo)." >&2
  exit 1
fi

echo "== bindings (host build + uniffi-bindgen)"
cargo xtask bindings

echo "== Rust static libraries ($PROFILE)"
for target in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
  cargo build --locked -p citizen-ffi --profile "$PROFILE" --target "$target"
done

rm -rf "$BUILD/CitizenSDKFFI.xcframework" "$BUILD/staging"
mkdir -p "$BUILD/staging/simulator" "$BUILD/staging/headers/CitizenSDKFFI"

echo "== one simulator library for both architectures"
lipo -create \
  "target/aarch64-apple-ios-sim/$PROFILE_DIR/$LIB" \
  "target/x86_64-apple-ios/$PROFILE_DIR/$LIB" \
  -output "$BUILD/staging/simulator/$LIB"

# The header and module map go into a folder named after the module, not at the top of Headers/:
# Xcode copies every xcframework's Headers/ into one include folder, so two xcframeworks with a
# top-level module.modulemap (any two uniffi libraries) collide. Clang still finds
# <include>/CitizenSDKFFI/module.modulemap when Swift imports CitizenSDKFFI.
cp "$ROOT/ios/Sources/CitizenSDKFFI/include/CitizenSDKFFI.h" \
   "$ROOT/ios/Sources/CitizenSDKFFI/include/module.modulemap" \
   "$BUILD/staging/headers/CitizenSDKFFI/"

echo "== xcframework"
xcodebuild -create-xcframework \
  -library "target/aarch64-apple-ios/$PROFILE_DIR/$LIB" -headers "$BUILD/staging/headers" \
  -library "$BUILD/staging/simulator/$LIB" -headers "$BUILD/staging/headers" \
  -output "$BUILD/CitizenSDKFFI.xcframework"

rm -rf "$BUILD/staging"
echo "built $BUILD/CitizenSDKFFI.xcframework"
