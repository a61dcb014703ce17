// COMPILE-ONLY STUB of an Android API class, so that `cargo xtask test` can compile the Kotlin
// shell (android/citizen-sdk/src/main/kotlin) on the desktop JVM, where there is no android.jar.
// Never shipped: Gradle does not see this folder, and on a device the real class is used. Members
// that would do real work throw, so no test can come to depend on them; constants and exception
// types are plain copies. Only what the shell uses is declared, with the real signatures (a Java
// getter appears as a Kotlin property, as Kotlin shows it for the real class).
package android.net

class NetworkCapabilities private constructor() {
    /** Real API: `boolean hasCapability(int capability)`. */
    fun hasCapability(capability: Int): Boolean = stub()

    companion object {
        /** The network reaches the internet (not only a local network). */
        const val NET_CAPABILITY_INTERNET: Int = 12

        /** The system checked that the network really reaches the internet (no captive portal). */
        const val NET_CAPABILITY_VALIDATED: Int = 16
    }
}

private fun stub(): Nothing = throw UnsupportedOperationException("compile-only stub of android.net.NetworkCapabilities")
