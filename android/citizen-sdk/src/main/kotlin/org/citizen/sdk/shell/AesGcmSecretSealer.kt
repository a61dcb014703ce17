// The sealed format and error mapping of the Android shell's SecretSealer, apart from where the
// key lives.
//
// Owns: AES-256-GCM sealing of the store's data key as `version (1 byte) || IV (12) ||
// ciphertext+tag`, and turning the platform's exceptions into the PlatformException kinds the Rust
// core acts on. Does not own the key: a SealingKeySource gives it (KeystoreSecretSealer: the
// Android Keystore; the JVM tests: a key file). Keeping the format here lets the JVM tests run the
// exact code a phone runs, with only the key source swapped.
package org.citizen.sdk.shell

import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import org.citizen.sdk.PlatformException
import org.citizen.sdk.SecretSealer

/** Where an [AesGcmSecretSealer] gets its AES-256 key. Calls may come from any SDK thread. */
interface SealingKeySource {
    /** The existing key, or null when there is none. */
    fun find(): SecretKey?

    /** Makes and stores a new key. Called only after [find] returned null. */
    fun create(): SecretKey

    /** Deletes the key; does nothing when there is none. */
    fun delete()

    /**
     * Whether the existing key is held by secure hardware (a TEE or a secure element), so that it
     * cannot be copied off the device even by someone with root. False when there is no key yet,
     * and false when that cannot be told: never claim protection that is not known to be there.
     * Must not throw.
     */
    fun isHardwareBacked(): Boolean
}

/**
 * A [SecretSealer] using AES-256-GCM under a key from [keys].
 *
 * The IV is chosen by the cipher (the Android Keystore refuses caller-chosen IVs for keys with
 * randomized encryption, which is what we want), and the format version is bound in as associated
 * data so a value can never be read under a different format's rules.
 */
open class AesGcmSecretSealer(private val keys: SealingKeySource) : SecretSealer {
    private val keyLock = Any()

    override fun seal(plaintext: ByteArray): ByteArray = mapPlatformExceptions("seal") {
        // Under the lock so that two first seals cannot each create (and overwrite) a key.
        val key = synchronized(keyLock) { keys.find() ?: keys.create() }
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, key)
        cipher.updateAAD(AAD)
        val ciphertext = cipher.doFinal(plaintext)
        val iv = cipher.iv
        if (iv == null || iv.size != IV_BYTES) {
            throw PlatformException.Failure("the cipher chose an unexpected IV length")
        }
        byteArrayOf(VERSION) + iv + ciphertext
    }

    override fun unseal(sealed: ByteArray): ByteArray {
        if (sealed.size < 1 + IV_BYTES + TAG_BYTES || sealed[0] != VERSION) {
            throw PlatformException.Failure("the sealed value has an unknown format")
        }
        return mapPlatformExceptions("unseal") {
            val key = keys.find() ?: throw PlatformException.KeyUnavailable()
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BYTES * 8, sealed, 1, IV_BYTES))
            cipher.updateAAD(AAD)
            cipher.doFinal(sealed, 1 + IV_BYTES, sealed.size - 1 - IV_BYTES)
        }
    }

    override fun deleteKey() = mapPlatformExceptions("delete the key") {
        synchronized(keyLock) { keys.delete() }
    }

    /**
     * Whether the current key is hardware-backed (see [SealingKeySource.isHardwareBacked]). The SDK
     * asks once per open, after the data key was sealed or unsealed, and reports the answer in
     * `Status.storeKeyHardwareBacked`. Never throws: a source that fails counts as not backed.
     */
    override fun isHardwareBacked(): Boolean =
        try {
            synchronized(keyLock) { keys.isHardwareBacked() }
        } catch (e: Exception) {
            false
        }

    companion object {
        private const val VERSION: Byte = 1
        private const val TRANSFORMATION = "AES/GCM/NoPadding"
        private const val IV_BYTES = 12
        private const val TAG_BYTES = 16
        private val AAD = "citizen-sdk aes-gcm sealer v1".toByteArray(Charsets.US_ASCII)
    }
}
