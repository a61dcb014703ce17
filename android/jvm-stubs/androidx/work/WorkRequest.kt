// COMPILE-ONLY STUB of an androidx.work (WorkManager) class, so that `cargo xtask test` can
// compile the Kotlin shell (android/citizen-sdk/src/main/kotlin) on the desktop JVM, where the
// AndroidX artifacts are not available. Never shipped: Gradle does not see this folder and uses
// the real `androidx.work:work-runtime-ktx` (android/citizen-sdk/build.gradle.kts). Members that
// would do real work throw, so no test can come to depend on them. Only what the shell uses is
// declared, with the real signatures (a Java getter appears as a Kotlin property).
package androidx.work

import java.util.concurrent.TimeUnit

abstract class WorkRequest {
    /** Real API: `WorkRequest.Builder<B : Builder<B, *>, W : WorkRequest>`, setters return B. */
    abstract class Builder<B : Builder<B, *>, W : WorkRequest> {
        fun setConstraints(constraints: Constraints): B = stub()

        fun setInitialDelay(duration: Long, timeUnit: TimeUnit): B = stub()

        fun setBackoffCriteria(backoffPolicy: BackoffPolicy, backoffDelay: Long, timeUnit: TimeUnit): B = stub()

        fun addTag(tag: String): B = stub()

        fun build(): W = stub()
    }
}

class OneTimeWorkRequest private constructor() : WorkRequest() {
    class Builder(workerClass: Class<out ListenableWorker>) : WorkRequest.Builder<Builder, OneTimeWorkRequest>()
}

class PeriodicWorkRequest private constructor() : WorkRequest() {
    class Builder(
        workerClass: Class<out ListenableWorker>,
        repeatInterval: Long,
        repeatIntervalTimeUnit: TimeUnit,
    ) : WorkRequest.Builder<Builder, PeriodicWorkRequest>()
}

private fun stub(): Nothing = throw UnsupportedOperationException("compile-only stub of androidx.work.WorkRequest")
