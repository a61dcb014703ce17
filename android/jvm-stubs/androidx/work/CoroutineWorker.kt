// COMPILE-ONLY STUB of an androidx.work (WorkManager) class, so that `cargo xtask test` can
// compile the Kotlin shell (android/citizen-sdk/src/main/kotlin) on the desktop JVM, where the
// AndroidX artifacts are not available. Never shipped: Gradle does not see this folder and uses
// the real `androidx.work:work-runtime-ktx` (android/citizen-sdk/build.gradle.kts). Members that
// would do real work throw, so no test can come to depend on them. Only what the shell uses is
// declared, with the real signatures (a Java getter appears as a Kotlin property).
package androidx.work

import android.content.Context

/** Real API (work-runtime-ktx): a worker whose `doWork` is a suspend function. */
abstract class CoroutineWorker(appContext: Context, params: WorkerParameters) :
    ListenableWorker(appContext, params) {
    abstract suspend fun doWork(): Result
}
