// The Android shell's sealed format and error mapping (AesGcmSecretSealer), run on the JVM with a
// file key instead of the Keystore. The Keystore-specific part (KeystoreSecretSealer's key source)
// can only run on a device.
package org.citizen.sdk

import java.security.KeyStoreException
import java.security.UnrecoverableKeyException
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
    fun platformExceptionsAreMappedWithoutTheirMessages() {
        val unrecoverable = AesGcmSecretSealer(ThrowingKeys(UnrecoverableKeyException("entry 42 of citizen Alice")))
        expectThrows<PlatformException.KeyUnavailable> { unrecoverable.seal(secret) }

        val broken = AesGcmSecretSealer(ThrowingKeys(KeyStoreException("entry 42 of citizen Alice")))
        val failure = expectThrows<PlatformException.Failure> { broken.seal(secret) }
        assertFalse(failure.message.contains("Alice"))
        assertTrue(failure.message.contains("KeyStoreException"))
    }

    private class ThrowingKeys(private val error: Exception) : SealingKeySource {
        override fun find(): SecretKey? = throw error

        override fun create(): SecretKey = throw error

        override fun delete() = throw error
    }
}
