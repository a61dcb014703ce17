// COMPILE-ONLY STUB of an Android API class, so that `cargo xtask test` can compile the Kotlin
// shell (android/citizen-sdk/src/main/kotlin) on the desktop JVM, where there is no android.jar.
// Never shipped: Gradle does not see this folder, and on a device the real class is used. Members
// that would do real work throw, so no test can come to depend on them; constants and exception
// types are plain copies. Only what the shell uses is declared, with the real signatures (a Java
// getter appears as a Kotlin property, as Kotlin shows it for the real class).
package android.security.keystore

/** Where a Keystore key lives; from `SecretKeyFactory.getKeySpec(key, KeyInfo::class.java)`. */
class KeyInfo private constructor() : java.security.spec.KeySpec {
    /** Real API: `boolean isInsideSecureHardware()`, deprecated in API 31 for getSecurityLevel. */
    @Deprecated("use securityLevel from API 31")
    val isInsideSecureHardware: Boolean get() = stub()

    /** Real API (31+): `int getSecurityLevel()`, one of KeyProperties.SECURITY_LEVEL_*. */
    val securityLevel: Int get() = stub()
}

private fun stub(): Nothing =
    throw UnsupportedOperationException("compile-only stub of android.security.keystore.KeyInfo")
