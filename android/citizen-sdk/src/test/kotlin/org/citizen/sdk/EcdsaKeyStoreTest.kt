// The Android shell's device-key store (EcdsaKeyStore: signing, SEC1 public keys, alias rules,
// error mapping), run on the JVM with in-memory software keys instead of the Keystore; and the key
// store handed to the real library through PlatformServices. The Keystore-specific part
// (KeystoreKeyStore's key source: StrongBox, KeyGenParameterSpec, KeyInfo) can only run on a device.
package org.citizen.sdk

import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.UserNotAuthenticatedException
import java.math.BigInteger
import java.security.KeyFactory
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.KeyStoreException
import java.security.PublicKey
import java.security.Signature
import java.security.UnrecoverableKeyException
import java.security.interfaces.ECPublicKey
import java.security.spec.ECFieldFp
import java.security.spec.ECGenParameterSpec
import java.security.spec.ECParameterSpec
import java.security.spec.ECPoint
import java.security.spec.ECPublicKeySpec
import kotlinx.coroutines.runBlocking
import org.citizen.sdk.shell.EcdsaKeyStore
import org.citizen.sdk.shell.SigningKeySource
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class EcdsaKeyStoreTest {
    @get:Rule
    val temp = TemporaryFolder()

    private val noAuth = KeyPolicy(userAuthenticationRequired = false)
    private val message = "header.payload".toByteArray(Charsets.US_ASCII)

    @Test
    fun aGeneratedPublicKeyIsAnUncompressedP256PointOnTheCurve() {
        val keys = EcdsaKeyStore(MemoryKeySource())
        val public = keys.generateKey("wallet", noAuth)

        assertEquals(65, public.size)
        assertEquals(0x04, public[0].toInt())
        val point = pointOf(public)
        assertTrue("the point satisfies the P-256 curve equation", isOnP256(point))
        assertArrayEquals("publicKey gives the same bytes", public, keys.publicKey("wallet"))
        assertNull("no key under another alias", keys.publicKey("other"))
    }

    @Test
    fun signaturesAreDerAndVerifyWithThePublicKeyBytes() {
        val keys = EcdsaKeyStore(MemoryKeySource())
        val public = publicKeyFrom(keys.generateKey("wallet", noAuth))
        val signature = keys.sign("wallet", message)

        assertEquals("a DER SEQUENCE, as Android's Signature gives it", 0x30, signature[0].toInt())
        assertTrue(verifies(public, message, signature))
        assertFalse(verifies(public, "header.other".toByteArray(), signature))
        // ECDSA is randomized: two signatures of the same message differ, and both verify.
        val again = keys.sign("wallet", message)
        assertNotEquals(signature.toList(), again.toList())
        assertTrue(verifies(public, message, again))
    }

    @Test
    fun coordinatesAreLeftPaddedTo32Bytes() {
        // About one key in 128 has a coordinate below 2^248, which BigInteger gives in 31 bytes or
        // fewer; half have one with the top bit set, which it gives in 33 (a leading sign byte).
        val generator = KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }
        var short = 0
        var signed = 0
        repeat(20_000) {
            if (short >= 2 && signed >= 2) return@repeat
            val key = generator.generateKeyPair().public as ECPublicKey
            val x = key.w.affineX
            val y = key.w.affineY
            val isShort = x.bitLength() <= 248 || y.bitLength() <= 248
            val isSigned = x.bitLength() == 256 || y.bitLength() == 256
            if (!isShort && !isSigned) return@repeat
            val encoded = EcdsaKeyStore.p256PublicKeySec1(key)
            assertEquals(65, encoded.size)
            assertEquals(ECPoint(x, y), pointOf(encoded))
            if (isShort) short++
            if (isSigned) signed++
        }
        assertTrue("saw short coordinates ($short) and ones with a sign byte ($signed)", short >= 2 && signed >= 2)
    }

    @Test
    fun keysOnOtherCurvesAreRefused() {
        val p384 = KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp384r1")) }
        val rsa = KeyPairGenerator.getInstance("RSA").apply { initialize(2048) }
        for (key in listOf(p384.generateKeyPair().public, rsa.generateKeyPair().public)) {
            assertPlainDetail(expectThrows<PlatformException.Failure> { EcdsaKeyStore.p256PublicKeySec1(key) })
        }
    }

    @Test
    fun generatingOverAnExistingAliasFailsAndKeepsTheKey() {
        val keys = EcdsaKeyStore(MemoryKeySource())
        val first = keys.generateKey("wallet", noAuth)
        val failure = expectThrows<PlatformException.Failure> { keys.generateKey("wallet", noAuth) }
        assertTrue(failure.detail, failure.detail.contains("exists"))
        assertPlainDetail(failure)
        assertArrayEquals("the first key is still there", first, keys.publicKey("wallet"))
        assertTrue(verifies(publicKeyFrom(first), message, keys.sign("wallet", message)))
    }

    @Test
    fun deletingTwiceIsFineAndADeletedKeyIsUnavailable() {
        val keys = EcdsaKeyStore(MemoryKeySource())
        val first = keys.generateKey("wallet", noAuth)
        keys.deleteKey("wallet")
        keys.deleteKey("wallet")
        keys.deleteKey("never-made")

        assertNull(keys.publicKey("wallet"))
        expectThrows<PlatformException.KeyUnavailable> { keys.sign("wallet", message) }
        expectThrows<PlatformException.KeyUnavailable> { keys.isHardwareBacked("wallet") }
        // The alias is free again, and the new key is a new key.
        val second = keys.generateKey("wallet", noAuth)
        assertNotEquals(first.toList(), second.toList())
    }

    @Test
    fun thePolicyReachesTheKeySourceAndHardwareAnswersArePassedOn() {
        val source = MemoryKeySource()
        val keys = EcdsaKeyStore(source)
        keys.generateKey("plain", noAuth)
        keys.generateKey("guarded", KeyPolicy(userAuthenticationRequired = true))
        assertEquals(noAuth, source.policies["plain"])
        assertEquals(KeyPolicy(userAuthenticationRequired = true), source.policies["guarded"])
        assertFalse("a software key", keys.isHardwareBacked("plain"))

        val claiming = EcdsaKeyStore(HardwareKeys(source))
        assertTrue(claiming.isHardwareBacked("plain"))
    }

    @Test
    fun platformExceptionsAreMappedLikeTheSealers() {
        val cases = listOf(
            KeyPermanentlyInvalidatedException() to PlatformException.KeyUnavailable::class,
            UserNotAuthenticatedException() to PlatformException.AuthenticationRequired::class,
            UnrecoverableKeyException("entry 42 of citizen Alice") to PlatformException.TemporarilyUnavailable::class,
            KeyStoreException("entry 42 of citizen Alice") to PlatformException.Failure::class,
        )
        for ((error, expected) in cases) {
            val keys = EcdsaKeyStore(ThrowingKeys(error))
            val thrown = listOf<() -> Unit>(
                { keys.generateKey("wallet", noAuth) },
                { keys.publicKey("wallet") },
                { keys.sign("wallet", message) },
                { keys.deleteKey("wallet") },
                { keys.isHardwareBacked("wallet") },
            ).map { call -> expectThrows<PlatformException> { call() } }
            for (exception in thrown) {
                assertEquals("$error", expected, exception::class)
                if (exception is PlatformException.Failure) {
                    assertFalse(exception.detail, exception.detail.contains("Alice"))
                    assertTrue(exception.detail, exception.detail.contains("KeyStoreException"))
                    assertPlainDetail(exception)
                }
            }
        }
    }

    @Test
    fun anExceptionWhileSigningIsMapped() {
        // The real Signature refuses a key it cannot use; also the path where a Keystore key was
        // invalidated or needs authentication (initSign throws those on a phone).
        val rsa = KeyPairGenerator.getInstance("RSA").apply { initialize(2048) }.generateKeyPair()
        val keys = EcdsaKeyStore(FixedKeys(rsa))
        val failure = expectThrows<PlatformException.Failure> { keys.sign("wallet", message) }
        assertTrue(failure.detail, failure.detail.startsWith("could not sign: "))
        assertPlainDetail(failure)
    }

    @Test
    fun theKeyStoreTravelsThroughPlatformServicesIntoTheRealLibrary(): Unit = runBlocking {
        val dataDir = temp.newFolder("data")
        val sealer = fileSealer(temp.root.resolve("sealer.key"))
        val keys = EcdsaKeyStore(MemoryKeySource())
        Citizen.open(offlineConfig(dataDir), PlatformServices(sealer, keyStore = keys)).use { citizen ->
            assertEquals(WalletState.NotActivated, citizen.status().walletState)
        }
        // The field is optional: the same store opens without a key store.
        Citizen.open(offlineConfig(dataDir), PlatformServices(sealer)).use { citizen ->
            assertEquals(WalletState.NotActivated, citizen.status().walletState)
        }
        // And the Kotlin object is still usable after the SDK released its reference.
        val public = keys.generateKey("wallet", noAuth)
        assertTrue(verifies(publicKeyFrom(public), message, keys.sign("wallet", message)))
    }

    // --- helpers ---

    private val p256: ECParameterSpec =
        (KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }
            .generateKeyPair().public as ECPublicKey).params

    private fun pointOf(sec1: ByteArray): ECPoint {
        assertEquals(65, sec1.size)
        assertEquals(0x04, sec1[0].toInt())
        return ECPoint(BigInteger(1, sec1.copyOfRange(1, 33)), BigInteger(1, sec1.copyOfRange(33, 65)))
    }

    /** y^2 = x^3 + ax + b (mod p), with the curve parameters of the JVM's secp256r1. */
    private fun isOnP256(point: ECPoint): Boolean {
        val p = (p256.curve.field as ECFieldFp).p
        val (x, y) = point.affineX to point.affineY
        if (x.signum() < 0 || x >= p || y.signum() < 0 || y >= p) return false
        val left = y.modPow(BigInteger.TWO, p)
        val right = x.pow(3).add(p256.curve.a.multiply(x)).add(p256.curve.b).mod(p)
        return left == right
    }

    private fun publicKeyFrom(sec1: ByteArray): PublicKey =
        KeyFactory.getInstance("EC").generatePublic(ECPublicKeySpec(pointOf(sec1), p256))

    private fun verifies(key: PublicKey, message: ByteArray, signature: ByteArray): Boolean =
        Signature.getInstance("SHA256withECDSA").run {
            initVerify(key)
            update(message)
            verify(signature)
        }

    /** The core passes a Failure's detail on only when it is plain wording (docs/platforms.md). */
    private fun assertPlainDetail(failure: PlatformException.Failure) {
        assertTrue(failure.detail, Regex("[A-Za-z .,:;_()-]{1,120}").matches(failure.detail))
    }

    private class ThrowingKeys(private val error: Exception) : SigningKeySource {
        override fun find(alias: String): KeyPair? = throw error

        override fun create(alias: String, policy: KeyPolicy): KeyPair = throw error

        override fun delete(alias: String) = throw error

        override fun isHardwareBacked(alias: String, key: KeyPair): Boolean = throw error
    }

    /** One fixed key pair under every alias. */
    private class FixedKeys(private val pair: KeyPair) : SigningKeySource {
        override fun find(alias: String): KeyPair = pair

        override fun create(alias: String, policy: KeyPolicy): KeyPair = pair

        override fun delete(alias: String) {}

        override fun isHardwareBacked(alias: String, key: KeyPair): Boolean = false
    }

    /** Software keys that claim to be in secure hardware: the key store passes the answer on. */
    private class HardwareKeys(source: MemoryKeySource) : SigningKeySource by source {
        override fun isHardwareBacked(alias: String, key: KeyPair): Boolean = true
    }
}
