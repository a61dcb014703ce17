// The Android shell's sealed format and error mapping (AesGcmSecretSealer), run on the JVM with a
// file key instead of the Keystore. The Keystore-specific part (KeystoreSecretSealer's key source)
// can only run on a device.
package org.citizen.sdk

import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.UserNotAuthenticatedException
import java.security.KeyStoreException
import java.security.UnrecoverableKeyException
import javax.crypto.AEADBadTagException
import javax.crypto.SecretKey
import org.citizen.sdk.shell.AesGcmSecretSealer
import org.citizen.sdk.shell.SealingKeySource
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotEquals
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class AesGcmSecretSealerTest {
    @get:Rule
    val temp = TemporaryFolder()

    private val secret = ByteArray(32) { it.toByte() }

    @Test
    fun sealsToVersionIvCiphertextAndUnsealsBack() {
        val sealer = fileSealer(temp.root.resolve("key"))
        val first = sealer.seal(secret)
        val second = sealer.seal(secret)

        assertEquals(1, first[0].toInt())
        assertEquals(1 + 12 + secret.size + 16, first.size)
        // A fresh IV each time: sealing the same key twice must not give the same bytes.
        assertNotEquals(first.toList(), second.toList())
        assertFalse(first.toList().windowed(secret.size).contains(secret.toList()))
        assertArrayEquals(secret, sealer.unseal(first))
        assertArrayEquals(secret, sealer.unseal(second))
    }

    @Test
    fun afterDeleteKeyOldValuesAreUnavailableAndANewKeyIsMade() {
        val keyFile = temp.root.resolve("key")
        val sealer = fileSealer(keyFile)
        val sealed = sealer.seal(secret)

        sealer.deleteKey()
        assertFalse(keyFile.exists())
        expectThrows<PlatformException.KeyUnavailable> { sealer.unseal(sealed) }

        val resealed = sealer.seal(secret)
        assertTrue(keyFile.exists())
        assertArrayEquals(secret, sealer.unseal(resealed))
        // The old value was sealed under the deleted key: the GCM tag check fails.
        expectThrows<PlatformException.KeyUnavailable> { sealer.unseal(sealed) }
    }

    @Test
    fun malformedValuesAreFailuresNotKeyLoss() {
        val sealer = fileSealer(temp.root.resolve("key"))
        val sealed = sealer.seal(secret)
        val otherVersion = sealed.copyOf().also { it[0] = 2 }
        expectThrows<PlatformException.Failure> { sealer.unseal(otherVersion) }
        expectThrows<PlatformException.Failure> { sealer.unseal(sealed.copyOf(20)) }
        expectThrows<PlatformException.Failure> { sealer.unseal(ByteArray(0)) }
    }

    @Test
    fun aValueSealedUnderAnotherKeyIsKeyUnavailable() {
        val sealed = fileSealer(temp.root.resolve("key-a")).seal(secret)
        val other = fileSealer(temp.root.resolve("key-b")).also { it.seal(secret) }
        // The real GCM tag check fails (AEADBadTagException inside the cipher).
        expectThrows<PlatformException.KeyUnavailable> { other.unseal(sealed) }
    }

    @Test
    fun anUnrecoverableKeyIsRetryableNotKeyLoss() {
        // Often passing on a phone (keystore daemon restarting, device still locked): the app must
        // be told to retry, not be led to offer a wipe (which KeyUnavailable does).
        val sealed = fileSealer(temp.root.resolve("key")).seal(secret)
        val sealer = AesGcmSecretSealer(ThrowingKeys(UnrecoverableKeyException("entry 42 of citizen Alice")))
        expectThrows<PlatformException.TemporarilyUnavailable> { sealer.seal(secret) }
        expectThrows<PlatformException.TemporarilyUnavailable> { sealer.unseal(sealed) }
        expectThrows<PlatformException.TemporarilyUnavailable> { sealer.deleteKey() }
    }

    @Test
    fun invalidatedKeysAndFailedTagsAreKeyUnavailable() {
        val sealed = fileSealer(temp.root.resolve("key")).seal(secret)
        for (error in listOf(KeyPermanentlyInvalidatedException(), AEADBadTagException("tag mismatch"))) {
            val sealer = AesGcmSecretSealer(ThrowingKeys(error))
            expectThrows<PlatformException.KeyUnavailable> { sealer.unseal(sealed) }
            expectThrows<PlatformException.KeyUnavailable> { sealer.seal(secret) }
        }
        val locked = AesGcmSecretSealer(ThrowingKeys(UserNotAuthenticatedException()))
        expectThrows<PlatformException.AuthenticationRequired> { locked.unseal(sealed) }
    }

    @Test
    fun aFileKeyIsNotHardwareBackedAndAFailingSourceCountsAsNotBacked() {
        val sealer = fileSealer(temp.root.resolve("key"))
        assertFalse("no key yet", sealer.isHardwareBacked())
        sealer.seal(secret)
        assertFalse("a key in a file", sealer.isHardwareBacked())

        // isHardwareBacked returns a plain Boolean across the FFI: it must never throw.
        val broken = AesGcmSecretSealer(ThrowingKeys(KeyStoreException("keystore down")))
        assertFalse(broken.isHardwareBacked())
        assertTrue(AesGcmSecretSealer(HardwareKeys(temp.root.resolve("key"))).isHardwareBacked())
    }

    @Test
    fun platformExceptionsAreMappedWithoutTheirMessages() {
        val broken = AesGcmSecretSealer(ThrowingKeys(KeyStoreException("entry 42 of citizen Alice")))
        val failure = expectThrows<PlatformException.Failure> { broken.seal(secret) }
        assertFalse(failure.message.contains("Alice"))
        assertTrue(failure.message.contains("KeyStoreException"))
    }

    private class ThrowingKeys(private val error: Exception) : SealingKeySource {
        override fun find(): SecretKey? = throw error

        override fun create(): SecretKey = throw error

        override fun delete() = throw error

        override fun isHardwareBacked(): Boolean = throw error
    }

    /** A file key that claims to be in secure hardware: the sealer passes the source's answer on. */
    private class HardwareKeys(file: java.io.File) : SealingKeySource by FileKeySource(file) {
        override fun isHardwareBacked(): Boolean = true
    }
}
