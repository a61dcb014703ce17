// (e) Transport security as a Kotlin app sees it: a wrong SPKI pin, a plain-http portal URL and a
// config without pins (unless `allowUnpinned`) are typed exceptions.
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
    fun aCertificateNotMatchingThePinIsPinMismatch(): Unit = runBlocking {
        val sandbox = Sandbox.get()
        val wrongPin = "sha256/" + Base64.getEncoder().encodeToString(ByteArray(32))
        val config = sandbox.config(temp.newFolder("data"), pins = listOf(wrongPin))
        Citizen.open(config, PlatformServices(fileSealer(temp.root.resolve("sealer.key")))).use { citizen ->
            val error = expectThrows<CitizenException.PinMismatch> { citizen.pingPortal() }
            assertEquals("pin_mismatch", error.code())
            assertEquals("nothing recorded from an untrusted portal", null, citizen.lastPortalContact())
        }
    }

    @Test
    fun aPlainHttpPortalIsRejectedAtOpen(): Unit = runBlocking {
        val dataDir = temp.newFolder("data")
        // allowUnpinned, so that the missing pins are not what is rejected.
        val config = offlineConfig(dataDir).copy(portalBaseUrl = OFFLINE_PORTAL.replace("https://", "http://"))
        val error = expectThrows<CitizenException.InvalidInput> {
            Citizen.open(config, PlatformServices(fileSealer(temp.root.resolve("sealer.key")))).close()
        }
        assertEquals("portal_base_url", error.field)
        assertEquals("not_https", error.code)
        assertEquals("invalid_input", error.code())
        assertTrue("a rejected configuration creates no store", dataDir.listFiles()!!.isEmpty())
    }

    @Test
    fun aConfigWithoutPinsIsRejectedUnlessUnpinnedIsAllowed(): Unit = runBlocking {
        val dataDir = temp.newFolder("data")
        val sealer = CountingSealer(fileSealer(temp.root.resolve("sealer.key")))
        val unpinned = CitizenConfig(dataDir = dataDir.path, portalBaseUrl = OFFLINE_PORTAL)
        val error = expectThrows<CitizenException.InvalidInput> {
            Citizen.open(unpinned, PlatformServices(sealer)).close()
        }
        assertEquals("invalid_input", error.code())
        assertEquals("portal_spki_pins", error.field)
        assertEquals("pins_required", error.code)
        assertTrue("a rejected configuration creates no store", dataDir.listFiles()!!.isEmpty())
        assertEquals("and makes no key", 0, sealer.seals.get())

        // The explicit development setup opens.
        Citizen.open(unpinned.copy(allowUnpinned = true), PlatformServices(sealer)).use { it.status() }
    }
}
