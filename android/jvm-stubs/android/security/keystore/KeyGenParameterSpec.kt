// COMPILE-ONLY STUB of an Android API class, so that `cargo xtask test` can compile the Kotlin
// shell (android/citizen-sdk/src/main/kotlin) on the desktop JVM, where there is no android.jar.
// Never shipped: Gradle does not see this folder, and on a device the real class is used. Members
// that would do real work throw, so no test can come to depend on them; constants and exception
// types are plain copies. Only what the shell uses is declared, with the real signatures (a Java
// getter appears as a Kotlin property, as Kotlin shows it for the real class).
package android.security.keystore

class KeyGenParameterSpec private constructor() : java.security.spec.AlgorithmParameterSpec {
    @Suppress("UNUSED_PARAMETER")
    class Builder(keystoreAlias: String, purposes: Int) {
        fun setBlockModes(vararg blockModes: String): Builder = stub()

        fun setEncryptionPaddings(vararg paddings: String): Builder = stub()

        fun setKeySize(keySize: Int): Builder = stub()

        /** For EC keys: the curve, as `java.security.spec.ECGenParameterSpec("secp256r1")`. */
        fun setAlgorithmParameterSpec(spec: java.security.spec.AlgorithmParameterSpec): Builder = stub()

        fun setDigests(vararg digests: String): Builder = stub()

        /** API 28. generateKeyPair then throws StrongBoxUnavailableException without StrongBox. */
        fun setIsStrongBoxBacked(isStrongBoxBacked: Boolean): Builder = stub()

        fun setRandomizedEncryptionRequired(required: Boolean): Builder = stub()

        fun setUserAuthenticationRequired(required: Boolean): Builder = stub()

        /** Deprecated in API 30 in favour of setUserAuthenticationParameters; still works. */
        fun setUserAuthenticationValidityDurationSeconds(seconds: Int): Builder = stub()

        fun build(): KeyGenParameterSpec = stub()
    }
}

private fun stub(): Nothing =
    throw UnsupportedOperationException("compile-only stub of android.security.keystore.KeyGenParameterSpec")
