// COMPILE-ONLY STUB of an Android API class, so that `cargo xtask test` can compile the Kotlin
// shell (android/citizen-sdk/src/main/kotlin) on the desktop JVM, where there is no android.jar.
// Never shipped: Gradle does not see this folder, and on a device the real class is used. Members
// that would do real work throw, so no test can come to depend on them; constants and exception
// types are plain copies. Only what the shell uses is declared, with the real signatures (a Java
// getter appears as a Kotlin property, as Kotlin shows it for the real class).
package android.net

class ConnectivityManager private constructor() {
    /** Real API (API 24): `void registerDefaultNetworkCallback(NetworkCallback)`. */
    fun registerDefaultNetworkCallback(networkCallback: NetworkCallback): Unit = stub()

    /** Real API: `void unregisterNetworkCallback(NetworkCallback)`. */
    fun unregisterNetworkCallback(networkCallback: NetworkCallback): Unit = stub()

    /** Real API: a class whose callbacks do nothing until overridden. */
    open class NetworkCallback {
        open fun onAvailable(network: Network) {}

        open fun onLost(network: Network) {}

        open fun onCapabilitiesChanged(network: Network, networkCapabilities: NetworkCapabilities) {}
    }
}

private fun stub(): Nothing = throw UnsupportedOperationException("compile-only stub of android.net.ConnectivityManager")
