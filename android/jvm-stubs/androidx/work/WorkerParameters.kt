// COMPILE-ONLY STUB of an androidx.work (WorkManager) class, so that `cargo xtask test` can
// compile the Kotlin shell (android/citizen-sdk/src/main/kotlin) on the desktop JVM, where the
// AndroidX artifacts are not available. Never shipped: Gradle does not see this folder and uses
// the real `androidx.work:work-runtime-ktx` (android/citizen-sdk/build.gradle.kts). Members that
// would do real work throw, so no test can come to depend on them. Only what the shell uses is
// declared, with the real signatures (a Java getter appears as a Kotlin property).
package androidx.work

/** Real API: what WorkManager hands a worker's constructor; the shell only passes it on. */
class WorkerParameters private constructor()
