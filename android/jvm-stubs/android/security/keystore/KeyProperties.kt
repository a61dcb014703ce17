// COMPILE-ONLY STUB of an Android API class, so that `cargo xtask test` can compile the Kotlin
// shell (android/citizen-sdk/src/main/kotlin) on the desktop JVM, where there is no android.jar.
// Never shipped: Gradle does not see this folder, and on a device the real class is used. Members
// that would do real work throw, so no test can come to depend on them; constants and exception
// types are plain copies. Only what the shell uses is declared, with the real signatures (a Java
// getter appears as a Kotlin property, as Kotlin shows it for the real class).
package android.security.keystore

object KeyProperties {
    const val PURPOSE_ENCRYPT: Int = 1
    const val PURPOSE_DECRYPT: Int = 2
    const val PURPOSE_SIGN: Int = 4
    const val KEY_ALGORITHM_AES: String = "AES"
    const val KEY_ALGORITHM_EC: String = "EC"
    const val DIGEST_SHA256: String = "SHA-256"
    const val BLOCK_MODE_GCM: String = "GCM"
    const val ENCRYPTION_PADDING_NONE: String = "NoPadding"

    // KeyInfo.getSecurityLevel() values (API 31).
    const val SECURITY_LEVEL_UNKNOWN: Int = -2
    const val SECURITY_LEVEL_UNKNOWN_SECURE: Int = -1
    const val SECURITY_LEVEL_SOFTWARE: Int = 0
    const val SECURITY_LEVEL_TRUSTED_ENVIRONMENT: Int = 1
    const val SECURITY_LEVEL_STRONGBOX: Int = 2
}
