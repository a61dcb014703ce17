// The `:citizen-sdk` Android library (AAR): the uniffi-generated Kotlin bindings, the Kotlin shell
// (Keystore sealer, logcat sink, opener, background sync) and `libcitizen_ffi.so` for each ABI.
//
// Owns: how the AAR is put together. Does not own the bindings' content (`cargo xtask bindings`
// writes them to build/generated/uniffi) nor the Rust build (cargo-ndk, called from here).
// Commands and prerequisites: docs/platforms.md.

import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

val repoRoot: File = rootDir.parentFile

android {
    namespace = "org.citizen.sdk"
    compileSdk = 35

    defaultConfig {
        minSdk = 26
        consumerProguardFiles("consumer-rules.pro")
        // src/androidTest: the Keystore key store on a device (connectedDebugAndroidTest).
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
    }

    sourceSets {
        getByName("main") {
            kotlin.srcDir("build/generated/uniffi")
            // Filled by the cargoNdkBuild task below; gitignored.
            jniLibs.srcDir("src/main/jniLibs")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    testOptions {
        unitTests.all {
            // Unit tests run on the developer's JVM, so they load the HOST build of the Rust
            // library (from `cargo xtask bindings`), not the Android .so files in jniLibs.
            it.systemProperty("jna.library.path", repoRoot.resolve("target/debug").absolutePath)
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

dependencies {
    // uniffi's Kotlin calls Rust through JNA; the @aar variant carries libjnidispatch.so per ABI.
    implementation("net.java.dev.jna:jna:5.13.0@aar")
    // The generated suspend functions (pingPortal, rotateStoreKey, wipe) need coroutines.
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.8.1")
    // Background sync (CitizenSyncWorker is a CoroutineWorker). The newest stable release known
    // when this was added; not yet resolved by a Gradle build (none on the CI machine). The JVM
    // tests compile against stubs of the classes the shell calls (android/jvm-stubs/androidx/work).
    implementation("androidx.work:work-runtime-ktx:2.11.1")

    // Unit tests run on the desktop JVM: the plain jar carries the desktop libjnidispatch.
    testImplementation("net.java.dev.jna:jna:5.13.0")
    testImplementation("junit:junit:4.13.2")

    // Instrumented tests run on a device, against the real Android Keystore.
    androidTestImplementation("androidx.test:runner:1.6.2")
    androidTestImplementation("junit:junit:4.13.2")
}

val generateUniffiBindings by tasks.registering(Exec::class) {
    group = "citizen"
    description = "Builds the host Rust library and generates the Kotlin bindings (cargo xtask bindings)."
    workingDir = repoRoot
    commandLine("cargo", "xtask", "bindings")
}

val cargoNdkBuild by tasks.registering(Exec::class) {
    group = "citizen"
    description = "Builds libcitizen_ffi.so for each ABI into src/main/jniLibs (needs cargo-ndk and the NDK)."
    workingDir = repoRoot
    commandLine(
        "cargo", "ndk",
        "--platform", "26",
        "-t", "arm64-v8a",
        "-t", "armeabi-v7a",
        "-t", "x86_64",
        "-o", projectDir.resolve("src/main/jniLibs").absolutePath,
        "build", "--release", "-p", "citizen-ffi",
    )
}

tasks.named("preBuild") {
    dependsOn(generateUniffiBindings)
    if (providers.gradleProperty("citizen.skipCargoNdk").orNull != "true") {
        dependsOn(cargoNdkBuild)
    }
}
