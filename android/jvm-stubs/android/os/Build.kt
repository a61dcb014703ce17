// COMPILE-ONLY STUB of an Android API class, so that `cargo xtask test` can compile the Kotlin
// shell (android/citizen-sdk/src/main/kotlin) on the desktop JVM, where there is no android.jar.
// Never shipped: Gradle does not see this folder, and on a device the real class is used. Members
// that would do real work throw, so no test can come to depend on them; constants and exception
// types are plain copies. Only what the shell uses is declared, with the real signatures (a Java
// getter appears as a Kotlin property, as Kotlin shows it for the real class).
package android.os

object Build {
    object VERSION {
        /** Real API: `public static final int SDK_INT`, the running device's API level. */
        @JvmStatic val SDK_INT: Int get() = stub()
    }

    object VERSION_CODES {
        /** Android 9: StrongBox (KeyGenParameterSpec.Builder.setIsStrongBoxBacked). */
        const val P: Int = 28

        /** Android 12. */
        const val S: Int = 31
    }
}

private fun stub(): Nothing = throw UnsupportedOperationException("compile-only stub of android.os.Build")
