// The Android shell's device keys in the real Android Keystore: what the JVM suite cannot run.
// Instrumented: `./gradlew :citizen-sdk:connectedDebugAndroidTest` on a device or emulator (see
// docs/platforms.md). It does not call the Rust library; EcdsaKeyStoreTest covers the portable part
// on the JVM, this covers KeystoreKeyStore's key source (KeyGenParameterSpec, StrongBox fallback,
// KeyInfo).
package org.citizen.sdk

import android.util.Log
import java.security.KeyFactory
import java.security.Signature
import java.security.spec.X509EncodedKeySpec
import org.citizen.sdk.shell.KeystoreKeyStore
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

class KeystoreKeyStoreDeviceTest {
    // A prefix of its own, so the test never meets a real app key.
    private val keys = KeystoreKeyStore(aliasPrefix = "org.citizen.sdk.device-test.")
    private val noAuth = KeyPolicy(userAuthenticationRequired = false)
    private val message = "header.payload".toByteArray(Charsets.US_ASCII)

    @After
    fun deleteTestKeys() {
        keys.deleteKey("a")
        keys.deleteKey("b")
    }

    @Test
    fun aKeystoreKeySignsAndItsSec1PublicKeyVerifies() {
        val public = keys.generateKey("a", noAuth)
        assertEquals(65, public.size)
        assertEquals(0x04, public[0].toInt())
        assertArrayEquals(public, keys.publicKey("a"))

        val signature = keys.sign("a", message)
        val verifier = Signature.getInstance("SHA256withECDSA")
        verifier.initVerify(publicKeyOf(public))
        verifier.update(message)
        assertTrue(verifier.verify(signature))

        // TEE or StrongBox on real phones; some emulator images keep keys in software. Logged, so
        // a run on a device shows which.
        Log.i(TAG, "key a hardware-backed: ${keys.isHardwareBacked("a")}")
    }

    @Test
    fun anExistingAliasIsNeverReplacedAndDeletingTwiceIsFine() {
        val first = keys.generateKey("b", noAuth)
        try {
            keys.generateKey("b", noAuth)
            fail("generating over an existing alias must fail")
        } catch (e: PlatformException.Failure) {
            assertTrue(e.detail, e.detail.contains("exists"))
        }
        assertArrayEquals(first, keys.publicKey("b"))

        keys.deleteKey("b")
        keys.deleteKey("b")
        assertNull(keys.publicKey("b"))
        try {
            keys.sign("b", message)
            fail("a deleted key must not sign")
        } catch (e: PlatformException.KeyUnavailable) {
            // expected
        }
        assertFalse(keys.generateKey("b", noAuth).contentEquals(first))
    }

    /** The 65-byte point inside a P-256 SubjectPublicKeyInfo, which every provider reads. */
    private fun publicKeyOf(sec1: ByteArray) =
        KeyFactory.getInstance("EC").generatePublic(X509EncodedKeySpec(P256_SPKI_PREFIX + sec1))

    private companion object {
        const val TAG = "CitizenSdkTest"

        // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (0 unused bits) ... }
        val P256_SPKI_PREFIX = byteArrayOf(
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86.toByte(), 0x48, 0xce.toByte(), 0x3d, 0x02, 0x01,
            0x06, 0x08, 0x2a, 0x86.toByte(), 0x48, 0xce.toByte(), 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        )
    }
}
