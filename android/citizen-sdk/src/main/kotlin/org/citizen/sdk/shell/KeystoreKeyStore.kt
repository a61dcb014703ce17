// The Android KeyStore (the wallet's device keys): EC P-256 signing keys generated inside the
// Android Keystore, in StrongBox when the device has one, else in the TEE, and never exportable.
// `isHardwareBacked(alias)` says where a key really lives (KeyInfo); see docs/platforms.md.
//
// Owns: generating, finding and deleting Keystore key pairs under prefixed aliases, their
// parameters (StrongBox with a fallback, user authentication), and asking the Keystore where a key
// lives. Does not own signing, the public key encoding or the error mapping (EcdsaKeyStore) nor
// which keys exist and what they sign (the Rust core's wallet decides).
package org.citizen.sdk.shell

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyInfo
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import java.security.KeyFactory
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.PrivateKey
import java.security.spec.ECGenParameterSpec
import org.citizen.sdk.KeyPolicy

/**
 * Device keys in the Android Keystore. The SDK's alias `a` is stored as `aliasPrefix + a`, so the
 * SDK's keys never meet the app's own Keystore entries.
 *
 * StrongBox: when [preferStrongBox] (the default) and the device runs Android 9 or later, a key is
 * first requested in StrongBox (a separate secure chip); a device without one answers
 * `StrongBoxUnavailableException` and the key is made in the TEE instead. `isHardwareBacked`
 * reports the truth either way (TEE and StrongBox both count as hardware).
 *
 * User authentication: a key generated with `KeyPolicy.userAuthenticationRequired` works only for
 * [authenticationValiditySeconds] after the user unlocked the device or passed a biometric or
 * device-credential prompt (`setUserAuthenticationValidityDurationSeconds`: biometric or device
 * credential). Outside that window `sign` fails with `AuthenticationRequired`: the app prompts
 * (e.g. BiometricPrompt) and the SDK call is retried. Such a key is invalidated by the Keystore
 * when the lock screen is removed or a new biometric is enrolled; it then reports `KeyUnavailable`
 * and the wallet must make a new one. [authenticationValiditySeconds] must be positive: keys that
 * need a prompt for every single use would need the prompt to carry the `Signature` itself
 * (BiometricPrompt.CryptoObject), which a call coming from the SDK cannot do.
 */
class KeystoreKeyStore @JvmOverloads constructor(
    aliasPrefix: String = DEFAULT_ALIAS_PREFIX,
    authenticationValiditySeconds: Int = DEFAULT_AUTHENTICATION_VALIDITY_SECONDS,
    preferStrongBox: Boolean = true,
) : EcdsaKeyStore(AndroidKeystoreKeyPairs(aliasPrefix, authenticationValiditySeconds, preferStrongBox)) {
    companion object {
        const val DEFAULT_ALIAS_PREFIX = "org.citizen.sdk.device-key."
        const val DEFAULT_AUTHENTICATION_VALIDITY_SECONDS = 30
    }
}

private class AndroidKeystoreKeyPairs(
    private val aliasPrefix: String,
    private val authenticationValiditySeconds: Int,
    private val preferStrongBox: Boolean,
) : SigningKeySource {
    init {
        require(authenticationValiditySeconds > 0) {
            "authenticationValiditySeconds must be positive (per-use keys need a CryptoObject prompt)"
        }
    }

    private fun keyStore(): KeyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    override fun find(alias: String): KeyPair? {
        val keyStore = keyStore()
        val privateKey = keyStore.getKey(aliasPrefix + alias, null) as? PrivateKey ?: return null
        // The Keystore keeps the public key in a self-signed certificate beside the private key.
        val publicKey = keyStore.getCertificate(aliasPrefix + alias)?.publicKey ?: return null
        return KeyPair(publicKey, privateKey)
    }

    override fun create(alias: String, policy: KeyPolicy): KeyPair {
        if (preferStrongBox && Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
            try {
                return generate(alias, policy, strongBox = true)
            } catch (e: StrongBoxUnavailableException) {
                // No StrongBox on this device: the TEE below.
            }
        }
        return generate(alias, policy, strongBox = false)
    }

    @Suppress("DEPRECATION") // setUserAuthenticationValidityDurationSeconds: the only API below 30.
    private fun generate(alias: String, policy: KeyPolicy, strongBox: Boolean): KeyPair {
        val builder = KeyGenParameterSpec.Builder(aliasPrefix + alias, KeyProperties.PURPOSE_SIGN)
            .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
            .setDigests(KeyProperties.DIGEST_SHA256)
        if (strongBox) {
            builder.setIsStrongBoxBacked(true)
        }
        if (policy.userAuthenticationRequired) {
            builder.setUserAuthenticationRequired(true)
            builder.setUserAuthenticationValidityDurationSeconds(authenticationValiditySeconds)
        }
        val generator = KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, ANDROID_KEYSTORE)
        generator.initialize(builder.build())
        return generator.generateKeyPair()
    }

    override fun delete(alias: String) {
        // Deleting an alias that does not exist is not an error in the Android Keystore.
        keyStore().deleteEntry(aliasPrefix + alias)
    }

    /** The same rules as KeystoreSecretSealer's: TEE, StrongBox and "at least a TEE" count. */
    override fun isHardwareBacked(alias: String, key: KeyPair): Boolean {
        val info = try {
            KeyFactory.getInstance(key.private.algorithm, ANDROID_KEYSTORE)
                .getKeySpec(key.private, KeyInfo::class.java)
        } catch (e: Exception) {
            // The Keystore would not say where the key lives: not known to be hardware.
            return false
        }
        return isInSecureHardware(info)
    }
}
