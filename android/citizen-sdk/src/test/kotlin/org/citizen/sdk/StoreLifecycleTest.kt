// (a) Opening, reading status, closing and reopening a real encrypted store from Kotlin.
package org.citizen.sdk

import org.citizen.sdk.shell.CitizenSdk
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class StoreLifecycleTest {
    @get:Rule
    val temp = TemporaryFolder()

    @Test
    fun freshStoreReportsItsStatusAndReopensWithTheSealedKey() {
        val dataDir = temp.newFolder("data")
        val sealer = CountingSealer(fileSealer(temp.root.resolve("sealer.key")))
        val config = CitizenConfig(dataDir = dataDir.path, portalBaseUrl = OFFLINE_PORTAL)

        val schema = Citizen.open(config, PlatformServices(sealer)).use { citizen ->
            val status = citizen.status()
            assertTrue("schema version ${status.storeSchemaVersion}", status.storeSchemaVersion > 0u)
            assertEquals(WalletState.NOT_ACTIVATED, status.walletState)
            assertEquals(0uL, status.queuedWork)
            assertNull("never tried the portal", status.portalReachable)
            assertNull(citizen.lastPortalContact())
            status.storeSchemaVersion
        }
        assertEquals("a new store seals one new data key", 1, sealer.seals.get())
        val unsealsBefore = sealer.unseals.get()

        Citizen.open(config, PlatformServices(sealer)).use { citizen ->
            assertEquals(schema, citizen.status().storeSchemaVersion)
            assertEquals(0uL, citizen.status().queuedWork)
        }
        assertTrue("reopening unseals the stored key", sealer.unseals.get() > unsealsBefore)
        assertEquals("reopening must not make a new key", 1, sealer.seals.get())
        assertEquals(0, sealer.deletes.get())
    }

    @Test
    fun shellOpenerCreatesTheFolderAndOpens() {
        val dataDir = temp.root.resolve("not/yet/there")
        val sealer = fileSealer(temp.root.resolve("sealer.key"))
        CitizenSdk.openIn(dataDir, OFFLINE_PORTAL, portalSpkiPins = emptyList(), sealer = sealer).use { citizen ->
            assertEquals(WalletState.NOT_ACTIVATED, citizen.status().walletState)
        }
        assertTrue(dataDir.isDirectory)
        assertTrue("the store wrote its files", dataDir.listFiles()!!.isNotEmpty())
    }
}
