// Plugin versions for the whole Android build, in one place. Modules apply them without versions.
//
// The Kotlin version matches the kotlinc that `cargo xtask test` compiles the same sources with on
// the desktop JVM, so what CI compiles is what Gradle compiles.

plugins {
    id("com.android.library") version "8.7.3" apply false
    id("org.jetbrains.kotlin.android") version "2.4.20" apply false
}
