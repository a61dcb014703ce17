// The portable part of the Android shell's KeyStore (the wallet's device keys), apart from where
// the keys live.
//
// Owns: ECDSA P-256 signing with SHA-256 through `java.security.Signature` (the answer is DER; the
// Rust core normalises it to raw r||s), the public key as a SEC1 uncompressed point (65 bytes,
// 0x04 || x || y), the rule that generating over an existing alias fails, and turning the
// platform's exceptions into the PlatformException kinds the core acts on. Does not own the keys:
// a SigningKeySource gives them (KeystoreKeyStore: the Android Keystore, StrongBox or TEE; the JVM
// tests: an in-memory software key pair). Keeping this here lets the JVM tests run the exact code a
// phone runs, with only the key source swapped.
package org.citizen.sdk.shell

import java.math.BigInteger
import java.security.KeyPair
import java.security.PublicKey
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECFieldFp
import org.citizen.sdk.KeyPolicy
import org.citizen.sdk.KeyStore
import org.citizen.sdk.PlatformException

/**
 * Where an [EcdsaKeyStore] keeps its P-256 key pairs, each under an alias. Calls may come from any
 * SDK thread.
 */
interface SigningKeySource {
    /** The key pair under [alias], or null when there is none. */
    fun find(alias: String): KeyPair?

    /**
     * Makes and stores a new P-256 key pair under [alias], used as [policy] says. Called only
     * after [find] returned null, under the key store's lock.
     */
    fun create(alias: String, policy: KeyPolicy): KeyPair

    /** Deletes the key under [alias]; does nothing when there is none. */
    fun delete(alias: String)

    /**
     * Whether [key] (found under [alias]) is held by secure hardware (a TEE or StrongBox), so that
     * it cannot be copied off the device even by someone with root. False when that cannot be
     * told: never claim protection that is not known to be there.
     */
    fun isHardwareBacked(alias: String, key: KeyPair): Boolean
}

/**
 * A [KeyStore] signing with ECDSA P-256 / SHA-256 under keys from [keys].
 *
 * Errors follow the same rules as [AesGcmSecretSealer]: an invalidated key
 * (`KeyPermanentlyInvalidatedException`) or a missing one is `KeyUnavailable`, a key that needs the
 * user to authenticate first (`UserNotAuthenticatedException`) is `AuthenticationRequired`, an
 * `UnrecoverableKeyException` (often passing: the keystore daemon restarting, the device still
 * locked) is `TemporarilyUnavailable`, and anything else is `Failure` with a fixed text naming the
 * operation and the exception class, never a platform message.
 */
open class EcdsaKeyStore(private val keys: SigningKeySource) : KeyStore {
    private val keyLock = Any()

    /** Fails (Failure) when [alias] already has a key: the old key is never replaced silently. */
    override fun generateKey(alias: String, policy: KeyPolicy): ByteArray = mapPlatformExceptions("generate a key") {
        // Under the lock so that two generations cannot both see no key and both create one.
        val pair = synchronized(keyLock) {
            if (keys.find(alias) != null) {
                throw PlatformException.Failure("could not generate a key: a key with this alias exists")
            }
            keys.create(alias, policy)
        }
        p256PublicKeySec1(pair.public)
    }

    override fun publicKey(alias: String): ByteArray? = mapPlatformExceptions("read the public key") {
        keys.find(alias)?.let { p256PublicKeySec1(it.public) }
    }

    /** ECDSA P-256 with SHA-256 over [message]; the signature is DER, as `Signature` gives it. */
    override fun sign(alias: String, message: ByteArray): ByteArray = mapPlatformExceptions("sign") {
        val pair = keys.find(alias) ?: throw PlatformException.KeyUnavailable()
        val signature = Signature.getInstance(SIGNATURE_ALGORITHM)
        signature.initSign(pair.private)
        signature.update(message)
        signature.sign()
    }

    override fun deleteKey(alias: String) = mapPlatformExceptions("delete the key") {
        synchronized(keyLock) { keys.delete(alias) }
    }

    /**
     * Whether the key under [alias] is in secure hardware (see [SigningKeySource.isHardwareBacked]):
     * `KeyUnavailable` when there is no such key, true only when the source knows it is.
     */
    override fun isHardwareBacked(alias: String): Boolean = mapPlatformExceptions("tell where the key lives") {
        val pair = keys.find(alias) ?: throw PlatformException.KeyUnavailable()
        keys.isHardwareBacked(alias, pair)
    }

    companion object {
        /** What `sign` computes: ECDSA over the SHA-256 of the message, DER-encoded. */
        const val SIGNATURE_ALGORITHM = "SHA256withECDSA"

        /** The length of [p256PublicKeySec1]'s answer: 0x04, then x and y in 32 bytes each. */
        const val SEC1_UNCOMPRESSED_BYTES = 65

        private const val COORDINATE_BYTES = 32

        // The P-256 (secp256r1) field prime and group order, to refuse keys on any other curve.
        private val P256_P = BigInteger("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff", 16)
        private val P256_N = BigInteger("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", 16)

        /**
         * [key] as a SEC1 uncompressed point: 0x04 || x || y, each coordinate big-endian and
         * left-padded to 32 bytes (a `BigInteger` may be shorter, or carry a leading sign byte).
         * Throws `PlatformException.Failure` for a key that is not a P-256 EC key.
         */
        @JvmStatic
        fun p256PublicKeySec1(key: PublicKey): ByteArray {
            val ec = key as? ECPublicKey ?: throw PlatformException.Failure("the public key is not an EC key")
            val field = ec.params.curve.field as? ECFieldFp
            if (field == null || field.p != P256_P || ec.params.order != P256_N) {
                throw PlatformException.Failure("the public key is not on the expected curve")
            }
            return byteArrayOf(0x04) + coordinate(ec.w.affineX) + coordinate(ec.w.affineY)
        }

        private fun coordinate(value: BigInteger): ByteArray {
            if (value.signum() < 0 || value.bitLength() > COORDINATE_BYTES * 8) {
                throw PlatformException.Failure("the public key has an out of range coordinate")
            }
            // toByteArray is minimal two's complement: up to 33 bytes (a leading 0 sign byte).
            val bytes = value.toByteArray()
            val magnitude = if (bytes.size > COORDINATE_BYTES) bytes.copyOfRange(1, bytes.size) else bytes
            return ByteArray(COORDINATE_BYTES - magnitude.size) + magnitude
        }

        /** The exception's class name when it is plain letters (what the core passes on), else a fixed text. */
    }
}
