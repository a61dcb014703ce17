// (b) A store opened with the wrong key is a typed Kotlin exception, and touches nothing.
package org.citizen.sdk

import java.io.File
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class WrongKeyTest {
    @get:Rule
    val temp = TemporaryFolder()

    private fun createStore(dataDir: File, keyFile: File) {
        val config = CitizenConfig(dataDir = dataDir.path, portalBaseUrl = OFFLINE_PORTAL)
        Citizen.open(config, PlatformServices(fileSealer(keyFile))).use { it.status() }
    }

    @Test
    fun anotherValidKeyIsWrongKeyAndLeavesTheFilesAlone() {
        val dataDir = temp.newFolder("data")
        val keyFile = temp.root.resolve("sealer.key")
        createStore(dataDir, keyFile)
        val before = snapshot(dataDir)
        assertTrue(before.isNotEmpty())

        val config = CitizenConfig(dataDir = dataDir.path, portalBaseUrl = OFFLINE_PORTAL)
        val error = expectThrows<CitizenException.WrongKey> { Citizen.open(config, PlatformServices(WrongKeySealer())) }
        assertEquals("wrong_key", error.code())
        assertEquals(before, snapshot(dataDir))

        // And the right key still opens it: nothing was damaged.
        Citizen.open(config, PlatformServices(fileSealer(keyFile))).use { it.status() }
    }

    @Test
    fun anUnavailablePlatformKeyIsWrongKey() {
        val dataDir = temp.newFolder("data")
        createStore(dataDir, temp.root.resolve("sealer.key"))
        val before = snapshot(dataDir)

        val config = CitizenConfig(dataDir = dataDir.path, portalBaseUrl = OFFLINE_PORTAL)
        val error = expectThrows<CitizenException.WrongKey> { Citizen.open(config, PlatformServices(KeyUnavailableSealer())) }
        assertEquals("wrong_key", error.code())
        assertEquals(before, snapshot(dataDir))
    }

    @Test
    fun wipeDataDirIsTheWayOutAfterWrongKey() {
        val dataDir = temp.newFolder("data")
        val keyFile = temp.root.resolve("sealer.key")
        createStore(dataDir, keyFile)
        keyFile.delete() // the platform lost the sealing key

        val config = CitizenConfig(dataDir = dataDir.path, portalBaseUrl = OFFLINE_PORTAL)
        val sealer = CountingSealer(fileSealer(keyFile))
        expectThrows<CitizenException.WrongKey> { Citizen.open(config, PlatformServices(sealer)) }

        wipeDataDir(dataDir.path, PlatformServices(sealer))
        assertEquals(1, sealer.deletes.get())
        Citizen.open(config, PlatformServices(sealer)).use { citizen ->
            assertEquals(WalletState.NOT_ACTIVATED, citizen.status().walletState)
        }
    }
}
