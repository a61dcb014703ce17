// COMPILE-ONLY STUB of an Android API class, so that `cargo xtask test` can compile the Kotlin
// shell (android/citizen-sdk/src/main/kotlin) on the desktop JVM, where there is no android.jar.
// Never shipped: Gradle does not see this folder, and on a device the real class is used. Members
// that would do real work throw, so no test can come to depend on them; constants and exception
// types are plain copies. Only what the shell uses is declared, with the real signatures (a Java
// getter appears as a Kotlin property, as Kotlin shows it for the real class).
package android.content

abstract class Context {
    /** Real API: `File getNoBackupFilesDir()`. */
    abstract val noBackupFilesDir: java.io.File

    /** Real API: `Context getApplicationContext()`. */
    abstract val applicationContext: Context

    /** Real API: `final <T> T getSystemService(Class<T> serviceClass)`, null when there is none. */
    fun <T> getSystemService(serviceClass: Class<T>): T? = stub()
}

private fun stub(): Nothing = throw UnsupportedOperationException("compile-only stub of android.content.Context")
