// (a) Opening, reading status, closing and reopening a real encrypted store from Kotlin, one
// Citizen per data directory at a time.
package org.citizen.sdk

import java.util.Base64
import kotlinx.coroutines.runBlocking
import org.citizen.sdk.shell.CitizenSdk
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class StoreLifecycleTest {
    @get:Rule
    val temp = TemporaryFolder()

    @Test
    fun freshStoreReportsItsStatusAndReopensWithTheSealedKey(): Unit = runBlocking {
        val dataDir = temp.newFolder("data")
        val sealer = CountingSealer(fileSealer(temp.root.resolve("sealer.key")))
        val config = offlineConfig(dataDir)

        val schema = Citizen.open(config, PlatformServices(sealer)).use { citizen ->
            val status = citizen.status()
            assertTrue("schema version ${status.storeSchemaVersion}", status.storeSchemaVersion > 0u)
            assertEquals(WalletState.NotActivated, status.walletState)
            assertEquals(0uL, status.queuedWork)
            assertNull("never tried the portal", status.portalReachable)
            assertFalse("a key in a file is not hardware-backed", status.storeKeyHardwareBacked)
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
    fun theSealersHardwareAnswerReachesTheStatus(): Unit = runBlocking {
        val dataDir = temp.newFolder("data")
        val keyFile = temp.root.resolve("sealer.key")
        val claiming = CountingSealer(fileSealer(keyFile), hardwareBacked = true)
        Citizen.open(offlineConfig(dataDir), PlatformServices(claiming)).use { citizen ->
            assertTrue(citizen.status().storeKeyHardwareBacked)
        }
        assertTrue("the SDK asked the sealer", claiming.hardwareQueries.get() > 0)
        // Asked again at each open: the same store under a sealer that says no reports false.
        Citizen.open(offlineConfig(dataDir), PlatformServices(fileSealer(keyFile))).use { citizen ->
            assertFalse(citizen.status().storeKeyHardwareBacked)
        }
    }

    @Test
    fun syncNowOnAFreshStoreHasNothingQueued(): Unit = runBlocking {
        val config = offlineConfig(temp.newFolder("data"))
        Citizen.open(config, PlatformServices(fileSealer(temp.root.resolve("sealer.key")))).use { citizen ->
            val report = citizen.syncNow(5000u)
            assertEquals(0uL, report.queuedWork)
            assertTrue("nothing to do finishes within the budget: $report", report.completed)
            assertEquals(0uL, citizen.status().queuedWork)
        }
    }

    @Test
    fun aSecondOpenOnTheSameFolderIsInUseUntilTheFirstIsClosed(): Unit = runBlocking {
        val dataDir = temp.newFolder("data")
        val keyFile = temp.root.resolve("sealer.key")
        val config = offlineConfig(dataDir)
        val first = Citizen.open(config, PlatformServices(fileSealer(keyFile)))
        try {
            val error = expectThrows<CitizenException.InUse> {
                Citizen.open(config, PlatformServices(fileSealer(keyFile))).close()
            }
            assertEquals("in_use", error.code())
            // Wiping under an open Citizen is refused too, and deletes nothing.
            val before = snapshot(dataDir)
            val sealer = CountingSealer(fileSealer(keyFile))
            expectThrows<CitizenException.InUse> { wipeDataDir(dataDir.path, PlatformServices(sealer)) }
            assertEquals(0, sealer.deletes.get())
            assertTrue(keyFile.exists())
            assertEquals(before, snapshot(dataDir))
            // The first one is unharmed.
            assertEquals(WalletState.NotActivated, first.status().walletState)
        } finally {
            first.close()
        }
        Citizen.open(config, PlatformServices(fileSealer(keyFile))).use { second ->
            assertEquals(WalletState.NotActivated, second.status().walletState)
        }
    }

    @Test
    fun closingFreesTheFolderWhileItsCapabilityObjectsAreStillHeld(): Unit = runBlocking {
        val dataDir = temp.newFolder("data")
        val keyFile = temp.root.resolve("sealer.key")
        val config = offlineConfig(dataDir)
        val first = Citizen.open(config, PlatformServices(fileSealer(keyFile)))
        // Held past close, as a view model might; the JVM frees them only when collected.
        val checkins = first.checkins()
        val wallet = first.wallet()
        assertTrue(checkins.entries(null, 10u, true).entries.isEmpty())
        first.close()

        Citizen.open(config, PlatformServices(fileSealer(keyFile))).use { second ->
            assertEquals(WalletState.NotActivated, second.status().walletState)
            val closed = expectThrows<CitizenException.InvalidState> { checkins.entries(null, 10u, true) }
            assertEquals("closed", closed.code)
            expectThrows<CitizenException.InvalidState> { wallet.state() }
            assertTrue(second.checkins().entries(null, 10u, true).entries.isEmpty())
        }
        // Nothing holds the folder: it can be wiped.
        wipeDataDir(dataDir.path, PlatformServices(fileSealer(keyFile)))
        checkins.close()
        wallet.close()
    }

    @Test
    fun shellOpenerCreatesTheFolderAndOpens(): Unit = runBlocking {
        val dataDir = temp.root.resolve("not/yet/there")
        val sealer = fileSealer(temp.root.resolve("sealer.key"))
        CitizenSdk.openIn(dataDir, OFFLINE_PORTAL, portalSpkiPins = emptyList(), sealer = sealer, allowUnpinned = true)
            .use { citizen ->
                assertEquals(WalletState.NotActivated, citizen.status().walletState)
            }
        assertTrue(dataDir.isDirectory)
        assertTrue("the store wrote its files", dataDir.listFiles()!!.isNotEmpty())
    }

    @Test
    fun shellOpenerRequiresPinsUnlessUnpinnedIsAllowed(): Unit = runBlocking {
        val dataDir = temp.newFolder("data")
        val sealer = fileSealer(temp.root.resolve("sealer.key"))
        val error = expectThrows<CitizenException.InvalidInput> {
            CitizenSdk.openIn(dataDir, OFFLINE_PORTAL, portalSpkiPins = emptyList(), sealer = sealer).close()
        }
        assertEquals("pins_required", error.code)
        assertTrue("a rejected configuration creates no store", dataDir.listFiles()!!.isEmpty())

        // originPins reach the config too: a broken origin is refused by name.
        val pin = "sha256/" + Base64.getEncoder().encodeToString(ByteArray(32))
        val badOrigin = expectThrows<CitizenException.InvalidInput> {
            CitizenSdk.openIn(
                dataDir,
                OFFLINE_PORTAL,
                portalSpkiPins = listOf(pin),
                sealer = sealer,
                originPins = listOf(OriginPins(origin = "not an origin", spkiPins = listOf(pin))),
            ).close()
        }
        assertEquals("origin_pins[0].origin", badOrigin.field)
    }
}
