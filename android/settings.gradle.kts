// The Android library build of the Citizen SDK: one module, `:citizen-sdk`.
//
// Owns: where Gradle finds plugins and libraries. Does not own the Rust build (cargo, through the
// tasks in citizen-sdk/build.gradle.kts) nor the generated bindings (`cargo xtask bindings`).
// See docs/platforms.md for the commands.

pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    // Modules may not add their own repositories: every dependency comes from these two.
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "citizen-sdk-android"
include(":citizen-sdk")
