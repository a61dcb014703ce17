// The Android SecretSealer: seals the store's data key with an AES-256-GCM key that lives in the
// Android Keystore and cannot be exported from it. On devices with secure hardware (a TEE, which
// nearly all current devices have) the key is hardware-backed, and `isHardwareBacked()` says
// whether it really is (KeyInfo); see docs/platforms.md for limits.
//
// Owns: creating, finding and deleting the Keystore key under an alias, its parameters, and
// asking the Keystore where the key lives. Does not own the sealed format or the error mapping
// (AesGcmSecretSealer) nor what is sealed (the Rust core seals one random 32-byte key per data
// directory).
package org.citizen.sdk.shell

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyInfo
import android.security.keystore.KeyProperties
import java.security.KeyStore
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.SecretKeyFactory

/**
 * Seals with a Keystore key under [alias]. One alias per data directory: deleting the key (which
 * `Citizen.wipe` and `wipeDataDir` do) makes that directory's store unreadable forever.
 *
 * [userAuthenticationValiditySeconds]: when set, the key works only for that many seconds after the
 * user unlocked the device or passed a biometric prompt; opening the store outside that window
 * fails with `CitizenException.AuthenticationRequired`. Such keys are also invalidated when a new
 * biometric is enrolled, which turns into `CitizenException.WrongKey`. Leave it null unless the
 * app really wants the store tied to user presence.
 *
 * [isHardwareBacked] tells whether the Keystore keeps the key in a TEE or StrongBox. On a device
 * without either, the Keystore still works (software-only) and the SDK opens; the answer reaches
 * the app as `Status.storeKeyHardwareBacked`, for the app to decide (e.g. warn, or keep
 * high-value features off).
 */
class KeystoreSecretSealer @JvmOverloads constructor(
    alias: String = DEFAULT_ALIAS,
    userAuthenticationValiditySeconds: Int? = null,
) : AesGcmSecretSealer(AndroidKeystoreKeys(alias, userAuthenticationValiditySeconds)) {
    companion object {
        const val DEFAULT_ALIAS = "org.citizen.sdk.store-key-sealer"
    }
}

private class AndroidKeystoreKeys(
    private val alias: String,
    private val userAuthenticationValiditySeconds: Int?,
) : SealingKeySource {
    private fun keyStore(): KeyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    override fun find(): SecretKey? = keyStore().getKey(alias, null) as? SecretKey

    @Suppress("DEPRECATION") // setUserAuthenticationValidityDurationSeconds: the only API below 30.
    override fun create(): SecretKey {
        val builder = KeyGenParameterSpec.Builder(
            alias,
            KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT,
        )
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setRandomizedEncryptionRequired(true)
        userAuthenticationValiditySeconds?.let { seconds ->
            builder.setUserAuthenticationRequired(true)
            builder.setUserAuthenticationValidityDurationSeconds(seconds)
        }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        generator.init(builder.build())
        return generator.generateKey()
    }

    override fun delete() {
        // Deleting an alias that does not exist is not an error in the Android Keystore.
        keyStore().deleteEntry(alias)
    }

    override fun isHardwareBacked(): Boolean {
        val key = find() ?: return false
        val info = SecretKeyFactory.getInstance(key.algorithm, ANDROID_KEYSTORE)
            .getKeySpec(key, KeyInfo::class.java) as KeyInfo
        return isInSecureHardware(info)
    }
}
