// (b) A store opened with the wrong key, or while the platform key is out of reach, is a typed
// Kotlin exception, and touches nothing.
package org.citizen.sdk

import java.io.File
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class WrongKeyTest {
    @get:Rule
    val temp = TemporaryFolder()

    private suspend fun createStore(dataDir: File, keyFile: File) {
        Citizen.open(offlineConfig(dataDir), PlatformServices(fileSealer(keyFile))).use { it.status() }
    }

    @Test
    fun anotherValidKeyIsWrongKeyAndLeavesTheFilesAlone(): Unit = runBlocking {
        val dataDir = temp.newFolder("data")
        val keyFile = temp.root.resolve("sealer.key")
        createStore(dataDir, keyFile)
        val before = snapshot(dataDir)
        assertTrue(before.isNotEmpty())

        val config = offlineConfig(dataDir)
        val error = expectThrows<CitizenException.WrongKey> { Citizen.open(config, PlatformServices(WrongKeySealer())).close() }
        assertEquals("wrong_key", error.code())
        assertEquals(before, snapshot(dataDir))

        // And the right key still opens it: nothing was damaged.
        Citizen.open(config, PlatformServices(fileSealer(keyFile))).use { it.status() }
    }

    @Test
    fun anUnavailablePlatformKeyIsWrongKey(): Unit = runBlocking {
        val dataDir = temp.newFolder("data")
        createStore(dataDir, temp.root.resolve("sealer.key"))
        val before = snapshot(dataDir)

        val config = offlineConfig(dataDir)
        val error = expectThrows<CitizenException.WrongKey> { Citizen.open(config, PlatformServices(KeyUnavailableSealer())).close() }
        assertEquals("wrong_key", error.code())
        assertEquals(before, snapshot(dataDir))
    }

    @Test
    fun aTemporarilyUnavailableKeyIsRetryableAndLeavesTheFilesAlone(): Unit = runBlocking {
        val dataDir = temp.newFolder("data")
        val keyFile = temp.root.resolve("sealer.key")
        createStore(dataDir, keyFile)
        val before = snapshot(dataDir)
        assertTrue(before.isNotEmpty())

        val config = offlineConfig(dataDir)
        val error = expectThrows<CitizenException.TemporarilyUnavailable> {
            Citizen.open(config, PlatformServices(TemporarilyUnavailableSealer())).close()
        }
        assertEquals("temporarily_unavailable", error.code())
        assertEquals("every file byte-identical", before, snapshot(dataDir))

        // Later, with the key back, the same store opens: it was never given up on.
        Citizen.open(config, PlatformServices(fileSealer(keyFile))).use { citizen ->
            assertEquals(WalletState.NotActivated, citizen.status().walletState)
        }
    }

    @Test
    fun aSealersFailureDetailDoesNotReachTheAppVerbatim(): Unit = runBlocking {
        val dataDir = temp.newFolder("data")
        val keyFile = temp.root.resolve("sealer.key")
        createStore(dataDir, keyFile)
        val before = snapshot(dataDir)

        val detail = "could not unseal key 4711 of Nguyễn Thị Ánh, card 0912345678"
        val error = expectThrows<CitizenException.Crypto> {
            Citizen.open(offlineConfig(dataDir), PlatformServices(FailingSealer(detail))).close()
        }
        for (text in listOf(error.detail, error.message.orEmpty(), error.toString())) {
            assertFalse("digits passed through: $text", text.contains("4711") || text.contains("0912345678"))
            assertFalse("non-ASCII passed through: $text", text.any { it.code > 127 })
            assertFalse("the sealer's text passed through: $text", text.contains(detail))
        }
        assertEquals(before, snapshot(dataDir))

        // Control: a fixed English text, as the shells write, does reach the app.
        val plain = "the keystore refused the operation"
        val plainError = expectThrows<CitizenException.Crypto> {
            Citizen.open(offlineConfig(dataDir), PlatformServices(FailingSealer(plain))).close()
        }
        assertTrue(plainError.detail, plainError.detail.contains(plain))
        assertEquals(before, snapshot(dataDir))
    }

    @Test
    fun wipeDataDirIsTheWayOutAfterWrongKey(): Unit = runBlocking {
        val dataDir = temp.newFolder("data")
        val keyFile = temp.root.resolve("sealer.key")
        createStore(dataDir, keyFile)
        keyFile.delete() // the platform lost the sealing key

        val config = offlineConfig(dataDir)
        val sealer = CountingSealer(fileSealer(keyFile))
        expectThrows<CitizenException.WrongKey> { Citizen.open(config, PlatformServices(sealer)).close() }

        // The failed open holds no lock: the wipe is not refused as in use.
        wipeDataDir(dataDir.path, PlatformServices(sealer))
        assertEquals(1, sealer.deletes.get())
        Citizen.open(config, PlatformServices(sealer)).use { citizen ->
            assertEquals(WalletState.NotActivated, citizen.status().walletState)
        }
    }
}
