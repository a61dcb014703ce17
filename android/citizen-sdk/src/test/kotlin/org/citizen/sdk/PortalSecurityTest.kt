// (e) Transport security as a Kotlin app sees it: a wrong SPKI pin and a plain-http portal URL
// are typed exceptions.
package org.citizen.sdk

import java.util.Base64
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class PortalSecurityTest {
    @get:Rule
    val temp = TemporaryFolder()

    @Test
    fun aCertificateNotMatchingThePinIsPinMismatch() {
        val sandbox = Sandbox.get()
        val wrongPin = "sha256/" + Base64.getEncoder().encodeToString(ByteArray(32))
        val config = sandbox.config(temp.newFolder("data"), pins = listOf(wrongPin))
        Citizen.open(config, PlatformServices(fileSealer(temp.root.resolve("sealer.key")))).use { citizen ->
            val error = expectThrows<CitizenException.PinMismatch> { runBlocking { citizen.pingPortal() } }
            assertEquals("pin_mismatch", error.code())
            assertEquals("nothing recorded from an untrusted portal", null, citizen.lastPortalContact())
        }
    }

    @Test
    fun aPlainHttpPortalIsRejectedAtOpen() {
        val dataDir = temp.newFolder("data")
        val config = CitizenConfig(dataDir = dataDir.path, portalBaseUrl = OFFLINE_PORTAL.replace("https://", "http://"))
        val error = expectThrows<CitizenException.InvalidInput> {
            Citizen.open(config, PlatformServices(fileSealer(temp.root.resolve("sealer.key"))))
        }
        assertEquals("portal_base_url", error.field)
        assertEquals("not_https", error.code)
        assertEquals("invalid_input", error.code())
        assertTrue("a rejected configuration creates no store", dataDir.listFiles()!!.isEmpty())
    }
}
