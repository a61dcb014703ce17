// COMPILE-ONLY STUB of an androidx.work (WorkManager) class, so that `cargo xtask test` can
// compile the Kotlin shell (android/citizen-sdk/src/main/kotlin) on the desktop JVM, where the
// AndroidX artifacts are not available. Never shipped: Gradle does not see this folder and uses
// the real `androidx.work:work-runtime-ktx` (android/citizen-sdk/build.gradle.kts). Members that
// would do real work throw, so no test can come to depend on them. Only what the shell uses is
// declared, with the real signatures (a Java getter appears as a Kotlin property).
package androidx.work

import android.content.Context

abstract class ListenableWorker(appContext: Context, workerParams: WorkerParameters) {
    /** Real API: `Context getApplicationContext()`. */
    val applicationContext: Context get() = stub()

    /** Real API: `Set<String> getTags()`, the tags of the request that started this run. */
    val tags: Set<String> get() = stub()

    /** Real API: `int getRunAttemptCount()`, 0 on the first run, +1 on each retry. */
    val runAttemptCount: Int get() = stub()

    /** Real API: the abstract class `ListenableWorker.Result` and its static factories. */
    abstract class Result {
        companion object {
            @JvmStatic fun success(): Result = stub()

            @JvmStatic fun retry(): Result = stub()

            @JvmStatic fun failure(): Result = stub()
        }
    }
}

private fun stub(): Nothing = throw UnsupportedOperationException("compile-only stub of androidx.work.ListenableWorker")
